package datasets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/invariants"
)

// LogConfig configures a [Log]. The zero value of each field but Schema is a
// valid default.
type LogConfig struct {
	// Schema of the records. Required.
	Schema dataflow.Schema
	// Partitions is the number of partitions (default 4).
	Partitions int
	// ChunkRows is the number of records per storage chunk (default 65536).
	// Chunks are the unit of columnar reads; see [Log.Chunks].
	ChunkRows int
	// Clock stamps ingest times (records appended without one, and
	// [Log.Now]). Nil: [clock.Real]; tests pass a *clock.Manual or run
	// under testing/synctest.
	Clock clock.Clock
	// Retention says which chunks the log may release (see [Retention]).
	// The zero value keeps every record for the life of the log, as a
	// pre-filled or --events run needs for its reference answer.
	Retention Retention
}

// Log is a partitioned, offset-addressed, append-only log of records: the
// replayable source both runtimes read, as they would read Kafka. Each
// partition's records have offsets 0, 1, 2, ...; an appended record is
// visible to readers once flushed, and stays readable at its offset until
// the log's [Retention] releases its chunk (by default never), so any
// retained range can be read again (replay). Reading below what the log
// still holds ([Log.Start]) is an *[OffsetOutOfRangeError], as Kafka's
// OFFSET_OUT_OF_RANGE; see [Log.Err] for the reads whose signature has no
// error.
//
// Storage is columnar: each partition is a list of fixed-size [Chunk]s
// holding one column per schema column (int64, timestamp and bool values,
// float64s, and for strings int32 codes into one [Dict] per string column
// shared by all partitions) and the ingest times. The chunk being appended
// is wide (8 bytes a value, 4 a code); a complete chunk is sealed into a
// compact copy (frame of reference and the narrowest width that holds the
// chunk's range, see [Chunk]) when the appender moves on to the next one,
// and every chunk is sealed when the log is closed, so a pre-filled log
// takes about 15 bytes a YSB record ([Log.Bytes]). Microbatch reads chunk
// ranges as columns ([Log.Chunks]); recordstream reads record by record
// ([Log.Read]).
//
// Concurrency: one goroutine appends ([Log.Appender]); any number read.
// Reads of flushed offsets take no lock.
type Log struct {
	schema    dataflow.Schema
	chunkRows int
	clk       clock.Clock
	parts     []*partition
	dicts     []*Dict // per column; nil for non-string columns

	mu     sync.Mutex
	notify chan struct{} // closed and replaced on every flush and on Close
	// chunkMu orders the replacements of chunk lists: the appender's
	// (addChunk) and Close's sealing of the open chunks.
	chunkMu sync.Mutex
	closed  atomic.Bool
	// closedAt is the clock's reading (ns) when Close first ran.
	closedAt atomic.Int64

	eventTimeShift atomic.Int64 // ms; see EventTimeShift

	ret       Retention
	consumers atomic.Pointer[[]*Consumer] // registered consumers (copy on write under mu)
	published atomic.Pointer[[]int64]     // every partition's End at the last flush
	err       atomic.Pointer[error]       // first failed read; see Err

	pool bufPool // buffers of ArrowSource's widened columns
}

// EventTimeShift returns the offset in ms that maps the dataset's event-time
// timeline onto the wall clock of the run: an on-time event with event time t
// was generated at wall time t + shift. The filler sets it when it starts
// (the ingest time of the first record minus its event time), so event-time
// latency (emit time minus the largest contributing event time plus shift)
// is the delay since the event was generated (Karimov et al.).
func (l *Log) EventTimeShift() int64 { return l.eventTimeShift.Load() }

// SetEventTimeShift sets [Log.EventTimeShift].
func (l *Log) SetEventTimeShift(ms int64) { l.eventTimeShift.Store(ms) }

type partition struct {
	// chunks is replaced (copy on write) when a chunk is added, sealed or
	// released, so readers load it without a lock; a reader holding an old
	// list keeps valid chunks (a wide chunk is never written again once
	// its sealed copy replaces it).
	chunks atomic.Pointer[chunkList]
	open   *Chunk       // the wide chunk being appended (appender only)
	end    atomic.Int64 // published end offset (exclusive)
	size   int64        // appended, maybe unpublished (appender only)
}

// chunkList is a partition's retained chunks: cs[i] is chunk number
// first+i, holding offsets [(first+i)*ChunkRows, (first+i+1)*ChunkRows).
// Chunks below first were released.
type chunkList struct {
	first int64
	cs    []*Chunk
}

