package dataflow_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/script"
)

// opSchema is the input of the operator tests: a key, an event time and a
// value.
var opSchema = dataflow.NewSchema(
	dataflow.Field{Name: "k", Kind: dataflow.KindString},
	dataflow.Field{Name: "t", Kind: dataflow.KindTimestamp},
	dataflow.Field{Name: "v", Kind: dataflow.KindInt64},
)

// opPane renders a pane as "key [start, end) timing#index value extra...".
func opPane(p dataflow.Pane) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %v %v#%d %v", p.Key, p.Window, p.Timing, p.Index, p.Value)
	for _, e := range p.Extra {
		fmt.Fprintf(&b, " %v", e)
	}
	return b.String()
}

// opHarness runs steps against an operator and collects what it emits.
type opHarness struct {
	op    *dataflow.WindowOperator
	panes []dataflow.Pane
	late  []dataflow.Row
}

func newOpHarness(t testing.TB, a dataflow.Aggregation) *opHarness {
	t.Helper()
	h := &opHarness{}
	op, err := dataflow.NewWindowOperator(&a, opSchema, dataflow.OperatorConfig{
		Emit: func(p dataflow.Pane) { h.panes = append(h.panes, p) },
		Late: func(r dataflow.Row, _ int64) { h.late = append(h.late, slices.Clone(r)) },
	})
	require.NoError(t, err, "NewWindowOperator(%+v)", a)
	h.op = op
	return h
}

func opRow(key string, t, v int64) dataflow.Row {
	return dataflow.Row{dataflow.Str(key), dataflow.Timestamp(dataflow.Time(t)), dataflow.Int(v)}
}

// TestWindowOperatorScript runs testdata/operator/*.txt: each file makes an
// operator with new and drives it; every command prints the panes it
// emitted, one a line as opPane renders them, then "late" when the record
// was late. Commands:
//
//	new window=KIND [size=MS] [period=MS] [gap=MS] [aggs=(sum,count)]
//	    [lateness=MS] [late-firings] [after-count=N] [early-every=MS]
//	    [discarding] [processing] [having=(value>1,key!=c)]
//	                         an operator keyed by k over (k, t, v); KIND is
//	                         fixed, sliding, session, count, global or none;
//	                         sum aggregates v; processing uses ingest times
//	add k=KEY t=T v=V [ingest=MS]  Add a record
//	advance wm=T             AdvanceWatermark
//	proc now=MS              OnProcessingTime
//	finish                   Finish
//	stats                    Stats, and the rows the Late callback got
func TestWindowOperatorScript(t *testing.T) {
	var (
		h    *opHarness
		file *testing.T // the file h belongs to: each file starts afresh
	)
	script.Walk(t, "testdata/operator", func(t *testing.T, c *script.Cmd) string {
		if file != t {
			h, file = nil, t
		}
		if c.Name == "new" {
			h = newOpHarness(t, opScriptAggregation(t, c))
			return ""
		}
		if h == nil {
			t.Fatalf("%s: %s before new", c.Pos, c.Name)
		}
		n := len(h.panes)
		late := false
		switch c.Name {
		case "add":
			key, ok := c.Arg("k")
			if !ok {
				t.Fatalf("%s: add needs k=", c.Pos)
			}
			row := opRow(key, int64(scriptTimeArg(t, c, "t", 0)), int64(c.Int(t, "v")))
			late = h.op.Add(row, int64(scriptIntArg(t, c, "ingest", 0))*1e6)
		case "advance":
			h.op.AdvanceWatermark(scriptTimeArg(t, c, "wm", 0))
		case "proc":
			h.op.OnProcessingTime(scriptTimeArg(t, c, "now", 0))
		case "finish":
			h.op.Finish()
		case "stats":
			st := h.op.Stats()
			return fmt.Sprintf("records=%d late=%d open=%d panes=%d late-rows=%d",
				st.Records, st.Late, st.OpenWindows, st.Panes, len(h.late))
		default:
			t.Fatalf("%s: unknown command %q", c.Pos, c.Name)
		}
		var out strings.Builder
		for _, p := range h.panes[n:] {
			out.WriteString(opPane(p) + "\n")
		}
		if late {
			out.WriteString("late\n")
		}
		return out.String()
	})
}

