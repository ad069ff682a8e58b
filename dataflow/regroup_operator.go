package dataflow

import (
	"fmt"
	"slices"

	"github.com/weirlab/weir/dataflow/wire"
)

// RegroupConfig holds the callback of a [RegroupOperator], called
// synchronously from the method that caused it.
type RegroupConfig struct {
	// Emit receives every regroup result as an on-time pane: Timing
	// [PaneOnTime], Index 0, Result{Window, Key, Value, Extra} (Having
	// applied), MaxEventTime the largest event time given to
	// [RegroupOperator.AddRowEvent] with the key's rows (their first-stage
	// panes' [Pane.MaxEventTime]; the window's end - 1 when none was
	// given) and MaxIngestNanos the largest ingest time given for the
	// window. The pane belongs to the receiver. Nil discards them (Stats
	// counts them).
	Emit func(Pane)
	// Late receives each first-stage row for a window that has already
	// fired (W >= end): a runtime that forwards a window's results before
	// the watermark that fired them never causes one. It is dropped and
	// counted. The row is the caller's, valid only during the call.
	Late func(w Window, row Row)
}

// RegroupStats are a [RegroupOperator]'s counters.
type RegroupStats struct {
	// Rows counts the first-stage rows taken in, late ones included.
	Rows int64
	// Late counts the rows for windows that had fired.
	Late int64
	// OpenGroups is the number of (window, key) states held now.
	OpenGroups int64
	// Panes counts the results emitted (after Having).
	Panes int64
}

// RegroupOperator is the second stage of a pipeline with a [Regroup]
// (Pipeline.Then): it takes the first aggregation's final results as rows
// of [Aggregation.ResultSchema] (the key columns, then every aggregate),
// groups them per window by Regroup.Key, folds them into Regroup.Aggs, and
// when the watermark passes a window's end emits one result per key (R1),
// windows in order of end then start, keys in order, and forgets the
// window (R2). A row for a window that has fired is late (R3): dropped,
// counted and sent to [RegroupConfig.Late]. So with the first stage's
// on-time results fed in before the watermark that fired them, the
// results equal [Reference] of the pipeline (R4).
//
// A recordstream window bolt builds its [WindowOperator] with
// [OperatorConfig.KeyRow] and feeds each pane as [AppendResultRow];
// microbatch builds the rows from its result columns.
//
// Open windows are few (the first aggregation's windows still open), so a
// watermark scans them rather than keep a heap. AddRow does not allocate
// once the row's (window, key) exists.
//
// RegroupOperator is a single-goroutine state machine: it is not safe for
// concurrent use, starts no goroutines and reads no clock.
type RegroupOperator struct {
	r       *Regroup
	in      Schema // the first aggregation's ResultSchema
	keyIdx  []int
	aggIdx  []int // input column of each aggregate, -1 for count
	byIdx   []int // max-by's ordering column, -1 for the others
	kinds   []Kind
	having  func(Row) bool
	hrow    Row
	emit    func(Pane)
	late    func(Window, Row)
	st      regroupState
	keyBuf  []byte
	fireBuf []Window
	keys    []string
}

type regroupState struct {
	wm    Time
	wins  map[Window]*regroupWin
	stats RegroupStats
}

type regroupWin struct {
	keys      map[string][]Accumulator
	maxIngest int64
	// events holds each key's largest event time given to AddRowEvent; nil
	// until one is given (a key without one fires at the window's end - 1).
	events map[string]Time
}

