package compare

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/weirlab/weir/microbatch"
)

// microbatchBackpressureExperiment is the microbatch-backpressure experiment's specification.
func microbatchBackpressureExperiment() *Experiment {
	return &Experiment{
		Name:      "microbatch-backpressure",
		Claim:     "L6.3",
		Statement: "When processing is slower than the batch cutter, batches queue, the delay grows batch after batch, and the job ends out of memory.",
		Rule:      "Holds when, without backpressure, the scheduling delay exceeds twice the batch interval in every repetition and the memory budget stops every run; does not hold when the delay never exceeds the interval or the budget never stops a run; inconclusive otherwise.",
		Published: "YSB 2015 (figs 5a/5b, Spark 1.5.1, 2 s batch, 130K ev/s) [P]: without backpressure window latency rose steadily to ~69 s; with `spark.streaming.backpressure.enabled` to ~112 s. SPARK-7398 [P]: sustained batch processing time > batch interval \"leads to an unstable situation where the memory of the Receiver's Executor is overflowed\".",
		run:       runBackpressure,
	}
}

// ---- microbatch-backpressure (L6.3) ----

func runBackpressure(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "finished", "batches", "max scheduling delay ms", "last scheduling delay ms", "events/s", "matches reference / stop"}}}
	rate := 20_000.0
	events := pick[int64](quick, 40_000, 200_000)
	n := reps(quick)
	// The slow step sleeps per partition task, four tasks at once: 1 ms
	// a record gives about 4,000 views/s, below the 6,700 views/s offered.
	slow := time.Millisecond
	bi := 200 * time.Millisecond
	type cfg struct {
		name  string
		flags RuntimeFlags
	}
	cfgs := []cfg{
		{bpNone, RuntimeFlags{Mode: "dstream", BatchInterval: bi}},
		{bpPID, RuntimeFlags{Mode: "dstream", BatchInterval: bi, Backpressure: true}},
		{bpBudget, RuntimeFlags{Mode: "dstream", BatchInterval: bi, MemoryBudget: 1 << 20}},
	}
	fig := Series{Name: "scheduling-delay", Title: "Scheduling delay per batch (microbatch, paced YSB above capacity, first repetition)", XLabel: "time since start (s)", YLabel: "scheduling delay (ms)",
		Refs: []RefLine{batchIntervalLine(bi)}}
	o := bpOutcome{Interval: bi, Runs: map[string]bpRun{}}
	for _, c := range cfgs {
		t := trial{workload: mustWorkload("ysb"), runtime: "microbatch", flags: c.flags, data: DataSpec{Events: events, Rate: rate}, opts: Options{Slow: slow}, timeout: pick(quick, 40*time.Second, 3*time.Minute)}
		run := bpRun{}
		var maxD, lastD, eps []float64
		var batches []float64
		var stops []string
		checks := ""
		for i := range n {
			rep, err := t.do(ctx, progress)
			run.Reps++
			if err != nil {
				if mbe, ok := errors.AsType[*microbatch.MemoryBudgetError](err); ok {
					run.BudgetStops++
					maxD = append(maxD, float64(mbe.SchedulingDelay.Milliseconds()))
					stops = append(stops, fmt.Sprintf("%d batches queued holding %d records in %d bytes", mbe.QueuedBatches, mbe.BacklogRecords, mbe.HeldBytes))
					continue
				}
				run.Failed = trialStatus(err)
				break
			}
			pts := rep.Outcome.Series["scheduling_delay_ms"]
			var m float64
			for _, p := range pts {
				m = max(m, p.V)
			}
			maxD = append(maxD, m)
			if len(pts) > 0 {
				lastD = append(lastD, pts[len(pts)-1].V)
			}
			eps = append(eps, rep.Summary.EventsPerSecond)
			batches = append(batches, float64(rep.Summary.Counters["batches"]))
			if i == 0 {
				fig.Lines = append(fig.Lines, Line{Label: c.name, Points: pts})
			}
			if !rep.Check.OK() || checks == "" {
				checks = rep.Check.String()
			}
		}
		run.MaxDelayMs = spreadOf(maxD)
		o.Runs[c.name] = run
		finished := fmt.Sprintf("%d of %d", run.Reps-run.BudgetStops, n)
		if run.Failed != "" {
			finished += ": " + run.Failed
		}
		if len(stops) > 0 {
			checks = fmt.Sprintf("stopped by the memory budget in %d of %d runs (first: %s)", run.BudgetStops, run.Reps, stops[0])
		}
		res.Table.add(c.name, finished, spreadOf(batches).String(), run.MaxDelayMs.String(), spreadOf(lastD).String(), spreadOf(eps).String(), checks)
	}
	res.Series = append(res.Series, fig)
	res.Notes = append(res.Notes, fmt.Sprintf("YSB paced at %.0f events/s (%d events), batch interval %v, a slow step (Options.Slow) of %v per record in the windowed step, so processing is slower than the batch cutter; %d repetitions, median [min-max]. A run stopped by the memory budget gives its scheduling delay at the stop.", rate, events, bi, slow, n))
	res.Verdict = verdictBackpressure(o)
	return res
}

