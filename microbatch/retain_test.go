package microbatch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// retainSource records what the driver reports through Retainer: each
// call's partition and offset, in order.
type retainSource struct {
	*datasets.ArrowSource
	mu    sync.Mutex
	calls [][2]int64
}

func (s *retainSource) Retain(p int, off int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, [2]int64{int64(p), off})
	return nil
}

// TestDriverRetainsCommittedOffsets: the driver reports to a Retainer
// source every partition's offset after each committed batch (without
// checkpoints), after each checkpointed batch only (with them, and across
// a driver crash, which restarts from the last one). Positions never go
// back and end at the log's end; the results are the reference's.
func TestDriverRetainsCommittedOffsets(t *testing.T) {
	const parts = 2
	l := testLog(t, 3, 4000, parts, 20_000, 0)
	p := dataflow.NewPipeline("r", testSchema).Aggregate(dataflow.Aggregation{Key: []string{"page"}, Window: dataflow.FixedWindows(2 * time.Second),
		TimeCol: "event_time", Aggs: []dataflow.Agg{dataflow.Count()}})
	for _, tc := range []struct {
		name string
		cfg  Config
		// every: how many committed batches per report (0: not counted)
		every int
	}{
		{"no checkpoints", Config{BatchInterval: time.Second}, 1},
		{"checkpoint every 3", Config{BatchInterval: time.Second, CheckpointDir: t.TempDir(), CheckpointEvery: 3}, 3},
		{"driver crash", Config{BatchInterval: time.Second, Failures: []Failure{{AfterRecords: 1500, Kind: CrashDriver}}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &retainSource{ArrowSource: datasets.NewArrowSource(l)}
			defer src.Release()
			rep, err := Run(context.Background(), p, src, tc.cfg)
			require.NoError(t, err)
			requireSameResults(t, reference(t, p, l, lateRefs(rep.Late)), rep.Results)
			require.NotEmpty(t, src.calls)
			require.Zero(t, len(src.calls)%parts, "each report names every partition")
			last := make([]int64, parts)
			for i, c := range src.calls {
				require.Equal(t, int64(i%parts), c[0], "call %d: partitions in order", i)
				require.GreaterOrEqual(t, c[1], last[c[0]], "call %d: a position never goes back", i)
				last[c[0]] = c[1]
			}
			for q := range parts {
				assert.Equal(t, l.End(q), last[q], "partition %d: the last report is the log's end (the final batch)", q)
			}
			if tc.every == 0 {
				assert.Positive(t, rep.Counters["driver_restarts"])
				return
			}
			// Without checkpoints every batch reports; with them, the
			// checkpointed ones (every third, and the final one).
			batches := len(rep.Batches)
			want := batches
			if tc.every > 1 {
				want = 0
				for seq := range batches {
					if seq%tc.every == 0 || seq == batches-1 {
						want++
					}
				}
			}
			assert.Equal(t, want, len(src.calls)/parts, "reports over %d batches", batches)
		})
	}
}
