package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/microbatch"
	"github.com/weirlab/weir/recordstream"
)

// bench runs the command in process and returns its exit code and output.
func bench(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"unknown command", []string{"frobnicate"}, exitUsage, "unknown command"},
		{"unknown workload", []string{"run", "yahoo", "--runtime", "reference"}, exitUsage, "unknown workload \"yahoo\""},
		{"no workload", []string{"run", "--runtime", "reference"}, exitUsage, "want one workload"},
		{"two workloads", []string{"run", "ysb", "grep", "--runtime", "reference"}, exitUsage, "want one workload"},
		{"no runtime", []string{"run", "ysb"}, exitUsage, "--runtime is required"},
		{"unknown runtime", []string{"run", "ysb", "--runtime", "flink"}, exitUsage, "unknown runtime \"flink\""},
		{"unknown flag", []string{"run", "ysb", "--runtime", "reference", "--turbo"}, exitUsage, "turbo"},
		{"bad guarantee", []string{"run", "ysb", "--runtime", "reference", "--guarantee", "maybe"}, exitUsage, `want one of at-most-once, at-least-once, exactly-once, trident, dataflow; got "maybe" (flag --guarantee)`},
		{"bad mode", []string{"run", "ysb", "--runtime", "reference", "--mode", "x"}, exitUsage, `got "x" (flag --mode)`},
		{"bad memory budget", []string{"run", "ysb", "--runtime", "reference", "--memory-budget", "12XB"}, exitUsage, "memory-budget"},
		{"bad duration", []string{"run", "ysb", "--runtime", "reference", "--batch-interval", "soon"}, exitUsage, "batch-interval"},
		{"negative parallelism", []string{"run", "ysb", "--runtime", "reference", "--parallelism", "-1"}, exitUsage, "must not be negative; use 0 for the runtime's default (flag --parallelism)"},
		{"bad crash-after", []string{"run", "ysb", "--runtime", "reference", "--crash-after", "x"}, exitUsage, "crash-after"},
		{"bad drop-acks", []string{"run", "ysb", "--runtime", "reference", "--drop-acks", "2"}, exitUsage, "--drop-acks"},
		{"negative events", []string{"run", "ysb", "--runtime", "reference", "--events", "-3"}, exitUsage, "want a positive number of events, or 0 for the workload's default; got -3 (flag --events)"},
		{"negative rate", []string{"run", "ysb", "--runtime", "reference", "--rate", "-3"}, exitUsage, "got -3 (flag --rate)"},
		{"negative event rate", []string{"run", "ysb", "--runtime", "reference", "--event-rate", "-1"}, exitUsage, "got -1 (flag --event-rate)"},
		{"negative partitions", []string{"run", "ysb", "--runtime", "reference", "--partitions", "-1"}, exitUsage, "(flag --partitions)"},
		{"negative max spout pending", []string{"run", "ysb", "--runtime", "recordstream", "--max-spout-pending", "-1"}, exitUsage, "must not be negative; use 0 for the runtime's default (flag --max-spout-pending)"},
		{"block longer than batch", []string{"run", "ysb", "--runtime", "microbatch", "--batch-interval", "1s", "--block-interval", "2s"}, exitUsage, "use a block interval at most the batch interval (flag --block-interval)"},
		{"rate with input", []string{"run", "ysb", "--runtime", "reference", "--input", dir, "--rate", "10"}, exitUsage, "--rate paces built-in data only; drop --rate or --input"},
		{"bad out format", []string{"run", "ysb", "--runtime", "reference", "--out", filepath.Join(dir, "x.txt")}, exitUsage, ".csv"},
		{"missing input", []string{"run", "ysb", "--runtime", "reference", "--input", filepath.Join(dir, "nope")}, exitUsage, "nope"},
		{"gen without out", []string{"gen", "ysb"}, exitUsage, "--out"},
		{"gen unknown workload", []string{"gen", "yahoo", "--out", dir}, exitUsage, "unknown workload"},
		{"gen late above 1", []string{"gen", "ysb", "--out", dir, "--late", "1.5"}, exitUsage, "--late 1.5: want a share between 0 and 1"},
		{"gen late NaN", []string{"gen", "ysb", "--out", dir, "--late", "NaN"}, exitUsage, "--late NaN: want a finite number"},
		{"gen negative out-of-order", []string{"gen", "ysb", "--out", dir, "--out-of-order", "-0.1"}, exitUsage, "--out-of-order -0.1: want a share between 0 and 1"},
		{"gen shares above 1", []string{"gen", "ysb", "--out", dir, "--out-of-order", "0.6", "--late", "0.5"}, exitUsage, "add up to at most 1"},
		{"gen negative max-delay", []string{"gen", "ysb", "--out", dir, "--max-delay", "-1s"}, exitUsage, "--max-delay -1s: want a duration of at least 1ms"},
		{"gen tiny late-delay", []string{"gen", "ysb", "--out", dir, "--late", "0.1", "--late-delay", "1ms"}, exitUsage, "--late-delay 1ms: want a duration of at least 2ms"},
		{"run late above 1", []string{"run", "ysb", "--runtime", "reference", "--late", "2"}, exitUsage, "--late 2: want a share between 0 and 1"},
		{"run skew with input", []string{"run", "ysb", "--runtime", "reference", "--input", dir, "--late", "0.1"}, exitUsage, "--late shapes built-in data only"},
		{"list with arguments", []string{"list", "x"}, exitUsage, "no arguments"},
		{"check with arguments", []string{"check", "ysb"}, exitUsage, "bench check: takes no arguments"},
		{"lecture suite with an argument", []string{"--out", dir, "ysb"}, exitUsage, "unknown command \"ysb\""},
		{"window on sessions", []string{"run", "sessions", "--runtime", "reference", "--window", "10s"}, exitUsage, "set Gap instead (flag --window)"},
		{"gap on fixed windows", []string{"run", "ysb", "--runtime", "reference", "--gap", "10s"}, exitUsage, "which have no gap; set Window (and Slide) instead (flag --gap)"},
		{"slide on count windows", []string{"run", "count-window", "--runtime", "reference", "--slide", "10s"}, exitUsage, "sized in elements, not time (flag --slide)"},
		{"watermark on processing time", []string{"run", "request-rate", "--runtime", "reference", "--watermark-bound", "1s"}, exitUsage, "processing time, which has no watermark and nothing late (flag --watermark-bound)"},
		{"lateness on a stateless pipeline", []string{"run", "grep", "--runtime", "reference", "--lateness", "1s"}, exitUsage, "is stateless: it has no window, watermark or aggregate to change (flag --lateness)"},
		{"sketch width on exact top-N", []string{"run", "hashtag-topn", "--runtime", "reference", "--sketch-width", "64"}, exitUsage, "hashtag-approx-topn has one (flag --sketch-width)"},
		{"negative window", []string{"run", "ysb", "--runtime", "reference", "--window", "-1s"}, exitUsage, "must not be negative; got -1s (0 keeps the workload's) (flag --window)"},
		{"bad window", []string{"run", "ysb", "--runtime", "reference", "--window", "ten"}, exitUsage, "-window"},
		{"negative sketch width", []string{"run", "hashtag-approx-topn", "--runtime", "reference", "--sketch-width", "-2"}, exitUsage, "(flag --sketch-width)"},
		{"duration without rate", []string{"run", "ysb", "--runtime", "reference", "--duration", "2s"}, exitUsage, "--duration 2s bounds a paced run; give --rate"},
		{"duration with events", []string{"run", "ysb", "--runtime", "reference", "--duration", "2s", "--rate", "100", "--events", "10"}, exitUsage, "drop --events or --duration"},
		{"duration under one event", []string{"run", "ysb", "--runtime", "reference", "--duration", "1ms", "--rate", "10"}, exitUsage, "less than one event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := bench(t, tc.args...)
			assert.Equal(t, tc.code, code, "bench %s: stderr %s", strings.Join(tc.args, " "), stderr)
			assert.Contains(t, stderr, tc.want)
			assert.NotContains(t, stderr, "panic")
		})
	}
}

