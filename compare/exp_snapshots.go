package compare

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/metrics"
)

// snapshotOverheadExperiment is the snapshot-overhead experiment's specification.
func snapshotOverheadExperiment() *Experiment {
	return &Experiment{
		Name:      "snapshot-overhead",
		Claim:     "L7",
		Statement: "Distributed snapshots give exactly-once with almost no overhead when state is small.",
		Rule: "Four sub-claims, the verdict is the worst of them. (1) Latency: among paced intervals with at least 10 checkpoints in every repetition, holds when each one's pre-commit p99 is at most 110% of the run without checkpoints; does not hold when one is above it with the ranges apart; inconclusive inside the spread or when no interval has enough checkpoints. " +
			"(2) Small state: on a filled log with checkpoints every 100 ms (at least 3 per repetition), the smallest state's throughput keeps at least 90% of the same state without; does not hold below that with the ranges apart. " +
			"(3) Size matters: the largest state's checkpoints are bigger and take longer than the smallest's, ranges apart; does not hold when they are faster, ranges apart. " +
			"(4) Restore: every crash repetition restores a checkpoint at a non-zero offset and matches the reference; does not hold when one does not match. A failed trial is inconclusive.",
		Published: "ABS (Carbone et al.) [P]: \"does not have a heavy impact on the execution ... performing well with frequent snapshots\" (exact percentages not re-read, [U]). YSB 2020 rerun [P-data]: Flink 1.11 checkpointing on versus off gives p99 1.24-1.49 s versus 1.35-1.46 s from 50K to 170K ev/s: no measurable penalty.",
		run:       runSnapshotOverhead,
	}
}

// ---- snapshot-overhead (L7) ----

// snapPacedPlan sizes the paced part of snapshot-overhead: the checkpoint
// intervals, the rate and how long each run offers it.
type snapPacedPlan struct {
	intervals []time.Duration
	rate      float64
	duration  time.Duration
	// batches is how many side-by-side batches the repetitions run in:
	// quick mode runs every repetition at once, full mode one repetition
	// per batch.
	batches int
	// slow is the skew trials' per-record wait in the windowed step.
	slow time.Duration
}

func snapshotPacedPlan(quick bool) snapPacedPlan {
	if quick {
		return snapPacedPlan{intervals: []time.Duration{100 * time.Millisecond, 500 * time.Millisecond}, rate: 5_000, duration: 6 * time.Second, batches: 1, slow: 800 * time.Microsecond}
	}
	return snapPacedPlan{intervals: []time.Duration{100 * time.Millisecond, time.Second, 3 * time.Second}, rate: 10_000, duration: 35 * time.Second, batches: reps(quick), slow: 400 * time.Microsecond}
}

// snapshotWidths are the state-size sweep's Count-Min sketch widths
// (counters per row), smallest first.
func snapshotWidths(quick bool) []int {
	if quick {
		return []int{1024, 131072}
	}
	return []int{1024, 16384, 131072, 1048576}
}

// pacedRun is what one paced run gave: its report's figures, the
// pre-commit latency of its panes, and (kept for one repetition) its p99
// over time.
type pacedRun struct {
	rep *Report
	err error
	// p99 is the processing-time p99 (ms) of the panes as the sink took
	// them in, before the transactional sink committed them.
	p99 float64
	// overTime is p99 per bucket of the run (seconds since the first
	// record was ingested, ms).
	overTime metrics.Series
}

// paneLatencies returns the processing-time latency (ms) of every pane of
// trace as the sink took it in, and when the first record was ingested.
func paneLatencies(trace []datasets.TraceRow) (lat []float64, emit []int64, start int64) {
	start = -1
	for _, r := range trace {
		switch r.Kind {
		case datasets.TraceRecord:
			if start < 0 || r.IngestNanos < start {
				start = r.IngestNanos
			}
		case datasets.TracePane:
			lat = append(lat, float64(r.EmitNanos-r.IngestNanos)/1e6)
			emit = append(emit, r.EmitNanos)
		}
	}
	return lat, emit, start
}

