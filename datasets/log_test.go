package datasets

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
)

func testSchema() dataflow.Schema {
	return schemaOf(i64("n"), f64("x"), str("s"), tstamp("t"), dataflow.Field{Name: "b", Kind: dataflow.KindBool})
}

func testRow(i int64) dataflow.Row {
	return dataflow.Row{dataflow.Int(i), dataflow.Float(float64(i) / 2), dataflow.Str(string(rune('a' + i%26))), dataflow.Timestamp(dataflow.Time(1000 + i)), dataflow.Bool(i%2 == 0)}
}

func newTestLog(t *testing.T, parts, chunk int) (*Log, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(time.Unix(0, 1e15))
	l, err := NewLog(LogConfig{Schema: testSchema(), Partitions: parts, ChunkRows: chunk, Clock: clk})
	require.NoError(t, err)
	return l, clk
}

// filledTestLog returns a one-partition log of chunk-row chunks holding
// testRow(0) to testRow(n-1), flushed (published, not closed).
func filledTestLog(t *testing.T, chunk int, n int64) *Log {
	t.Helper()
	l, _ := newTestLog(t, 1, chunk)
	a := l.Appender()
	for i := range n {
		a.AppendRow(0, 0, testRow(i))
	}
	require.NoError(t, a.Flush())
	return l
}

func TestLogAppendFlushVisibility(t *testing.T) {
	l, _ := newTestLog(t, 2, 4)
	a := l.Appender()
	a.AppendRow(0, 0, testRow(0))
	a.AppendRow(1, 0, testRow(1))
	assert.Equal(t, int64(0), l.End(0), "End before Flush")
	assert.Equal(t, int64(0), l.Len())
	require.NoError(t, a.Flush())
	assert.Equal(t, int64(1), l.End(0))
	assert.Equal(t, int64(1), l.End(1))
	row, ing := l.Read(1, 0, nil)
	assert.Equal(t, testRow(1), row)
	assert.Positive(t, ing)
	l.Close()
	assert.ErrorIs(t, a.Flush(), ErrLogClosed)
}

func TestLogAcrossChunks(t *testing.T) {
	l := filledTestLog(t, 3, 10)
	// Read, Records and replay from any offset.
	for from := int64(0); from < 10; from++ {
		want := from
		for r := range l.Records(0, from) {
			assert.Equal(t, want, r.Offset)
			assert.Equal(t, testRow(want), r.Row, "Records(0, %d) at %d", from, want)
			want++
		}
		assert.Equal(t, int64(10), want)
	}
	// Chunks covers [2, 9) in chunk pieces.
	var got []int64
	l.Chunks(0, 2, 9, func(c *Chunk, lo, hi int) bool {
		assert.LessOrEqual(t, hi, 3)
		for i := lo; i < hi; i++ {
			got = append(got, c.Int(0, i))
		}
		return true
	})
	assert.Equal(t, []int64{2, 3, 4, 5, 6, 7, 8}, got)
	// Early stop.
	calls := 0
	l.Chunks(0, 0, 10, func(*Chunk, int, int) bool { calls++; return false })
	assert.Equal(t, 1, calls)
	n := 0
	for range l.All() {
		n++
	}
	assert.Equal(t, 10, n)
}

func TestLogWaitChangedClose(t *testing.T) {
	l, _ := newTestLog(t, 2, 4)
	a := l.Appender()
	ctx := context.Background()

	ch := l.Changed()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Go(func() { errs <- l.Wait(ctx, 0, 2) }) // needs 3 records in partition 0
	wg.Go(func() { errs <- l.Wait(ctx, 1, 0) }) // never gets one: EOF at Close
	for i := range int64(3) {
		a.AppendRow(0, 0, testRow(i))
	}
	require.NoError(t, a.Flush())
	<-ch // closed by the flush
	assert.NoError(t, <-errs)
	l.Close()
	assert.ErrorIs(t, <-errs, io.EOF)
	wg.Wait()
	assert.True(t, l.Closed())
	l.Close() // idempotent

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	l2, _ := newTestLog(t, 1, 4)
	assert.ErrorIs(t, l2.Wait(cctx, 0, 0), context.Canceled)
}

