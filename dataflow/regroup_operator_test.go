package dataflow_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// q4Pipeline: the join of auctions and bids in windows, the max price per
// auction (and category) per window, then the mean per category.
func q4Pipeline(win dataflow.WindowFn) *dataflow.Pipeline {
	p := joinPipeline(nxJoin(win)).Aggregate(dataflow.Aggregation{
		Key:     []string{"id", "category"},
		Window:  win,
		TimeCol: "join_time",
		Aggs:    []dataflow.Agg{dataflow.Max("price").Named("final"), dataflow.Count()},
	})
	p.Then = &dataflow.Regroup{Key: []string{"category"}, Aggs: []dataflow.Agg{dataflow.Mean("final"), dataflow.MaxBy("id", "final"), dataflow.Sum("count")}}
	return p
}

// q5Pipeline: bids per auction per window, then the hottest auction.
func q5Pipeline(win dataflow.WindowFn, having bool) *dataflow.Pipeline {
	p := dataflow.NewPipeline("q5", nxSchema).
		Filter(dataflow.Eq(dataflow.Col("kind"), dataflow.LitStr("b"))).
		Aggregate(dataflow.Aggregation{Key: []string{"auction"}, Window: win, TimeCol: "t",
			Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("price")}})
	p.Then = &dataflow.Regroup{Aggs: []dataflow.Agg{dataflow.MaxBy("auction", "count"), dataflow.Max("count"), dataflow.Mean("sum_price")}}
	if having {
		p.Then.Having = dataflow.Gt(dataflow.Col("max_count"), dataflow.LitInt(1))
	}
	return p
}

// chain runs a pipeline with a Regroup through the pure operators: an
// optional JoinOperator, the WindowOperator (with KeyRow) and the
// RegroupOperator, forwarding each stage's output before the watermark
// that caused it, as a runtime must, with each joined row's contributing
// event time (WindowOperator.AddAt) and each first-stage pane's
// MaxEventTime (RegroupOperator.AddRowEvent).
type chain struct {
	t      testing.TB
	p      *dataflow.Pipeline
	join   *dataflow.JoinOperator
	win    *dataflow.WindowOperator
	reg    *dataflow.RegroupOperator
	got    []dataflow.Result
	panes  []dataflow.Pane // the regroup's, with got
	late   map[int64]bool  // offsets of late records
	curOff int64
	resRow dataflow.Row
}

func newChain(t testing.TB, p *dataflow.Pipeline) *chain {
	c := &chain{t: t, p: p, late: map[int64]bool{}}
	c.build()
	return c
}

func (c *chain) build() {
	t, p := c.t, c.p
	last, err := p.Last()
	require.NoError(t, err)
	c.reg, err = dataflow.NewRegroupOperator(p.Agg, p.Then, last, dataflow.RegroupConfig{
		Emit: func(pn dataflow.Pane) {
			require.Equal(t, dataflow.PaneOnTime, pn.Timing)
			c.got = append(c.got, pn.Result)
			c.panes = append(c.panes, pn)
		},
		Late: func(w dataflow.Window, _ dataflow.Row) {
			t.Fatalf("regroup row for fired window %v: the chain forwards before the watermark", w)
		},
	})
	require.NoError(t, err)
	c.win, err = dataflow.NewWindowOperator(p.Agg, last, dataflow.OperatorConfig{
		KeyRow: true,
		Emit: func(pn dataflow.Pane) {
			require.Equal(t, dataflow.PaneOnTime, pn.Timing)
			c.resRow = dataflow.AppendResultRow(c.resRow[:0], pn)
			c.reg.AddRowEvent(pn.Window, c.resRow, pn.MaxIngestNanos, pn.MaxEventTime)
		},
		Late: func(dataflow.Row, int64) { c.late[c.curOff] = true },
	})
	require.NoError(t, err)
	if p.Join != nil {
		js, err := p.JoinSchemas()
		require.NoError(t, err)
		c.join, err = dataflow.NewJoinOperator(p.Join, js.Left[len(js.Left)-1], js.Right[len(js.Right)-1], dataflow.JoinConfig{
			Emit: func(row dataflow.Row, maxEvent dataflow.Time, ing int64) {
				require.False(t, c.win.AddAt(row, ing, maxEvent), "a joined row is never late for the aggregation")
			},
			Late: func(int, dataflow.Row, int64) { c.late[c.curOff] = true },
		})
		require.NoError(t, err)
	}
}

