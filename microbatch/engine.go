package microbatch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"golang.org/x/sync/errgroup"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/invariants"
	"github.com/weirlab/weir/internal/metrics"
)

// Run runs pipeline p over src to the end of its (closed) log, or until ctx
// is done, in the model cfg selects. A pipeline the model cannot express
// gives a *dataflow.UnsupportedError; a run whose queued batches outgrow
// cfg.MemoryBudget a *MemoryBudgetError. Run starts goroutines (the job
// generator, the job runners and their tasks) and returns only after every
// one of them has exited.
func Run(ctx context.Context, p *dataflow.Pipeline, src Source, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.withDefaults()
	pl, err := newPlan(p, &c)
	if err != nil {
		return nil, err
	}
	ck, cleanup, err := openCheckpoints(&c, checkpointJob(p, src, &c))
	if err != nil {
		return nil, err
	}
	defer cleanup()
	rs := &runState{
		cfg: &c, sink: newSink(c.CountingSink), start: c.Clock.Now(), fired: make([]bool, len(c.Failures)), ck: ck,
		counters: map[string]int64{},
		series:   map[string]metrics.Series{},
	}
	rs.latency = metrics.NewLatency().Since(rs.start.UnixNano())
	for {
		d, err := newDriver(rs, pl, src)
		if err != nil {
			return nil, err
		}
		rs.rewind(d.seq)
		err = d.run(ctx)
		if errors.Is(err, errDriverCrash) {
			rs.counters["driver_restarts"]++
			c.Logger.Info("microbatch: driver crashed; restarting from the last checkpoint")
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	return rs.report(pl), nil
}

// runState outlives driver incarnations: the sink and the measurements are
// outside the driver, as an external sink and a metrics system are.
type runState struct {
	cfg   *Config
	sink  *sink
	start time.Time
	end   time.Time
	ck    checkpoints

	mu        sync.Mutex // guards fired
	fired     []bool
	latency   metrics.Latency
	counters  map[string]int64
	series    map[string]metrics.Series
	batches   []BatchInfo
	late      []dataflow.LateRecord // Batch holds the batch's seq until report
	events    int64
	emissions int64
	warnings  []string                // Report.Warnings
	panes     []dataflow.PaneEmission // Config.Trace: every window result the sink received
	paneState map[wkey]paneTrace      // Config.Trace: per window and key, for dataflow.PaneEmission's Index and Timing
}

// paneTrace is what tracing remembers of a window and key's results.
type paneTrace struct {
	n      int64
	onTime bool // a result at or past the watermark was emitted
}

// tracePanes keeps the batch's results in the trace (Config.Trace). rs.mu
// is held.
func (rs *runState) tracePanes(pl *plan, b *batch, results []output, wm, emitNanos int64) {
	if rs.paneState == nil {
		rs.paneState = map[wkey]paneTrace{}
	}
	watermarked := pl.watermarked()
	for _, o := range results {
		if o.deleted {
			continue
		}
		k := wkey{o.res.Window, o.res.Key}
		st := rs.paneState[k]
		timing := dataflow.PaneOnTime
		if watermarked {
			switch {
			case st.onTime:
				timing = dataflow.PaneLate
			case int64(o.res.Window.End) > wm && !b.final:
				timing = dataflow.PaneEarly
			default:
				st.onTime = true
			}
		}
		rs.panes = append(rs.panes, dataflow.PaneEmission{Window: o.res.Window, Key: o.res.Key, Index: st.n, Timing: timing,
			Batch: b.seq, EmitNanos: emitNanos, MaxEventTime: dataflow.Time(o.maxEv), MaxIngestNanos: o.maxIng,
			Watermark: dataflow.Time(wm)})
		st.n++
		rs.paneState[k] = st
	}
}

func (rs *runState) report(pl *plan) *Report {
	r := &Report{
		Results: rs.sink.results(), Events: rs.events, Elapsed: rs.end.Sub(rs.start), Emissions: rs.emissions,
		Latency: rs.latency, Batches: rs.batches, Counters: rs.counters, Series: rs.series, Panes: rs.panes,
		Warnings: rs.warnings,
	}
	slices.SortFunc(rs.late, func(a, b dataflow.LateRecord) int {
		if a.Partition != b.Partition {
			return a.Partition - b.Partition
		}
		if a.Offset != b.Offset {
			return int(min(max(a.Offset-b.Offset, -1), 1))
		}
		return strings.Compare(a.Key, b.Key)
	})
	// A record is reported once per key: once for an aggregation (Key is
	// ""), once per dropped join side row's key (a record reaching both
	// sides of a self-join may be late on either).
	r.Late = slices.CompactFunc(rs.late, func(a, b dataflow.LateRecord) bool { return a.RecordRef == b.RecordRef && a.Key == b.Key })
	for i := range r.Late {
		seq := int64(r.Late[i].Batch)
		r.Late[i].Batch, _ = slices.BinarySearchFunc(rs.batches, seq, func(b BatchInfo, seq int64) int { return int(min(max(b.Seq-seq, -1), 1)) })
	}
	r.Watermarked = pl.lateByWatermark()
	if r.Elapsed < 0 {
		r.Elapsed = 0
	}
	r.Counters["late_records"] = int64(len(r.Late))
	r.Counters["batches"] = int64(len(rs.batches))
	return r
}

// rewind forgets what the batches from seq on committed: a new driver
// incarnation restarts from its checkpoint (seq is the first batch it
// computes, 0 without one) and commits them again, so the report lists each
// batch, its late records and its records once, as the surviving run
// committed them (MF2).
func (rs *runState) rewind(seq int64) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	keep := rs.batches[:0]
	rs.events = 0
	for _, b := range rs.batches {
		if b.Seq < seq {
			keep = append(keep, b)
			rs.events += b.Records
		}
	}
	rs.batches = keep
	rs.late = slices.DeleteFunc(rs.late, func(l dataflow.LateRecord) bool { return int64(l.Batch) >= seq })
}

// batch is one generated batch: its time and offset ranges (MD1, MD2).
type batch struct {
	seq     int64
	tMs     int64
	ranges  []OffsetRange
	records int64
	taken   int64 // records taken in by all earlier batches
	final   bool
	procWM  int64
	rate    float64
	held    int64
	after   []int64 // every partition's offset after the batch
	// held are the records of each range, read by the receiver (receiver
	// mode only); heldBytes their size.
	recs      [][]arrow.Record
	heldBytes int64

	submitted time.Time
	prevDone  <-chan struct{}
	done      chan struct{}
}

// driver is one incarnation of the Spark driver: job generator, scheduler,
// state and checkpoints. A crash discards it; the next incarnation starts
// from the last checkpoint.
type driver struct {
	rs  *runState
	p   *plan
	src Source
	cfg *Config
	st  *store
	pid *PIDRateEstimator

	// Generator state (generator goroutine only, after start).
	offsets []int64
	seq     int64
	nextT   int64 // ms; math.MinInt64 before the first batch
	taken   int64
	bytesPR int64

	mu       sync.Mutex // guards queue, genDone, rate
	queue    []*batch
	genDone  bool
	rate     float64
	notify   chan struct{}
	lastDone chan struct{}

	blocks   []*block // received, not yet allocated to a batch; guarded by mu
	recvDone bool     // guarded by mu

	execMu sync.Mutex
	execs  []*exec
	// joined[i] runs Join.Steps and the aggregation over the joined rows
	// of join shard i (commit path only; made at the first join commit).
	joined []*exec

	lastSched time.Duration
}

func newDriver(rs *runState, p *plan, src Source) (*driver, error) {
	cfg := rs.cfg
	d := &driver{rs: rs, p: p, src: src, cfg: cfg, st: newStore(p), offsets: make([]int64, src.Partitions()),
		nextT: math.MinInt64, notify: make(chan struct{}, 1), rate: cfg.InitialRate}
	pid, err := NewPIDRateEstimator(cfg.BatchInterval.Milliseconds(), cfg.PID.Proportional, cfg.PID.Integral, cfg.PID.Derived, cfg.PID.MinRate)
	if err != nil {
		return nil, err
	}
	d.pid = pid
	d.bytesPR = 8
	for _, f := range p.input.Fields {
		if f.Kind == dataflow.KindString {
			d.bytesPR += 4
		} else {
			d.bytesPR += 8
		}
	}
	if err := d.restore(); err != nil {
		return nil, err
	}
	d.lastDone = make(chan struct{})
	close(d.lastDone)
	return d, nil
}

func (d *driver) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	if d.cfg.Receiver {
		start := slices.Clone(d.offsets)
		g.Go(func() error { return d.receive(ctx) })
		g.Go(func() error { return d.generateFromBlocks(ctx, start) })
	} else {
		g.Go(func() error { return d.generate(ctx) })
	}
	for range d.cfg.ConcurrentJobs {
		g.Go(func() error { return d.runJobs(ctx) })
	}
	err := g.Wait()
	// Release what the receiver read and no job processed.
	for _, b := range d.queue {
		b.release()
	}
	for _, blk := range d.blocks {
		blk.release()
	}
	d.queue, d.blocks = nil, nil
	return err
}

