package compare

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// crashExperiment is the crash experiment's specification.
func crashExperiment() *Experiment {
	return &Experiment{
		Name:      "crash",
		Claim:     "L4/L5/L6/L7",
		Statement: "Mostly correct is not good enough: after a crash at-most-once loses, at-least-once duplicates, snapshots and recomputed micro-batches are exact.",
		Rule:      "Each sub-claim (at-most-once loses; at-least-once duplicates, judged on stateless grep with lost acks, where duplicates must be measured in every repetition; exactly-once is exact, so it duplicates nothing) is tested on its trials against the full answer in every repetition: holds when every trial shows its outcome, does not hold when one consistently shows another, inconclusive when repetitions disagree, a sub-claim has no trial, or a trial failed. Windowed at-least-once with lateness 0 is reported, not judged.",
		Published: "No paper gives this table (papers.md, suggested reproduction 2); the expectation rests on Storm's docs [P] (at-least-once; \"use the Trident API\" for exactly-once) and on DStreams [P]: \"sub-second fault recovery\" by recomputing lost batches.",
		run:       runCrash,
	}
}

// ---- crash (L4, L5, L6, L7) ----

func runCrash(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "workload", "faults", "sub-claim (claimed outcome)", "windows / rows", "lost (full answer)", "duplicated (full answer)", "mismatched (full answer)", "duplicates counted by the sink", "late drops: replays lost to lateness", "crashes / restarts", "replayed / recomputed", "exact repetitions"}}}
	ysb, grep := mustWorkload("ysb"), mustWorkload("grep")
	events := pick[int64](quick, 100_000, 400_000)
	grepEvents := pick[int64](quick, 50_000, 200_000)
	n := reps(quick)
	// The crash counts records taken in by the windowed step: YSB keeps
	// the views, a third of the events, so events/6 is mid-run. grep is
	// stateless, so its sink task crashes; it keeps about 16% of the
	// events, so events/16 is 40% of its rows.
	at, grepAt := events/6, grepEvents/16
	type cfg struct {
		w       *Workload
		runtime string
		flags   RuntimeFlags
		crashes []int64
		// dropAcks is the share of acker messages lost.
		dropAcks float64
		claim    string
		want     crashClass
	}
	// A crashed task's trees are replayed when they time out: a 1 s
	// message timeout instead of Storm's 30 s keeps the run short.
	alo := RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, MessageTimeout: time.Second}
	eo := RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2, CheckpointInterval: 20 * time.Millisecond}
	amo := RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}
	cfgs := []cfg{
		{ysb, "recordstream", amo, []int64{at}, 0, crashClaimLoses, crashLoses},
		// Its replays reach windows that already fired (lateness 0) and
		// are dropped as late: reported, not judged.
		{ysb, "recordstream", alo, []int64{at}, 0, "", crashDuplicates},
		{ysb, "recordstream", eo, []int64{at}, 0, crashClaimExact, crashExact},
		{ysb, "microbatch", RuntimeFlags{Mode: "dstream", BatchInterval: time.Second}, []int64{at}, 0, crashClaimExact, crashExact},
		{ysb, "microbatch", RuntimeFlags{Mode: "dstream", BatchInterval: time.Second, CheckpointInterval: time.Second}, []int64{at / 2, at}, 0, crashClaimExact, crashExact},
		// Stateless grep: the sink crashes and 1% of acker messages are
		// lost, so rows whose acks were lost time out and reach the sink
		// again under a new tree (recordstream's RS2).
		{grep, "recordstream", amo, []int64{grepAt}, crashDropAcks, crashClaimLoses, crashLoses},
		{grep, "recordstream", alo, []int64{grepAt}, crashDropAcks, crashClaimDups, crashDuplicates},
		{grep, "recordstream", eo, []int64{grepAt}, crashDropAcks, crashClaimExact, crashExact},
	}
	o := crashOutcome{Runs: map[string]crashRun{}}
	for _, c := range cfgs {
		name := configName(SuiteEntry{Runtime: c.runtime, Flags: c.flags})
		if len(c.crashes) > 1 {
			name += " (failed batch + driver crash)"
		}
		label := c.w.Name + " on " + name
		faults := "crash after " + strings.Trim(strings.ReplaceAll(fmt.Sprint(c.crashes), " ", ", "), "[]")
		if c.dropAcks > 0 {
			faults += fmt.Sprintf(", %.0f%% of acker messages lost", 100*c.dropAcks)
		}
		claimed := string(c.want)
		if c.claim == "" {
			claimed = "not judged (" + claimed + " claimed; lateness 0 drops replays)"
		} else {
			claimed = c.claim + " (" + claimed + ")"
		}
		events := events
		if c.w == grep {
			events = grepEvents
		}
		reports, err := trial{workload: c.w, runtime: c.runtime, flags: c.flags, data: DataSpec{Events: events}, opts: Options{CrashAfter: c.crashes, DropAcks: c.dropAcks}, timeout: 2 * time.Minute}.repeat(ctx, n, progress)
		run := crashRun{Failed: trialStatus(err), Claim: c.claim, Want: c.want, Stateless: c.w == grep}
		if err != nil {
			o.Runs[label] = run
			res.Table.add(name, c.w.Name, faults, claimed, "-", "-", "-", "-", "-", "-", "-", "-", errText(err))
			continue
		}
		exact := 0
		for _, r := range reports {
			f := r.Check.Full
			p := crashRep{Lost: f.Lost, Duplicated: f.Duplicated, Mismatched: f.Mismatched, LateReplays: r.Check.Late.Replays, SinkDuplicates: int(r.Summary.Counters["duplicates"])}
			run.Reps = append(run.Reps, p)
			if p.class() == crashExact {
				exact++
			}
		}
		o.Runs[label] = run
		fig := func(f func(*Report) float64) string { return spreadOf(figure(reports, f)).String() }
		k := func(names ...string) func(*Report) float64 {
			return func(r *Report) float64 {
				var v int64
				for _, n := range names {
					v += r.Summary.Counters[n]
				}
				return float64(v)
			}
		}
		res.Table.add(name, c.w.Name, faults, claimed, fig(func(r *Report) float64 { return float64(r.Check.Full.Windows) }),
			fig(func(r *Report) float64 { return float64(r.Check.Full.Lost) }), fig(func(r *Report) float64 { return float64(r.Check.Full.Duplicated) }),
			fig(func(r *Report) float64 { return float64(r.Check.Full.Mismatched) }), fig(k("duplicates")), fig(func(r *Report) float64 { return float64(r.Check.Late.Replays) }),
			fig(k("crashes", "failed_batches"))+" / "+fig(k("restarts", "driver_restarts")), fig(k("replayed"))+" / "+fig(k("recomputed_records")),
			fmt.Sprintf("%d of %d", exact, len(reports)))
	}
	res.Notes = append(res.Notes, fmt.Sprintf("YSB, %d events, and grep (stateless), %d events; %d repetitions per configuration; recordstream at-least-once with a 1 s message timeout. YSB: one crash of the windowed task (recordstream) or failure of the batch holding record %d (microbatch); the last microbatch row adds a driver crash, recovered from the checkpoint. grep: one crash of the sink task after %d rows, and %.0f%% of acker messages lost (a seeded choice), so at-least-once replays rows that had reached the sink; at-most-once has no acker and exactly-once no acks to lose. Counts compare with the full (batch) answer, median [min-max]: windows for YSB, rows (as multisets) for grep.", events, grepEvents, n, at, grepAt, 100*crashDropAcks))
	res.Notes = append(res.Notes, "A replayed YSB record reaches its window after the window fired and is dropped as late (lateness 0, Storm's rule), so windowed at-least-once loses where the lecture expects duplicates; that row is reported, not judged, and the sub-claim \"at-least-once duplicates\" is judged on grep, where a replayed row reaches the sink again.")
	res.Verdict = verdictCrash(o)
	return res
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
