package compare

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirlab/weir/microbatch"
	"github.com/weirlab/weir/recordstream"
)

// RuntimeFlags holds the runtime options of a run (DESIGN.md and issues 3
// to 5); cmd/bench sets each field from one of its flags. The zero value of
// each field means "the runtime's default"; each runtime reads the fields
// that apply to its model and ignores the rest. Validate checks the values,
// not whether they apply.
type RuntimeFlags struct {
	// Guarantee is recordstream's delivery guarantee: "at-most-once",
	// "at-least-once" (Storm's acker), "exactly-once" (Flink-style
	// barrier snapshots), "trident" (Storm's Trident micro-batches) or
	// "dataflow" (MillWheel's transactional updates). Empty means the
	// runtime's default.
	Guarantee string `json:"guarantee,omitempty"`
	// Ackers is the number of acker tasks (recordstream, at-least-once).
	Ackers int `json:"ackers,omitempty"`
	// MaxSpoutPending caps the un-acked tuples per spout task.
	MaxSpoutPending int `json:"max_spout_pending,omitempty"`
	// MessageTimeout fails a tuple tree not fully acked within it.
	MessageTimeout time.Duration `json:"message_timeout_ns,omitempty"`
	// Parallelism is the number of tasks per component (recordstream) or
	// of partitions processed in parallel (microbatch), at most
	// [MaxParallelism] (as is Ackers).
	Parallelism int `json:"parallelism,omitempty"`
	// BatchInterval is microbatch's batch interval.
	BatchInterval time.Duration `json:"batch_interval_ns,omitempty"`
	// BlockInterval is microbatch's receiver block interval, at most the
	// batch interval (1 s by default); zero selects the direct (offset
	// range) approach.
	BlockInterval time.Duration `json:"block_interval_ns,omitempty"`
	// Mode is microbatch's model: "dstream" (Spark Streaming) or
	// "event-time" (Structured Streaming).
	Mode string `json:"mode,omitempty"`
	// Backpressure turns on microbatch's PID rate controller.
	Backpressure bool `json:"backpressure,omitempty"`
	// MemoryBudget (bytes) stops a microbatch run whose queued batches hold
	// more (zero: no budget), and a recordstream at-least-once run whose
	// bookkeeping (pending trees, replays, held tuples) holds more (zero:
	// its default, 512 MiB). Parse flag text with [ParseByteSize].
	MemoryBudget int64 `json:"memory_budget,omitempty"`
	// CheckpointInterval is how often state is checkpointed (microbatch
	// checkpoints, recordstream exactly-once barriers).
	CheckpointInterval time.Duration `json:"checkpoint_interval_ns,omitempty"`
	// CheckpointDir is where checkpoints go; empty means a temporary
	// directory the runtime removes.
	CheckpointDir string `json:"checkpoint_dir,omitempty"`
	// Unaligned selects unaligned checkpoints (recordstream exactly-once).
	Unaligned bool `json:"unaligned,omitempty"`
	// ConcurrentJobs is microbatch's number of batch jobs run at once.
	ConcurrentJobs int `json:"concurrent_jobs,omitempty"`
	// MaxOffsetsPerTrigger caps the records of one microbatch batch over
	// all partitions (Structured Streaming's maxOffsetsPerTrigger; 0: no
	// limit).
	MaxOffsetsPerTrigger int64 `json:"max_offsets_per_trigger,omitempty"`
	// WatermarkInterval is the processing time between recordstream
	// spouts' watermarks (Flink's autoWatermarkInterval; 0: 200 ms).
	// microbatch advances its watermark once per batch, so the batch
	// interval is its watermark interval.
	WatermarkInterval time.Duration `json:"watermark_interval_ns,omitempty"`
	// TridentBatchSize is the most records a Trident batch takes per
	// partition (recordstream trident; 0: 1000).
	TridentBatchSize int `json:"trident_batch_size,omitempty"`
	// TridentPending is how many Trident batches may be in flight (0: 1,
	// Storm's default).
	TridentPending int `json:"trident_pending,omitempty"`
	// TridentEmitInterval is the least time between two Trident batch
	// starts (0: weir's 5 ms; Storm's is 500 ms).
	TridentEmitInterval time.Duration `json:"trident_emit_interval_ns,omitempty"`
	// TridentSpout is the Trident spout and state kind: "transactional"
	// (the default) or "opaque".
	TridentSpout string `json:"trident_spout,omitempty"`
	// DataflowRetry is how long a recordstream dataflow sender waits for an
	// acknowledgement before it sends a record again (0: 200 ms).
	DataflowRetry time.Duration `json:"dataflow_retry_ns,omitempty"`
	// DataflowIDCache is the record-id cache of each recordstream dataflow
	// receiver, in ids (0: 4096; negative: none).
	DataflowIDCache int `json:"dataflow_id_cache,omitempty"`
	// DataflowBloomBits is the Bloom filter of each recordstream dataflow
	// receiver, in bits (0: 65536).
	DataflowBloomBits int `json:"dataflow_bloom_bits,omitempty"`
}

