package recordstream

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
)

func cats() *dataflow.Table {
	return &dataflow.Table{Name: "cats", Schema: dataflow.NewSchema(
		dataflow.Field{Name: "cat", Kind: dataflow.KindString},
		dataflow.Field{Name: "group", Kind: dataflow.KindString}),
		Rows: []dataflow.Row{{dataflow.Str("view"), dataflow.Str("g1")}, {dataflow.Str("click"), dataflow.Str("g2")}}}
}

// shapes are hand-picked pipeline shapes every configuration must get
// right, kept as examples. The main equality test is compare's
// TestDifferential (random pipelines over every dataset, every runtime
// configuration, the bench's check).
func shapes() map[string]*dataflow.Pipeline {
	wm := dataflow.WatermarkPolicy{MaxOutOfOrderness: 100 * time.Millisecond}
	return map[string]*dataflow.Pipeline{
		"fixed": dataflow.NewPipeline("fixed", testSchema).
			Filter(dataflow.Ne(dataflow.Col("cat"), dataflow.LitStr("buy"))).
			Aggregate(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.FixedWindows(time.Second),
				TimeCol: "event_time", Watermark: wm, Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("v")}}),
		"sliding": dataflow.NewPipeline("sliding", testSchema).
			Aggregate(dataflow.Aggregation{Key: []string{"cat"}, Window: dataflow.SlidingWindows(2*time.Second, 500*time.Millisecond),
				TimeCol: "event_time", Watermark: wm, Aggs: []dataflow.Agg{dataflow.Sum("f")}}),
		"session": dataflow.NewPipeline("session", testSchema).
			Aggregate(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.SessionWindows(150 * time.Millisecond),
				TimeCol: "event_time", Watermark: wm, Aggs: []dataflow.Agg{dataflow.Count()}}),
		"count": dataflow.NewPipeline("count", testSchema).
			Aggregate(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.CountWindows(5, 5),
				Aggs: []dataflow.Agg{dataflow.Sum("v")}}),
		"proctime": dataflow.NewPipeline("proctime", testSchema).
			Aggregate(dataflow.Aggregation{Key: []string{"cat"}, Window: dataflow.FixedWindows(100 * time.Millisecond),
				Domain: dataflow.ProcessingTime, Aggs: []dataflow.Agg{dataflow.Count()}}),
		"stateless": dataflow.NewPipeline("stateless", testSchema).
			Filter(dataflow.Gt(dataflow.Col("v"), dataflow.LitInt(50))).
			Map("v2", dataflow.Mul(dataflow.Col("v"), dataflow.LitInt(2))).
			Output([]string{"user"}, "v2", "cat"),
		"hashtags": dataflow.NewPipeline("hashtags", testSchema).
			Explode("text", "#", "tag").
			Aggregate(dataflow.Aggregation{Key: []string{"tag"}, Window: dataflow.FixedWindows(time.Second),
				TimeCol: "event_time", Watermark: wm, Aggs: []dataflow.Agg{dataflow.Count()}}),
		"lookup-none": dataflow.NewPipeline("lookup-none", testSchema).
			Lookup(cats(), "cat", "cat", "group").
			Aggregate(dataflow.Aggregation{Key: []string{"group"}, Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Max("v")}}),
	}
}

// check compares a report with the reference answer minus the records the
// run reported late, each left out of its reported key's windows only
// (I9: an exploded record's rows go to tasks at different watermarks).
func check(t *testing.T, p *dataflow.Pipeline, src *memSource, rep *Report) {
	t.Helper()
	type lateKey struct {
		ref dataflow.RecordRef
		key string
	}
	late := map[lateKey]bool{}
	for _, r := range rep.Late {
		late[lateKey{r.RecordRef, r.Key}] = true
	}
	want, err := dataflow.Reference(p, src.All(), dataflow.ReferenceOptions{ExcludeWindows: func(part int, off int64, key string) (dataflow.Time, dataflow.Time, bool) {
		return dataflow.MinTime, dataflow.MaxTime, late[lateKey{dataflow.RecordRef{Partition: part, Offset: off}, key}]
	}})
	require.NoError(t, err)
	require.Equal(t, len(want), len(rep.Results), "number of results")
	for i := range want {
		w, g := want[i], rep.Results[i]
		assert.Equal(t, w.Window, g.Window, "result %d", i)
		assert.Equal(t, w.Key, g.Key, "result %d", i)
		assert.True(t, w.Value.ApproxEqual(g.Value), "result %d %v %q: got %v, want %v", i, w.Window, w.Key, g.Value, w.Value)
		require.Equal(t, len(w.Extra), len(g.Extra), "result %d extra", i)
		for j := range w.Extra {
			assert.True(t, w.Extra[j].ApproxEqual(g.Extra[j]), "result %d extra %d: got %v, want %v", i, j, g.Extra[j], w.Extra[j])
		}
	}
}

