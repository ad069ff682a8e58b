package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/internal/clock"
)

// cmdNexmark is `bench nexmark [QUERY...] [--quick] --out DIR`: every
// Nexmark query on every configuration of compare.NexmarkSuite (or the one
// --runtime and its flags give), measured and checked
// (compare.RunNexmark), printed as the nexmark/nexmark table with the
// published Flink and RisingWave per-core figures beside ours, and written
// to DIR/nexmark.csv and DIR/nexmark.parquet for `bench report`.
func cmdNexmark(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("bench nexmark", stderr)
	quick := fs.Bool("quick", false, "small runs (200k events unpaced, 2 s paced, two configurations, no sustainable search): under two minutes")
	out := fs.String("out", "", "output directory (required): nexmark.csv and nexmark.parquet")
	events := fs.Int64("events", 0, "events of each unpaced run (0: 1,000,000; --quick 200,000)")
	seed := fs.Uint64("seed", 1, "seed of the generator")
	pacedRate := fs.Float64("paced-rate", 0, "ingestion rate of the paced latency run, events/s (0: 20,000)")
	pacedDuration := fs.Duration("paced-duration", 0, "how long the paced run ingests (0: 30s; --quick 2s; negative: no paced run)")
	sustainable := fs.Bool("sustainable", false, "also search each pair's sustainable throughput (bench capacity's search; minutes per pair)")
	maxProbes := fs.Int("max-probes", 6, "with --sustainable: the most paced probes per pair")
	probeDuration := fs.Duration("probe-duration", 10*time.Second, "with --sustainable: how long each probe offers its rate")
	startRate := fs.Float64("start-rate", 50_000, "with --sustainable: the first offered rate, events/s")
	rt := fs.String("runtime", "", "measure this one runtime configuration (with the runtime flags) instead of the default set: "+strings.Join(compare.Runtimes(), ", "))
	runtimeFlags := addRuntimeFlags(fs)
	pos, code, ok := parseCommand(fs, args)
	if !ok {
		return code
	}
	o := compare.NexmarkOptions{}
	if *quick {
		o = compare.QuickNexmarkOptions()
	}
	for _, q := range pos {
		if !strings.HasPrefix(q, "nexmark-") {
			q = "nexmark-" + q
		}
		if !slices.Contains(compare.NexmarkQueries(), q) {
			fmt.Fprintf(stderr, "bench nexmark: unknown query %q: use one of %s (with or without the nexmark- prefix)\n", q, strings.Join(compare.NexmarkQueries(), ", "))
			return exitUsage
		}
		o.Queries = append(o.Queries, q)
	}
	if *out == "" {
		fmt.Fprintln(stderr, "bench nexmark: --out DIR is required")
		return exitUsage
	}
	if err := checkDirOut(*out); err != nil {
		fmt.Fprintf(stderr, "bench nexmark: --out %s: %v\n", *out, err)
		return exitUsage
	}
	switch {
	case *events < 0:
		fmt.Fprintf(stderr, "bench nexmark: --events %d: want a positive number of events (0: the default)\n", *events)
		return exitUsage
	case *pacedRate < 0:
		fmt.Fprintf(stderr, "bench nexmark: --paced-rate %v: want a positive rate in events/s (0: the default)\n", *pacedRate)
		return exitUsage
	}
	if *events > 0 {
		o.Events = *events
	}
	if *pacedRate > 0 {
		o.PacedRate = *pacedRate
	}
	if *pacedDuration != 0 {
		o.PacedDuration = *pacedDuration
	}
	o.Seed = *seed
	o.Sustainable = *sustainable
	switch {
	case *maxProbes < 1:
		fmt.Fprintf(stderr, "bench nexmark: --max-probes %d: want at least one probe\n", *maxProbes)
		return exitUsage
	case *probeDuration <= 0:
		fmt.Fprintf(stderr, "bench nexmark: --probe-duration %v: want a positive duration\n", *probeDuration)
		return exitUsage
	case !(*startRate > 0):
		fmt.Fprintf(stderr, "bench nexmark: --start-rate %v: want a positive number of events/s\n", *startRate)
		return exitUsage
	}
	o.Capacity = compare.CapacityOptions{MaxProbes: *maxProbes, ProbeDuration: *probeDuration, StartRate: *startRate,
		Options: compare.Options{Seed: *seed, Clock: clock.Real()}}
	if *rt != "" {
		f := runtimeFlags()
		if msg := checkpointDirProblem(f); msg != "" {
			fmt.Fprintf(stderr, "bench nexmark: %s\n", msg)
			return exitUsage
		}
		r, err := compare.NewRunner(*rt, f)
		if err != nil {
			fmt.Fprintf(stderr, "bench nexmark: %v\n", withFlag(err))
			return exitUsage
		}
		if msg := runtimeFlagsProblem(fs, r.Name()); msg != "" {
			fmt.Fprintf(stderr, "bench nexmark: %s\n", msg)
			return exitUsage
		}
		o.Entries = []compare.SuiteEntry{{Runtime: *rt, Flags: f}}
	} else if name := firstRuntimeFlag(fs); name != "" {
		fmt.Fprintf(stderr, "bench nexmark: --%s configures the one runtime of --runtime; give --runtime, or drop --%s to measure the default configurations\n", name, name)
		return exitUsage
	}
	if err := o.Validate(); err != nil {
		fmt.Fprintf(stderr, "bench nexmark: %v\n", withFlag(err))
		return exitUsage
	}
	start := time.Now()
	o.Progress = func(msg string) {
		if ctx.Err() == nil {
			fmt.Fprintf(stderr, "[%6.1fs] %s\n", time.Since(start).Seconds(), msg)
		}
	}
	rows, err := compare.RunNexmark(ctx, o)
	command := strings.TrimSpace("bench nexmark " + strings.Join(args, " "))
	meta := [][2]string{
		{"command", command},
		{"date", time.Now().UTC().Format(time.RFC3339)},
		{"go_version", runtime.Version()},
		{"goos", runtime.GOOS}, {"goarch", runtime.GOARCH},
		{"gomaxprocs", strconv.Itoa(runtime.GOMAXPROCS(0))},
		{"cores", strconv.Itoa(runtime.NumCPU())},
		{"cpu", compare.CPUModel()},
		{"commit", sourceCommit(ctx)},
	}
	if werr := compare.WriteNexmark(*out, rows, meta); werr != nil {
		fmt.Fprintf(stderr, "bench nexmark: %v\n", withFlag(werr))
		return exitFailed
	}
	if err != nil && ctx.Err() != nil {
		return interrupted(ctx, stderr, "bench nexmark", fmt.Sprintf("%d measured rows kept in %s", len(rows), *out))
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench nexmark: %v\n", withFlag(err))
		return exitCodeOf(err)
	}
	printNexmark(stdout, rows)
	fmt.Fprintf(stderr, "%d rows in %.1fs; %s and %s in %s\n", len(rows), time.Since(start).Seconds(), compare.NexmarkCSV, compare.NexmarkParquet, *out)
	for _, r := range rows {
		if r.Status == "failed" || (r.Status == "ok" && !r.Matches) || (r.PacedEvents > 0 && r.Status == "ok" && !r.PacedMatches) {
			return exitFailed
		}
	}
	return exitOK
}

// firstRuntimeFlag returns the name of the first runtime flag given on fs
// ("" when none is).
func firstRuntimeFlag(fs *flag.FlagSet) string {
	uses := runtimeFlagUses()
	var name string
	fs.Visit(func(f *flag.Flag) {
		if _, ok := uses[f.Name]; ok && name == "" {
			name = f.Name
		}
	})
	return name
}

// printNexmark prints the table, then the notes that say whose figures
// are whose.
func printNexmark(w io.Writer, rows []compare.NexmarkRecord) {
	t := compare.NexmarkTable(rows)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Columns, "\t"))
	for _, r := range t.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	for _, n := range compare.NexmarkNotes() {
		fmt.Fprintln(w, "- "+n)
	}
}
