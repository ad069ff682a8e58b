package microbatch

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
)

// pacedLog fills a closed log with a dataset's events, ingested at rate
// events per second from testT0 on (a manual clock fast-forwarded through
// the fill's waits): a log whose batches are the ingest-time slices of its
// filling, deterministically.
func pacedLog(t testing.TB, dataset string, cfg datasets.Config, rate float64) (*datasets.Log, map[string]*dataflow.Table) {
	t.Helper()
	gen, err := datasets.Lookup(dataset)
	require.NoError(t, err)
	l, err := datasets.NewLogFor(gen, cfg)
	require.NoError(t, err)
	require.NoError(t, fillFastForward(t, gen, l, cfg, rate, time.UnixMilli(testT0)))
	return l, gen.Tables(cfg.Seed)
}

// fillFastForward fills l at rate events per second of a manual clock that
// starts at start and jumps over every wait of the filler.
func fillFastForward(t testing.TB, gen datasets.Generator, l *datasets.Log, cfg datasets.Config, rate float64, start time.Time) error {
	clk := clock.NewManual(start)
	ctx, cancel := context.WithCancel(context.Background())
	var err error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer cancel()
		err = datasets.Fill(ctx, gen, l, cfg, datasets.Pacing{Rate: rate, Clock: clk})
	})
	_ = clk.FastForward(ctx) // until the fill returns
	wg.Wait()
	return err
}

func evAgg(a dataflow.Aggregation, bound time.Duration) dataflow.Aggregation {
	a.Domain = dataflow.EventTime
	a.TimeCol = "event_time"
	a.Watermark = dataflow.WatermarkPolicy{MaxOutOfOrderness: bound}
	a.Late = dataflow.LateDrop
	return a
}

// ysbShape is compare's ysb workload: views per campaign per 10 s of event
// time, watermark bound 5 s.
func ysbShape(t testing.TB, tables map[string]*dataflow.Table) *dataflow.Pipeline {
	in, err := datasets.Lookup("ysb")
	require.NoError(t, err)
	return dataflow.NewPipeline("ysb", in.Schema()).
		Filter(dataflow.Eq(dataflow.Col("event_type"), dataflow.LitStr("view"))).
		Lookup(tables["campaigns"], "ad_id", "ad_id", "campaign_id").
		Aggregate(evAgg(dataflow.Aggregation{Key: []string{"campaign_id"}, Window: dataflow.FixedWindows(10 * time.Second), Aggs: []dataflow.Agg{dataflow.Count()}}, 5*time.Second))
}

