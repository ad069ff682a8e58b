package dataflow

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/weirlab/weir/dataflow/wire"
	"github.com/weirlab/weir/internal/invariants"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=PaneTiming -linecomment

// PaneTiming says when a pane fired relative to the watermark (Beam's
// PaneInfo timing).
type PaneTiming uint8

// Pane timings. The zero PaneTiming is invalid.
const (
	// PaneEarly is a speculative pane, fired before the watermark passed the
	// end of the window (Trigger.EarlyEvery, Trigger.AfterCount, and every
	// firing of a global window before the end of the input).
	PaneEarly PaneTiming = iota + 1 // early
	// PaneOnTime is the pane fired when the watermark passes the end of the
	// window (I4), or when a count window is full (I6), or for global and
	// unwindowed aggregations at the end of the input.
	PaneOnTime // on-time
	// PaneLate is a pane fired for records accepted after the on-time pane,
	// within the allowed lateness (I5).
	PaneLate // late
	// PaneMerged is not a firing but a notice: session Window of Key, which
	// had fired (early) panes, merged into the larger session [Pane.Into].
	// Its panes stand for part of Into from now on: a sink that keeps a
	// value per window moves the window's value to Into (combining it with
	// Into's, for discarding panes), so that only the final sessions remain
	// (I8). The notice carries no value.
	PaneMerged // merged
)

// Pane is one firing of one window of one key: its [Result] (Having already
// applied) and where it stands among the window's firings. The pane and its
// Extra slice belong to the receiver of [OperatorConfig.Emit].
type Pane struct {
	// Result holds the window (the zero Window for global and unwindowed
	// aggregations), the key, the value and the extra aggregates. With
	// accumulating panes it covers the whole window so far; with discarding
	// panes only the records since the previous pane.
	Result
	Timing PaneTiming
	// Index numbers the window's firings 0, 1, 2, ...; a firing that Having
	// suppresses uses up its index.
	Index int
	// MaxEventTime is the largest event time (ms) among the pane's records:
	// the records of the whole window for accumulating panes, those since
	// the last pane for discarding panes. A record's event time is the one
	// it was given to [WindowOperator.AddAt] with (its contributing event
	// time: for a joined row, windowed by join_time, the largest event time
	// of its side rows), else its window time: the TimeCol value, or for
	// processing-time windows, and for global, unwindowed and count windows
	// without a TimeCol, its ingest time in ms. Event-time latency is
	// measured from it.
	MaxEventTime Time
	// MaxIngestNanos is the largest ingest time among the same records.
	MaxIngestNanos int64
	// Into is the session Window merged into (PaneMerged only).
	Into Window
	// KeyRow holds the values of the aggregation's key columns, in
	// Aggregation.Key order, when the operator was built with
	// [OperatorConfig.KeyRow] (nil otherwise). All panes of a key share it:
	// read it, do not modify it.
	KeyRow Row
}

// AppendResultRow appends to dst the pane's result as a row of
// [Aggregation.ResultSchema]: the key column values (the pane's KeyRow:
// build the operator with [OperatorConfig.KeyRow]), then the value and the
// extra aggregates. It is the row a [RegroupOperator] takes.
func AppendResultRow(dst Row, p Pane) Row {
	dst = append(dst, p.KeyRow...)
	dst = append(dst, p.Value)
	return append(dst, p.Extra...)
}

// OperatorConfig holds the callbacks of a [WindowOperator]. Both are called
// synchronously, from the method that caused them, on the operator's
// goroutine.
type OperatorConfig struct {
	// Emit receives every pane. Nil discards them (Stats still counts them).
	Emit func(Pane)
	// Late receives each late record ([WindowOperator.IsLateTime], I5): the
	// side output under [LateSideOutput], a drop notice under [LateDrop].
	// The row is owned by the caller of Add and valid only during the call.
	// Late records are counted either way.
	Late func(row Row, ingestNanos int64)
	// KeyRow, if set, gives every pane its key's column values
	// ([Pane.KeyRow]), which the operator then keeps per key and in its
	// snapshots: what a runtime needs to feed a [RegroupOperator]
	// ([AppendResultRow]).
	KeyRow bool
}

// OperatorStats are a [WindowOperator]'s counters.
type OperatorStats struct {
	// Records counts the records taken in by Add.
	Records int64
	// Late counts the late records given to Add.
	Late int64
	// OpenWindows is the number of (key, window) states held now.
	OpenWindows int64
	// Panes counts the panes emitted (after Having).
	Panes int64
}

// WindowOperator is the keyed window operator of an [Aggregation]: it assigns
// records to windows per key, keeps one accumulator per aggregate for each
// (key, window), and fires panes as the aggregation's trigger, the watermark
// and the allowed lateness say (I3-I6). recordstream's window bolts wrap it
// (microbatch evaluates its batches with its own Arrow kernels and keyed
// state, checked against the same [Reference]); it is the reference
// semantics of triggers, accumulation and late data that [Reference] does
// not model.
//
// # Firing
//
//   - On time: when [WindowOperator.AdvanceWatermark] reaches W >= end (I4),
//     always, even when a discarding pane has no new records (Beam's
//     FIRE_ALWAYS): runtimes can rely on it as the window's completion
//     signal. An empty discarding pane holds the empty aggregates (count 0,
//     min and max null), which [CombineResults] ignores.
//   - Early: [Trigger.AfterCount] fires every time a window has that many
//     new records; [Trigger.EarlyEvery] fires every window with new records
//     at each aligned multiple of EarlyEvery of processing time that
//     [WindowOperator.OnProcessingTime] crosses.
//   - Late: a record accepted after the on-time pane (W < end + L) fires a
//     late pane at once with [Trigger.LateFirings]; without it, the records
//     accepted late fire one last late pane when the window's state is
//     dropped at W >= end + L (Beam's FIRE_IF_NON_EMPTY closing), so no
//     accepted record is ever left out of the output.
//   - Count windows fire once, on time, when full, and are then done (I6).
//     Global windows fire on [Trigger.AfterCount] and [Trigger.EarlyEvery]
//     (as early panes) and on time at [WindowOperator.Finish]; unwindowed
//     aggregations (WindowNone) fire only at Finish.
//
// A window [s, e) is late once W >= e + AllowedLateness (I5): its state is
// dropped. A record is late as [WindowOperator.IsLateTime] says: when one
// of its windows is late, or for sessions when W > t + AllowedLateness. A
// late record goes into no window, to [OperatorConfig.Late], and is
// counted. A window created behind the watermark (W >= e, but not late) counts
// as past its on-time firing: it fires late panes. A session that has fired
// panes may still grow by merging, until the watermark drops it (I5): the
// operator then emits a [PaneMerged] notice for the outgrown window, naming
// the session it merged into, and the merged session fires on its own (on
// time, or late panes if the watermark has passed its end).
//
// The result of a run is exact in this sense: the last pane of every window
// (or, for discarding panes, the combination of its panes) equals
// [Reference] over the input minus the records sent to
// [OperatorConfig.Late] (I8), whatever the order of the records and the
// watermarks, for a receiver that applies [PaneMerged] notices (moves the
// outgrown session's value to the one it merged into).
//
// # State and cost
//
// Keys are rendered once per record with [AppendKey] into a reused buffer and
// looked up without allocating (a single string key column is first looked
// up by its string's data pointer in a small cache, which skips rendering
// and hashing when the log hands out each key's string from a dictionary;
// at most 65,536 entries of 16 bytes); fixed, sliding and global windows are found
// through a small per-key cache of recent windows, then one map from (key
// state, window); sessions (sorted, binary-searched) and count windows in
// short per-key lists. Windows wait for the watermark in a min-heap ordered by
// their next deadline (end, then end + lateness), so a watermark only touches
// the windows it fires or drops; the windows due at one deadline are sorted
// by start and key when they fire, not in the heap. Add does not allocate when the record's
// windows already exist; window states and their accumulators are recycled
// through a free list.
//
// WindowOperator is a single-goroutine state machine: it is not safe for
// concurrent use, starts no goroutines and reads no clock.
type WindowOperator struct {
	agg         *Aggregation
	fn          WindowFn
	keyIdx      []int
	timeIdx     int   // TimeCol position, or -1: use the ingest time
	aggIdx      []int // input column of each aggregate, -1 for count
	byIdx       []int // max-by's ordering column, -1 for the others
	aggKinds    []Kind
	feed        aggFeed // aggIdx, byIdx and each aggregate's typed path, for addRow
	lateness    Time
	afterCount  int64
	earlyEvery  Time
	lateFirings bool
	discarding  bool
	having      func(Row) bool
	havingRow   Row
	emit        func(Pane)
	late        func(Row, int64)
	keyRow      bool // OperatorConfig.KeyRow

	st     opState
	keyBuf []byte // the current record's key
	// strKey is the key column when the aggregation has exactly one key
	// column and it holds strings (-1 otherwise); keyCache is then
	// lookupKey's cache, keyCacheMask its length minus one.
	strKey       int
	keyCache     []keyCacheEntry
	keyCacheMask int
	winBuf       []Window // the current record's windows
	free         []*winState
	maxFree      int
	dueBuf       []dueWindow // the windows AdvanceWatermark fires at one deadline
	// snapHint is the capacity AppendSnapshot reserves: a little more than
	// the last snapshot (or restored one), so a large state is encoded
	// without growing the buffer again and again.
	snapHint int
	// inv is the state of the debug-only checks (operator_invariants.go);
	// nil without -tags invariants.
	inv *opChecks
	// snap is the open asynchronous snapshot (operator_snapview.go), nil
	// when none is; snapGen numbers the views; snapWins and snapKeys are
	// the last view's group list, kept for the next.
	snap     *SnapshotView
	snapGen  uint32
	snapWins []*winState
	snapKeys []*keyState
}