func (c *chain) advance(w dataflow.Time) {
	if c.join != nil {
		c.join.AdvanceWatermark(w)
	}
	c.win.AdvanceWatermark(w)
	c.reg.AdvanceWatermark(w)
}

// snapshot replaces every operator by a restored copy.
func (c *chain) snapshot() {
	var jb []byte
	var err error
	if c.join != nil {
		jb, err = c.join.AppendSnapshot(nil)
		require.NoError(c.t, err)
	}
	wb, err := c.win.AppendSnapshot(nil)
	require.NoError(c.t, err)
	rb, err := c.reg.AppendSnapshot(nil)
	require.NoError(c.t, err)
	c.build()
	if c.join != nil {
		require.NoError(c.t, c.join.Restore(jb))
	}
	require.NoError(c.t, c.win.Restore(wb))
	require.NoError(c.t, c.reg.Restore(rb))
}

func runRegroupProperty(t testing.TB, r *rand.Rand, p *dataflow.Pipeline, in []dataflow.Record, snapshots bool) {
	c := newChain(t, p)
	// Side rows of the join, or rows of the aggregation (side -1).
	var items []sideRow
	if p.Join != nil {
		items = sideRows(t, p, in)
	} else {
		require.NoError(t, dataflow.AggregationInput(p, sliceSeq(in), func(rec dataflow.Record, tm dataflow.Time, row dataflow.Row) {
			items = append(items, sideRow{rec, -1, tm, slices.Clone(row)})
		}))
	}
	r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	wm := dataflow.MinTime
	for _, it := range items {
		c.curOff = it.rec.Offset
		if it.side >= 0 {
			c.join.Add(it.side, it.row, it.rec.IngestNanos)
		} else {
			c.win.Add(it.row, it.rec.IngestNanos)
		}
		if r.IntN(4) == 0 {
			wm = max(wm, it.t-dataflow.Time(r.Int64N(25)))
			c.advance(wm)
		}
		if snapshots && r.IntN(10) == 0 {
			c.snapshot()
		}
	}
	c.advance(dataflow.MaxTime)
	want, err := dataflow.Reference(p, sliceSeq(in), dataflow.ReferenceOptions{Exclude: func(_ int, off int64) bool { return c.late[off] }})
	require.NoError(t, err)
	dataflow.SortResults(c.got)
	require.Equal(t, want, c.got, "%d late records", len(c.late))
	require.Equal(t, int64(0), c.reg.Stats().OpenGroups)
	require.Equal(t, int64(len(c.got)), c.reg.Stats().Panes)
	for _, pn := range c.panes {
		// Every result has records, whose event times (a joined row's
		// side rows' too) lie before its window's end.
		require.NotEqual(t, dataflow.MinTime, pn.MaxEventTime, "%v", pn.Result)
		require.Less(t, pn.MaxEventTime, pn.Window.End, "%v", pn.Result)
	}
}

func TestRegroupOperatorProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	wins := []dataflow.WindowFn{dataflow.FixedWindows(10 * time.Millisecond), dataflow.SlidingWindows(10*time.Millisecond, 5*time.Millisecond)}
	for i := range 200 {
		win := wins[r.IntN(len(wins))]
		var p *dataflow.Pipeline
		if i%2 == 0 {
			p = q4Pipeline(win)
		} else {
			p = q5Pipeline(win, r.IntN(2) == 0)
		}
		runRegroupProperty(t, r, p, randomNexmark(r, 1+r.IntN(60)), i%3 == 0)
	}
}

