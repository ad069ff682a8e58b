package dataflow_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// The workload shapes below replicate compare's fraud, sessions,
// iot-sliding and count-window workloads (compare/workloads.go over the datasets'
// transactions, sessions and iot generators) without importing compare, which
// imports dataflow: the same schemas, key cardinalities, event rates,
// windows and aggregates, on synthetic data of the same shape.

// txSchema is the transactions dataset's schema.
var txSchema = dataflow.NewSchema(
	dataflow.Field{Name: "card_id", Kind: dataflow.KindString},
	dataflow.Field{Name: "merchant", Kind: dataflow.KindString},
	dataflow.Field{Name: "amount", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "country", Kind: dataflow.KindString},
	dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
)

// iotSchema is the iot dataset's schema.
var iotSchema = dataflow.NewSchema(
	dataflow.Field{Name: "sensor_id", Kind: dataflow.KindString},
	dataflow.Field{Name: "temperature", Kind: dataflow.KindFloat64},
	dataflow.Field{Name: "humidity", Kind: dataflow.KindFloat64},
	dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
)

// iotRecords returns n readings of 1,000 sensors ("sensor-0000" ...)
// reporting in turn, one reading per ms of event time (each sensor once a
// second), in event-time order, as the iot dataset at its workload's rate.
func iotRecords(n int) []dataflow.Record {
	r := rand.New(rand.NewPCG(16, 4))
	ids := make([]dataflow.Value, 1000)
	base := make([]float64, len(ids))
	for i := range ids {
		ids[i] = dataflow.Str(fmt.Sprintf("sensor-%04d", i))
		base[i] = 15 + 10*r.Float64()
	}
	out := make([]dataflow.Record, n)
	for i := range out {
		k := i % len(ids)
		t := int64(benchStart + i)
		out[i] = dataflow.Record{
			Row: dataflow.Row{ids[k], dataflow.Float(base[k] + r.Float64() - 0.5), dataflow.Float(30 + 40*r.Float64()),
				dataflow.Timestamp(dataflow.Time(t))},
			Offset:      int64(i),
			IngestNanos: t * 1e6,
		}
	}
	return out
}

// ssSchema is the sessions dataset's schema.
var ssSchema = dataflow.NewSchema(
	dataflow.Field{Name: "user_id", Kind: dataflow.KindString},
	dataflow.Field{Name: "action", Kind: dataflow.KindString},
	dataflow.Field{Name: "page", Kind: dataflow.KindString},
	dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
)

const benchStart = 1_700_000_000_000

// txRecords returns n card payments at rate events per second of event
// time over 10,000 cards ("card-00000" ...), each up to 2 s late (the
// datasets' arrival delay), in arrival order.
func txRecords(n int, rate float64) []dataflow.Record {
	r := rand.New(rand.NewPCG(16, 1))
	cards := make([]dataflow.Value, 10_000)
	for i := range cards {
		cards[i] = dataflow.Str(fmt.Sprintf("card-%05d", i))
	}
	merchants := make([]dataflow.Value, 500)
	for i := range merchants {
		merchants[i] = dataflow.Str(fmt.Sprintf("merchant-%03d", i))
	}
	countries := []dataflow.Value{dataflow.Str("US"), dataflow.Str("GB"), dataflow.Str("DE"), dataflow.Str("FR")}
	out := make([]dataflow.Record, n)
	for i := range out {
		t := benchStart + int64(float64(i)*1000/rate) - r.Int64N(2000)
		out[i] = dataflow.Record{
			Row: dataflow.Row{cards[r.IntN(len(cards))], merchants[r.IntN(len(merchants))],
				dataflow.Int(100 + r.Int64N(20_000)), countries[r.IntN(len(countries))], dataflow.Timestamp(dataflow.Time(t))},
			Offset:      int64(i),
			IngestNanos: (benchStart + int64(float64(i)*1000/rate)) * 1e6,
		}
	}
	return out
}

// ssRecords returns n click events of n/32 users ("user-0000000" ...):
// bursts of 1 to 12 events 0.2 to 25 s apart, bursts 30 to 300 s apart (one
// gap in 20 near the 30 s boundary), merged in event-time order.
func ssRecords(n int) []dataflow.Record {
	r := rand.New(rand.NewPCG(16, 2))
	users := max(16, n/32)
	type user struct {
		next int64
		left int
	}
	us := make([]user, users)
	ids := make([]dataflow.Value, users)
	for i := range us {
		us[i] = user{next: benchStart + r.Int64N(20_000), left: 1 + r.IntN(12)}
		ids[i] = dataflow.Str(fmt.Sprintf("user-%07d", i))
	}
	gap := func(inBurst bool) int64 {
		switch {
		case r.IntN(20) == 0 && inBurst:
			return 29_999 - r.Int64N(100)
		case r.IntN(20) == 0:
			return 30_000 + r.Int64N(100)
		case inBurst:
			return 200 + r.Int64N(24_800)
		}
		return 30_001 + r.Int64N(270_000)
	}
	type ev struct {
		t    int64
		user int
	}
	evs := make([]ev, 0, n+users)
	for u := range us {
		for us[u].next < benchStart+int64(n/users+1)*20_000 {
			evs = append(evs, ev{us[u].next, u})
			us[u].left--
			if us[u].left > 0 {
				us[u].next += gap(true)
			} else {
				us[u].next += gap(false)
				us[u].left = 1 + r.IntN(12)
			}
		}
	}
	slices.SortFunc(evs, func(a, b ev) int { return int(a.t - b.t) })
	evs = evs[:min(n, len(evs))]
	actions := []dataflow.Value{dataflow.Str("view"), dataflow.Str("click"), dataflow.Str("purchase")}
	out := make([]dataflow.Record, len(evs))
	for i, e := range evs {
		out[i] = dataflow.Record{
			Row:         dataflow.Row{ids[e.user], actions[r.IntN(3)], dataflow.Str(fmt.Sprintf("/page/%03d", r.IntN(100))), dataflow.Timestamp(dataflow.Time(e.t))},
			Offset:      int64(i),
			IngestNanos: e.t * 1e6,
		}
	}
	return out
}

