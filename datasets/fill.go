package datasets

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
)

// batchRows is how many events a stream generates per call: enough to
// amortise the call, small enough to stay in cache.
const batchRows = 1024

// batch holds generated events column by column before they go to the log:
// per schema column one slice of the column's storage kind (as in [Chunk]),
// and each event's partition.
type batch struct {
	part   []int32
	ints   [][]int64
	floats [][]float64
	codes  [][]int32
}

func newBatch(s dataflow.Schema, n int) *batch {
	b := &batch{part: make([]int32, n)}
	k := s.Len()
	b.ints = make([][]int64, k)
	b.floats = make([][]float64, k)
	b.codes = make([][]int32, k)
	for i, f := range s.Fields {
		switch f.Kind {
		case dataflow.KindFloat64:
			b.floats[i] = make([]float64, n)
		case dataflow.KindString:
			b.codes[i] = make([]int32, n)
		default:
			b.ints[i] = make([]int64, n)
		}
	}
	return b
}

// grow doubles the batch's capacity, keeping its rows.
func (b *batch) grow() {
	n := 2 * len(b.part)
	b.part = append(b.part, make([]int32, n-len(b.part))...)
	for i := range b.ints {
		switch {
		case b.ints[i] != nil:
			b.ints[i] = append(b.ints[i], make([]int64, n-len(b.ints[i]))...)
		case b.floats[i] != nil:
			b.floats[i] = append(b.floats[i], make([]float64, n-len(b.floats[i]))...)
		case b.codes[i] != nil:
			b.codes[i] = append(b.codes[i], make([]int32, n-len(b.codes[i]))...)
		}
	}
}

// copyRow copies row i of src to row j of b.
func (b *batch) copyRow(j int, src *batch, i int) {
	b.part[j] = src.part[i]
	for c := range b.ints {
		switch {
		case b.ints[c] != nil:
			b.ints[c][j] = src.ints[c][i]
		case b.floats[c] != nil:
			b.floats[c][j] = src.floats[c][i]
		case b.codes[c] != nil:
			b.codes[c][j] = src.codes[c][i]
		}
	}
}

// held is an event waiting in the reorder buffer for its arrival time.
type held struct {
	arrival int64 // event time + delay, ms
	slot    int32 // row of filler.b (in the held region)
}

// filler moves generated events into a log in arrival order.
//
// Rows [0, batchRows) of its batch receive each step's generated events;
// rows from batchRows on are the reorder buffer. Without skew every event
// goes straight to the log. With skew, delayed events are copied to a free
// row of the buffer and wait in a timing wheel of one bucket per millisecond
// of arrival time (event time + delay); a bucket is written once the
// generator's event time passes its millisecond: no later event can arrive
// before it, so the log is in arrival order without a global sort (DS3), and
// the wheel holds only the delayed events of the last LateDelay (or Delay) of
// event time. Events of one millisecond leave in generation order (a bucket
// is FIFO). Which events are delayed is drawn as geometric gaps between
// delayed events, so an on-time event costs no random draw.
//
// Each step lists its output rows in arrival order and writes them column
// by column straight into the partitions' chunks (the work of
// [Appender.Begin], setters and Commit, done in bulk): a gather loop per
// column instead of a call per value is what makes generation several times
// faster than the row-at-a-time Appender.
type filler struct {
	gen  Generator
	l    *Log
	a    *Appender
	st   stream
	cfg  Config
	b    *batch
	tcol int // event_time column

	intCols, floatCols, codeCols []int

	produced int64 // events generated
	shiftSet bool
	ord      []int32   // rows of b to write this step, in arrival order
	byPart   [][]int32 // ord split by partition
	freed    []int32   // held rows written this step, free after it

	// Skew.
	skew            bool
	rng             rand.PCG
	thrLate         uint64  // a delayed event is very late below this threshold
	logStay         float64 // log(1 - share of delayed events), for the gaps
	gap             int64   // on-time events left before the next delayed one
	delayMs, lateMs int64
	free            []int32
	// The wheel: bucket arrival&mask is a FIFO list of the held rows
	// arriving in that millisecond, linked through next (indexed by row), so
	// holding an event allocates nothing.
	head, tail []int32 // per bucket, -1 when empty
	next       []int32 // per row of b
	mask       int64
	cursor     int64 // every held event arriving at or before it is out
	nheld      int
}