func TestRegroupOperatorEdges(t *testing.T) {
	p := q5Pipeline(dataflow.FixedWindows(10*time.Millisecond), false)
	last, err := p.Last()
	require.NoError(t, err)
	var got []dataflow.Pane
	var late []dataflow.Window
	op, err := dataflow.NewRegroupOperator(p.Agg, p.Then, last, dataflow.RegroupConfig{
		Emit: func(pn dataflow.Pane) { got = append(got, pn) },
		Late: func(w dataflow.Window, _ dataflow.Row) { late = append(late, w) },
	})
	require.NoError(t, err)
	row := func(auc, count, sum int64) dataflow.Row {
		return dataflow.Row{dataflow.Int(auc), dataflow.Int(count), dataflow.Int(sum)}
	}
	assert.False(t, op.AddRowAt(w(0, 10), row(1, 3, 30), 7))
	assert.False(t, op.AddRow(w(0, 10), row(2, 3, 10)))
	assert.False(t, op.AddRow(w(10, 20), row(2, 1, 5)))
	assert.Equal(t, int64(2), op.Stats().OpenGroups, "one key (the empty key) per window")
	op.AdvanceWatermark(9)
	assert.Empty(t, got)
	op.AdvanceWatermark(10)
	require.Len(t, got, 1)
	assert.Equal(t, dataflow.Pane{Result: res(0, 10, "", dataflow.Int(1), dataflow.Int(3), dataflow.Float(20)),
		Timing: dataflow.PaneOnTime, MaxEventTime: 9, MaxIngestNanos: 7}, got[0])
	assert.True(t, op.AddRow(w(0, 10), row(3, 9, 9)), "a row for a fired window is late")
	assert.Equal(t, []dataflow.Window{w(0, 10)}, late)
	op.Finish()
	require.Len(t, got, 2)
	assert.Equal(t, res(10, 20, "", dataflow.Int(2), dataflow.Int(1), dataflow.Float(5)), got[1].Result)
	assert.Equal(t, dataflow.RegroupStats{Rows: 4, Late: 1, Panes: 2}, op.Stats())

	_, err = dataflow.NewRegroupOperator(p.Agg, &dataflow.Regroup{Key: []string{"nope"}, Aggs: []dataflow.Agg{dataflow.Count()}}, last, dataflow.RegroupConfig{})
	assert.Error(t, err)
	disc := *p.Agg
	disc.Accumulation = dataflow.Discarding
	_, err = dataflow.NewRegroupOperator(&disc, p.Then, last, dataflow.RegroupConfig{})
	assert.ErrorContains(t, err, "fires once per window")
}

func TestRegroupOperatorRestoreRefuses(t *testing.T) {
	p := q5Pipeline(dataflow.FixedWindows(10*time.Millisecond), false)
	last, err := p.Last()
	require.NoError(t, err)
	op, err := dataflow.NewRegroupOperator(p.Agg, p.Then, last, dataflow.RegroupConfig{})
	require.NoError(t, err)
	op.AddRow(w(0, 10), dataflow.Row{dataflow.Int(1), dataflow.Int(3), dataflow.Int(30)})
	b, err := op.AppendSnapshot(nil)
	require.NoError(t, err)
	fresh, err := dataflow.NewRegroupOperator(p.Agg, p.Then, last, dataflow.RegroupConfig{})
	require.NoError(t, err)
	for n := range len(b) {
		assert.ErrorIs(t, fresh.Restore(b[:n]), dataflow.ErrCorruptState, "truncated at %d", n)
	}
	assert.ErrorIs(t, fresh.Restore(append(slices.Clone(b), 1)), dataflow.ErrCorruptState)
	assert.Equal(t, dataflow.RegroupStats{}, fresh.Stats())
	require.NoError(t, fresh.Restore(b))
	assert.Equal(t, op.Stats(), fresh.Stats())
}

