package dataflow

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/weirlab/weir/dataflow/wire"
)

// JoinConfig holds the callbacks of a [JoinOperator]. Both are called
// synchronously, from the method that caused them, on the operator's
// goroutine.
type JoinConfig struct {
	// Emit receives each joined row, of schema [Join.Schema] of the two
	// sides' row schemas (before Join.Steps, which the runtime applies with
	// its own step machinery), the larger event time of its two side rows
	// (their TimeCol: the largest event time that contributed to it, which
	// event-time latency is measured from; a windowed join's join_time
	// column is the window's end - 1 ms instead) and their larger ingest
	// time (ns). The row is the operator's and is reused after Emit
	// returns: copy what you keep. Nil discards the rows (Stats counts
	// them).
	Emit func(row Row, maxEventTime Time, ingestNanos int64)
	// Late receives each late side row ([JoinOperator.IsLateTime]), which
	// is dropped and counted. The row is the caller of Add's, valid only
	// during the call.
	Late func(side int, row Row, ingestNanos int64)
}

// JoinStats are a [JoinOperator]'s counters.
type JoinStats struct {
	// Rows counts the side rows taken in by Add, per side ([JoinLeft],
	// [JoinRight]), late ones included.
	Rows [2]int64
	// Late counts the late side rows, per side.
	Late [2]int64
	// HeldRows is the number of side rows held now: a windowed join holds a
	// row once per window it is in (a sliding window's row several times).
	HeldRows int64
	// Emitted counts the joined rows emitted.
	Emitted int64
}

// JoinOperator is the two-input operator of a [Join]: it keeps each side's
// rows per key (and, for a windowed join, per window) and emits the joined
// rows as the join's semantics say. recordstream's join bolts and
// microbatch's join stage wrap it, or are checked against [Reference] as it
// is.
//
// # Windowed joins
//
// A side row with time t (its TimeCol) goes into every window
// [WindowFn.Assign] gives, under its key. When
// [JoinOperator.AdvanceWatermark] reaches W >= end, every pair of a left
// and a right row of the same key in the window is emitted (J1), in key
// order, left rows in arrival order, then right rows; windows due together
// fire in order of end, then start. A row that arrives for a window that
// has fired (W >= end, but not yet W >= end + AllowedLateness) joins the
// other side's kept rows of that window at once (J2), and is kept for the
// rows still to come. At W >= end + AllowedLateness a window's rows are
// dropped (J3). A side row is late when one of its windows is late (W >=
// end + AllowedLateness for its earliest window, the aggregation's rule
// I5): it goes to [JoinConfig.Late], into no window, and is counted (J4).
// So every pair the operator emits is a pair of [Reference], and the
// emitted rows are exactly Reference over the input minus the late side
// rows, whatever the order of the rows and the watermarks (J5).
//
// # Incremental joins
//
// A side row joins every row of the other side with the same key seen so
// far, at once, and is kept for ever; nothing is late and the watermark
// only counts. So each matching pair is emitted once, when its later row
// arrives, with join_time the later of the two event times (J6).
//
// # State and cost
//
// Rows are kept as their Cols values only (plus event and ingest time), in
// one flat slice per (window, key, side); windows are found through one map
// and wait for the watermark in a min-heap of windows (not of keys), so a
// watermark only touches the windows it fires or drops. Add does not
// allocate when the row's key already has state in its windows, beyond the
// amortized growth of the flat slices; firing a window sorts its keys.
// String values are kept as they are (not copied): a caller that passes
// strings it will overwrite must copy them first.
//
// JoinOperator is a single-goroutine state machine: it is not safe for
// concurrent use, starts no goroutines and reads no clock.
type JoinOperator struct {
	j        *Join
	windowed bool
	fn       WindowFn
	lateness Time
	sides    [2]joinSideIdx
	emit     func(Row, Time, int64)
	late     func(int, Row, int64)

	st     joinState
	keyBuf []byte
	winBuf []Window
	out    Row      // the joined row Emit receives
	keys   []string // firing scratch
	// freeWins and freeRows recycle the states of dropped windows, keeping
	// their maps' buckets and their slices' capacity, so that a steady
	// stream of windows allocates nothing per row. Each keeps at most
	// maxFree entries.
	freeWins []*joinWin
	freeRows []*joinRows
}

