package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestArchitectureRefused: bad architecture input is exit 2 (3 for a
// workload the architecture cannot express) with a message naming the
// problem and the way out, before any work.
func TestArchitectureRefused(t *testing.T) {
	run := []string{"run", "ysb", "--rate", "1000", "--events", "1000"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown architecture", []string{"--architecture", "omega"}, exitUsage, `--architecture "omega": want one of lambda, kappa`},
		{"lambda flag without an architecture", []string{"--runtime", "recordstream", "--batch-period", "1s"}, exitUsage,
			"--batch-period configures the lambda architecture: give --architecture lambda, or drop --batch-period"},
		{"kappa flag on lambda", []string{"--architecture", "lambda", "--reprocess-window", "1s"}, exitUsage,
			"--reprocess-window applies to --architecture kappa only; this run is lambda: drop --reprocess-window"},
		{"lambda flag on kappa", []string{"--architecture", "kappa", "--batch-layer", "microbatch"}, exitUsage,
			"--batch-layer applies to --architecture lambda only"},
		{"batch period out of range", []string{"--architecture", "lambda", "--batch-period", "1ms"}, exitUsage,
			"ArchConfig.BatchPeriod: want 10ms to 1h0m0s (0: 500ms); got 1ms (flag --batch-period)"},
		{"unknown batch layer", []string{"--architecture", "lambda", "--batch-layer", "hadoop"}, exitUsage, "want one of reference, microbatch"},
		{"reprocess point out of range", []string{"--architecture", "kappa", "--reprocess-window", "2s", "--reprocess-at", "1.5"}, exitUsage,
			"(flag --reprocess-at)"},
		{"kappa without a change", []string{"--architecture", "kappa"}, exitUsage, "kappa reprocesses with a changed pipeline"},
		{"a change the pipeline cannot take", []string{"--architecture", "kappa", "--reprocess-gap", "2s"}, exitUsage,
			"Overrides.Gap: pipeline ysb has fixed windows"},
		{"kappa on microbatch", []string{"--architecture", "kappa", "--runtime", "microbatch", "--reprocess-window", "2s"}, exitUsage,
			"kappa's jobs run on recordstream"},
		{"the reference as a speed layer", []string{"--architecture", "lambda", "--runtime", "reference"}, exitUsage,
			"the reference runtime is the batch answer, not a streaming layer"},
		{"a runtime flag the speed layer does not read", []string{"--architecture", "lambda", "--checkpoint-interval", "1s"}, exitUsage,
			"--checkpoint-interval applies to recordstream exactly-once only; this run is at-most-once"},
		{"a microbatch flag on the default speed layer", []string{"--architecture", "lambda", "--batch-interval", "1s"}, exitUsage,
			"--batch-interval is a microbatch flag; recordstream does not read it"},
		{"a trace", []string{"--architecture", "lambda", "--trace", filepath.Join(t.TempDir(), "t.parquet")}, exitUsage,
			"--trace writes one runtime's trace, and --architecture lambda runs several: drop --trace"},
		{"a stateless workload", []string{"--architecture", "lambda"}, exitUnsupported,
			"lambda architecture cannot express this pipeline: its serving layer splits the answer by event-time window at the batch view's cut-off; pipeline grep is stateless"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string(nil), run...), tc.args...)
			if tc.code == exitUnsupported {
				args[1] = "grep"
			}
			code, stdout, stderr := bench(t, args...)
			assert.Equal(t, tc.code, code, "bench %s: stderr %s", strings.Join(args, " "), stderr)
			assert.Contains(t, stderr, tc.want)
			assert.Empty(t, stdout, "refused before the run")
		})
	}
	code, _, stderr := bench(t, "run", "sessions", "--architecture", "lambda", "--runtime", "microbatch", "--mode", "dstream", "--rate", "10000", "--events", "2000")
	assert.Equal(t, exitUnsupported, code, "a speed layer that cannot express the workload: %s", stderr)
	assert.Contains(t, stderr, "bench run: microbatch (dstream) cannot express this pipeline: session windows")
	code, _, stderr = bench(t, "run", "ysb", "--architecture", "lambda", "--events", "1000")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--architecture lambda runs its layers while the log fills: give --rate EVENTS_PER_S")
}

// TestArchitectureRuns: Lambda and Kappa runs print their lines, write
// the final served answer (--out) and the summary with the served series.
func TestArchitectureRuns(t *testing.T) {
	dir := t.TempDir()
	common := []string{"--rate", "20000", "--events", "10000", "--window", "200ms", "--watermark-bound", "100ms"}
	for _, tc := range []struct {
		arch   string
		args   []string
		lines  []string
		series string
	}{
		{"lambda", []string{"--batch-period", "200ms", "--crash-after", "2000"},
			[]string{"ysb on lambda(recordstream/at-most-once + reference)", "final served answer matches reference: yes", "lambda: served answer differs", "lambda: work: speed layer 10000 records", "code paths: speed layer: recordstream/at-most-once; batch layer: reference"},
			"served_differing_share"},
		{"kappa", []string{"--reprocess-window", "400ms"},
			[]string{"ysb on kappa(recordstream/exactly-once)", "final served answer matches reference: yes", "kappa: served answer differs", "serving switched after catch-up: yes", "table 1 (old pipeline", "kappa: work: job 1"},
			"served_differing_share"},
	} {
		t.Run(tc.arch, func(t *testing.T) {
			out, sum := filepath.Join(dir, tc.arch+".csv"), filepath.Join(dir, tc.arch+".json")
			args := append(append([]string{"run", "ysb", "--architecture", tc.arch, "--out", out, "--summary", sum}, common...), tc.args...)
			code, stdout, stderr := bench(t, args...)
			require.Equal(t, exitOK, code, "stderr: %s", stderr)
			for _, l := range tc.lines {
				assert.Contains(t, stdout, l)
			}
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(string(b), "window_start_ms,window_end_ms,key,value"), "results format: %.80s", b)
			var s struct {
				Runtime   string                     `json:"runtime"`
				Reference struct{ OK bool }          `json:"reference"`
				Series    map[string]json.RawMessage `json:"series"`
			}
			b, err = os.ReadFile(sum)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &s))
			assert.True(t, s.Reference.OK)
			assert.Contains(t, s.Series, tc.series)
			assert.True(t, strings.HasPrefix(s.Runtime, tc.arch+"("), s.Runtime)
		})
	}
}

// TestListArchitectures: bench list names both architectures.
func TestListArchitectures(t *testing.T) {
	code, stdout, _ := bench(t, "list")
	require.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "architectures (bench run WORKLOAD --architecture A --rate R):")
	assert.Regexp(t, `\n  lambda +speed layer`, stdout)
	assert.Regexp(t, `\n  kappa +one streaming job`, stdout)
	assert.Contains(t, stdout, "lambda-vs-kappa")
}
