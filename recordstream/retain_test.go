package recordstream

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/snapshot"
)

// retainSource is a memSource that records what the spouts report through
// Retainer and checks that no read goes below a reported position: the
// property a retaining log relies on to release what lies below.
type retainSource struct {
	*memSource
	mu       sync.Mutex
	retained []int64
	calls    int
	below    []string // reads below a reported position (the first 10)
	// gate holds the log back (logGate; the zero value: open).
	gate logGate
}

func (s *retainSource) End(p int) int64          { return s.gate.end(s.memSource.End(p)) }
func (s *retainSource) Closed() bool             { return s.gate.closed() }
func (s *retainSource) Changed() <-chan struct{} { return s.gate.changed() }

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
	if off < s.retained[p] && len(s.below) < 10 {
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
		// Every restore finds the newest checkpoint damaged and falls back
		// to an older kept one, at lower offsets: the reported position is
		// the kept ones' lowest, so the fallback reads nothing released.
		{"exactly-once with crashes and damaged checkpoints", Config{Guarantee: ExactlyOnce, Parallelism: 2, BatchSize: 16,
			CheckpointConfig: CheckpointConfig{CheckpointInterval: time.Millisecond, KeepCheckpoints: 3}, Faults: Faults{CrashAfter: []int64{2500, 4000}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &retainSource{memSource: newMemSource(13, 6000, 2, 0), retained: make([]int64, 2)}
			cfg := tc.cfg
			if cfg.Guarantee == ExactlyOnce {
				// Two checkpoints at different offsets before the first
				// crash: the log stops at 600 records a partition until
				// one is complete, then at 1200 until another is.
				var under snapshot.FS
				if strings.Contains(tc.name, "damaged") {
					under = &corruptFS{}
				}
				fs := newCompletionFS(under, 2)
				src.gate = logGate{steps: []gateStep{{at: 600, open: fs.done[0]}, {at: 1200, open: fs.done[1]}}}
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
				if strings.Contains(tc.name, "damaged") {
					assert.Positive(t, rep.Counters["checkpoint_fallbacks"], "a restore fell back past a damaged checkpoint (counters %v)", rep.Counters)
				}
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
