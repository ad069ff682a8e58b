package recordstream

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
	"github.com/weirlab/weir/internal/snapshot"
	"github.com/weirlab/weir/recordstream/checkpoint"
)

// The exactly-once mode's protocols: what fills the tasks' protocol slot
// (protocol.go) in Flink's model. Spouts inject barriers and snapshot their
// offsets; bolts and the sink pass every input through a
// [checkpoint.Gate], snapshot their state when it says so and forward the
// barrier.

// barrierSpout is a spout's exactly-once protocol.
type barrierSpout struct {
	inc   *incarnation
	trig  chan checkpoint.ID
	ended bool // the spout sent end-of-stream
}

func (p *barrierSpout) triggers() <-chan checkpoint.ID { return p.trig }

// checkpoint snapshots the spout's next offset for checkpoint id and sends
// the barrier downstream: every record before it is in the downstream
// state, every record after it is replayed from the offset.
func (p *barrierSpout) checkpoint(ctx context.Context, s *spoutTask, id checkpoint.ID) error {
	if err := p.inc.snapshot(ctx, writeReq{id: id, task: checkpoint.TaskID(s.id), payload: appendSpoutState(nil, s.next), spout: true, part: s.part, next: s.next}); err != nil {
		return err
	}
	if p.ended {
		// A finished spout's outputs have ended; the gates downstream count
		// only open channels.
		return nil
	}
	for _, e := range s.out {
		if err := sendBarrier(ctx, e, s.id, id); err != nil {
			return err
		}
	}
	return nil
}

