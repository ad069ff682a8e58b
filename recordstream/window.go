package recordstream

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/invariants"
	"github.com/weirlab/weir/recordstream/checkpoint"
	"github.com/weirlab/weir/recordstream/internal/acking"
)

// errCrashed stops the processing of a batch when an injected crash hits.
var errCrashed = errors.New("recordstream: injected crash")

// holdMode says when a windowed bolt acks its input tuples (Storm acks
// windowed tuples when they expire from the window, mechanics.md 1.8).
type holdMode uint8

const (
	holdNone    holdMode = iota // untracked (at-most-once)
	holdReceipt                 // global and unwindowed: acked on receipt (RW3)
	holdExpiry                  // fixed, sliding: acked when the last window holding it is dropped
	holdCount                   // count windows: acked when the last count window holding it fired
	holdSession                 // sessions: acked when the session holding it is dropped
)

// held is one input tuple waiting for its ack: exp is the watermark (or for
// count windows the key's element count) at which it is released.
type held struct {
	exp  int64
	t    dataflow.Time
	root uint64
	edge uint64
	ref  dataflow.RecordRef // what a crash loses (RW4)
	kh   *keyHold           // sessions: the key's queue, to hold it again if its session grows (RW1)
}

// keyHold is the per-key queue of held tuples for count and session windows.
type keyHold struct {
	n int64
	q []held
}

type windowStats struct {
	records, crashes, lost, ackerMsgs, ackerDropped int64
	replaysIn                                       int64 // replayed tuples taken into windows
	reheld                                          int64 // tuples held again because their fired session merged (RW1)
}

// windowTask is the windowed aggregation bolt: a [dataflow.WindowOperator]
// fed in key order by a fields grouping, with a [dataflow.WatermarkTracker]
// over its input spouts fed by their watermark messages. One goroutine owns
// it.
//
//   - RW1 A tuple is acked only once every window holding it has fired and
//     its state is dropped, so a crash before that replays it.
//   - RW2 A late tuple is acked at once and reported in [Report.Late].
//   - RW3 Global and unwindowed aggregations hold their state until the end
//     of the input, longer than any message timeout; their tuples are acked
//     on receipt (as a plain Storm bolt with in-memory state), so a crash of
//     their task loses what it held even with acking.
//   - RW4 Only a pipeline with an event-time watermark (fixed, sliding or
//     session windows in event time) drops records as late (I5). A
//     pipeline without one (count windows, processing-time windows) takes
//     every tuple, replays included: a count-window replay is a new element
//     of its key; a processing-time replay whose window has fired goes into
//     a correction operator whose panes the sink adds to the window's value
//     (an update, counted as a duplicate when the record was counted
//     already). A crash records, for each tuple it loses, the watermark at
//     which it lost it (MinTime for one whose window had not fired yet), so a late replay reports which of its windows lack
//     its earlier delivery ([dataflow.LateRecord.LostAbove]). A replay
//     the restarted task takes in clears the record: its windows have it
//     again, and a later late replay (its tree timed out too) lost nothing.
//     A replay the crash loses before taking it in records nothing: the
//     record's earlier deliveries account for it.
type windowTask struct {
	*taskBase
	t     *topo
	index int
	out   *edge   // the sink (nil with a regroup)
	outs  []*edge // the sink, or the regroup tasks (fields on Regroup.Key)
	acks  []*edge
	drop  *rand.Rand

	op       *dataflow.WindowOperator
	tracker  *dataflow.WatermarkTracker
	eos      []bool
	eosN     int
	finished bool
	mode     holdMode
	panes    []tuple
	late     []dataflow.LateRecord
	lostAt   map[dataflow.RecordRef]dataflow.Time // RW4: at-least-once, tuples a crash lost
	hasWM    bool                                 // RW4: the pipeline has an event-time watermark
	after    *dataflow.WindowOperator             // RW4: processing-time replays whose window fired
	afterH   []held                               // their tuples, acked when after fires
	exq      expiryQueue                          // held tuples by expiry (RW1)
	keys     map[string]*keyHold
	queued   int64    // tuples in the keys' queues, for the budget (RB1)
	tr       *tracker // nil without acking
	key      []byte
	lateness int64
	slowDebt time.Duration
	proto    boltProtocol // nil: Storm's modes
	tap      func(*tuple) // if set, sees every pane sent (Trident keeps a batch's output with its state)
	strong   *millBolt    // the Dataflow mode's protocol (also proto): panes are its productions; nil otherwise
	stats    windowStats
}

