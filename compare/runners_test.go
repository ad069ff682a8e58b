package compare

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRunner(t *testing.T) {
	r, err := NewRunner("reference", RuntimeFlags{})
	require.NoError(t, err)
	assert.Equal(t, "reference", r.Name())

	_, err = NewRunner("spark", RuntimeFlags{})
	require.ErrorIs(t, err, ErrUnknownRuntime)
	assert.Contains(t, err.Error(), "reference", "the error lists the runtimes")

	assert.Contains(t, Runtimes(), "reference")
	for _, e := range DefaultSuite() {
		assert.Contains(t, Runtimes(), e.Runtime, "suite entry %+v", e)
		assert.NoError(t, e.Flags.Validate())
	}
}

func TestRuntimeFlagsValidate(t *testing.T) {
	tests := []struct {
		f     RuntimeFlags
		field string // "" means valid
	}{
		{RuntimeFlags{}, ""},
		{RuntimeFlags{Guarantee: "at-least-once", Ackers: 2, MaxSpoutPending: 1000, MessageTimeout: 30 * time.Second}, ""},
		{RuntimeFlags{Mode: "dstream", BatchInterval: time.Second, BlockInterval: 200 * time.Millisecond, MemoryBudget: 1 << 30}, ""},
		{RuntimeFlags{Guarantee: "exactly-twice"}, "RuntimeFlags.Guarantee"},
		{RuntimeFlags{Mode: "continuous"}, "RuntimeFlags.Mode"},
		{RuntimeFlags{Ackers: -1}, "RuntimeFlags.Ackers"},
		{RuntimeFlags{MaxSpoutPending: -1}, "RuntimeFlags.MaxSpoutPending"},
		{RuntimeFlags{MessageTimeout: -time.Second}, "RuntimeFlags.MessageTimeout"},
		{RuntimeFlags{Parallelism: -2}, "RuntimeFlags.Parallelism"},
		{RuntimeFlags{BatchInterval: -1}, "RuntimeFlags.BatchInterval"},
		{RuntimeFlags{BlockInterval: -1}, "RuntimeFlags.BlockInterval"},
		{RuntimeFlags{MemoryBudget: -1}, "RuntimeFlags.MemoryBudget"},
		{RuntimeFlags{CheckpointInterval: -1}, "RuntimeFlags.CheckpointInterval"},
		{RuntimeFlags{ConcurrentJobs: -1}, "RuntimeFlags.ConcurrentJobs"},
		{RuntimeFlags{BatchInterval: time.Second, BlockInterval: 2 * time.Second}, "RuntimeFlags.BlockInterval"},
		{RuntimeFlags{BlockInterval: time.Hour}, "RuntimeFlags.BlockInterval"}, // the default batch interval, 1s
		{RuntimeFlags{BlockInterval: time.Second}, ""},
		{RuntimeFlags{Parallelism: MaxParallelism, Ackers: MaxParallelism}, ""},
		{RuntimeFlags{Parallelism: 1_000_000}, "RuntimeFlags.Parallelism"},
		{RuntimeFlags{Ackers: MaxParallelism + 1}, "RuntimeFlags.Ackers"},
	}
	for _, tc := range tests {
		err := tc.f.Validate()
		if tc.field == "" {
			assert.NoError(t, err, "%+v", tc.f)
			continue
		}
		require.Error(t, err, "%+v", tc.f)
		fe, ok := errors.AsType[*FieldError](err)
		require.True(t, ok, "Validate(%+v) = %v, want a *FieldError", tc.f, err)
		assert.Equal(t, tc.field, fe.Field, "Validate(%+v)", tc.f)
		assert.NotContains(t, err.Error(), "--", "Validate(%+v) names a field, not a flag", tc.f)
		_, err = NewRunner("reference", tc.f)
		assert.ErrorAs(t, err, &fe, "NewRunner checks the flags: %+v", tc.f)
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1048576": 1 << 20, "512MiB": 512 << 20, "512mib": 512 << 20, "2GB": 2e9, "64k": 64 << 10,
		"1.5GiB": 3 << 29, "10 MB": 10e6, "7B": 7, "1TiB": 1 << 40,
	} {
		got, err := ParseByteSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, "ParseByteSize(%q)", in)
	}
	for _, in := range []string{"", "MiB", "-1MiB", "12XB", "1e400", "NaN", "abc"} {
		_, err := ParseByteSize(in)
		assert.Error(t, err, "ParseByteSize(%q)", in)
	}
}

func TestLookupWorkload(t *testing.T) {
	names := WorkloadNames()
	assert.Equal(t, append([]string{"ysb", "grep", "hashtag-topn", "hashtag-approx-topn", "request-rate", "sessions", "iot-sliding", "fraud", "count-window"}, NexmarkQueries()...), names)
	for _, n := range names {
		w, err := LookupWorkload(n)
		require.NoError(t, err)
		assert.Equal(t, n, w.Name)
		assert.NotEmpty(t, w.Description)
		p, err := w.Pipeline(testTables(t))
		require.NoError(t, err, "%s pipeline", n)
		require.NoError(t, p.Validate())
	}
	_, err := LookupWorkload("yahoo")
	require.Error(t, err)
	for _, n := range names {
		assert.Contains(t, err.Error(), n, "the error lists the workloads")
	}
}

func TestYSBNeedsCampaigns(t *testing.T) {
	_, err := ysbPipeline(nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "campaigns")
}

func TestWorkloadShapes(t *testing.T) {
	get := func(name string) *Workload {
		w, err := LookupWorkload(name)
		require.NoError(t, err)
		return w
	}
	p, err := get("fraud").Pipeline(nil)
	require.NoError(t, err)
	assert.NotNil(t, p.Agg.Having)
	assert.Equal(t, int64(60_000), p.Agg.Window.Size)
	assert.Equal(t, int64(10_000), p.Agg.Window.Period)
	assert.Equal(t, 5*time.Second, p.Agg.Watermark.MaxOutOfOrderness)

	p, err = get("request-rate").Pipeline(nil)
	require.NoError(t, err)
	assert.Equal(t, "processing-time", p.Agg.Domain.String())

	p, err = get("count-window").Pipeline(nil)
	require.NoError(t, err)
	assert.Equal(t, "count(100 every 100)", p.Agg.Window.String())

	p, err = get("sessions").Pipeline(nil)
	require.NoError(t, err)
	assert.Equal(t, int64(30_000), p.Agg.Window.Gap)
	assert.Equal(t, "duration_ms", p.Agg.Aggs[1].Name())
}
