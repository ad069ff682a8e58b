package millwheel

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
)

// ID identifies a record for deduplication: the producer that sent it (the
// receiver's input channel), the producer's sequence number (a spout's log
// offset, a bolt's production sequence number) and, for a spout record the
// chained steps turned into several tuples, the tuple's index among them.
type ID struct {
	Producer int32
	Sub      int32
	Seq      int64
}

func (id ID) String() string { return fmt.Sprintf("%d/%d.%d", id.Producer, id.Seq, id.Sub) }

// IDBytes is the size of an id in a commit (what commit byte counts charge
// per consumed id).
const IDBytes = 16

// hash mixes an id into 64 bits (splitmix64 finalizer).
func (id ID) hash() uint64 {
	x := uint64(id.Seq)*0x9e3779b97f4a7c15 ^ uint64(uint32(id.Producer))<<32 ^ uint64(uint32(id.Sub))
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// bloomHashes is the number of bit positions per id.
const bloomHashes = 4

// Bloom is a Bloom filter over ids with k = 4 positions per id, derived
// from one 64-bit hash (Kirsch and Mitzenmacher's double hashing).
type Bloom struct {
	words []uint64
	mask  uint64
}

// NewBloom returns an empty filter of at least n bits (rounded up to a
// power of two, at least 64).
func NewBloom(n int) *Bloom {
	m := uint64(64)
	for m < uint64(n) {
		m <<= 1
	}
	return &Bloom{words: make([]uint64, m/64), mask: m - 1}
}

// Bits is the filter's size in bits.
func (b *Bloom) Bits() int { return len(b.words) * 64 }

func (b *Bloom) positions(id ID, fn func(word int, bit uint64)) {
	h := id.hash()
	h1, h2 := h, bits.RotateLeft64(h, 32)|1
	for i := range uint64(bloomHashes) {
		p := (h1 + i*h2) & b.mask
		fn(int(p/64), 1<<(p%64))
	}
}

// Add adds id.
func (b *Bloom) Add(id ID) {
	b.positions(id, func(w int, bit uint64) { b.words[w] |= bit })
}

// MayContain reports whether id may have been added: false proves it was
// not.
func (b *Bloom) MayContain(id ID) bool {
	all := true
	b.positions(id, func(w int, bit uint64) { all = all && b.words[w]&bit != 0 })
	return all
}

// Reset empties the filter.
func (b *Bloom) Reset() { clear(b.words) }

// producerIDs are one producer's committed ids, with a min-heap of their
// sequence numbers for collection.
type producerIDs struct {
	ids  map[seqSub]struct{}
	heap []seqSub
	low  int64 // ids below were collected (MW2)
}

type seqSub struct {
	seq int64
	sub int32
}

func (p *producerIDs) push(k seqSub) {
	p.heap = append(p.heap, k)
	for j := len(p.heap) - 1; j > 0; {
		i := (j - 1) / 2
		if p.heap[i].seq <= p.heap[j].seq {
			break
		}
		p.heap[i], p.heap[j] = p.heap[j], p.heap[i]
		j = i
	}
}

func (p *producerIDs) pop() seqSub {
	h := p.heap
	k := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h[r].seq < h[l].seq {
			j = r
		}
		if h[i].seq <= h[j].seq {
			break
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
	p.heap = h
	return k
}

// Catalog is a task's committed id catalog, the durable part of its
// deduplication state (MillWheel keeps it in Bigtable, keyed by record
// id), with the Bloom filter in front of it. It outlives task restarts. It
// is not safe for concurrent use.
type Catalog struct {
	prods map[int32]*producerIDs
	n     int
	bloom *Bloom
	stale int // ids collected since the filter was rebuilt
	// Collected counts the ids garbage-collected so far; Max the largest
	// size the catalog reached.
	Collected int64
	Max       int
}

// NewCatalog returns an empty catalog whose filter has bloomBits bits.
func NewCatalog(bloomBits int) *Catalog {
	return &Catalog{prods: map[int32]*producerIDs{}, bloom: NewBloom(bloomBits)}
}

// Len is the number of ids in the catalog.
func (c *Catalog) Len() int { return c.n }

func (c *Catalog) producer(p int32) *producerIDs {
	ps := c.prods[p]
	if ps == nil {
		ps = &producerIDs{ids: map[seqSub]struct{}{}}
		c.prods[p] = ps
	}
	return ps
}

// Contains reads the catalog.
func (c *Catalog) Contains(id ID) bool {
	ps := c.prods[id.Producer]
	if ps == nil {
		return false
	}
	_, ok := ps.ids[seqSub{id.Seq, id.Sub}]
	return ok
}

// below reports whether id is below its producer's GC bound (MW3).
func (c *Catalog) below(id ID) bool {
	ps := c.prods[id.Producer]
	return ps != nil && id.Seq < ps.low
}

// add commits id.
func (c *Catalog) add(id ID) {
	ps := c.producer(id.Producer)
	k := seqSub{id.Seq, id.Sub}
	if id.Seq < ps.low {
		return // collected already: a duplicate from now on (MW2, MW3)
	}
	if _, ok := ps.ids[k]; ok {
		return
	}
	ps.ids[k] = struct{}{}
	ps.push(k)
	c.n++
	c.Max = max(c.Max, c.n)
	c.bloom.Add(id)
}

// Collect removes producer's ids below below (MW2): the producer reported
// that it will never send them again. The filter is rebuilt once more ids
// were collected than remain (a Bloom filter cannot forget), so its cost
// per collected id is constant.
func (c *Catalog) Collect(producer int32, below int64) {
	ps := c.producer(producer)
	if below <= ps.low {
		return
	}
	ps.low = below
	for len(ps.heap) > 0 && ps.heap[0].seq < below {
		k := ps.pop()
		delete(ps.ids, k)
		c.n--
		c.stale++
		c.Collected++
	}
	if c.stale > c.n && c.stale > 64 {
		c.bloom.Reset()
		for p, ps := range c.prods {
			for k := range ps.ids {
				c.bloom.Add(ID{Producer: p, Seq: k.seq, Sub: k.sub})
			}
		}
		c.stale = 0
	}
}

// Cache is the bounded in-memory record-id cache (MW4): a ring of the most
// recently admitted ids. It is not safe for concurrent use.
type Cache struct {
	ring []ID
	next int
	full bool
	set  map[ID]struct{}
}

// NewCache returns an empty cache of capacity n (0: no cache).
func NewCache(n int) *Cache {
	return &Cache{ring: make([]ID, n), set: make(map[ID]struct{}, n)}
}

// Contains reports whether id is cached.
func (c *Cache) Contains(id ID) bool {
	_, ok := c.set[id]
	return ok
}

// Add caches id, evicting the oldest when full.
func (c *Cache) Add(id ID) {
	if len(c.ring) == 0 || c.Contains(id) {
		return
	}
	if c.full {
		delete(c.set, c.ring[c.next])
	}
	c.ring[c.next] = id
	c.set[id] = struct{}{}
	if c.next++; c.next == len(c.ring) {
		c.next, c.full = 0, true
	}
}

// Len is the number of cached ids.
func (c *Cache) Len() int { return len(c.set) }

// Reset empties the cache.
func (c *Cache) Reset() {
	clear(c.set)
	c.next, c.full = 0, false
}

// Lookup says how [Receiver.Admit] decided.
type Lookup uint8

// The lookups.
const (
	// LookupCacheHit: the id was in the cache or the current bundle: a
	// duplicate.
	LookupCacheHit Lookup = iota + 1
	// LookupExpired: the id is below its producer's GC bound: a duplicate
	// (MW3).
	LookupExpired
	// LookupBloomNegative: the filter proves the id new.
	LookupBloomNegative
	// LookupCatalogDuplicate: the filter said maybe and the catalog holds
	// the id.
	LookupCatalogDuplicate
	// LookupFalsePositive: the filter said maybe and the catalog does not
	// hold it: new, at the cost of a catalog read.
	LookupFalsePositive
)

// Duplicate reports whether the lookup found a duplicate.
func (l Lookup) Duplicate() bool {
	return l == LookupCacheHit || l == LookupExpired || l == LookupCatalogDuplicate
}

// Stats counts a receiver's lookups.
type Stats struct {
	Lookups, CacheHits, Expired, BloomNegatives, CatalogReads, FalsePositives, Duplicates int64
}

// Receiver deduplicates one task's input bundle by bundle (MW1): a
// durable [Catalog] (owned by the task's store, it survives restarts), a
// volatile [Cache] and the ids of the bundle in progress. It is not safe
// for concurrent use.
type Receiver struct {
	cat    *Catalog
	cache  *Cache
	bundle []ID
	in     map[ID]struct{}
	Stats
}

// NewReceiver returns a receiver over cat with a cache of cacheSize ids.
func NewReceiver(cat *Catalog, cacheSize int) *Receiver {
	return &Receiver{cat: cat, cache: NewCache(cacheSize), in: map[ID]struct{}{}}
}

// Catalog returns the receiver's catalog.
func (r *Receiver) Catalog() *Catalog { return r.cat }

// Admit decides whether id is new (to be processed and committed with the
// bundle) or a duplicate (to be dropped and acknowledged again), and counts
// how it decided.
func (r *Receiver) Admit(id ID) Lookup {
	r.Lookups++
	l := r.lookup(id)
	switch l {
	case LookupCacheHit:
		r.CacheHits++
	case LookupExpired:
		r.Expired++
	case LookupBloomNegative:
		r.BloomNegatives++
	case LookupCatalogDuplicate:
		r.CatalogReads++
	case LookupFalsePositive:
		r.CatalogReads++
		r.FalsePositives++
	}
	if l.Duplicate() {
		r.Duplicates++
		return l
	}
	r.bundle = append(r.bundle, id)
	r.in[id] = struct{}{}
	return l
}

func (r *Receiver) lookup(id ID) Lookup {
	if _, ok := r.in[id]; ok || r.cache.Contains(id) {
		return LookupCacheHit
	}
	if r.cat.below(id) {
		return LookupExpired
	}
	if !r.cat.bloom.MayContain(id) {
		return LookupBloomNegative
	}
	if r.cat.Contains(id) {
		return LookupCatalogDuplicate
	}
	return LookupFalsePositive
}

// Pending is the number of ids admitted in the bundle in progress.
func (r *Receiver) Pending() int { return len(r.bundle) }

// Commit commits the bundle's ids to the catalog (and the cache) and
// returns how many it committed.
func (r *Receiver) Commit() int {
	n := len(r.bundle)
	for _, id := range r.bundle {
		r.cat.add(id)
		r.cache.Add(id)
	}
	r.bundle = r.bundle[:0]
	clear(r.in)
	return n
}

// Abort forgets the bundle in progress and the cache: the task crashed
// (MW4); the catalog keeps what was committed.
func (r *Receiver) Abort() {
	r.bundle = r.bundle[:0]
	clear(r.in)
	r.cache.Reset()
}

// Sent is one unacknowledged record of a [Sender].
type Sent[T any] struct {
	Value  T
	SentAt int64 // ns, the last send
}

// Sender is a producer's upstream backup: every record it sent and has not
// seen acknowledged, to be sent again after the retry timeout. It is not
// safe for concurrent use.
type Sender[T any] struct {
	m       map[ID]*Sent[T]
	free    []*Sent[T]
	timeout int64
	next    int64 // Low when nothing is pending: the next sequence number
	due     []ID
}

// NewSender returns an empty sender retrying after timeout ns.
func NewSender[T any](timeout int64) *Sender[T] {
	return &Sender[T]{m: map[ID]*Sent[T]{}, timeout: timeout}
}

// Put records id as sent at now with value v (again, for a retry).
func (s *Sender[T]) Put(id ID, v T, now int64) {
	e := s.m[id]
	if e == nil {
		if n := len(s.free); n > 0 {
			e, s.free = s.free[n-1], s.free[:n-1]
		} else {
			e = new(Sent[T])
		}
		s.m[id] = e
	}
	e.Value, e.SentAt = v, now
	s.next = max(s.next, id.Seq+1)
}

// Get returns id's entry, or nil when it is not pending.
func (s *Sender[T]) Get(id ID) *Sent[T] { return s.m[id] }

// Ack removes id; it reports whether it was pending (a repeated ack is
// not).
func (s *Sender[T]) Ack(id ID) bool {
	e := s.m[id]
	if e == nil {
		return false
	}
	delete(s.m, id)
	var zero T
	e.Value = zero
	s.free = append(s.free, e)
	return true
}

// Len is the number of pending records.
func (s *Sender[T]) Len() int { return len(s.m) }

// Each calls fn for every pending record, in no order.
func (s *Sender[T]) Each(fn func(ID, *Sent[T])) {
	for id, e := range s.m {
		fn(id, e)
	}
}

// Due returns the pending ids last sent at least the timeout before now,
// sorted by sequence number; the slice is reused by the next call.
func (s *Sender[T]) Due(now int64) []ID {
	s.due = s.due[:0]
	for id, e := range s.m {
		if now-e.SentAt >= s.timeout {
			s.due = append(s.due, id)
		}
	}
	sortIDs(s.due)
	return s.due
}

// Low is the earliest pending sequence number, or, with nothing pending,
// one past the largest ever sent: the sender will never send a sequence
// number below it again (its receivers' GC bound, MW2).
func (s *Sender[T]) Low() int64 {
	low := s.next
	for id := range s.m {
		low = min(low, id.Seq)
	}
	return low
}

// SetNext raises the sequence number Low reports with nothing pending (a
// sender whose sequence starts past 0).
func (s *Sender[T]) SetNext(n int64) { s.next = max(s.next, n) }

func sortIDs(ids []ID) {
	slices.SortFunc(ids, func(a, b ID) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), cmp.Compare(a.Producer, b.Producer), cmp.Compare(a.Sub, b.Sub))
	})
}
