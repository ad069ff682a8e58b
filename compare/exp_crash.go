package compare

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/metrics"
)

// crashExperiment is the crash experiment's specification.
func crashExperiment() *Experiment {
	return &Experiment{
		Name:      "crash",
		Claim:     "L4/L5/L6/L7",
		Statement: "Mostly correct is not good enough: after a crash at-most-once loses, at-least-once duplicates, snapshots and recomputed micro-batches are exact, and only exactly-once gives the same answer twice.",
		Rule:      "Five sub-claims, each on its trials in every repetition against the full answer: at-most-once loses; at-least-once duplicates (judged on paced YSB whose allowed lateness covers the message timeout and the replay, and on stateless grep with lost acks: duplicates measured, nothing lost, and every repetition duplicates more than every repetition of the same run without faults, else the duplicates are not the faults' alone: such a trial is reported, and the sub-claim rests on the trials that are above their controls, inconclusive when none is); exactly-once is exact; exactly-once restores from a completed checkpoint (restored offset above 0 in every repetition, else not exercised: inconclusive) and is exact there; repeatability (L4: every pair of repetitions of the same seed and fault plan is diffed window by window; exactly-once gives the same answer in every pair, at-most-once and at-least-once differ between the two runs or both differ from the full answer). Holds when every trial shows its outcome, does not hold when one consistently shows another, inconclusive when repetitions disagree, a sub-claim has no trial or is not exercised, or a trial failed. At-least-once with lateness 0 is reported, not judged.",
		Published: "No paper gives this table (papers.md, suggested reproduction 2); the expectation rests on Storm's docs [P] (at-least-once; \"use the Trident API\" for exactly-once) and on DStreams [P]: \"sub-second fault recovery\" by recomputing lost batches.",
		run:       runCrash,
	}
}

// ---- crash (L4, L5, L6, L7) ----

// crashTrial is one crash configuration of the experiment.
type crashTrial struct {
	w       *Workload
	label   string // the workload as the table names it
	runtime string
	flags   RuntimeFlags
	data    DataSpec
	crashes []int64
	// dropAcks is the share of acker messages lost.
	dropAcks float64
	claim    string
	want     crashClass
	// restore says the trial must restore from a completed checkpoint.
	restore bool
	// line names the trial's line in the per-window figure ("" for none).
	line string
	// controlled says the trial is judged against a run of the same
	// configuration without faults (the trial's label + crashControlSuffix).
	controlled bool
}

// crashControlSuffix ends the label of a run without faults that controls
// a crash trial of the same configuration.
const crashControlSuffix = ", without faults"

