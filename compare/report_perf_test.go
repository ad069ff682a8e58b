package compare

import (
	"context"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/internal/handloop"
)

var updatePerf = flag.Bool("update-perf", false, "rewrite testdata/perf-section.md from WritePerfSection")

// perfFixture is a measurement of four made-up workloads covering every
// verdict: a meets every target; b misses them all; c has a configuration
// that failed its check and no Beam figure; d has one Beam refused.
func perfFixture() ([]PerfRecord, []BeamPerfRecord) {
	rec := func(w, cfg, kind, status string, eps, loop float64) PerfRecord {
		r := PerfRecord{Workload: w, Events: 200000, Results: 40, Config: cfg, Runtime: strings.Replace(cfg, "-", "/", 1), Kind: kind, Status: status,
			LoopEventsPerSecond: loop}
		if status == handloop.StatusOK {
			r.Reps, r.EventsPerSecond, r.MinEventsPerSecond, r.MaxEventsPerSecond, r.Cores = 3, eps, 0.9*eps, 1.1*eps, 1.5
		}
		switch status {
		case handloop.StatusRefused:
			r.Reason = "microbatch (dstream) cannot express this pipeline: count windows"
		case handloop.StatusFailed:
			r.Reason = "does not match the reference: 2 of 40 windows differ"
		}
		if kind == PerfKindLoop {
			r.Config, r.Runtime, r.Cores = PerfLoop, PerfLoop, 1
		}
		if kind == PerfKindRuntime {
			r.Sink = "counting"
			if w == "b" && cfg == "recordstream-at-most-once" {
				r.Sink = "kept" // shown as ", kept sink"
			}
		}
		return r
	}
	var recs []PerfRecord
	for _, w := range []struct {
		name                     string
		loop, ref, dstream, amo  float64
		dstreamStatus, amoStatus string
	}{
		{"a", 100e6, 40e6, 60e6, 5e6, "ok", "ok"},
		{"b", 10e6, 3e6, 2e6, 0.5e6, "ok", "ok"},
		{"c", 10e6, 3e6, 8e6, 0, "ok", "failed"},
		{"d", 10e6, 3e6, 0, 6e6, "refused", "ok"},
	} {
		recs = append(recs,
			rec(w.name, PerfLoop, PerfKindLoop, "ok", w.loop, w.loop),
			rec(w.name, "reference", PerfKindReference, "ok", w.ref, w.loop),
			rec(w.name, "microbatch-dstream", PerfKindRuntime, w.dstreamStatus, w.dstream, w.loop),
			rec(w.name, "recordstream-at-most-once", PerfKindRuntime, w.amoStatus, w.amo, w.loop))
	}
	beam := []BeamPerfRecord{
		{Workload: "a", Events: 200000, Runner: "beam/prism", Status: "ok", Reps: 1, EventsPerSecond: 2e6, MinEventsPerSecond: 2e6, MaxEventsPerSecond: 2e6, Check: "yes"},
		{Workload: "b", Events: 200000, Runner: "beam/prism", Status: "ok", Reps: 1, EventsPerSecond: 1e6, MinEventsPerSecond: 1e6, MaxEventsPerSecond: 1e6, Check: "yes"},
		{Workload: "d", Events: 200000, Runner: "beam/prism", Status: "refused", Reason: "beam cannot express this pipeline: count windows"},
	}
	return recs, beam
}

