package recordstream

import (
	"context"

	"github.com/weirlab/weir/dataflow"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=msgKind -linecomment

// msgKind says what a queue element carries. Data tuples and control
// messages travel in one queue, in order, so a watermark, barrier or EOS
// sent after a tuple is received after it (RQ1).
type msgKind uint8

// Message kinds.
const (
	// msgData is a data tuple: Row, its origin (Partition, Offset, Ingest),
	// its event time, and its message id (Root, Edge) when tracked.
	msgData msgKind = iota // data
	// msgWatermark carries the sender's watermark in Time; MaxTime means
	// the sender reached the end of its input.
	msgWatermark // watermark
	// msgBarrier carries checkpoint id Aux (exactly-once mode).
	msgBarrier // barrier
	// msgEOS says the sender will send nothing more on this queue.
	msgEOS // eos
	// msgAck is an acker input: Aux is the AckKind, Root the tree, Edge the
	// XOR value; for AckInit, Src is the spout task.
	msgAck // ack
	// msgAckResult is an acker's answer to a spout: Aux is AckAck, AckFail
	// or AckResetTimeout, Root the tree, Ingest the time delta in ns.
	msgAckResult // ack_result
	// msgPane is a window result for the sink: Row holds key, value and
	// extra columns, Win the window, Time the max event time, Ingest the max
	// ingest time, Aux the pane index, Partition the pane timing and Offset
	// (which panes do not otherwise use) the window task's watermark when
	// the pane fired, for traces ([dataflow.PaneEmission.Watermark]).
	msgPane // pane
)

// tuple is one queue element. Tuples live in reused batches: a tuple handed
// to a task is valid until the task is done with its batch, and its Row's
// backing array belongs to the batch slot (values are copied in; strings are
// shared, never copied).
type tuple struct {
	Kind      msgKind
	Side      uint8 // a join pipeline's data tuple or watermark from a spout: the join side
	Src       int32 // sending task id
	Partition int32
	Offset    int64
	Ingest    int64 // ns
	Time      dataflow.Time
	Root      uint64
	Edge      uint64
	Aux       int64
	Seq       int64 // Dataflow mode: a pane's production sequence number; a watermark's GC bound (RD6)
	Win       dataflow.Window
	Row       dataflow.Row
}

// batch is the unit of transfer between two tasks (Storm 2's producer
// batching into a JCQueue): a reused slice of tuples that returns to its
// edge's free list once the receiver is done with it (RQ2: a batch is owned by
// exactly one side at a time).
type batch struct {
	ts   []tuple
	edge *edge
}

// release returns b to its edge's free list. Only the consumer calls it; it
// never blocks, as at most edge.limit batches exist.
func (b *batch) release() {
	b.ts = b.ts[:0]
	b.edge.free <- b
}

// inbox is a task's receive queue: a bounded channel of batches. It is the
// backpressure (RQ3: a full inbox blocks its producers, up to the spouts).
type inbox struct {
	ch chan *batch
}

// drainer is what a blocked producer keeps doing: a spout drains its own
// inbox of acker results while it waits, so the acker->spout direct stream
// can never close a cycle of full queues (RQ4). Handling a result never sends.
type drainer struct {
	ch chan *batch
	fn func(*batch)
}

// edge is one producer task's link to one consumer task's queue. At most
// limit batches exist per edge, allocated lazily, so memory per edge is
// bounded (RQ3). An edge is owned by its producer.
type edge struct {
	to    *inbox
	free  chan *batch
	cur   *batch
	made  int
	limit int
	size  int
	sent  int64 // queue elements transferred
	drain *drainer
}

func newEdge(to *inbox, queueBatches, batchSize int, d *drainer) *edge {
	limit := queueBatches + 2
	return &edge{to: to, free: make(chan *batch, limit), limit: limit, size: batchSize, drain: d}
}

// slot returns the next tuple slot of the current batch, reset but keeping
// its Row's capacity. Call commit after filling it.
func (e *edge) slot(ctx context.Context) (*tuple, error) {
	if e.cur == nil {
		b, err := e.take(ctx)
		if err != nil {
			return nil, err
		}
		e.cur = b
	}
	b := e.cur
	n := len(b.ts)
	b.ts = b.ts[:n+1]
	t := &b.ts[n]
	*t = tuple{Row: t.Row[:0]}
	return t, nil
}

// commit sends the current batch when it is full.
func (e *edge) commit(ctx context.Context) error {
	if len(e.cur.ts) >= e.size {
		return e.flush(ctx)
	}
	return nil
}

// put appends a copy of t (its Row copied into the slot) and commits.
func (e *edge) put(ctx context.Context, t *tuple) error {
	s, err := e.slot(ctx)
	if err != nil {
		return err
	}
	row := append(s.Row, t.Row...)
	*s = *t
	s.Row = row
	return e.commit(ctx)
}

func (e *edge) take(ctx context.Context) (*batch, error) {
	select {
	case b := <-e.free:
		return b, nil
	default:
	}
	if e.made < e.limit {
		e.made++
		return &batch{ts: make([]tuple, 0, e.size), edge: e}, nil
	}
	for {
		var dch chan *batch
		if e.drain != nil {
			dch = e.drain.ch
		}
		select {
		case b := <-e.free:
			return b, nil
		case d := <-dch:
			e.drain.fn(d)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// flush sends the current batch, if any, blocking while the queue is full.
func (e *edge) flush(ctx context.Context) error {
	b := e.cur
	if b == nil || len(b.ts) == 0 {
		return nil
	}
	e.cur = nil
	e.sent += int64(len(b.ts))
	select {
	case e.to.ch <- b:
		return nil
	default:
	}
	for {
		var dch chan *batch
		if e.drain != nil {
			dch = e.drain.ch
		}
		select {
		case e.to.ch <- b:
			return nil
		case d := <-dch:
			e.drain.fn(d)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
