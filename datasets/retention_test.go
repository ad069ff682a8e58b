package datasets

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
)

func newRetainingTestLog(t *testing.T, parts, chunk int, ret Retention) *Log {
	t.Helper()
	l, err := NewLog(LogConfig{Schema: testSchema(), Partitions: parts, ChunkRows: chunk, Clock: clock.NewManual(time.Unix(0, 1e15)), Retention: ret})
	require.NoError(t, err)
	return l
}

// appendN appends n records to partition p (values from their offsets)
// with ingest times from ingest, 1 ms apart, flushing each.
func appendN(t *testing.T, l *Log, a *Appender, p int, n int, ingest int64) {
	t.Helper()
	for range n {
		off := l.parts[p].size
		a.AppendRow(p, ingest+off*1e6, testRow(off))
		require.NoError(t, a.Flush())
	}
}

func TestRetentionZeroKeepsEverything(t *testing.T) {
	l := newRetainingTestLog(t, 1, 4, Retention{})
	c, err := l.NewConsumer("reader")
	require.NoError(t, err)
	a := l.Appender()
	appendN(t, l, a, 0, 10, 1)
	require.NoError(t, c.Retain(0, 10))
	appendN(t, l, a, 0, 10, 1)
	assert.Zero(t, l.Start(0), "the zero retention releases nothing whatever consumers say")
	assert.False(t, l.Released())
	assert.Equal(t, int64(20), l.Held())
	row, _, err := l.ReadAt(0, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, testRow(0), row)
}

func TestRetentionBelowEveryConsumer(t *testing.T) {
	l := newRetainingTestLog(t, 2, 4, Retention{Consumers: true})
	a := l.Appender()
	appendN(t, l, a, 0, 12, 1) // chunks [0,4) [4,8) [8,12)
	assert.Zero(t, l.Start(0), "no consumer registered: the consumer rule releases nothing")
	appendN(t, l, a, 0, 4, 1)
	assert.Zero(t, l.Start(0))

	fast, err := l.NewConsumer("fast")
	require.NoError(t, err)
	slow, err := l.NewConsumer("slow")
	require.NoError(t, err)
	_, err = l.NewConsumer("fast")
	assert.ErrorIs(t, err, ErrConsumerExists)

	require.NoError(t, fast.Retain(0, 16))
	require.NoError(t, slow.Retain(0, 9))
	require.NoError(t, fast.Retain(0, 3), "a lower position is ignored")
	assert.Equal(t, int64(16), fast.Position(0))
	appendN(t, l, a, 0, 1, 1) // starts chunk [16,20): releases below min(16, 9) = 9, whole chunks: below 8
	assert.Equal(t, int64(8), l.Start(0), "released the chunks below the slowest consumer")
	assert.Zero(t, l.Start(1), "partitions are retained separately")
	assert.True(t, l.Released())
	assert.Equal(t, int64(17)-8, l.End(0)-l.Start(0))

	// Records at and above Start still read; below is out of range.
	row, _, err := l.ReadAt(0, 8, nil)
	require.NoError(t, err)
	assert.Equal(t, testRow(8), row)
	require.NoError(t, l.Err(), "nothing failed yet")
	require.NoError(t, l.CheckRange(0, 8, 17))
	var oor *OffsetOutOfRangeError
	require.ErrorAs(t, l.CheckRange(0, 7, 9), &oor)
	assert.Equal(t, int64(7), oor.Offset)
	require.NoError(t, l.Err(), "CheckRange does not fail the log")

	_, _, err = l.ReadAt(0, 5, nil)
	require.ErrorAs(t, err, &oor)
	assert.Equal(t, OffsetOutOfRangeError{Partition: 0, Offset: 5, Start: 8, End: 17, Retention: Retention{Consumers: true}}, *oor)
	assert.Contains(t, err.Error(), "offset 5 of log partition 0 is out of range")
	assert.Contains(t, err.Error(), "released the offsets below 8")

	// Closing the slow consumer lets the fast one decide.
	slow.Close()
	assert.Error(t, slow.Retain(0, 12), "a closed consumer reports nothing")
	appendN(t, l, a, 0, 4, 1) // starts chunk [20,24)
	assert.Equal(t, int64(16), l.Start(0))
}