func (w *windowTask) init() error {
	t := w.t
	w.drop = rand.New(rand.NewPCG(t.cfg.Faults.Seed, uint64(w.id)+2000))
	w.eos = make([]bool, len(w.inputs)) // the spouts, or the join tasks
	w.lateness = dataflow.Millis(t.agg.AllowedLateness)
	switch k := t.agg.Window.Kind; {
	case t.agg.Domain == dataflow.EventTime && (k == dataflow.WindowFixed || k == dataflow.WindowSliding || k == dataflow.WindowSession):
		w.hasWM = true
	}
	if t.acking {
		w.tr = t.newTracker()
		w.lostAt = map[dataflow.RecordRef]dataflow.Time{}
		switch t.agg.Window.Kind {
		case dataflow.WindowFixed, dataflow.WindowSliding:
			w.mode = holdExpiry
		case dataflow.WindowCount:
			w.mode = holdCount
		case dataflow.WindowSession:
			w.mode = holdSession
		default:
			w.mode = holdReceipt
		}
	}
	return w.reset()
}

// reset builds a fresh operator and tracker: at the start and after a crash
// (the task restarts empty).
func (w *windowTask) reset() error {
	t := w.t
	op, err := dataflow.NewWindowOperator(t.agg, t.aggIn, dataflow.OperatorConfig{Emit: w.onPane, Late: func(dataflow.Row, int64) {},
		KeyRow: t.then != nil})
	if err != nil {
		return err
	}
	w.op = op
	// Processing time has no watermark policy: the bound and the idle
	// timeout are event-time notions (RW4). Its "watermark" is the smallest
	// largest ingest time over the spouts, which a partition's records
	// never fall behind, since ingest times rise within a partition.
	policy := dataflow.WatermarkPolicy{IdleTimeout: t.agg.Watermark.IdleTimeout}
	if t.agg.Domain == dataflow.ProcessingTime {
		policy = dataflow.WatermarkPolicy{}
	}
	w.tracker = dataflow.NewWatermarkTracker(len(w.inputs), policy)
	for i, done := range w.eos {
		if done {
			w.tracker.Finish(i)
		}
	}
	w.finished = false
	w.exq.reset()
	w.keys = map[string]*keyHold{}
	w.queued = 0
	return nil
}

// onPane queues a pane as a sink tuple; it is sent after the operator call
// returns (the callback cannot block on a full queue with a context).
func (w *windowTask) onPane(p dataflow.Pane) {
	n := len(w.panes)
	if n < cap(w.panes) {
		w.panes = w.panes[:n+1]
	} else {
		w.panes = append(w.panes, tuple{})
	}
	tp := &w.panes[n]
	var row dataflow.Row
	if w.t.then != nil {
		// The regroup takes the result as a row of
		// Aggregation.ResultSchema: key columns, then every aggregate.
		row = dataflow.AppendResultRow(tp.Row[:0], p)
	} else {
		row = append(tp.Row[:0], dataflow.Str(p.Key), p.Value)
		row = append(row, p.Extra...)
	}
	*tp = tuple{Kind: msgPane, Src: int32(w.id), Row: row, Win: p.Window, Time: p.MaxEventTime,
		Ingest: p.MaxIngestNanos, Aux: int64(p.Index), Partition: int32(p.Timing), Offset: int64(w.op.Watermark())}
	if p.Timing == dataflow.PaneMerged {
		setMergedInto(tp, p.Into)
	}
	if w.mode == holdSession {
		switch p.Timing {
		case dataflow.PaneOnTime:
			w.releaseSession(p.Key, p.Window)
		case dataflow.PaneMerged:
			w.reholdSession(p.Key, p.Window)
		}
	}
}

// paneIncrement marks a pane of the correction operator (RW4) in
// tuple.Partition: the sink adds it to the window's value.
const paneIncrement = 1 << 16

