package compare

import (
	"context"
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/microbatch"
)

// The log's Arrow view is microbatch's source: microbatch defines the
// interface, and datasets satisfies it without either importing the other.
var _ microbatch.Source = (*datasets.ArrowSource)(nil)

// microbatchRunner runs jobs on the Spark model (issue 4).
type microbatchRunner struct {
	name string
	cfg  microbatch.Config
}

func newMicrobatchRunner(f RuntimeFlags) (Runner, error) {
	mode, err := microbatch.ParseMode(f.Mode)
	if err != nil {
		return nil, err
	}
	cfg := microbatch.Config{
		Mode:                 mode,
		BatchInterval:        f.BatchInterval,
		BlockInterval:        f.BlockInterval,
		Receiver:             f.BlockInterval > 0,
		ConcurrentJobs:       f.ConcurrentJobs,
		MaxOffsetsPerTrigger: f.MaxOffsetsPerTrigger,
		Parallelism:          f.Parallelism,
		Backpressure:         f.Backpressure,
		MemoryBudget:         f.MemoryBudget,
		CheckpointDir:        f.CheckpointDir,
	}
	bi := f.BatchInterval
	if bi == 0 {
		bi = time.Second
	}
	if f.CheckpointInterval > 0 {
		cfg.CheckpointEvery = int(max((f.CheckpointInterval+bi-1)/bi, 1))
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkCheckpointDir(f.CheckpointDir); err != nil {
		return nil, err
	}
	return &microbatchRunner{name: "microbatch/" + mode.String(), cfg: cfg}, nil
}

// Name implements Runner.
func (r *microbatchRunner) Name() string { return r.name }

// Run implements Runner. The --crash-after entries alternate between the
// two faults of the model: the first, third, ... fail the batch holding
// that record (it is recomputed from its offsets), the second, fourth, ...
// crash the driver (it restarts from the last checkpoint).
func (r *microbatchRunner) Run(ctx context.Context, job *Job) (*Outcome, error) {
	cfg := r.cfg
	for i, n := range job.Options.CrashAfter {
		k := microbatch.FailBatch
		if i%2 == 1 {
			k = microbatch.CrashDriver
		}
		cfg.Failures = append(cfg.Failures, microbatch.Failure{AfterRecords: n, Kind: k})
	}
	cfg.Slow = job.Options.Slow
	cfg.Clock = job.Options.Clock
	cfg.Trace = job.Options.Trace
	cfg.CheckpointIdentity = job.Identity
	if job.Progress != nil {
		cfg.OnBatch = func(b microbatch.BatchInfo) {
			if b.Seq%100 == 0 {
				job.Progress(fmt.Sprintf("batch %d: %d records, scheduling delay %v, processing %v", b.Seq, b.Records, b.SchedulingDelay, b.ProcessingDelay))
			}
		}
	}
	// A log closed before the run was filled before the clock started
	// (--rate 0, --input): Structured Streaming's first trigger reads all of
	// it, however long loading took (the ingest times of a load are those of
	// the parquet scan, spread over its duration).
	cfg.FilledBeforeStart = job.Log.Closed()
	src := datasets.NewArrowSource(job.Log)
	defer src.Release()
	// Batches carry only the columns the pipeline reads, as Spark's
	// column pruning reads only a query's columns from a columnar source;
	// the others are all-null arrays, neither decoded nor allocated.
	var unused []int
	for i, used := range job.Pipeline.UsedInputColumns() {
		if !used {
			unused = append(unused, i)
		}
	}
	if err := src.Skip(unused); err != nil {
		return nil, err
	}
	src.Consume(job.Consumer)
	rep, err := microbatch.Run(ctx, job.Pipeline, src, cfg)
	if err != nil {
		return nil, checkpointDirError(err)
	}
	out := &Outcome{
		Results: rep.Results, Events: rep.Events, Elapsed: rep.Elapsed, Emissions: rep.Emissions,
		Latency: rep.Latency, Counters: rep.Counters, Series: rep.Series, Warnings: rep.Warnings,
	}
	// Spark's rule (LateRuleSpark) applies to Structured Streaming's
	// event-time windows with a watermark; DStreams, processing-time,
	// count and global windows and stateless pipelines drop nothing.
	if rep.Watermarked {
		out.LateRule = LateRuleSpark
	}
	out.Batches = make([]BatchDelivery, len(rep.Batches))
	for i, b := range rep.Batches {
		out.Batches[i] = BatchDelivery{End: b.End, Watermark: dataflow.Time(b.Watermark)}
	}
	out.Late = rep.Late
	if job.Options.Trace {
		out.Trace = paneTrace(r.name, job.Log.EventTimeShift(), rep.Panes)
	}
	return out, nil
}