// Defect 1: with short batches over skewed ysb data, rows at or below the
// watermark whose window is still open were dropped (the rule was event
// time <= W). Spark drops a row only from windows ending at or before W:
// the results equal the exclusion oracle and every reported record lost a
// window at its batch's watermark.
func TestSparkLateRuleYSB(t *testing.T) {
	cfg := datasets.Config{Events: 20_000, Seed: 2, EventRate: 1000, Skew: datasets.Skew{Delay: 2 * time.Second, OutOfOrder: 0.1, Late: 0.01, LateDelay: 20 * time.Second}}
	l, tables := pacedLog(t, "ysb", cfg, 20_000)
	p := ysbShape(t, tables)
	rep, err := Run(context.Background(), p, datasets.NewArrowSource(l), Config{BatchInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	require.Greater(t, len(rep.Batches), 10)
	n := checkSparkLate(t, p, l, rep)
	requireSparkResults(t, p, l, rep)
	require.NotZero(t, n)
	// Some rows are at or below their batch's watermark and yet kept: their
	// window ends after it. Under "event time <= W" they were dropped.
	times := aggInputTimes(t, p, l)
	late := map[dataflow.RecordRef]bool{}
	for _, r := range rep.Late {
		late[r.RecordRef] = true
	}
	kept := 0
	prev := make([]int64, l.Partitions())
	for _, b := range rep.Batches {
		for part, end := range b.End {
			for off := prev[part]; off < end; off++ {
				if tm, ok := times[dataflow.RecordRef{Partition: part, Offset: off}]; ok && tm <= b.Watermark && !late[dataflow.RecordRef{Partition: part, Offset: off}] {
					kept++
				}
			}
		}
		prev = b.End
	}
	t.Logf("%d batches, %d late records, %d rows at or below the watermark kept in open windows", len(rep.Batches), n, kept)
	require.NotZero(t, kept, "the data must have rows at or below the watermark in open windows")
}

// Defect 2: in-order events, then a burst at t = 157 s (the watermark
// becomes 152 s), then one view at t = 150 s: its window [150 s, 160 s) is
// open under any watermark <= 152 s, so Spark keeps it.
func TestOpenWindowRowKept(t *testing.T) {
	l, err := datasets.NewLog(datasets.LogConfig{Schema: testSchema, Partitions: 2, ChunkRows: 256})
	require.NoError(t, err)
	a := l.Appender()
	row := func(user string, ev int64) dataflow.Row {
		return dataflow.Row{dataflow.Str(user), dataflow.Str("home"), dataflow.Int(1), dataflow.Float(1), dataflow.Bool(true), dataflow.Str(""), dataflow.Timestamp(dataflow.Time(ev))}
	}
	ingest := int64(testT0) * 1e6
	// 10 000 in-order events over [0, 150 s), 0.1 ms of ingest apart.
	for i := range int64(10_000) {
		ingest += 1e5
		a.AppendRow(int(i%2), ingest, row(fmt.Sprintf("u%d", i%5), i*15))
	}
	for i := range int64(3_000) { // the burst at 157 s
		ingest += 1e5
		a.AppendRow(int(i%2), ingest, row("burst", 157_000))
	}
	ingest += 100e6 // 100 ms later
	a.AppendRow(1, ingest, row("v", 150_000))
	require.NoError(t, a.Flush())
	l.Close()
	p := dataflow.NewPipeline("open", testSchema).Aggregate(evAgg(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.FixedWindows(10 * time.Second), Aggs: []dataflow.Agg{dataflow.Count()}}, 5*time.Second))
	for _, bi := range []time.Duration{50 * time.Millisecond, 20 * time.Millisecond} {
		t.Run(bi.String(), func(t *testing.T) {
			rep, err := Run(context.Background(), p, datasets.NewArrowSource(l), Config{BatchInterval: bi})
			require.NoError(t, err)
			last := rep.Batches[len(rep.Batches)-1]
			require.Equal(t, int64(152_000), last.Watermark, "the burst sets the watermark before the view arrives")
			assert.Empty(t, rep.Late)
			assert.Contains(t, rep.Results, dataflow.Result{Window: dataflow.Window{Start: 150_000, End: 160_000}, Key: "v", Value: dataflow.Int(1)})
			checkSparkLate(t, p, l, rep)
			requireSparkResults(t, p, l, rep)
		})
	}
}

// Defect 3: a log filled before the run (--rate 0) is read by the first
// trigger in event-time mode, however long the filling took: one batch, as
// for built-in data, and so nothing late. Without FilledBeforeStart the
// batches are the ingest-time slices of the filling (a replay of a stream
// that ran while the log filled), and DStream mode keeps those (MD3).
func TestFilledBeforeStart(t *testing.T) {
	cfg := datasets.Config{Events: 20_000, Seed: 2}
	l, tables := pacedLog(t, "ysb", cfg, 20_000) // ingest over 1 s: a slow load
	p := ysbShape(t, tables)
	src := datasets.NewArrowSource(l)
	bi := 50 * time.Millisecond
	rep, err := Run(context.Background(), p, src, Config{BatchInterval: bi, FilledBeforeStart: true})
	require.NoError(t, err)
	require.Len(t, rep.Batches, 1)
	assert.Empty(t, rep.Late)
	requireSameResults(t, reference(t, p, l, nil), rep.Results)

	rep, err = Run(context.Background(), p, src, Config{BatchInterval: bi})
	require.NoError(t, err)
	assert.Greater(t, len(rep.Batches), 15, "ingest-time slices")

	rep, err = Run(context.Background(), p, src, Config{Mode: ModeDStream, BatchInterval: bi, FilledBeforeStart: true})
	require.NoError(t, err)
	assert.Greater(t, len(rep.Batches), 15, "DStream batches stay the ingest-time slices")
}

// Recomputed batches (a failed batch, a driver crash restarting from a
// checkpoint) are listed once, with their late records once, as the
// surviving run committed them.
func TestRecomputedBatchesListedOnce(t *testing.T) {
	l := testLog(t, 3, 4000, 3, 20_000, 3000)
	p := shapes()["sliding-multi"]
	rep, err := Run(context.Background(), p, datasets.NewArrowSource(l), Config{BatchInterval: 200 * time.Millisecond, CheckpointEvery: 3,
		Failures: []Failure{{AfterRecords: 900}, {AfterRecords: 1700, Kind: CrashDriver}, {AfterRecords: 3100, Kind: CrashDriver}}})
	require.NoError(t, err)
	require.Equal(t, int64(2), rep.Counters["driver_restarts"])
	for i, b := range rep.Batches {
		require.Equal(t, int64(i), b.Seq, "batch %d listed once, in order", i)
	}
	require.Equal(t, l.Len(), rep.Events)
	require.True(t, slices.IsSortedFunc(rep.Late, func(a, b dataflow.LateRecord) int {
		if a.Partition != b.Partition {
			return a.Partition - b.Partition
		}
		return int(a.Offset - b.Offset)
	}))
	for i := 1; i < len(rep.Late); i++ {
		require.NotEqual(t, rep.Late[i-1].RecordRef, rep.Late[i].RecordRef, "a record is dropped once")
	}
	require.NotZero(t, checkSparkLate(t, p, l, rep))
	requireSparkResults(t, p, l, rep)
}

// The property: over skewed generated data, any seed and batch interval
// (1 ms to 5 s), fixed, sliding and session windows, the results are Spark's
// answer (the exclusion oracle) and the late records and batch watermarks
// follow Spark's rule, recomputed from the log.
func TestSparkLateProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(20261201, 1))
	type shape struct {
		dataset string
		p       func(tables map[string]*dataflow.Table, in dataflow.Schema) *dataflow.Pipeline
	}
	shapes := map[string]shape{
		"ysb-fixed": {"ysb", func(tables map[string]*dataflow.Table, _ dataflow.Schema) *dataflow.Pipeline {
			return ysbShape(t, tables)
		}},
		"hashtags-sliding": {"hashtags", func(_ map[string]*dataflow.Table, in dataflow.Schema) *dataflow.Pipeline {
			return dataflow.NewPipeline("tags", in).
				Explode("text", "#", "hashtag").
				Map("prefix", dataflow.Prefix(dataflow.Col("hashtag"), 2)).
				Aggregate(evAgg(dataflow.Aggregation{Key: []string{"prefix"}, Window: dataflow.SlidingWindows(3*time.Second, time.Second), Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("user_id")}}, time.Second))
		}},
		"sessions": {"sessions", func(_ map[string]*dataflow.Table, in dataflow.Schema) *dataflow.Pipeline {
			return dataflow.NewPipeline("sess", in).
				Filter(dataflow.Ne(dataflow.Col("action"), dataflow.LitStr("logout"))).
				Aggregate(evAgg(dataflow.Aggregation{Key: []string{"user_id"}, Window: dataflow.SessionWindows(2 * time.Second), Aggs: []dataflow.Agg{dataflow.Count()}}, time.Second))
		}},
	}
	names := []string{"ysb-fixed", "hashtags-sliding", "sessions"}
	for i := range 18 {
		name := names[i%len(names)]
		sh := shapes[name]
		seed := r.Uint64()
		bi := time.Duration(math.Exp(r.Float64()*math.Log(5000))*1000) * time.Microsecond // 1 ms to 5 s, log-uniform
		bi = max(bi.Round(time.Millisecond), time.Millisecond)
		skew := datasets.Skew{Delay: time.Duration(1+r.Int64N(3000)) * time.Millisecond, OutOfOrder: r.Float64() * 0.3, Late: r.Float64() * 0.05, LateDelay: time.Duration(2+r.Int64N(20_000)) * time.Millisecond}
		parts := 1 + r.IntN(4)
		t.Run(fmt.Sprintf("%s/seed=%d/%v", name, seed, bi), func(t *testing.T) {
			cfg := datasets.Config{Events: 3000, Seed: seed, Partitions: parts, Skew: skew, EventRate: 500}
			l, tables := pacedLog(t, sh.dataset, cfg, float64(200+r.IntN(2000)))
			gen, _ := datasets.Lookup(sh.dataset)
			p := sh.p(tables, gen.Schema())
			require.NoError(t, p.Validate())
			rep, err := Run(context.Background(), p, datasets.NewArrowSource(l), Config{BatchInterval: bi, Parallelism: 1 + r.IntN(3), MaxBatchRows: 64 + r.IntN(512)})
			require.NoError(t, err)
			n := checkSparkLate(t, p, l, rep)
			requireSparkResults(t, p, l, rep)
			t.Logf("%d partitions, %d batches, %d late", parts, len(rep.Batches), n)
		})
	}
}

