package recordstream

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/recordstream/checkpoint"
	"github.com/weirlab/weir/recordstream/internal/acking"
)

// joinStats are a join task's counters.
type joinStats struct {
	records, ackerMsgs, ackerDropped, joined int64
	replaysIn                                int64 // replayed side tuples taken into the join's state
}

// joinTask is the stream-join bolt of a pipeline with a [dataflow.Join]: a
// [dataflow.JoinOperator] fed by a fields grouping on the join key from
// both sides (the spouts run the shared steps and each side's steps), with
// a [dataflow.WatermarkTracker] over two inputs per spout (channel ch's
// side s is input 2ch+s), each advanced by the watermark the spout derives
// from that side's rows (Join.Watermark). The join's watermark is their
// minimum. It runs Join.Steps on each joined row and sends the results to
// the window tasks (fields grouping on Agg.Key) or, for an Emit, to the
// sink; the joined rows of a window are sent before the watermark that
// fired them is forwarded, so none is late downstream. One goroutine owns
// it.
//
//   - RJ1 With acking, a side tuple is acked once the join's state for it
//     is dropped: for a windowed join when the watermark reaches the end of
//     its last window plus the allowed lateness (as RW1), for an
//     incremental join (state kept for ever) on receipt (as RW3).
//   - RJ2 A joined row produced while a side tuple is added (an
//     incremental join's pairs, a windowed join's pairs of a row accepted
//     after its window fired) is anchored to that tuple's tree: its edge
//     id goes into the tuple's ack, so its loss downstream fails the tree
//     and the replay joins again. A joined row a window's firing produces
//     is not anchored (its tree is 0): every replay of its side rows would
//     be late for the fired window, so no replay could produce it again.
//   - RJ3 A late side row (its window late, [dataflow.JoinOperator.IsLateTime])
//     is dropped, acked at once and reported in [Report.Late] with the join
//     key's text as Key.
type joinTask struct {
	*taskBase
	t     *topo
	index int
	out   []*edge // window tasks (fields on Agg.Key) or the sink
	acks  []*edge
	drop  *rand.Rand
	rng   *rand.Rand

	op       *dataflow.JoinOperator
	tracker  *dataflow.WatermarkTracker
	steps    *chain // Join.Steps; its emit queues the output tuple
	eos      []bool
	eosN     int
	finished bool
	outq     []tuple       // output of the current operator call, sent after it
	cur      *tuple        // the side tuple being added (RJ2); nil while firing
	curXOR   uint64        // the edge ids anchored to cur
	ingest   int64         // the joined row's ingest time, for the queued tuple
	event    dataflow.Time // the joined row's largest contributing event time
	heap     []held        // side tuples held until their state is dropped (RJ1)
	late     []dataflow.LateRecord
	key      []byte
	tr       *tracker // nil without acking
	slowDebt time.Duration
	proto    boltProtocol // nil: Storm's modes
	stats    joinStats
}

func (j *joinTask) init() error {
	t := j.t
	j.drop = rand.New(rand.NewPCG(t.cfg.Faults.Seed, uint64(j.id)+3000))
	j.rng = t.rng(j.id)
	j.eos = make([]bool, len(j.inputs))
	steps, err := compileChain(t.join.Steps, t.js.Joined)
	if err != nil {
		return err
	}
	j.steps = steps
	j.steps.emit = j.queue
	if t.acking {
		j.tr = t.newTracker()
	}
	return j.reset()
}

// reset builds a fresh operator and tracker: at the start (and in
// exactly-once each incarnation restores the operator after it).
func (j *joinTask) reset() error {
	t := j.t
	op, err := dataflow.NewJoinOperator(t.join, t.sideSchema[dataflow.JoinLeft], t.sideSchema[dataflow.JoinRight],
		dataflow.JoinConfig{Emit: j.onJoined, Late: func(int, dataflow.Row, int64) {}})
	if err != nil {
		return err
	}
	j.op = op
	j.tracker = dataflow.NewWatermarkTracker(2*len(j.inputs), dataflow.WatermarkPolicy{IdleTimeout: t.join.Watermark.IdleTimeout})
	for ch, done := range j.eos {
		if done {
			j.tracker.Finish(2 * ch)
			j.tracker.Finish(2*ch + 1)
		}
	}
	j.finished = false
	j.heap = j.heap[:0]
	return nil
}

