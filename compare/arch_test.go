package compare

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

func archRes(start, end dataflow.Time, key string, v int64) dataflow.Result {
	return dataflow.Result{Window: dataflow.Window{Start: start, End: end}, Key: key, Value: dataflow.Int(v)}
}

// TestServeMerge: windows ending at or before the cut-off come from the
// batch view, later ones from the speed view, whatever either view holds
// on the other side of the cut-off.
func TestServeMerge(t *testing.T) {
	batch := []dataflow.Result{archRes(0, 10, "a", 5), archRes(10, 20, "a", 7), archRes(20, 30, "a", 100)}
	speed := []dataflow.Result{archRes(0, 10, "a", 4), archRes(10, 20, "a", 6), archRes(20, 30, "a", 9), archRes(30, 40, "b", 1)}
	for _, tc := range []struct {
		name   string
		cutoff dataflow.Time
		want   []dataflow.Result
	}{
		{"before any batch run", dataflow.MinTime, speed},
		{"cut-off at a window end", 20, []dataflow.Result{archRes(0, 10, "a", 5), archRes(10, 20, "a", 7), archRes(20, 30, "a", 9), archRes(30, 40, "b", 1)}},
		{"cut-off inside a window", 25, []dataflow.Result{archRes(0, 10, "a", 5), archRes(10, 20, "a", 7), archRes(20, 30, "a", 9), archRes(30, 40, "b", 1)}},
		{"closed log", dataflow.MaxTime, batch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ServeMerge(batch, tc.cutoff, speed), "ServeMerge(cutoff %v)", tc.cutoff)
		})
	}
}

// TestServedDistance: over the windows complete by the frontier, a missing
// or different result counts once, with its absolute error, and so does a
// served result the exact answer lacks; windows past the frontier do not
// count.
func TestServedDistance(t *testing.T) {
	exact := []dataflow.Result{archRes(0, 10, "a", 5), archRes(0, 10, "b", 3), archRes(10, 20, "a", 7), archRes(20, 30, "a", 9)}
	for _, tc := range []struct {
		name     string
		served   []dataflow.Result
		frontier dataflow.Time
		want     Distance
	}{
		{"exact", exact, 30, Distance{Windows: 4}},
		{"one value low", []dataflow.Result{archRes(0, 10, "a", 2), archRes(0, 10, "b", 3), archRes(10, 20, "a", 7), archRes(20, 30, "a", 9)}, 30, Distance{Windows: 4, Differing: 1, AbsError: 3}},
		{"one missing", []dataflow.Result{archRes(0, 10, "a", 5), archRes(10, 20, "a", 7)}, 20, Distance{Windows: 3, Differing: 1, AbsError: 3}},
		{"one extra", []dataflow.Result{archRes(0, 10, "a", 5), archRes(0, 10, "b", 3), archRes(0, 10, "c", 2)}, 10, Distance{Windows: 2, Differing: 1, AbsError: 2}},
		{"past the frontier ignored", []dataflow.Result{archRes(0, 10, "a", 5), archRes(0, 10, "b", 3), archRes(10, 20, "a", 1)}, 10, Distance{Windows: 2}},
		{"nothing complete", nil, dataflow.MinTime, Distance{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ServedDistance(tc.served, exact, tc.frontier), "ServedDistance(frontier %v)", tc.frontier)
		})
	}
	assert.InDelta(t, 0.25, Distance{Windows: 4, Differing: 1}.Share(), 1e-12)
	assert.Zero(t, Distance{}.Share())
}

