package trident

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBegin(t *testing.T) {
	st := Value[int]{Txid: 5, Curr: 50, Prev: 40, HasPrev: true}
	noPrev := Value[int]{Txid: 5, Curr: 50}
	for _, tc := range []struct {
		name      string
		kind      Kind
		stored    Value[int]
		ok        bool
		txid      uint64
		base      int
		hasBase   bool
		apply     bool
		wantError bool
	}{
		{name: "T1 transactional, no value", kind: Transactional, txid: 1, apply: true},
		{name: "T1 opaque, no value", kind: Opaque, txid: 1, apply: true},
		{name: "T2 transactional, older txid", kind: Transactional, stored: st, ok: true, txid: 6, base: 50, hasBase: true, apply: true},
		{name: "T2 opaque, older txid", kind: Opaque, stored: st, ok: true, txid: 6, base: 50, hasBase: true, apply: true},
		{name: "T3 transactional, same txid: skip", kind: Transactional, stored: st, ok: true, txid: 5},
		{name: "T3 opaque, same txid: from prev", kind: Opaque, stored: st, ok: true, txid: 5, base: 40, hasBase: true, apply: true},
		{name: "T3 opaque, same txid, no prev: empty base", kind: Opaque, stored: noPrev, ok: true, txid: 5, apply: true},
		{name: "T4 transactional, newer txid", kind: Transactional, stored: st, ok: true, txid: 4, wantError: true},
		{name: "T4 opaque, newer txid", kind: Opaque, stored: st, ok: true, txid: 4, wantError: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, hasBase, apply, err := Begin(tc.kind, tc.stored, tc.ok, tc.txid)
			if tc.wantError {
				require.Error(t, err, "Begin(%v, %+v, batch %d)", tc.kind, tc.stored, tc.txid)
				assert.Contains(t, err.Error(), "behind")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.apply, apply, "Begin(%v, %+v, batch %d) apply", tc.kind, tc.stored, tc.txid)
			assert.Equal(t, tc.hasBase, hasBase, "hasBase")
			assert.Equal(t, tc.base, base, "base")
		})
	}
}

func TestNext(t *testing.T) {
	st := Value[int]{Txid: 5, Curr: 50, Prev: 40, HasPrev: true}
	for _, tc := range []struct {
		name   string
		kind   Kind
		stored Value[int]
		ok     bool
		txid   uint64
		v      int
		want   Value[int]
	}{
		{name: "transactional, no value", kind: Transactional, txid: 1, v: 7, want: Value[int]{Txid: 1, Curr: 7}},
		{name: "transactional, older", kind: Transactional, stored: st, ok: true, txid: 6, v: 60, want: Value[int]{Txid: 6, Curr: 60}},
		{name: "opaque, no value", kind: Opaque, txid: 1, v: 7, want: Value[int]{Txid: 1, Curr: 7}},
		{name: "opaque, older: curr becomes prev", kind: Opaque, stored: st, ok: true, txid: 6, v: 60, want: Value[int]{Txid: 6, Curr: 60, Prev: 50, HasPrev: true}},
		{name: "opaque, replay: prev stays", kind: Opaque, stored: st, ok: true, txid: 5, v: 45, want: Value[int]{Txid: 5, Curr: 45, Prev: 40, HasPrev: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Next(tc.kind, tc.stored, tc.ok, tc.txid, tc.v), "Next(%v, %+v, batch %d, %d)", tc.kind, tc.stored, tc.txid, tc.v)
		})
	}
}

// TestMapReplay applies a sequence of batches, with replays, to a counter
// per key, and checks that each batch counts once: a transactional replay
// of the same records is skipped, an opaque replay of other records
// replaces the earlier attempt.
func TestMapReplay(t *testing.T) {
	type step struct {
		txid uint64
		add  int
		want int
	}
	for _, tc := range []struct {
		name  string
		kind  Kind
		steps []step
	}{
		{name: "transactional", kind: Transactional, steps: []step{{1, 3, 3}, {2, 4, 7}, {2, 4, 7}, {3, 1, 8}, {3, 1, 8}}},
		{name: "opaque", kind: Opaque, steps: []step{{1, 3, 3}, {2, 4, 7}, {2, 2, 5}, {2, 9, 12}, {3, 1, 13}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMap[string, int](tc.kind)
			for i, s := range tc.steps {
				base, _, apply, err := m.Begin("k", s.txid)
				require.NoError(t, err)
				if apply {
					m.Put("k", s.txid, base+s.add)
				}
				got, ok := m.Get("k")
				require.True(t, ok)
				assert.Equal(t, s.want, got.Curr, "step %d: batch %d adding %d", i, s.txid, s.add)
			}
			_, _, _, err := m.Begin("k", 1)
			assert.Error(t, err, "a batch behind the state")
			assert.Equal(t, 1, m.Len())
		})
	}
}
