// Package trending is lab 5: the lecture's own event-time example (L10.4),
// the top hashtags per prefix per hour, written by hand as a windowed
// operator fired by the watermark, and graded against the exact answer of
// the same aggregation in weir's logical model ([Spec], the hashtag-topn
// workload's pipeline, evaluated by [dataflow.Reference]).
//
// The task (README.md has the full text, hints and the discussion): split
// each tweet into its hashtags, assign each to its fixed, epoch-aligned
// event-time window (I2), count the tags per window and prefix (the tag's
// first two bytes: "#" and its first letter), and when the watermark
// reaches a window's end (I4) emit, once, each prefix's N most frequent
// tags in [dataflow.TopN]'s format. A tweet whose window has already
// fired is late (I5 with no allowed lateness: W >= end): refuse it.
//
// You write [NewTrending], [Trending.Add] and [Trending.Advance] in
// exercise.go; run the tests against your code with
//
//	go test -tags student ./labs/trending/
//
// Without the tag the tests run against the worked solution (solution.go).
// [Run] is the lab's driver, as in lab 2 (labs/sessions): the log's
// partitions read in turn, the watermark from a [dataflow.WatermarkTracker]
// (largest event time minus the bound, minimum over partitions), Add per
// tweet, Advance when the watermark moves. The operator is a
// single-goroutine state machine: no clock, no I/O.
package trending

import (
	"errors"
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/labs/internal/drive"
)

// ErrNotImplemented is what the unfilled skeleton returns.
var ErrNotImplemented = errors.New("trending: not implemented (fill in exercise.go)")

// PrefixLen is how many bytes of a hashtag make its prefix: "#g" for
// "#golang".
const PrefixLen = 2

// Spec is the lab's task in weir's logical model over the hashtags
// dataset's schema in: hashtags (tokens starting with "#") of each tweet,
// keyed by their first PrefixLen bytes, in fixed event-time windows of the
// given size, the n most frequent per window and prefix.
func Spec(in dataflow.Schema, window time.Duration, n int) (*dataflow.Pipeline, error) {
	p := dataflow.NewPipeline("trending-lab", in).
		Explode("text", "#", "hashtag").
		Map("prefix", dataflow.Prefix(dataflow.Col("hashtag"), PrefixLen)).
		Aggregate(dataflow.Aggregation{
			Key:     []string{"prefix"},
			Window:  dataflow.FixedWindows(window),
			TimeCol: "event_time",
			Aggs:    []dataflow.Agg{dataflow.TopN("hashtag", n)},
		})
	return p, p.Validate()
}

// Emission is one window and prefix the operator emitted, with the
// watermark it was emitted at.
type Emission struct {
	Result    dataflow.Result
	Watermark dataflow.Time
}

// Arrival is one tweet as the driver handed it to Add: where it is in the
// log, its event time, the watermark before the call, and whether Add
// accepted it.
type Arrival struct {
	dataflow.RecordRef
	EventTime dataflow.Time
	Watermark dataflow.Time
	Accepted  bool
}

// Trace is what [Run] saw: every arrival in call order and every emission
// in the order the operator made them.
type Trace struct {
	Arrivals  []Arrival
	Emissions []Emission
}

// Run drives a new operator (window size, n) over the closed hashtags log
// l with a watermark bounded by bound, and returns what happened. Tweets
// are read round robin over the partitions, each in offset order; once
// every partition is done the watermark is [dataflow.MaxTime].
func Run(l *datasets.Log, window time.Duration, n int, bound time.Duration) (*Trace, error) {
	op, err := NewTrending(window, n)
	if err != nil {
		return nil, err
	}
	s := l.Schema()
	_, textCol, err := s.Lookup("text")
	if err != nil {
		return nil, fmt.Errorf("trending: not a hashtags log: %w", err)
	}
	_, timeCol, err := s.Lookup("event_time")
	if err != nil {
		return nil, fmt.Errorf("trending: not a hashtags log: %w", err)
	}
	tr := &Trace{}
	wm := dataflow.MinTime
	emit := func(r dataflow.Result) {
		r.Extra = append([]dataflow.Value(nil), r.Extra...)
		tr.Emissions = append(tr.Emissions, Emission{Result: r, Watermark: wm})
	}
	drive.Log(l, timeCol, bound, func(ref dataflow.RecordRef, row dataflow.Row, w dataflow.Time) {
		t := row[timeCol].Time()
		a := Arrival{RecordRef: ref, EventTime: t, Watermark: w}
		a.Accepted = op.Add(row[textCol].S, t)
		tr.Arrivals = append(tr.Arrivals, a)
	}, func(w dataflow.Time) {
		wm = w
		op.Advance(wm, emit)
	})
	return tr, nil
}
