package compare

import (
	"context"
	"errors"
	"flag"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

var nexmarkBenchEvents = flag.Int64("nexmark.events", 1_000_000, "events of each BenchmarkNexmark run")

// BenchmarkNexmark runs q0, q1, q2, q5, q7 and q11 on microbatch
// (Structured Streaming's event-time model) and recordstream at-most-once
// (Storm without acking), each over one log filled before the run (the
// runtime alone, as the Nexmark harnesses measure), as nexmark/nexmark
// measures: first an untimed check run whose results are kept and must
// equal the reference answer, then the timed runs with the runtime's
// counting sink (Config.CountingSink: every result built and counted, none
// kept or sorted, as Flink's blackhole sink), each required to read every
// event and, for a stateless query, to emit as many results as the check
// run. It reports, from the timed runs, events/s, the cores they used
// (process CPU time, getrusage, over wall time) and events/s/core (events
// / CPU seconds: nexmark/nexmark's Throughput/Cores, to set beside Flink's
// published per-core figures in NexmarkPublishedFigures), and flink-x, our
// per-core figure over Flink's. A configuration that refuses a query is
// skipped with the model's reason; one whose check fails reports nothing.
//
//	GOMAXPROCS=2 go test ./compare -run '^$' -bench Nexmark -benchtime 1x
func BenchmarkNexmark(b *testing.B) {
	ctx := context.Background()
	queries := []string{"nexmark-q0", "nexmark-q1", "nexmark-q2", "nexmark-q5", "nexmark-q7", "nexmark-q11"}
	entries := []SuiteEntry{
		{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "event-time", BatchInterval: time.Second}},
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}},
	}
	first, err := LookupWorkload(queries[0])
	require.NoError(b, err)
	d := DataSpec{Events: *nexmarkBenchEvents, Seed: 1}
	// Every query reads the same nexmark log.
	log, _, err := LoadData(ctx, first, d)
	require.NoError(b, err)
	published := NexmarkPublishedFigures()
	for _, q := range queries {
		w, err := LookupWorkload(q)
		require.NoError(b, err)
		p, err := w.Pipeline(nil)
		require.NoError(b, err)
		for _, e := range entries {
			r, err := NewRunner(e.Runtime, e.Flags)
			require.NoError(b, err)
			b.Run("query="+q[len("nexmark-"):]+"/runtime="+r.Name(), func(b *testing.B) {
				job := &Job{Workload: w, Pipeline: p, Log: log, Identity: jobIdentity(w, p, log, d)}
				// The check run, untimed (b.Loop resets the timer).
				checked, err := r.Run(ctx, job)
				if u := (*dataflow.UnsupportedError)(nil); errors.As(err, &u) {
					b.Skipf("%s refuses %s: %s", r.Name(), q, u.Reason)
				}
				require.NoError(b, err)
				check, err := checkOutcome(ctx, p, log, checked, nil)
				require.NoError(b, err)
				require.True(b, check.OK(), "%s on %s: %s %v", q, r.Name(), check, check.Examples)

				tr, sink := countingRunner(r)
				require.Equal(b, "counting", sink, "%s has a counting sink", r.Name())
				// The check run's results and reference are garbage now:
				// collect them untimed, so the timed runs' CPU is theirs.
				counts := countsOf(checked)
				checked, check = nil, CheckResult{}
				runtime.GC()
				b.ReportAllocs()
				var outs []*Outcome
				cpu0, cerr := processCPU()
				for b.Loop() {
					out, err := tr.Run(ctx, job)
					require.NoError(b, err)
					outs = append(outs, out)
				}
				cpu1, cerr1 := processCPU()
				sec := b.Elapsed().Seconds()
				b.StopTimer()
				for _, out := range outs {
					require.Empty(b, throughputMismatch(p, out, counts), "%s on %s", q, r.Name())
				}
				events := float64(log.Len()) * float64(b.N)
				b.ReportMetric(events/sec, "events/s")
				if cerr == nil && cerr1 == nil && cpu1 > cpu0 {
					cpu := (cpu1 - cpu0).Seconds()
					b.ReportMetric(events/cpu, "events/s/core")
					b.ReportMetric(cpu/sec, "cores")
					if f := published[q].Flink; f > 0 {
						b.ReportMetric(events/cpu/f, "flink-x")
					}
				}
			})
		}
	}
}
