package compare

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/weirlab/weir/internal/metrics"
)

// transactionalUpdatesExperiment is the transactional-updates experiment's
// specification (L8).
func transactionalUpdatesExperiment() *Experiment {
	return &Experiment{
		Name:      "transactional-updates",
		Claim:     "L8",
		Statement: "Google Cloud Dataflow: exactly-once through transactional updates.",
		Rule: "Two sub-claims, the verdict is the worst of them. (a) Exact: every repetition of recordstream dataflow on paced YSB with two task crashes and 10% of its acknowledgements lost matches the reference answer, with its crashes fired; does not hold when one does not match; inconclusive when a trial failed or no crash fired. " +
			"(b) Per-record cost: holds when every repetition looks up at least one record id per record the windowed step took in and commits a positive number of bytes per record, and the committed processing-time p50 of dataflow and of barrier snapshots (exactly-once) under the same crashes lie apart (the direction is stated, with both p99s); does not hold when a repetition looks up fewer ids than records or commits nothing; inconclusive when the p50 ranges overlap or a trial failed. " +
			"Trident's exactness and latency under the same crashes, throughput on a filled log and recovery times are measured and shown, not judged.",
		Published: "MillWheel (Akidau et al., VLDB 2013) [P]: exactly-once by record ids checked against a Bloom filter and a backing store, state and productions committed in one atomic write per key, upstream backup with retries; strong productions cost throughput and latency against weak ones (figures from memory, [U]). Cloud Dataflow's exactly-once docs describe the same per-record deduplication and checkpointed shuffle [P].",
		run:       runTransactionalUpdates,
	}
}

// ---- transactional-updates (L8) ----

// tuConfig is one configuration of the experiment.
type tuConfig struct {
	key   string // the guarantee
	label string
	flags RuntimeFlags
	opts  Options // the paced crash trial's faults
}

// tuRun is one configuration's measured figures over its repetitions.
type tuRun struct {
	Label string
	// Failed is why a trial did not finish ("" when they all did).
	Failed string
	N      int
	// Matched counts the paced crash repetitions equal to the reference;
	// Crashed those whose crashes fired.
	Matched, Crashed int
	// P50 and P99 are the committed processing-time latency (ms) of the
	// paced crash trials; Throughput the filled-log events per second.
	P50, P99, Throughput spread
	// Recovery is the p50 (ms) of crash to restored (per task for
	// dataflow, the whole topology for barrier snapshots); Resent the
	// records sent again after the crashes (retries, or records replayed
	// from the log).
	Recovery, Resent spread
	// LookupsPerRecord and CommitBytesPerRecord are dataflow's dedup
	// lookups and commit bytes per record the windowed step took in.
	LookupsPerRecord, CommitBytesPerRecord, IDBytesPerRecord spread
}

// tuOutcome is what the verdict reads.
type tuOutcome struct {
	Runs map[string]tuRun
}

const (
	tuDataflow = "dataflow"
	tuBarrier  = "exactly-once"
	tuTrident  = "trident"
)

// tuPlan sizes the experiment.
type tuPlan struct {
	rate     float64
	duration time.Duration
	filled   int64
}

func transactionalPlan(quick bool) tuPlan {
	if quick {
		return tuPlan{rate: 5_000, duration: 3 * time.Second, filled: 100_000}
	}
	return tuPlan{rate: 10_000, duration: 10 * time.Second, filled: 400_000}
}

// transactionalConfigs lists the configurations: dataflow, barrier
// snapshots and Trident; each paced trial has the same crashes, dataflow's
// also lost acks.
func transactionalConfigs(crashes []int64) []tuConfig {
	cfgs := []tuConfig{
		{tuDataflow, "dataflow (transactional updates), 10% of acks lost", RuntimeFlags{Guarantee: "dataflow", Parallelism: 2, DataflowRetry: 50 * time.Millisecond, WatermarkInterval: 50 * time.Millisecond},
			Options{CrashAfter: crashes, DropAcks: 0.1}},
		{tuBarrier, "exactly-once (barrier snapshots every 200ms)", RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2, CheckpointInterval: 200 * time.Millisecond, WatermarkInterval: 50 * time.Millisecond},
			Options{CrashAfter: crashes}},
		{tuTrident, "trident (transactional, default batch size)", RuntimeFlags{Guarantee: "trident", Parallelism: 2}, Options{CrashAfter: crashes}},
	}
	return cfgs
}

