package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
)

// tortureConfig is what bench torture's flags select.
type tortureConfig struct {
	trials       int // < 0: no limit (--duration bounds the run)
	seed         uint64
	duration     time.Duration // 0: no limit
	trialTimeout time.Duration
	guarantees   []compare.TortureGuarantee
}

// runTrialFunc runs one torture trial; compare.RunTortureTrial, or a fake
// in tests.
type runTrialFunc func(ctx context.Context, t compare.TortureTrial) (*compare.TortureOutcome, error)

// cmdTorture is `bench torture`: randomized fault schedules over every
// workload and guarantee, each run judged under its guarantee's rule
// (compare.JudgeTorture). Progress goes to stderr, the tally and every
// violation (with the bench run command that reproduces it) to stdout.
// Exit status 1 on a violation or when interrupted (the tally so far is
// printed).
func cmdTorture(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench torture", stderr)
	trials := fs.Int("trials", 50, "number of trials (with --duration and no --trials: as many as fit)")
	seed := fs.Uint64("seed", 1, "seed of the schedule: the same seed draws the same trials")
	duration := fs.Duration("duration", 0, "start no trial after this long (0: no limit); the running trial finishes")
	trialTimeout := fs.Duration("trial-timeout", 2*time.Minute, "a trial still running after this long hung: a violation")
	names := make([]string, 0, 5)
	for _, g := range compare.TortureGuarantees() {
		names = append(names, string(g))
	}
	only := fs.String("guarantees", "all", "comma-separated guarantees to torture, trials cycling through them: "+strings.Join(names, ", "))
	pos, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "bench torture: takes no arguments, got %q\n", strings.Join(pos, " "))
		return exitUsage
	}
	trialsSet := false
	fs.Visit(func(f *flag.Flag) { trialsSet = trialsSet || f.Name == "trials" })
	switch {
	case *trials < 1:
		fmt.Fprintf(stderr, "bench torture: --trials %d: want at least one trial\n", *trials)
		return exitUsage
	case *duration < 0:
		fmt.Fprintf(stderr, "bench torture: --duration %v must not be negative (0: no limit)\n", *duration)
		return exitUsage
	case *trialTimeout <= 0:
		fmt.Fprintf(stderr, "bench torture: --trial-timeout %v: want a positive duration\n", *trialTimeout)
		return exitUsage
	}
	gs, err := compare.ParseTortureGuarantees(*only)
	if err != nil {
		fmt.Fprintf(stderr, "bench torture: %v (flag --guarantees)\n", err)
		return exitUsage
	}
	cfg := tortureConfig{trials: *trials, seed: *seed, duration: *duration, trialTimeout: *trialTimeout, guarantees: gs}
	if *duration > 0 && !trialsSet {
		cfg.trials = -1
	}
	return torture(ctx, cfg, compare.RunTortureTrial, stdout, stderr)
}

// tortureTally counts one guarantee's trials.
type tortureTally struct {
	trials, faults, restarts, restored, acksDropped, violated int64
}

func (t *tortureTally) add(o *compare.TortureOutcome) {
	t.faults += o.Faults
	t.restarts += o.Restarts
	t.restored += o.Restored
	t.acksDropped += o.AcksDropped
}

// tortureViolation is one trial that broke its guarantee's rule.
type tortureViolation struct {
	trial compare.TortureTrial
	why   []string
}

// torture runs cfg's trials one at a time with run, printing a line per
// trial on stderr and the tally on stdout.
func torture(ctx context.Context, cfg tortureConfig, run runTrialFunc, stdout, stderr io.Writer) int {
	start := time.Now()
	limit := "no limit"
	if cfg.trials > 0 {
		limit = strconv.Itoa(cfg.trials)
	}
	if cfg.duration > 0 {
		limit += fmt.Sprintf(", for at most %v", cfg.duration)
	}
	fmt.Fprintf(stderr, "torture: seed %d, trials %s, guarantees %s\n", cfg.seed, limit, guaranteeList(cfg.guarantees))
	tally := map[compare.TortureGuarantee]*tortureTally{}
	for _, g := range cfg.guarantees {
		tally[g] = &tortureTally{}
	}
	var (
		violations  []tortureViolation
		done        int
		unsupported int
		interrupted bool
	)
	for i := 0; cfg.trials < 0 || i < cfg.trials; i++ {
		if ctx.Err() != nil {
			interrupted = true
			break
		}
		if cfg.duration > 0 && time.Since(start) >= cfg.duration {
			break
		}
		t := compare.DrawTortureTrial(cfg.seed, i, cfg.guarantees[i%len(cfg.guarantees)])
		tctx, cancel := context.WithTimeout(ctx, cfg.trialTimeout)
		began := time.Now()
		o, err := run(tctx, t)
		hung := errors.Is(tctx.Err(), context.DeadlineExceeded)
		cancel()
		if ctx.Err() != nil {
			// Interrupted: this trial did not finish and is not counted.
			interrupted = true
			break
		}
		took := time.Since(began).Round(time.Millisecond)
		var why []string
		var unsup *dataflow.UnsupportedError
		switch {
		case hung:
			why = []string{fmt.Sprintf("hung: still running after %v (flag --trial-timeout)", cfg.trialTimeout)}
		case errors.As(err, &unsup):
			// The schedule draws only what a model can express; say so
			// if one slips through, but it is no violation.
			unsupported++
			fmt.Fprintf(stderr, "[%d] %s: skipped, the model cannot express it: %s\n", i+1, t, unsup.Reason)
			continue
		case err != nil:
			why = []string{"the run failed: " + withFlag(err).Error()}
		default:
			why = o.Violations
		}
		done++
		tl := tally[t.Guarantee]
		tl.trials++
		if o != nil {
			tl.add(o)
		}
		status := "ok"
		if len(why) > 0 {
			tl.violated++
			violations = append(violations, tortureViolation{trial: t, why: why})
			status = "VIOLATION: " + strings.Join(why, "; ")
		}
		faults := ""
		if o != nil {
			faults = fmt.Sprintf(", %d faults, %d restarts", o.Faults, o.Restarts)
		}
		fmt.Fprintf(stderr, "[%d] %s: %s (%v%s)\n", i+1, t, status, took, faults)
	}
	printTortureTally(stdout, cfg, tally, done, unsupported, time.Since(start))
	for _, v := range violations {
		fmt.Fprintf(stdout, "\nVIOLATION in %s (rule: %s):\n", v.trial, v.trial.Guarantee.Rule())
		for _, w := range v.why {
			fmt.Fprintf(stdout, "  %s\n", w)
		}
		fmt.Fprintf(stdout, "  reproduce: %s\n", reproduceCommand(v.trial))
	}
	switch {
	case interrupted:
		fmt.Fprintf(stderr, "bench torture: interrupted after %d trials; the tally above is of those\n", done)
		return exitFailed
	case len(violations) > 0:
		fmt.Fprintf(stderr, "bench torture: %d of %d trials broke their guarantee's rule\n", len(violations), done)
		return exitFailed
	}
	return exitOK
}