func runCrash(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "workload", "faults", "sub-claim (claimed outcome)", "windows / rows", "lost (full answer)", "duplicated (full answer)", "mismatched (full answer)", "duplicates counted by the sink", "late drops: replays lost to lateness", "crashes / restarts", "replayed / recomputed", "restored from checkpoint / offset", "differing between repetitions (per pair)", "exact repetitions"}}}
	n := reps(quick)
	ysb, grep := mustWorkload("ysb"), mustWorkload("grep")

	// Paced YSB with small windows, so that windows fire while the run
	// goes on: event time follows the wall clock at rate events/s, the
	// crash comes at about a third of the input (the windowed step keeps
	// the views, a third of the events), and the input lasts long enough
	// for at-least-once's replays (message timeout, then the replay)
	// to arrive before its end.
	rate := 20_000.0
	events := pick[int64](quick, 28_000, 80_000)
	at := events / 10
	timeout := 500 * time.Millisecond
	lateness := 5 * time.Second
	win, bound := 250*time.Millisecond, 50*time.Millisecond
	late, err := Overrides{Window: win, WatermarkBound: bound, Lateness: lateness}.Workload(ysb)
	if err != nil {
		panic(err) // fixed overrides of a built-in workload are a programming error
	}
	onTime, err := Overrides{Window: win, WatermarkBound: bound}.Workload(ysb)
	if err != nil {
		panic(err)
	}
	paced := DataSpec{Events: events, EventRate: rate, Rate: rate}
	filled := DataSpec{Events: events, EventRate: rate}
	// Exactly-once is paced three times as fast over the same data (the
	// same event times): the crash still comes after several checkpoints.
	eoPaced := DataSpec{Events: events, EventRate: rate, Rate: 3 * rate}
	lateLabel := fmt.Sprintf("ysb (%v windows, lateness %v)", win, lateness)
	onTimeLabel := fmt.Sprintf("ysb (%v windows, lateness 0)", win)

	// The microbatch rows and grep keep the workloads' own settings.
	mbEvents := pick[int64](quick, 100_000, 400_000)
	mbAt := mbEvents / 6
	grepEvents := pick[int64](quick, 50_000, 50_000)
	// grep is stateless, so its sink task crashes; it keeps about 16% of
	// the events, so events/16 is 40% of its rows.
	grepAt := grepEvents / 16
	// Exactly-once on grep is paced, so that its sink crashes after
	// several checkpoints.
	grepEO := DataSpec{Events: pick[int64](quick, 12_000, 50_000), Rate: pick(quick, 24_000.0, 25_000.0)}

	alo := RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, MessageTimeout: timeout}
	eo := RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2, CheckpointInterval: 25 * time.Millisecond}
	amo := RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}
	// Stateless grep acks on receipt, so its message timeout only sets how
	// long the lost trees wait.
	grepALO := RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, MessageTimeout: pick(quick, 250*time.Millisecond, time.Second)}
	trials := []crashTrial{
		{w: late, label: lateLabel, runtime: "recordstream", flags: amo, data: filled, crashes: []int64{at}, claim: crashClaimLoses, want: crashLoses, line: "at-most-once"},
		{w: late, label: lateLabel, runtime: "recordstream", flags: alo, data: paced, crashes: []int64{at}, claim: crashClaimDups, want: crashDuplicates, line: "at-least-once", controlled: true},
		// Its control: the same run without the crash. A windowed tuple is
		// acked when its last window is dropped (window end + lateness),
		// so duplicates the crash did not cause show here.
		{w: late, label: lateLabel, runtime: "recordstream", flags: alo, data: paced, want: crashDuplicates, line: "at-least-once, no crash"},
		{w: late, label: lateLabel, runtime: "recordstream", flags: eo, data: eoPaced, crashes: []int64{at}, claim: crashClaimExact, want: crashExact, restore: true, line: "exactly-once"},
		{w: ysb, label: "ysb", runtime: "microbatch", flags: RuntimeFlags{Mode: "dstream", BatchInterval: time.Second}, data: DataSpec{Events: mbEvents}, crashes: []int64{mbAt}, claim: crashClaimExact, want: crashExact},
		{w: ysb, label: "ysb", runtime: "microbatch", flags: RuntimeFlags{Mode: "dstream", BatchInterval: time.Second, CheckpointInterval: time.Second}, data: DataSpec{Events: mbEvents}, crashes: []int64{mbAt / 2, mbAt}, claim: crashClaimExact, want: crashExact},
		// Stateless grep: the sink crashes and 1% of acker messages are
		// lost, so rows whose acks were lost time out and reach the sink
		// again under a new tree (recordstream's RS2).
		{w: grep, label: "grep", runtime: "recordstream", flags: amo, data: DataSpec{Events: grepEvents}, crashes: []int64{grepAt}, dropAcks: crashDropAcks, claim: crashClaimLoses, want: crashLoses},
		{w: grep, label: "grep", runtime: "recordstream", flags: eo, data: grepEO, crashes: []int64{grepEO.Events / 16}, dropAcks: crashDropAcks, claim: crashClaimExact, want: crashExact, restore: true},
	}
	trials = append(trials,
		crashTrial{w: grep, label: "grep", runtime: "recordstream", flags: grepALO, data: DataSpec{Events: grepEvents}, crashes: []int64{grepAt}, dropAcks: crashDropAcks, claim: crashClaimDups, want: crashDuplicates, controlled: true},
		crashTrial{w: grep, label: "grep", runtime: "recordstream", flags: grepALO, data: DataSpec{Events: grepEvents}, want: crashDuplicates})
	if !quick {
		// Lateness 0: replays reach windows that were dropped.
		trials = append(trials, crashTrial{w: onTime, label: onTimeLabel, runtime: "recordstream", flags: alo, data: paced, crashes: []int64{at}, want: crashDuplicates, line: "at-least-once, lateness 0"})
	}
	fig := Series{Name: "window-diff", Title: fmt.Sprintf("YSB after one crash: each (window, campaign)'s count minus the full answer's (recordstream, %v windows, median of %d repetitions)", win, n),
		XLabel: "(window, campaign), in the full answer's order", YLabel: "count minus the full answer's (views)", XScale: ScaleLinear, YScale: ScaleLinear}
	o := crashOutcome{Runs: map[string]crashRun{}}
	for _, c := range trials {
		name := configName(SuiteEntry{Runtime: c.runtime, Flags: c.flags})
		if len(c.crashes) > 1 {
			name += " (failed batch + driver crash)"
		}
		label := c.label + " on " + name
		if c.data.Rate > 0 {
			label += fmt.Sprintf(", paced at %.0f events/s", c.data.Rate)
		}
		control := ""
		if c.controlled {
			control = label + crashControlSuffix
		}
		faults := "none"
		if len(c.crashes) > 0 {
			faults = "crash after " + strings.Trim(strings.ReplaceAll(fmt.Sprint(c.crashes), " ", ", "), "[]")
		}
		if len(c.crashes) == 0 && c.dropAcks == 0 {
			label += crashControlSuffix
		}
		if c.dropAcks > 0 {
			faults += fmt.Sprintf(", %.0f%% of acker messages lost", 100*c.dropAcks)
		}
		claimed := string(c.want)
		switch {
		case len(c.crashes) == 0:
			claimed = "control (no faults)"
		case c.claim == "":
			claimed = "not judged (" + claimed + " claimed; lateness 0)"
		default:
			claimed = c.claim + " (" + claimed + ")"
		}
		reports, err := trial{workload: c.w, runtime: c.runtime, flags: c.flags, data: c.data, opts: Options{CrashAfter: c.crashes, DropAcks: c.dropAcks}, timeout: 2 * time.Minute}.repeat(ctx, n, progress)
		run := crashRun{Failed: trialStatus(err), Claim: c.claim, Want: c.want, Stateless: c.w == grep, Restore: c.restore, Control: control}
		if err != nil {
			o.Runs[label] = run
			res.Table.add(name, c.label, faults, claimed, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", errText(err))
			continue
		}
		exact := 0
		for _, r := range reports {
			f, k := r.Check.Full, r.Summary.Counters
			p := crashRep{Lost: f.Lost, Duplicated: f.Duplicated, Mismatched: f.Mismatched, LateReplays: r.Check.Late.Replays, SinkDuplicates: int(k["duplicates"]),
				Restores: int(k["restored_checkpoints"]), RestoredCheckpoint: k["restored_checkpoint_id"], RestoredOffset: k["restored_offset"]}
			run.Reps = append(run.Reps, p)
			if p.class() == crashExact {
				exact++
			}
		}
		run.Pairs = crashPairs(reports, run.Stateless)
		o.Runs[label] = run
		if c.line != "" {
			fig.Lines = append(fig.Lines, Line{Label: c.line, Points: windowDeltaLine(reports)})
		}
		cellOf := func(f func(*Report) float64) string { return spreadOf(figure(reports, f)).String() }
		k := func(names ...string) func(*Report) float64 {
			return func(r *Report) float64 {
				var v int64
				for _, n := range names {
					v += r.Summary.Counters[n]
				}
				return float64(v)
			}
		}
		var between []float64
		for _, p := range run.Pairs {
			between = append(between, float64(p.Differ))
		}
		restored := "-"
		if c.runtime == "recordstream" && c.flags.Guarantee == "exactly-once" {
			restored = cellOf(k("restored_checkpoint_id")) + " / " + cellOf(k("restored_offset"))
		}
		res.Table.add(name, c.label, faults, claimed, cellOf(func(r *Report) float64 { return float64(r.Check.Full.Windows) }),
			cellOf(func(r *Report) float64 { return float64(r.Check.Full.Lost) }), cellOf(func(r *Report) float64 { return float64(r.Check.Full.Duplicated) }),
			cellOf(func(r *Report) float64 { return float64(r.Check.Full.Mismatched) }), cellOf(k("duplicates")), cellOf(func(r *Report) float64 { return float64(r.Check.Late.Replays) }),
			cellOf(k("crashes", "failed_batches"))+" / "+cellOf(k("restarts", "driver_restarts")), cellOf(k("replayed"))+" / "+cellOf(k("recomputed_records")),
			restored, fmt.Sprintf("%s (%d pairs)", spreadOf(between), len(run.Pairs)), fmt.Sprintf("%d of %d", exact, len(reports)))
	}
	if len(fig.Lines) > 0 {
		res.Series = append(res.Series, fig)
	}
	res.Notes = append(res.Notes,
		fmt.Sprintf("Windowed rows: YSB, %d events at %.0f events/s of event time, %v fixed windows, watermark bound %v, recordstream with parallelism 2; one crash of the windowed task after it took in %d records. At-least-once (message timeout %v) is paced at %.0f events/s, so event time follows the wall clock, with allowed lateness %v (a replayed record reaches a window that already fired and updates it); its control is the same run without the crash (a windowed tuple is acked when its last window is dropped, at window end + lateness in event time, so a tuple held longer than the message timeout is replayed without any fault, L5.3), and full mode adds the crash with lateness 0; exactly-once (checkpoint every %v) is paced at %.0f events/s over the same data and its crash comes after several checkpoints; at-most-once reads the same data filled before the run. The restored column is the last restore's checkpoint id and the offset it resumed at (summed over the 4 partitions), from the runtime's counters.", events, rate, win, bound, at, timeout, rate, lateness, eo.CheckpointInterval, eoPaced.Rate),
		fmt.Sprintf("Microbatch rows: YSB (10 s windows), %d events filled before the run; failure of the batch holding record %d, and in the last row a driver crash too, recovered from the checkpoint. grep (stateless), %d events: one crash of the sink task after %d rows (40%% of them), and %.0f%% of acker messages lost (a seeded choice); at-most-once has no acker and exactly-once no acks to lose; exactly-once reads %d events paced at %.0f events/s (checkpoint every %v); at-least-once on grep has a message timeout of %v and a control without faults.", mbEvents, mbAt, grepEvents, grepAt, 100*crashDropAcks, grepEO.Events, grepEO.Rate, eo.CheckpointInterval, grepALO.MessageTimeout),
		fmt.Sprintf("%d repetitions per configuration, each with the same data seed and fault plan. Counts compare with the full (batch) answer, median [min-max]: (window, key) pairs for YSB, rows (as multisets) for grep. \"Differing between repetitions\" diffs the outputs of every pair of repetitions: the (window, key) pairs whose results differ, or the rows in one multiset and not the other. The figure plots each (window, campaign)'s count minus the full answer's, the median over repetitions.", n))
	res.Verdict = verdictCrash(o)
	return res
}

