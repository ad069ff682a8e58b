package microbatch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

var testSchema = dataflow.NewSchema(
	dataflow.Field{Name: "user", Kind: dataflow.KindString},
	dataflow.Field{Name: "page", Kind: dataflow.KindString},
	dataflow.Field{Name: "amount", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "score", Kind: dataflow.KindFloat64},
	dataflow.Field{Name: "ok", Kind: dataflow.KindBool},
	dataflow.Field{Name: "text", Kind: dataflow.KindString},
	dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
)

var pages = []string{"home", "cart", "buy", "search", "help", "about"}

// testT0 is the first ingest time of test logs (ms since the epoch).
const testT0 = 1_700_000_000_000

// testLog builds a closed log of n records over partitions, with ingest
// times spread over about spanMs and event times up to disorderMs behind
// ingest. Users are partitioned by hash, as the generators do.
func testLog(t testing.TB, seed uint64, n, partitions int, spanMs, disorderMs int64) *datasets.Log {
	t.Helper()
	l, err := datasets.NewLog(datasets.LogConfig{Schema: testSchema, Partitions: partitions, ChunkRows: 256})
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(seed, 7))
	ingest := make([]int64, partitions)
	for p := range ingest {
		ingest[p] = testT0 * 1e6
	}
	step := spanMs * 1e6 * int64(partitions) / int64(max(n, 1))
	a := l.Appender()
	words := []string{"go", "spark", "storm", "#a", "#b", "#c", "flink", "#d"}
	for i := range n {
		u := r.IntN(23)
		p := u % partitions
		ingest[p] += r.Int64N(2*step + 1)
		ms := ingest[p] / 1e6
		text := ""
		for k := range r.IntN(4) {
			if k > 0 {
				text += " "
			}
			text += words[r.IntN(len(words))]
		}
		row := dataflow.Row{
			dataflow.Str(fmt.Sprintf("u%02d", u)),
			dataflow.Str(pages[r.IntN(len(pages))]),
			dataflow.Int(r.Int64N(100) - 10),
			dataflow.Float(r.Float64() * 10),
			dataflow.Bool(r.IntN(3) != 0),
			dataflow.Str(text),
			dataflow.Timestamp(dataflow.Time(ms - r.Int64N(disorderMs+1))),
		}
		a.AppendRow(p, ingest[p], row)
		if i%97 == 0 {
			require.NoError(t, a.Flush())
		}
	}
	require.NoError(t, a.Flush())
	l.SetEventTimeShift(0)
	l.Close()
	return l
}

var pageTable = &dataflow.Table{
	Name:   "pages",
	Schema: dataflow.NewSchema(dataflow.Field{Name: "page", Kind: dataflow.KindString}, dataflow.Field{Name: "section", Kind: dataflow.KindString}, dataflow.Field{Name: "weight", Kind: dataflow.KindInt64}),
	Rows: []dataflow.Row{
		{dataflow.Str("home"), dataflow.Str("front"), dataflow.Int(1)},
		{dataflow.Str("cart"), dataflow.Str("shop"), dataflow.Int(5)},
		{dataflow.Str("buy"), dataflow.Str("shop"), dataflow.Int(9)},
		{dataflow.Str("search"), dataflow.Str("front"), dataflow.Int(2)},
		{dataflow.Str("help"), dataflow.Str("docs"), dataflow.Int(3)},
	},
}

// requireSameResults compares results as the check does: same windows and
// keys, values equal (floats within dataflow's tolerance).
func requireSameResults(t *testing.T, want, got []dataflow.Result) {
	t.Helper()
	require.Equal(t, len(want), len(got), "number of results: want %d, got %d\nwant %v\ngot  %v", len(want), len(got), head(want), head(got))
	for i := range want {
		w, g := want[i], got[i]
		ok := w.Window == g.Window && w.Key == g.Key && w.Value.ApproxEqual(g.Value) && len(w.Extra) == len(g.Extra)
		for j := 0; ok && j < len(w.Extra); j++ {
			ok = w.Extra[j].ApproxEqual(g.Extra[j])
		}
		require.True(t, ok, "result %d: want %v %q %v %v, got %v %q %v %v", i, w.Window, w.Key, w.Value, w.Extra, g.Window, g.Key, g.Value, g.Extra)
	}
}

func head(rs []dataflow.Result) []dataflow.Result { return rs[:min(len(rs), 8)] }

// reference is dataflow.Reference over the log minus the late records.
func reference(t *testing.T, p *dataflow.Pipeline, l *datasets.Log, late []dataflow.RecordRef) []dataflow.Result {
	t.Helper()
	ex := map[dataflow.RecordRef]bool{}
	for _, r := range late {
		ex[r] = true
	}
	want, err := dataflow.Reference(p, l.All(), dataflow.ReferenceOptions{Exclude: func(p int, off int64) bool { return ex[dataflow.RecordRef{Partition: p, Offset: off}] }})
	require.NoError(t, err)
	return want
}

// lateRefs are the records of late.
func lateRefs(late []dataflow.LateRecord) []dataflow.RecordRef {
	rs := make([]dataflow.RecordRef, len(late))
	for i, l := range late {
		rs[i] = l.RecordRef
	}
	return rs
}

