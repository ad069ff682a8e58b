//go:build invariants

package checkpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGateInvariantsFire checks that each of the gate's assertions (CG1-CG5)
// catches the broken state it names, so a check that silently stopped
// matching would show. It runs only under -tags invariants.
func TestGateInvariantsFire(t *testing.T) {
	cases := []struct {
		name    string
		mode    Mode
		setup   []Input[int]
		corrupt func(g *Gate[int])
		want    string
	}{
		{"CG1 unblocked channel with a queue", Aligned, nil,
			func(g *Gate[int]) { g.queues[1].push(item[int]{kind: InRecord}) }, "CG1"},
		{"CG2 queue out of arrival order", Aligned, []Input[int]{
			{Kind: InBarrier, Channel: 0, ID: 1},
			{Kind: InRecord, Channel: 0, Record: 1},
			{Kind: InRecord, Channel: 0, Record: 2},
		}, func(g *Gate[int]) {
			q := &g.queues[0]
			q.items[q.head], q.items[q.head+1] = q.items[q.head+1], q.items[q.head]
		}, "CG2"},
		{"CG3 blocked without its barrier", Aligned, nil,
			func(g *Gate[int]) { g.blocked[1] = true }, "CG3"},
		{"CG3 blocked outside Aligned mode", Unaligned, []Input[int]{{Kind: InBarrier, Channel: 0, ID: 1}},
			func(g *Gate[int]) { g.blocked[0] = true }, "CG3"},
		{"CG4 nArrived off by one", Aligned, []Input[int]{{Kind: InBarrier, Channel: 0, ID: 1}},
			func(g *Gate[int]) { g.nArrived++ }, "CG4"},
		{"CG5 tracked ids out of order", AtLeastOnce, []Input[int]{
			{Kind: InBarrier, Channel: 0, ID: 1},
			{Kind: InBarrier, Channel: 0, ID: 2},
		}, func(g *Gate[int]) { g.tracked[0].id = 3 }, "CG5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := NewGate[int](GateConfig{Mode: tc.mode, Channels: 2})
			require.NoError(t, err)
			for _, in := range tc.setup {
				_, err := g.Step(nil, in)
				require.NoError(t, err)
			}
			require.NotPanics(t, g.assertInvariants, "before breaking the state")
			tc.corrupt(g)
			defer func() {
				r := recover()
				require.NotNil(t, r, "assertInvariants did not panic")
				assert.Contains(t, r, tc.want)
			}()
			g.assertInvariants()
		})
	}
}