// crashPairs diffs the outputs of every pair of repetitions (i < j).
func crashPairs(reports []*Report, stateless bool) []crashPair {
	var out []crashPair
	for i := range reports {
		for j := i + 1; j < len(reports); j++ {
			out = append(out, crashPair{A: i, B: j, Differ: diffOutputs(reports[i].Outcome.Results, reports[j].Outcome.Results, stateless)})
		}
	}
	return out
}

// diffOutputs counts how two runs' outputs differ: for windowed results the
// (window, key) pairs whose results (as multisets) differ, for stateless
// ones the rows one run has more often than the other.
func diffOutputs(a, b []dataflow.Result, stateless bool) int {
	if stateless {
		count := map[string]int{}
		for _, r := range a {
			count[rowText(r)]++
		}
		for _, r := range b {
			count[rowText(r)]--
		}
		n := 0
		for _, c := range count {
			n += max(c, -c)
		}
		return n
	}
	group := func(rs []dataflow.Result) map[windowKey][]string {
		m := map[windowKey][]string{}
		for _, r := range rs {
			k := windowKey{r.Window, r.Key}
			m[k] = append(m[k], rowText(r))
		}
		for _, v := range m {
			slices.Sort(v)
		}
		return m
	}
	ga, gb := group(a), group(b)
	n := 0
	for k, v := range ga {
		if !slices.Equal(v, gb[k]) {
			n++
		}
	}
	for k := range gb {
		if _, ok := ga[k]; !ok {
			n++
		}
	}
	return n
}

