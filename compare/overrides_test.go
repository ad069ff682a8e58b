package compare

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// pipelineOf builds workload name's pipeline on its built-in tables.
func pipelineOf(t *testing.T, name string) *dataflow.Pipeline {
	t.Helper()
	w, err := LookupWorkload(name)
	require.NoError(t, err)
	gen, err := datasets.Lookup(w.Dataset)
	require.NoError(t, err)
	p, err := w.Pipeline(gen.Tables(1))
	require.NoError(t, err)
	return p
}

func TestOverridesApply(t *testing.T) {
	tests := []struct {
		name     string
		workload string
		o        Overrides
		check    func(t *testing.T, a *dataflow.Aggregation)
	}{
		{"fixed size", "ysb", Overrides{Window: 5 * time.Second}, func(t *testing.T, a *dataflow.Aggregation) {
			assert.Equal(t, dataflow.FixedWindows(5*time.Second), a.Window)
		}},
		{"fixed becomes sliding with a slide", "ysb", Overrides{Slide: 5 * time.Second}, func(t *testing.T, a *dataflow.Aggregation) {
			assert.Equal(t, dataflow.SlidingWindows(10*time.Second, 5*time.Second), a.Window)
		}},
		{"sliding size keeps the slide", "iot-sliding", Overrides{Window: 30 * time.Second}, func(t *testing.T, a *dataflow.Aggregation) {
			assert.Equal(t, dataflow.SlidingWindows(30*time.Second, 10*time.Second), a.Window)
		}},
		{"sliding size and slide", "fraud", Overrides{Window: 2 * time.Minute, Slide: 30 * time.Second}, func(t *testing.T, a *dataflow.Aggregation) {
			assert.Equal(t, dataflow.SlidingWindows(2*time.Minute, 30*time.Second), a.Window)
		}},
		{"session gap", "sessions", Overrides{Gap: 10 * time.Second}, func(t *testing.T, a *dataflow.Aggregation) {
			assert.Equal(t, dataflow.SessionWindows(10*time.Second), a.Window)
		}},
		{"processing-time window", "request-rate", Overrides{Window: 10 * time.Second}, func(t *testing.T, a *dataflow.Aggregation) {
			assert.Equal(t, dataflow.FixedWindows(10*time.Second), a.Window)
			assert.Equal(t, dataflow.ProcessingTime, a.Domain)
		}},
		{"watermark and lateness", "ysb", Overrides{WatermarkBound: time.Second, Lateness: 20 * time.Second}, func(t *testing.T, a *dataflow.Aggregation) {
			assert.Equal(t, time.Second, a.Watermark.MaxOutOfOrderness)
			assert.Equal(t, 20*time.Second, a.AllowedLateness)
			assert.Equal(t, dataflow.FixedWindows(10*time.Second), a.Window, "the window is kept")
		}},
		{"sketch width", "hashtag-approx-topn", Overrides{SketchWidth: 16}, func(t *testing.T, a *dataflow.Aggregation) {
			assert.Equal(t, 16, a.Aggs[0].Width)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := pipelineOf(t, tc.workload)
			before := p.Agg
			aggs := slices.Clone(p.Agg.Aggs)
			require.NoError(t, tc.o.Apply(p), "Apply(%v) on %s", tc.o, tc.workload)
			tc.check(t, p.Agg)
			assert.Equal(t, aggs, before.Aggs, "Apply(%v) leaves the original aggregation's aggregates alone", tc.o)
		})
	}
}

