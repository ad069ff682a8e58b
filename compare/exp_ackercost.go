package compare

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/weirlab/weir/internal/metrics"
)

// ackerCostExperiment is the acker-cost experiment's specification.
func ackerCostExperiment() *Experiment {
	return &Experiment{
		Name:      "acker-cost",
		Claim:     "L5.1",
		Statement: "Storm's record acknowledgement costs throughput: every tuple sends a system message to the acker.",
		Rule:      "Holds when every acked configuration is slower than at-most-once with the ranges of repetitions apart and sends about 2 or more acker messages per tracked tuple; does not hold when one is faster outside the spread, or slower with fewer messages; inconclusive inside the spread or on a failed trial. Second sub-claim, acking lowers the sustainable rate: holds when at-least-once (1 acker) sustains less than at-most-once by more than the search's precision, inconclusive when a search failed or found only a lower bound, does not hold otherwise. The verdict is the worse of the two.",
		Published: "Storm's docs [P]: not tracking a tuple tree \"halves the number of messages transferred since normally there's an ack message for every tuple in the tuple tree\". YSB 2015 (Yahoo blog, papers.md §1): Storm 0.11 with ack ~1.05-1.2 s latency up to 135K ev/s, without ack ~1.2 s flat to 170K. Heron [U]: without acking only ≈2-3× gains versus 10-14× with acking. " +
			"Our acker-messages-per-tuple column is the measured counterpart of the docs' \"one ack message per tuple\".",
		run: runAckerCost,
	}
}

// ---- acker-cost (L5.1) ----

func runAckerCost(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "events/s median [min-max]", "relative to at-most-once (medians)", "acker messages per tracked tuple", "tracked tuples", "matches reference (every repetition)", "event-time p99 ms median [min-max]"}}}
	w := mustWorkload("ysb")
	events := pick[int64](quick, 200_000, 1_000_000)
	n := reps(quick)
	cfgs := []ackerConfig{
		{ackerBase, RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}},
		{"at-least-once, 1 acker", RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, Ackers: 1}},
		{"at-least-once, 2 ackers", RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, Ackers: 2}},
	}
	o := ackerOutcome{Runs: map[string]ackerRun{}}
	for _, c := range cfgs {
		reports, err := trial{workload: w, runtime: "recordstream", flags: c.flags, data: DataSpec{Events: events}, timeout: 2 * time.Minute}.repeat(ctx, n, progress)
		if err != nil {
			o.Runs[c.name] = ackerRun{Failed: trialStatus(err)}
			res.Table.add(c.name, "-", "-", "-", "-", errText(err), "-")
			continue
		}
		r := ackerRun{
			Throughput: spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond })),
			MsgsPerTuple: spreadOf(figure(reports, func(r *Report) float64 {
				return float64(r.Summary.Counters["acker_messages"]) / float64(max(r.Summary.Counters["emitted"], 1))
			})),
		}
		o.Runs[c.name] = r
		tracked := "-"
		if c.flags.Guarantee != "at-most-once" {
			tracked = spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Summary.Counters["emitted"]) })).String()
		}
		rel := "-"
		if b := o.Runs[ackerBase].Throughput; b.N > 0 {
			rel = cell(r.Throughput.Median / b.Median)
		}
		res.Table.add(c.name, r.Throughput.String(), rel, r.MsgsPerTuple.String(), tracked, allExact(reports), "-")
	}
	res.Notes = append(res.Notes, fmt.Sprintf("YSB, %d events per run, log filled before the run (capacity, not latency), parallelism 2, %d repetitions per configuration. A tracked tuple is one the spout emitted into a tracked tree; its acker messages are the spout's init, the bolts' acks and the acker's result.", events, n))
	runAckerKnee(ctx, quick, res, &o, progress)
	res.Verdict = verdictAckerCost(o)
	return res
}

// ackerKneeConfigs are the configurations acker-cost searches the
// sustainable rate of and sweeps offered load on: at-most-once first (the
// sweep's fractions are of its rate), the acked ones after it.
func ackerKneeConfigs(quick bool) []ackerConfig {
	cfgs := []ackerConfig{
		{ackerBase, RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}},
		{ackerKneeAcked, RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, Ackers: 1}},
	}
	if !quick {
		cfgs = append(cfgs,
			ackerConfig{"at-least-once, 2 ackers", RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, Ackers: 2}},
			ackerConfig{"exactly-once (barrier snapshots)", RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2}})
	}
	return cfgs
}

// ackerConfig is one labelled recordstream configuration of acker-cost.
type ackerConfig struct {
	name  string
	flags RuntimeFlags
}

// ackerKneeFractions are the sweep's offered rates as shares of
// at-most-once's sustainable rate: 10% to 150% in full mode; three points
// in quick mode (below, at and above the acked knee), which keeps the quick
// suite well inside its time budget.
func ackerKneeFractions(quick bool) []float64 {
	if quick {
		return []float64{0.25, 1.0, 1.5}
	}
	return []float64{0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5}
}

