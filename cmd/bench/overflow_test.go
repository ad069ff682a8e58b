package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestValuesThatHangOrOverflowAreRefused (issue 15): each value once hung
// the run, overflowed, or grew until the kernel killed it. Each is now a
// usage error (exit 2) before any work, naming the flag and what it takes.
func TestValuesThatHangOrOverflowAreRefused(t *testing.T) {
	run := func(args ...string) []string {
		return append([]string{"run", "ysb", "--runtime", "reference"}, args...)
	}
	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"rate 1e30", run("--rate", "1e30"), []string{"between 1.08e-10 and 1e+09", "got 1e+30 (flag --rate)"}},
		{"rate 1e30 with a duration", run("--rate", "1e30", "--duration", "10s"), []string{"--duration 10s at --rate 1e+30 is more events than can be counted"}},
		{"rate Inf", run("--rate", "Inf"), []string{"--rate +Inf: want a finite number"}},
		{"drop-acks 1", []string{"run", "ysb", "--runtime", "recordstream", "--guarantee", "at-least-once", "--drop-acks", "1"}, []string{"[0, 1)", "got 1 (flag --drop-acks)"}},
		{"drop-acks NaN", run("--drop-acks", "NaN"), []string{"--drop-acks NaN: want a finite number"}},
		{"rate NaN", run("--rate", "NaN"), []string{"--rate NaN: want a finite number"}},
		{"event-rate Inf", run("--event-rate", "+Inf"), []string{"--event-rate +Inf: want a finite number"}},
		{"block interval of an hour, default batches", []string{"run", "ysb", "--runtime", "microbatch", "--block-interval", "1h"},
			[]string{"1h0m0s is longer than the batch interval (BatchInterval, the default) 1s", "(flag --block-interval)"}},
		{"event-rate 1e-300", run("--event-rate", "1e-300"), []string{"use an event rate of at least", "(flag --event-rate)"}},
		{"events 10^15", run("--events", "1000000000000000"), []string{"use at most about", "(flag --events)"}},
		{"gen events 10^15", []string{"gen", "ysb", "--out", t.TempDir(), "--events", "1000000000000000"}, []string{"use at most about", "(flag --events)"}},
		{"parallelism 1000000", []string{"run", "ysb", "--runtime", "recordstream", "--parallelism", "1000000"}, []string{"use 1 to 1024", "(flag --parallelism)"}},
		{"partitions 100000000", run("--partitions", "100000000"), []string{"want 1 to 1024 partitions", "(flag --partitions)"}},
		{"a step to 1e30", run("--rate", "10", "--events", "100", "--rate-steps", "1s=1e30"), []string{"between 1.08e-10 and 1e+09"}},
		{"capacity start-rate Inf", []string{"capacity", "ysb", "--runtime", "reference", "--start-rate", "Inf"}, []string{"--start-rate +Inf: want a finite number"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := bench(t, tc.args...)
			assert.Equal(t, exitUsage, code, "bench %s: stderr %s", strings.Join(tc.args, " "), stderr)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w, "bench %s", strings.Join(tc.args, " "))
			}
			assert.NotContains(t, stderr, "panic")
			assert.NotContains(t, stderr, "running on", "refused before the run")
			if tc.name == "rate Inf" {
				assert.NotContains(t, stderr, "event rate", "--rate Inf is about --rate")
			}
		})
	}
}