func runTransactionalUpdates(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "matches reference (paced, crashes)", "crashes fired", "committed p50 ms", "committed p99 ms", "events/s (filled log)", "recovery p50 ms", "records sent again", "dedup lookups / record", "commit bytes / record (ids)"}}}
	plan := transactionalPlan(quick)
	n := reps(quick)
	o := tuOutcome{Runs: map[string]tuRun{}}
	w, err := Overrides{Window: 500 * time.Millisecond, WatermarkBound: 100 * time.Millisecond}.Workload(mustWorkload("ysb"))
	if err != nil {
		res.Table.add("all", errText(err), "-", "-", "-", "-", "-", "-", "-", "-")
		res.Verdict = inconclusive("the workload could not be built: %s", errText(err))
		return res
	}
	events := int64(plan.rate * plan.duration.Seconds())
	// YSB's filter passes about a third of the records to the windowed
	// step; the crashes fall in its first and second thirds.
	crashes := []int64{events / 9, events / 5}
	cfgs := transactionalConfigs(crashes)
	paced := DataSpec{Rate: plan.rate, Events: events, InOrder: true} // no record is late: every window is judged whole
	timeout := 3*plan.duration + time.Minute

	// Paced crash trials: one repetition of every configuration side by
	// side per batch, so they share the machine alike.
	pacedReps := make([][]*Report, len(cfgs))
	failed := make([]string, len(cfgs))
	for r := range n {
		sayf(progress, "  transactional-updates: repetition %d/%d, %d paced runs side by side (%v at %.0f events/s, crashes after %v)", r+1, n, len(cfgs), plan.duration, plan.rate, crashes)
		var wg sync.WaitGroup
		got := make([]*Report, len(cfgs))
		errs := make([]error, len(cfgs))
		for i, c := range cfgs {
			wg.Go(func() {
				opts := c.opts
				opts.Seed = uint64(r + 1)
				got[i], errs[i] = trial{workload: w, runtime: "recordstream", flags: c.flags, data: paced, opts: opts, timeout: timeout, label: "ysb paced, " + c.key}.do(ctx, progress)
			})
		}
		wg.Wait()
		for i := range cfgs {
			if errs[i] != nil {
				failed[i] = trialStatus(errs[i])
				continue
			}
			pacedReps[i] = append(pacedReps[i], got[i])
		}
	}

	// Throughput on a filled log, no faults.
	filledReps := make([][]*Report, len(cfgs))
	for i, c := range cfgs {
		flags := c.flags
		flags.WatermarkInterval = 0
		reports, err := trial{workload: mustWorkload("ysb"), runtime: "recordstream", flags: flags, data: DataSpec{Events: plan.filled}, timeout: 3 * time.Minute, label: "ysb filled, " + c.key}.repeat(ctx, n, progress)
		if err != nil && failed[i] == "" {
			failed[i] = trialStatus(err)
		}
		filledReps[i] = reports
	}

	p99Fig := Series{Name: "committed-latency", Title: fmt.Sprintf("YSB (500 ms windows) paced at %.0f events/s with crashes after %v records: committed processing-time latency per repetition", plan.rate, crashes),
		XLabel: "repetition", YLabel: "committed processing-time latency (ms)", XScale: ScaleLinear}
	tpFig := Series{Name: "throughput", Title: fmt.Sprintf("YSB on a filled log (%d events), no faults: throughput per repetition", plan.filled),
		XLabel: "repetition", YLabel: "events per second", XScale: ScaleLinear}
	for i, c := range cfgs {
		pr, fr := pacedReps[i], filledReps[i]
		run := tuRun{Label: c.label, Failed: failed[i], N: len(pr), Matched: countMatching(pr)}
		for _, r := range pr {
			if r.Summary.Crashes > 0 {
				run.Crashed++
			}
		}
		k := func(reports []*Report, f func(*Report) float64) spread { return spreadOf(figure(reports, f)) }
		ctr := func(name string) func(*Report) float64 {
			return func(r *Report) float64 { return float64(r.Summary.Counters[name]) }
		}
		perRecord := func(name string) func(*Report) float64 {
			return func(r *Report) float64 {
				return float64(r.Summary.Counters[name]) / max(float64(r.Summary.Counters["records_in"]), 1)
			}
		}
		run.P50 = k(pr, func(r *Report) float64 { return r.Summary.LatencyMs.ProcessingTime.P50 })
		run.P99 = k(pr, func(r *Report) float64 { return r.Summary.LatencyMs.ProcessingTime.P99 })
		run.Throughput = k(fr, func(r *Report) float64 { return r.Summary.EventsPerSecond })
		run.Recovery = k(pr, func(r *Report) float64 { return float64(r.Summary.Counters["recovery_p50_us"]) / 1e3 })
		switch c.key {
		case tuDataflow:
			run.Resent = k(pr, ctr("retries_sent"))
			run.LookupsPerRecord = k(pr, perRecord("dedup_lookups"))
			run.CommitBytesPerRecord = k(pr, perRecord("commit_bytes"))
			run.IDBytesPerRecord = k(pr, perRecord("commit_id_bytes"))
		default:
			run.Resent = k(pr, ctr("replayed"))
		}
		o.Runs[c.key] = run
		match := fmt.Sprintf("%d of %d", run.Matched, run.N)
		if run.Failed != "" {
			match += "; error: " + run.Failed
		} else if run.Matched < run.N {
			match += "; " + allExact(pr)
		}
		lookups, bytes := "-", "-"
		if c.key == tuDataflow {
			lookups = run.LookupsPerRecord.String()
			bytes = fmt.Sprintf("%s (%s)", run.CommitBytesPerRecord, run.IDBytesPerRecord)
		}
		res.Table.add(c.label, match, fmt.Sprintf("%d of %d", run.Crashed, run.N), run.P50.String(), run.P99.String(), run.Throughput.String(), run.Recovery.String(), run.Resent.String(), lookups, bytes)
		var p99Line, tpLine Line
		p99Line.Label, tpLine.Label = c.key+" p99", c.key
		for j, r := range pr {
			p99Line.Points = append(p99Line.Points, metrics.Point{T: float64(j + 1), V: r.Summary.LatencyMs.ProcessingTime.P99})
		}
		for j, r := range fr {
			tpLine.Points = append(tpLine.Points, metrics.Point{T: float64(j + 1), V: r.Summary.EventsPerSecond})
		}
		p99Fig.Lines = append(p99Fig.Lines, p99Line)
		tpFig.Lines = append(tpFig.Lines, tpLine)
	}
	res.Series = append(res.Series, p99Fig, tpFig)
	trident := "Trident runs with its default batch size and emit interval; its spouts send their watermark with each batch."
	res.Notes = append(res.Notes,
		fmt.Sprintf("Paced part: YSB in event-time order with 500 ms windows and a 100 ms watermark bound, parallelism 2, %.0f events/s for %v (%d events), crashes of a windowed task after %v records taken in, %d repetitions (median [min-max]), every configuration's repetition side by side. Latency is the committed processing-time latency of the output a reader sees: dataflow commits per bundle (input batch), barrier snapshots when a checkpoint completes. %s", plan.rate, plan.duration, events, crashes, n, trident),
		"Recovery is the time from the crash to the restored task (dataflow: the crashed task alone reloads its committed state and pending productions; its senders retry what it had not acknowledged) or to the restored topology (barrier snapshots: every task rolls back to the newest checkpoint and the spouts replay from its offsets). Records sent again: dataflow's retries (after lost acks and crashes), the others' records replayed from the log.",
		"Dedup lookups and commit bytes are per record the windowed step took in (records_in). A commit writes the bundle's operator calls (its records, watermarks and firings, appended to a log over a base snapshot that is rewritten once the log outgrows it), its consumed ids (16 bytes each) and its productions (panes); the bracket is the id part alone.")
	res.Verdict = verdictTransactional(o)
	return res
}