// Random streams of the filler, distinct from any generator's (which use
// streams below 100).
const skewStream = 1000

func newFiller(gen Generator, l *Log, cfg Config) *filler {
	s := gen.Schema()
	f := &filler{gen: gen, l: l, a: l.Appender(), cfg: cfg, b: newBatch(s, batchRows), tcol: s.Index("event_time")}
	f.st = gen.newStream(l, cfg)
	f.byPart = make([][]int32, l.Partitions())
	for i, fl := range s.Fields {
		switch fl.Kind {
		case dataflow.KindFloat64:
			f.floatCols = append(f.floatCols, i)
		case dataflow.KindString:
			f.codeCols = append(f.codeCols, i)
		default:
			f.intCols = append(f.intCols, i)
		}
	}
	if sk := cfg.Skew; sk.OutOfOrder > 0 || sk.Late > 0 {
		f.skew = true
		f.rng.Seed(cfg.Seed, skewStream)
		delayed := min(sk.OutOfOrder+sk.Late, 1)
		f.thrLate = shareThreshold(sk.Late / (sk.OutOfOrder + sk.Late))
		f.logStay = math.Log1p(-delayed) // -Inf when every event is delayed
		f.delayMs = sk.Delay.Milliseconds()
		f.lateMs = sk.LateDelay.Milliseconds()
		w := int64(1)
		for w < max(f.delayMs, f.lateMs)+2 {
			w <<= 1
		}
		f.head, f.tail = make([]int32, w), make([]int32, w)
		for i := range f.head {
			f.head[i], f.tail[i] = -1, -1
		}
		f.mask, f.cursor = w-1, math.MinInt64
		f.gap = f.nextGap()
	}
	return f
}

// nextGap draws how many on-time events come before the next delayed one:
// geometric with the share of delayed events as its success probability.
func (f *filler) nextGap() int64 {
	if math.IsInf(f.logStay, -1) {
		return 0
	}
	u := (float64(f.rng.Uint64()>>11) + 1) / (1 << 53) // (0, 1]
	g := math.Floor(math.Log(u) / f.logStay)
	if g > 1<<62 || math.IsNaN(g) {
		return 1 << 62
	}
	return int64(g)
}

// release lists, in arrival order, the held events that arrive at or before
// t, and frees their rows after this step.
func (f *filler) release(t int64) {
	if f.nheld == 0 {
		f.cursor = max(f.cursor, t)
		return
	}
	for f.cursor < t && f.nheld > 0 {
		f.cursor++
		b := f.cursor & f.mask
		for r := f.head[b]; r >= 0; r = f.next[r] {
			f.ord = append(f.ord, r)
			f.freed = append(f.freed, r)
			f.nheld--
		}
		f.head[b], f.tail[b] = -1, -1
	}
	f.cursor = max(f.cursor, t)
}

// hold puts a delayed event in the wheel. An arrival at or before the
// cursor (the timeline stepped back) is due at the next millisecond.
func (f *filler) hold(h held) {
	h.arrival = max(h.arrival, f.cursor+1)
	b := h.arrival & f.mask
	if int(h.slot) >= len(f.next) {
		f.next = append(f.next, make([]int32, len(f.b.part)-len(f.next))...)
	}
	f.next[h.slot] = -1
	if f.tail[b] < 0 {
		f.head[b] = h.slot
	} else {
		f.next[f.tail[b]] = h.slot
	}
	f.tail[b] = h.slot
	f.nheld++
}

