package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/weirlab/weir/beam/translate"
	"github.com/weirlab/weir/cmd/bench/cliflags"
	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
)

// perfCmd is `weirbeam perf [WORKLOAD...] --events N [--reps R] --out
// DIR`: Beam's column of bench perf's table. Each workload that has a
// hand loop (compare.PerfWorkloads), or each named, runs on Beam over
// data of the same generator, seed and size as bench perf's
// (compare.DataSpec{Events, Seed}), once for the check against the
// reference answer and as many times as --reps asks for the figure:
// events/s over each run's own elapsed time (Outcome.Elapsed, from the
// pipeline's submission to its last result, as `weirbeam run` reports).
// A workload Beam cannot express is a refused row with the reason; a run
// that fails or does not match the reference a failed row with no figure
// (exit 1). DIR/beam-perf.csv and DIR/beam-perf.parquet are written
// atomically for `bench report`.
func perfCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("weirbeam perf", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.Int64("events", 0, "events of each workload's input, as bench perf's --events (0: each workload's default)")
	seed := fs.Uint64("seed", 1, "seed of the generator, as bench perf's --seed")
	reps := fs.Int("reps", 1, "timed runs per workload; the figure is their median [min-max] (the first is also checked)")
	out := fs.String("out", "", "output directory (required): beam-perf.csv and beam-perf.parquet")
	bf := addBeamFlags(fs)
	var names []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		names, args = append(names, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return cliflags.ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "weirbeam perf: unexpected argument %q; name the workloads before the flags\n", fs.Arg(0))
		return cliflags.ExitUsage
	}
	var ws []*compare.Workload
	loops := compare.PerfWorkloads()
	for _, name := range names {
		w, err := compare.LookupWorkload(name)
		if err != nil {
			fmt.Fprintf(stderr, "weirbeam perf: %v\n", err)
			return cliflags.ExitUsage
		}
		if !slices.ContainsFunc(loops, func(l *compare.Workload) bool { return l.Name == w.Name }) {
			fmt.Fprintf(stderr, "weirbeam perf: %s has no hand loop, so bench perf does not measure it; name one of %s\n", name, strings.Join(workloadNames(loops), ", "))
			return cliflags.ExitUsage
		}
		ws = append(ws, w)
	}
	if len(ws) == 0 {
		ws = loops
	}
	switch {
	case *out == "":
		fmt.Fprintln(stderr, "weirbeam perf: --out DIR is required")
		return cliflags.ExitUsage
	case *events < 0:
		fmt.Fprintf(stderr, "weirbeam perf: --events %d: want a positive number of events (0: each workload's default)\n", *events)
		return cliflags.ExitUsage
	case *reps < 1:
		fmt.Fprintf(stderr, "weirbeam perf: --reps %d: want at least one run\n", *reps)
		return cliflags.ExitUsage
	}
	if st, err := os.Stat(*out); err == nil && !st.IsDir() {
		fmt.Fprintf(stderr, "weirbeam perf: --out %s is a file, not a directory; name a directory\n", *out)
		return cliflags.ExitUsage
	}
	r := bf.runner_()
	if err := r.Validate(); err != nil {
		fmt.Fprintf(stderr, "weirbeam perf: %v\n", err)
		return cliflags.ExitUsage
	}
	d := compare.DataSpec{Events: *events, Seed: *seed}
	if err := d.Validate(); err != nil {
		fmt.Fprintf(stderr, "weirbeam perf: %v\n", err)
		return cliflags.ExitUsage
	}
	start := time.Now()
	say := func(format string, a ...any) {
		if ctx.Err() == nil {
			fmt.Fprintf(stderr, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
		}
	}
	meta := [][2]string{
		{"command", strings.TrimSpace("weirbeam perf " + strings.Join(append(names, args...), " "))},
		{"date", time.Now().UTC().Format(time.RFC3339)},
		{"go_version", runtime.Version()},
		{"gomaxprocs", strconv.Itoa(runtime.GOMAXPROCS(0))},
		{"cores", strconv.Itoa(runtime.NumCPU())},
	}
	var recs []compare.BeamPerfRecord
	for _, w := range ws {
		if ctx.Err() != nil {
			break
		}
		rec, err := beamPerf(ctx, w, d, r, *reps, say)
		if err != nil { // only a canceled ctx
			break
		}
		recs = append(recs, rec)
	}
	if ctx.Err() != nil {
		note := "nothing written"
		if len(recs) > 0 {
			if err := compare.WriteBeamPerf(*out, recs, meta); err == nil {
				note = fmt.Sprintf("the %d finished workloads kept in %s", len(recs), *out)
			}
		}
		fmt.Fprintf(stderr, "weirbeam perf: interrupted; %s\n", note)
		return cliflags.ExitFailed
	}
	if err := compare.WriteBeamPerf(*out, recs, meta); err != nil {
		fmt.Fprintf(stderr, "weirbeam perf: %v\n", err)
		return cliflags.ExitFailed
	}
	printBeamPerf(stdout, recs)
	fmt.Fprintf(stderr, "%d workloads in %.1fs; %s and %s in %s\n", len(recs), time.Since(start).Seconds(), compare.BeamPerfCSV, compare.BeamPerfParquet, *out)
	for _, rec := range recs {
		if rec.Status == "failed" {
			return cliflags.ExitFailed
		}
	}
	return cliflags.ExitOK
}

