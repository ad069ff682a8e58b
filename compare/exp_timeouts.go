package compare

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/weirlab/weir/internal/metrics"
)

// timeoutsExperiment is the timeouts experiment's specification.
func timeoutsExperiment() *Experiment {
	return &Experiment{
		Name:      "timeouts",
		Claim:     "L5.3",
		Statement: "Under backpressure slow processing looks like failure: tuples time out before they are acked and are replayed although nothing failed.",
		Rule: "The message timeout is swept from below to above the queueing delay measured by the control (a 30 s timeout: its longest tuple-tree completion time, median over repetitions). Three sub-claims, the verdict is the worst of them. " +
			"(1) Spurious timeouts: holds when every timeout below half the queueing delay times out and replays trees in every repetition, no tree fails, and the negative controls (the 30 s timeout and every timeout above the queueing delay) time out none; does not hold when the timeouts below it time out none; inconclusive when a trial hung or failed, a control timed out, trees failed, or repetitions disagree. " +
			"(2) Goodput collapse: holds when acked trees per second at the shortest timeout lie below the control's, outside the spread; does not hold when they lie above it; inconclusive inside the spread. " +
			"(3) Max spout pending as the remedy: with the shortest timeout and max spout pending sized so that the pending trees of all spout tasks take the slow sink half that timeout, holds when nothing times out in every repetition and goodput lies above unlimited pending's at the same timeout, outside the spread; does not hold when trees time out in every repetition; inconclusive otherwise.",
		Published: "Storm docs [P]: a tuple tree not finished within `topology.message.timeout.secs` (default 30 s) is failed and replayed. No clean published curve exists (papers.md, suggested reproduction 3); STORM-886 [P] and a practitioner report [S] (\"the spout went all out, and we ended up with a lot of failed tuples\") describe the effect qualitatively.",
		run:       runTimeouts,
	}
}

// ---- timeouts (L5.3) ----

// timeoutFractions are the swept timeouts as shares of the measured
// queueing delay: below it (Storm expires a tree between T and 2T after its
// emission, so T at most half the delay always expires delayed trees) and
// above it (the negative controls). Much shorter timeouts livelock: every
// replay waits in the same queue and times out again, and the run never
// ends (a quarter of the delay did on this machine), which a verdict can
// only call hung.
func timeoutFractions(quick bool) []float64 {
	if quick {
		return []float64{0.5, 2}
	}
	return []float64{0.4, 0.5, 0.75, 1, 2, 4}
}

// timeoutSlow is the slow sink's wait per record (Options.Slow).
const timeoutSlow = 200 * time.Microsecond

// timeoutPartitions is the log's partitions: one spout task each, and max
// spout pending is per spout task.
const timeoutPartitions = 4

