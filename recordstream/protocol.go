package recordstream

import (
	"context"

	"github.com/weirlab/weir/recordstream/checkpoint"
)

// The protocol slot. Every task kind has one loop (spout.go, window.go,
// sink.go), whatever the guarantee. What a guarantee adds to a task beyond
// Storm's acking (which the tasks do themselves, switched on by
// topo.acking) sits in one slot of the task, filled once when the topology
// is built:
//
//	inbox ──▶ crash point ──▶ [ bolt protocol ] ──▶ handle(ch, tuple)
//	                            nil: straight through (at-most-once,
//	                                 at-least-once)
//	                            gateProtocol: Flink's barrier gate
//	                                 (exactly-once): holds back, snapshots,
//	                                 forwards barriers
//	                            tridentBolt: Trident's tracked batches
//	                                 (trident): buffers per txid, applies a
//	                                 batch at its commit notice
//
//	spout loop: emit bursts; [ spout protocol ] triggers() is one more case
//	of its wait; checkpoint(id) snapshots offsets and injects barrier id
//	(Trident: emits batch id, and holds() keeps the loop's own bursts
//	back); afterEnd() is what a finished spout still does.
//
// Trident's batch coordinator fills it (trident_protocol.go: batch-end
// markers arrive like barriers, commit notices like completed
// checkpoints), and so does MillWheel's exactly-once delivery
// (millwheel.go: a protocol that deduplicates records before handle,
// commits state and output per bundle and restarts a crashed task alone).
// The interfaces are unexported (sealed): only this
// package implements them.

// boltProtocol is a bolt's delivery protocol: it stands between the task's
// inbox and its handling of messages. A nil boltProtocol passes every
// message straight to the task (Storm's modes). One task goroutine owns it.
type boltProtocol interface {
	// start runs before the task takes its first input (restored channel
	// state goes to b.handle here).
	start(ctx context.Context, b bolt) error
	// input hands over tp, which arrived on input channel ch, and calls
	// b.handle for every message the task must handle now, in order. tp is
	// valid until its batch is released, after the call: a protocol that
	// keeps it copies it.
	input(ctx context.Context, b bolt, ch int, tp *tuple) error
	// endBatch runs after each input batch.
	endBatch(ctx context.Context, b bolt) error
	// notices is a channel the task's wait also selects on (nil for none);
	// notice handles what it delivered.
	notices() <-chan checkpoint.ID
	notice(ctx context.Context, id checkpoint.ID) error
	// crash reports an injected crash of the task: nil lets the task
	// restart alone (Storm, Dataflow), errCrashed restarts the whole
	// topology (RE2).
	crash() error
	// restart runs after a task that restarts alone has lost its memory
	// (crash returned nil): the Dataflow mode reloads the task's committed
	// state here (RD2).
	restart(ctx context.Context, b bolt) error
	// finish runs once every input has ended, before the task sends its
	// own end-of-stream.
	finish(ctx context.Context, b bolt) error
}

// bolt is a task as its protocol sees it.
type bolt interface {
	// handle handles one message from input channel ch (data, watermark,
	// pane or end-of-stream).
	handle(ctx context.Context, ch int, tp *tuple) error
	// appendState appends the task's state for checkpoint id as sections
	// to dst, whose first snapshot.HeaderSize bytes are room for
	// the file header; the result still starts with that room, possibly at
	// a later offset of dst's array (a section filled in place).
	appendState(dst []byte, id checkpoint.ID) ([]byte, error)
	// forward sends barrier id on every output, flushed.
	forward(ctx context.Context, id checkpoint.ID) error
	// lost records the tuples an injected crash loses (the rest of the
	// batch from the crash point).
	lost(rest []tuple)
}

// spoutProtocol is a spout's delivery protocol. A nil spoutProtocol is
// Storm's spout. One spout goroutine owns it.
type spoutProtocol interface {
	// triggers delivers checkpoint triggers (nil for none).
	triggers() <-chan checkpoint.ID
	// checkpoint records the spout's state for checkpoint id and injects
	// the barrier downstream.
	checkpoint(ctx context.Context, s *spoutTask, id checkpoint.ID) error
	// afterEnd runs after the spout sent end-of-stream downstream and
	// returns when the spout may exit.
	afterEnd(ctx context.Context, s *spoutTask) error
	// unfinished holds the spout's end-of-stream at the end of its
	// partition while it reports true (Dataflow: tuples not yet
	// acknowledged, RD3).
	unfinished() bool
}

// spoutHolder is a spoutProtocol that decides when the spout may read new
// records (Trident's batches): while holds reports true the spout's loop
// emits nothing of its own and waits for a trigger, whose checkpoint call
// emits what the protocol allows. A protocol that does not implement it
// never holds the spout back.
type spoutHolder interface {
	holds() bool
}
