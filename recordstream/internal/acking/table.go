package acking

import "math"

// idTable is an open-addressing hash table from non-zero uint64 ids to
// values, with linear probing and backward-shift deletion. It replaces a
// Go map on the acker's and the spouts' per-tuple path: one probe sequence
// per operation, no tombstones, and clearing keeps the slots for reuse, so
// a steady state does not allocate. Key 0 marks an empty slot; callers
// never use it ([NewRootID]).
//
// A key's home slot is its low bits (ID1). The ids it holds are random
// ([NewRootID]: uniform low bits) or a spout's root ids ([RootID]), whose
// low bits are the spout's sequence number: the trees in flight then fill
// consecutive slots, as in a ring buffer, and the spout's and the acker's
// accesses, which follow emit order, walk memory sequentially instead of
// missing the cache on every tree (a YSB run's tables hold ~10^5 trees,
// megabytes). A key and its value share one entry, so an operation touches
// one cache line, not one for the key and one for the value.
//
// Dense keys make long runs of full slots, through which a lookup of an
// absent key would scan to the run's end. The table keeps bounds of the
// keys it was given since it was last empty (ID2), and a key outside them
// is answered absent at once: the absent keys the acking path asks for
// are a new tree's (above every key), an expired tree's late ack (below
// every key a spout put since) and a new key's check of the older buckets
// of a [RotatingMap] (above their keys).
type idTable[V any] struct {
	ents []idEntry[V]
	n    int
	lo   uint64 // <= every key (ID2); MaxUint64 when empty
	hi   uint64 // >= every key (ID2); 0 when empty
}

// idEntry is one slot: key 0 is empty.
type idEntry[V any] struct {
	k uint64
	v V
}

const idTableMinSize = 64

func newIDTable[V any]() *idTable[V] {
	t := &idTable[V]{}
	t.resize(idTableMinSize)
	return t
}

func (t *idTable[V]) resize(size int) {
	old := t.ents
	t.ents = make([]idEntry[V], size)
	t.n, t.lo, t.hi = 0, math.MaxUint64, 0
	for i := range old {
		if e := &old[i]; e.k != 0 {
			t.set(e.k, e.v)
		}
	}
}

// slot is the home slot of k: its low bits (ID1).
func (t *idTable[V]) slot(k uint64) int { return int(k) & (len(t.ents) - 1) }

// dist is how far the entry at slot i sits from its home slot.
func (t *idTable[V]) dist(i int) int { return (i - t.slot(t.ents[i].k)) & (len(t.ents) - 1) }

// find returns k's slot, or -1. The table is a Robin Hood table (ID3): an
// entry never sits farther from its home than the one after it, plus one,
// so a probe stops at the first entry nearer its home than the probe has
// come.
func (t *idTable[V]) find(k uint64) int {
	if k < t.lo || k > t.hi {
		return -1 // ID2
	}
	mask := len(t.ents) - 1
	for i, d := t.slot(k), 0; ; i, d = (i+1)&mask, d+1 {
		switch e := t.ents[i].k; {
		case e == k:
			return i
		case e == 0 || t.dist(i) < d:
			return -1
		}
	}
}

// get returns the value of k.
func (t *idTable[V]) get(k uint64) (V, bool) {
	if i := t.find(k); i >= 0 {
		return t.ents[i].v, true
	}
	var zero V
	return zero, false
}

// set stores v under k and reports whether k is new. A new entry takes the
// slot of the first entry nearer its home than the new one would be, which
// moves on in its turn (Robin Hood insertion, ID3).
func (t *idTable[V]) set(k uint64, v V) bool {
	if i := t.find(k); i >= 0 {
		t.ents[i].v = v
		return false
	}
	if (t.n+1)*4 > len(t.ents)*3 { // load factor 3/4
		t.resize(len(t.ents) * 2)
	}
	t.n++
	t.lo, t.hi = min(t.lo, k), max(t.hi, k)
	mask := len(t.ents) - 1
	cur := idEntry[V]{k: k, v: v}
	for i, d := t.slot(k), 0; ; i, d = (i+1)&mask, d+1 {
		e := &t.ents[i]
		if e.k == 0 {
			*e = cur
			return true
		}
		if ed := t.dist(i); ed < d {
			cur, *e = *e, cur
			d = ed
		}
	}
}

