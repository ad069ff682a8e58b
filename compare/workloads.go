package compare

import (
	"fmt"
	"strings"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// watermarkBound is the bounded out-of-orderness of every event-time
// workload: 5 s, above the built-in data's 2 s arrival delay, so default runs
// have no late records.
const watermarkBound = 5 * time.Second

// GrepDomains returns the domains the grep workload keeps: three of the
// weblogs dataset's fixed domain names, a popular one and two rarer ones.
func GrepDomains() []string {
	d := datasets.WeblogDomains()
	return []string{d[1], d[7], d[20]}
}

// Workloads returns the named workloads of the lecture, in `bench list`
// order. Each call builds new values; callers may keep or change them.
//
// Every event-time workload uses a watermark bounded by 5 s of
// out-of-orderness, no idle timeout, no allowed lateness and drops late
// records (counted and reported by the runtime, CM2). request-rate windows by
// processing time (ingest time, I7), so nothing is late; count-window counts
// elements, so it has no watermark, and its results' window bounds are the
// key's element ordinals (dataflow I6), not milliseconds.
//
// The top-N workloads' value is "tag=count,tag=count,…": at most 10 tags by
// count descending, ties by tag ascending ([dataflow.TopN]); the approximate
// one's counts are Count-Min estimates ([dataflow.ApproxTopN]).
//
// The Nexmark queries (nexmark-q0 ... nexmark-q12) follow, on the nexmark
// dataset at [NexmarkEventRate]; each one's description says how it maps
// Beam's query onto weir's model.
func Workloads() []*Workload {
	return append(LectureWorkloads(), nexmarkWorkloads()...)
}

// LectureWorkloads returns the lecture's own workloads, the first part of
// [Workloads] without the Nexmark queries: what the no-argument lecture
// suite and the superset experiment (L2) run, in time budgets set before
// the queries came.
func LectureWorkloads() []*Workload {
	return []*Workload{
		{
			Name:        "ysb",
			Dataset:     "ysb",
			EventRate:   10_000, // 20 s of event time in 200k events: two or three 10 s windows
			Description: "Yahoo Streaming Benchmark: views per campaign (ad_id joined with campaigns) in 10 s event-time windows; watermark 5 s, lateness 0",
			Pipeline:    ysbPipeline,
		},
		{
			Name:        "grep",
			Dataset:     "weblogs",
			Description: "time-agnostic filter: requests to the domains " + strings.Join(GrepDomains(), ", ") + " (key domain, value path, extra status); stateless",
			Pipeline:    grepPipeline,
		},
		{
			Name:        "hashtag-topn",
			Dataset:     "hashtags",
			EventRate:   20, // 10,000 s of event time in 200k tweets: three or four hours
			Description: "top 10 hashtags per 2-byte prefix per event-time hour, exact: value tag=count,… by count descending, ties by tag ascending (byte order), a tag repeated in one tweet counted each time; watermark 5 s, lateness 0",
			Pipeline: func(map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
				return hashtagPipeline("hashtag-topn", dataflow.TopN("hashtag", 10))
			},
		},
		{
			Name:        "hashtag-approx-topn",
			Dataset:     "hashtags",
			EventRate:   20, // 10,000 s of event time in 200k tweets: three or four hours
			Description: "top 10 hashtags per 2-byte prefix per event-time hour, approximated by a Count-Min sketch: value tag=count,… with the sketch's estimates (never below the true counts) by estimate descending, ties by tag ascending (byte order); watermark 5 s, lateness 0",
			Pipeline: func(map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
				return hashtagPipeline("hashtag-approx-topn", dataflow.ApproxTopN("hashtag", 10))
			},
		},
		{
			Name:        "request-rate",
			Dataset:     "weblogs",
			Description: "requests per processing-time minute (ingest time), all requests together (key \"\"); nothing is late",
			Pipeline:    requestRatePipeline,
		},
		{
			Name:        "sessions",
			Dataset:     "sessions",
			Description: "events and duration_ms per user session (event-time sessions, gap 30 s); watermark 5 s, lateness 0",
			Pipeline:    sessionsPipeline,
		},
		{
			Name:        "iot-sliding",
			Dataset:     "iot",
			EventRate:   1_000, // one reading per sensor per second
			Description: "mean temperature per sensor in 60 s event-time windows every 10 s; watermark 5 s, lateness 0",
			Pipeline:    iotPipeline,
		},
		{
			Name:        "fraud",
			Dataset:     "transactions",
			Events:      100_000, // sliding windows of 10,000 cards are costly; 500 s of event time
			EventRate:   200,     // about one transaction per card per minute
			Description: "cards with more than 5 transactions in a sliding event-time minute (every 10 s); watermark 5 s, lateness 0",
			Pipeline:    fraudPipeline,
		},
		{
			Name:        "count-window",
			Dataset:     "transactions",
			Events:      1_000_000, // 100 transactions per card on average: half the cards fill a window
			EventRate:   200,
			Description: "sum of amount per card every 100 transactions of that card (count windows 100/100); window_start_ms and window_end_ms hold the card's element ordinals [k*100, k*100+100), not milliseconds; no watermark",
			Pipeline:    countWindowPipeline,
		},
	}
}

// WorkloadNames returns the workload names in `bench list` order.
func WorkloadNames() []string {
	ws := Workloads()
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = w.Name
	}
	return names
}

