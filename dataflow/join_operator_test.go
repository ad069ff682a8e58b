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

// sideRow is one join side row with the record it came from.
type sideRow struct {
	rec  dataflow.Record
	side int
	t    dataflow.Time
	row  dataflow.Row
}

// sideRows runs p's shared and side steps over rs (JoinInput).
func sideRows(t testing.TB, p *dataflow.Pipeline, rs []dataflow.Record) []sideRow {
	t.Helper()
	var out []sideRow
	require.NoError(t, dataflow.JoinInput(p, sliceSeq(rs), func(rec dataflow.Record, side int, tm dataflow.Time, row dataflow.Row) {
		rec.Row = nil
		out = append(out, sideRow{rec, side, tm, slices.Clone(row)})
	}))
	return out
}

// joinHarness runs a JoinOperator over side rows and records what it emits
// as results of the pipeline's Output (key id, value price, every joined
// column as extra).
type joinHarness struct {
	t      testing.TB
	p      *dataflow.Pipeline
	op     *dataflow.JoinOperator
	keyIdx []int
	valIdx int
	aT, bT int // the sides' event times in the joined row
	// arbitrary: the state was restored from arbitrary bytes, whose rows'
	// event times need not be their a_t and b_t.
	arbitrary bool
	got       []dataflow.Result
	late      []sideRow
	cur       sideRow
}

// joinedCols are the joined row's columns of nxJoin.
func joinedCols(j *dataflow.Join) []string {
	cols := []string{"id", "category", "a_t", "price", "b_t"}
	if j.Windowed() {
		cols = append(cols, dataflow.JoinWindowStartCol, dataflow.JoinWindowEndCol)
	}
	return append(cols, dataflow.JoinTimeCol)
}

func newJoinHarness(t testing.TB, j *dataflow.Join) *joinHarness {
	t.Helper()
	p := joinPipeline(j).Output([]string{"id"}, "price", joinedCols(j)...)
	h := &joinHarness{t: t, p: p}
	h.op = h.newOp()
	js, err := p.JoinSchemas()
	require.NoError(t, err)
	h.keyIdx = []int{js.Joined[0].Index("id")}
	h.valIdx = js.Joined[0].Index("price")
	h.aT, h.bT = js.Joined[0].Index("a_t"), js.Joined[0].Index("b_t")
	return h
}

func (h *joinHarness) newOp() *dataflow.JoinOperator {
	js, err := h.p.JoinSchemas()
	require.NoError(h.t, err)
	op, err := dataflow.NewJoinOperator(h.p.Join, js.Left[len(js.Left)-1], js.Right[len(js.Right)-1], dataflow.JoinConfig{
		Emit: func(row dataflow.Row, maxEvent dataflow.Time, _ int64) {
			// The largest event time that contributed: the later side row's.
			if !h.arbitrary {
				require.Equal(h.t, max(row[h.aT].Time(), row[h.bT].Time()), maxEvent, "the joined row's event time")
			}
			h.got = append(h.got, dataflow.Result{Key: string(dataflow.AppendKey(nil, row, h.keyIdx)), Value: row[h.valIdx], Extra: slices.Clone(row)})
		},
		Late: func(side int, row dataflow.Row, _ int64) {
			require.Equal(h.t, h.cur.side, side)
			h.late = append(h.late, h.cur)
		},
	})
	require.NoError(h.t, err)
	return op
}

func (h *joinHarness) add(r sideRow) bool {
	h.cur = r
	return h.op.Add(r.side, r.row, r.rec.IngestNanos)
}

// take returns and forgets what was emitted so far, sorted.
func (h *joinHarness) take() []dataflow.Result {
	g := h.got
	h.got = nil
	dataflow.SortResults(g)
	return g
}

// want is the reference over rs minus the late side rows.
func (h *joinHarness) want(rs []dataflow.Record) []dataflow.Result {
	late := map[int64]bool{}
	for _, l := range h.late {
		late[l.rec.Offset] = true
	}
	want, err := dataflow.Reference(h.p, sliceSeq(rs), dataflow.ReferenceOptions{Exclude: func(_ int, off int64) bool { return late[off] }})
	require.NoError(h.t, err)
	return want
}