// runAckerKnee searches each knee configuration's sustainable rate
// ([SustainableRate]) on YSB with 500 ms windows and a 250 ms watermark
// bound (so short probes close enough windows to judge), then sweeps the
// offered load at ackerKneeFractions of at-most-once's rate, measuring
// event-time p99 per point. It records the rates in o.Knee, rows in res's
// table and the latency-against-load figure.
func runAckerKnee(ctx context.Context, quick bool, res *ExperimentResult, o *ackerOutcome, progress func(string)) {
	w, err := Overrides{Window: 500 * time.Millisecond, WatermarkBound: 250 * time.Millisecond}.Workload(mustWorkload("ysb"))
	if err != nil {
		res.Table.add("sustainable rate", "-", "-", "-", "-", errText(err), "-")
		return
	}
	copts := CapacityOptions{
		StartRate:     pick(quick, 800_000.0, 400_000.0),
		MaxProbes:     pick(quick, 5, 9),
		ProbeDuration: pick(quick, 2*time.Second, 4*time.Second),
		Precision:     pick(quick, 0.25, 0.1),
		Options:       Options{Seed: 1},
	}
	o.Precision = copts.Precision
	o.Knee = map[string]ackerKnee{}
	cfgs := ackerKneeConfigs(quick)
	for _, c := range cfgs {
		r, err := NewRunner("recordstream", c.flags)
		if err == nil {
			var cr CapacityResult
			cr, err = SustainableRate(ctx, w, r, DataSpec{Seed: 1}, copts)
			if err == nil {
				k := ackerKnee{Rate: cr.Rate, LowerBound: cr.LowerBound, Reason: cr.Reason}
				if cr.Rate == 0 {
					k.Failed = cr.Reason
				}
				o.Knee[c.name] = k
				sayf(progress, "  %s: sustainable %.0f events/s (%s)", c.name, cr.Rate, cr.Reason)
				rate, rel := cell(cr.Rate), "-"
				if cr.LowerBound {
					rate = "at least " + rate
				}
				if b := o.Knee[ackerBase]; b.Rate > 0 {
					rel = cell(cr.Rate / b.Rate)
				}
				res.Table.add(c.name+": sustainable rate (paced search)", rate, rel, "-", "-", fmt.Sprintf("%d probes", len(cr.Probes)), "-")
				continue
			}
		}
		o.Knee[c.name] = ackerKnee{Failed: trialStatus(err)}
		res.Table.add(c.name+": sustainable rate (paced search)", "-", "-", "-", "-", errText(err), "-")
	}
	base := o.Knee[ackerBase].Rate
	if base == 0 {
		res.Notes = append(res.Notes, "No latency-against-load sweep: at-most-once's sustainable rate was not found.")
		return
	}
	n := pick(quick, 1, minReps)
	// A sweep point offers its rate for point; quick mode halves a probe's
	// duration (the overloaded points are the suite's longest runs).
	point := pick(quick, copts.ProbeDuration/2, copts.ProbeDuration)
	fig := Series{Name: "knee", Title: fmt.Sprintf("YSB event-time p99 against offered load (recordstream, parallelism 2, 500 ms windows, %v per point)", point),
		XLabel: "offered rate (events/s)", YLabel: "event-time p99 (ms)"}
	for _, c := range cfgs {
		if k := o.Knee[c.name]; k.Rate > 0 {
			fig.Refs = append(fig.Refs, VLine(c.name+" sustainable", k.Rate))
		}
		line := Line{Label: c.name}
		for _, f := range ackerKneeFractions(quick) {
			rate := f * base
			label := fmt.Sprintf("%s at %.0f%% of at-most-once's rate (%s events/s)", c.name, 100*f, cell(rate))
			t := trial{workload: w, runtime: "recordstream", flags: c.flags, data: DataSpec{Rate: rate, Events: int64(rate * point.Seconds())}, timeout: 3*point + 5*time.Second}
			reports, err := t.repeat(ctx, n, progress)
			if err != nil {
				res.Table.add(label, "-", "-", "-", "-", errText(err), "-")
				continue
			}
			p99 := spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.LatencyMs.EventTime.P99 }))
			line.Points = append(line.Points, metrics.Point{T: rate, V: p99.Median})
			res.Table.add(label, spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond })).String(), "-", "-", "-", allExact(reports), p99.String())
		}
		fig.Lines = append(fig.Lines, line)
	}
	res.Series = append(res.Series, fig)
	res.Notes = append(res.Notes, fmt.Sprintf("Sustainable rate: compare.SustainableRate on YSB with 500 ms windows and a 250 ms watermark bound, paced probes of %v from %.0f events/s, at most %d probes, precision %.0f%%. The sweep offers %v of at-most-once's rate to every configuration for %v, %d repetition(s) per point; a point's event-time p99 is over all its panes.", copts.ProbeDuration, copts.StartRate, copts.MaxProbes, 100*copts.Precision, ackerKneeFractions(quick), point, n))
}

// allExact is "yes" when every report matched the reference, otherwise the
// first differing check.
func allExact(reports []*Report) string {
	for _, r := range reports {
		if !r.Check.OK() {
			return r.Check.String()
		}
	}
	if len(reports) == 0 {
		return "-"
	}
	return reports[0].Check.String()
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
