package recordstream

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
	"github.com/weirlab/weir/recordstream/checkpoint"
	"github.com/weirlab/weir/recordstream/internal/trident"
)

// One incarnation of the Trident topology: its batch coordinator and the
// protocols in the tasks' slots. A batch-end marker is a msgBarrier whose
// Aux is the batch's txid: spouts send it after a batch's records, window
// tasks after the output of their commit of it.

// tridentInc is one run of the topology between two crashes.
type tridentInc struct {
	r *tridentRunner
	t *topo

	trig       []chan checkpoint.ID // per spout: txids to emit; 0: finish
	notify     []chan checkpoint.ID // per committer (window tasks, or a stateless sink): txids to commit
	processed  chan uint64          // a committer has every input's marker of a txid
	committed  chan uint64          // the sink committed a txid
	committers int
}

func (r *tridentRunner) newIncarnation() (*tridentInc, error) {
	cfg := r.cfg
	cfg.Guarantee = Trident
	r.mu.Lock()
	offsets := slices.Clone(r.committedEnd)
	maxT := slices.Clone(r.committedMaxT)
	first := r.committed + 1
	r.mu.Unlock()
	t, err := compile(r.p, r.src, cfg, offsets)
	if err != nil {
		return nil, err
	}
	t.taken.Store(r.taken)
	t.seed = r.seed // keys reach the same window task in every incarnation
	pending := r.tc.MaxBatchesPending
	inc := &tridentInc{r: r, t: t, committed: make(chan uint64, pending+1)}
	for _, s := range t.spouts {
		ch := make(chan checkpoint.ID, pending+2)
		inc.trig = append(inc.trig, ch)
		s.proto, s.hw, s.maxT = &tridentSpout{inc: inc, trig: ch}, &r.hw[s.part], maxT[s.part]
	}
	newBolt := func(b *taskBase, committer bool) *tridentBolt {
		p := &tridentBolt{inc: inc, next: make([]uint64, len(b.inputs)), open: map[uint64]*tridentBatch{}}
		for i := range p.next {
			p.next[i] = first
		}
		if committer {
			p.notify = make(chan checkpoint.ID, pending+1)
			inc.notify = append(inc.notify, p.notify)
		}
		return p
	}
	for _, w := range t.windows {
		p := newBolt(w.taskBase, true)
		p.w, w.proto = w, p
		if v, ok := r.windows.Get(w.index); ok {
			if err := w.restoreBlob(v.Curr.state); err != nil {
				return nil, err
			}
		}
	}
	s := t.sink
	p := newBolt(s.taskBase, !s.windowed)
	p.s, s.proto = s, p
	s.latency = r.latency
	if r.cfg.Trace {
		s.trace = &r.panes
	}
	r.final.All(func(k resKey, v trident.Value[*sinkEntry]) {
		if v.Curr != nil {
			s.final[k] = v.Curr.clone()
		}
	})
	inc.committers = len(inc.notify)
	inc.processed = make(chan uint64, inc.committers*(pending+1))
	return inc, nil
}

// run runs the incarnation to the end of the input, or until a task
// crashes (errCrashed) or fails. Every goroutine it starts has exited when
// it returns.
func (inc *tridentInc) run(ctx context.Context) error {
	inc.t.start = inc.t.now()
	return inc.t.runTasks(ctx, []func(context.Context) error{inc.coordinate}, nil)
}

func (inc *tridentInc) topology() *topo { return inc.t }

