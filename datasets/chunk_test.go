package datasets

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// edgeCol is one column of the edge-value log: its kind, the values of
// row i, and the width a sealed chunk of 64 rows must give it.
type edgeCol struct {
	name  string
	kind  dataflow.Kind
	width int
	int   func(i int64) int64   // int, timestamp, bool
	float func(i int64) float64 // float
	codes int32                 // string: dictionary size; row i has code i*7919 % codes, with 0 and codes-1 in every chunk
}

// edgeRows is the rows of a chunk in the edge tests.
const edgeRows = 64

// spanning returns values in [lo, lo+span]: lo at row 0 of every chunk,
// lo+span at row 1, others in between.
func spanning(lo int64, span uint64) func(int64) int64 {
	return func(i int64) int64 {
		var d uint64
		switch i % edgeRows {
		case 0:
		case 1:
			d = span
		default:
			d = uint64(i*2654435761) % (span/2 + 1)
		}
		return int64(uint64(lo) + d)
	}
}

func edgeCols() []edgeCol {
	return []edgeCol{
		{name: "neg1", kind: dataflow.KindInt64, width: 1, int: spanning(-1000, 255)},
		{name: "neg2", kind: dataflow.KindInt64, width: 2, int: spanning(-70000, 256)},
		{name: "w2max", kind: dataflow.KindInt64, width: 2, int: spanning(math.MaxInt64-65535, 65535)},
		{name: "w4", kind: dataflow.KindInt64, width: 4, int: spanning(math.MinInt64, 65536)},
		{name: "w4max", kind: dataflow.KindInt64, width: 4, int: spanning(-1<<31, 1<<32-1)},
		{name: "w8", kind: dataflow.KindInt64, width: 8, int: spanning(-5, 1<<32)},
		{name: "full", kind: dataflow.KindInt64, width: 8, int: spanning(math.MinInt64, math.MaxUint64)},
		{name: "const", kind: dataflow.KindInt64, width: 1, int: func(int64) int64 { return math.MinInt64 }},
		{name: "ts", kind: dataflow.KindTimestamp, width: 2, int: spanning(1767225600000, 5000)},
		{name: "b", kind: dataflow.KindBool, width: 1, int: func(i int64) int64 { return 1 - i%2 }},
		{name: "x", kind: dataflow.KindFloat64, width: 8, float: func(i int64) float64 {
			return [...]float64{math.Inf(-1), math.Copysign(0, -1), math.MaxFloat64, math.SmallestNonzeroFloat64, 1.5}[i%5] * float64(1+i%3)
		}},
		{name: "s1", kind: dataflow.KindString, width: 1, codes: 70},
		{name: "s300", kind: dataflow.KindString, width: 2, codes: 300},
		{name: "s70k", kind: dataflow.KindString, width: 4, codes: 70000},
	}
}

func (c edgeCol) code(i int64) int32 {
	switch i % edgeRows {
	case 0:
		return 0
	case 1:
		return c.codes - 1
	}
	return int32(i * 7919 % int64(c.codes))
}

// edgeLog returns a log of one partition with chunks of rows rows and the
// edge columns, with the dictionaries filled, and the expected row i.
func edgeLog(t *testing.T, rows int) (*Log, func(i int64) (dataflow.Row, int64)) {
	t.Helper()
	cols := edgeCols()
	var s dataflow.Schema
	for _, c := range cols {
		s.Fields = append(s.Fields, dataflow.Field{Name: c.name, Kind: c.kind})
	}
	l, err := NewLog(LogConfig{Schema: s, Partitions: 1, ChunkRows: rows})
	require.NoError(t, err)
	for col, c := range cols {
		for k := range c.codes {
			l.Dict(col).Intern(fmt.Sprintf("%s-%d", c.name, k))
		}
	}
	want := func(i int64) (dataflow.Row, int64) {
		row := make(dataflow.Row, len(cols))
		for col, c := range cols {
			switch c.kind {
			case dataflow.KindFloat64:
				row[col] = dataflow.Float(c.float(i))
			case dataflow.KindString:
				row[col] = dataflow.Str(fmt.Sprintf("%s-%d", c.name, c.code(i)))
			default:
				row[col] = dataflow.Value{K: c.kind, I: c.int(i)}
			}
		}
		// ingest: a wide range below and above the epoch, non-decreasing
		return row, -1e18 + i*(1<<40)
	}
	return l, want
}

