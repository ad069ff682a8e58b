// Command bench is weir's command line: flags in, results out (DESIGN.md).
// The logic lives in package compare; this file parses flags and prints.
//
//	bench [--out DIR]             the quick lecture suite: claims and verdicts
//	bench list                    workloads, runtimes, experiments
//	bench check                   every workload on every runtime, checked
//	bench gen WORKLOAD --events N --seed S --out DIR
//	bench run WORKLOAD --runtime R [--input DIR] [--out FILE] [--summary FILE.json] [--trace FILE.parquet|.csv] ...
//	bench run WORKLOAD --architecture lambda|kappa --rate R [--batch-period D | --reprocess-window D] ...
//	bench capacity WORKLOAD --runtime R [--max-probes N --probe-duration D --start-rate R]
//	bench nexmark [QUERY...] [--quick] --out DIR       the Nexmark table (Throughput/Cores)
//	bench perf [WORKLOAD...] [--quick] --out DIR      every workload against its hand loop (issue 16)
//	bench suite [EXPERIMENT...] [--quick] --out DIR   the lecture's experiments
//	bench report --in DIR [--out REPORT.md]           REPORT.md and SVG/PNG figures
//
// Exit status: 0 on success (for run: the run completed; whether its results
// match the reference answer is in its output and --summary); 1 when a run
// fails, or when the suite has a failed run or check; 2 for bad usage or
// unusable input; 3 when the runtime's model cannot express the workload.
// bench check exits 1 when a run fails or does not match the reference.
//
// SIGINT (Ctrl-C) and SIGTERM alike interrupt any command: its run stops
// within a second, temporary files and directories are removed, no output
// file is left half-written (gen writes nothing), the suite keeps the
// experiments it finished, and the command says "interrupted" in one line
// and exits 1. A second signal kills the process at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/weirlab/weir/cmd/bench/cliflags"
	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
)

// Exit statuses (cliflags', shared with weirbeam).
const (
	exitOK          = cliflags.ExitOK
	exitFailed      = cliflags.ExitFailed
	exitUsage       = cliflags.ExitUsage
	exitUnsupported = cliflags.ExitUnsupported
)

func main() {
	ctx, stop := signalContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalContext returns a context that the first SIGINT or SIGTERM cancels,
// with the signal as its cause: every command handles both alike, stops its
// run (which watches the context), removes its temporary files, keeps what
// it finished and says so in one line ([interrupted]). After that first
// signal the default action is back, so a second one kills the process at
// once. stop releases the signals.
func signalContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	ctx, stop = signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	return ctx, stop
}

// interrupted is how every command ends when its context was canceled (the
// signal of [signalContext]) before its work was done, whatever error the
// work returned: one line naming the command, the cause and, in note, what
// was kept ("" for nothing), and exit status 1.
func interrupted(ctx context.Context, stderr io.Writer, cmd, note string) int {
	cause := "interrupted"
	if c := context.Cause(ctx); c != nil && c != context.Canceled { // a signal's cause is also Canceled (errors.Is)
		cause += " (" + c.Error() + ")"
	}
	if note != "" {
		note = "; " + note
	}
	fmt.Fprintf(stderr, "%s: %s%s\n", cmd, cause, note)
	return exitFailed
}

// run is the whole command, in process, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && !isHelp(args[0])) {
		return cmdLecture(ctx, args, stdout, stderr)
	}
	switch args[0] {
	case "check":
		return cmdCheck(ctx, args[1:], stdout, stderr)
	case "list":
		return cmdList(args[1:], stdout, stderr)
	case "gen":
		return cmdGen(ctx, args[1:], stdout, stderr)
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "capacity":
		return cmdCapacity(ctx, args[1:], stdout, stderr)
	case "nexmark":
		return cmdNexmark(ctx, args[1:], stdout, stderr)
	case "perf":
		return cmdPerf(ctx, args[1:], stdout, stderr)
	case "suite":
		return cmdExperiments(ctx, args[1:], stdout, stderr)
	case "report":
		return cmdReport(args[1:], stdout, stderr)
	case "torture":
		return cmdTorture(ctx, args[1:], stdout, stderr)
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "bench: unknown command %q; use list, gen, run, capacity, check, nexmark, perf, suite or report (or no argument for the lecture suite)\n", args[0])
	return exitUsage
}

func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

