package compare

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
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
		Rule: "Three sub-claims, the verdict is the worst of them. (1) Acking lowers the sustainable rate: holds when every at-least-once configuration's searched rate, times (1 + the search's precision), is below at-most-once's (a lower bound for at-most-once suffices); does not hold when one is not; inconclusive when a search failed or an acked one found only a lower bound. " +
			"(2) The acked knee: at 150% of at-least-once (1 acker)'s sustainable rate (or 1.5 × the lowest rate its search found not sustainable, when higher) its event-time p99 exceeds twice its p99 at 25% (medians, with the ranges of repetitions apart), while at-most-once at the same offered rates stays flat (median at 150% at most 1.5 × its median at 25%): holds; does not hold when the acked latency stays within 1.5 × outside the spread, or at-most-once's grows by more than 2× as well (the growth is not acking's); inconclusive otherwise, on a failed or mismatched run, or when the knee is not judged past the acked rate at the achieved rate (the generator filled the high point at no more than the lowest rate the acked search found not sustainable in a repetition, or the 25% point below 95% of its offer). " +
			"(3) Every tracked tuple sends an acker message: holds when every swept at-least-once configuration sends at least 1 acker message per tracked tuple in every repetition and at-most-once sends none; does not hold when one sends fewer than 1 in every repetition; inconclusive otherwise.",
		Published: "Storm's docs [P]: not tracking a tuple tree \"halves the number of messages transferred since normally there's an ack message for every tuple in the tuple tree\". YSB 2015 (Yahoo blog, papers.md §1): Storm 0.11 with ack ~1.05-1.2 s latency up to 135K ev/s, without ack ~1.2 s flat to 170K. Heron [U]: without acking only ≈2-3× gains versus 10-14× with acking. " +
			"Our acker-messages-per-tracked-tuple column is the measured counterpart of the docs' \"an ack message for every tuple\"; the knee figure is the counterpart of the YSB latency-against-throughput curves.",
		run: runAckerCost,
	}
}

// ---- acker-cost (L5.1) ----

// ackerConfig is one labelled recordstream configuration of acker-cost.
type ackerConfig struct {
	name  string
	flags RuntimeFlags
	// tracked says the configuration tracks tuple trees (at-least-once).
	tracked bool
}

// Labels of acker-cost's configurations.
const (
	ackerBase      = "at-most-once (no acker)"
	ackerKneeAcked = "at-least-once, 1 acker"
	ackerTwo       = "at-least-once, 2 ackers"
	ackerExactly   = "exactly-once (barrier snapshots)"
)

// ackerConfigs are acker-cost's configurations: at-most-once first, then
// the acked ones and exactly-once, all at parallelism 2.
// Quick mode leaves exactly-once out, to stay inside its time budget.
func ackerConfigs(quick bool) []ackerConfig {
	cfgs := []ackerConfig{
		{ackerBase, RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}, false},
		{ackerKneeAcked, RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, Ackers: 1}, true},
		{ackerTwo, RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, Ackers: 2}, true},
	}
	if !quick {
		cfgs = append(cfgs, ackerConfig{ackerExactly, RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2}, false})
	}
	return cfgs
}

// ackerSwept says whether config is swept in the given mode: quick mode
// sweeps the knee verdict's two configurations only (at-least-once with 2
// ackers is searched, not swept).
func ackerSwept(quick bool, config string) bool {
	return !quick || config == ackerBase || config == ackerKneeAcked
}

// Offered-load shares of the knee verdict: the low point and the point past
// the acked knee, both as shares of at-least-once (1 acker)'s sustainable
// rate.
const (
	ackerLow  = 0.25
	ackerHigh = 1.5
)