// workloadShape is one of compare's workloads: its aggregation, input
// schema and records.
type workloadShape struct {
	name string
	in   dataflow.Schema
	agg  dataflow.Aggregation
	gen  func() []dataflow.Record
	recs []dataflow.Record // gen's, after load
}

// load generates the shape's records (once: each benchmark generates only
// the shapes it runs, outside its timed loop).
func (s *workloadShape) load() {
	if s.recs == nil {
		s.recs = s.gen()
	}
}

func workloadShapes() []workloadShape {
	et := func(a dataflow.Aggregation) dataflow.Aggregation {
		a.Domain, a.TimeCol, a.Late = dataflow.EventTime, "event_time", dataflow.LateDrop
		a.Watermark = dataflow.WatermarkPolicy{MaxOutOfOrderness: 5 * time.Second}
		return a
	}
	return []workloadShape{
		{"fraud", txSchema, et(dataflow.Aggregation{
			Key:    []string{"card_id"},
			Window: dataflow.SlidingWindows(60*time.Second, 10*time.Second),
			Aggs:   []dataflow.Agg{dataflow.Count()},
			Having: dataflow.Gt(dataflow.Col("value"), dataflow.LitInt(5)),
		}), func() []dataflow.Record { return txRecords(100_000, 200) }, nil},
		{"sessions", ssSchema, et(dataflow.Aggregation{
			Key:    []string{"user_id"},
			Window: dataflow.SessionWindows(30 * time.Second),
			Aggs:   []dataflow.Agg{dataflow.Count(), dataflow.Span("event_time").Named("duration_ms")},
		}), func() []dataflow.Record { return ssRecords(200_000) }, nil},
		{"iot-sliding", iotSchema, et(dataflow.Aggregation{
			Key:    []string{"sensor_id"},
			Window: dataflow.SlidingWindows(60*time.Second, 10*time.Second),
			Aggs:   []dataflow.Agg{dataflow.Mean("temperature")},
		}), func() []dataflow.Record { return iotRecords(200_000) }, nil},
		{"count-window", txSchema, dataflow.Aggregation{
			Key:    []string{"card_id"},
			Window: dataflow.CountWindows(100, 100),
			Aggs:   []dataflow.Agg{dataflow.Sum("amount")},
		}, func() []dataflow.Record { return txRecords(1_000_000, 200) }, nil},
	}
}

// runShape feeds the records to op as recordstream's window bolt does:
// every record to Add, the watermark (largest event time minus the bound)
// after every 256 records, Finish at the end.
func runShape(op *dataflow.WindowOperator, s *workloadShape) {
	bound := dataflow.Time(5000)
	ti := s.in.Index("event_time")
	maxT := dataflow.MinTime
	for i, rec := range s.recs {
		op.Add(rec.Row, rec.IngestNanos)
		if s.agg.Window.Kind != dataflow.WindowCount {
			maxT = max(maxT, rec.Row[ti].Time())
			if i%256 == 255 {
				op.AdvanceWatermark(maxT - bound)
			}
		}
	}
	op.Finish()
}

// BenchmarkOperatorWorkload measures a whole run of the WindowOperator over
// each workload shape: a new operator, every record added, the watermark
// advanced every 256 records, Finish.
func BenchmarkOperatorWorkload(b *testing.B) {
	for _, s := range workloadShapes() {
		b.Run("workload="+s.name, func(b *testing.B) {
			s.load()
			panes := 0
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				op, err := dataflow.NewWindowOperator(&s.agg, s.in, dataflow.OperatorConfig{Emit: func(dataflow.Pane) { panes++ }})
				if err != nil {
					b.Fatal(err)
				}
				runShape(op, &s)
			}
			reportCPUPerEvent(b, cpu, len(s.recs))
			if panes == 0 {
				b.Fatal("no panes")
			}
			reportPerEvent(b, len(s.recs))
		})
	}
}

