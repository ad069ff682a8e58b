package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCapacity runs a two-probe search on short probes: each probe is
// printed, then the result (a lower bound: both probes keep up).
func TestCapacity(t *testing.T) {
	if testing.Short() {
		t.Skip("paced runs take seconds")
	}
	code, stdout, stderr := bench(t, "capacity", "ysb", "--runtime", "recordstream", "--guarantee", "at-most-once",
		"--window", "200ms", "--watermark-bound", "100ms", "--start-rate", "2000", "--max-probes", "2",
		"--probe-duration", "1500ms", "--slack", "1s", "--min-emissions", "10")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "probe 2.0k events/s: sustainable")
	assert.Contains(t, stdout, "probe 4.0k events/s: sustainable")
	assert.Contains(t, stdout, "sustainable throughput at least 4.0k events/s")
}

func TestCapacityUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"capacity", "ysb"}, "--runtime is required"},
		{[]string{"capacity"}, "want one workload"},
		{[]string{"capacity", "ysb", "--runtime", "recordstream", "--max-probes", "0"}, "--max-probes"},
		{[]string{"capacity", "ysb", "--runtime", "recordstream", "--start-rate", "-1"}, "--start-rate"},
		{[]string{"capacity", "ysb", "--runtime", "recordstream", "--guarantee", "sometimes"}, "--guarantee"},
	} {
		code, _, stderr := bench(t, tc.args...)
		assert.Equal(t, exitUsage, code, "bench %v", tc.args)
		assert.Contains(t, stderr, tc.want, "bench %v", tc.args)
	}
}
