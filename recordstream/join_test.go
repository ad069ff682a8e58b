package recordstream

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// nxTestSchema is a subset of datasets' nexmark schema, under the same
// column names: persons, auctions and bids share one log, told apart by
// event_type (0, 1, 2).
var nxTestSchema = dataflow.NewSchema(
	dataflow.Field{Name: "event_type", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	dataflow.Field{Name: "person_id", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "name", Kind: dataflow.KindString},
	dataflow.Field{Name: "auction_id", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "seller", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "category", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "auction", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "bidder", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "price", Kind: dataflow.KindInt64},
)

// newNexmarkSource makes n nexmark-like events the way datasets' nexmark
// generator does (recordstream's tests must not import datasets): event n
// is a person, an auction or a bid by n%50 (1:3:46); person and auction ids
// follow the event number from 1000; an auction's seller and a bid's
// bidder are recent persons, a bid's auction a recent auction (half of
// them hot: the first of the latest block of 10); events are 2 ms apart in
// event time with jitter up to jitterMs, and partitioned round robin.
func newNexmarkSource(seed uint64, n, partitions int, jitterMs int64) *memSource {
	rng := rand.New(rand.NewPCG(seed, 13))
	m := &memSource{schema: nxTestSchema, parts: make([][]dataflow.Record, partitions)}
	names := []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie"}
	persons, auctions := int64(0), int64(0)
	recent := func(k int64) int64 { return max(0, k-1-rng.Int64N(min(k, 20)+1)) }
	for i := range n {
		et := int64(testBaseTime + i*2)
		if jitterMs > 0 {
			et += rng.Int64N(2*jitterMs+1) - jitterMs
		}
		row := zeroRow(nxTestSchema)
		row[1] = dataflow.Timestamp(dataflow.Time(et))
		switch off := i % 50; {
		case off < 1:
			row[0] = dataflow.Int(0)
			row[2] = dataflow.Int(1000 + persons)
			row[3] = dataflow.Str(names[rng.IntN(len(names))])
			persons++
		case off < 4:
			row[0] = dataflow.Int(1)
			row[4] = dataflow.Int(1000 + auctions)
			row[5] = dataflow.Int(1000 + recent(persons))
			row[6] = dataflow.Int(10 + rng.Int64N(5))
			auctions++
		default:
			row[0] = dataflow.Int(2)
			a := recent(auctions)
			if rng.IntN(2) == 0 {
				a = max(0, auctions-1) / 10 * 10
			}
			row[7] = dataflow.Int(1000 + a)
			row[8] = dataflow.Int(1000 + recent(persons))
			row[9] = dataflow.Int(100 + rng.Int64N(10_000))
		}
		p := i % partitions
		off := int64(len(m.parts[p]))
		m.parts[p] = append(m.parts[p], dataflow.Record{Row: row, Partition: p, Offset: off,
			IngestNanos: (testBaseTime + int64(i)) * 1e6})
	}
	return m
}

func eventType(t int64) dataflow.Step {
	return dataflow.FilterStep{Pred: dataflow.Eq(dataflow.Col("event_type"), dataflow.LitInt(t))}
}

// auctionBidJoin joins auctions (left) with their bids (right) on the
// auction id, as Nexmark's q4 and q6 do.
func auctionBidJoin(win dataflow.WindowFn) *dataflow.Join {
	return &dataflow.Join{
		Left: dataflow.JoinSide{Name: "auction", Steps: []dataflow.Step{eventType(1)}, Key: []string{"auction_id"},
			Cols: []string{"auction_id", "category", "seller"}, TimeCol: "event_time"},
		Right: dataflow.JoinSide{Name: "bid", Steps: []dataflow.Step{eventType(2)}, Key: []string{"auction"},
			Cols: []string{"price", "bidder"}, TimeCol: "event_time"},
		Window:    win,
		Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: 30 * time.Millisecond},
	}
}

