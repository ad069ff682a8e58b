package microbatch

import (
	"context"
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
//	go test ./microbatch -run XXX -bench YSB -benchtime 5x
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
	src := newLogSource(l)
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