// appendEdge appends rows [from, to) of want to partition 0.
func appendEdge(a *Appender, want func(int64) (dataflow.Row, int64), from, to int64) {
	for i := from; i < to; i++ {
		row, ing := want(i)
		a.AppendRow(0, ing, row)
	}
}

// checkEdge reads offsets [0, n) of l back through every reader and
// compares them with want.
func checkEdge(t *testing.T, l *Log, want func(int64) (dataflow.Row, int64), n int64) {
	t.Helper()
	cols := edgeCols()
	var row dataflow.Row
	all := make([]int, len(cols))
	for i := range all {
		all[i] = i
	}
	for off := range n {
		w, wing := want(off)
		var ing int64
		var err error
		row, ing, err = l.ReadAt(0, off, row)
		require.NoError(t, err)
		require.Equal(t, rowBits(w), rowBits(row), "ReadAt %d", off)
		require.Equal(t, wing, ing, "ReadAt ingest %d", off)
		require.Equal(t, wing, l.IngestAt(0, off), "IngestAt %d", off)
		other, ing := l.ReadColumns(0, off, all, nil)
		require.Equal(t, rowBits(w), rowBits(other), "ReadColumns %d", off)
		require.Equal(t, wing, ing)
		require.Equal(t, off, l.OffsetAtIngest(0, wing), "OffsetAtIngest of %d's ingest time", off)
	}
	// Bulk decoders over every chunk, with buffers reused from chunk to
	// chunk (a sealed chunk after an open one and back).
	var ints []int64
	var codes []int32
	var floats []float64
	seen := int64(0)
	l.Chunks(0, 0, n, func(c *Chunk, lo, hi int) bool {
		for col, ec := range cols {
			for i := lo; i < hi; i++ {
				off := c.Base + int64(i)
				switch ec.kind {
				case dataflow.KindFloat64:
					require.Equal(t, math.Float64bits(ec.float(off)), math.Float64bits(c.Float(col, i)))
				case dataflow.KindString:
					require.Equal(t, ec.code(off), c.Code(col, i), "%s row %d", ec.name, off)
				default:
					require.Equal(t, ec.int(off), c.Int(col, i), "%s row %d", ec.name, off)
				}
			}
			for _, r := range [][2]int{{lo, hi}, {lo + (hi-lo)/2, hi}, {lo, lo}} {
				switch ec.kind {
				case dataflow.KindFloat64:
					floats = c.Floats64(col, r[0], r[1], floats)
					require.Len(t, floats, r[1]-r[0])
					for j, v := range floats {
						require.Equal(t, math.Float64bits(ec.float(c.Base+int64(r[0]+j))), math.Float64bits(v))
					}
				case dataflow.KindString:
					codes = c.Codes32(col, r[0], r[1], codes)
					require.Len(t, codes, r[1]-r[0])
					for j, v := range codes {
						require.Equal(t, ec.code(c.Base+int64(r[0]+j)), v, "Codes32 %s", ec.name)
					}
				default:
					ints = c.Ints64(col, r[0], r[1], ints)
					require.Len(t, ints, r[1]-r[0])
					for j, v := range ints {
						require.Equal(t, ec.int(c.Base+int64(r[0]+j)), v, "Ints64 %s", ec.name)
					}
				}
			}
			if c.Sealed() && c.Rows() == edgeRows {
				assert.Equal(t, ec.width, c.Width(col), "width of %s in a sealed chunk", ec.name)
			}
		}
		ints = c.Ingests(lo, hi, ints)
		for j, v := range ints {
			_, wing := want(c.Base + int64(lo+j))
			require.Equal(t, wing, v, "Ingests")
		}
		seen += int64(hi - lo)
		return true
	})
	assert.Equal(t, n, seen)
	// Arrow batches, of every chunk, in pieces.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	src := NewArrowSource(l)
	checkArrowRange(t, src, 0, 0, n, 0, mem)
	checkArrowRange(t, src, 0, 1, n, 5, mem)
	src.Release()
	mem.AssertSize(t, 0)
}

