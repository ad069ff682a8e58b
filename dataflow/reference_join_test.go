package dataflow_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// nxSchema is a small Nexmark-like log: persons, auctions and bids share
// it, told apart by kind.
var nxSchema = dataflow.NewSchema(
	dataflow.Field{Name: "kind", Kind: dataflow.KindString},
	dataflow.Field{Name: "id", Kind: dataflow.KindInt64},       // auction id (kind a)
	dataflow.Field{Name: "auction", Kind: dataflow.KindInt64},  // bid's auction (kind b)
	dataflow.Field{Name: "price", Kind: dataflow.KindInt64},    // bid price
	dataflow.Field{Name: "category", Kind: dataflow.KindInt64}, // auction category
	dataflow.Field{Name: "t", Kind: dataflow.KindTimestamp},
)

func auction(id, category, t int64) dataflow.Row {
	return dataflow.Row{dataflow.Str("a"), dataflow.Int(id), dataflow.Int(0), dataflow.Int(0), dataflow.Int(category), ts(t)}
}

func bid(auc, price, t int64) dataflow.Row {
	return dataflow.Row{dataflow.Str("b"), dataflow.Int(0), dataflow.Int(auc), dataflow.Int(price), dataflow.Int(0), ts(t)}
}

// nxJoin joins auctions (left: id, category, a_t) with their bids (right:
// price, b_t) on the auction id.
func nxJoin(win dataflow.WindowFn) *dataflow.Join {
	return &dataflow.Join{
		Left: dataflow.JoinSide{
			Name:    "auction",
			Steps:   []dataflow.Step{dataflow.FilterStep{Pred: dataflow.Eq(dataflow.Col("kind"), dataflow.LitStr("a"))}, dataflow.MapStep{As: "a_t", Expr: dataflow.Col("t")}},
			Key:     []string{"id"},
			Cols:    []string{"id", "category", "a_t"},
			TimeCol: "t",
		},
		Right: dataflow.JoinSide{
			Name:    "bid",
			Steps:   []dataflow.Step{dataflow.FilterStep{Pred: dataflow.Eq(dataflow.Col("kind"), dataflow.LitStr("b"))}, dataflow.MapStep{As: "b_t", Expr: dataflow.Col("t")}},
			Key:     []string{"auction"},
			Cols:    []string{"price", "b_t"},
			TimeCol: "t",
		},
		Window: win,
	}
}

func joinPipeline(j *dataflow.Join) *dataflow.Pipeline {
	p := dataflow.NewPipeline("join", nxSchema)
	p.Join = j
	return p
}

func emitRes(key string, v dataflow.Value, extra ...dataflow.Value) dataflow.Result {
	return dataflow.Result{Key: key, Value: v, Extra: extra}
}

func mustReference(t *testing.T, p *dataflow.Pipeline, rs []dataflow.Record, opts dataflow.ReferenceOptions) []dataflow.Result {
	t.Helper()
	got, err := dataflow.Reference(p, sliceSeq(rs), opts)
	require.NoError(t, err)
	return got
}

func TestReferenceWindowedJoinFixed(t *testing.T) {
	p := joinPipeline(nxJoin(dataflow.FixedWindows(10*time.Millisecond))).
		Output([]string{"id"}, "price", "window_start", "window_end", "join_time")
	in := recs(
		auction(1, 7, 1),
		bid(1, 5, 3),
		bid(1, 7, 11), // a later window than auction 1: no pair
		auction(2, 8, 12),
		bid(2, 9, 19),
		bid(2, 4, 20), // window [20, 30): no pair
		bid(3, 1, 2),  // no auction 3
	)
	got := mustReference(t, p, in, dataflow.ReferenceOptions{})
	assert.Equal(t, []dataflow.Result{
		emitRes("1", dataflow.Int(5), ts(0), ts(10), ts(9)),
		emitRes("2", dataflow.Int(9), ts(10), ts(20), ts(19)),
	}, got)
}

