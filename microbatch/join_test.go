package microbatch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
	"github.com/weirlab/weir/datasets"
)

// Nexmark event types (datasets' nexmark: one flat schema, event_type 0
// person, 1 auction, 2 bid).
func nxType(t int64) dataflow.Step {
	return dataflow.FilterStep{Pred: dataflow.Eq(dataflow.Col("event_type"), dataflow.LitInt(t))}
}

// nxAuctionsBids joins auctions (left: auction_id, category, seller) with
// their bids (right: price, bidder) on the auction id, in windows win.
func nxAuctionsBids(win dataflow.WindowFn, wm time.Duration) *dataflow.Join {
	return &dataflow.Join{
		Left: dataflow.JoinSide{Name: "auction", Steps: []dataflow.Step{nxType(1)}, Key: []string{"auction_id"},
			Cols: []string{"auction_id", "category", "seller"}, TimeCol: "event_time"},
		Right: dataflow.JoinSide{Name: "bid", Steps: []dataflow.Step{nxType(2)}, Key: []string{"auction"},
			Cols: []string{"price", "bidder"}, TimeCol: "event_time"},
		Window:    win,
		Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: wm},
	}
}

// categoryTable names nexmark's categories (10..14), but not 12.
var categoryTable = &dataflow.Table{
	Name:   "categories",
	Schema: dataflow.NewSchema(dataflow.Field{Name: "category", Kind: dataflow.KindInt64}, dataflow.Field{Name: "category_name", Kind: dataflow.KindString}),
	Rows: []dataflow.Row{
		{dataflow.Int(10), dataflow.Str("books")}, {dataflow.Int(11), dataflow.Str("music")},
		{dataflow.Int(13), dataflow.Str("toys")}, {dataflow.Int(14), dataflow.Str("tools")},
	},
}

// joinShapes are the join pipelines the tests run, over nexmark.
func joinShapes(schema dataflow.Schema) map[string]*dataflow.Pipeline {
	m := map[string]*dataflow.Pipeline{}

	// q3-like: persons with the auctions they open in the same window.
	p := dataflow.NewPipeline("persons-auctions", schema)
	p.Join = &dataflow.Join{
		Left: dataflow.JoinSide{Name: "person", Steps: []dataflow.Step{nxType(0)}, Key: []string{"person_id"},
			Cols: []string{"person_id", "name", "state"}, TimeCol: "event_time"},
		Right: dataflow.JoinSide{Name: "auction", Steps: []dataflow.Step{nxType(1), dataflow.LookupStep{Table: categoryTable, On: "category", Key: "category", Cols: []string{"category_name"}}},
			Key: []string{"seller"}, Cols: []string{"auction_id", "category_name"}, TimeCol: "event_time"},
		Window:    dataflow.FixedWindows(10 * time.Second),
		Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: time.Second},
	}
	m["windowed"] = p.Output([]string{"person_id", "auction_id"}, "name", "state", "category_name", "window_start", "join_time")

	// Sliding windows, allowed lateness and join steps: a row accepted
	// after its window fired joins the kept rows at once.
	p = dataflow.NewPipeline("sliding-steps", schema)
	p.Join = nxAuctionsBids(dataflow.SlidingWindows(6*time.Second, 2*time.Second), 500*time.Millisecond)
	p.Join.AllowedLateness = 3 * time.Second
	p.Join.Steps = []dataflow.Step{
		dataflow.FilterStep{Pred: dataflow.Gt(dataflow.Col("price"), dataflow.LitInt(100))},
		dataflow.MapStep{As: "cents", Expr: dataflow.Mul(dataflow.Col("price"), dataflow.LitInt(100))},
		dataflow.LookupStep{Table: categoryTable, On: "category", Key: "category", Cols: []string{"category_name"}},
	}
	m["sliding-steps"] = p.Output([]string{"auction_id", "bidder"}, "cents", "window_start", "window_end", "join_time", "category_name")

	// Incremental: every bid with its auction, whenever either comes.
	p = dataflow.NewPipeline("incremental", schema)
	p.Join = nxAuctionsBids(dataflow.WindowFn{}, time.Second)
	m["incremental"] = p.Output([]string{"auction_id", "bidder"}, "price", "join_time", "category")

	// q4-like: the winning bid per auction and window, then per category
	// the mean winning price, the count and the auction of the best one.
	p = dataflow.NewPipeline("join-agg-then", schema)
	p.Join = nxAuctionsBids(dataflow.FixedWindows(10*time.Second), time.Second)
	p.Aggregate(dataflow.Aggregation{
		Key: []string{"auction_id", "category"}, Window: dataflow.FixedWindows(10 * time.Second), TimeCol: "join_time",
		Aggs: []dataflow.Agg{dataflow.Max("price").Named("final"), dataflow.MaxBy("bidder", "price").Named("winner"), dataflow.Count()},
	})
	p.Then = &dataflow.Regroup{Key: []string{"category"},
		Aggs:   []dataflow.Agg{dataflow.Mean("final"), dataflow.Count().Named("auctions"), dataflow.MaxBy("auction_id", "final").Named("best"), dataflow.Sum("count").Named("bids")},
		Having: dataflow.Gt(dataflow.Col("auctions"), dataflow.LitInt(1))}
	m["join-agg-then"] = p

	// An aggregation after the join over wider windows than the join's,
	// with max-by.
	p = dataflow.NewPipeline("join-agg", schema)
	p.Join = nxAuctionsBids(dataflow.FixedWindows(5*time.Second), time.Second)
	m["join-agg"] = p.Aggregate(dataflow.Aggregation{
		Key: []string{"category"}, Window: dataflow.SlidingWindows(20*time.Second, 10*time.Second), TimeCol: "join_time",
		Aggs: []dataflow.Agg{dataflow.Sum("price"), dataflow.MaxBy("bidder", "price"), dataflow.Count()},
	})
	return m
}