// Spark's session rule at its edge: a row kept because t + gap > W whose
// proto-session overlaps a session of its key evicted by an earlier batch
// (end <= that batch's watermark) starts a new session, since the evicted
// one is gone from the state store; the batch answer merges the two.
func TestSessionSplitByEviction(t *testing.T) {
	l, err := datasets.NewLog(datasets.LogConfig{Schema: testSchema, Partitions: 1})
	require.NoError(t, err)
	a := l.Appender()
	for _, r := range []struct {
		ingest, ev int64
		user       string
	}{
		{100, 0, "k"}, {200, 1500, "x"}, // batch 0; watermark 1500 from batch 1 on
		{1100, 1400, "y"}, // batch 1 evicts k's [0, 1000)
		{2100, 900, "k"},  // batch 2: 900 + 1000 > 1500, kept: a new session
	} {
		a.AppendRow(0, (testT0+r.ingest)*1e6, dataflow.Row{dataflow.Str(r.user), dataflow.Str("home"), dataflow.Int(1), dataflow.Float(1),
			dataflow.Bool(true), dataflow.Str(""), dataflow.Timestamp(dataflow.Time(r.ev))})
	}
	require.NoError(t, a.Flush())
	l.Close()
	p := dataflow.NewPipeline("s", testSchema).Aggregate(evAgg(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.SessionWindows(time.Second), Aggs: []dataflow.Agg{dataflow.Count()}}, 0))
	rep, err := Run(context.Background(), p, datasets.NewArrowSource(l), Config{BatchInterval: time.Second})
	require.NoError(t, err)
	require.Len(t, rep.Batches, 3)
	assert.Empty(t, rep.Late)
	requireSameResults(t, []dataflow.Result{
		{Window: dataflow.Window{Start: 0, End: 1000}, Key: "k", Value: dataflow.Int(1)},
		{Window: dataflow.Window{Start: 900, End: 1900}, Key: "k", Value: dataflow.Int(1)},
		{Window: dataflow.Window{Start: 1400, End: 2400}, Key: "y", Value: dataflow.Int(1)},
		{Window: dataflow.Window{Start: 1500, End: 2500}, Key: "x", Value: dataflow.Int(1)},
	}, rep.Results)
	requireSparkResults(t, p, l, rep)
}
