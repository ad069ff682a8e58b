package compare

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/weirlab/weir/internal/metrics"
)

// tridentExperiment is the trident experiment's specification.
func tridentExperiment() *Experiment {
	return &Experiment{
		Name:      "trident",
		Claim:     "L5.2",
		Statement: "Storm alone has no exactly-once: at-least-once duplicates after a crash; Trident adds exactly-once through micro-batches, at a large cost in throughput and latency.",
		Rule: fmt.Sprintf("Three sub-claims, combined by the worst. (a) exactness, on paced YSB with the same crash: at-least-once duplicates (windows above the full answer in every repetition) while Trident (transactional and opaque) is exact in every repetition; does not hold when a Trident repetition is not exact or no at-least-once repetition duplicates. "+
			"(b) throughput, on pre-filled YSB: Trident at its default batch size against at-least-once; holds when every Trident repetition is below %.0f%% of every at-least-once one (a large cost: at least %.0f%% lower), does not hold when every one is above it, inconclusive when the spreads straddle it. "+
			"(c) latency against batch size: a batch's latency (start to commit, the least a record of it waits for its output) at the largest batch size is above the smallest's with the ranges of repetitions apart; does not hold when it is below, inconclusive inside the spread. A failed trial or fewer than %d repetitions make a sub-claim inconclusive. Exactly-once barriers under the same crash are reported, not judged.",
			100*tridentLargeCost, 100*(1-tridentLargeCost), minReps),
		Published: "No primary benchmark gives Trident's cost against core Storm (models.md 1.5: \"a large performance drop\" is often cited, no primary figure found [U]). Ericsson Research's blog \"Comparing Apache Storm and Trident\" (2014) [S]: about 8000 against 7400 records/s on 3 nodes, 7.5% lower. The 2020 YSB rerun (papers.md 1a, unpublished supporting data) [P]: Storm Trident 2.2 p50 about 1.0-1.2 s up to 110K events/s where Storm with acking has 0.51-0.75 s, and Trident collapses at 130K and above (p50 132-321 s). Modelling bound (models.md 1.5): throughput at most max.spout.pending x batch size / (processing + serialized commit), and the 500 ms emit throttle caps the batch rate.",
		run:       runTrident,
	}
}

// ---- trident (L5.2) ----

// tridentEmitInterval is Trident's default emit interval in weir
// (recordstream.TridentConfig), which the trials keep.
const tridentEmitInterval = 5 * time.Millisecond

// tridentLargeCost is the throughput ratio, Trident over at-least-once,
// below which the cost counts as large.
const tridentLargeCost = 0.7

// tridentExact is one exactness trial's figures over its repetitions.
type tridentExact struct {
	// Duplicated is the windows above the full answer per repetition;
	// Inexact the repetitions that were not exact.
	Duplicated spread
	Inexact    int
	Reps       int
	Failed     string
}

// tridentSize is Trident's cost at one batch size.
type tridentSize struct {
	Batch      int
	Throughput spread // events/s
	LatencyP50 spread // batch latency, ms
	LatencyP99 spread
	// RecordsPerBatch is the log records a batch covered (all partitions).
	RecordsPerBatch spread
	Failed          string
}

// tridentOutcome is what the verdict reads.
type tridentOutcome struct {
	ALO, Trident, Opaque tridentExact
	// ALOThroughput is at-least-once's events/s on the pre-filled log;
	// DefaultBatch the batch size of Trident's default, one of Sizes.
	ALOThroughput spread
	ALOFailed     string
	DefaultBatch  int
	Sizes         []tridentSize
}

