package compare

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/metrics"
)

// timeDomainsExperiment is the time-domains experiment's specification.
func timeDomainsExperiment() *Experiment {
	return &Experiment{
		Name:      "time-domains",
		Claim:     "L9/L10",
		Statement: "Event time differs from processing time and data arrives out of order (L9); four approaches to time (time-agnostic, approximation, processing-time windows, event-time windows) (L10); event time needs a completeness bound: a tighter watermark drops more late data, as much as the delay distribution predicts, and processing-time windows put delayed records in other windows.",
		Rule:      "Holds when every approach matches the reference (event-time windows with a bound past the largest delay: no late drop), the paced late share at the tightest watermark bound is above the loosest bound's, ranges apart, the median late share at every bound lies within 2 percentage points of the share expected from the generator's delay distribution, processing-time windows put more records in another window than their event time's under delayed ingestion than in order (every repetition), and the approximate top-N's recall is below 1 at the smallest sketch width and at least 0.99 at the default in every repetition; does not hold when an approach differs, the order is reversed, two or more bounds lie beyond the tolerance on one side in every repetition, delayed ingestion moves no more records than in order, or the smallest sketch misses nothing; inconclusive inside the spread, when recall is not monotone in the width, or on a failed trial.",
		Published: "YSB's `--with-skew` [P]: ±50 ms jitter and 1 event in 100,000 late by up to 60 s. Karimov et al. [U]: under sustained overload event-time latency rises without bound while processing-time latency can look flat. No published figure for the late share against the watermark bound.",
		run:       runTimeDomains,
	}
}

// ---- time-domains (L9, L10) ----

func runTimeDomains(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"approach", "workload", "runtime", "watermark bound", "results", "late drops: verified / replays lost to lateness / unverified", "late share % (bound sweep: median [min-max])", "windows affected", "matches reference (after verified exclusions)"}}}
	rsFlags := RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}
	events := pick[int64](quick, 50_000, 200_000)
	type app struct {
		approach string
		w        *Workload
	}
	reports := map[string]*Report{}
	o := timeDomainsOutcome{Approaches: map[string]runEnd{}, Recall: math.NaN(), LateShare: map[time.Duration]spread{}, SketchRecall: map[int]spread{}, DefaultWidth: dataflow.DefaultSketchWidth}
	for _, a := range []app{
		{"1 time-agnostic", mustWorkload("grep")},
		{"2 approximation (Count-Min top-N)", mustWorkload("hashtag-approx-topn")},
		{"2 exact top-N, for recall", mustWorkload("hashtag-topn")},
		{"3 processing-time windows", mustWorkload("request-rate")},
		{"4 event-time fixed windows", mustWorkload("ysb")},
		{"4 event-time sessions", mustWorkload("sessions")},
	} {
		rep, err := trial{workload: a.w, runtime: "recordstream", flags: rsFlags, data: DataSpec{Events: events}, timeout: time.Minute}.do(ctx, progress)
		if err != nil {
			o.Approaches[a.approach] = runEnd{Failed: trialStatus(err)}
			res.Table.add(a.approach, a.w.Name, "recordstream/at-most-once", "-", "-", "-", "-", "-", errText(err))
			continue
		}
		o.Approaches[a.approach] = runEnd{Exact: rep.Check.OK(), Check: rep.Check.String()}
		reports[a.w.Name] = rep
		bound := "-"
		if rep.Pipeline.Agg != nil && rep.Pipeline.Agg.Domain == dataflow.EventTime {
			bound = rep.Pipeline.Agg.Watermark.MaxOutOfOrderness.String()
		}
		ch := rep.Check
		res.Table.add(a.approach, a.w.Name, rep.Runner, bound, rep.Summary.Results, lateText(ch), 100*float64(ch.DroppedLate)/float64(max(rep.Summary.Events, 1)), ch.LateWindows, ch.String())
	}
	if ap, ex := reports["hashtag-approx-topn"], reports["hashtag-topn"]; ap != nil && ex != nil {
		o.Recall = topNRecall(ex.Outcome.Results, ap.Outcome.Results)
		res.Notes = append(res.Notes, fmt.Sprintf("Approximate top-10 recall against the exact top-10 (share of exact entries the sketch also lists, over every window and prefix): %.3f.", o.Recall))
	}
	runSketchSweep(ctx, quick, res, &o, progress)
	runLateSweep(ctx, lateSweepFor(quick), reps(quick), res, &o, progress)
	res.Notes = append(res.Notes, fmt.Sprintf("%d events per run of each approach on recordstream at-most-once (no faults, so every difference would be a defect).", events))
	res.Verdict = verdictTimeDomains(o)
	return res
}