// opScriptAggregation builds the aggregation of a new command.
func opScriptAggregation(t *testing.T, c *script.Cmd) dataflow.Aggregation {
	t.Helper()
	ms := func(key string) time.Duration { return time.Duration(scriptIntArg(t, c, key, 0)) * time.Millisecond }
	a := dataflow.Aggregation{Key: []string{"k"}, TimeCol: "t"}
	kind, _ := c.Arg("window")
	switch kind {
	case "fixed":
		a.Window = dataflow.FixedWindows(ms("size"))
	case "sliding":
		a.Window = dataflow.SlidingWindows(ms("size"), ms("period"))
	case "session":
		a.Window = dataflow.SessionWindows(ms("gap"))
	case "count":
		a.Window = dataflow.CountWindows(int64(c.Int(t, "size")), int64(c.Int(t, "period")))
	case "global":
		a.Window = dataflow.GlobalWindows()
	case "none":
	default:
		t.Fatalf("%s: new: window=%q is not fixed, sliding, session, count, global or none", c.Pos, kind)
	}
	aggs := []string{"sum"}
	for _, arg := range c.Args {
		switch arg.Key {
		case "aggs":
			aggs = arg.Vals
		case "having":
			a.Having = opScriptHaving(t, c, arg.Vals)
		}
	}
	for _, g := range aggs {
		switch g {
		case "sum":
			a.Aggs = append(a.Aggs, dataflow.Sum("v"))
		case "count":
			a.Aggs = append(a.Aggs, dataflow.Count())
		default:
			t.Fatalf("%s: new: aggregate %q is not sum or count", c.Pos, g)
		}
	}
	a.AllowedLateness = ms("lateness")
	a.Trigger.EarlyEvery = ms("early-every")
	a.Trigger.AfterCount = int64(scriptIntArg(t, c, "after-count", 0))
	_, a.Trigger.LateFirings = c.Arg("late-firings")
	if _, ok := c.Arg("discarding"); ok {
		a.Accumulation = dataflow.Discarding
	}
	if _, ok := c.Arg("processing"); ok {
		a.Domain, a.TimeCol = dataflow.ProcessingTime, ""
	}
	return a
}

// opScriptHaving parses having=(value>1,key!=c): the conjunction of
// comparisons of an output column with an integer or string literal.
func opScriptHaving(t *testing.T, c *script.Cmd, conds []string) dataflow.Expr {
	t.Helper()
	ops := []struct {
		op string
		f  func(l, r dataflow.Expr) dataflow.Expr
	}{{">=", dataflow.Ge}, {"<=", dataflow.Le}, {"!=", dataflow.Ne}, {">", dataflow.Gt}, {"<", dataflow.Lt}, {"=", dataflow.Eq}}
	var xs []dataflow.Expr
	for _, cond := range conds {
		found := false
		for _, o := range ops {
			col, lit, ok := strings.Cut(cond, o.op)
			if !ok {
				continue
			}
			r := dataflow.LitStr(lit)
			if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
				r = dataflow.LitInt(n)
			}
			xs = append(xs, o.f(dataflow.Col(col), r))
			found = true
			break
		}
		if !found {
			t.Fatalf("%s: new: having condition %q is not COL OP LITERAL", c.Pos, cond)
		}
	}
	return dataflow.And(xs...)
}

func TestWindowOperatorLateSideOutput(t *testing.T) {
	for _, action := range []dataflow.LateAction{dataflow.LateDrop, dataflow.LateSideOutput} {
		t.Run(action.String(), func(t *testing.T) {
			h := newOpHarness(t, dataflow.Aggregation{
				Key: []string{"k"}, Window: dataflow.FixedWindows(10 * time.Millisecond), TimeCol: "t",
				Aggs: []dataflow.Agg{dataflow.Count()}, Late: action,
			})
			h.op.AdvanceWatermark(100)
			assert.True(t, h.op.Add(opRow("x", 42, 7), 0), "Add of a record 58 ms behind the watermark")
			require.Len(t, h.late, 1)
			assert.Equal(t, opRow("x", 42, 7), h.late[0], "late row")
			st := h.op.Stats()
			assert.Equal(t, dataflow.OperatorStats{Records: 1, Late: 1}, st, "Stats")
		})
	}
}

func TestWindowOperatorPaneTimes(t *testing.T) {
	h := newOpHarness(t, dataflow.Aggregation{
		Key: []string{"k"}, Window: dataflow.FixedWindows(10 * time.Millisecond), TimeCol: "t",
		Aggs: []dataflow.Agg{dataflow.Count()},
	})
	h.op.Add(opRow("a", 3, 0), 5_000_000)
	h.op.Add(opRow("a", 7, 0), 2_000_000)
	h.op.Finish()
	require.Len(t, h.panes, 1)
	assert.Equal(t, dataflow.Time(7), h.panes[0].MaxEventTime, "MaxEventTime")
	assert.Equal(t, int64(5_000_000), h.panes[0].MaxIngestNanos, "MaxIngestNanos")
	assert.Equal(t, dataflow.MaxTime, h.op.Watermark(), "Watermark after Finish")
	assert.Zero(t, h.op.Stats().OpenWindows, "OpenWindows after Finish")
}