func runTrident(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "trial", "windows", "lost (full answer)", "duplicated (full answer)", "mismatched", "restarts", "replayed batches", "events/s", "batch latency p50 ms", "batch latency p99 ms", "records per batch"}}}
	n := reps(quick)
	ysb := mustWorkload("ysb")
	// The crash experiment's paced YSB: small windows fire while the run
	// goes on, and the allowed lateness covers at-least-once's message
	// timeout and replay, so a replay reaches a window that fired.
	rate := 20_000.0
	events := pick[int64](quick, 16_000, 60_000)
	late, err := Overrides{Window: 250 * time.Millisecond, WatermarkBound: 50 * time.Millisecond, Lateness: 5 * time.Second}.Workload(ysb)
	if err != nil {
		panic(err) // fixed overrides of a built-in workload are a programming error
	}
	paced := DataSpec{Events: events, EventRate: rate, Rate: rate}
	crash := []int64{events / 10}
	alo := RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, MessageTimeout: 250 * time.Millisecond}
	tri := RuntimeFlags{Guarantee: "trident", Parallelism: 2}
	opq := RuntimeFlags{Guarantee: "trident", Parallelism: 2, TridentSpout: "opaque"}
	eo := RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2, CheckpointInterval: 25 * time.Millisecond}
	var o tridentOutcome
	exact := func(flags RuntimeFlags, label string) tridentExact {
		t := trial{workload: late, runtime: "recordstream", flags: flags, data: paced, opts: Options{CrashAfter: crash}, timeout: time.Minute, label: "ysb, paced, crash"}
		reports, err := t.repeat(ctx, n, progress)
		e := tridentExact{Reps: len(reports), Failed: trialStatus(err)}
		var dup, restarts, replayed []float64
		for _, r := range reports {
			c := r.Check
			dup = append(dup, float64(c.Duplicated))
			if c.Lost > 0 || c.Duplicated > 0 || c.Mismatched > 0 || c.Matching != c.Windows {
				e.Inexact++
			}
			restarts = append(restarts, float64(r.Outcome.Counters["restarts"]))
			replayed = append(replayed, float64(r.Outcome.Counters["replayed_batches"]))
		}
		e.Duplicated = spreadOf(dup)
		name := configName(SuiteEntry{Runtime: "recordstream", Flags: flags})
		if e.Failed != "" {
			res.Table.add(name, label, e.Failed, "-", "-", "-", "-", "-", "-", "-", "-", "-")
			return e
		}
		lost := spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Check.Lost) }))
		mis := spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Check.Mismatched) }))
		eps := spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond }))
		res.Table.add(name, label, strconv.Itoa(reports[0].Check.Windows), lost.String(), e.Duplicated.String(), mis.String(),
			spreadOf(restarts).String(), spreadOf(replayed).String(), eps.String(), "-", "-", "-")
		return e
	}
	crashLabel := fmt.Sprintf("paced YSB at %.0f events/s, 250ms windows, lateness 5s, crash after %d", rate, crash[0])
	o.ALO = exact(alo, crashLabel)
	o.Trident = exact(tri, crashLabel+", transactional spout and state")
	o.Opaque = exact(opq, crashLabel+", opaque spout and state")
	exact(eo, crashLabel) // reported, not judged

	// The cost: a pre-filled log, so events/s is capacity.
	filled := DataSpec{Events: pick[int64](quick, 150_000, 300_000)}
	costLabel := fmt.Sprintf("pre-filled YSB, %d events", filled.Events)
	t := trial{workload: ysb, runtime: "recordstream", flags: alo, data: filled, timeout: time.Minute, label: "ysb, pre-filled"}
	reports, err := t.repeat(ctx, n, progress)
	o.ALOFailed = trialStatus(err)
	o.ALOThroughput = spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond }))
	res.Table.add(configName(SuiteEntry{Runtime: "recordstream", Flags: alo}), costLabel, "-", "-", "-", "-", "-", "-", o.ALOThroughput.String(), "-", "-", "-")
	o.DefaultBatch = 1000
	sizes := pick(quick, []int{500, 1000, 4000}, []int{100, 300, 1000, 3000, 10000})
	thr := Line{Label: "Trident"}
	p50, p99 := Line{Label: "p50"}, Line{Label: "p99"}
	for _, b := range sizes {
		f := tri
		f.TridentBatchSize = b
		t := trial{workload: ysb, runtime: "recordstream", flags: f, data: filled, timeout: time.Minute, label: fmt.Sprintf("ysb, pre-filled, batch %d", b)}
		reports, err := t.repeat(ctx, n, progress)
		s := tridentSize{Batch: b, Failed: trialStatus(err)}
		counter := func(name string, scale float64) spread {
			return spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Outcome.Counters[name]) / scale }))
		}
		s.Throughput = spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond }))
		s.LatencyP50, s.LatencyP99 = counter("batch_latency_p50_us", 1e3), counter("batch_latency_p99_us", 1e3)
		s.RecordsPerBatch = counter("records_per_batch", 1)
		o.Sizes = append(o.Sizes, s)
		label := fmt.Sprintf("%s, batch size %d", costLabel, b)
		if s.Failed != "" {
			res.Table.add(configName(SuiteEntry{Runtime: "recordstream", Flags: f}), label, s.Failed, "-", "-", "-", "-", "-", "-", "-", "-", "-")
			continue
		}
		res.Table.add(configName(SuiteEntry{Runtime: "recordstream", Flags: f}), label, "-", "-", "-", "-", "-", "-",
			s.Throughput.String(), s.LatencyP50.String(), s.LatencyP99.String(), s.RecordsPerBatch.String())
		// One batch in flight, started at most every emit interval: the
		// interval bounds the throughput at records per batch / interval.
		bound := s.RecordsPerBatch.Median / tridentEmitInterval.Seconds()
		res.Notes = append(res.Notes, fmt.Sprintf("Batch size %d: %s records per batch, one batch at a time at most every %v, bound Trident at %.0f events/s; it ran %s events/s.",
			b, s.RecordsPerBatch, tridentEmitInterval, bound, s.Throughput))
		thr.Points = append(thr.Points, metrics.Point{T: float64(b), V: s.Throughput.Median})
		p50.Points = append(p50.Points, metrics.Point{T: float64(b), V: s.LatencyP50.Median})
		p99.Points = append(p99.Points, metrics.Point{T: float64(b), V: s.LatencyP99.Median})
	}
	res.Series = append(res.Series,
		Series{Name: "throughput", Title: fmt.Sprintf("Trident's throughput against its batch size (pre-filled YSB, parallelism 2, median of %d)", n),
			XLabel: "batch size (records per partition)", YLabel: "events/s", XScale: ScaleLog,
			Refs: []RefLine{HLine("at-least-once", o.ALOThroughput.Median)}, Lines: []Line{thr}},
		Series{Name: "latency", Title: fmt.Sprintf("Trident's batch latency (start to commit) against its batch size (pre-filled YSB, median of %d)", n),
			XLabel: "batch size (records per partition)", YLabel: "batch latency (ms)", XScale: ScaleLog, Lines: []Line{p50, p99}})
	res.Verdict = verdictTrident(o)
	return res
}

