package recordstream

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
)

// Source is the replayable partitioned log the spouts read, one spout task
// per partition, record by record with the offset as message id (as Storm
// reads Kafka). *datasets.Log satisfies it; recordstream does not import
// datasets (which imports Arrow), compare wires the two together.
type Source interface {
	// Schema is the records' schema.
	Schema() dataflow.Schema
	// Partitions is the number of partitions.
	Partitions() int
	// End is partition p's end offset: records [0, End) are readable.
	End(p int) int64
	// Read returns the record at offset off of partition p in dst (reused
	// when large enough) and its ingest time in ns. off must be below End(p).
	Read(p int, off int64, dst dataflow.Row) (dataflow.Row, int64)
	// Closed reports whether the log is complete: no more records will be
	// appended. Read it before End: once it is true, End is final.
	Closed() bool
	// Changed returns a channel that is closed when new records are
	// published or the log is closed. Take it before reading End, so that
	// a publication between the two is not missed.
	Changed() <-chan struct{}
	// EventTimeShift maps the dataset's event times onto wall-clock ms.
	EventTimeShift() int64
}

// Retainer is a [Source] that can release what a run is done with, as a
// Kafka consumer commits its offsets: Retain(p, off) says the run will
// never again read partition p below off. A spout reports, at most every
// [Config.WatermarkInterval], the oldest offset it may still read: at most
// once, its next offset (nothing is replayed); at least once, the lowest
// offset of its pending trees and queued replays, or its next offset when
// there are none; exactly once, when a checkpoint completes, the lowest
// spout offset of the kept checkpoints (KeepCheckpoints), from which any
// restore resumes. The Trident and dataflow modes report nothing yet
// (their restart reads from a batch's offsets or replays unacknowledged
// records), so on a retaining log only its age rule releases under them.
type Retainer interface {
	Retain(p int, off int64) error
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Guarantee -linecomment

// Guarantee is the delivery guarantee of a run.
type Guarantee uint8

// Guarantees.
const (
	// AtMostOnce runs without ackers: nothing is tracked, a tuple lost in a
	// crashed task is gone.
	AtMostOnce Guarantee = iota // at-most-once
	// AtLeastOnce tracks every spout tuple's tree with XOR ackers and
	// replays failed or timed-out records from the log.
	AtLeastOnce // at-least-once
	// ExactlyOnce is the Flink model (barriers, aligned snapshots), built in
	// recordstream/checkpoint and wired in exactlyonce*.go.
	ExactlyOnce // exactly-once
	// Trident is Storm's Trident: exactly-once micro-batches over the
	// record-at-a-time topology (a batch coordinator, txids, ordered
	// commits of txid-stamped state), wired in trident*.go.
	Trident // trident
	// Dataflow is MillWheel's exactly-once delivery as Cloud Dataflow runs
	// it: record ids, deduplication, per-bundle atomic commits of state and
	// output, upstream backup with retries, a crashed task restarting
	// alone (millwheel.go).
	Dataflow // dataflow
)

// ParseGuarantee parses a guarantee's name (its String form).
func ParseGuarantee(s string) (Guarantee, error) {
	for g := AtMostOnce; g <= Dataflow; g++ {
		if s == g.String() {
			return g, nil
		}
	}
	return 0, fmt.Errorf("recordstream: unknown guarantee %q; use at-most-once, at-least-once, exactly-once, trident or dataflow", s)
}

// Faults are the deterministic faults of a run.
type Faults struct {
	// CrashAfter crashes a windowed-bolt task once the windowed bolts have
	// taken in N records in total (one entry per crash): the task whose
	// record is the N-th crashes. Its queued and in-flight tuples and its
	// state are lost; it restarts empty and goes on. For a stateless
	// pipeline the sink task crashes instead.
	CrashAfter []int64
	// Slow is the extra cost per record in the windowed bolt, or in the
	// sink of a stateless pipeline. It models a slow call, so the task
	// waits (it does not burn CPU, as in microbatch): once per batch, for
	// the cost of the batch's records.
	Slow time.Duration
	// DropAcks is the share [0, 1) of acker messages lost, chosen by a
	// seeded generator.
	DropAcks float64
	// Seed seeds the fault generators.
	Seed uint64
}

// Config configures a run. The zero value is valid: at-most-once,
// parallelism 1, defaults as documented per field.
type Config struct {
	// Guarantee is the delivery guarantee (default AtMostOnce).
	Guarantee Guarantee
	// Parallelism is the number of windowed-bolt tasks, and of join and
	// regroup tasks when the pipeline has a Join or a Then (default 1, at
	// most [MaxParallelism], as Ackers). Spouts have one task per log
	// partition; the sink has one task.
	Parallelism int
	// Ackers is the number of acker tasks with AtLeastOnce (default 1, as
	// Storm's default of one per worker; we run one worker).
	Ackers int
	// MaxSpoutPending bounds the tracked tuples in flight per spout task
	// (default 0: unlimited, as Storm). Only with AtLeastOnce. Windowed
	// tuples stay pending until their window expires, so it must exceed
	// what a window holds: count windows are checked up front, time
	// windows stop the run with [ErrSpoutStalled].
	MaxSpoutPending int
	// MessageTimeout is Storm's topology.message.timeout (default 30 s): a
	// tree not completed T to 2T after its spout emit fails and replays.
	// Valid values lie in [MinMessageTimeout, MaxMessageTimeout] (1 ms to
	// 24 h); 0 is the default.
	MessageTimeout time.Duration
	// MemoryBudget bounds the at-least-once bookkeeping, in bytes
	// (default 512 MiB; negative: no budget): the spouts' pending trees
	// and replay queues, the window tasks' held tuples and late records,
	// the ackers' entries and the sink's duplicate rows, each counted at
	// an estimated size (RB1). A run over it stops with a
	// [*MemoryBudgetError] instead of growing without bound, as a replay
	// storm does when tuples wait longer than MessageTimeout. Only with
	// AtLeastOnce.
	MemoryBudget int64
	// QueueBatches is the capacity of every task's receive queue in batches
	// (default 64); with BatchSize it bounds memory (backpressure).
	QueueBatches int
	// BatchSize is the number of tuples per transfer batch (Storm's
	// producer batching; default 256). A partial batch is flushed when its
	// producer runs out of input.
	BatchSize int
	// WatermarkEvery is how many records a spout reads between watermark
	// messages (default 4096); spouts also send one every
	// WatermarkInterval, when idle and at the end of their partition.
	WatermarkEvery int
	// WatermarkInterval is the processing time between a spout's watermark
	// messages while records flow (Flink's autoWatermarkInterval; default
	// 200 ms, negative: off), so that a paced source's watermark follows
	// its event time on time rather than every WatermarkEvery records.
	WatermarkInterval time.Duration
	// SampleInterval is the period of the queue-depth and busy samples
	// (default 100 ms; negative: no sampling).
	SampleInterval time.Duration
	// Faults are injected faults.
	Faults Faults
	// Clock gives processing time: timestamps, the spouts' timeout timer,
	// the slow fault's wait, the coordinator's and the sampler's tickers.
	// Nil: [clock.Real] (the wall clock, or the synctest bubble's).
	Clock clock.Clock
	// Seed seeds edge and root ids.
	Seed uint64
	// Logger receives debug lines; nil discards.
	Logger *slog.Logger
	// Trace keeps every pane the sink receives in [Report.Panes] (a trace
	// for plots). Off, the sink keeps nothing per pane.
	Trace bool
	// CountingSink makes the sink bolt a blackhole, as nexmark/nexmark's
	// throughput runs use: it counts every pane and record it receives
	// ([Report.Emissions]), still builds each record's result (key text,
	// value, extras) and still acks, but keeps none, so [Report.Results]
	// is nil and the run's figures exclude keeping and sorting the output.
	// Storm's modes only (at-most-once, at-least-once): the other
	// guarantees' sinks are transactional or idempotent stores, which
	// refuse it. A run with it cannot be checked against the reference;
	// check a second run without it.
	CountingSink bool
	// CheckpointConfig configures the exactly-once mode (checkpoint
	// interval, directory, unaligned or at-least-once checkpoints, kept
	// checkpoints); see exactlyonce.go.
	CheckpointConfig
	// Trident configures the Trident mode (batch size, batches in flight,
	// emit interval, spout kind); see trident.go.
	Trident TridentConfig
	// DataflowConfig configures the Dataflow mode (retry timeout, id cache,
	// Bloom filter); see millwheel.go.
	DataflowConfig
}

func (c *Config) withDefaults() Config {
	d := *c
	if d.Parallelism == 0 {
		d.Parallelism = 1
	}
	if d.Ackers == 0 {
		d.Ackers = 1
	}
	if d.MessageTimeout == 0 {
		d.MessageTimeout = 30 * time.Second
	}
	if d.MemoryBudget == 0 {
		d.MemoryBudget = defaultMemoryBudget
	}
	if d.QueueBatches == 0 {
		d.QueueBatches = 64
	}
	if d.BatchSize == 0 {
		d.BatchSize = 256
	}
	if d.WatermarkInterval == 0 {
		d.WatermarkInterval = 200 * time.Millisecond
	}
	if d.WatermarkEvery == 0 {
		d.WatermarkEvery = 4096
	}
	if d.SampleInterval == 0 {
		d.SampleInterval = 100 * time.Millisecond
	}
	d.Clock = clock.OrReal(d.Clock)
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return d
}

// MaxParallelism is the most tasks [Config.Parallelism] and [Config.Ackers]
// may ask for. Every task has a queue and every spout an edge to every
// windowed-bolt task and acker, so the topology grows with the product of
// the counts; 1024 is far more than the cores of any machine this runs on.
const MaxParallelism = 1024

// ConfigError is a configuration that cannot run, naming the [Config] (or
// [CheckpointConfig]) field at fault so that a caller can name its own
// option for it (the CLI names its flag).
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return "recordstream: " + e.Field + ": " + e.Err.Error() }

