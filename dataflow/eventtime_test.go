package dataflow_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
)

// The contributing event time: a record windowed by one time (a joined
// row's join_time) whose panes' MaxEventTime, from which event-time
// latency is measured, comes from another (its side rows' largest event
// time).

// maxEvents returns each pane's window, key and MaxEventTime.
func maxEvents(ps []dataflow.Pane) map[string]dataflow.Time {
	m := map[string]dataflow.Time{}
	for _, p := range ps {
		m[p.Window.String()+" "+p.Key] = p.MaxEventTime
	}
	return m
}

// TestWindowOperatorAddAt: AddAt windows, triggers and judges lateness by
// the record's window time (its TimeCol value), while its panes'
// MaxEventTime is the largest eventTime given, kept through a snapshot;
// eventTime MinTime is Add.
func TestWindowOperatorAddAt(t *testing.T) {
	h := newOpHarness(t, dataflow.Aggregation{
		Key: []string{"k"}, Window: dataflow.FixedWindows(10 * time.Millisecond), TimeCol: "t",
		Aggs: []dataflow.Agg{dataflow.Count()},
	})
	// Windowed at 9 (a join_time), contributing 3 and 5.
	assert.False(t, h.op.AddAt(opRow("a", 9, 0), 1e6, 3))
	assert.False(t, h.op.AddAt(opRow("a", 9, 0), 2e6, 5))
	// Contributing times do not pick the window: 12 goes to [10, 20)
	// although it contributes 4.
	assert.False(t, h.op.AddAt(opRow("a", 12, 0), 3e6, 4))
	// MinTime: the window time, as Add.
	assert.False(t, h.op.AddAt(opRow("b", 7, 0), 0, dataflow.MinTime))
	assert.False(t, h.op.Add(opRow("c", 6, 0), 0))
	h.op.AdvanceWatermark(10)
	assert.Equal(t, map[string]dataflow.Time{"[0, 10) a": 5, "[0, 10) b": 7, "[0, 10) c": 6}, maxEvents(h.panes))
	assert.Equal(t, int64(2e6), h.panes[0].MaxIngestNanos)
	// Lateness follows the window time: a record windowed at 8 is late at
	// watermark 10 whatever it contributes.
	assert.True(t, h.op.AddAt(opRow("a", 8, 0), 0, 50), "late by its window time")
	assert.Len(t, h.late, 1)

	// A snapshot keeps the open window's MaxEventTime (4, not 12).
	b, err := h.op.AppendSnapshot(nil)
	require.NoError(t, err)
	r := newOpHarness(t, dataflow.Aggregation{
		Key: []string{"k"}, Window: dataflow.FixedWindows(10 * time.Millisecond), TimeCol: "t",
		Aggs: []dataflow.Agg{dataflow.Count()},
	})
	require.NoError(t, r.op.Restore(b))
	r.op.Finish()
	require.Len(t, r.panes, 1)
	assert.Equal(t, dataflow.Time(4), r.panes[0].MaxEventTime)
	assert.Equal(t, dataflow.Int(1), r.panes[0].Value)

	// No allocation once the window exists, as Add.
	h.op.AddAt(opRow("z", 31, 0), 0, 20)
	row := opRow("z", 32, 0)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { h.op.AddAt(row, 0, 25) }))
}

// TestWindowOperatorAddAtWindowKinds: sessions (also when they merge),
// sliding, count and discarding panes take MaxEventTime from AddAt's
// eventTime too.
func TestWindowOperatorAddAtWindowKinds(t *testing.T) {
	agg := func(win dataflow.WindowFn) dataflow.Aggregation {
		return dataflow.Aggregation{Key: []string{"k"}, Window: win, TimeCol: "t", Aggs: []dataflow.Agg{dataflow.Count()}}
	}
	t.Run("session", func(t *testing.T) {
		h := newOpHarness(t, agg(dataflow.SessionWindows(5*time.Millisecond)))
		h.op.AddAt(opRow("a", 100, 0), 0, 40)
		h.op.AddAt(opRow("a", 108, 0), 0, 30)
		h.op.AddAt(opRow("a", 104, 0), 0, 20) // merges [100, 105) and [108, 113)
		h.op.Finish()
		assert.Equal(t, map[string]dataflow.Time{"[100, 113) a": 40}, maxEvents(h.panes))
	})
	t.Run("sliding", func(t *testing.T) {
		h := newOpHarness(t, agg(dataflow.SlidingWindows(10*time.Millisecond, 5*time.Millisecond)))
		h.op.AddAt(opRow("a", 7, 0), 0, 2)
		h.op.Finish()
		assert.Equal(t, map[string]dataflow.Time{"[0, 10) a": 2, "[5, 15) a": 2}, maxEvents(h.panes))
	})
	t.Run("count", func(t *testing.T) {
		h := newOpHarness(t, agg(dataflow.CountWindows(2, 2)))
		h.op.AddAt(opRow("a", 70, 0), 0, 8)
		h.op.AddAt(opRow("a", 60, 0), 0, 9)
		require.Len(t, h.panes, 1)
		assert.Equal(t, dataflow.Time(9), h.panes[0].MaxEventTime)
	})
	t.Run("discarding", func(t *testing.T) {
		a := agg(dataflow.FixedWindows(10 * time.Millisecond))
		a.Accumulation = dataflow.Discarding
		a.Trigger = dataflow.Trigger{AfterCount: 1}
		h := newOpHarness(t, a)
		h.op.AddAt(opRow("a", 9, 0), 0, 6)
		h.op.AddAt(opRow("a", 9, 0), 0, 2)
		h.op.Finish()
		var got []dataflow.Time
		for _, p := range h.panes {
			got = append(got, p.MaxEventTime)
		}
		// Each discarding pane covers the records since the last one; the
		// closing on-time pane has none.
		assert.Equal(t, []dataflow.Time{6, 2, dataflow.MinTime}, got)
	})
}

