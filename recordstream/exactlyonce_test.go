package recordstream

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var eoSeeds = flag.Int("eo.seeds", 20, "number of seeds of the exactly-once crash tests")

func TestExactlyOnceMatchesReferenceWithoutCrashes(t *testing.T) {
	src := newMemSource(1, 3000, 3, 80)
	for name, p := range shapes() {
		for _, mode := range []string{"aligned", "unaligned"} {
			t.Run(fmt.Sprintf("%s/%s", name, mode), func(t *testing.T) {
				cfg := Config{Guarantee: ExactlyOnce, Parallelism: 2, BatchSize: 16, QueueBatches: 4, WatermarkEvery: 50, Seed: 3}
				cp := CheckpointConfig{CheckpointInterval: 2e6, CheckpointDir: t.TempDir(), Unaligned: mode == "unaligned"}
				rep, err := runExactlyOnce(t.Context(), p, src, cfg, cp)
				require.NoError(t, err)
				check(t, p, src, rep)
				assert.Zero(t, rep.Counters["duplicates"])
				t.Logf("counters %v", rep.Counters)
			})
		}
	}
}

// TestExactlyOnceCrashes is the randomized crash test: for many seeds,
// crash a random task (the one taking in the N-th record) once or several
// times, some crashes close together so that one hits the replay after a
// restore; the two-phase-commit sink's output must equal the reference
// answer exactly, with no duplicate pane.
func TestExactlyOnceCrashes(t *testing.T) {
	stateful := []string{"fixed", "sliding", "session", "count", "hashtags", "lookup-none", "stateless"}
	var restored, restarts int64
	defer func() {
		t.Logf("%d seeds: %d restarts, %d from a checkpoint", *eoSeeds, restarts, restored)
		assert.Positive(t, restored, "no restart restored a checkpoint: the test does not exercise restore")
	}()
	for seed := range uint64(*eoSeeds) {
		r := rand.New(rand.NewPCG(seed, 11))
		name := stateful[r.IntN(len(stateful))]
		mode := []string{"aligned", "unaligned"}[r.IntN(2)]
		t.Run(fmt.Sprintf("seed=%d/%s/%s", seed, name, mode), func(t *testing.T) {
			p := shapes()[name]
			n := 1500 + r.IntN(1500)
			src := newMemSource(seed, n, 1+r.IntN(3), 40)
			var crashes []int64
			for range 1 + r.IntN(3) {
				crashes = append(crashes, 1+r.Int64N(int64(n)))
			}
			if r.IntN(2) == 0 {
				crashes = append(crashes, crashes[0]+1+r.Int64N(50))
			}
			cfg := Config{Guarantee: ExactlyOnce, Parallelism: 1 + r.IntN(3), BatchSize: 8, QueueBatches: 2, WatermarkEvery: 20,
				Seed: seed, Faults: Faults{CrashAfter: crashes, Slow: 20 * time.Microsecond}}
			cp := CheckpointConfig{CheckpointInterval: time.Duration(1+r.IntN(5)) * time.Millisecond, CheckpointDir: t.TempDir(),
				Unaligned: mode == "unaligned"}
			rep, err := runExactlyOnce(t.Context(), p, src, cfg, cp)
			require.NoError(t, err)
			check(t, p, src, rep)
			assert.Zero(t, rep.Counters["duplicates"], "duplicate panes a reader saw")
			restored += rep.Counters["restored_checkpoints"]
			restarts += rep.Counters["restarts"]
		})
	}
}