// ackerKneeFractions are the sweep's offered rates as shares of a
// configuration's own sustainable rate in full mode (10% to 150%). Quick mode
// offers every configuration ackerLow and ackerHigh of at-least-once
// (1 acker)'s rate only (the verdict's points), which keeps the quick suite
// inside its time budget.
func ackerKneeFractions(quick bool) []float64 {
	if quick {
		return []float64{ackerLow, ackerHigh}
	}
	return []float64{0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5}
}

// ackerPointRep is one run of a sweep point.
type ackerPointRep struct {
	p99Ms, fillRate, eventsPerSec, msgsPerTuple, tracked float64
	exact                                                bool
	check                                                string
}

// runAckerPoint runs w on c at rate for point, n times, each cut after
// 3 × point + 5 s; it stops at the first error.
func runAckerPoint(ctx context.Context, w *Workload, c ackerConfig, rate float64, point time.Duration, n int, progress func(string)) ([]ackerPointRep, error) {
	var out []ackerPointRep
	for range n {
		r, err := NewRunner("recordstream", c.flags)
		if err != nil {
			return out, err
		}
		m := &fillMeter{Runner: r}
		rctx, cancel := context.WithTimeout(ctx, 3*point+5*time.Second)
		rep, err := RunOne(rctx, w, m, DataSpec{Rate: rate, Events: max(1, int64(rate*point.Seconds())), Seed: 1}, Options{Seed: 1}, nil)
		cancel()
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("did not finish within %v: %w", 3*point+5*time.Second, err)
			}
			sayf(progress, "  %s at %.0f events/s: %v", c.name, rate, err)
			return out, err
		}
		emitted := float64(rep.Summary.Counters["emitted"])
		p := ackerPointRep{
			p99Ms: rep.Summary.LatencyMs.EventTime.P99, fillRate: m.Rate, eventsPerSec: rep.Summary.EventsPerSecond,
			msgsPerTuple: float64(rep.Summary.Counters["acker_messages"]) / max(emitted, 1), tracked: emitted,
			exact: rep.Check.OK(), check: rep.Check.String(),
		}
		sayf(progress, "  %s at %.0f events/s (filled at %.0f): p99 %.0f ms, %s", c.name, rate, p.fillRate, p.p99Ms, p.check)
		out = append(out, p)
	}
	return out, nil
}

// ackerPointOf reduces a point's repetitions to its figures.
func ackerPointOf(rate float64, reps []ackerPointRep, err error) ackerPoint {
	p := ackerPoint{Offered: rate, Failed: trialStatus(err)}
	f := func(g func(ackerPointRep) float64) spread {
		v := make([]float64, len(reps))
		for i, r := range reps {
			v[i] = g(r)
		}
		return spreadOf(v)
	}
	p.P99Ms = f(func(r ackerPointRep) float64 { return r.p99Ms })
	p.FillRate = f(func(r ackerPointRep) float64 { return r.fillRate })
	p.Throughput = f(func(r ackerPointRep) float64 { return r.eventsPerSec })
	p.MsgsPerTuple = f(func(r ackerPointRep) float64 { return r.msgsPerTuple })
	p.Tracked = f(func(r ackerPointRep) float64 { return r.tracked })
	for _, r := range reps {
		if !r.exact && p.Mismatch == "" {
			p.Mismatch = r.check
		}
	}
	if len(reps) > 0 {
		p.Check = reps[0].check
		if p.Mismatch != "" {
			p.Check = p.Mismatch
		}
	}
	return p
}

