package compare

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/metrics"
)

func TestVerdictBatchStream(t *testing.T) {
	run := func(stream, batch spread) batchStreamRun {
		return batchStreamRun{StreamFirstMs: stream, BatchMs: batch, SameAnswer: 3, Reps: 3, Check: "yes (5/5 windows)"}
	}
	o := func(short, long batchStreamRun) batchStreamOutcome {
		return batchStreamOutcome{Stream: []string{"rs"}, Spans: []time.Duration{time.Second, 4 * time.Second}, Growth: "rs",
			Runs: map[string]batchStreamRun{batchStreamLabel("rs", time.Second): short, batchStreamLabel("rs", 4*time.Second): long}}
	}
	good := func() batchStreamOutcome {
		return o(run(sp(300, 302, 305), sp(1000, 1003, 1010)), run(sp(301, 303, 306), sp(4000, 4003, 4010)))
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictBatchStream(good()) }, Holds, []string{"302 [300-305]", "1003 [1000-1010]", "4003 [4000-4010] ms with 4s"}},
		{"does not hold: batch first", func() Verdict {
			return verdictBatchStream(o(run(sp(1500, 1600, 1700), sp(1000, 1003, 1010)), run(sp(301, 303, 306), sp(4000, 4003, 4010))))
		}, DoesNotHold, []string{"1600 [1500-1700]"}},
		{"does not hold: batch latency does not grow with the span", func() Verdict {
			return verdictBatchStream(o(run(sp(300, 302, 305), sp(5000, 5003, 5010)), run(sp(301, 303, 306), sp(4000, 4003, 4010))))
		}, DoesNotHold, []string{"5003 [5000-5010] ms with 1s"}},
		{"does not hold: streaming differs from the batch answer", func() Verdict {
			x := good()
			r := x.Runs[batchStreamLabel("rs", time.Second)]
			r.SameAnswer, r.Check = 2, "no (4/5 windows, 1 lost)"
			x.Runs[batchStreamLabel("rs", time.Second)] = r
			return verdictBatchStream(x)
		}, DoesNotHold, []string{"2 of 3", "1 lost"}},
		{"inconclusive: first result inside the spread", func() Verdict {
			return verdictBatchStream(o(run(sp(300, 900, 1005), sp(1000, 1003, 1010)), run(sp(301, 303, 306), sp(4000, 4003, 4010))))
		}, Inconclusive, []string{"inside the spread", "900 [300-1005]"}},
		{"inconclusive: growth inside the spread", func() Verdict {
			return verdictBatchStream(o(run(sp(300, 302, 305), sp(1000, 1003, 4500)), run(sp(301, 303, 306), sp(4000, 4003, 4010))))
		}, Inconclusive, []string{"1003 [1000-4500]"}},
		{"inconclusive: one span", func() Verdict {
			x := good()
			delete(x.Runs, batchStreamLabel("rs", 4*time.Second))
			return verdictBatchStream(x)
		}, Inconclusive, []string{"1 input spans"}},
		{"inconclusive: too few repetitions", func() Verdict {
			return verdictBatchStream(o(run(sp(300, 302), sp(1000, 1003)), run(sp(301, 303, 306), sp(4000, 4003, 4010))))
		}, Inconclusive, []string{"2 and 2 repetitions"}},
		{"inconclusive: failed", func() Verdict {
			x := good()
			x.Runs[batchStreamLabel("rs", time.Second)] = batchStreamRun{Failed: "hung (cut by its time limit)"}
			return verdictBatchStream(x)
		}, Inconclusive, []string{"hung"}},
	})
}

// TestAvailabilityOf checks the reading of a trace: time zero at the first
// ingest, a result available at its last non-merged pane, the batch answer
// at the last ingest plus compute, window ends on the wall clock.
func TestAvailabilityOf(t *testing.T) {
	w1 := dataflow.Window{Start: 0, End: 200}
	w2 := dataflow.Window{Start: 200, End: 400}
	ms := int64(time.Millisecond)
	base := int64(1_000_000) * ms // the first ingest, ns
	shift := base / ms            // event time 0 is the first ingest
	rep := &Report{
		Outcome: &Outcome{Results: []dataflow.Result{{Window: w1, Key: "a"}, {Window: w2, Key: "a"}}},
		Trace: []datasets.TraceRow{
			{Kind: datasets.TraceRecord, IngestNanos: base + 10*ms, EventTimeShiftMs: shift},
			{Kind: datasets.TraceRecord, IngestNanos: base, EventTimeShiftMs: shift},
			{Kind: datasets.TraceRecord, IngestNanos: base + 500*ms, EventTimeShiftMs: shift},
			{Kind: datasets.TracePane, WindowStartMs: 0, WindowEndMs: 200, Key: "a", EmitNanos: base + 250*ms, PaneTiming: dataflow.PaneEarly},
			{Kind: datasets.TracePane, WindowStartMs: 0, WindowEndMs: 200, Key: "a", EmitNanos: base + 300*ms, PaneTiming: dataflow.PaneOnTime},
			{Kind: datasets.TracePane, WindowStartMs: 0, WindowEndMs: 200, Key: "a", EmitNanos: base + 900*ms, PaneTiming: dataflow.PaneMerged},
			{Kind: datasets.TracePane, WindowStartMs: 200, WindowEndMs: 400, Key: "a", EmitNanos: base + 510*ms, PaneTiming: dataflow.PaneOnTime},
		},
	}
	a, err := availabilityOf(rep, 20*time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, []int64{300 * ms, 510 * ms}, a.Stream)
	assert.Equal(t, []int64{200 * ms, 400 * ms}, a.WindowEnd)
	assert.Equal(t, 500*ms, a.InputEnd)
	assert.Equal(t, 520*ms, a.Batch)
	assert.InDelta(t, 105, medianDelayMs(a, false), 1e-9, "median of 100 and 110 ms")
	assert.InDelta(t, 220, medianDelayMs(a, true), 1e-9, "median of 320 and 120 ms")

	rep.Outcome.Results = append(rep.Outcome.Results, dataflow.Result{Window: w2, Key: "b"})
	_, err = availabilityOf(rep, 0)
	assert.ErrorContains(t, err, "no pane")
}

func TestStaircase(t *testing.T) {
	s := staircase([]int64{2e9, 1e9, 2e9, 4e9})
	assert.Equal(t, metrics.Series{{T: 0, V: 0}, {T: 1, V: 0}, {T: 1, V: 0.25}, {T: 2, V: 0.25}, {T: 2, V: 0.75}, {T: 4, V: 0.75}, {T: 4, V: 1}}, s)
}

// TestBatchStreamTrialSmoke runs one tiny paced trial end to end.
func TestBatchStreamTrialSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("paced run")
	}
	w := ysbVariant("ysb-200ms", dataflow.FixedWindows(200*time.Millisecond), 100*time.Millisecond)
	e := SuiteEntry{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-most-once", WatermarkInterval: 50 * time.Millisecond}}
	run, a := runBatchStreamTrial(t.Context(), w, e, DataSpec{Events: 2_000, Rate: 10_000}, 1, nil)
	require.Empty(t, run.Failed)
	assert.Equal(t, 1, run.SameAnswer, run.Check)
	assert.NotEmpty(t, a.Stream)
	assert.GreaterOrEqual(t, a.Batch, a.InputEnd)
}
