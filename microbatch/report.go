package microbatch

import (
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/metrics"
)

// OffsetRange is the half-open range [From, Until) of one partition that a
// batch read (Spark's OffsetRange).
type OffsetRange struct {
	Partition   int
	From, Until int64
}

// BatchInfo is one batch's figures, as Spark's StreamingListener reports
// them (mechanics.md 2.11): scheduling delay = processing start minus
// submission, processing delay = processing end minus start, total delay =
// their sum.
type BatchInfo struct {
	// Seq numbers batches from 0; Time is the batch time (a multiple of the
	// batch interval since the epoch).
	Seq  int64
	Time time.Time
	// Ranges are the offset ranges read, one per partition with data.
	Ranges []OffsetRange
	// End[p] is partition p's offset after this batch, for every partition
	// of the source: the records [0, End[p]) have been delivered by the end
	// of this batch (cumulative over the run; receiver mode too, as blocks
	// are read in offset order).
	End     []int64
	Records int64
	// Submission, ProcessingStart and ProcessingEnd are clock readings.
	Submission, ProcessingStart, ProcessingEnd   time.Time
	SchedulingDelay, ProcessingDelay, TotalDelay time.Duration
	// QueuedBatches is the number of batches waiting when this one started.
	QueuedBatches int
	// HeldBytes is the data held by queued batches when this one was queued.
	HeldBytes int64
	// RateLimit is the ingestion limit in force (records/s; 0: none).
	RateLimit float64
	// Watermark is the event-time watermark applied in this batch (ms).
	Watermark int64
	// Attempts is how many times the batch was computed (1 without faults).
	Attempts int
	// Emitted is how many results the batch sent to the sink.
	Emitted int
}

// Report is what a run produced and measured.
type Report struct {
	// Results holds the final value of each window and key as the
	// idempotent sink holds it, sorted (dataflow.SortResults); for a
	// stateless pipeline every emitted record. Nil with
	// [Config.CountingSink].
	Results []dataflow.Result
	// Late lists the records dropped as late (each once, sorted by
	// partition and offset), with the batch that dropped them. A join's
	// late side rows name their join key (Key); a record is listed once
	// per key.
	Late []dataflow.LateRecord
	// Watermarked says the run judged rows late by an event-time
	// watermark (ME1, ME2): event-time mode with event-time fixed, sliding
	// or session windows, or a windowed join, whose side rows are late
	// under the join's rule (MJ3) at the batch's join watermark (MJ2).
	// Otherwise nothing is dropped as late.
	Watermarked bool
	// Events is the number of source records processed (recomputations
	// counted in Counters).
	Events int64
	// Elapsed is the wall time from the start to the last commit.
	Elapsed time.Duration
	// Emissions counts every result the sink received.
	Emissions int64
	// Latency holds the event-time and processing-time latency of every
	// emission.
	Latency metrics.Latency
	// Batches lists every committed batch, in order, each once: a batch
	// recomputed after a failure or a driver crash is listed as committed
	// by the run that survived.
	Batches []BatchInfo
	// Counters: batches, failed_batches, recomputed_records,
	// driver_restarts, checkpoints, checkpoint_bytes, checkpoint_fallbacks
	// (damaged checkpoints a restore skipped), restarts_from_start
	// (restarts that found no undamaged checkpoint), late_records,
	// scheduling_delay_ms (sum), max_scheduling_delay_ms, state_keys, ...
	// With a join (MJ3): join_left_rows and join_right_rows (side rows
	// taken into the state), join_left_late and join_right_late (side rows
	// dropped as late), join_held_rows (side rows the state keeps after the
	// last batch, a sliding window's row once per window) and join_emitted
	// (joined rows, before Join.Steps).
	Counters map[string]int64
	// Series: scheduling_delay_ms, processing_delay_ms, total_delay_ms,
	// queued_batches, held_bytes, rate_limit, input_records, per batch;
	// with a join also join_held_rows and join_emitted (the batch's).
	Series map[string]metrics.Series
	// Panes lists every window result the sink received, in commit order,
	// with [Config.Trace] (nil otherwise; stateless pipelines have none).
	Panes []dataflow.PaneEmission
	// Warnings are what a person should know of the run that is not an
	// error, one sentence each: a damaged checkpoint a restart skipped,
	// naming its file; a restart from the start of the input because every
	// checkpoint was damaged.
	Warnings []string
}
