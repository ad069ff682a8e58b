package compare

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// onlineConsumer is the log consumer name of the online check.
const onlineConsumer = "compare/online-check"

// OnlineCheckable returns "" if the online check of an unbounded run
// ([RunUnbounded]) can compute p's exact answer window by window in bounded
// memory, or the reason it cannot: it handles event-time fixed and sliding
// windows of an aggregation without a join or a regroup, over a dataset
// whose event time follows its timeline (datasets's DS2) so that a window is final
// once the generator has passed its end by the data's largest delay.
func OnlineCheckable(w *Workload, p *dataflow.Pipeline) string {
	switch {
	case p.Agg == nil:
		return "a stateless pipeline's answer is one row per record, which the check would have to keep for the whole stream"
	case p.Join != nil:
		return "a join's exact answer pairs rows across the whole input"
	case p.Then != nil:
		return "a regroup's exact answer needs every window's results of the first aggregation"
	}
	switch p.Agg.Window.Kind {
	case dataflow.WindowFixed, dataflow.WindowSliding:
	case dataflow.WindowSession:
		return "a session window stays open as long as its key keeps coming, so its exact value is never final in bounded time"
	case dataflow.WindowCount:
		return "a count window's contents depend on each key's arrival order over the whole stream"
	default:
		return "a global window's exact value is final only at the end of the stream"
	}
	switch {
	case p.Agg.Domain != dataflow.EventTime || p.Agg.TimeCol == "":
		return "a processing-time window's contents depend on when the runtime read each record, not on the data"
	case w.Dataset == "sessions":
		return "the sessions dataset's event times follow each user's schedule, so no event time bounds the records still to come"
	}
	return ""
}

// onlineCheck computes the exact answer of a windowed aggregation from the
// log as it fills, window by window, in memory bounded by the windows still
// open (those the generator has not passed by the data's largest delay)
// and the results of the windows it has finalised. It reads the log as a
// registered [datasets.Consumer], so the log's retention keeps every record
// until the check has read it.
//
// A window [s, e) is final once every record that can still arrive has an
// event time of at least e: the log is in arrival order, a record arrives
// at its event time plus at most maxDelay (datasets's DS3), and the generator appends
// a record once its event time has passed its arrival, so after a flush
// whose largest event time is F no record with event time below
// F - maxDelay is still to come.
type onlineCheck struct {
	a        *dataflow.Aggregation
	in       dataflow.Schema
	keyIdx   []int
	aggIdx   []int
	byIdx    []int
	kinds    []dataflow.Kind
	having   func(dataflow.Row) bool
	maxDelay int64 // ms

	open     map[dataflow.Window]map[string][]dataflow.Accumulator
	wins     []dataflow.Window
	keyBuf   []byte
	frontier int64 // largest event time read, ms
	// finalEnd: every window ending at or before it is final.
	finalEnd int64

	final        []dataflow.Result // results of the finalised windows
	finalWindows int64
	records      int64 // rows that reached the aggregation
	// beyond counts (row, window) pairs whose window was already final
	// when the row came: disorder beyond maxDelay, which makes the check
	// inexact (it is then reported, never a match).
	beyond int64
}

func newOnlineCheck(p *dataflow.Pipeline, maxDelayMs int64) (*onlineCheck, error) {
	schemas, err := p.Schemas()
	if err != nil {
		return nil, err
	}
	in := schemas[len(schemas)-1]
	a := p.Agg
	c := &onlineCheck{a: a, in: in, maxDelay: maxDelayMs, open: map[dataflow.Window]map[string][]dataflow.Accumulator{},
		frontier: math.MinInt64, finalEnd: math.MinInt64}
	for _, k := range a.Key {
		_, i, err := in.Lookup(k)
		if err != nil {
			return nil, err
		}
		c.keyIdx = append(c.keyIdx, i)
	}
	for _, g := range a.Aggs {
		i, b, k := -1, -1, dataflow.KindInvalid
		if g.Kind != dataflow.AggCount {
			f, j, err := in.Lookup(g.Col)
			if err != nil {
				return nil, err
			}
			i, k = j, f.Kind
		}
		if g.Paired() {
			if _, b, err = in.Lookup(g.By); err != nil {
				return nil, err
			}
		}
		c.aggIdx, c.byIdx, c.kinds = append(c.aggIdx, i), append(c.byIdx, b), append(c.kinds, k)
	}
	if a.Having != nil {
		if c.having, err = dataflow.CompilePredicate(a.Having, a.OutputSchemaFor(in)); err != nil {
			return nil, fmt.Errorf("having: %w", err)
		}
	}
	c.wins = make([]dataflow.Window, 0, a.Window.MaxWindowsPerElement())
	return c, nil
}