// A read of a released offset through the methods without an error result
// fails the log: Err names it, Wait returns it (waking waiters), and the
// row is zero values of the schema's kinds, never a stale record.
func TestReleasedReadFailsTheLog(t *testing.T) {
	l := newRetainingTestLog(t, 1, 4, Retention{Consumers: true})
	c, err := l.NewConsumer("c")
	require.NoError(t, err)
	a := l.Appender()
	appendN(t, l, a, 0, 8, 1)
	require.NoError(t, c.Retain(0, 8))
	appendN(t, l, a, 0, 1, 1)
	require.Equal(t, int64(8), l.Start(0))

	waiting := make(chan error, 1)
	go func() { waiting <- l.Wait(context.Background(), 0, 100) }()

	row, ing := l.Read(0, 2, testRow(99))
	assert.Zero(t, ing)
	for i, f := range testSchema().Fields {
		assert.Equal(t, dataflow.Value{K: f.Kind}, row[i], "column %d", i)
	}
	var oor *OffsetOutOfRangeError
	require.ErrorAs(t, l.Err(), &oor)
	assert.Equal(t, int64(2), oor.Offset)
	require.ErrorAs(t, <-waiting, &oor, "a waiter wakes with the error")
	require.ErrorAs(t, l.Wait(context.Background(), 0, 8), &oor, "every Wait returns it afterwards")

	// The first failure is the one reported.
	_ = l.IngestAt(0, 1)
	require.ErrorAs(t, l.Err(), &oor)
	assert.Equal(t, int64(2), oor.Offset)
}

func TestReleasedChunksAndRecords(t *testing.T) {
	for name, read := range map[string]func(l *Log){
		"Chunks": func(l *Log) {
			l.Chunks(0, 1, 9, func(*Chunk, int, int) bool { panic("no chunk of a released range is passed") })
		},
		"Records": func(l *Log) {
			for range l.Records(0, 0) {
				panic("no released record is yielded")
			}
		},
		"ReadColumns": func(l *Log) {
			row, ing := l.ReadColumns(0, 0, []int{0, 2}, testRow(5))
			if ing != 0 || row[0] != (dataflow.Value{K: dataflow.KindInt64}) || row[2] != (dataflow.Value{K: dataflow.KindString}) || row[1] != testRow(5)[1] {
				panic("ReadColumns of a released offset must zero its columns only")
			}
		},
		"IngestAt": func(l *Log) {
			if l.IngestAt(0, 3) != 0 {
				panic("IngestAt of a released offset gives 0")
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			l := newRetainingTestLog(t, 1, 4, Retention{Consumers: true})
			c, err := l.NewConsumer("c")
			require.NoError(t, err)
			a := l.Appender()
			appendN(t, l, a, 0, 8, 1)
			require.NoError(t, c.Retain(0, 8))
			appendN(t, l, a, 0, 4, 1)
			read(l)
			var oor *OffsetOutOfRangeError
			require.ErrorAs(t, l.Err(), &oor)
		})
	}
}