// nexmarkLog is a paced nexmark log with disorder and some late events.
func nexmarkLog(t *testing.T, events int, late float64) *datasets.Log {
	t.Helper()
	cfg := datasets.Config{Events: int64(events), Seed: 3, EventRate: 1000, Partitions: 3,
		Skew: datasets.Skew{Delay: time.Second, OutOfOrder: 0.1, Late: late, LateDelay: 15 * time.Second}}
	l, _ := pacedLog(t, "nexmark", cfg, 1000)
	return l
}

// joinReference is the exact answer without the records the run reported
// late (each dropped whole: every window, LostAbove MaxTime).
func joinReference(t *testing.T, p *dataflow.Pipeline, l *datasets.Log, rep *Report) []dataflow.Result {
	t.Helper()
	for _, r := range rep.Late {
		require.Equal(t, dataflow.MaxTime, r.LostAbove)
	}
	return reference(t, p, l, lateRefs(rep.Late))
}

// checkJoinLate verifies every join side row's fate under the rule of
// dataflow.JoinOperator.IsLateTime at its batch's watermark: dropped (and
// reported) exactly when one of its windows has end + AllowedLateness <=
// the watermark. It returns the number of late rows.
func checkJoinLate(t *testing.T, p *dataflow.Pipeline, l *datasets.Log, rep *Report) int {
	t.Helper()
	batchOf := map[dataflow.RecordRef]int{}
	for i, b := range rep.Batches {
		for _, r := range b.Ranges {
			for off := r.From; off < r.Until; off++ {
				batchOf[dataflow.RecordRef{Partition: r.Partition, Offset: off}] = i
			}
		}
	}
	late := map[dataflow.RecordRef]dataflow.LateRecord{}
	for _, r := range rep.Late {
		late[r.RecordRef] = r
	}
	j := p.Join
	lat := dataflow.Time(dataflow.Millis(j.AllowedLateness))
	n, rows := 0, 0
	var wins []dataflow.Window
	err := dataflow.JoinInput(p, l.All(), func(rec dataflow.Record, side int, tm dataflow.Time, row dataflow.Row) {
		ref := dataflow.RecordRef{Partition: rec.Partition, Offset: rec.Offset}
		b, ok := batchOf[ref]
		require.True(t, ok, "record %v in no batch", ref)
		wm := dataflow.Time(rep.Batches[b].Watermark)
		want := false
		if j.Windowed() {
			wins = j.Window.Assign(wins[:0], tm)
			for _, w := range wins {
				want = want || wm >= w.End+lat
			}
		}
		got, reported := late[ref]
		require.Equal(t, want, reported, "%s row of record %v at %v, batch %d watermark %v: late", j.SideName(side), ref, tm, b, wm)
		if reported {
			require.Equal(t, wm, got.Watermark)
			n++
		}
		rows++
	})
	require.NoError(t, err)
	require.Positive(t, rows)
	return n
}