// paneTiming returns the timing of a pane tuple.
func paneTiming(tp *tuple) dataflow.PaneTiming {
	return dataflow.PaneTiming(tp.Partition &^ paneIncrement)
}

// setMergedInto and mergedInto carry a PaneMerged notice's target session
// in the pane tuple's Root and Edge, which panes do not use (they are
// unanchored).
func setMergedInto(tp *tuple, into dataflow.Window) {
	tp.Root, tp.Edge = uint64(into.Start), uint64(into.End)
}

func mergedInto(tp *tuple) dataflow.Window {
	return dataflow.Window{Start: dataflow.Time(tp.Root), End: dataflow.Time(tp.Edge)}
}

// onIncrement queues a pane of the correction operator.
func (w *windowTask) onIncrement(p dataflow.Pane) {
	w.onPane(p)
	w.panes[len(w.panes)-1].Partition |= paneIncrement
}

// flushAfter fires the correction operator (RW4) and acks its tuples.
func (w *windowTask) flushAfter(ctx context.Context) error {
	if w.after == nil {
		return nil
	}
	w.after.Finish()
	w.after = nil
	if err := w.sendPanes(ctx); err != nil {
		return err
	}
	for _, h := range w.afterH {
		if err := w.sendAck(ctx, h.root, h.edge); err != nil {
			return err
		}
	}
	w.afterH = w.afterH[:0]
	return nil
}

func (w *windowTask) sendPanes(ctx context.Context) error {
	if w.strong != nil {
		// Strong productions (RD2): committed with the bundle, sent after.
		w.strong.produce(w.panes)
		w.panes = w.panes[:0]
		return nil
	}
	for i := range w.panes {
		if w.tap != nil {
			w.tap(&w.panes[i])
		}
		e := w.out
		if e == nil { // a regroup task by the regroup key of the result row
			w.key = dataflow.AppendKey(w.key[:0], w.panes[i].Row, w.t.thenKeyIdx)
			e = w.outs[fields.choose(len(w.outs), w.t.hashKey(w.key), 0)]
		}
		if err := e.put(ctx, &w.panes[i]); err != nil {
			return err
		}
	}
	w.panes = w.panes[:0]
	return nil
}

func (w *windowTask) sendAck(ctx context.Context, root, val uint64) error {
	w.stats.ackerMsgs++
	if p := w.t.cfg.Faults.DropAcks; p > 0 && w.drop.Float64() < p {
		w.stats.ackerDropped++
		return nil
	}
	e := w.acks[w.t.ackerFor(root)]
	tp, err := e.slot(ctx)
	if err != nil {
		return err
	}
	tp.Kind, tp.Aux, tp.Root, tp.Edge, tp.Src = msgAck, int64(acking.AckAck), root, val, int32(w.id)
	return e.commit(ctx)
}

// hold keeps tp's ack until its windows are gone (RW1).
func (w *windowTask) hold(ctx context.Context, tp *tuple) error {
	if tp.Root == 0 {
		return nil // a joined row a join's firing produced: not anchored (RJ2)
	}
	h := held{t: tp.Time, root: tp.Root, edge: tp.Edge, ref: dataflow.RecordRef{Partition: int(tp.Partition), Offset: tp.Offset}}
	a := w.t.agg
	switch w.mode {
	case holdReceipt:
		return w.sendAck(ctx, tp.Root, tp.Edge)
	case holdExpiry:
		h.exp = w.t.releaseBound(tp.Time) // the end of its last window, plus the lateness
		w.exq.push(h)
	case holdCount, holdSession:
		w.key = dataflow.AppendKey(w.key[:0], tp.Row, w.t.tupleKeyIdx)
		kh := w.keys[string(w.key)]
		if kh == nil {
			kh = &keyHold{}
			w.keys[string(w.key)] = kh
		}
		w.queued++
		if w.mode == holdSession {
			kh.q = append(kh.q, h)
			return nil
		}
		n := kh.n
		kh.n++
		last := n - n%a.Window.Period
		h.exp = last + a.Window.Size
		kh.q = append(kh.q, h)
		i := 0
		for i < len(kh.q) && kh.q[i].exp <= kh.n {
			if err := w.sendAck(ctx, kh.q[i].root, kh.q[i].edge); err != nil {
				return err
			}
			i++
		}
		if i > 0 {
			kh.q = append(kh.q[:0], kh.q[i:]...)
			w.queued -= int64(i)
		}
	}
	return nil
}

