package dataflow_test

import (
	"fmt"
	"slices"
	"time"

	"github.com/weirlab/weir/dataflow"
)

// A YSB-like workload: views per campaign in 10-second windows, computed by
// the reference evaluator.
func ExampleReference() {
	events := dataflow.NewSchema(
		dataflow.Field{Name: "ad_id", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_type", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	campaigns := &dataflow.Table{
		Name: "campaigns",
		Schema: dataflow.NewSchema(
			dataflow.Field{Name: "ad_id", Kind: dataflow.KindString},
			dataflow.Field{Name: "campaign_id", Kind: dataflow.KindString},
		),
		Rows: []dataflow.Row{
			{dataflow.Str("ad1"), dataflow.Str("summer")},
			{dataflow.Str("ad2"), dataflow.Str("summer")},
			{dataflow.Str("ad3"), dataflow.Str("winter")},
		},
	}
	p := dataflow.NewPipeline("ysb", events).
		Filter(dataflow.Eq(dataflow.Col("event_type"), dataflow.LitStr("view"))).
		Lookup(campaigns, "ad_id", "ad_id", "campaign_id").
		Aggregate(dataflow.Aggregation{
			Key:     []string{"campaign_id"},
			Window:  dataflow.FixedWindows(10 * time.Second),
			TimeCol: "event_time",
			Aggs:    []dataflow.Agg{dataflow.Count()},
		})
	if err := p.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	ev := func(ad, typ string, ms int64) dataflow.Record {
		return dataflow.Record{Row: dataflow.Row{dataflow.Str(ad), dataflow.Str(typ), dataflow.Timestamp(dataflow.Time(ms))}}
	}
	log := []dataflow.Record{
		ev("ad1", "view", 1_000),
		ev("ad2", "view", 9_999),
		ev("ad3", "click", 4_000),
		ev("ad3", "view", 10_000),
	}
	results, err := dataflow.Reference(p, slices.Values(log), dataflow.ReferenceOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Println(r.Window, r.Key, r.Value)
	}
	// Output:
	// [0, 10000) summer 2
	// [10000, 20000) winter 1
}

// Sessions of one user: an event exactly one gap after the previous one
// starts a new session (I3).
func ExampleReference_sessions() {
	clicks := dataflow.NewSchema(
		dataflow.Field{Name: "user_id", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	p := dataflow.NewPipeline("sessions", clicks).Aggregate(dataflow.Aggregation{
		Key:     []string{"user_id"},
		Window:  dataflow.SessionWindows(30 * time.Second),
		TimeCol: "event_time",
		Aggs:    []dataflow.Agg{dataflow.Count(), dataflow.Span("event_time").Named("duration_ms")},
	})
	var log []dataflow.Record
	// 20s after 0 joins the session; 50s and 80s are each exactly one gap
	// after the previous click, so each starts a new one.
	for _, ms := range []int64{0, 20_000, 50_000, 80_000} {
		log = append(log, dataflow.Record{Row: dataflow.Row{dataflow.Str("ann"), dataflow.Timestamp(dataflow.Time(ms))}})
	}
	results, err := dataflow.Reference(p, slices.Values(log), dataflow.ReferenceOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Printf("%v %s count=%v duration_ms=%v\n", r.Window, r.Key, r.Value, r.Extra[0])
	}
	// Output:
	// [0, 50000) ann count=2 duration_ms=20000
	// [50000, 80000) ann count=1 duration_ms=0
	// [80000, 110000) ann count=1 duration_ms=0
}

// Partial aggregates merge: two accumulators over halves of the input give
// the same result as one over all of it.
func ExampleAgg_NewAccumulator() {
	g := dataflow.TopN("tag", 2)
	left, right := g.NewAccumulator(dataflow.KindString), g.NewAccumulator(dataflow.KindString)
	for _, s := range []string{"#go", "#rust", "#go"} {
		left.Add(dataflow.Str(s))
	}
	for _, s := range []string{"#zig", "#rust", "#rust"} {
		right.Add(dataflow.Str(s))
	}
	left.Merge(right)
	fmt.Println(left.Result())
	// Output:
	// #rust=3,#go=2
}