// rowBits makes NaN-free float values comparable bit for bit (-0 vs 0).
func rowBits(r dataflow.Row) []string {
	out := make([]string, len(r))
	for i, v := range r {
		if v.K == dataflow.KindFloat64 {
			out[i] = fmt.Sprintf("f%x", math.Float64bits(v.Float64()))
		} else {
			out[i] = fmt.Sprintf("%v:%d:%q", v.K, v.I, v.S)
		}
	}
	return out
}

// TestChunkSealedReadsBackAppended: a sealed chunk reads back exactly what
// was appended, for every kind and edge values, through every reader, and
// at the width its range needs; so do the open chunk beside it and the
// chunks Close seals.
func TestChunkSealedReadsBackAppended(t *testing.T) {
	l, want := edgeLog(t, edgeRows)
	a := l.Appender()
	const n = 2*edgeRows + 10
	appendEdge(a, want, 0, n)
	require.NoError(t, a.Flush())
	var sealed []bool
	l.Chunks(0, 0, n, func(c *Chunk, lo, hi int) bool { sealed = append(sealed, c.Sealed()); return true })
	assert.Equal(t, []bool{true, true, false}, sealed, "chunks the appender has moved past are sealed, the open one is not")
	checkEdge(t, l, want, n)

	wideBytes := l.Bytes()
	l.Close()
	sealed = sealed[:0]
	l.Chunks(0, 0, n, func(c *Chunk, lo, hi int) bool { sealed = append(sealed, c.Sealed()); return true })
	assert.Equal(t, []bool{true, true, true}, sealed, "Close seals the open chunk")
	checkEdge(t, l, want, n)
	assert.Less(t, l.Bytes(), wideBytes, "sealing the last chunk to its 10 rows frees the rest")
}

// TestChunkSingleRow: chunks of one row seal and read back.
func TestChunkSingleRow(t *testing.T) {
	l, want := edgeLog(t, 1)
	a := l.Appender()
	appendEdge(a, want, 0, 5)
	require.NoError(t, a.Flush())
	checkEdge(t, l, want, 5)
	l.Close()
	checkEdge(t, l, want, 5)
	l.Chunks(0, 0, 5, func(c *Chunk, lo, hi int) bool {
		assert.True(t, c.Sealed())
		assert.Equal(t, 1, c.Rows())
		for col := range l.Schema().Fields {
			if l.Schema().Fields[col].Kind != dataflow.KindFloat64 {
				assert.Equal(t, 1, c.Width(col), "one value: range 0")
			}
		}
		return true
	})
}

// TestChunkCloseUnpublished: Close seals the open chunk to its published
// rows; an append after Close is never published.
func TestChunkCloseUnpublished(t *testing.T) {
	l, want := edgeLog(t, edgeRows)
	a := l.Appender()
	appendEdge(a, want, 0, 5)
	require.NoError(t, a.Flush())
	appendEdge(a, want, 5, 7) // committed, not flushed
	l.Close()
	appendEdge(a, want, 7, edgeRows+3) // after Close: a new chunk, never published
	assert.ErrorIs(t, a.Flush(), ErrLogClosed)
	assert.Equal(t, int64(5), l.End(0))
	checkEdge(t, l, want, 5)
	l.Chunks(0, 0, 5, func(c *Chunk, lo, hi int) bool {
		assert.True(t, c.Sealed())
		assert.Equal(t, 5, c.Rows())
		return true
	})
}

