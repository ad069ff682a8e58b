package compare

import (
	"math"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/metrics"
)

// tdOutcome is an outcome whose every part holds: approaches exact, the
// paced sweep on its expected curve, processing-time windows moving delayed
// records, the sketch below 1 at width 4.
func tdOutcome() timeDomainsOutcome {
	return timeDomainsOutcome{
		Approaches:   map[string]runEnd{"1 time-agnostic": {Exact: true}, "4 event-time fixed windows": {Exact: true}},
		Recall:       math.NaN(),
		LateShare:    map[time.Duration]spread{0: sp(4, 5, 6), time.Second: sp(1, 1, 1), 4 * time.Second: sp(0, 0, 0)},
		Expected:     map[time.Duration]float64{0: 5.5, time.Second: 1.2, 4 * time.Second: 0},
		Moved:        map[string]spread{procDelayed: sp(12, 13, 14), procInOrder: sp(0.4, 0.7, 0.8)},
		ProcRuns:     map[string]runEnd{procDelayed: {Exact: true}, procInOrder: {Exact: true}},
		SketchRecall: map[int]spread{4: sp(0.04, 0.06, 0.08), 64: sp(0.74, 0.79, 0.80), 2048: sp(1, 1, 1)},
		DefaultWidth: 2048,
	}
}

func TestVerdictTimeDomains(t *testing.T) {
	with := func(f func(o *timeDomainsOutcome)) timeDomainsOutcome {
		o := tdOutcome()
		f(&o)
		return o
	}
	withSweep := func(s map[int]spread) timeDomainsOutcome {
		return with(func(o *timeDomainsOutcome) { o.SketchRecall = s })
	}
	reversed := func(o *timeDomainsOutcome) {
		o.LateShare = map[time.Duration]spread{0: sp(0, 0, 0), time.Second: sp(1, 1, 1), 4 * time.Second: sp(4, 5, 6)}
		o.Expected = map[time.Duration]float64{0: 0, time.Second: 1, 4 * time.Second: 5}
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictTimeDomains(tdOutcome()) }, Holds, []string{"5 [4-6]% at bound 0s", "at bound 4s", "0s: 5 [4-6]% (expected 5.50)", "13 [12-14]% with delayed ingestion", "4: 0.06 [0.04-0.08], 64: 0.79 [0.74-0.8], 2048: 1 [1-1]", "below 1 at 4 counters per row"}},
		{"does not hold: approach differs", func() Verdict {
			return verdictTimeDomains(with(func(o *timeDomainsOutcome) {
				o.Approaches = map[string]runEnd{"1 time-agnostic": {Check: "NO (lost 1)"}}
			}))
		}, DoesNotHold, []string{"NO (lost 1)"}},
		{"does not hold: tighter drops less", func() Verdict { return verdictTimeDomains(with(reversed)) }, DoesNotHold, []string{"drops less", "shown: late share by bound"}},
		{"does not hold: the smallest sketch misses nothing", func() Verdict {
			return verdictTimeDomains(withSweep(map[int]spread{4: sp(1, 1, 1), 2048: sp(1, 1, 1)}))
		}, DoesNotHold, []string{"even 4 counters per row miss no top-N entry", "shown: all 2 approaches match"}},
		{"inconclusive: inside the spread", func() Verdict {
			return verdictTimeDomains(with(func(o *timeDomainsOutcome) {
				o.LateShare = map[time.Duration]spread{0: sp(0.1, 0.3, 0.5), time.Second: sp(0.1, 0.2, 0.3), 4 * time.Second: sp(0, 0.2, 0.4)}
				o.Expected = map[time.Duration]float64{0: 0.3, time.Second: 0.2, 4 * time.Second: 0.2}
			}))
		}, Inconclusive, []string{"inside the spread"}},
		{"inconclusive: recall not monotone in the width", func() Verdict {
			return verdictTimeDomains(withSweep(map[int]spread{4: sp(0.5, 0.6, 0.7), 64: sp(0.1, 0.2, 0.3), 2048: sp(1, 1, 1)}))
		}, Inconclusive, []string{"not monotone, width 64 recalls less than width 4"}},
		{"inconclusive: the default width does not reach 1", func() Verdict {
			return verdictTimeDomains(withSweep(map[int]spread{4: sp(0.1, 0.2, 0.3), 2048: sp(0.9, 0.95, 1)}))
		}, Inconclusive, []string{"2048: 0.95 [0.9-1]", "at least 0.99 at 2048"}},
		{"inconclusive: the sweep stops below the default", func() Verdict {
			return verdictTimeDomains(withSweep(map[int]spread{4: sp(0.1, 0.2, 0.3), 64: sp(0.9, 0.95, 1)}))
		}, Inconclusive, []string{"the sketch-width sweep has 2 widths [4 64]"}},
	})
}