// joinShapes are the join pipelines every supported guarantee must get
// right: a windowed join (q8's shape over auctions and bids, with
// Join.Steps), an incremental join (q3's persons and their auctions) and a
// join, an aggregation with max-by, and a regroup (q4: the winning bid per
// auction, then per category).
func joinShapes() map[string]*dataflow.Pipeline {
	windowed := auctionBidJoin(dataflow.FixedWindows(200 * time.Millisecond))
	windowed.AllowedLateness = 40 * time.Millisecond
	windowed.Steps = []dataflow.Step{
		dataflow.FilterStep{Pred: dataflow.Gt(dataflow.Col("price"), dataflow.LitInt(2000))},
		dataflow.MapStep{As: "cents", Expr: dataflow.Mul(dataflow.Col("price"), dataflow.LitInt(100))},
	}
	pw := dataflow.NewPipeline("join-windowed", nxTestSchema)
	pw.Join = windowed
	pw.Output([]string{"auction_id"}, "cents", "bidder", "window_start", "join_time")

	pi := dataflow.NewPipeline("join-incremental", nxTestSchema)
	pi.Join = &dataflow.Join{
		Left: dataflow.JoinSide{Name: "person", Steps: []dataflow.Step{eventType(0)}, Key: []string{"person_id"},
			Cols: []string{"person_id", "name"}, TimeCol: "event_time"},
		Right: dataflow.JoinSide{Name: "auction", Steps: []dataflow.Step{eventType(1)}, Key: []string{"seller"},
			Cols: []string{"auction_id", "category"}, TimeCol: "event_time"},
	}
	pi.Output([]string{"person_id"}, "auction_id", "name", "category", "join_time")

	pq := dataflow.NewPipeline("join-agg-then", nxTestSchema)
	pq.Join = auctionBidJoin(dataflow.FixedWindows(100 * time.Millisecond))
	pq.Aggregate(dataflow.Aggregation{Key: []string{"auction_id", "category"}, Window: dataflow.FixedWindows(300 * time.Millisecond),
		TimeCol: dataflow.JoinTimeCol, Aggs: []dataflow.Agg{dataflow.Max("price"), dataflow.MaxBy("bidder", "price").Named("winner"), dataflow.Count()}})
	pq.Then = &dataflow.Regroup{Key: []string{"category"}, Aggs: []dataflow.Agg{dataflow.Mean("max_price"), dataflow.Count(), dataflow.Max("winner")}}
	return map[string]*dataflow.Pipeline{"windowed": pw, "incremental": pi, "agg-then": pq}
}

func TestJoinMatchesReference(t *testing.T) {
	src := newNexmarkSource(1, 6000, 3, 20)
	for name, p := range joinShapes() {
		require.NoError(t, p.Validate(), name)
		for _, g := range []Guarantee{AtMostOnce, AtLeastOnce, ExactlyOnce} {
			for _, par := range []int{1, 3} {
				t.Run(fmt.Sprintf("%s/%v/p=%d", name, g, par), func(t *testing.T) {
					cfg := Config{Guarantee: g, Parallelism: par, Ackers: 2, BatchSize: 16, QueueBatches: 4, WatermarkEvery: 50, Seed: 3}
					var rep *Report
					var err error
					if g == ExactlyOnce {
						cp := CheckpointConfig{CheckpointInterval: 2 * time.Millisecond, CheckpointDir: t.TempDir(), Unaligned: par == 3}
						rep, err = runExactlyOnce(t.Context(), p, src, cfg, cp)
					} else {
						rep, err = Run(t.Context(), p, src, cfg)
					}
					require.NoError(t, err)
					require.NotEmpty(t, rep.Results, "the pipeline has output")
					check(t, p, src, rep)
					t.Logf("%d results, %d joined rows, %d late side rows", len(rep.Results), rep.Counters["joined"], len(rep.Late))
					assert.Positive(t, rep.Counters["joined"], "joined rows")
					if g == AtLeastOnce {
						assert.Zero(t, rep.Counters["failed"]+rep.Counters["timed_out"], "no faults, no failures")
						assert.Positive(t, rep.Counters["acked"], "trees acked through the join")
					}
					if g == ExactlyOnce {
						assert.Zero(t, rep.Counters["duplicates"])
					}
				})
			}
		}
	}
}

// TestJoinReportsLateSideRows gives the join side rows far more disorder
// than its watermark allows: late side rows are dropped, reported with
// their join key, and the answer is the reference's without them.
func TestJoinReportsLateSideRows(t *testing.T) {
	src := newNexmarkSource(2, 6000, 2, 300)
	for _, name := range []string{"windowed", "agg-then"} {
		for _, g := range []Guarantee{AtMostOnce, AtLeastOnce} {
			t.Run(fmt.Sprintf("%s/%v", name, g), func(t *testing.T) {
				p := joinShapes()[name]
				rep, err := Run(t.Context(), p, src, Config{Guarantee: g, Parallelism: 2, BatchSize: 8, WatermarkEvery: 10})
				require.NoError(t, err)
				require.NotEmpty(t, rep.Late, "side rows beyond the 30 ms bound must be late")
				for _, l := range rep.Late {
					assert.NotEqual(t, dataflow.MaxTime, l.Watermark, "a late row of the running input, not after the end")
				}
				check(t, p, src, rep)
			})
		}
	}
}

