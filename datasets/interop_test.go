package datasets

import (
	"bytes"
	"context"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParquetOpensInArrowReader reads a written events file with Apache
// Arrow's own Parquet implementation (independent of parquet-go).
func TestParquetOpensInArrowReader(t *testing.T) {
	l, _, err := Generate(context.Background(), "weblogs", Config{Events: 500, Seed: 1})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, WriteLogParquet(&buf, l))
	rdr, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	require.NoError(t, err)
	tbl, err := fr.ReadTable(context.Background())
	require.NoError(t, err)
	defer tbl.Release()
	assert.Equal(t, int64(500), tbl.NumRows())
	got := map[string]string{}
	for _, f := range tbl.Schema().Fields() {
		got[f.Name] = f.Type.String()
	}
	assert.Equal(t, map[string]string{
		"domain": "utf8", "path": "utf8", "status": "int64", "bytes": "int64",
		"latency_ms": "float64", "client_ip": "utf8", "event_time": "timestamp[ms, tz=UTC]",
	}, got)
}