func (b *batch) release() {
	for _, rs := range b.recs {
		for _, r := range rs {
			r.Release()
		}
	}
	b.recs = nil
}

func (d *driver) genFinished() {
	d.mu.Lock()
	d.genDone = true
	d.mu.Unlock()
	for range d.cfg.ConcurrentJobs + 1 {
		d.signal()
	}
}

func (d *driver) signal() {
	select {
	case d.notify <- struct{}{}:
	default:
	}
}

// generate is the JobGenerator (2.3): at each batch time it cuts the next
// offset range of every partition and queues the batch.
func (d *driver) generate(ctx context.Context) error {
	defer d.genFinished()
	bMs := d.cfg.BatchInterval.Milliseconds()
	clk := d.cfg.Clock
	filled := false
	for {
		closed := d.src.Closed() // read before End: a closed log's End is final
		if d.nextT == math.MinInt64 {
			first, ok := d.firstIngestMs()
			if !ok {
				if closed {
					return d.push(ctx, &batch{seq: d.seq, tMs: 0, final: true, procWM: math.MaxInt64})
				}
				if err := waitChanged(ctx, d.src); err != nil {
					return err
				}
				continue
			}
			d.nextT = (dataflow.FloorDiv(first, bMs) + 1) * bMs
		}
		if !filled && closed && d.cfg.FilledBeforeStart && d.cfg.Mode == ModeEventTime {
			// The log was complete before the clock started: the first
			// trigger reads all of it (Structured Streaming reads every
			// available offset), not the ingest-time slices of its filling.
			filled = true
			if last, ok := d.lastIngestMs(); ok {
				d.nextT = max(d.nextT, (dataflow.FloorDiv(last, bMs)+1)*bMs)
			}
		}
		t := d.nextT
		if !closed || d.cfg.Backpressure {
			// Batch times follow the clock (MD1). A closed log needs no wait,
			// unless a rate limit is in force, which is a rate per clock
			// second.
			if wait := time.UnixMilli(t).Sub(clk.Now()); wait > 0 {
				var changed <-chan struct{} // a Close ends the wait
				if !closed {
					changed = d.src.Changed()
				}
				select {
				case <-clk.After(wait):
				case <-changed:
				case <-ctx.Done():
					return ctx.Err()
				}
				continue
			}
		}
		b := d.cut(t, closed)
		if err := d.push(ctx, b); err != nil {
			return err
		}
		d.nextT += bMs
		if b.final {
			return nil
		}
	}
}

