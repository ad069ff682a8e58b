package compare

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

func TestVerdictScenarios(t *testing.T) {
	exact := func(p99 spread, req float64) scenarioRun {
		return scenarioRun{ReqMs: req, P99Ms: p99, ExactReps: 3, Reps: 3, Check: "yes (8/8 windows)"}
	}
	approx := func(p99, recall spread) scenarioRun {
		r := exact(p99, 1000)
		r.RecallFloor, r.Recall = 0.9, recall
		return r
	}
	o := func(fraud, rec scenarioRun) scenariosOutcome {
		return scenariosOutcome{Scenarios: []string{"fraud", "recommendation"}, Runs: map[string]scenarioRun{"fraud": fraud, "recommendation": rec}}
	}
	good := func() scenariosOutcome {
		return o(exact(sp(290, 294, 297), 1000), approx(sp(300, 308, 311), sp(0.98, 1, 1)))
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictScenarios(good()) }, Holds, []string{"fraud: p99 294 [290-297] ms against at most 1000 ms", "recall 1 [0.98-1] against a floor of 0.90"}},
		{"does not hold: latency missed in every repetition", func() Verdict {
			return verdictScenarios(o(exact(sp(1200, 1300, 1400), 1000), approx(sp(300, 308, 311), sp(1, 1, 1))))
		}, DoesNotHold, []string{"1300 [1200-1400]", "at most 1000"}},
		{"does not hold: never exact", func() Verdict {
			x := good()
			r := x.Runs["fraud"]
			r.ExactReps, r.Check = 0, "no (7/8 windows, 1 lost)"
			x.Runs["fraud"] = r
			return verdictScenarios(x)
		}, DoesNotHold, []string{"exact in 0 of 3", "1 lost"}},
		{"does not hold: recall below the floor", func() Verdict {
			return verdictScenarios(o(exact(sp(290, 294, 297), 1000), approx(sp(300, 308, 311), sp(0.5, 0.6, 0.7))))
		}, DoesNotHold, []string{"recall 0.6 [0.5-0.7]"}},
		{"inconclusive: missed in some repetitions", func() Verdict {
			return verdictScenarios(o(exact(sp(900, 950, 1100), 1000), approx(sp(300, 308, 311), sp(1, 1, 1))))
		}, Inconclusive, []string{"some repetitions", "950 [900-1100]"}},
		{"inconclusive: exact in some repetitions", func() Verdict {
			x := good()
			r := x.Runs["fraud"]
			r.ExactReps = 2
			x.Runs["fraud"] = r
			return verdictScenarios(x)
		}, Inconclusive, []string{"exact in 2 of 3"}},
		{"inconclusive: too few repetitions", func() Verdict {
			return verdictScenarios(o(exact(sp(290, 294), 1000), approx(sp(300, 308, 311), sp(1, 1, 1))))
		}, Inconclusive, []string{"2 repetitions"}},
		{"inconclusive: failed", func() Verdict {
			x := good()
			x.Runs["fraud"] = scenarioRun{Failed: "hung (cut by its time limit)"}
			return verdictScenarios(x)
		}, Inconclusive, []string{"fraud: hung"}},
	})
}

func TestPaneEventLatency(t *testing.T) {
	rows := []datasets.TraceRow{
		{Kind: datasets.TraceRecord, EventTimeMs: 1, EventTimeShiftMs: 1000},
		{Kind: datasets.TracePane, EventTimeMs: 100, EventTimeShiftMs: 1000, EmitNanos: 1_400_000_000, PaneTiming: dataflow.PaneOnTime},
		{Kind: datasets.TracePane, EventTimeMs: 100, EventTimeShiftMs: 1000, EmitNanos: 1_200_000_000, PaneTiming: dataflow.PaneEarly},
		{Kind: datasets.TracePane, EventTimeMs: 100, EventTimeShiftMs: 1000, EmitNanos: 9_000_000_000, PaneTiming: dataflow.PaneMerged},
	}
	lat := paneEventLatencyMs(rows)
	assert.Equal(t, []float64{100, 300}, lat)
	assert.InDelta(t, 100.0, quantile(lat, 0.5), 1e-9)
	assert.InDelta(t, 300.0, quantile(lat, 0.99), 1e-9)
	assert.True(t, math.IsNaN(quantile(nil, 0.5)))
	assert.InDelta(t, 50.0, beforeEndPercent(rows, 1_300_000_000), 1e-9, "one of two panes before the last event")
	assert.Zero(t, beforeEndPercent(nil, 1))
}

// TestScenarioTable checks that every scenario's workload takes its time
// settings and its configuration builds.
func TestScenarioTable(t *testing.T) {
	for _, sc := range scenarios() {
		_, err := sc.over.Workload(mustWorkload(sc.workload))
		require.NoError(t, err, sc.name)
		if sc.exact != "" {
			_, err := sc.over.Workload(mustWorkload(sc.exact))
			require.NoError(t, err, sc.name)
			assert.Positive(t, sc.recallFloor, sc.name)
		}
		_, err = NewRunner(sc.entry.Runtime, sc.entry.Flags)
		require.NoError(t, err, sc.name)
		assert.Positive(t, sc.reqP99Ms, sc.name)
		assert.NotEmpty(t, sc.why, sc.name)
	}
}

// calledRunner records that it ran and what the log held then.
type calledRunner struct{ ran chan int64 }

func (calledRunner) Name() string { return "called" }

func (c calledRunner) Run(_ context.Context, job *Job) (*Outcome, error) {
	c.ran <- job.Log.Len()
	return &Outcome{}, nil
}

// TestOnFirstEvent checks that the wrapped runner starts once the log has a
// record or is closed, and not when the context ends first.
func TestOnFirstEvent(t *testing.T) {
	w := mustWorkload("ysb")
	full, _, err := LoadData(t.Context(), w, DataSpec{Events: 100, Seed: 1})
	require.NoError(t, err)
	c := calledRunner{ran: make(chan int64, 1)}
	r := &onFirstEvent{Runner: c}
	_, err = r.Run(t.Context(), &Job{Log: full})
	require.NoError(t, err)
	assert.Equal(t, int64(100), <-c.ran, "a log with records: runs at once")
	var last int64
	for rec := range full.All() {
		last = max(last, rec.IngestNanos)
	}
	assert.Equal(t, last, r.InputEnd, "the last event's arrival")

	gen, err := datasets.Lookup(w.Dataset)
	require.NoError(t, err)
	empty, err := datasets.NewLogFor(gen, DataConfig(w, DataSpec{Events: 100, Seed: 1}))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = (&onFirstEvent{Runner: c}).Run(ctx, &Job{Log: empty})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, c.ran, "not run on an empty log")

	done := make(chan error, 1)
	go func() {
		_, err := (&onFirstEvent{Runner: c}).Run(t.Context(), &Job{Log: empty})
		done <- err
	}()
	empty.Close()
	assert.Equal(t, int64(0), <-c.ran, "a closed log: runs")
	require.NoError(t, <-done)
}
