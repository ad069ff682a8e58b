package compare

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
)

// paneRows returns one pane row per latency (ms), emitted 100 ms apart from
// 1 s on, with event times such that emit − event = the latency.
func paneRows(latMs ...int64) []datasets.TraceRow {
	var rows []datasets.TraceRow
	for i, l := range latMs {
		emitMs := int64(1000 + 100*i)
		rows = append(rows, datasets.TraceRow{Kind: datasets.TracePane, EmitNanos: emitMs * 1e6, EventTimeMs: emitMs - l - 7, EventTimeShiftMs: 7})
	}
	return rows
}

func TestLatencyThirds(t *testing.T) {
	rows := paneRows(10, 20, 30, 40, 50, 60, 70, 80, 90)
	// A record row and an end-of-input pane are not judged.
	rows = append(rows, datasets.TraceRow{Kind: datasets.TraceRecord, EmitNanos: 1}, datasets.TraceRow{Kind: datasets.TracePane,
		EmitNanos: 9e9, WatermarkMs: int64(dataflow.MaxTime)})
	n, span, first, last := latencyThirds(rows)
	assert.Equal(t, 9, n, "latencyThirds(%d rows): panes fired by the watermark", len(rows))
	assert.InDelta(t, 0.8, span, 1e-9, "span of 9 panes 100 ms apart")
	assert.InDelta(t, 30, first, 1e-9, "p99 of the first third {10,20,30}")
	assert.InDelta(t, 90, last, 1e-9, "p99 of the last third {70,80,90}")

	n, _, _, _ = latencyThirds(paneRows(1, 2))
	assert.Equal(t, 2, n)
}

// TestSustainable checks the rule in its three directions on constructed
// probes: flat latency holds, growing latency does not, and too few
// emissions (or emissions bunched in time) are inconclusive; a timed-out or
// wrong run is never sustainable.
func TestSustainable(t *testing.T) {
	probe := func(first, last float64) CapacityProbe {
		return CapacityProbe{Rate: 1000, Duration: 9 * time.Second, Emissions: 300, SpanSeconds: 8, FirstP99Ms: first, LastP99Ms: last, CheckOK: true, Throughput: 990}
	}
	for _, tc := range []struct {
		name string
		p    CapacityProbe
		want bool
		why  string
	}{
		{"flat", probe(500, 520), true, "flat"},
		{"within growth plus slack", probe(500, 999), true, "flat"},
		{"growing", probe(500, 2000), false, "grows"},
		{"growing from nothing", probe(5, 400), false, "grows"},
		{"too few emissions", func() CapacityProbe { p := probe(500, 500); p.Emissions = 29; return p }(), false, "inconclusive"},
		{"bunched in time", func() CapacityProbe { p := probe(500, 500); p.SpanSeconds = 2; return p }(), false, "inconclusive"},
		{"the generator lagged", func() CapacityProbe { p := probe(500, 500); p.FillRate = 800; return p }(), false, "not offered its rate"},
		{"the generator kept up", func() CapacityProbe { p := probe(500, 500); p.FillRate = 999; return p }(), true, "flat"},
		{"falls behind the offer", func() CapacityProbe { p := probe(500, 500); p.Throughput = 900; return p }(), false, "keep up"},
		{"timed out", func() CapacityProbe { p := probe(500, 500); p.TimedOut = true; return p }(), false, "time limit"},
		{"wrong results", func() CapacityProbe { p := probe(500, 500); p.CheckOK, p.Check = false, "NO"; return p }(), false, "differ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, why := sustainable(tc.p)
			assert.Equal(t, tc.want, ok, "sustainable(%+v) = %v (%s)", tc.p, ok, why)
			assert.Contains(t, why, tc.why)
		})
	}
	// The rule's own fields apply: no growth and no slack allowed.
	p := probe(500, 501)
	p.Rule = CapacityRule{Growth: 1e-9, Slack: time.Nanosecond, MinEmissions: 1}
	ok, why := sustainable(p)
	assert.False(t, ok, "sustainable with a strict rule: %s", why)
}