// sparkReference is the exclusion oracle of Spark's late-row rule (ME2,
// models.md 3.2): dataflow.Reference over the log where each late record is
// left out of exactly the windows the rule drops it from. For fixed and
// sliding windows a record judged at watermark W is left out of its windows
// whose end is <= W and kept in the others; since that depends only on the
// window's end, the windows whose end lies in (W[j-1], W[j]] (W the distinct
// watermarks of the late records, sorted) are computed excluding the
// records judged at W[j] or above, and windows ending after every W
// excluding none. For sessions a late record is left out entirely (its
// rows' t + gap <= W: the whole row is dropped).
func sparkReference(t *testing.T, p *dataflow.Pipeline, l *datasets.Log, late []dataflow.LateRecord) []dataflow.Result {
	t.Helper()
	if len(late) == 0 || p.Agg == nil || p.Agg.Window.Kind == dataflow.WindowSession || p.Agg.Window.Kind == dataflow.WindowGlobal || p.Agg.Window.Kind == dataflow.WindowNone {
		return reference(t, p, l, lateRefs(late))
	}
	wms := make([]int64, 0, len(late))
	for _, r := range late {
		wms = append(wms, int64(r.Watermark))
	}
	slices.Sort(wms)
	wms = slices.Compact(wms)
	var out []dataflow.Result
	lo := int64(math.MinInt64)
	for j := 0; j <= len(wms); j++ {
		hi := int64(math.MaxInt64)
		var ex []dataflow.RecordRef
		if j < len(wms) {
			hi = wms[j]
			for _, r := range late {
				if int64(r.Watermark) >= hi {
					ex = append(ex, r.RecordRef)
				}
			}
		}
		for _, res := range reference(t, p, l, ex) {
			if e := int64(res.Window.End); e > lo && e <= hi {
				out = append(out, res)
			}
		}
		lo = hi
	}
	dataflow.SortResults(out)
	return out
}

// requireSparkResults compares a run's results with Spark's answer: the
// exclusion oracle [sparkReference] of its late records. Sessions have one
// case the exclusion cannot express: a row kept (t + gap > W) whose
// proto-session overlaps a session of its key that an earlier batch
// already evicted (end <= that batch's watermark) starts a new session, as
// in Spark, whose evicted sessions are gone from the state store; the batch
// answer merges the two. So for sessions the windows are checked against a
// replay of the batches (sessionWindows) and the values of the windows the
// batch answer also has against it.
func requireSparkResults(t *testing.T, p *dataflow.Pipeline, l *datasets.Log, rep *Report) {
	t.Helper()
	want := sparkReference(t, p, l, rep.Late)
	if p.Agg == nil || p.Agg.Window.Kind != dataflow.WindowSession || !rep.Watermarked {
		requireSameResults(t, want, rep.Results)
		return
	}
	wins := sessionWindows(t, p, l, rep)
	got := map[wkey]dataflow.Result{}
	for _, r := range rep.Results {
		got[wkey{r.Window, r.Key}] = r
	}
	require.Len(t, got, len(wins), "session windows")
	for k := range wins {
		_, ok := got[k]
		require.True(t, ok, "session %v %q missing", k.w, k.key)
	}
	split := 0
	for _, w := range want {
		g, ok := got[wkey{w.Window, w.Key}]
		if !ok {
			split++
			continue
		}
		requireSameResults(t, []dataflow.Result{w}, []dataflow.Result{g})
	}
	t.Logf("%d of %d sessions of the batch answer split by evictions", split, len(want))
}

// sessionWindows replays a run's batches over the log with Spark's session
// rule: in each batch the rows with t + gap > W join their key's live
// sessions (merging overlaps), then sessions ending at or before W are
// evicted. It returns every session window the run must emit.
func sessionWindows(t *testing.T, p *dataflow.Pipeline, l *datasets.Log, rep *Report) map[wkey]bool {
	t.Helper()
	gap := p.Agg.Window.Gap
	rows := aggInputRows(t, p, l)
	live := map[string][]dataflow.Window{}
	out := map[wkey]bool{}
	prev := make([]int64, l.Partitions())
	for bi, b := range rep.Batches {
		for part, end := range b.End {
			for off := prev[part]; off < end; off++ {
				for _, r := range rows[dataflow.RecordRef{Partition: part, Offset: off}] {
					if r.t+gap <= b.Watermark {
						continue
					}
					w := dataflow.Window{Start: dataflow.Time(r.t), End: dataflow.Time(r.t + gap)}
					keep := live[r.key][:0]
					for _, s := range live[r.key] {
						if s.Overlaps(w) {
							w = w.Span(s)
						} else {
							keep = append(keep, s)
						}
					}
					live[r.key] = append(keep, w)
				}
			}
		}
		prev = b.End
		last := bi == len(rep.Batches)-1
		for k, ss := range live {
			keep := ss[:0]
			for _, s := range ss {
				if last || int64(s.End) <= b.Watermark {
					out[wkey{s, k}] = true
				} else {
					keep = append(keep, s)
				}
			}
			live[k] = keep
		}
	}
	return out
}

