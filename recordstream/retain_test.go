package recordstream

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// retainSource is a memSource that records what the spouts report through
// Retainer and checks that no read goes below a reported position: the
// property a retaining log relies on to release what lies below.
type retainSource struct {
	*memSource
	mu       sync.Mutex
	retained []int64
	calls    int
	below    []string // reads below a reported position
}

func (s *retainSource) Retain(p int, off int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if off < s.retained[p] {
		s.below = append(s.below, fmt.Sprintf("partition %d: reported %d after %d", p, off, s.retained[p]))
	}
	if off > s.End(p) {
		return fmt.Errorf("partition %d: retained %d past the end %d", p, off, s.End(p))
	}
	s.retained[p] = off
	s.calls++
	return nil
}

func (s *retainSource) Read(p int, off int64, dst dataflow.Row) (dataflow.Row, int64) {
	s.mu.Lock()
	if off < s.retained[p] {
		s.below = append(s.below, fmt.Sprintf("partition %d: read %d below the reported %d", p, off, s.retained[p]))
	}
	s.mu.Unlock()
	return s.memSource.Read(p, off, dst)
}

// TestSpoutsRetainWhatTheyMayStillRead: at most once a spout reports its
// next offset; at least once, with acks lost and trees replayed, the
// lowest offset it may still replay, so no replay reads below what it
// reported; the answer is unchanged (at least once, no record missing).
// The exactly-once mode reports nothing.
func TestSpoutsRetainWhatTheyMayStillRead(t *testing.T) {
	p := shapes()["fixed"]
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"at-most-once", Config{Guarantee: AtMostOnce, Parallelism: 2, BatchSize: 16}},
		{"at-least-once with lost acks", Config{Guarantee: AtLeastOnce, Parallelism: 2, BatchSize: 16,
			MessageTimeout: 100 * time.Millisecond, Faults: Faults{DropAcks: 0.05, Seed: 1}}},
		{"exactly-once", Config{Guarantee: ExactlyOnce, Parallelism: 2, BatchSize: 16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &retainSource{memSource: newMemSource(13, 6000, 2, 0), retained: make([]int64, 2)}
			cfg := tc.cfg
			cfg.WatermarkInterval = time.Millisecond // report often
			rep, err := Run(t.Context(), p, src, cfg)
			require.NoError(t, err)
			src.mu.Lock()
			defer src.mu.Unlock()
			assert.Empty(t, src.below)
			if tc.cfg.Guarantee == ExactlyOnce {
				assert.Zero(t, src.calls, "exactly-once reports no position")
				return
			}
			assert.Positive(t, src.calls, "the spouts reported their positions")
			if tc.cfg.Guarantee == AtLeastOnce {
				assert.Positive(t, rep.Counters["replayed"], "lost acks replayed trees")
				diffs, missing := compareCounts(t, p, src.memSource, rep)
				assert.Zero(t, missing)
				for _, d := range diffs {
					assert.GreaterOrEqual(t, d, int64(0))
				}
				return
			}
			check(t, p, src.memSource, rep)
		})
	}
}
