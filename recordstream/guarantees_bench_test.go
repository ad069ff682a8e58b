package recordstream

import (
	"flag"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/weirlab/weir/dataflow"
)

var guaranteesBenchEvents = flag.Int("guarantees.bench-events", 1<<20, "events per run of BenchmarkGuaranteesYSB")

// BenchmarkGuaranteesYSB runs the YSB pipeline at parallelism 2 (2
// partitions, 2 window tasks), no faults, on every guarantee that gives
// more than at-most-once: at-least-once (Storm's acker), exactly-once
// (barrier snapshots every second), Trident at several batch sizes
// (records per partition, one batch in flight, weir's 5 ms emit interval)
// and dataflow (MillWheel's transactional updates). It reports events per
// second; for Trident its batches and batch latency, for dataflow its
// dedup lookups and commit bytes per record the windowed step took in.
//
//	go test ./recordstream -run '^$' -bench '^BenchmarkGuaranteesYSB$' -benchtime 3x -count 3
//
// The figures of a run are in the closing note of issue 11 and in
// REPORT.md's trident and transactional-updates sections.
func BenchmarkGuaranteesYSB(b *testing.B) {
	n := *guaranteesBenchEvents
	src, p := ysbColumns(n)
	type benchCase struct {
		name string
		cfg  Config
	}
	cases := []benchCase{
		{"at-least-once", Config{Guarantee: AtLeastOnce}},
		{"exactly-once", Config{Guarantee: ExactlyOnce, CheckpointConfig: CheckpointConfig{CheckpointInterval: time.Second}}},
	}
	for _, size := range []int{1000, 10_000, 100_000} {
		cases = append(cases, benchCase{fmt.Sprintf("trident/batch=%d", size), Config{Guarantee: Trident, Trident: TridentConfig{BatchSize: size}}})
	}
	cases = append(cases, benchCase{"dataflow", Config{Guarantee: Dataflow}})
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			cfg := tc.cfg
			cfg.Parallelism, cfg.SampleInterval = 2, -1
			if cfg.Guarantee == ExactlyOnce {
				cfg.CheckpointDir = b.TempDir()
			}
			rep := benchRuns(b, p, src, cfg, n)
			c := rep.Counters
			switch cfg.Guarantee {
			case Trident:
				b.ReportMetric(float64(c["batches"]), "batches/op")
				b.ReportMetric(float64(c["batch_latency_p50_us"])/1e3, "batch-p50-ms")
				b.ReportMetric(float64(c["batch_latency_p99_us"])/1e3, "batch-p99-ms")
			case Dataflow:
				in := float64(max(c["records_in"], 1))
				b.ReportMetric(float64(c["dedup_lookups"])/in, "lookups/record")
				b.ReportMetric(float64(c["commit_bytes"])/in, "commit-B/record")
				b.ReportMetric(float64(c["commits"]), "commits/op")
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

// ysbColumns is the YSB fixture of n events over 2 partitions as a
// column source, the row form collected.
func ysbColumns(n int) (*colSource, *dataflow.Pipeline) {
	m, p := ysbFixture(n, 2)
	src := newColSource(m)
	m = nil
	runtime.GC()
	return src, p
}
