// Package trident is the pure core of weir's Trident model: the rules by
// which a Trident state applies a batch exactly once (Storm's
// TransactionalMap and OpaqueMap, models.md §1.4). It has no goroutines,
// locks, clocks or I/O; recordstream's Trident mode wraps it.
//
// # Usage
//
// A state keeps, per key, a [Value]: the txid of the last batch that wrote
// it, the value after that batch (Curr) and, for opaque state, the value
// before it (Prev). A committer applying batch txid to key k
//
//  1. calls [Begin] with the stored value: it says whether to apply the
//     batch at all and on which base;
//  2. if told to, computes the new value from the base (the batch's update)
//     and stores [Next] of it.
//
// # Rules (T1-T4)
//
//   - T1 No stored value: apply on the empty base.
//   - T2 Stored txid below the batch's: apply on Curr (the value includes
//     every earlier batch, this one not yet).
//   - T3 Stored txid equal to the batch's (a replay of a batch this key
//     already committed): Transactional skips it, since a transactional
//     spout replays the same records, so Curr already holds them; Opaque
//     recomputes it from Prev, since an opaque replay may hold other
//     records, and the earlier attempt's contribution must go.
//   - T4 Stored txid above the batch's: an error. Commits are strictly in
//     txid order, so once txid N committed, no txid below N commits again
//     (Transactional-topologies.md); a batch behind the state is a bug.
package trident

import "fmt"

// Kind is the kind of a Trident state.
type Kind uint8

const (
	// Transactional keeps the txid with each value (TransactionalMap):
	// correct only with a transactional spout (a txid always holds the same
	// records).
	Transactional Kind = iota
	// Opaque keeps the txid, the previous and the current value
	// (OpaqueMap): correct with opaque and transactional spouts.
	Opaque
)

func (k Kind) String() string {
	if k == Opaque {
		return "opaque"
	}
	return "transactional"
}

// Value is a stored value with the txid of the batch that wrote it.
// HasPrev says whether Prev holds a value (Opaque: there was one before
// batch Txid).
type Value[V any] struct {
	Txid    uint64
	Curr    V
	Prev    V
	HasPrev bool
}

// Begin says how batch txid applies to a key whose stored value is stored
// (ok false: none). apply false means skip (T3, Transactional); otherwise
// base is the value to update (hasBase false: the empty base, T1 or an
// opaque replay whose key had no value before the batch).
func Begin[V any](kind Kind, stored Value[V], ok bool, txid uint64) (base V, hasBase, apply bool, err error) {
	var zero V
	switch {
	case !ok: // T1
		return zero, false, true, nil
	case stored.Txid < txid: // T2
		return stored.Curr, true, true, nil
	case stored.Txid > txid: // T4
		return zero, false, false, fmt.Errorf("trident: batch %d is behind the state's batch %d: commits must be in txid order", txid, stored.Txid)
	case kind == Transactional: // T3
		return zero, false, false, nil
	}
	return stored.Prev, stored.HasPrev, true, nil // T3, Opaque
}

// Next is the value to store after applying batch txid, whose result is v,
// to a key whose stored value was stored (ok false: none). Call it only
// when [Begin] said to apply.
func Next[V any](kind Kind, stored Value[V], ok bool, txid uint64, v V) Value[V] {
	if kind == Transactional {
		return Value[V]{Txid: txid, Curr: v}
	}
	switch {
	case !ok:
		return Value[V]{Txid: txid, Curr: v}
	case stored.Txid == txid: // a replay: the value before the batch stays
		return Value[V]{Txid: txid, Curr: v, Prev: stored.Prev, HasPrev: stored.HasPrev}
	}
	return Value[V]{Txid: txid, Curr: v, Prev: stored.Curr, HasPrev: true}
}

// Map is a keyed Trident state: a map from key to [Value] with the rules
// of [Begin] and [Next]. The zero value is not usable; use [NewMap]. Map is
// not safe for concurrent use.
type Map[K comparable, V any] struct {
	kind Kind
	m    map[K]Value[V]
}

// NewMap returns an empty map of the given kind.
func NewMap[K comparable, V any](kind Kind) *Map[K, V] {
	return &Map[K, V]{kind: kind, m: map[K]Value[V]{}}
}

// Kind is the map's kind.
func (m *Map[K, V]) Kind() Kind { return m.kind }

// Begin is [Begin] for key k.
func (m *Map[K, V]) Begin(k K, txid uint64) (base V, hasBase, apply bool, err error) {
	st, ok := m.m[k]
	return Begin(m.kind, st, ok, txid)
}

// Put stores [Next] for key k after batch txid computed v.
func (m *Map[K, V]) Put(k K, txid uint64, v V) {
	st, ok := m.m[k]
	m.m[k] = Next(m.kind, st, ok, txid, v)
}

// Get returns key k's stored value.
func (m *Map[K, V]) Get(k K) (Value[V], bool) {
	v, ok := m.m[k]
	return v, ok
}

// Len is the number of keys.
func (m *Map[K, V]) Len() int { return len(m.m) }

// All calls fn for every key and stored value, in no particular order.
func (m *Map[K, V]) All(fn func(K, Value[V])) {
	for k, v := range m.m {
		fn(k, v)
	}
}