// The age rule (Kafka's retention.ms) releases what is older than MaxAge
// behind the newest record, even below a consumer that has not moved.
func TestRetentionMaxAge(t *testing.T) {
	l := newRetainingTestLog(t, 1, 4, Retention{Consumers: true, MaxAge: 10 * time.Millisecond})
	c, err := l.NewConsumer("stuck")
	require.NoError(t, err)
	a := l.Appender()
	appendN(t, l, a, 0, 32, 1) // ingest 1 ms apart: offset k at k ms
	// At the start of chunk [28, 32) the newest is 28 ms: chunks whose last
	// record is older than 18 ms are gone ([0,4) .. [12,16), last at 15 ms).
	assert.Equal(t, int64(16), l.Start(0))
	assert.Zero(t, c.Position(0))
	require.NoError(t, l.CheckRange(0, 16, 32))
	// The offset an ingest time maps to is one the log holds.
	assert.Equal(t, int64(16), l.OffsetAtIngest(0, 0))
	assert.Equal(t, int64(20), l.OffsetAtIngest(0, 1+20e6))

	_, err = NewLog(LogConfig{Schema: testSchema(), Retention: Retention{MaxAge: -time.Second}})
	assert.ErrorContains(t, err, "must not be negative")
}

func TestConsumerRetainErrors(t *testing.T) {
	l := newRetainingTestLog(t, 2, 4, Retention{Consumers: true})
	c, err := l.NewConsumer("c")
	require.NoError(t, err)
	assert.ErrorContains(t, c.Retain(2, 0), "partition 2 of a log of 2 partitions")
	assert.ErrorContains(t, c.Retain(0, 1), "past its end 0")
	assert.ErrorContains(t, l.Retain("nobody", 0, 0), `no log consumer "nobody"`)
	appendN(t, l, l.Appender(), 1, 3, 1)
	require.NoError(t, l.Retain("c", 1, 3))
	assert.Equal(t, int64(3), c.Position(1))
	assert.Same(t, c, l.Consumer("c"))
	c.Close()
	assert.Nil(t, l.Consumer("c"))
}

// Readers follow a log that releases behind them, reporting their
// positions, while the appender runs: run with -race. Every record a
// reader reads is the one at its offset.
func TestRetentionConcurrentReaders(t *testing.T) {
	const total = 20_000
	l := newRetainingTestLog(t, 2, 64, Retention{Consumers: true})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for r := range 2 {
		c, err := l.NewConsumer(string(rune('a' + r)))
		require.NoError(t, err)
		wg.Go(func() {
			var row dataflow.Row
			off := int64(0)
			for {
				if err := l.Wait(context.Background(), r, off); err != nil {
					if !errors.Is(err, io.EOF) {
						errs <- err
					}
					return
				}
				for end := l.End(r); off < end; off++ {
					var err error
					if row, _, err = l.ReadAt(r, off, row); err != nil {
						errs <- err
						return
					}
					if row[0].I != off {
						errs <- errors.New("read another record than the offset's")
						return
					}
				}
				if err := c.Retain(r, off); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	a := l.Appender()
	for i := range total {
		p := i % 2
		a.AppendRow(p, int64(i+1), testRow(l.parts[p].size))
		if i%100 == 99 {
			require.NoError(t, a.Flush())
		}
	}
	require.NoError(t, a.Flush())
	l.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.NoError(t, l.Err())
	assert.Equal(t, int64(total), l.Len())
}

func TestPublishedIsOneFlush(t *testing.T) {
	l := newRetainingTestLog(t, 3, 4, Retention{})
	assert.Equal(t, []int64{0, 0, 0}, l.Published(nil))
	a := l.Appender()
	a.AppendRow(0, 1, testRow(0))
	a.AppendRow(2, 1, testRow(0))
	assert.Equal(t, []int64{0, 0, 0}, l.Published(nil), "committed, not flushed")
	require.NoError(t, a.Flush())
	assert.Equal(t, []int64{1, 0, 1}, l.Published(make([]int64, 7)))
}

// An unbounded paced fill generates as the pacing needs and no more, ends
// at For with rate × For events, and with an age retention holds a bounded
// number of records however long it runs (fake time).
func TestFillUnboundedBoundedMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rate = 5000
		ret := Retention{Consumers: true, MaxAge: 2 * time.Second}
		l, err := NewLog(LogConfig{Schema: ysbGen{}.Schema(), Partitions: 2, ChunkRows: 1024, Retention: ret})
		require.NoError(t, err)
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			done <- Fill(t.Context(), ysbGen{}, l, Config{Partitions: 2, EventRate: rate, InOrder: true}, Pacing{Rate: rate, Unbounded: true, For: 2 * time.Minute})
		}()
		var heldMax int64
		for range 11 {
			time.Sleep(10 * time.Second)
			synctest.Wait()
			el := time.Since(start)
			// Nothing generated ahead: what is due by now, within a
			// millisecond's worth.
			assert.InDelta(t, rate*el.Seconds(), float64(l.Len()), rate/1000+2, "events at %v", el)
			heldMax = max(heldMax, l.Held())
		}
		require.NoError(t, <-done)
		assert.True(t, l.Closed())
		assert.Equal(t, int64(rate*120), l.Len(), "rate × For events")
		// 2 s of records plus up to one chunk per partition being filled
		// and one more not yet past the age.
		assert.LessOrEqual(t, heldMax, int64(rate*2+2*2*1024))
		assert.True(t, l.Released())
	})
}

