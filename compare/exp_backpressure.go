package compare

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/metrics"
	"github.com/weirlab/weir/microbatch"
)

// microbatchBackpressureExperiment is the microbatch-backpressure experiment's specification.
func microbatchBackpressureExperiment() *Experiment {
	return &Experiment{
		Name:      "microbatch-backpressure",
		Claim:     "L6.3",
		Statement: "When processing is slower than the batch cutter, batches queue, the delay grows batch after batch, and the job ends out of memory; Spark's PID rate controller bounds the queue.",
		Rule:      "Holds when, without backpressure, the scheduling delay exceeds twice the batch interval in every repetition, the memory budget stops every run, and with the PID controller the largest scheduling delay is below the one without it with the ranges of repetitions apart; does not hold when the delay never exceeds the interval, the budget never stops a run, or the PID's delay is above the one without it outside the spread; inconclusive otherwise (a failed trial, too few repetitions, inside the spread).",
		Published: "YSB 2015 (figs 5a/5b, Spark 1.5.1, 2 s batch, 130K ev/s) [P]: without backpressure window latency rose steadily to ~69 s; with `spark.streaming.backpressure.enabled` to ~112 s. SPARK-7398 [P]: sustained batch processing time > batch interval \"leads to an unstable situation where the memory of the Receiver's Executor is overflowed\".",
		run:       runBackpressure,
	}
}

// ---- microbatch-backpressure (L6.3) ----

// bpStep is the offered load of every backpressure trial: a low rate the
// slow job keeps up with, then a step far above it.
type bpStep struct {
	low, high float64
	after     time.Duration
	events    int64
}

// offered is the number of events offered by t seconds after the fill
// started.
func (s bpStep) offered(t float64) float64 {
	a := s.after.Seconds()
	v := s.low * min(t, a)
	if t > a {
		v += s.high * (t - a)
	}
	return min(v, float64(s.events))
}

// spec is the step as a paced DataSpec.
func (s bpStep) spec() DataSpec {
	return DataSpec{Events: s.events, Rate: s.low, Steps: []datasets.RateStep{{After: s.after, Rate: s.high}}}
}