// TestWindowOperatorMerge checks that partial aggregates merged with Merge
// opRandomRecords is a random input for the differential and snapshot tests.
func opRandomRecords(seed uint64, n int) []dataflow.Record {
	rng := rand.New(rand.NewPCG(seed, 11))
	recs := make([]dataflow.Record, n)
	for i := range recs {
		key := fmt.Sprintf("k%d", rng.IntN(6))
		recs[i] = dataflow.Record{
			Row:         opRow(key, int64(rng.IntN(2000))-200, int64(rng.IntN(50))-10),
			Partition:   0,
			Offset:      int64(i),
			IngestNanos: int64(i) * 1e6,
		}
	}
	return recs
}

func opDiffAggregations() map[string]dataflow.Aggregation {
	ms := time.Millisecond
	aggs := []dataflow.Agg{dataflow.Sum("v"), dataflow.Count(), dataflow.Min("v"), dataflow.Max("t"),
		dataflow.Mean("v"), dataflow.Distinct("v"), dataflow.TopN("v", 3), dataflow.Span("t")}
	mk := func(w dataflow.WindowFn) dataflow.Aggregation {
		return dataflow.Aggregation{Key: []string{"k"}, Window: w, TimeCol: "t", Aggs: aggs}
	}
	out := map[string]dataflow.Aggregation{
		"fixed":          mk(dataflow.FixedWindows(100 * ms)),
		"fixed-offset":   mk(dataflow.FixedWindows(100 * ms).WithOffset(30 * ms)),
		"sliding":        mk(dataflow.SlidingWindows(100*ms, 30*ms)),
		"session":        mk(dataflow.SessionWindows(15 * ms)),
		"global":         mk(dataflow.GlobalWindows()),
		"none":           mk(dataflow.WindowFn{}),
		"count":          mk(dataflow.CountWindows(5, 2)),
		"processing":     mk(dataflow.FixedWindows(50 * ms)),
		"having":         mk(dataflow.FixedWindows(100 * ms)),
		"no-key":         mk(dataflow.SlidingWindows(200*ms, 100*ms)),
		"global-trigger": mk(dataflow.GlobalWindows()),
	}
	p := out["processing"]
	p.Domain, p.TimeCol = dataflow.ProcessingTime, ""
	out["processing"] = p
	h := out["having"]
	h.Having = dataflow.Gt(dataflow.Col("count"), dataflow.LitInt(3))
	out["having"] = h
	nk := out["no-key"]
	nk.Key = nil
	out["no-key"] = nk
	g := out["global-trigger"]
	g.Trigger = dataflow.Trigger{AfterCount: 7, EarlyEvery: 5 * ms}
	out["global-trigger"] = g
	return out
}

// TestWindowOperatorMatchesReference is the differential test: random
// records in random order, the watermark advanced only by Finish; the final
// pane of every window equals Reference (I8). Count windows depend on the
// arrival order (I6), so they get the records in log order.
func TestWindowOperatorMatchesReference(t *testing.T) {
	for name, a := range opDiffAggregations() {
		t.Run(name, func(t *testing.T) {
			for seed := uint64(1); seed <= 3; seed++ {
				recs := opRandomRecords(seed, 400)
				p := dataflow.NewPipeline("diff", opSchema).Aggregate(a)
				want, err := dataflow.Reference(p, slices.Values(recs), dataflow.ReferenceOptions{})
				require.NoError(t, err, "Reference")

				final := map[string]dataflow.Result{}
				var order []string
				op, err := dataflow.NewWindowOperator(p.Agg, opSchema, dataflow.OperatorConfig{
					Emit: func(pn dataflow.Pane) {
						k := pn.Window.String() + "/" + pn.Key
						if _, ok := final[k]; !ok {
							order = append(order, k)
						}
						final[k] = pn.Result
					},
				})
				require.NoError(t, err)
				in := slices.Clone(recs)
				if a.Window.Kind != dataflow.WindowCount {
					rand.New(rand.NewPCG(seed, 99)).Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
				}
				for i, r := range in {
					op.Add(r.Row, r.IngestNanos)
					if i%50 == 0 {
						op.OnProcessingTime(dataflow.Time(i))
					}
				}
				op.Finish()
				var got []dataflow.Result
				for _, k := range order {
					got = append(got, final[k])
				}
				if a.Having != nil {
					// A pane that fails Having is not emitted, but the final
					// panes here are on time, so Having applies to final values.
					require.NotEmpty(t, got)
				}
				dataflow.SortResults(got)
				require.Equal(t, len(want), len(got), "seed %d: number of results", seed)
				for i := range want {
					assert.True(t, opResultsMatch(want[i], got[i]), "seed %d result %d: operator %v, reference %v", seed, i, got[i], want[i])
				}
			}
		})
	}
}