// firstIngestMs is the ingest time of the oldest unread record.
func (d *driver) firstIngestMs() (int64, bool) {
	first, ok := int64(math.MaxInt64), false
	for p := range d.offsets {
		if d.offsets[p] < d.src.End(p) {
			first, ok = min(first, dataflow.FloorDiv(d.src.IngestAt(p, d.offsets[p]), 1e6)), true
		}
	}
	return first, ok
}

// lastIngestMs is the ingest time of the newest record in the log.
func (d *driver) lastIngestMs() (int64, bool) {
	last, ok := int64(math.MinInt64), false
	for p := range d.offsets {
		if end := d.src.End(p); d.offsets[p] < end {
			last, ok = max(last, dataflow.FloorDiv(d.src.IngestAt(p, end-1), 1e6)), true
		}
	}
	return last, ok
}

// cut makes the batch at time tMs: for each partition the records from the
// current offset up to the first record ingested at or after tMs (a record
// ingested exactly at tMs belongs to the next batch, as windows are
// half-open, I1), clamped by the rate limit (2.9).
func (d *driver) cut(tMs int64, closed bool) *batch {
	b := &batch{seq: d.seq, tMs: tMs, taken: d.taken, procWM: math.MaxInt64}
	n := len(d.offsets)
	until := make([]int64, n)
	ends := make([]int64, n)
	var lag int64
	for p := range n {
		ends[p] = d.src.End(p)
		until[p] = d.src.OffsetAtIngest(p, d.offsets[p], tMs*1e6)
		lag += until[p] - d.offsets[p]
	}
	d.mu.Lock()
	rate := d.rate
	d.mu.Unlock()
	if !d.cfg.Backpressure {
		rate = 0
	}
	b.rate = rate
	if rate > 0 || d.cfg.MaxRatePerPartition > 0 {
		secs := d.cfg.BatchInterval.Seconds()
		for p := range n {
			l := until[p] - d.offsets[p]
			limit := d.cfg.MaxRatePerPartition
			if rate > 0 && lag > 0 {
				limit = float64(l) / float64(lag) * rate
				if d.cfg.MaxRatePerPartition > 0 {
					limit = min(limit, d.cfg.MaxRatePerPartition)
				}
			}
			msgs := max(int64(secs*limit), 1)
			until[p] = min(d.offsets[p]+msgs, until[p])
		}
	}
	if m := d.cfg.MaxOffsetsPerTrigger; m > 0 {
		capOffsets(d.offsets, until, m)
	}
	final := closed
	for p := range n {
		if invariants.Enabled && until[p] < d.offsets[p] {
			invariants.Assertf(false, "MD2: batch %d would read partition %d back from offset %d to %d", b.seq, p, d.offsets[p], until[p])
		}
		if until[p] > d.offsets[p] {
			b.ranges = append(b.ranges, OffsetRange{Partition: p, From: d.offsets[p], Until: until[p]})
			b.records += until[p] - d.offsets[p]
		}
		if until[p] < ends[p] {
			final = false
			b.procWM = min(b.procWM, dataflow.FloorDiv(d.src.IngestAt(p, until[p]), 1e6))
		} else if !closed {
			b.procWM = min(b.procWM, tMs)
		}
		d.offsets[p] = until[p]
	}
	b.final = final
	b.after = slices.Clone(d.offsets)
	d.taken += b.records
	d.seq++
	return b
}