func runTimeouts(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"trial", "message timeout", "timeout / queueing delay", "max spout pending", "finished", "failed", "timed out", "replayed", "acked trees/s (goodput)", "tree completion max ms", "events/s", "matches reference (every repetition)"}}}
	events := pick[int64](quick, 12_000, 30_000)
	limit := pick(quick, 10*time.Second, time.Minute)
	n := reps(quick)
	w := mustWorkload("grep")
	// Paced at four times the slow sink's capacity (about 16% of grep's
	// events reach it, each kept timeoutSlow): the offered load is far
	// above what the sink takes, so the queues fill and stay full.
	rate := 4 * (1 / timeoutSlow.Seconds()) / 0.16
	// Full mode adds windowed acking: YSB with 200 ms windows, whose trees
	// are acked once their windows fired and expired, paced at 40,000
	// events/s (about three times what its slow windowed step takes).
	windowed, err := Overrides{Window: 200 * time.Millisecond, WatermarkBound: 100 * time.Millisecond}.Workload(mustWorkload("ysb"))
	if err != nil {
		panic(err) // fixed, valid overrides of a built-in workload
	}
	const windowedRate = 40_000.0
	o := timeoutsOutcome{Runs: map[string]timeoutRun{}}
	reportsOf := map[string][]*Report{}
	// runOn runs one trial of workload w paced at rate; judged trials go
	// into the outcome.
	runOn := func(w *Workload, rate float64, judged bool, label string, timeout time.Duration, frac float64, pending int) timeoutRun {
		f := RuntimeFlags{Guarantee: "at-least-once", Parallelism: 1, MessageTimeout: timeout, MaxSpoutPending: pending}
		reports, err := trial{workload: w, runtime: "recordstream", flags: f, data: DataSpec{Events: events, Rate: rate, Partitions: timeoutPartitions}, opts: Options{Slow: timeoutSlow}, timeout: limit}.repeat(ctx, n, progress)
		counter := func(k string) spread {
			return spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Summary.Counters[k]) }))
		}
		r := timeoutRun{Timeout: timeout, Fraction: frac, Pending: pending, Failed: trialStatus(err), TimedOut: counter("timed_out"), Replayed: counter("replayed"), FailedTrees: counter("failed"),
			Goodput: spreadOf(figure(reports, func(r *Report) float64 {
				return float64(r.Summary.Counters["acked"]) / max(r.Summary.Seconds, 1e-9)
			})),
			CompleteMaxMs: spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Summary.Counters["complete_latency_max_us"]) / 1e3 })),
		}
		if judged {
			o.Runs[label] = r
			reportsOf[label] = reports
		}
		ratio, pend := "-", "unlimited"
		if frac > 0 {
			ratio = cell(frac)
		}
		if pending > 0 {
			pend = strconv.Itoa(pending)
		}
		if err != nil {
			res.Table.add(label, timeout.String(), ratio, pend, fmt.Sprintf("%d of %d: %s", len(reports), n, r.Failed), "-", "-", "-", "-", "-", "-", "-")
			return r
		}
		eps := spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond }))
		res.Table.add(label, timeout.String(), ratio, pend, fmt.Sprintf("%d of %d", len(reports), n), r.FailedTrees.String(), r.TimedOut.String(), r.Replayed.String(), r.Goodput.String(), r.CompleteMaxMs.String(), eps.String(), allExact(reports))
		return r
	}
	run := func(label string, timeout time.Duration, frac float64, pending int) timeoutRun {
		return runOn(w, rate, true, label, timeout, frac, pending)
	}
	ctl := run(timeoutControl, 30*time.Second, 0, 0)
	delay := time.Duration(ctl.CompleteMaxMs.Median * float64(time.Millisecond)).Round(time.Millisecond)
	o.QueueingDelay = delay
	if ctl.Failed != "" || delay <= 0 {
		res.Notes = append(res.Notes, "No timeout sweep: the control measured no queueing delay.")
		res.Verdict = verdictTimeouts(o)
		return res
	}
	fracs := timeoutFractions(quick)
	good := Series{Name: "goodput", Title: fmt.Sprintf("grep, at-least-once, slow sink: acked trees per second against the message timeout (queueing delay %v)", delay.Round(time.Millisecond)),
		XLabel: "message timeout (ms)", YLabel: "acked trees/s (median of repetitions)", Refs: []RefLine{VLine("queueing delay", float64(delay.Milliseconds()))}}
	line := Line{Label: "unlimited pending"}
	for _, f := range fracs {
		t := time.Duration(f * float64(delay)).Round(time.Millisecond)
		r := run(timeoutSweepLabel(f), t, f, 0)
		if r.Failed == "" {
			line.Points = append(line.Points, metrics.Point{T: float64(t.Milliseconds()), V: r.Goodput.Median})
		}
	}
	line.Points = append(line.Points, metrics.Point{T: float64((30 * time.Second).Milliseconds()), V: ctl.Goodput.Median})
	good.Lines = append(good.Lines, line)
	// The remedy: the shortest timeout, with at most as many pending trees
	// (over all spout tasks) as the sink serves in half of it.
	short := time.Duration(fracs[0] * float64(delay)).Round(time.Millisecond)
	pending := max(1, int(short/2/timeoutSlow)/timeoutPartitions)
	if r := run(timeoutRemedy, short, fracs[0], pending); r.Failed == "" {
		good.Lines = append(good.Lines, Line{Label: fmt.Sprintf("max spout pending %d", pending), Points: metrics.Series{{T: float64(short.Milliseconds()), V: r.Goodput.Median}}})
	}
	res.Series = append(res.Series, good)
	if reps := reportsOf[timeoutSweepLabel(fracs[0])]; len(reps) > 0 {
		s := reps[0].Outcome.Series
		over := Series{Name: "over-time", Title: fmt.Sprintf("grep, at-least-once, slow sink, message timeout %v (queueing delay %v), first repetition: tree outcomes per second over the run", short, delay.Round(time.Millisecond)),
			XLabel: "time since the start (s)", YLabel: "trees per second"}
		for _, k := range []struct{ key, label string }{{"timed_out_per_s", "timed out"}, {"replayed_per_s", "replayed"}, {"acked_per_s", "acked"}} {
			over.Lines = append(over.Lines, Line{Label: k.label, Points: s[k.key]})
		}
		res.Series = append(res.Series, over)
	}
	if !quick {
		runWindowed(res, func(label string, timeout time.Duration, frac float64, pending int) timeoutRun {
			return runOn(windowed, windowedRate, false, label, timeout, frac, pending)
		})
	}
	res.Notes = append(res.Notes, fmt.Sprintf("grep on recordstream at-least-once, parallelism 1, a slow sink (Options.Slow %v per record), %d events paced at %.0f events/s (about four times what the slow sink takes), %d repetitions per trial, each cut after %v (a cut run counts as hung). The queueing delay is the control's longest tuple-tree completion time (complete_latency_max_us, median over repetitions); the swept timeouts are %v of it. Goodput is acked trees per second of the run. The over-time figure is recordstream's per-%v count of tree outcomes (Series acked_per_s, timed_out_per_s, replayed_per_s).",
		timeoutSlow, events, rate, n, limit, fracs, 100*time.Millisecond))
	res.Verdict = verdictTimeouts(o)
	return res
}