func runAckerCost(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "offered events/s", "filled events/s median [min-max]", "read events/s median [min-max]", "relative to at-most-once", "event-time p99 ms median [min-max]", "acker messages per tracked tuple", "tracked tuples", "matches reference (every repetition)"}}}
	// 200 ms windows and a 100 ms watermark bound: a probe of a second
	// closes enough windows to show a trend.
	w, err := Overrides{Window: 200 * time.Millisecond, WatermarkBound: 100 * time.Millisecond}.Workload(mustWorkload("ysb"))
	if err != nil {
		res.Table.add("ysb", "-", "-", "-", "-", "-", "-", "-", errText(err))
		res.Verdict = inconclusive("the workload could not be built: %v", err)
		return res
	}
	copts := CapacityOptions{
		StartRate:     pick(quick, 300_000.0, 200_000.0),
		MaxProbes:     pick(quick, 5, 6),
		ProbeDuration: pick(quick, 750*time.Millisecond, 1500*time.Millisecond),
		Precision:     pick(quick, 0.25, 0.1),
		Options:       Options{Seed: 1},
	}
	o := ackerOutcome{Precision: copts.Precision, Rates: map[string]ackerKnee{}, Points: map[string]ackerPoint{}}
	cfgs := ackerConfigs(quick)
	for _, c := range cfgs {
		k := ackerKnee{Tracked: c.tracked}
		r, err := NewRunner("recordstream", c.flags)
		var cr CapacityResult
		if err == nil {
			cr, err = SustainableRate(ctx, w, r, DataSpec{Seed: 1}, copts)
		}
		switch {
		case err != nil:
			k.Failed = trialStatus(err)
			res.Table.add(c.name+": sustainable rate (paced search)", "-", "-", "-", "-", "-", "-", "-", errText(err))
		default:
			k.Rate, k.LowerBound, k.Reason = cr.Rate, cr.LowerBound, cr.Reason
			for _, p := range cr.Probes {
				if !p.Sustainable && (k.Unsustainable == 0 || p.Rate < k.Unsustainable) {
					k.Unsustainable = p.Rate
				}
			}
			if cr.Rate == 0 {
				k.Failed = cr.Reason
			}
			sayf(progress, "  %s: sustainable %.0f events/s (%s)", c.name, cr.Rate, cr.Reason)
			rate, rel := cell(cr.Rate), "-"
			if cr.LowerBound {
				rate = "at least " + rate
			}
			if b := o.Rates[ackerBase]; b.Rate > 0 {
				rel = cell(cr.Rate / b.Rate)
			}
			res.Table.add(c.name+": sustainable rate (paced search)", rate, "-", "-", rel, "-", "-", "-", fmt.Sprintf("%d probes", len(cr.Probes)))
		}
		o.Rates[c.name] = k
	}
	acked := o.Rates[ackerKneeAcked].Rate
	// The verdict's high point lies past the acked search's bracket: at
	// ackerHigh of the sustainable rate, or ackerHigh × the lowest rate a probe
	// found not sustainable when that is higher.
	high := ackerHigh * max(acked, o.Rates[ackerKneeAcked].Unsustainable)
	if acked == 0 {
		res.Notes = append(res.Notes, "No latency-against-load sweep: at-least-once (1 acker)'s sustainable rate was not found.")
		res.Verdict = verdictAckerCost(o)
		return res
	}
	n := reps(quick)
	point := pick(quick, time.Second, 2*time.Second)
	fig := Series{Name: "knee", Title: fmt.Sprintf("YSB event-time p99 against offered load (recordstream, parallelism 2, 200 ms windows, %v per point)", point),
		XLabel: "offered rate (events/s)", YLabel: "event-time p99 (ms)"}
	for _, c := range cfgs {
		k := o.Rates[c.name]
		if k.Rate > 0 {
			fig.Refs = append(fig.Refs, VLine(c.name+" sustainable", k.Rate))
		}
		if !ackerSwept(quick, c.name) {
			continue
		}
		// The points: the verdict's (ackerLow and ackerHigh of the acked
		// rate, with repetitions) for at-most-once and the acked
		// configurations, then the sweep (quick: the same shares of the
		// acked rate; full: shares of the configuration's own rate).
		type pt struct {
			rate   float64
			reps   int
			key    string
			detail string
		}
		var pts []pt
		verdictPoint := c.name == ackerBase || c.tracked
		for _, f := range []float64{ackerLow, ackerHigh} {
			// The verdict reads the high point of at-most-once and of
			// at-least-once (1 acker) only.
			if verdictPoint && (f == ackerLow || c.name == ackerBase || c.name == ackerKneeAcked) {
				rate := f * acked
				if f == ackerHigh {
					rate = high
				}
				pts = append(pts, pt{rate, n, ackerPointKey(c.name, f), fmt.Sprintf("%.0f%% of %s's rate", 100*rate/acked, ackerKneeAcked)})
			}
		}
		for _, f := range ackerKneeFractions(quick) {
			base, of := acked, ackerKneeAcked
			if !quick {
				base, of = k.Rate, "its own rate"
			}
			if base == 0 || (verdictPoint && quick) || (verdictPoint && base == acked && (f == ackerLow || f == ackerHigh)) {
				continue // the verdict's points are these
			}
			pts = append(pts, pt{f * base, 1, "", fmt.Sprintf("%.0f%% of %s", 100*f, of)})
		}
		line := Line{Label: c.name}
		for _, q := range pts {
			reps, err := runAckerPoint(ctx, w, c, q.rate, point, q.reps, progress)
			p := ackerPointOf(q.rate, reps, err)
			if q.key != "" {
				o.Points[q.key] = p
			}
			label := fmt.Sprintf("%s at %s", c.name, q.detail)
			if err != nil {
				res.Table.add(label, cell(q.rate), "-", "-", "-", "-", "-", "-", errText(err))
				continue
			}
			line.Points = append(line.Points, metrics.Point{T: q.rate, V: p.P99Ms.Median})
			msgs, tracked := "-", "-"
			if c.tracked || c.name == ackerBase {
				msgs = p.MsgsPerTuple.String()
			}
			if c.tracked {
				tracked = p.Tracked.String()
			}
			res.Table.add(label, cell(q.rate), p.FillRate.String(), p.Throughput.String(), "-", p.P99Ms.String(), msgs, tracked, p.Check)
		}
		slices.SortFunc(line.Points, func(a, b metrics.Point) int { return cmp.Compare(a.T, b.T) })
		fig.Lines = append(fig.Lines, line)
	}
	res.Series = append(res.Series, fig)
	res.Notes = append(res.Notes,
		fmt.Sprintf("Sustainable rate: compare.SustainableRate on YSB with 200 ms windows and a 100 ms watermark bound, paced probes of %v from %.0f events/s, at most %d probes, precision %.0f%%; a probe whose log the generator filled below 95%% of the offered rate is not sustainable (FillRate). Every point offers its rate for %v; the verdict's points (%.0f%% and %.0f%% of at-least-once (1 acker)'s rate for at-most-once and at-least-once (1 acker), the low one for the other at-least-once configurations) run %d times, the other sweep points once (%s). A point's event-time p99 is over all its panes; \"filled\" is the rate the generator achieved.",
			copts.ProbeDuration, copts.StartRate, copts.MaxProbes, 100*copts.Precision, point, 100*ackerLow, 100*ackerHigh, n,
			pick(quick, "quick: every configuration at the verdict's shares of the acked rate", "full: 10-150% of each configuration's own sustainable rate")),
		"A tracked tuple is one the spout emitted into a tracked tree (after the spout's chained filter and projection); its acker messages are the spout's init, the windowed bolt's and the sink's acks and the acker's result, counted by recordstream. Exactly-once tracks no tuples (barrier snapshots), so its messages are not shown.",
		"Pipelines of depth 2-5 and fan-out 1-4 are not swept: recordstream fuses every stateless step of a pipeline into the spout's chain (one spout, one windowed bolt, the sink), and no workload or runtime option builds a chain of bolts or a parametrised fan-out.")
	res.Verdict = verdictAckerCost(o)
	return res
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

