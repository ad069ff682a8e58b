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
	"github.com/weirlab/weir/internal/metrics"
)

// latencyExperiment is the latency experiment's specification.
func latencyExperiment() *Experiment {
	return &Experiment{
		Name:      "latency",
		Claim:     "L6.1",
		Statement: "Micro-batches have higher latency than record-at-a-time processing (YSB comparison), and micro-batch latency grows with load past saturation.",
		Rule:      "Sweep the offered load at fractions of micro-batch's sustainable rate. Sub-claim 1: at every load up to that rate, for each of three latencies (YSB's final update minus window end, event-time, processing-time; p50), every micro-batch configuration is higher than record-at-a-time with the ranges of repetitions apart: holds; lower outside the spread: does not hold; else inconclusive. Sub-claim 2: every micro-batch configuration that read less than 95% of an offered load has a higher event-time latency p50 there than at the lowest load, outside the spread: holds; lower outside the spread: does not hold; no load saturated it or inside the spread: inconclusive. A failed trial is inconclusive; the verdict is the worse of the two.",
		Published: "YSB 2015 [P]: Spark 1.05 s at 50K, 3.3 s at 100K, 8.2 s at 170K ev/s; Storm 0.11 with ack ~1.05-1.2 s up to 135K; Flink 1.2-1.85 s. Spark docs [P]: micro-batch latencies \"as low as 100 milliseconds\". Karimov et al. [U, to verify]: Spark has the highest latency, growing with the batch interval. Our inputs are far smaller and local, so only the ordering compares.",
		run:       runLatency,
	}
}

// ---- latency (L6.1) ----

// latencyMetrics are the three latencies the verdict compares, in the
// order the table shows them.
var latencyMetrics = [...]string{latYSB, latEventTime, latProcessingTime}

// Names of the latencies of [latencyMetrics].
const (
	latYSB            = "YSB final update - window end"
	latEventTime      = "event-time"
	latProcessingTime = "processing-time"
)

// latencyLag is the share of the offered load a configuration may fail to
// read and still count as keeping up (as [CapacityRule.Lag]).
const latencyLag = 0.05

// latencyPlan sizes the sweep by mode: quick mode runs batch intervals of
// 100 ms and 500 ms on 500 ms windows, full mode 100 ms to 2 s on 2 s
// windows (a DStream window is a multiple of the batch interval).
type latencyPlan struct {
	window, bound time.Duration
	intervals     []time.Duration
	fractions     []float64
	point         time.Duration
	search        CapacityOptions
}

// latencySlow is the per-record cost of the windowed step in every run of
// the latency experiment ([Options.Slow], waiting, as YSB's Redis join):
// it brings saturation down to rates the log's filler can offer on a small
// machine, the same for every configuration.
const latencySlow = 20 * time.Microsecond

func latencyPlanFor(quick bool) latencyPlan {
	if quick {
		return latencyPlan{window: 500 * time.Millisecond, bound: 50 * time.Millisecond,
			intervals: []time.Duration{100 * time.Millisecond, 500 * time.Millisecond},
			fractions: []float64{0.5, 3}, point: 1200 * time.Millisecond,
			search: CapacityOptions{StartRate: 50_000, MaxProbes: 3, ProbeDuration: time.Second, Precision: 0.5}}
	}
	return latencyPlan{window: 2 * time.Second, bound: 50 * time.Millisecond,
		intervals: []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second},
		fractions: []float64{0.25, 1, 2}, point: 2500 * time.Millisecond,
		search: CapacityOptions{StartRate: 25_000, MaxProbes: 5, ProbeDuration: 2 * time.Second, Precision: 0.25}}
}

