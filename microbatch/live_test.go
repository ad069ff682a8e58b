package microbatch

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// fillPaced appends perTick records every 10 ms of (fake) time for dur,
// with event time = ingest time, then closes the log.
func fillPaced(ctx context.Context, t *testing.T, l *datasets.Log, perTick int, dur time.Duration) {
	a := l.Appender()
	i := 0
	for end := time.Now().Add(dur); time.Now().Before(end) && ctx.Err() == nil; {
		for range perTick {
			now := time.Now()
			p := i % l.Partitions()
			a.AppendRow(p, now.UnixNano(), dataflow.Row{
				dataflow.Str(fmt.Sprintf("u%02d", i%7)), dataflow.Str(pages[i%len(pages)]), dataflow.Int(int64(i % 50)),
				dataflow.Float(float64(i%10) / 3), dataflow.Bool(i%2 == 0), dataflow.Str("#a b"), dataflow.Timestamp(dataflow.Time(now.UnixMilli())),
			})
			i++
		}
		require.NoError(t, a.Flush())
		time.Sleep(10 * time.Millisecond)
	}
	l.Close()
}

func liveLog(t *testing.T) *datasets.Log {
	l, err := datasets.NewLog(datasets.LogConfig{Schema: testSchema, Partitions: 2, ChunkRows: 512})
	require.NoError(t, err)
	return l
}

var liveShape = func() *dataflow.Pipeline {
	return dataflow.NewPipeline("live", testSchema).Aggregate(dataflow.Aggregation{
		Key: []string{"user"}, Window: dataflow.FixedWindows(time.Second), TimeCol: "event_time",
		Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: 100 * time.Millisecond}, Aggs: []dataflow.Agg{dataflow.Count()},
	})
}

// MB1: without rate control, a job slower than the batch interval makes the
// queue and the scheduling delay grow batch after batch.
func TestLiveSchedulingDelayGrows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := liveLog(t)
		go fillPaced(t.Context(), t, l, 10, 8*time.Second) // 1000 records/s
		// 2 ms per record: 2 s of work per 1 s batch.
		rep, err := Run(t.Context(), liveShape(), datasets.NewArrowSource(l), Config{BatchInterval: time.Second, Slow: 2 * time.Millisecond, Parallelism: 1})
		require.NoError(t, err)
		requireSparkResults(t, liveShape(), l, rep)
		n := len(rep.Batches)
		require.Greater(t, n, 4)
		assert.Greater(t, rep.Batches[n-2].SchedulingDelay, rep.Batches[2].SchedulingDelay, "scheduling delay grows")
		assert.Greater(t, rep.Batches[n-2].SchedulingDelay, 3*time.Second)
	})
}

// MB2: a memory budget stops such a run with a clear error.
func TestLiveMemoryBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := liveLog(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		filled := make(chan struct{})
		go func() {
			defer close(filled)
			fillPaced(ctx, t, l, 10, 8*time.Second)
		}()
		_, err := Run(ctx, liveShape(), datasets.NewArrowSource(l), Config{BatchInterval: time.Second, Slow: 2 * time.Millisecond, Parallelism: 1, MemoryBudget: 150_000})
		var mb *MemoryBudgetError
		require.ErrorAs(t, err, &mb)
		assert.Greater(t, mb.QueuedBatches, 1)
		assert.Greater(t, mb.HeldBytes, mb.Budget)
		assert.Contains(t, err.Error(), "out of memory budget")
		cancel()
		<-filled
	})
}