// ackerPointKey is the key of a configuration's verdict point at share f of
// the acked rate in [ackerOutcome.Points].
func ackerPointKey(config string, f float64) string {
	return fmt.Sprintf("%s at %.0f%%", config, 100*f)
}

// ackerKnee is one configuration's sustainable-rate search.
type ackerKnee struct {
	// Tracked says the configuration tracks tuple trees (at-least-once).
	Tracked bool
	// Failed is why the search found no rate ("" when it did).
	Failed string
	// Rate is the sustainable rate (events/s); LowerBound says every probe
	// was sustainable, so Rate only bounds it from below. Unsustainable is
	// the lowest rate a probe found not sustainable (0: none).
	Rate, Unsustainable float64
	LowerBound          bool
	// Reason is the search's explanation.
	Reason string
}

// ackerPoint is one configuration at one offered rate over its
// repetitions.
type ackerPoint struct {
	// Offered is the offered rate (events/s); Failed why a repetition did
	// not finish; Mismatch the check of a repetition that did not match
	// the reference ("" when all did); Check a check's text for the table.
	Offered  float64
	Failed   string
	Mismatch string
	Check    string
	// P99Ms is event-time p99; FillRate the rate the generator achieved;
	// Throughput events read per second; MsgsPerTuple acker messages per
	// tracked tuple; Tracked the tracked tuples.
	P99Ms, FillRate, Throughput, MsgsPerTuple, Tracked spread
}