// joinSideIdx locates a side's columns in its rows.
type joinSideIdx struct {
	keyIdx  []int
	timeIdx int
	colIdx  []int
	kinds   []Kind // of the Cols
}

// joinState is the part of the operator a snapshot holds.
type joinState struct {
	wm     Time
	wins   map[Window]*joinWin
	timers joinHeap
	inc    map[string]*joinRows // incremental joins: rows per key
	stats  JoinStats
}

// joinWin is one window of a windowed join: its rows per key.
type joinWin struct {
	w       Window
	fired   bool // W >= end: its pairs were emitted, new rows join at once
	keys    map[string]*joinRows
	heapIdx int
}

// joinRows are one key's rows of both sides, in arrival order: side s's row
// i is vals[s][i*ncols(s):(i+1)*ncols(s)], with its times in meta[s][i].
type joinRows struct {
	vals [2][]Value
	meta [2][]rowMeta
}

// rowMeta is a kept row's event time and ingest time (ns).
type rowMeta struct {
	t      Time
	ingest int64
}

func (r *joinRows) n(side int) int { return len(r.meta[side]) }

// NewJoinOperator returns the operator of join j, whose sides' rows have
// schemas left and right (the last elements of [JoinSchemas].Left and
// Right). It type-checks j against them.
func NewJoinOperator(j *Join, left, right Schema, cfg JoinConfig) (*JoinOperator, error) {
	if j == nil {
		return nil, fmt.Errorf("dataflow: join operator needs a join")
	}
	js, err := j.Schema(left, right)
	if err != nil {
		return nil, fmt.Errorf("dataflow: join operator: %w", err)
	}
	if err := j.checkSides(left, right); err != nil {
		return nil, fmt.Errorf("dataflow: join operator: %w", err)
	}
	j = new(*j) // the operator keeps its own copy
	o := &JoinOperator{
		j:        j,
		windowed: j.Windowed(),
		fn:       j.Window,
		lateness: Time(Millis(j.AllowedLateness)),
		emit:     cfg.Emit,
		late:     cfg.Late,
		out:      make(Row, js.Len()),
	}
	for side, s := range []Schema{left, right} {
		sd := j.side(side)
		var x joinSideIdx
		x.keyIdx, _ = columnIndexes(s, sd.Key)
		x.colIdx, _ = columnIndexes(s, sd.Cols)
		x.timeIdx = s.Index(sd.TimeCol)
		for _, c := range x.colIdx {
			x.kinds = append(x.kinds, s.Fields[c].Kind)
		}
		o.sides[side] = x
	}
	if o.windowed {
		o.winBuf = make([]Window, 0, o.fn.MaxWindowsPerElement())
	}
	o.st = o.newState()
	return o, nil
}