func runBackpressure(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "finished", "batches", "max scheduling delay ms", "last scheduling delay ms", "max source lag (records)", "max held bytes", "last rate limit (records/s)", "events/s", "matches reference / stop"}}}
	// The slow step waits 500 µs per record of the windowed step, four
	// tasks at once; the overload after the step lasts ten batch intervals
	// or more, so batches can queue batch after batch.
	slow := 500 * time.Microsecond
	bi := 100 * time.Millisecond
	step := pick(quick, bpStep{low: 4_000, high: 20_000, after: 300 * time.Millisecond, events: 21_200},
		bpStep{low: 4_000, high: 20_000, after: time.Second, events: 64_000})
	budget := int64(192 << 10)
	n := reps(quick)
	type cfg struct {
		name  string
		flags RuntimeFlags
	}
	cfgs := []cfg{
		{bpNone, RuntimeFlags{Mode: "dstream", BatchInterval: bi}},
		{bpPID, RuntimeFlags{Mode: "dstream", BatchInterval: bi, Backpressure: true}},
		{bpBudget, RuntimeFlags{Mode: "dstream", BatchInterval: bi, MemoryBudget: budget}},
	}
	delayFig := Series{Name: "scheduling-delay", Title: "Scheduling delay per batch (microbatch, paced YSB stepping above capacity, first repetition)", XLabel: "time since start (s)", YLabel: "scheduling delay (ms)",
		XScale: ScaleLinear, Refs: []RefLine{batchIntervalLine(bi), VLine("rate step", step.after.Seconds())}}
	pidFig := Series{Name: "pid-step", Title: fmt.Sprintf("PID step response: rate limit and ingest rate per batch (offered %.0f then %.0f events/s, first repetition)", step.low, step.high),
		XLabel: "time since start (s)", YLabel: "records/s", XScale: ScaleLinear, YScale: ScaleLinear, Refs: []RefLine{VLine("rate step", step.after.Seconds())}}
	lagFig := Series{Name: "source-lag", Title: "Source lag: records offered but not yet read, per batch (first repetition)", XLabel: "time since start (s)", YLabel: "records", XScale: ScaleLinear,
		Refs: []RefLine{VLine("rate step", step.after.Seconds())}}
	memFig := Series{Name: "memory", Title: "Bytes held by queued batches, per batch (first repetition)", XLabel: "time since start (s)", YLabel: "held bytes", XScale: ScaleLinear,
		Refs: []RefLine{HLine("memory budget", float64(budget)), VLine("rate step", step.after.Seconds())}}
	o := bpOutcome{Interval: bi, Runs: map[string]bpRun{}}
	for _, c := range cfgs {
		t := trial{workload: mustWorkload("ysb"), runtime: "microbatch", flags: c.flags, data: step.spec(), opts: Options{Slow: slow}, timeout: pick(quick, 20*time.Second, time.Minute)}
		run := bpRun{}
		var maxD, lastD, eps, batches, maxLag, maxHeld, lastRate []float64
		var stops []string
		checks := ""
		for i := range n {
			rep, err := t.do(ctx, progress)
			run.Reps++
			if err != nil {
				if mbe, ok := errors.AsType[*microbatch.MemoryBudgetError](err); ok {
					run.BudgetStops++
					maxD = append(maxD, float64(mbe.SchedulingDelay.Milliseconds()))
					maxHeld = append(maxHeld, float64(mbe.HeldBytes))
					stops = append(stops, fmt.Sprintf("%d batches queued holding %d records in %d bytes", mbe.QueuedBatches, mbe.BacklogRecords, mbe.HeldBytes))
					continue
				}
				run.Failed = trialStatus(err)
				break
			}
			s := rep.Outcome.Series
			delays := s["scheduling_delay_ms"]
			maxD = append(maxD, maxOf(delays))
			if len(delays) > 0 {
				lastD = append(lastD, delays[len(delays)-1].V)
			}
			lag := sourceLag(step, s["input_records"])
			maxLag = append(maxLag, maxOf(lag))
			maxHeld = append(maxHeld, maxOf(s["held_bytes"]))
			if rl := s["rate_limit"]; len(rl) > 0 {
				lastRate = append(lastRate, rl[len(rl)-1].V)
			}
			eps = append(eps, rep.Summary.EventsPerSecond)
			batches = append(batches, float64(rep.Summary.Counters["batches"]))
			if i == 0 {
				delayFig.Lines = append(delayFig.Lines, Line{Label: c.name, Points: delays})
				lagFig.Lines = append(lagFig.Lines, Line{Label: c.name, Points: lag})
				memFig.Lines = append(memFig.Lines, Line{Label: c.name, Points: s["held_bytes"]})
				if c.flags.Backpressure {
					pidFig.Lines = append(pidFig.Lines, Line{Label: "rate limit (PID; none before its first estimate)", Points: positive(s["rate_limit"])},
						Line{Label: "ingest rate (records read per batch / batch interval)", Points: perSecond(s["input_records"], bi)},
						Line{Label: "offered rate", Points: offeredLine(step, delays)})
				}
			}
			if !rep.Check.OK() || checks == "" {
				checks = rep.Check.String()
			}
		}
		run.MaxDelayMs, run.MaxLag, run.MaxHeld = spreadOf(maxD), spreadOf(maxLag), spreadOf(maxHeld)
		o.Runs[c.name] = run
		finished := fmt.Sprintf("%d of %d", run.Reps-run.BudgetStops, n)
		if run.Failed != "" {
			finished += ": " + run.Failed
		}
		if len(stops) > 0 {
			checks = fmt.Sprintf("stopped by the memory budget in %d of %d runs (first: %s)", run.BudgetStops, run.Reps, stops[0])
		}
		rate := "-"
		if c.flags.Backpressure {
			rate = spreadOf(lastRate).String()
		}
		res.Table.add(c.name, finished, spreadOf(batches).String(), run.MaxDelayMs.String(), spreadOf(lastD).String(), run.MaxLag.String(), run.MaxHeld.String(), rate, spreadOf(eps).String(), checks)
	}
	res.Series = append(res.Series, delayFig, pidFig, lagFig, memFig)
	res.Notes = append(res.Notes, fmt.Sprintf("YSB paced at %.0f events/s, stepping to %.0f events/s after %v (%d events), batch interval %v, a slow step (Options.Slow) of %v per record in the windowed step, so after the step processing is slower than the batch cutter; %d repetitions, median [min-max]. A run stopped by the memory budget (%d bytes) gives its scheduling delay and held bytes at the stop. "+
		"Source lag at a batch is the events the pacing schedule had offered by its end time minus the records read by the batches so far (the runtime's clock starts just after the fill's, so the lag is a slight overestimate).", step.low, step.high, step.after, step.events, bi, slow, n, budget))
	res.Verdict = verdictBackpressure(o)
	return res
}

