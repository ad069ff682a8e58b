package compare

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/metrics"
)

// batchStreamExperiment is the batch-vs-streaming experiment's
// specification.
func batchStreamExperiment() *Experiment {
	return &Experiment{
		Name:      "batch-vs-streaming",
		Claim:     "L1",
		Statement: "Batch: bounded input, high latency, started on demand; streaming: unbounded, continuous, low latency.",
		Rule:      "On a paced, time-bounded YSB run with short windows, holds when each streaming configuration's first correct result comes before the batch answer (computed on demand once the last event has arrived: end of input + its compute time) with the ranges of repetitions apart, the batch answer's latency at the longest input span is above the shortest's, ranges apart, and every streaming run gives the batch answer on the bounded input; does not hold when a streaming run differs from the batch answer or an order is reversed outside the spread; inconclusive inside the spread or on a failed trial.",
		Published: "No paper in shared/reference/papers.md measures batch against streaming availability; the claim is the lecture's (LECTURE.md L1: batch \"take a boat out to fish the lake\", streaming \"dam the river to make power\"). Nearest published figure, theirs: Spark docs [P], micro-batch end-to-end latencies \"as low as 100 milliseconds\".",
		run:       runBatchStream,
	}
}

// ---- batch-vs-streaming (L1) ----

// batchOnDemand runs its runner, then, once the log is closed (the run has
// read it to its end), computes the batch answer over the whole log and
// times it: the batch job started on demand when the input is complete.
// Each trial builds its own, so the measured figures are the trial's.
type batchOnDemand struct {
	Runner
	// Compute is how long the batch answer took; Results how many results
	// it has.
	Compute time.Duration
	Results int
}

// Run implements Runner.
func (b *batchOnDemand) Run(ctx context.Context, job *Job) (*Outcome, error) {
	out, err := b.Runner.Run(ctx, job)
	if err != nil {
		return out, err
	}
	clk := clock.OrReal(job.Options.Clock)
	start := clk.Now()
	rs, err := referenceAnswer(ctx, job.Pipeline, job.Log, nil)
	if err != nil {
		return nil, fmt.Errorf("the batch answer: %w", err)
	}
	b.Compute, b.Results = clock.Since(clk, start), len(rs)
	return out, nil
}

// Flags forwards the runner's flags to the summary.
func (b *batchOnDemand) Flags() RuntimeFlags {
	if f, ok := b.Runner.(interface{ Flags() RuntimeFlags }); ok {
		return f.Flags()
	}
	return RuntimeFlags{}
}

// availability is when one run's final results became available, in ns
// since the run's first event arrived.
type availability struct {
	// Stream is, per result in window order, when the streaming runtime's
	// last pane of it reached the sink; WindowEnd its window's end on the
	// wall clock (event time follows the wall clock in a paced run).
	Stream, WindowEnd []int64
	// InputEnd is when the last event arrived; Batch when the batch answer
	// was complete (InputEnd + its compute time).
	InputEnd, Batch int64
}

// availabilityOf reads a traced report: time zero is the first record's
// ingest time, a result is available at its last (non-merged) pane's emit
// time, and the batch answer at the last record's ingest time plus
// compute.
func availabilityOf(rep *Report, compute time.Duration) (availability, error) {
	type wk struct {
		w dataflow.Window
		k string
	}
	var first, last int64
	var shift int64
	panes := map[wk]int64{}
	for _, r := range rep.Trace {
		switch r.Kind {
		case datasets.TraceRecord:
			if first == 0 || r.IngestNanos < first {
				first = r.IngestNanos
			}
			last = max(last, r.IngestNanos)
			shift = r.EventTimeShiftMs
		case datasets.TracePane:
			if r.PaneTiming != dataflow.PaneMerged {
				k := wk{dataflow.Window{Start: dataflow.Time(r.WindowStartMs), End: dataflow.Time(r.WindowEndMs)}, r.Key}
				panes[k] = max(panes[k], r.EmitNanos)
			}
		}
	}
	if first == 0 || len(rep.Outcome.Results) == 0 {
		return availability{}, errors.New("the run traced no records or gave no results")
	}
	a := availability{InputEnd: last - first, Batch: last - first + int64(compute)}
	for _, res := range rep.Outcome.Results {
		e, ok := panes[wk{res.Window, res.Key}]
		if !ok {
			return availability{}, fmt.Errorf("result %v %q has no pane in the trace", res.Window, res.Key)
		}
		a.Stream = append(a.Stream, e-first)
		a.WindowEnd = append(a.WindowEnd, (int64(res.Window.End)+shift)*1e6-first)
	}
	return a, nil
}