// opState is the part of the operator a snapshot holds; Restore builds a new
// one and swaps it in only when the whole snapshot is good.
type opState struct {
	wm        Time
	keys      map[string]*keyState
	wins      map[winKey]*winState // fixed, sliding, global and unwindowed
	timers    winHeap
	dirty     []*winState // windows with records since their last pane, for EarlyEvery
	deadDirty int         // entries of dirty whose windows are gone (dead)
	earlySet  bool        // lastTick is valid
	lastTick  int64       // the last EarlyEvery tick OnProcessingTime passed
	stats     OperatorStats
	openCount int64
}

// keyState is one key's state.
type keyState struct {
	key string
	row Row // the key column values, with OperatorConfig.KeyRow
	// cacheSlot is the key's slot in WindowOperator.keyCache (before
	// masking), so that forgetting the key clears the entry.
	cacheSlot int
	open      int // open windows of the key
	// recent caches the key's windows that last took records (fixed,
	// sliding and global windows), direct-mapped by window number modulo
	// cacheSlots: consecutive records of a key mostly fall in the same
	// windows, and the cache saves a map lookup per window per record.
	recent [cacheSlots]*winState
	// sessions are the key's session windows, sorted by start and pairwise
	// disjoint (I3).
	sessions []*winState
	// counts are the key's open count windows, at most
	// MaxWindowsPerElement of them; ordinal is the number of elements the key
	// has had (I6).
	counts  []*winState
	ordinal int64
	// snap is the key's asynchronous snapshot mark (sessions and count
	// windows, operator_snapview.go).
	snap atomic.Uint32
}

// cacheSlots bounds keyState.recent: a record's sliding windows have
// consecutive window numbers, so up to cacheSlots of them never collide.
// It is a power of two, so a window number's slot is a mask
// (addAligned).
const cacheSlots = 8

// winKey is a fixed, sliding or global window's key in opState.wins: its
// key state and start (its end follows from the start: fixed and sliding
// windows of an operator all have one size, and there is one global
// window). Sixteen bytes hash and compare faster than the whole window.
type winKey struct {
	ks    *keyState
	start Time
}

// winState is one (key, window).
type winState struct {
	ks        *keyState
	w         Window
	accs      []Accumulator
	n         int64 // records in the window
	since     int64 // records since the last pane
	maxEvent  Time  // of the records the next pane covers
	maxIngest int64
	pane      int  // index of the next pane
	fired     bool // the on-time moment has passed (I4): later records are late records
	closed    bool // it has emitted an on-time or late pane for its current bounds
	shown     bool // a pane was emitted (after Having) for it or a session merged into it: a sink holds a value for it
	heapIdx   int  // position in opState.timers, -1 when not there
	inDirty   bool // in opState.dirty
	dead      bool // removed while in the dirty list; not recycled
	// snap is the window's asynchronous snapshot mark
	// (operator_snapview.go).
	snap atomic.Uint32
}

// NewWindowOperator returns an operator for aggregation a over records of
// schema in (the schema that reaches the aggregation, [Pipeline.Last]). It
// validates a against in and compiles Having once.
func NewWindowOperator(a *Aggregation, in Schema, cfg OperatorConfig) (*WindowOperator, error) {
	if a == nil {
		return nil, fmt.Errorf("dataflow: window operator needs an aggregation")
	}
	if err := a.validate(in); err != nil {
		return nil, fmt.Errorf("dataflow: window operator: %w", err)
	}
	a = new(*a) // the operator keeps its own copy
	o := &WindowOperator{
		agg:         a,
		fn:          a.Window,
		timeIdx:     -1,
		lateness:    Time(Millis(a.AllowedLateness)),
		afterCount:  a.Trigger.AfterCount,
		earlyEvery:  Time(Millis(a.Trigger.EarlyEvery)),
		lateFirings: a.Trigger.LateFirings,
		discarding:  a.Accumulation == Discarding,
		emit:        cfg.Emit,
		late:        cfg.Late,
		keyRow:      cfg.KeyRow,
		maxFree:     1024,
	}
	for _, k := range a.Key {
		o.keyIdx = append(o.keyIdx, in.Index(k))
	}
	if a.Domain == EventTime && a.TimeCol != "" {
		if i := in.Index(a.TimeCol); i >= 0 {
			if k := in.Fields[i].Kind; k == KindTimestamp || k == KindInt64 {
				o.timeIdx = i
			}
		}
	}
	for _, g := range a.Aggs {
		i, kind := -1, KindInvalid
		if g.Kind != AggCount {
			i = in.Index(g.Col)
			kind = in.Fields[i].Kind
		}
		b := -1
		if g.Paired() {
			b = in.Index(g.By)
		}
		o.aggIdx = append(o.aggIdx, i)
		o.byIdx = append(o.byIdx, b)
		o.aggKinds = append(o.aggKinds, kind)
		o.feed.add(g, i, b, kind)
	}
	if a.Having != nil {
		out := a.OutputSchemaFor(in)
		h, err := CompilePredicate(a.Having, out)
		if err != nil {
			return nil, fmt.Errorf("dataflow: window operator having: %w", err)
		}
		o.having = h
		o.havingRow = make(Row, out.Len())
	}
	o.winBuf = make([]Window, 0, o.fn.MaxWindowsPerElement())
	o.strKey = -1
	if len(o.keyIdx) == 1 && in.Fields[o.keyIdx[0]].Kind == KindString {
		o.strKey = o.keyIdx[0]
	}
	o.keyCache = make([]keyCacheEntry, keyCacheMin)
	o.keyCacheMask = keyCacheMin - 1
	if o.fn.Kind == WindowNone || o.fn.Kind == WindowCount {
		// Unwindowed aggregations fire only at the end; count windows only
		// when full.
		o.afterCount, o.earlyEvery = 0, 0
	}
	o.st = newOpState()
	return o, nil
}

func newOpState() opState {
	return opState{wm: MinTime, keys: map[string]*keyState{}, wins: map[winKey]*winState{}}
}

// Watermark returns the operator's event-time watermark: [MinTime] until the
// first [WindowOperator.AdvanceWatermark], [MaxTime] after Finish.
func (o *WindowOperator) Watermark() Time { return o.st.wm }

// Stats returns the operator's counters.
func (o *WindowOperator) Stats() OperatorStats {
	s := o.st.stats
	s.OpenWindows = o.st.openCount
	return s
}

// IsLate reports whether window w is past its allowed lateness at the
// current watermark (I5): W >= end + AllowedLateness, so its state is gone
// or going. Count windows are never late; global and unwindowed aggregations
// only after Finish.
func (o *WindowOperator) IsLate(w Window) bool {
	if o.fn.Kind == WindowCount {
		return false
	}
	if o.fn.Kind == WindowNone || o.fn.Kind == WindowGlobal {
		w = GlobalWindow
	}
	return o.st.wm >= addSat(w.End, o.lateness)
}