// afterEnd keeps the finished spout in the checkpoints until the job is
// done: it acknowledges with its final offset and sends no barrier, so
// checkpoints go on while other partitions are still being read.
func (p *barrierSpout) afterEnd(ctx context.Context, s *spoutTask) error {
	p.ended = true
	select {
	case p.inc.finished <- struct{}{}:
	default:
	}
	for {
		select {
		case id := <-p.trig:
			if err := p.checkpoint(ctx, s, id); err != nil {
				return err
			}
		case <-p.inc.jobDone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// gateProtocol is a bolt's exactly-once protocol: every input goes through
// the barrier gate, which says when to handle a record, snapshot, forward
// the barrier, decline or end.
type gateProtocol struct {
	inc     *incarnation
	task    checkpoint.TaskID
	mode    checkpoint.Mode
	gate    *checkpoint.Gate[*tuple]
	outs    []checkpoint.Output[*tuple] // reused by every Step
	arena   tupleArena
	pending []byte // Unaligned: the state taken at the first barrier
	// replay is the restored channel state, handled before new input
	// (checkpoint's CK6).
	replay   []*tuple
	chanOf   []int // the task's input channel by sending task id
	channels int   // input channels
	// notify delivers completed checkpoints (the sink's two-phase commit);
	// nil for window bolts.
	notify chan checkpoint.ID
	txn    *eoSink // the sink's; nil for window bolts
	// snapHint is the capacity of the next snapshot buffer: a little more
	// than the last one, so a large state is encoded without regrowing.
	snapHint int
	// spare holds a snapshot buffer the writer is done with. Reusing it
	// saves allocating (and the garbage collector cycles of) a buffer the
	// size of the state at every checkpoint.
	spare chan []byte
	// encoded is the size of the last snapshot a writer encoded
	// (asyncStater), set by the writer.
	encoded atomic.Int64
}

// asyncStater is a bolt whose state a writer can encode off the task's
// goroutine (RE1): beginState takes a consistent view of the state at the
// barrier, cheaply, and returns what encodes it, on any goroutine, while
// the task goes on.
type asyncStater interface {
	beginState(id checkpoint.ID) (encodeFunc, error)
}

// encodeFunc appends a task's encoded state to dst (room for the file
// header, as appendState's); ctx cancelled abandons it.
type encodeFunc func(ctx context.Context, dst []byte) ([]byte, error)

func newGateProtocol(inc *incarnation, b *taskBase) (*gateProtocol, error) {
	p := &gateProtocol{inc: inc, task: checkpoint.TaskID(b.id), mode: inc.r.cp.mode(), chanOf: b.chanOf,
		channels: len(b.inputs), spare: make(chan []byte, 1)}
	g, err := checkpoint.NewGate[*tuple](checkpoint.GateConfig{Mode: p.mode, Channels: len(b.inputs)})
	if err != nil {
		return nil, err
	}
	p.gate = g
	return p, nil
}

func (p *gateProtocol) start(ctx context.Context, b bolt) error {
	for _, tp := range p.replay {
		if err := b.handle(ctx, p.chanOf[tp.Src], tp); err != nil {
			return err
		}
	}
	p.replay = nil
	return nil
}

func (p *gateProtocol) input(ctx context.Context, b bolt, ch int, tp *tuple) error {
	in := checkpoint.Input[*tuple]{Channel: ch}
	switch tp.Kind {
	case msgBarrier:
		in.Kind, in.ID, in.Now = checkpoint.InBarrier, checkpoint.ID(tp.Aux), time.Unix(0, p.inc.t.now())
	case msgEOS:
		in.Kind = checkpoint.InEnd
	default: // data, watermarks, panes
		if p.gate.Retains(ch) {
			tp = p.arena.clone(tp)
		}
		in.Kind, in.Record = checkpoint.InRecord, tp
	}
	outs, err := p.gate.Step(p.outs[:0], in)
	p.outs = outs
	if err != nil {
		return err
	}
	for i := range outs {
		if err := p.apply(ctx, b, &outs[i]); err != nil {
			return err
		}
	}
	clear(outs) // drop the references to tuples and channel state
	return nil
}

// apply does what one gate output says.
func (p *gateProtocol) apply(ctx context.Context, b bolt, o *checkpoint.Output[*tuple]) error {
	switch o.Kind {
	case checkpoint.OutRecord:
		return b.handle(ctx, o.Channel, o.Record)
	case checkpoint.OutSnapshot:
		if a, ok := b.(asyncStater); ok && p.mode != checkpoint.Unaligned {
			// The writer encodes the state (RE1): the task forwards the
			// barrier at once.
			enc, err := a.beginState(o.ID)
			if err != nil {
				return err
			}
			req := writeReq{id: o.ID, task: p.task, payload: p.buffer(), framed: true, recycle: p.spare, align: o.Alignment,
				encode: func(ctx context.Context, dst []byte) ([]byte, error) {
					buf, err := enc(ctx, dst)
					p.encoded.Store(int64(len(buf)))
					return buf, err
				}}
			if err := p.inc.snapshot(ctx, req); err != nil {
				return err
			}
			return b.forward(ctx, o.ID)
		}
		buf, err := b.appendState(p.buffer(), o.ID)
		if err != nil {
			return err
		}
		p.snapHint = len(buf) + len(buf)/8
		if p.mode == checkpoint.Unaligned {
			p.pending = buf
		} else if err := p.write(ctx, o.ID, buf, o.Alignment); err != nil {
			return err
		}
		return b.forward(ctx, o.ID)
	case checkpoint.OutChannelState:
		buf := wire.AppendSection(p.pending, "channels", appendTuples(nil, slices.Concat(o.ChannelState...)))
		p.pending = nil
		return p.write(ctx, o.ID, buf, o.Alignment)
	case checkpoint.OutAbort:
		p.inc.decline(ctx, o.ID, o.Reason)
	case checkpoint.OutEnd:
		// Every input ended: the task learns it channel by channel.
		eos := tuple{Kind: msgEOS}
		for ch := range p.channels {
			if err := b.handle(ctx, ch, &eos); err != nil {
				return err
			}
		}
	}
	return nil
}

// buffer returns the buffer for the next snapshot, with room for the file
// header: the previous snapshot's when the writer has given it back, else a
// new one sized from the previous snapshot (too small for a grown state,
// the append grows it once while it holds only the room: no copy of state
// bytes).
func (p *gateProtocol) buffer() []byte {
	select {
	case b := <-p.spare:
		return b[:snapshot.HeaderSize]
	default:
		n := int(p.encoded.Load()) // the last asynchronous snapshot's size
		return make([]byte, snapshot.HeaderSize, snapshot.HeaderSize+max(p.snapHint, n+n/8, 4096))
	}
}

// write hands a framed snapshot to the writer (RE1).
func (p *gateProtocol) write(ctx context.Context, id checkpoint.ID, buf []byte, align time.Duration) error {
	return p.inc.snapshot(ctx, writeReq{id: id, task: p.task, payload: buf, framed: true, recycle: p.spare, align: align})
}

// endBatch makes the arena's chunks reusable once the gate holds no copy:
// nothing buffered on a blocked channel and no channel state being
// recorded.
func (p *gateProtocol) endBatch(context.Context, bolt) error {
	if len(p.arena.tuples) == 0 || p.gate.Buffered() > 0 {
		return nil
	}
	if _, pending := p.gate.Pending(); p.mode == checkpoint.Unaligned && pending {
		return nil
	}
	p.arena.reset()
	return nil
}

func (p *gateProtocol) notices() <-chan checkpoint.ID { return p.notify }

// notice commits the transactions of a completed checkpoint (the sink's
// notifyCheckpointComplete).
func (p *gateProtocol) notice(_ context.Context, id checkpoint.ID) error {
	if p.txn != nil && p.txn.tpc != nil {
		p.txn.tpc.NotifyComplete(id)
	}
	return nil
}

// crash restarts the whole topology from the latest checkpoint (RE2).
func (p *gateProtocol) crash() error { return errCrashed }

// finish closes the sink's input: what is not pre-committed is committed
// at the end of the job.
func (p *gateProtocol) finish(context.Context, bolt) error {
	if p.txn != nil && p.txn.tpc != nil {
		p.txn.tpc.EndOfInput()
	}
	return nil
}

// eoSink is where the exactly-once sink's emissions go: the current
// transaction of the two-phase-commit sink, or the idempotent sink.
type eoSink struct {
	tpc  *checkpoint.TwoPhaseSink
	idem *checkpoint.IdempotentSink
	r    *eoRunner
}

func (s *eoSink) write(e checkpoint.Emission, now int64) error {
	if s.tpc != nil {
		s.tpc.WriteEmission(e)
		return nil
	}
	if e.Merged {
		s.idem.Merge(e.Result.Key, e.Result.Window, e.Into)
		return nil
	}
	s.idem.Write(e.Result, e.Pane)
	s.r.latency.Observe(now, int64(e.MaxEventTime)+s.r.src.EventTimeShift(), e.MaxIngestNanos)
	return nil
}

// sendBarrier sends barrier id on e and flushes it, so that the barrier
// does not wait in a partial batch.
func sendBarrier(ctx context.Context, e *edge, src int, id checkpoint.ID) error {
	tp, err := e.slot(ctx)
	if err != nil {
		return err
	}
	tp.Kind, tp.Src, tp.Aux = msgBarrier, int32(src), int64(id)
	return e.flush(ctx)
}

// tupleArena copies tuples out of their reused batches for a gate that
// keeps them (a blocked channel, channel state). Copies come from chunks, so
// alignment does not cost two allocations per buffered record; the current
// chunks are reused once the gate holds no copy (reset), and a full chunk is
// left to the garbage collector while copies in it are still held. One task
// goroutine owns it.
type tupleArena struct {
	tuples []tuple
	values []dataflow.Value
}

const arenaTuples, arenaValues = 512, 4096

// clone returns a copy of tp whose Row lives in the arena.
func (a *tupleArena) clone(tp *tuple) *tuple {
	if len(a.tuples) == cap(a.tuples) {
		a.tuples = make([]tuple, 0, arenaTuples)
	}
	n := len(tp.Row)
	if cap(a.values)-len(a.values) < n {
		a.values = make([]dataflow.Value, 0, max(arenaValues, n))
	}
	at := len(a.values)
	a.values = append(a.values, tp.Row...)
	a.tuples = append(a.tuples, *tp)
	c := &a.tuples[len(a.tuples)-1]
	c.Row = a.values[at : at+n : at+n]
	return c
}

// reset makes the current chunks reusable: call it only when no copy is
// held any more.
func (a *tupleArena) reset() {
	clear(a.tuples) // drop references to strings and rows
	a.tuples = a.tuples[:0]
	clear(a.values)
	a.values = a.values[:0]
}