func TestJoinsMatchReference(t *testing.T) {
	l := nexmarkLog(t, 12_000, 0.005)
	src := datasets.NewArrowSource(l)
	for name, p := range joinShapes(l.Schema()) {
		t.Run(name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			rep, err := Run(context.Background(), p, src, Config{BatchInterval: 200 * time.Millisecond, Allocator: mem, Parallelism: 2})
			require.NoError(t, err)
			require.Greater(t, len(rep.Batches), 10)
			want := joinReference(t, p, l, rep)
			require.NotEmpty(t, want)
			requireSameResults(t, want, rep.Results)
			n := checkJoinLate(t, p, l, rep)
			assert.Equal(t, int64(n), rep.Counters["join_left_late"]+rep.Counters["join_right_late"], "late side rows counted")
			assert.Positive(t, rep.Counters["join_emitted"])
			require.Len(t, rep.Series["join_emitted"], len(rep.Batches))
			var emitted float64
			for _, pt := range rep.Series["join_emitted"] {
				emitted += pt.V
			}
			assert.Equal(t, float64(rep.Counters["join_emitted"]), emitted, "the batches' joined rows add up")
			if held := rep.Series["join_held_rows"]; p.Join.Windowed() {
				assert.Zero(t, held[len(held)-1].V, "the end of the input empties a windowed join's state")
			} else {
				assert.Equal(t, float64(rep.Counters["join_left_rows"]+rep.Counters["join_right_rows"]), held[len(held)-1].V, "an incremental join keeps every row")
			}
			if p.Join.Windowed() {
				assert.Positive(t, n, "late side rows")
			} else {
				assert.Zero(t, n, "an incremental join has no late rows")
			}
			t.Logf("%d results, %d late side rows, %d pairs, %d batches", len(rep.Results), n, rep.Counters["join_emitted"], len(rep.Batches))
		})
	}
}

// A driver crash mid-join restarts from a checkpoint that holds the join's
// state (both sides' kept rows, fired windows, the sides' maxima) and the
// first stage's key rows; the answer is exact.
func TestJoinRecoveryFromCheckpoint(t *testing.T) {
	l := nexmarkLog(t, 8000, 0.005)
	src := datasets.NewArrowSource(l)
	sh := joinShapes(l.Schema())
	for _, name := range []string{"windowed", "sliding-steps", "incremental", "join-agg-then"} {
		t.Run(name, func(t *testing.T) {
			p := sh[name]
			clean, err := Run(context.Background(), p, src, Config{BatchInterval: 200 * time.Millisecond})
			require.NoError(t, err)
			cfg := Config{BatchInterval: 200 * time.Millisecond, CheckpointDir: t.TempDir(), CheckpointEvery: 3,
				Failures: []Failure{{AfterRecords: 2500, Kind: CrashDriver}, {AfterRecords: 3100}, {AfterRecords: 5200, Kind: CrashDriver}}}
			rep, err := Run(context.Background(), p, src, cfg)
			require.NoError(t, err)
			assert.Equal(t, int64(2), rep.Counters["driver_restarts"])
			assert.Equal(t, int64(1), rep.Counters["failed_batches"])
			assert.Positive(t, rep.Counters["checkpoints"])
			requireSameResults(t, joinReference(t, p, l, rep), rep.Results)
			// The recovered run drops the same rows as the clean one: the
			// watermark and the state came back from the checkpoint.
			assert.Equal(t, lateRefs(clean.Late), lateRefs(rep.Late))
			assert.Equal(t, clean.Counters["join_emitted"], rep.Counters["join_emitted"])
		})
	}
}