func TestJoinOperatorWindowEdges(t *testing.T) {
	j := nxJoin(dataflow.FixedWindows(10 * time.Millisecond))
	j.AllowedLateness = 5 * time.Millisecond
	h := newJoinHarness(t, j)
	in := recs(auction(1, 7, 9), bid(1, 5, 9), bid(1, 6, 5), bid(1, 8, 10), auction(2, 7, 3), bid(2, 1, 4))
	rows := sideRows(t, h.p, in)
	require.Len(t, rows, 6)

	assert.False(t, h.add(rows[0]))
	assert.False(t, h.add(rows[1]))
	h.op.AdvanceWatermark(9) // end - 1: not yet
	assert.Empty(t, h.take())
	h.op.AdvanceWatermark(10) // end: the pair fires
	got := h.take()
	require.Len(t, got, 1)
	assert.Equal(t, dataflow.Int(5), got[0].Value)
	assert.Equal(t, []dataflow.Value{ts(0), ts(10), ts(9)}, got[0].Extra[5:], "window_start, window_end, join_time = end - 1")

	// Within the lateness (W = end + L - 1): a right row joins the kept
	// left row at once.
	h.op.AdvanceWatermark(14)
	assert.False(t, h.op.IsLateTime(dataflow.JoinRight, 5))
	assert.False(t, h.add(rows[2]))
	got = h.take()
	require.Len(t, got, 1, "a row accepted within lateness joins kept rows at once")
	assert.Equal(t, dataflow.Int(6), got[0].Value)
	// t = end is the next window, not fired: no pair yet.
	assert.False(t, h.add(rows[3]))
	assert.Empty(t, h.take())
	assert.Equal(t, int64(4), h.op.Stats().HeldRows)

	// At W = end + L the window's rows are dropped, and rows for it late
	// on either side.
	h.op.AdvanceWatermark(15)
	assert.Equal(t, int64(1), h.op.Stats().HeldRows, "only the bid at t=10 is held")
	assert.True(t, h.op.IsLateTime(dataflow.JoinLeft, 9))
	assert.True(t, h.op.IsLateTime(dataflow.JoinRight, 9))
	assert.False(t, h.op.IsLateTime(dataflow.JoinLeft, 10))
	assert.True(t, h.add(rows[4]))
	assert.True(t, h.add(rows[5]))
	st := h.op.Stats()
	assert.Equal(t, [2]int64{1, 1}, st.Late)
	assert.Equal(t, [2]int64{2, 4}, st.Rows)
	assert.Equal(t, int64(2), st.Emitted)
	require.Len(t, h.late, 2)
	assert.Equal(t, []int{dataflow.JoinLeft, dataflow.JoinRight}, []int{h.late[0].side, h.late[1].side})
	h.op.Finish()
	assert.Empty(t, h.take())
	assert.Equal(t, int64(0), h.op.Stats().HeldRows)
	assert.Equal(t, dataflow.MaxTime, h.op.Watermark())
}

func TestJoinOperatorSlidingTwice(t *testing.T) {
	h := newJoinHarness(t, nxJoin(dataflow.SlidingWindows(10*time.Millisecond, 5*time.Millisecond)))
	in := recs(auction(1, 7, 1), bid(1, 5, 3))
	for _, r := range sideRows(t, h.p, in) {
		h.add(r)
	}
	h.op.AdvanceWatermark(5)
	assert.Len(t, h.take(), 1, "[-5,5) fires at 5")
	h.op.Finish()
	assert.Len(t, h.take(), 1, "[0,10) at the end")
}

