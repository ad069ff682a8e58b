package compare

import (
	"time"

	"github.com/weirlab/weir/dataflow"
)

// NexmarkEventRate is the event-time density of every Nexmark workload's
// built-in data: 10,000 events per second of event time, the default rate
// of Beam's and nexmark-flink's generators (nexmark-and-peers.md 1.2). At
// the default 1,000,000 events that is 100 s of event time: ten 10 s
// windows, each with about 200 persons, 600 auctions and 9,200 bids.
const NexmarkEventRate = 10_000

// nexmarkWindow is the window of the windowed queries (q4, q7, q8, q12;
// q5 slides it every nexmarkSlide): Beam's windowSizeSec and nexmark-flink's
// hard-coded 10 s.
const (
	nexmarkWindow = 10 * time.Second
	nexmarkSlide  = 5 * time.Second
)

// Nexmark event types (the event_type column of the nexmark dataset).
const (
	nexmarkPerson  = 0
	nexmarkAuction = 1
	nexmarkBid     = 2
)

// nexmarkWorkloads returns the Nexmark queries on weir's Nexmark generator
// (Beam's event model and proportions, one flat schema, event_type 0
// person, 1 auction, 2 bid), with Beam's query semantics where weir's
// model expresses them and the documented approximation where it does not
// (q4).
func nexmarkWorkloads() []*Workload {
	nx := func(name, desc string, build func() (*dataflow.Pipeline, error)) *Workload {
		return &Workload{
			Name:        name,
			Dataset:     "nexmark",
			EventRate:   NexmarkEventRate,
			Description: desc,
			Pipeline: func(map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
				p, err := build()
				if err != nil {
					return nil, err
				}
				return p, p.Validate()
			},
		}
	}
	return []*Workload{
		nx("nexmark-q0", "Nexmark q0 pass-through: every bid (key auction, value price, extra bidder, event_time, channel, url, extra); stateless",
			nexmarkQ0),
		nx("nexmark-q1", "Nexmark q1 currency conversion: every bid with its price in euros, price * 0.908 as a float (nexmark-flink's factor; key auction, value price_eur, extra bidder, event_time); stateless",
			nexmarkQ1),
		nx("nexmark-q2", "Nexmark q2 selection: bids on auctions with auction % 123 == 0 (Beam's auctionSkip; key auction, value price); stateless",
			nexmarkQ2),
		nx("nexmark-q3", "Nexmark q3 local item suggestion: incremental join (unbounded state, every pair once) of persons in OR, ID or CA with auctions in category 10 on person_id = seller; key auction_id, value name, extra city, state; nothing is late",
			nexmarkQ3),
		nx("nexmark-q4", "Nexmark q4 average winning price per category: auctions joined with their bids per fixed 10 s event-time window (bid time within [auction time, expires], price >= reserve), the highest price per auction and category, then its mean per category and window; weir's fixed-window approximation of Beam's custom merging auction window (a bid in a later window than its auction is not seen) and of its sliding mean; watermark 5 s, lateness 0",
			nexmarkQ4),
		nx("nexmark-q5", "Nexmark q5 hot items: the auction with the most bids per sliding event-time window of 10 s every 5 s (Beam's sizes), value auction=count (ties: least auction id, byte order); watermark 5 s, lateness 0",
			nexmarkQ5),
		nx("nexmark-q7", "Nexmark q7 highest bid: per fixed 10 s event-time window the highest price, extra the auction and the bidder of that bid (max_by price; on equal prices the least id of each); watermark 5 s, lateness 0",
			nexmarkQ7),
		nx("nexmark-q8", "Nexmark q8 monitor new users: persons joined with the auctions they created in the same fixed 10 s event-time window, one row per (person, auction) pair as Beam's CoGroupByKey gives; key person_id, value name, extra window_start; watermark 5 s, lateness 0",
			nexmarkQ8),
		nx("nexmark-q11", "Nexmark q11 user sessions: bids per bidder per event-time session (gap 10 s); watermark 5 s, lateness 0",
			nexmarkQ11),
		nx("nexmark-q12", "Nexmark q12 processing-time windows: bids per bidder per fixed 10 s processing-time window (ingest time); nothing is late",
			nexmarkQ12),
	}
}