// runSketchSweep runs the approximate top-N at Count-Min widths from 4
// counters per row to the default, on a new data seed per repetition, and
// records each width's recall against the exact top-N of the same data
// (computed by the reference runner) in o, res's table and a figure.
func runSketchSweep(ctx context.Context, quick bool, res *ExperimentResult, o *timeDomainsOutcome, progress func(string)) {
	widths := []int{4, 16, 64, 256, dataflow.DefaultSketchWidth}
	events := pick[int64](quick, 50_000, 200_000)
	n := reps(quick)
	approx, exact := mustWorkload("hashtag-approx-topn"), mustWorkload("hashtag-topn")
	rsFlags := RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}
	// exacts[i] is the exact top-N of seed i+1.
	var exacts [][]dataflow.Result
	for i := range n {
		rep, err := trial{workload: exact, runtime: "reference", data: DataSpec{Events: events, Seed: uint64(i + 1)}, timeout: time.Minute}.do(ctx, progress)
		if err != nil {
			res.Table.add("2 approximation, sketch sweep", exact.Name, "reference", "-", "-", "-", "-", "-", errText(err))
			return
		}
		exacts = append(exacts, rep.Outcome.Results)
	}
	fig := Series{Name: "sketch-recall", Title: fmt.Sprintf("Approximate top-10 recall against the Count-Min sketch's width (hashtags, %d events, median of %d data seeds)", events, n),
		XLabel: "sketch width (counters per row; depth 4)", YLabel: "top-10 recall", XScale: ScaleLog, YScale: ScaleLinear,
		Refs: []RefLine{VLine("default width", float64(dataflow.DefaultSketchWidth)), HLine("recall 1", 1)}}
	line := Line{Label: "recordstream/at-most-once"}
	for _, w := range widths {
		wl, err := Overrides{SketchWidth: w}.Workload(approx)
		if err != nil {
			res.Table.add("2 approximation, sketch sweep", approx.Name, "recordstream/at-most-once", "-", "-", "-", "-", "-", errText(err))
			continue
		}
		var recall []float64
		var check string
		for i := range n {
			rep, err := trial{workload: wl, runtime: "recordstream", flags: rsFlags, data: DataSpec{Events: events, Seed: uint64(i + 1)}, timeout: time.Minute}.do(ctx, progress)
			if err != nil {
				check = errText(err)
				recall = nil
				break
			}
			recall = append(recall, topNRecall(exacts[i], rep.Outcome.Results))
			if i == 0 || !rep.Check.OK() {
				check = rep.Check.String()
			}
		}
		r := spreadOf(recall)
		if r.N > 0 {
			o.SketchRecall[w] = r
			line.Points = append(line.Points, metrics.Point{T: float64(w), V: r.Median})
		}
		// The sketch's counters are uint32, width x depth per window
		// and key.
		bytes := w * dataflow.DefaultSketchDepth * 4
		res.Table.add("2 approximation, sketch sweep", approx.Name, "recordstream/at-most-once", fmt.Sprintf("width %d (%d B of counters per window and prefix)", w, bytes), "-", "-", "recall "+r.String(), "-", check)
	}
	fig.Lines = append(fig.Lines, line)
	res.Series = append(res.Series, fig)
	res.Notes = append(res.Notes, fmt.Sprintf("Sketch sweep: hashtag-approx-topn with Overrides.SketchWidth %v (depth %d), %d events, data seeds 1-%d (one repetition per seed), recall against the exact top-10 of the same seed computed by the reference runner, median [min-max]. The counters' memory is width x depth x 4 bytes per window and prefix, computed, not measured. The sketch's answer is a function of the input (any order, batches or tasks give the reference's, the last column); a narrow sketch's differs from the exact top-N.", widths, dataflow.DefaultSketchDepth, events, n))
}

// topNRecall is the share of the exact top-N entries (value=count lists)
// that the approximate lists also name, over every window and key.
func topNRecall(exact, approx []dataflow.Result) float64 {
	type wk struct {
		w dataflow.Window
		k string
	}
	names := func(v dataflow.Value) []string {
		var out []string
		for _, e := range strings.Split(string(v.AppendText(nil)), ",") {
			if i := strings.LastIndexByte(e, '='); i > 0 {
				out = append(out, e[:i])
			}
		}
		return out
	}
	ap := map[wk][]string{}
	for _, r := range approx {
		ap[wk{r.Window, r.Key}] = names(r.Value)
	}
	var hit, total int
	for _, r := range exact {
		got := ap[wk{r.Window, r.Key}]
		for _, n := range names(r.Value) {
			total++
			if slices.Contains(got, n) {
				hit++
			}
		}
	}
	if total == 0 {
		return math.NaN()
	}
	return float64(hit) / float64(total)
}

// ---- L9/L10 time-domains ----

// timeDomainsOutcome is the four approaches' runs, keyed by approach label,
// the late share (%) of the watermark-bound sweep, keyed by bound, and the
// approximate top-N's recall of the sketch-width sweep, keyed by width.
type timeDomainsOutcome struct {
	Approaches map[string]runEnd
	// Recall is the approximate top-N's recall against the exact top-N at
	// the workload's own width (NaN when not measured); reported, not
	// judged (the sweep is).
	Recall float64
	// LateShare is the paced sweep's measured late share (%) per bound,
	// Expected the share expectedLateShare computes for it from the
	// generator's delay distribution, ExpectedAtLag the same with the
	// measured watermark lag beyond the bound (WatermarkLag, ms; reported
	// beside the rule). LateFailed is why a bound's trial failed.
	LateShare     map[time.Duration]spread
	Expected      map[time.Duration]float64
	ExpectedAtLag map[time.Duration]float64
	WatermarkLag  spread
	LateFailed    map[time.Duration]string
	// Moved is the share (%) of records whose processing-time window is
	// not their event time's, per trial label (procDelayed, procInOrder);
	// ProcRuns is how those runs ended.
	Moved    map[string]spread
	ProcRuns map[string]runEnd
	// SketchRecall is the recall per Count-Min width (counters per row),
	// one figure per repetition; DefaultWidth is the widest, the default.
	SketchRecall map[int]spread
	DefaultWidth int
}