func TestReferenceWindowedJoinSliding(t *testing.T) {
	// Windows of 10 ms every 5: auction 1 at t=1 is in [-5,5) and [0,10);
	// the bid at t=3 shares both (two pairs), the bid at t=7 only [0,10).
	p := joinPipeline(nxJoin(dataflow.SlidingWindows(10*time.Millisecond, 5*time.Millisecond))).
		Output([]string{"id"}, "price", "window_start")
	in := recs(auction(1, 7, 1), bid(1, 5, 3), bid(1, 6, 7), bid(1, 8, 12))
	got := mustReference(t, p, in, dataflow.ReferenceOptions{})
	assert.Equal(t, []dataflow.Result{
		emitRes("1", dataflow.Int(5), ts(-5)),
		emitRes("1", dataflow.Int(5), ts(0)),
		emitRes("1", dataflow.Int(6), ts(0)),
	}, got)
}

func TestReferenceIncrementalJoin(t *testing.T) {
	p := joinPipeline(nxJoin(dataflow.WindowFn{})).Output([]string{"id"}, "price", "join_time")
	in := recs(
		bid(2, 9, 0), // before its auction: joins when the auction comes
		auction(1, 7, 1),
		bid(1, 5, 3),
		auction(2, 8, 50),
		bid(1, 6, 100),
	)
	got := mustReference(t, p, in, dataflow.ReferenceOptions{})
	assert.Equal(t, []dataflow.Result{
		emitRes("1", dataflow.Int(5), ts(3)),
		emitRes("1", dataflow.Int(6), ts(100)),
		emitRes("2", dataflow.Int(9), ts(50)),
	}, got)
}

func TestReferenceJoinSteps(t *testing.T) {
	j := nxJoin(dataflow.WindowFn{})
	j.Steps = []dataflow.Step{
		dataflow.FilterStep{Pred: dataflow.Gt(dataflow.Col("price"), dataflow.LitInt(5))},
		dataflow.MapStep{As: "double", Expr: dataflow.Mul(dataflow.Col("price"), dataflow.LitInt(2))},
	}
	p := joinPipeline(j).Output([]string{"category"}, "double")
	in := recs(auction(1, 7, 1), bid(1, 5, 3), bid(1, 6, 4), bid(1, 10, 5))
	got := mustReference(t, p, in, dataflow.ReferenceOptions{})
	assert.Equal(t, []dataflow.Result{
		emitRes("7", dataflow.Int(12)),
		emitRes("7", dataflow.Int(20)),
	}, got)
}

func TestReferenceAggAfterJoin(t *testing.T) {
	// The joined rows of window [0,10) have join_time 9; an aggregation of
	// 20 ms windows on join_time puts windows [0,10) and [10,20) together.
	p := joinPipeline(nxJoin(dataflow.FixedWindows(10 * time.Millisecond))).Aggregate(dataflow.Aggregation{
		Key:     []string{"category"},
		Window:  dataflow.FixedWindows(20 * time.Millisecond),
		TimeCol: "join_time",
		Aggs:    []dataflow.Agg{dataflow.Sum("price"), dataflow.MaxBy("id", "price"), dataflow.Count()},
	})
	in := recs(
		auction(1, 7, 1), bid(1, 5, 3), bid(1, 9, 4),
		auction(2, 7, 12), bid(2, 9, 13), // ties auction 1's 9: the least id wins
		auction(3, 8, 25), bid(3, 2, 29),
	)
	got := mustReference(t, p, in, dataflow.ReferenceOptions{})
	assert.Equal(t, []dataflow.Result{
		res(0, 20, "7", dataflow.Int(23), dataflow.Int(1), dataflow.Int(3)),
		res(20, 40, "8", dataflow.Int(2), dataflow.Int(3), dataflow.Int(1)),
	}, got)
}