// TestRegroupOperatorAddRowEvent: a regroup result's MaxEventTime is the
// largest event time given for its window and key, not the window's end -
// 1 (which stays for keys given none), and snapshots keep it; version 1
// snapshots (before event times) still restore.
func TestRegroupOperatorAddRowEvent(t *testing.T) {
	p := q4Pipeline(dataflow.FixedWindows(10 * time.Millisecond))
	last, err := p.Last()
	require.NoError(t, err)
	var got []dataflow.Pane
	mk := func() *dataflow.RegroupOperator {
		op, err := dataflow.NewRegroupOperator(p.Agg, p.Then, last, dataflow.RegroupConfig{Emit: func(pn dataflow.Pane) { got = append(got, pn) }})
		require.NoError(t, err)
		return op
	}
	// First-stage rows: id, category, final, count.
	row := func(id, cat, final int64) dataflow.Row {
		return dataflow.Row{dataflow.Int(id), dataflow.Int(cat), dataflow.Int(final), dataflow.Int(1)}
	}
	op := mk()
	assert.False(t, op.AddRowEvent(w(0, 10), row(1, 0, 5), 7, 3))
	assert.False(t, op.AddRowEvent(w(0, 10), row(2, 0, 9), 8, 6))
	assert.False(t, op.AddRowEvent(w(0, 10), row(3, 0, 1), 9, 4))
	assert.False(t, op.AddRowEvent(w(0, 10), row(4, 1, 2), 1, 2))
	assert.False(t, op.AddRowAt(w(0, 10), row(5, 2, 2), 1))
	assert.False(t, op.AddRowEvent(w(10, 20), row(6, 0, 2), 1, 11))
	b, err := op.AppendSnapshot(nil)
	require.NoError(t, err)
	op.Finish()
	want := map[string]dataflow.Time{"[0, 10) 0": 6, "[0, 10) 1": 2, "[0, 10) 2": 9, "[10, 20) 0": 11}
	assert.Equal(t, want, maxEvents(got))
	assert.Equal(t, int64(9), got[0].MaxIngestNanos)

	got = nil
	op = mk()
	require.NoError(t, op.Restore(b))
	op.Finish()
	assert.Equal(t, want, maxEvents(got), "after a snapshot")

	// A version 1 snapshot has no event times: its keys fire at the
	// window's end - 1. Made from a version 2 one of a key given none, by
	// taking its MinTime out.
	got = nil
	op = mk()
	op.AddRowAt(w(0, 10), row(1, 0, 5), 7)
	b, err = op.AppendSnapshot(nil)
	require.NoError(t, err)
	v1 := v1RegroupSnapshot(t, b)
	got = nil
	op = mk()
	require.NoError(t, op.Restore(v1))
	op.Finish()
	assert.Equal(t, map[string]dataflow.Time{"[0, 10) 0": 9}, maxEvents(got))
	require.Len(t, got, 1)
	assert.Equal(t, dataflow.Float(5), got[0].Value, "the version 1 accumulators")
}

// v1RegroupSnapshot turns a version 2 regroup snapshot of one window with
// one key given no event time into version 1.
func v1RegroupSnapshot(t *testing.T, b []byte) []byte {
	t.Helper()
	d := wire.NewDecoder(b)
	d.Next(4)
	require.Equal(t, byte(2), d.Byte(), "version")
	d.Uvarint() // aggregates
	for range 4 {
		d.Varint() // wm, rows, late, panes
	}
	require.Equal(t, uint64(1), d.Uvarint(), "windows")
	for range 3 {
		d.Varint() // start, end, maxIngest
	}
	require.Equal(t, uint64(1), d.Uvarint(), "keys")
	_ = d.String() // the key
	require.NoError(t, d.Err())
	at := len(b) - d.Len()
	minTime := wire.AppendVarint(nil, int64(dataflow.MinTime))
	require.True(t, bytes.HasPrefix(b[at:], minTime), "the key's maxEvent is MinTime")
	v1 := append(slices.Clone(b[:at]), b[at+len(minTime):]...)
	v1[4] = 1
	return v1
}

// TestChainEventTimeQ4: Nexmark q4's shape through the pure operators (a
// windowed join of auctions and bids, the max price per auction, the mean
// per category): each category's result carries the largest event time of
// the auctions and bids that joined into it, not the join_time (the
// window's end - 1 ms) that windows the joined rows.
func TestChainEventTimeQ4(t *testing.T) {
	p := q4Pipeline(dataflow.FixedWindows(10 * time.Millisecond))
	in := recs(
		auction(1, 0, 1), bid(1, 5, 3), bid(1, 7, 6), // pairs contribute 3 and 6
		auction(2, 0, 2), bid(2, 4, 4), // 4
		auction(3, 1, 5), bid(3, 9, 2), // 5: the auction is the later row
		auction(4, 1, 11), bid(4, 3, 12), // 12, in [10, 20)
		bid(9, 1, 8), // joins nothing
	)
	c := newChain(t, p)
	for _, it := range sideRows(t, p, in) {
		c.curOff = it.rec.Offset
		c.join.Add(it.side, it.row, it.rec.IngestNanos)
	}
	c.advance(dataflow.MaxTime)
	assert.Equal(t, map[string]dataflow.Time{"[0, 10) 0": 6, "[0, 10) 1": 5, "[10, 20) 1": 12}, maxEvents(c.panes))
	want, err := dataflow.Reference(p, sliceSeq(in), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	dataflow.SortResults(c.got)
	assert.Equal(t, want, c.got)
}
