package main

import (
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnusedFlagsRefused: a flag the chosen runtime (or guarantee, or the
// --input data) does not read is exit 2 naming it and the way out, before
// any work, not silently ignored.
func TestUnusedFlagsRefused(t *testing.T) {
	dir := t.TempDir() // --input: refused before it is read
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"guarantee on microbatch", []string{"run", "ysb", "--runtime", "microbatch", "--guarantee", "exactly-once"},
			"--guarantee is a recordstream flag; microbatch does not read it"},
		{"memory budget on recordstream at-most-once", []string{"run", "ysb", "--runtime", "recordstream", "--memory-budget", "1GiB"},
			"--memory-budget applies to recordstream at-least-once only; this run is at-most-once"},
		{"unaligned with at-least-once", []string{"run", "ysb", "--runtime", "recordstream", "--guarantee", "at-least-once", "--unaligned"},
			"--unaligned applies to recordstream exactly-once only; this run is at-least-once: drop --unaligned, or give --guarantee exactly-once"},
		{"ackers with the default guarantee", []string{"run", "ysb", "--runtime", "recordstream", "--ackers", "2"},
			"--ackers applies to recordstream at-least-once only; this run is at-most-once"},
		{"drop-acks with exactly-once", []string{"run", "ysb", "--runtime", "recordstream", "--guarantee", "exactly-once", "--drop-acks", "0.1"},
			"--drop-acks applies to recordstream at-least-once or dataflow only"},
		{"checkpoint interval with at-most-once", []string{"run", "ysb", "--runtime", "recordstream", "--checkpoint-interval", "1s"},
			"--checkpoint-interval applies to recordstream exactly-once only"},
		{"message timeout on microbatch", []string{"run", "ysb", "--runtime", "microbatch", "--message-timeout", "1s"},
			"--message-timeout is a recordstream flag"},
		{"parallelism on the reference", []string{"run", "ysb", "--runtime", "reference", "--parallelism", "2"},
			"--parallelism configures a streaming runtime; the reference runtime (the batch answer) reads no runtime flags"},
		{"slow on the reference", []string{"run", "ysb", "--runtime", "reference", "--slow", "1ms"}, "drop --slow"},
		{"a false boolean is still given", []string{"run", "ysb", "--runtime", "recordstream", "--backpressure=false"}, "--backpressure is a microbatch flag"},
		{"events with input", []string{"run", "ysb", "--runtime", "reference", "--input", dir, "--events", "10"},
			"--events shapes built-in data only; the file of --input holds the events `bench gen` wrote (drop --events, or pass it to bench gen)"},
		{"seed with input", []string{"run", "ysb", "--runtime", "reference", "--input", dir, "--seed", "3"}, "--seed shapes built-in data only"},
		{"event rate with input", []string{"run", "ysb", "--runtime", "reference", "--input", dir, "--event-rate", "50"}, "--event-rate shapes built-in data only"},
		{"concurrent jobs in event time", []string{"run", "ysb", "--runtime", "microbatch", "--concurrent-jobs", "2"},
			"--concurrent-jobs applies to microbatch dstream only; this run is event-time: drop --concurrent-jobs, or give --mode dstream"},
		{"capacity: guarantee on microbatch", []string{"capacity", "ysb", "--runtime", "microbatch", "--guarantee", "at-least-once"},
			"bench capacity: --guarantee is a recordstream flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := bench(t, tc.args...)
			assert.Equal(t, exitUsage, code, "bench %s: stderr %s", strings.Join(tc.args, " "), stderr)
			assert.Contains(t, stderr, tc.want)
			assert.Empty(t, stdout, "refused before the run")
		})
	}
}

// TestUsedFlagsAccepted: the flags a configuration reads pass the check
// (its table agrees with the runtimes), and --seed stays with --input when
// it seeds the lost acker messages.
func TestUsedFlagsAccepted(t *testing.T) {
	for _, tc := range []struct {
		runner string
		args   []string
	}{
		{"microbatch/event-time", []string{"--mode", "event-time", "--batch-interval", "1s", "--block-interval", "100ms", "--backpressure",
			"--memory-budget", "1GiB", "--parallelism", "2", "--checkpoint-interval", "1s", "--checkpoint-dir", "d", "--slow", "1us"}},
		{"microbatch/dstream", []string{"--mode", "dstream", "--concurrent-jobs", "2", "--crash-after", "5", "--max-offsets-per-trigger", "1000"}},
		{"recordstream/at-least-once", []string{"--guarantee", "at-least-once", "--ackers", "2", "--max-spout-pending", "100",
			"--message-timeout", "1s", "--drop-acks", "0.1", "--memory-budget", "1GiB", "--parallelism", "2", "--watermark-interval", "1s", "--slow", "1us"}},
		{"recordstream/exactly-once", []string{"--guarantee", "exactly-once", "--unaligned", "--checkpoint-interval", "1s", "--parallelism", "2"}},
		{"recordstream/at-most-once", []string{"--guarantee", "at-most-once", "--parallelism", "2", "--crash-after", "5"}},
		{"reference", []string{"--crash-after", "5"}}, // reported as a warning (TestCrashThatNeverFires)
	} {
		fs := newFlagSet("bench run", io.Discard)
		addRuntimeFlags(fs)
		fs.Duration("slow", 0, "")
		fs.Float64("drop-acks", 0, "")
		var crash int64List
		fs.Var(&crash, "crash-after", "")
		_, err := parseArgs(fs, tc.args)
		require.NoError(t, err)
		assert.Empty(t, unusedRuntimeFlag(fs, tc.runner), "%s %v", tc.runner, tc.args)
	}

	fs := newFlagSet("bench run", io.Discard)
	fs.String("input", "", "")
	addDataFlags(fs, "run")
	fs.Float64("drop-acks", 0, "")
	_, err := parseArgs(fs, []string{"--input", "d", "--seed", "2", "--drop-acks", "0.1", "--partitions", "3"})
	require.NoError(t, err)
	assert.Empty(t, inputFlagProblem(fs), "--seed seeds --drop-acks; --partitions reads the file into partitions")
}

