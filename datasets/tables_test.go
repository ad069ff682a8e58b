package datasets

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTableRoundTrip(t *testing.T) {
	type row struct {
		Name string  `parquet:"name"`
		N    int64   `parquet:"n"`
		V    float64 `parquet:"v"`
	}
	rows := []row{{"a", 1, 0.5}, {"b", 2, 1.5}}
	b, err := EncodeTable(rows, [][2]string{{"cpu", "test"}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "t.parquet")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	got, err := ReadTable[row](path)
	require.NoError(t, err)
	assert.Equal(t, rows, got)
	meta, err := ReadTableMetadata(path)
	require.NoError(t, err)
	assert.Equal(t, "test", meta["cpu"])
	_, err = ReadTable[row](filepath.Join(t.TempDir(), "missing.parquet"))
	assert.Error(t, err)
	require.NoError(t, os.WriteFile(path, []byte("not parquet"), 0o644))
	_, err = ReadTable[row](path)
	assert.ErrorContains(t, err, path)
}