func TestVerdictLateCurve(t *testing.T) {
	with := func(share map[time.Duration]spread, f func(o *timeDomainsOutcome)) func() Verdict {
		return func() Verdict {
			o := tdOutcome()
			o.LateShare = share
			if f != nil {
				f(&o)
			}
			return verdictLateCurve(o)
		}
	}
	ms := time.Millisecond
	runVerdictCases(t, []verdictCase{
		{"holds: on the curve", with(map[time.Duration]spread{0: sp(5, 5.2, 6), time.Second: sp(0.9, 1, 1.1), 4 * time.Second: sp(0, 0, 0)}, func(o *timeDomainsOutcome) {
			o.WatermarkLag = sp(0, 1, 3)
			o.ExpectedAtLag = map[time.Duration]float64{0: 5, time.Second: 1, 4 * time.Second: 0}
		}), Holds, []string{"0s: 5.20 [5-6]% (expected 5.50)", "largest distance of a median from the expected curve 0.3 points", "0.2 from the curve at the measured watermark lag", "1 [0-3] ms", "within 2.00 points"}},
		{"does not hold: above the curve at two bounds", with(map[time.Duration]spread{0: sp(9, 10, 11), time.Second: sp(4, 5, 6), 4 * time.Second: sp(0, 0, 0)}, nil), DoesNotHold, []string{"more than 2.00 points above the expected share at bounds [0s 1s]"}},
		{"does not hold: below the curve at two bounds", with(map[time.Duration]spread{0: sp(1, 1, 1), time.Second: sp(0, 0, 0), 4 * time.Second: sp(0, 0, 0)}, func(o *timeDomainsOutcome) {
			o.Expected = map[time.Duration]float64{0: 5.5, time.Second: 3.2, 4 * time.Second: 0}
		}), DoesNotHold, []string{"below it at [0s 1s]"}},
		{"inconclusive: one bound off", with(map[time.Duration]spread{0: sp(9, 10, 11), time.Second: sp(0.9, 1, 1.1), 4 * time.Second: sp(0, 0, 0)}, nil), Inconclusive, []string{"beyond 2.00 points of the expected curve at bounds [0s]"}},
		{"inconclusive: median off, spread overlapping", with(map[time.Duration]spread{0: sp(2, 8, 9), time.Second: sp(1, 1, 1), 4 * time.Second: sp(0, 0, 0)}, nil), Inconclusive, []string{"at bounds [0s]"}},
		{"inconclusive: a failed trial", with(map[time.Duration]spread{}, func(o *timeDomainsOutcome) {
			o.LateFailed = map[time.Duration]string{500 * ms: "hung (cut by its time limit)"}
		}), Inconclusive, []string{"bound 500ms: hung"}},
		{"inconclusive: too few repetitions", with(map[time.Duration]spread{0: sp(5, 5), time.Second: sp(1, 1, 1), 4 * time.Second: sp(0, 0, 0)}, nil), Inconclusive, []string{"bound 0s has 2 repetitions"}},
		{"inconclusive: too few bounds", with(map[time.Duration]spread{0: sp(5, 5, 5)}, func(o *timeDomainsOutcome) {
			o.Expected = map[time.Duration]float64{0: 5}
		}), Inconclusive, []string{"1 bounds"}},
	})
}

