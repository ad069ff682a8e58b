package microbatch

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// shapes are hand-picked pipeline shapes, kept as examples. The main
// equality test is compare's TestDifferential (random pipelines over every
// dataset, every runtime configuration, the bench's check).
func shapes() map[string]*dataflow.Pipeline {
	ev := func(a dataflow.Aggregation) dataflow.Aggregation {
		a.TimeCol = "event_time"
		a.Watermark.MaxOutOfOrderness = 1500 * time.Millisecond
		return a
	}
	m := map[string]*dataflow.Pipeline{}
	m["stateless"] = dataflow.NewPipeline("stateless", testSchema).
		Filter(dataflow.And(dataflow.Eq(dataflow.Col("page"), dataflow.LitStr("buy")), dataflow.Gt(dataflow.Col("amount"), dataflow.LitInt(20)))).
		Map("double", dataflow.Mul(dataflow.Col("amount"), dataflow.LitInt(2))).
		Output([]string{"user"}, "double", "page", "score")
	m["fixed-count"] = dataflow.NewPipeline("fixed-count", testSchema).
		Filter(dataflow.Ne(dataflow.Col("page"), dataflow.LitStr("help"))).
		Aggregate(ev(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.FixedWindows(2 * time.Second), Aggs: []dataflow.Agg{dataflow.Count()}}))
	m["sliding-multi"] = dataflow.NewPipeline("sliding-multi", testSchema).
		Filter(dataflow.Col("ok")).
		Aggregate(ev(dataflow.Aggregation{Key: []string{"page"}, Window: dataflow.SlidingWindows(3*time.Second, time.Second),
			Aggs: []dataflow.Agg{dataflow.Sum("amount"), dataflow.Min("score"), dataflow.Max("amount"), dataflow.Mean("score"), dataflow.Span("event_time").Named("span"), dataflow.Max("user").Named("maxuser")}}))
	// Count-only sliding windows with Having (fraud's shape) and an
	// offset: the sliding hot loop without (row, cell) pairs.
	slidingOff := dataflow.SlidingWindows(4*time.Second, time.Second)
	slidingOff.Offset = 250
	m["sliding-having"] = dataflow.NewPipeline("sliding-having", testSchema).
		Filter(dataflow.Ne(dataflow.Col("page"), dataflow.LitStr("help"))).
		Aggregate(ev(dataflow.Aggregation{Key: []string{"user"}, Window: slidingOff, Aggs: []dataflow.Agg{dataflow.Count()},
			Having: dataflow.Gt(dataflow.Col("value"), dataflow.LitInt(2))}))
	// A size that is not a multiple of the period: rows have two or three
	// windows, the general assignment.
	uneven := dataflow.SlidingWindows(2500*time.Millisecond, time.Second)
	uneven.Offset = 300
	m["sliding-uneven"] = dataflow.NewPipeline("sliding-uneven", testSchema).
		Aggregate(ev(dataflow.Aggregation{Key: []string{"page"}, Window: uneven, Aggs: []dataflow.Agg{dataflow.Sum("amount"), dataflow.Count()}}))
	m["session"] = dataflow.NewPipeline("session", testSchema).
		Aggregate(ev(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.SessionWindows(400 * time.Millisecond), Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Distinct("page").Named("pages")}}))
	m["global-topn"] = dataflow.NewPipeline("global-topn", testSchema).
		Explode("text", "#", "tag").
		Aggregate(dataflow.Aggregation{Key: []string{"page"}, Window: dataflow.GlobalWindows(), Aggs: []dataflow.Agg{dataflow.TopN("tag", 2), dataflow.Count()}})
	m["lookup-having"] = dataflow.NewPipeline("lookup-having", testSchema).
		Lookup(pageTable, "page", "page", "section", "weight").
		Map("w", dataflow.Mul(dataflow.Col("weight"), dataflow.Col("amount"))).
		Aggregate(ev(dataflow.Aggregation{Key: []string{"section", "user"}, Window: dataflow.FixedWindows(5 * time.Second),
			Aggs: []dataflow.Agg{dataflow.Sum("w"), dataflow.Count()}, Having: dataflow.Gt(dataflow.Col("count"), dataflow.LitInt(3))}))
	m["proc-fixed"] = dataflow.NewPipeline("proc-fixed", testSchema).
		Map("p2", dataflow.Prefix(dataflow.Lower(dataflow.Col("page")), 2)).
		Aggregate(dataflow.Aggregation{Key: []string{"p2"}, Window: dataflow.FixedWindows(5 * time.Second), Domain: dataflow.ProcessingTime, Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("amount")}})
	m["proc-sliding"] = dataflow.NewPipeline("proc-sliding", testSchema).
		Aggregate(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.SlidingWindows(10*time.Second, 5*time.Second), Domain: dataflow.ProcessingTime, Aggs: []dataflow.Agg{dataflow.Count()}})
	m["none-int-key"] = dataflow.NewPipeline("none-int-key", testSchema).
		Filter(dataflow.In(dataflow.Col("page"), dataflow.Str("home"), dataflow.Str("cart"))).
		Aggregate(dataflow.Aggregation{Key: []string{"amount"}, Aggs: []dataflow.Agg{dataflow.Count(), func() dataflow.Agg { g := dataflow.ApproxDistinct("user"); g.Precision = 6; return g }()}})
	m["int-lookup"] = dataflow.NewPipeline("int-lookup", testSchema).
		Lookup(tierTable(), "amount", "amount", "tier").
		Aggregate(ev(dataflow.Aggregation{Key: []string{"tier"}, Window: dataflow.FixedWindows(2 * time.Second), Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("amount")}}))
	return m
}