func TestReferenceRegroupQ4(t *testing.T) {
	// q4: the winning (max) bid per auction, then the mean per category.
	p := joinPipeline(nxJoin(dataflow.FixedWindows(10 * time.Millisecond))).Aggregate(dataflow.Aggregation{
		Key:     []string{"id", "category"},
		Window:  dataflow.FixedWindows(10 * time.Millisecond),
		TimeCol: "join_time",
		Aggs:    []dataflow.Agg{dataflow.Max("price").Named("final")},
	})
	p.Then = &dataflow.Regroup{Key: []string{"category"}, Aggs: []dataflow.Agg{dataflow.Mean("final"), dataflow.Count()}}
	in := recs(
		auction(1, 7, 1), bid(1, 5, 3), bid(1, 9, 4),
		auction(2, 7, 2), bid(2, 4, 5),
		auction(3, 8, 3), bid(3, 2, 6),
		auction(4, 7, 12), bid(4, 10, 13),
	)
	got := mustReference(t, p, in, dataflow.ReferenceOptions{})
	assert.Equal(t, []dataflow.Result{
		res(0, 10, "7", dataflow.Float(6.5), dataflow.Int(2)),
		res(0, 10, "8", dataflow.Float(2), dataflow.Int(1)),
		res(10, 20, "7", dataflow.Float(10), dataflow.Int(1)),
	}, got)
}

func TestReferenceRegroupQ5(t *testing.T) {
	// q5: bids per auction per sliding window, then the hottest auction of
	// each window (ties: the least auction) and its count.
	p := dataflow.NewPipeline("q5", nxSchema).
		Filter(dataflow.Eq(dataflow.Col("kind"), dataflow.LitStr("b"))).
		Aggregate(dataflow.Aggregation{
			Key:     []string{"auction"},
			Window:  dataflow.SlidingWindows(10*time.Millisecond, 5*time.Millisecond),
			TimeCol: "t",
			Aggs:    []dataflow.Agg{dataflow.Count()},
		})
	p.Then = &dataflow.Regroup{Aggs: []dataflow.Agg{dataflow.MaxBy("auction", "count"), dataflow.Max("count")},
		Having: dataflow.Gt(dataflow.Col("max_count"), dataflow.LitInt(1))}
	in := recs(bid(1, 1, 1), bid(2, 1, 2), bid(2, 1, 3), bid(1, 1, 6), bid(1, 1, 7), bid(3, 1, 12))
	got := mustReference(t, p, in, dataflow.ReferenceOptions{})
	// [-5,5): 1x1, 2x2 -> 2. [0,10): 1x3, 2x2 -> 1. [5,15): 1x2, 3x1 -> 1.
	// [10,20): 3x1, filtered by Having.
	assert.Equal(t, []dataflow.Result{
		res(-5, 5, "", dataflow.Int(2), dataflow.Int(2)),
		res(0, 10, "", dataflow.Int(1), dataflow.Int(3)),
		res(5, 15, "", dataflow.Int(1), dataflow.Int(2)),
	}, got)
}

func TestReferenceJoinExclusions(t *testing.T) {
	p := joinPipeline(nxJoin(dataflow.SlidingWindows(10*time.Millisecond, 5*time.Millisecond))).
		Output([]string{"id"}, "price", "window_start")
	in := recs(auction(1, 7, 1), bid(1, 5, 3), auction(2, 7, 2), bid(2, 6, 4))
	// Leave out auction 2 (offset 2) whole, and bid 1 (offset 1) out of the
	// windows ending at or before 5: [-5,5).
	opts := dataflow.ReferenceOptions{
		Exclude: func(_ int, off int64) bool { return off == 2 },
		ExcludeWindows: func(_ int, off int64, key string) (dataflow.Time, dataflow.Time, bool) {
			if off == 1 {
				assert.Equal(t, "1", key, "a side row's exclusion key is its join key")
				return dataflow.MinTime, 5, true
			}
			return 0, 0, false
		},
	}
	got := mustReference(t, p, in, opts)
	assert.Equal(t, []dataflow.Result{emitRes("1", dataflow.Int(5), ts(0))}, got)

	// The left side too, whole: auction 1 gone, nothing joins.
	opts.ExcludeWindows = func(_ int, off int64, _ string) (dataflow.Time, dataflow.Time, bool) {
		return dataflow.MinTime, dataflow.MaxTime, off == 0
	}
	assert.Empty(t, mustReference(t, p, in, opts))

	// An incremental join leaves an excluded side row out whole.
	pi := joinPipeline(nxJoin(dataflow.WindowFn{})).Output([]string{"id"}, "price")
	opts.ExcludeWindows = func(_ int, off int64, _ string) (dataflow.Time, dataflow.Time, bool) {
		return 100, 200, off == 3
	}
	assert.Equal(t, []dataflow.Result{emitRes("1", dataflow.Int(5))}, mustReference(t, pi, in, opts))
}

