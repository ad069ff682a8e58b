package datasets

import (
	"bytes"
	"context"
	"testing"

	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParquetOpensInArrowReader reads a written events file with Apache
// Arrow's own Parquet implementation (independent of parquet-go): the
// schema's physical and logical types, the row count and a column's values.
func TestParquetOpensInArrowReader(t *testing.T) {
	l, _, err := Generate(context.Background(), "weblogs", Config{Events: 500, Seed: 1, Partitions: 1})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, WriteLogParquet(&buf, l))
	rdr, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	defer rdr.Close()
	assert.Equal(t, int64(500), rdr.NumRows())
	sc := rdr.MetaData().Schema
	got := map[string]string{}
	for i := range sc.NumColumns() {
		c := sc.Column(i)
		got[c.Name()] = c.PhysicalType().String() + " " + c.LogicalType().String()
	}
	assert.Equal(t, map[string]string{
		"bytes":      "INT64 Int(bitWidth=64, isSigned=true)",
		"client_ip":  "BYTE_ARRAY String",
		"domain":     "BYTE_ARRAY String",
		"event_time": "INT64 Timestamp(isAdjustedToUTC=true, timeUnit=milliseconds, is_from_converted_type=false, force_set_converted_type=false)",
		"latency_ms": "DOUBLE None",
		"path":       "BYTE_ARRAY String",
		"status":     "INT64 Int(bitWidth=64, isSigned=true)",
	}, got)
	col := sc.ColumnIndexByName("status")
	var statuses []int64
	for g := range rdr.NumRowGroups() {
		cr, err := rdr.RowGroup(g).Column(col)
		require.NoError(t, err)
		vals := make([]int64, 1000)
		n, _, err := cr.(*file.Int64ColumnChunkReader).ReadBatch(1000, vals, nil, nil)
		require.NoError(t, err)
		statuses = append(statuses, vals[:n]...)
	}
	var want []int64
	for r := range l.Records(0, 0) {
		want = append(want, r.Row[wlStatus].I)
	}
	assert.Equal(t, want, statuses)
}
