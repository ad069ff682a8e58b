package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/datasets"
)

// TestOutputPathsCheckedFirst: an output, summary, checkpoint or report
// path that cannot be written (a missing directory, a file where a
// directory is wanted, a directory where a file is) is exit 2 naming the
// flag, before any work: nothing is generated or run.
func TestOutputPathsCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	missing := filepath.Join(dir, "missing")
	suite := filepath.Join(dir, "suite")
	require.NoError(t, compare.WriteSuiteResults(suite, &compare.SuiteResults{Command: "bench suite"}))
	run := []string{"run", "ysb", "--runtime", "reference", "--events", "100"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"out in a missing directory", append(run, "--out", filepath.Join(missing, "x.csv")), "--out " + filepath.Join(missing, "x.csv") + ": directory " + missing + " does not exist; create it first"},
		{"summary in a missing directory", append(run, "--summary", filepath.Join(missing, "s.json")), "--summary " + filepath.Join(missing, "s.json") + ": directory"},
		{"summary is a directory", append(run, "--summary", dir), "--summary " + dir + ": is a directory; name a file"},
		{"out under a file", append(run, "--out", filepath.Join(file, "x.csv")), "--out " + filepath.Join(file, "x.csv") + ": " + file + " is a file, not a directory"},
		{"trace under a file", append(run, "--trace", filepath.Join(file, "sub", "t.parquet")), "--trace " + filepath.Join(file, "sub", "t.parquet") + ": " + file + " is a file"},
		{"checkpoint dir is a file", []string{"run", "ysb", "--runtime", "microbatch", "--events", "100", "--checkpoint-dir", file},
			"--checkpoint-dir " + file + ": is a file, not a directory"},
		{"checkpoint dir under a file", []string{"run", "ysb", "--runtime", "recordstream", "--guarantee", "exactly-once", "--events", "100", "--checkpoint-dir", filepath.Join(file, "cp")},
			"--checkpoint-dir " + filepath.Join(file, "cp") + ": " + file + " is a file"},
		{"capacity checkpoint dir", []string{"capacity", "ysb", "--runtime", "microbatch", "--checkpoint-dir", file}, "bench capacity: --checkpoint-dir"},
		{"gen into a file", []string{"gen", "ysb", "--events", "100", "--out", file}, "bench gen: --out " + file + ": is a file, not a directory"},
		{"gen under a file", []string{"gen", "ysb", "--events", "100", "--out", filepath.Join(file, "d")}, file + " is a file"},
		{"suite into a file", []string{"suite", "windows", "--quick", "--out", file}, "bench suite: --out " + file + ": is a file"},
		{"lecture suite into a file", []string{"--out", file}, "bench: --out " + file + ": is a file"},
		{"report into a missing directory", []string{"report", "--in", suite, "--out", filepath.Join(missing, "REPORT.md")}, "bench report: --out " + filepath.Join(missing, "REPORT.md") + ": directory"},
		{"report figures into a file", []string{"report", "--in", suite, "--out", filepath.Join(dir, "R.md"), "--figures", file}, "bench report: --figures " + file + ": is a file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := bench(t, tc.args...)
			assert.Equal(t, exitUsage, code, "bench %s: %s", strings.Join(tc.args, " "), stderr)
			assert.Contains(t, stderr, tc.want)
			assert.Empty(t, stdout, "nothing ran")
			assert.NotContains(t, stderr, "events ready", "nothing was generated")
			assert.NotContains(t, stderr, "experiment", "no experiment ran")
		})
	}
	_, err := os.Stat(missing)
	assert.ErrorIs(t, err, os.ErrNotExist, "no check creates a directory")

	// The report's default figures go to docs/figures beside it: a file
	// named docs there is refused, naming --figures as the way out.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "docs"), nil, 0o644))
	code, _, stderr := bench(t, "report", "--in", suite, "--out", filepath.Join(dir, "R.md"))
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, "choose another with --figures DIR")

	if os.Getuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		require.NoError(t, os.Mkdir(ro, 0o555))
		code, _, stderr := bench(t, append(run, "--out", filepath.Join(ro, "x.csv"))...)
		assert.Equal(t, exitUsage, code, stderr)
		assert.Contains(t, stderr, "cannot write in "+ro)
	}
}

