package datasets

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// TestDirRoundTrip checks DS4: WriteDir then LoadDir gives the same records
// in the same partitions and order, and the same tables.
func TestDirRoundTrip(t *testing.T) {
	for _, name := range []string{"ysb", "nexmark", "hashtags", "iot"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			cfg := Config{Events: 3000, Seed: 5, Partitions: 3, ChunkRows: 512}
			l, tables, err := Generate(ctx, name, cfg)
			require.NoError(t, err)
			dir := t.TempDir()
			require.NoError(t, WriteDir(ctx, dir, l, tables))
			l2, tables2, err := LoadDir(ctx, dir, name, cfg)
			require.NoError(t, err)
			assert.True(t, l2.Closed())
			assert.Equal(t, dump(l), dump(l2))
			assert.Equal(t, tables, tables2)
			assert.NotZero(t, l2.EventTimeShift())
		})
	}
}

// TestParquetFooterSchema reads the written file's footer the way another
// reader would and checks the plain physical and logical types.
func TestParquetFooterSchema(t *testing.T) {
	var buf bytes.Buffer
	s := testSchema()
	rows := []dataflow.Row{testRow(1), testRow(2)}
	require.NoError(t, WriteParquet(&buf, s, slices.Values(rows)))
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	got := map[string]string{}
	for _, e := range f.Metadata().Schema[1:] {
		typ := ""
		if ty, ok := e.Type.Get(); ok {
			typ = ty.String()
		}
		if lt := e.LogicalType.String(); lt != "" {
			typ += " " + lt
		}
		got[e.Name] = typ
	}
	assert.Equal(t, map[string]string{
		"n": "INT64 INT(64,true)",
		"x": "DOUBLE",
		"s": "BYTE_ARRAY STRING",
		"t": "INT64 TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)",
		"b": "BOOLEAN",
	}, got)
	assert.Equal(t, int64(2), f.NumRows())
	path := filepath.Join(t.TempDir(), "x.parquet")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	back, err := ReadParquetRows(path, s)
	require.NoError(t, err)
	assert.Equal(t, rows, back)
	fs, err := parquetFileSchema(path)
	require.NoError(t, err)
	assert.Equal(t, s, fs, "column order from metadata")
}

func TestParquetErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, tables, err := Generate(ctx, "ysb", Config{Events: 500, Seed: 1})
	require.NoError(t, err)
	require.NoError(t, WriteDir(ctx, dir, l, tables))
	events := filepath.Join(dir, EventsFile)
	data, err := os.ReadFile(events)
	require.NoError(t, err)

	write := func(name string, b []byte) string {
		p := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	ysb, _ := Lookup("ysb")
	iot, _ := Lookup("iot")

	_, err = ReadParquet(write("text.parquet", []byte("user_id,page_id\nfoo,bar\n")), ysb)
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.ErrorContains(t, err, "not a Parquet file")
	assert.ErrorContains(t, err, "bench gen")

	_, err = ReadParquet(write("trunc.parquet", data[:len(data)/2]), ysb)
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.ErrorContains(t, err, "truncated")

	_, err = ReadParquet(events, iot)
	assert.ErrorIs(t, err, ErrSchema)
	assert.ErrorContains(t, err, "looks like the events of dataset ysb")
	assert.ErrorContains(t, err, "missing column(s) sensor_id, temperature, humidity")

	// A file missing one column.
	s := ysb.Schema()
	short := dataflow.NewSchema(slices.Delete(slices.Clone(s.Fields), 6, 7)...)
	var buf bytes.Buffer
	require.NoError(t, WriteParquet(&buf, short, func(yield func(dataflow.Row) bool) {
		for r := range l.All() {
			if !yield(r.Row[:6]) {
				return
			}
		}
	}))
	_, err = ReadParquet(write("short.parquet", buf.Bytes()), ysb)
	assert.ErrorIs(t, err, ErrSchema)
	assert.ErrorContains(t, err, "missing column(s) ip_address")

	_, err = ReadParquet(filepath.Join(dir, "nope.parquet"), ysb)
	assert.ErrorContains(t, err, "no such file")

	// A corrupt middle: flipped bytes inside the data pages.
	bad := slices.Clone(data)
	for i := 100; i < len(bad)/2; i += 7 {
		bad[i] ^= 0x5a
	}
	_, err = ReadParquet(write("bad.parquet", bad), ysb)
	assert.Error(t, err)

	// LoadDir names the missing table file.
	require.NoError(t, os.Remove(filepath.Join(dir, "campaigns.parquet")))
	_, _, err = LoadDir(ctx, dir, "ysb", Config{})
	assert.ErrorContains(t, err, "campaigns.parquet")
	_, _, err = LoadDir(ctx, t.TempDir(), "ysb", Config{})
	assert.ErrorContains(t, err, "bench gen")
}

// FuzzParquetReader feeds corrupt bytes to the reader: it must return an
// error or rows, never panic.
func FuzzParquetReader(f *testing.F) {
	var buf bytes.Buffer
	rows := []dataflow.Row{testRow(1), testRow(2), testRow(3)}
	if err := WriteParquet(&buf, testSchema(), slices.Values(rows)); err != nil {
		f.Fatal(err)
	}
	good := buf.Bytes()
	f.Add(good)                                 // a valid file
	f.Add(good[:len(good)-10])                  // truncated footer
	f.Add([]byte("PAR1PAR1"))                   // magic only
	f.Add(append([]byte("PAR1"), good[40:]...)) // a hole after the header
	f.Add(append(slices.Clone(good[:60]), good[len(good)-60:]...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = scanParquet("fuzz.parquet", bytes.NewReader(b), int64(len(b)), testSchema(), func(dataflow.Row) error { return nil })
	})
}

// errAfter is a context whose Err reports it canceled from its n-th call
// on: a cancel at a chosen point of a write, which looks at its context
// every few thousand rows.
type errAfter struct {
	context.Context
	n, calls int
}

func (c *errAfter) Err() error {
	if c.calls++; c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

// TestWriteDirCanceled: a WriteDir whose ctx is canceled at any point
// returns the ctx's error and leaves no file, partial, empty or temporary:
// a directory it made is removed, an existing one keeps what it held.
func TestWriteDirCanceled(t *testing.T) {
	ctx := context.Background()
	l, tables, err := Generate(ctx, "ysb", Config{Events: 20_000, Seed: 1})
	require.NoError(t, err)
	count := &errAfter{Context: ctx, n: 1 << 30}
	require.NoError(t, WriteDir(count, t.TempDir(), l, tables))
	require.Greater(t, count.calls, 5, "the events file is written in steps")
	for n := 1; n <= count.calls; n++ {
		made := filepath.Join(t.TempDir(), "new")
		err := WriteDir(&errAfter{Context: ctx, n: n}, made, l, tables)
		require.ErrorIs(t, err, context.Canceled, "canceled at look %d of %d", n, count.calls)
		assert.NoDirExists(t, made, "canceled at look %d: the directory WriteDir made is removed", n)

		existing := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(existing, "keep.txt"), []byte("x"), 0o644))
		require.ErrorIs(t, WriteDir(&errAfter{Context: ctx, n: n}, existing, l, tables), context.Canceled)
		entries, err := os.ReadDir(existing)
		require.NoError(t, err)
		require.Len(t, entries, 1, "canceled at look %d: only what the directory held", n)
		assert.Equal(t, "keep.txt", entries[0].Name())
	}
}
