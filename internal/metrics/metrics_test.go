package metrics

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistogramPercentiles(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	require.EqualValues(t, 1000, h.Count())
	s := h.Summarize()
	// 3 significant digits: values are exact to within 0.1%.
	assert.InDelta(t, 500, s.P50, 0.5, "p50 of 1..1000 ms")
	assert.InDelta(t, 990, s.P99, 1, "p99 of 1..1000 ms")
	assert.InDelta(t, 1000, s.Max, 1, "max of 1..1000 ms")
}

func TestHistogramClampsOutOfRange(t *testing.T) {
	h := NewHistogram()
	h.Record(-5 * time.Second) // event-time latency can be negative
	h.Record(2 * time.Hour)
	require.EqualValues(t, 2, h.Count(), "out-of-range values are recorded, not dropped")
	assert.Equal(t, time.Microsecond, h.Quantile(0))
	assert.InDelta(t, float64(time.Hour), float64(h.Max()), float64(time.Hour)/500)
}

func TestLatencyObserveAndMerge(t *testing.T) {
	a, b := NewLatency(), NewLatency()
	emit := int64(10_000) * 1e6      // 10 s in ns
	a.Observe(emit, 9_000, emit-2e6) // event 1 s old, ingested 2 ms ago
	b.Observe(emit, 9_500, emit-4e6) // 0.5 s, 4 ms
	a.Merge(b)
	require.EqualValues(t, 2, a.EventTime.Count())
	assert.InDelta(t, 1000, a.EventTime.Summarize().Max, 1)
	assert.InDelta(t, 4, a.ProcessingTime.Summarize().Max, 0.01)
	assert.InDelta(t, 2, a.ProcessingTime.Quantile(50).Seconds()*1000, 0.01)
}

func TestLatencySinceRunStart(t *testing.T) {
	start := int64(100) * 1e9
	l := NewLatency().Since(start)
	l.Observe(start+5e6, 0, start-60e9) // waited a minute in the log before the run
	l.Observe(start+9e6, 0, start+1e6)  // ingested during the run
	s := l.ProcessingTime.Summarize()
	assert.InDelta(t, 5, s.P50, 0.01, "a record from before the run counts from the run's start")
	assert.InDelta(t, 8, s.Max, 0.01, "a record ingested during the run counts from its ingest")
}

// TestSeriesJSON pins the JSON form of a series, which results.json files
// (compare's figures) keep: points as {"T":t,"V":v}.
func TestSeriesJSON(t *testing.T) {
	b, err := json.Marshal(Series{{T: 0.5, V: 2}, {T: 1, V: -3.25}})
	require.NoError(t, err)
	assert.JSONEq(t, `[{"T":0.5,"V":2},{"T":1,"V":-3.25}]`, string(b))
	assert.Equal(t, `[{"T":0.5,"V":2},{"T":1,"V":-3.25}]`, string(b), "field order and names")
	var back Series
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, Series{{T: 0.5, V: 2}, {T: 1, V: -3.25}}, back)
}
