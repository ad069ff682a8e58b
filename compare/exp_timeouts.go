package compare

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeoutsExperiment is the timeouts experiment's specification.
func timeoutsExperiment() *Experiment {
	return &Experiment{
		Name:      "timeouts",
		Claim:     "L5.3",
		Statement: "Under backpressure slow processing looks like failure: tuples time out before they are acked and are replayed although nothing failed.",
		Rule:      "Holds when the short timeout times out and replays trees in every repetition, nothing fails, and the negative control (a timeout above the queueing delay) times out none; does not hold when the short timeout times out none; inconclusive when a trial hung or failed, the control timed out, or repetitions disagree.",
		Published: "Storm docs [P]: a tuple tree not finished within `topology.message.timeout.secs` (default 30 s) is failed and replayed. No clean published curve exists (papers.md, suggested reproduction 3); STORM-886 [P] and a practitioner report [S] (\"the spout went all out, and we ended up with a lot of failed tuples\") describe the effect qualitatively.",
		run:       runTimeouts,
	}
}

// ---- timeouts (L5.3) ----

func runTimeouts(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"trial", "workload", "message timeout", "max spout pending", "finished", "failed", "timed out", "replayed", "duplicated windows/rows", "events/s", "matches reference (every repetition)"}}}
	events := pick[int64](quick, 20_000, 100_000)
	limit := pick(quick, 10*time.Second, time.Minute)
	n := reps(quick)
	type cfg struct {
		label    string
		workload string
		timeout  time.Duration
		pending  int
	}
	// Storm expires a tuple tree between T and 2T after it was emitted (a
	// rotating map of two buckets); the queueing delay of the slow sink
	// (about 0.6 s for the grep rows kept at 200 µs each) lies above 2T for
	// 250 ms and below T for 30 s, the negative control.
	cfgs := []cfg{
		{timeoutControl, "grep", 30 * time.Second, 0},
		{timeoutShort, "grep", 250 * time.Millisecond, 0},
		{timeoutRemedy, "grep", 250 * time.Millisecond, 200},
	}
	if !quick {
		cfgs = append(cfgs, cfg{"ysb, timeout above the queueing delay", "ysb", 30 * time.Second, 0}, cfg{"ysb, timeout below the queueing delay", "ysb", 500 * time.Millisecond, 0})
	}
	slow := 200 * time.Microsecond
	o := timeoutsOutcome{Runs: map[string]timeoutRun{}}
	for _, c := range cfgs {
		f := RuntimeFlags{Guarantee: "at-least-once", Parallelism: 1, MessageTimeout: c.timeout, MaxSpoutPending: c.pending}
		pending := "unlimited"
		if c.pending > 0 {
			pending = strconv.Itoa(c.pending)
		}
		reports, err := trial{workload: mustWorkload(c.workload), runtime: "recordstream", flags: f, data: DataSpec{Events: events}, opts: Options{Slow: slow}, timeout: limit}.repeat(ctx, n, progress)
		counter := func(k string) spread {
			return spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Summary.Counters[k]) }))
		}
		r := timeoutRun{Timeout: c.timeout, Failed: trialStatus(err), TimedOut: counter("timed_out"), Replayed: counter("replayed"), FailedTrees: counter("failed")}
		if c.workload == "grep" {
			o.Runs[c.label] = r
		}
		if err != nil {
			res.Table.add(c.label, c.workload, c.timeout.String(), pending, fmt.Sprintf("%d of %d: %s", len(reports), n, r.Failed), "-", "-", "-", "-", "-", "-")
			continue
		}
		dup := spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Check.Duplicated) }))
		eps := spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond }))
		res.Table.add(c.label, c.workload, c.timeout.String(), pending, fmt.Sprintf("%d of %d", len(reports), n), r.FailedTrees.String(), r.TimedOut.String(), r.Replayed.String(), dup.String(), eps.String(), allExact(reports))
	}
	res.Notes = append(res.Notes, fmt.Sprintf("recordstream at-least-once, parallelism 1, a slow step (Options.Slow) of %v per record in the windowed step (the sink for grep), %d events filled before the run (so the spout's offered load is far above capacity), %d repetitions per trial, each cut after %v (a cut run counts as hung). The verdict reads the grep trials; figures are median [min-max] over repetitions.", slow, events, n, limit))
	res.Verdict = verdictTimeouts(o)
	return res
}

// lateText is a check's late drops as "verified / replays / unverified".
func lateText(c CheckResult) string {
	return fmt.Sprintf("%d / %d / %d", c.Late.Verified, c.Late.Replays, c.Late.Unverified)
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
