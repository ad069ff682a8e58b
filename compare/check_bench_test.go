package compare

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/weirlab/weir/dataflow"
)

// BenchmarkCheck compares 100k windows (the check runs once per run, so it
// must not dominate a quick suite).
func BenchmarkCheck(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 100_000
	ref := make([]dataflow.Result, n)
	for i := range ref {
		ref[i] = dataflow.Result{Window: win(int64(i/1000)*10_000, int64(i/1000)*10_000+10_000), Key: "k" + strconv.Itoa(i%1000), Value: dataflow.Int(r.Int64N(100))}
	}
	got := append([]dataflow.Result(nil), ref...)
	r.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	b.ReportAllocs()
	for b.Loop() {
		if c := Check(ref, got, CheckOptions{CountValued: true}); !c.OK() {
			b.Fatal(c)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "windows/s")
}