// sketchFullRecall is the recall the default width must reach in every
// repetition to count as 1: rounding of a few ties aside, every entry.
const sketchFullRecall = 0.99

// verdictSketch judges the sketch-width sweep: recall below 1 at the
// smallest width in every repetition, at least [sketchFullRecall] at the
// default in every repetition, and no wider width below a narrower one
// outside the spread (monotone).
func verdictSketch(o timeDomainsOutcome) Verdict {
	widths := slices.Sorted(maps.Keys(o.SketchRecall))
	if len(widths) < 2 || widths[len(widths)-1] != o.DefaultWidth {
		return inconclusive("the sketch-width sweep has %d widths %v (need two or more, the widest the default %d)", len(widths), widths, o.DefaultWidth)
	}
	var pts []string
	for _, w := range widths {
		r := o.SketchRecall[w]
		if !r.enough() {
			return inconclusive("sketch width %d has %d repetitions (need %d)", w, r.N, minReps)
		}
		pts = append(pts, fmt.Sprintf("%d: %s", w, r))
	}
	small, full := o.SketchRecall[widths[0]], o.SketchRecall[o.DefaultWidth]
	desc := "recall by sketch width " + strings.Join(pts, ", ")
	for i := 1; i < len(widths); i++ {
		if lo, hi := o.SketchRecall[widths[i-1]], o.SketchRecall[widths[i]]; hi.below(lo) {
			return inconclusive("%s: not monotone, width %d recalls less than width %d outside the spread", desc, widths[i], widths[i-1])
		}
	}
	switch {
	case small.Min >= 1:
		return doesNotHold("%s: even %d counters per row miss no top-N entry, so the approximation's error is not shown", desc, widths[0])
	case full.below(small):
		return doesNotHold("%s: the default width recalls less than width %d", desc, widths[0])
	case small.Max < 1 && full.Min >= sketchFullRecall:
		return holds("%s: below 1 at %d counters per row, %s at the default %d", desc, widths[0], full, o.DefaultWidth)
	}
	return inconclusive("%s: need recall below 1 at width %d and at least %.2f at %d in every repetition", desc, widths[0], sketchFullRecall, o.DefaultWidth)
}

// verdictTimeDomains combines four parts: every approach matches the
// reference and a tighter watermark drops more ([verdictApproaches]), the
// late share follows the curve expected from the delay distribution
// ([verdictLateCurve]), processing-time windows move delayed records into
// other windows ([verdictProcTime]), and the sketch's recall falls below 1
// at a small width ([verdictSketch]). It holds when all hold and does not
// hold when one does not.
func verdictTimeDomains(o timeDomainsOutcome) Verdict {
	parts := []Verdict{verdictApproaches(o), verdictLateCurve(o), verdictProcTime(o), verdictSketch(o)}
	var not, inc, ok []string
	for _, v := range parts {
		switch v.Kind {
		case DoesNotHold:
			not = append(not, v.Explanation)
		case Inconclusive:
			inc = append(inc, v.Explanation)
		default:
			ok = append(ok, v.Explanation)
		}
	}
	tail := ""
	if len(ok) > 0 {
		tail = "; shown: " + strings.Join(ok, "; ")
	}
	switch {
	case len(not) > 0:
		return doesNotHold("%s%s", strings.Join(not, "; "), tail)
	case len(inc) > 0:
		return inconclusive("%s%s", strings.Join(inc, "; "), tail)
	}
	return holds("%s", strings.Join(ok, "; "))
}

// verdictApproaches judges the approaches and the watermark-bound sweep.
func verdictApproaches(o timeDomainsOutcome) Verdict {
	var failed, differ []string
	for _, k := range sortedKeys(o.Approaches) {
		r := o.Approaches[k]
		switch {
		case r.Failed != "":
			failed = append(failed, k+": "+r.Failed)
		case !r.Exact:
			differ = append(differ, k+": "+r.Check)
		}
	}
	if len(differ) > 0 {
		return doesNotHold("approaches differ from the reference: %s", strings.Join(differ, "; "))
	}
	if len(failed) > 0 || len(o.Approaches) == 0 {
		return inconclusive("approaches failed: %s", strings.Join(failed, "; "))
	}
	bounds := slices.Sorted(maps.Keys(o.LateShare))
	if len(bounds) < 2 {
		return inconclusive("the watermark-bound sweep has %d bounds", len(bounds))
	}
	tight, loose := o.LateShare[bounds[0]], o.LateShare[bounds[len(bounds)-1]]
	if !tight.enough() || !loose.enough() {
		return inconclusive("the sweep's ends have %d and %d repetitions (need %d)", tight.N, loose.N, minReps)
	}
	desc := fmt.Sprintf("the late share is %s%% at bound %v and %s%% at bound %v", tight, bounds[0], loose, bounds[len(bounds)-1])
	switch {
	case loose.below(tight):
		return holds("all %d approaches match the reference; approximate top-N recall %.3f; %s: a tighter watermark drops more", len(o.Approaches), o.Recall, desc)
	case tight.below(loose):
		return doesNotHold("%s: the tighter watermark drops less", desc)
	}
	return inconclusive("all %d approaches match the reference, but %s: the difference lies inside the spread", len(o.Approaches), desc)
}

