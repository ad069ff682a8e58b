package datasets

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// Retention says which of a [Log]'s chunks (its segments) the log may
// release, as Kafka's log retention deletes old segments. The log releases
// whole chunks only, and only when the appender starts a new chunk of that
// partition, so a released chunk is one no consumer still reading from its
// position would touch. The zero value releases nothing: every record stays
// readable for the life of the log (a pre-filled log, a run of --events
// checked against [dataflow.Reference]).
//
// A chunk of partition p is released once every offset in it lies below
//
//   - with Consumers, every registered [Consumer]'s retained position in p
//     ([Consumer.Retain]: its committed or checkpointed offset, or for an
//     at-least-once spout the oldest offset it may still replay); with no
//     consumer registered the consumer rule releases nothing;
//   - or, with MaxAge, the first offset whose ingest time is within MaxAge
//     of the newest record appended to p (Kafka's retention.ms): this rule
//     releases whatever the consumers say, so a consumer that lags by more
//     than MaxAge reads an [OffsetOutOfRangeError], as a Kafka consumer
//     does.
//
// The log never releases the chunk being appended to.
type Retention struct {
	// Consumers releases what every registered consumer is past.
	Consumers bool
	// MaxAge, if above 0, releases chunks whose newest record was ingested
	// more than MaxAge before the newest record of the partition.
	MaxAge time.Duration
}

// IsZero reports whether r releases nothing.
func (r Retention) IsZero() bool { return !r.Consumers && r.MaxAge == 0 }

// Validate reports a negative MaxAge.
func (r Retention) Validate() error {
	if r.MaxAge < 0 {
		return fmt.Errorf("datasets: log retention max age %v must not be negative; use 0 for no age limit", r.MaxAge)
	}
	return nil
}

// String describes r for messages.
func (r Retention) String() string {
	switch {
	case r.IsZero():
		return "keep every record"
	case r.Consumers && r.MaxAge > 0:
		return fmt.Sprintf("release below every consumer's retained position, and records ingested more than %v before the newest", r.MaxAge)
	case r.Consumers:
		return "release below every consumer's retained position"
	}
	return fmt.Sprintf("release records ingested more than %v before the newest", r.MaxAge)
}

// OffsetOutOfRangeError is a read of an offset a [Log] does not hold: below
// [Log.Start] (released by its retention) or at or past [Log.End], as
// Kafka's OFFSET_OUT_OF_RANGE.
type OffsetOutOfRangeError struct {
	Partition int
	Offset    int64
	// Start and End are the partition's held range [Start, End) at the
	// read.
	Start, End int64
	// Retention is the log's retention.
	Retention Retention
}

func (e *OffsetOutOfRangeError) Error() string {
	if e.Offset >= e.End {
		return fmt.Sprintf("datasets: offset %d of log partition %d is out of range: the partition holds [%d, %d) and has no record there yet", e.Offset, e.Partition, e.Start, e.End)
	}
	return fmt.Sprintf("datasets: offset %d of log partition %d is out of range: the log's retention (%s) released the offsets below %d (it holds [%d, %d)); "+
		"a consumer must report, with Consumer.Retain, only positions it will not read below, or the retention's max age must exceed how far it lags",
		e.Offset, e.Partition, e.Retention, e.Start, e.Start, e.End)
}

// Start returns the first offset of partition p the log still holds:
// records [Start, End) are readable. It is 0 until retention releases a
// chunk, and then a multiple of [Log.ChunkRows].
func (l *Log) Start(p int) int64 {
	return l.parts[p].chunks.Load().first * int64(l.chunkRows)
}

// Released reports whether the log has released any record: its
// [Log.All] is then not the whole input.
func (l *Log) Released() bool {
	for p := range l.parts {
		if l.Start(p) > 0 {
			return true
		}
	}
	return false
}

// Retention returns the log's retention.
func (l *Log) Retention() Retention { return l.ret }

// Held returns the number of records the log holds in memory now: the
// records of its retained chunks, released ones excluded.
func (l *Log) Held() int64 {
	var n int64
	for p := range l.parts {
		n += l.End(p) - l.Start(p)
	}
	return n
}

