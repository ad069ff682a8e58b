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
	for _, name := range []string{"trace.parquet", "trace.csv"} {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		require.NoError(t, WriteTrace(path, rows))
		got, err := ReadTrace(path)
		require.NoError(t, err)
		assert.Equal(t, rows, got, "ReadTrace(WriteTrace(rows)) as %s", name)
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, ents, 1, "only the trace is left in %s", dir)
	}
}

// TestTraceCSV: the CSV trace has the Parquet file's column names as its
// header and plain decimal numbers, so pandas reads it; a file of another
// shape or an unknown extension is refused with the reason.
func TestTraceCSV(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.csv")
	require.NoError(t, WriteTrace(path, []TraceRow{{Kind: TracePane, Key: "a,b", WatermarkMs: -5, PaneTiming: dataflow.PaneOnTime}}))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "kind,runtime,partition,offset,event_time_ms,event_time_shift_ms,ingest_ns,window_start_ms,window_end_ms,key,pane_index,pane_timing,emit_ns,watermark_ms,task\n"+
		"pane,,0,0,0,0,0,0,0,\"a,b\",0,on-time,0,-5,0\n", string(b))

	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o\n"), 0o644))
	_, err = ReadTrace(bad)
	assert.ErrorContains(t, err, "not a weir trace")
	assert.ErrorContains(t, WriteTrace(filepath.Join(dir, "t.json"), nil), "name the file .parquet or .csv")
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