func opResultsMatch(a, b dataflow.Result) bool {
	if a.Window != b.Window || a.Key != b.Key || !a.Value.ApproxEqual(b.Value) || len(a.Extra) != len(b.Extra) {
		return false
	}
	for i := range a.Extra {
		if !a.Extra[i].ApproxEqual(b.Extra[i]) {
			return false
		}
	}
	return true
}

// TestWindowOperatorSnapshot checks that an operator restored from a
// snapshot taken mid-stream emits exactly what the original emits from then
// on, for every window kind and trigger.
func TestWindowOperatorSnapshot(t *testing.T) {
	aggs := opDiffAggregations()
	late := aggs["fixed"]
	late.AllowedLateness = 50 * time.Millisecond
	late.Trigger = dataflow.Trigger{LateFirings: true, EarlyEvery: 10 * time.Millisecond}
	aggs["late-early"] = late
	disc := dataflow.Aggregation{Key: []string{"k"}, Window: dataflow.SessionWindows(20 * time.Millisecond), TimeCol: "t",
		Aggs: []dataflow.Agg{dataflow.Sum("v"), dataflow.Count()}, Accumulation: dataflow.Discarding,
		AllowedLateness: 100 * time.Millisecond, Trigger: dataflow.Trigger{AfterCount: 3}}
	aggs["session-discarding"] = disc
	for name, a := range aggs {
		t.Run(name, func(t *testing.T) {
			recs := opRandomRecords(5, 600)
			orig := newOpHarness(t, a)
			step := func(h *opHarness, i int) {
				r := recs[i]
				h.op.Add(r.Row, r.IngestNanos)
				if i%40 == 39 {
					h.op.AdvanceWatermark(dataflow.Time(i*3 - 300))
					h.op.OnProcessingTime(dataflow.Time(i))
				}
			}
			for i := range 300 {
				step(orig, i)
			}
			snap, err := orig.op.AppendSnapshot(nil)
			require.NoError(t, err, "AppendSnapshot")
			restored := newOpHarness(t, a)
			require.NoError(t, restored.op.Restore(snap), "Restore")
			again, err := restored.op.AppendSnapshot(nil)
			require.NoError(t, err)
			// Keys and windows come in map order, so equal states give
			// snapshots of equal length (the same entries), not equal bytes.
			assert.Len(t, again, len(snap), "snapshot of the restored operator")
			assert.Equal(t, orig.op.Stats(), restored.op.Stats(), "Stats after Restore")
			assert.Equal(t, orig.op.Watermark(), restored.op.Watermark(), "Watermark after Restore")
			n, nLate := len(orig.panes), len(orig.late)
			for i := 300; i < len(recs); i++ {
				step(orig, i)
				step(restored, i)
			}
			orig.op.Finish()
			restored.op.Finish()
			var want, got []string
			for _, p := range orig.panes[n:] {
				want = append(want, opPane(p))
			}
			for _, p := range restored.panes {
				got = append(got, opPane(p))
			}
			assert.Equal(t, want, got, "panes after the snapshot")
			assert.Equal(t, orig.late[nLate:], restored.late, "late rows after the snapshot")
		})
	}
}

func TestWindowOperatorRestoreErrors(t *testing.T) {
	a := opDiffAggregations()["fixed"]
	h := newOpHarness(t, a)
	for _, r := range opRandomRecords(1, 50) {
		h.op.Add(r.Row, r.IngestNanos)
	}
	snap, err := h.op.AppendSnapshot(nil)
	require.NoError(t, err)
	other := newOpHarness(t, opDiffAggregations()["session"])
	assert.ErrorIs(t, other.op.Restore(snap), dataflow.ErrCorruptState, "Restore of a fixed-window snapshot into a session operator")
	for _, n := range []int{0, 3, 5, len(snap) / 2, len(snap) - 1} {
		fresh := newOpHarness(t, a)
		assert.ErrorIs(t, fresh.op.Restore(snap[:n]), dataflow.ErrCorruptState, "Restore of the first %d of %d bytes", n, len(snap))
		assert.Zero(t, fresh.op.Stats().OpenWindows, "a failed Restore leaves the operator unchanged")
	}
	assert.ErrorIs(t, h.op.Restore(append(slices.Clone(snap), 0)), dataflow.ErrCorruptState, "trailing byte")
}