// windowDeltaLine is the per-window figure's line of one trial: at x the
// ordinal of the full answer's (window, key) pair, the median over
// repetitions of its count minus the full answer's.
func windowDeltaLine(reports []*Report) metrics.Series {
	var by [][]float64
	for _, r := range reports {
		for i, d := range r.Check.Full.Deltas {
			if i >= len(by) {
				by = append(by, nil)
			}
			by[i] = append(by[i], float64(d.Delta))
		}
	}
	line := make(metrics.Series, len(by))
	for i, v := range by {
		line[i] = metrics.Point{T: float64(i), V: spreadOf(v).Median}
	}
	return line
}

// crashDropAcks is the share of acker messages the crash experiment's
// stateless trials lose.
const crashDropAcks = 0.01

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
	// Restores counts restores from a completed checkpoint; the last one
	// restored RestoredCheckpoint and resumed at RestoredOffset (summed
	// over partitions; 0: the start of the input).
	Restores           int
	RestoredCheckpoint int64
	RestoredOffset     int64
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

// restoredMidway reports whether the repetition restored from a
// checkpoint taken after the start of the input.
func (r crashRep) restoredMidway() bool { return r.Restores > 0 && r.RestoredOffset > 0 }

// crashPair is the diff of two repetitions' outputs.
type crashPair struct {
	// A and B index the repetitions.
	A, B int
	// Differ counts the (window, key) pairs (rows, when stateless) whose
	// results differ between the two.
	Differ int
}

