package handloop_test

import (
	"context"
	"errors"
	"testing"
)

// BenchmarkWorkloads measures every workload's hand loop and weir's
// runtime configurations (configs) on the same pre-filled log of -events
// events: BenchmarkWorkloads/ysb/handloop, BenchmarkWorkloads/ysb/microbatch-dstream,
// ... Each reports events/s; each is checked against the reference answer
// once before it is timed, and every timed run must read the whole log.
// A configuration whose model cannot express the workload is skipped with
// the model's reason.
//
//	GOMAXPROCS=2 go test -run '^$' -bench BenchmarkWorkloads -benchtime 3x ./internal/handloop/ -args -events 1000000
func BenchmarkWorkloads(b *testing.B) {
	ctx := context.Background()
	cs, err := configs()
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range benchWorkloads() {
		b.Run(w.Name, func(b *testing.B) {
			in, err := loadInput(ctx, w, *events)
			if err != nil {
				b.Fatal(err)
			}
			n := float64(in.log.Len())
			b.Run("handloop", func(b *testing.B) {
				ans, err := in.runLoop()
				if err == nil {
					err = in.checkLoop(ans)
				}
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := in.runLoop(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
			for _, c := range cs {
				b.Run(c.label, func(b *testing.B) {
					out, err := in.runConfig(ctx, c)
					if errors.Is(err, errUnsupported) {
						b.Skip(err)
					}
					if err == nil {
						err = in.checkConfig(ctx, c, out)
					}
					if err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					for b.Loop() {
						if _, err := in.runConfig(ctx, c); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "events/s")
				})
			}
		})
	}
}
