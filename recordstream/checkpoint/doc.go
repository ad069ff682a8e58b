// Package checkpoint holds the pure cores of recordstream's exactly-once
// mode, Flink's asynchronous barrier snapshots (a variant of Chandy-Lamport;
// see ../../../shared/reference/mechanics.md section 4):
//
//   - [Coordinator]: triggers numbered checkpoints, collects the tasks'
//     acknowledgements, completes, subsumes and times out checkpoints;
//   - [Gate]: the barrier handler of one task's inputs, driven by
//     [Gate.Step]: aligned (exactly-once), at-least-once (a tracker that
//     never blocks) and unaligned (channel state);
//   - [TwoPhaseSink] and [IdempotentSink]: the end-to-end exactly-once sink
//     and the keyed-upsert sink it is compared with.
//
// The checkpoint files themselves are written by the store both runtimes
// share, package internal/snapshot (atomic writes, CRC-32C, the _COMPLETED
// marker, fallback past damaged checkpoints; [ID], [TaskID] and [TaskFile]
// are its types), and task payloads are encoded with package dataflow/wire
// ([AppendEmission] adds the sink's emissions to it).
//
// The package imports only the standard library, dataflow, internal/snapshot
// and internal/invariants. It starts no goroutines, does no I/O and reads no
// clock: time is passed in by the caller. recordstream/exactlyonce*.go wires
// these pieces and the store into the runtime.
//
// # Using a Gate
//
// A [Gate] is a pure state machine, like raft's RawNode: it is handed what
// arrived and returns what to do. Create it with [NewGate] for the task's
// number of input channels and its [Mode]; then, on the task's goroutine:
//
//  1. Take the next message from an input channel and make it an [Input]:
//     InRecord with the Record, InBarrier with the barrier's ID and the
//     time it was received (Now), InEnd for the channel's end-of-stream;
//     a cancellation of checkpoint ID (a CancelCheckpointMarker or the
//     coordinator's abort) is InCancel, with no channel.
//  2. If the record points into memory the task reuses (a pooled tuple, a
//     buffer of the channel), ask [Gate.Retains] for its channel first and
//     copy the record when it reports true: the gate keeps such a record
//     beyond the call (queued on a blocked channel, or as unaligned channel
//     state) and returns it, unchanged, in a later Step. A record the
//     gate does not retain is only copied into the outputs of this Step.
//  3. Call [Gate.Step] with a slice the task owns, emptied (outs[:0]):
//     outs, err = g.Step(outs[:0], in). Step appends the outputs and never
//     keeps the slice, so one slice reused for every call makes the steady
//     state allocation-free. An error means the input was bad (a channel
//     out of range, a message after its channel's end-of-stream): the gate
//     is unchanged, and the task should fail rather than go on.
//  4. Carry out the outputs in order, before the next Step. [OutRecord]:
//     process Record. [OutSnapshot]: snapshot the state for ID now, before
//     the next output, forward barrier ID on every output, then (Aligned,
//     AtLeastOnce) acknowledge ID with the Alignment. [OutChannelState]
//     (Unaligned): persist ChannelState, which the task now owns, with the
//     snapshot taken at OutSnapshot, and acknowledge. [OutAbort]: decline
//     ID (Reason). [OutEnd]: forward end-of-stream; the gate takes no more
//     input. The outputs' records and ChannelState are the task's from
//     here on; the slice itself stays the task's for the next Step.
//  5. Repeat from 1. While a channel is [Gate.Blocked], a task may stop
//     reading it (its messages would only be queued); [Gate.Buffered]
//     says how many messages the gate holds, [Gate.Pending] which
//     checkpoint is in progress.
//
// # Protocol
//
//	coordinator     spout s          task t (inputs c0, c1)           sink
//	  Tick ─trigger n─▶ snapshot offsets
//	                    emit barrier n ─▶ c0: block (aligned) ...
//	                                      c1: barrier n: all arrived
//	                                      snapshot state, forward n ─▶ pre-commit txn n
//	  ◀──────────────────── Ack(n, t) ──────────────────────────────── Ack(n, sink)
//	  all acked: snapshot.Store.Complete(n) writes chk-n/_COMPLETED
//	  notifyComplete(n) ──────────────────────────────────────────────▶ commit txn n
//
// # Invariants
//
//   - CK1 Checkpoint ids strictly increase, also across restarts (the
//     coordinator starts above every id found in the store).
//   - CK2 A checkpoint is complete only when every task has acknowledged it
//     and its _COMPLETED marker, written last and atomically, lists every
//     task file with its size and CRC-32C. A directory without a valid
//     marker is never restored (package snapshot's SN2).
//   - CK3 Every file is written to a temporary name in the same directory,
//     synced, renamed over its final name, and the directory synced, so a
//     crash leaves either the old file or the new one, never a torn file
//     (package snapshot's SN3).
//   - CK4 A newer completed checkpoint subsumes every older pending one.
//   - CK5 Aligned mode processes no record that follows barrier n on a
//     channel before the task has snapshotted n; so the snapshot reflects
//     exactly the records before the barriers (exactly-once).
//   - CK6 Unaligned mode snapshots at the first barrier n and records as
//     channel state every record that arrives on a channel before that
//     channel's barrier n; restoring replays them before new input.
//   - CK7 A reader of a [TwoPhaseSink] sees only output of completed
//     checkpoints (or of the finished job), each transaction once.
//
// Between calls to [Gate.Step] the gate keeps these (asserted under -tags
// invariants; [Gate] explains them):
//
//   - CG1 Every unblocked channel's queue is empty.
//   - CG2 Each channel's queued messages are in arrival order.
//   - CG3 In Aligned mode a blocked channel's barrier has arrived; in the
//     other modes no channel is blocked.
//   - CG4 nArrived is the number of channels whose barrier has arrived.
//   - CG5 The at-least-once tracker's ids strictly increase, all above the
//     newest snapshotted one.
package checkpoint
