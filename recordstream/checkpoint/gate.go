package checkpoint

import (
	"errors"
	"fmt"
	"time"

	"github.com/weirlab/weir/internal/invariants"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Mode,OutputKind,InputKind -linecomment -output=gate_string.go

// Mode is a checkpointing mode (Flink's CheckpointingMode plus unaligned).
type Mode uint8

// Checkpointing modes.
const (
	// Aligned is exactly-once with barrier alignment (Flink's
	// SingleCheckpointBarrierHandler with an AlignedController): a channel
	// whose barrier n arrived is blocked until every open channel's has (CK5).
	Aligned Mode = iota // aligned
	// Unaligned is exactly-once without blocking (UnalignedController): the
	// snapshot is taken at the first barrier and the records that arrive on
	// the other channels before their barrier are persisted as channel
	// state (CK6).
	Unaligned // unaligned
	// AtLeastOnce counts barriers without blocking
	// (CheckpointBarrierTracker): the snapshot is taken when every open
	// channel delivered barrier n, so records after the barrier on fast
	// channels are in the state and replayed again after a restore.
	AtLeastOnce // at-least-once
)

// MaxTrackedCheckpoints is how many pending checkpoints the at-least-once
// tracker follows at once (Flink's MAX_CHECKPOINTS_TO_TRACK); a barrier for
// one more aborts the oldest.
const MaxTrackedCheckpoints = 50

// GateConfig configures a [Gate].
type GateConfig struct {
	// Mode is the checkpointing mode; the zero value is Aligned.
	Mode Mode
	// Channels is the number of input channels (upstream tasks). Required.
	Channels int
}

// Validate reports a configuration the gate cannot use.
func (c *GateConfig) Validate() error {
	if c.Channels <= 0 {
		return fmt.Errorf("checkpoint: a gate needs at least one input channel, got %d", c.Channels)
	}
	if c.Mode > AtLeastOnce {
		return fmt.Errorf("checkpoint: unknown checkpointing mode %d", c.Mode)
	}
	return nil
}

// OutputKind names what a [Gate] tells its task to do.
type OutputKind uint8

// Gate outputs.
const (
	// OutRecord: process Record, which came from Channel.
	OutRecord OutputKind = iota + 1 // record
	// OutSnapshot: snapshot the task's state for checkpoint ID now, before
	// processing anything else, then forward barrier ID on every output. In
	// Aligned and AtLeastOnce modes the task then acknowledges; in Unaligned
	// mode it waits for OutChannelState.
	OutSnapshot // snapshot
	// OutChannelState (Unaligned only): the channel state of checkpoint ID
	// is complete: ChannelState[c] holds the records that arrived on channel
	// c after the snapshot and before c's barrier. Persist them with the
	// state and acknowledge; on restore, process them before new input.
	OutChannelState // channel-state
	// OutAbort: checkpoint ID is aborted at this task (Reason): decline it.
	OutAbort // abort
	// OutEnd: every input channel ended; forward end-of-stream.
	OutEnd // end
)

// Output is one instruction from a [Gate] to its task.
type Output[T any] struct {
	Kind    OutputKind
	Channel int
	Record  T
	ID      ID
	Reason  AbortReason
	// Alignment is the time from the first to the last barrier of ID
	// (OutSnapshot in Aligned and AtLeastOnce modes, OutChannelState in
	// Unaligned mode).
	Alignment time.Duration
	// ChannelState is set for OutChannelState; the receiver owns it.
	ChannelState [][]T
}

// InputKind is what a task took from an input channel.
type InputKind uint8

// Gate inputs. The line comments are the names String prints (stringer
// -linecomment).
const (
	// InRecord: a data record (Record) from Channel.
	InRecord InputKind = iota + 1 // record
	// InBarrier: barrier ID from Channel, received at Now.
	InBarrier // barrier
	// InEnd: end-of-stream of Channel.
	InEnd // end
	// InCancel: cancel checkpoint ID (a CancelCheckpointMarker, or the
	// coordinator aborted it); Channel is unused.
	InCancel // cancel
)

// Input is one message for a [Gate]: what the task took from an input
// channel, or a cancellation.
type Input[T any] struct {
	Kind    InputKind
	Channel int
	Record  T
	ID      ID
	Now     time.Time
}

// item is a message queued on a blocked channel.
type item[T any] struct {
	kind InputKind
	id   ID
	now  time.Time
	rec  T
	seq  uint64 // arrival number at the gate, for the order invariant (CG2)
}

// queue is a FIFO that reuses its backing array once drained.
type queue[T any] struct {
	items []item[T]
	head  int
}

func (q *queue[T]) push(it item[T]) { q.items = append(q.items, it) }
func (q *queue[T]) len() int        { return len(q.items) - q.head }
func (q *queue[T]) pop() item[T] {
	it := q.items[q.head]
	var zero item[T]
	q.items[q.head] = zero // let the record be collected
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return it
}

// tracked is one pending checkpoint of the at-least-once tracker.
type tracked struct {
	id    ID
	count int
	first time.Time
}

// Gate is the barrier handler of one task's input channels (Flink's
// CheckpointBarrierHandler), a pure state machine in the style of raft's
// RawNode: the task hands every message it takes from its inputs to
// [Gate.Step] (records, barriers, end-of-stream, each with its channel, and
// cancellations), and Step appends what the task must do, in order: process
// a record, snapshot, persist channel state, abort, end. In Aligned mode it
// holds back the records of blocked channels and releases them after the
// snapshot (CK5). Obsolete barriers (an id below the current one, or equal to
// it when it is no longer pending) are ignored; a newer barrier while a
// checkpoint is pending aborts it (subsumed); an input's end-of-stream while
// a checkpoint is pending aborts it. The caller's duties are listed in the
// package documentation ("Using a Gate").
//
// Records held by the gate are kept as given until Step returns them in an
// [OutRecord] or an [OutChannelState]: T must stay valid (own its memory)
// while [Gate.Retains] reported true for its channel.
//
// Between calls to Step the gate keeps these invariants (checked under
// -tags invariants):
//
//   - CG1 every unblocked channel's queue is empty;
//   - CG2 each channel's queued messages are in arrival order;
//   - CG3 in Aligned mode a blocked channel's barrier has arrived;
//   - CG4 nArrived is the number of channels whose barrier has arrived;
//   - CG5 the at-least-once tracker's ids strictly increase, all above the
//     newest snapshotted one.
//
// Gate is not safe for concurrent use; the task's goroutine owns it.
type Gate[T any] struct {
	mode Mode

	open    int    // channels not ended
	ended   []bool // per channel
	blocked []bool // per channel (Aligned)
	queues  []queue[T]
	seq     uint64 // messages queued so far (CG2)

	// The checkpoint in progress (Aligned, Unaligned).
	cur      ID
	pending  bool
	arrived  []bool
	nArrived int
	first    time.Time
	chState  [][]T // Unaligned: records of channels whose barrier is missing

	tracked []tracked // AtLeastOnce: pending checkpoints, oldest first
	done    ID        // AtLeastOnce: newest checkpoint snapshotted
}

// ErrEnded is returned for messages on a channel after its end-of-stream.
var ErrEnded = errors.New("checkpoint: message after end-of-stream")

// ErrChannel is returned for a message on a channel the gate does not have.
var ErrChannel = errors.New("checkpoint: input channel out of range")

// ErrInputKind is returned for an [Input] whose Kind is not one of the
// InputKind constants.
var ErrInputKind = errors.New("checkpoint: unknown input kind")

// NewGate returns a gate over cfg.Channels input channels.
func NewGate[T any](cfg GateConfig) (*Gate[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := cfg.Channels
	return &Gate[T]{
		mode: cfg.Mode, open: n,
		ended: make([]bool, n), blocked: make([]bool, n), queues: make([]queue[T], n),
		arrived: make([]bool, n),
	}, nil
}

func (g *Gate[T]) check(ch int) error {
	if ch < 0 || ch >= len(g.ended) {
		return fmt.Errorf("%w: channel %d not in [0, %d)", ErrChannel, ch, len(g.ended))
	}
	if g.ended[ch] {
		return fmt.Errorf("%w on channel %d", ErrEnded, ch)
	}
	return nil
}

// Step hands the gate one input and appends to dst, in order, what the task
// must do. The caller owns dst and reuses it (dst[:0]); Step never retains
// dst. A record on a blocked channel is queued and appends nothing; a
// barrier or an end-of-stream may release queued messages of other
// channels, whose outputs follow in the same call. An error (a channel out
// of range, [ErrChannel]; a message after the channel's end-of-stream,
// [ErrEnded]; an unknown kind, [ErrInputKind]) returns dst as given and
// leaves the gate unchanged.
//
// A cancel (InCancel, Channel unused) aborts checkpoint ID if it is pending
// at this task (a CancelCheckpointMarker, or the coordinator aborted it):
// blocked channels are released.
//
// Step on a record of an unblocked channel with no unaligned checkpoint
// pending allocates nothing, and nor does a whole aligned checkpoint once
// the queues have grown to their size (see the AllocsPerRun tests).
func (g *Gate[T]) Step(dst []Output[T], in Input[T]) ([]Output[T], error) {
	switch in.Kind {
	case InRecord, InBarrier, InEnd:
		if err := g.check(in.Channel); err != nil {
			return dst, err
		}
	case InCancel:
		dst = g.cancel(dst, in.ID)
		g.assertInvariants()
		return dst, nil
	default:
		return dst, fmt.Errorf("%w %d", ErrInputKind, in.Kind)
	}
	ch := in.Channel
	if g.blocked[ch] {
		g.seq++
		g.queues[ch].push(item[T]{kind: in.Kind, id: in.ID, now: in.Now, rec: in.Record, seq: g.seq})
		g.assertInvariants()
		return dst, nil
	}
	switch in.Kind {
	case InRecord:
		dst = g.record(dst, ch, in.Record) // releases nothing: no drain
	case InBarrier:
		dst = g.barrier(dst, ch, in.ID, in.Now)
		dst = g.drain(dst)
	case InEnd:
		dst = g.end(dst, ch)
		dst = g.drain(dst)
	}
	g.assertInvariants()
	return dst, nil
}

// Pending returns the checkpoint in progress, if any (for AtLeastOnce the
// newest tracked one).
func (g *Gate[T]) Pending() (ID, bool) {
	if g.mode == AtLeastOnce {
		if len(g.tracked) == 0 {
			return 0, false
		}
		return g.tracked[len(g.tracked)-1].id, true
	}
	return g.cur, g.pending
}

// Retains reports whether the gate would keep a record from channel ch
// beyond the call that hands it over: the channel is blocked, or (Unaligned)
// its records are being recorded as channel state. A caller whose records
// point into reused buffers copies them when Retains is true.
func (g *Gate[T]) Retains(ch int) bool {
	return g.blocked[ch] || (g.mode == Unaligned && g.pending && !g.arrived[ch])
}

// Blocked reports whether channel ch is blocked (Aligned mode).
func (g *Gate[T]) Blocked(ch int) bool { return g.blocked[ch] }

// Buffered returns how many messages are held on blocked channels.
func (g *Gate[T]) Buffered() int {
	n := 0
	for i := range g.queues {
		n += g.queues[i].len()
	}
	return n
}

func (g *Gate[T]) cancel(dst []Output[T], id ID) []Output[T] {
	switch g.mode {
	case AtLeastOnce:
		for i, t := range g.tracked {
			if t.id == id {
				g.tracked = append(g.tracked[:i], g.tracked[i+1:]...)
				return append(dst, Output[T]{Kind: OutAbort, ID: id, Reason: AbortCancelled})
			}
		}
	default:
		if g.pending && g.cur == id {
			dst = g.abortCurrent(dst, AbortCancelled)
			dst = g.drain(dst)
		}
	}
	return dst
}

func (g *Gate[T]) record(dst []Output[T], ch int, rec T) []Output[T] {
	if g.mode == Unaligned && g.pending && !g.arrived[ch] {
		g.chState[ch] = append(g.chState[ch], rec)
	}
	return append(dst, Output[T]{Kind: OutRecord, Channel: ch, Record: rec})
}

func (g *Gate[T]) barrier(dst []Output[T], ch int, id ID, now time.Time) []Output[T] {
	if g.mode == AtLeastOnce {
		return g.track(dst, id, now)
	}
	switch {
	case id < g.cur || (id == g.cur && !g.pending):
		return dst // obsolete
	case id > g.cur:
		if g.pending {
			dst = g.abortCurrent(dst, AbortSubsumed)
		}
		g.cur, g.pending, g.first, g.nArrived = id, true, now, 0
		clear(g.arrived)
		if g.mode == Unaligned {
			g.chState = make([][]T, len(g.ended)) // handed to the task with OutChannelState
			dst = append(dst, Output[T]{Kind: OutSnapshot, ID: id})
		}
	}
	if g.arrived[ch] {
		return dst
	}
	g.arrived[ch] = true
	g.nArrived++
	if g.mode == Aligned {
		g.blocked[ch] = true
	}
	if g.nArrived < g.open {
		return dst
	}
	g.pending = false
	align := now.Sub(g.first)
	if g.mode == Unaligned {
		st := g.chState
		g.chState = nil
		return append(dst, Output[T]{Kind: OutChannelState, ID: id, Alignment: align, ChannelState: st})
	}
	clear(g.blocked)
	return append(dst, Output[T]{Kind: OutSnapshot, ID: id, Alignment: align})
}

func (g *Gate[T]) abortCurrent(dst []Output[T], r AbortReason) []Output[T] {
	g.pending = false
	g.chState = nil
	clear(g.blocked)
	return append(dst, Output[T]{Kind: OutAbort, ID: g.cur, Reason: r})
}

func (g *Gate[T]) track(dst []Output[T], id ID, now time.Time) []Output[T] {
	if id <= g.done {
		return dst
	}
	i := 0
	for i < len(g.tracked) && g.tracked[i].id != id {
		i++
	}
	if i == len(g.tracked) {
		if len(g.tracked) > 0 && id < g.tracked[len(g.tracked)-1].id {
			return dst // an older checkpoint than the newest tracked one: obsolete
		}
		if len(g.tracked) == MaxTrackedCheckpoints {
			old := g.tracked[0].id
			g.tracked = append(g.tracked[:0], g.tracked[1:]...)
			dst = append(dst, Output[T]{Kind: OutAbort, ID: old, Reason: AbortTooManyPending})
			i--
		}
		g.tracked = append(g.tracked, tracked{id: id, first: now})
	}
	g.tracked[i].count++
	if g.tracked[i].count < g.open {
		return dst
	}
	t := g.tracked[i]
	for _, old := range g.tracked[:i] {
		dst = append(dst, Output[T]{Kind: OutAbort, ID: old.id, Reason: AbortSubsumed})
	}
	g.tracked = append(g.tracked[:0], g.tracked[i+1:]...)
	g.done = id
	return append(dst, Output[T]{Kind: OutSnapshot, ID: id, Alignment: now.Sub(t.first)})
}

func (g *Gate[T]) end(dst []Output[T], ch int) []Output[T] {
	g.ended[ch] = true
	g.open--
	switch {
	case g.mode == AtLeastOnce:
		for _, t := range g.tracked {
			dst = append(dst, Output[T]{Kind: OutAbort, ID: t.id, Reason: AbortEndOfStream})
		}
		g.tracked = g.tracked[:0]
	case g.pending:
		dst = g.abortCurrent(dst, AbortEndOfStream)
	}
	if g.open == 0 {
		dst = append(dst, Output[T]{Kind: OutEnd})
	}
	return dst
}

// drain processes the queued messages of unblocked channels until every
// unblocked channel's queue is empty (CG1). A released barrier may block its
// channel again or complete a checkpoint, which unblocks others, so it
// loops until nothing moves.
func (g *Gate[T]) drain(dst []Output[T]) []Output[T] {
	for moved := true; moved; {
		moved = false
		for ch := range g.queues {
			q := &g.queues[ch]
			for q.len() > 0 && !g.blocked[ch] {
				moved = true
				it := q.pop()
				switch it.kind {
				case InRecord:
					dst = g.record(dst, ch, it.rec)
				case InBarrier:
					dst = g.barrier(dst, ch, it.id, it.now)
				case InEnd:
					dst = g.end(dst, ch)
				}
			}
		}
	}
	return dst
}

// assertInvariants checks CG1-CG5 under -tags invariants; it compiles to
// nothing otherwise.
func (g *Gate[T]) assertInvariants() {
	if !invariants.Enabled {
		return
	}
	n := 0
	for ch := range g.queues {
		q := &g.queues[ch]
		invariants.Assertf(g.blocked[ch] || q.len() == 0,
			"checkpoint: CG1: unblocked channel %d holds %d queued messages", ch, q.len())
		for i := q.head + 1; i < len(q.items); i++ {
			invariants.Assertf(q.items[i-1].seq < q.items[i].seq,
				"checkpoint: CG2: channel %d queue out of arrival order at %d (%d after %d)", ch, i, q.items[i].seq, q.items[i-1].seq)
		}
		invariants.Assertf(g.mode != Aligned || !g.blocked[ch] || g.arrived[ch],
			"checkpoint: CG3: channel %d blocked but barrier %v has not arrived", ch, g.cur)
		invariants.Assertf(g.mode == Aligned || !g.blocked[ch],
			"checkpoint: CG3: channel %d blocked in %v mode", ch, g.mode)
		if g.arrived[ch] {
			n++
		}
	}
	invariants.Assertf(n == g.nArrived, "checkpoint: CG4: nArrived %d, but %d channels arrived", g.nArrived, n)
	prev := g.done
	for i, t := range g.tracked {
		invariants.Assertf(t.id > prev, "checkpoint: CG5: tracked[%d] = %v after %v", i, t.id, prev)
		prev = t.id
	}
}