// shareThreshold maps a share in [0, 1] to a threshold on uniform uint64s.
func shareThreshold(p float64) uint64 {
	if p >= 1 {
		return math.MaxUint64
	}
	return uint64(p * (1 << 63) * 2)
}

// step generates n events and appends those whose arrival time has come.
func (f *filler) step(n int, ingest int64) {
	b := f.b
	f.st.fill(b, n)
	ord := f.ord[:0]
	if !f.skew {
		for i := range n {
			ord = append(ord, int32(i))
		}
		f.ord = ord
		f.produced += int64(n)
		f.writeRows(ingest)
		return
	}
	f.ord = ord
	times := b.ints[f.tcol]
	for i := range n {
		t := times[i]
		if t > f.cursor {
			f.release(t)
		}
		if f.gap > 0 {
			f.gap--
			f.ord = append(f.ord, int32(i))
			continue
		}
		f.gap = f.nextGap()
		var d int64
		if f.rng.Uint64() < f.thrLate {
			d = f.lateMs - pickN(f.rng.Uint64(), f.lateMs/2+1)
		} else {
			d = pickN(f.rng.Uint64(), f.delayMs+1)
		}
		if d == 0 {
			f.ord = append(f.ord, int32(i))
			continue
		}
		if len(f.free) == 0 {
			f.growHold()
		}
		slot := f.free[len(f.free)-1]
		f.free = f.free[:len(f.free)-1]
		b.copyRow(int(slot), b, i)
		f.hold(held{arrival: t + d, slot: slot})
	}
	f.produced += int64(n)
	f.writeRows(ingest)
}

// growHold adds free rows to the reorder buffer.
func (f *filler) growHold() {
	old := len(f.b.part)
	f.b.grow()
	for j := len(f.b.part) - 1; j >= max(old, batchRows); j-- {
		f.free = append(f.free, int32(j))
	}
}

// writeRows appends rows f.ord of the batch to their partitions, in order,
// and frees the held rows among them.
func (f *filler) writeRows(ingest int64) {
	if len(f.ord) == 0 {
		return
	}
	l, b := f.l, f.b
	if !f.shiftSet {
		f.shiftSet = true
		l.SetEventTimeShift(dataflow.FloorDiv(ingest, 1e6) - b.ints[f.tcol][f.ord[0]])
	}
	for p := range f.byPart {
		f.byPart[p] = f.byPart[p][:0]
	}
	for _, i := range f.ord {
		p := b.part[i]
		f.byPart[p] = append(f.byPart[p], i)
	}
	cr := int64(l.chunkRows)
	for p, rows := range f.byPart {
		part := l.parts[p]
		for len(rows) > 0 {
			if part.size%cr == 0 {
				l.addChunk(p, ingest)
			}
			c := part.open // wide: the appender writes it
			off := int(part.size - c.Base)
			k := min(len(rows), int(cr)-off)
			seg := rows[:k]
			for _, col := range f.intCols {
				dst, src := c.cols[col].i64[off:off+k], b.ints[col]
				for j, i := range seg {
					dst[j] = src[i]
				}
			}
			for _, col := range f.floatCols {
				dst, src := c.cols[col].f64[off:off+k], b.floats[col]
				for j, i := range seg {
					dst[j] = src[i]
				}
			}
			for _, col := range f.codeCols {
				dst, src := c.cols[col].i32[off:off+k], b.codes[col]
				for j, i := range seg {
					dst[j] = src[i]
				}
			}
			ing := c.ingest.i64[off : off+k]
			for j := range ing {
				ing[j] = ingest
			}
			part.size += int64(k)
			rows = rows[k:]
		}
	}
	f.ord = f.ord[:0]
	f.free = append(f.free, f.freed...)
	f.freed = f.freed[:0]
}

