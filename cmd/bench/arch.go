package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// archFlags are bench run's flags of the architectures (compare.ArchConfig).
type archFlags struct {
	name            string
	batchPeriod     time.Duration
	batchLayer      string
	reprocessWindow time.Duration
	reprocessGap    time.Duration
	reprocessAt     float64
}

// addArchFlags registers the architecture flags of bench run on fs.
func addArchFlags(fs *flag.FlagSet) *archFlags {
	var a archFlags
	fs.StringVar(&a.name, "architecture", "", "compose the runtimes into an architecture: "+strings.Join(compare.Architectures(), ", ")+
		"\n(the runtime flags configure its streaming layer: lambda's speed layer, recordstream at-most-once by default; kappa's jobs, recordstream exactly-once by default; needs --rate)")
	fs.DurationVar(&a.batchPeriod, "batch-period", 0, fmt.Sprintf("lambda: period between batch runs, %v to %v (0: %v)", compare.MinBatchPeriod, compare.MaxBatchPeriod, compare.DefaultBatchPeriod))
	fs.StringVar(&a.batchLayer, "batch-layer", "", "lambda: the batch layer's runtime: "+strings.Join(compare.BatchLayers(), ", ")+" (default reference)")
	fs.DurationVar(&a.reprocessWindow, "reprocess-window", 0, "kappa: the reprocessing job's window size (fixed or sliding windows)")
	fs.DurationVar(&a.reprocessGap, "reprocess-gap", 0, "kappa: the reprocessing job's session gap (session windows)")
	fs.Float64Var(&a.reprocessAt, "reprocess-at", 0, fmt.Sprintf("kappa: start reprocessing after this share (0, 1) of the log's events (0: %v)", compare.DefaultReprocessAt))
	return &a
}

// archFlagUses says which architecture reads each architecture flag.
func archFlagUses() map[string]string {
	return map[string]string{
		"batch-period":     "lambda",
		"batch-layer":      "lambda",
		"reprocess-window": "kappa",
		"reprocess-gap":    "kappa",
		"reprocess-at":     "kappa",
	}
}

// problem returns the problem with the architecture flags given on fs, or
// "" when there is none: an unknown architecture, a flag of one
// architecture given without it or with the other, --trace (one runtime's
// trace) or --runtime reference with an architecture.
func (a *archFlags) problem(fs *flag.FlagSet) string {
	given := givenFlags(fs)
	if given["architecture"] && !slices.Contains(compare.Architectures(), a.name) {
		return fmt.Sprintf("--architecture %q: want one of %s", a.name, strings.Join(compare.Architectures(), ", "))
	}
	uses := archFlagUses()
	var problem string
	fs.VisitAll(func(f *flag.Flag) {
		arch, ok := uses[f.Name]
		switch {
		case problem != "" || !ok || !given[f.Name]:
		case a.name == "":
			problem = fmt.Sprintf("--%s configures the %s architecture: give --architecture %s, or drop --%s", f.Name, arch, arch, f.Name)
		case a.name != arch:
			problem = fmt.Sprintf("--%s applies to --architecture %s only; this run is %s: drop --%s", f.Name, arch, a.name, f.Name)
		}
	})
	switch {
	case problem != "":
		return problem
	case a.name != "" && given["trace"]:
		return fmt.Sprintf("--trace writes one runtime's trace, and --architecture %s runs several: drop --trace", a.name)
	case a.name != "" && given["input"]:
		return fmt.Sprintf("--architecture %s runs its layers while the log fills: drop --input and pace built-in data with --rate", a.name)
	case a.name != "" && !given["rate"]:
		return fmt.Sprintf("--architecture %s runs its layers while the log fills: give --rate EVENTS_PER_S (for example --rate 20000)", a.name)
	}
	return ""
}

// build returns the architecture of the flags, on runtime (empty: the
// architecture's default) configured by f.
func (a *archFlags) build(runtime string, f compare.RuntimeFlags) (*compare.Architecture, error) {
	return compare.NewArchitecture(compare.ArchConfig{
		Architecture: a.name, Runtime: runtime, Flags: f,
		BatchPeriod: a.batchPeriod, BatchLayer: a.batchLayer,
		Change:      compare.Overrides{Window: a.reprocessWindow, Gap: a.reprocessGap},
		ReprocessAt: a.reprocessAt,
	})
}

// newRunnerOrArch builds bench run's runner: the named runtime's, or with
// --architecture the architecture's streaming layer (a not nil).
func newRunnerOrArch(runtime string, f compare.RuntimeFlags, af *archFlags) (compare.Runner, *compare.Architecture, error) {
	if af.name == "" {
		r, err := compare.NewRunner(runtime, f)
		return r, nil, err
	}
	a, err := af.build(runtime, f)
	if err != nil {
		return nil, nil, err
	}
	return a.StreamRunner(), a, nil
}