// firstNanos is the earliest of v.
func firstNanos(v []int64) int64 { return slices.Min(v) }

// medianDelayMs is the median over results of availability minus window
// end, in ms: of the streaming results, or with batch of the batch answer.
func medianDelayMs(a availability, batch bool) float64 {
	d := make([]float64, len(a.WindowEnd))
	for i, end := range a.WindowEnd {
		at := a.Batch
		if !batch {
			at = a.Stream[i]
		}
		d[i] = float64(at-end) / 1e6
	}
	return spreadOf(d).Median
}

// staircase is the share of results available against time (s): a step
// per distinct availability time.
func staircase(at []int64) metrics.Series {
	s := slices.Clone(at)
	slices.Sort(s)
	n := float64(len(s))
	pts := metrics.Series{{T: 0, V: 0}}
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		t := float64(s[i]) / 1e9
		pts = append(pts, metrics.Point{T: t, V: float64(i) / n}, metrics.Point{T: t, V: float64(j) / n})
		i = j
	}
	return pts
}

func runBatchStream(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "input span", "results", "streaming: first correct result (ms since start)", "batch: answer available (ms since start)", "end of input (ms)", "batch compute (ms)", "streaming: median per-window delay (ms after window end)", "batch: median per-window delay (ms)", "streaming answer = batch answer (repetitions)"}}}
	const rate = 20_000.0
	window, bound := 200*time.Millisecond, 100*time.Millisecond
	w := ysbVariant("ysb-200ms", dataflow.FixedWindows(window), bound)
	skew := datasets.Skew{Delay: 50 * time.Millisecond, OutOfOrder: 0.05}
	rs := SuiteEntry{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2, WatermarkInterval: 50 * time.Millisecond}}
	mb := SuiteEntry{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "event-time", BatchInterval: 200 * time.Millisecond}}
	type plan struct {
		e     SuiteEntry
		spans []time.Duration
	}
	plans := pick(quick,
		[]plan{{rs, []time.Duration{500 * time.Millisecond, time.Second}}, {mb, []time.Duration{time.Second}}},
		[]plan{{rs, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}}, {mb, []time.Duration{time.Second, 4 * time.Second}}})
	n := reps(quick)
	o := batchStreamOutcome{Runs: map[string]batchStreamRun{}, Growth: configName(rs)}
	firstFig := Series{Name: "first-result", Title: "Latency to the first correct result against the input span (median of repetitions)", XLabel: "input span (s)", YLabel: "ms since the first event", XScale: ScaleLinear}
	var stairs, delays *Series
	for _, p := range plans {
		name := configName(p.e)
		o.Stream = append(o.Stream, name)
		streamLine, batchLine := Line{Label: name}, Line{Label: "batch on demand (after " + name + ")"}
		for _, span := range p.spans {
			label := batchStreamLabel(name, span)
			if !slices.Contains(o.Spans, span) {
				o.Spans = append(o.Spans, span)
			}
			run, firstAvail := runBatchStreamTrial(ctx, w, p.e, DataSpec{Events: int64(rate * span.Seconds()), Rate: rate, Skew: skew}, n, progress)
			o.Runs[label] = run
			if run.Failed != "" {
				res.Table.add(name, span.String(), "-", "-", "-", "-", "-", "-", "-", run.Failed)
				continue
			}
			res.Table.add(name, span.String(), run.Results, run.StreamFirstMs.String(), run.BatchMs.String(), run.InputEndMs.String(), run.ComputeMs.String(),
				run.StreamDelayMs.String(), run.BatchDelayMs.String(), fmt.Sprintf("%d of %d (%s)", run.SameAnswer, run.Reps, run.Check))
			streamLine.Points = append(streamLine.Points, metrics.Point{T: span.Seconds(), V: run.StreamFirstMs.Median})
			batchLine.Points = append(batchLine.Points, metrics.Point{T: span.Seconds(), V: run.BatchMs.Median})
			if span != p.spans[len(p.spans)-1] {
				continue
			}
			// The longest span's first repetition: the staircase and the
			// per-window delays.
			if stairs == nil {
				stairs = &Series{Name: "availability", Title: fmt.Sprintf("Share of the final window results available against time (YSB, %v windows, %v input, first repetition)", window, span),
					XLabel: "s since the first event", YLabel: "share of final results available", XScale: ScaleLinear, YScale: ScaleLinear,
					Refs: []RefLine{VLine("end of input", float64(firstAvail.InputEnd)/1e9)}}
				stairs.Lines = append(stairs.Lines, Line{Label: "batch on demand", Points: staircase(repeatN(firstAvail.Batch, len(firstAvail.Stream)))})
				delays = &Series{Name: "window-delay", Title: fmt.Sprintf("Per-window availability delay: when a window's result is available after the window's end (%v input, first repetition)", span),
					XLabel: "window end (s since the first event)", YLabel: "ms after the window's end", XScale: ScaleLinear}
				delays.Lines = append(delays.Lines, Line{Label: "batch on demand", Points: delayPoints(firstAvail, true)})
			}
			stairs.Lines = append(stairs.Lines, Line{Label: name, Points: staircase(firstAvail.Stream)})
			delays.Lines = append(delays.Lines, Line{Label: name, Points: delayPoints(firstAvail, false)})
		}
		firstFig.Lines = append(firstFig.Lines, streamLine, batchLine)
	}
	res.Series = append(res.Series, firstFig)
	if stairs != nil {
		res.Series = append(res.Series, *stairs, *delays)
	}
	res.Notes = append(res.Notes, fmt.Sprintf("YSB with %v event-time windows and a %v watermark bound (5%% of the records up to %v out of order), paced at %.0f events/s so event time follows the wall clock; %d repetitions per span, median [min-max]. Time zero is the first event's arrival. A streaming result is available when its window and key's last pane reaches the sink (every run matches the reference, so that pane holds the final value); the batch answer (dataflow.Reference over the whole log, computed and timed after the streaming run has read the log) is available at the end of input plus its compute time. The per-window delay is the time from a window's end (on the wall clock) to its result's availability.", window, bound, skew.Delay, rate, n))
	res.Verdict = verdictBatchStream(o)
	return res
}