// releaseSession moves the key's held tuples inside the fired session to
// the expiry queue, to be acked when the session's state is dropped.
func (w *windowTask) releaseSession(key string, win dataflow.Window) {
	kh := w.keys[key]
	if kh == nil {
		return
	}
	exp := int64(win.End) + w.lateness
	kept := kh.q[:0]
	for _, h := range kh.q {
		if win.Contains(h.t) {
			h.exp, h.kh = exp, kh
			w.exq.push(h)
		} else {
			kept = append(kept, h)
		}
	}
	w.queued -= int64(len(kh.q) - len(kept))
	kh.q = kept
}

// reholdSession takes the key's tuples inside session win, which fired and
// has now merged into a larger session ([dataflow.PaneMerged]), back from
// the expiry queue into the key's queue: their state lives on in the merged
// session, so they wait for its on-time pane (RW1). Merges of fired sessions
// are rare, so the whole queue is filtered.
func (w *windowTask) reholdSession(key string, win dataflow.Window) {
	kh := w.keys[key]
	if kh == nil {
		return
	}
	w.exq.removeIf(func(h held) bool {
		if h.kh != kh || !win.Contains(h.t) {
			return false
		}
		kh.q = append(kh.q, h)
		w.queued++
		w.stats.reheld++
		return true
	})
	if invariants.Enabled {
		w.exq.check()
	}
}

// releaseUpTo acks every held tuple whose windows are gone at watermark wm.
func (w *windowTask) releaseUpTo(ctx context.Context, wm dataflow.Time) error {
	if invariants.Enabled {
		w.exq.check()
	}
	for b := w.exq.popDue(int64(wm)); b != nil; b = w.exq.popDue(int64(wm)) {
		for i := range b.hs {
			if err := w.sendAck(ctx, b.hs[i].root, b.hs[i].edge); err != nil {
				return err
			}
		}
		w.exq.recycle(b)
	}
	return nil
}

// releaseAll acks everything held: the end of the input.
func (w *windowTask) releaseAll(ctx context.Context) error {
	for b := w.exq.popDue(maxHeld); b != nil; b = w.exq.popDue(maxHeld) {
		for i := range b.hs {
			if err := w.sendAck(ctx, b.hs[i].root, b.hs[i].edge); err != nil {
				return err
			}
		}
		w.exq.recycle(b)
	}
	for _, kh := range w.keys {
		for _, h := range kh.q {
			if err := w.sendAck(ctx, h.root, h.edge); err != nil {
				return err
			}
		}
		w.queued -= int64(len(kh.q))
		kh.q = kh.q[:0]
	}
	return nil
}

// publish counts the task's held tuples and late records against the
// budget (RB1), after every batch.
func (w *windowTask) publish() error {
	if w.tr == nil {
		return nil
	}
	if invariants.Enabled {
		var q int64
		for _, kh := range w.keys {
			q += int64(len(kh.q))
		}
		if q != w.queued {
			invariants.Assertf(false, "RB1: window task %d counts %d tuples in its keys' queues, they hold %d", w.index, w.queued, q)
		}
	}
	var n [numTracked]int64
	n[trackHeld] = int64(w.exq.len()+len(w.afterH)+len(w.lostAt)) + w.queued
	n[trackLate] = int64(len(w.late))
	return w.tr.publish(&n, 0)
}

// maxHeld is an expiry above every tuple's: popDue(maxHeld) takes any
// bucket.
const maxHeld = int64(^uint64(0) >> 1)

