package recordstream

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/weirlab/weir/dataflow"
)

// BenchmarkTridentYSB runs the YSB pipeline at parallelism 2 (2
// partitions, 2 window tasks) on at-least-once, exactly-once (barriers
// every second) and Trident at several batch sizes (records per partition,
// one batch in flight, weir's 5 ms emit interval), 2^20 events a run.
//
// On the 2-core machine of the study (load average 0.7),
// go test ./recordstream -run '^$' -bench '^BenchmarkTridentYSB$' -benchtime 3x -count 3
// (medians of the three counts):
//
//	at-least-once             2.84 M events/s
//	exactly-once (1 s)        6.08 M events/s
//	trident, batch 1000       0.35 M events/s   batch p50 0.57 ms (525 batches: the 5 ms emit interval bounds it)
//	trident, batch 10000      3.55 M events/s   batch p50 3.0 ms
//	trident, batch 100000     6.10 M events/s   batch p50 33 ms
//
// With the machine shared (load average 6) the same run gave 0.46, 2.44,
// 0.32, 3.27 and 2.59 M events/s.
func BenchmarkTridentYSB(b *testing.B) {
	const n = 1 << 20
	src, p := ysbFixture(n, 2)
	runtime.GC()
	cases := []struct {
		name string
		cfg  Config
	}{
		{"at-least-once", Config{Guarantee: AtLeastOnce}},
		{"exactly-once", Config{Guarantee: ExactlyOnce, CheckpointConfig: CheckpointConfig{CheckpointInterval: time.Second}}},
	}
	for _, size := range []int{1000, 10_000, 100_000} {
		cases = append(cases, struct {
			name string
			cfg  Config
		}{fmt.Sprintf("trident/batch=%d", size), Config{Guarantee: Trident, Trident: TridentConfig{BatchSize: size}}})
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			cfg := tc.cfg
			cfg.Parallelism, cfg.SampleInterval = 2, -1
			if cfg.Guarantee == ExactlyOnce {
				cfg.CheckpointDir = b.TempDir()
			}
			rep := benchRuns(b, p, src, cfg, n)
			if cfg.Guarantee == Trident {
				c := rep.Counters
				b.ReportMetric(float64(c["batches"]), "batches/op")
				b.ReportMetric(float64(c["batch_latency_p50_us"])/1e3, "batch-p50-ms")
				b.ReportMetric(float64(c["batch_latency_p99_us"])/1e3, "batch-p99-ms")
			}
		})
	}
}

// benchRuns runs p over src (n events) once per iteration of b, reports
// the events per second of wall time and returns the last run's report.
func benchRuns(b *testing.B, p *dataflow.Pipeline, src Source, cfg Config, n int) *Report {
	var elapsed time.Duration
	var rep *Report
	for b.Loop() {
		start := time.Now()
		var err error
		if rep, err = Run(b.Context(), p, src, cfg); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "events/s")
	return rep
}
