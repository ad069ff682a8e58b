package dataflow_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// opSchema is the input of the operator tests: a key, an event time and a
// value.
var opSchema = dataflow.NewSchema(
	dataflow.Field{Name: "k", Kind: dataflow.KindString},
	dataflow.Field{Name: "t", Kind: dataflow.KindTimestamp},
	dataflow.Field{Name: "v", Kind: dataflow.KindInt64},
)

// opStep is one step of an operator case (prism strategy_test style): an
// input, then the panes it must emit, in order, and whether the record was
// late.
type opStep struct {
	kind   string // "add", "wm", "proc", "finish"
	key    string
	t      int64 // event time (add), watermark (wm) or processing time (proc)
	v      int64
	ingest int64 // ms
	want   []string
	late   bool
}

func opAdd(key string, t, v int64) opStep { return opStep{kind: "add", key: key, t: t, v: v} }
func opAddAt(key string, t, v, ingestMs int64) opStep {
	return opStep{kind: "add", key: key, t: t, v: v, ingest: ingestMs}
}
func opWM(w int64) opStep     { return opStep{kind: "wm", t: w} }
func opProc(now int64) opStep { return opStep{kind: "proc", t: now} }
func opFinish() opStep        { return opStep{kind: "finish"} }

func (s opStep) panes(p ...string) opStep { s.want = p; return s }
func (s opStep) isLate() opStep           { s.late = true; return s }

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

// do runs one step and returns the panes it emitted and whether the record
// was late.
func (h *opHarness) do(s opStep) (got []string, late bool) {
	n := len(h.panes)
	switch s.kind {
	case "add":
		late = h.op.Add(opRow(s.key, s.t, s.v), s.ingest*1e6)
	case "wm":
		h.op.AdvanceWatermark(dataflow.Time(s.t))
	case "proc":
		h.op.OnProcessingTime(dataflow.Time(s.t))
	case "finish":
		h.op.Finish()
	}
	for _, p := range h.panes[n:] {
		got = append(got, opPane(p))
	}
	return got, late
}

func (s opStep) String() string {
	switch s.kind {
	case "add":
		return fmt.Sprintf("add(%s, t=%d, v=%d)", s.key, s.t, s.v)
	case "finish":
		return "finish()"
	}
	return fmt.Sprintf("%s(%d)", s.kind, s.t)
}

