package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// TestLectureProgressAndVerdicts runs the lecture suite's loop on the
// cheapest experiment: progress names it with n of N and the time, the
// results folder holds its results, stdout has its claim and verdict.
func TestLectureProgressAndVerdicts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs one experiment")
	}
	exps, err := compare.LookupExperiments([]string{"windows"})
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "suite")
	var stdout, stderr strings.Builder
	code := lecture(t.Context(), exps, dir, "bench --out "+dir, &stdout, &stderr)
	require.Equal(t, exitOK, code, stderr.String())
	assert.Contains(t, stderr.String(), "[1/1] windows (L6.2/L6.4): elapsed 0s, time left unknown")
	assert.Regexp(t, `claim\s+experiment\s+verdict\s+seconds`, stdout.String())
	assert.Regexp(t, `L6.2/L6.4\s+windows\s+(holds|does not hold|inconclusive)\s`, stdout.String())
	assert.Contains(t, stdout.String(), "results in "+dir)
	res, err := compare.ReadSuiteResults(dir)
	require.NoError(t, err)
	require.Len(t, res.Experiments, 1)
	assert.True(t, res.Quick)
	assert.Equal(t, "bench --out "+dir, res.Command)
}

func TestShorten(t *testing.T) {
	assert.Equal(t, "abc…", shorten("abcdef", 4))
	assert.Equal(t, "abc", shorten("abc", 4))
}

// TestCheckTableLatency: the check's table shows latency only for paced
// runs; a run on a pre-filled log gets "-" and the note saying why.
func TestCheckTableLatency(t *testing.T) {
	row := func(rate float64) compare.SuiteRow {
		s := compare.Summary{Events: 1000, EventsPerSecond: 5000, Config: compare.RunConfig{Rate: rate}}
		s.LatencyMs.EventTime.Count, s.LatencyMs.EventTime.P99 = 10, 42.5
		s.LatencyMs.ProcessingTime.Count, s.LatencyMs.ProcessingTime.P99 = 10, 7.5
		return compare.SuiteRow{Workload: "ysb", Runtime: "recordstream/at-least-once", Report: &compare.Report{Summary: s}}
	}
	var b strings.Builder
	printTable(&b, []compare.SuiteRow{row(0)})
	assert.NotContains(t, b.String(), "42.5", "no latency on a pre-filled log")
	assert.NotContains(t, b.String(), "7.5", "no latency on a pre-filled log")
	assert.Contains(t, b.String(), "capacity")
	assert.Contains(t, b.String(), "--rate")

	b.Reset()
	printTable(&b, []compare.SuiteRow{row(1000)})
	assert.Contains(t, b.String(), "42.5", "a paced run shows its event-time p99")
	assert.NotContains(t, b.String(), "capacity", "no note without a pre-filled run")
}

// TestRunOverrides: the time knobs reach the pipeline, and the run is
// checked against the reference answer of the changed pipeline.
func TestRunOverrides(t *testing.T) {
	dir := t.TempDir()
	t.Run("window", func(t *testing.T) {
		path := filepath.Join(dir, "ysb5.csv")
		code, out, stderr := bench(t, "run", "ysb", "--runtime", "recordstream", "--events", "20000", "--event-rate", "1000", "--window", "5s", "--out", path)
		require.Equal(t, exitOK, code, stderr)
		assert.Contains(t, stderr, "ysb with window=5s")
		assert.Contains(t, out, "matches reference: yes")
		_, rs, err := datasets.ReadResults(path)
		require.NoError(t, err)
		require.NotEmpty(t, rs)
		for _, r := range rs {
			require.Equal(t, dataflow.Time(5000), r.Window.End-r.Window.Start, "window %v", r.Window)
		}
	})
	t.Run("slide", func(t *testing.T) {
		path := filepath.Join(dir, "ysb-sliding.csv")
		code, out, stderr := bench(t, "run", "ysb", "--runtime", "reference", "--events", "20000", "--event-rate", "1000", "--slide", "5s", "--out", path)
		require.Equal(t, exitOK, code, stderr)
		assert.Contains(t, out, "matches reference: yes")
		_, rs, err := datasets.ReadResults(path)
		require.NoError(t, err)
		starts := map[dataflow.Time]bool{}
		for _, r := range rs {
			require.Equal(t, dataflow.Time(10_000), r.Window.End-r.Window.Start, "window %v", r.Window)
			starts[r.Window.Start%10_000] = true
		}
		assert.Len(t, starts, 2, "10 s windows every 5 s start on both halves of 10 s")
	})
	t.Run("duration", func(t *testing.T) {
		code, out, stderr := bench(t, "run", "ysb", "--runtime", "reference", "--rate", "20000", "--duration", "250ms")
		require.Equal(t, exitOK, code, stderr)
		assert.Contains(t, out, "5000 events", "20000 events/s for 250ms")
		assert.NotContains(t, out, "latency ms", "the reference emits at the end: no latency")

		code, out, stderr = bench(t, "run", "ysb", "--runtime", "recordstream", "--rate", "20000", "--duration", "250ms", "--window", "1s")
		require.Equal(t, exitOK, code, stderr)
		assert.Contains(t, out, "5000 events")
		assert.Contains(t, out, "latency ms (paced at 20.0k events/s): event time p50 ", "a paced run shows its latency")
		assert.Contains(t, out, "matches reference: yes")
	})
}