// LookupWorkload returns the named workload, or an error listing the names.
func LookupWorkload(name string) (*Workload, error) {
	for _, w := range Workloads() {
		if w.Name == name {
			return w, nil
		}
	}
	return nil, fmt.Errorf("unknown workload %q: use one of %s", name, strings.Join(WorkloadNames(), ", "))
}

// eventTime is the aggregation settings every event-time workload shares.
func eventTime(a dataflow.Aggregation) dataflow.Aggregation {
	a.Domain = dataflow.EventTime
	a.TimeCol = "event_time"
	a.Watermark = dataflow.WatermarkPolicy{MaxOutOfOrderness: watermarkBound}
	a.AllowedLateness = 0
	a.Late = dataflow.LateDrop
	return a
}

func ysbPipeline(tables map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
	in, err := datasetSchema("ysb")
	if err != nil {
		return nil, err
	}
	campaigns := tables["campaigns"]
	if campaigns == nil {
		return nil, fmt.Errorf("workload ysb needs the campaigns table; regenerate the data with `bench gen ysb`")
	}
	p := dataflow.NewPipeline("ysb", in).
		Filter(dataflow.Eq(dataflow.Col("event_type"), dataflow.LitStr("view"))).
		Lookup(campaigns, "ad_id", "ad_id", "campaign_id").
		Aggregate(eventTime(dataflow.Aggregation{
			Key:    []string{"campaign_id"},
			Window: dataflow.FixedWindows(10 * time.Second),
			Aggs:   []dataflow.Agg{dataflow.Count()},
		}))
	return p, p.Validate()
}

func grepPipeline(map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
	in, err := datasetSchema("weblogs")
	if err != nil {
		return nil, err
	}
	var domains []dataflow.Value
	for _, d := range GrepDomains() {
		domains = append(domains, dataflow.Str(d))
	}
	p := dataflow.NewPipeline("grep", in).
		Filter(dataflow.In(dataflow.Col("domain"), domains...)).
		Output([]string{"domain"}, "path", "status")
	return p, p.Validate()
}

func hashtagPipeline(name string, agg dataflow.Agg) (*dataflow.Pipeline, error) {
	in, err := datasetSchema("hashtags")
	if err != nil {
		return nil, err
	}
	p := dataflow.NewPipeline(name, in).
		Explode("text", "#", "hashtag").
		Map("prefix", dataflow.Prefix(dataflow.Col("hashtag"), 2)).
		Aggregate(eventTime(dataflow.Aggregation{
			Key:    []string{"prefix"},
			Window: dataflow.FixedWindows(time.Hour),
			Aggs:   []dataflow.Agg{agg},
		}))
	return p, p.Validate()
}

func requestRatePipeline(map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
	in, err := datasetSchema("weblogs")
	if err != nil {
		return nil, err
	}
	p := dataflow.NewPipeline("request-rate", in).
		Aggregate(dataflow.Aggregation{
			Window: dataflow.FixedWindows(time.Minute),
			Domain: dataflow.ProcessingTime,
			Aggs:   []dataflow.Agg{dataflow.Count()},
		})
	return p, p.Validate()
}

func sessionsPipeline(map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
	in, err := datasetSchema("sessions")
	if err != nil {
		return nil, err
	}
	p := dataflow.NewPipeline("sessions", in).
		Aggregate(eventTime(dataflow.Aggregation{
			Key:    []string{"user_id"},
			Window: dataflow.SessionWindows(30 * time.Second),
			Aggs:   []dataflow.Agg{dataflow.Count(), dataflow.Span("event_time").Named("duration_ms")},
		}))
	return p, p.Validate()
}

func iotPipeline(map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
	in, err := datasetSchema("iot")
	if err != nil {
		return nil, err
	}
	p := dataflow.NewPipeline("iot-sliding", in).
		Aggregate(eventTime(dataflow.Aggregation{
			Key:    []string{"sensor_id"},
			Window: dataflow.SlidingWindows(60*time.Second, 10*time.Second),
			Aggs:   []dataflow.Agg{dataflow.Mean("temperature")},
		}))
	return p, p.Validate()
}

func fraudPipeline(map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
	in, err := datasetSchema("transactions")
	if err != nil {
		return nil, err
	}
	p := dataflow.NewPipeline("fraud", in).
		Aggregate(eventTime(dataflow.Aggregation{
			Key:    []string{"card_id"},
			Window: dataflow.SlidingWindows(60*time.Second, 10*time.Second),
			Aggs:   []dataflow.Agg{dataflow.Count()},
			Having: dataflow.Gt(dataflow.Col("value"), dataflow.LitInt(5)),
		}))
	return p, p.Validate()
}

func countWindowPipeline(map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
	in, err := datasetSchema("transactions")
	if err != nil {
		return nil, err
	}
	p := dataflow.NewPipeline("count-window", in).
		Aggregate(dataflow.Aggregation{
			Key:    []string{"card_id"},
			Window: dataflow.CountWindows(100, 100),
			Aggs:   []dataflow.Agg{dataflow.Sum("amount")},
		})
	return p, p.Validate()
}

// datasetSchema returns the schema of the named dataset's events, from its
// generator, so the schemas live in one place.
func datasetSchema(name string) (dataflow.Schema, error) {
	g, err := datasets.Lookup(name)
	if err != nil {
		return dataflow.Schema{}, err
	}
	return g.Schema(), nil
}
