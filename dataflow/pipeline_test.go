package dataflow_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

var weblogs = dataflow.NewSchema(
	dataflow.Field{Name: "domain", Kind: dataflow.KindString},
	dataflow.Field{Name: "path", Kind: dataflow.KindString},
	dataflow.Field{Name: "status", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "bytes", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "latency_ms", Kind: dataflow.KindFloat64},
	dataflow.Field{Name: "flag", Kind: dataflow.KindBool},
	dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
)

// agg is a valid windowed aggregation over weblogs, changed by each case.
func agg() dataflow.Aggregation {
	return dataflow.Aggregation{
		Key:     []string{"domain"},
		Window:  dataflow.FixedWindows(time.Minute),
		TimeCol: "event_time",
		Aggs:    []dataflow.Agg{dataflow.Count()},
	}
}

func TestPipelineValidate(t *testing.T) {
	with := func(f func(a *dataflow.Aggregation)) *dataflow.Pipeline {
		a := agg()
		f(&a)
		return dataflow.NewPipeline("p", weblogs).Aggregate(a)
	}
	tests := []struct {
		name string
		p    *dataflow.Pipeline
		want string // "" means valid
	}{
		{"valid", with(func(*dataflow.Aggregation) {}), ""},
		{"valid-processing-time", with(func(a *dataflow.Aggregation) { a.Domain, a.TimeCol = dataflow.ProcessingTime, "" }), ""},
		{"valid-count-no-time", with(func(a *dataflow.Aggregation) { a.Window, a.TimeCol = dataflow.CountWindows(10, 5), "" }), ""},
		{"valid-having-extra", with(func(a *dataflow.Aggregation) {
			a.Aggs = append(a.Aggs, dataflow.Mean("latency_ms"))
			a.Having = dataflow.Gt(dataflow.Col("mean_latency_ms"), dataflow.LitInt(100))
		}), ""},
		{"nil", nil, "nil pipeline"},
		{"bad-input-schema", dataflow.NewPipeline("p", dataflow.NewSchema(dataflow.Field{Name: "x"})).Output(nil, "x"), "no valid kind"},
		{"unknown-key", with(func(a *dataflow.Aggregation) { a.Key = []string{"host"} }), `no column "host"`},
		{"unknown-time-column", with(func(a *dataflow.Aggregation) { a.TimeCol = "ts" }), `no column "ts"`},
		{"time-column-not-time", with(func(a *dataflow.Aggregation) { a.TimeCol = "domain" }), "not a timestamp"},
		{"bad-window", with(func(a *dataflow.Aggregation) { a.Window = dataflow.FixedWindows(0) }), "size must be positive"},
		{"bad-offset", with(func(a *dataflow.Aggregation) { a.Window = dataflow.FixedWindows(time.Second).WithOffset(time.Second) }), "offset"},
		{"bad-session", with(func(a *dataflow.Aggregation) { a.Window = dataflow.SessionWindows(-time.Second) }), "gap must be positive"},
		{"bad-count", with(func(a *dataflow.Aggregation) { a.Window = dataflow.CountWindows(5, 0) }), "slide must be positive"},
		{"bad-domain", with(func(a *dataflow.Aggregation) { a.Domain = 7 }), "unknown time domain"},
		{"negative-lateness", with(func(a *dataflow.Aggregation) { a.AllowedLateness = -time.Second }), "lateness"},
		{"negative-out-of-orderness", with(func(a *dataflow.Aggregation) { a.Watermark.MaxOutOfOrderness = -1 }), "out-of-orderness"},
		{"negative-idle", with(func(a *dataflow.Aggregation) { a.Watermark.IdleTimeout = -1 }), "idle timeout"},
		{"negative-trigger", with(func(a *dataflow.Aggregation) { a.Trigger.AfterCount = -1 }), "trigger"},
		{"no-aggs", with(func(a *dataflow.Aggregation) { a.Aggs = nil }), "at least one aggregate"},
		{"unknown-agg-column", with(func(a *dataflow.Aggregation) { a.Aggs = []dataflow.Agg{dataflow.Sum("size")} }), `no column "size"`},
		{"sum-of-string", with(func(a *dataflow.Aggregation) { a.Aggs = []dataflow.Agg{dataflow.Sum("path")} }), "needs a numeric column"},
		{"min-of-bool", with(func(a *dataflow.Aggregation) { a.Aggs = []dataflow.Agg{dataflow.Min("flag")} }), "bool column"},
		{"top-n-zero", with(func(a *dataflow.Aggregation) { a.Aggs = []dataflow.Agg{dataflow.TopN("path", 0)} }), "N > 0"},
		{"invalid-agg", with(func(a *dataflow.Aggregation) { a.Aggs = []dataflow.Agg{{}} }), "unknown aggregate"},
		{"bad-precision", with(func(a *dataflow.Aggregation) {
			a.Aggs = []dataflow.Agg{{Kind: dataflow.AggApproxDistinct, Col: "path", Precision: 3}}
		}), "precision"},
		{"negative-width", with(func(a *dataflow.Aggregation) {
			a.Aggs = []dataflow.Agg{{Kind: dataflow.AggApproxTopN, Col: "path", N: 3, Width: -1}}
		}), "width"},
		{"discarding-mean", with(func(a *dataflow.Aggregation) {
			a.Accumulation = dataflow.Discarding
			a.Aggs = []dataflow.Agg{dataflow.Mean("latency_ms")}
		}), "discarding panes"},
		{"duplicate-output-names", with(func(a *dataflow.Aggregation) {
			a.Aggs = []dataflow.Agg{dataflow.Count(), dataflow.Sum("bytes"), dataflow.Sum("bytes")}
		}), "Agg.As"},
		{"having-not-bool", with(func(a *dataflow.Aggregation) { a.Having = dataflow.Add(dataflow.Col("value"), dataflow.LitInt(1)) }), "not bool"},
		{"having-unknown-column", with(func(a *dataflow.Aggregation) { a.Having = dataflow.Gt(dataflow.Col("count"), dataflow.LitInt(1)) }), `no column "count"`},
		{"filter-not-bool", dataflow.NewPipeline("p", weblogs).Filter(dataflow.Col("status")).Output(nil, "status"), "not bool"},
		{"map-no-name", dataflow.NewPipeline("p", weblogs).Map("", dataflow.LitInt(1)).Output(nil, "status"), "output column name"},
		{"project-empty", dataflow.NewPipeline("p", weblogs).Project().Output(nil, "status"), "at least one column"},
		{"project-duplicate", dataflow.NewPipeline("p", weblogs).Project("path", "path").Output(nil, "path"), "two fields"},
		{"project-then-missing", dataflow.NewPipeline("p", weblogs).Project("path").Output(nil, "status"), `no column "status"`},
		{"explode-not-string", dataflow.NewPipeline("p", weblogs).Explode("bytes", "#", "tag").Output(nil, "tag"), "string column"},
		{"explode-no-name", dataflow.NewPipeline("p", weblogs).Explode("path", "#", "").Output(nil, "path"), "output column name"},
		{"lookup-no-table", dataflow.NewPipeline("p", weblogs).Lookup(nil, "domain", "ad_id").Output(nil, "path"), "no table"},
		{"lookup-kind-mismatch", dataflow.NewPipeline("p", weblogs).Lookup(campaigns, "status", "ad_id").Output(nil, "path"), "joins"},
		{"lookup-unknown-table-column", dataflow.NewPipeline("p", weblogs).Lookup(campaigns, "domain", "ad_id", "owner").Output(nil, "path"), `no column "owner"`},
		{"output-no-value", dataflow.NewPipeline("p", weblogs), "output value column"},
		{"output-unknown", dataflow.NewPipeline("p", weblogs).Output([]string{"host"}, "path"), `no column "host"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestPipelineSchemas(t *testing.T) {
	p := dataflow.NewPipeline("p", weblogs).
		Map("kb", dataflow.Div(dataflow.Col("bytes"), dataflow.LitInt(1024))).
		Map("status", dataflow.Ge(dataflow.Col("status"), dataflow.LitInt(500))). // replaces in place
		Project("domain", "status", "kb", "event_time").
		Explode("domain", "", "part").
		Lookup(campaigns, "part", "ad_id", "campaign_id").
		Output(nil, "kb")
	ss, err := p.Schemas()
	require.NoError(t, err)
	require.Len(t, ss, 6)
	assert.Equal(t, "(domain string, status bool, kb int64, event_time timestamp, part string, campaign_id string)", ss[5].String())
	assert.Equal(t, "(domain string, path string, status bool, bytes int64, latency_ms float64, flag bool, event_time timestamp, kb int64)", ss[2].String())
	last, err := p.Last()
	require.NoError(t, err)
	assert.True(t, last.Equal(ss[5]))
}

func TestOutputSchema(t *testing.T) {
	a := agg()
	a.Aggs = []dataflow.Agg{dataflow.Max("event_time"), dataflow.Sum("latency_ms"), dataflow.TopN("path", 3).Named("top"), dataflow.Span("event_time")}
	assert.Equal(t, "(key string, value timestamp, sum_latency_ms float64, top string, span_event_time int64)", a.OutputSchemaFor(weblogs).String())
}

func TestTableIndex(t *testing.T) {
	idx, err := campaigns.Index("ad_id")
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"a1": 0, "a2": 1, "a3": 2}, idx)
	_, err = campaigns.Index("nope")
	assert.ErrorContains(t, err, `no column "nope"`)
}

func TestAppendKeyAndCompare(t *testing.T) {
	row := dataflow.Row{dataflow.Str("a"), dataflow.Int(-3), dataflow.Float(0.5), dataflow.Bool(true)}
	assert.Equal(t, "a|-3|0.5|true", string(dataflow.AppendKey(nil, row, []int{0, 1, 2, 3})))
	assert.Equal(t, "", string(dataflow.AppendKey(nil, row, nil)))

	rs := []dataflow.Result{
		{Window: w(10, 20), Key: "a", Value: dataflow.Int(1)},
		{Window: w(0, 10), Key: "b", Value: dataflow.Int(1)},
		{Window: w(0, 20), Key: "a", Value: dataflow.Int(1)},
		{Window: w(0, 10), Key: "a", Value: dataflow.Int(2), Extra: []dataflow.Value{dataflow.Int(1)}},
		{Window: w(0, 10), Key: "a", Value: dataflow.Int(2)},
		{Window: w(0, 10), Key: "a", Value: dataflow.Int(1)},
	}
	dataflow.SortResults(rs)
	assert.Equal(t, []dataflow.Result{
		{Window: w(0, 10), Key: "a", Value: dataflow.Int(1)},
		{Window: w(0, 10), Key: "a", Value: dataflow.Int(2)},
		{Window: w(0, 10), Key: "a", Value: dataflow.Int(2), Extra: []dataflow.Value{dataflow.Int(1)}},
		{Window: w(0, 20), Key: "a", Value: dataflow.Int(1)},
		{Window: w(0, 10), Key: "b", Value: dataflow.Int(1)},
		{Window: w(10, 20), Key: "a", Value: dataflow.Int(1)},
	}, rs)
}

func TestValueBasics(t *testing.T) {
	assert.Equal(t, "null", dataflow.Value{}.String())
	assert.Equal(t, "1.5", dataflow.Float(1.5).String())
	assert.Equal(t, "1970-01-01T00:00:01.000Z", dataflow.Time(1000).String())
	assert.Equal(t, "-inf", dataflow.MinTime.String())
	assert.True(t, dataflow.Float(1).ApproxEqual(dataflow.Float(1+1e-12)))
	assert.False(t, dataflow.Float(1).ApproxEqual(dataflow.Float(1.001)))
	assert.False(t, dataflow.Int(1).Equal(dataflow.Float(1)), "kinds differ")
	assert.Equal(t, dataflow.Time(-1), dataflow.Record{IngestNanos: -1}.ProcessingTime(), "ingest time floors to ms")
	assert.Equal(t, dataflow.Time(1), dataflow.Record{IngestNanos: 1_999_999}.ProcessingTime())
}