// IsLateTime reports whether [WindowOperator.Add] would find a record with
// time t (event time, or ingest ms for processing time) late at the current
// watermark. The rule keeps every run exactly comparable with [Reference]
// over the records not reported late (I8), which makes it stricter than
// Flink's and Beam's per-window drop in two places:
//
//   - fixed and sliding windows: late when late for any of its windows
//     (W >= end + AllowedLateness for its earliest window). Flink would drop
//     the record from that window only and keep it in the others, a partial
//     drop that no list of late records can describe;
//   - sessions: late when W > t + AllowedLateness. A later record could
//     overlap a session whose state was dropped at W >= end + lateness, and
//     would then start a session of its own where the answer has one merged
//     session; no record at or after W - AllowedLateness can.
//
// Global and unwindowed aggregations take every record until Finish; count
// windows every record.
func (o *WindowOperator) IsLateTime(t Time) bool {
	switch o.fn.Kind {
	case WindowCount:
		return false
	case WindowSession:
		return o.st.wm > addSat(t, o.lateness)
	case WindowNone, WindowGlobal:
		return o.IsLate(GlobalWindow)
	}
	o.winBuf = o.fn.Assign(o.winBuf[:0], t)
	for _, w := range o.winBuf {
		if o.IsLate(w) {
			return true
		}
	}
	return false
}

// Add takes in one record with its ingest time (ns since the Unix epoch) and
// reports whether it was late ([WindowOperator.IsLateTime]), in which case
// it went to [OperatorConfig.Late] and into no window. Its time is the TimeCol value for event-time
// aggregations and its ingest time in ms for processing-time ones (I7). It
// may fire panes (AfterCount, late firings, full count windows). The row is
// read during the call only. Add does not allocate when the record's windows
// already exist.
func (o *WindowOperator) Add(row Row, ingestNanos int64) (late bool) {
	return o.AddAt(row, ingestNanos, MinTime)
}

// AddAt is [WindowOperator.Add] of a record whose contributing event time
// eventTime (ms) differs from the time that windows it: the record is
// windowed, judged late and triggered by its window time as Add does, and
// its panes' [Pane.MaxEventTime] is the largest eventTime of their records,
// from which event-time latency is measured. A row a [JoinOperator] emits
// is windowed by its join_time (the join window's end - 1 ms, after its
// side rows) and contributes the largest event time of its side rows
// ([JoinConfig.Emit]). eventTime [MinTime] means the window time, as Add.
func (o *WindowOperator) AddAt(row Row, ingestNanos int64, eventTime Time) (late bool) {
	o.st.stats.Records++
	ts := Time(FloorDiv(ingestNanos, 1e6))
	if o.timeIdx >= 0 {
		ts = row[o.timeIdx].Time()
	}
	ev := ts // the pane's MaxEventTime takes it
	if eventTime != MinTime {
		ev = eventTime
	}
	if o.fn.Kind == WindowFixed || o.fn.Kind == WindowSliding {
		late = o.addAligned(row, ts, ev, ingestNanos)
		if invariants.Enabled {
			o.checkInvariants()
		}
		return late
	}
	if o.IsLateTime(ts) {
		return o.lateRecord(row, ingestNanos)
	}
	ks := o.lookupKey(row)
	switch o.fn.Kind {
	case WindowCount:
		o.addCount(ks, row, ev, ingestNanos)
	case WindowSession:
		ws := o.sessionFor(ks, Window{Start: ts, End: addSat(ts, Time(o.fn.Gap))})
		o.addRow(ws, row, ev, ingestNanos)
		o.afterAdd(ws)
	default: // global, none: the one global window of the key
		ws := ks.recent[0]
		if ws == nil {
			if ws = o.st.wins[winKey{ks, GlobalWindow.Start}]; ws == nil {
				ws = o.newWindow(ks, GlobalWindow)
				o.st.wins[winKey{ks, GlobalWindow.Start}] = ws
			}
			ks.recent[0] = ws
		}
		o.addRow(ws, row, ev, ingestNanos)
		o.afterAdd(ws)
	}
	if invariants.Enabled {
		o.checkInvariants()
	}
	return false
}

// addAligned is Add for fixed and sliding windows. It numbers the record's
// windows rather than assigning them into a buffer: the latest window
// containing ts is number k, starting at Offset + k*Period (I2, as
// [WindowFn.Assign]), and the others are k-1, k-2, ... back to the first
// that still contains ts. The record is late when that first window is
// late ([WindowOperator.IsLateTime]: it ends first, so it is late if any
// is), and each window's slot in the key's cache of recent windows is its
// number modulo cacheSlots ([WindowOperator.cacheSlot]), with no further
// division. A time between two windows (a period longer than the size)
// belongs to no window: the record is taken, not late, and changes nothing.
// ev is the contributing event time the panes take ([WindowOperator.AddAt]).
func (o *WindowOperator) addAligned(row Row, ts, ev Time, ingestNanos int64) bool {
	size, period := o.fn.Size, o.fn.Period
	k := FloorDiv(int64(ts)-o.fn.Offset, period)
	last := o.fn.Offset + k*period // the latest window's start
	lo := int64(ts) - size         // a window starting at or before lo ends at or before ts
	if last <= lo {
		return false
	}
	first := last
	for first-period > lo {
		first -= period
	}
	if o.st.wm >= addSat(Time(first+size), o.lateness) {
		return o.lateRecord(row, ingestNanos)
	}
	ks := o.lookupKey(row)
	sliding := o.fn.Kind == WindowSliding
	for s := last; s > lo; s -= period {
		w := Window{Start: Time(s), End: Time(s + size)}
		slot := 0
		if sliding {
			slot = int(k & (cacheSlots - 1)) // FloorMod(k, cacheSlots): cacheSlots is a power of two
			k--
		}
		ws := ks.recent[slot]
		if ws == nil || ws.w != w {
			if ws = o.st.wins[winKey{ks, w.Start}]; ws == nil {
				ws = o.newWindow(ks, w)
				o.st.wins[winKey{ks, w.Start}] = ws
			}
			ks.recent[slot] = ws
		}
		o.addRow(ws, row, ev, ingestNanos)
		o.afterAdd(ws)
	}
	return false
}

// cacheSlot is w's place in keyState.recent: its window number (fixed and
// sliding windows start at Offset + k*Period) modulo cacheSlots.
func (o *WindowOperator) cacheSlot(w Window) int {
	if o.fn.Kind != WindowSliding {
		return 0 // one window per record: the slot holds the last one
	}
	return int(FloorMod(FloorDiv(int64(w.Start)-o.fn.Offset, o.fn.Period), cacheSlots))
}

// lateRecord counts a late record and hands it to the late output.
func (o *WindowOperator) lateRecord(row Row, ingestNanos int64) bool {
	o.st.stats.Late++
	if o.late != nil {
		o.late(row, ingestNanos)
	}
	return true
}

// AdvanceWatermark raises the watermark to w (a lower or equal w is ignored:
// watermarks never decrease, DW1). Every window with end <= w fires its
// on-time pane (I4), in order of end, then start, then key; every window
// with end + AllowedLateness <= w fires its closing late pane if it has
// records since its last pane, and its state is dropped (I5).
func (o *WindowOperator) AdvanceWatermark(w Time) {
	st := &o.st
	if w <= st.wm {
		return
	}
	st.wm = w
	indexed := o.indexedTimers()
	for len(st.timers) > 0 && st.timers[0].deadline <= w {
		// The heap orders by deadline alone (DO1), so take every window
		// due at the smallest deadline and sort only those by start, key
		// and end: the documented firing order, with string comparisons
		// paid once per fired window rather than at every level of every
		// heap operation.
		d := st.timers[0].deadline
		due := o.dueBuf[:0]
		for len(st.timers) > 0 && st.timers[0].deadline == d {
			ws := st.timers.pop(indexed)
			if o.deadline(ws) != d {
				// A session that grew after it was filed (refile): file it
				// at its own deadline, where it fires in its own order.
				st.timers.push(ws, o)
				continue
			}
			due = append(due, dueWindow{w: ws.w, key: ws.ks.key, ws: ws})
		}
		if len(due) > 1 {
			sortDue(due)
		}
		for _, dw := range due {
			ws := dw.ws
			if o.snap != nil {
				o.snapTouch(ws)
			}
			if !ws.fired {
				ws.fired = true
				o.fire(ws, PaneOnTime)
				if o.deadline(ws) > w {
					st.timers.push(ws, o)
					continue
				}
			}
			if ws.since > 0 {
				o.fire(ws, PaneLate)
			}
			o.removeWindow(ws)
		}
		clear(due)
		o.dueBuf = due[:0]
	}
	if invariants.Enabled {
		o.checkInvariants()
	}
}