func TestVerdictProcTime(t *testing.T) {
	with := func(f func(o *timeDomainsOutcome)) func() Verdict {
		return func() Verdict {
			o := tdOutcome()
			f(&o)
			return verdictProcTime(o)
		}
	}
	runVerdictCases(t, []verdictCase{
		{"holds", with(func(*timeDomainsOutcome) {}), Holds, []string{"13 [12-14]% with delayed ingestion, 0.7 [0.4-0.8]% in order"}},
		{"does not hold: no more moved than in order", with(func(o *timeDomainsOutcome) { o.Moved[procDelayed] = sp(0.2, 0.3, 0.4) }), DoesNotHold, []string{"0.3 [0.2-0.4]% with delayed ingestion", "moves no more records"}},
		{"does not hold: the processing-time answer differs", with(func(o *timeDomainsOutcome) { o.ProcRuns[procDelayed] = runEnd{Check: "NO (lost 3)"} }), DoesNotHold, []string{"NO (lost 3)"}},
		{"inconclusive: inside the spread", with(func(o *timeDomainsOutcome) { o.Moved[procDelayed] = sp(0.5, 1, 2) }), Inconclusive, []string{"inside the spread"}},
		{"inconclusive: a failed trial", with(func(o *timeDomainsOutcome) { o.ProcRuns[procInOrder] = runEnd{Failed: "hung (cut by its time limit)"} }), Inconclusive, []string{"in-order ingestion (control): hung"}},
	})
}

// bruteLateShare simulates the late rule record by record: every event
// time t in [0, span) ms, every delay of the skew's distribution (weighted),
// arrival cut at the end of the data, late when the watermark at arrival
// (arrival - bound - lag) reaches the window end plus lateness.
func bruteLateShare(sk datasets.Skew, window, lateness, span, bound, lag time.Duration) float64 {
	size, total := window.Milliseconds(), span.Milliseconds()
	var sum float64
	for t := range total {
		end := (t/size + 1) * size
		late := func(d int64) bool {
			arrival := min(t+d, total-1)
			return arrival-(bound+lag).Milliseconds() >= end+lateness.Milliseconds()
		}
		if dm := sk.Delay.Milliseconds(); sk.OutOfOrder > 0 {
			for d := range dm + 1 {
				if late(d) {
					sum += sk.OutOfOrder / float64(dm+1)
				}
			}
		}
		if lm := sk.LateDelay.Milliseconds(); sk.Late > 0 {
			for d := lm - lm/2; d <= lm; d++ {
				if late(d) {
					sum += sk.Late / float64(lm/2+1)
				}
			}
		}
	}
	return 100 * sum / float64(total)
}

func TestExpectedLateShare(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		sk                                 datasets.Skew
		window, lateness, span, bound, lag time.Duration
	}{
		{datasets.Skew{OutOfOrder: 0.2, Delay: 400 * ms}, 200 * ms, 0, time.Second, 0, 0},
		{datasets.Skew{OutOfOrder: 0.2, Delay: 400 * ms}, 200 * ms, 0, 1500 * ms, 100 * ms, 3 * ms},
		{datasets.Skew{OutOfOrder: 0.05, Delay: 2000 * ms}, 1000 * ms, 250 * ms, 3000 * ms, 500 * ms, 0},
		{datasets.Skew{OutOfOrder: 0.1, Delay: 50 * ms, Late: 0.02, LateDelay: 900 * ms}, 100 * ms, 0, 2000 * ms, 200 * ms, 0},
	} {
		got := expectedLateShare(c.sk, c.window, c.lateness, c.span, c.bound, c.lag)
		assert.InDelta(t, bruteLateShare(c.sk, c.window, c.lateness, c.span, c.bound, c.lag), got, 1e-9, "%+v", c)
	}
	sk := datasets.Skew{OutOfOrder: 0.2, Delay: 400 * ms}
	prev := math.Inf(1)
	for b := time.Duration(0); b <= 500*ms; b += 50 * ms {
		e := expectedLateShare(sk, 200*ms, 0, 1500*ms, b, 0)
		assert.LessOrEqual(t, e, prev, "a looser bound drops no more (bound %v)", b)
		prev = e
	}
	assert.Zero(t, expectedLateShare(sk, 200*ms, 0, 1500*ms, 400*ms, 0), "a bound at the largest delay drops nothing")
	// One-millisecond windows over a long span: a delay d is late when
	// d >= 1 + bound, a share (D - bound) / (D + 1) of the delayed records.
	assert.InDelta(t, 20*300.0/401, expectedLateShare(sk, ms, 0, time.Hour, 100*ms, 0), 0.01)
	assert.True(t, math.IsNaN(expectedLateShare(sk, 0, 0, time.Second, 0, 0)), "no window size")
}