func FuzzWindowOperatorRestore(f *testing.F) {
	aggs := opDiffAggregations()
	names := []string{"fixed", "session", "count", "global"}
	for i, name := range names {
		h := newOpHarness(f, aggs[name])
		for _, r := range opRandomRecords(uint64(i), 30) {
			h.op.Add(r.Row, r.IngestNanos)
		}
		snap, err := h.op.AppendSnapshot(nil)
		require.NoError(f, err)
		f.Add(uint8(i), snap)               // a valid snapshot
		f.Add(uint8(i), snap[:len(snap)/3]) // truncated
		f.Add(uint8(i), []byte("WOPS\x01"))
	}
	f.Add(uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		h := newOpHarness(t, aggs[names[int(which)%len(names)]])
		if h.op.Restore(b) != nil {
			return
		}
		// A snapshot that restores must give a working operator.
		for _, r := range opRandomRecords(1, 10) {
			h.op.Add(r.Row, r.IngestNanos)
		}
		h.op.AdvanceWatermark(500)
		h.op.Finish()
	})
}

func TestWindowOperatorAddAllocs(t *testing.T) {
	for _, w := range []dataflow.WindowFn{
		dataflow.FixedWindows(10 * time.Second),
		dataflow.SlidingWindows(10*time.Second, 2*time.Second),
		dataflow.SessionWindows(time.Minute),
		dataflow.GlobalWindows(),
		dataflow.CountWindows(1<<40, 1<<40),
	} {
		t.Run(w.String(), func(t *testing.T) {
			op, err := dataflow.NewWindowOperator(&dataflow.Aggregation{
				Key: []string{"k"}, Window: w, TimeCol: "t",
				Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("v"), dataflow.Max("v")},
			}, opSchema, dataflow.OperatorConfig{})
			require.NoError(t, err)
			rows := make([]dataflow.Row, 100)
			for i := range rows {
				rows[i] = opRow(fmt.Sprintf("key%03d", i), 1000+int64(i), int64(i))
				op.Add(rows[i], 0)
			}
			i := 0
			allocs := testing.AllocsPerRun(1000, func() {
				op.Add(rows[i%len(rows)], 0)
				i++
			})
			assert.Zero(t, allocs, "Add allocations per record into existing windows")
		})
	}
}

func TestNewWindowOperatorErrors(t *testing.T) {
	_, err := dataflow.NewWindowOperator(&dataflow.Aggregation{Key: []string{"nope"}, Aggs: []dataflow.Agg{dataflow.Count()}}, opSchema, dataflow.OperatorConfig{})
	assert.ErrorContains(t, err, `no column "nope"`)
	_, err = dataflow.NewWindowOperator(nil, opSchema, dataflow.OperatorConfig{})
	assert.Error(t, err)
	_, err = dataflow.NewWindowOperator(&dataflow.Aggregation{
		Window: dataflow.FixedWindows(time.Second), TimeCol: "t", Aggs: []dataflow.Agg{dataflow.Count()},
		Accumulation: dataflow.Discarding, Having: dataflow.Gt(dataflow.Col("value"), dataflow.LitInt(1)),
	}, opSchema, dataflow.OperatorConfig{})
	assert.ErrorContains(t, err, "needs accumulating panes", "Having with discarding panes")
}