// archWithFlag is [withFlag] with the architecture's fields named by
// their flags.
func archWithFlag(err error) error {
	fe, ok := errors.AsType[*compare.FieldError](err)
	if !ok {
		return withFlag(err)
	}
	fl := map[string]string{
		"ArchConfig.Architecture": "--architecture",
		"ArchConfig.Runtime":      "--runtime",
		"ArchConfig.BatchPeriod":  "--batch-period",
		"ArchConfig.BatchLayer":   "--batch-layer",
		"ArchConfig.ReprocessAt":  "--reprocess-at",
		"ArchConfig.Change":       "--reprocess-window or --reprocess-gap",
		"Overrides.Window":        "--reprocess-window",
		"Overrides.Gap":           "--reprocess-gap",
	}[fe.Field]
	if fl == "" {
		return withFlag(err)
	}
	return fmt.Errorf("%w (flag %s)", err, fl)
}

// runArch is bench run with --architecture: the run, the result lines,
// --out (the final served answer) and --summary (with the served-distance
// series).
func runArch(ctx context.Context, a *compare.Architecture, w *compare.Workload, d compare.DataSpec, opts compare.Options, out, summary string, stdout, stderr io.Writer) int {
	progress := func(msg string) { fmt.Fprintln(stderr, msg) }
	rep, err := a.Run(ctx, w, d, opts, progress)
	if err != nil && ctx.Err() != nil {
		return interrupted(ctx, stderr, "bench run", "nothing written")
	}
	if err != nil {
		if u, ok := errors.AsType[*dataflow.UnsupportedError](err); ok {
			err = u // the model's reason, in one line
		}
		fmt.Fprintf(stderr, "bench run: %v\n", archWithFlag(err))
		return exitCodeOf(err)
	}
	code := exitOK
	for _, f := range []struct {
		path  string
		write func(string) error
	}{
		{out, func(p string) error {
			return datasets.WriteResults(p, compare.ExtraColumns(rep.Pipeline), rep.Outcome.Results)
		}},
		{summary, rep.Summary.WriteFile},
	} {
		if f.path == "" {
			continue
		}
		if err := f.write(f.path); err != nil {
			fmt.Fprintf(stderr, "bench run: %v\n", withFlag(err))
			code = exitFailed
		}
	}
	s := rep.Summary
	fmt.Fprintf(stdout, "%s on %s: %d events in %.3fs (%s events/s), %d results served; final served answer matches reference: %s\n",
		w.Name, rep.Runner, s.Events, s.Seconds, humanRate(s.EventsPerSecond), s.Results, rep.Check)
	printWarnings(stdout, s.Warnings)
	worst, final := compare.ServedSample{}, compare.ServedSample{}
	for _, x := range rep.Served {
		if x.Share() > worst.Share() {
			worst = x
		}
	}
	if n := len(rep.Served); n > 0 {
		final = rep.Served[n-1]
	}
	fmt.Fprintf(stdout, "%s: served answer differs from the exact one in %.3g of complete windows at worst (at %v, abs error %.4g), %.3g at the end\n",
		a.Config().Architecture, worst.Share(), worst.T.Round(time.Millisecond), worst.AbsError, final.Share())
	if k := rep.Kappa; k != nil {
		fmt.Fprintf(stdout, "kappa: job 2 started at %d records and caught up with the log's head in %v; serving switched after catch-up: %s\n",
			k.StartRecords, k.Reprocess.Round(time.Millisecond), yesNo(k.SwitchedAfterCatchUp))
		fmt.Fprintf(stdout, "kappa: table 1 (old pipeline, %d records read before job 1 stopped) against its reference: %s\n", k.Table1Records, k.Table1)
		fmt.Fprintf(stdout, "kappa: work: job 1 %d records, job 2 %d records\n", rep.Work["job1"], rep.Work["job2"])
	} else {
		fmt.Fprintf(stdout, "lambda: work: speed layer %d records, batch layer %d records in %d runs (%.1f× the log)\n",
			rep.Work["speed"], rep.Work["batch"], rep.BatchRuns, float64(rep.Work["batch"])/float64(max(s.Events, 1)))
	}
	fmt.Fprintf(stdout, "code paths: %s\n", strings.Join(rep.CodePaths, "; "))
	for _, e := range rep.Check.Examples {
		fmt.Fprintf(stderr, "  difference: %s\n", e)
	}
	return code
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// listArchitectures writes bench list's architecture lines.
func listArchitectures(stdout io.Writer) {
	fmt.Fprintln(stdout, "architectures (bench run WORKLOAD --architecture A --rate R):")
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, a := range compare.Architectures() {
		fmt.Fprintf(tw, "  %s\t%s\n", a, compare.ArchDescription(a))
	}
	tw.Flush()
}
