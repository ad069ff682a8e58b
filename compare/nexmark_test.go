package compare

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// TestNexmarkTable checks the table computes each cell from the row's
// figures: rates in K/M, cores, latency pairs, the check, theirs beside
// ours and our per-core figure as a multiple of Flink's.
func TestNexmarkTable(t *testing.T) {
	rows := []NexmarkRecord{
		{Query: "nexmark-q5", Runtime: "microbatch/event-time", Status: "ok", Events: 1_000_000, EventsPerSecond: 2_500_000,
			Cores: 1.5, EventsPerCoreSecond: 1_650_000, Matches: true, PacedEvents: 40_000, PacedMatches: true,
			EventP50Ms: 512.4, EventP99Ms: 1030, ProcP50Ms: 7.25, ProcP99Ms: 99.96, SustainableRate: 300_000,
			FlinkPerCore: 22_000, RisingWavePerCore: 5_200, ThroughputSink: "counting"},
		{Query: "nexmark-q3", Runtime: "recordstream/at-most-once", Status: "refused", Reason: "no joins yet", FlinkPerCore: 152_000, RisingWavePerCore: 97_000},
		{Query: "nexmark-q0", Runtime: "recordstream/exactly-once", Status: "ok", EventsPerSecond: 900, EventsPerCoreSecond: 15_500,
			Matches: false, FlinkPerCore: 155_000},
		{Query: "nexmark-q1", Runtime: "microbatch/dstream", Status: "failed", Reason: "boom"},
		{Query: "nexmark-q2", Runtime: "microbatch/event-time", Status: "failed", Matches: true, Reason: "throughput run: read 1 events, the check run 2"},
	}
	tab := NexmarkTable(rows)
	require.Len(t, tab.Rows, len(rows))
	for _, r := range tab.Rows {
		require.Len(t, r, len(tab.Columns))
	}
	assert.Equal(t, []string{"q5", "microbatch/event-time", "2.50M", "1.50", "1.65M", "300K", "512 / 1030", "7.2 / 100", "yes", "22K", "5.2K", "75.0x", "counting"}, tab.Rows[0])
	assert.Equal(t, []string{"q3", "recordstream/at-most-once", "refused", "", "", "", "", "", "refused: no joins yet", "152K", "97K", "", ""}, tab.Rows[1])
	assert.Equal(t, []string{"q0", "recordstream/exactly-once", "900", "", "16K", "-", "not measured", "not measured", "NO (throughput not measured)", "155K", "", "0.1x", ""}, tab.Rows[2])
	assert.Equal(t, "NO (error: boom)", tab.Rows[3][8])
	// A check run that matched and a throughput run that did not read
	// what it did: the row says both, and no throughput.
	assert.Equal(t, []string{"q2", "microbatch/event-time", "failed", "", "", "", "", "", "yes; throughput run: read 1 events, the check run 2", "", "", "", ""}, tab.Rows[4])
	assert.Contains(t, tab.Columns, "events/s/core (throughput run)")
	assert.Contains(t, tab.Columns, "matches reference (check run)")
	assert.Contains(t, strings.Join(tab.Columns, ","), "Flink events/s/core (theirs)")

	// A paced run that differs from the reference is named.
	bad := rows[0]
	bad.PacedMatches = false
	assert.Equal(t, "yes; paced run: NO", NexmarkTable([]NexmarkRecord{bad}).Rows[0][8])
}

// TestNexmarkPublished checks every query has Flink's published figure
// (RisingWave published none for q11 and q12).
func TestNexmarkPublished(t *testing.T) {
	pub := NexmarkPublishedFigures()
	for _, q := range NexmarkQueries() {
		assert.Positive(t, pub[q].Flink, "Flink's per-core figure for %s", q)
	}
	assert.Equal(t, 22_000.0, pub["nexmark-q5"].Flink)
	assert.Zero(t, pub["nexmark-q11"].RisingWave)
}

