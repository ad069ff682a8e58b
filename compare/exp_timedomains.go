package compare

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/metrics"
)

// timeDomainsExperiment is the time-domains experiment's specification.
func timeDomainsExperiment() *Experiment {
	return &Experiment{
		Name:      "time-domains",
		Claim:     "L9/L10",
		Statement: "Four approaches to time (time-agnostic, approximation, processing-time windows, event-time windows); event time needs a completeness bound, and a tighter watermark drops more late data.",
		Rule:      "Holds when every approach matches the reference, the late share at the tightest watermark bound is above the loosest bound's, ranges apart, and the approximate top-N's recall is below 1 at the smallest sketch width and at least 0.99 at the default in every repetition; does not hold when an approach differs, the order is reversed, or the smallest sketch misses nothing; inconclusive inside the spread, when recall is not monotone in the width, or on a failed trial.",
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
	// The watermark bound sweep: the same data, tighter bounds.
	bounds := []time.Duration{4 * time.Second, 2 * time.Second, time.Second, 500 * time.Millisecond, 100 * time.Millisecond, 0}
	sweepEvents := pick[int64](quick, 300_000, 1_000_000)
	sweepRuns := reps(quick)
	fig := Series{Name: "late-share", Title: "Late records dropped against the watermark bound (YSB, 1 s windows, median of repetitions)", XLabel: "watermark bound (s)", YLabel: "late records dropped (%)"}
	for _, e := range []SuiteEntry{{Runtime: "recordstream", Flags: rsFlags}, {Runtime: "microbatch", Flags: RuntimeFlags{Mode: "event-time", BatchInterval: time.Second}}} {
		line := Line{Label: configName(e)}
		for _, b := range bounds {
			w := ysbVariant("ysb-bound-"+b.String(), dataflow.FixedWindows(time.Second), b)
			// The late share depends on how partitions interleave, so
			// each bound is repeated.
			reports, err := trial{workload: w, runtime: e.Runtime, flags: e.Flags, data: DataSpec{Events: sweepEvents, EventRate: 50_000}, timeout: time.Minute}.repeat(ctx, sweepRuns, progress)
			if err != nil {
				res.Table.add("4 event-time, bound sweep", "ysb", configName(e), b.String(), "-", "-", "-", "-", errText(err))
				if e.Runtime == "recordstream" {
					o.Approaches["4 event-time, bound "+b.String()] = runEnd{Failed: trialStatus(err)}
				}
				continue
			}
			share := spreadOf(figure(reports, func(r *Report) float64 {
				return 100 * float64(r.Check.DroppedLate) / float64(max(r.Summary.Events, 1))
			}))
			rep := reports[0]
			ch := rep.Check
			res.Table.add("4 event-time, bound sweep", "ysb", rep.Runner, b.String(), rep.Summary.Results, lateText(ch), share.String(), ch.LateWindows, allExact(reports))
			line.Points = append(line.Points, metrics.Point{T: b.Seconds(), V: share.Median})
			if e.Runtime == "recordstream" {
				o.LateShare[b] = share
			}
		}
		fig.Lines = append(fig.Lines, line)
	}
	res.Series = append(res.Series, fig)
	res.Notes = append(res.Notes, fmt.Sprintf("%d events per run on recordstream at-most-once (no faults, so every difference would be a defect); the bound sweep (%d events, 50,000 events per second of event time, 1 s windows, %d repetitions per bound; the late share column is median [min-max], the other columns the first repetition) uses the built-in disorder (5%% of records delayed up to 2 s). recordstream's spouts send a watermark every 4,096 records; microbatch advances the watermark between batches, and a log filled before the run is cut into few batches. The verdict compares the recordstream late share at the tightest and loosest bounds, and the sketch sweep's recall at its narrowest and default widths.", events, sweepEvents, sweepRuns))
	res.Verdict = verdictTimeDomains(o)
	return res
}

// runSketchSweep runs the approximate top-N at Count-Min widths from 4
// counters per row to the default, on a new data seed per repetition, and
// records each width's recall against the exact top-N of the same data
// (computed by the reference runner) in o, res's table and a figure.
func runSketchSweep(ctx context.Context, quick bool, res *ExperimentResult, o *timeDomainsOutcome, progress func(string)) {
	widths := []int{4, 16, 64, 256, dataflow.DefaultSketchWidth}
	events := pick[int64](quick, 100_000, 400_000)
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
	res.Notes = append(res.Notes, fmt.Sprintf("Sketch sweep: hashtag-approx-topn with Overrides.SketchWidth %v (depth %d), %d events, data seeds 1-%d (one repetition per seed), recall against the exact top-10 of the same seed computed by the reference runner, median [min-max]. The counters' memory is width x depth x 4 bytes per window and prefix, computed, not measured. A narrow sketch's candidates depend on arrival order, so its answer may differ from the reference's (the last column) as well as from the exact top-N.", widths, dataflow.DefaultSketchDepth, events, n))
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
	Recall    float64
	LateShare map[time.Duration]spread
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

// verdictTimeDomains combines three parts: every approach matches the
// reference, a tighter watermark drops more ([timeDomainsOutcome.LateShare]),
// and the sketch's recall falls below 1 at a small width
// ([verdictSketch]). It holds when all three hold and does not hold when
// one does not.
func verdictTimeDomains(o timeDomainsOutcome) Verdict {
	parts := []Verdict{verdictApproaches(o), verdictSketch(o)}
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
