package recordstream

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
)

// flyingClock is a manual clock that moves on by step at every reading, so
// a run on it sees much time pass between any two of its looks at the
// clock, as a spout whose loop is slow sees on the real clock. The at-th
// reading cancels the run's context (cancel), standing for a signal that
// comes while the run is busy.
type flyingClock struct {
	*clock.Manual
	step   time.Duration
	reads  atomic.Int64
	at     int64
	cancel context.CancelFunc
}

func (c *flyingClock) Now() time.Time {
	if c.reads.Add(1) == c.at {
		c.cancel()
	}
	c.Advance(c.step)
	return c.Manual.Now()
}

// TestTinyMessageTimeoutStopsOnCancel: with a 1 ns message timeout every
// tree times out and is replayed, without end (every acker message is
// lost too); such a run must still stop when its context is canceled. The
// spout's pending map and the acker used to rotate once per timeout elapsed:
// a rotation per nanosecond, so the first look at a clock that had moved on
// by a second never ended.
func TestTinyMessageTimeoutStopsOnCancel(t *testing.T) {
	src := newMemSource(21, 2000, 2, 0)
	for _, tc := range []struct {
		name string
		p    *dataflow.Pipeline
	}{
		{"windowed", shapes()["fixed"]},
		{"stateless", shapes()["stateless"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			clk := &flyingClock{Manual: clock.NewManual(time.Unix(1_700_000_000, 0)), step: time.Second, at: 5000, cancel: cancel}
			_, err := Run(ctx, tc.p, src, Config{Guarantee: AtLeastOnce, MessageTimeout: time.Millisecond, // the smallest allowed; the clock moves 1 s a read, a thousand timeouts
				SampleInterval: -1, Clock: clk, Faults: Faults{DropAcks: 0.99, Seed: 1}})
			require.ErrorIs(t, err, context.Canceled)
			assert.GreaterOrEqual(t, clk.reads.Load(), clk.at, "canceled while it ran")
		})
	}
}

// TestSlowFaultStopsOnCancel: the slow fault waits on the clock and on the
// context, so a run whose windowed bolt owes hours of waiting stops as soon
// as its context is canceled (here at 2 s of the bubble's time).
func TestSlowFaultStopsOnCancel(t *testing.T) {
	for _, g := range []Guarantee{AtMostOnce, AtLeastOnce, ExactlyOnce} {
		t.Run(g.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				defer cancel()
				start := time.Now()
				cfg := Config{Guarantee: g, Faults: Faults{Slow: 10 * time.Second}, SampleInterval: -1}
				if g == ExactlyOnce {
					cfg.CheckpointDir = t.TempDir()
				}
				_, err := Run(ctx, shapes()["fixed"], newMemSource(22, 2000, 2, 0), cfg)
				require.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Less(t, time.Since(start), 3*time.Second, "stopped within a second of the cancel at 2 s")
			})
		})
	}
}

// windowedAll counts each user's records in 1 s windows, filtering nothing,
// so every record is a tree held until its window expires.
func windowedAll() *dataflow.Pipeline {
	return dataflow.NewPipeline("all", testSchema).
		Aggregate(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.FixedWindows(time.Second),
			TimeCol: "event_time", Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: 100 * time.Millisecond},
			Aggs: []dataflow.Agg{dataflow.Count()}})
}

// TestSpoutStallReportedWhenItStalls: a 1 s window holds 100 records of a
// partition, more than max spout pending allows, so the spout stalls once
// it has 10 trees pending, all in a window its watermark has not closed. It
// says so then, with the bubble's clock not moved on: not after four
// message timeouts (2 min by default) of silence.
func TestSpoutStallReportedWhenItStalls(t *testing.T) {
	for _, parts := range []int{1, 2} {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			_, err := Run(t.Context(), windowedAll(), newMemSource(23, 3000, parts, 0),
				Config{Guarantee: AtLeastOnce, MaxSpoutPending: 10, Parallelism: 2, SampleInterval: -1})
			require.ErrorIs(t, err, ErrSpoutStalled, "%d partitions", parts)
			assert.Less(t, time.Since(start), time.Second, "%d partitions: reported when it stalled", parts)
		})
	}
}

// TestHeldBackAtTheEndFinishes: a spout held back at max spout pending when
// it reaches the end of its partition still sends the end-of-input
// watermark, which closes the windows holding its trees: the run finishes
// (it used to wait for the trees to time out, replay them into the same
// windows and stall).
func TestHeldBackAtTheEndFinishes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newMemSource(24, 100, 1, 0) // 1 s of event time: one window
		p := windowedAll()
		rep, err := Run(t.Context(), p, src, Config{Guarantee: AtLeastOnce, MaxSpoutPending: 100, SampleInterval: -1})
		require.NoError(t, err)
		check(t, p, src, rep)
		assert.Zero(t, rep.Counters["timed_out"], "nothing waits for a timeout")
	})
}