func runLatency(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "offered events/s (share of the sustainable rate)", "events/s",
		"YSB final update - window end p50 ms", "YSB p99 ms", "event-time p50 ms", "event-time p99 ms", "processing-time p50 ms", "processing-time p99 ms", "matches reference (every repetition)"}}}
	plan := latencyPlanFor(quick)
	n := reps(quick)
	w, err := Overrides{Window: plan.window, WatermarkBound: plan.bound}.Workload(mustWorkload("ysb"))
	if err != nil {
		res.Verdict = inconclusive("no workload: %s", errText(err))
		return res
	}
	stream := SuiteEntry{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-least-once", Parallelism: 4}}
	var batch []SuiteEntry
	for _, bi := range plan.intervals {
		batch = append(batch, SuiteEntry{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "dstream", BatchInterval: bi}})
	}
	o := latencyOutcome{Stream: configName(stream), Fractions: plan.fractions, Points: map[latencyKey]latencyPoint{}, Failed: map[latencyKey]string{}}
	for _, e := range batch {
		o.Batch = append(o.Batch, configName(e))
	}
	// The sweep's loads are fractions of the sustainable rate of the
	// shortest batch interval.
	r, err := NewRunner(batch[0].Runtime, batch[0].Flags)
	var cr CapacityResult
	if err == nil {
		plan.search.Options = Options{Seed: 1, Slow: latencySlow}
		cr, err = SustainableRate(ctx, w, r, DataSpec{Seed: 1, InOrder: true}, plan.search)
	}
	if err == nil && cr.Rate == 0 {
		err = errors.New(cr.Reason)
	}
	if err != nil {
		res.Verdict = inconclusive("the sustainable rate of %s was not found: %s", o.Batch[0], errText(err))
		return res
	}
	o.Rate = cr.Rate
	sayf(progress, "  %s: sustainable %.0f events/s (%s)", o.Batch[0], cr.Rate, cr.Reason)
	rate := cell(cr.Rate)
	if cr.LowerBound {
		rate = "at least " + rate
	}
	res.Table.add(o.Batch[0]+": sustainable rate (paced search)", rate, "-", "-", "-", "-", "-", "-", "-", fmt.Sprintf("%d probes: %s", len(cr.Probes), cr.Reason))
	fig := Series{Name: "latency-load", Title: fmt.Sprintf("YSB (%v windows): final update minus window end, p50 (median of repetitions), against offered load", plan.window),
		XLabel: "offered load (events/s)", YLabel: "YSB latency p50 (ms)", XScale: ScaleLog, YScale: ScaleLog, Refs: []RefLine{VLine(o.Batch[0]+" sustainable", cr.Rate)}}
	et := Series{Name: "event-time-load", Title: fmt.Sprintf("YSB (%v windows): event-time latency p50 (median of repetitions) against offered load", plan.window),
		XLabel: "offered load (events/s)", YLabel: "event-time latency p50 (ms)", XScale: ScaleLog, YScale: ScaleLog, Refs: []RefLine{VLine(o.Batch[0]+" sustainable", cr.Rate)}}
	for _, bi := range plan.intervals {
		fig.Refs = append(fig.Refs, batchIntervalLine(bi))
		et.Refs = append(et.Refs, batchIntervalLine(bi))
	}
	for _, e := range append([]SuiteEntry{stream}, batch...) {
		name := configName(e)
		line, etLine := Line{Label: name}, Line{Label: name}
		for _, f := range plan.fractions {
			// Record-at-a-time is compared at the loads up to the
			// sustainable rate only (sub-claim 1); the overloaded points
			// judge micro-batch's growth (sub-claim 2).
			if e.Runtime == "recordstream" && f > 1 {
				continue
			}
			key := latencyKey{name, f}
			offered := f * cr.Rate
			label := fmt.Sprintf("%s (%.0f%%)", cell(offered), 100*f)
			d := DataSpec{Rate: offered, Events: max(1, int64(offered*plan.point.Seconds())), InOrder: true}
			reports, err := repeatTraced(ctx, w, e, d, 3*plan.point+10*time.Second, n, progress)
			if err != nil {
				o.Failed[key] = trialStatus(err)
				res.Table.add(name, label, "-", "-", "-", "-", "-", "-", "-", errText(err))
				continue
			}
			lat := func(f func(LatencySummary) float64) spread {
				return spreadOf(figure(reports, func(r *Report) float64 { return f(r.Summary.LatencyMs) }))
			}
			ysb50 := spreadOf(figure(reports, func(r *Report) float64 { return ysbLatency(r.Outcome.Trace).P50 }))
			ysb99 := spreadOf(figure(reports, func(r *Report) float64 { return ysbLatency(r.Outcome.Trace).P99 }))
			p := latencyPoint{
				Offered:    offered,
				Throughput: spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond })),
				P50Ms: map[string]spread{
					latYSB:            ysb50,
					latEventTime:      lat(func(l LatencySummary) float64 { return l.EventTime.P50 }),
					latProcessingTime: lat(func(l LatencySummary) float64 { return l.ProcessingTime.P50 }),
				},
			}
			o.Points[key] = p
			res.Table.add(name, label, p.Throughput.String(), ysb50.String(), ysb99.String(), p.P50Ms[latEventTime].String(), lat(func(l LatencySummary) float64 { return l.EventTime.P99 }).String(),
				p.P50Ms[latProcessingTime].String(), lat(func(l LatencySummary) float64 { return l.ProcessingTime.P99 }).String(), allExact(reports))
			line.Points = append(line.Points, metrics.Point{T: offered, V: ysb50.Median})
			etLine.Points = append(etLine.Points, metrics.Point{T: offered, V: p.P50Ms[latEventTime].Median})
		}
		fig.Lines = append(fig.Lines, line)
		et.Lines = append(et.Lines, etLine)
	}
	res.Series = append(res.Series, fig, et)
	res.Notes = append(res.Notes, fmt.Sprintf("YSB with %v windows and a %v watermark bound, in event-time order (as YSB's generator emits), event time following the wall clock; every run, the search's included, has a per-record cost of %v in the windowed step (Options.Slow, waiting), and record-at-a-time runs 4 tasks per component like micro-batch's 4 partition tasks. The sustainable rate of %s is compare.SustainableRate's (probes of %v from %.0f events/s, at most %d, precision %.0f%%); every configuration then runs paced at %v of it for %v of ingestion, %d repetitions each, median [min-max] (record-at-a-time only up to the rate). "+
		"YSB's latency is, per window and campaign, the emit time of its last update minus the window's end on the wall clock, over the windows that end at or before the last event time a pane carries (complete windows); event-time latency is emit time minus a pane's largest event time (Karimov et al.), processing-time latency emit time minus its largest ingest time. A configuration is saturated at a load when it read less than %.0f%% of it.",
		plan.window, plan.bound, latencySlow, o.Batch[0], plan.search.ProbeDuration, plan.search.StartRate, plan.search.MaxProbes, 100*plan.search.Precision, plan.fractions, plan.point, n, 100*(1-latencyLag)))
	res.Verdict = verdictLatency(o)
	return res
}

