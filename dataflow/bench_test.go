package dataflow_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/weirlab/weir/dataflow"
)

// BenchmarkAssign measures window assignment, the per-record hot loop of
// every windowed runtime. Target: under 10 ns/event for fixed windows.
func BenchmarkAssign(b *testing.B) {
	for _, tc := range []struct {
		name string
		fn   dataflow.WindowFn
	}{
		{"kind=fixed", dataflow.FixedWindows(10 * time.Second)},
		{"kind=fixed-offset", dataflow.FixedWindows(10 * time.Second).WithOffset(time.Second)},
		{"kind=sliding/windows=6", dataflow.SlidingWindows(time.Minute, 10*time.Second)},
		{"kind=sliding/windows=60", dataflow.SlidingWindows(time.Hour, time.Minute)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			const n = 4096
			ts := make([]dataflow.Time, n)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range ts {
				ts[i] = dataflow.Time(1_700_000_000_000 + r.Int64N(3_600_000))
			}
			dst := make([]dataflow.Window, 0, tc.fn.MaxWindowsPerElement())
			b.ReportAllocs()
			for b.Loop() {
				for _, t := range ts {
					dst = tc.fn.Assign(dst[:0], t)
				}
			}
			reportPerEvent(b, n)
		})
	}
}

// BenchmarkAccumulatorAdd measures Add per aggregate kind.
func BenchmarkAccumulatorAdd(b *testing.B) {
	const n = 4096
	r := rand.New(rand.NewPCG(3, 4))
	ints := make([]dataflow.Value, n)
	strs := make([]dataflow.Value, n)
	z := rand.NewZipf(r, 1.1, 1, 999)
	for i := range ints {
		ints[i] = dataflow.Int(r.Int64N(1000))
		strs[i] = dataflow.Str(fmt.Sprintf("#tag%d", z.Uint64()))
	}
	for _, tc := range []struct {
		agg  dataflow.Agg
		in   dataflow.Kind
		vals []dataflow.Value
	}{
		{dataflow.Count(), dataflow.KindInt64, ints},
		{dataflow.Sum("x"), dataflow.KindInt64, ints},
		{dataflow.Mean("x"), dataflow.KindInt64, ints},
		{dataflow.Max("x"), dataflow.KindInt64, ints},
		{dataflow.Distinct("x"), dataflow.KindString, strs},
		{dataflow.TopN("x", 10), dataflow.KindString, strs},
		{dataflow.ApproxTopN("x", 10), dataflow.KindString, strs},
		{dataflow.ApproxDistinct("x"), dataflow.KindString, strs},
	} {
		b.Run("agg="+tc.agg.Kind.String(), func(b *testing.B) {
			acc := tc.agg.NewAccumulator(tc.in)
			b.ReportAllocs()
			for b.Loop() {
				for _, v := range tc.vals {
					acc.Add(v)
				}
			}
			reportPerEvent(b, n)
		})
	}
}

// BenchmarkReference measures the oracle on a YSB-like pipeline.
func BenchmarkReference(b *testing.B) {
	p, recs := ysbLike(100_000, 5)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dataflow.Reference(p, sliceSeq(recs), dataflow.ReferenceOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	reportPerEvent(b, len(recs))
}

func reportPerEvent(b *testing.B, perOp int) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(perOp)
	b.ReportMetric(ns, "ns/event")
	b.ReportMetric(1e9/ns, "events/s")
}