func TestPerfTargets(t *testing.T) {
	recs, beam := perfFixture()
	ts := PerfTargets(recs, beam)
	require.Len(t, ts, 4)
	a, b, c, d := ts[0], ts[1], ts[2], ts[3]

	assert.Equal(t, "microbatch-dstream", a.Best, "the reference (40M) is not a runtime")
	assert.Equal(t, "recordstream-at-most-once", a.Slowest)
	assert.InDelta(t, 0.6, a.BestOverLoop, 1e-12)
	assert.InDelta(t, 30, a.BestOverBeam, 1e-12)
	assert.Equal(t, [3]string{TargetMet, TargetMet, TargetMet}, [3]string{a.LoopTarget, a.BeamTarget, a.AboveBeam})
	assert.Equal(t, "microbatch-dstream 60.00M / loop 100.00M = 0.60", a.Why[0])

	assert.Equal(t, [3]string{TargetNotMet, TargetNotMet, TargetNotMet}, [3]string{b.LoopTarget, b.BeamTarget, b.AboveBeam})
	assert.Equal(t, "slowest recordstream-at-most-once 500K / Beam 1.00M = 0.5", b.Why[2])
	assert.Equal(t, "microbatch-dstream 2.00M / Beam 1.00M = 2; the hand loop itself is only 10 × Beam", b.Why[1],
		"a Beam target the loop itself misses says so")
	assert.NotContains(t, a.Why[1], "hand loop", "a met target needs no reason")

	assert.Equal(t, TargetMet, c.LoopTarget, "8M of a 10M loop")
	assert.Equal(t, TargetNotMeasured, c.BeamTarget)
	assert.Equal(t, "no Beam figure (weirbeam perf)", c.Why[1])
	assert.True(t, math.IsNaN(c.BestOverBeam))
	assert.Equal(t, TargetNotMet, c.AboveBeam, "a configuration without a figure is not above Beam")
	assert.Equal(t, "recordstream-at-most-once failed (no figure)", c.Why[2])

	assert.Equal(t, "recordstream-at-most-once", d.Best, "refused configurations are left out")
	assert.Equal(t, TargetNotMeasured, d.BeamTarget)
	assert.Equal(t, "Beam refused: beam cannot express this pipeline: count windows", d.Why[1])

	assert.Equal(t, "Targets met: best ≥ 0.5 × hand loop on 3 of 4 workloads (4 measured); best ≥ 20 × Beam on 1 of 4 workloads (2 measured); every runtime configuration above Beam on 1 of 4 workloads (3 measured).", perfTally(ts))

	// Without Beam's file every Beam target is not measured.
	for _, x := range PerfTargets(recs, nil) {
		assert.Equal(t, TargetNotMeasured, x.BeamTarget, x.Workload)
	}
}

// TestPerfSectionGolden renders the fixture's section and compares it
// with testdata/perf-section.md (go test -run TestPerfSectionGolden
// ./compare/ -args -update-perf rewrites it after a deliberate change).
func TestPerfSectionGolden(t *testing.T) {
	recs, beam := perfFixture()
	var b strings.Builder
	require.NoError(t, WritePerfSection(&b, recs, beam, PerfSectionOptions{Command: "bench perf --events 200000 --out /tmp/perf", BeamCommand: "weirbeam perf --events 200000 --out /tmp/perf", Machine: "linux/amd64, 2 cores"}))
	golden := filepath.Join("testdata", "perf-section.md")
	if *updatePerf {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), b.String())
}

func TestPerfTableCells(t *testing.T) {
	recs, beam := perfFixture()
	tb := PerfTable(recs, beam)
	assert.Equal(t, []string{"workload", "events", "results", "hand loop", "reference", "microbatch-dstream", "recordstream-at-most-once",
		"Beam on Prism", "best runtime", "best / loop", "best / Beam", "slowest runtime"}, tb.Columns)
	require.Len(t, tb.Rows, 4)
	assert.Equal(t, []string{"a", "200000", "40", "100.00M [90.00M-110.00M]", "40.00M [36.00M-44.00M]", "60.00M [54.00M-66.00M], 1.5 cores",
		"5.00M [4.50M-5.50M], 1.5 cores", "2.00M", "microbatch-dstream", "0.6", "30", "recordstream-at-most-once 5.00M"}, tb.Rows[0])
	assert.Equal(t, "FAILED", tb.Rows[2][6])
	assert.Equal(t, "not measured", tb.Rows[2][7])
	assert.Equal(t, "refused", tb.Rows[3][5])
	assert.Equal(t, "refused", tb.Rows[3][7])
}

func TestPerfFilesRoundTrip(t *testing.T) {
	recs, beam := perfFixture()
	dir := filepath.Join(t.TempDir(), "new")
	_, err := ReadPerf(dir)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = ReadBeamPerf(dir)
	assert.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, WritePerf(dir, recs, [][2]string{{"command", "bench perf"}}))
	require.NoError(t, WriteBeamPerf(dir, beam, nil))
	got, err := ReadPerf(dir)
	require.NoError(t, err)
	assert.Equal(t, recs, got)
	gotBeam, err := ReadBeamPerf(dir)
	require.NoError(t, err)
	assert.Equal(t, beam, gotBeam)
	meta, err := ReadParquetMetadata(filepath.Join(dir, PerfParquet))
	require.NoError(t, err)
	assert.Equal(t, "bench perf", meta["command"])
	left, err := filepath.Glob(filepath.Join(dir, ".*"))
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary file left")

	// A file of another version says what to do.
	require.NoError(t, os.WriteFile(filepath.Join(dir, PerfCSV), []byte("workload,events\nysb,1\n"), 0o644))
	_, err = ReadPerf(dir)
	assert.ErrorContains(t, err, `has no column "results"; rewrite it with this version's `+"`bench perf`")
	require.NoError(t, os.WriteFile(filepath.Join(dir, PerfCSV), nil, 0o644))
	_, err = ReadPerf(dir)
	assert.ErrorContains(t, err, "is empty; write it with `bench perf`")
}