// lambdaYSB runs ysb (200 ms windows, a 100 ms watermark bound, in-order
// data) on Lambda with a 1 s batch period: a window the crash damaged is
// served from the speed view for up to a period before a batch run
// covers it.
func lambdaYSB(t *testing.T, batchLayer string, crash []int64) *ArchReport {
	t.Helper()
	w, err := Overrides{Window: 200 * time.Millisecond, WatermarkBound: 100 * time.Millisecond}.Workload(mustWorkload("ysb"))
	require.NoError(t, err)
	a, err := NewArchitecture(ArchConfig{Architecture: "lambda", BatchPeriod: time.Second, BatchLayer: batchLayer})
	require.NoError(t, err)
	rep, err := a.Run(t.Context(), w, DataSpec{Events: 20_000, Seed: 1, Rate: 10_000, InOrder: true}, Options{CrashAfter: crash, Seed: 1}, nil)
	require.NoError(t, err)
	return rep
}

func worstShare(s []ServedSample) (worst float64, at time.Duration) {
	for _, x := range s {
		if x.Share() > worst {
			worst, at = x.Share(), x.T
		}
	}
	return worst, at
}

// TestLambdaCrashCorrectedByBatch: a crash of the at-most-once speed layer
// makes the served answer wrong until a batch run covers the windows it
// damaged, and the final served answer (the batch run over the closed log)
// is exact; without the crash, the served answer of in-order data is
// never wrong. Paced on the synctest bubble's clock.
func TestLambdaCrashCorrectedByBatch(t *testing.T) {
	for _, batchLayer := range BatchLayers() {
		t.Run(batchLayer, func(t *testing.T) { testLambdaCrash(t, batchLayer) })
	}
}

func testLambdaCrash(t *testing.T, batchLayer string) {
	synctest.Test(t, func(t *testing.T) {
		rep := lambdaYSB(t, batchLayer, []int64{1000})
		assert.Equal(t, int64(1), rep.Summary.Crashes, "the crash fired")
		worst, at := worstShare(rep.Served)
		assert.Positive(t, worst, "the crash made the served answer wrong at some point")
		require.NotEmpty(t, rep.Served)
		last := rep.Served[len(rep.Served)-1]
		assert.Less(t, at, last.T, "wrong before the end")
		assert.Zero(t, last.Differing, "exact after the last batch run: %+v", last)
		assert.Equal(t, dataflow.MaxTime, last.Cutoff, "the last view is over the closed log")
		assert.True(t, rep.Check.OK(), "final served answer: %s", rep.Check)
		assert.True(t, rep.Check.Full.OK(), "final served answer against the full answer: %s", rep.Check)
		assert.GreaterOrEqual(t, rep.BatchRuns, 2)
		assert.Greater(t, rep.Work["batch"], rep.Work["speed"], "the batch layer reprocesses the prefix at every run")
		assert.Equal(t, int64(20_000), rep.Work["speed"])
		assert.Len(t, rep.CodePaths, 2)
		assert.NotEmpty(t, rep.Summary.Series["served_differing_share"])
	})
	synctest.Test(t, func(t *testing.T) {
		rep := lambdaYSB(t, batchLayer, nil)
		worst, at := worstShare(rep.Served)
		assert.Zero(t, worst, "without faults, in-order data, the served answer is never wrong (worst at %v)", at)
		assert.True(t, rep.Check.OK(), "%s", rep.Check)
	})
}