func TestRegroupOperatorAddAllocs(t *testing.T) {
	p := q5Pipeline(dataflow.FixedWindows(10*time.Millisecond), false)
	last, err := p.Last()
	require.NoError(t, err)
	op, err := dataflow.NewRegroupOperator(p.Agg, p.Then, last, dataflow.RegroupConfig{})
	require.NoError(t, err)
	row := dataflow.Row{dataflow.Int(1), dataflow.Int(3), dataflow.Int(30)}
	op.AddRow(w(0, 10), row)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { op.AddRow(w(0, 10), row) }))
}

// TestWindowOperatorKeyRow: with OperatorConfig.KeyRow every pane carries
// its key's column values, through a snapshot too; a snapshot restores
// only into an operator with the same setting.
func TestWindowOperatorKeyRow(t *testing.T) {
	p := q5Pipeline(dataflow.FixedWindows(10*time.Millisecond), false)
	last, err := p.Last()
	require.NoError(t, err)
	var panes []dataflow.Pane
	mk := func(keyRow bool) *dataflow.WindowOperator {
		op, err := dataflow.NewWindowOperator(p.Agg, last, dataflow.OperatorConfig{KeyRow: keyRow, Emit: func(pn dataflow.Pane) { panes = append(panes, pn) }})
		require.NoError(t, err)
		return op
	}
	op := mk(true)
	op.Add(bid(7, 2, 1), 0)
	op.Add(bid(7, 3, 12), 0)
	b, err := op.AppendSnapshot(nil)
	require.NoError(t, err)
	assert.ErrorIs(t, mk(false).Restore(b), dataflow.ErrCorruptState)
	plain := mk(false)
	plainSnap, err := plain.AppendSnapshot(nil)
	require.NoError(t, err)
	assert.ErrorIs(t, op.Restore(plainSnap), dataflow.ErrCorruptState)
	op = mk(true)
	require.NoError(t, op.Restore(b))
	op.Finish()
	require.Len(t, panes, 2)
	for _, pn := range panes {
		assert.Equal(t, dataflow.Row{dataflow.Int(7)}, pn.KeyRow)
	}
	assert.Equal(t, dataflow.Row{dataflow.Int(7), dataflow.Int(1), dataflow.Int(2)}, dataflow.AppendResultRow(nil, panes[0]))
}

// FuzzRegroupSnapshot: Restore of arbitrary bytes never panics and either
// fails with ErrCorruptState or gives a working operator.
func FuzzRegroupSnapshot(f *testing.F) {
	p := q5Pipeline(dataflow.FixedWindows(10*time.Millisecond), true)
	last, err := p.Last()
	require.NoError(f, err)
	op, err := dataflow.NewRegroupOperator(p.Agg, p.Then, last, dataflow.RegroupConfig{})
	require.NoError(f, err)
	op.AddRow(w(0, 10), dataflow.Row{dataflow.Int(1), dataflow.Int(3), dataflow.Int(30)})
	op.AddRow(w(10, 20), dataflow.Row{dataflow.Int(2), dataflow.Int(2), dataflow.Int(3)})
	snap, err := op.AppendSnapshot(nil)
	require.NoError(f, err)
	f.Add(snap)
	f.Add(snap[:len(snap)/2])
	f.Add([]byte("ROPS\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		op, err := dataflow.NewRegroupOperator(p.Agg, p.Then, last, dataflow.RegroupConfig{})
		require.NoError(t, err)
		if err := op.Restore(b); err != nil {
			require.ErrorIs(t, err, dataflow.ErrCorruptState)
			return
		}
		op.AddRow(w(100, 110), dataflow.Row{dataflow.Int(1), dataflow.Int(3), dataflow.Int(30)})
		op.Finish()
		require.Zero(t, op.Stats().OpenGroups)
	})
}