// verdictTransactional applies the rule: the worst of exactness and
// per-record cost.
func verdictTransactional(o tuOutcome) Verdict {
	return worstOf(subVerdict{"exact", verdictTransactionalExact(o)}, subVerdict{"per-record cost", verdictTransactionalCost(o)})
}

// verdictTransactionalExact is sub-claim (a).
func verdictTransactionalExact(o tuOutcome) Verdict {
	d, ok := o.Runs[tuDataflow]
	switch {
	case !ok || d.N == 0:
		return inconclusive("no dataflow repetition ran%s", failedNote(d.Failed))
	case d.Matched < d.N:
		return doesNotHold("%d of %d dataflow repetitions with crashes and lost acks did not match the reference", d.N-d.Matched, d.N)
	case d.Failed != "":
		return inconclusive("%d of %d dataflow repetitions matched, but a trial failed: %s", d.Matched, d.N, d.Failed)
	case !(spread{N: d.N}).enough():
		return inconclusive("only %d dataflow repetitions ran, fewer than %d", d.N, minReps)
	case d.Crashed < d.N:
		return inconclusive("the crashes fired in only %d of %d dataflow repetitions", d.Crashed, d.N)
	}
	return holds("%d of %d dataflow repetitions with crashes (fired in %d) and lost acks matched the reference, %s records sent again", d.Matched, d.N, d.Crashed, d.Resent)
}

