package recordstream

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
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

// TestTridentEmitIntervalAndPending runs Trident in a synctest bubble,
// where time moves only while every goroutine waits. With an emit interval
// of 100 ms and processing that costs no fake time, batches start 100 ms
// apart: a run of b batches lasts (b-1) x 100 ms and a little more, with
// one batch in flight at a time. With a slow step (2 ms a record, so a
// batch takes longer than the 1 ms interval) batches pile up to
// MaxBatchesPending in flight, and no further.
func TestTridentEmitIntervalAndPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newMemSource(4, 1000, 2, 20)
		const interval = 100 * time.Millisecond
		cfg := Config{Guarantee: Trident, Parallelism: 2, SampleInterval: -1,
			Trident: TridentConfig{BatchSize: 50, MaxBatchesPending: 3, EmitInterval: interval}}
		rep, err := Run(t.Context(), shapes()["fixed"], src, cfg)
		require.NoError(t, err)
		check(t, shapes()["fixed"], src, rep)
		b := rep.Counters["batches"]
		// 1000 records over 2 partitions, at most 50 per partition per
		// batch: 10 batches or more (a partition may hold more than half).
		require.GreaterOrEqual(t, b, int64(10))
		assert.GreaterOrEqual(t, rep.Elapsed, time.Duration(b-1)*interval, "%d batches %v apart", b, interval)
		assert.Less(t, rep.Elapsed, time.Duration(b)*interval, "%d batches %v apart", b, interval)
		assert.Equal(t, int64(1), rep.Counters["max_batches_in_flight"], "batches in flight when each commits within the interval")
	})
	for _, pending := range []int{1, 3} {
		t.Run(fmt.Sprintf("slow/pending=%d", pending), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := newMemSource(4, 1000, 2, 20)
				cfg := Config{Guarantee: Trident, Parallelism: 2, SampleInterval: -1, Faults: Faults{Slow: 2 * time.Millisecond},
					Trident: TridentConfig{BatchSize: 50, MaxBatchesPending: pending, EmitInterval: time.Millisecond}}
				rep, err := Run(t.Context(), shapes()["fixed"], src, cfg)
				require.NoError(t, err)
				check(t, shapes()["fixed"], src, rep)
				assert.Equal(t, int64(pending), rep.Counters["max_batches_in_flight"], "batches in flight")
			})
		})
	}
}

// TestTridentLeavesNoGoroutines: a finished, a cancelled and a crashed
// Trident run leave no goroutine behind.
func TestTridentLeavesNoGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		before := bubbleGoroutines()
		src := newMemSource(3, 500, 2, 0)
		cfg := Config{Guarantee: Trident, Parallelism: 2, Faults: Faults{CrashAfter: []int64{100, 300}},
			Trident: TridentConfig{BatchSize: 20, MaxBatchesPending: 2}}
		rep, err := Run(t.Context(), shapes()["fixed"], src, cfg)
		require.NoError(t, err)
		assert.Equal(t, int64(2), rep.Counters["restarts"])
		synctest.Wait()
		assert.Equal(t, before, bubbleGoroutines(), "goroutines left after Run")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = Run(ctx, shapes()["fixed"], src, cfg)
		require.Error(t, err)
		synctest.Wait()
		assert.Equal(t, before, bubbleGoroutines(), "goroutines left after a cancelled Run")
	})
}

func TestTridentConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg   TridentConfig
		field string
	}{
		{TridentConfig{}, ""},
		{TridentConfig{BatchSize: 1, MaxBatchesPending: 64, EmitInterval: -1}, ""},
		{TridentConfig{BatchSize: -1}, "Trident.BatchSize"},
		{TridentConfig{BatchSize: MaxTridentBatchSize + 1}, "Trident.BatchSize"},
		{TridentConfig{MaxBatchesPending: -1}, "Trident.MaxBatchesPending"},
		{TridentConfig{MaxBatchesPending: MaxTridentPending + 1}, "Trident.MaxBatchesPending"},
		{TridentConfig{EmitInterval: time.Hour}, "Trident.EmitInterval"},
	} {
		cfg := Config{Guarantee: Trident, Trident: tc.cfg}
		err := cfg.Validate()
		if tc.field == "" {
			assert.NoError(t, err, "%+v", tc.cfg)
			continue
		}
		var ce *ConfigError
		if assert.ErrorAs(t, err, &ce, "%+v", tc.cfg) {
			assert.Equal(t, tc.field, ce.Field)
			assert.Contains(t, ce.Error(), "got", "the message names the value")
		}
	}
	g, err := ParseGuarantee("trident")
	require.NoError(t, err)
	assert.Equal(t, Trident, g)
	_, err = ParseGuarantee("tridnet")
	assert.ErrorContains(t, err, "trident or dataflow")
}

// TestTridentBufferDoesNotAllocate locks in zero allocations per record
// of a bolt's batch buffer in the steady state: a batch's slices are
// reused from batch to batch.
func TestTridentBufferDoesNotAllocate(t *testing.T) {
	p := &tridentBolt{next: []uint64{1, 1}, open: map[uint64]*tridentBatch{}}
	tp := tuple{Kind: msgData, Row: dataflow.Row{dataflow.Str("campaign-7"), dataflow.Int(3), dataflow.Int(1_700_000_000_000)}}
	fill := func() {
		for i := range 256 {
			p.batch(p.next[i%2]).add(i%2, &tp)
		}
		bt := p.open[1]
		delete(p.open, 1)
		bt.reset()
		p.free = append(p.free, bt)
	}
	fill() // grow the slices once
	assert.Zero(t, testing.AllocsPerRun(20, fill), "allocations per batch of 256 records")
}