// Err returns the first failed read of the log (an *[OffsetOutOfRangeError])
// by a method whose signature has no error ([Log.Read], [Log.ReadColumns],
// [Log.Chunks], [Log.IngestAt], [Log.Records]), or nil. A run that reads
// with those checks Err when it ends: what it read after the failure is not
// the log's data.
func (l *Log) Err() error {
	if e := l.err.Load(); e != nil {
		return *e
	}
	return nil
}

// outOfRange returns the error of a read of offset off of partition p.
func (l *Log) outOfRange(p int, off int64) error {
	return &OffsetOutOfRangeError{Partition: p, Offset: off, Start: l.Start(p), End: l.End(p), Retention: l.ret}
}

// fail records a failed read of offset off of partition p (the first one
// wins), wakes every waiter, and returns the error.
func (l *Log) fail(p int, off int64) error {
	err := l.outOfRange(p, off)
	if l.err.CompareAndSwap(nil, &err) {
		l.mu.Lock()
		if !l.closed.Load() {
			close(l.notify)
			l.notify = make(chan struct{})
		}
		l.mu.Unlock()
	}
	return err
}

// CheckRange returns an *[OffsetOutOfRangeError] if offsets [from, to) of
// partition p are not all held (below [Log.Start] or past [Log.End]), else
// nil. It does not fail the log: a reader that checks first can report the
// error itself.
func (l *Log) CheckRange(p int, from, to int64) error {
	if from >= to {
		return nil
	}
	if from < l.Start(p) {
		return l.outOfRange(p, from)
	}
	if to > l.End(p) {
		return l.outOfRange(p, to-1)
	}
	return nil
}

// Published appends to dst (reset) every partition's end offset at the
// last flush, all from that one flush: a reader that reads each partition
// up to these ends has read a prefix of the appender's output, which a
// per-partition [Log.End] read at different moments does not give. Before
// the first flush every end is 0.
func (l *Log) Published(dst []int64) []int64 {
	dst = dst[:0]
	ends := *l.published.Load()
	if len(ends) == 0 {
		for range l.parts {
			dst = append(dst, 0)
		}
		return dst
	}
	return append(dst, ends...)
}

// addChunk starts a new chunk for partition p, whose chunks are full:
// it seals the full open chunk (see [Chunk]), releases the chunks the
// retention no longer keeps, and publishes the new list in one swap.
// newest is the ingest time of the record about to be appended (the age
// rule's reference). Appender only.
func (l *Log) addChunk(p int, newest int64) {
	part := l.parts[p]
	var sealed *Chunk
	if c := part.open; c != nil && !l.closed.Load() {
		sealed = c.seal(c.n) // outside the lock: it reads only the appender's own chunk
	}
	l.chunkMu.Lock()
	defer l.chunkMu.Unlock()
	cl := part.chunks.Load()
	if sealed != nil && len(cl.cs) > 0 && cl.cs[len(cl.cs)-1] == part.open {
		cl = &chunkList{first: cl.first, cs: append(cl.cs[:len(cl.cs)-1:len(cl.cs)-1], sealed)}
	}
	keep := cl.cs[l.releasable(p, cl, newest):]
	next := &chunkList{first: cl.first + int64(len(cl.cs)-len(keep)), cs: make([]*Chunk, len(keep), len(keep)+1)}
	copy(next.cs, keep)
	part.open = newChunk(l.schema, part.size, l.chunkRows)
	next.cs = append(next.cs, part.open)
	part.chunks.Store(next)
}