func TestJoinOperatorIncrementalOrderFree(t *testing.T) {
	in := recs(auction(1, 7, 10), bid(1, 5, 3), bid(1, 6, 30), auction(2, 8, 1), bid(2, 9, 2), auction(1, 9, 20))
	var first []dataflow.Result
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		h := newJoinHarness(t, nxJoin(dataflow.WindowFn{}))
		rows := sideRows(t, h.p, in)
		r.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		for _, row := range rows {
			assert.False(t, h.add(row), "nothing is late in an incremental join")
			h.op.AdvanceWatermark(dataflow.Time(r.Int64N(100)))
		}
		got := h.take()
		assert.Equal(t, h.want(in), got)
		assert.Len(t, got, 5)
		if first == nil {
			first = got
		}
		assert.Equal(t, first, got)
		h.op.Finish()
		assert.Empty(t, h.take(), "Finish emits nothing more")
		assert.Equal(t, int64(len(rows)), h.op.Stats().HeldRows, "an incremental join keeps its rows")
	}
}

func TestJoinOperatorSnapshotMidStream(t *testing.T) {
	for _, win := range []dataflow.WindowFn{dataflow.FixedWindows(10 * time.Millisecond), dataflow.SlidingWindows(10*time.Millisecond, 5*time.Millisecond), {}} {
		in := randomNexmark(rand.New(rand.NewPCG(5, 6)), 60)
		j := nxJoin(win)
		if j.Windowed() {
			j.AllowedLateness = 7 * time.Millisecond
		}
		plain, snap := newJoinHarness(t, j), newJoinHarness(t, j)
		rows := sideRows(t, plain.p, in)
		wm := dataflow.MinTime
		for i, r := range rows {
			plain.add(r)
			snap.add(r)
			if i%7 == 3 {
				wm = max(wm, r.t-5)
				plain.op.AdvanceWatermark(wm)
				snap.op.AdvanceWatermark(wm)
			}
			if i%11 == 5 {
				b, err := snap.op.AppendSnapshot(nil)
				require.NoError(t, err)
				snap.op = snap.newOp()
				require.NoError(t, snap.op.Restore(b))
				require.Equal(t, plain.op.Stats(), snap.op.Stats())
				require.Equal(t, plain.op.Watermark(), snap.op.Watermark())
			}
		}
		plain.op.Finish()
		snap.op.Finish()
		assert.Equal(t, plain.take(), snap.take(), "%v", win)
		assert.Equal(t, plain.late, snap.late)
	}
}

func TestJoinOperatorRestoreRefuses(t *testing.T) {
	h := newJoinHarness(t, nxJoin(dataflow.FixedWindows(10*time.Millisecond)))
	for _, r := range sideRows(t, h.p, recs(auction(1, 7, 1), bid(1, 5, 3))) {
		h.add(r)
	}
	b, err := h.op.AppendSnapshot(nil)
	require.NoError(t, err)
	other := newJoinHarness(t, nxJoin(dataflow.WindowFn{}))
	assert.ErrorIs(t, other.op.Restore(b), dataflow.ErrCorruptState, "a windowed join's state into an incremental one")
	fresh := h.newOp()
	for n := range len(b) {
		assert.ErrorIs(t, fresh.Restore(b[:n]), dataflow.ErrCorruptState, "truncated at %d", n)
	}
	assert.ErrorIs(t, fresh.Restore(append(slices.Clone(b), 0)), dataflow.ErrCorruptState)
	assert.Equal(t, dataflow.JoinStats{}, fresh.Stats(), "a failed restore leaves the state as it was")
	require.NoError(t, fresh.Restore(b))
	assert.Equal(t, h.op.Stats(), fresh.Stats())
}

// randomNexmark draws n auctions and bids over few ids and a short time
// range, so that keys and windows collide.
func randomNexmark(r *rand.Rand, n int) []dataflow.Record {
	rows := make([]dataflow.Row, n)
	for i := range rows {
		t := r.Int64N(60)
		if r.IntN(3) == 0 {
			rows[i] = auction(r.Int64N(5), r.Int64N(3), t)
		} else {
			rows[i] = bid(r.Int64N(6), r.Int64N(20), t)
		}
	}
	return recs(rows...)
}

