package compare

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// snapshotOverheadExperiment is the snapshot-overhead experiment's specification.
func snapshotOverheadExperiment() *Experiment {
	return &Experiment{
		Name:      "snapshot-overhead",
		Claim:     "L7",
		Statement: "Distributed snapshots give exactly-once with almost no overhead when state is small.",
		Rule:      "Among intervals with at least 10 checkpoints in every repetition, holds when each keeps at least 90% of the throughput without checkpoints; does not hold when one loses more, outside the spread; inconclusive inside the spread or when no interval has enough checkpoints.",
		Published: "ABS (Carbone et al.) [P]: \"does not have a heavy impact on the execution ... performing well with frequent snapshots\" (exact percentages not re-read, [U]). YSB 2020 rerun [P-data]: Flink 1.11 checkpointing on versus off gives p99 1.24-1.49 s versus 1.35-1.46 s from 50K to 170K ev/s: no measurable penalty.",
		run:       runSnapshotOverhead,
	}
}

// ---- snapshot-overhead (L7) ----

func runSnapshotOverhead(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "checkpoint interval", "events/s", "relative to no checkpoints (medians)", "checkpoints", "checkpoint bytes", "checkpoint p50 ms", "alignment p50 ms", "matches reference (every repetition)"}}}
	events := pick[int64](quick, 4_000_000, 8_000_000)
	n := reps(quick)
	w := mustWorkload("ysb")
	type cfg struct {
		label    string
		guar     string
		interval time.Duration
	}
	cfgs := []cfg{
		{"at-most-once (no snapshots)", "at-most-once", 0},
		{"exactly-once", "exactly-once", time.Hour},
		{"exactly-once", "exactly-once", 10 * time.Second},
		{"exactly-once", "exactly-once", time.Second},
		{"exactly-once", "exactly-once", 100 * time.Millisecond},
		{"exactly-once", "exactly-once", 10 * time.Millisecond},
	}
	o := snapshotOutcome{Runs: map[string]snapRun{}}
	for _, c := range cfgs {
		f := RuntimeFlags{Guarantee: c.guar, Parallelism: 2, CheckpointInterval: c.interval}
		iv, key := "-", ""
		if c.guar == "exactly-once" {
			iv, key = c.interval.String(), c.interval.String()
			if c.interval == time.Hour {
				iv, key = "off (1h, never reached)", snapshotBase
			}
		}
		reports, err := trial{workload: w, runtime: "recordstream", flags: f, data: DataSpec{Events: events}, timeout: 2 * time.Minute}.repeat(ctx, n, progress)
		if err != nil {
			if key != "" {
				o.Runs[key] = snapRun{Failed: trialStatus(err)}
			}
			res.Table.add(c.label, iv, "-", "-", "-", "-", "-", "-", errText(err))
			continue
		}
		k := func(name string, scale float64) spread {
			return spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Summary.Counters[name]) / scale }))
		}
		r := snapRun{Throughput: spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond })), Checkpoints: k("checkpoints", 1)}
		rel := "-"
		if key != "" {
			o.Runs[key] = r
			if b := o.Runs[snapshotBase].Throughput; b.N > 0 {
				rel = cell(r.Throughput.Median / b.Median)
			}
		}
		res.Table.add(c.label, iv, r.Throughput.String(), rel, r.Checkpoints.String(), k("checkpoint_bytes", 1).String(), k("checkpoint_duration_p50_us", 1e3).String(), k("alignment_p50_us", 1e3).String(), allExact(reports))
	}
	res.Notes = append(res.Notes, fmt.Sprintf("YSB, %d events filled before the run (capacity, not latency), parallelism 2, %d repetitions, median [min-max]. An interval is judged only when each repetition completed at least %d checkpoints; the baseline is exactly-once whose interval is never reached.", events, n, snapshotMinCheckpoints))
	res.Verdict = verdictSnapshot(o)
	return res
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
