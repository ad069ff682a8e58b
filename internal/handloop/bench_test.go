package handloop_test

import (
	"context"
	"errors"
	"testing"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
)

// BenchmarkWorkloads measures every workload's hand loop and weir's
// runtime configurations (compare.PerfSuite) on the same pre-filled log of
// -events events, timing Config.Timed where it is set (the counting sink),
// as bench perf does: BenchmarkWorkloads/ysb/handloop,
// BenchmarkWorkloads/ysb/microbatch-dstream, ... Each reports events/s;
// each is checked against the reference answer once before it is timed,
// and every timed run must read the whole log. A configuration whose
// model cannot express the workload is skipped with the model's reason.
//
//	GOMAXPROCS=2 go test -run '^$' -bench BenchmarkWorkloads -benchtime 3x ./internal/handloop/ -args -events 1000000
func BenchmarkWorkloads(b *testing.B) {
	ctx := context.Background()
	for _, w := range compare.PerfWorkloads() {
		b.Run(w.Name, func(b *testing.B) {
			in, cs, err := load(ctx, w, *events)
			if err != nil {
				b.Fatal(err)
			}
			n := float64(in.Log.Len())
			b.Run("handloop", func(b *testing.B) {
				ans, err := in.RunLoop()
				if err == nil {
					err = in.CheckLoop(ans)
				}
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := in.RunLoop(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
			for _, c := range cs {
				b.Run(c.Label, func(b *testing.B) {
					r, err := c.Run(ctx)
					if ue, ok := errors.AsType[*dataflow.UnsupportedError](err); ok {
						b.Skip(ue)
					}
					if err == nil && r.Events != in.Log.Len() {
						b.Fatalf("%s read %d of the log's %d events", c.Label, r.Events, in.Log.Len())
					}
					if err == nil {
						err = r.Check(ctx)
					}
					if err != nil {
						b.Fatal(err)
					}
					run := c.Run
					if c.Timed != nil {
						run = c.Timed // counting sink: see handloop.Config.Timed
					}
					b.ReportAllocs()
					for b.Loop() {
						r, err := run(ctx)
						if err == nil && r.Events != in.Log.Len() {
							b.Fatalf("%s read %d of the log's %d events", c.Label, r.Events, in.Log.Len())
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "events/s")
				})
			}
		})
	}
}