// runWindowed runs the remedy on windowed acking (YSB, full mode): a
// control with a 30 s timeout measures the queueing delay; then half of it
// with unlimited pending, with max spout pending sized like grep's (the
// pending trees take the slow step half the timeout), and with max spout
// pending at the trees a spout task holds in the control's longest
// completion time. Its rows are reported, not judged: a tree waits for its
// window to fire and expire, so a spout held back at max spout pending
// stops its watermark, and the windows that would ack its trees never fire
// (recordstream then reports the stall).
func runWindowed(res *ExperimentResult, run func(label string, timeout time.Duration, frac float64, pending int) timeoutRun) {
	ctl := run("ysb (windowed acking): control, 30s timeout", 30*time.Second, 0, 0)
	delay := time.Duration(ctl.CompleteMaxMs.Median * float64(time.Millisecond)).Round(time.Millisecond)
	if ctl.Failed != "" || delay <= 0 {
		return
	}
	short := (delay / 2).Round(time.Millisecond)
	run("ysb (windowed acking): timeout 0.5 × the queueing delay", short, 0.5, 0)
	run("ysb (windowed acking): max spout pending sized like grep's", short, 0.5, max(1, int(short/2/timeoutSlow)/timeoutPartitions))
	held := int(ctl.Goodput.Median*delay.Seconds()) / timeoutPartitions
	run("ysb (windowed acking): max spout pending at a spout's trees in one completion time", short, 0.5, max(1, held))
	res.Notes = append(res.Notes, fmt.Sprintf("The ysb rows (full mode, not judged) try max spout pending with windowed acking: YSB with 200 ms windows and a 100 ms watermark bound, paced at 40,000 events/s, the control's queueing delay %v, a timeout of half of it.", delay))
}

// timeoutSweepLabel is the label of the sweep's trial at share f of the
// queueing delay.
func timeoutSweepLabel(f float64) string {
	return fmt.Sprintf("timeout %s × the queueing delay", cell(f))
}

// lateText is a check's late drops as "verified / replays / unverified".
func lateText(c CheckResult) string {
	return fmt.Sprintf("%d / %d / %d", c.Late.Verified, c.Late.Replays, c.Late.Unverified)
}

// ---- L5.3 timeouts ----