// NewRegroupOperator returns the operator of regroup r after aggregation
// first, whose input rows have schema firstIn ([Pipeline.Last]). It
// validates r against first as [Pipeline.Validate] does.
func NewRegroupOperator(first *Aggregation, r *Regroup, firstIn Schema, cfg RegroupConfig) (*RegroupOperator, error) {
	if first == nil || r == nil {
		return nil, fmt.Errorf("dataflow: regroup operator needs the first aggregation and the regroup")
	}
	if err := first.validate(firstIn); err != nil {
		return nil, fmt.Errorf("dataflow: regroup operator: first aggregation: %w", err)
	}
	if err := r.validate(first, firstIn); err != nil {
		return nil, fmt.Errorf("dataflow: regroup operator: %w", err)
	}
	rs, err := first.ResultSchema(firstIn)
	if err != nil {
		return nil, err
	}
	r = new(*r)
	o := &RegroupOperator{r: r, in: rs, emit: cfg.Emit, late: cfg.Late}
	o.keyIdx, _ = columnIndexes(rs, r.Key)
	for _, g := range r.Aggs {
		i, b, k := -1, -1, KindInvalid
		if g.Kind != AggCount {
			i = rs.Index(g.Col)
			k = rs.Fields[i].Kind
		}
		if g.Paired() {
			b = rs.Index(g.By)
		}
		o.aggIdx, o.byIdx, o.kinds = append(o.aggIdx, i), append(o.byIdx, b), append(o.kinds, k)
	}
	if r.Having != nil {
		out := r.OutputSchemaFor(rs)
		if o.having, err = CompilePredicate(r.Having, out); err != nil {
			return nil, fmt.Errorf("dataflow: regroup operator having: %w", err)
		}
		o.hrow = make(Row, out.Len())
	}
	o.st = regroupState{wm: MinTime, wins: map[Window]*regroupWin{}}
	return o, nil
}

// Watermark returns the operator's watermark: [MinTime] until the first
// AdvanceWatermark, [MaxTime] after Finish.
func (o *RegroupOperator) Watermark() Time { return o.st.wm }

// Stats returns the operator's counters.
func (o *RegroupOperator) Stats() RegroupStats { return o.st.stats }

// AddRow is AddRowAt(w, row, 0).
func (o *RegroupOperator) AddRow(w Window, row Row) (late bool) { return o.AddRowAt(w, row, 0) }

// AddRowAt takes in one final first-stage result of window w as a row of
// [Aggregation.ResultSchema], with the largest ingest time (ns) among its
// records, and reports whether it was late (R3). The row is read during the
// call only. It is AddRowEvent(w, row, ingestNanos, MinTime).
func (o *RegroupOperator) AddRowAt(w Window, row Row, ingestNanos int64) (late bool) {
	return o.AddRowEvent(w, row, ingestNanos, MinTime)
}

// AddRowEvent is [RegroupOperator.AddRowAt] of a first-stage result whose
// records' largest event time is eventTime (ms): the first-stage pane's
// [Pane.MaxEventTime]. The result of the row's window and regroup key then
// has the largest eventTime of its rows as its MaxEventTime, so that
// event-time latency after a regroup is measured from the records that
// contributed (for Nexmark q4, the joined auctions and bids), not from the
// window's end. eventTime [MinTime] gives none, as AddRowAt.
func (o *RegroupOperator) AddRowEvent(w Window, row Row, ingestNanos int64, eventTime Time) (late bool) {
	st := &o.st
	st.stats.Rows++
	if st.wm >= w.End {
		st.stats.Late++
		if o.late != nil {
			o.late(w, row)
		}
		return true
	}
	rw := st.wins[w]
	if rw == nil {
		rw = &regroupWin{keys: map[string][]Accumulator{}}
		st.wins[w] = rw
	}
	rw.maxIngest = max(rw.maxIngest, ingestNanos)
	o.keyBuf = AppendKey(o.keyBuf[:0], row, o.keyIdx)
	accs := rw.keys[string(o.keyBuf)]
	if accs == nil {
		accs = o.newAccs()
		rw.keys[string(o.keyBuf)] = accs
		st.stats.OpenGroups++
	}
	if eventTime != MinTime {
		if rw.events == nil {
			rw.events = map[string]Time{}
		}
		if e, ok := rw.events[string(o.keyBuf)]; !ok || eventTime > e {
			rw.events[string(o.keyBuf)] = eventTime
		}
	}
	for i, a := range accs {
		switch c := o.aggIdx[i]; {
		case o.byIdx[i] >= 0:
			a.(PairAccumulator).AddPair(row[c], row[o.byIdx[i]])
		case c >= 0:
			a.Add(row[c])
		default:
			a.Add(Value{})
		}
	}
	return false
}