func TestWindowOperator(t *testing.T) {
	ms := time.Millisecond
	fixed10 := dataflow.FixedWindows(10 * ms)
	sum := []dataflow.Agg{dataflow.Sum("v")}
	count := []dataflow.Agg{dataflow.Count()}
	base := func(w dataflow.WindowFn, aggs []dataflow.Agg) dataflow.Aggregation {
		return dataflow.Aggregation{Key: []string{"k"}, Window: w, TimeCol: "t", Aggs: aggs}
	}
	with := func(a dataflow.Aggregation, f func(*dataflow.Aggregation)) dataflow.Aggregation {
		f(&a)
		return a
	}
	cases := []struct {
		name  string
		agg   dataflow.Aggregation
		steps []opStep
	}{{
		name: "fixed window fires exactly when W >= end (I4)",
		agg:  base(fixed10, sum),
		steps: []opStep{
			opAdd("a", 0, 1),
			opAdd("a", 9, 2),
			opAdd("b", 5, 10),
			opAdd("a", 10, 100),
			opWM(9),
			opWM(10).panes("a [0, 10) on-time#0 3", "b [0, 10) on-time#0 10"),
			opWM(19),
			opWM(25).panes("a [10, 20) on-time#0 100"),
		},
	}, {
		name: "a record is late once W >= end + lateness (I5)",
		agg: with(base(fixed10, sum), func(a *dataflow.Aggregation) {
			a.AllowedLateness = 5 * ms
			a.Trigger.LateFirings = true
		}),
		steps: []opStep{
			opAdd("a", 1, 1),
			opWM(10).panes("a [0, 10) on-time#0 1"),
			opAdd("a", 2, 2).panes("a [0, 10) late#1 3"),
			opWM(14),
			opAdd("a", 3, 4).panes("a [0, 10) late#2 7"),
			opWM(15),
			opAdd("a", 4, 8).isLate(),
			opFinish(),
		},
	}, {
		name: "late records without late firings fire one closing pane",
		agg: with(base(fixed10, sum), func(a *dataflow.Aggregation) {
			a.AllowedLateness = 5 * ms
		}),
		steps: []opStep{
			opAdd("a", 1, 1),
			opWM(10).panes("a [0, 10) on-time#0 1"),
			opAdd("a", 2, 2),
			opAdd("a", 3, 4),
			opWM(14),
			opWM(15).panes("a [0, 10) late#1 7"),
			opFinish(),
		},
	}, {
		name: "zero lateness: a record behind the watermark is late at once",
		agg:  base(fixed10, count),
		steps: []opStep{
			opAdd("a", 9, 1),
			opWM(10).panes("a [0, 10) on-time#0 1"),
			opAdd("a", 9, 1).isLate(),
			opAdd("a", 10, 1),
			opFinish().panes("a [10, 20) on-time#0 1"),
		},
	}, {
		name: "a new window behind the watermark but within lateness fires late panes",
		agg: with(base(fixed10, count), func(a *dataflow.Aggregation) {
			a.AllowedLateness = 100 * ms
			a.Trigger.LateFirings = true
		}),
		steps: []opStep{
			opWM(50),
			opAdd("a", 5, 1).panes("a [0, 10) late#0 1"),
			opAdd("a", 6, 1).panes("a [0, 10) late#1 2"),
			opWM(110),
			opAdd("a", 7, 1).isLate(),
		},
	}, {
		name: "sliding windows: a record late for one of its windows is late for all",
		agg:  base(dataflow.SlidingWindows(10*ms, 5*ms), count),
		steps: []opStep{
			opAdd("a", 7, 1),
			opWM(10).panes("a [0, 10) on-time#0 1"),
			opAdd("a", 3, 1).isLate(), // [-5, 5) and [0, 10) are both done
			opAdd("a", 8, 1).isLate(), // [0, 10) is done, [5, 15) is open
			opAdd("a", 10, 1),         // [5, 15) and [10, 20)
			opWM(15).panes("a [5, 15) on-time#0 2"),
			opFinish().panes("a [10, 20) on-time#0 1"),
		},
	}, {
		name: "early panes every EarlyEvery of processing time, for windows with new data",
		agg: with(base(fixed10, sum), func(a *dataflow.Aggregation) {
			a.Trigger.EarlyEvery = 100 * ms
		}),
		steps: []opStep{
			opAdd("b", 1, 10),
			opAdd("a", 1, 1),
			opProc(0).panes("a [0, 10) early#0 1", "b [0, 10) early#0 10"),
			opAdd("a", 2, 2),
			opProc(99),
			opProc(100).panes("a [0, 10) early#1 3"),
			opProc(250),
			opWM(10).panes("a [0, 10) on-time#2 3", "b [0, 10) on-time#1 10"),
			opAdd("a", 12, 5),
			opProc(300).panes("a [10, 20) early#0 5"),
		},
	}, {
		name: "after-count, accumulating",
		agg: with(base(fixed10, sum), func(a *dataflow.Aggregation) {
			a.Trigger.AfterCount = 2
		}),
		steps: []opStep{
			opAdd("a", 1, 1),
			opAdd("a", 2, 2).panes("a [0, 10) early#0 3"),
			opAdd("a", 3, 4),
			opWM(10).panes("a [0, 10) on-time#1 7"),
		},
	}, {
		name: "after-count, discarding",
		agg: with(base(fixed10, sum), func(a *dataflow.Aggregation) {
			a.Trigger.AfterCount = 2
			a.Accumulation = dataflow.Discarding
		}),
		steps: []opStep{
			opAdd("a", 1, 1),
			opAdd("a", 2, 2).panes("a [0, 10) early#0 3"),
			opAdd("a", 3, 4),
			opAdd("b", 3, 4),
			opAdd("b", 3, 4).panes("b [0, 10) early#0 8"),
			opWM(10).panes("a [0, 10) on-time#1 4", "b [0, 10) on-time#1 0"), // FIRE_ALWAYS
		},
	}, {
		name: "discarding late firings carry only the late record",
		agg: with(base(fixed10, sum), func(a *dataflow.Aggregation) {
			a.Accumulation = dataflow.Discarding
			a.AllowedLateness = 10 * ms
			a.Trigger.LateFirings = true
		}),
		steps: []opStep{
			opAdd("a", 1, 1),
			opAdd("a", 2, 2),
			opWM(10).panes("a [0, 10) on-time#0 3"),
			opAdd("a", 3, 4).panes("a [0, 10) late#1 4"),
			opFinish(),
		},
	}, {
		name: "sessions: touching sessions do not merge (I3)",
		agg:  base(dataflow.SessionWindows(10*ms), count),
		steps: []opStep{
			opAdd("a", 0, 1),
			opAdd("a", 10, 1),
			opWM(10).panes("a [0, 10) on-time#0 1"),
			opWM(20).panes("a [10, 20) on-time#0 1"),
		},
	}, {
		name: "sessions: overlapping sessions merge, a bridging record joins two",
		agg:  base(dataflow.SessionWindows(10*ms), sum),
		steps: []opStep{
			opAdd("a", 0, 1),
			opAdd("a", 9, 2),  // [0, 19)
			opAdd("a", 30, 4), // [30, 40)
			opAdd("a", 20, 8), // [20, 30): touches both, merges with neither
			opAdd("b", 25, 100),
			opAdd("a", 25, 16), // [25, 35) joins [20, 30) and [30, 40)
			opWM(19).panes("a [0, 19) on-time#0 3"),
			opWM(39).panes("b [25, 35) on-time#0 100"),
			opWM(40).panes("a [20, 40) on-time#0 28"),
			opFinish().panes(),
		},
	}, {
		name: "sessions: a record is late when W > t + lateness",
		agg: with(base(dataflow.SessionWindows(10*ms), count), func(a *dataflow.Aggregation) {
			a.AllowedLateness = 5 * ms
		}),
		steps: []opStep{
			opAdd("a", 0, 1),
			opWM(15).panes("a [0, 10) on-time#0 1"), // dropped at W >= 15
			opAdd("a", 9, 1).isLate(),               // [9, 19) would overlap the dropped [0, 10)
			opAdd("a", 10, 1),                       // cannot overlap anything dropped
			opAdd("a", 16, 1),
			opWM(25),
			opWM(26).panes("a [10, 26) on-time#0 2"),
			opAdd("a", 21, 1).isLate(), // W > 21 + 5
			opFinish(),
		},
	}, {
		name: "sessions: a closed session's bounds do not change",
		agg: with(base(dataflow.SessionWindows(10*ms), count), func(a *dataflow.Aggregation) {
			a.AllowedLateness = 20 * ms
			a.Trigger.LateFirings = true
		}),
		steps: []opStep{
			opAdd("a", 0, 1),
			opAdd("a", 5, 1),
			opWM(15).panes("a [0, 15) on-time#0 2"),
			opAdd("a", 1, 1).panes("a [0, 15) late#1 3"), // inside: same bounds
			opAdd("a", 8, 1).isLate(),                    // [8, 18) would grow it
			opAdd("a", 15, 1),                            // touches: a new session
			opFinish().panes("a [15, 25) on-time#0 1"),
		},
	}, {
		name: "tumbling count windows fire when full; a partial window is not emitted (I6)",
		agg:  base(dataflow.CountWindows(3, 3), sum),
		steps: []opStep{
			opAdd("a", 100, 1),
			opAdd("b", 0, 5),
			opAdd("a", 0, 2),
			opAdd("a", 50, 4).panes("a [0, 3) on-time#0 7"),
			opAdd("a", 0, 8),
			opWM(1000),
			opFinish().panes(),
		},
	}, {
		name: "sliding count windows",
		agg:  base(dataflow.CountWindows(2, 1), sum),
		steps: []opStep{
			opAdd("a", 0, 1),
			opAdd("a", 0, 2).panes("a [0, 2) on-time#0 3"),
			opAdd("a", 0, 4).panes("a [1, 3) on-time#0 6"),
		},
	}, {
		name: "global windows with after-count, on time at finish",
		agg: with(base(dataflow.GlobalWindows(), sum), func(a *dataflow.Aggregation) {
			a.Trigger.AfterCount = 2
		}),
		steps: []opStep{
			opAdd("a", 0, 1),
			opAdd("a", 1000, 2).panes("a [0, 0) early#0 3"),
			opWM(1 << 40),
			opAdd("a", 0, 4),
			opFinish().panes("a [0, 0) on-time#1 7"),
			opAdd("a", 0, 8).isLate(),
		},
	}, {
		name: "unwindowed aggregation fires only at finish",
		agg: with(base(dataflow.WindowFn{}, sum), func(a *dataflow.Aggregation) {
			a.Trigger.AfterCount = 1
			a.Trigger.EarlyEvery = time.Millisecond
		}),
		steps: []opStep{
			opAdd("a", 0, 1),
			opAdd("b", 0, 2),
			opProc(1000),
			opAdd("a", 0, 4),
			opWM(1 << 40),
			opFinish().panes("a [0, 0) on-time#0 5", "b [0, 0) on-time#0 2"),
		},
	}, {
		name: "having filters panes",
		agg: with(base(fixed10, []dataflow.Agg{dataflow.Count(), dataflow.Sum("v")}), func(a *dataflow.Aggregation) {
			a.Having = dataflow.And(dataflow.Gt(dataflow.Col("value"), dataflow.LitInt(1)), dataflow.Ne(dataflow.Col("key"), dataflow.LitStr("c")))
		}),
		steps: []opStep{
			opAdd("a", 1, 1),
			opAdd("b", 1, 1),
			opAdd("b", 2, 5),
			opAdd("c", 1, 1),
			opAdd("c", 2, 5),
			opWM(10).panes("b [0, 10) on-time#0 2 6"),
		},
	}, {
		name: "processing-time windows use the ingest time (I7)",
		agg: with(base(fixed10, sum), func(a *dataflow.Aggregation) {
			a.Domain = dataflow.ProcessingTime
			a.TimeCol = ""
		}),
		steps: []opStep{
			opAddAt("a", 999, 1, 3),
			opAddAt("a", -5, 2, 12),
			opWM(10).panes("a [0, 10) on-time#0 1"),
			opFinish().panes("a [10, 20) on-time#0 2"),
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newOpHarness(t, tc.agg)
			for i, s := range tc.steps {
				got, late := h.do(s)
				assert.Equal(t, s.want, got, "step %d %v: panes", i, s)
				assert.Equal(t, s.late, late, "step %d %v: late", i, s)
			}
			nLate := 0
			for _, s := range tc.steps {
				if s.late {
					nLate++
				}
			}
			assert.Len(t, h.late, nLate, "rows sent to the late output")
			assert.Equal(t, int64(nLate), h.op.Stats().Late, "Stats().Late")
			assert.Equal(t, int64(len(h.panes)), h.op.Stats().Panes, "Stats().Panes")
		})
	}
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
// give the same panes as the records added one by one.
func TestWindowOperatorMerge(t *testing.T) {
	for _, w := range []dataflow.WindowFn{
		dataflow.FixedWindows(100 * time.Millisecond),
		dataflow.SlidingWindows(100*time.Millisecond, 40*time.Millisecond),
		dataflow.SessionWindows(30 * time.Millisecond),
		dataflow.GlobalWindows(),
	} {
		t.Run(w.String(), func(t *testing.T) {
			a := dataflow.Aggregation{Key: []string{"k"}, Window: w, TimeCol: "t",
				Aggs: []dataflow.Agg{dataflow.Sum("v"), dataflow.Count(), dataflow.Max("t")}}
			byAdd := newOpHarness(t, a)
			byMerge := newOpHarness(t, a)
			rng := rand.New(rand.NewPCG(3, 4))
			var rows []dataflow.Row
			for range 300 {
				rows = append(rows, opRow(string(rune('a'+rng.IntN(3))), int64(rng.IntN(1000)), int64(rng.IntN(100))))
			}
			// One "batch": pre-aggregate per key and (proto-)window.
			type kw struct {
				key string
				w   dataflow.Window
			}
			type part struct {
				accs []dataflow.Accumulator
				n    int64
				max  dataflow.Time
			}
			parts := map[kw]*part{}
			var order []kw
			for _, r := range rows {
				byAdd.op.Add(r, 0)
				for _, win := range w.Assign(nil, r[1].Time()) {
					if w.Kind == dataflow.WindowSession {
						win = dataflow.Window{Start: r[1].Time(), End: r[1].Time() + dataflow.Time(w.Gap)}
					}
					k := kw{r[0].S, win}
					p := parts[k]
					if p == nil {
						p = &part{max: dataflow.MinTime}
						for _, g := range a.Aggs {
							kind := dataflow.KindInvalid
							if g.Col != "" {
								f, _, _ := opSchema.Lookup(g.Col)
								kind = f.Kind
							}
							p.accs = append(p.accs, g.NewAccumulator(kind))
						}
						parts[k] = p
						order = append(order, k)
					}
					p.accs[0].Add(r[2])
					p.accs[1].Add(dataflow.Value{})
					p.accs[2].Add(r[1])
					p.n++
					p.max = max(p.max, r[1].Time())
				}
			}
			for _, k := range order {
				p := parts[k]
				byMerge.op.Merge(k.key, k.w, p.accs, p.n, p.max, 0)
			}
			byAdd.op.Finish()
			byMerge.op.Finish()
			sortPanes := func(ps []dataflow.Pane) []string {
				var out []string
				for _, p := range ps {
					out = append(out, opPane(p)+" max="+p.MaxEventTime.String())
				}
				slices.Sort(out)
				return out
			}
			require.NotEmpty(t, byAdd.panes)
			assert.Equal(t, sortPanes(byAdd.panes), sortPanes(byMerge.panes), "panes by Merge vs by Add")
		})
	}
}

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
			if w.Kind == dataflow.WindowSession && (tr.EarlyEvery > 0 || tr.AfterCount > 0) {
				continue // speculative session panes may be for bounds the session outgrows
			}
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
	op, err := dataflow.NewWindowOperator(&a, opSchema, dataflow.OperatorConfig{
		Emit: func(p dataflow.Pane) {
			k := wk{p.Window, p.Key}
			prev, ok := final[k]
			if !ok || a.Accumulation == dataflow.Accumulating {
				final[k] = p.Result
				return
			}
			v, err := dataflow.CombineResults(a.Aggs[0].Kind, prev.Value, p.Value)
			require.NoError(t, err)
			prev.Value = v
			for i := range prev.Extra {
				prev.Extra[i], err = dataflow.CombineResults(a.Aggs[i+1].Kind, prev.Extra[i], p.Extra[i])
				require.NoError(t, err)
			}
			final[k] = prev
		},
		Late: func(_ dataflow.Row, ingest int64) { late[ingest/1e6] = true },
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
// advances. The result must equal Reference minus the reported records.
func TestWindowOperatorMergeExact(t *testing.T) {
	ms := time.Millisecond
	for _, w := range []dataflow.WindowFn{
		dataflow.FixedWindows(100 * ms),
		dataflow.SlidingWindows(100*ms, 40*ms),
		dataflow.SessionWindows(15 * ms),
		dataflow.GlobalWindows(),
	} {
		for _, lateness := range []time.Duration{0, 60 * ms} {
			for _, tr := range []dataflow.Trigger{{}, {LateFirings: true}} {
				name := fmt.Sprintf("%v/lateness=%v/late-firings=%v", w, lateness, tr.LateFirings)
				t.Run(name, func(t *testing.T) {
					a := dataflow.Aggregation{Key: []string{"k"}, Window: w, TimeCol: "t", AllowedLateness: lateness,
						Trigger: tr, Aggs: []dataflow.Agg{dataflow.Sum("v"), dataflow.Count(), dataflow.Max("t")}}
					for seed := uint64(1); seed <= 3; seed++ {
						opCheckMergeExact(t, seed, a)
					}
				})
			}
		}
	}
}

func opCheckMergeExact(t *testing.T, seed uint64, a dataflow.Aggregation) {
	rng := rand.New(rand.NewPCG(seed, 31))
	recs := make([]dataflow.Record, 600)
	for i := range recs {
		recs[i] = dataflow.Record{
			Row:    opRow(fmt.Sprintf("k%d", rng.IntN(4)), int64(i)*2+int64(rng.IntN(120))-60, int64(rng.IntN(50))),
			Offset: int64(i), IngestNanos: int64(i) * 1e6,
		}
	}
	bound := dataflow.Time(rng.IntN(60))
	type wk struct {
		w   dataflow.Window
		key string
	}
	final := map[wk]dataflow.Result{}
	late := map[int64]bool{}
	lateByOp := 0
	op, err := dataflow.NewWindowOperator(&a, opSchema, dataflow.OperatorConfig{
		Emit: func(p dataflow.Pane) { final[wk{p.Window, p.Key}] = p.Result },
		Late: func(_ dataflow.Row, ingest int64) { late[ingest/1e6] = true; lateByOp++ },
	})
	require.NoError(t, err)
	type part struct {
		key  string
		w    dataflow.Window
		recs []dataflow.Record
	}
	maxT := dataflow.MinTime
	refused := 0
	const batch = 25
	for b := 0; b < len(recs); b += batch {
		var parts []*part
		byKW := map[wk]*part{}
		protos := map[string][]dataflow.Window{}
		for _, r := range recs[b : b+batch] {
			ts := r.Row[1].Time()
			maxT = max(maxT, ts)
			if op.IsLateTime(ts) {
				late[r.Offset] = true
				continue
			}
			if a.Window.Kind == dataflow.WindowSession {
				protos[r.Row[0].S] = append(protos[r.Row[0].S], dataflow.Window{Start: ts, End: ts + dataflow.Time(a.Window.Gap)})
			}
			for _, win := range a.Window.Assign(nil, ts) {
				k := wk{win, r.Row[0].S}
				if byKW[k] == nil {
					byKW[k] = &part{key: k.key, w: win}
					parts = append(parts, byKW[k])
				}
				byKW[k].recs = append(byKW[k].recs, r)
			}
		}
		if a.Window.Kind == dataflow.WindowSession {
			// Regroup the records by their merged session within the batch.
			sessions := map[string][]dataflow.Window{}
			for k, ps := range protos {
				sessions[k] = dataflow.MergeSessions(ps)
			}
			var merged []*part
			for _, p := range parts {
				for _, s := range sessions[p.key] {
					if s.Contains(p.w.Start) {
						m := byKW[wk{s, p.key}]
						if m == nil || m == p {
							m = &part{key: p.key, w: s}
							byKW[wk{s, p.key}] = m
							merged = append(merged, m)
						}
						m.recs = append(m.recs, p.recs...)
					}
				}
			}
			parts = merged
		}
		for _, p := range parts {
			if !op.Accepts(p.key, p.w) {
				refused++
				for _, r := range p.recs {
					op.Add(r.Row, r.IngestNanos)
				}
				continue
			}
			accs := make([]dataflow.Accumulator, len(a.Aggs))
			accs[0] = a.Aggs[0].NewAccumulator(dataflow.KindInt64)
			accs[1] = a.Aggs[1].NewAccumulator(dataflow.KindInvalid)
			accs[2] = a.Aggs[2].NewAccumulator(dataflow.KindTimestamp)
			mx := dataflow.MinTime
			for _, r := range p.recs {
				accs[0].Add(r.Row[2])
				accs[1].Add(dataflow.Value{})
				accs[2].Add(r.Row[1])
				mx = max(mx, r.Row[1].Time())
			}
			op.Merge(p.key, p.w, accs, int64(len(p.recs)), mx, 0)
		}
		op.AdvanceWatermark(maxT - bound)
	}
	op.Finish()
	t.Logf("seed %d: %d records late before pre-aggregation, %d by Add, %d parts refused", seed, len(late)-lateByOp, lateByOp, refused)
	require.Equal(t, int64(lateByOp), op.Stats().Late, "seed %d: Stats().Late counts only records reported one by one", seed)
	p := dataflow.NewPipeline("merge", opSchema).Aggregate(a)
	want, err := dataflow.Reference(p, slices.Values(recs), dataflow.ReferenceOptions{
		Exclude: func(_ int, off int64) bool { return late[off] },
	})
	require.NoError(t, err)
	got := make([]dataflow.Result, 0, len(final))
	for _, r := range final {
		got = append(got, r)
	}
	dataflow.SortResults(got)
	require.Equal(t, len(want), len(got), "seed %d (%d late): number of windows", seed, len(late))
	for i := range want {
		require.True(t, opResultsMatch(want[i], got[i]), "seed %d result %d: operator %v, reference %v", seed, i, got[i], want[i])
	}
}

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