// TestNexmarkCSVRoundTrip writes rows and reads them back unchanged, and
// names what is wrong with a file it cannot read.
func TestNexmarkCSVRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rows := []NexmarkRecord{
		{Query: "nexmark-q2", Runtime: "recordstream/at-most-once", Config: "--guarantee at-most-once", Status: "ok", Reason: "a, \"quoted\" reason",
			Events: 42, Seconds: 0.5, EventsPerSecond: 84, CPUSeconds: 0.25, Cores: 0.5, EventsPerCoreSecond: 168, Matches: true,
			Check: "yes (3/3 rows)", PacedRate: 1000, PacedEvents: 2000, EventP50Ms: 1.5, EventP99Ms: 2.5, ProcP50Ms: 3.5, ProcP99Ms: 4.5,
			PacedMatches: true, SustainableRate: 12345, SustainableNote: "lower bound", FlinkPerCore: 175_000, RisingWavePerCore: 127_000},
		{Query: "nexmark-q3", Status: "refused", Reason: "joins"},
	}
	require.NoError(t, WriteNexmark(dir, rows, [][2]string{{"command", "bench nexmark --quick"}}))
	got, err := ReadNexmark(dir)
	require.NoError(t, err)
	assert.Equal(t, rows, got)
	meta, err := ReadParquetMetadata(filepath.Join(dir, NexmarkParquet))
	require.NoError(t, err)
	assert.Equal(t, "bench nexmark --quick", meta["command"])

	_, err = ReadNexmark(t.TempDir())
	assert.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, os.WriteFile(filepath.Join(dir, NexmarkCSV), []byte("query,runtime\nq0,x\n"), 0o644))
	_, err = ReadNexmark(dir)
	assert.ErrorContains(t, err, `no column "config"`)
}

// TestRunNexmark measures two queries on two configurations, small: the
// reference always answers; a refusal carries the model's reason; a run
// has its figures, all computed from what it measured.
func TestRunNexmark(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the runtimes")
	}
	rows, err := RunNexmark(context.Background(), NexmarkOptions{
		Queries:       []string{"nexmark-q2", "nexmark-q8"},
		Entries:       []SuiteEntry{{Runtime: "reference"}, {Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}}},
		Events:        20_000,
		PacedRate:     10_000,
		PacedDuration: 500 * time.Millisecond,
		Seed:          2,
	})
	require.NoError(t, err)
	require.Len(t, rows, 4)
	for _, r := range rows {
		switch r.Status {
		case "ok":
			assert.True(t, r.Matches, "%s on %s: %s", r.Query, r.Runtime, r.Check)
			want := "counting"
			if r.Runtime == "reference" {
				want = "kept"
			}
			assert.Equal(t, want, r.ThroughputSink, "%s on %s", r.Query, r.Runtime)
			assert.Equal(t, int64(20_000), r.Events)
			assert.Positive(t, r.EventsPerSecond)
			if r.CPUSeconds > 0 {
				assert.InDelta(t, float64(r.Events)/r.CPUSeconds, r.EventsPerCoreSecond, 1e-6*r.EventsPerCoreSecond)
			}
			assert.Equal(t, int64(5_000), r.PacedEvents)
			assert.True(t, r.PacedMatches, "%s on %s paced: %s", r.Query, r.Runtime, r.Reason)
		case "refused":
			assert.NotEmpty(t, r.Reason)
			assert.NotEqual(t, "reference", r.Runtime)
		default:
			t.Errorf("%s on %s: %s %s", r.Query, r.Runtime, r.Status, r.Reason)
		}
		assert.Positive(t, r.FlinkPerCore, "Flink's published figure beside ours")
	}
	assert.Equal(t, "ok", rows[0].Status, "q2 on the reference")
	assert.Equal(t, "ok", rows[1].Status, "q2, stateless, on recordstream")

	_, err = RunNexmark(context.Background(), NexmarkOptions{Queries: []string{"nexmark-q6"}})
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "NexmarkOptions.Queries", fe.Field)
}