// nearestRank is the q-quantile (0..1) of v by nearest rank; 0 for no values.
func nearestRank(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// p99OverTime is the p99 of lat per bucket of emit time since start.
func p99OverTime(lat []float64, emit []int64, start int64, bucket time.Duration) metrics.Series {
	by := map[int64][]float64{}
	for i, l := range lat {
		b := (emit[i] - start) / int64(bucket)
		by[b] = append(by[b], l)
	}
	var out metrics.Series
	for _, b := range slices.Sorted(func(yield func(int64) bool) {
		for k := range by {
			if !yield(k) {
				return
			}
		}
	}) {
		out = append(out, metrics.Point{T: (float64(b) + 0.5) * bucket.Seconds(), V: nearestRank(by[b], 0.99)})
	}
	return out
}

// sideBySide runs ts at the same time and waits for all of them. Paced
// runs use little of the machine, so running them together keeps the
// experiment inside its budget; every run shares the machine with the
// same others, so the comparison stays fair. keepSeries asks for the p99
// over time of the runs it marks.
func sideBySide(ctx context.Context, ts []trial, keepSeries []bool, bucket time.Duration, progress func(string)) []pacedRun {
	var mu sync.Mutex
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		sayf(progress, "%s", s)
	}
	out := make([]pacedRun, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := t.do(ctx, say)
			r := pacedRun{rep: rep, err: err}
			if err == nil {
				lat, emit, start := paneLatencies(rep.Trace)
				r.p99 = nearestRank(lat, 0.99)
				if keepSeries[i] {
					r.overTime = p99OverTime(lat, emit, start, bucket)
				}
				rep.Trace, rep.Outcome.Trace = nil, nil // the figures are taken; free the rows
			}
			out[i] = r
		}()
	}
	wg.Wait()
	return out
}

// pacedConfig is one labelled configuration of the paced part.
type pacedConfig struct {
	key, label string
	flags      RuntimeFlags
	opts       Options
	trace      bool
}

func runSnapshotOverhead(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "checkpoint interval", "events/s", "pre-commit p99 ms", "relative to no checkpoints (medians)", "checkpoints", "checkpoint bytes", "checkpoint p50 ms", "alignment p99 ms", "matches reference (every repetition)"}}}
	o := snapshotOutcome{Paced: map[string]snapPaced{}}
	runSnapshotPaced(ctx, quick, res, &o, progress)
	runSnapshotSizes(ctx, quick, res, &o, progress)
	res.Verdict = verdictSnapshot(o)
	return res
}