func batchStreamLabel(config string, span time.Duration) string {
	return fmt.Sprintf("%s, %v input", config, span)
}

func repeatN(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// delayPoints is per result (window end s, delay ms), in window order.
func delayPoints(a availability, batch bool) metrics.Series {
	idx := make([]int, len(a.WindowEnd))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(a.WindowEnd[x], a.WindowEnd[y]) })
	var pts metrics.Series
	for _, i := range idx {
		at := a.Batch
		if !batch {
			at = a.Stream[i]
		}
		pts = append(pts, metrics.Point{T: float64(a.WindowEnd[i]) / 1e9, V: float64(at-a.WindowEnd[i]) / 1e6})
	}
	return pts
}

// runBatchStreamTrial runs e on w over d n times, each run traced and
// followed by the timed batch answer, and returns the figures and the
// first repetition's availability.
func runBatchStreamTrial(ctx context.Context, w *Workload, e SuiteEntry, d DataSpec, n int, progress func(string)) (batchStreamRun, availability) {
	var run batchStreamRun
	var first availability
	var streamFirst, batch, inputEnd, compute, streamDelay, batchDelay []float64
	for i := range n {
		inner, err := NewRunner(e.Runtime, e.Flags)
		if err != nil {
			return batchStreamRun{Failed: errText(err)}, first
		}
		r := &batchOnDemand{Runner: inner}
		tctx, cancel := context.WithTimeout(ctx, time.Minute)
		if d.Seed == 0 {
			d.Seed = 1
		}
		rep, err := RunOne(tctx, w, r, d, Options{Seed: 1, Trace: true}, nil)
		cancel()
		if err != nil {
			sayf(progress, "  %s on %s: %v", w.Name, inner.Name(), err)
			return batchStreamRun{Failed: trialStatus(err)}, first
		}
		sayf(progress, "  %s on %s: %s", w.Name, rep.Runner, rep.Check)
		a, err := availabilityOf(rep, r.Compute)
		if err != nil {
			return batchStreamRun{Failed: err.Error()}, first
		}
		if i == 0 {
			first = a
			run.Results, run.Check = len(rep.Outcome.Results), rep.Check.String()
		}
		run.Reps++
		if rep.Check.OK() && rep.Check.Full.OK() && len(rep.Outcome.Results) == r.Results {
			run.SameAnswer++
		} else {
			run.Check = rep.Check.String()
		}
		streamFirst = append(streamFirst, float64(firstNanos(a.Stream))/1e6)
		batch = append(batch, float64(a.Batch)/1e6)
		inputEnd = append(inputEnd, float64(a.InputEnd)/1e6)
		compute = append(compute, float64(r.Compute)/1e6)
		streamDelay = append(streamDelay, medianDelayMs(a, false))
		batchDelay = append(batchDelay, medianDelayMs(a, true))
	}
	run.StreamFirstMs, run.BatchMs, run.InputEndMs, run.ComputeMs = spreadOf(streamFirst), spreadOf(batch), spreadOf(inputEnd), spreadOf(compute)
	run.StreamDelayMs, run.BatchDelayMs = spreadOf(streamDelay), spreadOf(batchDelay)
	return run, first
}

