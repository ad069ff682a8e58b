package compare

import (
	"context"
	"time"

	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/recordstream"
)

// The log is the spouts' source: recordstream defines the interface, and
// datasets satisfies it without either importing the other.
var _ recordstream.Source = (*datasets.Log)(nil)

// recordstreamRunner runs jobs on the Storm model (issue 3), or on its
// Flink-style exactly-once mode (issue 5), or on its Trident mode (issue
// 11).
type recordstreamRunner struct {
	name string
	cfg  recordstream.Config
}

func newRecordstreamRunner(f RuntimeFlags) (Runner, error) {
	g := recordstream.AtMostOnce
	if f.Guarantee != "" {
		var err error
		if g, err = recordstream.ParseGuarantee(f.Guarantee); err != nil {
			return nil, err
		}
	}
	cfg := recordstream.Config{
		Guarantee:         g,
		Parallelism:       f.Parallelism,
		Ackers:            f.Ackers,
		MaxSpoutPending:   f.MaxSpoutPending,
		MessageTimeout:    f.MessageTimeout,
		MemoryBudget:      f.MemoryBudget,
		WatermarkInterval: f.WatermarkInterval,
	}
	cfg.CheckpointConfig.CheckpointInterval = f.CheckpointInterval
	cfg.CheckpointConfig.CheckpointDir = f.CheckpointDir
	cfg.CheckpointConfig.Unaligned = f.Unaligned
	cfg.Trident = recordstream.TridentConfig{BatchSize: f.TridentBatchSize, MaxBatchesPending: f.TridentPending,
		EmitInterval: f.TridentEmitInterval, Opaque: f.TridentSpout == "opaque"}
	cfg.DataflowConfig = recordstream.DataflowConfig{RetryTimeout: f.DataflowRetry, IDCache: f.DataflowIDCache, BloomBits: f.DataflowBloomBits}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if g == recordstream.ExactlyOnce { // the one guarantee that checkpoints
		if err := checkCheckpointDir(f.CheckpointDir); err != nil {
			return nil, err
		}
	}
	return &recordstreamRunner{name: "recordstream/" + g.String(), cfg: cfg}, nil
}

// Name implements Runner.
func (r *recordstreamRunner) Name() string { return r.name }

// Run implements Runner. Each --crash-after entry crashes the windowed-bolt
// task that takes in that record (the sink for a stateless pipeline);
// --slow slows that step; --drop-acks loses acker messages.
func (r *recordstreamRunner) Run(ctx context.Context, job *Job) (*Outcome, error) {
	if job.Consumer != nil {
		return r.runOn(ctx, job, retainingLog{job.Log, job.Consumer})
	}
	return r.runOn(ctx, job, job.Log)
}

// retainingLog is a job's log with the runtime's consumer of it: the
// spouts report their positions to it ([recordstream.Retainer]).
type retainingLog struct {
	*datasets.Log
	c *datasets.Consumer
}

// Retain implements recordstream.Retainer.
func (l retainingLog) Retain(p int, off int64) error { return l.c.Retain(p, off) }

// runOn is Run reading src in place of job.Log (the Kappa architecture's
// views of the log, arch_kappa.go).
func (r *recordstreamRunner) runOn(ctx context.Context, job *Job, src recordstream.Source) (*Outcome, error) {
	cfg := r.cfg
	cfg.Faults = recordstream.Faults{
		CrashAfter: job.Options.CrashAfter,
		Slow:       job.Options.Slow,
		DropAcks:   job.Options.DropAcks,
		Seed:       job.Options.Seed,
	}
	cfg.Seed = job.Options.Seed
	cfg.Clock = job.Options.Clock
	cfg.Trace = job.Options.Trace
	cfg.CheckpointConfig.CheckpointIdentity = job.Identity
	rep, err := recordstream.Run(ctx, job.Pipeline, src, cfg)
	if err != nil {
		return nil, checkpointDirError(err)
	}
	out := &Outcome{
		Results: rep.Results, Events: rep.Events, Elapsed: rep.Elapsed, Emissions: rep.Emissions,
		Latency: rep.Latency, Counters: rep.Counters, Series: rep.Series, Warnings: rep.Warnings,
		LateRule: LateRuleDataflow, // recordstream's windowed bolts follow I4/I5 (RW2)
	}
	if out.Counters == nil {
		out.Counters = map[string]int64{}
	}
	if c := rep.Complete; c != nil && c.Count() > 0 {
		us := func(d time.Duration) int64 { return d.Microseconds() }
		out.Counters["complete_latency_p50_us"] = us(c.Quantile(50))
		out.Counters["complete_latency_p99_us"] = us(c.Quantile(99))
		out.Counters["complete_latency_max_us"] = us(c.Max())
	}
	out.Late = rep.Late
	if job.Options.Trace {
		out.Trace = paneTrace(r.name, job.Log.EventTimeShift(), rep.Panes)
	}
	return out, nil
}
