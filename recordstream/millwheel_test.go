package recordstream

import (
	"errors"
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

var dataflowSeeds = flag.Int("dataflow.seeds", 200, "number of seeds of the Dataflow mode's randomized crash and lost-ack test")

// dataflowShapes are the shapes the Dataflow mode runs: all but count
// windows, which it refuses.
func dataflowShapes() map[string]*dataflow.Pipeline {
	m := shapes()
	delete(m, "count")
	wm := dataflow.WatermarkPolicy{MaxOutOfOrderness: 50 * time.Millisecond}
	// Panes fired between bundles (early) and after the on-time pane
	// (late firings), with discarding panes the sink adds up: a pane
	// delivered twice or fired again after a restore would show.
	m["early-discarding"] = dataflow.NewPipeline("early-discarding", testSchema).
		Aggregate(dataflow.Aggregation{Key: []string{"cat"}, Window: dataflow.FixedWindows(time.Second),
			TimeCol: "event_time", Watermark: wm, Trigger: dataflow.Trigger{EarlyEvery: time.Millisecond, AfterCount: 7},
			Accumulation: dataflow.Discarding, Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("v")}})
	m["late-firings"] = dataflow.NewPipeline("late-firings", testSchema).
		Aggregate(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.FixedWindows(500 * time.Millisecond),
			TimeCol: "event_time", Watermark: wm, AllowedLateness: 100 * time.Millisecond, Trigger: dataflow.Trigger{LateFirings: true},
			Accumulation: dataflow.Discarding, Aggs: []dataflow.Agg{dataflow.Count()}})
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
// three times and lose up to 30% of the acknowledgements, over input with
// 2% of the records 2 s late (as `bench torture` runs it, --late); the
// output must equal the reference answer without the records reported
// late, with no duplicate reaching the sink, and the late reports must be
// what compare's check verifies (checkDataflowLate).
func TestDataflowCrashesAndLostAcks(t *testing.T) {
	names := []string{"fixed", "sliding", "session", "hashtags", "lookup-none", "stateless", "proctime", "early-discarding", "late-firings"}
	var restarts, dropped, dups, late int64
	defer func() {
		t.Logf("%d seeds: %d task restarts, %d acks lost, %d duplicates dropped, %d late records", *dataflowSeeds, restarts, dropped, dups, late)
		assert.Positive(t, restarts, "no task restarted: the test does not exercise recovery")
		assert.Positive(t, late, "no record was late: the test does not exercise late data")
		assert.Positive(t, dups, "no duplicate was dropped: the test does not exercise deduplication")
	}()
	for seed := range uint64(*dataflowSeeds) {
		r := rand.New(rand.NewPCG(seed, 13))
		name := names[r.IntN(len(names))]
		t.Run(fmt.Sprintf("seed=%d/%s", seed, name), func(t *testing.T) {
			p := dataflowShapes()[name]
			n := 300 + r.IntN(700)
			src := newMemSource(seed, n, 1+r.IntN(3), 40)
			makeLate(src, seed, 0.02, 5*time.Second)
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
			checkDataflowLate(t, p, src, rep)
			late += int64(len(rep.Late))
			assert.Zero(t, rep.Counters["duplicates"], "duplicate panes at the sink")
			assert.Zero(t, rep.Counters["unacked_at_end"], "productions never acknowledged")
			restarts += rep.Counters["task_restarts"]
			dropped += rep.Counters["acks_dropped"]
			dups += rep.Counters["duplicates_dropped"]
		})
	}
}

// TestDataflowCrashedTaskRestartsAlone: a crash restarts the task that took
// in the record and no other (RD2), where exactly-once restarts them all.
func TestDataflowCrashedTaskRestartsAlone(t *testing.T) {
	src := newMemSource(2, 3000, 3, 40)
	p := shapes()["fixed"]
	cfg := Config{Guarantee: Dataflow, Parallelism: 3, BatchSize: 8, QueueBatches: 2, WatermarkEvery: 20, Seed: 2,
		Faults: Faults{CrashAfter: []int64{1000}}, DataflowConfig: DataflowConfig{RetryTimeout: 2 * time.Millisecond}}
	rep, err := Run(t.Context(), p, src, cfg)
	require.NoError(t, err)
	check(t, p, src, rep)
	assert.Equal(t, int64(1), rep.Counters["task_restarts"])
	assert.Equal(t, int64(1), rep.Counters["crashes"])
	restarted := 0
	for i := range 3 {
		restarted += int(rep.Counters[fmt.Sprintf("restarts/window-%d", i)])
	}
	assert.Equal(t, 1, restarted, "window tasks restarted: %v", rep.Counters)
	assert.Zero(t, rep.Counters["restarts/sink-0"], "the sink restarted")
	assert.Positive(t, rep.Counters["recovery_max_us"]+1, "recovery time not reported")
	_, ok := rep.Counters["recovery_p50_us"]
	assert.True(t, ok, "recovery time not reported")
}

