package compare

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/weirlab/weir/datasets"
)

// latPt is a sweep point offered at offered events/s, reading read, with
// the same p50 spread for every latency.
func latPt(offered, read float64, p50 spread) latencyPoint {
	return latencyPoint{Offered: offered, Throughput: sp(read, read, read),
		P50Ms: map[string]spread{latYSB: p50, latEventTime: p50, latProcessingTime: p50}}
}

// latOutcome is a sweep at 50% and 200% of a sustainable rate of 100,000
// events/s: record-at-a-time at 50% with p50 rs, micro-batch at 50% with
// p50 mbLow and at 200% reading mbRead with p50 mbHigh.
func latOutcome(rs, mbLow, mbHigh spread, mbRead float64) latencyOutcome {
	return latencyOutcome{Stream: "rs", Batch: []string{"mb 100ms"}, Fractions: []float64{0.5, 2}, Rate: 100_000,
		Points: map[latencyKey]latencyPoint{
			{"rs", 0.5}:       latPt(50_000, 50_000, rs),
			{"mb 100ms", 0.5}: latPt(50_000, 50_000, mbLow),
			{"mb 100ms", 2}:   latPt(200_000, mbRead, mbHigh),
		}, Failed: map[latencyKey]string{}}
}

func TestVerdictLatency(t *testing.T) {
	low, high, grown := sp(40, 50, 60), sp(150, 160, 170), sp(900, 1000, 1100)
	runVerdictCases(t, []verdictCase{
		{"holds: higher at the same load and growing past saturation", func() Verdict { return verdictLatency(latOutcome(low, high, grown, 120_000)) }, Holds,
			[]string{"160 [150-170]", "50 [40-60]", "1000 [900-1100]", "read 120000"}},
		{"does not hold: micro-batch lower", func() Verdict { return verdictLatency(latOutcome(high, low, grown, 120_000)) }, DoesNotHold, []string{"lower outside the spread", "50 [40-60]"}},
		{"does not hold: latency falls past saturation", func() Verdict { return verdictLatency(latOutcome(low, grown, high, 120_000)) }, DoesNotHold, []string{"fell past saturation"}},
		{"inconclusive: inside the spread", func() Verdict { return verdictLatency(latOutcome(sp(40, 100, 200), sp(80, 120, 160), grown, 120_000)) }, Inconclusive, []string{"inside the spread"}},
		{"inconclusive: not saturated", func() Verdict { return verdictLatency(latOutcome(low, high, grown, 199_000)) }, Inconclusive, []string{"no load saturated", "199000"}},
		{"inconclusive: too few repetitions", func() Verdict { return verdictLatency(latOutcome(sp(1, 2), high, grown, 120_000)) }, Inconclusive, []string{"need 3"}},
		{"inconclusive: failed", func() Verdict {
			o := latOutcome(low, high, grown, 120_000)
			o.Failed[latencyKey{"mb 100ms", 2}] = "hung (cut by its time limit)"
			return verdictLatency(o)
		}, Inconclusive, []string{"mb 100ms at 200%: hung"}},
	})
}

// TestVerdictLatencySubMetrics: every latency is a sub-claim; one lower
// metric is enough for does not hold.
func TestVerdictLatencySubMetrics(t *testing.T) {
	o := latOutcome(sp(40, 50, 60), sp(150, 160, 170), sp(900, 1000, 1100), 120_000)
	p := o.Points[latencyKey{"mb 100ms", 0.5}]
	p.P50Ms = map[string]spread{latYSB: sp(150, 160, 170), latEventTime: sp(1, 2, 3), latProcessingTime: sp(150, 160, 170)}
	o.Points[latencyKey{"mb 100ms", 0.5}] = p
	v := verdictLatencyHigher(o)
	assert.Equal(t, DoesNotHold, v.Kind, "%v", v)
	assert.Contains(t, v.Explanation, latEventTime+" p50")
	assert.Contains(t, v.Explanation, "higher: 2 of 3")
}

func TestYSBLatency(t *testing.T) {
	pane := func(start, end, maxEvent, emitMs int64, key string) datasets.TraceRow {
		return datasets.TraceRow{Kind: datasets.TracePane, WindowStartMs: start, WindowEndMs: end, EventTimeMs: maxEvent, EventTimeShiftMs: 1000, Key: key, EmitNanos: emitMs * 1e6}
	}
	rows := []datasets.TraceRow{
		pane(0, 500, 400, 1300, "a"),    // an early update
		pane(0, 500, 499, 1700, "a"),    // its final update: 1700 - (500 + 1000) = 200 ms
		pane(0, 500, 490, 1600, "b"),    // 100 ms
		pane(500, 1000, 700, 1800, "a"), // incomplete: ends after the last event time (700)
	}
	got := ysbLatency(rows)
	assert.Equal(t, 2, got.Windows)
	assert.InDelta(t, 200, got.P50, 1e-9)
	assert.InDelta(t, 200, got.P99, 1e-9)
	assert.Equal(t, ysbLatencies{}, ysbLatency(nil))
}