// TestSealMatchesWide: sealing random wide chunks of every kind keeps
// every value (a property check of seal, beside the edge values).
func TestSealMatchesWide(t *testing.T) {
	s := schemaOf(i64("n"), f64("x"), str("s"), tstamp("t"), dataflow.Field{Name: "b", Kind: dataflow.KindBool})
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		rows := 1 + r.IntN(300)
		c := newChunk(s, int64(trial)*1000, rows)
		shift := uint(r.IntN(64))
		for i := range rows {
			c.cols[0].i64[i] = int64(r.Uint64() >> shift)
			if r.IntN(2) == 0 {
				c.cols[0].i64[i] = -c.cols[0].i64[i]
			}
			c.cols[1].f64[i] = r.NormFloat64()
			c.cols[2].i32[i] = int32(r.Uint32() >> (1 + uint(trial%31)))
			c.cols[3].i64[i] = 1e12 + int64(r.IntN(1<<uint(trial%40)))
			c.cols[4].i64[i] = int64(r.IntN(2))
			c.ingest.i64[i] = int64(r.Uint64() >> shift)
		}
		n := rows - r.IntN(rows)
		sc := c.seal(n)
		require.True(t, sc.Sealed())
		require.Equal(t, n, sc.Rows())
		for i := range n {
			for _, col := range []int{0, 3, 4} {
				require.Equal(t, c.cols[col].i64[i], sc.Int(col, i), "trial %d col %d row %d", trial, col, i)
			}
			require.Equal(t, c.cols[1].f64[i], sc.Float(1, i))
			require.Equal(t, c.cols[2].i32[i], sc.Code(2, i))
			require.Equal(t, c.ingest.i64[i], sc.IngestAt(i))
		}
		assert.Equal(t, c.cols[0].i64[:n], sc.Ints64(0, 0, n, nil))
		assert.Equal(t, c.cols[2].i32[:n], sc.Codes32(2, 0, n, nil))
		assert.Equal(t, c.ingest.i64[:n], sc.Ingests(0, n, nil))
		assert.LessOrEqual(t, sc.Bytes(), newChunk(s, 0, n).Bytes(), "sealed is never larger than wide")
	}
}

