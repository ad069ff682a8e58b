package recordstream

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

var dataflowSeeds = flag.Int("dataflow.seeds", 200, "number of seeds of the Dataflow mode's randomized crash and lost-ack test")

// dataflowShapes are the shapes the Dataflow mode runs: all but count
// windows, which it refuses.
func dataflowShapes() map[string]*dataflow.Pipeline {
	m := shapes()
	delete(m, "count")
	return m
}

func TestDataflowMatchesReferenceWithoutFaults(t *testing.T) {
	src := newMemSource(1, 3000, 3, 80)
	for name, p := range dataflowShapes() {
		t.Run(name, func(t *testing.T) {
			cfg := Config{Guarantee: Dataflow, Parallelism: 2, BatchSize: 16, QueueBatches: 4, WatermarkEvery: 50, Seed: 3}
			rep, err := Run(t.Context(), p, src, cfg)
			require.NoError(t, err)
			check(t, p, src, rep)
			assert.Zero(t, rep.Counters["duplicates"], "duplicate panes at the sink")
			assert.Zero(t, rep.Counters["unacked_at_end"], "productions never acknowledged")
			assert.Positive(t, rep.Counters["commits"])
			assert.Positive(t, rep.Counters["dedup_lookups"])
		})
	}
}

func TestDataflowRefusesCountWindows(t *testing.T) {
	src := newMemSource(1, 100, 1, 0)
	_, err := Run(t.Context(), shapes()["count"], src, Config{Guarantee: Dataflow})
	u, ok := errors.AsType[*dataflow.UnsupportedError](err)
	require.True(t, ok, "got %v, want an UnsupportedError", err)
	assert.Contains(t, u.Reason, "count windows")
}

// TestDataflowCrashesAndLostAcks is the randomized fault test: for many
// seeds, crash window tasks (the sink of a stateless pipeline) one to
// three times and lose up to 30% of the acknowledgements; the output must
// equal the reference answer exactly, with no duplicate reaching the sink.
func TestDataflowCrashesAndLostAcks(t *testing.T) {
	names := []string{"fixed", "sliding", "session", "hashtags", "lookup-none", "stateless", "proctime"}
	var restarts, dropped, dups int64
	defer func() {
		t.Logf("%d seeds: %d task restarts, %d acks lost, %d duplicates dropped", *dataflowSeeds, restarts, dropped, dups)
		assert.Positive(t, restarts, "no task restarted: the test does not exercise recovery")
		assert.Positive(t, dups, "no duplicate was dropped: the test does not exercise deduplication")
	}()
	for seed := range uint64(*dataflowSeeds) {
		r := rand.New(rand.NewPCG(seed, 13))
		name := names[r.IntN(len(names))]
		t.Run(fmt.Sprintf("seed=%d/%s", seed, name), func(t *testing.T) {
			p := shapes()[name]
			n := 300 + r.IntN(700)
			src := newMemSource(seed, n, 1+r.IntN(3), 40)
			var crashes []int64
			for range 1 + r.IntN(3) {
				crashes = append(crashes, 1+r.Int64N(int64(n)))
			}
			cfg := Config{Guarantee: Dataflow, Parallelism: 1 + r.IntN(3), BatchSize: 1 + r.IntN(16), QueueBatches: 2, WatermarkEvery: 20,
				Seed: seed, Faults: Faults{CrashAfter: crashes, DropAcks: 0.3 * r.Float64(), Seed: seed},
				DataflowConfig: DataflowConfig{RetryTimeout: time.Duration(1+r.IntN(3)) * time.Millisecond, IDCache: r.IntN(3) * 32, BloomBits: 1 << (6 + r.IntN(10))}}
			rep, err := Run(t.Context(), p, src, cfg)
			require.NoError(t, err)
			check(t, p, src, rep)
			assert.Zero(t, rep.Counters["duplicates"], "duplicate panes at the sink")
			assert.Zero(t, rep.Counters["unacked_at_end"], "productions never acknowledged")
			restarts += rep.Counters["task_restarts"]
			dropped += rep.Counters["acks_dropped"]
			dups += rep.Counters["duplicates_dropped"]
		})
	}
}