// ---- the paced watermark-bound sweep, its expected curve and traces ----

// lateSweepSpec is the paced watermark-bound sweep: data with a known
// disorder paced at Rate events per second (event time follows the wall
// clock) for Span, counted in fixed windows of Window at each bound.
type lateSweepSpec struct {
	Skew     datasets.Skew
	Window   time.Duration
	Lateness time.Duration
	Span     time.Duration
	Rate     float64
	Bounds   []time.Duration
	// TraceBound is the bound of the traced run (the scatter and the
	// watermark lag), which counts in windows of TraceWindow so that panes,
	// and the watermarks they carry, come often.
	TraceBound, TraceWindow time.Duration
	// WatermarkInterval is recordstream's processing time between the
	// spouts' watermarks (Flink's autoWatermarkInterval).
	WatermarkInterval time.Duration
}

// lateSweepFor is the sweep of a mode: bounds from 0 to past the largest
// delay.
func lateSweepFor(quick bool) lateSweepSpec {
	if quick {
		return lateSweepSpec{Skew: datasets.Skew{OutOfOrder: 0.2, Delay: 400 * time.Millisecond}, Window: 200 * time.Millisecond,
			Span: time.Second, Rate: 20_000, TraceBound: 100 * time.Millisecond, TraceWindow: 20 * time.Millisecond, WatermarkInterval: 200 * time.Millisecond,
			Bounds: []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond}}
	}
	return lateSweepSpec{Skew: datasets.Skew{OutOfOrder: 0.2, Delay: time.Second}, Window: 500 * time.Millisecond,
		Span: 4 * time.Second, Rate: 25_000, TraceBound: 250 * time.Millisecond, TraceWindow: 50 * time.Millisecond, WatermarkInterval: 200 * time.Millisecond,
		Bounds: []time.Duration{0, 100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, 750 * time.Millisecond, 1000 * time.Millisecond, 1250 * time.Millisecond}}
}

// expectedLateShare is the share (%) of records a watermark of the given
// bound drops as late, from the generator's disorder model (datasets.Skew:
// a share OutOfOrder delayed uniformly by 0..Delay whole milliseconds, a
// share Late by LateDelay-LateDelay/2..LateDelay) under dataflow's rule
// I4/I5: a record is late when, at its arrival, the watermark W >= e + L
// for its window [s, e). At a paced rate event time follows processing
// time, so a record of event time t and delay d arrives when the largest
// event time seen is t + d, and W = t + d - bound - lag, where lag is how
// far the watermark in effect trails the newest record. It is late when
// d >= (e - t) + L + bound + lag. Event times are spread evenly over
// [0, span) ms and windows of size window are aligned to 0; a delay past
// the end of the data is cut there (the held records arrive at the end).
func expectedLateShare(sk datasets.Skew, window, lateness, span, bound, lag time.Duration) float64 {
	size, total := window.Milliseconds(), span.Milliseconds()
	if size <= 0 || total <= 0 {
		return math.NaN()
	}
	k0 := (lateness + bound + lag).Milliseconds()
	// share of a uniform delay on [lo, hi] ms that is at least k.
	atLeast := func(lo, hi, k int64) float64 {
		if hi < lo || k > hi {
			return 0
		}
		return float64(hi-max(k, lo)+1) / float64(hi-lo+1)
	}
	dMax, lateMax := sk.Delay.Milliseconds(), sk.LateDelay.Milliseconds()
	var sum float64
	for t := range total {
		k := size - t%size + k0 // (e - t) + L + bound + lag
		rest := total - 1 - t   // the largest delay before the data ends
		if rest < k {
			continue
		}
		// A delay past rest arrives at the end, when W = t + rest - bound
		// - lag: late exactly when rest >= k, as is every delay >= k, so
		// the cut changes nothing once rest >= k.
		sum += sk.OutOfOrder*atLeast(0, dMax, k) + sk.Late*atLeast(lateMax-lateMax/2, lateMax, k)
	}
	return 100 * sum / float64(total)
}

// countVariant counts the ysb records of each event type (no filter: every
// record reaches the window operator) in fixed windows of size, in event
// time with the given watermark bound and lateness, or in processing time
// when procTime is set.
func countVariant(name string, size, bound, lateness time.Duration, procTime bool) *Workload {
	w := mustWorkload("ysb")
	w.Name = name
	w.Description = fmt.Sprintf("ysb records per event type in %v windows", size)
	w.Pipeline = func(map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
		in, err := datasetSchema("ysb")
		if err != nil {
			return nil, err
		}
		a := dataflow.Aggregation{Key: []string{"event_type"}, Window: dataflow.FixedWindows(size), Aggs: []dataflow.Agg{dataflow.Count()}, Domain: dataflow.ProcessingTime}
		if !procTime {
			a = eventTime(a)
			a.Watermark = dataflow.WatermarkPolicy{MaxOutOfOrderness: bound}
			a.AllowedLateness = lateness
		}
		p := dataflow.NewPipeline(name, in).Aggregate(a)
		return p, p.Validate()
	}
	return w
}