// Labels of the timeouts experiment's fixed trials.
const (
	timeoutControl = "control: 30s timeout"
	timeoutRemedy  = "shortest timeout, max spout pending"
)

// timeoutRun is one timeouts trial over its repetitions.
type timeoutRun struct {
	// Timeout is the message timeout; Fraction its share of the measured
	// queueing delay (0 for the control); Pending max spout pending (0:
	// unlimited); Failed why a repetition did not finish (hung or failed).
	Timeout  time.Duration
	Fraction float64
	Pending  int
	Failed   string
	// TimedOut, Replayed and FailedTrees are counts per repetition
	// (FailedTrees: trees failed explicitly, not by timeout).
	TimedOut, Replayed, FailedTrees spread
	// Goodput is acked trees per second of the run; CompleteMaxMs the
	// longest tree completion time (ms).
	Goodput, CompleteMaxMs spread
}

// timeoutsOutcome maps a trial label (timeoutControl, timeoutRemedy,
// [timeoutSweepLabel]) to its runs.
type timeoutsOutcome struct {
	Runs map[string]timeoutRun
	// QueueingDelay is the control's measured queueing delay (0: not
	// measured).
	QueueingDelay time.Duration
}

// verdictTimeouts judges the three sub-claims ([verdictSpuriousTimeouts],
// [verdictGoodput], [verdictRemedy]): it does not hold when one does not,
// is inconclusive when one is, and holds when all do.
func verdictTimeouts(o timeoutsOutcome) Verdict {
	if f := failedRuns(o.Runs, func(r timeoutRun) string { return r.Failed }); len(f) > 0 {
		return inconclusive("a trial did not finish, so its timeouts were not counted: %s", strings.Join(f, "; "))
	}
	return worstOf(
		subVerdict{"spurious timeouts", verdictSpuriousTimeouts(o)},
		subVerdict{"goodput collapse", verdictGoodput(o)},
		subVerdict{"max spout pending", verdictRemedy(o)},
	)
}