// TestReportNexmarkSection checks the report renders the Nexmark rows it
// is given, with the command and the notes, and nothing without them.
func TestReportNexmarkSection(t *testing.T) {
	res := &SuiteResults{Command: "bench suite --quick", Quick: true}
	var b strings.Builder
	require.NoError(t, WriteReport(&b, res, ReportOptions{Generator: "g"}))
	assert.NotContains(t, b.String(), "## Nexmark")
	b.Reset()
	rows := []NexmarkRecord{{Query: "nexmark-q1", Runtime: "microbatch/event-time", Status: "ok", EventsPerSecond: 1e6, EventsPerCoreSecond: 2e6, Matches: true, FlinkPerCore: 158_000}}
	require.NoError(t, WriteReport(&b, res, ReportOptions{Generator: "g", Nexmark: rows, NexmarkCommand: "bench nexmark --quick --out d"}))
	out := b.String()
	assert.Contains(t, out, "## Nexmark")
	assert.Contains(t, out, "Measured by `bench nexmark --quick --out d`.")
	assert.Contains(t, out, "| q1 | microbatch/event-time | 1.00M |")
	assert.Contains(t, out, "| 12.7x |")
	assert.Contains(t, out, "THEIR published figures")
}

// TestNexmarkCountingSink checks the throughput run's sinks: microbatch
// and recordstream's Storm modes count their results and keep none,
// emitting as many as the check run kept (the reference answer's rows);
// the exactly-once modes have no counting sink and keep theirs; and a
// throughput run that read or emitted other than its check run is named.
func TestNexmarkCountingSink(t *testing.T) {
	ctx := context.Background()
	w, err := LookupWorkload("nexmark-q0")
	require.NoError(t, err)
	d := DataSpec{Events: 5_000, Seed: 3}
	log, tables, err := LoadData(ctx, w, d)
	require.NoError(t, err)
	p, err := w.Pipeline(tables)
	require.NoError(t, err)
	ref, err := referenceAnswer(ctx, p, log, nil)
	require.NoError(t, err)
	require.NotEmpty(t, ref)
	job := &Job{Workload: w, Pipeline: p, Log: log, Identity: jobIdentity(w, p, log, d)}
	for _, e := range []SuiteEntry{
		{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "event-time", BatchInterval: time.Second}},
		{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "dstream", BatchInterval: time.Second}},
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}},
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2}},
	} {
		r, err := NewRunner(e.Runtime, e.Flags)
		require.NoError(t, err)
		tr, sink := countingRunner(r)
		require.Equal(t, "counting", sink, r.Name())
		kept, err := r.Run(ctx, job)
		require.NoError(t, err)
		assert.Len(t, kept.Results, len(ref), "%s keeps every result without the counting sink", r.Name())
		out, err := tr.Run(ctx, job)
		require.NoError(t, err)
		assert.Nil(t, out.Results, "%s's counting sink keeps nothing", r.Name())
		assert.Equal(t, int64(len(ref)), out.Emissions, "%s's counting sink counts every result", r.Name())
		assert.Equal(t, int64(log.Len()), out.Events, r.Name())
		assert.Empty(t, throughputMismatch(p, out, countsOf(kept)), r.Name())
		// The original runner is unchanged: it still keeps its results.
		again, err := r.Run(ctx, job)
		require.NoError(t, err)
		assert.Len(t, again.Results, len(ref), r.Name())
	}
	eo, err := NewRunner("recordstream", RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2})
	require.NoError(t, err)
	same, sink := countingRunner(eo)
	assert.Equal(t, "kept", sink, "exactly-once's sink is a transactional store")
	assert.Same(t, eo, same)

	check := countsOf(&Outcome{Events: 10, Results: make([]dataflow.Result, 4)})
	assert.Equal(t, "read 9 events, the check run 10", throughputMismatch(p, &Outcome{Events: 9, Emissions: 4}, check))
	assert.Equal(t, "its sink counted 3 results, the check run kept 4", throughputMismatch(p, &Outcome{Events: 10, Emissions: 3}, check))
	assert.Empty(t, throughputMismatch(p, &Outcome{Events: 10, Emissions: 4}, check))
	// A windowed query's pane count is not compared.
	q7, err := LookupWorkload("nexmark-q7")
	require.NoError(t, err)
	p7, err := q7.Pipeline(nil)
	require.NoError(t, err)
	assert.Empty(t, throughputMismatch(p7, &Outcome{Events: 10, Emissions: 3}, check))
}
