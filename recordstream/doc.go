// Package recordstream is weir's record-at-a-time runtime: the Storm model
// (spouts, bolts, tasks on goroutines with bounded queues, groupings, XOR
// ack trees, message timeouts, replay from the log, max spout pending) with
// at-most-once and at-least-once modes, and the Flink model (barriers,
// aligned snapshots, restore) as its exactly-once mode (exactlyonce*.go,
// built from recordstream/checkpoint). README.md has the ack protocol as a
// sequence diagram and a glossary.
//
// recordstream must not import Arrow, microbatch or datasets (which imports
// Arrow): records reach it one at a time through [Source], which
// *datasets.Log satisfies; compare wires the two together. Its pure cores
// ([Acker], [RotatingMap], the spout's pending map) read no clock and start
// no goroutines; [Run] owns every goroutine it starts and returns only after
// all have exited.
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
//	    (C1): a filtered record never becomes a tuple, costs no transfer and
//	    no acker message;
//	  - the windowed aggregation runs in Parallelism window tasks behind a
//	    fields grouping on the key (a key's records stay on one path, in log
//	    order, which count windows need), each wrapping a
//	    [dataflow.WindowOperator] and a [dataflow.WatermarkTracker] over its
//	    input spouts, fed by the watermark messages the spouts send every
//	    WatermarkEvery records, when idle and at the end of their partition;
//	  - one sink task keeps the final value per window and key and measures
//	    every emission; a stateless pipeline goes from the spouts to the sink;
//	  - with AtLeastOnce, Ackers acker tasks.
//
// # Invariants
//
//   - Q1 Data and control messages (watermark, barrier, EOS) share one
//     queue per producer and consumer, in order.
//   - Q2 A batch is owned by one side at a time; a consumer returns it to
//     its edge's free list when done, so transfers do not allocate.
//   - Q3 A full queue blocks its producer, up to the spouts: memory is
//     bounded by QueueBatches x BatchSize tuples per edge.
//   - Q4 A spout blocked on a full queue keeps draining its acker results,
//     so the acker->spout stream never closes a cycle of full queues.
//   - A1-A4 ([Acker]) the XOR bookkeeping; R1 ([RotatingMap]) timeouts
//     between T and 2T for the spout's 2 buckets.
//   - W1-W3 (window.go) when windowed tuples are acked; S1-S2 (sink.go)
//     what counts as a duplicate.
//
// # Guarantees and their limits
//
// AtMostOnce: nothing is tracked; tuples lost in a crashed task are gone.
//
// AtLeastOnce, the Storm way (mechanics.md 1.1-1.4): a tracked record's
// tree is acked when the windows holding its tuples have fired and expired
// (W1), failed on a lost message after the message timeout, and replayed
// from its offset. A replay that reaches a window bolt after the watermark
// passed its window is late: it is acked and reported in [Report.Late],
// exactly as Storm drops (or side-outputs) late tuples. With a bounded log
// read at full speed, the spouts reach the end of their partitions quickly
// and signal end of input; replays after that are late too. Global and
// unwindowed aggregations hold state longer than any timeout, so their
// tuples are acked on receipt (W3).
//
// Faults ([Faults]): a crash hits the window task that takes in the N-th
// record (the sink for a stateless pipeline); it loses its queue, its state
// and the rest of its batch, and restarts empty. Count windows restart
// their ordinals after a crash, so at-least-once with crashes is exact only
// for time windows.
//
// # Exactly-once hooks
//
// Config.Guarantee ExactlyOnce runs exactlyonce*.go. The hooks it uses:
// control messages in the data queues (MsgBarrier, Q1), each task's input
// task ids (taskBase.inputs), the window bolt's AppendSnapshot/Restore (the
// operator's), the spouts' next offsets (Config.Restore).
package recordstream
