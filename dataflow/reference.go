package dataflow

import (
	"fmt"
	"iter"
	"slices"
)

// ReferenceOptions adjust [Reference].
type ReferenceOptions struct {
	// Exclude, if set, leaves out the records for which it is true, before
	// any step: the records a runtime reports it dropped (or sent to its late
	// output) as late, so the check compares like with like (I8).
	Exclude func(partition int, offset int64) bool
	// ExcludeWindows, if set, leaves a record out of some of its windows:
	// those whose End lies in (lo, hi] when ok. It expresses each model's
	// late rule: (MinTime, MaxTime] leaves the record out of every window
	// (I5), (MinTime, W] out of the windows ending at or before a watermark
	// W (Spark's per-window rule), (X, MaxTime] out of the windows still
	// open when a task that held the record lost its state at watermark X.
	// A session record is left out when its proto-session end t + Gap lies
	// in (lo, hi]; a record of a count, global or unwindowed aggregation or
	// of a stateless pipeline is left out whole. key is the row's key (I9):
	// one record's rows (after an explode) may go to tasks at different
	// watermarks, so a drop can be for one key only.
	//
	// In a pipeline with a [Join] it names side rows, not joined rows: key
	// is the side row's join key text, and the side row is left out of the
	// join windows whose End lies in (lo, hi] (an incremental join's side
	// row is left out whole). A record offered to both sides is asked about
	// once per side row.
	ExcludeWindows func(partition int, offset int64, key string) (lo, hi Time, ok bool)
	// ExcludeSide, if set, replaces ExcludeWindows for a join's side rows
	// and also names the side ([JoinLeft] or [JoinRight]): when one record
	// reaches both sides (a self-join), a runtime may have dropped one of
	// its side rows and kept the other.
	ExcludeSide func(partition int, offset int64, side int, key string) (lo, hi Time, ok bool)
}

