package microbatch

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// ysbIntLog builds YSB with integer ids: user_id, page_id, ad_id int64,
// event_type int64 (0 view, 1 click, 2 purchase), event_time; 100
// campaigns of 10 ads, as the string version.
func ysbIntLog(b testing.TB, n int, partitions int) (*datasets.Log, *dataflow.Table) {
	schema := dataflow.NewSchema(
		dataflow.Field{Name: "user_id", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "page_id", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "ad_id", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "event_type", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	l, err := datasets.NewLog(datasets.LogConfig{Schema: schema, Partitions: partitions})
	require.NoError(b, err)
	r := rand.New(rand.NewPCG(1, 2))
	a := l.Appender()
	ing := int64(testT0) * 1e6
	for i := range n {
		u := r.Int64N(100)
		a.Begin(int(u)%partitions, ing+int64(i)) // 1 ns apart: all in one or two batches
		a.Int(0, u)
		a.Int(1, r.Int64N(100))
		a.Int(2, r.Int64N(1000))
		a.Int(3, r.Int64N(3))
		a.Int(4, testT0+int64(i)/100) // 100k events per second of event time
		a.Commit()
	}
	require.NoError(b, a.Flush())
	l.Close()
	t := &dataflow.Table{Name: "campaigns", Schema: dataflow.NewSchema(dataflow.Field{Name: "ad_id", Kind: dataflow.KindInt64}, dataflow.Field{Name: "campaign_id", Kind: dataflow.KindInt64})}
	for ad := range int64(1000) {
		t.Rows = append(t.Rows, dataflow.Row{dataflow.Int(ad), dataflow.Int(ad / 10)})
	}
	return l, t
}

func ysbPipeline(in dataflow.Schema, campaigns *dataflow.Table, view dataflow.Expr) *dataflow.Pipeline {
	return dataflow.NewPipeline("ysb", in).
		Filter(dataflow.Eq(dataflow.Col("event_type"), view)).
		Lookup(campaigns, "ad_id", "ad_id", "campaign_id").
		Aggregate(dataflow.Aggregation{
			Key: []string{"campaign_id"}, Window: dataflow.FixedWindows(10 * time.Second), TimeCol: "event_time",
			Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: 5 * time.Second},
			Aggs:      []dataflow.Agg{dataflow.Count()},
		})
}

// BenchmarkYSB runs the Yahoo Streaming Benchmark query (filter views, join
// ad to campaign, count per campaign per 10 s event-time window) end to end
// over a filled log, as fast as the log delivers, with dictionary-encoded
// string ids (as the original) and with integer ids.
//
//	go test ./microbatch -run XXX -bench 'YSB$' -benchtime 5x -count 3
//
// On the 2-core development machine (shared, so events/s varies with the
// other load; cpu-ns/event, all threads, is steadier and 2 free cores give
// 2e9/cpu-ns events/s), medians of 3, 8 M events: integer ids 7.2
// cpu-ns/event (was 9.0 before frames, the fused window loop and the dense
// lookup join), 5.3k allocs per run (was 9.4k); string ids 7.7 cpu-ns/event
// (was 9.9), 10.4k allocs (was 14.5k). With the other cores idle that is
// 230-290 M events/s for integer ids (was 180-200 M); with the machine
// loaded, as for these medians, 138 M (was 100 M). BenchmarkYSBTask, one
// task on one goroutine, runs at 6-7 ns/event.
func BenchmarkYSB(b *testing.B) {
	const n = 8_000_000
	b.Run("ids=string", func(b *testing.B) {
		l, tables, err := datasets.Generate(context.Background(), "ysb", datasets.Config{Events: n, Seed: 1, Partitions: 4})
		require.NoError(b, err)
		p := ysbPipeline(l.Schema(), tables["campaigns"], dataflow.LitStr("view"))
		benchRun(b, p, l)
	})
	b.Run("ids=int", func(b *testing.B) {
		l, campaigns := ysbIntLog(b, n, 4)
		p := ysbPipeline(l.Schema(), campaigns, dataflow.LitInt(0))
		benchRun(b, p, l)
	})
}

func benchRun(b *testing.B, p *dataflow.Pipeline, l *datasets.Log) {
	src := datasets.NewArrowSource(l)
	b.ReportAllocs()
	var batches int
	cpu0 := cpuNanos()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	for b.Loop() {
		rep, err := Run(context.Background(), p, src, Config{BatchInterval: time.Second})
		require.NoError(b, err)
		require.Equal(b, l.Len(), rep.Events)
		batches += len(rep.Batches)
	}
	cpu := cpuNanos() - cpu0
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(batches), "allocs/batch")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(l.Len()*int64(b.N)), "allocs/event")
	sec := b.Elapsed().Seconds()
	// CPU time per event (user+system, all threads) is robust to other
	// processes sharing the machine; events/s at 2 cores is 2e9 / it.
	b.ReportMetric(float64(cpu)/float64(l.Len()*int64(b.N)), "cpu-ns/event")
	b.ReportMetric(float64(l.Len())*float64(b.N)/sec, "events/s")
	b.ReportMetric(sec*1e9/float64(l.Len()*int64(b.N)), "ns/event")
	b.ReportMetric(float64(batches)/float64(b.N), "batches/op")
}

func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkYSBTask runs one task of YSB with integer ids (the kernels and
// the pre-aggregation over one partition's record batches, read once
// before timing) on one goroutine: the hot path without the driver, the
// source or the scheduler, for profiling and A/B comparisons.
//
//	go test ./microbatch -run XXX -bench YSBTask -count 5
func BenchmarkYSBTask(b *testing.B) {
	const n = 2_000_000
	l, campaigns := ysbIntLog(b, n, 1)
	p := ysbPipeline(l.Schema(), campaigns, dataflow.LitInt(0))
	cfg := Config{BatchInterval: time.Second}.withDefaults()
	pl, err := newPlan(p, &cfg)
	require.NoError(b, err)
	x, err := pl.newExec()
	require.NoError(b, err)
	recs, err := datasets.NewArrowSource(l).Read(0, 0, l.End(0), cfg.Allocator, cfg.MaxBatchRows)
	require.NoError(b, err)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		x.agg.startTask(math.MinInt64)
		base := int64(0)
		for _, rec := range recs {
			require.NoError(b, x.runRecord(rec, 0, base))
			base += rec.NumRows()
		}
		require.Equal(b, int64(n), base)
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(n*b.N), "ns/event")
}

// BenchmarkNexmarkJoin runs the join pipelines of the tests (joinShapes:
// persons with their auctions in 10 s windows, the q4-like winning bid per
// auction then per category with max-by, bids with their auctions
// incrementally) end to end over a filled nexmark log: the tasks' side
// steps, the join state in the commit, and the aggregation over the joined
// rows on the column kernels.
//
//	GOMAXPROCS=2 go test ./microbatch -run XXX -bench NexmarkJoin -benchtime 3x
func BenchmarkNexmarkJoin(b *testing.B) {
	const n = 1_000_000
	l, _, err := datasets.Generate(context.Background(), "nexmark", datasets.Config{Events: n, Seed: 1, Partitions: 4})
	require.NoError(b, err)
	sh := joinShapes(l.Schema())
	for _, name := range []string{"windowed", "join-agg-then", "incremental"} {
		b.Run("query="+name, func(b *testing.B) { benchRun(b, sh[name], l) })
	}
}