func TestUnreadableInput(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, datasets.EventsFile), []byte("this is not parquet"), 0o644))
	code, _, stderr := bench(t, "run", "ysb", "--runtime", "reference", "--input", dir)
	assert.Equal(t, exitUsage, code, stderr)
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1-countProgress(stderr), "one line: %q", stderr)
}

// countProgress counts the progress lines (which name a stage) in stderr.
func countProgress(stderr string) int {
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !strings.HasPrefix(l, "bench") {
			n++
		}
	}
	return n
}

func TestList(t *testing.T) {
	code, out, _ := bench(t, "list")
	require.Equal(t, exitOK, code)
	for _, s := range []string{"ysb", "grep", "hashtag-topn", "hashtag-approx-topn", "request-rate", "sessions", "iot-sliding", "fraud", "count-window", "reference", "experiments",
		"nexmark-q3", "nexmark-q12", "go run ./cmd/weirbeam run WORKLOAD --runner prism", "--environment_type LOOPBACK"} {
		assert.Contains(t, out, s)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "count-window ") {
			assert.Contains(t, l, "element ordinals", "count-window says its window columns are not milliseconds")
			assert.Contains(t, l, "not milliseconds")
		}
		if strings.HasPrefix(strings.TrimSpace(l), "hashtag-topn ") {
			assert.Contains(t, l, "tag=count,", "hashtag-topn says its value format")
			assert.Contains(t, l, "ties by tag ascending")
		}
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := bench(t, "help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "bench run")
	code, _, stderr := bench(t, "run", "-h")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stderr, "-checkpoint-interval")
	assert.Contains(t, stderr, "0: the workload's default, or with --rate the ingest rate, so event time follows the wall clock",
		"--event-rate says what 0 does when paced (compare.DataConfig)")
	assert.Contains(t, stderr, "element ordinals [k*slide, k*slide+size), not milliseconds", "--out says what count windows' bounds hold")
	assert.Contains(t, stderr, "waiting per record, not CPU work", "--slow says what kind of time it costs")
	for _, f := range []string{"-out-of-order", "-max-delay", "-late ", "-late-delay"} {
		assert.Contains(t, stderr, f, "run has the skew flags")
	}

	code, _, stderr = bench(t, "gen", "-h")
	assert.Equal(t, exitOK, code, "gen -h is not an error")
	assert.Contains(t, stderr, "partitioned by the dataset's key column")
	assert.Contains(t, stderr, "(0: the default, 4)")
	for _, f := range []string{"-out-of-order", "-max-delay", "-late ", "-late-delay"} {
		assert.Contains(t, stderr, f, "gen has the skew flags")
	}
}