// TestLogReadersConcurrentWithSealing: readers of every kind follow an
// appender that seals chunk after chunk (run with -race): each reads back
// what was appended, whichever form of a chunk it holds.
func TestLogReadersConcurrentWithSealing(t *testing.T) {
	const rows, n = 16, 4000
	l, want := edgeLog(t, rows)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	check := func(off int64, row dataflow.Row, ing int64) error {
		w, wing := want(off)
		if fmt.Sprint(rowBits(w)) != fmt.Sprint(rowBits(row)) || wing != ing {
			return fmt.Errorf("offset %d: got %v at %d, want %v at %d", off, row, ing, w, wing)
		}
		return nil
	}
	// Record readers.
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var row dataflow.Row
			for off := int64(0); ; off++ {
				if err := l.Wait(ctx, 0, off); err != nil {
					return // io.EOF at the end
				}
				var ing int64
				var err error
				if row, ing, err = l.ReadAt(0, off, row); err == nil {
					err = check(off, row, ing)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// A columnar reader: chunk ranges through the bulk decoders.
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ints, ing []int64
		var codes []int32
		for from := int64(0); ; {
			if err := l.Wait(ctx, 0, from); err != nil {
				return
			}
			to := l.End(0)
			var err error
			l.Chunks(0, from, to, func(c *Chunk, lo, hi int) bool {
				ints, codes, ing = c.Ints64(0, lo, hi, ints), c.Codes32(13, lo, hi, codes), c.Ingests(lo, hi, ing)
				for j := range ints {
					off := c.Base + int64(lo+j)
					w, wing := want(off)
					if ints[j] != w[0].I || l.Dict(13).Get(codes[j]) != w[13].S || ing[j] != wing {
						err = fmt.Errorf("Chunks offset %d: got %d %d %d", off, ints[j], codes[j], ing[j])
						return false
					}
				}
				return true
			})
			if err != nil {
				errs <- err
				return
			}
			from = to
		}
	}()
	a := l.Appender()
	for i := int64(0); i < n; i += 7 {
		appendEdge(a, want, i, min(i+7, n))
		require.NoError(t, a.Flush())
	}
	l.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	l.Chunks(0, 0, n, func(c *Chunk, lo, hi int) bool {
		require.True(t, c.Sealed(), "chunk at %d", c.Base)
		return true
	})
}

// TestRetentionReleasesSealedChunks: a log with retention seals its chunks
// and releases them whole; what it keeps reads back, and Bytes counts only
// what it holds.
func TestRetentionReleasesSealedChunks(t *testing.T) {
	cols := edgeCols()
	var s dataflow.Schema
	for _, c := range cols {
		s.Fields = append(s.Fields, dataflow.Field{Name: c.name, Kind: c.kind})
	}
	l, err := NewLog(LogConfig{Schema: s, Partitions: 1, ChunkRows: edgeRows, Retention: Retention{Consumers: true}})
	require.NoError(t, err)
	for col, c := range cols {
		for k := range c.codes {
			l.Dict(col).Intern(fmt.Sprintf("%s-%d", c.name, k))
		}
	}
	_, want := edgeLog(t, edgeRows)
	cons, err := l.NewConsumer("reader")
	require.NoError(t, err)
	a := l.Appender()
	appendEdge(a, want, 0, 3*edgeRows)
	require.NoError(t, a.Flush())
	held := l.Bytes()
	require.NoError(t, cons.Retain(0, 2*edgeRows+5))
	appendEdge(a, want, 3*edgeRows, 3*edgeRows+1) // starts a chunk: releases the two below the consumer
	require.NoError(t, a.Flush())
	assert.Equal(t, int64(2*edgeRows), l.Start(0))
	_, _, err = l.ReadAt(0, 2*edgeRows-1, nil)
	var oor *OffsetOutOfRangeError
	assert.ErrorAs(t, err, &oor, "a released offset")
	l.err.Store(nil) // the failed read failed the log; the rest of the test reads what it holds
	var row dataflow.Row
	for off := int64(2 * edgeRows); off < 3*edgeRows+1; off++ {
		var ing int64
		row, ing, err = l.ReadAt(0, off, row)
		require.NoError(t, err)
		w, wing := want(off)
		require.Equal(t, rowBits(w), rowBits(row))
		require.Equal(t, wing, ing)
	}
	var forms []bool
	l.Chunks(0, l.Start(0), l.End(0), func(c *Chunk, lo, hi int) bool { forms = append(forms, c.Sealed()); return true })
	assert.Equal(t, []bool{true, false}, forms, "the kept full chunk is sealed, the new one open")
	assert.Less(t, l.Bytes(), held, "two chunks released")
}

// TestYSBBytesPerEvent: a pre-filled log of a million built-in YSB events
// takes at most 16 bytes an event (issue 16), counting the chunks it holds.
func TestYSBBytesPerEvent(t *testing.T) {
	l, _, err := Generate(context.Background(), "ysb", Config{Events: 1e6, Seed: 1})
	require.NoError(t, err)
	require.Equal(t, int64(1e6), l.Len())
	perEvent := float64(l.Bytes()) / float64(l.Len())
	assert.LessOrEqual(t, perEvent, 16.0, "bytes per YSB event")
	t.Logf("ysb: %.2f bytes an event (wide: %d)", perEvent, RowBytes(ysbGen{}))
}
