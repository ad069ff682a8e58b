package compare

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/datasets"
)

// TestDataConfigEventRate pins the event-time rate of built-in data, as
// `bench run --event-rate` documents it: the spec's, else the ingest rate
// when paced (event time then follows the wall clock, so event-time latency
// is the delay since an event happened), else the workload's, else 0 (the
// dataset's default).
func TestDataConfigEventRate(t *testing.T) {
	hashtags, err := LookupWorkload("hashtag-topn")
	require.NoError(t, err)
	require.NotZero(t, hashtags.EventRate, "the test needs a workload with its own event-time rate")
	grep, err := LookupWorkload("grep")
	require.NoError(t, err)
	require.Zero(t, grep.EventRate, "the test needs a workload without its own event-time rate")

	tests := []struct {
		name string
		w    *Workload
		d    DataSpec
		want float64
	}{
		{"unpaced: the workload's", hashtags, DataSpec{}, hashtags.EventRate},
		{"unpaced, no workload rate: the dataset's default", grep, DataSpec{}, 0},
		{"paced: the ingest rate", hashtags, DataSpec{Rate: 5_000}, 5_000},
		{"paced, no workload rate: the ingest rate", grep, DataSpec{Rate: 5_000}, 5_000},
		{"explicit, unpaced", hashtags, DataSpec{EventRate: 300}, 300},
		{"explicit wins over the ingest rate", hashtags, DataSpec{EventRate: 300, Rate: 5_000}, 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DataConfig(tc.w, tc.d)
			assert.Equal(t, tc.want, cfg.EventRate, "DataConfig(%s, %+v).EventRate", tc.w.Name, tc.d)
		})
	}
}

// TestDataConfigSkew: the spec's skew reaches the generator's config; the
// zero spec leaves the dataset's default.
func TestDataConfigSkew(t *testing.T) {
	w, err := LookupWorkload("ysb")
	require.NoError(t, err)

	cfg := DataConfig(w, DataSpec{})
	assert.True(t, cfg.Skew.IsZero(), "zero spec: the dataset's default skew, got %+v", cfg.Skew)
	assert.False(t, cfg.InOrder)

	sk := datasets.Skew{Delay: time.Second, OutOfOrder: 0.1, Late: 0.02, LateDelay: 30 * time.Second}
	cfg = DataConfig(w, DataSpec{Skew: sk})
	assert.Equal(t, sk, cfg.Skew)
	assert.False(t, cfg.InOrder)
	require.NoError(t, cfg.Validate())

	cfg = DataConfig(w, DataSpec{InOrder: true})
	assert.True(t, cfg.InOrder)
	assert.True(t, cfg.Skew.IsZero())
}

// TestCountWindowDescription: the count-window workload says that its result
// window bounds are element ordinals, not milliseconds (dataflow I6).
func TestCountWindowDescription(t *testing.T) {
	w, err := LookupWorkload("count-window")
	require.NoError(t, err)
	assert.Contains(t, w.Description, "window_start_ms")
	assert.Contains(t, w.Description, "ordinals")
	assert.Contains(t, w.Description, "not milliseconds")
}

// TestTopNDescriptions: the top-N workloads say their value format and tie
// order.
func TestTopNDescriptions(t *testing.T) {
	for _, name := range []string{"hashtag-topn", "hashtag-approx-topn"} {
		w, err := LookupWorkload(name)
		require.NoError(t, err)
		assert.Contains(t, w.Description, "tag=count,", name)
		assert.True(t, strings.Contains(w.Description, "ties by tag ascending"), "%s: %s", name, w.Description)
	}
}