// randomJoin picks a join shape.
func randomJoin(r *rand.Rand) *dataflow.Join {
	wins := []dataflow.WindowFn{
		{},
		dataflow.FixedWindows(10 * time.Millisecond),
		dataflow.SlidingWindows(10*time.Millisecond, 5*time.Millisecond),
		dataflow.SlidingWindows(15*time.Millisecond, 5*time.Millisecond).WithOffset(2 * time.Millisecond),
	}
	j := nxJoin(wins[r.IntN(len(wins))])
	if j.Windowed() {
		j.AllowedLateness = time.Duration(r.IntN(3)*6) * time.Millisecond
	}
	return j
}

// runJoinProperty feeds the side rows of in to a fresh operator in a
// random order with a random watermark schedule and checks the emitted
// rows against the reference minus the late rows (J5).
func runJoinProperty(t testing.TB, r *rand.Rand, j *dataflow.Join, in []dataflow.Record, snapshots bool) {
	h := newJoinHarness(t, j)
	rows := sideRows(t, h.p, in)
	r.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	wm := dataflow.MinTime
	for _, row := range rows {
		if late := h.op.IsLateTime(row.side, row.t); late != h.add(row) {
			t.Fatalf("IsLateTime(%d, %v) = %v, Add said otherwise", row.side, row.t, late)
		}
		if r.IntN(4) == 0 {
			wm = max(wm, row.t-dataflow.Time(r.Int64N(20)))
			h.op.AdvanceWatermark(wm)
		}
		if snapshots && r.IntN(8) == 0 {
			b, err := h.op.AppendSnapshot(nil)
			require.NoError(t, err)
			h.op = h.newOp()
			require.NoError(t, h.op.Restore(b))
		}
	}
	h.op.Finish()
	got := h.take()
	want := h.want(in)
	require.Equal(t, len(want), len(got), "emitted rows vs reference minus late rows (%d late)", len(h.late))
	require.Equal(t, want, got)
	st := h.op.Stats()
	require.Equal(t, int64(len(h.late)), st.Late[0]+st.Late[1])
	require.Equal(t, int64(len(got)), st.Emitted)
	if j.Windowed() {
		require.Equal(t, int64(0), st.HeldRows, "Finish drops every window")
	}
}

func TestJoinOperatorProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 300 {
		j := randomJoin(r)
		in := randomNexmark(r, 1+r.IntN(50))
		runJoinProperty(t, r, j, in, i%2 == 1)
	}
}

func TestJoinOperatorAddAllocs(t *testing.T) {
	for _, win := range []dataflow.WindowFn{dataflow.SlidingWindows(10*time.Millisecond, 5*time.Millisecond), {}} {
		h := newJoinHarness(t, nxJoin(win))
		rows := sideRows(t, h.p, recs(auction(1, 7, 1), bid(1, 5, 3)))
		// Nil Emit: measure the operator, not the harness.
		js, _ := h.p.JoinSchemas()
		op, err := dataflow.NewJoinOperator(h.p.Join, js.Left[len(js.Left)-1], js.Right[len(js.Right)-1], dataflow.JoinConfig{})
		require.NoError(t, err)
		op.Add(rows[0].side, rows[0].row, 0)
		op.Add(rows[1].side, rows[1].row, 0)
		allocs := testing.AllocsPerRun(1000, func() { op.Add(rows[1].side, rows[1].row, 0) })
		assert.Zero(t, allocs, "%v: Add of a row whose key and windows exist (amortized slice growth)", win)
	}
}

func TestNewJoinOperatorErrors(t *testing.T) {
	j := nxJoin(dataflow.FixedWindows(10 * time.Millisecond))
	js, err := joinPipeline(j).Output([]string{"id"}, "price").JoinSchemas()
	require.NoError(t, err)
	l, r := js.Left[len(js.Left)-1], js.Right[len(js.Right)-1]
	_, err = dataflow.NewJoinOperator(nil, l, r, dataflow.JoinConfig{})
	assert.Error(t, err)
	_, err = dataflow.NewJoinOperator(j, r, l, dataflow.JoinConfig{})
	assert.Error(t, err, "sides swapped: columns missing")
	bad := nxJoin(dataflow.SessionWindows(time.Second))
	_, err = dataflow.NewJoinOperator(bad, l, r, dataflow.JoinConfig{})
	assert.ErrorContains(t, err, "fixed, sliding or none")
	inc := nxJoin(dataflow.WindowFn{})
	inc.AllowedLateness = time.Second
	_, err = dataflow.NewJoinOperator(inc, l, r, dataflow.JoinConfig{})
	assert.Error(t, err)
}