// checkSides checks what [Join.schemas] checks of the sides' final schemas:
// keys, time columns and window.
func (j *Join) checkSides(left, right Schema) error {
	for side, s := range []Schema{left, right} {
		sd := j.side(side)
		name := j.SideName(side)
		if len(sd.Key) == 0 {
			return fmt.Errorf("dataflow: join %s side needs key columns (JoinSide.Key)", name)
		}
		for _, k := range sd.Key {
			if _, _, err := s.Lookup(k); err != nil {
				return fmt.Errorf("join %s side key: %w", name, err)
			}
		}
		f, _, err := s.Lookup(sd.TimeCol)
		if err != nil {
			return fmt.Errorf("join %s side event-time column (JoinSide.TimeCol): %w", name, err)
		}
		if f.Kind != KindTimestamp && f.Kind != KindInt64 {
			return fmt.Errorf("dataflow: join %s side event-time column %q is %v, not a timestamp", name, sd.TimeCol, f.Kind)
		}
	}
	if len(j.Left.Key) != len(j.Right.Key) {
		return fmt.Errorf("dataflow: join keys differ in length: %d and %d columns", len(j.Left.Key), len(j.Right.Key))
	}
	switch j.Window.Kind {
	case WindowNone:
		if j.AllowedLateness != 0 {
			return fmt.Errorf("dataflow: an incremental join has no allowed lateness")
		}
	case WindowFixed, WindowSliding:
		if err := j.Window.Validate(); err != nil {
			return fmt.Errorf("join window: %w", err)
		}
	default:
		return fmt.Errorf("dataflow: a join's window is fixed, sliding or none (incremental), not %v", j.Window.Kind)
	}
	if j.AllowedLateness < 0 {
		return fmt.Errorf("dataflow: join allowed lateness must not be negative, got %v", j.AllowedLateness)
	}
	return nil
}

func (o *JoinOperator) newState() joinState {
	st := joinState{wm: MinTime}
	if o.windowed {
		st.wins = map[Window]*joinWin{}
	} else {
		st.inc = map[string]*joinRows{}
	}
	return st
}

// Watermark returns the join's watermark: [MinTime] until the first
// [JoinOperator.AdvanceWatermark], [MaxTime] after Finish.
func (o *JoinOperator) Watermark() Time { return o.st.wm }

// Stats returns the operator's counters.
func (o *JoinOperator) Stats() JoinStats { return o.st.stats }

// IsLateTime reports whether [JoinOperator.Add] would find a row of the
// side with event time t late at the current watermark (J4): a windowed
// join's row is late when W >= end + AllowedLateness for one of its
// windows; an incremental join's never is. Both sides follow the same rule.
func (o *JoinOperator) IsLateTime(side int, t Time) bool {
	if !o.windowed {
		return false
	}
	o.winBuf = o.fn.Assign(o.winBuf[:0], t)
	for _, w := range o.winBuf {
		if o.st.wm >= addSat(w.End, o.lateness) {
			return true
		}
	}
	return false
}

// Add takes in one row of side ([JoinLeft] or [JoinRight]), of that side's
// schema, with its ingest time (ns), and reports whether it was late, in
// which case it went to [JoinConfig.Late] and is not kept. Otherwise it
// may emit joined rows at once (windows that have fired; incremental
// joins). The row is read during the call only. A side other than
// JoinLeft or JoinRight is a programming error and panics.
func (o *JoinOperator) Add(side int, row Row, ingestNanos int64) (late bool) {
	if side != JoinLeft && side != JoinRight {
		panic(fmt.Sprintf("dataflow: join operator Add of side %d; use JoinLeft or JoinRight", side))
	}
	st := &o.st
	st.stats.Rows[side]++
	x := &o.sides[side]
	t := row[x.timeIdx].Time()
	if o.IsLateTime(side, t) {
		st.stats.Late[side]++
		if o.late != nil {
			o.late(side, row, ingestNanos)
		}
		return true
	}
	o.keyBuf = AppendKey(o.keyBuf[:0], row, x.keyIdx)
	if !o.windowed {
		jr := st.inc[string(o.keyBuf)]
		if jr == nil {
			jr = &joinRows{}
			st.inc[string(o.keyBuf)] = jr
		}
		o.joinNew(jr, side, row, t, ingestNanos, Window{})
		o.keep(jr, side, row, t, ingestNanos)
		return false
	}
	// IsLateTime has assigned the row's windows.
	for _, w := range o.winBuf {
		jw := st.wins[w]
		if jw == nil {
			jw = o.newWin(w)
			st.wins[w] = jw
			st.timers.push(jw, o)
		}
		jr := jw.keys[string(o.keyBuf)]
		if jr == nil {
			jr = o.newRows()
			jw.keys[string(o.keyBuf)] = jr
		}
		if jw.fired {
			o.joinNew(jr, side, row, t, ingestNanos, w) // J2
		}
		o.keep(jr, side, row, t, ingestNanos)
	}
	return false
}