// onJoined is the operator's Emit: it runs Join.Steps on the joined row,
// whose output rows [joinTask.queue] keeps.
func (j *joinTask) onJoined(row dataflow.Row, maxEvent dataflow.Time, ingest int64) {
	j.stats.joined++
	j.ingest, j.event = ingest, maxEvent
	// The chain's steps cannot fail, and queue only appends.
	_ = j.steps.run(context.Background(), row)
}

// queue keeps one output row of Join.Steps as a data tuple for the window
// tasks (projected as a spout projects, RP2) or the sink, anchored to the
// side tuple being added, if any (RJ2).
func (j *joinTask) queue(_ context.Context, row dataflow.Row) error {
	t := j.t
	n := len(j.outq)
	if n < cap(j.outq) {
		j.outq = j.outq[:n+1]
	} else {
		j.outq = append(j.outq, tuple{})
	}
	tp := &j.outq[n]
	r := tp.Row[:0]
	if t.proj == nil {
		r = append(r, row...)
	} else {
		for _, i := range t.proj {
			r = append(r, row[i])
		}
	}
	*tp = tuple{Kind: msgData, Src: int32(j.id), Partition: -1, Offset: -1, Ingest: j.ingest, Row: r}
	switch {
	case t.timeAt >= 0:
		tp.Time = row[t.timeAt].Time()
	case t.agg == nil:
		// An Emit: the sink measures event-time latency from the
		// largest event time of the joined side rows (a windowed join's
		// join_time, its window's end - 1 ms, may lie after them).
		tp.Time = j.event
	case t.joinTimeAt >= 0:
		tp.Time = row[t.joinTimeAt].Time()
	default:
		tp.Time = dataflow.Time(j.ingest / 1e6)
	}
	if t.agg != nil {
		setJoinedEvent(tp, j.event)
	}
	if c := j.cur; c != nil {
		tp.Partition, tp.Offset, tp.Aux = c.Partition, c.Offset, c.Aux // a replay's rows are replays
		if t.acking && c.Root != 0 {
			e := j.rng.Uint64()
			tp.Root, tp.Edge = c.Root, e
			j.curXOR ^= e
		}
	}
	return nil
}

// setJoinedEvent and joinedEvent carry a joined row's largest contributing
// event time ([dataflow.JoinConfig.Emit]) from the join task to the window
// task in its data tuple's Win.Start, which data tuples do not otherwise
// use and the exactly-once channel state keeps. The tuple's Time is the
// row's window time (its join_time, the join window's end - 1 ms, after
// its side rows); the window task gives the aggregation both
// ([dataflow.WindowOperator.AddAt]), so that event-time latency is
// measured from the side rows' event times.
func setJoinedEvent(tp *tuple, ev dataflow.Time) { tp.Win = dataflow.Window{Start: ev} }

func joinedEvent(tp *tuple) dataflow.Time { return tp.Win.Start }

// sendOut sends the queued output tuples.
func (j *joinTask) sendOut(ctx context.Context) error {
	t := j.t
	for i := range j.outq {
		tp := &j.outq[i]
		e := j.out[0]
		if len(j.out) > 1 {
			j.key = dataflow.AppendKey(j.key[:0], tp.Row, t.tupleKeyIdx)
			e = j.out[fields.choose(len(j.out), t.hashKey(j.key), 0)]
		}
		if err := e.put(ctx, tp); err != nil {
			return err
		}
	}
	j.outq = j.outq[:0]
	return nil
}