// runSnapshotPaced runs, side by side, one paced run per checkpoint
// interval, one without checkpoints, aligned and unaligned checkpoints under
// a slow windowed step, and a crash that restores a checkpoint.
func runSnapshotPaced(ctx context.Context, quick bool, res *ExperimentResult, o *snapshotOutcome, progress func(string)) {
	plan := snapshotPacedPlan(quick)
	n := reps(quick)
	w, err := Overrides{Window: 500 * time.Millisecond, WatermarkBound: 100 * time.Millisecond}.Workload(mustWorkload("ysb"))
	if err != nil {
		res.Table.add("paced runs", "-", "-", "-", "-", "-", "-", "-", "-", errText(err))
		return
	}
	eo := func(iv time.Duration, unaligned bool) RuntimeFlags {
		return RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2, CheckpointInterval: iv, Unaligned: unaligned, WatermarkInterval: 50 * time.Millisecond}
	}
	cfgs := []pacedConfig{{snapshotBase, "exactly-once, checkpoints off (1h, never reached)", eo(time.Hour, false), Options{}, true}}
	for _, iv := range plan.intervals {
		cfgs = append(cfgs, pacedConfig{iv.String(), "exactly-once, paced", eo(iv, false), Options{}, true})
	}
	skewIv := plan.intervals[0]
	cfgs = append(cfgs,
		pacedConfig{"aligned, slow step", "exactly-once, aligned, windowed step waits " + plan.slow.String() + " per record", eo(skewIv, false), Options{Slow: plan.slow}, true},
		pacedConfig{"unaligned, slow step", "exactly-once, unaligned, windowed step waits " + plan.slow.String() + " per record", eo(skewIv, true), Options{Slow: plan.slow}, true})
	events := int64(plan.rate * plan.duration.Seconds())
	crashAt := events / 6 // about half of the records YSB's filter passes to the windowed step
	cfgs = append(cfgs, pacedConfig{snapshotCrash, fmt.Sprintf("exactly-once, crash after %d records", crashAt), eo(skewIv, false), Options{CrashAfter: []int64{crashAt}}, false})

	data := DataSpec{Rate: plan.rate, Events: events, InOrder: true} // in event-time order: no record is late, so every window is judged whole
	timeout := 3*plan.duration + 30*time.Second
	bucket := 500 * time.Millisecond
	runs := make([][]pacedRun, len(cfgs))
	perBatch := (n + plan.batches - 1) / plan.batches
	for b := 0; b < plan.batches; b++ {
		var ts []trial
		var keep []bool
		var idx []int
		for r := b * perBatch; r < min(n, (b+1)*perBatch); r++ {
			for i, c := range cfgs {
				ts = append(ts, trial{workload: w, runtime: "recordstream", flags: c.flags, data: data, opts: Options{Slow: c.opts.Slow, CrashAfter: c.opts.CrashAfter, Trace: c.trace}, timeout: timeout})
				keep = append(keep, r == 0)
				idx = append(idx, i)
			}
		}
		sayf(progress, "  snapshot-overhead: %d paced runs side by side (%v each at %.0f events/s)", len(ts), plan.duration, plan.rate)
		for j, pr := range sideBySide(ctx, ts, keep, bucket, progress) {
			runs[idx[j]] = append(runs[idx[j]], pr)
		}
	}

	fig := Series{Name: "p99-over-time", Title: fmt.Sprintf("YSB (500 ms windows) pre-commit p99 over time, paced at %.0f events/s, first repetition; markers: nominal checkpoint triggers every %v", plan.rate, plan.intervals[len(plan.intervals)-1]),
		XLabel: "seconds since the first record", YLabel: "pre-commit processing-time p99 per bucket (ms)", XScale: ScaleLinear}
	var busy spread
	for i, c := range cfgs {
		reports, failed := []*Report{}, ""
		var p99s []float64
		for _, pr := range runs[i] {
			if pr.err != nil {
				failed = trialStatus(pr.err)
				continue
			}
			reports = append(reports, pr.rep)
			p99s = append(p99s, pr.p99)
		}
		iv := c.flags.CheckpointInterval.String()
		if c.key == snapshotBase {
			iv = "off"
		}
		if failed != "" {
			res.Table.add(c.label, iv, "-", "-", "-", "-", "-", "-", "-", "error: "+failed)
			if c.key == snapshotCrash {
				o.Restore = snapRestore{Failed: failed}
			} else {
				o.Paced[c.key] = snapPaced{Failed: failed}
			}
			continue
		}
		k := func(name string, scale float64) spread {
			return spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Summary.Counters[name]) / scale }))
		}
		tp := spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond }))
		if c.key == snapshotCrash {
			o.Restore = snapRestore{Restored: k("restored_checkpoints", 1), Offset: k("restored_offset", 1), Replayed: k("replayed", 1), Matched: countMatching(reports), N: len(reports)}
			res.Table.add(c.label, iv, tp.String(), "-", "-", k("checkpoints", 1).String(), k("checkpoint_bytes", 1).String(), k("checkpoint_duration_p50_us", 1e3).String(), k("alignment_p99_us", 1e3).String(),
				fmt.Sprintf("%s; restored %s checkpoint(s) at offset %s (summed over partitions), %s records replayed", allExact(reports), o.Restore.Restored, o.Restore.Offset, o.Restore.Replayed))
			continue
		}
		p := snapPaced{P99: spreadOf(p99s), Checkpoints: k("checkpoints", 1), Alignment: k("alignment_p99_us", 1e3)}
		o.Paced[c.key] = p
		rel := "-"
		if b := o.Paced[snapshotBase].P99; b.N > 0 && b.Median > 0 {
			rel = cell(p.P99.Median / b.Median)
		}
		res.Table.add(c.label, iv, tp.String(), p.P99.String(), rel, p.Checkpoints.String(), k("checkpoint_bytes", 1).String(), k("checkpoint_duration_p50_us", 1e3).String(), p.Alignment.String(), allExact(reports))
		if c.opts.Slow > 0 && !c.flags.Unaligned {
			// The share of each windowed task's time the wait takes, from
			// the records the windowed step took in.
			busy = spreadOf(figure(reports, func(r *Report) float64 {
				return 100 * float64(r.Summary.Counters["records_in"]) / float64(c.flags.Parallelism) * c.opts.Slow.Seconds() / max(r.Summary.Seconds, 1e-9)
			}))
		}
		if c.opts.Slow == 0 && len(runs[i]) > 0 && runs[i][0].overTime != nil {
			fig.Lines = append(fig.Lines, Line{Label: "checkpoints " + iv, Points: runs[i][0].overTime})
		}
	}
	last := plan.intervals[len(plan.intervals)-1]
	for t := last; t <= plan.duration; t += last {
		label := ""
		if t == last {
			label = "checkpoint every " + last.String() + " (nominal)"
		}
		fig.Refs = append(fig.Refs, VLine(label, t.Seconds()))
	}
	res.Series = append(res.Series, fig)
	res.Notes = append(res.Notes,
		fmt.Sprintf("Paced part: YSB in event-time order with 500 ms windows, a 100 ms watermark bound and watermarks every 50 ms, recordstream exactly-once, parallelism 2, %.0f events/s for %v (%d events) per run, %d repetitions, median [min-max]; every configuration's repetitions ran side by side (%d batch(es)) so the runs share the machine alike. Latency is the processing-time p99 of the panes as the sink took them in, before the two-phase sink commits them: the committed event-time p99 also waits for the next checkpoint (and without checkpoints for the end of the run), so it is not judged (nor shown). The relative column is the p99 ratio for paced rows and the throughput ratio for state-size rows. An interval is judged only when each repetition completed at least %d checkpoints. Process CPU per event is not measured: the runs share one process.", plan.rate, plan.duration, events, n, plan.batches, snapshotMinCheckpoints),
		fmt.Sprintf("Skew: aligned against unaligned checkpoints every %v with the windowed step waiting %v per record, which takes %s%% of each windowed task's time (records into the windowed step per task × wait / run time, aligned run), so barriers queue behind records; alignment p99 is shown, not judged. A stop-the-world baseline is not built: recordstream has no mode that pauses the topology to snapshot.", skewIv, plan.slow, busy),
		fmt.Sprintf("Restore: the crash trial crashes the windowed task after %d records and restarts from the newest complete checkpoint; the restored offset is the sum over partitions of the offsets the spouts resume from (recordstream's restored_offset counter, the last restore's).", crashAt))
}

