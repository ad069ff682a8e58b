package acking

import "fmt"

// RotatingMap is Storm's timeout structure (utils/RotatingMap.java): a list
// of n buckets, newest first. [RotatingMap.Put] writes to the newest bucket
// and removes the key from the older ones; [RotatingMap.Rotate] drops the
// oldest bucket, handing each of its entries to the expire callback, and adds
// an empty newest bucket. If Rotate runs every T, an entry expires between
// T*(n-1) and T*n after its last Put (RM1): with the spout's 2 buckets
// between T and 2T, with the acker's 3 between 2T and 3T.
//
// Keys are non-zero uint64 ids (tree root ids). RotatingMap is not safe for
// concurrent use: one task owns it. Buckets are [idTable]s that are cleared
// and reused on rotation, so a steady state does not allocate.
type RotatingMap[V any] struct {
	buckets []*idTable[V] // buckets[0] is the newest
	size    int
}

// NewRotatingMap returns a map with n >= 2 buckets.
func NewRotatingMap[V any](n int) (*RotatingMap[V], error) {
	if n < 2 {
		return nil, fmt.Errorf("acking: rotating map needs at least 2 buckets, got %d", n)
	}
	m := &RotatingMap[V]{buckets: make([]*idTable[V], n)}
	for i := range m.buckets {
		m.buckets[i] = newIDTable[V]()
	}
	return m, nil
}

// Put stores v under k (non-zero) in the newest bucket, removing k from
// older buckets.
func (m *RotatingMap[V]) Put(k uint64, v V) {
	if m.buckets[0].set(k, v) {
		m.size++
	}
	for _, b := range m.buckets[1:] {
		if b.len() == 0 {
			continue // the common case: entries rarely outlive a rotation
		}
		if _, ok := b.remove(k); ok {
			m.size--
		}
	}
}

// Replace sets the value of k in the bucket that holds it, without moving it
// to the newest bucket (so its timeout is not refreshed), and reports whether
// k was present.
func (m *RotatingMap[V]) Replace(k uint64, v V) bool {
	for _, b := range m.buckets {
		if b.len() > 0 && b.replace(k, v) {
			return true
		}
	}
	return false
}

// Get returns the value of k.
func (m *RotatingMap[V]) Get(k uint64) (V, bool) {
	for _, b := range m.buckets {
		if b.len() == 0 {
			continue
		}
		if v, ok := b.get(k); ok {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// Remove deletes k and returns its value.
func (m *RotatingMap[V]) Remove(k uint64) (V, bool) {
	for _, b := range m.buckets {
		if b.len() == 0 {
			continue
		}
		if v, ok := b.remove(k); ok {
			m.size--
			return v, true
		}
	}
	var zero V
	return zero, false
}

// Len returns the number of entries.
func (m *RotatingMap[V]) Len() int { return m.size }

// Each calls fn for every entry, in no particular order. fn must not change
// the map.
func (m *RotatingMap[V]) Each(fn func(uint64, V)) {
	for _, b := range m.buckets {
		if b.len() > 0 {
			b.each(fn)
		}
	}
}

// Rotate drops the oldest bucket, calling expire (if not nil) for each of its
// entries, and makes an empty bucket the newest. The dropped bucket's table
// is reused.
func (m *RotatingMap[V]) Rotate(expire func(uint64, V)) {
	last := len(m.buckets) - 1
	old := m.buckets[last]
	if expire != nil {
		old.each(expire)
	}
	m.size -= old.len()
	old.clear()
	copy(m.buckets[1:], m.buckets[:last])
	m.buckets[0] = old
}