func (o *RegroupOperator) newAccs() []Accumulator {
	accs := make([]Accumulator, len(o.r.Aggs))
	for i, g := range o.r.Aggs {
		accs[i] = g.NewAccumulator(o.kinds[i])
	}
	return accs
}

// AdvanceWatermark raises the watermark to w (a lower or equal w is
// ignored) and fires every window with end <= w (R1, R2).
func (o *RegroupOperator) AdvanceWatermark(w Time) {
	st := &o.st
	if w <= st.wm {
		return
	}
	st.wm = w
	o.fireBuf = o.fireBuf[:0]
	for win := range st.wins {
		if win.End <= w {
			o.fireBuf = append(o.fireBuf, win)
		}
	}
	slices.SortFunc(o.fireBuf, compareWindows)
	for _, win := range o.fireBuf {
		o.fire(win, st.wins[win])
		delete(st.wins, win)
	}
}

// Finish ends a bounded input: AdvanceWatermark([MaxTime]).
func (o *RegroupOperator) Finish() { o.AdvanceWatermark(MaxTime) }

func (o *RegroupOperator) fire(w Window, rw *regroupWin) {
	o.keys = o.keys[:0]
	for k := range rw.keys {
		o.keys = append(o.keys, k)
	}
	slices.Sort(o.keys)
	for _, k := range o.keys {
		accs := rw.keys[k]
		ev, ok := rw.events[k]
		if !ok {
			ev = w.End - 1 // no event time given
		}
		p := Pane{Result: Result{Window: w, Key: k, Value: accs[0].Result()}, Timing: PaneOnTime,
			MaxEventTime: ev, MaxIngestNanos: rw.maxIngest}
		if len(accs) > 1 {
			p.Extra = make([]Value, len(accs)-1)
			for i, a := range accs[1:] {
				p.Extra[i] = a.Result()
			}
		}
		o.st.stats.OpenGroups--
		if o.having != nil {
			o.hrow[0], o.hrow[1] = Str(k), p.Value
			copy(o.hrow[2:], p.Extra)
			if !o.having(o.hrow) {
				continue
			}
		}
		o.st.stats.Panes++
		if o.emit != nil {
			o.emit(p)
		}
	}
	clear(o.keys)
}

// The regroup snapshot layout, written with package wire (integers
// varints, u: unsigned):
//
//	"ROPS" | 2 | uaggs | wm | rows | late | panes | uwindows | window...
//	window: start | end | maxIngest | ukeys | (ulen key-bytes | maxEvent | (ulen acc-bytes) x aggs)...
//
// maxEvent is the key's largest event time given to AddRowEvent, MinTime
// for none. Version 1 snapshots (no maxEvent) are read too.
const (
	regroupSnapshotMagic   = "ROPS"
	regroupSnapshotVersion = 2
)