// capOffsets lowers until so that the batch reads at most m records over
// all partitions (maxOffsetsPerTrigger), each partition's share in
// proportion to the records it has available (rounded down; what the
// rounding leaves goes to the partitions in order, so a limit below the
// number of partitions still makes progress).
func capOffsets(from, until []int64, m int64) {
	var total int64
	for p := range until {
		total += until[p] - from[p]
	}
	if total <= m {
		return
	}
	left := m
	avail := make([]int64, len(until))
	for p := range until {
		avail[p] = until[p] - from[p]
		take := min(int64(float64(avail[p])*float64(m)/float64(total)), avail[p], left)
		until[p] = from[p] + take
		left -= take
	}
	for p := 0; left > 0 && p < len(until); p++ {
		more := min(avail[p]-(until[p]-from[p]), left)
		until[p] += more
		left -= more
	}
}

// retains reports whether the driver reports the offsets after the batch
// it has just committed to a [Retainer] source: with checkpoints, when the
// batch is checkpointed (a restart reads from the last checkpoint);
// without, always (a failed batch is recomputed from its own offsets, and
// a run whose driver may crash always checkpoints: openCheckpoints).
func (d *driver) retains(checkpointed bool) bool {
	return d.rs.ck == nil || checkpointed
}

// push queues a batch for the job runners; a queue holding more than the
// memory budget stops the run (MB2).
func (d *driver) push(ctx context.Context, b *batch) error {
	b.submitted = d.cfg.Clock.Now()
	b.prevDone = d.lastDone
	b.done = make(chan struct{})
	d.lastDone = b.done
	d.mu.Lock()
	d.queue = append(d.queue, b)
	var held, backlog int64
	for _, q := range d.queue {
		backlog += q.records
		if d.cfg.Receiver {
			held += q.heldBytes
		} else {
			held += q.records * d.bytesPR
		}
	}
	if d.cfg.Receiver {
		for _, blk := range d.blocks {
			backlog += blk.records
			held += blk.bytes
		}
	}
	b.held = held
	queued := len(d.queue)
	d.mu.Unlock()
	d.signal()
	if d.cfg.MemoryBudget > 0 && held > d.cfg.MemoryBudget {
		return &MemoryBudgetError{BatchTime: time.UnixMilli(b.tMs), QueuedBatches: queued, BacklogRecords: backlog,
			HeldBytes: held, Budget: d.cfg.MemoryBudget, SchedulingDelay: d.schedDelay()}
	}
	return ctx.Err()
}