func failedNote(failed string) string {
	if failed == "" {
		return ""
	}
	return ": " + failed
}

// verdictTransactionalCost is sub-claim (b).
func verdictTransactionalCost(o tuOutcome) Verdict {
	d, dok := o.Runs[tuDataflow]
	b, bok := o.Runs[tuBarrier]
	switch {
	case !dok || d.LookupsPerRecord.N == 0:
		return inconclusive("no dataflow repetition measured its lookups%s", failedNote(d.Failed))
	case d.LookupsPerRecord.Min < 1:
		return doesNotHold("a dataflow repetition looked up %s record ids per record taken in, fewer than one", cell(d.LookupsPerRecord.Min))
	case d.CommitBytesPerRecord.Min <= 0:
		return doesNotHold("a dataflow repetition committed %s bytes per record", cell(d.CommitBytesPerRecord.Min))
	case d.Failed != "" || (bok && b.Failed != ""):
		return inconclusive("a trial failed: %s", strings.TrimPrefix(failedNote(d.Failed+b.Failed), ": "))
	case !bok || !b.P50.enough() || !d.P50.enough():
		return inconclusive("dataflow looks up %s ids and commits %s bytes per record, but the latencies rest on %d and %d repetitions, fewer than %d", d.LookupsPerRecord, d.CommitBytesPerRecord, d.P50.N, b.P50.N, minReps)
	}
	cost := fmt.Sprintf("dataflow looks up %s record ids and commits %s bytes (%s of them ids) per record taken in", d.LookupsPerRecord, d.CommitBytesPerRecord, d.IDBytesPerRecord)
	p99s := fmt.Sprintf("p99 %s ms against %s ms", d.P99, b.P99)
	switch {
	case d.P50.below(b.P50):
		return holds("%s; its committed p50 %s ms is below barrier snapshots' %s ms (%s of it), ranges apart (%s)", cost, d.P50, b.P50, percent(d.P50.Median, b.P50.Median), p99s)
	case b.P50.below(d.P50):
		return holds("%s; its committed p50 %s ms is above barrier snapshots' %s ms (%s of it), ranges apart (%s)", cost, d.P50, b.P50, percent(d.P50.Median, b.P50.Median), p99s)
	}
	return inconclusive("%s; its committed p50 %s ms and barrier snapshots' %s ms overlap (%s)", cost, d.P50, b.P50, p99s)
}

// percent is a of b as a percentage.
func percent(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*a/b)
}
