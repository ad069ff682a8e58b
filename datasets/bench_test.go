package datasets

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
)

// benchEvents is the size of one benchmark iteration.
const benchEvents = 1 << 20

// BenchmarkGenerateYSBArrow generates ysb events into a log (dictionary
// codes) and reads them all back as Arrow batches, on one goroutine.
func BenchmarkGenerateYSBArrow(b *testing.B) {
	ctx := context.Background()
	cfg := Config{Events: benchEvents, Seed: 1}
	b.ReportAllocs()
	var events int64
	for b.Loop() {
		l, _, err := Generate(ctx, "ysb", cfg)
		if err != nil {
			b.Fatal(err)
		}
		src := NewArrowSource(l)
		for p := range l.Partitions() {
			recs, err := src.Read(p, 0, l.End(p), memory.DefaultAllocator, 0)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range recs {
				events += r.NumRows()
				r.Release()
			}
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}

// BenchmarkGenerate measures each generator filling a log.
func BenchmarkGenerate(b *testing.B) {
	ctx := context.Background()
	for _, name := range Names() {
		for _, skew := range []string{"inorder", "skew"} {
			b.Run("dataset="+name+"/"+skew, func(b *testing.B) {
				cfg := Config{Events: benchEvents / 4, Seed: 1, InOrder: skew == "inorder"}
				b.ReportAllocs()
				var events int64
				for b.Loop() {
					l, _, err := Generate(ctx, name, cfg)
					if err != nil {
						b.Fatal(err)
					}
					events += l.Len()
				}
				b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
			})
		}
	}
}