// TestKappaSwitchAfterCatchUp: the reprocessing job's table (a new window
// size) equals the reference of the changed pipeline, job 1's table
// equals the old pipeline's reference over what it read before it
// stopped, and serving switches only once job 2's lag behind the log's
// head is zero.
func TestKappaSwitchAfterCatchUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := Overrides{Window: 200 * time.Millisecond, WatermarkBound: 100 * time.Millisecond}.Workload(mustWorkload("ysb"))
		require.NoError(t, err)
		a, err := NewArchitecture(ArchConfig{Architecture: "kappa", Change: Overrides{Window: 400 * time.Millisecond}})
		require.NoError(t, err)
		rep, err := a.Run(t.Context(), w, DataSpec{Events: 20_000, Seed: 1, Rate: 10_000}, Options{Seed: 1}, nil)
		require.NoError(t, err)
		k := rep.Kappa
		require.NotNil(t, k)
		assert.True(t, k.Table2.OK(), "table 2: %s", k.Table2)
		assert.True(t, k.Table1.OK(), "table 1: %s", k.Table1)
		assert.True(t, k.SwitchedAfterCatchUp)
		assert.Equal(t, dataflow.Time(400), rep.Outcome.Results[0].Window.End-rep.Outcome.Results[0].Window.Start, "served: the changed pipeline's windows")
		assert.GreaterOrEqual(t, k.StartRecords, int64(10_000), "reprocessing starts half-way")
		assert.Equal(t, int64(20_000), rep.Work["job2"], "job 2 reads the whole log from offset 0")
		assert.Less(t, k.Table1Records, int64(20_000), "job 1 stopped at the switch, before the log's end")
		assert.GreaterOrEqual(t, k.Table1Records, k.StartRecords)
		lag1, lag2 := rep.Summary.Series["job1_lag_records"], rep.Summary.Series["job2_lag_records"]
		require.NotEmpty(t, lag2)
		require.Len(t, lag1, len(lag2))
		assert.Positive(t, lag2[0].V, "job 2 starts behind the head")
		last := len(lag2) - 1
		assert.LessOrEqual(t, lag2[last].V, lag1[last].V, "and switches once no further behind than job 1")
		assert.NotEmpty(t, rep.Served, "the served table's distance over the run")
		assert.Contains(t, rep.Summary.Series, "served_differing_share")
		sw := rep.Summary.Series["served_table"]
		require.Len(t, sw, 2)
		assert.Equal(t, lag2[last].T, sw[1].T, "serving switches when job 2 has caught up")
		for i := range last {
			assert.Greater(t, lag2[i].V, lag1[i].V, "no switch while job 2 is behind job 1 (t=%v)", lag2[i].T)
		}
	})
}