func TestJoinRefusals(t *testing.T) {
	l := nexmarkLog(t, 500, 0)
	src := datasets.NewArrowSource(l)
	sh := joinShapes(l.Schema())
	cases := []struct {
		name, pipeline string
		cfg            Config
		want           string
	}{
		{"dstream/windowed", "windowed", Config{Mode: ModeDStream}, "window(length, slide).join"},
		{"dstream/incremental", "incremental", Config{Mode: ModeDStream}, "updateStateByKey or mapWithState"},
		{"dstream/then", "join-agg-then", Config{Mode: ModeDStream}, "window(length, slide).join"},
		{"update/then", "join-agg-then", Config{OutputMode: OutputUpdate}, "Append output mode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.BatchInterval = time.Second
			_, err := Run(context.Background(), sh[tc.pipeline], src, tc.cfg)
			var u *dataflow.UnsupportedError
			require.True(t, errors.As(err, &u), "Run = %v, want an UnsupportedError", err)
			assert.Contains(t, u.Reason, tc.want)
		})
	}
	// A regroup without a join in DStream mode: no watermark says when a
	// window's first-stage results are final.
	p := dataflow.NewPipeline("q5", l.Schema()).Filter(dataflow.Eq(dataflow.Col("event_type"), dataflow.LitInt(2))).
		Aggregate(dataflow.Aggregation{Key: []string{"auction"}, Window: dataflow.FixedWindows(2 * time.Second), TimeCol: "event_time", Aggs: []dataflow.Agg{dataflow.Count()}})
	p.Then = &dataflow.Regroup{Aggs: []dataflow.Agg{dataflow.MaxBy("auction", "count")}}
	_, err := Run(context.Background(), p, src, Config{Mode: ModeDStream, BatchInterval: time.Second})
	var u *dataflow.UnsupportedError
	require.True(t, errors.As(err, &u), "Run = %v", err)
	assert.Contains(t, u.Reason, "mapWithState")
}

// Max-by and a regroup without a join (Nexmark q5: the hottest auction per
// sliding window), against the Spark exclusion oracle.
func TestMaxByRegroupWithoutJoin(t *testing.T) {
	l := nexmarkLog(t, 8000, 0.005)
	p := dataflow.NewPipeline("q5", l.Schema()).Filter(dataflow.Eq(dataflow.Col("event_type"), dataflow.LitInt(2))).
		Aggregate(dataflow.Aggregation{Key: []string{"auction"}, Window: dataflow.SlidingWindows(4*time.Second, 2*time.Second), TimeCol: "event_time",
			Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: time.Second},
			Aggs:      []dataflow.Agg{dataflow.Count(), dataflow.MaxBy("bidder", "price").Named("top_bidder")}})
	p.Then = &dataflow.Regroup{Aggs: []dataflow.Agg{dataflow.MaxBy("auction", "count"), dataflow.Max("count"), dataflow.MaxBy("top_bidder", "count")}}
	rep, err := Run(context.Background(), p, datasets.NewArrowSource(l), Config{BatchInterval: 200 * time.Millisecond})
	require.NoError(t, err)
	require.NotEmpty(t, rep.Results)
	// The regroup sees each window's complete first stage; late rows are
	// dropped from their late windows only (Spark's rule), which the
	// exclusion oracle replays per window end.
	requireSparkResults(t, p, l, rep)
}