const usage = `usage:
  bench [--out DIR]                      the lecture suite, quick (under 5 minutes): progress on stderr, then
                                         each claim's verdict and the results folder (default: a new temp dir)
  bench list                             workloads, runtimes, experiments
  bench check                            every workload on every runtime, checked against the reference
  bench gen WORKLOAD --events N --seed S --out DIR [--out-of-order P --max-delay D --late P --late-delay D]
            run 'bench gen -h' for every flag
  bench run WORKLOAD --runtime R [--input DIR] [--out FILE] [--summary FILE.json] [--trace FILE.parquet|.csv] [flags]
            [--window D --slide D --gap D --watermark-bound D --lateness D --sketch-width N --rate R --duration D]
            run 'bench run -h' for every flag
  bench run WORKLOAD --architecture lambda|kappa --rate R [--batch-period D --batch-layer B | --reprocess-window D --reprocess-at F]
                                         Lambda (speed + batch layers, merged) or Kappa (a reprocessing job, then a switch)
  bench capacity WORKLOAD --runtime R [runtime flags] [--max-probes N --probe-duration D --start-rate R]
                                         sustainable throughput (Karimov et al.): paced probes, doubling then
                                         bisection, until event-time latency grows; run 'bench capacity -h'
  bench nexmark [QUERY...] [--quick] --out DIR [--runtime R [flags]] [--events N --paced-rate R --paced-duration D --sustainable]
                                         the Nexmark queries on every configuration: events/s, cores, events/s/core,
                                         latency, check; beside Flink's and RisingWave's published per-core figures;
                                         DIR/nexmark.csv (bench report renders it)
  bench perf [WORKLOAD...] [--quick] --out DIR [--events N --reps R --min-loop D]
                                         every workload's hand loop and runtime configurations on one log: events/s
                                         median [min-max], cores, each checked; DIR/perf.csv (bench report renders it)
  bench suite [EXPERIMENT...] [--quick] --out DIR
                                         the lecture's experiments: DIR/results.json, DIR/<experiment>.csv
  bench report --in DIR [--out REPORT.md] [--figures DIR] [--perf DIR]
                                         REPORT.md and SVG/PNG figures from a suite directory
  bench torture [--trials N] [--seed S] [--duration D] [--guarantees G,...]
                                         randomized fault schedules, each run judged under its guarantee's rule
`

// printRowWarnings prints the warnings of every row that has some (the
// runtime's and the faults' that did not fire, compare.Summary.Warnings),
// one line each after the table, named by workload and runtime.
func printRowWarnings(w io.Writer, rows []compare.SuiteRow) {
	for _, r := range rows {
		if r.Report == nil || len(r.Report.Summary.Warnings) == 0 {
			continue
		}
		var b strings.Builder
		printWarnings(&b, r.Report.Summary.Warnings)
		for line := range strings.Lines(b.String()) {
			fmt.Fprintf(w, "%s on %s: %s", r.Workload, r.Runtime, line)
		}
	}
}

func matches(r compare.SuiteRow) string {
	var unsupported *dataflow.UnsupportedError
	switch {
	case errors.As(r.Err, &unsupported):
		return "unsupported: " + unsupported.Reason
	case r.Err != nil:
		return "NO (error: " + withFlag(r.Err).Error() + ")"
	}
	return r.Report.Check.String()
}

func humanRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.1fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

func cmdList(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "bench list: takes no arguments, got %q\n", strings.Join(args, " "))
		return exitUsage
	}
	fmt.Fprintln(stdout, "workloads:")
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, w := range compare.Workloads() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", w.Name, w.Dataset, w.Description)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "runtimes:")
	for _, r := range compare.Runtimes() {
		fmt.Fprintf(stdout, "  %s\n", r)
	}
	fmt.Fprintln(stdout, "runtime configurations (bench check):")
	for _, e := range compare.DefaultSuite() {
		fmt.Fprintf(stdout, "  %s %s\n", e.Runtime, flagsText(e.Flags))
	}
	listArchitectures(stdout)
	fmt.Fprintln(stdout, "beyond one machine (Apache Beam, its own Go module in beam/; README: Running on Apache Beam):")
	fmt.Fprintln(stdout, "  cd beam && go run ./cmd/weirbeam run WORKLOAD --runner prism                      Beam's local runner, in process")
	fmt.Fprintln(stdout, "  cd beam && go run ./cmd/weirbeam run WORKLOAD --runner universal --endpoint HOST:PORT --environment_type LOOPBACK")
	fmt.Fprintln(stdout, "                                                                                    a job server: Flink's (beam_flink1.19_job_server) or a standalone Prism")
	fmt.Fprintln(stdout, "experiments (bench suite; bench with no argument runs them all, quick):")
	tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, e := range compare.Experiments() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", e.Name, e.Claim, e.Statement)
	}
	tw.Flush()
	return exitOK
}