// Reference is the exact, batch answer of pipeline p over a bounded input
// (I8): the oracle every runtime is checked against. It validates p, runs
// its steps on each record in iteration order, leaves out the excluded
// records, then groups the records reaching the aggregation by key and window
// and aggregates every one of them:
//
//   - fixed and sliding windows by [WindowFn.Assign] of the record's time
//     (event time from the TimeCol, or [Record.ProcessingTime] for the
//     processing-time domain, I7);
//   - sessions per key by merging the proto-sessions of all the key's records
//     ([MergeSessions], I3), each record then counted in its merged session;
//   - count windows per key by the key's ordinal of each record in iteration
//     order (I6); only full windows are emitted;
//   - global windows and WindowNone give one result per key, with the zero
//     Window.
//
// Having is evaluated on the output schema ([Aggregation.OutputSchemaFor]).
// Triggers, watermarks and allowed lateness do not change the batch answer:
// each window's final value is given once. A stateless pipeline gives one
// result per surviving record: the zero Window, the Emit key, the Emit value
// and the Emit extra columns.
//
// With a [Join], each record after the shared steps goes through both
// sides' steps; at the end of the input every left and right row of a key
// are paired: once per window both share (windowed joins; join_time =
// window end - 1 ms, plus window_start and window_end), or once (incremental
// joins; join_time = the later event time). Watermarks and allowed lateness
// change nothing here either. Each joined row goes through Join.Steps, then
// to the aggregation or emit. With Pipeline.Then ([Regroup]) the results
// are the regroup's: every (key, window) result of the aggregation as a
// row of [Aggregation.ResultSchema], grouped again per window by
// Regroup.Key, Having applied.
//
// Results are sorted by [SortResults]. The rows records yields may be reused
// between iterations; Reference copies what it keeps. Reference is
// deliberately simple (maps of keys and windows, one accumulator set per
// window) so that it is obviously correct; it is not a streaming runtime.
func Reference(p *Pipeline, records iter.Seq[Record], opts ReferenceOptions) ([]Result, error) {
	schemas, err := p.Schemas()
	if err != nil {
		return nil, err
	}
	last, err := p.Last()
	if err != nil {
		return nil, err
	}

	var cur Record // the record being processed, read by the sinks
	var sink func(Row)
	var finish func() ([]Result, error)
	var ra *refAggregation
	if p.Agg == nil {
		var emit func(Row)
		emit, finish, err = referenceEmit(p.Emit, last)
		sink = emit
		if opts.ExcludeWindows != nil && p.Join == nil {
			sink = func(r Row) {
				if _, _, ok := opts.ExcludeWindows(cur.Partition, cur.Offset, ""); ok {
					return
				}
				emit(r)
			}
		}
	} else {
		ra, err = newRefAggregation(p.Agg, last)
		if err == nil {
			if p.Join == nil {
				// With a join, exclusions name side rows (refJoin).
				ra.exclude = opts.ExcludeWindows
			}
			sink = func(r Row) { ra.add(r, cur) }
			finish = ra.results
			if p.Then != nil {
				finish = func() ([]Result, error) { return ra.regroup(p.Then) }
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("dataflow: reference of pipeline %q: %w", p.Name, err)
	}
	run := sink
	if p.Join != nil {
		exclude := opts.ExcludeSide
		if exclude == nil && opts.ExcludeWindows != nil {
			exclude = func(partition int, offset int64, _ int, key string) (Time, Time, bool) {
				return opts.ExcludeWindows(partition, offset, key)
			}
		}
		rj, err := newRefJoin(p.Join, schemas[len(schemas)-1], exclude, sink)
		if err != nil {
			return nil, fmt.Errorf("dataflow: reference of pipeline %q join: %w", p.Name, err)
		}
		run = func(r Row) { rj.add(r, cur) }
		aggFinish := finish
		finish = func() ([]Result, error) {
			cur = Record{} // joined rows come from two records: no processing time
			rj.finish()
			return aggFinish()
		}
	}
	for i := len(p.Steps) - 1; i >= 0; i-- {
		if run, err = compileRefStep(p.Steps[i], schemas[i], schemas[i+1], run); err != nil {
			return nil, fmt.Errorf("dataflow: reference of pipeline %q step %d (%v): %w", p.Name, i, p.Steps[i], err)
		}
	}
	nIn := len(p.Input.Fields)
	for rec := range records {
		if opts.Exclude != nil && opts.Exclude(rec.Partition, rec.Offset) {
			continue
		}
		if len(rec.Row) != nIn {
			return nil, fmt.Errorf("dataflow: reference of pipeline %q: record at partition %d offset %d has %d columns, the input schema %v has %d",
				p.Name, rec.Partition, rec.Offset, len(rec.Row), p.Input, nIn)
		}
		cur = rec
		run(rec.Row)
	}
	rs, err := finish()
	if err != nil {
		return nil, err
	}
	SortResults(rs)
	return rs, nil
}

// exclusion is one record's windows to leave out: End in (lo, hi] when ok.
type exclusion struct {
	lo, hi Time
	ok     bool
}

func (e exclusion) drops(end Time) bool { return e.ok && e.lo < end && end <= e.hi }

// AggregationInput runs p's stateless steps over records and calls fn for
// each row reaching p's aggregation, with the record it came from and the
// row's time in the aggregation's domain (event time from the TimeCol, or
// the record's [Record.ProcessingTime]; for count, global and unwindowed
// aggregations the record's processing time). It is how a check recomputes
// the watermark a model's policy could have produced from the records a
// runtime had delivered. A stateless pipeline makes no calls. The row passed
// to fn is reused after fn returns.
func AggregationInput(p *Pipeline, records iter.Seq[Record], fn func(rec Record, t Time, row Row)) error {
	schemas, err := p.Schemas()
	if err != nil {
		return err
	}
	if p.Agg == nil {
		return nil
	}
	if p.Join != nil {
		return fmt.Errorf("dataflow: AggregationInput of pipeline %q, whose aggregation follows a join: the join's side rows are in JoinInput", p.Name)
	}
	last := schemas[len(schemas)-1]
	timeIdx := -1
	if p.Agg.Domain == EventTime && p.Agg.TimeCol != "" {
		switch p.Agg.Window.Kind {
		case WindowFixed, WindowSliding, WindowSession:
			if _, timeIdx, err = last.Lookup(p.Agg.TimeCol); err != nil {
				return err
			}
		}
	}
	var cur Record
	run := func(r Row) {
		t := cur.ProcessingTime()
		if timeIdx >= 0 {
			t = r[timeIdx].Time()
		}
		fn(cur, t, r)
	}
	return feedRefSteps(p, schemas, records, &cur, run)
}

// feedRefSteps compiles p's steps (schemas are p.Schemas()) in front of
// sink and feeds records through them, setting *cur to each record before
// its row goes in, so sink's closure knows where a row came from. A record
// whose row does not have the input schema's width is an error.
func feedRefSteps(p *Pipeline, schemas []Schema, records iter.Seq[Record], cur *Record, sink func(Row)) error {
	run := sink
	for i := len(p.Steps) - 1; i >= 0; i-- {
		var err error
		if run, err = compileRefStep(p.Steps[i], schemas[i], schemas[i+1], run); err != nil {
			return fmt.Errorf("dataflow: pipeline %q step %d (%v): %w", p.Name, i, p.Steps[i], err)
		}
	}
	nIn := len(p.Input.Fields)
	for rec := range records {
		if len(rec.Row) != nIn {
			return fmt.Errorf("dataflow: pipeline %q: record at partition %d offset %d has %d columns, the input schema %v has %d",
				p.Name, rec.Partition, rec.Offset, len(rec.Row), p.Input, nIn)
		}
		*cur = rec
		run(rec.Row)
	}
	return nil
}

// compileRefStep returns a function that applies step s (from schema in to
// schema out) to a row and passes each output row to next. Output rows live
// in a buffer of the step that the next row overwrites.
func compileRefStep(s Step, in, out Schema, next func(Row)) (func(Row), error) {
	switch s := s.(type) {
	case FilterStep:
		pred, err := CompilePredicate(s.Pred, in)
		if err != nil {
			return nil, err
		}
		return func(r Row) {
			if pred(r) {
				next(r)
			}
		}, nil
	case MapStep:
		f, _, err := Compile(s.Expr, in)
		if err != nil {
			return nil, err
		}
		at := out.Index(s.As)
		var buf Row
		return func(r Row) {
			buf = append(buf[:0], r...)
			v := f(r)
			if at < len(buf) {
				buf[at] = v
			} else {
				buf = append(buf, v)
			}
			next(buf)
		}, nil
	case ProjectStep:
		idx := make([]int, len(s.Cols))
		for i, c := range s.Cols {
			idx[i] = in.Index(c)
		}
		var buf Row
		return func(r Row) {
			buf = buf[:0]
			for _, i := range idx {
				buf = append(buf, r[i])
			}
			next(buf)
		}, nil
	case ExplodeStep:
		col, at := in.Index(s.Col), out.Index(s.As)
		var buf Row
		var toks []string
		return func(r Row) {
			toks = AppendTokens(toks[:0], r[col].S, s.Prefix)
			for _, tok := range toks {
				buf = append(buf[:0], r...)
				if at < len(buf) {
					buf[at] = Str(tok)
				} else {
					buf = append(buf, Str(tok))
				}
				next(buf)
			}
		}, nil
	case LookupStep:
		index, err := s.Table.Index(s.Key)
		if err != nil {
			return nil, err
		}
		on := in.Index(s.On)
		from := make([]int, len(s.Cols)) // column in the table
		to := make([]int, len(s.Cols))   // column in the output
		for i, c := range s.Cols {
			from[i], to[i] = s.Table.Schema.Index(c), out.Index(c)
		}
		var buf Row
		var text []byte
		return func(r Row) {
			text = r[on].AppendText(text[:0])
			tr, ok := index[string(text)]
			if !ok {
				return // inner join: no match, no output
			}
			buf = append(buf[:0], r...)
			for len(buf) < len(out.Fields) {
				buf = append(buf, Value{})
			}
			for i := range from {
				buf[to[i]] = s.Table.Rows[tr][from[i]]
			}
			next(buf)
		}, nil
	}
	return nil, fmt.Errorf("dataflow: unknown step %T", s)
}

// referenceEmit returns the sink and the finish of a stateless pipeline.
func referenceEmit(e Emit, s Schema) (func(Row), func() ([]Result, error), error) {
	keyIdx, err := columnIndexes(s, e.Key)
	if err != nil {
		return nil, nil, err
	}
	vi := s.Index(e.Value)
	extraIdx, err := columnIndexes(s, e.Extra)
	if err != nil {
		return nil, nil, err
	}
	var rs []Result
	var buf []byte
	sink := func(r Row) {
		buf = AppendKey(buf[:0], r, keyIdx)
		res := Result{Key: string(buf), Value: r[vi]}
		if len(extraIdx) > 0 {
			res.Extra = make([]Value, len(extraIdx))
			for i, x := range extraIdx {
				res.Extra[i] = r[x]
			}
		}
		rs = append(rs, res)
	}
	return sink, func() ([]Result, error) { return rs, nil }, nil
}

func columnIndexes(s Schema, cols []string) ([]int, error) {
	idx := make([]int, len(cols))
	for i, c := range cols {
		_, j, err := s.Lookup(c)
		if err != nil {
			return nil, err
		}
		idx[i] = j
	}
	return idx, nil
}

// refAggregation is the batch state of an aggregation: per key, its windows
// and their accumulators (or, for sessions, the key's records until the
// sessions are known).
type refAggregation struct {
	a       *Aggregation
	in      Schema
	keyIdx  []int
	timeIdx int   // event-time column, or -1 (processing time, count, global, none)
	aggIdx  []int // input column of each aggregate, -1 for count
	byIdx   []int // max-by's ordering column, -1 for the others
	aggKind []Kind
	feed    aggFeed // aggIdx, byIdx and each aggregate's typed path, for fold
	keys    map[string]*refKey
	keyBuf  []byte
	exclude func(partition int, offset int64, key string) (lo, hi Time, ok bool)
	wins    []Window // Assign scratch
	// Groups and their accumulators come from chunks, not one allocation
	// each (accMaker, as Restore's): a sliding window makes several groups
	// per row.
	newAcc     []func() Accumulator // per aggregate
	groupChunk []refGroup
	accChunk   []Accumulator
	// sessVals holds the aggregate inputs of the session records: for
	// each, len(aggIdx) values, then the ordering value of each max-by.
	sessVals []Value
}

// refKey is one key's state.
type refKey struct {
	wins   map[Window]*refGroup
	keyRow Row        // the key column values (for a regroup)
	n      int64      // records so far: the next count-window ordinal (I6)
	events []refEvent // sessions: the key's records, until results
	// recent caches the key's groups that last took rows, direct-mapped by
	// window number modulo cacheSlots (refAggregation.slot): a key's
	// consecutive rows mostly fall in the same windows, and the cache
	// saves a map lookup per window per row.
	recent [cacheSlots]*refGroup
}

// refGroup is one (key, window)'s accumulators.
type refGroup struct {
	w    Window
	accs []Accumulator
	n    int64
}

// refEvent is one record of a session-windowed key: its time and where its
// aggregate inputs start in refAggregation.sessVals.
type refEvent struct {
	t  Time
	at int
}

func newRefAggregation(a *Aggregation, in Schema) (*refAggregation, error) {
	ra := &refAggregation{a: a, in: in, timeIdx: -1, keys: make(map[string]*refKey)}
	var err error
	if ra.keyIdx, err = columnIndexes(in, a.Key); err != nil {
		return nil, err
	}
	switch a.Window.Kind {
	case WindowFixed, WindowSliding, WindowSession:
		if a.Domain == EventTime {
			if _, ra.timeIdx, err = in.Lookup(a.TimeCol); err != nil {
				return nil, err
			}
		}
	}
	for _, g := range a.Aggs {
		i, k := -1, KindInvalid
		if g.Kind != AggCount {
			f, j, err := in.Lookup(g.Col)
			if err != nil {
				return nil, err
			}
			i, k = j, f.Kind
		}
		b := -1
		if g.Paired() {
			if _, b, err = in.Lookup(g.By); err != nil {
				return nil, err
			}
		}
		ra.aggIdx = append(ra.aggIdx, i)
		ra.byIdx = append(ra.byIdx, b)
		ra.aggKind = append(ra.aggKind, k)
		ra.feed.add(g, i, b, k)
	}
	ra.wins = make([]Window, 0, a.Window.MaxWindowsPerElement())
	ra.newAcc = make([]func() Accumulator, len(a.Aggs))
	for i, g := range a.Aggs {
		ra.newAcc[i] = accMaker(g, ra.aggKind[i])
	}
	return ra, nil
}

// key returns the state of r's key, whose bytes are in ra.keyBuf, making
// it (with the key's column values from r) on the key's first row.
func (ra *refAggregation) key(r Row) *refKey {
	k, ok := ra.keys[string(ra.keyBuf)]
	if !ok {
		k = &refKey{wins: make(map[Window]*refGroup), keyRow: make(Row, len(ra.keyIdx))}
		for i, x := range ra.keyIdx {
			k.keyRow[i] = r[x]
		}
		ra.keys[string(ra.keyBuf)] = k
	}
	return k
}

// add folds one row reaching the aggregation, from record rec, in, leaving
// it out of the windows ReferenceOptions.ExcludeWindows names.
func (ra *refAggregation) add(r Row, rec Record) {
	w := ra.a.Window
	ra.keyBuf = AppendKey(ra.keyBuf[:0], r, ra.keyIdx)
	var ex exclusion
	if ra.exclude != nil {
		ex.lo, ex.hi, ex.ok = ra.exclude(rec.Partition, rec.Offset, string(ra.keyBuf))
		if ex.ok {
			switch w.Kind {
			case WindowFixed, WindowSliding, WindowSession:
			default:
				return // whole: no window end to compare
			}
		}
	}
	k := ra.key(r)
	t := rec.ProcessingTime()
	if ra.timeIdx >= 0 {
		t = r[ra.timeIdx].Time()
	}
	switch w.Kind {
	case WindowFixed, WindowSliding:
		// Assign gives the latest window first, number n (it starts at
		// Offset + n*Period, I2), then n-1, n-2, ...: each one's cache
		// slot follows without a division per window (ra.slot).
		ra.wins = w.Assign(ra.wins[:0], t)
		n := FloorDiv(int64(t)-w.Offset, w.Period)
		k.n++
		for i, win := range ra.wins {
			if !ex.drops(win.End) { // a key left with no window gives no result
				ra.fold(ra.groupIn(k, win, int((n-int64(i))&(cacheSlots-1))), r)
			}
		}
		return
	case WindowCount:
		ra.wins = w.AssignCount(ra.wins[:0], k.n)
	case WindowSession:
		if ex.drops(t + Time(w.Gap)) {
			return
		}
		at := len(ra.sessVals)
		for _, x := range ra.aggIdx {
			v := Value{}
			if x >= 0 {
				v = r[x]
			}
			ra.sessVals = append(ra.sessVals, v)
		}
		for _, b := range ra.byIdx {
			if b >= 0 {
				ra.sessVals = append(ra.sessVals, r[b])
			}
		}
		k.events = append(k.events, refEvent{t: t, at: at})
		k.n++
		return
	default: // global, none: one group per key, the zero Window
		ra.wins = append(ra.wins[:0], Window{})
	}
	k.n++
	for _, win := range ra.wins {
		ra.fold(ra.group(k, win), r)
	}
}

// fold adds row r to the accumulators of g.
func (ra *refAggregation) fold(g *refGroup, r Row) {
	ra.feed.feed(g.accs, r)
	g.n++
}

func (ra *refAggregation) group(k *refKey, w Window) *refGroup {
	return ra.groupIn(k, w, ra.slot(w))
}

// groupIn is group for a window whose cache slot is known: ra.slot(w).
func (ra *refAggregation) groupIn(k *refKey, w Window, slot int) *refGroup {
	if g := k.recent[slot]; g != nil && g.w == w {
		return g
	}
	g, ok := k.wins[w]
	if !ok {
		g = ra.newGroup(w)
		k.wins[w] = g
	}
	k.recent[slot] = g
	return g
}

// slot is w's place in refKey.recent: its window number modulo
// cacheSlots for fixed, sliding and count windows (a row's windows have
// consecutive numbers), 0 for the others. cacheSlots is a power of two, so
// n&(cacheSlots-1) is the same slot (add uses that).
func (ra *refAggregation) slot(w Window) int {
	fn := ra.a.Window
	switch fn.Kind {
	case WindowFixed, WindowSliding:
		return int(FloorMod(FloorDiv(int64(w.Start)-fn.Offset, fn.Period), cacheSlots))
	case WindowCount:
		return int(FloorMod(FloorDiv(int64(w.Start), fn.Period), cacheSlots))
	}
	return 0
}

// newGroup returns an empty group for window w, taken from the chunks.
func (ra *refAggregation) newGroup(w Window) *refGroup {
	if len(ra.groupChunk) == 0 {
		ra.groupChunk = make([]refGroup, restoreChunk)
	}
	g := &ra.groupChunk[0]
	ra.groupChunk = ra.groupChunk[1:]
	n := len(ra.newAcc)
	if len(ra.accChunk) < n {
		ra.accChunk = make([]Accumulator, restoreChunk*max(n, 1))
	}
	g.w = w
	g.accs = ra.accChunk[:n:n]
	ra.accChunk = ra.accChunk[n:]
	for i, mk := range ra.newAcc {
		g.accs[i] = mk()
	}
	return g
}

// sessions assigns each of a key's buffered records to its merged session
// (I3).
func (ra *refAggregation) sessions(k *refKey) {
	// A stable sort keeps records of equal time in iteration order.
	slices.SortStableFunc(k.events, func(a, b refEvent) int { return cmpInt(int64(a.t), int64(b.t)) })
	ws := make([]Window, len(k.events))
	for i, e := range k.events {
		ws[i] = Window{Start: e.t, End: e.t + Time(ra.a.Window.Gap)}
	}
	ws = MergeSessions(ws)
	j := 0
	for _, e := range k.events {
		for !ws[j].Contains(e.t) {
			j++ // events are sorted, sessions sorted and disjoint
		}
		g := ra.group(k, ws[j])
		vals := ra.sessVals[e.at : e.at+len(ra.aggIdx)]
		by := e.at + len(ra.aggIdx) // the next max-by ordering value
		for i, v := range vals {
			if ra.byIdx[i] >= 0 {
				g.accs[i].(PairAccumulator).AddPair(v, ra.sessVals[by])
				by++
			} else {
				g.accs[i].Add(v)
			}
		}
		g.n++
	}
	k.events = nil
}

// results renders every complete window, applying Having.
func (ra *refAggregation) results() ([]Result, error) {
	var having func(Row) bool
	if ra.a.Having != nil {
		var err error
		if having, err = CompilePredicate(ra.a.Having, ra.a.OutputSchemaFor(ra.in)); err != nil {
			return nil, fmt.Errorf("dataflow: having: %w", err)
		}
	}
	var rs []Result
	row := make(Row, 1+len(ra.a.Aggs))
	for key, k := range ra.keys {
		if ra.a.Window.Kind == WindowSession {
			ra.sessions(k)
		}
		for w, g := range k.wins {
			if ra.a.Window.Kind == WindowCount && g.n < ra.a.Window.Size {
				continue // a partial count window is not emitted (I6)
			}
			res := Result{Window: w, Key: key, Value: g.accs[0].Result()}
			if len(g.accs) > 1 {
				res.Extra = make([]Value, len(g.accs)-1)
				for i, acc := range g.accs[1:] {
					res.Extra[i] = acc.Result()
				}
			}
			if having != nil {
				row[0], row[1] = Str(key), res.Value
				copy(row[2:], res.Extra)
				if !having(row) {
					continue
				}
			}
			rs = append(rs, res)
		}
	}
	return rs, nil
}