// Labels of the processing-time comparison's trials.
const (
	procDelayed = "processing-time windows, delayed ingestion"
	procInOrder = "processing-time windows, in-order ingestion (control)"
)

// runLateSweep runs the paced watermark-bound sweep sw on recordstream, n
// repetitions (every bound of a repetition at once, each paced, so the
// sweep takes about n x span), a traced run, the processing-time windows on
// the same delayed data and on in-order data, and fills o, res's table,
// figures and notes.
func runLateSweep(ctx context.Context, sw lateSweepSpec, n int, res *ExperimentResult, o *timeDomainsOutcome, progress func(string)) {
	flags := RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2, WatermarkInterval: sw.WatermarkInterval}
	events := int64(sw.Rate * sw.Span.Seconds())
	data := DataSpec{Events: events, Rate: sw.Rate, Skew: sw.Skew}
	var mu sync.Mutex
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		if progress != nil {
			progress(s)
		}
	}
	type job struct {
		key   string
		bound time.Duration // of the sweep's jobs; -1 for the others
		once  bool          // run in the first repetition only
		t     trial
	}
	var jobs []job
	for _, b := range sw.Bounds {
		jobs = append(jobs, job{key: "bound " + b.String(), bound: b, t: trial{workload: countVariant("late-share-"+b.String(), sw.Window, b, sw.Lateness, false), runtime: "recordstream", flags: flags, data: data, timeout: time.Minute}})
	}
	const traceKey = "trace"
	jobs = append(jobs, job{key: traceKey, bound: -1, once: true, t: trial{workload: countVariant("late-share-trace", sw.TraceWindow, sw.TraceBound, sw.Lateness, false), runtime: "recordstream", flags: flags, data: data, opts: Options{Trace: true}, timeout: time.Minute}})
	inOrder := data
	inOrder.Skew, inOrder.InOrder = datasets.Skew{}, true
	for _, j := range []job{{key: procDelayed, t: trial{data: data}}, {key: procInOrder, t: trial{data: inOrder}}} {
		j.bound = -1
		j.t.workload, j.t.runtime, j.t.flags, j.t.timeout = countVariant("proc-time-count", sw.Window, 0, 0, true), "recordstream", flags, time.Minute
		j.t.opts.Trace = true
		jobs = append(jobs, j)
	}
	reports := map[string][]*Report{}
	failed := map[string]string{}
	for i := range n {
		out := make([]*Report, len(jobs))
		errs := make([]error, len(jobs))
		var wg sync.WaitGroup
		for k, j := range jobs {
			if failed[j.key] != "" || (j.once && i > 0) {
				continue
			}
			t := j.t
			t.data.Seed = uint64(i + 1)
			wg.Go(func() { out[k], errs[k] = t.do(ctx, say) })
		}
		wg.Wait()
		for k, j := range jobs {
			switch {
			case failed[j.key] != "" || (j.once && i > 0):
			case errs[k] != nil:
				failed[j.key] = trialStatus(errs[k])
			default:
				reports[j.key] = append(reports[j.key], out[k])
			}
		}
	}

	// The late share against the bound, beside the expected curve.
	o.LateShare, o.Expected, o.LateFailed = map[time.Duration]spread{}, map[time.Duration]float64{}, map[time.Duration]string{}
	var lag spread
	var traced *Report
	if r := reports[traceKey]; len(r) > 0 {
		traced = r[0]
		lag = spreadOf(watermarkExtraLag(traced.Trace, sw.TraceBound))
		o.WatermarkLag = lag
	}
	o.ExpectedAtLag = map[time.Duration]float64{}
	measured := Line{Label: "measured, recordstream/at-most-once (median)"}
	lo, hi := Line{Label: "measured, min of repetitions"}, Line{Label: "measured, max of repetitions"}
	expected := Line{Label: "expected from the delay distribution (watermark = newest event time - bound)"}
	atLag := Line{Label: fmt.Sprintf("expected with the watermark a further %s ms behind (trace median)", figureCell(lag.Median))}
	for _, j := range jobs {
		if j.bound < 0 {
			continue
		}
		b := j.bound
		e := expectedLateShare(sw.Skew, sw.Window, sw.Lateness, sw.Span, b, 0)
		o.Expected[b] = e
		expected.Points = append(expected.Points, metrics.Point{T: b.Seconds() * 1000, V: e})
		if lag.N > 0 {
			el := expectedLateShare(sw.Skew, sw.Window, sw.Lateness, sw.Span, b, time.Duration(lag.Median*float64(time.Millisecond)))
			o.ExpectedAtLag[b] = el
			atLag.Points = append(atLag.Points, metrics.Point{T: b.Seconds() * 1000, V: el})
		}
		reps := reports[j.key]
		if f := failed[j.key]; f != "" {
			o.LateFailed[b] = f
			res.Table.add("4 event-time, paced bound sweep", "late-share (ysb)", "recordstream/at-most-once", b.String(), "-", "-", "-", "-", f)
			continue
		}
		share := spreadOf(figure(reps, func(r *Report) float64 {
			return 100 * float64(r.Check.DroppedLate) / float64(max(r.Summary.Events, 1))
		}))
		o.LateShare[b] = share
		measured.Points = append(measured.Points, metrics.Point{T: b.Seconds() * 1000, V: share.Median})
		lo.Points = append(lo.Points, metrics.Point{T: b.Seconds() * 1000, V: share.Min})
		hi.Points = append(hi.Points, metrics.Point{T: b.Seconds() * 1000, V: share.Max})
		ch := reps[0].Check
		res.Table.add("4 event-time, paced bound sweep", "late-share (ysb)", reps[0].Runner, b.String(), reps[0].Summary.Results, lateText(ch),
			fmt.Sprintf("%s (expected %s)", share, cell(e)), ch.LateWindows, allExact(reps))
		if b >= sw.Skew.Delay {
			// Past the largest delay: event-time windows equal the full
			// reference answer.
			full := true
			for _, r := range reps {
				full = full && r.Check.OK() && r.Check.DroppedLate == 0
			}
			o.Approaches["4 event-time, bound past the largest delay ("+b.String()+")"] = runEnd{Exact: full, Check: fmt.Sprintf("%s, %d late drops", ch, ch.DroppedLate)}
		}
	}
	fig := Series{Name: "late-share", Title: fmt.Sprintf("Late records dropped against the watermark bound (paced, %s of ysb at %s events/s, %v windows, %d repetitions)", sw.Span, cell(sw.Rate), sw.Window, n),
		XLabel: "watermark bound (ms)", YLabel: "late records dropped (%)", XScale: ScaleLinear, YScale: ScaleLinear,
		Refs:  []RefLine{VLine("largest delay", float64(sw.Skew.Delay.Milliseconds()))},
		Lines: []Line{measured, lo, hi, expected}}
	if lag.N > 0 {
		fig.Lines = append(fig.Lines, atLag)
	}
	res.Series = append(res.Series, fig)

	// The trace: event time against processing time, the watermark lag.
	if f := failed[traceKey]; f != "" {
		res.Table.add("4 event-time, traced run", "late-share (ysb)", "recordstream/at-most-once", sw.TraceBound.String(), "-", "-", "-", "-", f)
	}
	if traced != nil {
		ch := traced.Check
		res.Table.add("4 event-time, traced run", "late-share (ysb)", traced.Runner, sw.TraceBound.String(), traced.Summary.Results, lateText(ch),
			cell(100*float64(ch.DroppedLate)/float64(max(traced.Summary.Events, 1))), ch.LateWindows, ch.String())
		scatter, wm := eventProcScatter(traced.Trace, 3000)
		res.Series = append(res.Series, Series{Name: "event-vs-processing", Title: fmt.Sprintf("Event time against processing time per record, with the watermark (bound %v, %s%% of records delayed up to %v; a sample of records)", sw.TraceBound, figureCell(100*sw.Skew.OutOfOrder), sw.Skew.Delay),
			XLabel: "processing (ingest) time since the first record (s)", YLabel: "event time since the first record (s)", XScale: ScaleLinear, YScale: ScaleLinear,
			Lines: []Line{{Label: "records", Points: scatter, Scatter: true}, {Label: "watermark (at pane emissions)", Points: wm}}})
		lagLine := watermarkLagSeries(traced.Trace)
		res.Series = append(res.Series, Series{Name: "watermark-lag", Title: fmt.Sprintf("Watermark lag behind processing time over the run (bound %v)", sw.TraceBound),
			XLabel: "processing time since the first record (s)", YLabel: "processing time - watermark (ms)", XScale: ScaleLinear, YScale: ScaleLinear,
			Refs:  []RefLine{HLine("bound", float64(sw.TraceBound.Milliseconds()))},
			Lines: []Line{{Label: "recordstream/at-most-once", Points: lagLine}}})
	}

	// Processing-time windows under delayed ingestion.
	o.Moved, o.ProcRuns = map[string]spread{}, map[string]runEnd{}
	for _, key := range []string{procDelayed, procInOrder} {
		if f := failed[key]; f != "" {
			o.ProcRuns[key] = runEnd{Failed: f}
			res.Table.add(key, "proc-time-count (ysb)", "recordstream/at-most-once", "-", "-", "-", "-", "-", f)
			continue
		}
		reps := reports[key]
		exact := true
		for _, r := range reps {
			exact = exact && r.Check.OK()
		}
		o.ProcRuns[key] = runEnd{Exact: exact, Check: reps[0].Check.String()}
		moved := spreadOf(figure(reps, func(r *Report) float64 {
			m, total := movedRecords(r.Trace, sw.Window)
			return 100 * float64(m) / float64(max(total, 1))
		}))
		o.Moved[key] = moved
		diff, counted := answerDifference(reps[0].Outcome.Results, reps[0].Trace, sw.Window)
		res.Table.add(key, "proc-time-count (ysb)", reps[0].Runner, "-", reps[0].Summary.Results, "-",
			fmt.Sprintf("records in another window than their event time's: %s%%; the answer is %d of %d records from the event-time answer", moved, diff, counted), "-", allExact(reps))
	}
	res.Notes = append(res.Notes, fmt.Sprintf("Paced bound sweep: %d events per run at %s events/s (event time follows the wall clock), %s%% of the records delayed uniformly by 0-%v (the generator's Skew), records per event type in %v fixed windows, allowed lateness %v, on recordstream at-most-once with parallelism 2; every bound of a repetition runs at once, %d repetitions (data seeds 1-%d). The spouts send their watermark every %v of processing time (Config.WatermarkInterval, Flink's autoWatermarkInterval) and whenever they have read all the log holds. The expected curve is computed from the delay distribution (expectedLateShare): late when the delay is at least the distance to the window end plus lateness plus bound; the second curve adds the watermark lag beyond the bound measured on a traced run (bound %v, %v windows so that panes, which carry the watermark they fired at, come often; data seed 1; median [min-max] over its panes of emit time - watermark - bound, the emit time mapped onto event time by the log's shift). The processing-time rows count, from the trace's record rows, the records whose ingest time falls in another window than their event time (mapped onto the wall clock by the log's shift), and how far the runtime's processing-time answer is from the event-time answer on the same clock (half the sum over windows of the difference of their totals, first repetition); the processing-time answer matches the reference over ingest times (last column).",
		events, cell(sw.Rate), figureCell(100*sw.Skew.OutOfOrder), sw.Skew.Delay, sw.Window, sw.Lateness, n, n, sw.WatermarkInterval, sw.TraceBound, sw.TraceWindow))
}

