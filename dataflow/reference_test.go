package dataflow_test

import (
	"cmp"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// sliceSeq yields the records, reusing one Row buffer as the log does, so
// tests catch a Reference that keeps rows it does not own.
func sliceSeq(recs []dataflow.Record) iter.Seq[dataflow.Record] {
	return func(yield func(dataflow.Record) bool) {
		var row dataflow.Row
		for _, r := range recs {
			row = append(row[:0], r.Row...)
			r.Row = row
			if !yield(r) {
				return
			}
			clear(row) // poison what a careless consumer kept
		}
	}
}

// recs numbers rows as records of partition 0 at offsets 0, 1, ...; the
// ingest time of each is its index in seconds.
func recs(rows ...dataflow.Row) []dataflow.Record {
	out := make([]dataflow.Record, len(rows))
	for i, r := range rows {
		out[i] = dataflow.Record{Row: r, Offset: int64(i), IngestNanos: int64(i) * 1e9}
	}
	return out
}

func ts(ms int64) dataflow.Value { return dataflow.Timestamp(dataflow.Time(ms)) }

func res(s, e int64, key string, v dataflow.Value, extra ...dataflow.Value) dataflow.Result {
	r := dataflow.Result{Window: w(s, e), Key: key, Value: v}
	if len(extra) > 0 {
		r.Extra = extra
	}
	return r
}

var (
	ysbSchema = dataflow.NewSchema(
		dataflow.Field{Name: "ad_id", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_type", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	campaigns = &dataflow.Table{
		Name: "campaigns",
		Schema: dataflow.NewSchema(
			dataflow.Field{Name: "ad_id", Kind: dataflow.KindString},
			dataflow.Field{Name: "campaign_id", Kind: dataflow.KindString},
		),
		Rows: []dataflow.Row{
			{dataflow.Str("a1"), dataflow.Str("c1")},
			{dataflow.Str("a2"), dataflow.Str("c1")},
			{dataflow.Str("a3"), dataflow.Str("c2")},
		},
	}
)

func ysbPipeline() *dataflow.Pipeline {
	return dataflow.NewPipeline("ysb", ysbSchema).
		Filter(dataflow.Eq(dataflow.Col("event_type"), dataflow.LitStr("view"))).
		Lookup(campaigns, "ad_id", "ad_id", "campaign_id").
		Aggregate(dataflow.Aggregation{
			Key:     []string{"campaign_id"},
			Window:  dataflow.FixedWindows(10 * time.Second),
			TimeCol: "event_time",
			Aggs:    []dataflow.Agg{dataflow.Count()},
		})
}

func TestReferenceYSB(t *testing.T) {
	in := recs(
		dataflow.Row{dataflow.Str("a1"), dataflow.Str("view"), ts(1000)},  // c1 [0,10s)
		dataflow.Row{dataflow.Str("a2"), dataflow.Str("view"), ts(9999)},  // c1 [0,10s), last ms
		dataflow.Row{dataflow.Str("a3"), dataflow.Str("view"), ts(10000)}, // c2 [10s,20s), at the boundary
		dataflow.Row{dataflow.Str("a1"), dataflow.Str("click"), ts(2000)}, // filtered out
		dataflow.Row{dataflow.Str("a9"), dataflow.Str("view"), ts(3000)},  // no campaign: inner join drops it
		dataflow.Row{dataflow.Str("a3"), dataflow.Str("view"), ts(5000)},  // c2 [0,10s), out of order
		dataflow.Row{dataflow.Str("a1"), dataflow.Str("view"), ts(10001)}, // c1 [10s,20s)
	)
	got, err := dataflow.Reference(ysbPipeline(), sliceSeq(in), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	assert.Equal(t, []dataflow.Result{
		res(0, 10000, "c1", dataflow.Int(2)),
		res(0, 10000, "c2", dataflow.Int(1)),
		res(10000, 20000, "c1", dataflow.Int(1)),
		res(10000, 20000, "c2", dataflow.Int(1)),
	}, got)

	t.Run("exclude", func(t *testing.T) {
		got, err := dataflow.Reference(ysbPipeline(), sliceSeq(in), dataflow.ReferenceOptions{
			Exclude: func(p int, off int64) bool { return p == 0 && (off == 1 || off == 2) },
		})
		require.NoError(t, err)
		assert.Equal(t, []dataflow.Result{
			res(0, 10000, "c1", dataflow.Int(1)),
			res(0, 10000, "c2", dataflow.Int(1)),
			res(10000, 20000, "c1", dataflow.Int(1)),
		}, got, "records at offsets 1 and 2 excluded")
	})
}

func TestReferenceExplodeTopN(t *testing.T) {
	s := dataflow.NewSchema(
		dataflow.Field{Name: "tweet_id", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "text", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	p := dataflow.NewPipeline("hashtags", s).
		Explode("text", "#", "hashtag").
		Map("p", dataflow.Prefix(dataflow.Lower(dataflow.Col("hashtag")), 2)).
		Aggregate(dataflow.Aggregation{
			Key:     []string{"p"},
			Window:  dataflow.FixedWindows(time.Hour),
			TimeCol: "event_time",
			Aggs:    []dataflow.Agg{dataflow.TopN("hashtag", 2), dataflow.Count()},
		})
	in := recs(
		dataflow.Row{dataflow.Int(1), dataflow.Str("hello #go #Gopher"), ts(0)},
		dataflow.Row{dataflow.Int(2), dataflow.Str("#go  is\t#fun #go"), ts(1000)},
		dataflow.Row{dataflow.Int(3), dataflow.Str("no tags here"), ts(2000)},
		dataflow.Row{dataflow.Int(4), dataflow.Str("#go\n#gopher"), ts(3_600_000)},
	)
	got, err := dataflow.Reference(p, sliceSeq(in), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	assert.Equal(t, []dataflow.Result{
		res(0, 3_600_000, "#f", dataflow.Str("#fun=1"), dataflow.Int(1)),
		res(0, 3_600_000, "#g", dataflow.Str("#go=3,#Gopher=1"), dataflow.Int(4)),
		res(3_600_000, 7_200_000, "#g", dataflow.Str("#go=1,#gopher=1"), dataflow.Int(2)),
	}, got)
}

func TestReferenceProcessingTime(t *testing.T) {
	s := dataflow.NewSchema(
		dataflow.Field{Name: "page", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	p := dataflow.NewPipeline("pt", s).Aggregate(dataflow.Aggregation{
		Key:    []string{"page"},
		Window: dataflow.FixedWindows(time.Minute),
		Domain: dataflow.ProcessingTime,
		Aggs:   []dataflow.Agg{dataflow.Count()},
	})
	row := func(page string) dataflow.Row { return dataflow.Row{dataflow.Str(page), ts(-123_456_789)} }
	in := []dataflow.Record{
		{Row: row("a"), IngestNanos: 0},
		{Row: row("a"), IngestNanos: 59_999*1e6 + 999_999}, // ms 59999: first minute
		{Row: row("a"), IngestNanos: 60_000 * 1e6},         // second minute
		{Row: row("b"), IngestNanos: 61_000 * 1e6, Partition: 1},
	}
	got, err := dataflow.Reference(p, sliceSeq(in), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	assert.Equal(t, []dataflow.Result{
		res(0, 60_000, "a", dataflow.Int(2)),
		res(60_000, 120_000, "a", dataflow.Int(1)),
		res(60_000, 120_000, "b", dataflow.Int(1)),
	}, got, "windows by ingest time, not the event-time column")
}

func TestReferenceSessions(t *testing.T) {
	s := dataflow.NewSchema(
		dataflow.Field{Name: "user_id", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	p := dataflow.NewPipeline("sessions", s).Aggregate(dataflow.Aggregation{
		Key:     []string{"user_id"},
		Window:  dataflow.SessionWindows(10 * time.Second),
		TimeCol: "event_time",
		Aggs:    []dataflow.Agg{dataflow.Count(), dataflow.Span("event_time").Named("duration")},
	})
	u := func(id string, t int64) dataflow.Row { return dataflow.Row{dataflow.Str(id), ts(t)} }
	in := recs(
		u("u1", 0),
		u("u1", 5000),
		u("u2", 100),
		u("u1", 15000), // exactly gap after 5000: a new session (I3)
		u("u1", 24999), // gap-1 after 15000: merges
		u("u1", 1000),  // out of order, inside the first session
	)
	got, err := dataflow.Reference(p, sliceSeq(in), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	assert.Equal(t, []dataflow.Result{
		res(0, 15000, "u1", dataflow.Int(3), dataflow.Int(5000)),
		res(100, 10100, "u2", dataflow.Int(1), dataflow.Int(0)),
		res(15000, 34999, "u1", dataflow.Int(2), dataflow.Int(9999)),
	}, got)
}

func TestReferenceSlidingMean(t *testing.T) {
	s := dataflow.NewSchema(
		dataflow.Field{Name: "sensor_id", Kind: dataflow.KindString},
		dataflow.Field{Name: "temperature", Kind: dataflow.KindFloat64},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	p := dataflow.NewPipeline("iot", s).Aggregate(dataflow.Aggregation{
		Key:     []string{"sensor_id"},
		Window:  dataflow.SlidingWindows(10*time.Second, 5*time.Second),
		TimeCol: "event_time",
		Aggs:    []dataflow.Agg{dataflow.Mean("temperature")},
	})
	r := func(tmp float64, t int64) dataflow.Row {
		return dataflow.Row{dataflow.Str("s1"), dataflow.Float(tmp), ts(t)}
	}
	got, err := dataflow.Reference(p, sliceSeq(recs(r(10, 1000), r(20, 6000), r(30, 12000))), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	assert.Equal(t, []dataflow.Result{
		res(-5000, 5000, "s1", dataflow.Float(10)),
		res(0, 10000, "s1", dataflow.Float(15)),
		res(5000, 15000, "s1", dataflow.Float(25)),
		res(10000, 20000, "s1", dataflow.Float(30)),
	}, got)
}

func TestReferenceSlidingCountHaving(t *testing.T) {
	s := dataflow.NewSchema(
		dataflow.Field{Name: "card_id", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	p := dataflow.NewPipeline("alerts", s).Aggregate(dataflow.Aggregation{
		Key:     []string{"card_id"},
		Window:  dataflow.SlidingWindows(10*time.Second, 5*time.Second),
		TimeCol: "event_time",
		Aggs:    []dataflow.Agg{dataflow.Count()},
		Having:  dataflow.Gt(dataflow.Col("value"), dataflow.LitInt(5)),
	})
	var rows []dataflow.Row
	for i := range int64(7) {
		rows = append(rows, dataflow.Row{dataflow.Str("k1"), ts(i)})
	}
	for i := range int64(5) {
		rows = append(rows, dataflow.Row{dataflow.Str("k2"), ts(i)})
	}
	rows = append(rows, dataflow.Row{dataflow.Str("k1"), ts(7000)})
	got, err := dataflow.Reference(p, sliceSeq(recs(rows...)), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	assert.Equal(t, []dataflow.Result{
		res(-5000, 5000, "k1", dataflow.Int(7)),
		res(0, 10000, "k1", dataflow.Int(8)),
	}, got, "k1's [5s,15s) has 1 and k2's windows 5: not above 5")
}

func TestReferenceCountWindows(t *testing.T) {
	s := dataflow.NewSchema(
		dataflow.Field{Name: "k", Kind: dataflow.KindString},
		dataflow.Field{Name: "x", Kind: dataflow.KindInt64},
	)
	pipe := func(size, slide int64) *dataflow.Pipeline {
		return dataflow.NewPipeline("count", s).Aggregate(dataflow.Aggregation{
			Key:    []string{"k"},
			Window: dataflow.CountWindows(size, slide),
			Aggs:   []dataflow.Agg{dataflow.Sum("x")},
		})
	}
	t.Run("tumbling-100", func(t *testing.T) {
		var rows []dataflow.Row
		for i := range int64(250) {
			rows = append(rows, dataflow.Row{dataflow.Str("k1"), dataflow.Int(i)})
			if i < 99 {
				rows = append(rows, dataflow.Row{dataflow.Str("k2"), dataflow.Int(1)})
			}
		}
		got, err := dataflow.Reference(pipe(100, 100), sliceSeq(recs(rows...)), dataflow.ReferenceOptions{})
		require.NoError(t, err)
		assert.Equal(t, []dataflow.Result{
			res(0, 100, "k1", dataflow.Int(4950)),
			res(100, 200, "k1", dataflow.Int(14950)),
		}, got, "k1's third window (50 records) and k2's only one (99) are partial")
	})
	t.Run("sliding-4-every-2", func(t *testing.T) {
		var rows []dataflow.Row
		for i := range int64(7) {
			rows = append(rows, dataflow.Row{dataflow.Str("a"), dataflow.Int(i + 1)})
			rows = append(rows, dataflow.Row{dataflow.Str("b"), dataflow.Int(100)})
		}
		got, err := dataflow.Reference(pipe(4, 2), sliceSeq(recs(rows...)), dataflow.ReferenceOptions{})
		require.NoError(t, err)
		assert.Equal(t, []dataflow.Result{
			res(0, 4, "a", dataflow.Int(1+2+3+4)),
			res(0, 4, "b", dataflow.Int(400)),
			res(2, 6, "a", dataflow.Int(3+4+5+6)),
			res(2, 6, "b", dataflow.Int(400)),
		}, got)
	})
}

func TestReferenceGlobalAndNone(t *testing.T) {
	s := dataflow.NewSchema(
		dataflow.Field{Name: "k", Kind: dataflow.KindString},
		dataflow.Field{Name: "x", Kind: dataflow.KindInt64},
	)
	rows := recs(
		dataflow.Row{dataflow.Str("a"), dataflow.Int(3)},
		dataflow.Row{dataflow.Str("b"), dataflow.Int(-1)},
		dataflow.Row{dataflow.Str("a"), dataflow.Int(4)},
	)
	for _, fn := range []dataflow.WindowFn{dataflow.GlobalWindows(), {}} {
		p := dataflow.NewPipeline("g", s).Aggregate(dataflow.Aggregation{
			Key:    []string{"k"},
			Window: fn,
			Aggs:   []dataflow.Agg{dataflow.Sum("x"), dataflow.Max("x"), dataflow.Distinct("x")},
		})
		got, err := dataflow.Reference(p, sliceSeq(rows), dataflow.ReferenceOptions{})
		require.NoError(t, err, "window %v", fn)
		assert.Equal(t, []dataflow.Result{
			{Key: "a", Value: dataflow.Int(7), Extra: []dataflow.Value{dataflow.Int(4), dataflow.Int(2)}},
			{Key: "b", Value: dataflow.Int(-1), Extra: []dataflow.Value{dataflow.Int(-1), dataflow.Int(1)}},
		}, got, "window %v: one result per key with the zero Window", fn)
	}
	t.Run("no-key", func(t *testing.T) {
		p := dataflow.NewPipeline("all", s).Aggregate(dataflow.Aggregation{Aggs: []dataflow.Agg{dataflow.Count()}})
		got, err := dataflow.Reference(p, sliceSeq(rows), dataflow.ReferenceOptions{})
		require.NoError(t, err)
		assert.Equal(t, []dataflow.Result{{Value: dataflow.Int(3)}}, got)
	})
}

func TestReferenceStateless(t *testing.T) {
	s := dataflow.NewSchema(
		dataflow.Field{Name: "domain", Kind: dataflow.KindString},
		dataflow.Field{Name: "path", Kind: dataflow.KindString},
		dataflow.Field{Name: "status", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "latency_ms", Kind: dataflow.KindFloat64},
	)
	p := dataflow.NewPipeline("errors", s).
		Filter(dataflow.Ge(dataflow.Col("status"), dataflow.LitInt(500))).
		Map("slow", dataflow.Gt(dataflow.Col("latency_ms"), dataflow.LitFloat(100))).
		Output([]string{"domain", "path"}, "latency_ms", "status", "slow")
	row := func(d, path string, st int64, lat float64) dataflow.Row {
		return dataflow.Row{dataflow.Str(d), dataflow.Str(path), dataflow.Int(st), dataflow.Float(lat)}
	}
	in := recs(
		row("b.com", "/", 503, 250.5),
		row("a.com", "/x", 200, 1),
		row("a.com", "/x", 500, 12.25),
		row("a.com", "/x", 500, 12.25), // duplicates are kept
	)
	got, err := dataflow.Reference(p, sliceSeq(in), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	extra := func(st int64, slow bool) []dataflow.Value {
		return []dataflow.Value{dataflow.Int(st), dataflow.Bool(slow)}
	}
	assert.Equal(t, []dataflow.Result{
		{Key: "a.com|/x", Value: dataflow.Float(12.25), Extra: extra(500, false)},
		{Key: "a.com|/x", Value: dataflow.Float(12.25), Extra: extra(500, false)},
		{Key: "b.com|/", Value: dataflow.Float(250.5), Extra: extra(503, true)},
	}, got)
}

func TestReferenceProject(t *testing.T) {
	p := dataflow.NewPipeline("proj", ysbSchema).
		Project("event_time", "ad_id").
		Lookup(campaigns, "ad_id", "ad_id", "campaign_id").
		Output([]string{"campaign_id"}, "ad_id")
	in := recs(dataflow.Row{dataflow.Str("a3"), dataflow.Str("view"), ts(1)})
	got, err := dataflow.Reference(p, sliceSeq(in), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	assert.Equal(t, []dataflow.Result{{Key: "c2", Value: dataflow.Str("a3")}}, got)
}

func TestReferenceErrors(t *testing.T) {
	bad := ysbPipeline()
	bad.Agg.TimeCol = "nope"
	_, err := dataflow.Reference(bad, sliceSeq(nil), dataflow.ReferenceOptions{})
	require.Error(t, err)
	var ce *dataflow.ColumnError
	assert.ErrorAs(t, err, &ce)

	_, err = dataflow.Reference(ysbPipeline(), sliceSeq(recs(dataflow.Row{dataflow.Str("a1")})), dataflow.ReferenceOptions{})
	assert.ErrorContains(t, err, "has 1 columns")

	dup := &dataflow.Table{Name: "dup", Schema: campaigns.Schema, Rows: append(campaigns.Rows[:3:3], campaigns.Rows[0])}
	p := dataflow.NewPipeline("dup", ysbSchema).Lookup(dup, "ad_id", "ad_id", "campaign_id").Output(nil, "campaign_id")
	_, err = dataflow.Reference(p, sliceSeq(nil), dataflow.ReferenceOptions{})
	assert.ErrorContains(t, err, "unique")
}

// TestReferenceMatchesNaive checks Reference against a per-window brute force
// on random data: for every window that Reference reports, the count and sum
// of the records falling in it, by scanning the whole input.
func TestReferenceMatchesNaive(t *testing.T) {
	seed := uint64(7)
	r := rand.New(rand.NewPCG(seed, 1))
	s := dataflow.NewSchema(
		dataflow.Field{Name: "k", Kind: dataflow.KindString},
		dataflow.Field{Name: "x", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "t", Kind: dataflow.KindTimestamp},
	)
	var rows []dataflow.Row
	for range 2000 {
		rows = append(rows, dataflow.Row{
			dataflow.Str(fmt.Sprintf("k%d", r.IntN(5))), dataflow.Int(r.Int64N(100) - 50), ts(r.Int64N(100_000) - 50_000),
		})
	}
	fn := dataflow.WindowFn{Kind: dataflow.WindowSliding, Size: 7000, Period: 3000, Offset: 1000}
	p := dataflow.NewPipeline("naive", s).Aggregate(dataflow.Aggregation{
		Key: []string{"k"}, Window: fn, TimeCol: "t",
		Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("x")},
	})
	got, err := dataflow.Reference(p, sliceSeq(recs(rows...)), dataflow.ReferenceOptions{})
	require.NoError(t, err, "seed %d", seed)
	total := int64(0)
	for _, res := range got {
		var n, sum int64
		for _, row := range rows {
			if row[0].S == res.Key && res.Window.Contains(row[2].Time()) {
				n, sum = n+1, sum+row[1].I
			}
		}
		require.Equal(t, dataflow.Int(n), res.Value, "seed %d: count of %v %s", seed, res.Window, res.Key)
		require.Equal(t, dataflow.Int(sum), res.Extra[0], "seed %d: sum of %v %s", seed, res.Window, res.Key)
		total += n
	}
	// Every record is in size/period = 2 or 3 windows; the total counts
	// them all exactly once per window.
	want := int64(0)
	for _, row := range rows {
		want += int64(len(fn.Assign(nil, row[2].Time())))
	}
	assert.Equal(t, want, total, "seed %d: every record counted in each of its windows", seed)
}

// ysbLike builds a YSB-like pipeline and n random records over keys ads.
func ysbLike(n, ads int) (*dataflow.Pipeline, []dataflow.Record) {
	r := rand.New(rand.NewPCG(11, 12))
	types := []string{"view", "click", "purchase"}
	out := make([]dataflow.Record, n)
	for i := range out {
		out[i] = dataflow.Record{
			Row: dataflow.Row{
				dataflow.Str(fmt.Sprintf("a%d", 1+r.IntN(ads))),
				dataflow.Str(types[r.IntN(3)]),
				ts(int64(i) * 10),
			},
			Partition:   i % 4,
			Offset:      int64(i / 4),
			IngestNanos: int64(i) * 1e7,
		}
	}
	return ysbPipeline(), out
}

func TestReferenceSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("speed check")
	}
	p, in := ysbLike(100_000, 3)
	got, err := dataflow.Reference(p, sliceSeq(in), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	var views int64
	for _, rec := range in {
		if rec.Row[1].S == "view" && rec.Row[0].S != "a4" {
			views++
		}
	}
	var sum int64
	for _, r := range got {
		sum += r.Value.I
	}
	assert.Equal(t, views, sum, "every view of a known ad counted once")
}

// TestReferenceSessionsAndCountsMatchNaive checks sessions and count windows
// against brute force on random data: sessions by sorting each key's times
// and cutting where the next time is gap or more later (I3); count windows by
// slicing each key's values in arrival order (I6).
func TestReferenceSessionsAndCountsMatchNaive(t *testing.T) {
	const seed, gap = 3, 50
	r := rand.New(rand.NewPCG(seed, 2))
	s := dataflow.NewSchema(
		dataflow.Field{Name: "k", Kind: dataflow.KindString},
		dataflow.Field{Name: "x", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "t", Kind: dataflow.KindTimestamp},
	)
	var rows []dataflow.Row
	byKey := map[string][]dataflow.Row{}
	for range 3000 {
		row := dataflow.Row{dataflow.Str(fmt.Sprintf("k%d", r.IntN(4))), dataflow.Int(r.Int64N(10)), ts(r.Int64N(40_000))}
		rows = append(rows, row)
		byKey[row[0].S] = append(byKey[row[0].S], row)
	}

	p := dataflow.NewPipeline("s", s).Aggregate(dataflow.Aggregation{
		Key: []string{"k"}, Window: dataflow.WindowFn{Kind: dataflow.WindowSession, Gap: gap}, TimeCol: "t",
		Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("x")},
	})
	got, err := dataflow.Reference(p, sliceSeq(recs(rows...)), dataflow.ReferenceOptions{})
	require.NoError(t, err, "seed %d", seed)
	var want []dataflow.Result
	for k, krows := range byKey {
		sorted := slices.Clone(krows)
		slices.SortStableFunc(sorted, func(a, b dataflow.Row) int { return cmp.Compare(a[2].I, b[2].I) })
		start := 0
		for i := 1; i <= len(sorted); i++ {
			if i < len(sorted) && sorted[i][2].I-sorted[i-1][2].I < gap {
				continue
			}
			var sum int64
			for _, row := range sorted[start:i] {
				sum += row[1].I
			}
			want = append(want, res(sorted[start][2].I, sorted[i-1][2].I+gap, k, dataflow.Int(int64(i-start)), dataflow.Int(sum)))
			start = i
		}
	}
	dataflow.SortResults(want)
	assert.Equal(t, want, got, "seed %d: sessions", seed)

	const size, slide = 7, 3
	p = dataflow.NewPipeline("c", s).Aggregate(dataflow.Aggregation{
		Key: []string{"k"}, Window: dataflow.CountWindows(size, slide),
		Aggs: []dataflow.Agg{dataflow.Sum("x")},
	})
	got, err = dataflow.Reference(p, sliceSeq(recs(rows...)), dataflow.ReferenceOptions{})
	require.NoError(t, err, "seed %d", seed)
	want = want[:0]
	for k, krows := range byKey {
		for start := 0; start+size <= len(krows); start += slide {
			var sum int64
			for _, row := range krows[start : start+size] {
				sum += row[1].I
			}
			want = append(want, res(int64(start), int64(start+size), k, dataflow.Int(sum)))
		}
	}
	dataflow.SortResults(want)
	assert.Equal(t, want, got, "seed %d: count windows", seed)
}