// countMatching is how many reports matched the reference.
func countMatching(reports []*Report) int {
	n := 0
	for _, r := range reports {
		if r.Check.OK() {
			n++
		}
	}
	return n
}

// runSnapshotSizes sweeps the state size: hashtag-approx-topn's Count-Min
// sketch width, on a filled log, with checkpoints every 100 ms and off.
func runSnapshotSizes(ctx context.Context, quick bool, res *ExperimentResult, o *snapshotOutcome, progress func(string)) {
	n := reps(quick)
	events := pick[int64](quick, 300_000, 1_000_000)
	iv := snapshotSweepInterval(quick)
	bytesFig := Series{Name: "state-size", Title: fmt.Sprintf("hashtag-approx-topn checkpoint size and duration against sketch width (checkpoints every %v, filled log)", iv),
		XLabel: "Count-Min sketch width (counters per row)", YLabel: "checkpoint p50 (ms); checkpoint MB"}
	durLine, mbLine, relLine := Line{Label: "checkpoint p50 ms"}, Line{Label: "checkpoint MB"}, Line{Label: "throughput with / without checkpoints ×100"}
	for _, width := range snapshotWidths(quick) {
		sz := snapSize{Width: width}
		w, err := Overrides{SketchWidth: width}.Workload(mustWorkload("hashtag-approx-topn"))
		if err != nil {
			sz.Failed = trialStatus(err)
			o.Sizes = append(o.Sizes, sz)
			res.Table.add(fmt.Sprintf("state size: sketch width %d", width), "-", "-", "-", "-", "-", "-", "-", "-", errText(err))
			continue
		}
		var rows [][]any
		for _, on := range []bool{false, true} {
			civ := time.Hour
			if on {
				civ = iv
			}
			reports, err := trial{workload: w, runtime: "recordstream", flags: RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2, CheckpointInterval: civ}, data: DataSpec{Events: events}, timeout: 3 * time.Minute}.repeat(ctx, n, progress)
			label := fmt.Sprintf("state size: sketch width %d, filled log of %d events", width, events)
			ivs := "off"
			if on {
				ivs = iv.String()
			}
			if err != nil {
				sz.Failed = trialStatus(err)
				rows = append(rows, []any{label, ivs, "-", "-", "-", "-", "-", "-", "-", errText(err)})
				continue
			}
			k := func(name string, scale float64) spread {
				return spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Summary.Counters[name]) / scale }))
			}
			tp := spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond }))
			rel := "-"
			if on {
				sz.Throughput, sz.Bytes, sz.Duration, sz.Checkpoints = tp, k("checkpoint_bytes", 1), k("checkpoint_duration_p50_us", 1e3), k("checkpoints", 1)
				if sz.Base.N > 0 {
					rel = cell(tp.Median / sz.Base.Median)
				}
			} else {
				sz.Base = tp
			}
			rows = append(rows, []any{label, ivs, tp.String(), "-", rel, k("checkpoints", 1).String(), k("checkpoint_bytes", 1).String(), k("checkpoint_duration_p50_us", 1e3).String(), k("alignment_p99_us", 1e3).String(), allExact(reports)})
		}
		for _, r := range rows {
			res.Table.add(r...)
		}
		o.Sizes = append(o.Sizes, sz)
		if sz.Failed == "" && sz.Checkpoints.Min > 0 {
			durLine.Points = append(durLine.Points, metrics.Point{T: float64(width), V: sz.Duration.Median})
			mbLine.Points = append(mbLine.Points, metrics.Point{T: float64(width), V: sz.Bytes.Median / 1e6})
			relLine.Points = append(relLine.Points, metrics.Point{T: float64(width), V: 100 * sz.Throughput.Median / sz.Base.Median})
		}
	}
	bytesFig.Lines = []Line{durLine, mbLine, relLine}
	bytesFig.XScale, bytesFig.YScale = ScaleLog, ScaleLog
	res.Series = append(res.Series, bytesFig)
	res.Notes = append(res.Notes, fmt.Sprintf("State-size sweep: hashtag-approx-topn (one Count-Min sketch per prefix and hour window) with sketch widths %v, %d events filled before each run (capacity, not latency), recordstream exactly-once, parallelism 2, checkpoints every %v against never (1h), %d repetitions. Checkpoint bytes are the last completed checkpoint's size.", snapshotWidths(quick), events, iv, n))
}