// BenchmarkJoinOperatorAdd measures Add on a join of 100 keys, 10 rows per
// ms (a key has ~10 rows per 100 ms window, one in ten an auction), whose
// watermark follows the rows (so a windowed join's state stays bounded),
// with every joined row emitted to a no-op Emit. The allocations are those
// of new (window, key) states and of slice growth.
func BenchmarkJoinOperatorAdd(b *testing.B) {
	for _, win := range []dataflow.WindowFn{dataflow.FixedWindows(100 * time.Millisecond), dataflow.SlidingWindows(100*time.Millisecond, 50*time.Millisecond), {}} {
		b.Run("window="+win.String(), func(b *testing.B) {
			j := nxJoin(win)
			js, err := joinPipeline(j).Output([]string{"id"}, "price").JoinSchemas()
			require.NoError(b, err)
			op, err := dataflow.NewJoinOperator(j, js.Left[len(js.Left)-1], js.Right[len(js.Right)-1], dataflow.JoinConfig{Emit: func(dataflow.Row, dataflow.Time, int64) {}})
			require.NoError(b, err)
			const keys = 100
			left, right := auction(0, 1, 0), bid(0, 1, 0)
			left = append(left, ts(0)) // a_t
			right = append(right, ts(0))
			var i int64
			b.ReportAllocs()
			for b.Loop() {
				t := i / 10 // 10 rows per ms
				row, side := right, dataflow.JoinRight
				if (i/keys)%10 == 0 { // one auction per ten bids
					row, side = left, dataflow.JoinLeft
				}
				row[1], row[2], row[5], row[6] = dataflow.Int(i%keys), dataflow.Int(i%keys), ts(t), ts(t)
				op.Add(side, row, i)
				if win.Kind != dataflow.WindowNone && i%1000 == 0 {
					op.AdvanceWatermark(dataflow.Time(t - 1))
				}
				i++
			}
			b.ReportMetric(float64(op.Stats().Emitted)/float64(b.N), "joined/op")
		})
	}
}

// fuzzJoinInput decodes fuzz bytes into a join, its records in arrival
// order and a schedule: b[0] picks the join shape, b[1] the allowed
// lateness, then each 4 bytes (k, x, t, ctl) are one record (k odd: an
// auction of id x%5, category x/5%3; even: a bid on auction x%6 of price
// x/6%20; time t%60) followed, when ctl%4 == 0, by a watermark at t -
// (ctl/4)%25, and when ctl&4 != 0 by a snapshot and restore.
type fuzzStep struct {
	wm       dataflow.Time
	advance  bool
	snapshot bool
}

func fuzzJoinInput(b []byte) (*dataflow.Join, []dataflow.Record, []fuzzStep) {
	if len(b) < 2 {
		return nil, nil, nil
	}
	wins := []dataflow.WindowFn{
		{},
		dataflow.FixedWindows(10 * time.Millisecond),
		dataflow.SlidingWindows(10*time.Millisecond, 5*time.Millisecond),
		dataflow.SlidingWindows(15*time.Millisecond, 5*time.Millisecond).WithOffset(2 * time.Millisecond),
	}
	j := nxJoin(wins[int(b[0])%len(wins)])
	if j.Windowed() {
		j.AllowedLateness = time.Duration(int(b[1])%3*6) * time.Millisecond
	}
	var rows []dataflow.Row
	var steps []fuzzStep
	for b = b[2:]; len(b) >= 4 && len(rows) < 200; b = b[4:] {
		k, x, t, ctl := b[0], int64(b[1]), int64(b[2])%60, b[3]
		if k%2 == 1 {
			rows = append(rows, auction(x%5, x/5%3, t))
		} else {
			rows = append(rows, bid(x%6, x/6%20, t))
		}
		steps = append(steps, fuzzStep{wm: dataflow.Time(t - int64(ctl/4)%25), advance: ctl%4 == 0, snapshot: ctl&4 != 0})
	}
	return j, recs(rows...), steps
}