// lateRecords loads the dataset directory dir and counts, per partition, the
// records whose event time is more than bound behind the largest event time
// before them: the records a watermark of that bound has passed. inOrder
// reports whether every partition is in event-time order.
func lateRecords(t *testing.T, dir, dataset string, bound time.Duration) (late int, inOrder bool) {
	t.Helper()
	log, _, err := datasets.LoadDir(t.Context(), dir, dataset, datasets.Config{})
	require.NoError(t, err)
	gen, err := datasets.Lookup(dataset)
	require.NoError(t, err)
	tcol := gen.Schema().Index("event_time")
	inOrder = true
	var row dataflow.Row
	for p := range log.Partitions() {
		var most int64
		for off := range log.End(p) {
			row, _ = log.Read(p, off, row)
			et := row[tcol].I
			if off == 0 {
				most = et
			}
			if et < most {
				inOrder = false
			}
			if et < most-bound.Milliseconds() {
				late++
			}
			most = max(most, et)
		}
	}
	return late, inOrder
}

// TestGenSkew: gen's skew flags reach the generated data, read back from the
// file. The default has no late records; --late gives them; --out-of-order 0
// with --late 0 gives data in event-time order.
func TestGenSkew(t *testing.T) {
	const events = 20_000
	gen := func(flags ...string) string {
		dir := t.TempDir()
		// 500 events/s: 40 s of event time, room for 6-12 s delays.
		args := append([]string{"gen", "ysb", "--events", strconv.Itoa(events), "--event-rate", "500", "--seed", "5", "--out", dir}, flags...)
		code, _, stderr := bench(t, args...)
		require.Equal(t, exitOK, code, stderr)
		return dir
	}
	const bound = 5 * time.Second // the workloads' watermark bound

	late, inOrder := lateRecords(t, gen(), "ysb", bound)
	assert.Zero(t, late, "the default skew (up to 2 s) has no record 5 s late")
	assert.False(t, inOrder, "the default skew has out-of-order records")

	late, _ = lateRecords(t, gen("--late", "0.05", "--late-delay", "12s"), "ysb", bound)
	// 5% of 20,000 are delayed 6-12 s; those near the end of the 40 s
	// arrive after the last event, behind less than the bound.
	assert.Greater(t, late, events/100, "--late 0.05 --late-delay 12s: records behind the watermark")
	assert.Less(t, late, events*6/100, "no more late records than the late share")

	late, inOrder = lateRecords(t, gen("--out-of-order", "0", "--late", "0"), "ysb", bound)
	assert.Zero(t, late)
	assert.True(t, inOrder, "--out-of-order 0 --late 0: event-time order")
}