// verdictTrident judges the three sub-claims (exp_trident's Rule).
func verdictTrident(o tridentOutcome) Verdict {
	return worstOf(
		subVerdict{Name: "(a) exactness", V: tridentExactness(o)},
		subVerdict{Name: "(b) throughput", V: tridentThroughput(o)},
		subVerdict{Name: "(c) latency", V: tridentLatency(o)})
}

func tridentExactness(o tridentOutcome) Verdict {
	for _, e := range []struct {
		name string
		x    tridentExact
	}{{"at-least-once", o.ALO}, {"Trident (transactional)", o.Trident}, {"Trident (opaque)", o.Opaque}} {
		switch {
		case e.x.Failed != "":
			return inconclusive("%s failed: %s", e.name, e.x.Failed)
		case e.x.Reps < minReps:
			return inconclusive("%s ran %d repetitions, need %d", e.name, e.x.Reps, minReps)
		}
	}
	switch {
	case o.Trident.Inexact > 0 || o.Opaque.Inexact > 0:
		return doesNotHold("Trident was not exact in %d of %d (transactional) and %d of %d (opaque) repetitions", o.Trident.Inexact, o.Trident.Reps, o.Opaque.Inexact, o.Opaque.Reps)
	case o.ALO.Duplicated.Max == 0:
		return doesNotHold("at-least-once duplicated no window in %d repetitions (duplicated %s), so the crash shows no need for Trident", o.ALO.Reps, o.ALO.Duplicated)
	case o.ALO.Duplicated.Min == 0:
		return inconclusive("at-least-once duplicated windows in some repetitions only (%s)", o.ALO.Duplicated)
	}
	return holds("after the same crash at-least-once duplicated %s windows while Trident was exact in %d and %d repetitions (transactional, opaque)", o.ALO.Duplicated, o.Trident.Reps, o.Opaque.Reps)
}

