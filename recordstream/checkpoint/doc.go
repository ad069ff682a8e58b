// Package checkpoint holds the pure cores of recordstream's exactly-once
// mode, Flink's asynchronous barrier snapshots (a variant of Chandy-Lamport;
// see ../../../shared/reference/mechanics.md section 4):
//
//   - [Coordinator]: triggers numbered checkpoints, collects the tasks'
//     acknowledgements, completes, subsumes and times out checkpoints;
//   - [Gate]: the barrier handler of one task's inputs: aligned
//     (exactly-once), at-least-once (a tracker that never blocks) and
//     unaligned (channel state);
//   - [TwoPhaseSink] and [IdempotentSink]: the end-to-end exactly-once sink
//     and the keyed-upsert sink it is compared with.
//
// The checkpoint files themselves are written by the store both runtimes
// share, package internal/snapshot (atomic writes, CRC-32C, the _COMPLETED
// marker, fallback past damaged checkpoints; [ID], [TaskID] and [TaskFile]
// are its types), and task payloads are encoded with package dataflow/wire
// ([AppendEmission] adds the sink's emissions to it).
//
// The package imports only the standard library, dataflow and
// internal/snapshot. It starts no goroutines, does no I/O and reads no
// clock: time is passed in by the caller. recordstream/exactlyonce*.go wires
// these pieces and the store into the runtime.
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
//   - C1 Checkpoint ids strictly increase, also across restarts (the
//     coordinator starts above every id found in the store).
//   - C2 A checkpoint is complete only when every task has acknowledged it
//     and its _COMPLETED marker, written last and atomically, lists every
//     task file with its size and CRC-32C. A directory without a valid
//     marker is never restored (the store's S2).
//   - C3 Every file is written to a temporary name in the same directory,
//     synced, renamed over its final name, and the directory synced, so a
//     crash leaves either the old file or the new one, never a torn file
//     (the store's S3).
//   - C4 A newer completed checkpoint subsumes every older pending one.
//   - C5 Aligned mode processes no record that follows barrier n on a
//     channel before the task has snapshotted n; so the snapshot reflects
//     exactly the records before the barriers (exactly-once).
//   - C6 Unaligned mode snapshots at the first barrier n and records as
//     channel state every record that arrives on a channel before that
//     channel's barrier n; restoring replays them before new input.
//   - C7 A reader of a [TwoPhaseSink] sees only output of completed
//     checkpoints (or of the finished job), each transaction once.
package checkpoint