// replace sets the value of an existing k and reports whether it existed.
func (t *idTable[V]) replace(k uint64, v V) bool {
	if i := t.find(k); i >= 0 {
		t.ents[i].v = v
		return true
	}
	return false
}

// remove deletes k, shifting the entries after it back by one slot until
// an empty slot or an entry at its home (backward-shift deletion, ID3), so
// no tombstone is needed and a run of dense keys, each at its home, moves
// nothing.
func (t *idTable[V]) remove(k uint64) (V, bool) {
	var zero V
	i := t.find(k)
	if i < 0 {
		return zero, false
	}
	v := t.ents[i].v
	mask := len(t.ents) - 1
	for j := (i + 1) & mask; t.ents[j].k != 0 && t.dist(j) > 0; j = (j + 1) & mask {
		t.ents[i] = t.ents[j]
		i = j
	}
	t.ents[i] = idEntry[V]{}
	t.n--
	return v, true
}

// each calls fn for every entry. An empty table costs nothing, however
// many slots it kept.
func (t *idTable[V]) each(fn func(uint64, V)) {
	if t.n == 0 {
		return
	}
	for i := range t.ents {
		if e := &t.ents[i]; e.k != 0 {
			fn(e.k, e.v)
		}
	}
}

// clear empties the table, keeping its slots unless they grew past a
// bound (pebble batchPool style: do not keep a burst's memory forever).
func (t *idTable[V]) clear() {
	if len(t.ents) > 1<<20 && t.n < len(t.ents)/16 {
		t.resize(idTableMinSize)
		return
	}
	if t.n > 0 {
		clear(t.ents)
	}
	t.n, t.lo, t.hi = 0, math.MaxUint64, 0
}

func (t *idTable[V]) len() int { return t.n }

// NewRootID draws a random tree id, as Storm's spouts do. Its top bit is
// clear, which sets it apart from a [RootID]; 0 is reserved for empty
// table slots.
func NewRootID(rng interface{ Uint64() uint64 }) uint64 {
	for {
		if id := rng.Uint64() >> 1; id != 0 {
			return id
		}
	}
}

// Root ids of spouts' sequences ([RootID]): the top bit set, then the
// spout's id space, then the sequence number.
const (
	rootSeqBits   = 48
	rootSeqMask   = 1<<rootSeqBits - 1
	rootSpaceMask = 1<<15 - 1
	rootSeqFlag   = 1 << 63
	// AckBlockBits: [AckerFor] sends blocks of 2^AckBlockBits consecutive
	// sequence numbers of a spout to one acker, so each acker's share of
	// a spout's trees is dense too once compacted ([Acker]).
	AckBlockBits = 8
)

// RootID is the id of tree seq (from 1, below 2^48) of spout space
// (below 2^15, one per spout task): unique in a run as long as each spout
// numbers its trees once, as Storm's random ids are unique with high
// probability. Where Storm draws ids at random, weir numbers them, so the
// tables keyed by them stay dense (ID1); the edge ids, whose XOR decides
// that a tree is complete (AK1), stay random.
func RootID(space int, seq uint64) uint64 {
	return rootSeqFlag | uint64(space&rootSpaceMask)<<rootSeqBits | seq&rootSeqMask
}

// AckerFor is the acker task, among n, of root: Storm's fields grouping
// on the root id, by blocks of sequence numbers for a [RootID].
func AckerFor(root uint64, n int) int {
	if n <= 1 {
		return 0
	}
	if root&rootSeqFlag == 0 {
		return int(root % uint64(n))
	}
	return int(((root & rootSeqMask) >> AckBlockBits) % uint64(n))
}