func guaranteeList(gs []compare.TortureGuarantee) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = string(g)
	}
	return strings.Join(s, ", ")
}

// printTortureTally writes the totals and one row per guarantee.
func printTortureTally(w io.Writer, cfg tortureConfig, tally map[compare.TortureGuarantee]*tortureTally, done, unsupported int, took time.Duration) {
	var all tortureTally
	for _, t := range tally {
		all.faults += t.faults
		all.restarts += t.restarts
		all.restored += t.restored
		all.acksDropped += t.acksDropped
		all.violated += t.violated
	}
	fmt.Fprintf(w, "torture (seed %d): %d trials in %.1fs, %d faults fired, %d restarts (%d from a checkpoint), %d acker messages lost; %d violations\n",
		cfg.seed, done, took.Seconds(), all.faults, all.restarts, all.restored, all.acksDropped, all.violated)
	if unsupported > 0 {
		fmt.Fprintf(w, "%d trials skipped: the model cannot express them\n", unsupported)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "guarantee\trule\ttrials\tfaults fired\trestarts\tfrom a checkpoint\tviolations")
	for _, g := range cfg.guarantees {
		t := tally[g]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\n", g, g.Rule(), t.trials, t.faults, t.restarts, t.restored, t.violated)
	}
	tw.Flush()
}

// reproduceCommand is the bench run command line of trial t: the same
// data, configuration and faults (the timing of threads, and so which
// checkpoint a crash meets, may differ).
func reproduceCommand(t compare.TortureTrial) string {
	return "bench " + strings.Join(reproduceArgs(t), " ")
}

// reproduceArgs are the arguments of bench that rerun trial t.
func reproduceArgs(t compare.TortureTrial) []string {
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	dur := func(d time.Duration) string { return strings.ReplaceAll(d.String(), "µs", "us") }
	d, f, o := t.Data, t.Flags, t.Options
	a := []string{"run", t.Workload, "--runtime", t.Runtime,
		"--events", strconv.FormatInt(d.Events, 10), "--seed", strconv.FormatUint(d.Seed, 10)}
	if d.Partitions > 0 {
		a = append(a, "--partitions", strconv.Itoa(d.Partitions))
	}
	if d.EventRate > 0 {
		a = append(a, "--event-rate", num(d.EventRate))
	}
	if d.Rate > 0 {
		a = append(a, "--rate", num(d.Rate))
	}
	switch {
	case d.InOrder:
		a = append(a, "--out-of-order", "0", "--late", "0")
	case !d.Skew.IsZero():
		a = append(a, "--out-of-order", num(d.Skew.OutOfOrder), "--max-delay", dur(d.Skew.Delay),
			"--late", num(d.Skew.Late), "--late-delay", dur(d.Skew.LateDelay))
	}
	for _, n := range o.CrashAfter {
		a = append(a, "--crash-after", strconv.FormatInt(n, 10))
	}
	if o.Slow > 0 {
		a = append(a, "--slow", dur(o.Slow))
	}
	if o.DropAcks > 0 {
		a = append(a, "--drop-acks", num(o.DropAcks))
	}
	if f.Guarantee != "" {
		a = append(a, "--guarantee", f.Guarantee)
	}
	if f.Mode != "" {
		a = append(a, "--mode", f.Mode)
	}
	if f.Parallelism > 0 {
		a = append(a, "--parallelism", strconv.Itoa(f.Parallelism))
	}
	if f.MessageTimeout > 0 {
		a = append(a, "--message-timeout", dur(f.MessageTimeout))
	}
	if f.BatchInterval > 0 {
		a = append(a, "--batch-interval", dur(f.BatchInterval))
	}
	if f.CheckpointInterval > 0 {
		a = append(a, "--checkpoint-interval", dur(f.CheckpointInterval))
	}
	if f.Unaligned {
		a = append(a, "--unaligned")
	}
	if f.DataflowRetry > 0 {
		a = append(a, "--dataflow-retry", dur(f.DataflowRetry))
	}
	return a
}