// repeatTraced runs workload w on configuration e over d n times, each run
// with its pane rows ([paneTracer]) and bounded by timeout; it stops at the
// first error.
func repeatTraced(ctx context.Context, w *Workload, e SuiteEntry, d DataSpec, timeout time.Duration, n int, progress func(string)) ([]*Report, error) {
	var out []*Report
	for range n {
		r, err := NewRunner(e.Runtime, e.Flags)
		if err != nil {
			return out, err
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		d.Seed = 1
		rep, err := RunOne(rctx, w, paneTracer{r}, d, Options{Seed: 1, Slow: latencySlow}, nil)
		cancel()
		if err != nil {
			sayf(progress, "  %s on %s: %v", w.Name, configName(e), err)
			return out, err
		}
		sayf(progress, "  %s on %s at %.0f events/s: %s events/s, %s", w.Name, rep.Runner, d.Rate, cell(rep.Summary.EventsPerSecond), rep.Check)
		out = append(out, rep)
	}
	return out, nil
}

// ysbLatencies is YSB's latency over one run's windows, in ms.
type ysbLatencies struct {
	// Windows is the number of (window, key) results measured.
	Windows  int
	P50, P99 float64
}

// ysbLatency is YSB's own latency metric over a run's pane rows: per
// window and key, the emit time of its last update minus the window's end
// on the wall clock (window end plus the log's event-time shift). Only
// complete windows count: those ending at or before the largest event time
// any pane carries (the last window, cut by the end of the input, ends
// after the data does).
func ysbLatency(rows []datasets.TraceRow) ysbLatencies {
	type win struct {
		start, end int64
		key        string
	}
	last := map[win]int64{}
	shift := map[win]int64{}
	maxEvent := int64(-1 << 63)
	for _, r := range rows {
		if r.Kind != datasets.TracePane {
			continue
		}
		maxEvent = max(maxEvent, r.EventTimeMs)
		k := win{r.WindowStartMs, r.WindowEndMs, r.Key}
		if e, ok := last[k]; !ok || r.EmitNanos > e {
			last[k], shift[k] = r.EmitNanos, r.EventTimeShiftMs
		}
	}
	var lat []float64
	for k, emit := range last {
		if k.end <= maxEvent+1 && k.end != int64(dataflow.MaxTime) {
			lat = append(lat, float64(emit-(k.end+shift[k])*1e6)/1e6)
		}
	}
	if len(lat) == 0 {
		return ysbLatencies{}
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return ysbLatencies{Windows: len(lat), P50: q(0.5), P99: q(0.99)}
}

// ---- L6.1 latency ----

// latencyKey names one point of the sweep: a configuration at a share of
// the sustainable rate.
type latencyKey struct {
	Config   string
	Fraction float64
}

// latencyPoint is one point of the sweep over its repetitions.
type latencyPoint struct {
	// Offered is the offered load (events/s); Throughput the events read
	// per second of the run.
	Offered    float64
	Throughput spread
	// P50Ms maps each of [latencyMetrics] to its p50 in ms.
	P50Ms map[string]spread
}

// saturated reports whether the configuration read less than (1 -
// latencyLag) of the offered load in the median repetition.
func (p latencyPoint) saturated() bool { return p.Throughput.Median < (1-latencyLag)*p.Offered }

// latencyOutcome is the sweep: Stream is the record-at-a-time
// configuration and Batch the micro-batch ones; Fractions the shares of
// Rate (the sustainable rate of Batch[0]) offered.
type latencyOutcome struct {
	Stream    string
	Batch     []string
	Fractions []float64
	Rate      float64
	Points    map[latencyKey]latencyPoint
	// Failed says why a point did not finish.
	Failed map[latencyKey]string
}

// verdictLatency judges both sub-claims ([verdictLatencyHigher],
// [verdictLatencyGrowth]): does not hold when either does not, inconclusive
// when either is, holds when both do.
func verdictLatency(o latencyOutcome) Verdict {
	var failed []string
	for _, k := range slices.SortedFunc(func(yield func(latencyKey) bool) {
		for k := range o.Failed {
			if !yield(k) {
				return
			}
		}
	}, func(a, b latencyKey) int {
		return cmp.Or(strings.Compare(a.Config, b.Config), cmp.Compare(a.Fraction, b.Fraction))
	}) {
		if o.Failed[k] != "" {
			failed = append(failed, fmt.Sprintf("%s at %.0f%%: %s", k.Config, 100*k.Fraction, o.Failed[k]))
		}
	}
	if len(failed) > 0 {
		return inconclusive("trials failed: %s", strings.Join(failed, "; "))
	}
	return worstOf(subVerdict{"higher than record-at-a-time", verdictLatencyHigher(o)}, subVerdict{"growth past saturation", verdictLatencyGrowth(o)})
}

// verdictLatencyHigher: at every load up to the sustainable rate, for each
// latency of [latencyMetrics], every micro-batch configuration's p50 is
// above record-at-a-time's outside both spreads.
func verdictLatencyHigher(o latencyOutcome) Verdict {
	var higher, lower, inside []string
	for _, f := range o.Fractions {
		if f > 1 {
			continue
		}
		rs, ok := o.Points[latencyKey{o.Stream, f}]
		for _, b := range o.Batch {
			mb, okb := o.Points[latencyKey{b, f}]
			if !ok || !okb {
				return inconclusive("%s or %s was not measured at %.0f%% of the sustainable rate", o.Stream, b, 100*f)
			}
			for _, m := range latencyMetrics {
				r, x := rs.P50Ms[m], mb.P50Ms[m]
				if !r.enough() || !x.enough() {
					return inconclusive("%s at %.0f%%: %d and %d repetitions of %s and %s (need %d)", m, 100*f, r.N, x.N, o.Stream, b, minReps)
				}
				desc := fmt.Sprintf("%s p50 at %s events/s: %s %s ms against %s %s ms", m, cell(mb.Offered), b, x, o.Stream, r)
				switch {
				case r.below(x):
					higher = append(higher, desc)
				case x.below(r):
					lower = append(lower, desc)
				default:
					inside = append(inside, desc)
				}
			}
		}
	}
	switch {
	case len(higher)+len(lower)+len(inside) == 0:
		return inconclusive("no load up to the sustainable rate was measured")
	case len(lower) > 0:
		return doesNotHold("micro-batch latency is lower outside the spread: %s (higher: %d of %d comparisons)", strings.Join(lower, "; "), len(higher), len(higher)+len(lower)+len(inside))
	case len(inside) > 0:
		return inconclusive("inside the spread: %s (higher: %d of %d comparisons)", strings.Join(inside, "; "), len(higher), len(higher)+len(inside))
	}
	return holds("micro-batch latency is higher outside the spread in all %d comparisons: %s", len(higher), strings.Join(higher, "; "))
}

// latGrowth is the latency the growth sub-claim reads: event-time latency,
// the one Karimov et al.'s sustainable throughput is defined on. YSB's
// final-update latency of a DStream window is the phase of the batch
// boundaries against the window ends plus the batch's processing, and the
// phase changes from run to run; the table shows it beside.
const latGrowth = latEventTime

// verdictLatencyGrowth: each micro-batch configuration saturated at some
// load above the sweep's lowest has a higher latGrowth p50 at the highest
// such load than at the lowest load, outside both spreads. (Whether the
// lowest load saturates is not asked: a short run of a long batch interval
// reads a few percent less than it is offered, its last batch cut after
// the input ends.)
func verdictLatencyGrowth(o latencyOutcome) Verdict {
	if len(o.Fractions) < 2 {
		return inconclusive("the sweep has %d loads (need 2)", len(o.Fractions))
	}
	lowF := slices.Min(o.Fractions)
	var grew, fell, inside, unsaturated []string
	for _, b := range o.Batch {
		low, ok := o.Points[latencyKey{b, lowF}]
		if !ok {
			return inconclusive("%s was not measured at %.0f%%", b, 100*lowF)
		}
		var hi *latencyPoint
		for _, f := range o.Fractions {
			if p, ok := o.Points[latencyKey{b, f}]; ok && f > lowF && p.saturated() {
				hi = &p
			}
		}
		if hi == nil {
			unsaturated = append(unsaturated, fmt.Sprintf("%s read %s events/s of %s at the highest load", b, o.highest(b).Throughput, cell(o.highest(b).Offered)))
			continue
		}
		l, h := low.P50Ms[latGrowth], hi.P50Ms[latGrowth]
		if !l.enough() || !h.enough() {
			return inconclusive("%s: %d and %d repetitions (need %d)", b, l.N, h.N, minReps)
		}
		desc := fmt.Sprintf("%s: %s p50 %s ms at %s events/s (read %s) against %s ms at %s events/s (YSB p50 %s against %s ms)", b, latGrowth, h, cell(hi.Offered), hi.Throughput, l, cell(low.Offered), hi.P50Ms[latYSB], low.P50Ms[latYSB])
		switch {
		case l.below(h):
			grew = append(grew, desc)
		case h.below(l):
			fell = append(fell, desc)
		default:
			inside = append(inside, desc)
		}
	}
	switch {
	case len(fell) > 0:
		return doesNotHold("latency fell past saturation, outside the spread: %s", strings.Join(fell, "; "))
	case len(inside) > 0:
		return inconclusive("inside the spread: %s", strings.Join(inside, "; "))
	case len(grew) == 0:
		return inconclusive("no load saturated a micro-batch configuration: %s", strings.Join(unsaturated, "; "))
	}
	v := holds("latency grew past saturation, outside the spread: %s", strings.Join(grew, "; "))
	if len(unsaturated) > 0 {
		v.Explanation += "; not saturated by the sweep: " + strings.Join(unsaturated, "; ")
	}
	return v
}

// highest is configuration c's point at the highest load measured.
func (o latencyOutcome) highest(c string) latencyPoint {
	var p latencyPoint
	for _, f := range o.Fractions {
		if q, ok := o.Points[latencyKey{c, f}]; ok {
			p = q
		}
	}
	return p
}