// TestExpectedLateShareSimulated draws delays like the generator (a share
// delayed uniformly by 0..Delay ms) and applies the rule to each record:
// the drawn share agrees with the expected one.
func TestExpectedLateShareSimulated(t *testing.T) {
	sk := datasets.Skew{OutOfOrder: 0.2, Delay: 400 * time.Millisecond}
	rng := rand.New(rand.NewPCG(1, 2))
	const perMs, total, size, bound = 20, 1500, 200, 100
	var late, n int
	for t0 := range int64(total) {
		for range perMs {
			n++
			if rng.Float64() >= sk.OutOfOrder {
				continue
			}
			d := rng.Int64N(401)
			if min(t0+d, total-1)-bound >= (t0/size+1)*size {
				late++
			}
		}
	}
	want := expectedLateShare(sk, size*time.Millisecond, 0, total*time.Millisecond, bound*time.Millisecond, 0)
	assert.InDelta(t, want, 100*float64(late)/float64(n), 0.3)
}

// traceRows builds a trace: records (event ms, ingest ms on the wall clock,
// shift 1000 ms) and panes (emit ms, watermark ms).
func traceRows(records [][2]int64, panes [][2]int64) []datasets.TraceRow {
	var rows []datasets.TraceRow
	for _, r := range records {
		rows = append(rows, datasets.TraceRow{Kind: datasets.TraceRecord, EventTimeMs: r[0], EventTimeShiftMs: 1000, IngestNanos: r[1] * 1e6})
	}
	for _, p := range panes {
		rows = append(rows, datasets.TraceRow{Kind: datasets.TracePane, EmitNanos: p[0] * 1e6, WatermarkMs: p[1], PaneTiming: dataflow.PaneOnTime})
	}
	return rows
}

func TestTraceFigures(t *testing.T) {
	// Event times 0, 50, 120, 130 ms arrive at 1000, 1050, 1250, 1130 ms
	// of wall clock (shift 1000): the third is delayed 130 ms.
	rows := traceRows([][2]int64{{0, 1000}, {50, 1050}, {120, 1250}, {130, 1130}},
		[][2]int64{{1300, 200}, {1200, 150}})
	rows = append(rows, datasets.TraceRow{Kind: datasets.TracePane, EmitNanos: 1400e6, WatermarkMs: int64(dataflow.MaxTime), PaneTiming: dataflow.PaneOnTime},
		datasets.TraceRow{Kind: datasets.TracePane, EmitNanos: 1100e6, WatermarkMs: 90, PaneTiming: dataflow.PaneMerged})

	moved, total := movedRecords(rows, 100*time.Millisecond)
	assert.Equal(t, 4, total)
	assert.Equal(t, 1, moved, "only the delayed record's ingest time is in another 100 ms window")

	lag := watermarkLagSeries(rows)
	assert.Equal(t, metrics.Series{{T: 0.2, V: 50}, {T: 0.3, V: 100}}, lag, "by emit time, without the end's watermark or a merge notice")
	assert.Equal(t, []float64{0, 50}, watermarkExtraLag(rows, 50*time.Millisecond))

	recs, wm := eventProcScatter(rows, 2)
	require.Len(t, recs, 2, "every second record")
	assert.Equal(t, metrics.Series{{T: 0, V: 0}, {T: 0.25, V: 0.12}}, recs)
	assert.Equal(t, metrics.Series{{T: 0.2, V: 0.15}, {T: 0.3, V: 0.2}}, wm)

	assert.Nil(t, watermarkLagSeries(nil))
	r, w := eventProcScatter(nil, 10)
	assert.Nil(t, r)
	assert.Nil(t, w)
}