// ---- L1 batch-vs-streaming ----

// batchStreamRun is one configuration at one input span, over its
// repetitions. Times are ms since the run's first event.
type batchStreamRun struct {
	// Failed is why a repetition did not finish ("" when all did).
	Failed string
	// StreamFirstMs is when the streaming runtime's first final result was
	// available; BatchMs when the batch answer was (end of input plus its
	// compute time, InputEndMs and ComputeMs).
	StreamFirstMs, BatchMs, InputEndMs, ComputeMs spread
	// StreamDelayMs and BatchDelayMs are the median over windows of the
	// time from a window's end to its result's availability.
	StreamDelayMs, BatchDelayMs spread
	// SameAnswer counts the repetitions whose streaming results equal the
	// full batch answer (the check's counts), of Reps.
	SameAnswer, Reps int
	// Results is the first repetition's number of results; Check its (or a
	// differing repetition's) check line.
	Results int
	Check   string
}

// batchStreamOutcome is the runs keyed by [batchStreamLabel]: every
// streaming configuration in Stream at each input span in Spans it ran
// (shortest first). Growth names the configuration whose
// batch answers at the shortest and longest spans are compared.
type batchStreamOutcome struct {
	Stream []string
	Spans  []time.Duration
	Runs   map[string]batchStreamRun
	Growth string
}

func verdictBatchStream(o batchStreamOutcome) Verdict {
	if f := failedRuns(o.Runs, func(r batchStreamRun) string { return r.Failed }); len(f) > 0 {
		return inconclusive("trials failed: %s", strings.Join(f, "; "))
	}
	if len(o.Runs) == 0 {
		return inconclusive("no trial was measured")
	}
	var differ, earlier, later, inside []string
	for _, k := range sortedKeys(o.Runs) {
		r := o.Runs[k]
		if r.SameAnswer < r.Reps {
			differ = append(differ, fmt.Sprintf("%s: %d of %d repetitions equal the batch answer (%s)", k, r.SameAnswer, r.Reps, r.Check))
			continue
		}
		if !r.StreamFirstMs.enough() || !r.BatchMs.enough() {
			return inconclusive("%s: %d and %d repetitions (need %d)", k, r.StreamFirstMs.N, r.BatchMs.N, minReps)
		}
		desc := fmt.Sprintf("%s: first correct result at %s ms against the batch answer at %s ms", k, r.StreamFirstMs, r.BatchMs)
		switch {
		case r.StreamFirstMs.below(r.BatchMs):
			earlier = append(earlier, desc)
		case r.BatchMs.below(r.StreamFirstMs):
			later = append(later, desc)
		default:
			inside = append(inside, desc)
		}
	}
	if len(differ) > 0 {
		return doesNotHold("on the bounded input streaming differs from the batch answer: %s", strings.Join(differ, "; "))
	}
	// The batch answer's latency against the input span.
	var spans []time.Duration
	for _, s := range o.Spans {
		if _, ok := o.Runs[batchStreamLabel(o.Growth, s)]; ok {
			spans = append(spans, s)
		}
	}
	slices.Sort(spans)
	if len(spans) < 2 {
		return inconclusive("%s ran at %d input spans (need 2 to see the batch answer's latency grow)", o.Growth, len(spans))
	}
	short, long := o.Runs[batchStreamLabel(o.Growth, spans[0])].BatchMs, o.Runs[batchStreamLabel(o.Growth, spans[len(spans)-1])].BatchMs
	growth := fmt.Sprintf("the batch answer after %s is available at %s ms with %s of input and %s ms with %s", o.Growth, short, spans[0], long, spans[len(spans)-1])
	var growthNot, growthInside bool
	switch {
	case short.below(long):
	case long.below(short):
		growthNot = true
	default:
		growthInside = true
	}
	switch {
	case len(later) > 0 || growthNot:
		return doesNotHold("the batch answer came first: %s; %s; streaming first: %s", listOrNone(later), growth, listOrNone(earlier))
	case len(inside) > 0 || growthInside:
		return inconclusive("inside the spread: %s; %s; streaming first, ranges apart: %s", listOrNone(inside), growth, listOrNone(earlier))
	}
	return holds("every streaming run gives the batch answer on the bounded input; streaming's first correct result comes first, ranges apart: %s; %s, ranges apart", strings.Join(earlier, "; "), growth)
}

// listOrNone joins v with "; ", or is "none" for an empty v.
func listOrNone(v []string) string {
	if len(v) == 0 {
		return "none"
	}
	return strings.Join(v, "; ")
}
