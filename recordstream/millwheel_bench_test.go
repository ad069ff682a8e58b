package recordstream

import (
	"flag"
	"runtime"
	"testing"
	"time"

	"github.com/weirlab/weir/dataflow"
)

var dataflowBenchEvents = flag.Int("dataflow.bench-events", 1<<20, "events per run of the Dataflow YSB benchmark")

// BenchmarkDataflowYSB runs the YSB pipeline at parallelism 2 on
// at-least-once (Storm's acker), exactly-once (barrier snapshots every
// second) and dataflow (MillWheel's transactional updates), no faults, and
// reports records per second and, for dataflow, its dedup lookups and
// commit bytes per record the windowed step took in.
//
// Measured with go test ./recordstream/ -run '^$' -bench DataflowYSB
// -benchtime 3x on the project's 2-core machine shared with other jobs;
// see the report of the change that added it for the medians.
func BenchmarkDataflowYSB(b *testing.B) {
	n := *dataflowBenchEvents
	src, p := ysbColumns(n)
	cases := []struct {
		name string
		cfg  Config
	}{
		{"at-least-once", Config{Guarantee: AtLeastOnce}},
		{"exactly-once", Config{Guarantee: ExactlyOnce, CheckpointConfig: CheckpointConfig{CheckpointInterval: time.Second}}},
		{"dataflow", Config{Guarantee: Dataflow}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			cfg := tc.cfg
			cfg.Parallelism, cfg.SampleInterval = 2, -1
			if cfg.Guarantee == ExactlyOnce {
				cfg.CheckpointDir = b.TempDir()
			}
			rep, elapsed := benchRuns(b, p, src, cfg)
			b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "records/s")
			if cfg.Guarantee == Dataflow {
				in := float64(max(rep.Counters["records_in"], 1))
				b.ReportMetric(float64(rep.Counters["dedup_lookups"])/in, "lookups/record")
				b.ReportMetric(float64(rep.Counters["commit_bytes"])/in, "commit-B/record")
				b.ReportMetric(float64(rep.Counters["commits"]), "commits/op")
			}
		})
	}
}

// benchRuns runs p over src with cfg once per benchmark iteration and
// returns the last run's report and the time the runs took.
func benchRuns(b *testing.B, p *dataflow.Pipeline, src Source, cfg Config) (*Report, time.Duration) {
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
	return rep, elapsed
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