// TestDataFlagsShared: run's data flags are gen's, and select the same skew.
func TestDataFlagsShared(t *testing.T) {
	for _, cmd := range []string{"gen", "run"} {
		fs := newFlagSet(cmd, io.Discard)
		d := addDataFlags(fs, cmd)
		_, err := parseArgs(fs, []string{"--out-of-order", "0.1", "--max-delay", "1s", "--late", "0.02", "--late-delay", "20s", "--partitions", "3"})
		require.NoError(t, err, cmd)
		s, err := d.Spec()
		require.NoError(t, err, cmd)
		assert.Equal(t, datasets.Skew{OutOfOrder: 0.1, Delay: time.Second, Late: 0.02, LateDelay: 20 * time.Second}, s.Skew, cmd)
		assert.False(t, s.InOrder, cmd)
		assert.Equal(t, 3, s.Partitions, cmd)
		assert.Equal(t, "out-of-order", d.SkewFlagSet(), "%s: the first skew flag given, in flag order", cmd)

		fs = newFlagSet(cmd, io.Discard)
		d = addDataFlags(fs, cmd)
		_, err = parseArgs(fs, nil)
		require.NoError(t, err, cmd)
		s, err = d.Spec()
		require.NoError(t, err, cmd)
		assert.Equal(t, compare.DataSpec{Seed: 1}, s, "%s without flags: the dataset's default skew", cmd)
		assert.Empty(t, d.SkewFlagSet(), cmd)
	}
}

// TestGenRunRoundTrip writes ysb data with gen, runs the reference on it
// and checks the per-campaign counts against a count done here by hand.
func TestGenRunRoundTrip(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := bench(t, "gen", "ysb", "--events", "20000", "--seed", "3", "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "20000")

	csv := filepath.Join(dir, "x.csv")
	summary := filepath.Join(dir, "s.json")
	code, out, stderr = bench(t, "run", "ysb", "--runtime", "reference", "--input", dir, "--out", csv, "--summary", summary)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "matches reference: yes")

	// The expected answer, by hand: views per campaign per 10 s window.
	gen, err := datasets.Lookup("ysb")
	require.NoError(t, err)
	events, err := datasets.ReadParquet(filepath.Join(dir, datasets.EventsFile), gen)
	require.NoError(t, err)
	require.Len(t, events, 20000)
	campaigns := gen.Tables(3)["campaigns"]
	table, err := datasets.ReadParquetRows(filepath.Join(dir, "campaigns.parquet"), campaigns.Schema)
	require.NoError(t, err)
	s := gen.Schema()
	adCol, typeCol, timeCol := s.Index("ad_id"), s.Index("event_type"), s.Index("event_time")
	campaignOf := map[string]string{}
	for _, r := range table {
		campaignOf[r[campaigns.Schema.Index("ad_id")].S] = r[campaigns.Schema.Index("campaign_id")].S
	}
	want := map[string]int64{}
	for _, e := range events {
		if e[typeCol].S != "view" {
			continue
		}
		c, ok := campaignOf[e[adCol].S]
		if !ok {
			continue
		}
		start := e[timeCol].I - e[timeCol].I%10_000
		want[fmt.Sprintf("%d %d %s", start, start+10_000, c)]++
	}
	require.NotEmpty(t, want)

	_, results, err := datasets.ReadResults(csv)
	require.NoError(t, err)
	got := map[string]int64{}
	for i, r := range results {
		got[fmt.Sprintf("%d %d %s", r.Window.Start, r.Window.End, r.Key)] = r.Value.Int64()
		if i > 0 {
			prev := results[i-1]
			assert.True(t, prev.Window.Start < r.Window.Start || (prev.Window.Start == r.Window.Start && prev.Key < r.Key), "rows sorted by window start, key: %v then %v", prev, r)
		}
	}
	assert.Equal(t, want, got, "per-campaign window counts")

	var sum map[string]any
	b, err := os.ReadFile(summary)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	assert.Equal(t, 20000.0, sum["events"])
	assert.Equal(t, float64(len(want)), sum["reference"].(map[string]any)["matching"])
}