func tridentThroughput(o tridentOutcome) Verdict {
	var d *tridentSize
	for i := range o.Sizes {
		if o.Sizes[i].Batch == o.DefaultBatch {
			d = &o.Sizes[i]
		}
	}
	switch {
	case o.ALOFailed != "":
		return inconclusive("at-least-once failed: %s", o.ALOFailed)
	case d == nil:
		return inconclusive("Trident at batch size %d did not run", o.DefaultBatch)
	case d.Failed != "":
		return inconclusive("Trident at batch size %d failed: %s", d.Batch, d.Failed)
	case !o.ALOThroughput.enough() || !d.Throughput.enough():
		return inconclusive("%d and %d repetitions, need %d", o.ALOThroughput.N, d.Throughput.N, minReps)
	}
	ratio := d.Throughput.Median / o.ALOThroughput.Median
	line := tridentLargeCost * o.ALOThroughput.Min
	switch {
	case d.Throughput.Max < line:
		return holds("Trident at batch size %d ran %s events/s against at-least-once's %s, %.0f%% of it (every repetition below %.0f%%)", d.Batch, d.Throughput, o.ALOThroughput, 100*ratio, 100*tridentLargeCost)
	case d.Throughput.Min > tridentLargeCost*o.ALOThroughput.Max:
		return doesNotHold("Trident at batch size %d ran %s events/s against at-least-once's %s, %.0f%% of it: the cost is less than %.0f%% in every repetition", d.Batch, d.Throughput, o.ALOThroughput, 100*ratio, 100*(1-tridentLargeCost))
	}
	return inconclusive("Trident at batch size %d ran %s events/s against at-least-once's %s (%.0f%%): the spreads straddle %.0f%%", d.Batch, d.Throughput, o.ALOThroughput, 100*ratio, 100*tridentLargeCost)
}

func tridentLatency(o tridentOutcome) Verdict {
	var ok []tridentSize
	for _, s := range o.Sizes {
		if s.Failed != "" {
			return inconclusive("Trident at batch size %d failed: %s", s.Batch, s.Failed)
		}
		if !s.LatencyP50.enough() {
			return inconclusive("Trident at batch size %d ran %d repetitions, need %d", s.Batch, s.LatencyP50.N, minReps)
		}
		ok = append(ok, s)
	}
	if len(ok) < 2 {
		return inconclusive("%d batch sizes measured, need 2", len(ok))
	}
	small, large := ok[0], ok[len(ok)-1]
	switch {
	case small.LatencyP50.below(large.LatencyP50):
		return holds("the batch latency p50 rose from %s ms at batch size %d to %s ms at %d", small.LatencyP50, small.Batch, large.LatencyP50, large.Batch)
	case large.LatencyP50.below(small.LatencyP50):
		return doesNotHold("the batch latency p50 fell from %s ms at batch size %d to %s ms at %d", small.LatencyP50, small.Batch, large.LatencyP50, large.Batch)
	}
	return inconclusive("the batch latency p50 was %s ms at batch size %d and %s ms at %d: inside the spread", small.LatencyP50, small.Batch, large.LatencyP50, large.Batch)
}