// The sub-claims of the crash statement. The first three are tested by the
// trials that name them in [crashRun.Claim]; restore by the trials with
// [crashRun.Restore]; repeatability by every judged trial.
const (
	crashClaimLoses   = "at-most-once loses"
	crashClaimDups    = "at-least-once duplicates"
	crashClaimExact   = "exactly-once is exact"
	crashClaimRestore = "exactly-once restores from a completed checkpoint"
	crashClaimRepeat  = "exact runs repeat their answer, at-most-once and at-least-once do not"
)

// crashClaims lists the sub-claims in the order the verdict reports them.
func crashClaims() []string {
	return []string{crashClaimLoses, crashClaimDups, crashClaimExact, crashClaimRestore, crashClaimRepeat}
}

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
	// Restore says the trial tests crashClaimRestore: each repetition
	// must restore from a checkpoint past the start of the input.
	Restore bool
	Reps    []crashRep
	// Pairs diffs every pair of repetitions' outputs.
	Pairs []crashPair
	// Control is the label of the same configuration's run without
	// faults ("" for none): at-least-once's duplicates count for the
	// crash only when every repetition of the trial duplicates more than
	// every repetition of the control.
	Control string
}

// crashOutcome maps a configuration's label to its runs.
type crashOutcome struct {
	Runs map[string]crashRun
}

func (r crashRun) unit() string {
	if r.Stateless {
		return "rows"
	}
	return "windows"
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
	desc := fmt.Sprintf("%s: %s %s lost, %s duplicated", label, spreadOf(lost), r.unit(), spreadOf(dup))
	if s := spreadOf(sink); s.Max > 0 {
		desc += fmt.Sprintf(" (the sink counted %s duplicates)", s)
	}
	if l := spreadOf(late); l.Max > 0 {
		desc += fmt.Sprintf(", %s replays dropped as late", l)
	}
	return desc
}