func TestJoinInput(t *testing.T) {
	p := joinPipeline(nxJoin(dataflow.WindowFn{})).Output([]string{"id"}, "price")
	in := recs(auction(1, 7, 1), bid(1, 5, 3), bid(2, 6, 4))
	type seen struct {
		off  int64
		side int
		t    dataflow.Time
		n    int
	}
	var got []seen
	require.NoError(t, dataflow.JoinInput(p, sliceSeq(in), func(rec dataflow.Record, side int, tm dataflow.Time, row dataflow.Row) {
		got = append(got, seen{rec.Offset, side, tm, len(row)})
	}))
	assert.Equal(t, []seen{{0, dataflow.JoinLeft, 1, 7}, {1, dataflow.JoinRight, 3, 7}, {2, dataflow.JoinRight, 4, 7}}, got)
	assert.Error(t, dataflow.JoinInput(dataflow.NewPipeline("x", nxSchema).Output([]string{"id"}, "price"), sliceSeq(in), nil))
	assert.Error(t, dataflow.AggregationInput(joinPipeline(nxJoin(dataflow.FixedWindows(time.Millisecond))).Aggregate(dataflow.Aggregation{
		Window: dataflow.FixedWindows(time.Millisecond), TimeCol: "join_time", Aggs: []dataflow.Agg{dataflow.Count()},
	}), sliceSeq(in), nil), "AggregationInput of a joined pipeline points at JoinInput")
}

func TestReferenceMaxBy(t *testing.T) {
	// MaxBy over sessions too (the buffered-events path).
	for _, win := range []dataflow.WindowFn{dataflow.FixedWindows(100 * time.Millisecond), dataflow.SessionWindows(50 * time.Millisecond)} {
		p := dataflow.NewPipeline("q7", nxSchema).
			Filter(dataflow.Eq(dataflow.Col("kind"), dataflow.LitStr("b"))).
			Aggregate(dataflow.Aggregation{Window: win, TimeCol: "t", Aggs: []dataflow.Agg{dataflow.MaxBy("auction", "price"), dataflow.Max("price")}})
		in := recs(bid(5, 3, 1), bid(4, 9, 2), bid(6, 9, 3), bid(1, 2, 4))
		got := mustReference(t, p, in, dataflow.ReferenceOptions{})
		require.Len(t, got, 1, "%v", win)
		assert.Equal(t, dataflow.Int(4), got[0].Value, "%v: the highest bid's auction, ties by least auction", win)
		assert.Equal(t, []dataflow.Value{dataflow.Int(9)}, got[0].Extra)
	}
}

// TestAggAfterJoinWindowsByJoinTime: an aggregation after a join windows by
// join_time; a side's event time could be behind the join's watermark when
// the joined row comes out, and the row late downstream.
func TestAggAfterJoinWindowsByJoinTime(t *testing.T) {
	p := joinPipeline(nxJoin(dataflow.FixedWindows(10 * time.Millisecond))).Aggregate(dataflow.Aggregation{
		Window: dataflow.FixedWindows(time.Millisecond), TimeCol: "a_t", Aggs: []dataflow.Agg{dataflow.Count()},
	})
	assert.ErrorContains(t, p.Validate(), "join_time")
	p.Agg.TimeCol = dataflow.JoinTimeCol
	assert.NoError(t, p.Validate())
}