// TridentSpouts returns the values of RuntimeFlags.TridentSpout.
func TridentSpouts() []string { return []string{"transactional", "opaque"} }

// Guarantees returns the values of RuntimeFlags.Guarantee.
func Guarantees() []string {
	return []string{"at-most-once", "at-least-once", "exactly-once", "trident", "dataflow"}
}

// Modes returns the values of RuntimeFlags.Mode.
func Modes() []string { return []string{"dstream", "event-time"} }

// Validate reports the first bad value: a *[FieldError] naming the field
// (Field "RuntimeFlags.Guarantee", ...) and the fix.
func (f RuntimeFlags) Validate() error {
	if f.Guarantee != "" && !slices.Contains(Guarantees(), f.Guarantee) {
		return &FieldError{Field: "RuntimeFlags.Guarantee", Err: fmt.Errorf("want one of %s; got %q", strings.Join(Guarantees(), ", "), f.Guarantee)}
	}
	if f.TridentSpout != "" && !slices.Contains(TridentSpouts(), f.TridentSpout) {
		return &FieldError{Field: "RuntimeFlags.TridentSpout", Err: fmt.Errorf("want one of %s; got %q", strings.Join(TridentSpouts(), ", "), f.TridentSpout)}
	}
	if f.Mode != "" && !slices.Contains(Modes(), f.Mode) {
		return &FieldError{Field: "RuntimeFlags.Mode", Err: fmt.Errorf("want one of %s; got %q", strings.Join(Modes(), ", "), f.Mode)}
	}
	for _, c := range []struct {
		field string
		v     int64
	}{
		{"Ackers", int64(f.Ackers)},
		{"MaxSpoutPending", int64(f.MaxSpoutPending)},
		{"MessageTimeout", int64(f.MessageTimeout)},
		{"Parallelism", int64(f.Parallelism)},
		{"BatchInterval", int64(f.BatchInterval)},
		{"BlockInterval", int64(f.BlockInterval)},
		{"MemoryBudget", f.MemoryBudget},
		{"CheckpointInterval", int64(f.CheckpointInterval)},
		{"ConcurrentJobs", int64(f.ConcurrentJobs)},
		{"MaxOffsetsPerTrigger", f.MaxOffsetsPerTrigger},
		{"WatermarkInterval", int64(f.WatermarkInterval)},
		{"TridentBatchSize", int64(f.TridentBatchSize)},
		{"TridentPending", int64(f.TridentPending)},
		{"TridentEmitInterval", int64(f.TridentEmitInterval)},
		{"DataflowRetry", int64(f.DataflowRetry)},
		{"DataflowBloomBits", int64(f.DataflowBloomBits)},
	} {
		if c.v < 0 {
			return &FieldError{Field: "RuntimeFlags." + c.field, Err: errors.New("must not be negative; use 0 for the runtime's default")}
		}
	}
	for _, c := range []struct {
		field string
		v     int
	}{
		{"Parallelism", f.Parallelism},
		{"Ackers", f.Ackers},
	} {
		if c.v > MaxParallelism {
			return &FieldError{Field: "RuntimeFlags." + c.field, Err: fmt.Errorf("%d tasks are more than the %d a component may have; use 1 to %d (0: the runtime's default)", c.v, MaxParallelism, MaxParallelism)}
		}
	}
	if bi := cmp.Or(f.BatchInterval, defaultBatchInterval); f.BlockInterval > bi {
		// A batch is made of the blocks received before its time: with
		// blocks longer than the batch, batches wait for blocks forever.
		note := ""
		if f.BatchInterval == 0 {
			note = ", the default"
		}
		return &FieldError{Field: "RuntimeFlags.BlockInterval", Err: fmt.Errorf("%v is longer than the batch interval (BatchInterval%s) %v; use a block interval at most the batch interval", f.BlockInterval, note, bi)}
	}
	return nil
}