// NexmarkQueries returns the names of the Nexmark workloads in `bench
// list` order.
func NexmarkQueries() []string {
	var names []string
	for _, w := range nexmarkWorkloads() {
		names = append(names, w.Name)
	}
	return names
}

func isType(t int64) dataflow.Expr {
	return dataflow.Eq(dataflow.Col("event_type"), dataflow.LitInt(t))
}

// nexmarkBids starts a pipeline over the bids (named later).
func nexmarkBids() (*dataflow.Pipeline, error) {
	in, err := datasetSchema("nexmark")
	if err != nil {
		return nil, err
	}
	return dataflow.NewPipeline("", in).Filter(isType(nexmarkBid)), nil
}

func nexmarkQ0() (*dataflow.Pipeline, error) {
	p, err := nexmarkBids()
	if err != nil {
		return nil, err
	}
	p.Name = "nexmark-q0"
	return p.Output([]string{"auction"}, "price", "bidder", "event_time", "channel", "url", "extra"), nil
}

func nexmarkQ1() (*dataflow.Pipeline, error) {
	p, err := nexmarkBids()
	if err != nil {
		return nil, err
	}
	p.Name = "nexmark-q1"
	return p.Map("price_eur", dataflow.Mul(dataflow.Col("price"), dataflow.LitFloat(0.908))).
		Output([]string{"auction"}, "price_eur", "bidder", "event_time"), nil
}

func nexmarkQ2() (*dataflow.Pipeline, error) {
	p, err := nexmarkBids()
	if err != nil {
		return nil, err
	}
	p.Name = "nexmark-q2"
	return p.Filter(dataflow.Eq(dataflow.Mod(dataflow.Col("auction"), dataflow.LitInt(123)), dataflow.LitInt(0))).
		Output([]string{"auction"}, "price"), nil
}

func nexmarkQ3() (*dataflow.Pipeline, error) {
	in, err := datasetSchema("nexmark")
	if err != nil {
		return nil, err
	}
	p := dataflow.NewPipeline("nexmark-q3", in)
	p.Join = &dataflow.Join{
		Left: dataflow.JoinSide{
			Name: "person",
			Steps: []dataflow.Step{dataflow.FilterStep{Pred: dataflow.And(isType(nexmarkPerson),
				dataflow.In(dataflow.Col("state"), dataflow.Str("OR"), dataflow.Str("ID"), dataflow.Str("CA")))}},
			Key:     []string{"person_id"},
			Cols:    []string{"name", "city", "state"},
			TimeCol: "event_time",
		},
		Right: dataflow.JoinSide{
			Name: "auction",
			Steps: []dataflow.Step{dataflow.FilterStep{Pred: dataflow.And(isType(nexmarkAuction),
				dataflow.Eq(dataflow.Col("category"), dataflow.LitInt(10)))}},
			Key:     []string{"seller"},
			Cols:    []string{"auction_id"},
			TimeCol: "event_time",
		},
		Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: watermarkBound},
	}
	return p.Output([]string{"auction_id"}, "name", "city", "state"), nil
}

