package checkpoint

import (
	"errors"
	"fmt"
	"time"
)

// Mode is a checkpointing mode (Flink's CheckpointingMode plus unaligned).
type Mode uint8

// Checkpointing modes.
const (
	// Aligned is exactly-once with barrier alignment (Flink's
	// SingleCheckpointBarrierHandler with an AlignedController): a channel
	// whose barrier n arrived is blocked until every open channel's has (C5).
	Aligned Mode = iota
	// Unaligned is exactly-once without blocking (UnalignedController): the
	// snapshot is taken at the first barrier and the records that arrive on
	// the other channels before their barrier are persisted as channel
	// state (C6).
	Unaligned
	// AtLeastOnce counts barriers without blocking
	// (CheckpointBarrierTracker): the snapshot is taken when every open
	// channel delivered barrier n, so records after the barrier on fast
	// channels are in the state and replayed again after a restore.
	AtLeastOnce
)

var modeNames = [...]string{"aligned", "unaligned", "at-least-once"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

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
	OutRecord OutputKind = iota + 1
	// OutSnapshot: snapshot the task's state for checkpoint ID now, before
	// processing anything else, then forward barrier ID on every output. In
	// Aligned and AtLeastOnce modes the task then acknowledges; in Unaligned
	// mode it waits for OutChannelState.
	OutSnapshot
	// OutChannelState (Unaligned only): the channel state of checkpoint ID
	// is complete: ChannelState[c] holds the records that arrived on channel
	// c after the snapshot and before c's barrier. Persist them with the
	// state and acknowledge; on restore, process them before new input.
	OutChannelState
	// OutAbort: checkpoint ID is aborted at this task (Reason): decline it.
	OutAbort
	// OutEnd: every input channel ended; forward end-of-stream.
	OutEnd
)

var outNames = [...]string{"", "record", "snapshot", "channel-state", "abort", "end"}

func (k OutputKind) String() string {
	if int(k) < len(outNames) && k != 0 {
		return outNames[k]
	}
	return fmt.Sprintf("output(%d)", uint8(k))
}

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

type itemKind uint8

const (
	itemRecord itemKind = iota
	itemBarrier
	itemEnd
)