// ---- L7 snapshot-overhead ----

// snapshotBase labels the exactly-once trial that never checkpoints.
const snapshotBase = "off"

// snapshotCrash labels the crash-and-restore trial.
const snapshotCrash = "crash"

// snapshotMinCheckpoints is how many checkpoints a repetition must
// complete before its figures say anything about their cost.
const snapshotMinCheckpoints = 10

// snapshotSweepInterval is the state-size sweep's checkpoint interval:
// frequent, as the ABS paper's "frequent snapshots", but not back to back
// (at 20 ms a small state's checkpoint, some 40 ms, was always running).
// Quick mode's shorter log takes 50 ms so that it still completes
// snapshotMinSweepCheckpoints.
func snapshotSweepInterval(quick bool) time.Duration {
	return pick(quick, 50*time.Millisecond, 100*time.Millisecond)
}

// snapshotMinSweepCheckpoints is how many checkpoints each repetition of
// a state size must complete before its throughput is judged.
const snapshotMinSweepCheckpoints = 3

// snapshotMaxOverhead is "almost no overhead": the share of throughput a
// checkpointing run may lose, and the share its p99 may grow by.
const snapshotMaxOverhead = 0.1

// snapPaced is one paced configuration over its repetitions: pre-commit
// p99 (ms), completed checkpoints and alignment p99 (ms).
type snapPaced struct {
	Failed                      string
	P99, Checkpoints, Alignment spread
}