func TestLogConcurrentReadersRace(t *testing.T) {
	l, _ := newTestLog(t, 2, 16)
	a := l.Appender()
	ctx := context.Background()
	var wg sync.WaitGroup
	for p := range 2 {
		wg.Go(func() {
			var row dataflow.Row
			var off int64
			for {
				if err := l.Wait(ctx, p, off); err != nil {
					assert.ErrorIs(t, err, io.EOF)
					return
				}
				for ; off < l.End(p); off++ {
					row, _ = l.Read(p, off, row)
					// Dictionary reads race with the writer's interning.
					_ = l.Dict(2).Values(nil)
					if !assert.Equal(t, dataflow.Int(off*2+int64(p)), row[0]) {
						return
					}
				}
			}
		})
	}
	for i := range int64(500) {
		r := testRow(i)
		r[2] = dataflow.Str(string(rune(0x100 + i))) // a new string each time
		a.AppendRow(int(i%2), 0, r)
		if i%7 == 0 {
			require.NoError(t, a.Flush())
		}
	}
	require.NoError(t, a.Flush())
	l.Close()
	wg.Wait()
	assert.Equal(t, 500, l.Dict(2).Len(), "dict holds each new string once")
}

func TestDictConcurrency(t *testing.T) {
	d := NewDict()
	const n = 3 * (1 << dictBlockBits) // several blocks
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			k := d.Len()
			vals := d.Values(nil)
			assert.GreaterOrEqual(t, len(vals), k)
			for c := range k {
				if d.Get(int32(c)) != vals[c] {
					t.Errorf("Get(%d) = %q, Values has %q", c, d.Get(int32(c)), vals[c])
					return
				}
			}
		}
	})
	for i := range n {
		s := time.Duration(i).String()
		assert.Equal(t, int32(i), d.Intern(s))
		assert.Equal(t, int32(i), d.Intern(s), "Intern twice")
	}
	close(done)
	wg.Wait()
	assert.Equal(t, n, d.Len())
}

func TestOffsetAtIngest(t *testing.T) {
	l, _ := newTestLog(t, 1, 4)
	a := l.Appender()
	ingest := []int64{10, 10, 20, 30, 30, 30, 40, 50, 60}
	for i, ns := range ingest {
		a.AppendRow(0, ns, testRow(int64(i)))
	}
	require.NoError(t, a.Flush())
	for _, tc := range []struct {
		ns   int64
		want int64
	}{{0, 0}, {10, 0}, {11, 2}, {20, 2}, {30, 3}, {31, 6}, {60, 8}, {61, 9}} {
		assert.Equal(t, tc.want, l.OffsetAtIngest(0, tc.ns), "OffsetAtIngest(%d)", tc.ns)
	}
	empty, _ := newTestLog(t, 1, 4)
	assert.Equal(t, int64(0), empty.OffsetAtIngest(0, 5))

	// IngestAt reads one record's ingest time, across chunk boundaries
	// (4 rows a chunk); the Arrow view answers both as microbatch.Source
	// asks: the search never goes below from.
	src := NewArrowSource(l)
	defer src.Release()
	for off, ns := range ingest {
		assert.Equal(t, ns, l.IngestAt(0, int64(off)), "IngestAt(0, %d)", off)
		assert.Equal(t, ns, src.IngestAt(0, int64(off)), "ArrowSource.IngestAt(0, %d)", off)
	}
	for _, tc := range []struct {
		from, ns, want int64
	}{{0, 30, 3}, {4, 30, 4}, {5, 11, 5}, {2, 61, 9}, {9, 0, 9}} {
		assert.Equal(t, tc.want, src.OffsetAtIngest(0, tc.from, tc.ns), "ArrowSource.OffsetAtIngest(0, %d, %d)", tc.from, tc.ns)
	}
}

func TestNewLogErrors(t *testing.T) {
	_, err := NewLog(LogConfig{})
	assert.NoError(t, err, "an empty schema is valid")
	_, err = NewLog(LogConfig{Schema: schemaOf(i64("a"), i64("a"))})
	assert.ErrorContains(t, err, "two fields")
	_, err = NewLog(LogConfig{Schema: testSchema(), Partitions: -1})
	assert.ErrorContains(t, err, "negative")
}