// FuzzJoinOperator checks J5 on inputs the fuzzer finds: the operator's
// rows equal the reference minus the late side rows, whatever the arrival
// order, watermarks and snapshots.
func FuzzJoinOperator(f *testing.F) {
	f.Add([]byte{1, 0, 1, 1, 3, 0, 0, 1, 5, 0, 0, 7, 12, 0, 1, 6, 40, 4})
	f.Add([]byte{2, 1, 1, 2, 9, 1, 0, 2, 3, 0, 0, 2, 30, 8, 0, 2, 4, 0})
	f.Add([]byte{0, 0, 0, 1, 3, 4, 1, 1, 9, 0, 0, 7, 1, 0})
	f.Add([]byte{3, 2, 1, 3, 20, 0, 0, 3, 21, 0, 0, 3, 2, 4, 1, 8, 59, 0, 0, 8, 58, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		j, in, steps := fuzzJoinInput(b)
		if j == nil {
			return
		}
		h := newJoinHarness(t, j)
		byOffset := map[int64][]sideRow{}
		for _, r := range sideRows(t, h.p, in) {
			byOffset[r.rec.Offset] = append(byOffset[r.rec.Offset], r)
		}
		wm := dataflow.MinTime
		for i, st := range steps {
			for _, r := range byOffset[int64(i)] {
				h.add(r)
			}
			if st.advance && st.wm > wm {
				wm = st.wm
				h.op.AdvanceWatermark(wm)
			}
			if st.snapshot {
				snap, err := h.op.AppendSnapshot(nil)
				require.NoError(t, err)
				stats := h.op.Stats()
				h.op = h.newOp()
				require.NoError(t, h.op.Restore(snap))
				require.Equal(t, stats, h.op.Stats())
			}
		}
		h.op.Finish()
		require.Equal(t, h.want(in), h.take())
	})
}

// FuzzJoinSnapshot: Restore of arbitrary bytes never panics and either
// fails with ErrCorruptState or gives a working operator.
func FuzzJoinSnapshot(f *testing.F) {
	shapes := []dataflow.WindowFn{{}, dataflow.FixedWindows(10 * time.Millisecond), dataflow.SlidingWindows(10*time.Millisecond, 5*time.Millisecond)}
	in := recs(auction(1, 7, 1), bid(1, 5, 3), bid(2, 6, 14), auction(2, 0, 12))
	for i, win := range shapes {
		j := nxJoin(win)
		if j.Windowed() {
			j.AllowedLateness = 5 * time.Millisecond
		}
		h := newJoinHarness(f, j)
		for _, r := range sideRows(f, h.p, in) {
			h.add(r)
		}
		h.op.AdvanceWatermark(11)
		snap, err := h.op.AppendSnapshot(nil)
		require.NoError(f, err)
		f.Add(uint8(i), snap)
		f.Add(uint8(i), snap[:len(snap)/2])
	}
	f.Add(uint8(0), []byte("JOPS\x01"))
	f.Add(uint8(1), []byte{})
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		j := nxJoin(shapes[int(which)%len(shapes)])
		if j.Windowed() {
			j.AllowedLateness = 5 * time.Millisecond
		}
		h := newJoinHarness(t, j)
		h.arbitrary = true
		if err := h.op.Restore(b); err != nil {
			require.ErrorIs(t, err, dataflow.ErrCorruptState)
			require.Equal(t, dataflow.JoinStats{}, h.op.Stats(), "a failed Restore leaves the state as it was")
			return
		}
		// A snapshot that restores must give a working operator.
		for _, r := range sideRows(t, h.p, in) {
			h.add(r)
		}
		h.op.AdvanceWatermark(h.op.Watermark() + 3)
		h.op.Finish()
		st := h.op.Stats()
		require.GreaterOrEqual(t, st.HeldRows, int64(0))
		if j.Windowed() {
			require.Zero(t, st.HeldRows)
		}
		_, err := h.op.AppendSnapshot(nil)
		require.NoError(t, err)
	})
}