// BenchmarkReferenceWorkload measures Reference over each workload shape.
func BenchmarkReferenceWorkload(b *testing.B) {
	for _, s := range workloadShapes() {
		b.Run("workload="+s.name, func(b *testing.B) {
			s.load()
			p := dataflow.NewPipeline(s.name, s.in).Aggregate(s.agg)
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				rs, err := dataflow.Reference(p, slices.Values(s.recs), dataflow.ReferenceOptions{})
				if err != nil || len(rs) == 0 {
					b.Fatal(len(rs), err)
				}
			}
			reportCPUPerEvent(b, cpu, len(s.recs))
			reportPerEvent(b, len(s.recs))
		})
	}
}

// TestOperatorWorkloadExact checks the operator against Reference on each
// workload shape (smaller inputs: 30,000 records, so count-window takes
// sliding count windows of 3 every 2 to fill some of 10,000 cards'): every
// pane is on time, the panes equal the reference's results, and no record
// is late.
func TestOperatorWorkloadExact(t *testing.T) {
	for _, s := range workloadShapes() {
		s.load()
		s.recs = s.recs[:min(len(s.recs), 30_000)]
		if s.agg.Window.Kind == dataflow.WindowCount {
			s.agg.Window = dataflow.CountWindows(3, 2)
		}
		var got []dataflow.Result
		late := 0
		op, err := dataflow.NewWindowOperator(&s.agg, s.in, dataflow.OperatorConfig{
			Emit: func(p dataflow.Pane) {
				require.Equal(t, dataflow.PaneOnTime, p.Timing, "%s: pane %v", s.name, p.Result)
				got = append(got, p.Result)
			},
			Late: func(dataflow.Row, int64) { late++ },
		})
		require.NoError(t, err)
		runShape(op, &s)
		require.Zero(t, late, "%s: late records", s.name)
		p := dataflow.NewPipeline(s.name, s.in).Aggregate(s.agg)
		want, err := dataflow.Reference(p, sliceSeq(s.recs), dataflow.ReferenceOptions{})
		require.NoError(t, err)
		require.NotEmpty(t, want, s.name)
		dataflow.SortResults(got)
		requireSameResults(t, s.name, want, got)
	}
}

// reportCPUPerEvent reports the process CPU time (all threads: the
// benchmark, the garbage collector) per event since cpu, a figure less
// disturbed than wall time by other processes on a shared machine.
func reportCPUPerEvent(b *testing.B, cpu time.Duration, perOp int) {
	if now := processCPU(); now > 0 {
		b.ReportMetric(float64((now-cpu).Nanoseconds())/float64(b.N)/float64(perOp), "cpu-ns/event")
	}
}

// TestOperatorKeyCache drives the operator's key cache (one string key
// column, looked up by the string's address) with keys that share one
// string, keys that arrive as fresh copies of equal text, and keys whose
// string views one buffer rewritten between records (as Arrow values over
// a recycled buffer: one address, other text), while the
// watermark drops every key's windows (so keys are forgotten and made
// again), over more keys than the cache's first size: the output must
// equal Reference (and, with -tags invariants, DO2 checks the cache after
// every call).
func TestOperatorKeyCache(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 3))
	keys := make([]string, 600)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%03d", i)
	}
	recs := make([]dataflow.Record, 20_000)
	for i := range recs {
		k := keys[rng.IntN(len(keys))]
		if rng.IntN(2) == 0 {
			k = strings.Clone(k) // equal text, another address
		}
		recs[i] = dataflow.Record{Row: opRow(k, int64(i), 1), Offset: int64(i)}
	}
	a := dataflow.Aggregation{Key: []string{"k"}, Window: dataflow.FixedWindows(time.Second), TimeCol: "t",
		Aggs: []dataflow.Agg{dataflow.Count()}}
	var got []dataflow.Result
	op, err := dataflow.NewWindowOperator(&a, opSchema, dataflow.OperatorConfig{Emit: func(p dataflow.Pane) { got = append(got, p.Result) }})
	require.NoError(t, err)
	buf := make([]byte, 4)
	alias := unsafe.String(&buf[0], len(buf))
	row := make(dataflow.Row, 3)
	for i, r := range recs {
		copy(row, r.Row)
		if i%3 == 0 {
			copy(buf, r.Row[0].S)
			row[0] = dataflow.Str(alias)
		}
		require.False(t, op.Add(row, 0))
		if i%7 == 0 {
			op.AdvanceWatermark(dataflow.Time(i))
		}
	}
	op.Finish()
	want, err := dataflow.Reference(dataflow.NewPipeline("keys", opSchema).Aggregate(a), slices.Values(recs), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	dataflow.SortResults(got)
	requireSameResults(t, "keys", want, got)
}

// requireSameResults fails at the first result that differs, without
// rendering a diff of thousands of results.
func requireSameResults(t *testing.T, name string, want, got []dataflow.Result) {
	t.Helper()
	for i := range min(len(want), len(got)) {
		if dataflow.CompareResults(want[i], got[i]) != 0 {
			t.Fatalf("%s: result %d: operator %v, reference %v", name, i, got[i], want[i])
		}
	}
	if len(want) != len(got) {
		t.Fatalf("%s: operator gave %d results, reference %d", name, len(got), len(want))
	}
}