// sweepRuns returns the sweep's runs (unlimited pending, a share of the
// queueing delay), shortest timeout first.
func sweepRuns(o timeoutsOutcome) []timeoutRun {
	var out []timeoutRun
	for _, k := range sortedKeys(o.Runs) {
		if r := o.Runs[k]; r.Fraction > 0 && r.Pending == 0 {
			out = append(out, r)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Fraction < out[j-1].Fraction; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// verdictSpuriousTimeouts: with nothing failing, every timeout at most half
// the queueing delay times out and replays trees in every repetition, and
// the controls (the 30 s timeout, every timeout at or above the queueing
// delay) time out none.
func verdictSpuriousTimeouts(o timeoutsOutcome) Verdict {
	ctl, ok := o.Runs[timeoutControl]
	if !ok || !ctl.TimedOut.enough() {
		return inconclusive("the control has %d repetitions (need %d)", ctl.TimedOut.N, minReps)
	}
	for _, k := range sortedKeys(o.Runs) {
		if r := o.Runs[k]; r.FailedTrees.Max > 0 {
			return inconclusive("%s failed %s tuple trees explicitly, so something did fail", k, r.FailedTrees)
		}
	}
	var below, above []timeoutRun
	for _, r := range sweepRuns(o) {
		if !r.TimedOut.enough() {
			return inconclusive("the %v timeout has %d repetitions (need %d)", r.Timeout, r.TimedOut.N, minReps)
		}
		switch {
		case r.Fraction <= 0.5:
			below = append(below, r)
		case r.Fraction >= 1:
			above = append(above, r)
		}
	}
	if len(below) == 0 || len(above) == 0 {
		return inconclusive("the sweep has %d timeouts at most half the queueing delay and %d at or above it (need one of each)", len(below), len(above))
	}
	if ctl.TimedOut.Max > 0 {
		return inconclusive("the negative control (timeout %v) timed out %s trees", ctl.Timeout, ctl.TimedOut)
	}
	for _, r := range above {
		if r.TimedOut.Max > 0 {
			return inconclusive("the negative control at %v (%s × the queueing delay %v) timed out %s trees", r.Timeout, cell(r.Fraction), o.QueueingDelay, r.TimedOut)
		}
	}
	var none, some, all []string
	for _, r := range below {
		desc := fmt.Sprintf("%v (%s × the queueing delay %v): %s timed out, %s replayed", r.Timeout, cell(r.Fraction), o.QueueingDelay, r.TimedOut, r.Replayed)
		switch {
		case r.TimedOut.Max == 0:
			none = append(none, desc)
		case r.TimedOut.Min == 0 || r.Replayed.Min == 0:
			some = append(some, desc)
		default:
			all = append(all, desc)
		}
	}
	var ctlText []string
	for _, r := range above {
		ctlText = append(ctlText, fmt.Sprintf("%v: %s", r.Timeout, r.TimedOut))
	}
	ctlDesc := fmt.Sprintf("the controls timed out none (%v: %s; %s)", ctl.Timeout, ctl.TimedOut, strings.Join(ctlText, "; "))
	switch {
	case len(none) == len(below):
		return doesNotHold("no timeout below the queueing delay timed out a tree: %s; %s", strings.Join(none, "; "), ctlDesc)
	case len(none) > 0 || len(some) > 0:
		return inconclusive("timeouts below the queueing delay timed out trees in some repetitions only: %s", strings.Join(append(none, some...), "; "))
	}
	return holds("with 0 trees failed, every timeout below the queueing delay timed out and replayed trees in every repetition: %s; %s", strings.Join(all, "; "), ctlDesc)
}

// verdictGoodput: goodput collapses when acked trees per second at the
// shortest timeout lie below the control's, outside the spread; it does
// not hold when they lie above it; inconclusive inside the spread.
func verdictGoodput(o timeoutsOutcome) Verdict {
	ctl, ok := o.Runs[timeoutControl]
	sw := sweepRuns(o)
	if !ok || len(sw) == 0 || !ctl.Goodput.enough() || !sw[0].Goodput.enough() {
		return inconclusive("the control or the shortest timeout is missing or has too few repetitions")
	}
	s := sw[0]
	desc := fmt.Sprintf("%s acked trees/s with a %v timeout against %s with %v (%.0f%%)", s.Goodput, s.Timeout, ctl.Goodput, ctl.Timeout, 100*s.Goodput.Median/max(ctl.Goodput.Median, 1e-9))
	switch {
	case s.Goodput.below(ctl.Goodput):
		return holds("goodput falls: %s", desc)
	case ctl.Goodput.below(s.Goodput):
		return doesNotHold("goodput rises: %s", desc)
	}
	return inconclusive("the goodput difference lies inside the spread: %s", desc)
}

// verdictRemedy: max spout pending works when, with the shortest timeout,
// no tree times out in any repetition and goodput lies above that of
// unlimited pending with the same timeout, outside the spread; it does not
// hold when trees time out in every repetition; inconclusive otherwise.
func verdictRemedy(o timeoutsOutcome) Verdict {
	r, okR := o.Runs[timeoutRemedy]
	ctl, okC := o.Runs[timeoutControl]
	sw := sweepRuns(o)
	if !okR || !okC || len(sw) == 0 || !r.TimedOut.enough() || !ctl.Goodput.enough() || !sw[0].Goodput.enough() {
		return inconclusive("the remedy, the control or the shortest timeout is missing or has too few repetitions")
	}
	s := sw[0]
	desc := fmt.Sprintf("with max spout pending %d and a %v timeout, %s trees timed out and goodput was %s acked trees/s (unlimited pending with the same timeout %s, control %s)", r.Pending, r.Timeout, r.TimedOut, r.Goodput, s.Goodput, ctl.Goodput)
	switch {
	case r.TimedOut.Min > 0:
		return doesNotHold("trees still time out in every repetition: %s", desc)
	case r.TimedOut.Max > 0:
		return inconclusive("trees timed out in some repetitions: %s", desc)
	case !s.Goodput.below(r.Goodput):
		return inconclusive("nothing timed out but goodput is not above unlimited pending's outside the spread: %s", desc)
	}
	return holds("nothing timed out and goodput is above unlimited pending's: %s", desc)
}