func nexmarkQ4() (*dataflow.Pipeline, error) {
	in, err := datasetSchema("nexmark")
	if err != nil {
		return nil, err
	}
	p := dataflow.NewPipeline("nexmark-q4", in)
	p.Join = &dataflow.Join{
		Left: dataflow.JoinSide{
			Name: "auction",
			Steps: []dataflow.Step{
				dataflow.FilterStep{Pred: isType(nexmarkAuction)},
				dataflow.MapStep{As: "auction_time", Expr: dataflow.Col("event_time")},
			},
			Key:     []string{"auction_id"},
			Cols:    []string{"auction_id", "category", "reserve", "expires", "auction_time"},
			TimeCol: "event_time",
		},
		Right: dataflow.JoinSide{
			Name: "bid",
			Steps: []dataflow.Step{
				dataflow.FilterStep{Pred: isType(nexmarkBid)},
				dataflow.MapStep{As: "bid_time", Expr: dataflow.Col("event_time")},
			},
			Key:     []string{"auction"},
			Cols:    []string{"price", "bid_time"},
			TimeCol: "event_time",
		},
		Window:    dataflow.FixedWindows(nexmarkWindow),
		Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: watermarkBound},
		// Beam's WinningBids: a bid counts for its auction when it comes
		// while the auction is open and meets the reserve.
		Steps: []dataflow.Step{dataflow.FilterStep{Pred: dataflow.And(
			dataflow.Ge(dataflow.Col("bid_time"), dataflow.Col("auction_time")),
			dataflow.Le(dataflow.Col("bid_time"), dataflow.Col("expires")),
			dataflow.Ge(dataflow.Col("price"), dataflow.Col("reserve")),
		)}},
	}
	p.Agg = &dataflow.Aggregation{
		Key:     []string{"auction_id", "category"},
		Window:  dataflow.FixedWindows(nexmarkWindow),
		Domain:  dataflow.EventTime,
		TimeCol: dataflow.JoinTimeCol,
		Late:    dataflow.LateDrop,
		Aggs:    []dataflow.Agg{dataflow.Max("price").Named("final")},
	}
	p.Then = &dataflow.Regroup{
		Key:  []string{"category"},
		Aggs: []dataflow.Agg{dataflow.Mean("final")},
	}
	return p, nil
}

func nexmarkQ5() (*dataflow.Pipeline, error) {
	p, err := nexmarkBids()
	if err != nil {
		return nil, err
	}
	p.Name = "nexmark-q5"
	return p.Aggregate(eventTime(dataflow.Aggregation{
		Window: dataflow.SlidingWindows(nexmarkWindow, nexmarkSlide),
		Aggs:   []dataflow.Agg{dataflow.TopN("auction", 1)},
	})), nil
}

func nexmarkQ7() (*dataflow.Pipeline, error) {
	p, err := nexmarkBids()
	if err != nil {
		return nil, err
	}
	p.Name = "nexmark-q7"
	return p.Aggregate(eventTime(dataflow.Aggregation{
		Window: dataflow.FixedWindows(nexmarkWindow),
		Aggs: []dataflow.Agg{
			dataflow.Max("price"),
			dataflow.MaxBy("auction", "price").Named("auction"),
			dataflow.MaxBy("bidder", "price").Named("bidder"),
		},
	})), nil
}

func nexmarkQ8() (*dataflow.Pipeline, error) {
	in, err := datasetSchema("nexmark")
	if err != nil {
		return nil, err
	}
	p := dataflow.NewPipeline("nexmark-q8", in)
	p.Join = &dataflow.Join{
		Left: dataflow.JoinSide{
			Name:    "person",
			Steps:   []dataflow.Step{dataflow.FilterStep{Pred: isType(nexmarkPerson)}},
			Key:     []string{"person_id"},
			Cols:    []string{"person_id", "name"},
			TimeCol: "event_time",
		},
		Right: dataflow.JoinSide{
			Name:    "auction",
			Steps:   []dataflow.Step{dataflow.FilterStep{Pred: isType(nexmarkAuction)}},
			Key:     []string{"seller"},
			Cols:    []string{"auction_id"},
			TimeCol: "event_time",
		},
		Window:    dataflow.FixedWindows(nexmarkWindow),
		Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: watermarkBound},
	}
	return p.Output([]string{"person_id"}, "name", dataflow.JoinWindowStartCol), nil
}

func nexmarkQ11() (*dataflow.Pipeline, error) {
	p, err := nexmarkBids()
	if err != nil {
		return nil, err
	}
	p.Name = "nexmark-q11"
	return p.Aggregate(eventTime(dataflow.Aggregation{
		Key:    []string{"bidder"},
		Window: dataflow.SessionWindows(nexmarkWindow),
		Aggs:   []dataflow.Agg{dataflow.Count()},
	})), nil
}

func nexmarkQ12() (*dataflow.Pipeline, error) {
	p, err := nexmarkBids()
	if err != nil {
		return nil, err
	}
	p.Name = "nexmark-q12"
	return p.Aggregate(dataflow.Aggregation{
		Key:    []string{"bidder"},
		Window: dataflow.FixedWindows(nexmarkWindow),
		Domain: dataflow.ProcessingTime,
		Aggs:   []dataflow.Agg{dataflow.Count()},
	}), nil
}