// siftDown restores the min-heap order on exp of h below i (the join
// bolt's heap of held side tuples). It works on the slice, not the task,
// so that the loop keeps h in registers.
func siftDown(h []held, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		j := l
		if r := l + 1; r < n && h[r].exp < h[l].exp {
			j = r
		}
		if h[i].exp <= h[j].exp {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

// finish fires every remaining window (end of input) and acks everything.
func (w *windowTask) finish(ctx context.Context) error {
	if w.finished {
		return nil
	}
	w.finished = true
	if err := w.flushAfter(ctx); err != nil {
		return err
	}
	w.strong.logOp(opFinish, nil, 0)
	w.op.Finish()
	if err := w.sendPanes(ctx); err != nil {
		return err
	}
	if err := w.forwardWatermark(ctx, dataflow.MaxTime); err != nil {
		return err
	}
	return w.releaseAll(ctx)
}

// advance applies the tracker's watermark to the operator.
func (w *windowTask) advance(ctx context.Context) error {
	if err := w.flushAfter(ctx); err != nil {
		return err
	}
	if w.finished {
		return nil
	}
	wm := w.tracker.Current(dataflow.Time(w.t.now() / 1e6))
	if wm == dataflow.MaxTime {
		return w.finish(ctx)
	}
	if wm <= w.op.Watermark() {
		return nil
	}
	w.strong.logOp(opWatermark, nil, int64(wm))
	w.op.AdvanceWatermark(wm)
	if err := w.sendPanes(ctx); err != nil {
		return err
	}
	if err := w.forwardWatermark(ctx, wm); err != nil {
		return err
	}
	return w.releaseUpTo(ctx, wm)
}

// forwardWatermark sends the task's watermark to the regroup tasks
// (Pipeline.Then): a regroup fires a window once every window task's
// watermark has passed its end, behind the window's results.
func (w *windowTask) forwardWatermark(ctx context.Context, wm dataflow.Time) error {
	if w.t.then == nil {
		return nil
	}
	for _, e := range w.outs {
		tp, err := e.slot(ctx)
		if err != nil {
			return err
		}
		tp.Kind, tp.Time, tp.Src = msgWatermark, wm, int32(w.id)
		if err := e.commit(ctx); err != nil {
			return err
		}
	}
	return nil
}

// lost records the tuples an injected crash loses: the rest of the batch
// from the crash point (RW4).
func (w *windowTask) lost(rest []tuple) {
	w.stats.lost += int64(len(rest))
	for i := range rest {
		w.lose(&rest[i], dataflow.MinTime)
	}
}

// handle handles one message from input channel ch (the spout of that
// index).
func (w *windowTask) handle(ctx context.Context, ch int, tp *tuple) error {
	switch tp.Kind {
	case msgData:
		w.stats.records++
		w.slowDebt += w.t.cfg.Faults.Slow
		return w.onData(ctx, tp)
	case msgWatermark:
		if tp.Time == dataflow.MaxTime {
			w.tracker.Finish(ch)
		} else {
			w.tracker.Advance(ch, tp.Time, dataflow.Time(w.t.now()/1e6))
		}
		return w.advance(ctx)
	case msgEOS:
		if !w.eos[ch] {
			w.eos[ch] = true
			w.eosN++
			w.tracker.Finish(ch)
		}
		return w.advance(ctx)
	}
	return nil
}

func (w *windowTask) onData(ctx context.Context, tp *tuple) error {
	if !w.hasWM {
		return w.onDataNoWatermark(ctx, tp)
	}
	if w.finished {
		// After the end of the input nothing can take the record: it is
		// late for every window (a replay that came too late).
		return w.dropLate(ctx, tp, dataflow.MaxTime)
	}
	w.strong.logOp(opAdd, tp.Row, tp.Ingest)
	late := w.add(tp)
	if len(w.panes) > 0 {
		if err := w.sendPanes(ctx); err != nil {
			return err
		}
	}
	if late {
		return w.dropLate(ctx, tp, w.op.Watermark()) // RW2
	}
	if tp.Aux == 1 {
		w.stats.replaysIn++
		// This delivery reaches the record's windows: a crash's record of
		// losing an earlier one no longer holds (RW4), or a later late
		// replay would report a loss the run does not have. A crash that
		// loses this delivery records it again.
		delete(w.lostAt, dataflow.RecordRef{Partition: int(tp.Partition), Offset: tp.Offset})
	}
	if w.mode != holdNone {
		return w.hold(ctx, tp)
	}
	return nil
}

// add gives the operator a data tuple. Behind a join, the tuple's row is
// windowed by its join_time and contributes the largest event time of its
// side rows to its panes' MaxEventTime ([joinedEvent]), from which the sink
// measures event-time latency.
func (w *windowTask) add(tp *tuple) (late bool) {
	if w.t.join != nil {
		return w.op.AddAt(tp.Row, tp.Ingest, joinedEvent(tp))
	}
	return w.op.Add(tp.Row, tp.Ingest)
}

// dropLate reports tp as late at watermark wm and acks it (RW2).
//
// In the Dataflow mode (w.strong set) the report is never a replay: a
// delivery that reaches the operator there is the only one of its record
// the store commits (RD1 drops every delivery after a committed one), so a
// retry of a delivery a crash lost before its commit (with the bundle's
// late records) is, in the committed run, the record's first and only
// delivery (RD7). Reported as a replay, the check would take the lost
// delivery for one that reached the record's windows.
func (w *windowTask) dropLate(ctx context.Context, tp *tuple, wm dataflow.Time) error {
	l := dataflow.LateRecord{RecordRef: dataflow.RecordRef{Partition: int(tp.Partition), Offset: tp.Offset}, Watermark: wm, Replay: tp.Aux == 1 && w.strong == nil, LostAbove: dataflow.MaxTime}
	w.key = dataflow.AppendKey(w.key[:0], tp.Row, w.t.tupleKeyIdx)
	l.Key = string(w.key)
	if l.Replay {
		if at, ok := w.lostAt[l.RecordRef]; ok {
			l.LostAbove = at
		}
	}
	w.late = append(w.late, l)
	if w.mode != holdNone && tp.Root != 0 {
		return w.sendAck(ctx, tp.Root, tp.Edge)
	}
	return nil
}

// onDataNoWatermark takes a tuple of a pipeline without a watermark: it is
// never late (RW4).
func (w *windowTask) onDataNoWatermark(ctx context.Context, tp *tuple) error {
	if tp.Aux == 1 {
		w.stats.replaysIn++
	}
	w.finished = false // a replay after the end: finish again at the next end-of-input watermark
	if w.op.IsLateTime(tp.Time) {
		// A processing-time window that has fired: correct it.
		if w.after == nil {
			op, err := dataflow.NewWindowOperator(w.t.agg, w.t.aggIn, dataflow.OperatorConfig{Emit: w.onIncrement, Late: func(dataflow.Row, int64) {}})
			if err != nil {
				return err
			}
			w.after = op
		}
		if w.after.Add(tp.Row, tp.Ingest) {
			return fmt.Errorf("recordstream: the correction operator found a tuple of %v late", tp.Win)
		}
		if w.mode != holdNone {
			w.afterH = append(w.afterH, held{root: tp.Root, edge: tp.Edge, ref: dataflow.RecordRef{Partition: int(tp.Partition), Offset: tp.Offset}})
		}
		return nil
	}
	w.strong.logOp(opAdd, tp.Row, tp.Ingest)
	if w.add(tp) {
		return fmt.Errorf("recordstream: a pipeline without a watermark found a tuple late")
	}
	if len(w.panes) > 0 {
		if err := w.sendPanes(ctx); err != nil {
			return err
		}
	}
	if w.mode != holdNone {
		return w.hold(ctx, tp)
	}
	return nil
}

// lose records that a crash lost tp, a tuple the task had not taken in, at
// watermark wm (RW4). A lost replay records nothing: the deliveries before
// it came first on the same edge, so each of them reached its windows (then
// nothing of the record is lost), is held by the task (the crash records
// it), was lost before it here (recorded) or was reported as late.
func (w *windowTask) lose(tp *tuple, wm dataflow.Time) {
	if w.lostAt != nil && tp.Kind == msgData && tp.Aux != 1 {
		w.lostAt[dataflow.RecordRef{Partition: int(tp.Partition), Offset: tp.Offset}] = wm
	}
}

// crash loses the task's queued tuples and its state, then restarts it
// empty. EOS messages in the queue are still counted: they stand for the
// upstream's end, which a restarted task learns again from its inputs.
//
// Only the batches queued at the moment of the crash are lost: producers go
// on filling the queue while it drains, and what they add after the crash
// reaches the restarted task (draining until the queue is empty would lose
// an unbounded share of the stream when producers run at full speed).
func (w *windowTask) crash() error {
	w.stats.crashes++
	if w.lostAt != nil {
		// A tuple in the expiry queue is in windows that fired at or before
		// the watermark (their panes reached the sink); one still queued
		// per key (sessions, count windows) is in a window that has not
		// fired, so its delivery reached no window at all.
		wm := w.op.Watermark()
		w.exq.each(func(h *held) { w.lostAt[h.ref] = wm })
		for _, kh := range w.keys {
			for _, h := range kh.q {
				w.lostAt[h.ref] = dataflow.MinTime
			}
		}
		for _, h := range w.afterH {
			w.lostAt[h.ref] = dataflow.MinTime
		}
	}
	w.after, w.afterH = nil, w.afterH[:0]
	for range len(w.in.ch) {
		b := <-w.in.ch
		for i := range b.ts {
			tp := &b.ts[i]
			switch tp.Kind {
			case msgEOS:
				if ch := w.chanOf[tp.Src]; !w.eos[ch] {
					w.eos[ch] = true
					w.eosN++
				}
			case msgData:
				w.stats.lost++
				w.lose(tp, dataflow.MinTime)
			}
		}
		b.release()
	}
	w.panes = w.panes[:0]
	return w.reset()
}

func (w *windowTask) flushAll(ctx context.Context) error {
	for _, e := range w.outs {
		if err := e.flush(ctx); err != nil {
			return err
		}
	}
	for _, e := range w.acks {
		if err := e.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// run is the window bolt's loop, for every guarantee: take a batch, hand
// it to the task (through the protocol, if any), fire early panes, pay the
// slow fault, flush when the inbox is empty; at the end of every input,
// finish and send end-of-stream.
func (w *windowTask) run(ctx context.Context) error {
	t := w.t
	// Trident fires early panes at its commits, as part of a batch's
	// output (trident_protocol.go).
	early := t.agg.Trigger.EarlyEvery > 0 && t.cfg.Guarantee != Trident
	if w.proto != nil {
		if err := w.proto.start(ctx, w); err != nil {
			return err
		}
	}
	for w.eosN < len(w.eos) {
		b, err := w.receive(ctx, w.proto)
		if err != nil {
			return err
		}
		if b == nil {
			continue // a notice
		}
		start := t.now()
		// Behind a join, the join tasks take the records in (and crash).
		err = w.deliver(ctx, b, w.proto, w, t.join == nil)
		b.release()
		switch {
		case errors.Is(err, errCrashed):
			if w.proto != nil {
				if err := w.proto.crash(); err != nil {
					return err
				}
			}
			if err := w.crash(); err != nil {
				return err
			}
			if w.proto != nil {
				if err := w.proto.restart(ctx, w); err != nil {
					return err
				}
			}
		case err != nil:
			return err
		}
		if err := w.publish(); err != nil {
			return err
		}
		if early {
			now := dataflow.Time(t.now() / 1e6)
			w.strong.logOp(opProcessingTime, nil, int64(now))
			w.op.OnProcessingTime(now)
			if err := w.sendPanes(ctx); err != nil {
				return err
			}
		}
		if err := w.pay(ctx, &w.slowDebt); err != nil {
			return err
		}
		w.busy.Add(t.now() - start)
		if len(w.in.ch) == 0 {
			if err := w.flushAll(ctx); err != nil {
				return err
			}
		}
	}
	if err := w.finish(ctx); err != nil {
		return err
	}
	if w.proto != nil {
		if err := w.proto.finish(ctx, w); err != nil {
			return err
		}
	}
	for _, e := range append(slices.Clip(w.acks), w.outs...) {
		tp, err := e.slot(ctx)
		if err != nil {
			return err
		}
		tp.Kind, tp.Src = msgEOS, int32(w.id)
		if err := e.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// forward sends barrier id to the sink (exactly-once).
func (w *windowTask) forward(ctx context.Context, id checkpoint.ID) error {
	for _, e := range w.outs {
		if err := sendBarrier(ctx, e, w.id, id); err != nil {
			return err
		}
	}
	return nil
}