func flagsText(f compare.RuntimeFlags) string {
	var parts []string
	if f.Guarantee != "" {
		parts = append(parts, "--guarantee "+f.Guarantee)
	}
	if f.Mode != "" {
		parts = append(parts, "--mode "+f.Mode)
	}
	if f.BatchInterval != 0 {
		parts = append(parts, "--batch-interval "+f.BatchInterval.String())
	}
	if f.CheckpointInterval != 0 {
		parts = append(parts, "--checkpoint-interval "+f.CheckpointInterval.String())
	}
	if f.Parallelism != 0 {
		parts = append(parts, "--parallelism "+strconv.Itoa(f.Parallelism))
	}
	return strings.Join(parts, " ")
}

// parseCommand parses a command's arguments with [parseArgs]. When it
// cannot go on, ok is false and code is the exit status: exitOK after -h
// (the flag package printed the help), exitUsage after a bad flag (it
// printed the problem) or a flag given twice ([repeatedFlag]; this prints
// it).
func parseCommand(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	pos, err := parseArgs(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, exitOK, false
	case err != nil:
		return nil, exitUsage, false
	}
	if name := repeatedFlag(fs, args); name != "" {
		fmt.Fprintf(fs.Output(), "%s: --%s is given twice; give it once\n", fs.Name(), name)
		return nil, exitUsage, false
	}
	if msg := nonFiniteFlag(fs); msg != "" {
		fmt.Fprintf(fs.Output(), "%s: %s\n", fs.Name(), msg)
		return nil, exitUsage, false
	}
	return pos, exitOK, true
}

// nonFiniteFlag returns a problem with the first float flag given on the
// command line as NaN or ±Inf (strconv.ParseFloat takes both, and a range
// check such as x < 0 || x > 1 lets NaN through, as if it were 0), or ""
// when there is none. No flag of bench takes them.
func nonFiniteFlag(fs *flag.FlagSet) string {
	var msg string
	fs.Visit(func(f *flag.Flag) {
		g, ok := f.Value.(flag.Getter)
		if !ok || msg != "" {
			return
		}
		if v, ok := g.Get().(float64); ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			msg = fmt.Sprintf("--%s %s: want a finite number", f.Name, f.Value)
		}
	})
	return msg
}

// parseArgs parses flags anywhere among the positional arguments and
// returns the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// oneWorkload checks the positional arguments name exactly one workload.
func oneWorkload(cmd string, pos []string, stderr io.Writer) (*compare.Workload, bool) {
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "bench %s: want one workload (one of %s), got %d arguments\n", cmd, strings.Join(compare.WorkloadNames(), ", "), len(pos))
		return nil, false
	}
	w, err := compare.LookupWorkload(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "bench %s: %v\n", cmd, withFlag(err))
		return nil, false
	}
	return w, true
}

func cmdGen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench gen", stderr)
	data := addDataFlags(fs, "gen")
	out := fs.String("out", "", "output directory (required): DIR/events.parquet plus DIR/<table>.parquet")
	pos, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	w, ok := oneWorkload("gen", pos, stderr)
	if !ok {
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintln(stderr, "bench gen: --out DIR is required")
		return exitUsage
	}
	d, err := data.Spec()
	if err != nil {
		fmt.Fprintf(stderr, "bench gen: %v\n", err)
		return exitUsage
	}
	if !checkGenOut(w, *out, d.Seed, stderr) {
		return exitUsage
	}
	start := time.Now()
	log, tables, err := compare.LoadData(ctx, w, d)
	if err != nil {
		if ctx.Err() != nil {
			return interrupted(ctx, stderr, "bench gen", "nothing written")
		}
		fmt.Fprintf(stderr, "bench gen: %v\n", withFlag(err))
		return exitUsage
	}
	if err := datasets.WriteDir(ctx, *out, log, tables); err != nil {
		if ctx.Err() != nil {
			return interrupted(ctx, stderr, "bench gen", "nothing written")
		}
		fmt.Fprintf(stderr, "bench gen: %v\n", withFlag(err))
		return exitFailed
	}
	fmt.Fprintf(stdout, "wrote %d %s events (workload %s) to %s in %.1fs\n", log.Len(), w.Dataset, w.Name, *out, time.Since(start).Seconds())
	return exitOK
}

// int64List is a repeatable int64 flag.
type int64List []int64

func (l *int64List) String() string { return fmt.Sprint([]int64(*l)) }

func (l *int64List) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return fmt.Errorf("want a positive number of records, got %q", s)
	}
	*l = append(*l, v)
	return nil
}