// finish appends every held event, flushes and closes the log.
func (f *filler) finish(ingest int64) error {
	if f.skew {
		f.release(math.MaxInt64 - 1)
	}
	f.writeRows(ingest)
	if err := f.a.Flush(); err != nil {
		return err
	}
	f.l.Close()
	return nil
}

// fastFlushEvery is how many events the fast fill appends between flushes.
const fastFlushEvery = 1 << 16

// runFast fills as fast as possible, stamping each batch with the log's
// clock.
func (f *filler) runFast(ctx context.Context) error {
	total := f.cfg.Events
	sinceFlush := 0
	for f.produced < total {
		n := int(min(int64(batchRows), total-f.produced))
		f.step(n, f.l.Now())
		sinceFlush += n
		if sinceFlush >= fastFlushEvery {
			sinceFlush = 0
			if err := ctx.Err(); err != nil {
				_ = f.a.Flush()
				return err
			}
			if err := f.a.Flush(); err != nil {
				return err
			}
		}
	}
	return f.finish(f.l.Now())
}

// runPaced appends events as pacing p makes them due, waking at least every
// millisecond while events are due.
func (f *filler) runPaced(ctx context.Context, p Pacing) error {
	total := f.cfg.Events
	clk := p.Clock
	start := clk.Now()
	for {
		now := clk.Now()
		e := now.Sub(start)
		// Event k (from 0) is due once k events' worth of time has passed;
		// forgive float error at the due time. The count is compared as a
		// float: converting one above MaxInt64 (a huge rate after a
		// millisecond) to int64 would wrap it negative and nothing would
		// ever be due.
		due := total
		if x := p.expected(e) + 1e-6; x < float64(total) {
			due = min(total, int64(x)+1)
		}
		ingest := now.UnixNano()
		for f.produced < due {
			f.step(int(min(int64(batchRows), due-f.produced)), ingest)
		}
		if f.produced >= total {
			return f.finish(ingest)
		}
		if err := f.a.Flush(); err != nil {
			return err
		}
		// Sleep until the next event is due, but at least 1ms.
		wait := max(p.dueAt(f.produced)-e, time.Millisecond)
		if err := clock.Sleep(ctx, clk, wait); err != nil {
			return err
		}
	}
}

// runUnbounded appends events as pacing p makes them due, with no total,
// until p.For has passed (if set) or ctx is done; then it writes the held
// events, flushes and closes the log. Like runPaced it wakes at least every
// millisecond while events are due and generates at most what is due.
func (f *filler) runUnbounded(ctx context.Context, p Pacing) error {
	clk := p.Clock
	start := clk.Now()
	for {
		now := clk.Now()
		e := now.Sub(start)
		if p.For > 0 && e >= p.For {
			e = p.For // the stream ends at For: what was due by then
		}
		// As runPaced: compare as a float, so a huge count does not wrap.
		// At For the stream has the events due before For (event k is due
		// at k/rate): rate × For of them, not one more.
		due := int64(math.MaxInt64)
		if x := p.expected(e) + 1e-6; x < float64(math.MaxInt64) {
			due = int64(x) + 1
			if p.For > 0 && e >= p.For {
				due = int64(math.Ceil(x - 2e-6))
			}
		}
		ingest := now.UnixNano()
		for f.produced < due {
			f.step(int(min(int64(batchRows), due-f.produced)), ingest)
		}
		if (p.For > 0 && e >= p.For) || ctx.Err() != nil {
			return f.finish(ingest)
		}
		if err := f.a.Flush(); err != nil {
			return err
		}
		wait := max(p.dueAt(f.produced)-e, time.Millisecond)
		if p.For > 0 {
			wait = min(wait, max(p.For-e, time.Millisecond))
		}
		if err := clock.Sleep(ctx, clk, wait); err != nil {
			// The stream ends: close the log so readers finish.
			return f.finish(clk.Now().UnixNano())
		}
	}
}