// send delivers v on ch unless ctx is done first.
func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// coordinate is the master batch coordinator's goroutine (models.md §1.1):
// it starts batches while fewer than MaxBatchesPending are in flight, at
// most one per EmitInterval and only when the log has new records (or the
// final batch is due), issues the commit of the lowest txid once every
// committer processed it, and tells the spouts to finish once the final
// batch committed (TR2).
func (inc *tridentInc) coordinate(ctx context.Context) error {
	r, t := inc.r, inc.t
	r.mu.Lock()
	next, done := r.committed+1, r.done
	r.mu.Unlock()
	finish := func() error {
		for _, ch := range inc.trig {
			if err := send(ctx, ch, 0); err != nil {
				return nil
			}
		}
		return nil
	}
	if done {
		return finish()
	}
	lowest := next // the lowest uncommitted txid
	processed := map[uint64]int{}
	started := map[uint64]int64{}
	committing := false
	var commitAt int64
	finalTx := uint64(0)
	lastStart := int64(-1 << 62)
	timer := t.cfg.Clock.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	ends := make([]int64, t.src.Partitions())
	interval := int64(r.tc.EmitInterval)
	for {
		if !committing && lowest < next && processed[lowest] == inc.committers {
			committing, commitAt = true, t.now()
			delete(processed, lowest)
			for _, ch := range inc.notify {
				if err := send(ctx, ch, checkpoint.ID(lowest)); err != nil {
					return nil
				}
			}
		}
		var changed <-chan struct{}
		var wake <-chan time.Time
		for finalTx == 0 && next-lowest < uint64(r.tc.MaxBatchesPending) {
			now := t.now()
			if d := lastStart + interval - now; d > 0 {
				timer.Reset(time.Duration(d))
				wake = timer.C()
				break
			}
			changed = t.src.Changed() // before End: no lost wake-up
			closed := t.src.Closed()
			for p := range ends {
				ends[p] = t.src.End(p)
			}
			m, ok := r.beginBatch(next, closed, ends)
			if !ok {
				break // wait for records
			}
			changed = nil
			if m.final {
				finalTx = next
			}
			for _, ch := range inc.trig {
				if err := send(ctx, ch, checkpoint.ID(next)); err != nil {
					return nil
				}
			}
			started[next], lastStart = now, now
			next++
		}
		select {
		case id := <-inc.processed:
			processed[id]++
		case id := <-inc.committed:
			now := t.now()
			r.commit.RecordNanos(now - commitAt)
			r.batch.RecordNanos(now - started[id])
			delete(started, id)
			committing = false
			lowest++
			if id == finalTx {
				return finish()
			}
		case <-changed:
		case <-wake:
		case <-ctx.Done():
			return nil
		}
	}
}

// tridentSpout is a spout's Trident protocol: it holds the spout's own
// loop back and emits the batches the coordinator starts.
type tridentSpout struct {
	inc  *tridentInc
	trig chan checkpoint.ID
	done bool // the final batch committed: the spout may finish
}

func (p *tridentSpout) triggers() <-chan checkpoint.ID { return p.trig }

func (p *tridentSpout) holds() bool { return !p.done }

// checkpoint emits batch id (TR1): the partition's records of the batch,
// the watermark after them (the end-of-input one in the final batch, TR6)
// and the batch-end marker on every output. Id 0 lets the spout finish.
func (p *tridentSpout) checkpoint(ctx context.Context, s *spoutTask, id checkpoint.ID) error {
	if id == 0 {
		p.done = true
		return nil
	}
	r, txid := p.inc.r, uint64(id)
	start, end, final := r.rangeOf(txid, s.part)
	s.next = start
	s.nowc = s.t.now()
	for s.next < end {
		if err := s.emitNext(ctx); err != nil {
			return err
		}
	}
	if s.t.agg != nil {
		wm := s.watermark()
		if final {
			wm = dataflow.MaxTime
		}
		if wm != dataflow.MinTime {
			if err := s.broadcast(ctx, msgWatermark, wm); err != nil {
				return err
			}
		}
	}
	s.sinceWM = 0 // the batch carried the watermark
	r.emitted(txid, s.part, s.maxT)
	for _, e := range s.out {
		if err := sendBarrier(ctx, e, s.id, id); err != nil {
			return err
		}
	}
	return nil
}

func (p *tridentSpout) afterEnd(context.Context, *spoutTask) error { return nil }

// tridentBatch is the input of one batch a bolt holds until its commit
// (Trident's TrackedBatch): copies of the tuples, in arrival order, with
// their input channels.
type tridentBatch struct {
	ends int // input channels whose marker arrived
	ts   []tuple
	chs  []int32
	vals []dataflow.Value
}

// add appends a copy of tp from channel ch. The batch's slices are reused
// from batch to batch, so a steady run allocates nothing per record.
func (b *tridentBatch) add(ch int, tp *tuple) {
	at := len(b.vals)
	b.vals = append(b.vals, tp.Row...)
	b.ts = append(b.ts, *tp)
	b.ts[len(b.ts)-1].Row = b.vals[at:len(b.vals):len(b.vals)]
	b.chs = append(b.chs, int32(ch))
}

func (b *tridentBatch) reset() {
	clear(b.ts)
	clear(b.vals)
	b.ends, b.ts, b.chs, b.vals = 0, b.ts[:0], b.chs[:0], b.vals[:0]
}

// tridentBolt is the Trident protocol of a window task or the sink (TR4,
// TR5): it keeps each batch's input apart until the batch's commit. A
// committer (window tasks; the sink of a stateless pipeline) reports a
// batch processed once every input's marker arrived and commits it when
// the coordinator says so; the sink of a windowed pipeline, downstream of
// committers, commits a batch once every window task's marker arrived.
type tridentBolt struct {
	inc    *tridentInc
	w      *windowTask // nil for the sink
	s      *sinkTask   // nil for window tasks
	notify chan checkpoint.ID
	next   []uint64 // per input channel: the txid its open segment belongs to
	open   map[uint64]*tridentBatch
	free   []*tridentBatch
	ended  int
	out    []tuple // the panes of the current commit (window tasks)
	// touched says, for each key of the current sink commit, whether the
	// batch applies to it (T3: a transactional replay does not).
	touched map[resKey]bool
	rowsOf  map[recKey][]dataflow.Result
}