// TestDataflowCatalogStaysBounded: over a long run the receivers' id
// catalogs hold the ids in flight, not every id of the stream (millwheel's
// MW2, RD6). The bound holds by construction, whatever the timing. With
// one receiver of a spout's tuples (one window task) and without lost acks,
// a spout's acks come back in the order it sent its tuples (FIFO edges,
// bundles in order), so at the moment a spout computes a watermark's
// GC bound (its oldest unacknowledged tuple) every tuple it sent since that
// one is in the data edge or the receiver's bundle, or its ack is in the
// ack edge: at most 2*(QueueBatches+2)*BatchSize tuples, an edge holding
// at most QueueBatches+2 batches. A receiver's catalog holds the ids from
// the last collected bound on: those, plus the tuples sent after that
// watermark and committed before the next one is collected (at most
// WatermarkEvery+spoutBurst records, one tuple each in these shapes, a
// watermark being due after a burst once WatermarkEvery records were
// read, plus one bundle behind the next watermark). Lost acks make the
// span a matter of time (a lost ack holds the bound back a retry timeout,
// the spout reading on at full speed), and so do several window tasks (the
// spout's bound is its oldest tuple to any of them, while it sends on to
// the others): those are TestDataflowCrashesAndLostAcks's.
func TestDataflowCatalogStaysBounded(t *testing.T) {
	const n, parts, batch, queue, every = 40_000, 2, 32, 4, 100
	perProducer := int64(2*(queue+2)*batch + every + spoutBurst + batch + 1)
	src := newMemSource(4, n, parts, 40)
	for name, receivers := range map[string][]string{"fixed": {"window-0"}, "stateless": {"sink-0"}} {
		t.Run(name, func(t *testing.T) {
			p := shapes()[name]
			cfg := Config{Guarantee: Dataflow, Parallelism: 1, BatchSize: batch, QueueBatches: queue, WatermarkEvery: every, Seed: 4,
				DataflowConfig: DataflowConfig{RetryTimeout: 5 * time.Millisecond}}
			rep, err := Run(t.Context(), p, src, cfg)
			require.NoError(t, err)
			check(t, p, src, rep)
			t.Logf("catalog: at most %d ids, %d at the end, %d collected, of %d lookups; bound %d per receiver", rep.Counters["catalog_ids_max"],
				rep.Counters["catalog_ids"], rep.Counters["catalog_collected"], rep.Counters["dedup_lookups"], parts*perProducer)
			for _, r := range receivers {
				maxIDs, ok := rep.Counters["catalog_ids_max/"+r]
				require.True(t, ok, "no catalog size for %s", r)
				assert.LessOrEqual(t, maxIDs, parts*perProducer, "%s's catalog held more ids than can be in flight (RD6)", r)
			}
			admitted := rep.Counters["dedup_lookups"] - rep.Counters["duplicates_dropped"]
			require.Greater(t, admitted, int64(len(receivers))*parts*perProducer, "too short a run to tell a bounded catalog")
			// No crash aborts a bundle: every id admitted is committed, and
			// stays in its catalog until GC collects it.
			assert.Equal(t, admitted, rep.Counters["catalog_collected"]+rep.Counters["catalog_ids"], "ids committed left the catalogs other than by GC")
		})
	}
}

// TestDataflowRetriesOnTheClock runs lost acks in a synctest bubble: the
// retries happen on the run's clock (a retry timeout after the send), and
// the output is still exact.
func TestDataflowRetriesOnTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const retry = 50 * time.Millisecond
		src := newMemSource(6, 2000, 2, 40)
		p := shapes()["sliding"]
		rep, err := Run(t.Context(), p, src, Config{Guarantee: Dataflow, Parallelism: 2, SampleInterval: -1,
			Faults: Faults{DropAcks: 0.2, Seed: 6}, DataflowConfig: DataflowConfig{RetryTimeout: retry}})
		require.NoError(t, err)
		check(t, p, src, rep)
		require.Positive(t, rep.Counters["acks_dropped"])
		assert.Positive(t, rep.Counters["retries_sent"])
		assert.Positive(t, rep.Counters["duplicates_dropped"], "a retry of a committed record was not dropped")
		// Computing costs no fake time: all of it is waiting for retries,
		// at least one timeout and at most a few rounds of 1.5 timeouts.
		assert.GreaterOrEqual(t, rep.Elapsed, retry)
		assert.Less(t, rep.Elapsed, 40*retry)
	})
}

func TestDataflowConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg   DataflowConfig
		field string
	}{
		{DataflowConfig{RetryTimeout: time.Microsecond}, "RetryTimeout"},
		{DataflowConfig{RetryTimeout: 2 * time.Hour}, "RetryTimeout"},
		{DataflowConfig{BloomBits: -1}, "BloomBits"},
		{DataflowConfig{BloomBits: 1 << 31}, "BloomBits"},
	} {
		cfg := Config{Guarantee: Dataflow, DataflowConfig: c.cfg}
		err := cfg.Validate()
		ce, ok := errors.AsType[*ConfigError](err)
		require.True(t, ok, "Validate(%+v) = %v, want a ConfigError", c.cfg, err)
		assert.Equal(t, c.field, ce.Field)
	}
	g, err := ParseGuarantee("dataflow")
	require.NoError(t, err)
	assert.Equal(t, Dataflow, g)
}