// keep appends a side row's Cols and times to jr.
func (o *JoinOperator) keep(jr *joinRows, side int, row Row, t Time, ingestNanos int64) {
	for _, c := range o.sides[side].colIdx {
		jr.vals[side] = append(jr.vals[side], row[c])
	}
	jr.meta[side] = append(jr.meta[side], rowMeta{t, ingestNanos})
	o.st.stats.HeldRows++
}

// joinNew emits the pairs of a new side row with the other side's kept rows
// of jr, in their arrival order. w is the window (windowed joins).
func (o *JoinOperator) joinNew(jr *joinRows, side int, row Row, t Time, ingestNanos int64, w Window) {
	other := 1 - side
	nc := len(o.sides[other].colIdx)
	for i := range jr.n(other) {
		vals := jr.vals[other][i*nc : (i+1)*nc]
		m := jr.meta[other][i]
		jt, ing := max(t, m.t), max(ingestNanos, m.ingest)
		b := o.out[:0]
		if side == JoinLeft {
			for _, c := range o.sides[JoinLeft].colIdx {
				b = append(b, row[c])
			}
			b = append(b, vals...)
		} else {
			b = append(b, vals...)
			for _, c := range o.sides[JoinRight].colIdx {
				b = append(b, row[c])
			}
		}
		o.emitRow(b, w, jt, ing)
	}
}

// emitRow completes a joined row with the columns the join adds and emits
// it; maxEvent is the larger event time of its side rows (an incremental
// join's join_time).
func (o *JoinOperator) emitRow(b Row, w Window, maxEvent Time, ingestNanos int64) {
	if o.windowed {
		b = append(b, Timestamp(w.Start), Timestamp(w.End), Timestamp(w.End-1))
	} else {
		b = append(b, Timestamp(maxEvent))
	}
	o.st.stats.Emitted++
	if o.emit != nil {
		o.emit(b, maxEvent, ingestNanos)
	}
}

// AdvanceWatermark raises the join's watermark to w, the minimum of its two
// inputs' watermarks, which the caller computes (a lower or equal w is
// ignored: watermarks never decrease). Every window with end <= w emits its
// pairs (J1), in order of end, then start; every window with end +
// AllowedLateness <= w drops its rows (J3).
func (o *JoinOperator) AdvanceWatermark(w Time) {
	st := &o.st
	if w <= st.wm {
		return
	}
	st.wm = w
	for len(st.timers) > 0 {
		jw := st.timers[0]
		if o.deadline(jw) > w {
			break
		}
		if !jw.fired {
			jw.fired = true
			o.fire(jw)
			if o.deadline(jw) > w {
				st.timers.fix(0, o)
				continue
			}
		}
		st.timers.pop(o)
		delete(st.wins, jw.w)
		o.drop(jw)
	}
}

// maxFree bounds the free lists of JoinOperator, and maxRetainedValues the
// capacity of a recycled joinRows: a hot key's rows of one window should
// not stay pinned in the free list after the window is gone.
const (
	maxFree           = 1024
	maxRetainedValues = 4096
)

// drop forgets window jw (out of the timers and the map) and recycles its
// states.
func (o *JoinOperator) drop(jw *joinWin) {
	for _, jr := range jw.keys {
		o.st.stats.HeldRows -= int64(jr.n(JoinLeft) + jr.n(JoinRight))
		if len(o.freeRows) < maxFree && cap(jr.vals[JoinLeft])+cap(jr.vals[JoinRight]) <= maxRetainedValues {
			for side := range 2 {
				clear(jr.vals[side]) // let the strings go
				jr.vals[side], jr.meta[side] = jr.vals[side][:0], jr.meta[side][:0]
			}
			o.freeRows = append(o.freeRows, jr)
		}
	}
	if len(o.freeWins) < maxFree {
		clear(jw.keys)
		o.freeWins = append(o.freeWins, jw)
	}
}

