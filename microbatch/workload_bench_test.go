package microbatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/microbatch"
)

// BenchmarkWorkloads runs the named workloads end to end (generation
// excluded) in event-time mode with 1 s batches.
func BenchmarkWorkloads(b *testing.B) {
	for _, name := range []string{"ysb", "grep", "fraud", "iot-sliding", "sessions", "request-rate", "hashtag-topn", "hashtag-approx-topn"} {
		b.Run("workload="+name, func(b *testing.B) {
			w, err := compare.LookupWorkload(name)
			require.NoError(b, err)
			l, tables, err := datasets.Generate(context.Background(), w.Dataset, datasets.Config{Events: 200_000, Seed: 1})
			require.NoError(b, err)
			p, err := w.Pipeline(tables)
			require.NoError(b, err)
			s := datasets.NewArrowSource(l)
			b.ReportAllocs()
			for b.Loop() {
				_, err := microbatch.Run(context.Background(), p, s, microbatch.Config{BatchInterval: time.Second})
				require.NoError(b, err)
			}
			b.ReportMetric(float64(l.Len())*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
