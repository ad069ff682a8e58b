package microbatch

import (
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/snapshot"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Mode -linecomment

// Mode selects which of Spark's two windowing APIs a run models.
type Mode uint8

const (
	// ModeEventTime is Structured Streaming: event-time fixed, sliding and
	// session windows, a watermark (max event time minus the delay, computed
	// at the end of a batch and applied from the next), append and update
	// output modes. It is the default.
	ModeEventTime Mode = iota // event-time
	// ModeDStream is Spark Streaming's DStreams: processing-time windows
	// window(length, slide) over whole batches, reduceByKeyAndWindow with or
	// without an inverse, and updateStateByKey / mapWithState for keyed state.
	ModeDStream // dstream
)

// ParseMode parses "dstream" or "event-time".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "dstream":
		return ModeDStream, nil
	case "event-time", "eventtime", "structured", "":
		return ModeEventTime, nil
	}
	return 0, fmt.Errorf("microbatch: unknown mode %q; use dstream or event-time", s)
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=OutputMode -linecomment

// OutputMode is Structured Streaming's output mode.
type OutputMode uint8

const (
	// OutputAuto is Append for windowed aggregations and Update for
	// unwindowed ones (which Spark cannot run in Append mode).
	OutputAuto OutputMode = iota // auto
	// OutputAppend emits each window once, when the watermark passes its end.
	OutputAppend // append
	// OutputUpdate emits every window and key that changed in a batch.
	OutputUpdate // update
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=StateOp -linecomment

// StateOp is the DStream operator that holds keyed state across batches for
// aggregations that are not processing-time windows (event-time windows,
// global and unwindowed aggregations).
type StateOp uint8

const (
	// MapWithState calls the state function only for keys with new data in a
	// batch (plus keys timing out), and emits those. The default.
	MapWithState StateOp = iota // mapWithState
	// UpdateStateByKey calls the state function for every key in the state
	// every batch, and emits the whole state every batch.
	UpdateStateByKey // updateStateByKey
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=FailureKind -linecomment

// FailureKind is what an injected fault does.
type FailureKind uint8

const (
	// FailBatch fails the job of the batch holding the N-th record; the batch
	// is recomputed from its offset ranges.
	FailBatch FailureKind = iota // fail-batch
	// CrashDriver crashes the driver at the batch holding the N-th record:
	// everything in memory is lost and the run restarts from the last
	// checkpoint.
	CrashDriver // crash-driver
)

// Failure is one injected fault: it fires once, in the batch during which
// the pipeline has taken in AfterRecords records in total.
type Failure struct {
	AfterRecords int64
	Kind         FailureKind
}

// PIDConfig holds the constants of Spark's PID rate estimator
// (spark.streaming.backpressure.pid.*). Zero fields take Spark's defaults:
// proportional 1.0, integral 0.2, derived 0.0, minRate 100.
type PIDConfig struct {
	Proportional, Integral, Derived float64
	MinRate                         float64
}

// Config configures a run. The zero value is valid: event-time mode, direct
// input, 1 s batches, one job at a time, no checkpoints, no rate control.
type Config struct {
	// Mode is the windowing API (default ModeEventTime).
	Mode Mode
	// BatchInterval is Spark's batch duration B (default 1 s). Batch times
	// are multiples of it since the epoch (MD1).
	BatchInterval time.Duration
	// Receiver selects receiver mode: records are pushed into blocks every
	// BlockInterval and a batch is made of the blocks received before its
	// time. The default is the direct approach (offset ranges).
	Receiver bool
	// BlockInterval is spark.streaming.blockInterval (default 200 ms), at
	// most BatchInterval.
	BlockInterval time.Duration
	// ConcurrentJobs is spark.streaming.concurrentJobs (default 1): how many
	// batch jobs compute at once. Commits stay in batch order.
	ConcurrentJobs int
	// Parallelism is how many tasks of one job run at once (default
	// GOMAXPROCS, at most [MaxParallelism]). A job has one task per
	// partition with data.
	Parallelism int
	// FilledBeforeStart says the log was complete before Run started (the
	// DESIGN's --rate 0: the log is filled before the clock starts). In
	// event-time mode the first trigger then reads every record already in
	// the log, as Structured Streaming's first micro-batch reads all
	// available offsets, instead of catching up the ingest-time slices of
	// the filling (MD1); the batches and the watermark then no longer
	// depend on how fast the log was filled. A rate limit still splits the
	// backlog. DStream mode keeps the ingest-time slices, which
	// processing-time windows need (MD3).
	FilledBeforeStart bool
	// MaxBatchRows caps the rows of one Arrow record batch read from the
	// source (default 65536).
	MaxBatchRows int
	// OutputMode is the Structured Streaming output mode (event-time mode).
	OutputMode OutputMode
	// InverseReduce makes processing-time windows in DStream mode use
	// reduceByKeyAndWindow with an inverse function: each window is the
	// previous one plus the entering batches minus the leaving ones. Only
	// count and sum aggregates have an inverse.
	InverseReduce bool
	// StateOp is the DStream keyed-state operator (default MapWithState).
	StateOp StateOp
	// StateTimeout is mapWithState's timeout: a key idle this long (in batch
	// time) is removed, detected only in checkpointed batches (every
	// CheckpointEvery batches, default 10 in Spark). Zero: no timeout.
	StateTimeout time.Duration
	// CheckpointDir is where offsets and keyed state are checkpointed after
	// each checkpoint batch (atomic writes). Empty: no checkpoints, unless a
	// CrashDriver failure is injected, which uses a temporary directory (a
	// FailBatch failure needs none: the batch is recomputed from its
	// offsets).
	CheckpointDir string
	// CheckpointFS is the file system checkpoints are written to (nil: the
	// operating system's): tests give a snapshot.MemFS, or a
	// snapshot.FaultFS to inject failures and damage. A checkpoint that
	// fails to be written, its directory sync included, fails the run; a
	// damaged newest checkpoint is skipped on restore, counted in the
	// checkpoint_fallbacks counter and warned of ([Report.Warnings]).
	CheckpointFS snapshot.FS
	// CheckpointEvery checkpoints every this many batches (default 1).
	CheckpointEvery int
	// CheckpointIdentity says what the run computes from what, beyond the
	// pipeline's name, the mode, the batch interval and the partitions,
	// which the run adds itself (compare gives the workload, the
	// pipeline's fingerprint and the input's identity). Every checkpoint
	// records it with a token drawn when Run starts (snapshot's SN6). A
	// run restores only its own checkpoints, after an injected driver
	// crash (MF4): Run refuses a CheckpointDir that already holds a checkpoint
	// (a *ConfigError on CheckpointDir wrapping snapshot.ErrForeign),
	// because results a sink received from an earlier run are not in this
	// run's sink, and resuming its checkpoints would lose them.
	CheckpointIdentity string
	// Failures are the faults to inject, each once.
	Failures []Failure
	// Slow is the slow-operator fault: each record the windowed step takes
	// in costs this much more, as waiting, not CPU work. It models a slow
	// external call (a lookup, a remote store): a task that has run its
	// records waits Slow × their number on Clock before it returns, so it
	// holds its task slot (Parallelism) for that long but leaves the cores
	// to the other tasks, and under testing/synctest (or a manual Clock)
	// the wait costs no real time. Both runtimes model --slow this way.
	// Zero: none.
	Slow time.Duration
	// Backpressure enables Spark's PID rate controller
	// (spark.streaming.backpressure.enabled).
	Backpressure bool
	// PID holds the estimator's constants.
	PID PIDConfig
	// InitialRate is spark.streaming.backpressure.initialRate (records/s;
	// 0: no limit until the first estimate).
	InitialRate float64
	// MaxRatePerPartition is spark.streaming.kafka.maxRatePerPartition
	// (records/s; 0: none).
	MaxRatePerPartition float64
	// MaxOffsetsPerTrigger is the Kafka source's maxOffsetsPerTrigger
	// (Structured Streaming; DStreams use MaxRatePerPartition): the most
	// records one batch reads over all partitions, split among them in
	// proportion to what each has available (0: no limit, every
	// available offset). On a backlog (a pre-filled log) it bounds each
	// batch: the next batch follows at once, and the watermark moves
	// between them, so windows close as the backlog is read rather than
	// all at its end.
	MaxOffsetsPerTrigger int64
	// MemoryBudget stops the run with a *MemoryBudgetError when the data
	// held by queued batches exceeds it (bytes; 0: no budget).
	MemoryBudget int64
	// Allocator allocates Arrow memory (default memory.DefaultAllocator).
	Allocator memory.Allocator
	// Clock is the processing-time clock: batch times, block intervals,
	// the Slow fault's waits, and the submission and processing times of
	// BatchInfo. Nil: [clock.Real] (the wall clock, or the synctest
	// bubble's fake clock).
	Clock clock.Clock
	// Logger receives progress (nil: discard).
	Logger *slog.Logger
	// OnBatch, if set, is called after each batch commits with its figures
	// (from the commit goroutine; keep it quick).
	OnBatch func(BatchInfo)
	// Trace keeps every window result the sink receives in [Report.Panes]
	// (a trace for plots). Off, nothing is kept per result.
	Trace bool
	// CountingSink makes the sink a blackhole, as nexmark/nexmark's
	// throughput runs use: it counts every result it receives
	// ([Report.Emissions]) and keeps none, so [Report.Results] is nil and
	// the run's figures exclude keeping and sorting the output. The
	// results are still computed and handed to the sink in full (keys
	// rendered, values and extras built): only their keeping is skipped.
	// A run with it cannot be checked against the reference; check a
	// second run without it.
	CountingSink bool
}

// Validate reports a configuration that cannot run.
func (c *Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	nonNegative := []struct {
		field string
		v     float64
	}{
		{"ConcurrentJobs", float64(c.ConcurrentJobs)}, {"Parallelism", float64(c.Parallelism)},
		{"MaxBatchRows", float64(c.MaxBatchRows)}, {"CheckpointEvery", float64(c.CheckpointEvery)},
		{"MemoryBudget", float64(c.MemoryBudget)}, {"InitialRate", c.InitialRate},
		{"MaxRatePerPartition", c.MaxRatePerPartition}, {"MaxOffsetsPerTrigger", float64(c.MaxOffsetsPerTrigger)}, {"Slow", float64(c.Slow)}, {"StateTimeout", float64(c.StateTimeout)},
		{"PID.Proportional", c.PID.Proportional}, {"PID.Integral", c.PID.Integral},
		{"PID.Derived", c.PID.Derived}, {"PID.MinRate", c.PID.MinRate},
	}
	switch {
	case c.BatchInterval < 0 || (c.BatchInterval > 0 && c.BatchInterval < time.Millisecond):
		return bad("BatchInterval", "batch interval %v must be at least 1ms", c.BatchInterval)
	case c.BatchInterval%time.Millisecond != 0:
		return bad("BatchInterval", "batch interval %v must be whole milliseconds", c.BatchInterval)
	case c.BlockInterval < 0:
		return bad("BlockInterval", "'spark.streaming.blockInterval' should be a positive value, got %v", c.BlockInterval)
	case c.Parallelism > MaxParallelism:
		return bad("Parallelism", "%d tasks at once are more than the %d a job may run; use 1 to %d (0: GOMAXPROCS)", c.Parallelism, MaxParallelism, MaxParallelism)
	}
	if c.Receiver || c.BlockInterval > 0 {
		d := c.withDefaults()
		if d.BlockInterval > d.BatchInterval {
			// A batch is made of the blocks received before its time; with
			// blocks longer than batches the batches wait for blocks that
			// are cut too rarely (an hour's block: an hour of empty
			// batches before the first record).
			return bad("BlockInterval", "block interval %v (BlockInterval%s) is longer than the batch interval %v (BatchInterval%s); use a block interval at most the batch interval",
				d.BlockInterval, defaultNote(c.BlockInterval == 0), d.BatchInterval, defaultNote(c.BatchInterval == 0))
		}
	}
	for _, f := range nonNegative {
		if f.v < 0 {
			return bad(f.field, "must not be negative, got %v", f.v)
		}
	}
	for i, f := range c.Failures {
		if f.AfterRecords <= 0 {
			return bad("Failures", "failure %d fires after %d records; it must be positive", i, f.AfterRecords)
		}
	}
	return nil
}

// MaxParallelism is the most tasks of one job [Config.Parallelism] may run
// at once: far more than the cores of any machine this runs on, and small
// enough that a typo does not start a million goroutines.
const MaxParallelism = 1024

// defaultNote is ", the default" when isDefault, else "".
func defaultNote(isDefault bool) string {
	if isDefault {
		return ", the default"
	}
	return ""
}

// ConfigError is a configuration that cannot run, naming the [Config]
// field at fault so that a caller can name its own option for it (the CLI
// names its flag).
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return "microbatch: " + e.Field + ": " + e.Err.Error() }

func (e *ConfigError) Unwrap() error { return e.Err }

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.BatchInterval == 0 {
		c.BatchInterval = time.Second
	}
	if c.BlockInterval == 0 {
		c.BlockInterval = 200 * time.Millisecond
	}
	if c.ConcurrentJobs == 0 {
		c.ConcurrentJobs = 1
	}
	if c.Parallelism == 0 {
		c.Parallelism = runtime.GOMAXPROCS(0)
	}
	if c.MaxBatchRows == 0 {
		c.MaxBatchRows = 1 << 16
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = 1
	}
	if c.PID.Proportional == 0 && c.PID.Integral == 0 && c.PID.Derived == 0 {
		c.PID.Proportional, c.PID.Integral = 1.0, 0.2
	}
	if c.PID.MinRate == 0 {
		c.PID.MinRate = 100
	}
	if c.Allocator == nil {
		c.Allocator = memory.DefaultAllocator
	}
	c.Clock = clock.OrReal(c.Clock)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