// newRows returns an empty joinRows, recycled if one is free.
func (o *JoinOperator) newRows() *joinRows {
	if n := len(o.freeRows); n > 0 {
		jr := o.freeRows[n-1]
		o.freeRows[n-1] = nil
		o.freeRows = o.freeRows[:n-1]
		return jr
	}
	return &joinRows{}
}

// newWin returns the state of a new window w, recycled if one is free.
func (o *JoinOperator) newWin(w Window) *joinWin {
	if n := len(o.freeWins); n > 0 {
		jw := o.freeWins[n-1]
		o.freeWins[n-1] = nil
		o.freeWins = o.freeWins[:n-1]
		jw.w, jw.fired = w, o.st.wm >= w.End
		return jw
	}
	return &joinWin{w: w, fired: o.st.wm >= w.End, keys: map[string]*joinRows{}}
}

// fire emits every pair of window jw, in key order.
func (o *JoinOperator) fire(jw *joinWin) {
	o.keys = o.keys[:0]
	for k, jr := range jw.keys {
		if jr.n(JoinLeft) > 0 && jr.n(JoinRight) > 0 {
			o.keys = append(o.keys, k)
		}
	}
	slices.Sort(o.keys)
	ln, rn := len(o.sides[JoinLeft].colIdx), len(o.sides[JoinRight].colIdx)
	for _, k := range o.keys {
		jr := jw.keys[k]
		for i := range jr.n(JoinLeft) {
			for r := range jr.n(JoinRight) {
				b := append(o.out[:0], jr.vals[JoinLeft][i*ln:(i+1)*ln]...)
				b = append(b, jr.vals[JoinRight][r*rn:(r+1)*rn]...)
				lm, rm := jr.meta[JoinLeft][i], jr.meta[JoinRight][r]
				o.emitRow(b, jw.w, max(lm.t, rm.t), max(lm.ingest, rm.ingest))
			}
		}
	}
	clear(o.keys)
}

// Finish ends a bounded input: AdvanceWatermark([MaxTime]), which fires and
// drops every window. An incremental join keeps its rows.
func (o *JoinOperator) Finish() { o.AdvanceWatermark(MaxTime) }

// deadline is the watermark at which jw next needs attention: its end until
// it has fired, then the end of its allowed lateness.
func (o *JoinOperator) deadline(jw *joinWin) Time {
	if !jw.fired {
		return jw.w.End
	}
	return addSat(jw.w.End, o.lateness)
}

// joinHeap is a min-heap of windows by deadline, then end, then start.
type joinHeap []*joinWin

func (h joinHeap) less(o *JoinOperator, i, j int) bool {
	a, b := h[i], h[j]
	if c := cmp.Compare(o.deadline(a), o.deadline(b)); c != 0 {
		return c < 0
	}
	return compareWindows(a.w, b.w) < 0
}

func (h joinHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}

func (h *joinHeap) push(jw *joinWin, o *JoinOperator) {
	jw.heapIdx = len(*h)
	*h = append(*h, jw)
	h.up(jw.heapIdx, o)
}

func (h *joinHeap) pop(o *JoinOperator) {
	old := *h
	n := len(old) - 1
	old.swap(0, n)
	old[n].heapIdx = -1
	old[n] = nil
	*h = old[:n]
	if n > 0 {
		h.fix(0, o)
	}
}

func (h joinHeap) fix(i int, o *JoinOperator) {
	if !h.down(i, o) {
		h.up(i, o)
	}
}

