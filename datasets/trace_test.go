package datasets

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// TestTraceRoundTrip checks that ReadTrace gives back what WriteTrace
// wrote, for both row kinds, and that the write leaves no temporary file.
func TestTraceRoundTrip(t *testing.T) {
	rows := []TraceRow{
		{Kind: TraceRecord, Partition: 2, Offset: 7, EventTimeMs: 1000, EventTimeShiftMs: 5, IngestNanos: 3e9},
		{Kind: TracePane, Runtime: "recordstream/at-least-once", EventTimeMs: 1999, IngestNanos: 4e9,
			WindowStartMs: 1000, WindowEndMs: 2000, Key: "k", PaneIndex: 1, PaneTiming: dataflow.PaneLate,
			EmitNanos: 5e9, WatermarkMs: math.MinInt64, Task: 3},
		{Kind: TracePane, Runtime: "microbatch/event-time", PaneTiming: dataflow.PaneMerged},
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.parquet")
	require.NoError(t, WriteTrace(path, rows))
	got, err := ReadTrace(path)
	require.NoError(t, err)
	assert.Equal(t, rows, got, "ReadTrace(WriteTrace(rows))")
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 1, "only the trace is left in %s", dir)
}

// TestWriteTraceKeepsOldFile checks the atomic write: a trace that cannot
// be written leaves the old file whole.
func TestWriteTraceKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.parquet")
	old := []TraceRow{{Kind: TraceRecord, Offset: 1}}
	require.NoError(t, WriteTrace(path, old))
	assert.Error(t, WriteTrace(filepath.Join(dir, "missing", "trace.parquet"), old), "a directory that does not exist")
	got, err := ReadTrace(path)
	require.NoError(t, err)
	assert.Equal(t, old, got)
}