func TestRunMatchesReference(t *testing.T) {
	src := newMemSource(1, 3000, 3, 80)
	for name, p := range shapes() {
		for _, g := range []Guarantee{AtMostOnce, AtLeastOnce} {
			for _, par := range []int{1, 4} {
				t.Run(fmt.Sprintf("%s/%v/p=%d", name, g, par), func(t *testing.T) {
					cfg := Config{Guarantee: g, Parallelism: par, Ackers: 2, BatchSize: 16, QueueBatches: 4, WatermarkEvery: 50, Seed: 3}
					rep, err := Run(t.Context(), p, src, cfg)
					require.NoError(t, err)
					check(t, p, src, rep)
					if g == AtLeastOnce {
						assert.Zero(t, rep.Counters["failed"]+rep.Counters["timed_out"], "no faults, no failures")
					}
				})
			}
		}
	}
}

func TestRunReportsLateRecords(t *testing.T) {
	src := newMemSource(2, 3000, 2, 400) // jitter beyond the 100 ms bound
	p := shapes()["fixed"]
	rep, err := Run(t.Context(), p, src, Config{Guarantee: AtLeastOnce, Parallelism: 2, BatchSize: 8, WatermarkEvery: 10})
	require.NoError(t, err)
	assert.NotEmpty(t, rep.Late, "out-of-order records beyond the bound must be late")
	check(t, p, src, rep)
}

// TestRunLeavesNoGoroutines runs in a synctest bubble, so only goroutines
// of this test count (not the test framework's or earlier tests'): after Run
// returns, the bubble must hold exactly the goroutines it held before.
// Counting the whole process's goroutines instead was flaky.
func TestRunLeavesNoGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		before := bubbleGoroutines()
		src := newMemSource(3, 500, 2, 0)
		_, err := Run(t.Context(), shapes()["fixed"], src, Config{Guarantee: AtLeastOnce, Parallelism: 2})
		require.NoError(t, err)
		synctest.Wait()
		assert.Equal(t, before, bubbleGoroutines(), "goroutines left after Run")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = Run(ctx, shapes()["fixed"], src, Config{Guarantee: AtLeastOnce, Parallelism: 2})
		require.Error(t, err)
		synctest.Wait()
		assert.Equal(t, before, bubbleGoroutines(), "goroutines left after a cancelled Run")
	})
}

// bubbleGoroutines counts the goroutines of synctest bubbles in a full stack
// dump (their headers say "synctest bubble N"); only this test's bubble runs.
func bubbleGoroutines() int {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return len(bubbleHeader.FindAll(buf[:n], -1))
		}
		buf = make([]byte, 2*len(buf))
	}
}

var bubbleHeader = regexp.MustCompile(`(?m)^goroutine \d+ \[[^\]]*synctest bubble`)

// TestSlowFaultWaitsOnTheClock runs the slow fault on the real clock in a
// synctest bubble, where time moves only while every goroutine waits: the
// fault is waiting, not CPU work, so the run's elapsed time is exactly the
// windowed bolt's records times Slow (computing costs no fake time), with
// no overshoot to credit.
func TestSlowFaultWaitsOnTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const slow = 100 * time.Microsecond
		src := newMemSource(5, 2000, 2, 0)
		rep, err := Run(t.Context(), shapes()["fixed"], src, Config{Faults: Faults{Slow: slow}, SampleInterval: -1})
		require.NoError(t, err)
		check(t, shapes()["fixed"], src, rep)
		in := rep.Counters["records_in"]
		require.Positive(t, in)
		assert.Equal(t, time.Duration(in)*slow, rep.Elapsed, "elapsed = %d records in x %v", in, slow)
	})
}

// TestWatermarkEveryIntervalOfProcessingTime checks that a spout sends its
// watermark after WatermarkInterval of processing time even when far fewer
// than WatermarkEvery records have passed (Flink's autoWatermarkInterval),
// and not before.
func TestWatermarkEveryIntervalOfProcessingTime(t *testing.T) {
	src, p := ysbFixture(1<<10, 1)
	clk := clock.NewManual(time.Unix(1_700_000_000, 0))
	cfg := (&Config{Clock: clk, WatermarkInterval: 200 * time.Millisecond, WatermarkEvery: 1 << 20}).withDefaults()
	tp, err := compile(p, src, cfg, nil)
	require.NoError(t, err)
	s := tp.spouts[0]
	sent := func() int {
		n := 0
		for _, e := range s.out {
			if e.cur != nil {
				for _, tu := range e.cur.ts {
					if tu.Kind == msgWatermark {
						n++
					}
				}
			}
		}
		return n
	}
	ctx := t.Context()
	s.nowc = tp.now()
	s.lastWM = s.nowc
	for off := int64(0); off < 10; off++ {
		require.NoError(t, s.emitRecord(ctx, off))
	}
	clk.Advance(199 * time.Millisecond)
	s.nowc = tp.now()
	require.NoError(t, s.maybeWatermark(ctx, false))
	assert.Zero(t, sent(), "a watermark before the interval has passed")
	clk.Advance(time.Millisecond)
	s.nowc = tp.now()
	require.NoError(t, s.maybeWatermark(ctx, false))
	assert.Equal(t, len(s.out), sent(), "one watermark per output once the interval has passed")
}