// byteSize is a size flag such as 512MiB.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	v, err := compare.ParseByteSize(s)
	*b = byteSize(v)
	return err
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench run", stderr)
	runtime := fs.String("runtime", "", "runtime: "+strings.Join(compare.Runtimes(), ", ")+" (required)")
	input := fs.String("input", "", "read `DIR`/events.parquet written by bench gen instead of built-in data")
	out := fs.String("out", "", "write the results to FILE (.csv, .parquet or .jsonl), sorted: window_start_ms, window_end_ms, key, value, extra columns;\n"+
		"for count windows (count-window) window_start_ms and window_end_ms hold the key's element ordinals [k*slide, k*slide+size), not milliseconds")
	summary := fs.String("summary", "", "write the run's summary to FILE.json, with the runtime's time series (with --trace also ingest rate, emitted panes, watermark and latency over time)")
	trace := fs.String("trace", "", "write the run's per-record and per-pane trace to FILE.parquet or FILE.csv (event, ingest and emit time, watermark, pane kind)")
	data := addDataFlags(fs, "run")
	rate := fs.Float64("rate", 0, "pace ingestion of built-in data at this many events/s (0: fill the log before the run)")
	duration := fs.Duration("duration", 0, "with --rate, a paced unbounded stream of this long (0: until Ctrl-C) in bounded memory, checked online per window;\n"+
		"with --runtime reference or an architecture, rate × duration events checked against the whole input")
	retention := fs.Duration("retention", 0, "with --duration: how much ingest time the log keeps behind its newest record (0: "+compare.DefaultRetention.String()+"); more than recordstream's --message-timeout")
	var steps rateSteps
	fs.Var(&steps, "rate-steps", "change the paced rate during the run: `AFTER=RATE,...` (e.g. 5s=20000,10s=4000: from 5 s after the start 20000 events/s, from 10 s 4000); needs --rate")
	var o compare.Overrides
	fs.DurationVar(&o.Window, "window", 0, "window size of the workload's fixed or sliding windows (0: the workload's)")
	fs.DurationVar(&o.Slide, "slide", 0, "slide of sliding windows; on fixed windows, makes them sliding windows (0: the workload's)")
	fs.DurationVar(&o.Gap, "gap", 0, "gap of session windows (0: the workload's)")
	fs.DurationVar(&o.WatermarkBound, "watermark-bound", 0, "event-time watermark: bounded out-of-orderness (0: the workload's, 5s)")
	fs.DurationVar(&o.Lateness, "lateness", 0, "allowed lateness of event-time windows (0: the workload's, none)")
	fs.IntVar(&o.SketchWidth, "sketch-width", 0, "counters per row of the Count-Min sketch of approximate top-N aggregates (0: the default, 2048)")
	var crash int64List
	fs.Var(&crash, "crash-after", "crash a task (or its batch) once the pipeline has taken in N records; repeatable")
	slow := fs.Duration("slow", 0, "extra cost per record in the windowed step: waiting per record, not CPU work (a slow external call), in both runtimes")
	dropAcks := fs.Float64("drop-acks", 0, "share [0, 1) of acker messages lost")
	runtimeFlags := addRuntimeFlags(fs)
	archF := addArchFlags(fs)
	pos, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	f := runtimeFlags()
	w, ok := oneWorkload("run", pos, stderr)
	if !ok {
		return exitUsage
	}
	w, err := o.Workload(w)
	if err != nil {
		fmt.Fprintf(stderr, "bench run: %v\n", withFlag(err))
		return exitUsage
	}
	if !o.IsZero() {
		fmt.Fprintf(stderr, "%s with %s\n", w.Name, o)
	}
	if msg := archF.problem(fs); msg != "" {
		fmt.Fprintf(stderr, "bench run: %s\n", msg)
		return exitUsage
	}
	if *runtime == "" && archF.name == "" {
		fmt.Fprintf(stderr, "bench run: --runtime is required: one of %s\n", strings.Join(compare.Runtimes(), ", "))
		return exitUsage
	}
	if *slow < 0 {
		fmt.Fprintf(stderr, "bench run: --slow %v must not be negative\n", *slow)
		return exitUsage
	}
	if err := checkOutPath(*out); err != nil {
		fmt.Fprintf(stderr, "bench run: --out %s: %v\n", *out, err)
		return exitUsage
	}
	if err := checkTracePath(*trace); err != nil {
		fmt.Fprintf(stderr, "bench run: --trace %s: %v\n", *trace, err)
		return exitUsage
	}
	if err := checkOutputs(outputFlag{"out", *out}, outputFlag{"summary", *summary}, outputFlag{"trace", *trace}); err != nil {
		fmt.Fprintf(stderr, "bench run: %v\n", err)
		return exitUsage
	}
	if msg := checkpointDirProblem(f); msg != "" {
		fmt.Fprintf(stderr, "bench run: %s\n", msg)
		return exitUsage
	}
	r, arch, err := newRunnerOrArch(*runtime, f, archF)
	if err != nil {
		fmt.Fprintf(stderr, "bench run: %v\n", archWithFlag(err))
		return exitUsage
	}
	if msg := runtimeFlagsProblem(fs, r.Name()); msg != "" {
		fmt.Fprintf(stderr, "bench run: %s\n", msg)
		return exitUsage
	}
	d, err := data.Spec()
	if err != nil {
		fmt.Fprintf(stderr, "bench run: %v\n", err)
		return exitUsage
	}
	if msg := inputFlagProblem(fs); msg != "" {
		fmt.Fprintf(stderr, "bench run: %s\n", msg)
		return exitUsage
	}
	if *input != "" {
		if name := data.SkewFlagSet(); name != "" {
			fmt.Fprintf(stderr, "bench run: --%s shapes built-in data only; the file of --input keeps the arrival order `bench gen` gave it (drop --%s, or pass it to bench gen)\n", name, name)
			return exitUsage
		}
		if *rate > 0 {
			// compare refuses it too (DataSpec.Rate), naming one field;
			// here both flags are known.
			fmt.Fprintln(stderr, "bench run: --rate paces built-in data only; drop --rate or --input")
			return exitUsage
		}
	}
	durationSet := false
	fs.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })
	if msg := retentionProblem(*retention, durationSet); msg != "" {
		fmt.Fprintf(stderr, "bench run: %s\n", msg)
		return exitUsage
	}
	unbounded := durationSet && arch == nil && unboundedRuntime(r.Name())
	if durationSet && *duration == 0 && !unbounded {
		fmt.Fprintln(stderr, "bench run: --duration 0 (until Ctrl-C) runs an unbounded stream, which the reference runtime and the architectures cannot: give a duration, or a streaming --runtime")
		return exitUsage
	}
	if *duration != 0 || unbounded {
		if unbounded && *duration == 0 { // until Ctrl-C: no count to check
			if _, err := pacedEvents(*rate, time.Hour, data.EventsSet()); err != nil {
				fmt.Fprintf(stderr, "bench run: %v\n", strings.ReplaceAll(err.Error(), "--duration 1h0m0s", "--duration 0"))
				return exitUsage
			}
		} else {
			events, err := pacedEvents(*rate, *duration, data.EventsSet())
			if err != nil {
				fmt.Fprintf(stderr, "bench run: %v\n", err)
				return exitUsage
			}
			d.Events = events
		}
	}
	d.Rate, d.InputDir, d.Steps = *rate, *input, steps
	opts := compare.Options{CrashAfter: crash, Slow: *slow, DropAcks: *dropAcks, Seed: d.Seed, Clock: clock.Real(), Trace: *trace != ""}
	if unbounded {
		d.Events = 0 // the stream's length is its duration
		spec := compare.UnboundedSpec{Data: d, Duration: *duration, Retention: *retention}
		return unboundedRun(ctx, w, r, spec, opts, *out, *summary, stdout, stderr)
	}
	if arch != nil {
		return runArch(ctx, arch, w, d, opts, *out, *summary, stdout, stderr)
	}
	progress := func(msg string) { fmt.Fprintln(stderr, msg) }
	rep, err := compare.RunOne(ctx, w, r, d, opts, progress)
	if err != nil && ctx.Err() != nil {
		return interrupted(ctx, stderr, "bench run", "nothing written")
	}
	if err != nil {
		var unsupported *dataflow.UnsupportedError
		if errors.As(err, &unsupported) {
			err = unsupported // the model's reason, in one line
		}
		fmt.Fprintf(stderr, "bench run: %v\n", withFlag(err))
		return exitCodeOf(err)
	}
	code = exitOK
	if *out != "" {
		if err := datasets.WriteResults(*out, compare.ExtraColumns(rep.Pipeline), rep.Outcome.Results); err != nil {
			fmt.Fprintf(stderr, "bench run: %v\n", withFlag(err))
			code = exitFailed
		}
	}
	if *summary != "" {
		if rep.Trace != nil {
			rep.Summary.AddTraceSeries(rep.Trace)
		}
		if err := rep.Summary.WriteFile(*summary); err != nil {
			fmt.Fprintf(stderr, "bench run: %v\n", withFlag(err))
			code = exitFailed
		}
	}
	if *trace != "" {
		if err := datasets.WriteTrace(*trace, rep.Trace); err != nil {
			fmt.Fprintf(stderr, "bench run: %v\n", withFlag(err))
			code = exitFailed
		}
	}
	s := rep.Summary
	fmt.Fprintf(stdout, "%s on %s: %d events in %.3fs (%s events/s), %d results; matches reference: %s\n",
		w.Name, rep.Runner, s.Events, s.Seconds, humanRate(s.EventsPerSecond), s.Results, rep.Check)
	printWarnings(stdout, s.Warnings)
	if s.Config.Rate > 0 && s.LatencyMs.EventTime.Count > 0 {
		// Paced: latency means something (on a pre-filled log it is time
		// spent in the backlog; see bench check's note).
		fmt.Fprintf(stdout, "latency ms (paced at %s events/s): event time p50 %.1f, p99 %.1f; processing time p50 %.1f, p99 %.1f\n",
			humanRate(s.Config.Rate), s.LatencyMs.EventTime.P50, s.LatencyMs.EventTime.P99, s.LatencyMs.ProcessingTime.P50, s.LatencyMs.ProcessingTime.P99)
	}
	// A completed run exits 0 whatever the check says: a guarantee may
	// permit a difference (at-most-once loses, at-least-once duplicates),
	// which the output, the summary and these lines report.
	for _, e := range rep.Check.Examples {
		fmt.Fprintf(stderr, "  difference: %s\n", e)
	}
	return code
}