func TestRunWritesEveryFormat(t *testing.T) {
	dir := t.TempDir()
	for _, ext := range []string{".csv", ".jsonl", ".parquet"} {
		path := filepath.Join(dir, "sessions"+ext)
		code, _, stderr := bench(t, "run", "sessions", "--runtime", "reference", "--events", "3000", "--out", path)
		require.Equal(t, exitOK, code, stderr)
		extra, rs, err := datasets.ReadResults(path)
		require.NoError(t, err, ext)
		assert.Equal(t, []string{"duration_ms"}, extra, ext)
		assert.NotEmpty(t, rs, ext)
	}
}

func TestExitCodeOf(t *testing.T) {
	assert.Equal(t, exitUnsupported, exitCodeOf(fmt.Errorf("x: %w", &dataflow.UnsupportedError{Model: "m", Reason: "r"})))
	assert.Equal(t, exitFailed, exitCodeOf(fmt.Errorf("boom")))
}

// TestUnsupportedExitsThree: a model that cannot express the workload gives
// one line and status 3 (DStreams have no session windows).
func TestUnsupportedExitsThree(t *testing.T) {
	if !slices.Contains(compare.Runtimes(), "microbatch") {
		t.Skip("no microbatch runtime in this build")
	}
	code, _, stderr := bench(t, "run", "sessions", "--runtime", "microbatch", "--mode", "dstream", "--batch-interval", "1s", "--events", "500")
	assert.Equal(t, exitUnsupported, code, stderr)
	assert.Contains(t, stderr, "cannot express")
}

// TestRunReportsDifferences: a completed run exits 0 whatever the check
// says, and says it (at-most-once may lose records after a crash).
func TestRunReportsDifferences(t *testing.T) {
	if !slices.Contains(compare.Runtimes(), "recordstream") {
		t.Skip("no recordstream runtime in this build")
	}
	summary := filepath.Join(t.TempDir(), "s.json")
	code, out, stderr := bench(t, "run", "ysb", "--runtime", "recordstream", "--guarantee", "at-most-once",
		"--crash-after", "5000", "--events", "20000", "--summary", summary)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "matches reference: ")
	var s struct{ Reference struct{ OK bool } }
	b, err := os.ReadFile(summary)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &s))
	if !s.Reference.OK {
		assert.Contains(t, out, "NO (", "a failed check is printed")
		assert.Contains(t, stderr, "difference:")
	}
}