// OnProcessingTime tells the operator the processing time (ms) for early
// firings: when nowMs reaches a multiple of [Trigger.EarlyEvery] (aligned to
// the epoch) that the previous call had not reached (the first call always
// does), every window with records since its last pane and before its
// on-time pane fires an early pane, ordered by window then key. Without
// EarlyEvery it does nothing.
func (o *WindowOperator) OnProcessingTime(nowMs Time) {
	if o.earlyEvery <= 0 {
		return
	}
	st := &o.st
	tick := FloorDiv(int64(nowMs), int64(o.earlyEvery))
	if st.earlySet && tick <= st.lastTick {
		return
	}
	st.earlySet, st.lastTick = true, tick
	// Windows removed since they joined the list are dead: skip them.
	st.dirty = slices.DeleteFunc(st.dirty, func(ws *winState) bool { return ws.dead })
	st.deadDirty = 0
	slices.SortFunc(st.dirty, compareWinStates)
	for _, ws := range st.dirty {
		ws.inDirty = false
		if !ws.fired && ws.since > 0 {
			o.fire(ws, PaneEarly)
		}
	}
	clear(st.dirty)
	st.dirty = st.dirty[:0]
	if invariants.Enabled {
		o.checkInvariants()
	}
}

// Finish ends a bounded input: it advances the watermark to [MaxTime], which
// fires every remaining time window and then every global and unwindowed
// window on time, and drops their state. Partial count windows are not
// emitted (I6).
func (o *WindowOperator) Finish() { o.AdvanceWatermark(MaxTime) }

// keyCacheEntry remembers the key state of the key string last seen at
// address p. The address only picks the entry: a hit also compares the
// text with the key's own copy, so strings whose bytes are reused (Arrow
// values over a recycled buffer) cannot hit the wrong key, and the entry
// keeps no input memory alive.
type keyCacheEntry struct {
	p  uintptr
	ks *keyState
}

// keyCacheMin and keyCacheMax bound the key cache's size (a power of
// two); it grows with the number of keys.
const (
	keyCacheMin = 1 << 8
	keyCacheMax = 1 << 16
)

// lookupKey returns the state of the row's key, creating it. An
// aggregation keyed by one string column first looks in a direct-mapped
// cache indexed by the string's data address: logs hand out each key's
// string from a dictionary, so a key's records share one address, and a
// hit costs a comparison of the text with the key's, but neither rendering
// the key nor hashing it. A miss (or any other key) renders the key with
// [AppendKey] and looks it up in the map.
func (o *WindowOperator) lookupKey(row Row) *keyState {
	if o.strKey < 0 {
		o.keyBuf = AppendKey(o.keyBuf[:0], row, o.keyIdx)
		return o.keyState(row)
	}
	v := row[o.strKey]
	if v.K != KindString || len(v.S) == 0 {
		o.keyBuf = AppendKey(o.keyBuf[:0], row, o.keyIdx)
		return o.keyState(row)
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(v.S)))
	slot := int((uint64(p) * 0x9E3779B97F4A7C15) >> 32)
	e := &o.keyCache[slot&o.keyCacheMask]
	if e.p == p && e.ks != nil && e.ks.key == v.S {
		return e.ks
	}
	o.keyBuf = AppendKey(o.keyBuf[:0], row, o.keyIdx)
	ks := o.keyState(row)
	if n := len(o.st.keys); n > len(o.keyCache) && len(o.keyCache) < keyCacheMax {
		o.keyCache = make([]keyCacheEntry, min(keyCacheMax, 2*len(o.keyCache)))
		o.keyCacheMask = len(o.keyCache) - 1
	}
	// A key has at most one entry: its rows may carry equal strings at
	// other addresses, and forgetting the key clears only ks.cacheSlot.
	if old := &o.keyCache[ks.cacheSlot&o.keyCacheMask]; old.ks == ks {
		*old = keyCacheEntry{}
	}
	e = &o.keyCache[slot&o.keyCacheMask]
	*e = keyCacheEntry{p, ks}
	ks.cacheSlot = slot
	return ks
}

// keyState returns the state of the key in o.keyBuf, creating it from
// row.
func (o *WindowOperator) keyState(row Row) *keyState {
	if ks := o.st.keys[string(o.keyBuf)]; ks != nil {
		return ks
	}
	ks := &keyState{key: string(o.keyBuf)}
	if o.keyRow {
		ks.row = make(Row, len(o.keyIdx))
		for i, c := range o.keyIdx {
			ks.row[i] = row[c]
		}
	}
	o.st.keys[ks.key] = ks
	return ks
}

// newWindow returns a fresh state for window w of key ks, registered in the
// timers (but not in o.st.wins or a per-key list: the caller does that).
func (o *WindowOperator) newWindow(ks *keyState, w Window) *winState {
	var ws *winState
	if n := len(o.free); n > 0 {
		ws = o.free[n-1]
		o.free[n-1] = nil
		o.free = o.free[:n-1]
		for _, a := range ws.accs {
			a.Reset()
		}
	} else {
		ws = &winState{accs: make([]Accumulator, len(o.agg.Aggs))}
		for i, g := range o.agg.Aggs {
			ws.accs[i] = g.NewAccumulator(o.aggKinds[i])
		}
	}
	if invariants.Enabled {
		o.checkNewWindow(w)
	}
	if o.snap != nil {
		o.snapNew(ws)
	}
	ws.ks, ws.w = ks, w
	ws.n, ws.since, ws.pane = 0, 0, 0
	ws.maxEvent, ws.maxIngest = MinTime, 0
	ws.heapIdx = -1
	ws.inDirty, ws.dead, ws.closed, ws.shown = false, false, false, false
	// A window created behind the watermark is past its on-time moment: its
	// records are late records (Flink's EventTimeTrigger fires such a window
	// at once; here it fires late panes).
	ws.fired = o.fn.Kind != WindowCount && o.st.wm >= w.End
	ks.open++
	o.st.openCount++
	if o.fn.Kind != WindowCount {
		o.st.timers.push(ws, o)
	}
	return ws
}

// removeWindow forgets a window (already out of the timers) and recycles it.
func (o *WindowOperator) removeWindow(ws *winState) {
	if o.snap != nil {
		o.snapTouch(ws)
	}
	ks := ws.ks
	switch o.fn.Kind {
	case WindowSession:
		if i := slices.Index(ks.sessions, ws); i >= 0 {
			ks.sessions = slices.Delete(ks.sessions, i, i+1)
		}
	case WindowCount:
		if i := slices.Index(ks.counts, ws); i >= 0 {
			ks.counts = slices.Delete(ks.counts, i, i+1)
		}
	default:
		delete(o.st.wins, winKey{ks, ws.w.Start})
		// Scan the slots (one cache line) rather than divide twice for
		// the window's (cacheSlot): a slide of fraud's sliding windows
		// removes several windows per record.
		for i, r := range ks.recent {
			if r == ws {
				ks.recent[i] = nil
			}
		}
	}
	ks.open--
	o.st.openCount--
	if ks.open == 0 && o.fn.Kind != WindowCount {
		delete(o.st.keys, ks.key)
		if e := &o.keyCache[ks.cacheSlot&o.keyCacheMask]; e.ks == ks {
			*e = keyCacheEntry{}
		}
	}
	o.recycle(ws)
}

func (o *WindowOperator) recycle(ws *winState) {
	ws.ks = nil
	if ws.inDirty {
		// Still referenced by the dirty list; let OnProcessingTime skip it
		// and the garbage collector take it. Compact the list when dead
		// entries dominate, so a caller that seldom calls OnProcessingTime
		// does not keep every window ever made.
		ws.dead = true
		if o.st.deadDirty++; o.st.deadDirty > 64 && 2*o.st.deadDirty > len(o.st.dirty) {
			o.st.dirty = slices.DeleteFunc(o.st.dirty, func(ws *winState) bool { return ws.dead })
			o.st.deadDirty = 0
		}
		return
	}
	// Keep up to maxFree states, or half the open windows when there are
	// more: a watermark that drops thousands of windows at once (a slide
	// of a sliding window over many keys) is followed by as many new ones,
	// and the free list never holds more than half of what the state
	// itself held.
	if len(o.free) < max(o.maxFree, int(o.st.openCount/2)) {
		o.free = append(o.free, ws)
	}
}