// snapSize is one state size of the sweep: throughput without (Base) and
// with checkpoints, and the checkpoints' bytes, p50 duration (ms) and count.
type snapSize struct {
	Width                                          int
	Failed                                         string
	Base, Throughput, Bytes, Duration, Checkpoints spread
}

// snapRestore is the crash trial over its repetitions: checkpoints
// restored, restored offset (summed over partitions), records replayed and
// how many of N repetitions matched the reference.
type snapRestore struct {
	Failed                     string
	Restored, Offset, Replayed spread
	Matched, N                 int
}

// snapshotOutcome is snapshot-overhead's figures: the paced runs by
// interval label ([snapshotBase] for no checkpoints; skew trials are
// labelled with "slow step" and not judged), the state sizes smallest
// first, and the restore trial.
type snapshotOutcome struct {
	Paced   map[string]snapPaced
	Sizes   []snapSize
	Restore snapRestore
}

// verdictSnapshot is the worst of the four sub-verdicts.
func verdictSnapshot(o snapshotOutcome) Verdict {
	return worstOf(
		subVerdict{"latency", verdictSnapshotLatency(o)},
		subVerdict{"small state", verdictSnapshotSmall(o)},
		subVerdict{"state size", verdictSnapshotSize(o)},
		subVerdict{"restore", verdictSnapshotRestore(o)},
	)
}

// verdictSnapshotLatency judges the paced intervals' pre-commit p99
// against the run without checkpoints.
func verdictSnapshotLatency(o snapshotOutcome) Verdict {
	judged := map[string]snapPaced{}
	for k, r := range o.Paced {
		if !strings.Contains(k, "slow step") {
			judged[k] = r
		}
	}
	if f := failedRuns(judged, func(r snapPaced) string { return r.Failed }); len(f) > 0 {
		return inconclusive("trials failed: %s", strings.Join(f, "; "))
	}
	base, ok := judged[snapshotBase]
	if !ok || !base.P99.enough() || base.P99.Median <= 0 {
		return inconclusive("the run without checkpoints has %d repetitions with a pre-commit p99 (need %d)", base.P99.N, minReps)
	}
	var cheap, costly, inside, few []string
	for _, k := range sortedKeys(judged) {
		if k == snapshotBase {
			continue
		}
		r := judged[k]
		if !r.P99.enough() || r.Checkpoints.Min < snapshotMinCheckpoints {
			few = append(few, fmt.Sprintf("%s (%s checkpoints)", k, r.Checkpoints))
			continue
		}
		ratio := r.P99.Median / base.P99.Median
		desc := fmt.Sprintf("every %s: p99 %s ms, %.0f%% of %s ms without checkpoints, over %s checkpoints", k, r.P99, 100*ratio, base.P99, r.Checkpoints)
		switch {
		case ratio <= 1+snapshotMaxOverhead:
			cheap = append(cheap, desc)
		case base.P99.below(r.P99):
			costly = append(costly, desc)
		default:
			inside = append(inside, desc)
		}
	}
	tail := ""
	if len(cheap) > 0 && (len(costly) > 0 || len(inside) > 0) {
		tail = fmt.Sprintf("; within %.0f%%: %s", 100*snapshotMaxOverhead, strings.Join(cheap, "; "))
	}
	if len(few) > 0 {
		tail += fmt.Sprintf("; not judged, fewer than %d checkpoints per repetition: %s", snapshotMinCheckpoints, strings.Join(few, ", "))
	}
	switch {
	case len(costly) > 0:
		return doesNotHold("checkpoints raise the pre-commit p99 by more than %.0f%%, outside the spread: %s%s", 100*snapshotMaxOverhead, strings.Join(costly, "; "), tail)
	case len(inside) > 0:
		return inconclusive("the p99 increase lies inside the spread: %s%s", strings.Join(inside, "; "), tail)
	case len(cheap) == 0:
		return inconclusive("no interval completed %d checkpoints in every repetition: %s", snapshotMinCheckpoints, strings.Join(few, ", "))
	}
	return holds("checkpointing keeps the pre-commit p99 within %.0f%% of no checkpoints: %s%s", 100*snapshotMaxOverhead, strings.Join(cheap, "; "), tail)
}