// tierTable maps amounts 0..59 to tiers (amount/10), except multiples of
// 7: an integer lookup key over a small range, with gaps, while amounts run
// from -10 to 89.
func tierTable() *dataflow.Table {
	t := &dataflow.Table{Name: "tiers", Schema: dataflow.NewSchema(dataflow.Field{Name: "amount", Kind: dataflow.KindInt64}, dataflow.Field{Name: "tier", Kind: dataflow.KindInt64})}
	for a := range int64(60) {
		if a%7 != 0 {
			t.Rows = append(t.Rows, dataflow.Row{dataflow.Int(a), dataflow.Int(a / 10)})
		}
	}
	return t
}

var seedFlag = flag.Uint64("seed", 0, "seed of the differential tests' data (0: a fixed set)")

func testSeeds() []uint64 {
	if *seedFlag != 0 {
		return []uint64{*seedFlag}
	}
	return []uint64{1, 20261124}
}

func TestRunMatchesReference(t *testing.T) {
	for _, seed := range testSeeds() {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runMatchesReference(t, seed) })
	}
}

func runMatchesReference(t *testing.T, seed uint64) {
	l := testLog(t, seed, 3000, 3, 20_000, 2000)
	src := datasets.NewArrowSource(l)
	for name, p := range shapes() {
		for _, mode := range []Mode{ModeEventTime, ModeDStream} {
			for _, bi := range []time.Duration{100 * time.Millisecond, time.Second, 5 * time.Second} {
				t.Run(fmt.Sprintf("%s/%v/%v", name, mode, bi), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
					defer mem.AssertSize(t, 0)
					rep, err := Run(context.Background(), p, src, Config{Mode: mode, BatchInterval: bi, Allocator: mem, MaxBatchRows: 100})
					if ue, ok := err.(*dataflow.UnsupportedError); ok {
						t.Skipf("unsupported: %v", ue)
					}
					require.NoError(t, err)
					requireSparkResults(t, p, l, rep)
					require.Equal(t, l.Len(), rep.Events)
				})
			}
		}
	}
}

// Concurrent jobs compute batches in parallel but commit them in order.
func TestConcurrentJobs(t *testing.T) {
	l := testLog(t, 11, 3000, 3, 20_000, 0)
	src := datasets.NewArrowSource(l)
	for _, name := range []string{"proc-sliding", "fixed-count", "stateless"} {
		p := shapes()[name]
		rep, err := Run(context.Background(), p, src, Config{Mode: ModeDStream, BatchInterval: 100 * time.Millisecond, ConcurrentJobs: 3})
		require.NoError(t, err)
		requireSparkResults(t, p, l, rep)
		for i, b := range rep.Batches {
			require.Equal(t, int64(i), b.Seq, "batches commit in order")
		}
	}
}

// Record batches longer than a frame are run a frame at a time; results,
// and the offsets of late records, must not depend on where frames split.
func TestFramesMatchReference(t *testing.T) {
	// testLog's small chunks cut record batches at 256 rows; copy it into a
	// log of default chunks.
	small := testLog(t, 5, 6*frameRows, 2, 1500, 3000)
	l, err := datasets.NewLog(datasets.LogConfig{Schema: testSchema, Partitions: 2})
	require.NoError(t, err)
	a := l.Appender()
	for r := range small.All() {
		a.AppendRow(r.Partition, r.IngestNanos, r.Row)
	}
	require.NoError(t, a.Flush())
	l.Close()
	src := datasets.NewArrowSource(l)
	late := 0
	for name, p := range shapes() {
		for _, mode := range []Mode{ModeEventTime, ModeDStream} {
			t.Run(fmt.Sprintf("%s/%v", name, mode), func(t *testing.T) {
				rep, err := Run(context.Background(), p, src, Config{Mode: mode, BatchInterval: time.Second})
				if _, ok := err.(*dataflow.UnsupportedError); ok {
					t.Skip("unsupported")
				}
				require.NoError(t, err)
				for _, b := range rep.Batches {
					for _, r := range b.Ranges {
						if r.Until-r.From > frameRows {
							goto split
						}
					}
				}
				t.Fatal("no batch has a range longer than a frame")
			split:
				requireSparkResults(t, p, l, rep)
				late += len(rep.Late)
			})
		}
	}
	require.NotZero(t, late, "some records are late")
}
