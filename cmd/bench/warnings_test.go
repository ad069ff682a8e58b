package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/weirlab/weir/compare"
)

// TestCheckPrintsWarnings: bench check's table is followed by every run's
// warnings (compare.Summary.Warnings: the runtime's and the faults' that
// did not fire), one line each, named by workload and runtime, with the
// flag of a warning's field; a run without warnings adds no line.
func TestCheckPrintsWarnings(t *testing.T) {
	out := &compare.Outcome{Events: 10, Warnings: []string{"checkpoint chk-2 is damaged (bad CRC); restored chk-1"}}
	warned := &compare.Report{Summary: compare.NewSummary("ysb", "microbatch/event-time", compare.RunConfig{CrashAfter: []int64{50}}, out, compare.CheckResult{})}
	clean := &compare.Report{Summary: compare.NewSummary("grep", "reference", compare.RunConfig{}, &compare.Outcome{Events: 10}, compare.CheckResult{})}
	var b strings.Builder
	printTable(&b, []compare.SuiteRow{
		{Workload: "ysb", Runtime: "microbatch/event-time", Report: warned},
		{Workload: "grep", Runtime: "reference", Report: clean},
	})
	var lines []string
	for l := range strings.Lines(b.String()) {
		if strings.Contains(l, "warning:") {
			lines = append(lines, l)
		}
	}
	fault := warned.Summary.Warnings[0].Message
	assert.Equal(t, []string{
		"ysb on microbatch/event-time: warning: " + fault + " (flag --crash-after)\n",
		"ysb on microbatch/event-time: warning: " + out.Warnings[0] + "\n",
	}, lines)
}

// TestRunPrintsWarningsOnce: bench run prints a run's warnings once, on
// stdout with the summary line, and --summary holds the same ones.
func TestRunPrintsWarningsOnce(t *testing.T) {
	summary := t.TempDir() + "/s.json"
	code, stdout, stderr := bench(t, "run", "grep", "--runtime", "reference", "--events", "200", "--crash-after", "5", "--summary", summary)
	assert.Equal(t, exitOK, code, stderr)
	assert.Equal(t, 1, strings.Count(stdout+stderr, "warning:"), "stdout %q, stderr %q", stdout, stderr)
	assert.Contains(t, stdout, "warning: crashes: 0 of 1: the reference runtime")
}