// ---- L6.3 microbatch-backpressure ----

// Labels of the backpressure experiment's trials.
const (
	bpNone   = "no backpressure"
	bpPID    = "backpressure (PID)"
	bpBudget = "no backpressure, memory budget 1 MiB"
)

// bpRun is one backpressure trial over its repetitions.
type bpRun struct {
	Failed string
	// MaxDelayMs is the largest scheduling delay per repetition (of the
	// repetitions that finished).
	MaxDelayMs spread
	// BudgetStops counts repetitions stopped by the memory budget; Reps
	// the repetitions run.
	BudgetStops, Reps int
}

// bpOutcome maps a trial label to its runs; Interval is the batch interval.
type bpOutcome struct {
	Interval time.Duration
	Runs     map[string]bpRun
}

// bpGrowth is how many batch intervals the scheduling delay must exceed to
// count as grown batch after batch rather than one slow batch.
const bpGrowth = 2

func verdictBackpressure(o bpOutcome) Verdict {
	if f := failedRuns(o.Runs, func(r bpRun) string { return r.Failed }); len(f) > 0 {
		return inconclusive("trials failed: %s", strings.Join(f, "; "))
	}
	none, ok1 := o.Runs[bpNone]
	budget, ok2 := o.Runs[bpBudget]
	if !ok1 || !ok2 || !none.MaxDelayMs.enough() || budget.Reps < minReps {
		return inconclusive("the trials without backpressure ran %d and %d repetitions (need %d)", none.MaxDelayMs.N, budget.Reps, minReps)
	}
	iv := float64(o.Interval.Milliseconds())
	pid := "not run"
	if r, ok := o.Runs[bpPID]; ok {
		pid = r.MaxDelayMs.String() + " ms"
	}
	switch {
	case none.MaxDelayMs.Max <= iv || budget.BudgetStops == 0:
		return doesNotHold("without backpressure the scheduling delay peaked at %s ms (batch interval %v) and the memory budget stopped %d of %d runs", none.MaxDelayMs, o.Interval, budget.BudgetStops, budget.Reps)
	case none.MaxDelayMs.Min > bpGrowth*iv && budget.BudgetStops == budget.Reps:
		return holds("without backpressure the scheduling delay grew to %s ms (batch interval %v); the memory budget stopped %d of %d runs; with backpressure the delay peaked at %s", none.MaxDelayMs, o.Interval, budget.BudgetStops, budget.Reps, pid)
	}
	return inconclusive("the scheduling delay peaked at %s ms (batch interval %v, %d× needed in every repetition) and the memory budget stopped %d of %d runs", none.MaxDelayMs, o.Interval, bpGrowth, budget.BudgetStops, budget.Reps)
}
