package datasets

import (
	"context"
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// readAll reads [from, to) of every partition and checks each batch against
// Log.Read.
func checkArrowRange(t *testing.T, src *ArrowSource, p int, from, to int64, maxRows int, mem memory.Allocator) {
	t.Helper()
	l := src.Log()
	recs, err := src.Read(p, from, to, mem, maxRows)
	require.NoError(t, err)
	off := from
	var row dataflow.Row
	for _, rec := range recs {
		assert.True(t, rec.Schema().Equal(src.Schema()))
		if maxRows > 0 {
			assert.LessOrEqual(t, int(rec.NumRows()), maxRows)
		}
		s, rows, err := ArrowToRows(rec)
		require.NoError(t, err)
		assert.Equal(t, IngestColumn, s.Fields[len(s.Fields)-1].Name)
		for _, got := range rows {
			var ing int64
			row, ing = l.Read(p, off, row)
			require.Equal(t, row, got[:len(got)-1], "partition %d offset %d", p, off)
			require.Equal(t, ing, got[len(got)-1].I)
			off++
		}
		rec.Release()
	}
	assert.Equal(t, to, off)
}

func TestArrowSourceRead(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, name := range []string{"ysb", "weblogs", "nexmark"} {
		l := gen(t, name, Config{Events: 2000, Seed: 2, Partitions: 2, ChunkRows: 300})
		src := NewArrowSource(l)
		f := src.Schema().Field(0)
		if name != "nexmark" {
			_, ok := f.Type.(*arrow.DictionaryType)
			assert.True(t, ok, "%s: string column %s is a dictionary, got %v", name, f.Name, f.Type)
		}
		for _, tc := range []struct {
			from, to int64
			max      int
		}{{0, l.End(0), 0}, {5, 700, 128}, {299, 301, 1}, {10, 10, 0}} {
			checkArrowRange(t, src, 0, tc.from, tc.to, tc.max, mem)
		}
		checkArrowRange(t, src, 1, 0, l.End(1), 7, mem)
		src.Release()
	}
}

func TestArrowSourceZeroCopy(t *testing.T) {
	// An open log: its chunk is wide, and batches wrap it (DS5, DS6).
	l := filledTestLog(t, 128, 100)
	src := NewArrowSource(l)
	defer src.Release()
	recs, err := src.Read(0, 0, 100, memory.DefaultAllocator, 0)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	defer recs[0].Release()
	var c *Chunk
	l.Chunks(0, 0, 100, func(ch *Chunk, lo, hi int) bool { c = ch; return false })
	require.False(t, c.Sealed(), "the chunk being appended is open")
	xs := recs[0].Column(1).(*array.Float64).Float64Values()
	assert.Same(t, &c.cols[1].f64[0], &xs[0], "float column wraps the log's slice")
	ns := recs[0].Column(0).(*array.Int64).Int64Values()
	assert.Same(t, &c.cols[0].i64[0], &ns[0], "int column wraps the log's slice")
	codes := recs[0].Column(2).(*array.Dictionary).Indices().(*array.Int32).Int32Values()
	assert.Same(t, &c.cols[2].i32[0], &codes[0], "dictionary indices are the log's codes (DS6)")

	// Sealed at Close: floats still wrap the log, narrow columns are
	// widened into the log's pool, with the same values.
	l.Close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sealed, err := src.Read(0, 0, 100, mem, 0)
	require.NoError(t, err)
	require.Len(t, sealed, 1)
	defer sealed[0].Release()
	l.Chunks(0, 0, 100, func(ch *Chunk, lo, hi int) bool { c = ch; return false })
	require.True(t, c.Sealed(), "Close seals the open chunk")
	xs = sealed[0].Column(1).(*array.Float64).Float64Values()
	assert.Same(t, &c.cols[1].f64[0], &xs[0], "float column wraps the sealed chunk")
	assert.Equal(t, 1, c.Width(0), "n spans 0..99: one byte")
	assert.Equal(t, 1, c.Width(2), "26 codes: one byte")
	assert.Equal(t, ns, sealed[0].Column(0).(*array.Int64).Int64Values(), "widened int column")
	assert.Equal(t, codes, sealed[0].Column(2).(*array.Dictionary).Indices().(*array.Int32).Int32Values(), "widened codes")
	assert.Equal(t, recs[0].Column(5).(*array.Int64).Int64Values(), sealed[0].Column(5).(*array.Int64).Int64Values(), "widened ingest column")
}

// TestArrowSourceGrowingDict reads while the log grows: dictionaries
// extend, and old batches keep their shorter dictionary.
func TestArrowSourceGrowingDict(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	l, _ := newTestLog(t, 1, 4)
	src := NewArrowSource(l)
	defer src.Release()
	a := l.Appender()
	var old []arrow.Record
	for i := range int64(20) {
		r := testRow(i)
		r[2] = dataflow.Str(string(rune('A' + i)))
		a.AppendRow(0, 0, r)
		require.NoError(t, a.Flush())
		recs, err := src.Read(0, i, i+1, mem, 0)
		require.NoError(t, err)
		old = append(old, recs...)
	}
	for i, rec := range old {
		_, rows, err := ArrowToRows(rec)
		require.NoError(t, err)
		assert.Equal(t, string(rune('A'+i)), rows[0][2].S)
		assert.Equal(t, i+1, rec.Column(2).(*array.Dictionary).Dictionary().Len())
		rec.Release()
	}
	// Bool columns are allocated from mem and released with the record.
	assert.Equal(t, arrow.BOOL, src.Schema().Field(4).Type.ID())
}

func TestArrowSourcePlainStrings(t *testing.T) {
	l, _ := newTestLog(t, 1, 64)
	a := l.Appender()
	for i := range int64(maxDictLen + 1) {
		l.Dict(2).Intern(strconv.FormatInt(i, 10) + "x")
	}
	for i := range int64(10) {
		a.AppendRow(0, 0, testRow(i))
	}
	require.NoError(t, a.Flush())
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src := NewArrowSource(l)
	assert.Equal(t, arrow.STRING, src.Schema().Field(2).Type.ID())
	checkArrowRange(t, src, 0, 0, 10, 3, mem)
}

func TestArrowSourceErrors(t *testing.T) {
	l := gen(t, "ysb", Config{Events: 10, Seed: 1, Partitions: 1})
	src := NewArrowSource(l)
	_, err := src.Read(0, 0, 11, memory.DefaultAllocator, 0)
	assert.ErrorContains(t, err, "outside its readable range [0, 10)")
	_, err = src.Read(3, 0, 1, memory.DefaultAllocator, 0)
	assert.ErrorContains(t, err, "partition 3 of 1")
	assert.Equal(t, 1, src.Partitions())
	assert.Equal(t, int64(10), src.End(0))
	assert.Equal(t, l.EventTimeShift(), src.EventTimeShift())
	assert.NoError(t, src.Wait(context.Background(), 0, 9))
	<-src.Changed() // closed log: closed channel
}

func TestRowsArrowRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rows := []dataflow.Row{testRow(1), testRow(2), testRow(3)}
	rec, err := RowsToArrow(testSchema(), rows, mem)
	require.NoError(t, err)
	defer rec.Release()
	s, back, err := ArrowToRows(rec)
	require.NoError(t, err)
	assert.Equal(t, testSchema(), s)
	assert.Equal(t, rows, back)
	_, err = RowsToArrow(testSchema(), []dataflow.Row{{dataflow.Str("x")}}, mem)
	assert.ErrorContains(t, err, "has 1 values")
}