// NewLog returns an empty log.
func NewLog(cfg LogConfig) (*Log, error) {
	if err := cfg.Schema.Validate(); err != nil {
		return nil, fmt.Errorf("datasets: log schema: %w", err)
	}
	if cfg.Partitions < 0 || cfg.ChunkRows < 0 {
		return nil, fmt.Errorf("datasets: log partitions (%d) and chunk rows (%d) must not be negative", cfg.Partitions, cfg.ChunkRows)
	}
	if cfg.Partitions > MaxPartitions {
		return nil, fmt.Errorf("datasets: %d log partitions are more than the %d a log may have; use 1 to %d", cfg.Partitions, MaxPartitions, MaxPartitions)
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = 4
	}
	if cfg.ChunkRows == 0 {
		cfg.ChunkRows = 1 << 16
	}
	if err := cfg.Retention.Validate(); err != nil {
		return nil, err
	}
	l := &Log{schema: cfg.Schema, chunkRows: cfg.ChunkRows, clk: clock.OrReal(cfg.Clock), notify: make(chan struct{}), ret: cfg.Retention}
	l.parts = make([]*partition, cfg.Partitions)
	for i := range l.parts {
		l.parts[i] = &partition{}
		l.parts[i].chunks.Store(&chunkList{})
	}
	l.consumers.Store(&[]*Consumer{})
	l.published.Store(&[]int64{})
	l.dicts = make([]*Dict, cfg.Schema.Len())
	for i, f := range cfg.Schema.Fields {
		if f.Kind == dataflow.KindString {
			l.dicts[i] = NewDict()
		}
	}
	return l, nil
}

// Schema returns the records' schema.
func (l *Log) Schema() dataflow.Schema { return l.schema }

// Partitions returns the number of partitions.
func (l *Log) Partitions() int { return len(l.parts) }

// ChunkRows returns the number of records per chunk.
func (l *Log) ChunkRows() int { return l.chunkRows }

// Dict returns the dictionary of string column col (nil for other columns).
func (l *Log) Dict(col int) *Dict { return l.dicts[col] }

// Now returns the log's clock reading in ns, the clock ingest times come from.
func (l *Log) Now() int64 { return l.clk.Now().UnixNano() }

// End returns partition p's end offset: records [Start, End) are readable.
func (l *Log) End(p int) int64 { return l.parts[p].end.Load() }

// Len returns the number of records flushed to all partitions, released
// ones included.
func (l *Log) Len() int64 {
	var n int64
	for p := range l.parts {
		n += l.End(p)
	}
	return n
}

// Close marks the log complete: no more appends. Readers waiting for data get
// io.EOF. Close publishes nothing; flush first.
func (l *Log) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Swap(true) {
		return
	}
	l.closedAt.Store(l.Now())
	l.sealOpen()
	close(l.notify)
}

// sealOpen seals every partition's open chunk to its published rows: the
// log is complete, so what is not published never will be.
func (l *Log) sealOpen() {
	l.chunkMu.Lock()
	defer l.chunkMu.Unlock()
	for _, part := range l.parts {
		cl := part.chunks.Load()
		if len(cl.cs) == 0 {
			continue
		}
		last := cl.cs[len(cl.cs)-1]
		if last.sealed {
			continue
		}
		n := int(max(0, min(part.end.Load()-last.Base, int64(last.n))))
		next := &chunkList{first: cl.first, cs: append(cl.cs[:len(cl.cs)-1:len(cl.cs)-1], last.seal(n))}
		part.chunks.Store(next)
	}
}

// Bytes returns the bytes the log's chunks hold now: the sealed chunks'
// compact columns and the open chunks' wide ones (whole chunks of
// ChunkRows rows), without the dictionaries. A reader holding a chunk the
// log has since sealed or released keeps it alive beyond this count.
func (l *Log) Bytes() int64 {
	var n int64
	for _, part := range l.parts {
		for _, c := range part.chunks.Load().cs {
			n += c.Bytes()
		}
	}
	return n
}

// Closed reports whether the log is complete.
func (l *Log) Closed() bool { return l.closed.Load() }

// ClosedAt returns the log clock's reading (ns since the epoch) when the log
// was closed, or 0 while it is open: with a paced fill, when the filler
// appended its last record, however far its stamps lag behind.
func (l *Log) ClosedAt() int64 {
	if !l.closed.Load() {
		return 0
	}
	return l.closedAt.Load()
}

