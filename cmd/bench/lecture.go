package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/weirlab/weir/compare"
)

// cmdLecture is `bench` with no command: the quick lecture suite (what
// `bench suite --quick` runs) into --out, or a new temporary directory, with
// progress on stderr, then the claims and their verdicts on stdout and the
// results folder.
func cmdLecture(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench", stderr)
	out := fs.String("out", "", "results `DIR` (default: a new temporary directory, printed at the end)")
	pos, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "bench: unknown command %q; use list, gen, run, check, suite or report (or no argument for the lecture suite)\n", pos[0])
		return exitUsage
	}
	dir := *out
	if dir != "" {
		if err := checkDirOut(dir); err != nil {
			fmt.Fprintf(stderr, "bench: --out %s: %v\n", dir, err)
			return exitUsage
		}
	}
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "weir-suite-"); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return exitFailed
		}
	}
	exps, err := compare.LookupExperiments(nil)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return exitFailed
	}
	command := strings.TrimSpace("bench " + strings.Join(args, " "))
	return lecture(ctx, exps, dir, command, stdout, stderr)
}

// lecture runs exps in quick mode one at a time, so it can say how far it
// is and how long is left, and writes their results to dir (also when ctx
// is canceled: what finished is kept).
func lecture(ctx context.Context, exps []*compare.Experiment, dir, command string, stdout, stderr io.Writer) int {
	start := time.Now()
	elapsed := func() time.Duration { return time.Since(start).Round(100 * time.Millisecond) }
	fmt.Fprintf(stderr, "the lecture suite, quick: %d experiments; results in %s\n", len(exps), dir)
	var all *compare.SuiteResults
	var runErr error
	for i, e := range exps {
		left := "unknown"
		if i > 0 {
			// The experiments differ in cost; the mean of those done is
			// the estimate a teacher can read at a glance.
			left = "about " + (time.Since(start) / time.Duration(i) * time.Duration(len(exps)-i)).Round(time.Second).String()
		}
		fmt.Fprintf(stderr, "[%d/%d] %s (%s): elapsed %v, time left %s\n", i+1, len(exps), e.Name, e.Claim, elapsed(), left)
		progress := func(msg string) {
			if ctx.Err() != nil {
				return // the runs the signal stopped: one line says so at the end
			}
			fmt.Fprintf(stderr, "    [%6.1fs] %s\n", time.Since(start).Seconds(), msg)
		}
		res, err := compare.RunExperiments(ctx, []*compare.Experiment{e}, true, command, progress)
		if all == nil {
			all = res
		} else if res != nil {
			all.Experiments = append(all.Experiments, res.Experiments...)
		}
		if err != nil {
			runErr = err
			break
		}
	}
	if all == nil {
		all = &compare.SuiteResults{Command: command, Quick: true}
	}
	all.Command = command
	all.Commit = sourceCommit(ctx)
	all.Seconds = time.Since(start).Seconds()
	if err := compare.WriteSuiteResults(dir, all); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", withFlag(err))
		return exitFailed
	}
	printVerdicts(stdout, all)
	fmt.Fprintf(stdout, "\n%d of %d experiments in %.1fs; results in %s\n", len(all.Experiments), len(exps), all.Seconds, dir)
	fmt.Fprintf(stdout, "the report: go run ./cmd/bench report --in %s\n", dir)
	if runErr != nil && ctx.Err() != nil {
		return interrupted(ctx, stderr, "bench", keptExperiments(all, dir))
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "bench: %v (partial results in %s)\n", withFlag(runErr), dir)
		return exitFailed
	}
	return exitOK
}

// printVerdicts writes the table of claims and verdicts: the verdict's
// first words, then its computed explanation, which the report gives whole.
func printVerdicts(w io.Writer, r *compare.SuiteResults) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "claim\texperiment\tverdict\tseconds\twhy (measured)")
	for _, e := range r.Experiments {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\n", e.Claim, e.Name, e.Verdict.Kind, e.Seconds, shorten(e.Verdict.Explanation, 100))
	}
	tw.Flush()
}

