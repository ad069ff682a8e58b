package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
)

// TestPerfCommand runs `bench perf` on two workloads, tiny: the table on
// stdout, every configuration measured or refused and checked, the CSV and
// Parquet in --out, and `bench report` rendering the performance section
// from them, with a Beam file beside when there is one.
func TestPerfCommand(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := bench(t, "perf", "ysb", "count-window", "--events", "3000", "--reps", "2", "--min-loop", "1ms", "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "ysb: repetition 2 of 2: microbatch-dstream", "progress on stderr")
	assert.Regexp(t, `(?m)^workload\s+events\s+results\s+hand loop\s+reference\s+microbatch-dstream`, stdout)
	assert.Regexp(t, `(?m)^ysb\s+3000\s+\d+\s+\S+ \[`, stdout, "median [min-max] of two repetitions")
	assert.Contains(t, stdout, "not measured (no Beam figure (weirbeam perf))")
	recs, err := compare.ReadPerf(dir)
	require.NoError(t, err)
	require.Len(t, recs, 2*(1+len(compare.PerfSuite())))
	for _, r := range recs {
		assert.Contains(t, []string{"ok", "refused"}, r.Status, "%s on %s: %s", r.Workload, r.Config, r.Reason)
		if r.Status == "ok" {
			assert.Positive(t, r.EventsPerSecond, "%s on %s", r.Workload, r.Config)
			assert.EqualValues(t, 2, r.Reps)
		}
	}
	assert.Equal(t, "handloop", recs[0].Config)
	assert.Equal(t, "--runtime microbatch --mode dstream --batch-interval 1s", recs[2].Flags)
	assert.FileExists(t, filepath.Join(dir, compare.PerfParquet))

	// bench report: the section, from perf.csv and beam-perf.csv.
	require.NoError(t, compare.WriteBeamPerf(dir, []compare.BeamPerfRecord{
		{Workload: "ysb", Events: 3000, Runner: "beam/prism", Status: "ok", Reps: 1, EventsPerSecond: 1000, MinEventsPerSecond: 1000, MaxEventsPerSecond: 1000, Check: "yes"},
	}, [][2]string{{"command", "weirbeam perf --events 3000 --out " + dir}}))
	require.NoError(t, compare.WriteSuiteResults(dir, &compare.SuiteResults{Command: "bench suite --quick", Quick: true}))
	report := filepath.Join(t.TempDir(), "REPORT.md")
	code, stdout, stderr = bench(t, "report", "--in", dir, "--out", report)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "the performance table (2 workloads)")
	b, err := os.ReadFile(report)
	require.NoError(t, err)
	md := string(b)
	assert.Contains(t, md, "## "+compare.PerfSectionTitle)
	assert.Contains(t, md, "Measured by `bench perf ysb count-window --events 3000")
	assert.Contains(t, md, "and, for Beam, `weirbeam perf --events 3000")
	assert.Regexp(t, `\| ysb \| 3000 \| \d+ \| [^|]+ \|`, md)
	assert.Contains(t, md, "count-window: the reference answer is empty at 3000 events")
	assert.FileExists(t, filepath.Join(filepath.Dir(report), "docs", "figures", "perf.svg"))

	// --perf names another directory; one without perf.csv is refused.
	other := t.TempDir()
	code, _, stderr = bench(t, "report", "--in", dir, "--out", report, "--perf", other)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "holds no perf.csv; run `bench perf --out "+other+"` first")
}

// TestPerfUsage: bad input is refused before anything runs, naming the
// fix, and nothing is written.
func TestPerfUsage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"perf"}, "--out DIR is required"},
		{[]string{"perf", "nope", "--out", dir}, `unknown workload "nope"`},
		{[]string{"perf", "nexmark-q1", "--out", dir}, `no hand loop for workload "nexmark-q1": the loops cover ysb`},
		{[]string{"perf", "--events", "-1", "--out", dir}, "--events -1"},
		{[]string{"perf", "--reps", "-2", "--out", dir}, "--reps -2"},
		{[]string{"perf", "--min-loop", "-1s", "--out", dir}, "--min-loop -1s"},
		{[]string{"perf", "--out", file}, "is a file"},
	} {
		code, _, stderr := bench(t, tc.args...)
		assert.Equal(t, exitUsage, code, "%v: %s", tc.args, stderr)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
	}
	_, err := os.Stat(filepath.Join(dir, compare.PerfCSV))
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing written on bad input")
}

// TestPerfInterrupted: a signal stops bench perf wherever it falls (the
// tripCtx cancels at the at-th look at the context: while generating, in
// the loop's repetitions, in a configuration's run), with the one
// interrupted line and exit 1; what it keeps is a readable perf.csv.
func TestPerfInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errSignal)
	code, _, stderr := benchCtx(ctx, "perf", "--quick", "--out", t.TempDir())
	assertInterrupted(t, code, stderr, "bench perf: interrupted (terminated signal received)")
	for _, at := range []int64{1, 20, 400, 4000} {
		dir := t.TempDir()
		ctx := newTripCtx(t, at)
		code, _, stderr := benchCtx(ctx, "perf", "ysb", "grep", "--events", "5000", "--reps", "2", "--out", dir)
		if ctx.calls.Load() < at {
			t.Fatalf("at %d: the command looked at its context %d times only and ended: exit %d, %s", at, ctx.calls.Load(), code, stderr)
		}
		assert.Equal(t, exitFailed, code, stderr)
		assert.Equal(t, 1, strings.Count(stderr, "bench perf: interrupted (terminated signal received)"), stderr)
		assert.NotContains(t, stderr, "context canceled")
		if strings.Contains(stderr, "kept in") {
			recs, err := compare.ReadPerf(dir)
			require.NoError(t, err)
			assert.NotEmpty(t, recs)
		}
	}
}