type aggRow struct {
	key string
	t   int64
}

// aggInputRows runs the pipeline's steps over each record of l and returns
// the rows it gives the aggregation (key text and event time), by record:
// one dataflow.Reference run of the steps over the records with their
// reference appended as an extra input column.
func aggInputRows(t *testing.T, p *dataflow.Pipeline, l *datasets.Log) map[dataflow.RecordRef][]aggRow {
	t.Helper()
	const refCol = "_ref"
	in := dataflow.NewSchema(append(slices.Clone(p.Input.Fields), dataflow.Field{Name: refCol, Kind: dataflow.KindInt64})...)
	q := dataflow.NewPipeline(p.Name+"-steps", in)
	q.Steps = p.Steps
	q = q.Output(p.Agg.Key, p.Agg.TimeCol, refCol)
	recs := func(yield func(dataflow.Record) bool) {
		for rec := range l.All() {
			rec.Row = append(slices.Clip(rec.Row), dataflow.Int(int64(rec.Partition)<<40|rec.Offset))
			if !yield(rec) {
				return
			}
		}
	}
	rs, err := dataflow.Reference(q, recs, dataflow.ReferenceOptions{})
	require.NoError(t, err)
	out := map[dataflow.RecordRef][]aggRow{}
	for _, r := range rs {
		v := r.Extra[0].I
		ref := dataflow.RecordRef{Partition: int(v >> 40), Offset: v & (1<<40 - 1)}
		out[ref] = append(out[ref], aggRow{r.Key, r.Value.I})
	}
	return out
}

// aggInputTimes runs the pipeline's steps over each record of l and returns
// the largest event time of the rows it gives the aggregation, by record,
// or ok false for a record that gives none (filtered out).
func aggInputTimes(t *testing.T, p *dataflow.Pipeline, l *datasets.Log) map[dataflow.RecordRef]int64 {
	t.Helper()
	out := map[dataflow.RecordRef]int64{}
	for ref, rs := range aggInputRows(t, p, l) {
		m := int64(math.MinInt64)
		for _, r := range rs {
			m = max(m, r.t)
		}
		if len(rs) > 0 {
			out[ref] = m
		}
	}
	return out
}

// checkSparkLate verifies a run's late records and batches against Spark's
// rule (ME1, ME2), from the log alone: the batches' End offsets grow, each
// late record was delivered by the batch it names and judged at that
// batch's watermark, each lost at least one window under it (sessions: t +
// gap <= W), and each batch's watermark is the largest event time of the
// rows reaching the aggregation in earlier batches minus the delay (never
// above it). It returns the number of late records.
func checkSparkLate(t *testing.T, p *dataflow.Pipeline, l *datasets.Log, rep *Report) int {
	t.Helper()
	a := p.Agg
	require.True(t, rep.Watermarked)
	delay := dataflow.Millis(a.Watermark.MaxOutOfOrderness + a.AllowedLateness)
	times := aggInputTimes(t, p, l)
	prev := make([]int64, l.Partitions())
	maxEv := int64(math.MinInt64)
	wm := int64(math.MinInt64)
	for i, b := range rep.Batches {
		require.Len(t, b.End, l.Partitions(), "batch %d", i)
		if maxEv > math.MinInt64 {
			wm = max(wm, maxEv-delay)
		}
		require.Equal(t, wm, b.Watermark, "batch %d: watermark = max event time of earlier batches' aggregation rows - delay", i)
		for part, end := range b.End {
			require.GreaterOrEqual(t, end, prev[part], "batch %d partition %d", i, part)
			for off := prev[part]; off < end; off++ {
				if v, ok := times[dataflow.RecordRef{Partition: part, Offset: off}]; ok {
					maxEv = max(maxEv, v)
				}
			}
		}
		prev = b.End
	}
	require.Equal(t, prev, func() []int64 {
		e := make([]int64, l.Partitions())
		for p := range e {
			e[p] = l.End(p)
		}
		return e
	}(), "the batches deliver the whole log")
	var buf []dataflow.Window
	for _, r := range rep.Late {
		require.Less(t, r.Batch, len(rep.Batches))
		b := rep.Batches[r.Batch]
		from := int64(0)
		if r.Batch > 0 {
			from = rep.Batches[r.Batch-1].End[r.Partition]
		}
		require.True(t, r.Offset >= from && r.Offset < b.End[r.Partition], "late %v: not delivered by batch %d", r, r.Batch)
		require.Equal(t, b.Watermark, int64(r.Watermark), "late %v", r)
		tm, ok := times[r.RecordRef]
		require.True(t, ok, "late %v reaches no aggregation", r)
		dropped := false
		if a.Window.Kind == dataflow.WindowSession {
			dropped = tm+a.Window.Gap <= int64(r.Watermark)
		} else {
			buf = a.Window.Assign(buf[:0], dataflow.Time(tm))
			for _, w := range buf {
				dropped = dropped || int64(w.End) <= int64(r.Watermark)
			}
		}
		require.True(t, dropped, "late %v at event time %d loses no window under watermark %d", r, tm, r.Watermark)
	}
	return len(rep.Late)
}
