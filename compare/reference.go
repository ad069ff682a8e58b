package compare

import (
	"context"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"

	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/metrics"
)

// referenceRunner is the "reference" runtime: dataflow.Reference over the
// whole (closed) log, the batch answer. It measures its own throughput
// (events over the time Reference took). Its latency is not meaningful, as
// it emits nothing until it has read everything: its Outcome carries empty
// latency histograms, reported as zeros.
type referenceRunner struct{}

func newReferenceRunner(RuntimeFlags) (Runner, error) { return referenceRunner{}, nil }

// Name implements Runner.
func (referenceRunner) Name() string { return "reference" }

// Run implements Runner. The reference answer is the answer on bounded
// input: with a log still filling (paced input) it waits until the log is
// closed, and its clock starts then.
func (referenceRunner) Run(ctx context.Context, job *Job) (*Outcome, error) {
	for !job.Log.Closed() {
		ch := job.Log.Changed()
		if job.Log.Closed() {
			break
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	clk := clock.OrReal(job.Options.Clock)
	start := clk.Now()
	rs, err := referenceAnswer(ctx, job.Pipeline, job.Log, nil)
	if err != nil {
		return nil, err
	}
	out := &Outcome{
		Results:   rs,
		Events:    job.Log.Len(),
		Elapsed:   clock.Since(clk, start),
		Emissions: int64(len(rs)),
		Latency:   metrics.NewLatency(),
		Counters:  map[string]int64{"results": int64(len(rs))},
	}
	if job.Options.Trace && job.Pipeline.Agg != nil {
		// The batch answer: every result is emitted, on time, at the end of
		// the run, past every watermark.
		end := clk.Now().UnixNano()
		shift := job.Log.EventTimeShift()
		out.Trace = make([]datasets.TraceRow, 0, len(rs))
		for _, r := range rs {
			out.Trace = append(out.Trace, datasets.TraceRow{Kind: datasets.TracePane, Runtime: "reference", EventTimeShiftMs: shift,
				WindowStartMs: int64(r.Window.Start), WindowEndMs: int64(r.Window.End), Key: r.Key,
				PaneTiming: dataflow.PaneOnTime, EmitNanos: end, WatermarkMs: int64(dataflow.MaxTime)})
		}
	}
	return out, nil
}
