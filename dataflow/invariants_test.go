//go:build invariants

package dataflow

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests break the state of the cores on purpose and check that the
// debug-only assertions (-tags invariants) catch it, so an assertion that
// silently stopped checking would show.

// requireViolation runs f and requires it to panic with an invariant
// violation whose message starts with prefix.
func requireViolation(t *testing.T, prefix string, f func()) {
	t.Helper()
	var got any
	func() {
		defer func() { got = recover() }()
		f()
	}()
	msg, ok := got.(string)
	require.True(t, ok, "panic value %v (%T), want an invariant violation %q", got, got, prefix)
	assert.True(t, strings.HasPrefix(msg, "invariant violated: "+prefix), "panic %q, want prefix %q", msg, prefix)
}

func TestInvariantsCatchWatermarkTracker(t *testing.T) {
	tr := NewWatermarkTracker(2, WatermarkPolicy{})
	tr.Observe(0, 100, 0)
	tr.Observe(1, 50, 0)
	require.Equal(t, Time(50), tr.Current(0))
	tr.current = 500 // above every input: it cannot be a past minimum
	requireViolation(t, "DW1: watermark 500 above every input's", func() { tr.Current(0) })
}

func invOperator(t *testing.T, w WindowFn, lateness time.Duration) *WindowOperator {
	t.Helper()
	schema := NewSchema(Field{Name: "k", Kind: KindString}, Field{Name: "t", Kind: KindTimestamp})
	op, err := NewWindowOperator(&Aggregation{Key: []string{"k"}, Window: w, TimeCol: "t",
		AllowedLateness: lateness, Aggs: []Agg{Count()}}, schema, OperatorConfig{})
	require.NoError(t, err)
	return op
}

func invRow(key string, t Time) Row { return Row{Str(key), Timestamp(t)} }

func TestInvariantsCatchWindowOperator(t *testing.T) {
	fixed := FixedWindows(10 * time.Millisecond)
	setup := func(t *testing.T) *WindowOperator {
		op := invOperator(t, fixed, 100*time.Millisecond)
		for i, k := range []string{"a", "b", "c", "a", "b"} {
			op.Add(invRow(k, Time(i*7)), 0)
		}
		return op
	}
	t.Run("DO1 heap order", func(t *testing.T) {
		op := setup(t)
		h := op.st.timers
		last := len(h) - 1
		h[0], h[last] = h[last], h[0]
		h[0].ws.heapIdx, h[last].ws.heapIdx = 0, last
		requireViolation(t, "DO1: timer", func() { op.Add(invRow("a", 1), 0) })
	})
	t.Run("DO1 stale deadline", func(t *testing.T) {
		op := setup(t)
		op.st.timers[0].ws.fired = true // the window's deadline moves to end + lateness, its timer's does not
		requireViolation(t, "DO1: timer 0 ([0, 10) of", func() { op.Add(invRow("a", 1), 0) })
	})
	t.Run("DO1 session timer later than its window", func(t *testing.T) {
		op := invOperator(t, SessionWindows(5*time.Millisecond), 0)
		op.Add(invRow("a", 0), 0)
		op.Add(invRow("a", 3), 0) // grows [0, 5) to [0, 8): its timer may stay at 5
		require.Equal(t, Time(5), op.st.timers[0].deadline, "the grown session keeps its earlier deadline")
		op.st.timers[0].deadline = 9 // later than the window's: it would fire late
		requireViolation(t, "DO1: timer 0 ([0, 8) of", func() { op.Add(invRow("b", 20), 0) })
	})
	t.Run("DO2 per-key count", func(t *testing.T) {
		op := setup(t)
		op.st.keys["b"].open++
		requireViolation(t, `DO2: key "b" has 2 windows, open 3`, func() { op.Add(invRow("a", 1), 0) })
	})
	t.Run("DO5 not fired behind the watermark", func(t *testing.T) {
		op := invOperator(t, fixed, 100*time.Millisecond)
		op.Add(invRow("a", 5), 0)
		op.AdvanceWatermark(15)
		require.Len(t, op.st.timers, 1)
		op.st.timers[0].ws.fired = false
		op.st.timers[0].deadline = op.st.timers[0].ws.w.End // keep DO1 true
		requireViolation(t, `DO5: window [0, 10) of "a" not fired at watermark 15`, func() { op.Add(invRow("a", 30), 0) })
	})
	t.Run("DO6 watermark goes back", func(t *testing.T) {
		op := setup(t)
		op.AdvanceWatermark(5)
		op.st.wm = 2
		requireViolation(t, "DO6: window operator watermark went back from 5 to 2", func() { op.Add(invRow("a", 40), 0) })
	})
	t.Run("DO3 sessions overlap", func(t *testing.T) {
		op := invOperator(t, SessionWindows(5*time.Millisecond), 0)
		op.Add(invRow("a", 0), 0)
		op.Add(invRow("a", 20), 0)
		ss := op.st.keys["a"].sessions
		require.Len(t, ss, 2)
		ss[1].w.Start = 3
		requireViolation(t, `DO3: sessions [0, 5) and [3, 25) of key "a" overlap`, func() { op.Add(invRow("b", 0), 0) })
	})
}

// TestInvariantsRestoreOfInconsistentSnapshot checks that a well-formed
// snapshot whose flags contradict its watermark (bad data, which Restore
// does not validate) restores and runs without an assertion panic.
func TestInvariantsRestoreOfInconsistentSnapshot(t *testing.T) {
	op := invOperator(t, FixedWindows(10*time.Millisecond), 100*time.Millisecond)
	op.Add(invRow("a", 5), 0)
	op.AdvanceWatermark(20)
	require.Len(t, op.st.timers, 1)
	op.st.timers[0].ws.fired = false // on-time moment passed, flag says not fired
	snap, err := op.AppendSnapshot(nil)
	require.NoError(t, err)

	fresh := invOperator(t, FixedWindows(10*time.Millisecond), 100*time.Millisecond)
	require.NotPanics(t, func() {
		require.NoError(t, fresh.Restore(snap))
		fresh.Add(invRow("a", 6), 0)
		fresh.AdvanceWatermark(30)
		fresh.Finish()
	})
}
