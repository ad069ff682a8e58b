package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
)

// cmdCapacity is `bench capacity WORKLOAD --runtime R`: the sustainable
// throughput of one runtime configuration (compare.SustainableRate), each
// probe printed as it finishes. Ctrl-C stops the running probe (the runtimes
// watch the context) and prints the probes so far.
func cmdCapacity(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench capacity", stderr)
	runtime := fs.String("runtime", "", "runtime: "+strings.Join(compare.Runtimes(), ", ")+" (required)")
	var o compare.CapacityOptions
	fs.IntVar(&o.MaxProbes, "max-probes", 8, "the most paced runs the search makes")
	fs.DurationVar(&o.ProbeDuration, "probe-duration", 10*time.Second, "how long each probe offers its rate (events = rate × duration)")
	fs.DurationVar(&o.ProbeTimeout, "probe-timeout", 0, "the most a probe may run, draining included (0: 3 × --probe-duration + 5s)")
	fs.Float64Var(&o.StartRate, "start-rate", 10_000, "the first offered rate, events/s; the search doubles it until latency grows, then bisects")
	fs.Float64Var(&o.Precision, "precision", 0.1, "stop bisecting once the bracket is this share wide")
	fs.Float64Var(&o.Rule.Growth, "growth", 0.5, "a probe is sustainable when its last third's p99 event-time latency is at most (1 + growth) × the first third's + --slack")
	fs.DurationVar(&o.Rule.Slack, "slack", 250*time.Millisecond, "the latency growth always allowed (see --growth)")
	fs.Float64Var(&o.Rule.Lag, "lag", 0.05, "a probe that reads less than (1 - lag) × the offered rate is not sustainable (its input queue grows)")
	fs.IntVar(&o.Rule.MinEmissions, "min-emissions", 30, "a probe with fewer emissions is inconclusive (not sustainable)")
	seed := fs.Uint64("seed", 1, "seed of the generator; also seeds fault injection")
	partitions := fs.Int("partitions", 0, "log partitions (0: the default, 4)")
	var ov compare.Overrides
	fs.DurationVar(&ov.Window, "window", 0, "window size of the workload's fixed or sliding windows (0: the workload's)")
	fs.DurationVar(&ov.WatermarkBound, "watermark-bound", 0, "event-time watermark: bounded out-of-orderness (0: the workload's)")
	runtimeFlags := addRuntimeFlags(fs)
	pos, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	f := runtimeFlags()
	w, ok := oneWorkload("capacity", pos, stderr)
	if !ok {
		return exitUsage
	}
	w, err := ov.Workload(w)
	if err != nil {
		fmt.Fprintf(stderr, "bench capacity: %v\n", withFlag(err))
		return exitUsage
	}
	if msg := capacityFlagProblem(o); msg != "" {
		fmt.Fprintf(stderr, "bench capacity: %s\n", msg)
		return exitUsage
	}
	if *runtime == "" {
		fmt.Fprintf(stderr, "bench capacity: --runtime is required: one of %s\n", strings.Join(compare.Runtimes(), ", "))
		return exitUsage
	}
	if msg := checkpointDirProblem(f); msg != "" {
		fmt.Fprintf(stderr, "bench capacity: %s\n", msg)
		return exitUsage
	}
	r, err := compare.NewRunner(*runtime, f)
	if err != nil {
		fmt.Fprintf(stderr, "bench capacity: %v\n", withFlag(err))
		return exitUsage
	}
	if msg := runtimeFlagsProblem(fs, r.Name()); msg != "" {
		fmt.Fprintf(stderr, "bench capacity: %s\n", msg)
		return exitUsage
	}
	d := compare.DataSpec{Seed: *seed, Partitions: *partitions}
	o.Options = compare.Options{Seed: *seed, Clock: clock.Real()}
	o.Progress = func(p compare.CapacityProbe) { fmt.Fprintln(stdout, probeLine(p)) }
	fmt.Fprintf(stderr, "%s on %s: searching the sustainable rate from %.0f events/s, at most %d probes of %v\n",
		w.Name, r.Name(), o.StartRate, o.MaxProbes, o.ProbeDuration)
	res, err := compare.SustainableRate(ctx, w, r, d, o)
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(ctx, stderr, "bench capacity", fmt.Sprintf("stopped after %d probes, printed above", len(res.Probes)))
		}
		var unsupported *dataflow.UnsupportedError
		if errors.As(err, &unsupported) {
			err = unsupported
		}
		fmt.Fprintf(stderr, "bench capacity: %v\n", withFlag(err))
		return exitCodeOf(err)
	}
	bound := ""
	if res.LowerBound {
		bound = "at least "
	}
	fmt.Fprintf(stdout, "%s on %s: sustainable throughput %s%s events/s (%s)\n", res.Workload, res.Runner, bound, humanRate(res.Rate), res.Reason)
	return exitOK
}

// capacityFlagProblem checks the search's flags (compare.CapacityOptions
// has no flags in fieldFlags: they exist only here).
func capacityFlagProblem(o compare.CapacityOptions) string {
	switch {
	case o.MaxProbes < 1:
		return fmt.Sprintf("--max-probes %d: want at least one probe", o.MaxProbes)
	case o.ProbeDuration <= 0:
		return fmt.Sprintf("--probe-duration %v: want a positive duration", o.ProbeDuration)
	case o.ProbeTimeout < 0:
		return fmt.Sprintf("--probe-timeout %v must not be negative", o.ProbeTimeout)
	case !(o.StartRate > 0):
		return fmt.Sprintf("--start-rate %v: want a positive number of events/s", o.StartRate)
	case !(o.Precision > 0):
		return fmt.Sprintf("--precision %v: want a positive share", o.Precision)
	case !(o.Rule.Growth >= 0):
		return fmt.Sprintf("--growth %v must not be negative", o.Rule.Growth)
	case o.Rule.Slack < 0:
		return fmt.Sprintf("--slack %v must not be negative", o.Rule.Slack)
	case !(o.Rule.Lag > 0 && o.Rule.Lag < 1):
		return fmt.Sprintf("--lag %v: want a share between 0 and 1", o.Rule.Lag)
	case o.Rule.MinEmissions < 1:
		return fmt.Sprintf("--min-emissions %d: want at least one", o.Rule.MinEmissions)
	}
	return ""
}

// probeLine is one probe as bench capacity prints it.
func probeLine(p compare.CapacityProbe) string {
	verdict := "sustainable"
	if !p.Sustainable {
		verdict = "NOT sustainable"
	}
	check := "matches the reference"
	if !p.CheckOK {
		check = "check: " + p.Check
	}
	return fmt.Sprintf("  probe %s events/s: %s in %.1fs (read %s events/s, %d emissions over %.1fs, p99 first/last third %.0f/%.0f ms, %s): %s",
		humanRate(p.Rate), verdict, p.Seconds, humanRate(p.Throughput), p.Emissions, p.SpanSeconds, p.FirstP99Ms, p.LastP99Ms, check, p.Reason)
}