// Wait blocks until partition p has a record at offset off (End(p) > off),
// and returns nil; or until the log is closed with no such record (io.EOF),
// or ctx is done (ctx.Err()). An offset the log no longer holds (below
// [Log.Start]) is an *[OffsetOutOfRangeError] at once, and once a read has
// failed ([Log.Err]) every Wait returns that error.
func (l *Log) Wait(ctx context.Context, p int, off int64) error {
	for {
		l.mu.Lock()
		ch := l.notify
		l.mu.Unlock()
		if err := l.Err(); err != nil {
			return err
		}
		if start := l.Start(p); off < start {
			return l.outOfRange(p, off)
		}
		if l.End(p) > off {
			return nil
		}
		if l.closed.Load() {
			return io.EOF
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Changed returns a channel closed at the next flush or at Close, for readers
// that wait on several partitions at once.
func (l *Log) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.notify
}

// chunk returns the chunk holding offset off of partition p, or nil when
// the log has released it (or has not made it yet).
func (l *Log) chunk(p int, off int64) *Chunk {
	cl := l.parts[p].chunks.Load()
	i := off/int64(l.chunkRows) - cl.first
	if off < 0 || i < 0 || i >= int64(len(cl.cs)) {
		return nil
	}
	c := cl.cs[i]
	if invariants.Enabled && (off < c.Base || off >= c.Base+int64(l.chunkRows)) {
		invariants.Assertf(false, "log: offset %d of partition %d is not in its chunk [%d, %d)", off, p, c.Base, c.Base+int64(l.chunkRows))
	}
	return c
}

// Read returns the record at offset off of partition p in dst (resized to
// the schema; pass the previous row back in to avoid allocation) and its
// ingest time in ns. off must be in [Start(p), End(p)). String values point
// into the log's dictionaries and stay valid for the life of the log.
//
// Read has no error result: a read of an offset the log has released
// fails the log instead ([Log.Err] returns the *[OffsetOutOfRangeError],
// every [Log.Wait] returns it, waiters wake) and returns a row of zero
// values of the schema's kinds with ingest time 0. Readers that can act on
// the error at the read call [Log.ReadAt].
func (l *Log) Read(p int, off int64, dst dataflow.Row) (dataflow.Row, int64) {
	dst, ing, _ := l.ReadAt(p, off, dst)
	return dst, ing
}

// ReadAt is [Log.Read] with the error: an *[OffsetOutOfRangeError] for an
// offset below [Log.Start] (or at or past End), which also fails the log.
func (l *Log) ReadAt(p int, off int64, dst dataflow.Row) (dataflow.Row, int64, error) {
	n := l.schema.Len()
	if cap(dst) < n {
		dst = make(dataflow.Row, n)
	}
	dst = dst[:n]
	c := l.chunk(p, off)
	if c == nil || off >= l.End(p) {
		for col, f := range l.schema.Fields {
			dst[col] = dataflow.Value{K: f.Kind}
		}
		return dst, 0, l.fail(p, off)
	}
	i := int(off - c.Base)
	for col, f := range l.schema.Fields {
		switch f.Kind {
		case dataflow.KindFloat64:
			dst[col] = dataflow.Float(c.Float(col, i))
		case dataflow.KindString:
			dst[col] = dataflow.Value{K: dataflow.KindString, S: l.dicts[col].Get(c.Code(col, i))}
		default:
			dst[col] = dataflow.Value{K: f.Kind, I: c.Int(col, i)}
		}
	}
	return dst, c.IngestAt(i), nil
}

// ReadColumns is [Log.Read] for the columns at positions cols only: the
// other values of dst are left as they are. A reader that needs few of a
// record's columns (a spout whose pipeline uses three of seven) reads only
// those, as a columnar log lets it.
//
// An offset the log no longer holds fails the log as [Log.Read] does, and
// sets the columns cols to zero values.
func (l *Log) ReadColumns(p int, off int64, cols []int, dst dataflow.Row) (dataflow.Row, int64) {
	if n := l.schema.Len(); len(dst) < n {
		if cap(dst) < n {
			dst = make(dataflow.Row, n)
		}
		dst = dst[:n]
	}
	c := l.chunk(p, off)
	if c == nil || off >= l.End(p) {
		for _, col := range cols {
			dst[col] = dataflow.Value{K: l.schema.Fields[col].Kind}
		}
		_ = l.fail(p, off)
		return dst, 0
	}
	i := int(off - c.Base)
	for _, col := range cols {
		switch k := l.schema.Fields[col].Kind; k {
		case dataflow.KindFloat64:
			dst[col] = dataflow.Float(c.Float(col, i))
		case dataflow.KindString:
			dst[col] = dataflow.Value{K: dataflow.KindString, S: l.dicts[col].Get(c.Code(col, i))}
		default:
			dst[col] = dataflow.Value{K: k, I: c.Int(col, i)}
		}
	}
	return dst, c.IngestAt(i)
}

// Chunks calls fn for each chunk overlapping offsets [from, to) of partition
// p, with the row range [lo, hi) of that chunk inside the range, until fn
// returns false. to must not exceed End(p). The chunk is shared and
// read-only; it may be open or sealed ([Chunk]), and a range may see both
// (a chunk sealed between two calls of fn). A range reaching below what the log still holds fails the log
// ([Log.Err]) and calls fn for none of it; check it first with
// [Log.CheckRange] to get the error.
func (l *Log) Chunks(p int, from, to int64, fn func(c *Chunk, lo, hi int) bool) {
	if from < 0 || to > l.End(p) || from > to {
		panic(fmt.Sprintf("datasets: Chunks(%d, %d, %d) outside [0, %d)", p, from, to, l.End(p)))
	}
	if from < to && from < l.Start(p) {
		_ = l.fail(p, from)
		return
	}
	cr := int64(l.chunkRows)
	for off := from; off < to; {
		c := l.chunk(p, off)
		if c == nil { // released under the reader
			_ = l.fail(p, off)
			return
		}
		lo := off - c.Base
		hi := min(to-c.Base, cr)
		if !fn(c, int(lo), int(hi)) {
			return
		}
		off = c.Base + hi
	}
}

// Records iterates over the readable records of partition p from offset
// from, in offset order. The yielded Row is reused between iterations. A
// record the log no longer holds ends the iteration and fails the log
// ([Log.Err]).
func (l *Log) Records(p int, from int64) iter.Seq[dataflow.Record] {
	return func(yield func(dataflow.Record) bool) {
		var row dataflow.Row
		end := l.End(p)
		for off := from; off < end; off++ {
			var ing int64
			var err error
			if row, ing, err = l.ReadAt(p, off, row); err != nil {
				return
			}
			if !yield(dataflow.Record{Row: row, Partition: p, Offset: off, IngestNanos: ing}) {
				return
			}
		}
	}
}

// All iterates over every readable record, partition by partition, each in
// offset order: the input of [dataflow.Reference]. The Row is reused. On a
// log that has released records ([Log.Released]) it stops at the first
// released one and fails the log: the reference answer needs the whole
// input.
func (l *Log) All() iter.Seq[dataflow.Record] {
	return func(yield func(dataflow.Record) bool) {
		for p := range l.parts {
			for r := range l.Records(p, 0) {
				if !yield(r) {
					return
				}
			}
		}
	}
}

// ErrLogClosed is returned by appends to a closed log.
var ErrLogClosed = errors.New("datasets: append to a closed log")

// Appender returns the log's writer. There must be only one appender in use
// at a time.
func (l *Log) Appender() *Appender {
	return &Appender{l: l, cur: -1}
}

// Appender writes records. A record is written as Begin, one setter per
// column (columns left unset are zero), then Commit; committed records become
// visible to readers at Flush. It is not safe for concurrent use.
type Appender struct {
	l   *Log
	cur int    // partition of the record being written, -1 if none
	c   *Chunk // its chunk
	i   int    // its row in the chunk
}

// Begin starts a record in partition p with the given ingest time (ns; 0
// means the log's clock now).
func (a *Appender) Begin(p int, ingestNanos int64) {
	l := a.l
	part := l.parts[p]
	cr := int64(l.chunkRows)
	if ingestNanos == 0 {
		ingestNanos = l.Now()
	}
	if part.size%cr == 0 { // need a new chunk
		l.addChunk(p, ingestNanos)
	}
	a.cur = p
	a.c = part.open
	a.i = int(part.size - a.c.Base)
	a.c.ingest.i64[a.i] = ingestNanos
}

// Int sets an int64, timestamp or bool (0/1) column.
func (a *Appender) Int(col int, v int64) { a.c.cols[col].i64[a.i] = v }

// Float sets a float64 column.
func (a *Appender) Float(col int, v float64) { a.c.cols[col].f64[a.i] = v }

// Code sets a string column by its code in the column's [Dict].
func (a *Appender) Code(col int, code int32) { a.c.cols[col].i32[a.i] = code }

// String sets a string column, interning s in the column's dictionary.
func (a *Appender) String(col int, s string) {
	a.c.cols[col].i32[a.i] = a.l.dicts[col].Intern(s)
}

// Value sets any column from a value of the column's kind.
func (a *Appender) Value(col int, v dataflow.Value) {
	switch a.l.schema.Fields[col].Kind {
	case dataflow.KindFloat64:
		a.Float(col, v.Float64())
	case dataflow.KindString:
		a.String(col, v.S)
	default:
		a.Int(col, v.I)
	}
}

// Commit ends the record begun by Begin.
func (a *Appender) Commit() {
	a.l.parts[a.cur].size++
	a.cur = -1
}

// AppendRow writes a whole record (Begin, every column, Commit).
func (a *Appender) AppendRow(p int, ingestNanos int64, row dataflow.Row) {
	a.Begin(p, ingestNanos)
	for col, v := range row {
		a.Value(col, v)
	}
	a.Commit()
}

// Flush publishes every committed record to readers and wakes waiters.
func (a *Appender) Flush() error {
	l := a.l
	if l.closed.Load() {
		return ErrLogClosed
	}
	ends := make([]int64, len(l.parts))
	for i, p := range l.parts {
		p.end.Store(p.size)
		ends[i] = p.size
	}
	l.published.Store(&ends)
	l.mu.Lock()
	close(l.notify)
	l.notify = make(chan struct{})
	l.mu.Unlock()
	return nil
}

// Dict is an append-only string dictionary: the values of one string column,
// each stored once and named by an int32 code in insertion order. Intern is
// for the single writer; Get and Values are safe for concurrent readers of
// codes the writer has published (through [Appender.Flush]).
type Dict struct {
	index  map[string]int32 // writer only
	blocks atomic.Pointer[[]*dictBlock]
	n      atomic.Int32
}

const dictBlockBits = 12

type dictBlock [1 << dictBlockBits]string

// NewDict returns an empty dictionary.
func NewDict() *Dict {
	d := &Dict{index: make(map[string]int32)}
	d.blocks.Store(&[]*dictBlock{})
	return d
}

// Intern returns the code of s, adding s if it is new.
func (d *Dict) Intern(s string) int32 {
	if c, ok := d.index[s]; ok {
		return c
	}
	c := d.n.Load()
	bs := *d.blocks.Load()
	if int(c>>dictBlockBits) == len(bs) {
		next := make([]*dictBlock, len(bs), len(bs)+1)
		copy(next, bs)
		next = append(next, new(dictBlock))
		d.blocks.Store(&next)
		bs = next
	}
	bs[c>>dictBlockBits][c&(1<<dictBlockBits-1)] = s
	d.index[s] = c
	d.n.Store(c + 1)
	return c
}

// Get returns the string of a code.
func (d *Dict) Get(code int32) string {
	bs := *d.blocks.Load()
	return bs[code>>dictBlockBits][code&(1<<dictBlockBits-1)]
}

// Len returns the number of strings.
func (d *Dict) Len() int { return int(d.n.Load()) }

// Values appends the strings with codes [0, Len) to dst, in code order.
func (d *Dict) Values(dst []string) []string {
	n := d.n.Load()
	bs := *d.blocks.Load()
	for c := int32(0); c < n; c++ {
		dst = append(dst, bs[c>>dictBlockBits][c&(1<<dictBlockBits-1)])
	}
	return dst
}

// IngestAt returns the ingest time (ns since the epoch) of the record at
// offset off of partition p; off must be in [Start(p), End(p)). An offset
// the log no longer holds fails the log ([Log.Err]) and gives 0.
func (l *Log) IngestAt(p int, off int64) int64 {
	c := l.chunk(p, off)
	if c == nil || off >= l.End(p) {
		_ = l.fail(p, off)
		return 0
	}
	return c.IngestAt(int(off - c.Base))
}

// OffsetAtIngest returns the first offset of partition p whose ingest time
// is at least ns, or End(p) if there is none, by binary search: ingest times
// are non-decreasing within a partition. It searches what the log still
// holds: the answer is at least [Log.Start].
func (l *Log) OffsetAtIngest(p int, ns int64) int64 {
	lo, hi := l.Start(p), l.End(p)
	for lo < hi {
		m := lo + (hi-lo)/2
		c := l.chunk(p, m)
		if c == nil { // released under the search: look above it
			lo = m + 1
			continue
		}
		if c.IngestAt(int(m-c.Base)) < ns {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