func (p *tridentBolt) start(context.Context, bolt) error { return nil }

func (p *tridentBolt) batch(txid uint64) *tridentBatch {
	b := p.open[txid]
	if b == nil {
		if n := len(p.free); n > 0 {
			b, p.free = p.free[n-1], p.free[:n-1]
		} else {
			b = &tridentBatch{}
		}
		p.open[txid] = b
	}
	return b
}

func (p *tridentBolt) input(ctx context.Context, b bolt, ch int, tp *tuple) error {
	switch tp.Kind {
	case msgEOS:
		// The spouts finish only after the final batch committed; what
		// follows it on a channel belongs to no batch.
		if p.ended++; p.ended == len(p.next) {
			eos := tuple{Kind: msgEOS}
			for ch := range p.next {
				if err := b.handle(ctx, ch, &eos); err != nil {
					return err
				}
			}
		}
		return nil
	case msgBarrier:
		txid := uint64(tp.Aux)
		if txid != p.next[ch] {
			return fmt.Errorf("recordstream: trident: input %d ended batch %d while batch %d was open", ch, txid, p.next[ch])
		}
		p.next[ch]++
		bt := p.batch(txid)
		if bt.ends++; bt.ends < len(p.next) {
			return nil
		}
		if p.notify != nil {
			return send(ctx, p.inc.processed, txid)
		}
		return p.commit(ctx, txid)
	}
	p.batch(p.next[ch]).add(ch, tp)
	return nil
}

func (p *tridentBolt) endBatch(context.Context, bolt) error { return nil }

func (p *tridentBolt) notices() <-chan checkpoint.ID { return p.notify }

func (p *tridentBolt) notice(ctx context.Context, id checkpoint.ID) error {
	return p.commit(ctx, uint64(id))
}

// crash fails every batch in flight: the topology restarts (TR3).
func (p *tridentBolt) crash() error { return errCrashed }

func (p *tridentBolt) finish(context.Context, bolt) error { return nil }

// commit applies batch txid (TR4, TR5) and frees its input.
func (p *tridentBolt) commit(ctx context.Context, txid uint64) error {
	bt := p.open[txid]
	if bt == nil || bt.ends < len(p.next) {
		return fmt.Errorf("recordstream: trident: commit of batch %d before every input ended it", txid)
	}
	var err error
	if p.w != nil {
		err = p.commitWindow(ctx, txid, bt)
	} else {
		err = p.commitSink(ctx, txid, bt)
	}
	delete(p.open, txid)
	bt.reset()
	p.free = append(p.free, bt)
	return err
}

// commitWindow applies batch txid to the window task's state under the
// Trident rules (TR4), keeps the state and the batch's output as the
// task's Trident value, and sends the output and the marker to the sink.
func (p *tridentBolt) commitWindow(ctx context.Context, txid uint64, bt *tridentBatch) error {
	w, r := p.w, p.inc.r
	r.mu.Lock()
	stored, ok := r.windows.Get(w.index)
	r.mu.Unlock()
	_, hasBase, apply, err := trident.Begin(r.windows.Kind(), stored, ok, txid)
	if err != nil {
		return fmt.Errorf("recordstream: %s: %w", w.name, err)
	}
	if !apply {
		// T3, transactional: the state holds the batch; its output goes
		// again, as Trident's state emits the stored values.
		r.count("skipped_commits")
		for i := range stored.Curr.out {
			if err := w.out.put(ctx, &stored.Curr.out[i]); err != nil {
				return err
			}
		}
		return w.forward(ctx, checkpoint.ID(txid))
	}
	if ok && stored.Txid == txid {
		// T3, opaque: back to the value before the earlier attempt.
		r.count("recomputed_commits")
		if hasBase {
			err = w.restoreBlob(stored.Prev.state)
		} else {
			w.late = w.late[:0]
			err = w.reset()
		}
		if err != nil {
			return err
		}
	}
	p.out = p.out[:0]
	w.tap = p.keep
	defer func() { w.tap = nil }()
	for i := range bt.ts {
		if err := w.handle(ctx, int(bt.chs[i]), &bt.ts[i]); err != nil {
			return err
		}
	}
	if w.t.agg.Trigger.EarlyEvery > 0 {
		w.op.OnProcessingTime(dataflow.Time(w.t.now() / 1e6))
		if err := w.sendPanes(ctx); err != nil {
			return err
		}
	}
	state, err := w.appendState(nil, 0)
	if err != nil {
		return err
	}
	v := windowValue{state: state, out: slices.Clone(p.out)}
	r.mu.Lock()
	r.windows.Put(w.index, txid, v)
	r.mu.Unlock()
	return w.forward(ctx, checkpoint.ID(txid))
}