// TestJoinOperatorSelfJoinCompositeKey: a self-join of bids on (auction,
// price parity), a two-column key, where every bid is offered to both
// sides: the operator's rows equal the reference minus the late records.
func TestJoinOperatorSelfJoinCompositeKey(t *testing.T) {
	side := func(as string, cols ...string) dataflow.JoinSide {
		return dataflow.JoinSide{
			Steps: []dataflow.Step{
				dataflow.FilterStep{Pred: dataflow.Eq(dataflow.Col("kind"), dataflow.LitStr("b"))},
				dataflow.MapStep{As: as, Expr: dataflow.Col("price")},
			},
			Key: []string{"auction", "parity"}, Cols: cols, TimeCol: "t",
		}
	}
	r := rand.New(rand.NewPCG(11, 12))
	pairs := 0
	for i := range 100 {
		p := dataflow.NewPipeline("self", nxSchema).Map("parity", dataflow.Mod(dataflow.Col("price"), dataflow.LitInt(2)))
		p.Join = &dataflow.Join{Left: side("l_price", "auction", "l_price"), Right: side("r_price", "r_price"),
			Window: dataflow.SlidingWindows(10*time.Millisecond, 5*time.Millisecond), AllowedLateness: time.Duration(i%3) * 4 * time.Millisecond}
		if i%4 == 0 {
			p.Join.Window, p.Join.AllowedLateness = dataflow.WindowFn{}, 0
		}
		cols := []string{"l_price", "r_price", dataflow.JoinTimeCol}
		if p.Join.Windowed() {
			cols = append(cols, dataflow.JoinWindowStartCol)
		}
		p.Output([]string{"auction"}, "l_price", cols...)
		js, err := p.JoinSchemas()
		require.NoError(t, err)
		joined := js.Joined[0]
		var got []dataflow.Result
		// One record reaches both sides, whose rows arrive apart: a late
		// left row says nothing of the right one (ExcludeSide).
		type sideOf struct {
			off  int64
			side int
		}
		late := map[sideOf]bool{}
		var cur sideRow
		op, err := dataflow.NewJoinOperator(p.Join, js.Left[len(js.Left)-1], js.Right[len(js.Right)-1], dataflow.JoinConfig{
			Emit: func(row dataflow.Row, _ dataflow.Time, _ int64) {
				res := dataflow.Result{Key: row[joined.Index("auction")].String(), Value: row[joined.Index("l_price")]}
				for _, c := range cols {
					res.Extra = append(res.Extra, row[joined.Index(c)])
				}
				got = append(got, res)
			},
			Late: func(side int, _ dataflow.Row, _ int64) { late[sideOf{cur.rec.Offset, side}] = true },
		})
		require.NoError(t, err)
		in := randomNexmark(r, 1+r.IntN(40))
		rows := sideRows(t, p, in)
		r.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		wm := dataflow.MinTime
		for _, row := range rows {
			cur = row
			op.Add(row.side, row.row, 0)
			if r.IntN(3) == 0 {
				wm = max(wm, row.t-dataflow.Time(r.Int64N(15)))
				op.AdvanceWatermark(wm)
			}
		}
		op.Finish()
		want, err := dataflow.Reference(p, sliceSeq(in), dataflow.ReferenceOptions{
			ExcludeSide: func(_ int, off int64, side int, _ string) (dataflow.Time, dataflow.Time, bool) {
				return dataflow.MinTime, dataflow.MaxTime, late[sideOf{off, side}]
			},
			// ExcludeSide replaces ExcludeWindows for side rows.
			ExcludeWindows: func(int, int64, string) (dataflow.Time, dataflow.Time, bool) {
				return dataflow.MinTime, dataflow.MaxTime, true
			},
		})
		require.NoError(t, err)
		dataflow.SortResults(got)
		require.Equal(t, want, got)
		pairs += len(want)
	}
	require.Greater(t, pairs, 100, "bids join themselves at least")
}