// The join state store batch by batch (MJ3): pairs fire when the
// watermark passes the window's end, a row within the allowed lateness
// joins the kept rows at once, a row past it is late, and the state is
// dropped at end + lateness. Its checkpoint encoding round-trips.
func TestJoinStateSteps(t *testing.T) {
	p := dataflow.NewPipeline("buy-cart", testSchema)
	p.Join = &dataflow.Join{
		Left:            dataflow.JoinSide{Steps: []dataflow.Step{dataflow.FilterStep{Pred: dataflow.Eq(dataflow.Col("page"), dataflow.LitStr("buy"))}}, Key: []string{"user"}, Cols: []string{"user", "amount"}, TimeCol: "event_time"},
		Right:           dataflow.JoinSide{Steps: []dataflow.Step{dataflow.FilterStep{Pred: dataflow.Eq(dataflow.Col("page"), dataflow.LitStr("cart"))}, dataflow.MapStep{As: "cart_amount", Expr: dataflow.Col("amount")}}, Key: []string{"user"}, Cols: []string{"cart_amount"}, TimeCol: "event_time"},
		Window:          dataflow.FixedWindows(10 * time.Millisecond),
		AllowedLateness: 5 * time.Millisecond,
	}
	p.Output([]string{"user"}, "amount", "cart_amount", "join_time")
	cfg := Config{BatchInterval: time.Second}
	c := cfg.withDefaults()
	pl, err := newPlan(p, &c)
	require.NoError(t, err)
	js := newJoinState(pl.join, 1)
	row := func(side int, off, tm, amount int64) sideRow {
		return sideRow{key: "u1", t: tm, ingest: off, ref: dataflow.RecordRef{Offset: off}, vals: map[int][]dataflow.Value{
			dataflow.JoinLeft: {dataflow.Str("u1"), dataflow.Int(amount)}, dataflow.JoinRight: {dataflow.Int(amount)}}[side]}
	}
	batch := func(seq, wm int64, final bool, rows ...sideRow) (pairs [][2]int64, late []dataflow.LateRecord) {
		var o taskOut
		for _, r := range rows {
			side := dataflow.JoinLeft
			if len(r.vals) == 1 {
				side = dataflow.JoinRight
			}
			o.side[side] = append(o.side[side], r)
		}
		late = js.commit([]*taskOut{&o}, wm, seq, final, nil)
		for _, sh := range js.shards {
			out := sh.out
			for i := range out.n {
				// amount, cart_amount, then window_start, window_end, join_time.
				require.Equal(t, int64(9), out.i64[5][i], "join_time")
				pairs = append(pairs, [2]int64{out.i64[1][i], out.i64[2][i]})
			}
		}
		return pairs, late
	}
	pairs, late := batch(0, math.MinInt64, false, row(0, 0, 1, 10), row(1, 1, 3, 20))
	assert.Empty(t, pairs, "batch 0: the window has not fired")
	assert.Empty(t, late)
	assert.Equal(t, int64(2), js.held())
	pairs, _ = batch(1, 10, false)
	assert.Equal(t, [][2]int64{{10, 20}}, pairs, "batch 1: W = 10 fires [0, 10)")
	pairs, late = batch(2, 12, false, row(1, 2, 5, 30))
	assert.Equal(t, [][2]int64{{10, 30}}, pairs, "batch 2: a right row within the lateness joins at once")
	assert.Empty(t, late)

	// A checkpoint of the state decodes to the same state.
	b := js.appendJoinState(nil)
	js2 := newJoinState(pl.join, 3) // another shard count: cells go to their key's shard
	require.NoError(t, js2.decodeJoinState(wire.NewDecoder(b)))
	assert.Equal(t, b, js2.appendJoinState(nil))
	assert.Equal(t, js.held(), js2.held())
	js = js2

	pairs, late = batch(3, 15, false, row(0, 3, 6, 40))
	assert.Empty(t, pairs)
	require.Len(t, late, 1, "batch 3: W = 15 >= end + lateness: the row is late")
	assert.Equal(t, dataflow.RecordRef{Offset: 3}, late[0].RecordRef)
	assert.Equal(t, dataflow.Time(15), late[0].Watermark)
	assert.Equal(t, "u1", late[0].Key)
	assert.Zero(t, js.held(), "the window's state is dropped at end + lateness")
	rows, lateN, emitted, _, _ := js.stats()
	assert.Equal(t, [2]int64{1, 0}, lateN)
	assert.Equal(t, [2]int64{1, 2}, rows)
	assert.Equal(t, int64(2), emitted)
}

