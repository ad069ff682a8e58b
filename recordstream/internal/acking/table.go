package acking

// idTable is an open-addressing hash table from non-zero uint64 ids (root
// ids, which are random) to values, with linear probing and backward-shift
// deletion. It replaces a Go map on the acker's and the spouts' per-tuple
// path: one probe sequence per operation, no tombstones, and clearing keeps
// the slots for reuse, so a steady state does not allocate. Key 0 marks an
// empty slot; callers never use it ([NewRootID]).
type idTable[V any] struct {
	keys  []uint64
	vals  []V
	n     int
	shift uint // 64 - log2(len(keys))
}

const idTableMinSize = 64

func newIDTable[V any]() *idTable[V] {
	t := &idTable[V]{}
	t.resize(idTableMinSize)
	return t
}

func (t *idTable[V]) resize(size int) {
	oldK, oldV := t.keys, t.vals
	t.keys = make([]uint64, size)
	t.vals = make([]V, size)
	t.n = 0
	t.shift = 64
	for s := size; s > 1; s >>= 1 {
		t.shift--
	}
	for i, k := range oldK {
		if k != 0 {
			t.set(k, oldV[i])
		}
	}
}

// slot is the home slot of k (Fibonacci hashing, so ids that are not
// random still spread).
func (t *idTable[V]) slot(k uint64) int { return int((k * 0x9e3779b97f4a7c15) >> t.shift) }

func (t *idTable[V]) find(k uint64) int {
	mask := len(t.keys) - 1
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			return i
		case 0:
			return -1
		}
	}
}

// get returns the value of k.
func (t *idTable[V]) get(k uint64) (V, bool) {
	if i := t.find(k); i >= 0 {
		return t.vals[i], true
	}
	var zero V
	return zero, false
}

// set stores v under k and reports whether k is new.
func (t *idTable[V]) set(k uint64, v V) bool {
	if (t.n+1)*4 > len(t.keys)*3 { // load factor 3/4
		t.resize(len(t.keys) * 2)
	}
	mask := len(t.keys) - 1
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			t.vals[i] = v
			return false
		case 0:
			t.keys[i], t.vals[i] = k, v
			t.n++
			return true
		}
	}
}

// replace sets the value of an existing k and reports whether it existed.
func (t *idTable[V]) replace(k uint64, v V) bool {
	if i := t.find(k); i >= 0 {
		t.vals[i] = v
		return true
	}
	return false
}

// remove deletes k, shifting later entries of its probe run back so no
// tombstone is needed.
func (t *idTable[V]) remove(k uint64) (V, bool) {
	var zero V
	i := t.find(k)
	if i < 0 {
		return zero, false
	}
	v := t.vals[i]
	mask := len(t.keys) - 1
	for j := (i + 1) & mask; t.keys[j] != 0; j = (j + 1) & mask {
		h := t.slot(t.keys[j])
		// Move j into the hole at i if its home h is not in (i, j].
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.keys[i], t.vals[i] = t.keys[j], t.vals[j]
			i = j
		}
	}
	t.keys[i], t.vals[i] = 0, zero
	t.n--
	return v, true
}

// each calls fn for every entry. An empty table costs nothing, however
// many slots it kept.
func (t *idTable[V]) each(fn func(uint64, V)) {
	if t.n == 0 {
		return
	}
	for i, k := range t.keys {
		if k != 0 {
			fn(k, t.vals[i])
		}
	}
}

// clear empties the table, keeping its slots unless they grew past a
// bound (pebble batchPool style: do not keep a burst's memory forever).
func (t *idTable[V]) clear() {
	if len(t.keys) > 1<<20 && t.n < len(t.keys)/16 {
		t.resize(idTableMinSize)
		return
	}
	if t.n > 0 {
		clear(t.keys)
		clear(t.vals)
	}
	t.n = 0
}

func (t *idTable[V]) len() int { return t.n }

// NewRootID draws a random tree id; 0 is reserved for empty table slots.
func NewRootID(rng interface{ Uint64() uint64 }) uint64 {
	for {
		if id := rng.Uint64(); id != 0 {
			return id
		}
	}
}