// item is a message queued on a blocked channel.
type item[T any] struct {
	kind itemKind
	id   ID
	now  time.Time
	rec  T
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
// CheckpointBarrierHandler): the task hands it every message it takes from
// its inputs (records, barriers, end-of-stream, each with its channel) and
// the gate calls emit with what to do, in order: process a record, snapshot,
// abort, end. In Aligned mode it holds back the records of blocked channels
// and releases them after the snapshot (C5). Obsolete barriers (an id below
// the current one, or equal to it when it is no longer pending) are ignored;
// a newer barrier while a checkpoint is pending aborts it (subsumed); an
// input's end-of-stream while a checkpoint is pending aborts it.
//
// Records held by the gate are kept as given until emitted: T must stay
// valid (own its memory). emit must not call back into the gate.
//
// Gate is not safe for concurrent use; the task's goroutine owns it.
type Gate[T any] struct {
	mode Mode
	emit func(Output[T])

	open    int    // channels not ended
	ended   []bool // per channel
	blocked []bool // per channel (Aligned)
	queues  []queue[T]

	// The checkpoint in progress (Aligned, Unaligned).
	cur      ID
	pending  bool
	arrived  []bool
	nArrived int
	first    time.Time
	chState  [][]T // Unaligned: records of channels whose barrier is missing

	tracked []tracked // AtLeastOnce: pending checkpoints, oldest first
	done    ID        // AtLeastOnce: newest checkpoint snapshotted

	draining bool
}

// ErrEnded is returned for messages on a channel after its end-of-stream.
var ErrEnded = errors.New("checkpoint: message after end-of-stream")

// NewGate returns a gate over cfg.Channels input channels that reports to
// emit.
func NewGate[T any](cfg GateConfig, emit func(Output[T])) (*Gate[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if emit == nil {
		return nil, errors.New("checkpoint: NewGate needs an emit function")
	}
	n := cfg.Channels
	return &Gate[T]{
		mode: cfg.Mode, emit: emit, open: n,
		ended: make([]bool, n), blocked: make([]bool, n), queues: make([]queue[T], n),
		arrived: make([]bool, n),
	}, nil
}

func (g *Gate[T]) check(ch int) error {
	if ch < 0 || ch >= len(g.ended) {
		return fmt.Errorf("checkpoint: input channel %d out of range [0, %d)", ch, len(g.ended))
	}
	if g.ended[ch] {
		return fmt.Errorf("%w on channel %d", ErrEnded, ch)
	}
	return nil
}

// Record handles a data record from channel ch: emitted at once, or queued
// while ch is blocked.
func (g *Gate[T]) Record(ch int, rec T) error {
	if err := g.check(ch); err != nil {
		return err
	}
	if g.blocked[ch] {
		g.queues[ch].push(item[T]{kind: itemRecord, rec: rec})
		return nil
	}
	g.record(ch, rec)
	return nil
}

// Barrier handles barrier id from channel ch, received at now.
func (g *Gate[T]) Barrier(ch int, id ID, now time.Time) error {
	if err := g.check(ch); err != nil {
		return err
	}
	if g.blocked[ch] {
		g.queues[ch].push(item[T]{kind: itemBarrier, id: id, now: now})
		return nil
	}
	g.barrier(ch, id, now)
	g.drain()
	return nil
}

// EndOfStream handles the end of channel ch.
func (g *Gate[T]) EndOfStream(ch int) error {
	if err := g.check(ch); err != nil {
		return err
	}
	if g.blocked[ch] {
		g.queues[ch].push(item[T]{kind: itemEnd})
		return nil
	}
	g.end(ch)
	g.drain()
	return nil
}

// Cancel aborts checkpoint id if it is pending at this task (a
// CancelCheckpointMarker, or the coordinator aborted it): blocked channels
// are released.
func (g *Gate[T]) Cancel(id ID) {
	switch g.mode {
	case AtLeastOnce:
		for i, t := range g.tracked {
			if t.id == id {
				g.tracked = append(g.tracked[:i], g.tracked[i+1:]...)
				g.emit(Output[T]{Kind: OutAbort, ID: id, Reason: AbortCancelled})
				return
			}
		}
	default:
		if g.pending && g.cur == id {
			g.abortCurrent(AbortCancelled)
			g.drain()
		}
	}
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

func (g *Gate[T]) record(ch int, rec T) {
	if g.mode == Unaligned && g.pending && !g.arrived[ch] {
		g.chState[ch] = append(g.chState[ch], rec)
	}
	g.emit(Output[T]{Kind: OutRecord, Channel: ch, Record: rec})
}

func (g *Gate[T]) barrier(ch int, id ID, now time.Time) {
	if g.mode == AtLeastOnce {
		g.track(id, now)
		return
	}
	switch {
	case id < g.cur || (id == g.cur && !g.pending):
		return // obsolete
	case id > g.cur:
		if g.pending {
			g.abortCurrent(AbortSubsumed)
		}
		g.cur, g.pending, g.first, g.nArrived = id, true, now, 0
		clear(g.arrived)
		if g.mode == Unaligned {
			g.chState = make([][]T, len(g.ended))
			g.emit(Output[T]{Kind: OutSnapshot, ID: id})
		}
	}
	if g.arrived[ch] {
		return
	}
	g.arrived[ch] = true
	g.nArrived++
	if g.mode == Aligned {
		g.blocked[ch] = true
	}
	if g.nArrived < g.open {
		return
	}
	g.pending = false
	align := now.Sub(g.first)
	if g.mode == Unaligned {
		st := g.chState
		g.chState = nil
		g.emit(Output[T]{Kind: OutChannelState, ID: id, Alignment: align, ChannelState: st})
		return
	}
	clear(g.blocked)
	g.emit(Output[T]{Kind: OutSnapshot, ID: id, Alignment: align})
}

func (g *Gate[T]) abortCurrent(r AbortReason) {
	g.pending = false
	g.chState = nil
	clear(g.blocked)
	g.emit(Output[T]{Kind: OutAbort, ID: g.cur, Reason: r})
}

func (g *Gate[T]) track(id ID, now time.Time) {
	if id <= g.done {
		return
	}
	i := 0
	for i < len(g.tracked) && g.tracked[i].id != id {
		i++
	}
	if i == len(g.tracked) {
		if len(g.tracked) > 0 && id < g.tracked[len(g.tracked)-1].id {
			return // an older checkpoint than the newest tracked one: obsolete
		}
		if len(g.tracked) == MaxTrackedCheckpoints {
			old := g.tracked[0].id
			g.tracked = append(g.tracked[:0], g.tracked[1:]...)
			g.emit(Output[T]{Kind: OutAbort, ID: old, Reason: AbortTooManyPending})
			i--
		}
		g.tracked = append(g.tracked, tracked{id: id, first: now})
	}
	g.tracked[i].count++
	if g.tracked[i].count < g.open {
		return
	}
	t := g.tracked[i]
	for _, old := range g.tracked[:i] {
		g.emit(Output[T]{Kind: OutAbort, ID: old.id, Reason: AbortSubsumed})
	}
	g.tracked = append(g.tracked[:0], g.tracked[i+1:]...)
	g.done = id
	g.emit(Output[T]{Kind: OutSnapshot, ID: id, Alignment: now.Sub(t.first)})
}

func (g *Gate[T]) end(ch int) {
	g.ended[ch] = true
	g.open--
	switch {
	case g.mode == AtLeastOnce:
		for _, t := range g.tracked {
			g.emit(Output[T]{Kind: OutAbort, ID: t.id, Reason: AbortEndOfStream})
		}
		g.tracked = g.tracked[:0]
	case g.pending:
		g.abortCurrent(AbortEndOfStream)
	}
	if g.open == 0 {
		g.emit(Output[T]{Kind: OutEnd})
	}
}

// drain processes the queued messages of unblocked channels until every
// unblocked channel's queue is empty (the gate's invariant between calls).
// A released barrier may block its channel again or complete a checkpoint,
// which unblocks others, so it loops until nothing moves.
func (g *Gate[T]) drain() {
	if g.draining {
		return
	}
	g.draining = true
	defer func() { g.draining = false }()
	for moved := true; moved; {
		moved = false
		for ch := range g.queues {
			q := &g.queues[ch]
			for q.len() > 0 && !g.blocked[ch] {
				moved = true
				it := q.pop()
				switch it.kind {
				case itemRecord:
					g.record(ch, it.rec)
				case itemBarrier:
					g.barrier(ch, it.id, it.now)
				case itemEnd:
					g.end(ch)
				}
			}
		}
	}
}