// add folds one row reaching the aggregation, of event time t.
func (c *onlineCheck) add(t dataflow.Time, r dataflow.Row) {
	c.records++
	c.frontier = max(c.frontier, int64(t))
	c.keyBuf = dataflow.AppendKey(c.keyBuf[:0], r, c.keyIdx)
	c.wins = c.a.Window.Assign(c.wins[:0], t)
	for _, w := range c.wins {
		if int64(w.End) <= c.finalEnd {
			c.beyond++
			continue
		}
		keys := c.open[w]
		if keys == nil {
			keys = map[string][]dataflow.Accumulator{}
			c.open[w] = keys
		}
		accs, ok := keys[string(c.keyBuf)]
		if !ok {
			accs = make([]dataflow.Accumulator, len(c.a.Aggs))
			for i, g := range c.a.Aggs {
				accs[i] = g.NewAccumulator(c.kinds[i])
			}
			keys[string(c.keyBuf)] = accs
		}
		for i, x := range c.aggIdx {
			switch {
			case c.byIdx[i] >= 0:
				accs[i].(dataflow.PairAccumulator).AddPair(r[x], r[c.byIdx[i]])
			case x >= 0:
				accs[i].Add(r[x])
			default:
				accs[i].Add(dataflow.Value{})
			}
		}
	}
}

// advance finalises the windows that end at or before end.
func (c *onlineCheck) advance(end int64) {
	if end <= c.finalEnd {
		return
	}
	c.finalEnd = end
	row := make(dataflow.Row, 1+len(c.a.Aggs))
	for w, keys := range c.open {
		if int64(w.End) > end {
			continue
		}
		for key, accs := range keys {
			res := dataflow.Result{Window: w, Key: key, Value: accs[0].Result()}
			if len(accs) > 1 {
				res.Extra = make([]dataflow.Value, len(accs)-1)
				for i, acc := range accs[1:] {
					res.Extra[i] = acc.Result()
				}
			}
			if c.having != nil {
				row[0], row[1] = dataflow.Str(key), res.Value
				copy(row[2:], res.Extra)
				if !c.having(row) {
					continue
				}
			}
			c.final = append(c.final, res)
		}
		c.finalWindows++
		delete(c.open, w)
	}
}

// openWindows returns the number of windows not yet final.
func (c *onlineCheck) openWindows() int { return len(c.open) }

// follow reads log as consumer cons from the start to its end, round by
// round (each round up to one flush's ends, [datasets.Log.Published]),
// runs p's stateless steps over the records and folds the rows into c;
// after each round it finalises what the round's frontier allows and
// reports the positions read to the log's retention. It returns when the
// log is closed and read (finalising every window), or with ctx's error,
// or with the log's error. onRound, if set, is called after each round
// (for progress).
func (c *onlineCheck) follow(ctx context.Context, p *dataflow.Pipeline, log *datasets.Log, cons *datasets.Consumer, onRound func()) error {
	parts := log.Partitions()
	pos := make([]int64, parts)
	var ends []int64
	var ferr error
	records := func(yield func(dataflow.Record) bool) {
		for {
			ch := log.Changed()
			closed := log.Closed() // before the ends: once closed, they are final
			ends = log.Published(ends)
			for q := range parts {
				for r := range log.Records(q, pos[q]) {
					if r.Offset >= ends[q] {
						break
					}
					if !yield(r) {
						return
					}
				}
				pos[q] = max(pos[q], ends[q])
				if err := cons.Retain(q, pos[q]); err != nil {
					ferr = err
					return
				}
			}
			if err := log.Err(); err != nil {
				ferr = err
				return
			}
			if closed {
				c.advance(math.MaxInt64)
				if onRound != nil {
					onRound()
				}
				return
			}
			if c.frontier != math.MinInt64 {
				c.advance(c.frontier - c.maxDelay)
			}
			if onRound != nil {
				onRound()
			}
			select {
			case <-ch:
			case <-ctx.Done():
				ferr = ctx.Err()
				return
			}
		}
	}
	err := dataflow.AggregationInput(p, iter.Seq[dataflow.Record](records), func(_ dataflow.Record, t dataflow.Time, row dataflow.Row) {
		c.add(t, row)
	})
	return errors.Join(err, ferr)
}