func TestNextRate(t *testing.T) {
	assert.Equal(t, 2000.0, nextRate(1000, 0), "doubling while nothing failed")
	assert.Equal(t, 1500.0, nextRate(1000, 2000), "bisection of the bracket")
}

func TestCapacityOptionsValidate(t *testing.T) {
	require.NoError(t, CapacityOptions{}.Validate())
	for field, o := range map[string]CapacityOptions{
		"CapacityOptions.StartRate":     {StartRate: math.NaN()},
		"CapacityOptions.MaxProbes":     {MaxProbes: -1},
		"CapacityOptions.ProbeDuration": {ProbeDuration: -time.Second},
		"CapacityRule.Slack":            {Rule: CapacityRule{Slack: -1}},
	} {
		fe, ok := errors.AsType[*FieldError](o.Validate())
		require.True(t, ok, "Validate(%+v) gives a FieldError", o)
		assert.Equal(t, field, fe.Field)
	}
}

// TestSustainableRateSearch runs a real search with short probes: the
// start rate is far below capacity, so every probe keeps up; the result
// lists each probe and is a lower bound.
func TestSustainableRateSearch(t *testing.T) {
	if testing.Short() {
		t.Skip("paced runs take seconds")
	}
	w, err := LookupWorkload("ysb")
	require.NoError(t, err)
	w, err = Overrides{Window: 200 * time.Millisecond, WatermarkBound: 100 * time.Millisecond}.Workload(w)
	require.NoError(t, err)
	r, err := NewRunner("recordstream", RuntimeFlags{Guarantee: "at-most-once"})
	require.NoError(t, err)
	var seen int
	res, err := SustainableRate(context.Background(), w, r, DataSpec{Seed: 1}, CapacityOptions{
		StartRate: 2000, MaxProbes: 2, ProbeDuration: 1500 * time.Millisecond, Rule: CapacityRule{Slack: time.Second, MinEmissions: 10},
		Progress: func(CapacityProbe) { seen++ },
	})
	require.NoError(t, err)
	require.Len(t, res.Probes, 2, "probes of %+v", res)
	assert.Equal(t, 2, seen, "Progress gets each probe")
	assert.Equal(t, []float64{2000, 4000}, []float64{res.Probes[0].Rate, res.Probes[1].Rate}, "doubling from the start rate")
	for _, p := range res.Probes {
		assert.True(t, p.Sustainable, "probe at %.0f: %s", p.Rate, p.Reason)
		assert.Equal(t, int64(p.Rate*1.5), p.Events)
	}
	assert.Equal(t, 4000.0, res.Rate)
	assert.True(t, res.LowerBound, res.Reason)

	_, err = SustainableRate(context.Background(), w, r, DataSpec{InputDir: "x"}, CapacityOptions{})
	fe, ok := errors.AsType[*FieldError](err)
	require.True(t, ok, "InputDir: %v", err)
	assert.Equal(t, "DataSpec.InputDir", fe.Field)
}

// TestFillRate: the fill rate runs from the first record's ingest stamp to
// the log's closing, so a generator that stamps a late batch with its due
// time still shows its real rate.
func TestFillRate(t *testing.T) {
	clk := clock.NewManual(time.Unix(100, 0))
	log, err := datasets.NewLog(datasets.LogConfig{Schema: dataflow.Schema{Fields: []dataflow.Field{{Name: "v", Kind: dataflow.KindInt64}}}, Partitions: 2, Clock: clk})
	require.NoError(t, err)
	a := log.Appender()
	start := clk.Now().UnixNano()
	for i := range 100 {
		// Every record stamped within the first half second...
		a.AppendRow(i%2, start+int64(i)*5e6, dataflow.Row{dataflow.Int(int64(i))})
	}
	require.NoError(t, a.Flush())
	assert.Zero(t, FillRate(log), "an open log has no fill rate")
	clk.Advance(2 * time.Second) // ...but the last one appended after 2 s
	log.Close()
	assert.InDelta(t, 50.0, FillRate(log), 1e-9, "100 records over 2 s")
}