// traceOrigin is the first record's ingest time (ns) and the event-time
// shift (ms) of a trace; ok is false without record rows.
func traceOrigin(rows []datasets.TraceRow) (t0 int64, shift int64, ok bool) {
	for _, r := range rows {
		if r.Kind == datasets.TraceRecord && (!ok || r.IngestNanos < t0) {
			t0, shift, ok = r.IngestNanos, r.EventTimeShiftMs, true
		}
	}
	return t0, shift, ok
}

// firedPanes are the trace's pane rows that carry a watermark of the run
// (not the start's MinTime, nor the end of input's MaxTime), by emit time.
func firedPanes(rows []datasets.TraceRow) []datasets.TraceRow {
	var out []datasets.TraceRow
	for _, r := range rows {
		if r.Kind == datasets.TracePane && r.WatermarkMs != int64(dataflow.MinTime) && r.WatermarkMs != int64(dataflow.MaxTime) && r.PaneTiming != dataflow.PaneMerged {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b datasets.TraceRow) int { return cmp.Compare(a.EmitNanos, b.EmitNanos) })
	return out
}

// watermarkLagSeries is, at each pane emission, how far the watermark the
// pane fired at trails the processing time of its emission (ms of event
// time, the processing time mapped by the log's shift), against the
// processing time since the first record (s).
func watermarkLagSeries(rows []datasets.TraceRow) metrics.Series {
	t0, shift, ok := traceOrigin(rows)
	if !ok {
		return nil
	}
	var out metrics.Series
	for _, p := range firedPanes(rows) {
		now := dataflow.FloorDiv(p.EmitNanos, 1e6) - shift
		out = append(out, metrics.Point{T: float64(p.EmitNanos-t0) / 1e9, V: float64(now - p.WatermarkMs)})
	}
	return out
}