// ackerOutcome is what acker-cost measured.
type ackerOutcome struct {
	// Rates maps a configuration's label to its sustainable-rate search.
	Rates map[string]ackerKnee
	// Precision is the search's precision (CapacityOptions.Precision).
	Precision float64
	// Points maps [ackerPointKey] of at-most-once and the at-least-once
	// configurations at ackerLow and ackerHigh to their figures.
	Points map[string]ackerPoint
}

// Thresholds of the knee sub-claim: latency past the knee "explodes" when
// it exceeds ackerExplode × the low-load latency, and stays "flat" within
// ackerFlat × it; in between is inconclusive.
const (
	ackerExplode = 2.0
	ackerFlat    = 1.5
	// ackerFillLag is the share by which the generator's fill rate may fall
	// short of the offered rate (CapacityRule.Lag's default).
	ackerFillLag = 0.05
	// ackerMinMsgs is "a message for every tuple".
	ackerMinMsgs = 1.0
)

// verdictAckerCost judges the three sub-claims ([verdictAckerRates],
// [verdictAckerKnee], [verdictAckerMessages]): it does not hold when one
// does not, is inconclusive when one is, and holds when all do.
func verdictAckerCost(o ackerOutcome) Verdict {
	return worstOf(
		subVerdict{"sustainable rate", verdictAckerRates(o)},
		subVerdict{"acked knee", verdictAckerKnee(o)},
		subVerdict{"acker messages", verdictAckerMessages(o)},
	)
}

// verdictAckerRates: acking lowers the sustainable rate when every
// at-least-once configuration's rate × (1 + precision) is below
// at-most-once's (which may be a lower bound); inconclusive when a search
// failed or an acked search found only a lower bound; does not hold
// otherwise.
func verdictAckerRates(o ackerOutcome) Verdict {
	base, ok := o.Rates[ackerBase]
	if !ok {
		return inconclusive("the sustainable rate of %s was not searched", ackerBase)
	}
	failed := map[string]string{}
	for name, k := range o.Rates {
		failed[name] = k.Failed
	}
	if f := failedTrials(failed); len(f) > 0 {
		return inconclusive("a search found no sustainable rate: %s", strings.Join(f, "; "))
	}
	bound := ""
	if base.LowerBound {
		bound = "at least "
	}
	var lower, notLower, open []string
	for _, name := range sortedKeys(o.Rates) {
		k := o.Rates[name]
		if !k.Tracked {
			continue
		}
		desc := fmt.Sprintf("%s %.0f events/s (%.0f%% of %s's %s%.0f)", name, k.Rate, 100*k.Rate/base.Rate, ackerBase, bound, base.Rate)
		switch {
		case k.LowerBound:
			open = append(open, desc+", a lower bound")
		case k.Rate*(1+o.Precision) < base.Rate:
			lower = append(lower, desc)
		default:
			notLower = append(notLower, desc)
		}
	}
	switch {
	case len(lower)+len(notLower)+len(open) == 0:
		return inconclusive("no at-least-once configuration was searched")
	case len(notLower) > 0:
		return doesNotHold("acking does not lower the sustainable rate by more than the search's precision (%.0f%%): %s", 100*o.Precision, strings.Join(notLower, "; "))
	case len(open) > 0:
		return inconclusive("an acked search found only a lower bound: %s", strings.Join(open, "; "))
	}
	return holds("acking lowers the sustainable rate by more than the search's precision (%.0f%%): %s", 100*o.Precision, strings.Join(lower, "; "))
}