func ExampleWindowOperator() {
	schema := dataflow.NewSchema(
		dataflow.Field{Name: "user", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	op, err := dataflow.NewWindowOperator(&dataflow.Aggregation{
		Key:             []string{"user"},
		Window:          dataflow.FixedWindows(10 * time.Second),
		TimeCol:         "event_time",
		AllowedLateness: 5 * time.Second,
		Trigger:         dataflow.Trigger{LateFirings: true},
		Aggs:            []dataflow.Agg{dataflow.Count()},
	}, schema, dataflow.OperatorConfig{
		Emit: func(p dataflow.Pane) { fmt.Println(p.Key, p.Window, p.Timing, p.Value) },
		Late: func(r dataflow.Row, _ int64) { fmt.Println("late:", r[0], r[1]) },
	})
	if err != nil {
		panic(err)
	}
	add := func(user string, ms int64) {
		op.Add(dataflow.Row{dataflow.Str(user), dataflow.Timestamp(dataflow.Time(ms))}, 0)
	}
	add("ann", 1_000)
	add("ann", 9_999)
	op.AdvanceWatermark(10_000) // W >= end: on time
	add("ann", 5_000)           // within the allowed lateness: a late pane
	op.AdvanceWatermark(15_000) // W >= end + lateness: the state is dropped
	add("ann", 6_000)           // late for its only window
	// Output:
	// ann [0, 10000) on-time 2
	// ann [0, 10000) late 3
	// late: ann 6000
}

// BenchmarkOperatorAdd measures Add over 100 keys, one record per ms of
// event time, with the watermark advanced every 1000 records (so windows fire
// and are recycled as in a run): fixed 10 s windows (the YSB shape), sliding
// 10 s windows every 2 s, and sessions with a 1 s gap.
func BenchmarkOperatorAdd(b *testing.B) {
	for _, w := range []struct {
		name string
		fn   dataflow.WindowFn
	}{
		{"window=fixed", dataflow.FixedWindows(10 * time.Second)},
		{"window=sliding", dataflow.SlidingWindows(10*time.Second, 2*time.Second)},
		{"window=session", dataflow.SessionWindows(time.Second)},
	} {
		b.Run(w.name, func(b *testing.B) {
			op, err := dataflow.NewWindowOperator(&dataflow.Aggregation{
				Key: []string{"k"}, Window: w.fn, TimeCol: "t",
				Aggs: []dataflow.Agg{dataflow.Count()},
			}, opSchema, dataflow.OperatorConfig{})
			require.NoError(b, err)
			const n = 1 << 16
			rows := make([]dataflow.Row, n)
			keys := make([]string, 100)
			for i := range keys {
				keys[i] = fmt.Sprintf("campaign-%03d", i)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range rows {
				rows[i] = opRow(keys[rng.IntN(len(keys))], int64(i), 1)
			}
			base := int64(0)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				r := rows[i]
				r[1].I = base + int64(i) // event time: one record per ms
				op.Add(r, 0)
				i++
				if i%1000 == 0 {
					op.AdvanceWatermark(dataflow.Time(base + int64(i) - 100))
				}
				if i == n {
					i = 0
					base += n
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// TestWindowOperatorExact is the check every runtime run gets, on the
// operator alone: records in arrival order with bounded disorder, the
// watermark following them with a random bound, allowed lateness and
// triggers; the last pane of each window (for discarding panes, the
// combination of its panes) must equal Reference over the input minus the
// records the operator reported late (I8).
func TestWindowOperatorExact(t *testing.T) {
	ms := time.Millisecond
	windows := map[string]dataflow.WindowFn{
		"fixed":   dataflow.FixedWindows(100 * ms),
		"sliding": dataflow.SlidingWindows(100*ms, 40*ms),
		"session": dataflow.SessionWindows(15 * ms),
		"global":  dataflow.GlobalWindows(),
		"none":    {},
		// Processing time: ingest ms, while the watermark follows the event
		// times, so it is a disordered input all the same.
		"processing": dataflow.SlidingWindows(20*ms, 10*ms),
	}
	triggers := map[string]dataflow.Trigger{
		"default":     {},
		"late":        {LateFirings: true},
		"count":       {AfterCount: 3},
		"early":       {EarlyEvery: 7 * ms},
		"count+late":  {AfterCount: 3, LateFirings: true},
		"early+count": {EarlyEvery: 5 * ms, AfterCount: 4},
	}
	combinable := []dataflow.Agg{dataflow.Sum("v"), dataflow.Count(), dataflow.Min("v"), dataflow.Max("t")}
	all := append(slices.Clone(combinable), dataflow.Mean("v"), dataflow.Distinct("v"), dataflow.Span("t"))
	runs := 0
	for wname, w := range windows {
		for tname, tr := range triggers {
			for _, acc := range []dataflow.Accumulation{dataflow.Accumulating, dataflow.Discarding} {
				for _, lateness := range []time.Duration{0, 60 * ms} {
					name := fmt.Sprintf("%s/%s/%v/lateness=%v", wname, tname, acc, lateness)
					a := dataflow.Aggregation{Key: []string{"k"}, Window: w, TimeCol: "t", Trigger: tr,
						Accumulation: acc, AllowedLateness: lateness, Aggs: all}
					if wname == "processing" {
						a.Domain, a.TimeCol = dataflow.ProcessingTime, ""
					}
					if acc == dataflow.Discarding {
						a.Aggs = combinable
					} else if tname == "default" {
						a.Having = dataflow.Gt(dataflow.Col("count"), dataflow.LitInt(2))
					}
					for seed := uint64(1); seed <= 2; seed++ {
						runs++
						opCheckExact(t, name, seed, a)
					}
				}
			}
		}
	}
	t.Logf("%d runs", runs)
}

func opCheckExact(t *testing.T, name string, seed uint64, a dataflow.Aggregation) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 21))
	recs := make([]dataflow.Record, 500)
	for i := range recs {
		ts := int64(i)*2 + int64(rng.IntN(120)) - 60
		recs[i] = dataflow.Record{
			Row:    opRow(fmt.Sprintf("k%d", rng.IntN(4)), ts, int64(rng.IntN(50))-10),
			Offset: int64(i), IngestNanos: int64(i) * 1e6,
		}
	}
	bound := dataflow.Time(rng.IntN(80))
	type wk struct {
		w   dataflow.Window
		key string
	}
	final := map[wk]dataflow.Result{}
	late := map[int64]bool{}
	combine := func(prev, p dataflow.Result) dataflow.Result {
		v, err := dataflow.CombineResults(a.Aggs[0].Kind, prev.Value, p.Value)
		require.NoError(t, err)
		prev.Value = v
		prev.Extra = slices.Clone(prev.Extra)
		for i := range prev.Extra {
			prev.Extra[i], err = dataflow.CombineResults(a.Aggs[i+1].Kind, prev.Extra[i], p.Extra[i])
			require.NoError(t, err)
		}
		return prev
	}
	var op *dataflow.WindowOperator
	op, err := dataflow.NewWindowOperator(&a, opSchema, dataflow.OperatorConfig{
		Emit: func(p dataflow.Pane) {
			k := wk{p.Window, p.Key}
			if p.Timing == dataflow.PaneMerged {
				// What was kept for the outgrown session moves to the one it
				// merged into, as a sink does (combined with it for
				// discarding panes; superseded by its next pane otherwise).
				prev, ok := final[k]
				if !ok {
					return // its panes were all suppressed by Having
				}
				delete(final, k)
				into := wk{p.Into, p.Key}
				cur, ok := final[into]
				prev.Window = p.Into
				if !ok {
					final[into] = prev
					return
				}
				if a.Accumulation == dataflow.Discarding {
					final[into] = combine(cur, prev)
				}
				return
			}
			prev, ok := final[k]
			if !ok || a.Accumulation == dataflow.Accumulating {
				final[k] = p.Result
				return
			}
			final[k] = combine(prev, p.Result)
		},
		Late: func(row dataflow.Row, ingest int64) {
			late[ingest/1e6] = true
			// Every drop is late under I5, as a check can verify.
			require.True(t, op.IsLateTime(row[1].Time()) || a.Domain == dataflow.ProcessingTime,
				"%s: dropped t=%v at watermark %v, not late under I5", name, row[1].Time(), op.Watermark())
		},
	})
	require.NoError(t, err, "%s: NewWindowOperator", name)
	maxT := dataflow.MinTime
	for i, r := range recs {
		op.Add(r.Row, r.IngestNanos)
		maxT = max(maxT, r.Row[1].Time())
		if i%10 == 9 {
			op.AdvanceWatermark(maxT - bound)
		}
		op.OnProcessingTime(dataflow.Time(i))
	}
	op.Finish()
	p := dataflow.NewPipeline(name, opSchema).Aggregate(a)
	want, err := dataflow.Reference(p, slices.Values(recs), dataflow.ReferenceOptions{
		Exclude: func(_ int, off int64) bool { return late[off] },
	})
	require.NoError(t, err, "%s: Reference", name)
	got := make([]dataflow.Result, 0, len(final))
	for _, r := range final {
		got = append(got, r)
	}
	dataflow.SortResults(got)
	if !assert.Equal(t, len(want), len(got), "%s seed %d (bound %d, %d late): number of windows", name, seed, bound, len(late)) {
		return
	}
	for i := range want {
		if !assert.True(t, opResultsMatch(want[i], got[i]), "%s seed %d (bound %d, %d late) result %d: operator %v, reference %v", name, seed, bound, len(late), i, got[i], want[i]) {
			return
		}
	}
}

// TestWindowOperatorMergeExact runs the micro-batch protocol: per batch, the
// records IsLateTime finds late are reported, the others pre-aggregated per
// key and window (sessions merged within the batch), each part merged when
// Accepts takes it and added record by record otherwise; then the watermark
// BenchmarkWindowOperatorSnapshot measures AppendSnapshot and Restore of a
// large keyed state: a count and a sum per key over the whole input
// (WindowNone), as the exactly-once state benchmarks of recordstream hold.
func BenchmarkWindowOperatorSnapshot(b *testing.B) {
	for _, keys := range []int{10_000, 1_000_000} {
		a := dataflow.Aggregation{Key: []string{"k"}, Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("v")}}
		h := newOpHarness(b, a)
		row := opRow("", 0, 0)
		for k := range keys {
			row[0] = dataflow.Str(fmt.Sprintf("key-%08d", k))
			row[2] = dataflow.Int(int64(k % 97))
			h.op.Add(row, int64(k)*1e6)
			h.op.Add(row, int64(k)*1e6+1)
		}
		snap, err := h.op.AppendSnapshot(nil)
		require.NoError(b, err)
		b.Run(fmt.Sprintf("keys=%d/append", keys), func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				var err error
				if buf, err = h.op.AppendSnapshot(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(buf))/1e6, "MB")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(keys), "ns/key")
		})
		b.Run(fmt.Sprintf("keys=%d/view-encode", keys), func(b *testing.B) {
			// The asynchronous snapshot: a view taken on the operator's
			// goroutine, encoded on this one (recordstream's writer).
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				v := h.op.BeginSnapshot()
				var err error
				if buf, err = v.Encode(b.Context(), buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(keys), "ns/key")
		})
		b.Run(fmt.Sprintf("keys=%d/append-fresh", keys), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.op.AppendSnapshot(nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(keys), "ns/key")
		})
		b.Run(fmt.Sprintf("keys=%d/restore", keys), func(b *testing.B) {
			b.ReportAllocs()
			r := newOpHarness(b, a)
			for b.Loop() {
				if err := r.op.Restore(snap); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(keys), "ns/key")
		})
	}
}