func TestPerfSeries(t *testing.T) {
	recs, beam := perfFixture()
	s := PerfSeries(recs, beam)
	require.NoError(t, s.Validate())
	var labels []string
	for _, l := range s.Lines {
		labels = append(labels, l.Label)
	}
	assert.Equal(t, []string{"reference", "microbatch-dstream", "recordstream-at-most-once", "Beam on Prism", "hand loop (1×)", "target 0.5 × hand loop"}, labels)
	assert.Len(t, s.Lines[1].Points, 3, "dstream measured on a, b and c")
	assert.Len(t, s.Lines[3].Points, 2, "Beam measured on a and b")
	assert.Equal(t, 10e6, s.Lines[4].Points[0].T)
	assert.Equal(t, 5e6, s.Lines[5].Points[0].V)
	dir := t.TempDir()
	var b strings.Builder
	require.NoError(t, WritePerfSection(&b, recs, beam, PerfSectionOptions{FigureDir: dir, FigureLink: "docs/figures"}))
	assert.FileExists(t, filepath.Join(dir, "perf.svg"))
	assert.FileExists(t, filepath.Join(dir, "perf.png"))
	assert.Contains(t, b.String(), "![events/s of each configuration against its workload's hand loop](docs/figures/perf.svg)")
}

// TestRunPerfSmall measures one workload on a tiny input: the loop and
// every configuration of PerfSuite, each measured and checked, in suite
// order, but DStream's, whose model refuses session windows.
func TestRunPerfSmall(t *testing.T) {
	recs, err := RunPerf(t.Context(), PerfOptions{Workloads: []string{"sessions"}, Events: 3000, Reps: 2, MinLoop: 1})
	require.NoError(t, err)
	require.Len(t, recs, 1+len(PerfSuite()))
	assert.Equal(t, PerfLoop, recs[0].Config)
	assert.Equal(t, "reference", recs[1].Config)
	assert.Equal(t, PerfKindReference, recs[1].Kind)
	assert.Equal(t, "recordstream-exactly-once", recs[len(recs)-1].Config)
	for _, r := range recs {
		assert.EqualValues(t, 3000, r.Events)
		assert.Positive(t, r.Results)
		assert.Equal(t, recs[0].EventsPerSecond, r.LoopEventsPerSecond)
		if r.Config == "microbatch-dstream" {
			assert.Equal(t, handloop.StatusRefused, r.Status)
			assert.Contains(t, r.Reason, "microbatch (dstream) cannot express this pipeline: session windows")
			assert.Zero(t, r.EventsPerSecond)
			continue
		}
		assert.Equal(t, handloop.StatusOK, r.Status, "%s: %s", r.Config, r.Reason)
		assert.EqualValues(t, 2, r.Reps)
		assert.Positive(t, r.EventsPerSecond)
	}
}

func TestPerfOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		o    PerfOptions
		want string
	}{
		{PerfOptions{Events: -1}, "PerfOptions.Events"},
		{PerfOptions{Reps: -1}, "PerfOptions.Reps"},
		{PerfOptions{MinLoop: -1}, "PerfOptions.MinLoop"},
		{PerfOptions{Workloads: []string{"nope"}}, "PerfOptions.Workloads"},
	} {
		err := tc.o.Validate()
		var fe *FieldError
		require.ErrorAs(t, err, &fe, "%+v", tc.o)
		assert.Equal(t, tc.want, fe.Field)
	}
	err := PerfOptions{Workloads: []string{"nexmark-q1"}}.Validate()
	assert.ErrorIs(t, err, handloop.ErrNoLoop)
	_, err = RunPerf(context.Background(), PerfOptions{Events: -1})
	var ie *InputError
	assert.True(t, errors.As(err, &ie), "bad options are input errors (exit 2): %v", err)
}