// describeRestore is the run's restores over its repetitions.
func (r crashRun) describeRestore(label string) string {
	var ids, offs []float64
	mid := 0
	for _, p := range r.Reps {
		ids = append(ids, float64(p.RestoredCheckpoint))
		offs = append(offs, float64(p.RestoredOffset))
		if p.restoredMidway() {
			mid++
		}
	}
	return fmt.Sprintf("%s: restored checkpoint %s at offset %s, past offset 0 in %d of %d repetitions", label, spreadOf(ids), spreadOf(offs), mid, len(r.Reps))
}

// describePairs is the diff of the run's pairs of repetitions.
func (r crashRun) describePairs(label string) string {
	var d []float64
	for _, p := range r.Pairs {
		d = append(d, float64(p.Differ))
	}
	exact := 0
	for _, p := range r.Reps {
		if p.class() == crashExact {
			exact++
		}
	}
	return fmt.Sprintf("%s: %s %s differ between the two runs of a pair (%d pairs), %d of %d runs equal to the full answer", label, spreadOf(d), r.unit(), len(r.Pairs), exact, len(r.Reps))
}

// crashJudgement is one sub-claim's findings over its trials.
type crashJudgement struct {
	as, against, varied []string
	// unattributed are trials that showed their outcome in every
	// repetition, but no more than their control without faults did: they
	// neither establish nor refute the sub-claim, which then rests on the
	// trials in as (inconclusive when there are none).
	unattributed []string
	tested       bool
}

// verdictCrash tests each sub-claim on its trials: at-most-once loses,
// at-least-once duplicates (duplicates measured, nothing lost, in every
// repetition), exactly-once is exact (nothing lost or duplicated, so the
// duplicates are at-least-once's alone), exactly-once restores from a
// checkpoint past offset 0 and is exact there (a restore from offset 0 does
// not exercise it: inconclusive), and the exact runs repeat their answer
// while at-most-once and at-least-once do not (every pair of repetitions
// diffed). Every sub-claim needs a trial; a trial
// with no sub-claim is reported, not judged.
func verdictCrash(o crashOutcome) Verdict {
	if f := failedRuns(o.Runs, func(r crashRun) string { return r.Failed }); len(f) > 0 {
		return inconclusive("trials failed: %s", strings.Join(f, "; "))
	}
	j := map[string]*crashJudgement{}
	for _, c := range crashClaims() {
		j[c] = &crashJudgement{}
	}
	var unjudged []string
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
		if r.Claim == "" {
			got := "varied"
			if len(classes) == 1 {
				got = string(slices.Collect(maps.Keys(classes))[0]) + " in every repetition"
			}
			unjudged = append(unjudged, desc+" ("+got+")")
			continue
		}
		c := j[r.Claim]
		c.tested = true
		switch {
		case len(classes) > 1:
			c.varied = append(c.varied, desc)
		case classes[r.Want] == len(r.Reps) && r.Control != "":
			judgeControl(c, r, desc, o.Runs[r.Control], r.Control)
		case classes[r.Want] == len(r.Reps):
			c.as = append(c.as, desc)
		default:
			got := slices.Collect(maps.Keys(classes))[0]
			c.against = append(c.against, fmt.Sprintf("%s (%s in every repetition, not %s)", desc, got, r.Want))
		}
		if r.Restore {
			judgeRestore(j[crashClaimRestore], r, k, classes)
		}
		judgeRepeat(j[crashClaimRepeat], r, k)
	}
	var against, varied, missing, shown []string
	for _, name := range crashClaims() {
		c := j[name]
		switch {
		case !c.tested:
			missing = append(missing, name)
		case len(c.against) > 0:
			against = append(against, name+": "+strings.Join(c.against, "; "))
		case len(c.varied) > 0:
			varied = append(varied, name+": "+strings.Join(c.varied, "; "))
		case len(c.as) == 0 && len(c.unattributed) > 0:
			varied = append(varied, name+": "+strings.Join(c.unattributed, "; "))
		case len(c.unattributed) > 0:
			unjudged = append(unjudged, c.unattributed...)
		}
		if len(c.as) > 0 {
			shown = append(shown, name+" ("+strings.Join(c.as, "; ")+")")
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
		return inconclusive("the outcome varied across repetitions, was not exercised or lies inside its control's spread: %s%s", strings.Join(varied, "; "), tail)
	case len(missing) > 0:
		return inconclusive("no trial tests %s%s", strings.Join(missing, ", "), tail)
	}
	return holds("%s", strings.TrimPrefix(tail, "; as claimed: "))
}

