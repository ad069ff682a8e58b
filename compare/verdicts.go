package compare

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// This file holds each experiment's verdict: a pure function over a typed
// outcome whose figures are keyed by trial label (CM6). The run functions in
// experiments.go fill the outcomes; the tests construct them.

// runEnd is how one trial ended when only its exactness matters.
type runEnd struct {
	// Failed is why the trial did not finish ("" when it did).
	Failed string
	// Unsupported is the model's reason for refusing the pipeline.
	Unsupported string
	// Exact reports whether it matched the reference.
	Exact bool
	// Check is the check's one-line account, for explanations.
	Check string
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// failedTrials lists "label: reason" for every failed trial in ends.
func failedTrials(ends map[string]string) []string {
	return failedRuns(ends, func(e string) string { return e })
}

// failedRuns lists "label: how it failed" for every run that failed, in
// label order; failed returns "" for a run that finished.
func failedRuns[R any](runs map[string]R, failed func(R) string) []string {
	var out []string
	for _, k := range sortedKeys(runs) {
		if f := failed(runs[k]); f != "" {
			out = append(out, k+": "+f)
		}
	}
	return out
}

// ---- L2 superset ----

// supersetOutcome maps "workload on runtime" to how its run ended.
type supersetOutcome struct {
	Runs map[string]runEnd
}

func verdictSuperset(o supersetOutcome) Verdict {
	var failed, differ []string
	exact, unsupported := 0, 0
	for _, k := range sortedKeys(o.Runs) {
		r := o.Runs[k]
		switch {
		case r.Failed != "":
			failed = append(failed, k+": "+r.Failed)
		case r.Unsupported != "":
			unsupported++
		case r.Exact:
			exact++
		default:
			differ = append(differ, k+": "+r.Check)
		}
	}
	switch {
	case len(differ) > 0:
		return doesNotHold("%d of %d expressible runs differ from the reference answer: %s", len(differ), len(differ)+exact, strings.Join(differ, "; "))
	case len(failed) > 0 || exact == 0:
		return inconclusive("%d runs failed (%s); %d ran and were exact", len(failed), strings.Join(failed, "; "), exact)
	}
	return holds("all %d runs the models can express equal the reference (batch) answer exactly; %d pairs are outside a model (unsupported, with the model's reason)", exact, unsupported)
}

// ---- L5.1 acker-cost ----

// ackerBase is the label of acker-cost's unacked trial.
const ackerBase = "at-most-once (no acker)"

// ackerRun is one configuration of acker-cost over its repetitions.
type ackerRun struct {
	Failed string
	// Throughput is events/s; MsgsPerTuple is acker messages per tracked
	// tuple (per tuple the spout emitted into a tracked tree).
	Throughput, MsgsPerTuple spread
}

// ackerOutcome maps a configuration's label to its runs; [ackerBase] is the
// baseline.
type ackerOutcome struct {
	Runs map[string]ackerRun
	// Knee maps a configuration's label to its sustainable rate; nil when
	// the search did not run (the throughput sub-claim is judged alone).
	Knee map[string]ackerKnee
	// Precision is the search's precision (CapacityOptions.Precision).
	Precision float64
}

// ackerKneeAcked is the acked configuration whose sustainable rate is
// compared with at-most-once's.
const ackerKneeAcked = "at-least-once, 1 acker"

// ackerKnee is one configuration's sustainable-rate search.
type ackerKnee struct {
	// Failed is why the search found no rate ("" when it did).
	Failed string
	// Rate is the sustainable rate (events/s); LowerBound says every probe
	// was sustainable, so Rate only bounds it from below.
	Rate       float64
	LowerBound bool
	// Reason is the search's explanation.
	Reason string
}

// ackerMinMsgs is "about two" acker messages per tracked tuple (an init or
// ack, and the acker's result), with room for rounding.
const ackerMinMsgs = 1.9

// verdictAckerCost judges both sub-claims: acked throughput on a pre-filled
// log ([verdictAckerThroughput]) and, when the search ran, acking lowering
// the sustainable rate ([verdictAckerKnee]). It does not hold when either
// does not, is inconclusive when either is, and holds when both do.
func verdictAckerCost(o ackerOutcome) Verdict {
	tp := verdictAckerThroughput(o)
	if o.Knee == nil {
		return tp
	}
	kn := verdictAckerKnee(o)
	kind := Holds
	for _, v := range []Verdict{tp, kn} {
		switch {
		case v.Kind == DoesNotHold:
			kind = DoesNotHold
		case v.Kind == Inconclusive && kind == Holds:
			kind = Inconclusive
		}
	}
	return Verdict{Kind: kind, Explanation: fmt.Sprintf("throughput on a filled log %s: %s. Sustainable rate %s: %s", tp.Kind, tp.Explanation, kn.Kind, kn.Explanation)}
}

// verdictAckerKnee: acking lowers the sustainable rate when at-least-once
// (1 acker)'s rate is below at-most-once's by more than the search's
// precision; inconclusive when either search failed or found only a lower
// bound; does not hold otherwise.
func verdictAckerKnee(o ackerOutcome) Verdict {
	base, okb := o.Knee[ackerBase]
	acked, oka := o.Knee[ackerKneeAcked]
	switch {
	case !okb || !oka:
		return inconclusive("the sustainable rate of %s or %s was not searched", ackerBase, ackerKneeAcked)
	case base.Failed != "" || acked.Failed != "":
		return inconclusive("a search found no sustainable rate: %s", strings.Join(failedTrials(map[string]string{ackerBase: base.Failed, ackerKneeAcked: acked.Failed}), "; "))
	case base.LowerBound || acked.LowerBound:
		return inconclusive("a search found only a lower bound (%s %.0f events/s, lower bound %v; %s %.0f events/s, lower bound %v)", ackerBase, base.Rate, base.LowerBound, ackerKneeAcked, acked.Rate, acked.LowerBound)
	}
	desc := fmt.Sprintf("%s sustains %.0f events/s, %s %.0f events/s (%.0f%%; the search's precision is %.0f%%)", ackerKneeAcked, acked.Rate, ackerBase, base.Rate, 100*acked.Rate/base.Rate, 100*o.Precision)
	if acked.Rate*(1+o.Precision) < base.Rate {
		return holds("acking lowers the sustainable rate: %s", desc)
	}
	return doesNotHold("acking does not lower the sustainable rate by more than the search's precision: %s", desc)
}

// verdictAckerThroughput judges acked throughput on a pre-filled log.
func verdictAckerThroughput(o ackerOutcome) Verdict {
	if f := failedRuns(o.Runs, func(r ackerRun) string { return r.Failed }); len(f) > 0 {
		return inconclusive("trials failed: %s", strings.Join(f, "; "))
	}
	base, ok := o.Runs[ackerBase]
	if !ok || !base.Throughput.enough() {
		return inconclusive("the at-most-once baseline has %d repetitions (need %d)", base.Throughput.N, minReps)
	}
	var faster, fewMsgs, inside, slower []string
	n := 0
	for _, k := range sortedKeys(o.Runs) {
		if k == ackerBase {
			continue
		}
		r := o.Runs[k]
		n++
		if !r.Throughput.enough() {
			return inconclusive("%s has %d repetitions (need %d)", k, r.Throughput.N, minReps)
		}
		desc := fmt.Sprintf("%s %s events/s (%.0f%% of %s) with %s acker messages per tracked tuple", k, r.Throughput, 100*r.Throughput.Median/base.Throughput.Median, base.Throughput, r.MsgsPerTuple)
		switch {
		case base.Throughput.below(r.Throughput):
			faster = append(faster, desc)
		case r.Throughput.below(base.Throughput) && r.MsgsPerTuple.Median < ackerMinMsgs:
			fewMsgs = append(fewMsgs, desc)
		case r.Throughput.below(base.Throughput):
			slower = append(slower, desc)
		default:
			inside = append(inside, desc)
		}
	}
	switch {
	case n == 0:
		return inconclusive("no acked configuration ran")
	case len(faster) > 0:
		return doesNotHold("acking ran faster than no acking, outside the spread: %s", strings.Join(faster, "; "))
	case len(fewMsgs) > 0:
		return doesNotHold("acking is slower, but with fewer than %.1f acker messages per tracked tuple, so the messages the lecture names are not what was measured: %s", ackerMinMsgs, strings.Join(fewMsgs, "; "))
	case len(inside) > 0:
		return inconclusive("the slowdown lies inside the spread of repetitions: %s", strings.Join(inside, "; "))
	}
	return holds("every acked configuration is slower than at-most-once %s events/s, outside the spread: %s", base.Throughput, strings.Join(slower, "; "))
}

// ---- L5.3 timeouts ----

// Labels of the timeouts experiment's trials.
const (
	timeoutControl = "timeout above the queueing delay"
	timeoutShort   = "timeout below the queueing delay"
	timeoutRemedy  = "short timeout, max spout pending"
)

// timeoutRun is one timeouts trial over its repetitions.
type timeoutRun struct {
	// Timeout is the message timeout; Failed why a repetition did not
	// finish (hung or failed).
	Timeout time.Duration
	Failed  string
	// TimedOut, Replayed and FailedTrees are counts per repetition
	// (FailedTrees: trees failed explicitly, not by timeout).
	TimedOut, Replayed, FailedTrees spread
}

// timeoutsOutcome maps a trial label (timeoutControl, ...) to its runs.
type timeoutsOutcome struct {
	Runs map[string]timeoutRun
}

func verdictTimeouts(o timeoutsOutcome) Verdict {
	if f := failedRuns(o.Runs, func(r timeoutRun) string { return r.Failed }); len(f) > 0 {
		return inconclusive("a trial did not finish, so its timeouts were not counted: %s", strings.Join(f, "; "))
	}
	ctl, okC := o.Runs[timeoutControl]
	short, okS := o.Runs[timeoutShort]
	switch {
	case !okC || !okS:
		return inconclusive("the control or the short-timeout trial is missing")
	case !ctl.TimedOut.enough() || !short.TimedOut.enough():
		return inconclusive("%d and %d repetitions of the control and the short timeout (need %d)", ctl.TimedOut.N, short.TimedOut.N, minReps)
	}
	for _, k := range sortedKeys(o.Runs) {
		if r := o.Runs[k]; r.FailedTrees.Max > 0 {
			return inconclusive("%s failed %s tuple trees explicitly, so something did fail", k, r.FailedTrees)
		}
	}
	if ctl.TimedOut.Max > 0 {
		return inconclusive("the negative control (timeout %v) also timed out %s trees, so the timeouts are not only the queueing delay's", ctl.Timeout, ctl.TimedOut)
	}
	if short.TimedOut.Max == 0 {
		return doesNotHold("with a %v timeout no tuple tree timed out in %d repetitions (control %v: 0 as well)", short.Timeout, short.TimedOut.N, ctl.Timeout)
	}
	if short.TimedOut.Min == 0 || short.Replayed.Min == 0 {
		return inconclusive("with a %v timeout trees timed out in some repetitions only (%s timed out, %s replayed)", short.Timeout, short.TimedOut, short.Replayed)
	}
	v := holds("with nothing failing (0 trees failed), a %v timeout timed out %s tuple trees and replayed %s, while the negative control with a %v timeout timed out 0 in %d repetitions", short.Timeout, short.TimedOut, short.Replayed, ctl.Timeout, ctl.TimedOut.N)
	if r, ok := o.Runs[timeoutRemedy]; ok {
		v.Explanation += fmt.Sprintf("; with max spout pending and a %v timeout, %s timed out", r.Timeout, r.TimedOut)
	}
	return v
}

// ---- L4/L5/L6/L7 crash ----

// crashClass is what one crashed run did to the full answer.
type crashClass string

const (
	crashExact      crashClass = "exact"
	crashLoses      crashClass = "loses"
	crashDuplicates crashClass = "duplicates"
	crashDiffers    crashClass = "loses and duplicates"
)

// crashRep is one repetition of a crash trial, against the full answer.
type crashRep struct {
	Lost, Duplicated, Mismatched int
	// LateReplays counts replays dropped as late.
	LateReplays int
	// SinkDuplicates is what the runtime's sink counted as duplicates
	// (recordstream's "duplicates": re-fired panes, RS1, or rows seen under
	// a second tuple tree, RS2).
	SinkDuplicates int
}

func (r crashRep) class() crashClass {
	lost := r.Lost + r.Mismatched
	switch {
	case lost == 0 && r.Duplicated == 0:
		return crashExact
	case r.Duplicated == 0:
		return crashLoses
	case lost == 0:
		return crashDuplicates
	}
	return crashDiffers
}

// The sub-claims of the crash statement; each is tested by the trials that
// name it in [crashRun.Claim].
const (
	crashClaimLoses = "at-most-once loses"
	crashClaimDups  = "at-least-once duplicates"
	crashClaimExact = "exactly-once is exact"
)

// crashClaims lists the sub-claims in the order the verdict reports them.
func crashClaims() []string { return []string{crashClaimLoses, crashClaimDups, crashClaimExact} }

// crashRun is one crash configuration: the sub-claim it tests, what the
// lecture expects of it, and its repetitions.
type crashRun struct {
	Failed string
	// Claim is the sub-claim the trial tests (crashClaimLoses, ...); ""
	// reports the trial without judging it (at-least-once on windows
	// with lateness 0, whose replays are dropped as late).
	Claim string
	Want  crashClass
	// Stateless says the unit is an output row, not a window.
	Stateless bool
	Reps      []crashRep
}

// crashOutcome maps a configuration's label to its runs.
type crashOutcome struct {
	Runs map[string]crashRun
}

// describe is the run's figures over its repetitions, in the units of its
// pipeline.
func (r crashRun) describe(label string) string {
	var lost, dup, late, sink []float64
	for _, p := range r.Reps {
		lost = append(lost, float64(p.Lost+p.Mismatched))
		dup = append(dup, float64(p.Duplicated))
		late = append(late, float64(p.LateReplays))
		sink = append(sink, float64(p.SinkDuplicates))
	}
	unit := "windows"
	if r.Stateless {
		unit = "rows"
	}
	desc := fmt.Sprintf("%s: %s %s lost, %s duplicated", label, spreadOf(lost), unit, spreadOf(dup))
	if s := spreadOf(sink); s.Max > 0 {
		desc += fmt.Sprintf(" (the sink counted %s duplicates)", s)
	}
	if l := spreadOf(late); l.Max > 0 {
		desc += fmt.Sprintf(", %s replays dropped as late", l)
	}
	return desc
}

// verdictCrash tests each sub-claim on its trials: at-most-once loses,
// at-least-once duplicates (duplicates measured, nothing lost, in every
// repetition), exactly-once is exact (nothing lost or duplicated, so the
// duplicates are at-least-once's alone). Every sub-claim needs a trial; a
// trial with no sub-claim is reported, not judged.
func verdictCrash(o crashOutcome) Verdict {
	if f := failedRuns(o.Runs, func(r crashRun) string { return r.Failed }); len(f) > 0 {
		return inconclusive("trials failed: %s", strings.Join(f, "; "))
	}
	as := map[string][]string{}
	var against, varied, missing, unjudged []string
	for _, k := range sortedKeys(o.Runs) {
		r := o.Runs[k]
		if len(r.Reps) < minReps {
			return inconclusive("%s has %d repetitions (need %d)", k, len(r.Reps), minReps)
		}
		classes := map[crashClass]int{}
		for _, p := range r.Reps {
			classes[p.class()]++
		}
		desc := r.describe(k)
		switch {
		case r.Claim == "":
			got := "varied"
			if len(classes) == 1 {
				got = string(slices.Collect(maps.Keys(classes))[0]) + " in every repetition"
			}
			unjudged = append(unjudged, desc+" ("+got+")")
		case len(classes) > 1:
			varied = append(varied, r.Claim+": "+desc)
		case classes[r.Want] == len(r.Reps):
			as[r.Claim] = append(as[r.Claim], desc)
		default:
			got := slices.Collect(maps.Keys(classes))[0]
			against = append(against, fmt.Sprintf("%s: %s (%s in every repetition, not %s)", r.Claim, desc, got, r.Want))
		}
	}
	for _, c := range crashClaims() {
		n := 0
		for _, r := range o.Runs {
			if r.Claim == c {
				n++
			}
		}
		if n == 0 {
			missing = append(missing, c)
		}
	}
	var shown []string
	for _, c := range crashClaims() {
		if len(as[c]) > 0 {
			shown = append(shown, c+" ("+strings.Join(as[c], "; ")+")")
		}
	}
	tail := ""
	if len(shown) > 0 {
		tail = "; as claimed: " + strings.Join(shown, "; ")
	}
	if len(unjudged) > 0 {
		tail += "; reported, not judged: " + strings.Join(unjudged, "; ")
	}
	switch {
	case len(against) > 0:
		return doesNotHold("%s%s", strings.Join(against, "; "), tail)
	case len(varied) > 0:
		return inconclusive("the outcome varied across repetitions: %s%s", strings.Join(varied, "; "), tail)
	case len(missing) > 0:
		return inconclusive("no trial tests %s%s", strings.Join(missing, ", "), tail)
	}
	return holds("%s", strings.TrimPrefix(tail, "; as claimed: "))
}

// ---- L6.2/L6.4 windows ----

// Labels of the windows experiment's rows that the verdict reads.
const (
	windowsSessions = "session, gap 30 s (sessions)"
	windowsCount    = "count 100 (count-window)"
	windowsPT7      = "processing-time 7 s, not a multiple of the 2 s batch (request-rate-7s)"
	windowsAligned  = "processing-time 1 min (request-rate)"
)

// windowsOutcome is the capability matrix: Cells[kind label][configuration]
// for the DStream configuration the verdict reads (DStream).
type windowsOutcome struct {
	DStream string
	Cells   map[string]map[string]runEnd
}

func verdictWindows(o windowsOutcome) Verdict {
	cell := func(kind string) (runEnd, bool) {
		c, ok := o.Cells[kind][o.DStream]
		return c, ok
	}
	var refused, expressed []string
	for _, k := range []string{windowsSessions, windowsCount, windowsPT7} {
		c, ok := cell(k)
		switch {
		case !ok:
			return inconclusive("%s was not tried on %s", k, o.DStream)
		case c.Failed != "":
			return inconclusive("%s on %s failed: %s", k, o.DStream, c.Failed)
		case c.Unsupported != "":
			refused = append(refused, fmt.Sprintf("%s (%q)", k, c.Unsupported))
		default:
			expressed = append(expressed, fmt.Sprintf("%s (%s)", k, c.Check))
		}
	}
	ctl, ok := cell(windowsAligned)
	switch {
	case len(expressed) > 0:
		return doesNotHold("%s runs %s", o.DStream, strings.Join(expressed, "; "))
	case !ok || ctl.Failed != "" || ctl.Unsupported != "" || !ctl.Exact:
		return inconclusive("%s refused %s, but its control, the aligned %s, did not run exactly (%s%s%s)", o.DStream, strings.Join(refused, "; "), windowsAligned, ctl.Failed, ctl.Unsupported, ctl.Check)
	}
	return holds("%s refused %s, and ran the aligned %s exactly (%s). Measured: which windows the model expresses; what the limits cost (sessions emulated with state, output cadence tied to the batch interval) is not measured in this suite", o.DStream, strings.Join(refused, "; "), windowsAligned, ctl.Check)
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

// ---- L6.1 latency ----

// latencyKey names one latency trial: a workload on a configuration.
type latencyKey struct{ Workload, Config string }

// latencyOutcome holds p50 latencies per trial; Stream is the
// record-at-a-time configuration and Batch the micro-batch ones, all run on
// the same paced load per workload.
type latencyOutcome struct {
	Stream    string
	Batch     []string
	Workloads []string
	// P50Ms is the p50 latency in ms of each repetition's run (event-time
	// latency: emit time minus the largest event time).
	P50Ms map[latencyKey]spread
	// Failed says why a trial did not finish.
	Failed map[latencyKey]string
}

func verdictLatency(o latencyOutcome) Verdict {
	var failed []string
	for _, k := range slices.SortedFunc(maps.Keys(o.Failed), func(a, b latencyKey) int { return strings.Compare(a.Workload+a.Config, b.Workload+b.Config) }) {
		if o.Failed[k] != "" {
			failed = append(failed, k.Workload+" on "+k.Config+": "+o.Failed[k])
		}
	}
	if len(failed) > 0 {
		return inconclusive("trials failed: %s", strings.Join(failed, "; "))
	}
	var higher, lower, inside []string
	for _, w := range o.Workloads {
		rs := o.P50Ms[latencyKey{w, o.Stream}]
		for _, b := range o.Batch {
			mb := o.P50Ms[latencyKey{w, b}]
			if !rs.enough() || !mb.enough() {
				return inconclusive("%s: %d and %d repetitions of %s and %s (need %d)", w, rs.N, mb.N, o.Stream, b, minReps)
			}
			desc := fmt.Sprintf("%s: %s p50 %s ms against %s %s ms (floor %s ms)", w, b, mb, o.Stream, rs, cell(mb.Median-rs.Median))
			switch {
			case rs.below(mb):
				higher = append(higher, desc)
			case mb.below(rs):
				lower = append(lower, desc)
			default:
				inside = append(inside, desc)
			}
		}
	}
	switch {
	case len(higher)+len(lower)+len(inside) == 0:
		return inconclusive("no pair of trials was measured")
	case len(lower) > 0:
		return doesNotHold("micro-batches had lower latency on the same paced load, outside the spread: %s; higher: %s", strings.Join(lower, "; "), strings.Join(higher, "; "))
	case len(inside) > 0:
		return inconclusive("the batch floor lies inside the spread: %s", strings.Join(inside, "; "))
	}
	return holds("on the same paced load micro-batches have higher latency, outside the spread: %s", strings.Join(higher, "; "))
}

// ---- L7 snapshot-overhead ----

// snapshotBase labels the exactly-once trial that never checkpoints.
const snapshotBase = "off"

// snapshotMinCheckpoints is how many checkpoints a repetition must
// complete before its throughput says anything about their cost.
const snapshotMinCheckpoints = 10

// snapshotMaxOverhead is "almost no overhead": the throughput a
// checkpointing run may lose.
const snapshotMaxOverhead = 0.1

// snapRun is one snapshot-overhead trial over its repetitions.
type snapRun struct {
	Failed                  string
	Throughput, Checkpoints spread
}

// snapshotOutcome maps an interval's label ([snapshotBase] for no
// checkpoints) to its runs.
type snapshotOutcome struct {
	Runs map[string]snapRun
}

func verdictSnapshot(o snapshotOutcome) Verdict {
	if f := failedRuns(o.Runs, func(r snapRun) string { return r.Failed }); len(f) > 0 {
		return inconclusive("trials failed: %s", strings.Join(f, "; "))
	}
	base, ok := o.Runs[snapshotBase]
	if !ok || !base.Throughput.enough() {
		return inconclusive("the run without checkpoints has %d repetitions (need %d)", base.Throughput.N, minReps)
	}
	var cheap, costly, inside, few []string
	for _, k := range sortedKeys(o.Runs) {
		if k == snapshotBase {
			continue
		}
		r := o.Runs[k]
		if !r.Throughput.enough() || r.Checkpoints.Min < snapshotMinCheckpoints {
			few = append(few, fmt.Sprintf("%s (%s checkpoints)", k, r.Checkpoints))
			continue
		}
		ratio := r.Throughput.Median / base.Throughput.Median
		desc := fmt.Sprintf("every %s: %s events/s, %.0f%% of %s without checkpoints, over %s checkpoints", k, r.Throughput, 100*ratio, base.Throughput, r.Checkpoints)
		switch {
		case ratio >= 1-snapshotMaxOverhead:
			cheap = append(cheap, desc)
		case r.Throughput.below(base.Throughput):
			costly = append(costly, desc)
		default:
			inside = append(inside, desc)
		}
	}
	tail := ""
	if len(few) > 0 {
		tail = fmt.Sprintf("; not judged, fewer than %d checkpoints per repetition: %s", snapshotMinCheckpoints, strings.Join(few, ", "))
	}
	switch {
	case len(costly) > 0:
		return doesNotHold("checkpoints cost more than %.0f%% of the throughput, outside the spread: %s%s", 100*snapshotMaxOverhead, strings.Join(costly, "; "), tail)
	case len(inside) > 0:
		return inconclusive("the overhead lies inside the spread: %s%s", strings.Join(inside, "; "), tail)
	case len(cheap) == 0:
		return inconclusive("no interval completed %d checkpoints in every repetition: %s", snapshotMinCheckpoints, strings.Join(few, ", "))
	}
	return holds("checkpointing keeps at least %.0f%% of the throughput: %s%s", 100*(1-snapshotMaxOverhead), strings.Join(cheap, "; "), tail)
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
