// Command weirbeam runs weir's workloads on Apache Beam: in-process Prism,
// or any Beam job server (a standalone Prism, Flink's or Spark's) through
// the universal runner, and checks every run against dataflow.Reference as
// bench does. It shares bench run's data flags, results files (--out:
// .csv, .parquet or .jsonl) and summary (--summary F.json).
//
//	cd beam && go run ./cmd/weirbeam run ysb --runner prism --events 100000
//	cd beam && go run ./cmd/weirbeam run ysb --runner universal --endpoint localhost:8099 --environment_type LOOPBACK
//	cd beam && go run ./cmd/weirbeam check
//	cd beam && go run ./cmd/weirbeam perf --events 200000 --out /tmp/perf
//
// Exit status: 0 for a completed run (whatever the check says; the output
// says it), 1 for a failure, 2 for bad flags or input, 3 when Beam cannot
// express the workload (the line names the reason and what to use).
//
// Its data flags, --out check and exit statuses are cmd/bench/cliflags',
// which bench uses too; the data, check and files are compare's and
// datasets'.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/weirlab/weir/beam/translate"
	"github.com/weirlab/weir/cmd/bench/cliflags"
	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

func main() {
	beam.Init() // a worker started from this binary runs as one here
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  weirbeam run WORKLOAD [--runner prism|universal] [--endpoint HOST:PORT] [--environment_type LOOPBACK]
                        [--events N] [--seed S] [--partitions P] [--input DIR] [--out F] [--summary F.json]
                        [--log-watermark] [--lateness D] [--watermark-bound D] [--gap D] [skew flags]
  weirbeam check [--events N]      every workload on in-process Prism, checked against the reference
  weirbeam perf [WORKLOAD...] --events N [--reps R] --out DIR
                                   Beam's events/s on bench perf's data, checked: DIR/beam-perf.csv (bench report reads it)
  weirbeam list                    the workloads and what Beam does with them
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return cliflags.ExitUsage
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stdout, stderr)
	case "check":
		return checkCmd(ctx, args[1:], stdout, stderr)
	case "perf":
		return perfCmd(ctx, args[1:], stdout, stderr)
	case "list":
		for _, w := range compare.Workloads() {
			fmt.Fprintf(stdout, "%-20s %s\n", w.Name, w.Description)
		}
		fmt.Fprintln(stdout, "runners: prism (in-process), universal (--endpoint HOST:PORT of a Prism, Flink or Spark job server)")
		return cliflags.ExitOK
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return cliflags.ExitOK
	}
	fmt.Fprintf(stderr, "weirbeam: unknown command %q\n%s", args[0], usage)
	return cliflags.ExitUsage
}

// beamFlags are the flags of the Beam runner.
type beamFlags struct {
	runner, endpoint, envType, envConfig, staging string
	logWatermark, mergeTouching                   bool
	chunk                                         int64
}

func addBeamFlags(fs *flag.FlagSet) *beamFlags {
	b := &beamFlags{}
	fs.StringVar(&b.runner, "runner", "prism", "Beam runner: prism (in-process) or universal (submit to --endpoint)")
	fs.StringVar(&b.endpoint, "endpoint", "", "job server HOST:PORT for --runner universal (Flink's job server: 8099; Prism's: 8073)")
	fs.StringVar(&b.envType, "environment_type", "LOOPBACK", "worker environment: LOOPBACK (workers in this process), DOCKER, EXTERNAL or PROCESS")
	fs.StringVar(&b.envConfig, "environment_config", "", "container image (DOCKER) or worker pool address (EXTERNAL)")
	fs.StringVar(&b.staging, "results-dir", "", "folder the sink's part files go to (default a temporary one); on a cluster, one every worker shares")
	fs.BoolVar(&b.logWatermark, "log-watermark", false, "set the source's watermark from the log (max event time minus the bound, per partition), so records can be late; default: the watermark waits for the end of each partition")
	fs.Int64Var(&b.chunk, "chunk", 4096, "with --log-watermark: records read per bundle (the watermark advances per chunk)")
	fs.BoolVar(&b.mergeTouching, "sessions-merge-touching", true, "the runner merges touching session windows (Prism does): translate sessions so the result follows weir's I3; set false on a runner that merges only overlapping ones")
	return b
}

