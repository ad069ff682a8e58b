// Package microbatch is weir's Spark Streaming model: the input is cut into
// batches at multiples of the batch interval, each batch is an offset range
// per partition of the source log (the direct approach, which makes a batch
// recomputable), and each batch runs as a job of column kernels over Apache
// Arrow record batches. Two windowing APIs are modelled, as Spark has them:
// DStreams (windows over whole batches, reduceByKeyAndWindow with or without
// an inverse, updateStateByKey and mapWithState) and Structured Streaming
// (event-time fixed, sliding and session windows with a watermark, append
// and update output modes).
//
// microbatch must not import recordstream. It reads no wall clock outside
// the injected [Config.Clock], and it does I/O only for checkpoints
// ([Config.CheckpointDir]), through the snapshot store both runtimes share
// (internal/snapshot: atomic writes, CRC-32C, a completed marker, fallback
// past damaged checkpoints; [Config.CheckpointFS] injects faults).
//
// # Usage
//
//	rep, err := microbatch.Run(ctx, pipeline, src, microbatch.Config{
//		Mode:          microbatch.ModeEventTime,
//		BatchInterval: time.Second,
//	})
//
// The caller:
//
//  1. provides a [Source]: the replayable log as Arrow record batches of
//     offset ranges (*datasets.ArrowSource is one);
//  2. treats a *dataflow.UnsupportedError as the model's refusal (count
//     windows, DStream sessions, windows that are not multiples of the
//     batch interval, ...) and a *MemoryBudgetError as the lecture's
//     out-of-memory end of a job that cannot keep up;
//  3. reads results, late records and measurements from the [Report]. Run
//     has stopped every goroutine it started before it returns.
//
// # Runtime structure
//
//	generator ──batch(t, ranges)──▶ queue ──▶ job runner(s) ──▶ commit (in batch order)
//	 (clock)       (unbounded:        (ConcurrentJobs)   tasks: one per     state, sink, checkpoint,
//	               scheduling delay                      partition range    metrics, rate controller
//	               is real)                              on Parallelism     (PID, back to the generator)
//	                                                     goroutines
//
// A task reads its range as Arrow record batches, binds them as column
// views, runs the compiled steps (filter, map, project, explode, lookup) on
// a selection vector, a frame of a few thousand rows at a time so that the
// kernels' buffers stay in cache, and pre-aggregates the live rows per
// window and key; the commit merges the tasks' partial aggregates into the
// keyed state. Lookup tables are compiled once per run (small integer keys
// into dense arrays) and shared by the tasks.
//
// # Invariants
//
//   - MD1 Batch times are epoch-aligned multiples of the batch interval B.
//     The first batch time is the first multiple of B after the ingest time
//     of the oldest unread record; later batches follow every B. A batch is
//     generated when the clock reaches its time, or at once when the log is
//     closed (a filled log is caught up as Spark reschedules down times).
//     With [Config.FilledBeforeStart] (the log was complete before Run) the
//     first event-time batch reads the whole log, as Structured
//     Streaming's first trigger reads every available offset.
//   - MD2 (direct approach) Batch t reads, per partition, the half-open offset range from the
//     previous batch's end to the first record ingested at or after t: the
//     records ingested in [t-B, t). A record ingested exactly at t belongs to
//     the next batch, matching the model's half-open windows (I1). With rate
//     control the range is clamped (Spark's maxMessagesPerPartition) and the
//     rest waits for later batches. The ranges are recorded in [BatchInfo].
//   - MD3 A processing-time window [s, s+L) of the model (over ingest time,
//     I7) is the DStream window(L, S) emitted at batch time s+L: the union
//     of the batches in (s, s+L]. L, S and the window offset must be
//     multiples of B, else Spark's error ([ValidateWindow]) as a
//     *dataflow.UnsupportedError (the CLI exits 3).
//   - MK1 Kernels work on non-owning views of Arrow columns ([vec]); the Arrow
//     records are released when the task ends, so nothing a kernel keeps may
//     point into them (strings are cloned into keys and state).
//   - MK2 Work per dictionary entry is done once per dictionary: a string
//     predicate, a lookup, a string function or a key id of a dictionary
//     column is computed for each dictionary value and then read by code.
//     Dictionaries of one column are prefixes of one another (the log's
//     dictionaries only grow), so these caches are extended, not rebuilt.
//   - MK3 A kernel's output buffers belong to the kernel and are reused for
//     the next record batch; an exec (compiled kernels) is used by one task
//     at a time.
//   - MK4 Aggregation is two-phase: each task folds its rows into partial
//     cells (one per window and key) in columnar arrays, without allocating
//     per row; the commit merges cells into the state.
//   - MK5 Keyed state is changed only by commits, one batch at a time in
//     batch order, so a failed batch leaves no trace in it.
//   - ME1 Structured Streaming's watermark (models.md 3.1): the watermark
//     of batch b is the largest event time over every row reaching the
//     aggregation (after the stateless steps: filter, map, lookup,
//     explode; late rows included) of every partition, delivered in the
//     batches before b, minus the delay (MaxOutOfOrderness +
//     AllowedLateness). It is set after a batch commits and used by the
//     next; it starts at -inf (math.MinInt64) and never decreases. The
//     maximum is global: partitions far apart in event time push it to the
//     one furthest ahead, as Spark's accumulator of maxes does.
//     [BatchInfo.Watermark] is the value a batch applied. Processing-time
//     windows use the ingest time of the oldest unread record instead
//     (nothing is late).
//   - ME2 Spark's late-row rule (models.md 3.2, WatermarkSupport's
//     window.end <= watermark): a row of a fixed or sliding window is
//     dropped from each of its windows whose end is <= W, the watermark of
//     its batch, and kept in the others (so a row with event time <= W
//     still counts in a window ending after W); a session row is dropped
//     when t + gap <= W (3.4). A record with a row dropped from at least one
//     window is reported once in [Report.Late], with its batch and W. A
//     window is final, and its state dropped (Append emits it), once its
//     end is <= W; a session row kept with t + gap > W that overlaps a
//     session already evicted starts a new session, as in Spark.
//   - MF1 A failed batch is recomputed from its recorded offset ranges.
//   - MF2 After every CheckpointEvery-th batch commits, the offsets, the
//     watermark, the keyed state and the rate controller are written
//     atomically (temporary file, fsync, rename, directory sync) to the
//     store both runtimes share (internal/snapshot, on
//     [Config.CheckpointFS]); a failed write fails the run. A driver crash
//     restarts from the newest checkpoint that is complete and undamaged
//     (a damaged newer one is skipped, counted in checkpoint_fallbacks and
//     warned of in [Report.Warnings], naming its file; with none undamaged
//     it restarts from offset 0, counted in restarts_from_start and warned
//     of) and recomputes the batches after it.
//   - MF3 The sink is idempotent by batch: a window and key keeps the value of
//     the latest batch that wrote it, and a recomputed batch writes the same
//     values, so the output equals the reference answer under any injected
//     failure.
//   - MF4 A run restores only its own checkpoints: they record its identity
//     (snapshot's SN6: the pipeline, the model, the partitions,
//     [Config.CheckpointIdentity] and a token drawn when Run starts), and
//     Run refuses a CheckpointDir that already holds a checkpoint, before
//     the first batch. "The same run" is one call of Run and the driver
//     incarnations it restarts after injected crashes: results a sink got
//     from an earlier run are not in this run's, so resuming the earlier
//     run's checkpoints would lose them.
//   - MB1 Batches queue while a job runs (ConcurrentJobs, default 1), so the
//     scheduling delay is real and grows when processing is slower than B.
//   - MB2 [Config.MemoryBudget] bounds the data the queued batches hold (for
//     the direct approach: what their ranges will materialise, records times
//     the bytes per record of the Arrow columns); beyond it the run stops
//     with a *MemoryBudgetError instead of exhausting the machine.
//
// # Joins, regroups and max-by
//
// A [dataflow.Join] runs as Structured Streaming's stream-stream join
// (StreamingSymmetricHashJoinExec): a state store per side, keyed by the
// join key, across batches, each batch's rows joined against the other
// side's kept rows and against each other, with weir's windowed-join
// semantics ([dataflow.Join]) where they differ from Spark's.
//
//   - MJ1 A join pipeline's tasks run the shared steps, then each side's
//     steps on a copy of the frame's state, so both sides see the shared
//     steps' output, and hand each surviving side row to the driver: its
//     join key text, event time (the side's TimeCol), ingest time, record
//     and its Cols (strings copied). Nothing is joined in a task.
//   - MJ2 The join watermark: per side, the largest event time of its rows
//     in the batches before (late rows included, as Spark's
//     EventTimeWatermark sees them), minus Join.Watermark.MaxOutOfOrderness;
//     the join's is the minimum of the two (Spark's "min" multiple-watermark
//     policy), -inf until both sides have had a row, set after a batch
//     commits and used by the next, never decreasing. The idle timeout is
//     not modelled (Spark has none): an idle side holds the join back
//     until the end of the input. It is the batch's [BatchInfo.Watermark]
//     and drives the aggregation after the join.
//   - MJ3 The commit (one batch at a time, MK5) takes the batch's side rows
//     at its watermark W. Windowed: a row is late, dropped whole and
//     reported in [Report.Late] with its join key as Key (counters
//     join_left_late, join_right_late), once one of its windows has W >=
//     end + AllowedLateness, the rule of dataflow.JoinOperator.IsLateTime;
//     otherwise it is kept in each of its windows for its key, and in a
//     window that has already fired it joins the other side's kept rows at
//     once. Then every window with end <= W emits all its pairs, once, and
//     every window with end + AllowedLateness <= W is dropped. Spark emits
//     a windowed inner join's pairs at once and drops per window row;
//     weir's model emits at the window's end, and so does this runtime.
//     Incremental (no window): each key's rows are kept for ever
//     (unbounded, as a Spark join without a watermark), a new row joins
//     the other side's kept rows at once, and nothing is late. At the end
//     of the input every window fires.
//   - MJ4 The joined rows (left Cols, right Cols, window_start, window_end,
//     join_time) are built as columns and run through Join.Steps and the
//     aggregation's task half on the same kernels as records, in the
//     commit, then merge into the keyed state like a task's cells. A
//     window's pairs come out in the batch whose watermark passed its end,
//     with join_time = end - 1 ms, and an aggregation after a join has no
//     allowed lateness on the join, so no joined row is late for it: its
//     late check is off, and its windows are final at the same W. Each
//     joined row carries its later side row's event time, from which an
//     Emit after the join measures event-time latency (an aggregation
//     after it still measures from join_time).
//   - MJ5 A regroup (Pipeline.Then) reads the first aggregation in Append
//     mode (Update is refused): a window's first-stage results all fire in
//     one batch (W >= end, or the end of the input), so the regroup
//     aggregates each batch's fired results again per window and
//     Regroup.Key, without state of its own. The keyed state keeps each
//     cell's key column values beside its rendered key for it.
//
// Max-by ([dataflow.AggMaxBy]) is a cell mode of its own: the kept Col and
// By values, replaced by a greater By or an equal By and a lesser Col, so
// partial cells merge to the same answer in any order. Checkpoints (MF2)
// hold the join's state (both sides' kept rows per window and key, fired
// windows, each side's largest event time) and the key column values.
//
// # Limits
//
// Receiver mode ([Config.Receiver]) reads what arrived into a block every
// block interval (up to the rate limit) and allocates the blocks received
// before a batch's time to the batch, so a batch holds its data in memory
// from reception to processing; its batches follow arrival, not ingest
// time, so processing-time windows differ from the reference answer there
// (as in Spark). After a driver crash the receiver resumes from the
// checkpointed offsets (a reliable receiver). Count
// windows are refused in both modes, sessions in DStream mode. DStream mode
// refuses joins (its join pairs the RDDs of the same batch, or window of
// batches, by arrival: no event-time windows, no state across batches for
// an incremental join, which would need updateStateByKey or mapWithState)
// and regroups (no watermark says a window's first stage is final). Triggers
// (early and late firings) have no Spark counterpart: update mode emits
// every changed window each batch, append mode once. Event-time windows in
// DStream mode run as mapWithState (or updateStateByKey) keyed by window and
// key, without a watermark, so their state grows until the end of the input.
package microbatch