// pacedEvents is the number of events of a run of --duration d at --rate
// rate: rate × d, at least one. eventsSet says --events was given too.
func pacedEvents(rate float64, d time.Duration, eventsSet bool) (int64, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("--duration %v must not be negative", d)
	case rate <= 0:
		return 0, fmt.Errorf("--duration %v bounds a paced run; give --rate EVENTS_PER_S too (events = rate × duration)", d)
	case eventsSet:
		return 0, fmt.Errorf("--duration %v with --rate sets the number of events (rate × duration); drop --events or --duration", d)
	}
	f := rate * d.Seconds()
	if f >= math.MaxInt64 {
		return 0, fmt.Errorf("--duration %v at --rate %v is more events than can be counted; run shorter or slower", d, rate)
	}
	n := int64(f)
	if n < 1 {
		return 0, fmt.Errorf("--duration %v at --rate %v is less than one event; run longer or faster", d, rate)
	}
	return n, nil
}

// exitCodeOf maps a run's error to the exit status: 3 when the model cannot
// express the workload, 2 for unusable input, 1 otherwise.
func exitCodeOf(err error) int { return cliflags.ExitCodeOf(err) }

// checkOutPath rejects an --out whose format is unknown before the run.
func checkOutPath(path string) error { return cliflags.CheckOutPath(path) }