// kneePoints returns config's low and high verdict points, or an
// inconclusive verdict when either is missing, failed, mismatched or has
// too few repetitions, when the generator filled the low point below
// (1 - ackerFillLag) of its offered rate, or the high point at no more than
// the lowest rate the acked search found not sustainable in some
// repetition: the knee is judged on the achieved rate, which must lie past
// the acked search's bracket.
func kneePoints(o ackerOutcome, config string) (lo, hi ackerPoint, bad *Verdict) {
	past := o.Rates[ackerKneeAcked].Unsustainable
	if past == 0 {
		v := inconclusive("the search of %s found no rate that is not sustainable, so no point is known to lie past its knee", ackerKneeAcked)
		return lo, hi, &v
	}
	get := func(f float64) (ackerPoint, *Verdict) {
		key := ackerPointKey(config, f)
		p, found := o.Points[key]
		var v Verdict
		switch {
		case !found:
			v = inconclusive("%s was not run", key)
		case p.Failed != "":
			v = inconclusive("%s: %s", key, p.Failed)
		case p.Mismatch != "":
			v = inconclusive("%s differs from the reference: %s", key, p.Mismatch)
		case !p.P99Ms.enough():
			v = inconclusive("%s has %d repetitions (need %d)", key, p.P99Ms.N, minReps)
		case f == ackerLow && p.FillRate.Min < (1-ackerFillLag)*p.Offered:
			v = inconclusive("%s was not offered its rate: the generator filled %s events/s of the %.0f asked", key, p.FillRate, p.Offered)
		case f == ackerHigh && p.FillRate.Min <= past:
			v = inconclusive("%s was not offered a rate past the acked knee: the generator filled %s events/s, not above %.0f (the lowest rate %s's search found not sustainable) in every repetition", key, p.FillRate, past, ackerKneeAcked)
		default:
			return p, nil
		}
		return p, &v
	}
	if lo, bad = get(ackerLow); bad != nil {
		return lo, hi, bad
	}
	hi, bad = get(ackerHigh)
	return lo, hi, bad
}