func TestOverridesRefused(t *testing.T) {
	tests := []struct {
		name     string
		workload string
		o        Overrides
		field    string
		want     string
	}{
		{"window on sessions", "sessions", Overrides{Window: time.Second}, "Overrides.Window", "set Gap instead"},
		{"slide on sessions", "sessions", Overrides{Slide: time.Second}, "Overrides.Slide", "set Gap instead"},
		{"gap on fixed", "ysb", Overrides{Gap: time.Second}, "Overrides.Gap", "set Window (and Slide) instead"},
		{"gap on sliding", "iot-sliding", Overrides{Gap: time.Second}, "Overrides.Gap", "sliding windows"},
		{"window on count windows", "count-window", Overrides{Window: time.Second}, "Overrides.Window", "sized in elements"},
		{"window on a stateless pipeline", "grep", Overrides{Window: time.Second}, "Overrides.Window", "stateless"},
		{"lateness on a stateless pipeline", "grep", Overrides{Lateness: time.Second}, "Overrides.Lateness", "stateless"},
		{"watermark on processing time", "request-rate", Overrides{WatermarkBound: time.Second}, "Overrides.WatermarkBound", "processing time"},
		{"lateness on count windows", "count-window", Overrides{Lateness: time.Second}, "Overrides.Lateness", "no watermark closes"},
		{"sketch width on exact top-N", "hashtag-topn", Overrides{SketchWidth: 16}, "Overrides.SketchWidth", "hashtag-approx-topn has one"},
		{"negative window", "ysb", Overrides{Window: -time.Second}, "Overrides.Window", "must not be negative"},
		{"sub-millisecond gap", "sessions", Overrides{Gap: 1500 * time.Microsecond}, "Overrides.Gap", "whole number of milliseconds"},
		{"negative lateness", "ysb", Overrides{Lateness: -1}, "Overrides.Lateness", "must not be negative"},
		{"negative width", "hashtag-approx-topn", Overrides{SketchWidth: -1}, "Overrides.SketchWidth", "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := pipelineOf(t, tc.workload)
			before := p.Agg
			err := tc.o.Apply(p)
			fe, ok := errors.AsType[*FieldError](err)
			require.True(t, ok, "Apply(%v) on %s = %v, want a *FieldError", tc.o, tc.workload, err)
			assert.Equal(t, tc.field, fe.Field)
			assert.ErrorContains(t, err, tc.want)
			assert.Same(t, before, p.Agg, "a refused override leaves the pipeline alone")

			w, err := LookupWorkload(tc.workload)
			require.NoError(t, err)
			_, err = tc.o.Workload(w)
			fe, ok = errors.AsType[*FieldError](err)
			require.True(t, ok, "Workload(%s) with %v = %v, want a *FieldError before any data", tc.workload, tc.o, err)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
}

func TestOverridesZero(t *testing.T) {
	w, err := LookupWorkload("ysb")
	require.NoError(t, err)
	got, err := Overrides{}.Workload(w)
	require.NoError(t, err)
	assert.Same(t, w, got, "the zero Overrides changes nothing")
	assert.Equal(t, "none", Overrides{}.String())
	assert.Equal(t, "window=5s, lateness=1m0s", Overrides{Window: 5 * time.Second, Lateness: time.Minute}.String())
}

// TestOverridesChangeTheResult runs overridden workloads and checks the
// result changed as the override says, and still matches the reference
// answer of the changed pipeline.
func TestOverridesChangeTheResult(t *testing.T) {
	ref, err := NewRunner("reference", RuntimeFlags{})
	require.NoError(t, err)
	ysb, err := LookupWorkload("ysb")
	require.NoError(t, err)
	d := DataSpec{Events: 20_000, Seed: 3, EventRate: 1000} // 20 s of event time

	t.Run("window size", func(t *testing.T) {
		base, err := RunOne(t.Context(), ysb, ref, d, Options{}, nil)
		require.NoError(t, err)
		w5, err := Overrides{Window: 5 * time.Second}.Workload(ysb)
		require.NoError(t, err)
		half, err := RunOne(t.Context(), w5, ref, d, Options{}, nil)
		require.NoError(t, err)
		assert.True(t, half.Check.OK(), "5 s windows match their reference: %v", half.Check)
		total := func(rs []dataflow.Result) (n int64) {
			for _, r := range rs {
				n += r.Value.Int64()
			}
			return n
		}
		for _, r := range half.Outcome.Results {
			require.Equal(t, dataflow.Time(5000), r.Window.End-r.Window.Start, "window %v", r.Window)
		}
		assert.Equal(t, total(base.Outcome.Results), total(half.Outcome.Results), "fixed windows count every view once, whatever their size")
		assert.Greater(t, len(half.Outcome.Results), len(base.Outcome.Results), "halving the window gives more windows")
	})

	t.Run("lateness keeps late records", func(t *testing.T) {
		rs, err := NewRunner("recordstream", RuntimeFlags{})
		require.NoError(t, err)
		// 120 s of event time; 5% of records 10-20 s late, past the 5 s bound.
		late := DataSpec{Events: 60_000, Seed: 3, EventRate: 500, Skew: datasets.Skew{Late: 0.05, LateDelay: 20 * time.Second}}
		base, err := RunOne(t.Context(), ysb, rs, late, Options{Seed: 3}, nil)
		require.NoError(t, err)
		require.NotEmpty(t, base.Outcome.Late, "with lateness 0 some records are dropped as late")
		kept, err := Overrides{Lateness: 30 * time.Second}.Workload(ysb)
		require.NoError(t, err)
		rep, err := RunOne(t.Context(), kept, rs, late, Options{Seed: 3}, nil)
		require.NoError(t, err)
		assert.Empty(t, rep.Outcome.Late, "a lateness beyond the largest delay keeps every late record")
		assert.True(t, rep.Check.OK(), "check: %v", rep.Check)
		assert.True(t, rep.Check.Full.OK(), "with nothing dropped the run equals the full answer: %v", rep.Check)
	})
}
