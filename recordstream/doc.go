// Package recordstream is weir's record-at-a-time runtime: the Storm model
// (spouts, bolts, tasks on goroutines with bounded queues, groupings, XOR
// ack trees, message timeouts, replay from the log, max spout pending) with
// at-most-once and at-least-once modes, and the Flink model (barriers,
// aligned snapshots, restore) as its exactly-once mode (exactlyonce*.go,
// built from recordstream/checkpoint), Storm's Trident (exactly-once
// micro-batches with txids and ordered commits) as its Trident mode
// (trident*.go, built from recordstream/internal/trident), and MillWheel's
// transactional updates as its Dataflow mode (millwheel.go, built from
// recordstream/internal/millwheel). README.md has the ack protocol as a
// sequence diagram and a glossary.
//
// recordstream must not import Arrow, microbatch or datasets (which imports
// Arrow): records reach it one at a time through [Source], which
// *datasets.Log satisfies; compare wires the two together. Its pure cores
// (the XOR acker, the rotating map of timeouts and the spout's pending map,
// in recordstream/internal/acking, which imports only the standard library)
// read no clock and start no goroutines; [Run] owns every goroutine it
// starts and returns only after all have exited (RG1).
//
// # Usage
//
//	rep, err := recordstream.Run(ctx, pipeline, log, recordstream.Config{
//		Guarantee:   recordstream.AtLeastOnce,
//		Parallelism: 2,
//	})
//
// Run compiles the pipeline to a topology and runs it to the end of the
// closed log:
//
//		spout-0 ─┐ fields(key)  ┌─ window-0 ─┐ global
//		spout-1 ─┼──────────────┼─ window-1 ─┼────────▶ sink-0
//		  ...    ┘ all(wm, EOS) └─   ...    ─┘
//		   ▲ │ init                 │ ack
//		   │ ▼                      ▼
//		   └─ direct ◀── acker-0..n (fields on the root id)
//
//	  - one spout task per log partition reads it record by record, the
//	    offset being the message id (Storm's KafkaSpout);
//	  - the pipeline's stateless steps (filter, map, project, lookup,
//	    explode) are chained into the spout task, as Flink chains operators
//	    (RC1): a filtered record never becomes a tuple, costs no transfer and
//	    no acker message;
//	  - the windowed aggregation runs in Parallelism window tasks behind a
//	    fields grouping on the key (a key's records stay on one path, in log
//	    order, which count windows need), each wrapping a
//	    [dataflow.WindowOperator] and a [dataflow.WatermarkTracker] over its
//	    input spouts, fed by the watermark messages the spouts send every
//	    WatermarkEvery records or WatermarkInterval (200 ms, Flink's
//	    autoWatermarkInterval), when idle and at the end of their partition;
//	  - one sink task keeps the final value per window and key and measures
//	    every emission; a stateless pipeline goes from the spouts to the sink;
//	  - with AtLeastOnce, Ackers acker tasks.
//
// # Joins and regroups
//
// A pipeline with a stream join ([dataflow.Join], Pipeline.Join) gets one
// more bolt between the spouts and the window tasks (join.go):
//
//	spout-i ── fields(join key, both sides) ──▶ join-0..P-1
//	join-j  ── fields(Agg.Key) ──▶ window-0..P-1 ──▶ sink   (with an Agg)
//	join-j  ── global ──────────────────────────────▶ sink   (an Emit)
//
// Its tasks:
//
//   - a spout runs the shared steps, then each side's Steps on every
//     output row, and sends each side row, tagged with its side, to the
//     join task of its join key; it sends one watermark per side, the
//     largest event time of that side's rows (JoinSide.TimeCol) minus
//     Join.Watermark's bound (a partition without rows of a side holds
//     the join's watermark back until its end, or until that input is
//     idle for Join.Watermark.IdleTimeout: Nexmark's persons are event
//     n%50 == 0, so an even partition count leaves some partitions
//     without any);
//   - a join task wraps a [dataflow.JoinOperator]; its tracker has two
//     inputs per spout (one per side), and their minimum is the join's
//     watermark (a two-input operator's, as in Flink), idle inputs
//     skipped after Join.Watermark.IdleTimeout; it runs Join.Steps on
//     each joined row, sends the rows a watermark fired, then forwards that
//     watermark to the window tasks, so no joined row is late for them;
//   - the window tasks take the join tasks as their inputs (the
//     aggregation's own watermark policy is zero after a join).
//
// A regroup (Pipeline.Then) gets one more bolt between the window tasks
// and the sink (regroup.go):
//
//	window-i ── fields(Regroup.Key) ──▶ regroup-0..P-1 ── global ──▶ sink
//
// The window tasks' operators keep their keys' column values
// ([dataflow.OperatorConfig.KeyRow]), so each on-time result goes out as
// a row of [dataflow.Aggregation.ResultSchema] (key columns, then every
// aggregate) to the regroup task of its regroup key, followed by the
// window task's watermark; a regroup task wraps a
// [dataflow.RegroupOperator] and fires a window once every window task's
// watermark passed its end; its panes are the sink's results.
//
// Which modes run them: at-most-once, at-least-once (RJ1-RJ3) and
// exactly-once (join, window and regroup state in the barrier snapshots,
// restored after a crash). The Trident and Dataflow modes refuse both (a
// [dataflow.UnsupportedError]: their per-batch and per-bundle state
// machinery wraps the window operator only), and Storm's modes refuse
// crash injection into either: a crashed join task loses window state
// whose pairs no replay can rebuild (replays are late for the fired
// windows), and a crashed window task re-fires windows whose first result
// the regroup already took, answers the check could not tell from wrong
// ones.
//
// # One loop per task kind
//
// Each task kind (spout, join bolt, window bolt, sink, acker) has one loop, whatever
// the guarantee (spout.go, window.go, sink.go, ackertask.go). Storm's acking
// is part of the tasks, switched on by AtLeastOnce. What another model adds
// sits in the task's protocol slot (protocol.go): nil for Storm's modes,
// where every message goes straight to the task's handler; for ExactlyOnce,
// Flink's barrier gate in front of each bolt's handler and a barrier
// injector in each spout (exactlyonce_barriers.go); for Trident, a
// protocol that keeps each batch's input apart until its commit in front
// of each bolt's handler, and one that emits only the batches the
// coordinator starts in each spout (trident_protocol.go); for Dataflow,
// a protocol that deduplicates by record id, commits each bundle and
// acknowledges its senders in each bolt, and upstream backup with retries
// in each spout (millwheel.go). A spout that has
// nothing to do waits in one select on its inbox, the log's change signal,
// its protocol's triggers, one reused timer and ctx: no task polls.
//
// # Invariants
//
//   - RQ1 Data and control messages (watermark, barrier, EOS) share one
//     queue per producer and consumer, in order.
//   - RQ2 A batch is owned by one side at a time; a consumer returns it to
//     its edge's free list when done, so transfers do not allocate.
//   - RQ3 A full queue blocks its producer, up to the spouts: memory is
//     bounded by QueueBatches x BatchSize tuples per edge.
//   - RQ4 A spout blocked on a full queue keeps draining its acker results,
//     so the acker->spout stream never closes a cycle of full queues.
//   - RG1 [Run] returns only after every goroutine it started has exited.
//   - RC1 A record the chained stateless steps drop never becomes a tuple:
//     no transfer, no acker message, nothing to track.
//   - RP1 A spout reads the filter's columns first and the others only for a
//     record that passes (pushdown.go).
//   - RP2 A data tuple carries only the columns the aggregation reads.
//   - RB1 With AtLeastOnce, every structure that grows with the tuples in
//     flight (the spouts' pending trees and replay queues, the window
//     tasks' held tuples and late records, the ackers' entries, the sink's
//     duplicate rows) is counted against [Config.MemoryBudget] at an
//     estimated size (budget.go). Each task publishes its counts after
//     every batch (a spout after every burst), so the total overshoots the
//     budget by at most one batch's growth per task before the run stops
//     with a [*MemoryBudgetError].
//   - RB2 With MaxSpoutPending m, a spout's pending trees and queued
//     replays together never exceed m.
//
// The window bolt's (windowTask in window.go explains them):
//
//   - RW1 A tuple is acked only once every window holding it has fired and
//     its state is dropped, so a crash before that replays it.
//   - RW2 A late tuple is acked at once and reported in [Report.Late].
//   - RW3 Global and unwindowed aggregations hold their state to the end of
//     the input; their tuples are acked on receipt.
//   - RW4 Only a pipeline with an event-time watermark drops records as
//     late (I5); without one every tuple is taken, replays included, and a
//     processing-time replay whose window fired goes to a correction
//     operator.
//
// The join bolt's (joinTask in join.go):
//
//   - RJ1 With acking, a side tuple is acked once the join's state for it
//     is dropped: for a windowed join when the watermark reaches the end of
//     its last window plus the join's allowed lateness (as RW1), for an
//     incremental join, whose state lives to the end of the input, on
//     receipt (as RW3).
//   - RJ2 A joined row produced while a side tuple is added (an
//     incremental join's pairs, or a windowed join's pairs of a row
//     accepted after its window fired, within the allowed lateness) is
//     anchored to that tuple's tree: its edge id goes into the tuple's
//     ack, so its loss downstream fails the tree and the replay joins
//     again. A joined row a window's firing produces is not anchored (tree
//     0, which the window bolt and the sink never ack): every replay of its
//     side rows would be late for the fired window, so none could produce
//     it again (Storm's windowed bolts anchor to every tuple of the window
//     instead, at a message per pair and tuple).
//   - RJ3 A late side row (one of its join windows late,
//     [dataflow.JoinOperator.IsLateTime]) is dropped, acked at once and
//     reported in [Report.Late] with the join key's text as its Key, the
//     key [dataflow.ReferenceOptions.ExcludeWindows] takes for a side row.
//
// A replayed side tuple the join takes in (its window still open, or an
// incremental join) joins again: its pairs are duplicates, which the
// counter replays_in_joins accounts for (RS2 does not apply to joined
// rows: one record joins many).
//
// The sink's, on what counts as a duplicate (sinkTask in sink.go):
//
//   - RS1 A pane whose index is not above the largest seen for its window
//     and key is a duplicate; it is counted and still applied.
//   - RS2 In a stateless pipeline with acking, a record already seen under
//     another tree is a duplicate.
//   - RS3 A pane of a correction operator (RW4) is added to the window's
//     value, as discarding panes are.
//   - RS4 A [dataflow.PaneMerged] notice moves the value kept for a session
//     to the session it merged into.
//
// The exactly-once mode's (exactlyonce.go):
//
//   - RE1 Tasks never block on I/O for a checkpoint: they hand their encoded
//     state to the writer goroutine.
//   - RE2 A crash of any task restarts the whole topology from the newest
//     complete, valid checkpoint of the run (or the start of the log).
//   - RE3 A checkpoint covers every task: spouts, windowed bolts and the
//     sink.
//   - RE4 A run restores only checkpoints it wrote itself (one call of Run
//     and the incarnations it restarts): its checkpoints record its
//     identity (snapshot's SN6), and a CheckpointDir that already holds a
//     checkpoint is refused before the first incarnation.
//   - RE5 Every damaged checkpoint a restore skips is counted
//     (checkpoint_fallbacks) and warned of naming its file
//     ([Report.Warnings]); a restart that finds none undamaged starts from
//     offset 0 and is counted (restarts_from_start) and warned of.
//
// The Trident mode's (trident.go): TR1-TR6, and package trident's txid
// rules T1-T4.
//
// The Dataflow mode's (millwheel.go):
//
//   - RD1 Every record carries an id fixed at its production: a spout's
//     tuple (partition, offset, index among the record's outputs), a window
//     task's pane (task, production sequence number). A receiver drops a
//     record whose id it admitted in the bundle or committed before (and
//     acknowledges it again), looking in its record-id cache, then its
//     Bloom filter (a negative proves the id new), then its id catalog.
//   - RD2 A receiver commits each bundle (input batch) atomically to its
//     store, which outlives its restarts: the operator state and late
//     records (or the sink's rows), the consumed ids and the productions
//     with their sequence numbers (the operator state as the log of the
//     bundle's operator calls over a base snapshot, millwheel.go's
//     millStore); only then does it acknowledge the
//     bundle's records and send its productions (strong productions). A
//     crash restarts the crashed task alone: it reloads its store and sends
//     every unacknowledged production again; no other task rolls back.
//   - RD3 A sender keeps every record it sent until the receiver
//     acknowledges it, sends it again a RetryTimeout after its last send,
//     and ends (end-of-stream) only when nothing is unacknowledged.
//   - RD4 Acknowledgements cannot close a cycle of full queues: to a spout
//     they go to its inbox, which it drains even while blocked (RQ4); to a
//     window task they go to a mailbox the sink never blocks on.
//   - RD5 A spout's watermark is held at the least event time of its
//     unacknowledged tuples, so no record a receiver has not committed is
//     overtaken by the watermark: a retry after a crash is never late
//     unless its record was late when first sent (behind a watermark
//     already sent), and then every delivery of it is. The late rule is
//     the other modes' (RW2).
//   - RD6 A sender reports its GC bound (its earliest unacknowledged
//     sequence number) in band, in its watermark messages, behind every
//     copy it sent before; a receiver collects the ids below it, so its
//     catalog holds the ids in flight, not the stream's (millwheel's MW2).
//   - RD7 A late record is reported once, by the bundle that commits it,
//     as a first delivery, never a replay ([dataflow.LateRecord.Replay]
//     false, LostAbove MaxTime): RD1 lets no delivery after a committed
//     one reach the operator, and a crash before the commit loses the
//     bundle's late reports with the rest of it, so a retry that is late
//     again is the record's only delivery in the committed run. By RD5 the
//     drop's watermark is at most the one the partition's records before
//     it allow (without an idle timeout), which compare's check verifies.
//
// The XOR bookkeeping and the timeouts are package acking's AK1-AK4 and
// RM1 (recordstream/internal/acking); the barrier gate's and the
// checkpoints' are package checkpoint's CG1-CG5 and CK1-CK7.
//
// # Guarantees and their limits
//
// AtMostOnce: nothing is tracked; tuples lost in a crashed task are gone.
//
// AtLeastOnce, the Storm way (mechanics.md 1.1-1.4): a tracked record's
// tree is acked when the windows holding its tuples have fired and expired
// (RW1), failed on a lost message after the message timeout, and replayed
// from its offset. A replay that reaches a window bolt after the watermark
// passed its window is late: it is acked and reported in [Report.Late],
// exactly as Storm drops (or side-outputs) late tuples; its LostAbove says
// which of its windows a crash took its earlier delivery from (RW4):
// nothing when the crash lost only a replay, or once a replay after the
// crash reached them again. When tuples wait in
// queues and windows longer than the message timeout, every tree times out
// and its replay waits and times out again (a replay storm): the
// bookkeeping then grows without bound, so a run whose bookkeeping exceeds
// [Config.MemoryBudget] stops with a [*MemoryBudgetError] naming what to
// change (RB1). The message timeout lies in [MinMessageTimeout,
// MaxMessageTimeout]. With a bounded log
// read at full speed, the spouts reach the end of their partitions quickly
// and signal end of input; replays after that are late too. Global and
// unwindowed aggregations hold state longer than any timeout, so their
// tuples are acked on receipt (RW3).
//
// Dataflow, the MillWheel way (models.md 2, millwheel.go): record ids and
// deduplication, per-bundle commits of state, ids and productions, upstream
// backup with retries on the run's clock, a crashed task restarting alone
// (RD1-RD7); its output equals the reference under crashes and lost
// acknowledgements (Faults.DropAcks drops that share of them). Its limits:
// it refuses count windows (a [dataflow.UnsupportedError]: a retried record
// arrives behind newer ones, and count windows depend on arrival order); a
// commit writes the bundle's operator calls (its records, watermarks and
// firings) to a log over a base snapshot of the operator, which it rewrites
// once the log outgrows it (weir's operator snapshots whole, so this is how
// a commit stays per record where MillWheel writes the keys a bundle
// touched), and a restart replays that log; the id catalog and store live
// in memory (the run's Bigtable), outliving task restarts but not the
// process.
//
// ExactlyOnce, the Flink way (mechanics.md 4.1, exactlyonce.go): barriers,
// aligned (or unaligned, or at-least-once) snapshots written off the task
// goroutines, a two-phase-commit sink, and a restart of the whole topology
// from the newest complete checkpoint after a crash (RE1-RE5). With aligned
// barriers a window task does not encode its state before forwarding the
// barrier: it takes a copy-on-write view of its operator
// ([dataflow.WindowOperator.BeginSnapshot], Flink's copy-on-write heap
// state backend) and the checkpoint writer encodes the view while the task
// takes the records after the barrier; the view is the state at the
// barrier, since the task encodes a window itself before it changes one
// the writer has not reached. The counters restore_load_us and
// restore_decode_us split the last recovery's time between reading the
// checkpoint and rebuilding the tasks.
//
// Trident, Storm's exactly-once micro-batches (models.md 1, trident.go):
// a master batch coordinator starts batches with txids 1, 2, 3, ...; each
// covers, per partition, at most [TridentConfig.BatchSize] offsets after
// the previous batch's; at most MaxBatchesPending batches are in flight,
// one starts no sooner than EmitInterval after the previous one (weir's
// default 5 ms, Storm's 500 ms), and commits are strictly in txid order.
// Bolts keep each batch's records apart and apply them only at the
// commit: a window task's state is a Trident value (txid, the state after
// the batch and, for opaque state, before it) and the sink's output is one
// per window and key, so a replayed txid is skipped (transactional spouts,
// which replay a txid's stored offsets) or recomputed from the value
// before it (opaque spouts, which replay from the last committed offsets
// with another batch size). A crash restarts the whole topology; the
// coordinator replays from the first uncommitted txid. Watermarks travel
// in batches (TR6), so late records follow RW2, judged at the commit.
// Its cost: a batch waits for the previous one's commit (and the emit
// interval), and a record's output waits for its batch's commit.
//
// Faults ([Faults]): a crash hits the window task that takes in the N-th
// record (the sink for a stateless pipeline); in Storm's modes it loses its
// queue, its state and the rest of its batch, and restarts empty; in the
// Dataflow mode it loses the same and reloads its committed store (RD2). Count
// windows restart their ordinals after a crash, so at-least-once with
// crashes is exact only for time windows. The slow fault is waiting, not
// CPU work: the task sleeps its accumulated cost once per batch.
package recordstream
