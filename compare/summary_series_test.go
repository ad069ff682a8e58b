package compare

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/metrics"
)

func TestSummarySeries(t *testing.T) {
	const ms = int64(time.Millisecond)
	base := int64(1_700_000_000_000) * ms
	rec := func(at int64) datasets.TraceRow {
		return datasets.TraceRow{Kind: datasets.TraceRecord, IngestNanos: base + at*ms}
	}
	pane := func(at, ingest, wm int64) datasets.TraceRow {
		return datasets.TraceRow{Kind: datasets.TracePane, EmitNanos: base + at*ms, IngestNanos: base + ingest*ms, WatermarkMs: wm}
	}
	out := &Outcome{Series: map[string]metrics.Series{"queued_batches": {{T: 0.5, V: 1}, {T: 1, V: 2}}}}
	s := NewSummary("ysb", "microbatch/event-time 1s", RunConfig{}, out, CheckResult{})
	assert.Equal(t, metrics.Series{{T: 0.5, V: 1}, {T: 1, V: 2}}, s.Series["queued_batches"], "the runtime's series")
	out.Series["queued_batches"][0].V = 9
	assert.InDelta(t, 1, s.Series["queued_batches"][0].V, 0, "a copy")

	// Records at 0, 10, 150 and 250 ms; panes emitted at 120 ms (two) and
	// 260 and 270 ms (the flush at the end, watermark MaxTime): buckets of 100 ms from the first record.
	s.AddTraceSeries([]datasets.TraceRow{rec(0), rec(10), rec(150), rec(250), pane(120, 10, 5000), pane(125, 0, 4000), pane(260, 250, 6000), pane(270, 250, int64(dataflow.MaxTime))})
	assert.Equal(t, metrics.Series{{T: 0, V: 20}, {T: 0.1, V: 10}, {T: 0.2, V: 10}}, s.Series["ingest_events_per_s"])
	assert.Equal(t, metrics.Series{{T: 0, V: 0}, {T: 0.1, V: 2}, {T: 0.2, V: 2}}, s.Series["emitted_panes"])
	assert.Equal(t, metrics.Series{{T: 0.1, V: 5000}, {T: 0.2, V: 6000}}, s.Series["watermark_ms"])
	assert.Equal(t, metrics.Series{{T: 0.1, V: 125}, {T: 0.2, V: 20}}, s.Series["processing_time_latency_ms"])

	path := filepath.Join(t.TempDir(), "s.json")
	require.NoError(t, s.WriteFile(path))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var back Summary
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s.Series, back.Series, "the summary file carries the series")

	var empty Summary
	empty.AddTraceSeries(nil)
	assert.Nil(t, empty.Series, "no trace, no series")
}
