package datasets

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// TestParquetRowGroupsBounded: the writer closes a row group at its row
// bound and at its column-chunk byte bound, and the file reads back whole.
// (`bench gen ysb --events 30000000` wrote one row group with a 1.08 GB
// column chunk, which the reader then refused as corrupt.)
func TestParquetRowGroupsBounded(t *testing.T) {
	s := testSchema()
	rows := make([]dataflow.Row, 1000)
	for i := range rows {
		rows[i] = testRow(int64(i))
	}
	for _, tc := range []struct {
		name      string
		lim       rowGroupLimits
		wantMax   int64 // rows in any row group
		wantTotal int64
	}{
		{"by rows", rowGroupLimits{Rows: 64, Bytes: 1 << 30}, 64, 1000},
		// 8 bytes per number: 100 rows fill an 800-byte int64 chunk.
		{"by bytes", rowGroupLimits{Rows: 1 << 20, Bytes: 800}, 100, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, writeParquet(t.Context(), &buf, s, slices.Values(rows), tc.lim))
			f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			require.NoError(t, err)
			groups := f.Metadata().RowGroups
			require.Greater(t, len(groups), 1, "more than one row group")
			var total int64
			for i, g := range groups {
				assert.LessOrEqual(t, g.NumRows, tc.wantMax, "row group %d", i)
				total += g.NumRows
			}
			assert.Equal(t, tc.wantTotal, total)

			path := filepath.Join(t.TempDir(), "x.parquet")
			require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
			back, err := ReadParquetRows(path, s)
			require.NoError(t, err)
			assert.Equal(t, rows, back, "every row back, in order")
		})
	}

	// WriteParquet's own bounds: a small file is one row group.
	var buf bytes.Buffer
	require.NoError(t, WriteParquet(&buf, s, slices.Values(rows)))
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	assert.Len(t, f.Metadata().RowGroups, 1)
}

// TestChunkBoundsAcceptWhatFits: a column chunk over 1 GiB uncompressed is
// valid and is read when the file fits in memory; a file whose chunks
// claim more than the memory is refused, saying so.
func TestChunkBoundsAcceptWhatFits(t *testing.T) {
	md := func(uncompressed ...int64) *format.FileMetaData {
		rg := format.RowGroup{}
		for _, u := range uncompressed {
			rg.Columns = append(rg.Columns, format.ColumnChunk{MetaData: format.ColumnMetaData{
				DataPageOffset: 4, TotalCompressedSize: 100, TotalUncompressedSize: u, NumValues: 10}})
		}
		return &format.FileMetaData{NumRows: 10, RowGroups: []format.RowGroup{rg}}
	}
	const size = 1000
	assert.NoError(t, checkChunkBounds("x.parquet", md(1_080_000_000), size, 8<<30), "a 1.08 GB chunk in 8 GiB of memory")

	err := checkChunkBounds("x.parquet", md(3<<30, 3<<30), size, 4<<30)
	assert.ErrorIs(t, err, ErrTooLarge, "two 3 GiB chunks in 4 GiB")
	assert.ErrorContains(t, err, "fewer events")

	err = checkChunkBounds("x.parquet", md(1<<62, 1<<62, 1<<62), size, 1<<62+1)
	assert.ErrorIs(t, err, ErrTooLarge, "no overflow of the total")

	bad := md(10)
	bad.RowGroups[0].Columns[0].MetaData.TotalCompressedSize = size
	assert.ErrorIs(t, checkChunkBounds("x.parquet", bad, size, 8<<30), ErrCorrupt, "a chunk past the end of the file")
	bad.RowGroups[0].Columns[0].MetaData.TotalCompressedSize = 1<<63 - 1
	assert.ErrorIs(t, checkChunkBounds("x.parquet", bad, size, 8<<30), ErrCorrupt, "no overflow of offset plus size")
	assert.ErrorIs(t, checkChunkBounds("x.parquet", md(-1), size, 8<<30), ErrCorrupt, "a negative size")

	assert.Positive(t, memoryForLoad())
}

// TestWriteDirReplacesAtomically: a dataset file is written beside its
// name and renamed into place: no temporary file is left, and a failed
// write leaves the previous file whole.
func TestWriteDirReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	l, tables, err := Generate(t.Context(), "ysb", Config{Events: 300, Seed: 1})
	require.NoError(t, err)
	require.NoError(t, WriteDir(t.Context(), dir, l, tables))
	before, err := os.ReadFile(filepath.Join(dir, EventsFile))
	require.NoError(t, err)

	// A row of the wrong width fails mid-file.
	err = writeFile(filepath.Join(dir, EventsFile), func(w io.Writer) error {
		return WriteParquet(w, l.Schema(), slices.Values([]dataflow.Row{{dataflow.Int(1)}}))
	})
	require.Error(t, err)
	after, err := os.ReadFile(filepath.Join(dir, EventsFile))
	require.NoError(t, err)
	assert.Equal(t, before, after, "the failed write left the previous file")
	names, err := filepath.Glob(filepath.Join(dir, ".*"))
	require.NoError(t, err)
	assert.Empty(t, names, "no temporary file left")
}