// watermarkExtraLag is the watermark lag beyond the bound at each pane
// emission (ms; [watermarkLagSeries] minus bound).
func watermarkExtraLag(rows []datasets.TraceRow, bound time.Duration) []float64 {
	var out []float64
	for _, p := range watermarkLagSeries(rows) {
		out = append(out, p.V-float64(bound.Milliseconds()))
	}
	return out
}

// eventProcScatter is up to limit records of a trace as points (processing
// time since the first record, event time on the same clock, both s), an
// even sample in trace order, and the watermark as a line over the pane
// emissions.
func eventProcScatter(rows []datasets.TraceRow, limit int) (records, watermark metrics.Series) {
	t0, shift, ok := traceOrigin(rows)
	if !ok || limit <= 0 {
		return nil, nil
	}
	t0ms := float64(t0) / 1e6
	var n int
	for _, r := range rows {
		if r.Kind == datasets.TraceRecord {
			n++
		}
	}
	every := max(1, (n+limit-1)/limit)
	var i int
	for _, r := range rows {
		if r.Kind != datasets.TraceRecord {
			continue
		}
		if i%every == 0 {
			records = append(records, metrics.Point{T: float64(r.IngestNanos-t0) / 1e9, V: (float64(r.EventTimeMs+shift) - t0ms) / 1e3})
		}
		i++
	}
	slices.SortStableFunc(records, func(a, b metrics.Point) int { return cmp.Compare(a.T, b.T) })
	for _, p := range firedPanes(rows) {
		watermark = append(watermark, metrics.Point{T: float64(p.EmitNanos-t0) / 1e9, V: (float64(p.WatermarkMs+shift) - t0ms) / 1e3})
	}
	return records, watermark
}

// movedRecords counts the trace's records whose processing-time window
// (of their ingest time, fixed windows of size from 0) is not the window of
// their event time on the same clock (event time + the log's shift), and
// the records.
func movedRecords(rows []datasets.TraceRow, size time.Duration) (moved, total int) {
	ms := size.Milliseconds()
	for _, r := range rows {
		if r.Kind != datasets.TraceRecord {
			continue
		}
		total++
		if dataflow.FloorDiv(dataflow.FloorDiv(r.IngestNanos, 1e6), ms) != dataflow.FloorDiv(r.EventTimeMs+r.EventTimeShiftMs, ms) {
			moved++
		}
	}
	return moved, total
}

// lateCurveTolerance is how far (percentage points) a bound's measured late
// share may lie from the expected curve and still follow it.
const lateCurveTolerance = 2.0