// keep copies a pane the window task sends during a commit.
func (p *tridentBolt) keep(tp *tuple) {
	c := *tp
	c.Row = slices.Clone(tp.Row)
	p.out = append(p.out, c)
}

// commitSink applies batch txid to the sink's output state, per window and
// key (per record when stateless) under the Trident rules, and commits the
// batch with it (TR5).
func (p *tridentBolt) commitSink(ctx context.Context, txid uint64, bt *tridentBatch) error {
	s, r := p.s, p.inc.r
	s.nowc = s.t.now()
	if p.touched == nil {
		p.touched, p.rowsOf = map[resKey]bool{}, map[recKey][]dataflow.Result{}
	}
	clear(p.touched)
	clear(p.rowsOf)
	emissions, duplicates := s.stats.emissions, s.stats.duplicates
	r.mu.Lock()
	err := p.applySink(ctx, txid, bt)
	if err == nil {
		err = r.commitLocked(txid)
	}
	r.counters["emissions"] += s.stats.emissions - emissions
	r.counters["duplicates"] += s.stats.duplicates - duplicates
	r.mu.Unlock()
	if err != nil {
		return err
	}
	return send(ctx, p.inc.committed, txid)
}

// applySink is commitSink's work under the store's lock.
func (p *tridentBolt) applySink(ctx context.Context, txid uint64, bt *tridentBatch) error {
	s, r := p.s, p.inc.r
	for i := range bt.ts {
		tp := &bt.ts[i]
		switch tp.Kind {
		case msgPane:
			k := resKey{w: tp.Win, key: tp.Row[0].S}
			apply, err := p.beginKey(k, txid)
			if err != nil {
				return err
			}
			if paneTiming(tp) == dataflow.PaneMerged {
				in, err := p.beginKey(resKey{w: mergedInto(tp), key: k.key}, txid)
				if err != nil {
					return err
				}
				apply = apply && in
			}
			if !apply {
				continue
			}
		case msgData:
			k := recKey{part: tp.Partition, off: tp.Offset}
			rows, seen := p.rowsOf[k]
			if !seen {
				_, _, apply, err := r.rows.Begin(k, txid)
				if err != nil {
					return err
				}
				if !apply {
					continue // T3, transactional: the record's rows are kept
				}
			}
			n := len(s.rows)
			if err := s.handle(ctx, int(bt.chs[i]), tp); err != nil {
				return err
			}
			p.rowsOf[k] = append(rows, s.rows[n:]...)
			s.rows = s.rows[:n] // the store keeps the output
			continue
		default:
			continue // watermarks: the sink keeps none
		}
		if err := s.handle(ctx, int(bt.chs[i]), tp); err != nil {
			return err
		}
	}
	for k, apply := range p.touched {
		if apply {
			var v *sinkEntry
			if e := s.final[k]; e != nil {
				v = e.clone()
			}
			r.final.Put(k, txid, v)
		}
	}
	for k, rows := range p.rowsOf {
		r.rows.Put(k, txid, rows)
	}
	return nil
}

// beginKey decides, on the first pane of key k in batch txid, whether the
// batch applies to it, and rolls the sink's entry back to the value before
// the batch for an opaque replay (T3).
func (p *tridentBolt) beginKey(k resKey, txid uint64) (bool, error) {
	if apply, seen := p.touched[k]; seen {
		return apply, nil
	}
	r, s := p.inc.r, p.s
	stored, ok := r.final.Get(k)
	base, hasBase, apply, err := trident.Begin(r.final.Kind(), stored, ok, txid)
	if err != nil {
		return false, fmt.Errorf("recordstream: sink: %w", err)
	}
	if apply && ok && stored.Txid == txid {
		if hasBase && base != nil {
			s.final[k] = base.clone()
		} else {
			delete(s.final, k)
		}
	}
	p.touched[k] = apply
	return apply, nil
}

// clone returns a copy of e that later panes do not change.
func (e *sinkEntry) clone() *sinkEntry {
	c := *e
	c.r.Extra = slices.Clone(e.r.Extra)
	return &c
}

// restoreBlob replaces the window task's state by a Trident value's.
func (w *windowTask) restoreBlob(state []byte) error {
	secs, err := wire.Sections(state)
	if err == nil {
		err = w.restoreState(secs)
	}
	if err != nil {
		return fmt.Errorf("recordstream: restore %s from its Trident state: %w", w.name, err)
	}
	return nil
}

// count adds one to counter name.
func (r *tridentRunner) count(name string) {
	r.mu.Lock()
	r.counters[name]++
	r.mu.Unlock()
}