// releasable returns how many of cl's leading chunks of partition p the
// retention releases.
func (l *Log) releasable(p int, cl *chunkList, newest int64) int {
	if l.ret.IsZero() || len(cl.cs) == 0 {
		return 0
	}
	below := int64(0) // offsets below it may go
	if l.ret.Consumers {
		if cs := *l.consumers.Load(); len(cs) > 0 {
			low := int64(math.MaxInt64)
			for _, c := range cs {
				low = min(low, c.pos[p].Load())
			}
			below = low
		}
	}
	if l.ret.MaxAge > 0 {
		cut := newest - l.ret.MaxAge.Nanoseconds()
		// Chunks are full here (only the last one is being appended to,
		// and it is full too: a new one is being started).
		n := 0
		for n < len(cl.cs) && cl.cs[n].Rows() == l.chunkRows && cl.cs[n].IngestAt(l.chunkRows-1) < cut {
			n++
		}
		below = max(below, cl.cs[0].Base+int64(n*l.chunkRows))
	}
	// Never past what was published (a consumer cannot be past it) nor the
	// chunk being filled.
	below = min(below, l.parts[p].end.Load())
	n := int((below - cl.cs[0].Base) / int64(l.chunkRows))
	return max(0, min(n, len(cl.cs)))
}

// Consumer is a registered reader of a [Log]: what it reports with
// [Consumer.Retain] is what a log whose [Retention] has Consumers keeps
// for it. Register a consumer before it reads, and Close it when it stops
// reading (a closed consumer holds nothing). Its methods are safe for
// concurrent use (a runtime's spouts of different partitions may report
// at once).
type Consumer struct {
	l      *Log
	name   string
	pos    []atomic.Int64
	closed atomic.Bool
}

// ErrConsumerExists is returned by [Log.NewConsumer] for a name in use.
var ErrConsumerExists = errors.New("datasets: a log consumer of that name is registered")

// NewConsumer registers a consumer named name (a runtime, a check), whose
// retained position in every partition starts at what the log holds now
// ([Log.Start]). Names are unique among the registered consumers.
func (l *Log) NewConsumer(name string) (*Consumer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := *l.consumers.Load()
	for _, c := range cur {
		if c.name == name {
			return nil, fmt.Errorf("%w: %q; close it first or choose another name", ErrConsumerExists, name)
		}
	}
	c := &Consumer{l: l, name: name, pos: make([]atomic.Int64, len(l.parts))}
	for p := range c.pos {
		c.pos[p].Store(l.Start(p))
	}
	next := append(slices.Clip(cur), c)
	l.consumers.Store(&next)
	return c, nil
}

// Consumer returns the registered consumer named name, or nil.
func (l *Log) Consumer(name string) *Consumer {
	for _, c := range *l.consumers.Load() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// Retain is [Consumer.Retain] of the registered consumer named consumer:
// an error if there is none.
func (l *Log) Retain(consumer string, p int, off int64) error {
	c := l.Consumer(consumer)
	if c == nil {
		return fmt.Errorf("datasets: no log consumer %q is registered; register it with Log.NewConsumer before it reports positions", consumer)
	}
	return c.Retain(p, off)
}

// Name returns the consumer's name.
func (c *Consumer) Name() string { return c.name }

// Retain reports that the consumer will never again read offsets below off
// of partition p: its committed or checkpointed position there, or the
// oldest offset it may still replay. Positions only advance: a lower off
// than the last is ignored. An off past the partition's end, or a bad
// partition, is an error naming the range; so is a closed consumer.
func (c *Consumer) Retain(p int, off int64) error {
	if p < 0 || p >= len(c.pos) {
		return fmt.Errorf("datasets: consumer %q retains partition %d of a log of %d partitions", c.name, p, len(c.pos))
	}
	if c.closed.Load() {
		return fmt.Errorf("datasets: consumer %q is closed; register a new one", c.name)
	}
	if end := c.l.End(p); off > end {
		return fmt.Errorf("datasets: consumer %q retains offset %d of partition %d, past its end %d: report only offsets it has read", c.name, off, p, end)
	}
	for {
		cur := c.pos[p].Load()
		if off <= cur || c.pos[p].CompareAndSwap(cur, off) {
			return nil
		}
	}
}

// Position returns the consumer's retained position in partition p.
func (c *Consumer) Position(p int) int64 { return c.pos[p].Load() }

// Close unregisters the consumer: the log keeps nothing for it any more.
func (c *Consumer) Close() {
	if c.closed.Swap(true) {
		return
	}
	l := c.l
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := *l.consumers.Load()
	next := make([]*Consumer, 0, len(cur))
	for _, o := range cur {
		if o != c {
			next = append(next, o)
		}
	}
	l.consumers.Store(&next)
}