// maxOf is the largest value of s (0 when s is empty).
func maxOf(s metrics.Series) float64 {
	var m float64
	for _, p := range s {
		m = max(m, p.V)
	}
	return m
}

// sourceLag is, at each batch of input (records read per batch), the
// events step had offered by then minus the records read so far.
func sourceLag(step bpStep, input metrics.Series) metrics.Series {
	out := make(metrics.Series, 0, len(input))
	var read float64
	for _, p := range input {
		read += p.V
		out = append(out, metrics.Point{T: p.T, V: max(0, step.offered(p.T)-read)})
	}
	return out
}

// positive is the points of s above zero (a rate limit of 0 is none).
func positive(s metrics.Series) metrics.Series {
	var out metrics.Series
	for _, p := range s {
		if p.V > 0 {
			out = append(out, p)
		}
	}
	return out
}

// perSecond divides each per-batch count by the batch interval.
func perSecond(s metrics.Series, interval time.Duration) metrics.Series {
	out := make(metrics.Series, len(s))
	for i, p := range s {
		out[i] = metrics.Point{T: p.T, V: p.V / interval.Seconds()}
	}
	return out
}

// offeredLine is step's offered rate at the times of at, until every event
// was offered.
func offeredLine(step bpStep, at metrics.Series) metrics.Series {
	var out metrics.Series
	for _, p := range at {
		r := step.low
		switch {
		case step.offered(p.T) >= float64(step.events):
			r = 0
		case p.T > step.after.Seconds():
			r = step.high
		}
		out = append(out, metrics.Point{T: p.T, V: r})
	}
	return out
}

// ---- L6.3 microbatch-backpressure ----

// Labels of the backpressure experiment's trials.
const (
	bpNone   = "no backpressure"
	bpPID    = "backpressure (PID)"
	bpBudget = "no backpressure, memory budget 192 KiB"
)

// bpRun is one backpressure trial over its repetitions.
type bpRun struct {
	Failed string
	// MaxDelayMs is the largest scheduling delay per repetition (of the
	// repetitions that finished).
	MaxDelayMs spread
	// MaxLag is the largest source lag (records offered, not yet read) and
	// MaxHeld the most bytes queued batches held, per repetition.
	MaxLag, MaxHeld spread
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
	pid, ok3 := o.Runs[bpPID]
	if !ok1 || !ok2 || !ok3 || !none.MaxDelayMs.enough() || budget.Reps < minReps || !pid.MaxDelayMs.enough() {
		return inconclusive("the trials without backpressure, with the budget and with the PID ran %d, %d and %d repetitions (need %d)", none.MaxDelayMs.N, budget.Reps, pid.MaxDelayMs.N, minReps)
	}
	iv := float64(o.Interval.Milliseconds())
	figures := fmt.Sprintf("without backpressure the scheduling delay peaked at %s ms (batch interval %v, %d× needed in every repetition), queued batches held up to %s bytes and the source lag reached %s records; the memory budget stopped %d of %d runs; with the PID the delay peaked at %s ms, held up to %s bytes, source lag %s records",
		none.MaxDelayMs, o.Interval, bpGrowth, none.MaxHeld, none.MaxLag, budget.BudgetStops, budget.Reps, pid.MaxDelayMs, pid.MaxHeld, pid.MaxLag)
	switch {
	case none.MaxDelayMs.Max <= iv || budget.BudgetStops == 0:
		return doesNotHold("%s", figures)
	case none.MaxDelayMs.below(pid.MaxDelayMs):
		return doesNotHold("the PID did not bound the queue, outside the spread: %s", figures)
	case none.MaxDelayMs.Min > bpGrowth*iv && budget.BudgetStops == budget.Reps && pid.MaxDelayMs.below(none.MaxDelayMs):
		return holds("%s", figures)
	}
	return inconclusive("%s", figures)
}
