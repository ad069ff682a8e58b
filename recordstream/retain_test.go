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
	// With open set, the log publishes only the first gate records of
	// each partition until open is closed (gatedSource's rule).
	open <-chan struct{}
	gate int64
}

func (s *retainSource) opened() bool {
	if s.open == nil {
		return true
	}
	select {
	case <-s.open:
		return true
	default:
		return false
	}
}

func (s *retainSource) End(p int) int64 {
	if s.opened() {
		return s.memSource.End(p)
	}
	return min(s.gate, s.memSource.End(p))
}

func (s *retainSource) Closed() bool { return s.opened() }

func (s *retainSource) Changed() <-chan struct{} {
	if s.opened() {
		return closedChan()
	}
	return s.open
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
// Exactly once, the oldest kept checkpoint's spout offsets are reported
// when a checkpoint completes, so a restore after a crash (from any kept
// checkpoint) never reads below them and the answer stays exact.
func TestSpoutsRetainWhatTheyMayStillRead(t *testing.T) {
	p := shapes()["fixed"]
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"at-most-once", Config{Guarantee: AtMostOnce, Parallelism: 2, BatchSize: 16}},
		{"at-least-once with lost acks", Config{Guarantee: AtLeastOnce, Parallelism: 2, BatchSize: 16,
			MessageTimeout: 100 * time.Millisecond, Faults: Faults{DropAcks: 0.05, Seed: 1}}},
		{"exactly-once", Config{Guarantee: ExactlyOnce, Parallelism: 2, BatchSize: 16,
			CheckpointConfig: CheckpointConfig{CheckpointInterval: time.Millisecond}}},
		{"exactly-once with crashes", Config{Guarantee: ExactlyOnce, Parallelism: 2, BatchSize: 16,
			CheckpointConfig: CheckpointConfig{CheckpointInterval: time.Millisecond}, Faults: Faults{CrashAfter: []int64{2500, 4000}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &retainSource{memSource: newMemSource(13, 6000, 2, 0), retained: make([]int64, 2)}
			cfg := tc.cfg
			if cfg.Guarantee == ExactlyOnce {
				// Hold the log at 1000 records a partition (below the
				// first crash) until a checkpoint is complete, so that
				// one always is before the crash and the end.
				fs := &completionFS{done: make(chan struct{})}
				src.open, src.gate = fs.done, 1000
				cfg.CheckpointFS = fs
			}
			cfg.WatermarkInterval = time.Millisecond // report often
			rep, err := Run(t.Context(), p, src, cfg)
			require.NoError(t, err)
			src.mu.Lock()
			defer src.mu.Unlock()
			assert.Empty(t, src.below)
			assert.Positive(t, src.calls, "the spouts (exactly once: the checkpoints) reported their positions")
			if tc.cfg.Guarantee == ExactlyOnce {
				check(t, p, src.memSource, rep)
				if len(tc.cfg.Faults.CrashAfter) > 0 {
					assert.Positive(t, rep.Counters["restored_checkpoints"], "a crash restored a checkpoint (counters %v)", rep.Counters)
				}
				return
			}
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
