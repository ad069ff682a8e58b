package datasets

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/weirlab/weir/dataflow"
)

// benchEvents is the size of one benchmark iteration.
const benchEvents = 1 << 20

// BenchmarkGenerateYSBArrow generates ysb events into a log (dictionary
// codes) and reads them all back as Arrow batches, on one goroutine: the
// whole input path of the microbatch runtime. skew=none is in-order data,
// skew=default the built-in data (5% up to 2 s out of order).
func BenchmarkGenerateYSBArrow(b *testing.B) {
	ctx := context.Background()
	for _, inOrder := range []bool{true, false} {
		skew := "default"
		if inOrder {
			skew = "none"
		}
		b.Run("skew="+skew, func(b *testing.B) {
			cfg := Config{Events: benchEvents, Seed: 1, InOrder: inOrder}
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
				src.Release()
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
		})
	}
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

// BenchmarkFillStep measures the generator hot loop alone: generating
// batchRows events and writing them into the log's chunks.
func BenchmarkFillStep(b *testing.B) {
	for _, name := range []string{"ysb", "nexmark", "iot"} {
		for _, inOrder := range []bool{true, false} {
			skew := "default"
			if inOrder {
				skew = "none"
			}
			b.Run("dataset="+name+"/skew="+skew, func(b *testing.B) {
				g, _ := Lookup(name)
				cfg := Config{Events: 1 << 20, InOrder: inOrder}
				l, err := NewLogFor(g, cfg)
				if err != nil {
					b.Fatal(err)
				}
				f := newFiller(g, l, cfg.withDefaults())
				b.ReportAllocs()
				var events int64
				for b.Loop() {
					f.step(batchRows, 1)
					events += batchRows
					if events%(1<<22) == 0 { // bound memory: start a new log
						l, _ = NewLogFor(g, cfg)
						f = newFiller(g, l, cfg.withDefaults())
					}
				}
				b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
			})
		}
	}
}

// BenchmarkParquetRoundTrip measures writing a ysb log to Parquet and
// scanning it back.
func BenchmarkParquetRoundTrip(b *testing.B) {
	l, _, err := Generate(context.Background(), "ysb", Config{Events: 1 << 16, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	path := b.TempDir() + "/events.parquet"
	b.ReportAllocs()
	var events int64
	for b.Loop() {
		if err := writeFile(path, func(w io.Writer) error { return WriteLogParquet(w, l) }); err != nil {
			b.Fatal(err)
		}
		if err := ScanParquet(path, l.Schema(), func(dataflow.Row) error { events++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkLogBytesPerEvent fills a log with N built-in YSB events (one
// log per iteration) and reports the memory it holds per event: B/event
// from [Log.Bytes] (the chunks' columns) and heap-B/event from the growth
// of runtime.MemStats.HeapInuse across the fill, after a GC at each end
// (the chunks plus the dictionaries, the lookup pools and the allocator's
// slack; the wide open chunks the fill discarded are collected).
func BenchmarkLogBytesPerEvent(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int64{1 << 20, 1 << 23} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			var bytes, heap float64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				l, _, err := Generate(ctx, "ysb", Config{Events: n, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				bytes = float64(l.Bytes()) / float64(l.Len())
				heap = (float64(after.HeapInuse) - float64(before.HeapInuse)) / float64(l.Len())
				runtime.KeepAlive(l)
			}
			b.ReportMetric(bytes, "B/event")
			b.ReportMetric(heap, "heap-B/event")
		})
	}
}

// BenchmarkArrowSourceRead turns a pre-filled (sealed) YSB log into Arrow
// batches and releases them: every column, or only those the YSB query
// uses (event_type, ad_id, event_time; [ArrowSource.Skip] the other four),
// so the cost of widening sealed columns shows beside the whole read.
func BenchmarkArrowSourceRead(b *testing.B) {
	l, _, err := Generate(context.Background(), "ysb", Config{Events: benchEvents, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, skip := range [][]int{nil, {ysbUser, ysbPage, ysbAdType, ysbIP}} {
		b.Run(fmt.Sprintf("skip=%d", len(skip)), func(b *testing.B) {
			src := NewArrowSource(l)
			defer src.Release()
			if skip != nil {
				if err := src.Skip(skip); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			var events int64
			for b.Loop() {
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
		})
	}
}