// checkTracePath rejects a --trace that is not a .parquet or .csv file
// before the run ([checkOutputs] checks that its directory takes a file).
func checkTracePath(path string) error {
	if path == "" || strings.HasSuffix(path, ".parquet") || strings.HasSuffix(path, ".csv") {
		return nil
	}
	return errors.New("a trace is Parquet or CSV; name the file .parquet or .csv")
}

// cmdExperiments is `bench suite`: the lecture's experiments.
func cmdExperiments(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench suite", stderr)
	quick := fs.Bool("quick", false, "small inputs: the whole suite in a few minutes")
	out := fs.String("out", "", "output directory (required): results.json and one CSV per table and series")
	pos, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	exps, err := compare.LookupExperiments(pos)
	if err != nil {
		fmt.Fprintf(stderr, "bench suite: %v\n", withFlag(err))
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintln(stderr, "bench suite: --out DIR is required")
		return exitUsage
	}
	if err := checkDirOut(*out); err != nil {
		fmt.Fprintf(stderr, "bench suite: --out %s: %v\n", *out, err)
		return exitUsage
	}
	start := time.Now()
	progress := func(msg string) {
		if ctx.Err() != nil {
			return // the runs the signal stopped: one line says so at the end
		}
		fmt.Fprintf(stderr, "[%6.1fs] %s\n", time.Since(start).Seconds(), msg)
	}
	command := "bench suite " + strings.Join(args, " ")
	res, err := compare.RunExperiments(ctx, exps, *quick, strings.TrimSpace(command), progress)
	if res != nil {
		res.Commit = sourceCommit(ctx)
	}
	if werr := compare.WriteSuiteResults(*out, res); werr != nil {
		fmt.Fprintf(stderr, "bench suite: %v\n", withFlag(werr))
		return exitFailed
	}
	if err != nil && ctx.Err() != nil {
		return interrupted(ctx, stderr, "bench suite", keptExperiments(res, *out))
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench suite: %v (partial results in %s)\n", withFlag(err), *out)
		return exitFailed
	}
	for _, e := range res.Experiments {
		fmt.Fprintf(stdout, "%-24s %-12s %s\n", e.Name, e.Claim, e.Verdict)
	}
	fmt.Fprintf(stderr, "%d experiments in %.1fs; results in %s\n", len(res.Experiments), res.Seconds, *out)
	return exitOK
}