// beamPerf measures workload w on Beam: the log built as its workers
// build it, reps runs over it, each checked against the reference
// (compare.RunLog); a run that does not match ends the row as failed.
// The error is only ctx's.
func beamPerf(ctx context.Context, w *compare.Workload, d compare.DataSpec, r *translate.Runner, reps int, say func(string, ...any)) (compare.BeamPerfRecord, error) {
	rec := compare.BeamPerfRecord{Workload: w.Name, Runner: "beam/" + r.Beam}
	r.Log = translate.SpecFor(w, d)
	say("%s: generating the input", w.Name)
	log, tables, err := translate.OpenLog(ctx, r.Log)
	if err != nil {
		if ctx.Err() != nil {
			return rec, ctx.Err()
		}
		rec.Status, rec.Reason = "failed", err.Error()
		return rec, nil
	}
	rec.Events = log.Len()
	var rates []float64
	for i := range reps {
		say("%s: run %d of %d on %s", w.Name, i+1, reps, rec.Runner)
		rep, err := compare.RunLog(ctx, w, r, log, tables, d, compare.Options{Seed: d.Seed}, nil)
		if ctx.Err() != nil {
			return rec, ctx.Err()
		}
		if ue, ok := errors.AsType[*dataflow.UnsupportedError](err); ok {
			rec.Status, rec.Reason = "refused", ue.Error()
			return rec, nil
		}
		switch {
		case err != nil:
			rec.Reason = err.Error()
		case rep.Outcome.Events != rec.Events:
			rec.Reason = fmt.Sprintf("read %d of the log's %d events", rep.Outcome.Events, rec.Events)
		case !rep.Check.OK():
			rec.Reason = "does not match the reference: " + rep.Check.String()
		}
		if rec.Reason != "" {
			rec.Status = "failed"
			return rec, nil
		}
		if i == 0 {
			rec.Check, rec.Results = rep.Check.String(), int64(len(rep.Outcome.Results))
		}
		rates = append(rates, float64(rep.Outcome.Events)/max(rep.Outcome.Elapsed, time.Nanosecond).Seconds())
	}
	slices.Sort(rates)
	med := rates[len(rates)/2]
	if len(rates)%2 == 0 {
		med = (rates[len(rates)/2-1] + rates[len(rates)/2]) / 2
	}
	rec.Status, rec.Reps = "ok", int64(len(rates))
	rec.EventsPerSecond, rec.MinEventsPerSecond, rec.MaxEventsPerSecond = med, rates[0], rates[len(rates)-1]
	return rec, nil
}

func printBeamPerf(w io.Writer, recs []compare.BeamPerfRecord) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tevents\tresults\trunner\tevents/s\tmin\tmax\truns\tverdict")
	for _, r := range recs {
		verdict := "matches"
		if r.Status != "ok" {
			verdict = r.Status + ": " + r.Reason
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.0f\t%.0f\t%.0f\t%d\t%s\n", r.Workload, r.Events, r.Results, r.Runner, r.EventsPerSecond, r.MinEventsPerSecond, r.MaxEventsPerSecond, r.Reps, verdict)
	}
	tw.Flush()
}

func workloadNames(ws []*compare.Workload) []string {
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = w.Name
	}
	return names
}
