package compare

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/weirlab/weir/datasets"
)

const windowsDS = "microbatch/dstream 2s"

// windowsCase builds an outcome whose every part holds, then lets change
// alter it.
func windowsCase(change func(*windowsOutcome)) func() Verdict {
	return func() Verdict {
		o := windowsOutcome{DStream: windowsDS, Cells: map[string]map[string]runEnd{
			windowsSessions: {windowsDS: {Unsupported: "DStreams have no session windows"}},
			windowsCount:    {windowsDS: {Unsupported: "DStreams have no count windows"}},
			windowsPT7:      {windowsDS: {Unsupported: "7s is not a multiple of 2s"}},
			windowsAligned:  {windowsDS: {Exact: true, Check: "yes (10/10 windows)"}},
		},
			Coupling: []couplingRun{
				{Config: "microbatch/event-time 500ms", BatchMs: 500, WindowMs: 1000, CadenceMs: sp(1000, 1001, 1002), LatencyMs: sp(900, 950, 1000)},
				{Config: "microbatch/event-time 1s", BatchMs: 1000, WindowMs: 1000, CadenceMs: sp(1000, 1001, 1002), LatencyMs: sp(1300, 1400, 1500)},
				{Config: "microbatch/event-time 2s", BatchMs: 2000, WindowMs: 1000, CadenceMs: sp(1990, 2000, 2010), LatencyMs: sp(2200, 2300, 2400)},
			},
			Control: couplingRun{Config: "recordstream/at-most-once", WindowMs: 1000, CadenceMs: sp(999, 1000, 1001), LatencyMs: sp(110, 120, 130)},
			Sessions: []sessionRun{
				{Config: "microbatch/event-time 2s", LatencyMs: sp(2100, 2200, 2300), Check: "yes (635/635 windows)"},
				{Config: "recordstream/at-most-once", LatencyMs: sp(60, 64, 70), Check: "yes (635/635 windows)"},
			},
		}
		if change != nil {
			change(&o)
		}
		return verdictWindows(o)
	}
}

func TestVerdictWindows(t *testing.T) {
	runVerdictCases(t, []verdictCase{
		{"holds", windowsCase(nil), Holds, []string{`"DStreams have no session windows"`, `"7s is not a multiple of 2s"`, "yes (10/10 windows)",
			"output cadence 2000 [1990-2010] ms at 2000 ms batches against 1001 [1000-1002] ms at 500 ms", "x2.00 for a x4.00", "2300 [2200-2400]",
			"cadence 1000 [999-1001] ms, latency 120 [110-130] ms", "microbatch/event-time 2s 2200 [2100-2300] ms against recordstream/at-most-once 64 [60-70] ms"}},
		{"does not hold: sessions run", windowsCase(func(o *windowsOutcome) {
			o.Cells[windowsSessions][windowsDS] = runEnd{Exact: true, Check: "yes (4/4 windows)"}
		}), DoesNotHold, []string{windowsSessions + " (yes (4/4 windows))"}},
		{"inconclusive: the aligned control failed", windowsCase(func(o *windowsOutcome) {
			o.Cells[windowsAligned][windowsDS] = runEnd{Failed: "error: boom"}
		}), Inconclusive, []string{"error: boom"}},
		{"does not hold: the cadence does not follow the batch interval", windowsCase(func(o *windowsOutcome) {
			o.Coupling[2].CadenceMs = sp(1000, 1000, 1000)
			o.Coupling[0].CadenceMs = sp(1000, 1000, 1000)
		}), DoesNotHold, []string{"does not follow the batch interval: output cadence 1000 [1000-1000] ms at 2000 ms batches"}},
		{"does not hold: the latency is lower at the largest batch interval", windowsCase(func(o *windowsOutcome) {
			o.Coupling[2].LatencyMs = sp(500, 600, 700)
		}), DoesNotHold, []string{"event-time p50 latency 600 [500-700] ms at 2000 ms batches"}},
		{"inconclusive: latency inside the spread", windowsCase(func(o *windowsOutcome) {
			o.Coupling[2].LatencyMs = sp(950, 1100, 1200)
		}), Inconclusive, []string{"inside the spread: event-time p50 latency 1100 [950-1200] ms"}},
		{"inconclusive: a coupling trial hung", windowsCase(func(o *windowsOutcome) {
			o.Coupling[1].Failed = "hung (cut by its time limit)"
		}), Inconclusive, []string{"microbatch/event-time 1s failed: hung"}},
		{"inconclusive: the control did not match", windowsCase(func(o *windowsOutcome) {
			o.Control.Inexact = "no (3 lost)"
		}), Inconclusive, []string{"recordstream/at-most-once did not match the reference: no (3 lost)"}},
		{"inconclusive: too few repetitions", windowsCase(func(o *windowsOutcome) { o.Coupling[0].CadenceMs = sp(1000, 1000) }), Inconclusive, []string{"cadence over 2"}},
		{"inconclusive: one batch interval", windowsCase(func(o *windowsOutcome) { o.Coupling = o.Coupling[:1] }), Inconclusive, []string{"1 batch intervals"}},
		{"inconclusive: sessions failed", windowsCase(func(o *windowsOutcome) { o.Sessions[0].Failed = "error: boom" }), Inconclusive, []string{"sessions on microbatch/event-time 2s failed: error: boom"}},
		{"inconclusive: sessions inexact", windowsCase(func(o *windowsOutcome) { o.Sessions[1].Inexact = "no (1 lost)" }), Inconclusive, []string{"no (1 lost)"}},
		{"inconclusive: no sessions", windowsCase(func(o *windowsOutcome) { o.Sessions = nil }), Inconclusive, []string{"no paced session run"}},
		{"does not hold wins over inconclusive", windowsCase(func(o *windowsOutcome) {
			o.Coupling[2].LatencyMs = sp(500, 600, 700)
			o.Sessions = nil
		}), DoesNotHold, []string{"no paced session run"}},
	})
}

func TestEmissionCadence(t *testing.T) {
	pane := func(ms int64) datasets.TraceRow {
		return datasets.TraceRow{Kind: datasets.TracePane, EmitNanos: ms * int64(time.Millisecond)}
	}
	record := func(ms int64) datasets.TraceRow {
		return datasets.TraceRow{Kind: datasets.TraceRecord, IngestNanos: ms * int64(time.Millisecond)}
	}
	// Bursts at 0, 500, 1000 and 2000 ms (panes within 10 ms of the one
	// before join its burst).
	trace := []datasets.TraceRow{pane(1000), pane(0), pane(5), pane(12), pane(500), pane(2000), pane(1003)}
	assert.InDelta(t, 500, emissionCadenceMs(trace, 10*time.Millisecond), 1e-9, "gaps 500, 500, 1000: median 500")
	// The last record is ingested at 1500 ms: the bursts from then on (the
	// flush at the end of the input) are left out.
	trace = append(trace, record(3), record(1500), pane(1500), pane(1600))
	assert.InDelta(t, 500, emissionCadenceMs(trace, 10*time.Millisecond), 1e-9, "gaps 500, 500")
	trace = append(trace, record(1000))
	assert.InDelta(t, 500, emissionCadenceMs(append(trace, record(700)), 10*time.Millisecond), 1e-9, "the last ingest decides, not the last record row")
	assert.True(t, math.IsNaN(emissionCadenceMs([]datasets.TraceRow{pane(0), pane(1)}, 10*time.Millisecond)), "one burst: no cadence")
	assert.Equal(t, []float64{1, 2}, measured([]float64{1, math.NaN(), 2}))
}
