// Package cleansing is lab 1: a stateless pipeline written by hand, record
// at a time, as a Flink FilterFunction and MapFunction (or a Storm bolt)
// would be, and graded against the exact answer of the same pipeline
// written in weir's logical model ([Spec], evaluated by
// [dataflow.Reference]).
//
// The task (README.md has the full text, hints and the discussion): turn the
// weblogs dataset's requests into page views. A request is a page view
// when it succeeded (status 200 or 304), answered in under a second, is
// not a static asset (a path starting with "/static/") and was made to a
// partner site ([Sites]); the page view carries the site's category and the
// response size in whole KiB.
//
// You write [NewCleaner] and [Cleaner.Clean] in exercise.go; run the tests
// against your code with
//
//	go test -tags student ./labs/cleansing/
//
// Without the tag the tests run against the worked solution (solution.go).
//
// Clean is a pure function of one request: no goroutines, no I/O, no
// state across calls, so it is trivially safe to run in parallel, to
// replay and to run again after a crash.
package cleansing

import (
	"errors"
	"fmt"

	"github.com/weirlab/weir/dataflow"
)

// ErrNotImplemented is what the unfilled skeleton returns.
var ErrNotImplemented = errors.New("cleansing: not implemented (fill in exercise.go)")

// Request is one weblogs record, decoded from its row ([ParseRequest]).
type Request struct {
	Domain    string
	Path      string
	Status    int64
	Bytes     int64
	LatencyMs float64
	ClientIP  string
	EventTime dataflow.Time
}

// PageView is a cleaned and enriched request: the lab's output.
type PageView struct {
	Domain   string
	Path     string
	Category string // the partner site's category, from Sites
	KB       int64  // response size in whole KiB (bytes / 1024, rounded down)
	// EventTime is the request's event time, unchanged.
	EventTime dataflow.Time
}

// Result renders the page view as the output row of [Spec]: key the
// domain, value the path, extra columns category, kb and event_time.
func (v PageView) Result() dataflow.Result {
	return dataflow.Result{
		Key:   v.Domain,
		Value: dataflow.Str(v.Path),
		Extra: []dataflow.Value{dataflow.Str(v.Category), dataflow.Int(v.KB), dataflow.Timestamp(v.EventTime)},
	}
}

// Columns are the positions of the weblogs columns in a row.
type Columns struct {
	Domain, Path, Status, Bytes, LatencyMs, ClientIP, EventTime int
}

// ColumnsOf finds the weblogs columns in schema s, or says which is
// missing.
func ColumnsOf(s dataflow.Schema) (Columns, error) {
	var c Columns
	for _, f := range []struct {
		name string
		kind dataflow.Kind
		idx  *int
	}{
		{"domain", dataflow.KindString, &c.Domain},
		{"path", dataflow.KindString, &c.Path},
		{"status", dataflow.KindInt64, &c.Status},
		{"bytes", dataflow.KindInt64, &c.Bytes},
		{"latency_ms", dataflow.KindFloat64, &c.LatencyMs},
		{"client_ip", dataflow.KindString, &c.ClientIP},
		{"event_time", dataflow.KindTimestamp, &c.EventTime},
	} {
		fd, i, err := s.Lookup(f.name)
		if err != nil {
			return Columns{}, fmt.Errorf("cleansing: not a weblogs schema: %w", err)
		}
		if fd.Kind != f.kind {
			return Columns{}, fmt.Errorf("cleansing: not a weblogs schema: column %q is %v, want %v", f.name, fd.Kind, f.kind)
		}
		*f.idx = i
	}
	return c, nil
}

// ParseRequest decodes one weblogs row. The strings it returns are the
// row's own (Go strings are immutable, so they may be kept).
func ParseRequest(row dataflow.Row, c Columns) Request {
	return Request{
		Domain:    row[c.Domain].S,
		Path:      row[c.Path].S,
		Status:    row[c.Status].Int64(),
		Bytes:     row[c.Bytes].Int64(),
		LatencyMs: row[c.LatencyMs].Float64(),
		ClientIP:  row[c.ClientIP].S,
		EventTime: row[c.EventTime].Time(),
	}
}

// Sites returns the partner sites, domain to category: 24 of the weblogs
// dataset's 40 domains. A request to any other domain is not reported.
// Each call returns a new map.
func Sites() map[string]string {
	cats := map[string][]string{
		"media":     {"news", "video", "music", "radio", "tv", "movies", "sports"},
		"commerce":  {"shop", "deals", "fashion", "books", "cars", "homes", "tickets"},
		"tools":     {"mail", "search", "maps", "docs", "code"},
		"reference": {"wiki", "learn", "science", "weather", "food"},
	}
	m := map[string]string{}
	for cat, names := range cats {
		for _, n := range names {
			m["www."+n+".example"] = cat
		}
	}
	return m
}

// SitesTable is sites as a lookup table (columns domain, category) for
// [Spec].
func SitesTable(sites map[string]string) *dataflow.Table {
	t := &dataflow.Table{
		Name:   "sites",
		Schema: dataflow.NewSchema(dataflow.Field{Name: "domain", Kind: dataflow.KindString}, dataflow.Field{Name: "category", Kind: dataflow.KindString}),
	}
	for d, c := range sites {
		t.Rows = append(t.Rows, dataflow.Row{dataflow.Str(d), dataflow.Str(c)})
	}
	return t
}

// Spec is the lab's task in weir's logical model: the exact answer the
// tests grade [Cleaner.Clean] against is dataflow.Reference of this
// pipeline over the weblogs schema in.
func Spec(in dataflow.Schema, sites map[string]string) (*dataflow.Pipeline, error) {
	p := dataflow.NewPipeline("cleansing", in).
		Filter(dataflow.In(dataflow.Col("status"), dataflow.Int(200), dataflow.Int(304))).
		Filter(dataflow.Lt(dataflow.Col("latency_ms"), dataflow.LitFloat(1000))).
		Filter(dataflow.Not(dataflow.HasPrefix(dataflow.Col("path"), "/static/"))).
		Lookup(SitesTable(sites), "domain", "domain", "category").
		Map("kb", dataflow.Div(dataflow.Col("bytes"), dataflow.LitInt(1024))).
		Output([]string{"domain"}, "path", "category", "kb", "event_time")
	return p, p.Validate()
}