// TestJoinExactlyOnceCrashes crashes the join task that takes in the N-th
// side row, once or several times, in each join pipeline: the restored
// topology (join, window and regroup state from the checkpoint) gives the
// exact answer with no duplicate.
func TestJoinExactlyOnceCrashes(t *testing.T) {
	var restored int64
	defer func() {
		assert.Positive(t, restored, "no restart restored a checkpoint: the test does not exercise restore")
	}()
	names := []string{"windowed", "incremental", "agg-then"}
	for seed := range uint64(9) {
		r := rand.New(rand.NewPCG(seed, 17))
		name := names[seed%3]
		t.Run(fmt.Sprintf("seed=%d/%s", seed, name), func(t *testing.T) {
			p := joinShapes()[name]
			n := 3000 + r.IntN(2000)
			src := newNexmarkSource(seed, n, 1+r.IntN(3), 20)
			// The crash points count side rows taken in by the join tasks
			// (the incremental join's sides, persons and auctions, are 4
			// events in 50; the others' 49), past the first third so that
			// checkpoints have completed.
			sideRows := int64(n) * 49 / 50
			if name == "incremental" {
				sideRows = int64(n) * 4 / 50
			}
			var crashes []int64
			for range 1 + r.IntN(2) {
				crashes = append(crashes, sideRows/3+r.Int64N(sideRows/2))
			}
			cfg := Config{Guarantee: ExactlyOnce, Parallelism: 1 + r.IntN(3), BatchSize: 8, QueueBatches: 2, WatermarkEvery: 20,
				Seed: seed, Faults: Faults{CrashAfter: crashes, Slow: 20 * time.Microsecond}}
			cp := CheckpointConfig{CheckpointInterval: time.Duration(1+r.IntN(3)) * time.Millisecond, CheckpointDir: t.TempDir(),
				Unaligned: r.IntN(2) == 0}
			rep, err := runExactlyOnce(t.Context(), p, src, cfg, cp)
			require.NoError(t, err)
			check(t, p, src, rep)
			assert.Zero(t, rep.Counters["duplicates"], "duplicate panes a reader saw")
			assert.Positive(t, rep.Counters["restarts"], "the crash restarted the topology")
			restored += rep.Counters["restored_checkpoints"]
		})
	}
}

// TestJoinRefusals: the modes that do not run joins or regroups refuse
// them as a model's limit (the CLI's exit 3), and so do Storm's modes for
// crash injection into a join.
func TestJoinRefusals(t *testing.T) {
	src := newNexmarkSource(3, 500, 2, 0)
	for _, name := range []string{"windowed", "agg-then"} {
		p := joinShapes()[name]
		for _, cfg := range []Config{
			{Guarantee: Trident},
			{Guarantee: Dataflow},
			{Guarantee: AtLeastOnce, Faults: Faults{CrashAfter: []int64{10}}},
			{Guarantee: AtMostOnce, Faults: Faults{CrashAfter: []int64{10}}},
		} {
			_, err := Run(t.Context(), p, src, cfg)
			var u *dataflow.UnsupportedError
			require.True(t, errors.As(err, &u), "%s %v: want an UnsupportedError, got %v", name, cfg.Guarantee, err)
			assert.Contains(t, u.Model, cfg.Guarantee.String())
		}
	}
	// A regroup without a join is refused by Trident and Dataflow too, and
	// with crashes by Storm's modes.
	p := dataflow.NewPipeline("then", testSchema).Aggregate(dataflow.Aggregation{Key: []string{"user", "cat"},
		Window: dataflow.FixedWindows(time.Second), TimeCol: "event_time", Aggs: []dataflow.Agg{dataflow.Sum("v")}})
	p.Then = &dataflow.Regroup{Key: []string{"cat"}, Aggs: []dataflow.Agg{dataflow.Max("sum_v")}}
	for _, cfg := range []Config{{Guarantee: Trident}, {Guarantee: Dataflow}, {Guarantee: AtLeastOnce, Faults: Faults{CrashAfter: []int64{10}}}} {
		_, err := Run(t.Context(), p, newMemSource(1, 100, 1, 0), cfg)
		var u *dataflow.UnsupportedError
		require.ErrorAs(t, err, &u, "%v", cfg.Guarantee)
	}
}

