package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/internal/handloop"
)

// cmdPerf is `bench perf [WORKLOAD...] [--events N] [--reps R] [--quick]
// --out DIR`: issue 16's table. Every workload with a hand loop
// (internal/handloop), or those named, is measured on one pre-filled log:
// the hand loop and every configuration of compare.PerfSuite, in
// interleaved repetitions, each configuration checked against the
// reference answer once (compare.RunPerf). It prints the events/s table
// and the targets, and writes DIR/perf.csv and DIR/perf.parquet for
// `bench report`. Exit status 1 when a configuration failed or did not
// match the reference (its figures are still written, its cell says why).
func cmdPerf(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench perf", stderr)
	quick := fs.Bool("quick", false, "a smoke run: 20,000 events per workload, one repetition, the loop timed for 50ms (seconds; figures not worth quoting)")
	out := fs.String("out", "", "output directory (required): perf.csv and perf.parquet")
	events := fs.Int64("events", 0, "events of each workload's input (0: each workload's default; --quick 20,000)")
	seed := fs.Uint64("seed", 1, "seed of the generator")
	reps := fs.Int("reps", 0, "repetitions; figures are medians [min-max] (0: 3; --quick 1)")
	minLoop := fs.Duration("min-loop", 0, "how long the hand loop is repeated within a repetition (0: 200ms; --quick 50ms)")
	pos, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	o := compare.PerfOptions{}
	if *quick {
		o = compare.QuickPerfOptions()
	}
	for _, name := range pos {
		if _, err := compare.LookupWorkload(name); err != nil {
			fmt.Fprintf(stderr, "bench perf: %v\n", err)
			return exitUsage
		}
		if _, err := handloop.Lookup(name); err != nil {
			fmt.Fprintf(stderr, "bench perf: %v\n", err)
			return exitUsage
		}
		o.Workloads = append(o.Workloads, name)
	}
	switch {
	case *out == "":
		fmt.Fprintln(stderr, "bench perf: --out DIR is required")
		return exitUsage
	case *events < 0:
		fmt.Fprintf(stderr, "bench perf: --events %d: want a positive number of events (0: each workload's default)\n", *events)
		return exitUsage
	case *reps < 0:
		fmt.Fprintf(stderr, "bench perf: --reps %d: want at least one repetition (0: the default)\n", *reps)
		return exitUsage
	case *minLoop < 0:
		fmt.Fprintf(stderr, "bench perf: --min-loop %v: want a positive duration (0: the default)\n", *minLoop)
		return exitUsage
	}
	if err := checkDirOut(*out); err != nil {
		fmt.Fprintf(stderr, "bench perf: --out %s: %v\n", *out, err)
		return exitUsage
	}
	if *events > 0 {
		o.Events = *events
	}
	if *reps > 0 {
		o.Reps = *reps
	}
	if *minLoop > 0 {
		o.MinLoop = *minLoop
	}
	o.Seed = *seed
	if err := o.Validate(); err != nil {
		fmt.Fprintf(stderr, "bench perf: %v\n", withFlag(err))
		return exitUsage
	}
	start := time.Now()
	o.Progress = func(msg string) {
		if ctx.Err() == nil {
			fmt.Fprintf(stderr, "[%6.1fs] %s\n", time.Since(start).Seconds(), msg)
		}
	}
	recs, err := compare.RunPerf(ctx, o)
	if err != nil && ctx.Err() != nil {
		note := ""
		if len(recs) > 0 {
			if werr := compare.WritePerf(*out, recs, perfMeta(ctx, args)); werr == nil {
				note = fmt.Sprintf("the %d finished workloads kept in %s", len(perfWorkloads(recs)), *out)
			}
		}
		return interrupted(ctx, stderr, "bench perf", note)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench perf: %v\n", withFlag(err))
		return exitCodeOf(err)
	}
	if err := compare.WritePerf(*out, recs, perfMeta(ctx, args)); err != nil {
		fmt.Fprintf(stderr, "bench perf: %v\n", withFlag(err))
		return exitFailed
	}
	printPerf(stdout, recs)
	fmt.Fprintf(stderr, "%d workloads in %.1fs; %s and %s in %s\n", len(perfWorkloads(recs)), time.Since(start).Seconds(), compare.PerfCSV, compare.PerfParquet, *out)
	for _, r := range recs {
		if r.Status == handloop.StatusFailed {
			return exitFailed
		}
	}
	return exitOK
}

// perfMeta is the Parquet metadata of perf.parquet: the command and the
// machine, which `bench report` quotes.
func perfMeta(ctx context.Context, args []string) [][2]string {
	return [][2]string{
		{"command", strings.TrimSpace("bench perf " + strings.Join(args, " "))},
		{"date", time.Now().UTC().Format(time.RFC3339)},
		{"go_version", runtime.Version()},
		{"goos", runtime.GOOS}, {"goarch", runtime.GOARCH},
		{"gomaxprocs", strconv.Itoa(runtime.GOMAXPROCS(0))},
		{"cores", strconv.Itoa(runtime.NumCPU())},
		{"cpu", compare.CPUModel()},
		{"commit", sourceCommit(ctx)},
	}
}

func perfWorkloads(recs []compare.PerfRecord) []string {
	var ws []string
	for _, r := range recs {
		if len(ws) == 0 || ws[len(ws)-1] != r.Workload {
			ws = append(ws, r.Workload)
		}
	}
	return ws
}

// printPerf prints the events/s table, the targets (Beam's not measured
// here: weirbeam perf measures it, bench report joins them) and why each
// refused or failed cell has no figure.
func printPerf(w io.Writer, recs []compare.PerfRecord) {
	printCompareTable(w, compare.PerfTable(recs, nil))
	fmt.Fprintln(w)
	printCompareTable(w, compare.PerfTargetsTable(compare.PerfTargets(recs, nil)))
	for _, r := range recs {
		if r.Status != handloop.StatusOK {
			fmt.Fprintf(w, "%s on %s: %s: %s\n", r.Workload, r.Config, r.Status, r.Reason)
		}
	}
}

func printCompareTable(w io.Writer, t compare.Table) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Columns, "\t"))
	for _, r := range t.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// readPerfFiles reads the perf files in dir for bench report: perf.csv
// (nil when absent), beam-perf.csv (nil when absent) and the section's
// options from the Parquet files' metadata.
func readPerfFiles(dir string) ([]compare.PerfRecord, []compare.BeamPerfRecord, compare.PerfSectionOptions, error) {
	var o compare.PerfSectionOptions
	recs, err := compare.ReadPerf(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, o, nil
	}
	if err != nil {
		return nil, nil, o, err
	}
	beam, err := compare.ReadBeamPerf(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		beam = nil
	case err != nil:
		return nil, nil, o, err
	}
	if meta, err := compare.ReadParquetMetadata(filepath.Join(dir, compare.PerfParquet)); err == nil {
		o.Command = meta["command"]
		o.Machine = fmt.Sprintf("%s/%s, %s cores, GOMAXPROCS %s, %s, %s", meta["goos"], meta["goarch"], meta["cores"], meta["gomaxprocs"], meta["go_version"], meta["cpu"])
		if meta["date"] != "" {
			o.Machine += ", " + meta["date"]
		}
	}
	if meta, err := compare.ReadParquetMetadata(filepath.Join(dir, compare.BeamPerfParquet)); err == nil && beam != nil {
		o.BeamCommand = meta["command"]
	}
	return recs, beam, o, nil
}