func (b *beamFlags) runner_() *translate.Runner {
	return &translate.Runner{Beam: b.runner, Endpoint: b.endpoint, EnvironmentType: b.envType, EnvironmentConfig: b.envConfig,
		OutDir: b.staging, LogWatermark: b.logWatermark, Chunk: b.chunk, SessionsMergeTouching: b.mergeTouching}
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "weirbeam run: name a workload first: one of %s\n", strings.Join(compare.WorkloadNames(), ", "))
		return cliflags.ExitUsage
	}
	w, err := compare.LookupWorkload(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "weirbeam run: %v\n", err)
		return cliflags.ExitUsage
	}
	fs := flag.NewFlagSet("weirbeam run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := addDataFlags(fs)
	bf := addBeamFlags(fs)
	input := fs.String("input", "", "read DIR/events.parquet (written by bench gen) instead of built-in data")
	out := fs.String("out", "", "write results to this file (.csv, .parquet or .jsonl)")
	summary := fs.String("summary", "", "write the run's summary (JSON) to this file")
	var ov compare.Overrides
	fs.DurationVar(&ov.Lateness, "lateness", 0, "allowed lateness of event-time windows (0: the workload's)")
	fs.DurationVar(&ov.WatermarkBound, "watermark-bound", 0, "bounded out-of-orderness of the watermark (0: the workload's)")
	fs.DurationVar(&ov.Gap, "gap", 0, "session gap (0: the workload's)")
	if err := fs.Parse(args[1:]); err != nil {
		return cliflags.ExitUsage
	}
	if !ov.IsZero() {
		if w, err = ov.Workload(w); err != nil {
			fmt.Fprintf(stderr, "weirbeam run: %v\n", err)
			return cliflags.ExitUsage
		}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "weirbeam run: unexpected argument %q; flags follow the workload name\n", fs.Arg(0))
		return cliflags.ExitUsage
	}
	if err := checkOutPath(*out); err != nil {
		fmt.Fprintf(stderr, "weirbeam run: %v\n", err)
		return cliflags.ExitUsage
	}
	d, err := data.Spec()
	if err != nil {
		fmt.Fprintf(stderr, "weirbeam run: %v\n", err)
		return cliflags.ExitUsage
	}
	d.InputDir = *input
	r := bf.runner_()
	if err := r.Validate(); err != nil {
		fmt.Fprintf(stderr, "weirbeam run: %v\n", err)
		return cliflags.ExitUsage
	}
	progress := func(msg string) { fmt.Fprintln(stderr, msg) }
	rep, err := translate.RunWorkload(ctx, w, d, r, compare.Options{Seed: d.Seed}, progress)
	if err != nil {
		var unsupported *dataflow.UnsupportedError
		if errors.As(err, &unsupported) {
			err = unsupported
		}
		fmt.Fprintf(stderr, "weirbeam run: %v\n", err)
		return cliflags.ExitCodeOf(err)
	}
	code := cliflags.ExitOK
	if *out != "" {
		if err := datasets.WriteResults(*out, compare.ExtraColumns(rep.Pipeline), rep.Outcome.Results); err != nil {
			fmt.Fprintf(stderr, "weirbeam run: %v\n", err)
			code = cliflags.ExitFailed
		}
	}
	if *summary != "" {
		if err := rep.Summary.WriteFile(*summary); err != nil {
			fmt.Fprintf(stderr, "weirbeam run: %v\n", err)
			code = cliflags.ExitFailed
		}
	}
	s := rep.Summary
	fmt.Fprintf(stdout, "%s on %s: %d events in %.3fs (%.0f events/s), %d results, %d panes; matches reference: %s\n",
		w.Name, rep.Runner, s.Events, s.Seconds, s.EventsPerSecond, s.Results, rep.Outcome.Emissions, rep.Check)
	for _, e := range rep.Check.Examples {
		fmt.Fprintf(stderr, "  difference: %s\n", e)
	}
	return code
}

func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("weirbeam check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.Int64("events", 20_000, "events per workload")
	seed := fs.Uint64("seed", 1, "seed of the generator")
	bf := addBeamFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cliflags.ExitUsage
	}
	// Fixed columns, so each row shows as its run ends.
	const row = "%-20s %-15s %8s %8s %10s %8s  %s\n"
	fmt.Fprintf(stdout, row, "workload", "runner", "events", "seconds", "events/s", "results", "verdict")
	code := cliflags.ExitOK
	for _, w := range compare.Workloads() {
		d := compare.DataSpec{Events: *events, Seed: *seed}
		start := time.Now()
		rep, err := translate.RunWorkload(ctx, w, d, bf.runner_(), compare.Options{Seed: *seed}, nil)
		var unsupported *dataflow.UnsupportedError
		switch {
		case errors.As(err, &unsupported):
			fmt.Fprintf(stdout, row, w.Name, "beam/"+bf.runner, "-", "-", "-", "-", "refused: "+unsupported.Reason)
		case err != nil:
			fmt.Fprintf(stdout, row, w.Name, "beam/"+bf.runner, "-", fmt.Sprintf("%.1f", time.Since(start).Seconds()), "-", "-", "FAILED: "+err.Error())
			code = cliflags.ExitFailed
		default:
			s := rep.Summary
			verdict := "matches"
			if !rep.Check.OK() {
				verdict, code = "DIFFERS: "+rep.Check.String(), cliflags.ExitFailed
			}
			fmt.Fprintf(stdout, row, w.Name, rep.Runner, fmt.Sprint(s.Events), fmt.Sprintf("%.1f", s.Seconds), fmt.Sprintf("%.0f", s.EventsPerSecond), fmt.Sprint(s.Results), verdict)
		}
		if ctx.Err() != nil {
			return cliflags.ExitFailed
		}
	}
	return code
}

// checkOutPath rejects an --out whose format is unknown before the run,
// naming the flag as weirbeam's tests expect.
func checkOutPath(path string) error {
	if cliflags.CheckOutPath(path) != nil {
		return fmt.Errorf("--out %s: want a .csv, .parquet or .jsonl file", path)
	}
	return nil
}
