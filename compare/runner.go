package compare

import (
	"context"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
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
	Options  Options
	// Progress, if set, receives a line now and then during long runs.
	Progress func(msg string)
}

// Options are the flags common to every runtime (DESIGN.md). Runtimes honour
// the faults that apply to their model and ignore the rest.
type Options struct {
	// CrashAfter crashes a task (or the batch holding the record) once the
	// pipeline has taken in N records; one entry per crash, in order.
	CrashAfter []int64
	// Slow adds this much work per record in the windowed step.
	Slow time.Duration
	// DropAcks is the share (0..1) of acker messages lost.
	DropAcks float64
	// Seed seeds fault injection and anything random in the runtime.
	Seed uint64
}

// RecordRef names one record of the log.
type RecordRef struct {
	Partition int
	Offset    int64
}

// Outcome is what a run produced and measured.
type Outcome struct {
	// Results holds the final value of each window and key, as the sink
	// saw it (the last pane, or for discarding panes their combination); for
	// a stateless pipeline one row per emitted record, duplicates included.
	Results []dataflow.Result
	// Late lists the records the runtime dropped (or sent to its late output)
	// as late, so the check can exclude them from the reference answer.
	Late []RecordRef
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
	// limit) for plots, keyed by name.
	Series map[string][]Point
}

// Point is one sample of a time series: seconds since the run started, value.
type Point struct {
	T float64
	V float64
}
