package compare

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRuntimeWarningsInSummary: a runtime's own warnings (a damaged
// checkpoint a restore skipped) are in the summary after the faults' that
// did not fire, without a field, so --summary and every command that prints
// a summary's warnings report them; they used to reach only bench run's
// stderr.
func TestRuntimeWarningsInSummary(t *testing.T) {
	out := &Outcome{Events: 300, Warnings: []string{"checkpoint /c/chk-2/task-0 is damaged (bad CRC); restored chk-1"}}
	s := NewSummary("ysb", "microbatch/event-time", RunConfig{CrashAfter: []int64{5000}}, out, CheckResult{})
	require.Len(t, s.Warnings, 2)
	assert.Equal(t, "Options.CrashAfter", s.Warnings[0].Field)
	assert.Equal(t, Warning{Message: out.Warnings[0]}, s.Warnings[1])
	assert.Equal(t, out.Warnings[0], s.Warnings[1].String(), "a warning without a field is its message")

	path := filepath.Join(t.TempDir(), "s.json")
	require.NoError(t, s.WriteFile(path))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var back struct {
		Warnings []map[string]string `json:"warnings"`
	}
	require.NoError(t, json.Unmarshal(b, &back))
	require.Len(t, back.Warnings, 2)
	assert.Equal(t, map[string]string{"message": out.Warnings[0]}, back.Warnings[1], "no empty field in the JSON")

	clean := NewSummary("ysb", "microbatch/event-time", RunConfig{}, &Outcome{Events: 300}, CheckResult{})
	assert.Empty(t, clean.Warnings)
}

// TestTrialRecordsWarnings: a suite's trial rows (results.json, trials.csv,
// trials.parquet) carry the run's warnings.
func TestTrialRecordsWarnings(t *testing.T) {
	rec := &trialRecorder{experiment: "crash"}
	w := &Workload{Name: "ysb"}
	out := &Outcome{Events: 300, Warnings: []string{"checkpoint chk-2 is damaged; restored chk-1"}}
	warned := &Report{Summary: NewSummary("ysb", "microbatch/event-time", RunConfig{CrashAfter: []int64{5000}}, out, CheckResult{})}
	rec.recordRun(context.Background(), w, "microbatch/event-time", DataSpec{}, warned, nil)
	clean := &Report{Summary: NewSummary("ysb", "reference", RunConfig{}, &Outcome{Events: 300}, CheckResult{})}
	rec.recordRun(context.Background(), w, "reference", DataSpec{}, clean, nil)
	rows := rec.take()
	require.Len(t, rows, 2)
	require.Len(t, warned.Summary.Warnings, 2)
	assert.Equal(t, warned.Summary.Warnings[0].String()+"; "+out.Warnings[0], rows[0].Warnings)
	assert.Contains(t, rows[0].Warnings, "Options.CrashAfter: crashes: 0 of 1 fired")
	assert.Empty(t, rows[1].Warnings)

	res := fakeResults()
	res.Experiments[0].Trials = rows
	dir := t.TempDir()
	require.NoError(t, WriteSuiteResults(dir, res))
	back, err := ReadSuiteResults(dir)
	require.NoError(t, err)
	assert.Equal(t, rows, back.Experiments[0].Trials, "results.json keeps the warnings")
	trials, err := ReadTrials(dir)
	require.NoError(t, err)
	require.Len(t, trials, 2)
	assert.Equal(t, rows[0].Warnings, trials[0].Warnings, "trials.parquet keeps the warnings")
	csv, err := os.ReadFile(filepath.Join(dir, TrialsCSV))
	require.NoError(t, err)
	header, _, _ := strings.Cut(string(csv), "\n")
	assert.True(t, strings.HasSuffix(header, ",warnings"), "trials.csv has a warnings column: %s", header)
	assert.Contains(t, string(csv), "restored chk-1")
}