// judgeControl adds a trial that showed its outcome in every repetition
// and has a control without faults: as claimed when every repetition of
// the trial duplicates more than every repetition of the control; not
// attributable to the faults (inconclusive) when the spreads overlap or the
// control duplicates more; inconclusive when the control did not run.
func judgeControl(c *crashJudgement, r crashRun, desc string, ctl crashRun, label string) {
	if len(ctl.Reps) < minReps {
		c.varied = append(c.varied, fmt.Sprintf("%s; its control %s has %d repetitions (need %d)", desc, label, len(ctl.Reps), minReps))
		return
	}
	dup := func(run crashRun) spread {
		var v []float64
		for _, p := range run.Reps {
			v = append(v, float64(p.Duplicated))
		}
		return spreadOf(v)
	}
	t, k := dup(r), dup(ctl)
	if k.below(t) {
		c.as = append(c.as, fmt.Sprintf("%s, above the %s duplicated without faults (%s)", desc, k, label))
		return
	}
	c.unattributed = append(c.unattributed, fmt.Sprintf("%s, not above the %s %s duplicated without faults (%s): the duplicates are not the faults' alone", desc, k, r.unit(), label))
}

// judgeRestore adds a restore trial's findings: as claimed when every
// repetition restored past offset 0 and was exact; against when every one
// restored past offset 0 and none was exact; otherwise not exercised (a
// restore from offset 0, or none) or varied.
func judgeRestore(c *crashJudgement, r crashRun, label string, classes map[crashClass]int) {
	c.tested = true
	mid := 0
	for _, p := range r.Reps {
		if p.restoredMidway() {
			mid++
		}
	}
	desc := r.describeRestore(label)
	switch {
	case mid < len(r.Reps):
		c.varied = append(c.varied, desc+" (not exercised)")
	case classes[crashExact] == len(r.Reps):
		c.as = append(c.as, desc+", exact in every repetition")
	case classes[crashExact] == 0:
		c.against = append(c.against, desc+", exact in none")
	default:
		c.varied = append(c.varied, fmt.Sprintf("%s, exact in %d", desc, classes[crashExact]))
	}
}

// judgeRepeat adds a trial's pairs of repetitions: an exactly-once trial
// repeats when no pair differs; another trial is as claimed when every pair
// differs between its two runs or both runs differ from the full answer, and
// against when every pair gives the full answer twice.
func judgeRepeat(c *crashJudgement, r crashRun, label string) {
	if len(r.Pairs) == 0 {
		return
	}
	c.tested = true
	exact := func(i int) bool { return i < len(r.Reps) && r.Reps[i].class() == crashExact }
	// same: pairs whose two outputs are equal; sameExact: those equal to
	// the full answer too; the other pairs differ, or agree on another
	// answer.
	same, sameExact := 0, 0
	for _, p := range r.Pairs {
		if p.Differ == 0 {
			same++
			if exact(p.A) && exact(p.B) {
				sameExact++
			}
		}
	}
	desc := r.describePairs(label)
	switch {
	case r.Want == crashExact && same == len(r.Pairs):
		c.as = append(c.as, desc)
	case r.Want == crashExact && same == 0:
		c.against = append(c.against, desc+" (exactly-once gave a different answer in every pair)")
	case r.Want == crashExact:
		c.varied = append(c.varied, desc)
	case sameExact == 0:
		c.as = append(c.as, desc)
	case sameExact == len(r.Pairs):
		c.against = append(c.against, desc+" (the full answer in both runs of every pair)")
	default:
		c.varied = append(c.varied, desc)
	}
}
