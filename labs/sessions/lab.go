// Package sessions is lab 2: per-user session windows written by hand as a
// streaming operator, fired by the watermark, and graded against the exact
// answer of the same aggregation in weir's logical model ([Spec],
// evaluated by [dataflow.Reference]).
//
// The task (README.md has the full text, hints and the discussion): the
// sessions dataset is a click stream; a user's session is a run of
// events less than Gap apart (I3: an event at time t opens [t, t+Gap);
// sessions that overlap merge, sessions that only touch do not). For each
// session emit, once, when the watermark says it is complete (I4: W >=
// its end), its number of events and its span (last event time minus
// first). A record that arrives after the watermark has passed it (W > t,
// I5 with no allowed lateness) is late: refuse it.
//
// You write [NewSessions], [Sessions.Add] and [Sessions.Advance] in
// exercise.go; run the tests against your code with
//
//	go test -tags student ./labs/sessions/
//
// Without the tag the tests run against the worked solution (solution.go).
//
// [Run] is the lab's driver, the part a runtime plays (its loop is
// labs/internal/drive's, shared with the trending lab): it reads the log's
// partitions in turn, one record at a time, keeps the watermark with a
// [dataflow.WatermarkTracker] (each partition's largest event time minus
// the bound, the minimum over partitions) and calls Add for each record and
// Advance whenever the watermark moves. The operator is a single-goroutine
// state machine: it reads no clock and does no I/O, and time comes in as
// arguments.
package sessions

import (
	"errors"
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/labs/internal/drive"
)

// ErrNotImplemented is what the unfilled skeleton returns.
var ErrNotImplemented = errors.New("sessions: not implemented (fill in exercise.go)")

// Spec is the lab's task in weir's logical model: sessions of user_id
// with the given gap, each with its count of events and its span
// (duration_ms), over the sessions dataset's schema in. The tests grade the
// operator against dataflow.Reference of it.
func Spec(in dataflow.Schema, gap time.Duration) (*dataflow.Pipeline, error) {
	p := dataflow.NewPipeline("sessions-lab", in).
		Aggregate(dataflow.Aggregation{
			Key:     []string{"user_id"},
			Window:  dataflow.SessionWindows(gap),
			TimeCol: "event_time",
			Aggs:    []dataflow.Agg{dataflow.Count(), dataflow.Span("event_time").Named("duration_ms")},
		})
	return p, p.Validate()
}

// SessionResult renders one session as Spec's output row: the window
// [first, last+gap), the user as key, the count as value and the span
// (last - first, ms) as the one extra column.
func SessionResult(w dataflow.Window, user string, count int64, span int64) dataflow.Result {
	return dataflow.Result{Window: w, Key: user, Value: dataflow.Int(count), Extra: []dataflow.Value{dataflow.Int(span)}}
}

// Emission is one session the operator emitted, with the watermark it was
// emitted at.
type Emission struct {
	Result    dataflow.Result
	Watermark dataflow.Time
}

// Arrival is one record as the driver handed it to Add: where it is in
// the log, its event time, the watermark before the call, and whether Add
// accepted it.
type Arrival struct {
	dataflow.RecordRef
	User      string
	EventTime dataflow.Time
	Watermark dataflow.Time
	Accepted  bool
}

// Trace is what [Run] saw: every arrival in the order of the calls, and
// every emission in the order the operator made them.
type Trace struct {
	Arrivals  []Arrival
	Emissions []Emission
}

// Run drives a new operator with the given gap over the closed log l (the
// sessions dataset), with a watermark bounded by bound of out-of-orderness,
// and returns what happened. Records are read round robin over the
// partitions, each partition in offset order, as a runtime's tasks would
// interleave them; once every partition is done the watermark is
// [dataflow.MaxTime], which fires every remaining session.
func Run(l *datasets.Log, gap, bound time.Duration) (*Trace, error) {
	s, err := NewSessions(gap)
	if err != nil {
		return nil, err
	}
	schema := l.Schema()
	_, userCol, err := schema.Lookup("user_id")
	if err != nil {
		return nil, fmt.Errorf("sessions: not a sessions log: %w", err)
	}
	_, timeCol, err := schema.Lookup("event_time")
	if err != nil {
		return nil, fmt.Errorf("sessions: not a sessions log: %w", err)
	}
	tr := &Trace{}
	wm := dataflow.MinTime
	emit := func(r dataflow.Result) {
		r.Extra = append([]dataflow.Value(nil), r.Extra...) // the operator may reuse its slice
		tr.Emissions = append(tr.Emissions, Emission{Result: r, Watermark: wm})
	}
	drive.Log(l, timeCol, bound, func(ref dataflow.RecordRef, row dataflow.Row, w dataflow.Time) {
		user, t := row[userCol].S, row[timeCol].Time()
		a := Arrival{RecordRef: ref, User: user, EventTime: t, Watermark: w}
		a.Accepted = s.Add(user, t)
		tr.Arrivals = append(tr.Arrivals, a)
	}, func(w dataflow.Time) {
		wm = w
		s.Advance(wm, emit)
	})
	return tr, nil
}