// TestWithFlagNamesTheFlag checks that a library's error naming one of its
// fields reaches the user with the flag to change.
func TestWithFlagNamesTheFlag(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&recordstream.ConfigError{Field: "MaxSpoutPending", Err: errors.New("too small")}, "too small (flag --max-spout-pending)"},
		{&recordstream.ConfigError{Field: "Unaligned", Err: errors.New("conflict")}, "(flag --unaligned)"},
		{fmt.Errorf("run: %w", recordstream.ErrSpoutStalled), "(flag --max-spout-pending)"},
		{&compare.FieldError{Field: "DataSpec.Events", Err: errors.New("bad")}, "compare: DataSpec.Events: bad (flag --events)"},
		{&compare.InputError{Err: &compare.FieldError{Field: "DataSpec.Rate", Err: errors.New("bad")}}, "(flag --rate)"},
		{fmt.Errorf("x: %w", &compare.FieldError{Field: "RuntimeFlags.CheckpointDir", Err: errors.New("bad")}), "(flag --checkpoint-dir)"},
		{&microbatch.MemoryBudgetError{}, "(flags --backpressure, --batch-interval, --memory-budget)"},
		{&recordstream.MemoryBudgetError{TimedOut: 1}, "(flags --message-timeout, --max-spout-pending, --memory-budget)"},
		{&microbatch.ConfigError{Field: "BatchInterval", Err: errors.New("too short")}, "microbatch: BatchInterval: too short (flag --batch-interval)"},
	} {
		got := withFlag(tc.err)
		assert.ErrorContains(t, got, tc.want, "withFlag(%v)", tc.err)
		assert.ErrorIs(t, got, tc.err, "withFlag(%v) wraps it", tc.err)
	}
	for _, err := range []error{
		errors.New("plain"),
		&compare.FieldError{Field: "DataSpec.Skew", Err: errors.New("checked by the CLI")},
		&recordstream.ConfigError{Field: "QueueBatches", Err: errors.New("no flag sets it")},
	} {
		assert.Equal(t, err, withFlag(err), "withFlag(%v): an error without a flag behind it is unchanged", err)
	}
	assert.NoError(t, withFlag(nil))
}

// TestFieldFlagsComplete checks fieldFlags against the two sides it joins:
// every field of compare's DataSpec and RuntimeFlags has its flag (or is
// listed as checked by the CLI itself), and every flag it names exists in
// bench run or bench gen.
func TestFieldFlagsComplete(t *testing.T) {
	flags := fieldFlags()
	byCLI := map[string]bool{"compare.DataSpec.Skew": true, "compare.DataSpec.InOrder": true}
	for _, typ := range []reflect.Type{reflect.TypeFor[compare.DataSpec](), reflect.TypeFor[compare.RuntimeFlags](), reflect.TypeFor[compare.Options](), reflect.TypeFor[compare.Overrides]()} {
		for f := range typ.Fields() {
			name := "compare." + typ.Name() + "." + f.Name
			if typ.Name() == "Options" && f.Name == "Clock" {
				continue // the CLI always passes the real clock
			}
			if !byCLI[name] {
				assert.NotEmpty(t, flags[name], "fieldFlags has no flag for %s", name)
			}
		}
	}
	_, _, runHelp := bench(t, "run", "-h")
	_, _, genHelp := bench(t, "gen", "-h")
	for field, flag := range flags {
		name := "  -" + strings.TrimPrefix(flag, "--")
		assert.True(t, strings.Contains(runHelp, name+" ") || strings.Contains(runHelp, name+"\n") ||
			strings.Contains(genHelp, name+" ") || strings.Contains(genHelp, name+"\n"),
			"fieldFlags maps %s to %s, which neither bench run nor bench gen defines", field, flag)
	}
}

// TestRunWritesTrace: --trace writes the run's trace (a record row per
// event, pane rows after them), and a path that cannot be written is
// refused before the run.
func TestRunWritesTrace(t *testing.T) {
	for _, name := range []string{"trace.parquet", "trace.csv"} {
		path := filepath.Join(t.TempDir(), name)
		code, _, stderr := bench(t, "run", "ysb", "--runtime", "recordstream", "--events", "2000", "--rate", "100000", "--trace", path)
		require.Equal(t, exitOK, code, stderr)
		rows, err := datasets.ReadTrace(path)
		require.NoError(t, err)
		kinds := map[datasets.TraceKind]int{}
		for _, r := range rows {
			kinds[r.Kind]++
		}
		assert.Equal(t, 2000, kinds[datasets.TraceRecord], "record rows in %s", name)
		assert.NotZero(t, kinds[datasets.TracePane], "pane rows in %s", name)
	}

	for _, bad := range []string{filepath.Join(t.TempDir(), "missing", "t.parquet"), filepath.Join(t.TempDir(), "t.json")} {
		code, _, stderr := bench(t, "run", "ysb", "--runtime", "reference", "--events", "100", "--trace", bad)
		assert.Equal(t, exitUsage, code, "--trace %s", bad)
		assert.Contains(t, stderr, "--trace", "--trace %s", bad)
	}
}
