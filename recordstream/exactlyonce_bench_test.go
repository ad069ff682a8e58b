package recordstream

import (
	"flag"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/weirlab/weir/dataflow"
)

var eoBenchEvents = flag.Int("eo.bench-events", 1<<22, "events per run of the exactly-once YSB benchmark")

// eoMetrics reports a run's checkpoint figures.
func eoMetrics(b *testing.B, rep *Report) {
	c := rep.Counters
	b.ReportMetric(float64(c["checkpoints"]), "checkpoints/op")
	b.ReportMetric(float64(c["checkpoint_bytes"])/1e6, "checkpoint-MB")
	b.ReportMetric(float64(c["checkpoint_duration_p50_us"])/1e3, "ckpt-p50-ms")
	b.ReportMetric(float64(c["checkpoint_duration_p99_us"])/1e3, "ckpt-p99-ms")
	b.ReportMetric(float64(c["alignment_p50_us"])/1e3, "align-p50-ms")
	b.ReportMetric(float64(c["alignment_p99_us"])/1e3, "align-p99-ms")
}

// BenchmarkExactlyOnceYSB runs the YSB pipeline (small state: 100
// campaigns) with checkpoints every 100 ms, 1 s and 10 s, against the same
// exactly-once topology with checkpoints off (interval longer than the run)
// and against at-most-once. Overhead = 1 - events/s / events/s(off).
func BenchmarkExactlyOnceYSB(b *testing.B) {
	n := *eoBenchEvents
	src, p := ysbColumns(n)
	cases := []struct {
		name     string
		g        Guarantee
		interval time.Duration
		unalign  bool
	}{
		{"at-most-once", AtMostOnce, 0, false},
		{"interval=off", ExactlyOnce, time.Hour, false},
		{"interval=10s", ExactlyOnce, 10 * time.Second, false},
		{"interval=1s", ExactlyOnce, time.Second, false},
		{"interval=100ms", ExactlyOnce, 100 * time.Millisecond, false},
		{"interval=100ms/unaligned", ExactlyOnce, 100 * time.Millisecond, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			cfg := Config{Guarantee: tc.g, Parallelism: 2, SampleInterval: -1,
				CheckpointConfig: CheckpointConfig{CheckpointInterval: tc.interval, CheckpointDir: b.TempDir(), Unaligned: tc.unalign}}
			rep := benchRuns(b, p, src, cfg, n)
			if tc.g == ExactlyOnce {
				eoMetrics(b, rep)
			}
		})
	}
}

// stateFixture is a log of n events over keys distinct keys, and a
// per-key count and sum over the whole input (WindowNone): its state, held
// until the end, grows with the number of keys.
func stateFixture(n, keys, partitions int) (*colSource, *dataflow.Pipeline) {
	schema := dataflow.NewSchema(
		dataflow.Field{Name: "key", Kind: dataflow.KindString},
		dataflow.Field{Name: "v", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp})
	c := &colSource{schema: schema, dicts: make([][]string, 3)}
	for k := range keys {
		c.dicts[0] = append(c.dicts[0], fmt.Sprintf("key-%08d", k))
	}
	c.cols = make([][][]int64, partitions)
	c.ingest = make([][]int64, partitions)
	for p := range partitions {
		c.cols[p] = make([][]int64, 3)
	}
	x := uint64(7)
	for i := range n {
		x = x*6364136223846793005 + 1442695040888963407
		k := int((x >> 33) % uint64(keys))
		p := k % partitions
		c.cols[p][0] = append(c.cols[p][0], int64(k))
		c.cols[p][1] = append(c.cols[p][1], int64(x>>60))
		c.cols[p][2] = append(c.cols[p][2], testBaseTime+int64(i)/10)
		c.ingest[p] = append(c.ingest[p], (testBaseTime+int64(i)/10)*1e6)
	}
	pl := dataflow.NewPipeline("state", schema).
		Aggregate(dataflow.Aggregation{Key: []string{"key"}, Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("v")}})
	return c, pl
}

// BenchmarkExactlyOnceState measures checkpoints of about 1 MB and 100 MB
// of keyed state (10 thousand and 1 million keys) every second, against
// checkpoints off.
func BenchmarkExactlyOnceState(b *testing.B) {
	for _, sz := range []struct {
		name    string
		keys, n int
	}{
		{"state=1MB", 15_000, 1 << 22},
		{"state=100MB", 1_450_000, 1 << 22},
	} {
		src, p := stateFixture(sz.n, sz.keys, 2)
		runtime.GC()
		for _, interval := range []time.Duration{time.Hour, time.Second} {
			name := sz.name + "/interval=" + interval.String()
			if interval == time.Hour {
				name = sz.name + "/interval=off"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				cfg := Config{Guarantee: ExactlyOnce, Parallelism: 2, SampleInterval: -1,
					CheckpointConfig: CheckpointConfig{CheckpointInterval: interval, CheckpointDir: b.TempDir()}}
				rep := benchRuns(b, p, src, cfg, sz.n)
				eoMetrics(b, rep)
			})
		}
	}
}

// BenchmarkExactlyOnceRecovery crashes a window task once about 100 MB of
// state has been checkpointed and reports the recovery time: from the
// crash to the restored topology running again (target: under 2 s).
func BenchmarkExactlyOnceRecovery(b *testing.B) {
	const n = 1 << 22
	src, p := stateFixture(n, 1_450_000, 2)
	runtime.GC()
	b.ReportAllocs()
	var rep *Report
	for b.Loop() {
		cfg := Config{Guarantee: ExactlyOnce, Parallelism: 2, SampleInterval: -1,
			Faults:           Faults{CrashAfter: []int64{n - 50_000}},
			CheckpointConfig: CheckpointConfig{CheckpointInterval: 3 * time.Second, CheckpointDir: b.TempDir()}}
		var err error
		if rep, err = Run(b.Context(), p, src, cfg); err != nil {
			b.Fatal(err)
		}
		if rep.Counters["restored_checkpoints"] == 0 {
			b.Fatalf("the crash restored no checkpoint (counters %v); lengthen the run", rep.Counters)
		}
	}
	b.ReportMetric(float64(rep.Counters["recovery_max_us"])/1e3, "recovery-ms")
	b.ReportMetric(float64(rep.Counters["restore_load_us"])/1e3, "load-ms")
	b.ReportMetric(float64(rep.Counters["restore_decode_us"])/1e3, "decode-ms")
	eoMetrics(b, rep)
}