func (h joinHeap) up(j int, o *JoinOperator) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(o, j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h joinHeap) down(i0 int, o *JoinOperator) bool {
	i := i0
	n := len(h)
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && h.less(o, r, j) {
			j = r
		}
		if !h.less(o, j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

// The join snapshot layout, written with package wire (integers varints, u:
// unsigned):
//
//	+--------+---+----------+-------+-------+----+----------------------------+
//	| "JOPS" | 1 | windowed | ulcol | urcol | wm | rows L R, late L R, emitted |
//	+--------+---+----------+-------+-------+----+----------------------------+
//	then, windowed: uwindows, window...; incremental: ukeys, key...
//	window: start | end | ukeys | key...
//	key:    ulen key-bytes | side 0 rows | side 1 rows
//	rows:   urows | (t | ingest | value x cols) x rows
//
// A window's fired flag is not written: it is W >= end. Windows and keys
// come in map order, so equal states give snapshots of equal length and
// equal behaviour, not equal bytes.
const (
	joinSnapshotMagic   = "JOPS"
	joinSnapshotVersion = 1
)

// AppendSnapshot appends the operator's full state to dst: watermark,
// every window's (or, incremental, every key's) rows, and the counters. An
// operator for the same join and schemas restores it with
// [JoinOperator.Restore] and then behaves exactly as this one would.
func (o *JoinOperator) AppendSnapshot(dst []byte) ([]byte, error) {
	st := &o.st
	dst = append(dst, joinSnapshotMagic...)
	dst = append(dst, joinSnapshotVersion, boolByte(o.windowed))
	dst = wire.AppendUvarint(dst, uint64(len(o.sides[JoinLeft].colIdx)))
	dst = wire.AppendUvarint(dst, uint64(len(o.sides[JoinRight].colIdx)))
	dst = wire.AppendVarint(dst, int64(st.wm))
	for _, n := range []int64{st.stats.Rows[0], st.stats.Rows[1], st.stats.Late[0], st.stats.Late[1], st.stats.Emitted} {
		dst = wire.AppendVarint(dst, n)
	}
	if !o.windowed {
		return o.appendKeys(dst, st.inc), nil
	}
	dst = wire.AppendUvarint(dst, uint64(len(st.wins)))
	for _, jw := range st.wins {
		dst = wire.AppendVarint(dst, int64(jw.w.Start))
		dst = wire.AppendVarint(dst, int64(jw.w.End))
		dst = o.appendKeys(dst, jw.keys)
	}
	return dst, nil
}

func (o *JoinOperator) appendKeys(dst []byte, keys map[string]*joinRows) []byte {
	dst = wire.AppendUvarint(dst, uint64(len(keys)))
	for k, jr := range keys {
		dst = wire.AppendString(dst, k)
		for side := range 2 {
			nc := len(o.sides[side].colIdx)
			dst = wire.AppendUvarint(dst, uint64(jr.n(side)))
			for i := range jr.n(side) {
				dst = wire.AppendVarint(dst, int64(jr.meta[side][i].t))
				dst = wire.AppendVarint(dst, jr.meta[side][i].ingest)
				for _, v := range jr.vals[side][i*nc : (i+1)*nc] {
					dst = AppendValue(dst, v)
				}
			}
		}
	}
	return dst
}

// Restore replaces the operator's state with a snapshot of
// [JoinOperator.AppendSnapshot] from an operator of the same join and
// schemas. Bytes that are not such a snapshot (truncated, corrupt, of
// another join) give an error wrapping [ErrCorruptState] and leave the
// state as it was; Restore never panics.
func (o *JoinOperator) Restore(b []byte) error {
	d := wire.NewDecoder(b)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: join snapshot: %s", ErrCorruptState, fmt.Sprintf(format, args...))
	}
	if m := d.Next(len(joinSnapshotMagic)); string(m) != joinSnapshotMagic {
		return fail("not a join operator snapshot (bad magic)")
	}
	if v := d.Byte(); v != joinSnapshotVersion {
		return fail("format version %d, this build reads version %d", v, joinSnapshotVersion)
	}
	if w := d.Byte(); w > 1 || (w == 1) != o.windowed {
		return fail("snapshot of a join of another kind (windowed flag %d); restore into an operator of the same join", w)
	}
	for side := range 2 {
		if n := d.Uvarint(); n != uint64(len(o.sides[side].colIdx)) {
			return fail("%s side has %d columns, the operator %d", o.j.SideName(side), n, len(o.sides[side].colIdx))
		}
	}
	st := o.newState()
	st.wm = Time(d.Varint())
	for _, p := range []*int64{&st.stats.Rows[0], &st.stats.Rows[1], &st.stats.Late[0], &st.stats.Late[1], &st.stats.Emitted} {
		if *p = d.Varint(); *p < 0 {
			return fail("negative counter")
		}
	}
	if err := d.Err(); err != nil {
		return fail("%v", err)
	}
	if !o.windowed {
		if err := o.readKeys(d, st.inc, nil, &st.stats.HeldRows); err != nil {
			return fail("%v", err)
		}
	} else {
		n := d.Count()
		for i := 0; i < n && d.Err() == nil; i++ {
			w := Window{Start: Time(d.Varint()), End: Time(d.Varint())}
			if d.Err() != nil {
				break
			}
			if !o.isWindow(w) {
				return fail("window %v is not one of the join's %v", w, o.fn)
			}
			if st.wm >= addSat(w.End, o.lateness) {
				return fail("window %v is past its allowed lateness at watermark %v: its state would have been dropped", w, st.wm)
			}
			if st.wins[w] != nil {
				return fail("window %v twice", w)
			}
			jw := &joinWin{w: w, fired: st.wm >= w.End, keys: map[string]*joinRows{}}
			if err := o.readKeys(d, jw.keys, &w, &st.stats.HeldRows); err != nil {
				return fail("window %v: %v", w, err)
			}
			st.wins[w] = jw
			st.timers.push(jw, o)
		}
	}
	if err := d.Finish(); err != nil {
		return fail("%v", err)
	}
	o.st = st
	return nil
}

// isWindow reports whether w is a window the join's WindowFn assigns.
func (o *JoinOperator) isWindow(w Window) bool {
	if w.End-w.Start != Time(o.fn.Size) || w.End < w.Start {
		return false
	}
	o.winBuf = o.fn.Assign(o.winBuf[:0], w.Start)
	return slices.Contains(o.winBuf, w)
}

// readKeys decodes a key block into keys (of window w, nil for an
// incremental join), counting the rows into held.
func (o *JoinOperator) readKeys(d *wire.Decoder, keys map[string]*joinRows, w *Window, held *int64) error {
	n := d.Count()
	for i := 0; i < n && d.Err() == nil; i++ {
		k := d.String()
		if d.Err() != nil {
			break
		}
		if keys[k] != nil {
			return fmt.Errorf("key %q twice", k)
		}
		jr := &joinRows{}
		for side := range 2 {
			x := &o.sides[side]
			rows := d.Count()
			for r := 0; r < rows && d.Err() == nil; r++ {
				t := Time(d.Varint())
				if d.Err() == nil && w != nil && !w.Contains(t) {
					return fmt.Errorf("key %q: a row at %v in window %v", k, t, *w)
				}
				jr.meta[side] = append(jr.meta[side], rowMeta{t, d.Varint()})
				for _, kind := range x.kinds {
					v := DecodeValue(d)
					if d.Err() == nil && !v.IsNull() && v.K != kind {
						return fmt.Errorf("key %q: a %v value in a %v column", k, v.K, kind)
					}
					jr.vals[side] = append(jr.vals[side], v)
				}
			}
			*held += int64(jr.n(side))
		}
		keys[k] = jr
	}
	return d.Err()
}