// MaxParallelism is the most tasks RuntimeFlags.Parallelism and Ackers
// may ask for: the least of the runtimes' own limits
// ([recordstream.MaxParallelism], [microbatch.MaxParallelism]).
const MaxParallelism = min(recordstream.MaxParallelism, microbatch.MaxParallelism)

// defaultBatchInterval is microbatch's batch interval when
// RuntimeFlags.BatchInterval is 0 (microbatch.Config's default).
const defaultBatchInterval = time.Second

// ParseByteSize parses a size such as "512MiB", "2GB", "64k" or "1048576"
// into bytes. Units: B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB, case
// insensitive; KB, MB... are powers of 1000 and KiB, K, MiB, M... powers
// of 1024.
func ParseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') && t[i-1] != '.' {
		i--
	}
	num, unit := strings.TrimSpace(t[:i]), strings.ToLower(strings.TrimSpace(t[i:]))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("size %q: want a non-negative number with an optional unit, such as 512MiB or 2GB", s)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
		"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
		"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
		"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("size %q: unknown unit %q; use B, KiB, MiB, GiB, KB, MB or GB", s, unit)
	}
	b := v * mult
	if b > math.MaxInt64/2 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(b), nil
}

// runnerFactory builds a runner from validated flags.
type runnerFactory func(f RuntimeFlags) (Runner, error)

// runnerFactories maps runtime names to their constructors (CM3). Each
// runtime's adapter file (compare/recordstream.go, compare/microbatch.go)
// defines its factory; add one line here per runtime.
func runnerFactories() map[string]runnerFactory {
	return map[string]runnerFactory{
		"reference":    newReferenceRunner,
		"microbatch":   newMicrobatchRunner,
		"recordstream": newRecordstreamRunner,
		// Runtime engineers: add your entry below, one line each:
		//   "recordstream": newRecordstreamRunner,
		//   "microbatch":   newMicrobatchRunner,
	}
}

// ErrUnknownRuntime is wrapped by [NewRunner] for a runtime name it does not
// know.
var ErrUnknownRuntime = errors.New("unknown runtime")

// Runtimes returns the names [NewRunner] accepts, sorted.
func Runtimes() []string {
	m := runnerFactories()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// NewRunner returns the runner of the named runtime configured by f. An
// unknown name ([ErrUnknownRuntime]) or a bad value in f (a *[FieldError],
// from [RuntimeFlags.Validate]) gives an error saying what to change.
func NewRunner(runtime string, f RuntimeFlags) (Runner, error) {
	mk, ok := runnerFactories()[runtime]
	if !ok {
		return nil, fmt.Errorf("%w %q: use one of %s", ErrUnknownRuntime, runtime, strings.Join(Runtimes(), ", "))
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return mk(f)
}

// SuiteEntry is one runtime configuration of the default suite.
type SuiteEntry struct {
	// Runtime is the name given to [NewRunner].
	Runtime string
	// Flags configure it.
	Flags RuntimeFlags
}

// DefaultSuite lists the runtime configurations the no-argument run of
// cmd/bench puts every workload on, in table order. Runtime engineers append
// their configurations here.
func DefaultSuite() []SuiteEntry {
	return []SuiteEntry{
		{Runtime: "reference"},
		{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "dstream", BatchInterval: time.Second}},
		{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "event-time", BatchInterval: time.Second}},
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}},
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2}},
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2, CheckpointInterval: time.Second}},
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "trident", Parallelism: 2}},
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "dataflow", Parallelism: 2}},
		// Runtime engineers: append your configurations below, e.g.
		//   {Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-least-once"}},
		//   {Runtime: "microbatch", Flags: RuntimeFlags{Mode: "event-time", BatchInterval: time.Second}},
	}
}