func TestAnswerDifference(t *testing.T) {
	// Records at event times 0, 50, 120, 130 ms (shift 1000): the
	// event-time totals on the wall clock are 2 in [1000, 1100) and 2 in
	// [1100, 1200). A processing-time answer of 1 and 3 moved one record.
	rows := traceRows([][2]int64{{0, 1000}, {50, 1050}, {120, 1250}, {130, 1130}}, nil)
	res := func(counts ...int64) []dataflow.Result {
		var out []dataflow.Result
		for i, c := range counts {
			start := dataflow.Time(1000 + 100*i)
			out = append(out, dataflow.Result{Window: dataflow.Window{Start: start, End: start + 100}, Key: "view", Value: dataflow.Int(c)})
		}
		return out
	}
	diff, counted := answerDifference(res(1, 3), rows, 100*time.Millisecond)
	assert.Equal(t, int64(1), diff)
	assert.Equal(t, int64(4), counted)
	diff, _ = answerDifference(res(2, 2), rows, 100*time.Millisecond)
	assert.Zero(t, diff, "the same totals")
	diff, counted = answerDifference(res(1, 1, 2), rows, 100*time.Millisecond)
	assert.Equal(t, int64(2), diff, "two records moved to the third window")
	assert.Equal(t, int64(4), counted)
}

// TestRunLateSweepSmoke runs a tiny paced sweep in a synctest bubble (the
// pacing waits on the bubble's clock, so no real time passes) and checks
// that it fills the outcome, the table and the figures; it asserts no
// figure's size.
func TestRunLateSweepSmoke(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := time.Millisecond
		sw := lateSweepSpec{Skew: datasets.Skew{OutOfOrder: 0.2, Delay: 100 * ms}, Window: 50 * ms, Span: 300 * ms, Rate: 5_000,
			Bounds: []time.Duration{0, 50 * ms, 150 * ms}, TraceBound: 50 * ms, TraceWindow: 10 * ms, WatermarkInterval: 200 * ms}
		res := &ExperimentResult{}
		o := timeDomainsOutcome{Approaches: map[string]runEnd{}}
		runLateSweep(t.Context(), sw, minReps, res, &o, nil)
		assert.Empty(t, o.LateFailed)
		require.Len(t, o.LateShare, 3)
		for b, s := range o.LateShare {
			assert.Equal(t, minReps, s.N, "bound %v", b)
		}
		assert.Zero(t, o.LateShare[150*ms].Max, "a bound past the largest delay drops nothing")
		assert.Len(t, o.Expected, 3)
		assert.Contains(t, o.Approaches, "4 event-time, bound past the largest delay (150ms)")
		assert.Equal(t, minReps, o.Moved[procDelayed].N)
		assert.Equal(t, minReps, o.Moved[procInOrder].N)
		assert.True(t, o.ProcRuns[procDelayed].Exact, o.ProcRuns[procDelayed].Check)
		var names []string
		for _, s := range res.Series {
			names = append(names, s.Name)
		}
		assert.Equal(t, []string{"late-share", "event-vs-processing", "watermark-lag"}, names)
		assert.Len(t, res.Table.Rows, 3+1+2, "a row per bound, the traced run, two processing-time runs")
	})
}