// verdictAckerKnee: the acked knee shows when at-least-once (1 acker)'s p99
// at ackerHigh of its sustainable rate exceeds ackerExplode × its p99 at
// ackerLow (medians, with the ranges of repetitions apart), and at-most-once at the same offered rates
// stays within ackerFlat × (medians). It does not hold when the acked p99
// stays within ackerFlat × outside the spread, or at-most-once's also
// exceeds ackerExplode × in every repetition; it is inconclusive otherwise
// or when a point is unusable ([kneePoints]).
func verdictAckerKnee(o ackerOutcome) Verdict {
	alo, ahi, bad := kneePoints(o, ackerKneeAcked)
	if bad != nil {
		return *bad
	}
	blo, bhi, bad := kneePoints(o, ackerBase)
	if bad != nil {
		return *bad
	}
	rate := o.Rates[ackerKneeAcked].Rate
	desc := fmt.Sprintf("event-time p99 of %s %s ms at %.0f events/s offered, %s filled (%.0f%% of its sustainable rate %.0f) against %s ms at %.0f events/s (%.0f%%); %s at the same rates %s ms against %s ms",
		ackerKneeAcked, ahi.P99Ms, ahi.Offered, ahi.FillRate, 100*ahi.Offered/rate, rate, alo.P99Ms, alo.Offered, 100*alo.Offered/rate, ackerBase, bhi.P99Ms, blo.P99Ms)
	explodes := func(hi, lo spread) bool { return hi.Median > ackerExplode*lo.Median && lo.below(hi) }
	ackedExplodes := explodes(ahi.P99Ms, alo.P99Ms)
	ackedFlat := ahi.P99Ms.Max <= ackerFlat*alo.P99Ms.Min
	baseExplodes := explodes(bhi.P99Ms, blo.P99Ms)
	baseFlat := bhi.P99Ms.Median <= ackerFlat*blo.P99Ms.Median
	switch {
	case ackedFlat:
		return doesNotHold("no acked knee: the acked latency past its sustainable rate stays within %.1f× its low-load latency in every repetition: %s", ackerFlat, desc)
	case ackedExplodes && baseExplodes:
		return doesNotHold("the latency grows by more than %.0f× without acking as well, so the knee is not acking's: %s", ackerExplode, desc)
	case ackedExplodes && baseFlat:
		return holds("the acked latency grows more than %.0f× past its sustainable rate (medians, ranges apart) while at-most-once stays within %.1f×: %s", ackerExplode, ackerFlat, desc)
	}
	return inconclusive("the growth lies between %.1f× and %.0f× or inside the spread of repetitions: %s", ackerFlat, ackerExplode, desc)
}

// verdictAckerMessages: every tracked tuple sends an acker message when
// at-least-once (1 acker)'s and every other swept at-least-once
// configuration's low-load point sends at least ackerMinMsgs
// per tracked tuple in every repetition and at-most-once sends none; it
// does not hold when one sends fewer in every repetition; inconclusive
// otherwise (a point missing, failed or with too few repetitions).
func verdictAckerMessages(o ackerOutcome) Verdict {
	base, ok := o.Points[ackerPointKey(ackerBase, ackerLow)]
	if !ok || base.Failed != "" || !base.MsgsPerTuple.enough() {
		return inconclusive("the at-most-once control point is missing, failed or has too few repetitions")
	}
	var enough, few, open []string
	for _, name := range sortedKeys(o.Rates) {
		key := ackerPointKey(name, ackerLow)
		p, ok := o.Points[key]
		if !o.Rates[name].Tracked || (!ok && name != ackerKneeAcked) {
			continue // not tracked, or not swept (quick mode)
		}
		if !ok || p.Failed != "" || !p.MsgsPerTuple.enough() {
			open = append(open, key+" is missing, failed or has too few repetitions")
			continue
		}
		desc := fmt.Sprintf("%s %s acker messages per tracked tuple over %s tracked tuples", name, p.MsgsPerTuple, p.Tracked)
		switch {
		case p.MsgsPerTuple.Min >= ackerMinMsgs:
			enough = append(enough, desc)
		case p.MsgsPerTuple.Max < ackerMinMsgs:
			few = append(few, desc)
		default:
			open = append(open, desc)
		}
	}
	switch {
	case len(few) > 0:
		return doesNotHold("fewer than %.0f acker message per tracked tuple: %s", ackerMinMsgs, strings.Join(few, "; "))
	case len(open) > 0:
		return inconclusive("%s", strings.Join(open, "; "))
	case len(enough) == 0:
		return inconclusive("no at-least-once configuration ran")
	case base.MsgsPerTuple.Max > 0:
		return inconclusive("the control %s sent %s acker messages per tuple", ackerBase, base.MsgsPerTuple)
	}
	return holds("%s; %s sent %s", strings.Join(enough, "; "), ackerBase, base.MsgsPerTuple)
}