// sessionFor returns the session of ks that a record with proto-window w
// joins: w merged with every session of the key it overlaps (touching
// sessions stay apart, I3), their accumulators merged into one state whose
// timers are updated. A merged session that had fired panes (early, on
// time or late: the watermark has not yet dropped it, I5) is announced
// with a [PaneMerged] notice, so that a sink moves what it kept for it to
// the merged session (Beam merges windows whose trigger is not finished;
// the notice is what lets an upsert sink follow).
func (o *WindowOperator) sessionFor(ks *keyState, w Window) *winState {
	if o.snap != nil {
		o.snapTouchKey(ks)
	}
	first, last, span := overlappingSessions(ks, w)
	if last < first {
		ws := o.newWindow(ks, w)
		ks.sessions = slices.Insert(ks.sessions, first, ws)
		return ws
	}
	target := ks.sessions[first]
	// Sessions that emitted panes for bounds they now outgrow tell the sink
	// (PaneMerged); the merged session is shown if any of them was, since
	// the sink has moved their values to it.
	shown := false
	for _, s := range ks.sessions[first : last+1] {
		if s.shown && s.w != span && o.emit != nil {
			o.emit(Pane{Result: Result{Window: s.w, Key: ks.key}, Timing: PaneMerged, Index: s.pane, Into: span, KeyRow: ks.row})
		}
		shown = shown || s.shown
	}
	for _, s := range ks.sessions[first+1 : last+1] {
		for i, a := range s.accs {
			target.accs[i].Merge(a)
		}
		target.n += s.n
		target.since += s.since
		target.maxEvent = max(target.maxEvent, s.maxEvent)
		target.maxIngest = max(target.maxIngest, s.maxIngest)
		target.pane = max(target.pane, s.pane)
		o.st.timers.remove(s.heapIdx, true)
		ks.open--
		o.st.openCount--
		o.recycle(s)
	}
	ks.sessions = slices.Delete(ks.sessions, first+1, last+1)
	if span != target.w {
		target.w = span
		// The merged session is a new window: it fires on time when the
		// watermark passes its end, unless that has already happened (then
		// it fires late panes); no pane stands for its bounds yet.
		target.fired = o.st.wm >= span.End
		target.closed, target.shown = false, shown
		o.st.timers.refile(target.heapIdx, o)
	}
	return target
}

// overlappingSessions finds the run ks.sessions[first:last+1] of sessions
// that w overlaps (empty: last < first, and first is where w goes) and the
// span of w merged with them.
func overlappingSessions(ks *keyState, w Window) (first, last int, span Window) {
	// Sessions are disjoint and sorted by start, so by end too: the ones w
	// overlaps are a run starting at the first session ending after w starts.
	first, _ = slices.BinarySearchFunc(ks.sessions, w.Start, func(s *winState, t Time) int {
		if s.w.End <= t {
			return -1
		}
		return 1
	})
	// The run grows while the next session merges with the span so far
	// ([MergeSession]); a session disjoint from w is disjoint from the span.
	last, span = first-1, w
	for last+1 < len(ks.sessions) {
		m, merges := MergeSession(span, ks.sessions[last+1].w)
		if !merges {
			break
		}
		last, span = last+1, m
	}
	return first, last, span
}

// addCount adds a record with contributing event time ev to the count
// windows of its key (I6) and fires the window it completes.
func (o *WindowOperator) addCount(ks *keyState, row Row, ev Time, ingestNanos int64) {
	if o.snap != nil {
		o.snapTouchKey(ks)
	}
	n := ks.ordinal
	ks.ordinal++
	if o.fn.Period == o.fn.Size {
		// Tumbling count windows: the key has at most one open window, and
		// it holds ordinal n; the next one opens at the ordinal after the
		// last one filled (I6). No assignment, no search.
		var ws *winState
		if len(ks.counts) == 1 && ks.counts[0].w.Start <= Time(n) && Time(n) < ks.counts[0].w.End {
			ws = ks.counts[0]
		} else if len(ks.counts) == 0 && n%o.fn.Size == 0 {
			ws = o.newWindow(ks, Window{Start: Time(n), End: Time(n + o.fn.Size)})
			ks.counts = append(ks.counts, ws)
		}
		if ws != nil {
			o.addRow(ws, row, ev, ingestNanos)
			if ws.n >= o.fn.Size {
				ws.fired = true
				o.fire(ws, PaneOnTime)
				o.removeWindow(ws)
			}
			return
		}
		// Otherwise (a restored state that breaks the rule) assign as
		// below, which is right whatever the open windows are.
	}
	o.winBuf = o.fn.AssignCount(o.winBuf[:0], n)
	for _, w := range o.winBuf {
		var ws *winState
		for _, c := range ks.counts {
			if c.w == w {
				ws = c
				break
			}
		}
		if ws == nil {
			ws = o.newWindow(ks, w)
			ks.counts = append(ks.counts, ws)
		}
		o.addRow(ws, row, ev, ingestNanos)
		if ws.n >= o.fn.Size {
			ws.fired = true
			o.fire(ws, PaneOnTime)
			o.removeWindow(ws)
		}
	}
}

// addRow folds one record with contributing event time ev into a window.
// It does not allocate.
func (o *WindowOperator) addRow(ws *winState, row Row, ev Time, ingestNanos int64) {
	if o.snap != nil {
		o.snapTouch(ws)
	}
	o.feed.feed(ws.accs, row)
	ws.n++
	ws.since++
	ws.maxEvent = max(ws.maxEvent, ev)
	ws.maxIngest = max(ws.maxIngest, ingestNanos)
}

// afterAdd runs the trigger after a window took in records.
func (o *WindowOperator) afterAdd(ws *winState) {
	switch {
	case ws.fired:
		if o.lateFirings {
			o.fire(ws, PaneLate)
		}
	case o.afterCount > 0 && ws.since >= o.afterCount:
		o.fire(ws, PaneEarly)
	case o.earlyEvery > 0 && !ws.inDirty:
		ws.inDirty = true
		o.st.dirty = append(o.st.dirty, ws)
	}
}

// fire emits a pane of ws (unless Having rejects it) and, for discarding
// panes, empties the window's accumulators.
func (o *WindowOperator) fire(ws *winState, timing PaneTiming) {
	if o.snap != nil {
		o.snapTouch(ws)
	}
	p := Pane{
		Result:         Result{Window: ws.w, Key: ws.ks.key, Value: ws.accs[0].Result()},
		Timing:         timing,
		Index:          ws.pane,
		MaxEventTime:   ws.maxEvent,
		MaxIngestNanos: ws.maxIngest,
		KeyRow:         ws.ks.row,
	}
	if o.fn.Kind == WindowGlobal || o.fn.Kind == WindowNone {
		p.Window = Window{}
	}
	if len(ws.accs) > 1 {
		p.Extra = make([]Value, len(ws.accs)-1)
		for i, a := range ws.accs[1:] {
			p.Extra[i] = a.Result()
		}
	}
	ws.pane++
	ws.since = 0
	ws.closed = ws.closed || timing != PaneEarly
	if o.discarding {
		for _, a := range ws.accs {
			a.Reset()
		}
		ws.maxEvent, ws.maxIngest = MinTime, 0
	}
	if o.having != nil {
		o.havingRow[0] = Str(p.Key)
		o.havingRow[1] = p.Value
		copy(o.havingRow[2:], p.Extra)
		if !o.having(o.havingRow) {
			return
		}
	}
	o.st.stats.Panes++
	ws.shown = true
	if o.emit != nil {
		o.emit(p)
	}
}

// deadline is the watermark at which ws next needs attention: its end until
// it has fired on time, then the end of its allowed lateness.
func (o *WindowOperator) deadline(ws *winState) Time {
	if !ws.fired {
		return ws.w.End
	}
	return addSat(ws.w.End, o.lateness)
}

// compareWinStates orders windows by start, key and end: the order in which
// panes due at the same moment fire.
func compareWinStates(a, b *winState) int {
	if c := cmp.Compare(a.w.Start, b.w.Start); c != 0 {
		return c
	}
	if c := strings.Compare(a.ks.key, b.ks.key); c != 0 {
		return c
	}
	return cmp.Compare(a.w.End, b.w.End)
}