// TestFlagGivenTwice: the flag package keeps the last of a repeated flag;
// bench refuses it (exit 2, naming it), except the repeatable --crash-after.
func TestFlagGivenTwice(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"run", "ysb", "--runtime", "reference", "--events", "10", "--events", "20"},
		{"run", "ysb", "--runtime", "reference", "--events=10", "-events", "20"},
		{"run", "ysb", "--runtime", "microbatch", "--backpressure", "--backpressure=false"},
		{"run", "ysb", "--runtime", "recordstream", "--rate", "10", "--rate-steps", "1s=5", "--rate-steps", "2s=5"},
		{"gen", "ysb", "--out", dir, "--out", filepath.Join(dir, "b")},
		{"suite", "windows", "--out", dir, "--quick", "--quick"},
		{"report", "--in", dir, "--in", dir},
	} {
		code, stdout, stderr := bench(t, args...)
		assert.Equal(t, exitUsage, code, "bench %s: %s", strings.Join(args, " "), stderr)
		assert.Contains(t, stderr, "is given twice; give it once", "bench %s", strings.Join(args, " "))
		assert.Empty(t, stdout)
	}

	fs := newFlagSet("bench run", io.Discard)
	fs.String("out", "", "")
	fs.Bool("quick", false, "")
	var crash int64List
	fs.Var(&crash, "crash-after", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--crash-after", "5", "--crash-after", "10"}, ""},
		{[]string{"ysb", "--quick", "x", "--out", "a"}, ""},
		{[]string{"--out", "--quick", "--quick"}, ""}, // "--quick" is --out's value
		{[]string{"--quick", "--out", "a", "--", "--out"}, ""},
		{[]string{"--quick", "--quick=true"}, "quick"},
		{[]string{"--out=a", "ysb", "-out", "b"}, "out"},
	} {
		_, err := parseArgs(fs, tc.args)
		require.NoError(t, err, "%v", tc.args)
		assert.Equal(t, tc.want, repeatedFlag(fs, tc.args), "repeatedFlag(%v)", tc.args)
	}
}

// TestOutputsNameDistinctFiles: --out, --summary and --trace naming one file
// are refused before the run (the second write would replace the first).
func TestOutputsNameDistinctFiles(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "x.csv")
	for _, args := range [][]string{
		{"--out", csv, "--summary", csv},
		{"--out", csv, "--summary", filepath.Join(dir, ".", "x.csv")},
		{"--out", filepath.Join(dir, "t.parquet"), "--trace", filepath.Join(dir, "sub", "..", "t.parquet")},
		{"--summary", filepath.Join(dir, "t.parquet"), "--trace", filepath.Join(dir, "t.parquet")},
	} {
		code, stdout, stderr := bench(t, append([]string{"run", "ysb", "--runtime", "reference", "--events", "100"}, args...)...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, "name the same file; give each its own", "%v", args)
		assert.Empty(t, stdout)
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	code, _, stderr := bench(t, "run", "ysb", "--runtime", "reference", "--events", "100", "--out", csv, "--summary", filepath.Join(dir, "sub", "x.csv"))
	assert.Equal(t, exitOK, code, "two files of one name in two directories: %s", stderr)
}

// TestCrashThatNeverFires: a requested crash beyond what the windowed step
// takes in, or on the reference runtime, is reported in the output and the
// summary (crashes: 0 and a warning), not dropped.
func TestCrashThatNeverFires(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"beyond the windowed step", []string{"--runtime", "recordstream", "--crash-after", "1000000"},
			"warning: crashes: 0 of 1 fired; the run had "},
		{"on the reference", []string{"--runtime", "reference", "--crash-after", "10"},
			"warning: crashes: 0 of 1: the reference runtime (the batch answer) injects no faults"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			summary := filepath.Join(t.TempDir(), "s.json")
			args := append([]string{"run", "ysb", "--events", "2000", "--summary", summary}, tc.args...)
			code, stdout, stderr := bench(t, args...)
			require.Equal(t, exitOK, code, stderr)
			assert.Contains(t, stdout, tc.want)
			assert.Contains(t, stdout, "(flag --crash-after)")
			var s struct {
				Crashes  *int64 `json:"crashes"`
				Warnings []struct{ Field, Message string }
			}
			b, err := os.ReadFile(summary)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &s))
			require.NotNil(t, s.Crashes, "the summary has crashes")
			assert.Zero(t, *s.Crashes)
			require.Len(t, s.Warnings, 1)
			assert.Equal(t, "Options.CrashAfter", s.Warnings[0].Field)
			assert.Contains(t, "warning: "+s.Warnings[0].Message, tc.want)
		})
	}
}

// TestRuntimeFlagUsesComplete: every runtime flag (and the faults but
// --crash-after) says which runtimes read it, so a new flag cannot be
// ignored unseen.
func TestRuntimeFlagUsesComplete(t *testing.T) {
	uses := runtimeFlagUses()
	fs := newFlagSet("bench run", io.Discard)
	addRuntimeFlags(fs)
	names := []string{"slow", "drop-acks"}
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	for _, n := range names {
		u, ok := uses[n]
		if assert.True(t, ok, "runtimeFlagUses has no entry for --%s", n) {
			assert.True(t, len(u.microbatch)+len(u.recordstream) > 0, "--%s is read by some runtime", n)
		}
	}
	assert.Len(t, uses, len(names), "runtimeFlagUses lists only flags that exist")
}
