package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/cmd/bench/cliflags"
	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/datasets"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

func TestRunWritesResultsAndSummary(t *testing.T) {
	dir := t.TempDir()
	out, sum := filepath.Join(dir, "ysb.csv"), filepath.Join(dir, "ysb.json")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"run", "ysb", "--runner", "prism", "--events", "20000", "--out", out, "--summary", sum}, &stdout, &stderr)
	require.Equal(t, cliflags.ExitOK, code, "stderr: %s", stderr.String())
	assert.Contains(t, stdout.String(), "matches reference: yes")
	_, rs, err := datasets.ReadResults(out)
	require.NoError(t, err)
	assert.NotEmpty(t, rs)
	b, err := os.ReadFile(sum)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"events_per_second"`)
}

// TestRefusalExit3 wants exit 3 and Beam's reason for a pipeline Beam
// cannot express as weir defines it (I5 across sliding windows under the
// log's watermark), and exit 2 for a bad runner configuration.
func TestRefusalExit3(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"run", "ysb", "--runner", "universal"}, &stdout, &stderr)
	assert.Equal(t, cliflags.ExitUsage, code, "universal without an endpoint is a usage error")
	assert.Contains(t, stderr.String(), "endpoint")

	stderr.Reset()
	code = run(context.Background(), []string{"run", "iot-sliding", "--events", "1000", "--log-watermark", "--lateness", "1s"}, &stdout, &stderr)
	assert.Equal(t, cliflags.ExitUnsupported, code, "stderr: %s", stderr.String())
	assert.Contains(t, stderr.String(), "beam cannot express this pipeline: sliding windows under the log's watermark")
}

func TestCheckTable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"check", "--events", "5000"}, &stdout, &stderr)
	require.Equal(t, cliflags.ExitOK, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	for _, w := range []string{"ysb", "sessions", "iot-sliding", "count-window", "fraud"} {
		assert.Regexp(t, "(?m)^"+w+" +beam/prism .* matches$", stdout.String())
	}
}

// TestPerf measures two workloads on Prism, small: each checked against
// the reference and given a figure, written to beam-perf.csv as
// compare.ReadBeamPerf reads it; bad flags are refused before any run.
func TestPerf(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"perf", "ysb", "grep", "--events", "5000", "--reps", "2", "--out", dir}, &stdout, &stderr)
	require.Equal(t, cliflags.ExitOK, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	assert.Regexp(t, `(?m)^ysb\s+5000\s+\d+\s+beam/prism\s+\d+.*matches$`, stdout.String())
	recs, err := compare.ReadBeamPerf(dir)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for _, r := range recs {
		assert.Equal(t, "ok", r.Status, "%s: %s", r.Workload, r.Reason)
		assert.EqualValues(t, 5000, r.Events)
		assert.EqualValues(t, 2, r.Reps)
		assert.Positive(t, r.EventsPerSecond)
		assert.LessOrEqual(t, r.MinEventsPerSecond, r.EventsPerSecond)
		assert.True(t, strings.HasPrefix(r.Check, "yes"), r.Check)
	}
	assert.Equal(t, []string{"ysb", "grep"}, []string{recs[0].Workload, recs[1].Workload})
	meta, err := compare.ReadParquetMetadata(filepath.Join(dir, compare.BeamPerfParquet))
	require.NoError(t, err)
	assert.Equal(t, "weirbeam perf ysb grep --events 5000 --reps 2 --out "+dir, meta["command"])

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"perf", "--events", "10"}, "--out DIR is required"},
		{[]string{"perf", "nope", "--out", dir}, `unknown workload "nope"`},
		{[]string{"perf", "nexmark-q1", "--out", dir}, "nexmark-q1 has no hand loop"},
		{[]string{"perf", "--reps", "0", "--out", dir}, "--reps 0"},
		{[]string{"perf", "--events", "-3", "--out", dir}, "--events -3"},
		{[]string{"perf", "--out", filepath.Join(dir, compare.BeamPerfCSV)}, "is a file"},
	} {
		stderr.Reset()
		code := run(context.Background(), tc.args, &stdout, &stderr)
		assert.Equal(t, cliflags.ExitUsage, code, "%v: %s", tc.args, stderr.String())
		assert.Contains(t, stderr.String(), tc.want, "%v", tc.args)
	}
}