// dueWindow is a window due at a deadline, with its sort key.
type dueWindow struct {
	w   Window
	pre uint64 // the 8 bytes of key after the batch's common prefix, big-endian, zero-padded
	key string
	ws  *winState
}

// sortDue sorts the windows due at one deadline as compareWinStates does:
// by start, key and end. Keys often share a long prefix ("card-01234",
// "card-05678"), so it first finds the prefix all of them share and
// compares the next 8 bytes as one integer, which orders two keys exactly
// as their bytes do unless those bytes are equal (then the keys are
// compared in full). Sorting copies reads the slice alone, not three
// pointers deep per comparison.
func sortDue(due []dueWindow) {
	lcp := len(due[0].key)
	for _, d := range due[1:] {
		k := d.key
		n := min(lcp, len(k))
		i := 0
		for i < n && k[i] == due[0].key[i] {
			i++
		}
		lcp = i
	}
	for i := range due {
		var b [8]byte
		if k := due[i].key; len(k) > lcp {
			copy(b[:], k[lcp:])
		}
		due[i].pre = binary.BigEndian.Uint64(b[:])
	}
	slices.SortFunc(due, func(a, b dueWindow) int {
		if c := cmp.Compare(a.w.Start, b.w.Start); c != 0 {
			return c
		}
		if c := cmp.Compare(a.pre, b.pre); c != 0 {
			return c
		}
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.w.End, b.w.End)
	})
}

// winHeap is a min-heap of windows by deadline alone (DO1): an integer
// comparison on the heap's own array, which neither follows a pointer nor
// compares keys. Windows due at the same deadline come out in no particular
// order; AdvanceWatermark sorts them ([compareWinStates]).
//
// Every window knows whether it is in the heap (heapIdx >= 0). Sessions
// also know where (heapIdx is their index: the indexed operations keep it),
// so that merged-away sessions leave in O(log n). The windows of the other
// kinds only ever leave from the root, so their operations move timers
// without writing to the windows they move: on a large state each such
// write is a cache miss, one per level of every sift (most of the cost of
// fraud's watermarks before). Sifts move a hole rather than swap.
type winHeap []timer

// timer is one heap entry: a window and its deadline
// ([WindowOperator.deadline]) as of its last push or fix; every change of a
// held window's bounds or fired flag is followed by a fix, except that a
// session that grew may keep an earlier deadline (refile).
type timer struct {
	deadline Time
	ws       *winState
}

// indexedTimers reports whether the operator's windows must know their
// place in the heap: sessions, which leave it from the middle when merged.
func (o *WindowOperator) indexedTimers() bool { return o.fn.Kind == WindowSession }

func (h winHeap) less(i, j int) bool { return h[i].deadline < h[j].deadline }

func (h *winHeap) push(ws *winState, o *WindowOperator) {
	ws.heapIdx = len(*h)
	*h = append(*h, timer{o.deadline(ws), ws})
	h.siftUp(ws.heapIdx, o.indexedTimers())
}

// pop removes the root (the first window due) and returns it.
func (h *winHeap) pop(indexed bool) *winState {
	return h.remove(0, indexed)
}

// remove takes the timer at i out of the heap; only indexed heaps may
// remove anywhere but at the root.
func (h *winHeap) remove(i int, indexed bool) *winState {
	old := *h
	n := len(old) - 1
	ws := old[i].ws
	if i != n {
		old[i] = old[n]
		if indexed {
			old[i].ws.heapIdx = i
		}
	}
	old[n] = timer{}
	*h = old[:n]
	if i != n && !h.siftDown(i, indexed) {
		h.siftUp(i, indexed)
	}
	ws.heapIdx = -1
	return ws
}

// refile is fix for a session whose bounds grew by a merge: an earlier
// deadline moves the timer up at once, a later one is left for
// AdvanceWatermark, which files the session again when its old deadline
// comes up. A session that takes records for a while then costs one heap
// operation per watermark that passes its old deadline, not one sift per
// record (DO1 allows a session's timer a deadline before its window's).
func (h winHeap) refile(i int, o *WindowOperator) {
	if d := o.deadline(h[i].ws); d < h[i].deadline {
		h[i].deadline = d
		h.up(i)
	}
}

// up and down are the indexed sifts (down, in O(n) over every parent,
// heapifies a restored state; it reports whether the timer moved).
func (h winHeap) up(j int)        { h.siftUp(j, true) }
func (h winHeap) down(i int) bool { return h.siftDown(i, true) }

func (h winHeap) siftUp(j int, indexed bool) {
	x := h[j]
	for j > 0 {
		i := (j - 1) / 2
		if h[i].deadline <= x.deadline {
			break
		}
		h[j] = h[i]
		if indexed {
			h[j].ws.heapIdx = j
		}
		j = i
	}
	h[j] = x
	if indexed {
		x.ws.heapIdx = j
	}
}

func (h winHeap) siftDown(i0 int, indexed bool) bool {
	n := len(h)
	x := h[i0]
	i := i0
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && h[r].deadline < h[j].deadline {
			j = r
		}
		if h[j].deadline >= x.deadline {
			break
		}
		h[i] = h[j]
		if indexed {
			h[i].ws.heapIdx = i
		}
		i = j
	}
	h[i] = x
	if indexed {
		x.ws.heapIdx = i
	}
	return i > i0
}

// The snapshot layout, written with package wire (all integers varints, u:
// unsigned):
//
//	+--------+---+------+--------+-------+----+---------+----------+----------------------+---------+--------+
//	| "WOPS" | 3 | kind | keyrow | uaggs | wm | early 1B| lastTick | records, late, panes | ugroups | group...
//	+--------+---+------+--------+-------+----+---------+----------+----------------------+---------+--------+
//	group:  ulen key-bytes | [ucols value...] | ordinal | uwindows | window...
//	window: start | end | n | since | maxEvent | maxIngest | upane | flags 1B | (ulen acc-bytes) x aggs
//	flags:  1 fired on time (or created behind the watermark), 2 closed (emitted an on-time or late pane),
//	        4 shown (a pane was emitted for its current bounds)
//
// Sessions and count windows write one group per key with the key's
// windows (and its count ordinal); fixed, sliding, global and unwindowed
// aggregations write one group per window (ordinal 0), so that a snapshot
// walks the window map once and needs no per-key index. Groups come in map
// order, not sorted: sorting a million keys cost ~40% of a snapshot, and
// every restore rebuilds the same state whatever the order (the timer heap
// orders windows by deadline, start, key and end, a total order), so equal
// states give snapshots of equal length and equal behaviour, not equal
// bytes. keyrow (1 byte) is 1 when the operator keeps its keys' column
// values ([OperatorConfig.KeyRow]); each group then writes them after its
// key bytes. Version 2 snapshots (no keyrow byte) are read by operators
// without KeyRow; version 1 snapshots (sorted keys) are not read.
const (
	snapshotMagic   = "WOPS"
	snapshotVersion = 3
)

// appendSnapshotHeader appends a snapshot's header, everything before its
// group count: AppendSnapshot's and SnapshotView's.
func (o *WindowOperator) appendSnapshotHeader(dst []byte) []byte {
	st := &o.st
	dst = append(dst, snapshotMagic...)
	dst = append(dst, snapshotVersion, byte(o.fn.Kind), boolByte(o.keyRow))
	dst = wire.AppendUvarint(dst, uint64(len(o.aggIdx)))
	dst = wire.AppendVarint(dst, int64(st.wm))
	dst = append(dst, boolByte(st.earlySet))
	dst = wire.AppendVarint(dst, st.lastTick)
	dst = wire.AppendVarint(dst, st.stats.Records)
	dst = wire.AppendVarint(dst, st.stats.Late)
	return wire.AppendVarint(dst, st.stats.Panes)
}