// TestWindowOperatorGrownSession checks a session that grew after its
// timer was filed: it fires when the watermark passes its new end, not its
// old one, and among the windows due then in the documented order (end,
// then start, then key).
func TestWindowOperatorGrownSession(t *testing.T) {
	a := dataflow.Aggregation{Key: []string{"k"}, Window: dataflow.SessionWindows(10 * time.Millisecond), TimeCol: "t",
		Aggs: []dataflow.Agg{dataflow.Sum("v")}}
	var got []string
	op, err := dataflow.NewWindowOperator(&a, opSchema, dataflow.OperatorConfig{Emit: func(p dataflow.Pane) { got = append(got, opPane(p)) }})
	require.NoError(t, err)
	op.Add(opRow("a", 0, 1), 0)  // a [0, 10)
	op.Add(opRow("b", 8, 2), 0)  // b [8, 18)
	op.Add(opRow("a", 8, 4), 0)  // a grows to [0, 18)
	op.Add(opRow("c", 17, 8), 0) // c [17, 27)
	op.AdvanceWatermark(12)      // a's first end has passed, its session's has not
	require.Empty(t, got)
	op.AdvanceWatermark(18)
	require.Equal(t, []string{"a [0, 18) on-time#0 5", "b [8, 18) on-time#0 2"}, got)
	op.Add(opRow("c", 25, 16), 0) // c grows to [17, 35)
	op.AdvanceWatermark(30)
	require.Len(t, got, 2)
	op.Finish()
	require.Equal(t, "c [17, 35) on-time#0 24", got[2])
}

