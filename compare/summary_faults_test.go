package compare

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFaultWarnings: a requested crash that does not fire is a warning in
// the summary, with the crash count (0) and how far the count got; the
// reference runtime injects no faults and says so.
func TestFaultWarnings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		runtime string
		crash   []int64
		out     *Outcome
		crashes int64
		want    string // in the warning; "" for none
	}{
		{"none asked", "recordstream/at-least-once", nil, &Outcome{Events: 100}, 0, ""},
		{"fired", "recordstream/at-least-once", []int64{50}, &Outcome{Events: 100, Counters: map[string]int64{"crashes": 1, "records_in": 80}}, 1, ""},
		{"beyond the windowed step", "recordstream/at-most-once", []int64{50, 1000}, &Outcome{Events: 2000, Counters: map[string]int64{"crashes": 1, "records_in": 600}},
			1, "crashes: 1 of 2 fired; the run had 600 records the windowed step took in, fewer than 1000: crash points must be at most 600"},
		{"microbatch beyond the events", "microbatch/event-time", []int64{5000}, &Outcome{Events: 300, Counters: map[string]int64{"batches": 3}},
			0, "crashes: 0 of 1 fired; the run had 300 events read, fewer than 5000"},
		{"microbatch fired both kinds", "microbatch/dstream", []int64{10, 20}, &Outcome{Events: 300, Counters: map[string]int64{"failed_batches": 1, "driver_restarts": 1}}, 2, ""},
		{"reference", "reference", []int64{10}, &Outcome{Events: 300}, 0, "crashes: 0 of 1: the reference runtime (the batch answer) injects no faults"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSummary("ysb", tc.runtime, RunConfig{CrashAfter: tc.crash}, tc.out, CheckResult{})
			assert.Equal(t, tc.crashes, s.Crashes)
			if tc.want == "" {
				assert.Empty(t, s.Warnings)
				return
			}
			require.Len(t, s.Warnings, 1)
			assert.Equal(t, "Options.CrashAfter", s.Warnings[0].Field)
			assert.Contains(t, s.Warnings[0].Message, tc.want)
			assert.NotContains(t, s.Warnings[0].Message, "--", "library text names fields, not flags")

			path := filepath.Join(t.TempDir(), "s.json")
			require.NoError(t, s.WriteFile(path))
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			var back map[string]any
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, float64(tc.crashes), back["crashes"])
			assert.Contains(t, back["warnings"].([]any)[0].(map[string]any)["message"], tc.want)
			names, err := filepath.Glob(filepath.Join(filepath.Dir(path), ".*"))
			require.NoError(t, err)
			assert.Empty(t, names, "no temporary file left")
			st, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "a summary is for any reader")
		})
	}
}