// An unbounded fill with no For ends, closing the log, when its context is
// done: the stream's end, not an error.
func TestFillUnboundedUntilCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := NewLogFor(ysbGen{}, Config{Partitions: 1})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- Fill(ctx, ysbGen{}, l, Config{Partitions: 1, EventRate: 100}, Pacing{Rate: 100, Unbounded: true})
		}()
		time.Sleep(3 * time.Second)
		cancel()
		require.NoError(t, <-done)
		assert.True(t, l.Closed())
		assert.InDelta(t, 300, l.Len(), 3)
	})
}

func TestUnboundedRefusals(t *testing.T) {
	l, err := NewLogFor(hashtagsGen{}, Config{})
	require.NoError(t, err)
	err = Fill(t.Context(), hashtagsGen{}, l, Config{}, Pacing{Rate: 10, Unbounded: true})
	assert.ErrorContains(t, err, "hashtags cannot stream in bounded memory")
	assert.NoError(t, StreamsInBoundedMemory("ysb"))
	assert.ErrorContains(t, StreamsInBoundedMemory("nexmark"), "dictionaries")
	assert.ErrorContains(t, StreamsInBoundedMemory("nope"), "no dataset")
	for _, p := range []Pacing{{Unbounded: true}, {Rate: 1, For: time.Second}, {Rate: 1, Unbounded: true, For: -1}} {
		assert.Error(t, p.Validate(), "%+v", p)
	}
}

// An ArrowSource reports its job's positions through the consumer it was
// given (none: Retain does nothing), and a read of released offsets is the
// log's out-of-range error, not a batch of zero rows.
func TestArrowSourceRetainsAndRefusesReleased(t *testing.T) {
	l := newRetainingTestLog(t, 1, 4, Retention{Consumers: true})
	c, err := l.NewConsumer("job")
	require.NoError(t, err)
	a := l.Appender()
	appendN(t, l, a, 0, 8, 1)

	s := NewArrowSource(l)
	defer s.Release()
	require.NoError(t, s.Retain(0, 8), "no consumer given: nothing reported")
	assert.Zero(t, c.Position(0))
	s.Consume(c)
	require.NoError(t, s.Retain(0, 8))
	assert.Equal(t, int64(8), c.Position(0))
	appendN(t, l, a, 0, 1, 1) // starts chunk [8,12): releases [0,8)
	require.Equal(t, int64(8), l.Start(0))

	recs, err := s.Read(0, 8, 9, memory.DefaultAllocator, 0)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, int64(1), recs[0].NumRows())
	recs[0].Release()
	_, err = s.Read(0, 6, 9, memory.DefaultAllocator, 0)
	var oor *OffsetOutOfRangeError
	require.ErrorAs(t, err, &oor)
	assert.Equal(t, int64(6), oor.Offset)
}