// TestWindowOperatorSlidingGaps checks sliding windows whose period is
// longer than their size: a record between two windows belongs to none (it
// is taken, not late, and opens nothing), the others fire as Reference
// says.
func TestWindowOperatorSlidingGaps(t *testing.T) {
	a := dataflow.Aggregation{Key: []string{"k"}, Window: dataflow.SlidingWindows(10*time.Millisecond, 30*time.Millisecond), TimeCol: "t",
		Aggs: []dataflow.Agg{dataflow.Count()}}
	var got []dataflow.Result
	op, err := dataflow.NewWindowOperator(&a, opSchema, dataflow.OperatorConfig{Emit: func(p dataflow.Pane) { got = append(got, p.Result) }})
	require.NoError(t, err)
	recs := []dataflow.Record{{Row: opRow("a", 15, 1)}, {Row: opRow("a", 31, 1)}, {Row: opRow("b", 9, 1)}, {Row: opRow("a", 40, 1)}, {Row: opRow("a", 30, 1)}}
	for i, r := range recs {
		require.False(t, op.Add(r.Row, 0), "record %d", i)
		if i == 0 {
			require.Zero(t, op.Stats().OpenWindows, "a record between windows opens none")
		}
	}
	require.Equal(t, int64(2), op.Stats().OpenWindows)
	op.Finish()
	want, err := dataflow.Reference(dataflow.NewPipeline("gaps", opSchema).Aggregate(a), slices.Values(recs), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	require.Len(t, want, 2)
	dataflow.SortResults(got)
	requireSameResults(t, "gaps", want, got)
}