// TestRegroupWithoutJoin runs a regroup after a plain windowed
// aggregation (max-by in the first stage) on every guarantee that runs it.
func TestRegroupWithoutJoin(t *testing.T) {
	src := newMemSource(4, 3000, 3, 40)
	p := dataflow.NewPipeline("then", testSchema).Aggregate(dataflow.Aggregation{Key: []string{"user", "cat"},
		Window: dataflow.FixedWindows(time.Second), TimeCol: "event_time", Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: 50 * time.Millisecond},
		Aggs: []dataflow.Agg{dataflow.Sum("v"), dataflow.MaxBy("user", "f").Named("top")}})
	p.Then = &dataflow.Regroup{Key: []string{"cat"}, Aggs: []dataflow.Agg{dataflow.Max("sum_v"), dataflow.Count(), dataflow.Min("top")}}
	require.NoError(t, p.Validate())
	for _, g := range []Guarantee{AtMostOnce, AtLeastOnce, ExactlyOnce} {
		t.Run(g.String(), func(t *testing.T) {
			cfg := Config{Guarantee: g, Parallelism: 2, BatchSize: 16, WatermarkEvery: 50}
			if g == ExactlyOnce {
				// A window task crashes: the topology restarts from a
				// checkpoint, the sink's regroup state with it.
				cfg.Faults = Faults{CrashAfter: []int64{700, 1900}, Slow: 10 * time.Microsecond}
			}
			var rep *Report
			var err error
			if g == ExactlyOnce {
				rep, err = runExactlyOnce(t.Context(), p, src, cfg, CheckpointConfig{CheckpointInterval: 2 * time.Millisecond, CheckpointDir: t.TempDir()})
			} else {
				rep, err = Run(t.Context(), p, src, cfg)
			}
			require.NoError(t, err)
			require.NotEmpty(t, rep.Results)
			check(t, p, src, rep)
			if g == ExactlyOnce {
				assert.Positive(t, rep.Counters["restarts"], "the crash restarted the topology")
			}
		})
	}
}

// TestJoinSideMissingFromAPartition: over 2 partitions every person lands
// in partition 0 (event n is a person when n%50 == 0), so partition 1 never
// advances the person side's watermark. Without an idle timeout the join's
// windows fire at the end of the input; with one, partition 1's person
// input is skipped once idle. Both give the reference's answer.
func TestJoinSideMissingFromAPartition(t *testing.T) {
	src := newNexmarkSource(5, 4000, 2, 10)
	require.Zero(t, countWhere(src.parts[1], 0), "no person in partition 1")
	for _, idle := range []time.Duration{0, time.Millisecond} {
		t.Run(fmt.Sprintf("idle=%v", idle), func(t *testing.T) {
			p := dataflow.NewPipeline("persons-auctions", nxTestSchema)
			p.Join = &dataflow.Join{
				Left: dataflow.JoinSide{Name: "person", Steps: []dataflow.Step{eventType(0)}, Key: []string{"person_id"},
					Cols: []string{"person_id", "name"}, TimeCol: "event_time"},
				Right: dataflow.JoinSide{Name: "auction", Steps: []dataflow.Step{eventType(1)}, Key: []string{"seller"},
					Cols: []string{"auction_id"}, TimeCol: "event_time"},
				Window:    dataflow.FixedWindows(500 * time.Millisecond),
				Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: 20 * time.Millisecond, IdleTimeout: idle},
			}
			p.Output([]string{"person_id"}, "auction_id", "name", "window_start")
			for _, g := range []Guarantee{AtMostOnce, AtLeastOnce} {
				rep, err := Run(t.Context(), p, src, Config{Guarantee: g, Parallelism: 2, BatchSize: 8, WatermarkEvery: 20})
				require.NoError(t, err)
				require.NotEmpty(t, rep.Results)
				check(t, p, src, rep)
			}
		})
	}
}

// countWhere counts the records of event type et.
func countWhere(rs []dataflow.Record, et int64) int {
	n := 0
	for _, r := range rs {
		if r.Row[0].I == et {
			n++
		}
	}
	return n
}

// colMemSource is a memSource that reads only the columns asked for
// ([ColumnReader]), leaving the others as they were, as datasets.Log does:
// a column the spout's read plan prunes but the pipeline needs shows as a
// wrong answer.
type colMemSource struct {
	*memSource
	reads atomic.Int64 // column values read (by every spout)
}

func (c *colMemSource) ReadColumns(p int, off int64, cols []int, dst dataflow.Row) (dataflow.Row, int64) {
	r := c.parts[p][off]
	if len(dst) < len(r.Row) {
		dst = zeroRow(c.schema)
	}
	for _, i := range cols {
		dst[i] = r.Row[i]
	}
	c.reads.Add(int64(len(cols)))
	return dst, r.IngestNanos
}

// TestJoinPrunedReads runs the join pipelines over a source that reads
// columns: the spouts read only the columns the shared steps, the sides,
// the join's steps and the aggregation or output use (RP1), and the answer
// is the reference's.
func TestJoinPrunedReads(t *testing.T) {
	for name, p := range joinShapes() {
		t.Run(name, func(t *testing.T) {
			src := &colMemSource{memSource: newNexmarkSource(6, 3000, 2, 10)}
			plan, err := newReadPlan(p, src)
			require.NoError(t, err)
			require.NotNil(t, plan, "the join pipelines use fewer than all columns")
			rep, err := Run(t.Context(), p, src, Config{Parallelism: 2, BatchSize: 16, WatermarkEvery: 50})
			require.NoError(t, err)
			check(t, p, src.memSource, rep)
			assert.Less(t, src.reads.Load(), int64(3000*nxTestSchema.Len()), "fewer column values read than the records hold")
		})
	}
}