// testJoinShapes are joins over the test log: an explode in a side's
// steps, sliding windows with lateness, an incremental join, and a join
// with an aggregation and a regroup.
func testJoinShapes() map[string]*dataflow.Pipeline {
	page := func(ps ...string) dataflow.Step {
		var set []dataflow.Value
		for _, p := range ps {
			set = append(set, dataflow.Str(p))
		}
		return dataflow.FilterStep{Pred: dataflow.In(dataflow.Col("page"), set...)}
	}
	left := dataflow.JoinSide{Name: "shop", Steps: []dataflow.Step{page("buy", "cart"), dataflow.ExplodeStep{Col: "text", Prefix: "#", As: "tag"}},
		Key: []string{"user"}, Cols: []string{"user", "tag", "amount"}, TimeCol: "event_time"}
	right := dataflow.JoinSide{Name: "home", Steps: []dataflow.Step{page("home"), dataflow.MapStep{As: "home_score", Expr: dataflow.Col("score")}},
		Key: []string{"user"}, Cols: []string{"home_score"}, TimeCol: "event_time"}
	m := map[string]*dataflow.Pipeline{}
	p := dataflow.NewPipeline("explode-sliding", testSchema)
	p.Join = &dataflow.Join{Left: left, Right: right, Window: dataflow.SlidingWindows(3*time.Second, time.Second),
		Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: 500 * time.Millisecond}, AllowedLateness: time.Second}
	m["explode-sliding"] = p.Output([]string{"user", "tag"}, "amount", "home_score", "window_start")

	p = dataflow.NewPipeline("incremental", testSchema)
	p.Join = &dataflow.Join{Left: left, Right: right, Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: 500 * time.Millisecond}}
	m["incremental"] = p.Output([]string{"user", "tag"}, "amount", "home_score", "join_time")

	p = dataflow.NewPipeline("agg-then", testSchema)
	p.Join = &dataflow.Join{Left: left, Right: right, Window: dataflow.FixedWindows(2 * time.Second),
		Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: 500 * time.Millisecond}}
	p.Aggregate(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.SlidingWindows(4*time.Second, 2*time.Second), TimeCol: "join_time",
		Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("amount"), dataflow.MaxBy("tag", "home_score").Named("best_tag"), dataflow.Mean("home_score")}})
	p.Then = &dataflow.Regroup{Aggs: []dataflow.Agg{dataflow.MaxBy("user", "count"), dataflow.Sum("count").Named("pairs"), dataflow.Max("best_tag")}}
	m["agg-then"] = p
	return m
}

// The joins over random logs with much disorder, several batch intervals
// and small record batches, against the reference and the late rule.
func TestJoinSeeds(t *testing.T) {
	for _, seed := range testSeeds() {
		l := testLog(t, seed, 3000, 3, 20_000, 2000)
		src := datasets.NewArrowSource(l)
		for name, p := range testJoinShapes() {
			for _, bi := range []time.Duration{100 * time.Millisecond, time.Second} {
				t.Run(fmt.Sprintf("seed=%d/%s/%v", seed, name, bi), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
					defer mem.AssertSize(t, 0)
					rep, err := Run(context.Background(), p, src, Config{BatchInterval: bi, Allocator: mem, MaxBatchRows: 100, Parallelism: 3})
					require.NoError(t, err)
					want := joinReference(t, p, l, rep)
					require.NotEmpty(t, want)
					requireSameResults(t, want, rep.Results)
					n := checkJoinLate(t, p, l, rep)
					if p.Join.Windowed() && bi < time.Second {
						assert.Positive(t, n, "late side rows")
					}
				})
			}
		}
	}
}