// With backpressure the PID controller limits ingestion: the scheduling
// delay stays bounded and the answer is still exact.
func TestLiveBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := liveLog(t)
		go fillPaced(t.Context(), t, l, 10, 8*time.Second)
		rep, err := Run(t.Context(), liveShape(), datasets.NewArrowSource(l), Config{BatchInterval: time.Second, Slow: 2 * time.Millisecond, Parallelism: 1, Backpressure: true})
		require.NoError(t, err)
		requireSparkResults(t, liveShape(), l, rep)
		var maxSched time.Duration
		limited := false
		for _, b := range rep.Batches {
			maxSched = max(maxSched, b.SchedulingDelay)
			limited = limited || (b.RateLimit > 0 && b.RateLimit < 1000)
		}
		assert.True(t, limited, "the rate limit fell below the input rate")
		assert.Less(t, maxSched, 6*time.Second, "scheduling delay stays bounded")
		n := len(rep.Batches)
		assert.Less(t, rep.Batches[n-2].SchedulingDelay, time.Second, "the delay recovers once the rate is limited")
		assert.NotEmpty(t, rep.Series["rate_limit"])
	})
}

// Cancelling the context stops the run; synctest fails the test if any
// goroutine Run started is still alive.
func TestCancelStopsEveryGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := liveLog(t)
		ctx, cancel := context.WithCancel(t.Context())
		fillCtx, stopFill := context.WithCancel(t.Context())
		filled := make(chan struct{})
		go func() {
			defer close(filled)
			a := l.Appender()
			for fillCtx.Err() == nil {
				a.AppendRow(0, time.Now().UnixNano(), dataflow.Row{dataflow.Str("u"), dataflow.Str("home"), dataflow.Int(1), dataflow.Float(1), dataflow.Bool(true), dataflow.Str(""), dataflow.Timestamp(dataflow.Time(time.Now().UnixMilli()))})
				_ = a.Flush()
				time.Sleep(50 * time.Millisecond)
			}
		}()
		go func() {
			time.Sleep(3500 * time.Millisecond)
			cancel()
		}()
		_, err := Run(ctx, liveShape(), datasets.NewArrowSource(l), Config{BatchInterval: 500 * time.Millisecond})
		require.True(t, errors.Is(err, context.Canceled), "Run = %v, want context.Canceled", err)
		stopFill()
		<-filled
	})
}

// Receiver mode: blocks every block interval, batches made of the blocks
// received before their time. Event-time results are exact; received data
// is held in memory until its batch runs, which the budget bounds.
func TestReceiverMode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := liveLog(t)
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		go fillPaced(t.Context(), t, l, 10, 5*time.Second)
		rep, err := Run(t.Context(), liveShape(), datasets.NewArrowSource(l), Config{Receiver: true, BlockInterval: 200 * time.Millisecond, BatchInterval: time.Second, Allocator: mem})
		require.NoError(t, err)
		requireSparkResults(t, liveShape(), l, rep)
		assert.Equal(t, l.Len(), rep.Events)
		assert.Greater(t, len(rep.Batches), 4)
		mem.AssertSize(t, 0)
	})
	synctest.Test(t, func(t *testing.T) {
		l := liveLog(t)
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		ctx, cancel := context.WithCancel(t.Context())
		filled := make(chan struct{})
		go func() {
			defer close(filled)
			fillPaced(ctx, t, l, 10, 8*time.Second)
		}()
		_, err := Run(ctx, liveShape(), datasets.NewArrowSource(l), Config{Receiver: true, BatchInterval: time.Second, Slow: 2 * time.Millisecond, Parallelism: 1, MemoryBudget: 100_000, Allocator: mem})
		var mb *MemoryBudgetError
		require.ErrorAs(t, err, &mb)
		cancel()
		<-filled
		mem.AssertSize(t, 0)
	})
}

// A receiver-mode driver crash resumes from the checkpointed offsets.
func TestReceiverModeFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := liveLog(t)
		go fillPaced(t.Context(), t, l, 10, 5*time.Second)
		cfg := Config{Receiver: true, BatchInterval: time.Second, CheckpointDir: t.TempDir(),
			Failures: []Failure{{AfterRecords: 1500, Kind: CrashDriver}, {AfterRecords: 3500}}}
		rep, err := Run(t.Context(), liveShape(), datasets.NewArrowSource(l), cfg)
		require.NoError(t, err)
		requireSparkResults(t, liveShape(), l, rep)
		assert.Equal(t, int64(1), rep.Counters["driver_restarts"])
		assert.Equal(t, int64(1), rep.Counters["failed_batches"])
	})
}
