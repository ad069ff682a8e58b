package compare

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJoinEventTimeLatency: a join's output carries the largest event time
// of its side rows, so a paced run of Nexmark q8 (persons joined with their
// auctions, emitted per pair) on recordstream and microbatch measures event-time latency
// from the rows' event times: every pair is emitted after its later side
// row arrived (its 10 s window fires at the end of this 0.2 s input), so
// the latency is positive, tens of milliseconds at the median. Before, the
// pairs carried join_time, the window's end - 1 ms, which lies after the
// end of the run: every latency was negative, recorded as zero
// (recordstream), or microbatch took the pairs' ingest times for their
// event times.
func TestJoinEventTimeLatency(t *testing.T) {
	w, err := LookupWorkload("nexmark-q8")
	require.NoError(t, err)
	for _, c := range []struct {
		runtime string
		flags   RuntimeFlags
	}{
		{"recordstream", RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}},
		{"recordstream", RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2}},
		{"microbatch", RuntimeFlags{Mode: "event-time", BatchInterval: 20 * time.Millisecond}},
	} {
		t.Run(c.runtime+"/"+c.flags.Guarantee+c.flags.Mode, func(t *testing.T) {
			runner, err := NewRunner(c.runtime, c.flags)
			require.NoError(t, err)
			rep, err := RunOne(t.Context(), w, runner, DataSpec{Events: 20_000, Rate: 100_000, Seed: 3}, Options{Seed: 3}, nil)
			require.NoError(t, err)
			require.True(t, rep.Check.OK(), "%s", rep.Check)
			lat := rep.Summary.LatencyMs.EventTime
			require.Positive(t, lat.Count, "pairs were emitted")
			assert.Greater(t, lat.P50, 1.0, "event-time latency p50 (ms): %+v", lat)
			// Not the processing-time figure under another name (microbatch
			// measured an Emit's event-time latency from ingest times).
			assert.NotEqual(t, rep.Summary.LatencyMs.ProcessingTime, lat)
			t.Logf("event-time latency %+v, processing-time %+v", lat, rep.Summary.LatencyMs.ProcessingTime)
		})
	}
}
