package recordstream

import (
	"flag"
	"fmt"
	"math/rand/v2"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var tridentSeeds = flag.Int("trident.seeds", 200, "number of seeds of the Trident crash test")

func TestTridentMatchesReferenceWithoutCrashes(t *testing.T) {
	src := newMemSource(1, 3000, 3, 80)
	for name, p := range shapes() {
		for _, opaque := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/opaque=%v", name, opaque), func(t *testing.T) {
				cfg := Config{Guarantee: Trident, Parallelism: 2, BatchSize: 16, QueueBatches: 4, Seed: 3,
					Trident: TridentConfig{BatchSize: 200, MaxBatchesPending: 2, EmitInterval: -1, Opaque: opaque}}
				rep, err := Run(t.Context(), p, src, cfg)
				require.NoError(t, err)
				check(t, p, src, rep)
				assert.Zero(t, rep.Counters["duplicates"])
				assert.Equal(t, int64(3000), rep.Events)
				assert.GreaterOrEqual(t, rep.Counters["batches"], int64(5), "3000 records over 3 partitions in batches of at most 200 per partition")
				assert.Zero(t, rep.Counters["replayed_batches"])
			})
		}
	}
}

// TestTridentCrashes is the randomized crash test: for many seeds (flag
// -trident.seeds, 1000 for the full run), crash the task taking in the
// N-th record once to three times, some crashes close together so that one
// hits a replayed batch; both spout kinds, several workloads; the output
// must equal the reference answer exactly. It also checks that the seeds
// exercised the rules for a replayed txid some task had committed (T3).
func TestTridentCrashes(t *testing.T) {
	names := []string{"fixed", "sliding", "session", "count", "hashtags", "lookup-none", "stateless"}
	var replayed, skipped, recomputed, restarts int64
	defer func() {
		t.Logf("%d seeds: %d restarts, %d replayed batches, %d skipped and %d recomputed commits", *tridentSeeds, restarts, replayed, skipped, recomputed)
		assert.Positive(t, replayed, "no batch replayed")
		assert.Positive(t, skipped, "no transactional replay of a batch a task had committed")
		assert.Positive(t, recomputed, "no opaque replay of a batch a task had committed")
	}()
	for seed := range uint64(*tridentSeeds) {
		r := rand.New(rand.NewPCG(seed, 17))
		name := names[r.IntN(len(names))]
		opaque := r.IntN(2) == 0
		t.Run(fmt.Sprintf("seed=%d/%s/opaque=%v", seed, name, opaque), func(t *testing.T) {
			p := shapes()[name]
			n := 200 + r.IntN(400)
			src := newMemSource(seed, n, 1+r.IntN(3), 40)
			var crashes []int64
			for range 1 + r.IntN(3) {
				crashes = append(crashes, 1+r.Int64N(int64(n)))
			}
			if r.IntN(2) == 0 {
				crashes = append(crashes, crashes[0]+1+r.Int64N(30))
			}
			cfg := Config{Guarantee: Trident, Parallelism: 1 + r.IntN(3), BatchSize: 8, QueueBatches: 2, Seed: seed,
				Faults:  Faults{CrashAfter: crashes},
				Trident: TridentConfig{BatchSize: 5 + r.IntN(60), MaxBatchesPending: 1 + r.IntN(4), EmitInterval: -1, Opaque: opaque}}
			rep, err := Run(t.Context(), p, src, cfg)
			require.NoError(t, err)
			check(t, p, src, rep)
			assert.Zero(t, rep.Counters["duplicates"], "duplicate panes")
			assert.Equal(t, int64(n), rep.Events)
			replayed += rep.Counters["replayed_batches"]
			skipped += rep.Counters["skipped_commits"]
			recomputed += rep.Counters["recomputed_commits"]
			restarts += rep.Counters["restarts"]
		})
	}
}
