package microbatch

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// Injected batch failures and driver crashes still give the reference
// answer exactly (MF1-MF3).
func TestFaultsStillMatchReference(t *testing.T) {
	l := testLog(t, 2, 3000, 3, 20_000, 2000)
	src := datasets.NewArrowSource(l)
	sh := shapes()
	cases := []struct {
		name     string
		pipeline string
		mode     Mode
		failures []Failure
		dir      bool
	}{
		{"fail-batch/fixed", "fixed-count", ModeEventTime, []Failure{{AfterRecords: 500}, {AfterRecords: 2000}}, false},
		{"crash/fixed", "fixed-count", ModeEventTime, []Failure{{AfterRecords: 700, Kind: CrashDriver}, {AfterRecords: 2500, Kind: CrashDriver}}, true},
		{"crash/session", "session", ModeEventTime, []Failure{{AfterRecords: 1200, Kind: CrashDriver}}, false},
		{"crash/sliding-multi", "sliding-multi", ModeEventTime, []Failure{{AfterRecords: 1000, Kind: CrashDriver}, {AfterRecords: 1500}}, true},
		{"crash/proc-sliding", "proc-sliding", ModeDStream, []Failure{{AfterRecords: 900, Kind: CrashDriver}}, true},
		{"crash/global-topn", "global-topn", ModeDStream, []Failure{{AfterRecords: 100, Kind: CrashDriver}}, false},
		{"crash/stateless", "stateless", ModeDStream, []Failure{{AfterRecords: 1000, Kind: CrashDriver}, {AfterRecords: 1001}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			cfg := Config{Mode: tc.mode, BatchInterval: time.Second, Allocator: mem, Failures: tc.failures}
			if tc.dir {
				cfg.CheckpointDir = t.TempDir()
			}
			p := sh[tc.pipeline]
			rep, err := Run(context.Background(), p, src, cfg)
			require.NoError(t, err)
			requireSparkResults(t, p, l, rep)
			var crashes, fails int64
			for _, f := range tc.failures {
				if f.Kind == CrashDriver {
					crashes++
				} else {
					fails++
				}
			}
			assert.Equal(t, crashes, rep.Counters["driver_restarts"], "driver restarts")
			assert.Equal(t, fails, rep.Counters["failed_batches"], "failed batches")
			if tc.dir || crashes > 0 {
				assert.Positive(t, rep.Counters["checkpoints"])
			}
		})
	}
}

func TestSparkWindowMessages(t *testing.T) {
	b := time.Second
	cases := []struct {
		w, s time.Duration
		want string
	}{
		{1500 * time.Millisecond, time.Second, "The window duration of windowed DStream (1500 ms) must be a multiple of the slide duration of parent DStream (1000 ms)"},
		{2 * time.Second, 1500 * time.Millisecond, "The slide duration of windowed DStream (1500 ms) must be a multiple of the slide duration of parent DStream (1000 ms)"},
	}
	for _, tc := range cases {
		err := ValidateWindow(tc.w, tc.s, b)
		require.Error(t, err)
		assert.Equal(t, tc.want, err.Error(), "ValidateWindow(%v, %v, %v)", tc.w, tc.s, b)
	}
	require.NoError(t, ValidateWindow(3*time.Second, time.Second, b))
	require.NoError(t, ValidateWindow(time.Second, 3*time.Second, b), "a window shorter than its slide is allowed (gaps)")
	err := ValidateReducedWindow(2500*time.Millisecond, time.Second, b)
	assert.EqualError(t, err, "requirement failed: The window duration of ReducedWindowedDStream (2500 ms) must be multiple of the slide duration of parent DStream (1000 ms)")
	err = ValidateReducedWindow(2*time.Second, 500*time.Millisecond, b)
	assert.EqualError(t, err, "requirement failed: The slide duration of ReducedWindowedDStream (500 ms) must be multiple of the slide duration of parent DStream (1000 ms)")

	// Through a pipeline: a processing-time window that is not a multiple
	// of the batch interval is the model's refusal (exit 3).
	l := testLog(t, 3, 10, 1, 1000, 0)
	p := dataflow.NewPipeline("p", testSchema).Aggregate(dataflow.Aggregation{Key: []string{"user"}, Domain: dataflow.ProcessingTime,
		Window: dataflow.FixedWindows(1500 * time.Millisecond), Aggs: []dataflow.Agg{dataflow.Count()}})
	_, err = Run(context.Background(), p, datasets.NewArrowSource(l), Config{Mode: ModeDStream})
	var ue *dataflow.UnsupportedError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Reason, "The window duration of windowed DStream (1500 ms) must be a multiple of the slide duration of parent DStream (1000 ms)")
}

func TestUnsupportedWindows(t *testing.T) {
	l := testLog(t, 3, 10, 1, 1000, 0)
	agg := func(w dataflow.WindowFn, key ...string) *dataflow.Pipeline {
		return dataflow.NewPipeline("p", testSchema).Aggregate(dataflow.Aggregation{Key: key, Window: w, TimeCol: "event_time", Aggs: []dataflow.Agg{dataflow.Count()}})
	}
	cases := []struct {
		name string
		p    *dataflow.Pipeline
		cfg  Config
		want string
	}{
		{"count/dstream", agg(dataflow.CountWindows(5, 5), "user"), Config{Mode: ModeDStream}, "count windows"},
		{"count/event-time", agg(dataflow.CountWindows(5, 5), "user"), Config{}, "count windows"},
		{"session/dstream", agg(dataflow.SessionWindows(time.Second), "user"), Config{Mode: ModeDStream}, "session windows"},
		{"session/no-key", agg(dataflow.SessionWindows(time.Second)), Config{}, "at least one grouping column"},
		{"session/update", agg(dataflow.SessionWindows(time.Second), "user"), Config{OutputMode: OutputUpdate}, "Update output mode"},
		{"global/append", agg(dataflow.GlobalWindows(), "user"), Config{OutputMode: OutputAppend}, "Append output mode not supported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.p, datasets.NewArrowSource(l), tc.cfg)
			var ue *dataflow.UnsupportedError
			require.ErrorAs(t, err, &ue)
			assert.Contains(t, ue.Error(), tc.want)
		})
	}
}

// The worked example of mechanics.md 2.10.
func TestPIDWorkedExample(t *testing.T) {
	e, err := NewPIDRateEstimator(1000, 1.0, 0.2, 0.0, 100)
	require.NoError(t, err)
	_, ok := e.Compute(1000, 1000, 500, 0)
	require.False(t, ok, "the first batch only seeds the estimator")
	assert.Equal(t, 2000.0, e.LatestRate())
	r, ok := e.Compute(2000, 1000, 1000, 200)
	require.True(t, ok)
	assert.Equal(t, 960.0, r)
	_, ok = e.Compute(2000, 1000, 1000, 0)
	assert.False(t, ok, "a batch not later than the last is ignored")
	_, ok = e.Compute(3000, 0, 1000, 0)
	assert.False(t, ok, "a batch without records is ignored")
	r, ok = e.Compute(4000, 10, 1000, 100000)
	require.True(t, ok)
	assert.Equal(t, 100.0, r, "the rate never falls below minRate")
	_, err = NewPIDRateEstimator(0, 1, 0.2, 0, 100)
	assert.Error(t, err)
	_, err = NewPIDRateEstimator(1000, 1, 0.2, 0, 0)
	assert.Error(t, err)
}
