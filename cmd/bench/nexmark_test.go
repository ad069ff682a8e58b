package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
)

// TestNexmarkCommand runs `bench nexmark` on one configuration, small:
// the table on stdout with the published figures beside ours, the CSV in
// --out, and `bench report` rendering it.
func TestNexmarkCommand(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := bench(t, "nexmark", "q2", "nexmark-q3", "--runtime", "recordstream", "--guarantee", "at-most-once",
		"--events", "10000", "--paced-rate", "5000", "--paced-duration", "400ms", "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "Flink events/s/core (theirs)")
	assert.Regexp(t, `q2\s+recordstream/at-most-once\s+\S+`, stdout)
	assert.Regexp(t, `q3\s+recordstream/at-most-once\s+\S+`, stdout)
	assert.Contains(t, stdout, "175K", "Flink's q2 per core")
	rows, err := compare.ReadNexmark(dir)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "ok", rows[0].Status)
	assert.True(t, rows[0].Matches, rows[0].Check)
	assert.Equal(t, "--guarantee at-most-once", rows[0].Config)
	assert.Equal(t, "ok", rows[1].Status, "q3, an incremental join, on at-most-once")
	assert.True(t, rows[1].Matches, rows[1].Check)

	// A configuration that cannot express a join is a refused row with the
	// model's reason.
	rdir := t.TempDir()
	code, stdout, stderr = bench(t, "nexmark", "nexmark-q3", "--runtime", "recordstream", "--guarantee", "trident",
		"--events", "10000", "--paced-rate", "5000", "--paced-duration", "400ms", "--out", rdir)
	require.Equal(t, exitOK, code, stderr)
	assert.Regexp(t, `q3\s+recordstream/trident\s+refused`, stdout)
	refused, err := compare.ReadNexmark(rdir)
	require.NoError(t, err)
	require.Len(t, refused, 1)
	assert.Equal(t, "refused", refused[0].Status)

	// bench report renders the table of a suite directory that has one.
	require.NoError(t, compare.WriteSuiteResults(dir, &compare.SuiteResults{Command: "bench suite --quick", Quick: true}))
	report := filepath.Join(t.TempDir(), "REPORT.md")
	code, stdout, stderr = bench(t, "report", "--in", dir, "--out", report)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "the Nexmark table (2 rows)")
	b, err := os.ReadFile(report)
	require.NoError(t, err)
	assert.Contains(t, string(b), "## Nexmark")
	assert.Contains(t, string(b), "Measured by `bench nexmark q2 nexmark-q3")
}

// TestNexmarkUsage: bad input is refused before anything runs, naming
// the fix.
func TestNexmarkUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nexmark"}, "--out DIR is required"},
		{[]string{"nexmark", "q6", "--out", dir}, `unknown query "nexmark-q6"`},
		{[]string{"nexmark", "--events", "-1", "--out", dir}, "--events -1"},
		{[]string{"nexmark", "--paced-rate", "-5", "--out", dir}, "--paced-rate -5"},
		{[]string{"nexmark", "--guarantee", "exactly-once", "--out", dir}, "give --runtime"},
		{[]string{"nexmark", "--runtime", "flink", "--out", dir}, "unknown runtime"},
		{[]string{"nexmark", "--runtime", "microbatch", "--guarantee", "exactly-once", "--out", dir}, "recordstream flag"},
	} {
		code, _, stderr := bench(t, tc.args...)
		assert.Equal(t, exitUsage, code, "%v: %s", tc.args, stderr)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
	}
	_, err := os.Stat(filepath.Join(dir, compare.NexmarkCSV))
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing written on bad input")
}
