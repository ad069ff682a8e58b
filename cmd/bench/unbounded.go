package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// unboundedRun is `bench run W --duration D` on a streaming runtime: a
// paced, unbounded stream for D (0: until Ctrl-C) in bounded memory,
// checked online per window ([compare.RunUnbounded]). out and summary are
// the --out and --summary paths ("" for none).
func unboundedRun(ctx context.Context, w *compare.Workload, r compare.Runner, spec compare.UnboundedSpec, opts compare.Options, out, summary string, stdout, stderr io.Writer) int {
	progress := func(msg string) { fmt.Fprintln(stderr, msg) }
	rep, err := compare.RunUnbounded(ctx, w, r, spec, opts, progress)
	if err != nil && ctx.Err() != nil {
		return interrupted(ctx, stderr, "bench run", "nothing written")
	}
	if err != nil {
		var unsupported *dataflow.UnsupportedError
		if errors.As(err, &unsupported) {
			err = unsupported
		}
		fmt.Fprintf(stderr, "bench run: %v\n", unboundedFlag(withFlag(err)))
		return exitCodeOf(err)
	}
	code := exitOK
	if out != "" {
		if err := datasets.WriteResults(out, compare.ExtraColumns(rep.Pipeline), rep.Outcome.Results); err != nil {
			fmt.Fprintf(stderr, "bench run: %v\n", withFlag(err))
			code = exitFailed
		}
	}
	if summary != "" {
		if err := rep.Summary.WriteFile(summary); err != nil {
			fmt.Fprintf(stderr, "bench run: %v\n", withFlag(err))
			code = exitFailed
		}
	}
	s := rep.Summary
	verdict := "matches reference: " + rep.Check.String() + " (online, per window, exact)"
	if rep.NotChecked != "" || rep.Beyond > 0 {
		verdict = rep.Verdict()
	}
	ended := "ran for its duration"
	if rep.Interrupted {
		ended = "ended by interrupt"
	}
	fmt.Fprintf(stdout, "%s on %s: %d events in %.3fs (%s events/s), %d results; %s\n",
		w.Name, rep.Runner, s.Events, s.Seconds, humanRate(s.EventsPerSecond), s.Results, verdict)
	fmt.Fprintf(stdout, "unbounded stream %s: %d events generated, the log held at most %d records; RSS %s at the start, %s at the end\n",
		ended, rep.Generated, rep.HeldMax, mib(rep.RSSStart), mib(rep.RSSEnd))
	printWarnings(stdout, s.Warnings)
	if s.LatencyMs.EventTime.Count > 0 {
		fmt.Fprintf(stdout, "latency ms (paced at %s events/s): event time p50 %.1f, p99 %.1f; processing time p50 %.1f, p99 %.1f\n",
			humanRate(s.Config.Rate), s.LatencyMs.EventTime.P50, s.LatencyMs.EventTime.P99, s.LatencyMs.ProcessingTime.P50, s.LatencyMs.ProcessingTime.P99)
	}
	for _, e := range rep.Check.Examples {
		fmt.Fprintf(stderr, "  difference: %s\n", e)
	}
	if rep.Interrupted && spec.Duration > 0 && code == exitOK {
		// Cut short: what ran is reported and checked, but the run asked
		// for is not done, so the exit says so (with --duration 0 the
		// interrupt is the end asked for).
		kept := "nothing written"
		if out != "" || summary != "" {
			kept = "what ran so far written"
		}
		return interrupted(ctx, stderr, "bench run", kept)
	}
	return code
}

// mib renders a byte count in MiB ("?" when unknown).
func mib(b int64) string {
	if b <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

// unboundedFlag names the flag of an UnboundedSpec field error.
func unboundedFlag(err error) error {
	if fe, ok := errors.AsType[*compare.FieldError](err); ok {
		switch fe.Field {
		case "UnboundedSpec.Retention":
			return fmt.Errorf("%w (flag --retention)", err)
		case "UnboundedSpec.Duration":
			return fmt.Errorf("%w (flag --duration)", err)
		}
	}
	return err
}

// unboundedRuntime reports whether --duration runs runtime name as an
// unbounded stream: every streaming runtime. The reference runtime is the
// batch answer over the whole input, so with it (and with an architecture)
// --duration keeps its bounded meaning, rate × duration events.
func unboundedRuntime(name string) bool { return name != "reference" }

// retentionProblem checks --retention against --duration.
func retentionProblem(retention time.Duration, durationSet bool) string {
	switch {
	case retention < 0:
		return fmt.Sprintf("--retention %v must not be negative (0: the default, %v)", retention, compare.DefaultRetention)
	case retention > 0 && !durationSet:
		return fmt.Sprintf("--retention %v bounds the log of an unbounded run; give --duration D (0: until Ctrl-C) too", retention)
	}
	return ""
}