// Receiver mode: the tasks read the blocks received before their batch's
// time; the joins are exact (event-time windows do not depend on arrival).
func TestJoinReceiverMode(t *testing.T) {
	for name, p := range testJoinShapes() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := liveLog(t)
				mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
				go fillPaced(t.Context(), t, l, 10, 5*time.Second)
				rep, err := Run(t.Context(), p, datasets.NewArrowSource(l), Config{Receiver: true, BlockInterval: 200 * time.Millisecond, BatchInterval: time.Second, Allocator: mem})
				require.NoError(t, err)
				assert.Greater(t, len(rep.Batches), 4)
				assert.Equal(t, l.Len(), rep.Events)
				want := joinReference(t, p, l, rep)
				require.NotEmpty(t, want)
				requireSameResults(t, want, rep.Results)
				mem.AssertSize(t, 0)
			})
		})
	}
}

// Max-by cells: the greatest By wins, ties go to the least Col, a row with
// a null By is skipped, floats order totally (NaN least); merging partial
// cells in either order gives the same answer.
func TestMaxByCells(t *testing.T) {
	schema := dataflow.NewSchema(dataflow.Field{Name: "col", Kind: dataflow.KindString}, dataflow.Field{Name: "by", Kind: dataflow.KindFloat64})
	specs := []aggSpec{newAggSpec(dataflow.MaxBy("col", "by"), schema)}
	require.Equal(t, modeMaxBy, specs[0].mode)
	nan := dataflow.Float(math.NaN())
	fold := func(rows ...[2]dataflow.Value) *cellSet {
		cs := newCellSet(specs)
		c := cs.add(dataflow.Window{}, 0, "k")
		f := newRowFrame(schema)
		var idx, cells []int32
		for _, r := range rows {
			idx, cells = append(idx, int32(f.n)), append(cells, c)
			f.put(0, r[0])
			f.put(1, r[1])
			f.endRow(0, 0)
		}
		vs := f.vecs(nil)
		if len(rows) > 0 && rows[0][1].IsNull() {
			vs[1] = vec{kind: dataflow.KindFloat64, isConst: true}
		}
		cs.update(idx, cells, vs, make([]int64, len(rows)), make([]int64, len(rows)), false)
		return cs
	}
	a := fold([2]dataflow.Value{dataflow.Str("x"), dataflow.Float(2)}, [2]dataflow.Value{dataflow.Str("b"), nan}, [2]dataflow.Value{dataflow.Str("y"), dataflow.Float(3)})
	assert.Equal(t, dataflow.Str("y"), a.value(0, 0), "the greatest By")
	b := fold([2]dataflow.Value{dataflow.Str("w"), dataflow.Float(3)}, [2]dataflow.Value{dataflow.Str("z"), dataflow.Float(1)})
	assert.Equal(t, dataflow.Str("w"), b.value(0, 0))
	ab, ba := fold(), fold()
	ab.merge(0, a, 0)
	ab.merge(0, b, 0)
	ba.merge(0, b, 0)
	ba.merge(0, a, 0)
	assert.Equal(t, dataflow.Str("w"), ab.value(0, 0), "a tie in By goes to the least Col")
	assert.Equal(t, ab.value(0, 0), ba.value(0, 0), "merge order")
	onlyNaN := fold([2]dataflow.Value{dataflow.Str("n"), nan}, [2]dataflow.Value{dataflow.Str("m"), nan})
	assert.Equal(t, dataflow.Str("m"), onlyNaN.value(0, 0), "NaN orders equal to itself: the least Col")
	null := fold([2]dataflow.Value{dataflow.Str("q"), {}})
	assert.True(t, null.value(0, 0).IsNull(), "a null By is skipped: null over no rows")
}