// verdictLateCurve judges the paced sweep against the expected curve: holds
// when at every bound the median late share lies within
// [lateCurveTolerance] of the expected share, does not hold when at two or
// more bounds every repetition lies beyond it on the same side, and is
// inconclusive otherwise (one bound off, a failed trial, too few
// repetitions).
func verdictLateCurve(o timeDomainsOutcome) Verdict {
	if len(o.LateFailed) > 0 {
		var f []string
		for _, b := range slices.Sorted(maps.Keys(o.LateFailed)) {
			f = append(f, fmt.Sprintf("bound %v: %s", b, o.LateFailed[b]))
		}
		return inconclusive("the paced bound sweep has failed trials: %s", strings.Join(f, "; "))
	}
	bounds := slices.Sorted(maps.Keys(o.Expected))
	if len(bounds) < 3 {
		return inconclusive("the paced bound sweep has %d bounds with an expected share (need 3)", len(bounds))
	}
	var pts []string
	var above, below, off []time.Duration
	maxDev, maxDevLag := 0.0, math.NaN()
	for _, b := range bounds {
		m, e := o.LateShare[b], o.Expected[b]
		if !m.enough() {
			return inconclusive("bound %v has %d repetitions (need %d)", b, m.N, minReps)
		}
		pts = append(pts, fmt.Sprintf("%v: %s%% (expected %s)", b, m, cell(e)))
		maxDev = max(maxDev, math.Abs(m.Median-e))
		if el, ok := o.ExpectedAtLag[b]; ok {
			maxDevLag = max(nanZero(maxDevLag), math.Abs(m.Median-el))
		}
		switch {
		case m.Min > e+lateCurveTolerance:
			above = append(above, b)
		case m.Max < e-lateCurveTolerance:
			below = append(below, b)
		case math.Abs(m.Median-e) > lateCurveTolerance:
			off = append(off, b)
		}
	}
	desc := fmt.Sprintf("late share by bound %s; largest distance of a median from the expected curve %s points", strings.Join(pts, ", "), cell(maxDev))
	if o.WatermarkLag.N > 0 && !math.IsNaN(maxDevLag) {
		desc += fmt.Sprintf(" (%s from the curve at the measured watermark lag beyond the bound, %s ms over the traced panes)", cell(maxDevLag), o.WatermarkLag)
	}
	switch {
	case len(above) >= 2 || len(below) >= 2:
		return doesNotHold("%s: every repetition lies more than %s points above the expected share at bounds %v and below it at %v", desc, cell(lateCurveTolerance), above, below)
	case len(above)+len(below)+len(off) == 0:
		return holds("%s: within %s points of the expected curve at every bound", desc, cell(lateCurveTolerance))
	}
	return inconclusive("%s: beyond %s points of the expected curve at bounds %v", desc, cell(lateCurveTolerance), slices.Concat(above, below, off))
}

func nanZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// verdictProcTime judges processing-time windows under delayed ingestion:
// holds when both processing-time runs match the reference over ingest
// times and the share of records in another window than their event
// time's is above the in-order control's in every repetition; does not hold
// when a run differs from the reference or the delayed share is at most the
// control's in every repetition; inconclusive inside the spread or on a
// failed trial.
func verdictProcTime(o timeDomainsOutcome) Verdict {
	if f := failedRuns(o.ProcRuns, func(r runEnd) string { return r.Failed }); len(f) > 0 {
		return inconclusive("processing-time trials failed: %s", strings.Join(f, "; "))
	}
	for _, k := range sortedKeys(o.ProcRuns) {
		if r := o.ProcRuns[k]; !r.Exact {
			return doesNotHold("%s: the answer differs from the reference over ingest times: %s", k, r.Check)
		}
	}
	d, c := o.Moved[procDelayed], o.Moved[procInOrder]
	if !d.enough() || !c.enough() {
		return inconclusive("the processing-time comparison has %d and %d repetitions (need %d)", d.N, c.N, minReps)
	}
	desc := fmt.Sprintf("records in another processing-time window than their event time's: %s%% with delayed ingestion, %s%% in order", d, c)
	switch {
	case c.below(d):
		return holds("%s", desc)
	case d.Max <= c.Min:
		return doesNotHold("%s: delayed ingestion moves no more records than in-order ingestion", desc)
	}
	return inconclusive("%s: the difference lies inside the spread", desc)
}

// answerDifference is how many records a processing-time count answer
// (results: windows in ms of the wall clock) puts in other windows than
// the event-time answer on the same clock, which it computes from the
// trace's record rows (event time + the log's shift, fixed windows of
// size): half the sum over windows of the difference of the windows'
// totals over keys, and the records the results count.
func answerDifference(results []dataflow.Result, rows []datasets.TraceRow, size time.Duration) (diff, counted int64) {
	ms := size.Milliseconds()
	delta := map[int64]int64{}
	for _, r := range results {
		n := r.Value.Int64()
		delta[int64(r.Window.Start)] += n
		counted += n
	}
	for _, r := range rows {
		if r.Kind == datasets.TraceRecord {
			delta[dataflow.FloorDiv(r.EventTimeMs+r.EventTimeShiftMs, ms)*ms]--
		}
	}
	var sum int64
	for _, d := range delta {
		sum += max(d, -d)
	}
	return sum / 2, counted
}