// sourceCommit names the source revision a suite ran: the binary's stamped
// VCS revision (go build), else git's HEAD of the working directory (go run
// stamps none), with "+dirty" for uncommitted changes; "" if neither is
// known. It asks git even when ctx is canceled (an interrupted suite
// records its commit as a finished one does), within ctx's values and a
// 2 s limit.
func sourceCommit(ctx context.Context) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if dirty {
				rev += "+dirty"
			}
			return rev
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		rev += "+dirty"
	}
	return rev
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// cmdCheck is `bench check`: every workload on every runtime configuration
// of [compare.DefaultSuite], each checked against the reference answer.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench check", stderr)
	pos, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "bench check: takes no arguments, got %q\n", strings.Join(pos, " "))
		return exitUsage
	}
	start := time.Now()
	progress := func(msg string) { fmt.Fprintf(stderr, "[%5.1fs] %s\n", time.Since(start).Seconds(), msg) }
	d := compare.DataSpec{Seed: 1} // each workload's default data size

	rows, err := compare.RunSuite(ctx, compare.DefaultSuite(), compare.LectureWorkloads(), d, compare.Options{Seed: 1}, progress, func(r compare.SuiteRow) {
		if r.Err != nil && ctx.Err() != nil {
			return // the run the signal stopped: said once, below
		}
		progress(fmt.Sprintf("%s on %s: %s", r.Workload, r.Runtime, matches(r)))
	})
	if n := len(rows); ctx.Err() != nil && (err != nil || (n > 0 && rows[n-1].Err != nil)) {
		// The run the signal stopped did not fail: leave it out.
		if n > 0 && rows[n-1].Err != nil {
			rows = rows[:n-1]
		}
		printTable(stdout, rows)
		return interrupted(ctx, stderr, "bench check", fmt.Sprintf("the %d runs done are in the table", len(rows)))
	}
	printTable(stdout, rows)
	if err != nil {
		fmt.Fprintf(stderr, "bench check: %v\n", withFlag(err))
		return exitFailed
	}
	failed := 0
	for _, r := range rows {
		if r.Failed() {
			failed++
		}
	}
	fmt.Fprintf(stderr, "%d runs in %.1fs, %d failed\n", len(rows), time.Since(start).Seconds(), failed)
	if failed > 0 {
		return exitFailed
	}
	return exitOK
}

// printTable writes the check's table. Latency is shown for paced runs only
// (Config.Rate > 0): on a log filled before the run a record's latency is
// the time it waited in the backlog, which grows with the log's size and
// says nothing about the runtime's delay.
func printTable(w io.Writer, rows []compare.SuiteRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\truntime\tevents\tevents/s\tp99 event-time latency ms\tmatches reference")
	prefilled := false
	for _, r := range rows {
		events, rate, p99 := "-", "-", "-"
		if r.Report != nil {
			s := r.Report.Summary
			events = strconv.FormatInt(s.Events, 10)
			rate = humanRate(s.EventsPerSecond)
			switch {
			case s.Config.Rate > 0 && s.LatencyMs.EventTime.Count > 0:
				p99 = fmt.Sprintf("%.1f", s.LatencyMs.EventTime.P99)
			case s.Config.Rate == 0:
				prefilled = true
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Workload, r.Runtime, events, rate, p99, matches(r))
	}
	tw.Flush()
	printRowWarnings(w, rows)
	if prefilled {
		fmt.Fprint(w, prefilledNote)
	}
}

// prefilledNote explains the "-" in the latency column of runs on a
// pre-filled log.
const prefilledNote = `
Latency "-": these runs read a log filled before they start, so events/s is capacity (how fast the
runtime drains a backlog) and a record's latency would only be how long it waited in that backlog,
which grows with the log's size and says nothing about the runtime's delay. Latency needs paced
input below capacity: bench run WORKLOAD --runtime R --rate EVENTS_PER_S [--duration D].
`