// AppendSnapshot appends the operator's full state to dst: watermark, keys,
// windows with their accumulators ([Accumulator.AppendBinary]), count
// ordinals, pane indexes and trigger state, and the counters. An operator for
// the same aggregation restores it with [WindowOperator.Restore] and then
// behaves exactly as this one would. The order of keys and windows in the
// bytes is unspecified (see the layout above). On error it returns dst
// unextended.
//
// It grows dst once, to a little more than the previous snapshot's size, and
// otherwise allocates nothing per key or window: a snapshot of a million
// keys runs at memory speed (see BenchmarkWindowOperatorSnapshot).
func (o *WindowOperator) AppendSnapshot(dst []byte) ([]byte, error) {
	st := &o.st
	start := len(dst)
	dst = slices.Grow(dst, o.snapHint)
	dst = o.appendSnapshotHeader(dst)
	var err error
	switch o.fn.Kind {
	case WindowSession, WindowCount:
		dst = wire.AppendUvarint(dst, uint64(len(st.keys)))
		for _, ks := range st.keys {
			ws := ks.sessions
			if o.fn.Kind == WindowCount {
				ws = ks.counts
			}
			dst = o.appendGroupHead(dst, ks, len(ws))
			for _, w := range ws {
				if dst, err = o.appendWindow(dst, w); err != nil {
					return dst[:start], err
				}
			}
		}
	default:
		dst = wire.AppendUvarint(dst, uint64(len(st.wins)))
		for _, w := range st.wins {
			dst = o.appendGroupHead(dst, w.ks, 1)
			if dst, err = o.appendWindow(dst, w); err != nil {
				return dst[:start], err
			}
		}
	}
	// The next snapshot of a growing state is likely a little larger.
	n := len(dst) - start
	o.snapHint = n + n/8
	return dst, nil
}

func (o *WindowOperator) appendGroupHead(dst []byte, ks *keyState, windows int) []byte {
	dst = wire.AppendUvarint(dst, uint64(len(ks.key)))
	dst = append(dst, ks.key...)
	if o.keyRow {
		dst = wire.AppendUvarint(dst, uint64(len(ks.row)))
		for _, v := range ks.row {
			dst = AppendValue(dst, v)
		}
	}
	dst = wire.AppendVarint(dst, ks.ordinal)
	return wire.AppendUvarint(dst, uint64(windows))
}

// appendWindow appends one window and its accumulators.
func (o *WindowOperator) appendWindow(dst []byte, w *winState) ([]byte, error) {
	dst = wire.AppendVarint(dst, int64(w.w.Start))
	dst = wire.AppendVarint(dst, int64(w.w.End))
	dst = wire.AppendVarint(dst, w.n)
	dst = wire.AppendVarint(dst, w.since)
	dst = wire.AppendVarint(dst, int64(w.maxEvent))
	dst = wire.AppendVarint(dst, w.maxIngest)
	dst = wire.AppendUvarint(dst, uint64(w.pane))
	dst = append(dst, boolByte(w.fired)|boolByte(w.closed)<<1|boolByte(w.shown)<<2)
	for i, a := range w.accs {
		// Prefix the accumulator's bytes with their length: reserve one
		// byte, enough for the small accumulators (count, sum, min, max,
		// mean, span), and widen it in place for longer ones (sets,
		// sketches), rather than encode into a scratch buffer and copy.
		lenAt := len(dst)
		dst = append(dst, 0)
		var err error
		if dst, err = a.AppendBinary(dst); err != nil {
			return dst, fmt.Errorf("dataflow: snapshot aggregate %d (%v) of key %q: %w", i, o.agg.Aggs[i], w.ks.key, err)
		}
		n := len(dst) - lenAt - 1
		if n < 0x80 {
			dst[lenAt] = byte(n)
			continue
		}
		var pre [binary.MaxVarintLen64]byte
		p := binary.PutUvarint(pre[:], uint64(n))
		dst = append(dst, pre[:p-1]...)
		copy(dst[lenAt+p:], dst[lenAt+1:lenAt+1+n])
		copy(dst[lenAt:], pre[:p])
	}
	return dst, nil
}

// Restore replaces the operator's state with a snapshot made by
// [WindowOperator.AppendSnapshot] of an operator for the same aggregation.
// Truncated, corrupt or mismatched input gives an error wrapping
// [ErrCorruptState] and leaves the operator unchanged; it never panics.
//
// Restore sizes its maps for the snapshot, takes window, key and small
// accumulator states from chunks rather than one allocation each, and
// builds the timer heap in linear time: with a million keys it runs at a
// few hundred nanoseconds per key.
func (o *WindowOperator) Restore(b []byte) error {
	st, err := o.decodeSnapshot(b)
	if err != nil {
		return fmt.Errorf("dataflow: restore window operator: %w", err)
	}
	o.closeView() // AV5: the open view holds the state replaced
	o.st = st
	clear(o.keyCache) // it names the keys of the state replaced
	o.snapHint = len(b) + len(b)/8
	if invariants.Enabled {
		o.checkRestored()
	}
	return nil
}

// restoreChunk is how many window, key or accumulator states Restore
// allocates at once. Chunks make a restore of a million windows cost a few
// thousand allocations instead of millions; they are small so that a chunk
// whose windows are mostly gone pins little memory.
const restoreChunk = 256

// restoreAlloc hands out the states of one Restore from chunks.
type restoreAlloc struct {
	wins     []winState
	keys     []keyState
	accs     []Accumulator
	keyBytes []byte
	newAcc   []func() Accumulator // per aggregate
}

func (a *restoreAlloc) window() *winState {
	if len(a.wins) == 0 {
		a.wins = make([]winState, restoreChunk)
	}
	ws := &a.wins[0]
	a.wins = a.wins[1:]
	return ws
}

func (a *restoreAlloc) key() *keyState {
	if len(a.keys) == 0 {
		a.keys = make([]keyState, restoreChunk)
	}
	ks := &a.keys[0]
	a.keys = a.keys[1:]
	return ks
}

// keyChunk is the size of the chunks Restore copies keys into.
const keyChunk = 4096

// keyString returns a string with b's bytes, copied into a chunk of key
// bytes rather than one allocation per key. The chunk's bytes are never
// written again once a string refers to them, so the strings are
// immutable as Go requires; a chunk stays alive while any of its keys does.
func (a *restoreAlloc) keyString(b []byte) string {
	if len(b) == 0 || len(b) > keyChunk/8 {
		return string(b)
	}
	if cap(a.keyBytes)-len(a.keyBytes) < len(b) {
		a.keyBytes = make([]byte, 0, keyChunk)
	}
	at := len(a.keyBytes)
	a.keyBytes = append(a.keyBytes, b...)
	return unsafe.String(&a.keyBytes[at], len(b))
}

func (a *restoreAlloc) accSlice(n int) []Accumulator {
	if len(a.accs) < n {
		a.accs = make([]Accumulator, max(n, restoreChunk*n))
	}
	s := a.accs[:n:n]
	a.accs = a.accs[n:]
	return s
}

// accMaker returns a constructor of empty accumulators for g that takes
// the small, pointer-free ones from chunks, each a copy of what
// [Agg.NewAccumulator] returns, so it stays in step with it; the others
// (sets, sketches) come from NewAccumulator.
func accMaker(g Agg, in Kind) func() Accumulator {
	switch p := g.NewAccumulator(in).(type) {
	case *countAcc:
		return chunkMaker(p)
	case *sumIntAcc:
		return chunkMaker(p)
	case *sumFloatAcc:
		return chunkMaker(p)
	case *extremeAcc:
		return chunkMaker(p)
	case *meanAcc:
		return chunkMaker(p)
	case *spanAcc:
		return chunkMaker(p)
	}
	return func() Accumulator { return g.NewAccumulator(in) }
}

func chunkMaker[T any, P interface {
	*T
	Accumulator
}](proto P) func() Accumulator {
	var chunk []T
	return func() Accumulator {
		if len(chunk) == 0 {
			chunk = make([]T, restoreChunk)
		}
		p := P(&chunk[0])
		chunk = chunk[1:]
		*p = *proto
		return p
	}
}

