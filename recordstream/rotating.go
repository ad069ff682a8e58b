package recordstream

import "fmt"

// RotatingMap is Storm's timeout structure (utils/RotatingMap.java): a list
// of n buckets, newest first. [RotatingMap.Put] writes to the newest bucket
// and removes the key from the older ones; [RotatingMap.Rotate] drops the
// oldest bucket, handing each of its entries to the expire callback, and adds
// an empty newest bucket. If Rotate runs every T, an entry expires between T
// and T*(1+1/(n-1)) after its last Put (R1): with 2 buckets between T and 2T
// (the spout's pending map), with 3 between 2T and 3T after the put measured
// in rotations (the acker).
//
// RotatingMap is not safe for concurrent use: one task owns it. Buckets are
// Go maps that are cleared and reused on rotation, so a steady state does not
// allocate.
type RotatingMap[K comparable, V any] struct {
	buckets []map[K]V // buckets[0] is the newest
	size    int
}

// NewRotatingMap returns a map with n >= 2 buckets.
func NewRotatingMap[K comparable, V any](n int) (*RotatingMap[K, V], error) {
	if n < 2 {
		return nil, fmt.Errorf("recordstream: rotating map needs at least 2 buckets, got %d", n)
	}
	m := &RotatingMap[K, V]{buckets: make([]map[K]V, n)}
	for i := range m.buckets {
		m.buckets[i] = make(map[K]V)
	}
	return m, nil
}

// Put stores v under k in the newest bucket, removing k from older buckets.
func (m *RotatingMap[K, V]) Put(k K, v V) {
	newest := m.buckets[0]
	if _, ok := newest[k]; !ok {
		m.size++
	}
	newest[k] = v
	for _, b := range m.buckets[1:] {
		if len(b) == 0 {
			continue // the common case: entries rarely outlive a rotation
		}
		if _, ok := b[k]; ok {
			delete(b, k)
			m.size--
		}
	}
}

// Replace sets the value of k in the bucket that holds it, without moving it
// to the newest bucket (so its timeout is not refreshed), and reports whether
// k was present.
func (m *RotatingMap[K, V]) Replace(k K, v V) bool {
	for _, b := range m.buckets {
		if len(b) == 0 {
			continue
		}
		if _, ok := b[k]; ok {
			b[k] = v
			return true
		}
	}
	return false
}

// Get returns the value of k.
func (m *RotatingMap[K, V]) Get(k K) (V, bool) {
	for _, b := range m.buckets {
		if len(b) == 0 {
			continue
		}
		if v, ok := b[k]; ok {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// Remove deletes k and returns its value.
func (m *RotatingMap[K, V]) Remove(k K) (V, bool) {
	for _, b := range m.buckets {
		if len(b) == 0 {
			continue
		}
		if v, ok := b[k]; ok {
			delete(b, k)
			m.size--
			return v, true
		}
	}
	var zero V
	return zero, false
}

// Len returns the number of entries.
func (m *RotatingMap[K, V]) Len() int { return m.size }

// Rotate drops the oldest bucket, calling expire (if not nil) for each of its
// entries, and makes an empty bucket the newest. The dropped bucket's map is
// reused.
func (m *RotatingMap[K, V]) Rotate(expire func(K, V)) {
	last := len(m.buckets) - 1
	old := m.buckets[last]
	if expire != nil {
		for k, v := range old {
			expire(k, v)
		}
	}
	m.size -= len(old)
	clear(old)
	copy(m.buckets[1:], m.buckets[:last])
	m.buckets[0] = old
}