func (d *driver) schedDelay() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lastSched
}

// runJobs is one of the scheduler's ConcurrentJobs threads: it takes
// batches in FIFO order, computes them and commits them in batch order.
func (d *driver) runJobs(ctx context.Context) error {
	for {
		d.mu.Lock()
		var b *batch
		queued := len(d.queue)
		if queued > 0 {
			b = d.queue[0]
			d.queue = d.queue[1:]
		}
		done := d.genDone
		d.mu.Unlock()
		if b == nil {
			if done {
				d.signal()
				return nil
			}
			select {
			case <-d.notify:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		if err := d.runBatch(ctx, b, queued-1); err != nil {
			return err
		}
	}
}

func (d *driver) runBatch(ctx context.Context, b *batch, queued int) error {
	defer b.release()
	clk := d.cfg.Clock
	if d.cfg.Mode == ModeEventTime || d.cfg.ConcurrentJobs == 1 {
		// Structured Streaming runs one batch at a time: the watermark of a
		// batch comes from the previous one.
		if err := waitDone(ctx, b.prevDone); err != nil {
			return err
		}
	}
	start := clk.Now()
	d.mu.Lock()
	d.lastSched = start.Sub(b.submitted)
	d.mu.Unlock()
	attempts := 0
	var outs []*taskOut
	for {
		attempts++
		wm := int64(math.MinInt64)
		if d.cfg.Mode == ModeEventTime {
			wm = d.st.wm
		}
		var err error
		outs, err = d.compute(ctx, b, wm)
		if err != nil {
			return err
		}
		if f, ok := d.fault(b); ok {
			if f == CrashDriver {
				return errDriverCrash
			}
			d.rs.mu.Lock()
			d.rs.counters["failed_batches"]++
			d.rs.counters["recomputed_records"] += b.records
			d.rs.mu.Unlock()
			continue // recompute the batch from its offset ranges (MF1)
		}
		break
	}
	if err := waitDone(ctx, b.prevDone); err != nil {
		return err
	}
	return d.commit(b, outs, start, queued, attempts)
}

func waitDone(ctx context.Context, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fault reports whether an injected failure fires in batch b: the first
// unfired one whose record count falls in the batch.
func (d *driver) fault(b *batch) (FailureKind, bool) {
	d.rs.mu.Lock()
	defer d.rs.mu.Unlock()
	for i, f := range d.cfg.Failures {
		if !d.rs.fired[i] && f.AfterRecords > b.taken && f.AfterRecords <= b.taken+b.records {
			d.rs.fired[i] = true
			return f.Kind, true
		}
	}
	return 0, false
}

func (d *driver) getExec() (*exec, error) {
	d.execMu.Lock()
	if n := len(d.execs); n > 0 {
		x := d.execs[n-1]
		d.execs = d.execs[:n-1]
		d.execMu.Unlock()
		return x, nil
	}
	d.execMu.Unlock()
	return d.p.newExec()
}

func (d *driver) putExec(x *exec) {
	d.execMu.Lock()
	d.execs = append(d.execs, x)
	d.execMu.Unlock()
}

// compute runs one task per offset range, Parallelism at a time.
func (d *driver) compute(ctx context.Context, b *batch, wm int64) ([]*taskOut, error) {
	outs := make([]*taskOut, len(b.ranges))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(d.cfg.Parallelism)
	for i, r := range b.ranges {
		var held []arrow.Record
		if b.recs != nil {
			held = b.recs[i]
		}
		g.Go(func() error {
			o, err := d.task(ctx, r, held, wm)
			outs[i] = o
			return err
		})
	}
	return outs, g.Wait()
}

// task reads one offset range as Arrow record batches and runs the
// pipeline over them; every record batch is released before task returns.
func (d *driver) task(ctx context.Context, r OffsetRange, held []arrow.Record, wm int64) (*taskOut, error) {
	x, err := d.getExec()
	if err != nil {
		return nil, err
	}
	defer d.putExec(x)
	recs := held
	if held == nil {
		recs, err = d.src.Read(r.Partition, r.From, r.Until, d.cfg.Allocator, d.cfg.MaxBatchRows)
		defer func() {
			for _, rec := range recs {
				rec.Release()
			}
		}()
	}
	if err != nil {
		return nil, fmt.Errorf("microbatch: read partition %d offsets [%d, %d): %w", r.Partition, r.From, r.Until, err)
	}
	if x.side != nil {
		return d.joinTask(ctx, x, r, recs)
	}
	a := x.agg
	a.startTask(wm)
	if err := x.runRange(ctx, r, recs); err != nil {
		return nil, err
	}
	if d.cfg.Slow > 0 && a.slow > 0 {
		// The slow-operator fault waits; it does not burn CPU (Config.Slow).
		if err := clock.Sleep(ctx, d.cfg.Clock, time.Duration(a.slow)*d.cfg.Slow); err != nil {
			return nil, err
		}
	}
	return a.finishTask(), nil
}

// frameRows is the number of rows of a record batch the steps run over at a
// time: their buffers for that many rows stay in the core's cache.
const frameRows = 4096

// runRecord runs the pipeline over one record batch of partition part whose
// first row has offset base, a frame of frameRows rows at a time, and
// pre-aggregates its rows into the task's cells.
func (x *exec) runRecord(rec arrow.Record, part int, base int64) error {
	if err := x.load(rec); err != nil {
		return err
	}
	for lo := 0; lo < x.rows; lo += frameRows {
		x.frame(lo, min(lo+frameRows, x.rows))
		if err := x.run(); err != nil {
			return err
		}
		if x.side != nil {
			if err := x.side.consume(x, x.p.join, part, base+int64(lo)); err != nil {
				return err
			}
			continue
		}
		x.agg.consume(x, part, base+int64(lo))
	}
	return nil
}

// finishTask hands the task's partial aggregates to the driver.
func (a *aggExec) finishTask() *taskOut {
	o := &taskOut{owner: a, part: a.part, keys: a.keysSnapshot(), late: a.late, maxEvent: a.maxEvent, records: a.records, out: a.out, keyRows: slices.Clip(a.keyRows)}
	if a.p.shape == shapeSession && a.part.len() > 0 {
		// Fold merged sessions into their roots (their rows were added
		// before the merge) and keep the roots only.
		roots := newCellSet(a.p.specs)
		idx := grow(&a.rootOf, a.part.len()) // root cell -> its cell in roots, or -1
		for i := range idx {
			idx[i] = -1
		}
		for c := range int32(a.part.len()) {
			r := a.find(c)
			d := idx[r]
			if d < 0 {
				d = roots.add(a.part.win[r], a.part.gid[r], "")
				idx[r] = d
			}
			roots.merge(d, a.part, c)
		}
		o.part = roots
	}
	return o
}

// commit folds the batch into the state, writes its output to the sink,
// checkpoints and records the batch's figures. Batches commit in order.
func (d *driver) commit(b *batch, outs []*taskOut, start time.Time, queued, attempts int) error {
	defer close(b.done)
	clk := d.cfg.Clock
	rs := d.rs
	wmApplied := d.st.wm
	var maxEv int64 = math.MinInt64
	var records int64
	var late []dataflow.LateRecord
	for _, o := range outs {
		maxEv = max(maxEv, o.maxEvent)
		records += o.records
		for _, r := range o.late {
			late = append(late, dataflow.LateRecord{RecordRef: r, Batch: int(b.seq), Watermark: dataflow.Time(wmApplied), LostAbove: dataflow.MaxTime})
		}
	}
	if d.p.join != nil {
		// The join's state store takes the batch's side rows at the
		// batch's watermark; its joined rows run through Join.Steps into
		// the aggregation or emit as one more task's output (MJ1-MJ4).
		var err error
		if outs, late, err = d.commitJoin(b, outs, wmApplied, late); err != nil {
			return err
		}
	}
	var results []output
	if d.p.shape != shapeEmit {
		results = d.st.commit(b.seq, b.tMs, outs, b.procWM, b.final)
	}
	if d.p.join != nil {
		d.st.wm = max(d.st.wm, d.st.join.nextWatermark())
	}
	if d.p.then != nil {
		var err error
		if results, err = d.p.then.apply(results); err != nil {
			return err
		}
	}
	now := clk.Now()
	emitNanos := now.UnixNano()
	rs.mu.Lock()
	if d.p.shape == shapeEmit {
		var rows [][]dataflow.Result
		for _, o := range outs {
			for _, ch := range o.out {
				rows = append(rows, ch.res)
				for i, in := range ch.ingest {
					ms := dataflow.FloorDiv(in, 1e6)
					if ch.event != nil && ch.event[i] != math.MinInt64 {
						// A joined row: its later side row's event time.
						ms = ch.event[i] + d.src.EventTimeShift()
					}
					rs.latency.Observe(emitNanos, ms, in)
				}
				rs.emissions += int64(len(ch.res))
			}
		}
		rs.sink.writeRows(b.seq, rows)
	} else {
		for _, o := range results {
			ev := o.maxEv
			if d.p.timeIdx >= 0 {
				// Read at emission: a paced filler sets the shift when it
				// writes its first record, which may be after Run started.
				ev += d.src.EventTimeShift()
			}
			rs.latency.Observe(emitNanos, ev, o.maxIng)
		}
		rs.emissions += int64(len(results))
		rs.sink.write(b.seq, results)
		if rs.cfg.Trace {
			rs.tracePanes(d.p, b, results, wmApplied, emitNanos)
		}
	}
	rs.late = append(rs.late, late...)
	rs.events += b.records
	rs.end = now
	rs.mu.Unlock()

	checkpointed := false
	if d.rs.ck != nil && (b.seq%int64(d.cfg.CheckpointEvery) == 0 || b.final) {
		n, err := d.checkpoint(b)
		if err != nil {
			return err
		}
		checkpointed = true
		rs.mu.Lock()
		rs.counters["checkpoints"]++
		rs.counters["checkpoint_bytes"] += int64(n)
		rs.mu.Unlock()
	}
	if r, ok := d.src.(Retainer); ok && d.retains(checkpointed) {
		for p, off := range b.after {
			if err := r.Retain(p, off); err != nil {
				return err
			}
		}
	}
	end := clk.Now()
	info := BatchInfo{
		Seq: b.seq, Time: time.UnixMilli(b.tMs), Ranges: b.ranges, End: b.after, Records: b.records,
		Submission: b.submitted, ProcessingStart: start, ProcessingEnd: end,
		SchedulingDelay: start.Sub(b.submitted), ProcessingDelay: end.Sub(start),
		QueuedBatches: queued, HeldBytes: b.held, RateLimit: b.rate, Watermark: wmApplied, Attempts: attempts,
		Emitted: len(results),
	}
	if d.p.shape == shapeEmit {
		for _, o := range outs {
			for _, ch := range o.out {
				info.Emitted += len(ch.res)
			}
		}
	}
	info.TotalDelay = info.SchedulingDelay + info.ProcessingDelay
	// The rate controller (2.10) runs on every completed batch.
	if d.cfg.Backpressure {
		if r, ok := d.pid.Compute(end.UnixMilli(), b.records, info.ProcessingDelay.Milliseconds(), info.SchedulingDelay.Milliseconds()); ok {
			d.mu.Lock()
			d.rate = r
			d.mu.Unlock()
		}
	}
	rs.mu.Lock()
	rs.batches = append(rs.batches, info)
	ts := end.Sub(rs.start).Seconds()
	add := func(name string, v float64) { rs.series[name] = append(rs.series[name], metrics.Point{T: ts, V: v}) }
	add("input_records", float64(b.records))
	add("scheduling_delay_ms", float64(info.SchedulingDelay.Milliseconds()))
	add("processing_delay_ms", float64(info.ProcessingDelay.Milliseconds()))
	add("total_delay_ms", float64(info.TotalDelay.Milliseconds()))
	add("queued_batches", float64(queued))
	add("held_bytes", float64(b.held))
	add("rate_limit", b.rate)
	if js := d.st.join; js != nil {
		_, _, _, held, batch := js.stats()
		add("join_held_rows", float64(held))
		add("join_emitted", float64(batch))
	}
	rs.counters["scheduling_delay_ms"] += info.SchedulingDelay.Milliseconds()
	rs.counters["max_scheduling_delay_ms"] = max(rs.counters["max_scheduling_delay_ms"], info.SchedulingDelay.Milliseconds())
	rs.counters["state_calls"] = d.st.stateCalls
	rs.counters["state_cells"] = int64(d.st.live())
	rs.counters["inverse_zero_keys"] = d.st.zeroKeys
	if js := d.st.join; js != nil {
		rows, late, emitted, held, _ := js.stats()
		rs.counters["join_left_rows"], rs.counters["join_right_rows"] = rows[0], rows[1]
		rs.counters["join_left_late"], rs.counters["join_right_late"] = late[0], late[1]
		rs.counters["join_held_rows"] = held
		rs.counters["join_emitted"] = emitted
	}
	rs.mu.Unlock()
	if d.cfg.OnBatch != nil {
		d.cfg.OnBatch(info)
	}
	return nil
}

// runRange runs the task's steps over the records of one offset range, in
// order, and checks that they cover the range exactly.
func (x *exec) runRange(ctx context.Context, r OffsetRange, recs []arrow.Record) error {
	base := r.From
	for _, rec := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := x.runRecord(rec, r.Partition, base); err != nil {
			return err
		}
		base += rec.NumRows()
	}
	if base != r.Until {
		return fmt.Errorf("microbatch: source returned %d records for partition %d offsets [%d, %d)", base-r.From, r.Partition, r.From, r.Until)
	}
	return nil
}

// joinTask runs the shared steps and both join sides over one offset
// range's records and hands the side rows to the driver; the join itself
// runs in the commit, on the join's state store.
func (d *driver) joinTask(ctx context.Context, x *exec, r OffsetRange, recs []arrow.Record) (*taskOut, error) {
	x.side.startTask()
	if err := x.runRange(ctx, r, recs); err != nil {
		return nil, err
	}
	o := &taskOut{side: x.side.rows, maxEvent: math.MinInt64}
	o.records = int64(len(o.side[0]) + len(o.side[1]))
	if d.cfg.Slow > 0 && o.records > 0 {
		if err := clock.Sleep(ctx, d.cfg.Clock, time.Duration(o.records)*d.cfg.Slow); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// commitJoin joins the batch's side rows in the join's state at the
// batch's watermark wm and runs each shard's joined rows through Join.Steps
// and the aggregation's task half (or the emit), the shards concurrently as
// the tasks of Spark's stage after the join's shuffle; the returned task
// outputs stand for the batch's tasks in the rest of the commit. Late side
// rows are added to late.
func (d *driver) commitJoin(b *batch, outs []*taskOut, wm int64, late []dataflow.LateRecord) ([]*taskOut, []dataflow.LateRecord, error) {
	js := d.st.join
	late = js.commit(outs, wm, b.seq, b.final, late)
	for len(d.joined) < len(js.shards) {
		x, err := d.p.newJoinedExec()
		if err != nil {
			return nil, nil, err
		}
		d.joined = append(d.joined, x)
	}
	res := make([]*taskOut, len(js.shards))
	var g errgroup.Group
	for i, sh := range js.shards {
		g.Go(func() error {
			x := d.joined[i]
			x.agg.startTask(math.MinInt64)
			if err := x.runRows(sh.out); err != nil {
				return err
			}
			res[i] = x.agg.finishTask()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return res, late, nil
}