func (o *WindowOperator) decodeSnapshot(b []byte) (opState, error) {
	if len(b) < len(snapshotMagic)+2 || string(b[:len(snapshotMagic)]) != snapshotMagic {
		return opState{}, fmt.Errorf("%w: not a window operator snapshot", ErrCorruptState)
	}
	r := wire.NewDecoder(b)
	r.Next(len(snapshotMagic))
	v := r.Byte()
	if v != snapshotVersion && !(v == 2 && !o.keyRow) {
		return opState{}, fmt.Errorf("%w: snapshot version %d, this build reads version %d", ErrCorruptState, v, snapshotVersion)
	}
	if k := WindowKind(r.Byte()); k != o.fn.Kind {
		return opState{}, fmt.Errorf("%w: snapshot of %v windows restored into an operator of %v windows", ErrCorruptState, k, o.fn.Kind)
	}
	keyRow := false
	if v == snapshotVersion {
		switch r.Byte() {
		case 0:
		case 1:
			keyRow = true
		default:
			return opState{}, fmt.Errorf("%w: bad key-row flag", ErrCorruptState)
		}
	}
	if keyRow != o.keyRow {
		return opState{}, fmt.Errorf("%w: snapshot of an operator with OperatorConfig.KeyRow %v restored into one with %v", ErrCorruptState, keyRow, o.keyRow)
	}
	if n := r.Uvarint(); n != uint64(len(o.aggIdx)) {
		return opState{}, fmt.Errorf("%w: snapshot has %d aggregates, the operator %d", ErrCorruptState, n, len(o.aggIdx))
	}
	st := opState{wm: MinTime}
	st.wm = Time(r.Varint())
	st.earlySet = r.Byte() != 0
	st.lastTick = r.Varint()
	st.stats.Records = r.Varint()
	st.stats.Late = r.Varint()
	st.stats.Panes = r.Varint()
	ngroups := r.Count()
	perKey := o.fn.Kind == WindowSession || o.fn.Kind == WindowCount
	// Sessions and count windows write one group per key, and global and
	// unwindowed aggregations have one window per key.
	oneGroupPerKey := perKey || o.fn.Kind == WindowNone || o.fn.Kind == WindowGlobal
	// Groups are keys (sessions, count windows) or windows (the others):
	// size the maps and the heap for them. count bounds ngroups by the bytes
	// left, so corrupt input cannot ask for a huge allocation.
	st.keys = make(map[string]*keyState, ngroups)
	if perKey {
		st.wins = map[winKey]*winState{}
	} else {
		st.wins = make(map[winKey]*winState, ngroups)
		st.timers = make(winHeap, 0, ngroups)
	}
	alloc := restoreAlloc{newAcc: make([]func() Accumulator, len(o.agg.Aggs))}
	for i, g := range o.agg.Aggs {
		alloc.newAcc[i] = accMaker(g, o.aggKinds[i])
	}
	for g := 0; g < ngroups && r.Err() == nil; g++ {
		kb := r.Bytes()
		var keyVals Row
		if o.keyRow {
			if n := r.Count(); n != len(o.keyIdx) && r.Err() == nil {
				return opState{}, fmt.Errorf("%w: key %q has %d key column values, the aggregation %d", ErrCorruptState, kb, n, len(o.keyIdx))
			}
			if r.Err() == nil {
				keyVals = make(Row, len(o.keyIdx))
				for i := range keyVals {
					keyVals[i] = DecodeValue(r)
				}
			}
		}
		ordinal := r.Varint()
		if r.Err() != nil {
			break
		}
		// Each map probe of a million-key state is a cache miss or two, so
		// Restore probes as little as it can: a key that cannot repeat (one
		// group per key) is inserted blind, and a repeat shows as a map that
		// did not grow.
		var ks *keyState
		if !oneGroupPerKey {
			ks = st.keys[string(kb)]
		}
		if ks == nil {
			ks = alloc.key()
			ks.key = alloc.keyString(kb)
			ks.row = keyVals
			ks.ordinal = ordinal
			n := len(st.keys)
			if st.keys[ks.key] = ks; len(st.keys) == n {
				return opState{}, fmt.Errorf("%w: key %q appears twice", ErrCorruptState, kb)
			}
		}
		if ks.ordinal != ordinal || ordinal < 0 {
			return opState{}, fmt.Errorf("%w: bad count ordinal %d for key %q", ErrCorruptState, ordinal, ks.key)
		}
		nwins := r.Count()
		if r.Err() == nil && nwins == 0 && o.fn.Kind != WindowCount {
			return opState{}, fmt.Errorf("%w: key %q has no windows", ErrCorruptState, ks.key)
		}
		for i := 0; i < nwins && r.Err() == nil; i++ {
			ws, err := o.decodeWindow(r, ks, &alloc)
			if err != nil {
				return opState{}, err
			}
			if err := o.placeWindow(&st, ks, ws); err != nil {
				return opState{}, err
			}
		}
	}
	if err := r.Finish(); err != nil {
		return opState{}, corruptSnapshot(err)
	}
	// placeWindow appended the windows to the timers unordered; heapify
	// them in O(n) rather than push them one by one in O(n log n).
	for i := len(st.timers)/2 - 1; i >= 0; i-- {
		st.timers.down(i)
	}
	return st, nil
}

func (o *WindowOperator) decodeWindow(r *wire.Decoder, ks *keyState, alloc *restoreAlloc) (*winState, error) {
	var start, end Time
	start = Time(r.Varint())
	end = Time(r.Varint())
	n := r.Varint()
	since := r.Varint()
	maxEvent := Time(r.Varint())
	maxIngest := r.Varint()
	pane := r.Uvarint()
	flags := r.Byte()
	if r.Err() != nil {
		return nil, corruptSnapshot(r.Err())
	}
	w := Window{Start: start, End: end}
	if flags > 7 {
		return nil, fmt.Errorf("%w: bad window flags %#x", ErrCorruptState, flags)
	}
	if start >= end || n < 0 || since < 0 || since > n || pane > 1<<31 {
		return nil, fmt.Errorf("%w: bad window %v of key %q", ErrCorruptState, w, ks.key)
	}
	ws := alloc.window()
	*ws = winState{ks: ks, w: w, n: n, since: since, maxEvent: maxEvent, maxIngest: maxIngest,
		pane: int(pane), fired: flags&1 != 0, closed: flags&2 != 0, shown: flags&4 != 0, heapIdx: -1}
	ws.accs = alloc.accSlice(len(o.agg.Aggs))
	for i := range o.agg.Aggs {
		enc := r.Bytes()
		if r.Err() != nil {
			return nil, corruptSnapshot(r.Err())
		}
		ws.accs[i] = alloc.newAcc[i]()
		if err := ws.accs[i].UnmarshalBinary(enc); err != nil {
			return nil, fmt.Errorf("%w: aggregate %d of window %v of key %q: %w", ErrCorruptState, i, ws.w, ks.key, err)
		}
	}
	return ws, nil
}

// placeWindow adds a decoded window to the state, checking it fits the
// operator's windows. Windows join the timers unordered: decodeSnapshot
// heapifies them at the end.
func (o *WindowOperator) placeWindow(st *opState, ks *keyState, ws *winState) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: window %v of key %q: %s", ErrCorruptState, ws.w, ks.key, why)
	}
	switch o.fn.Kind {
	case WindowSession:
		if n := len(ks.sessions); n > 0 && ks.sessions[n-1].w.End > ws.w.Start {
			return bad("sessions overlap or are out of order")
		}
		ks.sessions = append(ks.sessions, ws)
	case WindowCount:
		if ws.w.Start < 0 || ws.w.Start%Time(o.fn.Period) != 0 || ws.w.End-ws.w.Start != Time(o.fn.Size) ||
			ws.w.Start >= Time(ks.ordinal) || ws.n >= o.fn.Size || len(ks.counts) >= o.fn.MaxWindowsPerElement() {
			return bad("not an open count window")
		}
		for _, c := range ks.counts {
			if c.w == ws.w {
				return bad("twice")
			}
		}
		ks.counts = append(ks.counts, ws)
	case WindowNone, WindowGlobal:
		if ws.w != GlobalWindow {
			return bad("not the global window")
		}
		fallthrough
	default:
		n := len(st.wins)
		if (o.fn.Kind == WindowFixed || o.fn.Kind == WindowSliding) && int64(ws.w.End-ws.w.Start) != o.fn.Size {
			return bad("not a window of the operator's size")
		}
		if st.wins[winKey{ks, ws.w.Start}] = ws; len(st.wins) == n {
			return bad("twice")
		}
	}
	ks.open++
	st.openCount++
	if o.fn.Kind != WindowCount {
		ws.heapIdx = len(st.timers)
		st.timers = append(st.timers, timer{o.deadline(ws), ws})
	}
	if o.earlyEvery > 0 && !ws.fired && ws.since > 0 {
		ws.inDirty = true
		st.dirty = append(st.dirty, ws)
	}
	return nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// corruptSnapshot wraps a decoding error of a snapshot as [ErrCorruptState].
func corruptSnapshot(err error) error {
	return fmt.Errorf("%w: window operator snapshot: %w", ErrCorruptState, err)
}