// verdictSnapshotSmall judges the smallest state's throughput with
// checkpoints against without.
func verdictSnapshotSmall(o snapshotOutcome) Verdict {
	if len(o.Sizes) == 0 {
		return inconclusive("no state size ran")
	}
	s := o.Sizes[0]
	switch {
	case s.Failed != "":
		return inconclusive("sketch width %d failed: %s", s.Width, s.Failed)
	case !s.Base.enough() || !s.Throughput.enough():
		return inconclusive("sketch width %d has %d and %d repetitions (need %d)", s.Width, s.Base.N, s.Throughput.N, minReps)
	case s.Checkpoints.Min < snapshotMinSweepCheckpoints:
		return inconclusive("sketch width %d: a repetition completed fewer than %d checkpoints (%s)", s.Width, snapshotMinSweepCheckpoints, s.Checkpoints)
	}
	ratio := s.Throughput.Median / s.Base.Median
	desc := fmt.Sprintf("sketch width %d (%s checkpoint bytes, %s checkpoints): %s events/s with checkpoints, %.0f%% of %s without", s.Width, s.Bytes, s.Checkpoints, s.Throughput, 100*ratio, s.Base)
	switch {
	case ratio >= 1-snapshotMaxOverhead:
		return holds("the smallest state keeps at least %.0f%% of the throughput: %s", 100*(1-snapshotMaxOverhead), desc)
	case s.Throughput.below(s.Base):
		return doesNotHold("the smallest state loses more than %.0f%% of the throughput, outside the spread: %s", 100*snapshotMaxOverhead, desc)
	}
	return inconclusive("the smallest state's loss lies inside the spread: %s", desc)
}

// verdictSnapshotSize judges that checkpoints of the largest state are
// bigger and slower than of the smallest.
func verdictSnapshotSize(o snapshotOutcome) Verdict {
	if len(o.Sizes) < 2 {
		return inconclusive("%d state sizes ran (need 2)", len(o.Sizes))
	}
	small, large := o.Sizes[0], o.Sizes[len(o.Sizes)-1]
	for _, s := range []snapSize{small, large} {
		switch {
		case s.Failed != "":
			return inconclusive("sketch width %d failed: %s", s.Width, s.Failed)
		case !s.Duration.enough() || s.Checkpoints.Min < 1:
			return inconclusive("sketch width %d has %d repetitions with %s checkpoints (need %d repetitions with at least one)", s.Width, s.Duration.N, s.Checkpoints, minReps)
		}
	}
	desc := fmt.Sprintf("sketch width %d: %s bytes, checkpoint p50 %s ms; sketch width %d: %s bytes, checkpoint p50 %s ms", small.Width, small.Bytes, small.Duration, large.Width, large.Bytes, large.Duration)
	switch {
	case small.Bytes.below(large.Bytes) && small.Duration.below(large.Duration):
		return holds("the larger state's checkpoints are bigger and slower, outside the spread: %s", desc)
	case large.Duration.below(small.Duration):
		return doesNotHold("the larger state's checkpoints are faster, outside the spread: %s", desc)
	}
	return inconclusive("checkpoint size or duration does not grow outside the spread: %s", desc)
}

// verdictSnapshotRestore judges the crash trial: restored from a
// checkpoint at a non-zero offset, and exact.
func verdictSnapshotRestore(o snapshotOutcome) Verdict {
	r := o.Restore
	switch {
	case r.Failed != "":
		return inconclusive("the crash trial failed: %s", r.Failed)
	case r.N < minReps:
		return inconclusive("the crash trial has %d repetitions (need %d)", r.N, minReps)
	case r.Matched < r.N:
		return doesNotHold("%d of %d crash repetitions did not match the reference after restoring %s checkpoint(s) at offset %s", r.N-r.Matched, r.N, r.Restored, r.Offset)
	case r.Restored.Min < 1 || r.Offset.Min <= 0:
		return inconclusive("a crash repetition did not restore a checkpoint at a non-zero offset (restored %s, offset %s)", r.Restored, r.Offset)
	}
	return holds("every one of %d crash repetitions restored %s checkpoint(s) at offset %s (%s records replayed) and matched the reference", r.N, r.Restored, r.Offset, r.Replayed)
}