// broadcast forwards a watermark (or end of input) to every output.
func (j *joinTask) broadcast(ctx context.Context, wm dataflow.Time) error {
	if j.t.agg == nil {
		return nil // the sink of an Emit takes no watermark
	}
	for _, e := range j.out {
		tp, err := e.slot(ctx)
		if err != nil {
			return err
		}
		tp.Kind, tp.Time, tp.Src = msgWatermark, wm, int32(j.id)
		if err := e.commit(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (j *joinTask) sendAck(ctx context.Context, root, val uint64) error {
	j.stats.ackerMsgs++
	if p := j.t.cfg.Faults.DropAcks; p > 0 && j.drop.Float64() < p {
		j.stats.ackerDropped++
		return nil
	}
	e := j.acks[j.t.ackerFor(root)]
	tp, err := e.slot(ctx)
	if err != nil {
		return err
	}
	tp.Kind, tp.Aux, tp.Root, tp.Edge, tp.Src = msgAck, int64(acking.AckAck), root, val, int32(j.id)
	return e.commit(ctx)
}

// handle handles one message from input channel ch (the spout of that
// index).
func (j *joinTask) handle(ctx context.Context, ch int, tp *tuple) error {
	switch tp.Kind {
	case msgData:
		j.stats.records++
		j.slowDebt += j.t.cfg.Faults.Slow
		return j.onData(ctx, tp)
	case msgWatermark:
		in := 2*ch + int(tp.Side)
		if tp.Time == dataflow.MaxTime {
			j.tracker.Finish(in)
		} else {
			j.tracker.Advance(in, tp.Time, dataflow.Time(j.t.now()/1e6))
		}
		return j.advance(ctx)
	case msgEOS:
		if !j.eos[ch] {
			j.eos[ch] = true
			j.eosN++
			j.tracker.Finish(2 * ch)
			j.tracker.Finish(2*ch + 1)
		}
		return j.advance(ctx)
	}
	return nil
}

func (j *joinTask) onData(ctx context.Context, tp *tuple) error {
	side := int(tp.Side)
	if j.finished {
		return j.dropLate(ctx, tp, dataflow.MaxTime) // a replay after the end of the input
	}
	j.cur, j.curXOR = tp, 0
	late := j.op.Add(side, tp.Row, tp.Ingest)
	j.cur = nil
	if err := j.sendOut(ctx); err != nil {
		return err
	}
	if late {
		return j.dropLate(ctx, tp, j.op.Watermark()) // RJ3
	}
	if tp.Aux == 1 {
		j.stats.replaysIn++
	}
	if !j.t.acking || tp.Root == 0 {
		return nil
	}
	if !j.t.join.Windowed() {
		return j.sendAck(ctx, tp.Root, tp.Edge^j.curXOR) // RJ1, RJ2
	}
	j.push(held{exp: j.t.joinReleaseBound(tp.Time), t: tp.Time, root: tp.Root, edge: tp.Edge ^ j.curXOR,
		ref: dataflow.RecordRef{Partition: int(tp.Partition), Offset: tp.Offset}})
	return nil
}

// dropLate reports tp as late at watermark wm and acks it (RJ3).
func (j *joinTask) dropLate(ctx context.Context, tp *tuple, wm dataflow.Time) error {
	l := dataflow.LateRecord{RecordRef: dataflow.RecordRef{Partition: int(tp.Partition), Offset: tp.Offset}, Watermark: wm,
		Replay: tp.Aux == 1, LostAbove: dataflow.MaxTime}
	j.key = dataflow.AppendKey(j.key[:0], tp.Row, j.t.sideKeyIdx[tp.Side])
	l.Key = string(j.key)
	j.late = append(j.late, l)
	if j.t.acking && tp.Root != 0 {
		return j.sendAck(ctx, tp.Root, tp.Edge)
	}
	return nil
}

// advance applies the tracker's watermark to the operator: it sends the
// fired windows' joined rows, then forwards the watermark, then acks the
// side tuples whose state is gone.
func (j *joinTask) advance(ctx context.Context) error {
	if j.finished {
		return nil
	}
	wm := j.tracker.Current(dataflow.Time(j.t.now() / 1e6))
	if wm == dataflow.MaxTime {
		return j.finish(ctx)
	}
	if wm <= j.op.Watermark() {
		return nil
	}
	j.op.AdvanceWatermark(wm)
	if err := j.sendOut(ctx); err != nil {
		return err
	}
	if err := j.broadcast(ctx, wm); err != nil {
		return err
	}
	for len(j.heap) > 0 && j.heap[0].exp <= int64(wm) {
		h := j.pop()
		if err := j.sendAck(ctx, h.root, h.edge); err != nil {
			return err
		}
	}
	return nil
}

// finish fires every remaining window (end of input), forwards the end of
// input and acks everything held.
func (j *joinTask) finish(ctx context.Context) error {
	if j.finished {
		return nil
	}
	j.finished = true
	j.op.Finish()
	if err := j.sendOut(ctx); err != nil {
		return err
	}
	if err := j.broadcast(ctx, dataflow.MaxTime); err != nil {
		return err
	}
	for _, h := range j.heap {
		if err := j.sendAck(ctx, h.root, h.edge); err != nil {
			return err
		}
	}
	j.heap = j.heap[:0]
	return nil
}

// push and pop keep j.heap a binary min-heap on exp.
func (j *joinTask) push(h held) {
	j.heap = append(j.heap, h)
	for k := len(j.heap) - 1; k > 0; {
		i := (k - 1) / 2
		if j.heap[i].exp <= j.heap[k].exp {
			break
		}
		j.heap[i], j.heap[k] = j.heap[k], j.heap[i]
		k = i
	}
}

func (j *joinTask) pop() held {
	h := j.heap[0]
	n := len(j.heap) - 1
	j.heap[0] = j.heap[n]
	j.heap = j.heap[:n]
	siftDown(j.heap, 0)
	return h
}

// publish counts the task's held tuples and late records against the
// budget (RB1), after every batch.
func (j *joinTask) publish() error {
	if j.tr == nil {
		return nil
	}
	var n [numTracked]int64
	n[trackHeld] = int64(len(j.heap))
	n[trackLate] = int64(len(j.late))
	return j.tr.publish(&n, 0)
}

// lost is called for the rest of a batch an injected crash loses. Only the
// exactly-once mode crashes a join task, and it restarts the whole
// topology (RE2), so there is nothing to record.
func (j *joinTask) lost([]tuple) {}

func (j *joinTask) flushAll(ctx context.Context) error {
	for _, e := range j.out {
		if err := e.flush(ctx); err != nil {
			return err
		}
	}
	for _, e := range j.acks {
		if err := e.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// run is the join bolt's loop, for every guarantee it supports: take a
// batch, hand it to the task (through the protocol, if any), pay the slow
// fault, flush when the inbox is empty; at the end of every input, finish
// and send end-of-stream.
func (j *joinTask) run(ctx context.Context) error {
	t := j.t
	if j.proto != nil {
		if err := j.proto.start(ctx, j); err != nil {
			return err
		}
	}
	for j.eosN < len(j.eos) {
		b, err := j.receive(ctx, j.proto)
		if err != nil {
			return err
		}
		if b == nil {
			continue // a notice
		}
		start := t.now()
		err = j.deliver(ctx, b, j.proto, j, true)
		b.release()
		if errors.Is(err, errCrashed) && j.proto != nil {
			err = j.proto.crash() // exactly-once: restart the topology (RE2)
		}
		if err != nil {
			return err
		}
		if err := j.publish(); err != nil {
			return err
		}
		if err := j.pay(ctx, &j.slowDebt); err != nil {
			return err
		}
		j.busy.Add(t.now() - start)
		if len(j.in.ch) == 0 {
			if err := j.flushAll(ctx); err != nil {
				return err
			}
		}
	}
	if err := j.finish(ctx); err != nil {
		return err
	}
	if j.proto != nil {
		if err := j.proto.finish(ctx, j); err != nil {
			return err
		}
	}
	for _, e := range append(slices.Clip(j.acks), j.out...) {
		tp, err := e.slot(ctx)
		if err != nil {
			return err
		}
		tp.Kind, tp.Src = msgEOS, int32(j.id)
		if err := e.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// forward sends barrier id on every output (exactly-once).
func (j *joinTask) forward(ctx context.Context, id checkpoint.ID) error {
	for _, e := range j.out {
		if err := sendBarrier(ctx, e, j.id, id); err != nil {
			return err
		}
	}
	return nil
}