func (e *ConfigError) Unwrap() error { return e.Err }

// Validate reports a configuration that cannot run, as a [*ConfigError]
// naming the field.
func (c *Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case c.Guarantee > Dataflow:
		return bad("Guarantee", "unknown guarantee %d", c.Guarantee)
	case c.CountingSink && c.Guarantee != AtMostOnce && c.Guarantee != AtLeastOnce:
		return bad("CountingSink", "a counting sink replaces Storm's sink bolt (at-most-once, at-least-once); %v commits its output to a transactional or idempotent store: run it without CountingSink", c.Guarantee)
	case c.Parallelism < 0:
		return bad("Parallelism", "parallelism must be positive, got %d", c.Parallelism)
	case c.Parallelism > MaxParallelism:
		return bad("Parallelism", "%d windowed-bolt tasks are more than the %d a component may have; use 1 to %d", c.Parallelism, MaxParallelism, MaxParallelism)
	case c.Ackers < 0:
		return bad("Ackers", "ackers must be positive, got %d; use at-most-once to run without ackers", c.Ackers)
	case c.Ackers > MaxParallelism:
		return bad("Ackers", "%d acker tasks are more than the %d a component may have; use 1 to %d", c.Ackers, MaxParallelism, MaxParallelism)
	case c.MaxSpoutPending < 0:
		return bad("MaxSpoutPending", "max spout pending must not be negative, got %d (0 = unlimited)", c.MaxSpoutPending)
	case c.MessageTimeout != 0 && (c.MessageTimeout < MinMessageTimeout || c.MessageTimeout > MaxMessageTimeout):
		return bad("MessageTimeout", "message timeout must lie in [%v, %v], got %v (0: the default, 30s)", MinMessageTimeout, MaxMessageTimeout, c.MessageTimeout)
	case c.QueueBatches < 0:
		return bad("QueueBatches", "queue batches must not be negative, got %d", c.QueueBatches)
	case c.BatchSize < 0:
		return bad("BatchSize", "batch size must not be negative, got %d", c.BatchSize)
	case c.WatermarkEvery < 0:
		return bad("WatermarkEvery", "watermark interval must not be negative, got %d", c.WatermarkEvery)
	case !(c.Faults.DropAcks >= 0 && c.Faults.DropAcks < 1):
		// At 1 every ack is lost, so every tree times out and replays,
		// forever; NaN compares false with everything and would count as 0.
		return bad("Faults.DropAcks", "the share of acker messages lost must be in [0, 1) (at 1 every tuple would replay forever), got %v", c.Faults.DropAcks)
	case c.Faults.Slow < 0:
		return bad("Faults.Slow", "slow cost must not be negative, got %v", c.Faults.Slow)
	}
	if err := c.Trident.Validate(); err != nil {
		return err
	}
	for _, n := range c.Faults.CrashAfter {
		if n <= 0 {
			return bad("Faults.CrashAfter", "crash-after must be positive, got %d", n)
		}
	}
	return c.DataflowConfig.Validate()
}