// keptExperiments is the note of an interrupted suite: how many finished
// experiments its results directory keeps.
func keptExperiments(res *compare.SuiteResults, dir string) string {
	n := 0
	if res != nil {
		n = len(res.Experiments)
	}
	return fmt.Sprintf("%d finished experiments kept in %s", n, dir)
}

// cmdReport is `bench report`: REPORT.md and figures from a suite directory.
func cmdReport(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench report", stderr)
	in := fs.String("in", "", "suite directory `DIR` written by bench suite --out DIR (required)")
	out := fs.String("out", "REPORT.md", "the report to write")
	figures := fs.String("figures", "", "directory of the SVG and PNG figures (default: docs/figures beside the report)")
	gen := fs.String("generator", "", "the command line quoted at the top of the report (default: the suite's, then this report's)")
	perfDir := fs.String("perf", "", "directory of bench perf's perf.csv and weirbeam perf's beam-perf.csv (default: --in)")
	pos, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "bench report: takes no arguments, got %q\n", strings.Join(pos, " "))
		return exitUsage
	}
	if *in == "" {
		fmt.Fprintln(stderr, "bench report: --in DIR is required")
		return exitUsage
	}
	res, err := compare.ReadSuiteResults(*in)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "bench report: %v; run `bench suite --out %s` first\n", err, *in)
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench report: %v\n", withFlag(err))
		return exitUsage
	}
	reportDir := filepath.Dir(*out)
	figDir := *figures
	if figDir == "" {
		figDir = filepath.Join(reportDir, "docs", "figures")
	}
	if msg := reportPathsProblem(*out, figDir, *figures != ""); msg != "" {
		fmt.Fprintf(stderr, "bench report: %s\n", msg)
		return exitUsage
	}
	link, err := filepath.Rel(reportDir, figDir)
	if err != nil {
		link = figDir
	}
	g := *gen
	if g == "" {
		g = fmt.Sprintf("go run ./cmd/%s --out %s && go run ./cmd/bench report --in %s", res.Command, *in, *in)
		if strings.Contains(res.Command, "--out") {
			g = fmt.Sprintf("go run ./cmd/%s && go run ./cmd/bench report --in %s", res.Command, *in)
		}
	}
	ropts := compare.ReportOptions{FigureDir: figDir, FigureLink: link, Generator: g}
	// A Nexmark table measured into the same directory (bench nexmark
	// --out DIR) joins the report.
	nx, err := compare.ReadNexmark(*in)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		fmt.Fprintf(stderr, "bench report: %v\n", err)
		return exitUsage
	default:
		ropts.Nexmark = nx
		if meta, err := compare.ReadParquetMetadata(filepath.Join(*in, compare.NexmarkParquet)); err == nil {
			ropts.NexmarkCommand, ropts.NexmarkCommit, ropts.NexmarkDate = meta["command"], meta["commit"], meta["date"]
		}
	}
	// A performance table measured into the same directory (bench perf
	// --out DIR, weirbeam perf --out DIR), or into --perf, ends the report.
	pdir := *perfDir
	if pdir == "" {
		pdir = *in
	}
	perf, beamPerf, popts, err := readPerfFiles(pdir)
	if err != nil {
		fmt.Fprintf(stderr, "bench report: %v\n", err)
		return exitUsage
	}
	if *perfDir != "" && perf == nil {
		fmt.Fprintf(stderr, "bench report: --perf %s holds no %s; run `bench perf --out %s` first\n", *perfDir, compare.PerfCSV, *perfDir)
		return exitUsage
	}
	var buf strings.Builder
	if err := compare.WriteReport(&buf, res, ropts); err != nil {
		fmt.Fprintf(stderr, "bench report: %v\n", withFlag(err))
		return exitFailed
	}
	if perf != nil {
		popts.FigureDir, popts.FigureLink = figDir, link
		if err := compare.WritePerfSection(&buf, perf, beamPerf, popts); err != nil {
			fmt.Fprintf(stderr, "bench report: %v\n", withFlag(err))
			return exitFailed
		}
	}
	if err := writeFileAtomic(*out, []byte(buf.String())); err != nil {
		fmt.Fprintf(stderr, "bench report: %v\n", withFlag(err))
		return exitFailed
	}
	nexmark := ""
	if len(ropts.Nexmark) > 0 {
		nexmark = fmt.Sprintf(", the Nexmark table (%d rows)", len(ropts.Nexmark))
	}
	if perf != nil {
		nexmark += fmt.Sprintf(", the performance table (%d workloads)", len(perfWorkloads(perf)))
	}
	fmt.Fprintf(stdout, "wrote %s (%d experiments%s) and figures in %s\n", *out, len(res.Experiments), nexmark, figDir)
	return exitOK
}

