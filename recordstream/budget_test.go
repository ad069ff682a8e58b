package recordstream

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weirlab/weir/dataflow"
)

// stormPipeline counts per user in one-hour windows: over a test log
// (records 10 ms of event time apart) no window fires before the end of
// the input, so every windowed tuple is held (RW1) for the whole run.
func stormPipeline() *dataflow.Pipeline {
	return dataflow.NewPipeline("storm", testSchema).
		Aggregate(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.FixedWindows(time.Hour),
			TimeCol: "event_time", Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: 100 * time.Millisecond},
			Aggs: []dataflow.Agg{dataflow.Count()}})
}

// stormConfig is a replay storm: the windowed step takes 200 µs a record,
// so a full queue (6 batches of 16 tuples per edge) holds about 19 ms of
// work, more than twice the 5 ms message timeout, and held tuples wait for
// the end of the input. Every tree times out, its replay waits and times
// out again, and the spout never gets past its first records: without a
// budget the run never ends and the window task's held tuples grow
// without bound.
func stormConfig(budget int64) Config {
	return Config{Guarantee: AtLeastOnce, Parallelism: 1, BatchSize: 16, QueueBatches: 4,
		MessageTimeout: 5 * time.Millisecond, MemoryBudget: budget, SampleInterval: -1,
		Faults: Faults{Slow: 200 * time.Microsecond}}
}

// TestReplayStormStopsAtMemoryBudget pins issue 15's replay storm: the run
// stops with a *MemoryBudgetError that says what to change, within a
// bounded overshoot of the budget (RB1), instead of growing until the
// machine runs out of memory. It runs in a synctest bubble, where time
// moves only while every goroutine waits, so the slow step and the
// timeouts take fake time and the test does not depend on the machine's
// speed. Before the budget, the run was still replaying its first records
// when the (fake) minute ran out.
func TestReplayStormStopsAtMemoryBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const budget = 256 << 10
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		src := newMemSource(21, 2000, 1, 0)
		start := time.Now()
		_, err := Run(ctx, stormPipeline(), src, stormConfig(budget))
		require.Error(t, err)
		require.NotErrorIs(t, err, context.DeadlineExceeded, "the storm must stop at the budget, not run on")
		e, ok := errors.AsType[*MemoryBudgetError](err)
		require.True(t, ok, "Run = %v, want a *MemoryBudgetError", err)
		assert.Greater(t, e.HeldBytes, int64(budget), "stopped only over the budget")
		// RB1: one batch's growth per task at most (a window batch of 16
		// held tuples, a spout burst of 64 trees, an acker batch).
		assert.LessOrEqual(t, e.HeldBytes, int64(budget+32<<10), "overshoot of the budget (RB1)")
		assert.Equal(t, int64(budget), e.Budget)
		assert.Positive(t, e.Held, "the window task holds the replays")
		assert.Positive(t, e.TimedOut, "trees timed out")
		for _, want := range []string{"replay storm", "Config.MessageTimeout", "Config.MaxSpoutPending", "Config.MemoryBudget", "5ms"} {
			assert.Contains(t, err.Error(), want)
		}
		t.Logf("after %v (fake): %v", time.Since(start), err)
	})
}

// TestReplayStormWithMaxSpoutPending runs the same storm with max spout
// pending: the spout's pending trees and queued replays stay within it
// (RB2, asserted on every publish with -tags invariants), no tree
// completes, and the run stops as stalled rather than growing.
func TestReplayStormWithMaxSpoutPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cfg := stormConfig(64 << 20)
		cfg.MaxSpoutPending = 40
		_, err := Run(ctx, stormPipeline(), newMemSource(22, 2000, 1, 0), cfg)
		require.ErrorIs(t, err, ErrSpoutStalled)
	})
}

// TestNoBudgetErrorBelowBudget: a run that fits its budget is not stopped,
// and a negative budget turns the check off.
func TestNoBudgetErrorBelowBudget(t *testing.T) {
	src := newMemSource(23, 3000, 2, 0)
	p := shapes()["fixed"]
	for _, b := range []int64{0, 8 << 20, -1} {
		rep, err := Run(t.Context(), p, src, Config{Guarantee: AtLeastOnce, Parallelism: 2, BatchSize: 16, MemoryBudget: b})
		require.NoError(t, err, "budget %d", b)
		check(t, p, src, rep)
	}
}

// TestTrackerPublish checks the budget's accounting: counts are replaced,
// not added, on each publish; the total sums every task's; the error comes
// only when the total grows over the limit and names its counts.
func TestTrackerPublish(t *testing.T) {
	cfg := Config{MessageTimeout: time.Second}
	perHeld := trackHeld.entryBytes()
	b := &budget{limit: 10 * perHeld, cfg: &cfg}
	w1, w2 := &tracker{b: b}, &tracker{b: b}
	held := func(n int64) *[numTracked]int64 {
		var c [numTracked]int64
		c[trackHeld] = n
		return &c
	}
	require.NoError(t, w1.publish(held(6), 0))
	require.NoError(t, w1.publish(held(4), 0)) // replaced: 4, not 10
	require.NoError(t, w2.publish(held(6), 0)) // 4 + 6 = the limit
	total, n := b.bytes()
	assert.Equal(t, 10*perHeld, total)
	assert.Equal(t, int64(10), n[trackHeld])
	err := w2.publish(held(7), 3)
	e, ok := errors.AsType[*MemoryBudgetError](err)
	require.True(t, ok, "publish over the limit = %v", err)
	assert.Equal(t, 11*perHeld, e.HeldBytes)
	assert.Equal(t, int64(11), e.Held)
	assert.Equal(t, int64(3), e.TimedOut)
	require.NoError(t, w2.publish(held(1), 3), "shrinking never fails")
	var nilTracker *tracker
	assert.NoError(t, nilTracker.publish(held(1<<40), 0), "no acking, no budget")
	off := &tracker{b: &budget{limit: -1, cfg: &cfg}}
	assert.NoError(t, off.publish(held(1<<40), 0), "a negative budget is off")
}

// TestMessageTimeoutRange pins the floor and the ceiling of the message
// timeout: a 1 µs timeout (every tree times out at once, the pending maps
// rotate faster than any spout looks) is refused before the run with the
// valid range. Before, it was taken and the run's memory grew by gigabytes
// in seconds.
func TestMessageTimeoutRange(t *testing.T) {
	for _, tc := range []struct {
		d  time.Duration
		ok bool
	}{
		{0, true}, {time.Millisecond, true}, {30 * time.Second, true}, {24 * time.Hour, true},
		{time.Microsecond, false}, {999 * time.Microsecond, false}, {-time.Second, false}, {25 * time.Hour, false},
	} {
		cfg := Config{Guarantee: AtLeastOnce, MessageTimeout: tc.d}
		err := cfg.Validate()
		if tc.ok {
			assert.NoError(t, err, "Validate(MessageTimeout %v)", tc.d)
			continue
		}
		ce, ok := errors.AsType[*ConfigError](err)
		if assert.True(t, ok, "Validate(MessageTimeout %v) = %v, want a *ConfigError", tc.d, err) {
			assert.Equal(t, "MessageTimeout", ce.Field)
			assert.ErrorContains(t, err, "[1ms, 24h0m0s]", "Validate(MessageTimeout %v) names the range", tc.d)
		}
	}
	_, err := Run(t.Context(), shapes()["fixed"], newMemSource(1, 10, 1, 0), Config{Guarantee: AtLeastOnce, MessageTimeout: time.Microsecond})
	assert.ErrorContains(t, err, "MessageTimeout", "Run refuses it before any work")
}