// AppendSnapshot appends the operator's full state to dst; an operator of
// the same regroup restores it with [RegroupOperator.Restore]. On error it
// returns dst unextended.
func (o *RegroupOperator) AppendSnapshot(dst []byte) ([]byte, error) {
	st := &o.st
	start := len(dst)
	dst = append(dst, regroupSnapshotMagic...)
	dst = append(dst, regroupSnapshotVersion)
	dst = wire.AppendUvarint(dst, uint64(len(o.r.Aggs)))
	dst = wire.AppendVarint(dst, int64(st.wm))
	dst = wire.AppendVarint(dst, st.stats.Rows)
	dst = wire.AppendVarint(dst, st.stats.Late)
	dst = wire.AppendVarint(dst, st.stats.Panes)
	dst = wire.AppendUvarint(dst, uint64(len(st.wins)))
	var enc []byte
	for w, rw := range st.wins {
		dst = wire.AppendVarint(dst, int64(w.Start))
		dst = wire.AppendVarint(dst, int64(w.End))
		dst = wire.AppendVarint(dst, rw.maxIngest)
		dst = wire.AppendUvarint(dst, uint64(len(rw.keys)))
		for k, accs := range rw.keys {
			dst = wire.AppendString(dst, k)
			ev, ok := rw.events[k]
			if !ok {
				ev = MinTime
			}
			dst = wire.AppendVarint(dst, int64(ev))
			for i, a := range accs {
				var err error
				if enc, err = a.AppendBinary(enc[:0]); err != nil {
					return dst[:start], fmt.Errorf("dataflow: regroup snapshot aggregate %d (%v) of key %q: %w", i, o.r.Aggs[i], k, err)
				}
				dst = wire.AppendBytes(dst, enc)
			}
		}
	}
	return dst, nil
}

// Restore replaces the operator's state with a snapshot of
// [RegroupOperator.AppendSnapshot]. Bytes that are not such a snapshot give
// an error wrapping [ErrCorruptState] and leave the state as it was; it
// never panics.
func (o *RegroupOperator) Restore(b []byte) error {
	d := wire.NewDecoder(b)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: regroup snapshot: %s", ErrCorruptState, fmt.Sprintf(format, args...))
	}
	if m := d.Next(len(regroupSnapshotMagic)); string(m) != regroupSnapshotMagic {
		return fail("not a regroup operator snapshot (bad magic)")
	}
	v := d.Byte()
	if v != regroupSnapshotVersion && v != 1 {
		return fail("format version %d, this build reads versions 1 and %d", v, regroupSnapshotVersion)
	}
	if n := d.Uvarint(); n != uint64(len(o.r.Aggs)) {
		return fail("%d aggregates, the operator has %d", n, len(o.r.Aggs))
	}
	st := regroupState{wins: map[Window]*regroupWin{}}
	st.wm = Time(d.Varint())
	for _, p := range []*int64{&st.stats.Rows, &st.stats.Late, &st.stats.Panes} {
		if *p = d.Varint(); *p < 0 {
			return fail("negative counter")
		}
	}
	nw := d.Count()
	for i := 0; i < nw && d.Err() == nil; i++ {
		w := Window{Start: Time(d.Varint()), End: Time(d.Varint())}
		rw := &regroupWin{keys: map[string][]Accumulator{}, maxIngest: d.Varint()}
		if d.Err() != nil {
			break
		}
		if w.Start >= w.End || st.wm >= w.End {
			return fail("window %v is empty or has fired at watermark %v", w, st.wm)
		}
		if st.wins[w] != nil {
			return fail("window %v twice", w)
		}
		nk := d.Count()
		for k := 0; k < nk && d.Err() == nil; k++ {
			key := d.String()
			if d.Err() != nil {
				break
			}
			if rw.keys[key] != nil {
				return fail("window %v key %q twice", w, key)
			}
			if v >= 2 {
				if ev := Time(d.Varint()); ev != MinTime && d.Err() == nil {
					if rw.events == nil {
						rw.events = map[string]Time{}
					}
					rw.events[key] = ev
				}
			}
			accs := o.newAccs()
			for a := range accs {
				enc := d.Bytes()
				if d.Err() != nil {
					break
				}
				if err := accs[a].UnmarshalBinary(enc); err != nil {
					return fail("window %v key %q aggregate %d: %v", w, key, a, err)
				}
			}
			rw.keys[key] = accs
			st.stats.OpenGroups++
		}
		st.wins[w] = rw
	}
	if err := d.Finish(); err != nil {
		return fail("%v", err)
	}
	o.st = st
	return nil
}