// TestArrowSourceWhileFilling reads batches while a paced fill appends (run
// with -race): readers see only flushed, immutable rows.
func TestArrowSourceWhileFilling(t *testing.T) {
	g, _ := Lookup("weblogs")
	cfg := Config{Events: 20000, Seed: 1, Partitions: 2, ChunkRows: 1000}
	l, err := NewLogFor(g, cfg)
	require.NoError(t, err)
	src := NewArrowSource(l)
	defer src.Release()
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- Fill(ctx, g, l, cfg, Pacing{Rate: 2e6}) }()
	var rows int64
	for p := range 2 {
		var off int64
		for {
			if err := src.Wait(ctx, p, off); err != nil {
				break
			}
			end := src.End(p)
			recs, err := src.Read(p, off, end, memory.DefaultAllocator, 0)
			require.NoError(t, err)
			for _, r := range recs {
				_, rs, err := ArrowToRows(r)
				require.NoError(t, err)
				rows += int64(len(rs))
				r.Release()
			}
			off = end
		}
	}
	require.NoError(t, <-done)
	assert.Equal(t, int64(20000), rows)
}

// TestArrowSourceSkip: skipped columns are all-null arrays of their type,
// in open and sealed chunks alike; the other columns are read as ever.
func TestArrowSourceSkip(t *testing.T) {
	l := filledTestLog(t, 64, 100)
	src := NewArrowSource(l)
	defer src.Release()
	require.ErrorContains(t, src.Skip([]int{5}), "positions are 0 to 4")
	require.NoError(t, src.Skip([]int{0, 2, 4}))
	for _, closed := range []bool{false, true} {
		if closed {
			l.Close()
		}
		recs, err := src.Read(0, 0, 100, memory.DefaultAllocator, 30)
		require.NoError(t, err)
		off := int64(0)
		for _, rec := range recs {
			assert.True(t, rec.Schema().Equal(src.Schema()))
			n := int(rec.NumRows())
			for _, col := range []int{0, 2, 4} {
				c := rec.Column(col)
				assert.Equal(t, n, c.NullN(), "column %d (closed %v) is all null", col, closed)
				assert.True(t, arrow.TypeEqual(src.Schema().Field(col).Type, c.DataType()))
			}
			xs := rec.Column(1).(*array.Float64).Float64Values()
			ts := rec.Column(3).(*array.Timestamp).TimestampValues()
			for i := range n {
				want := testRow(off + int64(i))
				assert.Equal(t, want[1].Float64(), xs[i])
				assert.Equal(t, want[3].I, int64(ts[i]))
			}
			off += int64(n)
			rec.Release()
		}
		assert.Equal(t, int64(100), off)
	}
}

// TestArrowSourceSkipPlainString: a skipped plain utf8 column (its
// dictionary is too large to send) is all null too.
func TestArrowSourceSkipPlainString(t *testing.T) {
	l, want := edgeLog(t, edgeRows)
	appendEdge(l.Appender(), want, 0, 70)
	require.NoError(t, l.Appender().Flush())
	l.Close()
	src := NewArrowSource(l)
	defer src.Release()
	require.Equal(t, arrow.BinaryTypes.String, src.Schema().Field(13).Type, "70000 codes: plain utf8")
	require.NoError(t, src.Skip([]int{13}))
	recs, err := src.Read(0, 0, 70, memory.DefaultAllocator, 0)
	require.NoError(t, err)
	for _, rec := range recs {
		assert.Equal(t, int(rec.NumRows()), rec.Column(13).NullN())
		assert.Zero(t, rec.Column(12).NullN(), "an unskipped column has its values")
		rec.Release()
	}
}