// TestArchitectureRefusals: bad configurations are *FieldErrors naming the
// field; a pipeline Lambda cannot split is a *dataflow.UnsupportedError;
// unpaced input, a Kappa without a change and a change the pipeline cannot
// take are *InputErrors, all before any work.
func TestArchitectureRefusals(t *testing.T) {
	for _, tc := range []struct {
		cfg   ArchConfig
		field string
	}{
		{ArchConfig{Architecture: "omega"}, "ArchConfig.Architecture"},
		{ArchConfig{Architecture: "lambda", BatchPeriod: time.Millisecond}, "ArchConfig.BatchPeriod"},
		{ArchConfig{Architecture: "lambda", BatchPeriod: 2 * time.Hour}, "ArchConfig.BatchPeriod"},
		{ArchConfig{Architecture: "lambda", BatchLayer: "hadoop"}, "ArchConfig.BatchLayer"},
		{ArchConfig{Architecture: "lambda", ReprocessAt: 0.5}, "ArchConfig.ReprocessAt"},
		{ArchConfig{Architecture: "lambda", Change: Overrides{Window: time.Second}}, "ArchConfig.Change"},
		{ArchConfig{Architecture: "kappa", BatchPeriod: time.Second}, "ArchConfig.BatchPeriod"},
		{ArchConfig{Architecture: "kappa", ReprocessAt: 1}, "ArchConfig.ReprocessAt"},
		{ArchConfig{Architecture: "kappa", Runtime: "microbatch"}, "ArchConfig.Runtime"},
		{ArchConfig{Architecture: "lambda", Runtime: "reference"}, "ArchConfig.Runtime"},
		{ArchConfig{Architecture: "kappa", Flags: RuntimeFlags{CheckpointDir: "/tmp/x"}}, "RuntimeFlags.CheckpointDir"},
	} {
		_, err := NewArchitecture(tc.cfg)
		fe, ok := errors.AsType[*FieldError](err)
		if assert.True(t, ok, "NewArchitecture(%+v) = %v, want a FieldError", tc.cfg, err) {
			assert.Equal(t, tc.field, fe.Field, "NewArchitecture(%+v): %v", tc.cfg, err)
		}
	}
	lambda, err := NewArchitecture(ArchConfig{Architecture: "lambda"})
	require.NoError(t, err)
	assert.Equal(t, "lambda(recordstream/at-most-once + reference)", lambda.Name())
	paced := DataSpec{Events: 1000, Seed: 1, Rate: 1000}
	for _, name := range []string{"grep", "request-rate", "count-window"} {
		_, err := lambda.Run(t.Context(), mustWorkload(name), paced, Options{}, nil)
		_, ok := errors.AsType[*dataflow.UnsupportedError](err)
		assert.True(t, ok, "lambda on %s: %v, want an UnsupportedError", name, err)
	}
	_, err = lambda.Run(t.Context(), mustWorkload("ysb"), DataSpec{Events: 1000}, Options{}, nil)
	_, ok := errors.AsType[*InputError](err)
	assert.True(t, ok, "lambda unpaced: %v, want an InputError", err)

	kappa, err := NewArchitecture(ArchConfig{Architecture: "kappa"})
	require.NoError(t, err)
	assert.Equal(t, "kappa(recordstream/exactly-once)", kappa.Name())
	_, err = kappa.Run(t.Context(), mustWorkload("ysb"), paced, Options{}, nil)
	_, ok = errors.AsType[*InputError](err)
	assert.True(t, ok, "kappa without a change: %v, want an InputError", err)
	gap, err := NewArchitecture(ArchConfig{Architecture: "kappa", Change: Overrides{Gap: time.Second}})
	require.NoError(t, err)
	_, err = gap.Run(t.Context(), mustWorkload("ysb"), paced, Options{}, nil)
	fe, ok := errors.AsType[*FieldError](err)
	if assert.True(t, ok, "kappa with a gap on fixed windows: %v, want a FieldError", err) {
		assert.Equal(t, "Overrides.Gap", fe.Field)
	}
}

// TestArchitectureStopsOnCancel: a canceled run returns the context's
// error at once, with every goroutine it started stopped (synctest fails
// on a goroutine left blocked in the bubble).
func TestArchitectureStopsOnCancel(t *testing.T) {
	for _, cfg := range []ArchConfig{{Architecture: "lambda"}, {Architecture: "kappa", Change: Overrides{Window: 20 * time.Second}}} {
		t.Run(cfg.Architecture, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, err := NewArchitecture(cfg)
				require.NoError(t, err)
				ctx, cancel := context.WithCancel(t.Context())
				start := time.Now()
				time.AfterFunc(300*time.Millisecond, cancel)
				_, err = a.Run(ctx, mustWorkload("ysb"), DataSpec{Events: 100_000, Seed: 1, Rate: 10_000}, Options{}, nil)
				require.ErrorIs(t, err, context.Canceled)
				assert.Less(t, time.Since(start), time.Second, "stopped within a second of the cancel")
			})
		})
	}
}

// TestLogViewReadAllocs: a Kappa job's reads through its view note the
// position without allocating (R per record: two atomic operations).
func TestLogViewReadAllocs(t *testing.T) {
	log, _, err := LoadData(t.Context(), mustWorkload("ysb"), DataSpec{Events: 1000, Seed: 1})
	require.NoError(t, err)
	v := newLogView(log)
	var row dataflow.Row
	off, cols := int64(0), []int{0}
	allocs := testing.AllocsPerRun(100, func() {
		row, _ = v.Read(0, off%log.End(0), row)
		row, _ = v.ReadColumns(0, off%log.End(0), cols, row)
		off++
	})
	assert.Zero(t, allocs, "allocations per read")
	assert.Equal(t, min(off, log.End(0)), v.positions()[0], "the view's position is the offset after the highest record read")
}