// TestOutputsReplacedAtomically: every output is written to a temporary
// file and renamed over the old one, never rewritten in place: a reader
// holding the old file (here a hard link to it) keeps it whole, and no
// temporary file is left.
func TestOutputsReplacedAtomically(t *testing.T) {
	dir := t.TempDir()
	old := []byte("the previous file\n")
	// keep writes the old content at path and hard-links it to a second
	// name: that name keeps the old file for as long as nobody writes into
	// it in place.
	keep := func(path string) string {
		require.NoError(t, os.WriteFile(path, old, 0o644))
		k := filepath.Join(dir, "kept-"+filepath.Base(path))
		require.NoError(t, os.Link(path, k))
		return k
	}
	assertReplaced := func(path, kept string) {
		t.Helper()
		b, err := os.ReadFile(kept)
		require.NoError(t, err)
		assert.Equal(t, old, b, "%s was replaced, not rewritten in place", path)
		b, err = os.ReadFile(path)
		require.NoError(t, err)
		assert.NotEqual(t, old, b, "%s holds the new output", path)
	}

	data := filepath.Join(dir, "data")
	require.NoError(t, os.Mkdir(data, 0o755))
	events := filepath.Join(data, datasets.EventsFile)
	keptEvents := keep(events)
	code, _, stderr := bench(t, "gen", "ysb", "--events", "500", "--out", data)
	require.Equal(t, exitOK, code, stderr)
	assertReplaced(events, keptEvents)

	out, summary := filepath.Join(dir, "x.csv"), filepath.Join(dir, "s.json")
	keptOut, keptSummary := keep(out), keep(summary)
	code, _, stderr = bench(t, "run", "ysb", "--runtime", "reference", "--input", data, "--out", out, "--summary", summary)
	require.Equal(t, exitOK, code, stderr)
	assertReplaced(out, keptOut)
	assertReplaced(summary, keptSummary)

	suite := filepath.Join(dir, "suite")
	require.NoError(t, compare.WriteSuiteResults(suite, &compare.SuiteResults{Command: "bench suite"}))
	report := filepath.Join(dir, "REPORT.md")
	keptReport := keep(report)
	code, _, stderr = bench(t, "report", "--in", suite, "--out", report)
	require.Equal(t, exitOK, code, stderr)
	assertReplaced(report, keptReport)
	st, err := os.Stat(report)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "a report is for any reader")

	for _, d := range []string{dir, data} {
		tmp, err := filepath.Glob(filepath.Join(d, ".*"))
		require.NoError(t, err)
		assert.Empty(t, tmp, "no temporary or check file left in %s", d)
	}
}

// TestGenSaysWhatItReplaces: gen into a non-empty directory names the
// files it replaces and counts the others it leaves.
func TestGenSaysWhatItReplaces(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := bench(t, "gen", "ysb", "--events", "300", "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	assert.NotContains(t, stderr, "not empty", "an empty directory replaces nothing")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644))
	code, _, stderr = bench(t, "gen", "ysb", "--events", "300", "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "bench gen: "+dir+" is not empty: replacing campaigns.parquet, events.parquet; leaving 1 other entries as they are")
	assert.FileExists(t, filepath.Join(dir, "notes.txt"))

	code, _, stderr = bench(t, "gen", "ysb", "--events", "300", "--out", filepath.Join(dir, "new", "deeper"))
	require.Equal(t, exitOK, code, "a missing directory is created: %s", stderr)
	assert.FileExists(t, filepath.Join(dir, "new", "deeper", datasets.EventsFile))
}