// addRuntimeFlags registers the runtime configuration flags of bench run and
// bench capacity on fs and returns a function giving their values once fs
// is parsed.
func addRuntimeFlags(fs *flag.FlagSet) func() compare.RuntimeFlags {
	var f compare.RuntimeFlags
	fs.StringVar(&f.Guarantee, "guarantee", "", "recordstream: "+strings.Join(compare.Guarantees(), ", "))
	fs.IntVar(&f.Ackers, "ackers", 0, "recordstream: acker tasks")
	fs.IntVar(&f.MaxSpoutPending, "max-spout-pending", 0, "recordstream: un-acked tuples per spout task (0: unlimited)")
	fs.DurationVar(&f.WatermarkInterval, "watermark-interval", 0, "recordstream: processing time between the spouts' watermarks (0: 200ms, Flink's autoWatermarkInterval; microbatch's is its batch interval)")
	fs.DurationVar(&f.MessageTimeout, "message-timeout", 0, "recordstream: tuple tree timeout (0: the default)")
	fs.IntVar(&f.Parallelism, "parallelism", 0, "tasks per component (0: the default)")
	fs.DurationVar(&f.BatchInterval, "batch-interval", 0, "microbatch: batch interval")
	fs.DurationVar(&f.BlockInterval, "block-interval", 0, "microbatch: receiver block interval (0: direct offset ranges)")
	fs.StringVar(&f.Mode, "mode", "", "microbatch: "+strings.Join(compare.Modes(), ", "))
	fs.BoolVar(&f.Backpressure, "backpressure", false, "microbatch: PID rate control")
	var budget byteSize
	fs.Var(&budget, "memory-budget", "microbatch: stop when queued batches hold more than this (e.g. 512MiB); recordstream at-least-once: stop when its pending trees, replays and held tuples do (0: 512MiB)")
	fs.DurationVar(&f.CheckpointInterval, "checkpoint-interval", 0, "checkpoint interval (microbatch; recordstream exactly-once)")
	fs.StringVar(&f.CheckpointDir, "checkpoint-dir", "", "checkpoint directory (empty: a temporary one)")
	fs.BoolVar(&f.Unaligned, "unaligned", false, "recordstream exactly-once: unaligned checkpoints")
	fs.IntVar(&f.ConcurrentJobs, "concurrent-jobs", 0, "microbatch: batch jobs run at once")
	fs.Int64Var(&f.MaxOffsetsPerTrigger, "max-offsets-per-trigger", 0, "microbatch: the most records one batch reads over all partitions, as Structured Streaming's maxOffsetsPerTrigger (0: every available offset)")
	fs.IntVar(&f.TridentBatchSize, "trident-batch-size", 0, "recordstream trident: most records a batch takes per partition (0: 1000)")
	fs.IntVar(&f.TridentPending, "trident-pending", 0, "recordstream trident: batches in flight (0: 1, Storm's default)")
	fs.DurationVar(&f.TridentEmitInterval, "trident-emit-interval", 0, "recordstream trident: least time between batch starts (0: 5ms; Storm's topology.trident.batch.emit.interval.millis is 500ms)")
	fs.StringVar(&f.TridentSpout, "trident-spout", "", "recordstream trident: "+strings.Join(compare.TridentSpouts(), " or ")+" spout and state (empty: transactional)")
	fs.DurationVar(&f.DataflowRetry, "dataflow-retry", 0, "recordstream dataflow: a sender's retry timeout (0: 200ms)")
	fs.IntVar(&f.DataflowIDCache, "dataflow-id-cache", 0, "recordstream dataflow: ids in each receiver's record-id cache (0: 4096; negative: none)")
	fs.IntVar(&f.DataflowBloomBits, "dataflow-bloom-bits", 0, "recordstream dataflow: bits of each receiver's Bloom filter (0: 65536)")
	return func() compare.RuntimeFlags {
		f.MemoryBudget = int64(budget)
		return f
	}
}
