package compare

import (
	"context"
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/metrics"
)

// Runner runs one workload on one runtime configuration. Each runtime has an
// adapter in this package (reference.go, recordstream.go, microbatch.go).
type Runner interface {
	// Name identifies the configuration in tables and files, for example
	// "recordstream/at-least-once" or "microbatch/dstream".
	Name() string
	// Run executes the job to the end of its (closed) log, or until ctx is
	// done. A pipeline the model cannot express gives a
	// *dataflow.UnsupportedError.
	Run(ctx context.Context, job *Job) (*Outcome, error)
}

// Job is one run's input: the pipeline, the filled (or filling) log it reads
// and the options that apply to every runtime.
type Job struct {
	Workload *Workload
	Pipeline *dataflow.Pipeline
	Log      *datasets.Log
	// Consumer, if set, is the runtime's consumer of Log (an unbounded
	// run's, [RunUnbounded]): a runtime reports to it the positions it will
	// never read below again (committed, checkpointed or, at least once,
	// the oldest it may replay), so that the log's retention releases what
	// it is done with. Nil: the runtime reports nothing.
	Consumer *datasets.Consumer
	Options  Options
	// Progress, if set, receives a line now and then during long runs.
	Progress func(msg string)
	// Identity says what the job computes from what (the workload, its
	// pipeline's fingerprint, the input's identity): runtimes record it in
	// their checkpoints, so that a run restores only its own (identity.go).
	Identity string
}

// Options are the flags common to every runtime (DESIGN.md). Runtimes honour
// the faults that apply to their model and ignore the rest.
type Options struct {
	// CrashAfter crashes a task (or the batch holding the record) once the
	// pipeline has taken in N records; one entry per crash, in order.
	CrashAfter []int64
	// Slow adds this much waiting per record in the windowed step (a slow
	// external call, not CPU work: the task waits on the runtime's clock).
	Slow time.Duration
	// DropAcks is the share [0, 1) of acker messages lost.
	DropAcks float64
	// Seed seeds fault injection and anything random in the runtime.
	Seed uint64
	// Clock is the run's processing-time clock: the paced fill (a
	// DataSpec's Rate), both runtimes and the reference runner's timing.
	// Nil: [clock.Real] (under testing/synctest, the bubble's fake clock).
	Clock clock.Clock
	// Trace makes each runner return its panes in [Outcome.Trace], and
	// [RunOne] and [RunLog] the whole trace (records and panes) in
	// [Report.Trace].
	Trace bool
}

// Validate reports the first bad option: a *[FieldError] naming the field
// (Field "Options.DropAcks", ...) and the values it takes.
func (o Options) Validate() error {
	for _, n := range o.CrashAfter {
		if n <= 0 {
			return &FieldError{Field: "Options.CrashAfter", Err: fmt.Errorf("want a positive number of records; got %d", n)}
		}
	}
	switch {
	case o.Slow < 0:
		return &FieldError{Field: "Options.Slow", Err: fmt.Errorf("must not be negative; got %v", o.Slow)}
	case !(o.DropAcks >= 0 && o.DropAcks < 1):
		// At 1 every ack is lost: every tuple tree times out and replays,
		// forever.
		return &FieldError{Field: "Options.DropAcks", Err: fmt.Errorf("want a share of acker messages lost in [0, 1) (at 1 every tuple would replay forever); got %v", o.DropAcks)}
	}
	return nil
}

// LateRule names the documented rule by which a runtime's model drops
// records as late. The check does not take a runtime's word that a record
// was late: it recomputes, from the log and the run's record of deliveries,
// the highest watermark the rule's policy could have produced before the
// record arrived, and whether the record was late at it ([VerifyLate]).
type LateRule uint8

const (
	// LateRuleNone: the model drops nothing as late (no watermark: count
	// windows, processing-time windows, stateless pipelines). Every
	// reported drop is unverified.
	LateRuleNone LateRule = iota
	// LateRuleDataflow is dataflow's I4/I5 (recordstream): a partition's
	// watermark is the largest event time it has delivered minus the bound,
	// the input's the minimum over partitions; a record is late once W >=
	// end + lateness of its earliest window (sessions: W > t + lateness) and
	// is then dropped from all of its windows.
	LateRuleDataflow
	// LateRuleSpark is Structured Streaming's rule (microbatch event-time
	// mode, models.md 3): the watermark of batch b is the largest event
	// time over every row of every partition delivered in batches before b,
	// minus the delay; a row is dropped from each of its windows whose end
	// is <= W, and kept in the others; a session row is dropped when its
	// session end (t + gap) is <= W. A join's side rows follow microbatch's
	// join rule instead (MJ2, MJ3; see [VerifyLate]).
	LateRuleSpark
)

// String names the rule.
func (r LateRule) String() string {
	switch r {
	case LateRuleDataflow:
		return "dataflow I4/I5 (minimum over partitions, late for the earliest window)"
	case LateRuleSpark:
		return "Spark (global maximum minus delay from earlier batches, window end <= watermark)"
	}
	return "none (no watermark: nothing may be dropped as late)"
}

// BatchDelivery is one micro-batch as the check of LateRuleSpark needs it.
type BatchDelivery struct {
	// End[p] is the offset after the last record of partition p delivered
	// by the end of this batch, cumulative over the run's batches.
	End []int64
	// Watermark is the watermark the batch applied to late rows (ms).
	Watermark dataflow.Time
}

// Outcome is what a run produced and measured.
type Outcome struct {
	// Results holds the final value of each window and key, as the sink
	// saw it (the last pane, or for discarding panes their combination); for
	// a stateless pipeline one row per emitted record, duplicates included.
	Results []dataflow.Result
	// Late lists the records the runtime dropped (or sent to its late output)
	// as late, each with what the check needs to verify the drop under
	// LateRule (CM2). Only verified drops are excluded from the reference.
	Late []dataflow.LateRecord
	// LateRule is the documented rule of the runtime's model by which it
	// drops late records; the check applies it ([VerifyLate]).
	LateRule LateRule
	// Batches lists the run's micro-batches in order (LateRuleSpark): what
	// each had delivered and the watermark it applied to late rows.
	Batches []BatchDelivery
	// Events is the number of log records the run read (replays included in
	// Counters, not here).
	Events int64
	// Elapsed is the wall time from the start of processing to the last
	// output.
	Elapsed time.Duration
	// Emissions counts every pane the sink received (early, on time, late,
	// replayed).
	Emissions int64
	// Latency holds the two latency figures of every emission.
	Latency metrics.Latency
	// Counters are the runtime's own counts: acked, failed, timed_out,
	// replayed, acker_messages, batches, scheduling_delay_ms, checkpoints...
	Counters map[string]int64
	// Series are per-runtime time series (queue depth, batch delays, rate
	// limit) for plots, keyed by name: the runtime's report's own.
	Series map[string]metrics.Series
	// Trace holds, with [Options.Trace], one pane row (kind
	// [datasets.TracePane]) per pane the sink received, in order; nil
	// otherwise. The reference runner gives one row per result, on time,
	// emitted at the end of its run (its event and ingest times are zero:
	// the reference does not track them).
	Trace []datasets.TraceRow
	// Warnings are the runtime's warnings, one sentence each: what a
	// person should know of the run that is not an error (a damaged
	// checkpoint a restore skipped, naming its file).
	Warnings []string
}
