package recordstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/metrics"
	"github.com/weirlab/weir/recordstream/checkpoint"
	"github.com/weirlab/weir/recordstream/internal/acking"
)

type resKey struct {
	w   dataflow.Window
	key string
}

type sinkEntry struct {
	r        dataflow.Result
	maxIndex int64
}

type recKey struct {
	part int32
	off  int64
}

type sinkStats struct {
	emissions, duplicates, crashes, lost, ackerMsgs, ackerDropped int64
}

// sinkTask is the last bolt: it keeps the final value per window and key
// (the last pane with accumulating panes, the combination of all panes with
// discarding ones), or every record of a stateless pipeline, and measures
// the latency of every emission. One goroutine owns it.
//
//   - RS1 A pane whose index is not above the largest index already seen for
//     its window and key is a duplicate (a re-fire after a replay); it is
//     counted and still applied, as an at-least-once sink would.
//   - RS3 A pane of a window task's correction operator (RW4) holds only
//     replays of a fired processing-time window: it is added to the
//     window's value, as discarding panes are.
//   - RS2 In a stateless pipeline with acking, a record already seen under
//     another tree is a duplicate.
//   - RS4 A [dataflow.PaneMerged] notice moves the value kept for a session
//     that fired early panes to the session it merged into, so the sink
//     keeps only final sessions (dataflow's I8).
type sinkTask struct {
	*taskBase
	t    *topo
	acks []*edge

	windowed   bool
	discarding bool
	kinds      []dataflow.AggKind
	final      map[resKey]*sinkEntry
	rows       []dataflow.Result // a protocol's kept records (Trident, Dataflow)
	kept       keptRows          // Storm's modes' kept records
	slab       []dataflow.Value  // room for kept records' extra values
	seen       map[recKey]uint64
	keyIdx     []int
	valIdx     int
	extraIdx   []int
	key        []byte
	slowDebt   time.Duration
	nowc       int64        // clock reading, refreshed per batch
	eos        []bool       // per input channel
	eosN       int          // channels ended
	proto      boltProtocol // nil: Storm's modes
	txn        *eoSink      // exactly-once: where emissions go
	latency    metrics.Latency
	stats      sinkStats
	tr         *tracker                 // stateless with acking: counts duplicate rows against the budget (RB1)
	trace      *[]dataflow.PaneEmission // Config.Trace: where received panes go (the exactly-once runner's, across incarnations); nil: off
}

// tracePane keeps pane tp, received at now, in the trace when tracing.
func (s *sinkTask) tracePane(tp *tuple, now int64) {
	if s.trace == nil {
		return
	}
	*s.trace = append(*s.trace, dataflow.PaneEmission{Window: tp.Win, Key: tp.Row[0].S, Index: tp.Aux, Timing: paneTiming(tp),
		Increment: tp.Partition&paneIncrement != 0, EmitNanos: now, MaxEventTime: tp.Time, MaxIngestNanos: tp.Ingest,
		Watermark: dataflow.Time(tp.Offset), Task: int(tp.Src)})
}

func (s *sinkTask) init() error {
	t := s.t
	s.eos = make([]bool, len(s.inputs))
	s.latency = metrics.NewLatency().Since(t.now())
	if a := t.agg; a != nil {
		s.windowed = true
		s.discarding = a.Accumulation == dataflow.Discarding
		for _, g := range a.Aggs {
			s.kinds = append(s.kinds, g.Kind)
		}
		s.final = map[resKey]*sinkEntry{}
		if r := t.then; r != nil {
			// The regroup tasks' panes: their aggregates' kinds.
			s.kinds = s.kinds[:0]
			for _, g := range r.Aggs {
				s.kinds = append(s.kinds, g.Kind)
			}
		}
		return nil
	}
	em := t.p.Emit
	for _, k := range em.Key {
		s.keyIdx = append(s.keyIdx, t.last.Index(k))
	}
	s.valIdx = t.last.Index(em.Value)
	for _, x := range em.Extra {
		s.extraIdx = append(s.extraIdx, t.last.Index(x))
	}
	if s.valIdx < 0 {
		return fmt.Errorf("recordstream: output column %q not in %v", em.Value, t.last)
	}
	if t.acking {
		s.seen = map[recKey]uint64{}
		s.tr = t.newTracker()
	}
	return nil
}

func (s *sinkTask) pane(tp *tuple, now int64) error {
	if paneTiming(tp) == dataflow.PaneMerged {
		return s.merge(tp)
	}
	s.stats.emissions++
	s.latency.Observe(now, int64(tp.Time)+s.t.src.EventTimeShift(), tp.Ingest)
	if s.t.cfg.CountingSink {
		return nil
	}
	k := resKey{w: tp.Win, key: tp.Row[0].S}
	e := s.final[k]
	if e == nil {
		e = &sinkEntry{r: dataflow.Result{Window: tp.Win, Key: k.key, Value: tp.Row[1], Extra: slices.Clone(tp.Row[2:])}, maxIndex: tp.Aux}
		if len(e.r.Extra) == 0 {
			e.r.Extra = nil
		}
		s.final[k] = e
		return nil
	}
	if tp.Aux <= e.maxIndex {
		s.stats.duplicates++ // RS1
	}
	e.maxIndex = max(e.maxIndex, tp.Aux)
	if !s.discarding && tp.Partition&paneIncrement == 0 {
		e.r.Value = tp.Row[1]
		copy(e.r.Extra, tp.Row[2:])
		return nil
	}
	return s.combine(e, tp.Row[1], tp.Row[2:])
}

// combine adds a pane's value and extra values to e's (discarding panes,
// increments).
func (s *sinkTask) combine(e *sinkEntry, v dataflow.Value, extra []dataflow.Value) error {
	var err error
	if e.r.Value, err = dataflow.CombineResults(s.kinds[0], e.r.Value, v); err != nil {
		return err
	}
	for i := range e.r.Extra {
		if e.r.Extra[i], err = dataflow.CombineResults(s.kinds[i+1], e.r.Extra[i], extra[i]); err != nil {
			return err
		}
	}
	return nil
}

// merge applies a PaneMerged notice (RS4): the key's session tp.Win, which
// fired early panes, merged into a larger session; its value moves there.
// Discarding panes combine with what the larger session has; accumulating
// ones give way to it (its next pane covers both).
func (s *sinkTask) merge(tp *tuple) error {
	k := resKey{w: tp.Win, key: tp.Row[0].S}
	e := s.final[k]
	if e == nil {
		return nil
	}
	delete(s.final, k)
	into := resKey{w: mergedInto(tp), key: k.key}
	t := s.final[into]
	if t == nil {
		e.r.Window = into.w
		s.final[into] = e
		return nil
	}
	t.maxIndex = max(t.maxIndex, e.maxIndex)
	if !s.discarding {
		return nil
	}
	return s.combine(t, e.r.Value, e.r.Extra)
}

func (s *sinkTask) record(ctx context.Context, tp *tuple, now int64) error {
	s.stats.emissions++
	s.latency.Observe(now, int64(tp.Time)+s.t.src.EventTimeShift(), tp.Ingest)
	row := tp.Row
	r := dataflow.Result{Key: s.recordKey(row), Value: row[s.valIdx]}
	if n := len(s.extraIdx); n > 0 {
		r.Extra = s.extraValues(n)
		for i, x := range s.extraIdx {
			r.Extra[i] = row[x]
		}
	}
	switch {
	case s.t.cfg.CountingSink:
	case s.proto == nil:
		s.kept.add(r)
	default:
		s.rows = append(s.rows, r) // the protocol (Trident, Dataflow) keeps s.rows with its state
	}
	if s.t.acking && s.t.join != nil {
		// A joined row: RS2 does not apply (one record joins many rows);
		// it is acked if anchored (RJ2).
		if tp.Root == 0 {
			return nil
		}
		return s.sendAck(ctx, tp.Root, tp.Edge)
	}
	if s.seen == nil {
		return nil
	}
	k := recKey{part: tp.Partition, off: tp.Offset}
	if root, ok := s.seen[k]; ok && root != tp.Root {
		s.stats.duplicates++ // RS2
	} else if !ok {
		s.seen[k] = tp.Root
	}
	return s.sendAck(ctx, tp.Root, tp.Edge)
}

// recordKey is the key text of a stateless pipeline's output row. A key
// of one string column is that string, shared (strings are immutable);
// another key is built in the key buffer and copied.
func (s *sinkTask) recordKey(row dataflow.Row) string {
	if len(s.keyIdx) == 1 {
		if v := row[s.keyIdx[0]]; v.K == dataflow.KindString {
			return v.S
		}
	}
	s.key = dataflow.AppendKey(s.key[:0], row, s.keyIdx)
	return string(s.key)
}

// extraSlabValues is how many extra values the sink allocates at once for
// the records it keeps.
const extraSlabValues = 1024

// extraValues returns room for a kept record's n extra values, cut from a
// slab (capacity n, so an append never reaches the next record's), so
// the sink allocates once per extraSlabValues values, not once per record.
func (s *sinkTask) extraValues(n int) []dataflow.Value {
	if len(s.slab) < n {
		s.slab = make([]dataflow.Value, max(n, extraSlabValues))
	}
	v := s.slab[:n:n]
	s.slab = s.slab[n:]
	return v
}

// resultChunkLen is the length of each chunk of keptRows.
const resultChunkLen = 4096

// keptRows holds the records a stateless pipeline's sink keeps in Storm's
// modes, in chunks of resultChunkLen: appending never copies what is kept,
// so the sink's time per record stays flat where a doubling slice would
// stop it to copy everything kept so far (a pause of tens of ms at
// millions of records, which a paced run's latency shows).
type keptRows struct {
	chunks [][]dataflow.Result
	n      int
}

func (k *keptRows) add(r dataflow.Result) {
	if n := len(k.chunks); n == 0 || len(k.chunks[n-1]) == resultChunkLen {
		k.chunks = append(k.chunks, make([]dataflow.Result, 0, resultChunkLen))
	}
	last := &k.chunks[len(k.chunks)-1]
	*last = append(*last, r)
	k.n++
}

// appendTo appends every kept record to dst, in order.
func (k *keptRows) appendTo(dst []dataflow.Result) []dataflow.Result {
	dst = slices.Grow(dst, k.n)
	for _, c := range k.chunks {
		dst = append(dst, c...)
	}
	return dst
}

func (s *sinkTask) sendAck(ctx context.Context, root, val uint64) error {
	s.stats.ackerMsgs++
	e := s.acks[s.t.ackerFor(root)]
	tp, err := e.slot(ctx)
	if err != nil {
		return err
	}
	tp.Kind, tp.Aux, tp.Root, tp.Edge, tp.Src = msgAck, int64(acking.AckAck), root, val, int32(s.id)
	return e.commit(ctx)
}

// results returns the kept results in file order.
func (s *sinkTask) results() []dataflow.Result {
	if s.t.cfg.CountingSink {
		return nil
	}
	if !s.windowed {
		rows := s.rows
		if s.kept.n > 0 {
			rows = s.kept.appendTo(slices.Clip(s.rows))
		}
		dataflow.SortResults(rows)
		return rows
	}
	out := make([]dataflow.Result, 0, len(s.final))
	for _, e := range s.final {
		out = append(out, e.r)
	}
	dataflow.SortResults(out)
	return out
}

// handle handles one message from input channel ch: a pane, a record of a
// stateless pipeline, or end-of-stream.
func (s *sinkTask) handle(ctx context.Context, ch int, tp *tuple) error {
	switch tp.Kind {
	case msgPane:
		s.tracePane(tp, s.nowc)
		if s.txn != nil {
			return s.transact(tp)
		}
		return s.pane(tp, s.nowc)
	case msgData:
		s.slowDebt += s.t.cfg.Faults.Slow
		if s.txn != nil {
			return s.transact(tp)
		}
		return s.record(ctx, tp, s.nowc)
	case msgEOS:
		if !s.eos[ch] {
			s.eos[ch] = true
			s.eosN++
		}
	}
	return nil
}

// crash loses the queued tuples (stateless pipelines only: the kept results
// count as delivered output).
func (s *sinkTask) crash() {
	s.stats.crashes++
	for range len(s.in.ch) {
		b := <-s.in.ch
		for i := range b.ts {
			tp := &b.ts[i]
			switch tp.Kind {
			case msgEOS:
				if ch := s.chanOf[tp.Src]; !s.eos[ch] {
					s.eos[ch] = true
					s.eosN++
				}
			case msgData:
				s.stats.lost++
			}
		}
		b.release()
	}
}

// run is the sink's loop, for every guarantee.
func (s *sinkTask) run(ctx context.Context) error {
	if s.proto != nil {
		if err := s.proto.start(ctx, s); err != nil {
			return err
		}
	}
	for s.eosN < len(s.eos) {
		b, err := s.receive(ctx, s.proto)
		if err != nil {
			return err
		}
		if b == nil {
			continue // a notice
		}
		start := s.t.now()
		// A stateless pipeline's records are taken in by the sink, so it is
		// the task that crashes; a windowed one's by the window bolts.
		s.nowc = s.t.now()
		err = s.deliver(ctx, b, s.proto, s, !s.windowed && s.t.join == nil)
		b.release()
		switch {
		case errors.Is(err, errCrashed):
			if s.proto != nil {
				if err := s.proto.crash(); err != nil {
					return err
				}
			}
			s.crash()
			if s.proto != nil {
				if err := s.proto.restart(ctx, s); err != nil {
					return err
				}
			}
		case err != nil:
			return err
		}
		if s.tr != nil {
			// A duplicate is one more row for a record already kept: the
			// growth replays add, where the rest is the run's output.
			var n [numTracked]int64
			n[trackDup] = s.stats.duplicates
			if err := s.tr.publish(&n, 0); err != nil {
				return err
			}
		}
		if err := s.pay(ctx, &s.slowDebt); err != nil {
			return err
		}
		s.busy.Add(s.t.now() - start)
		if len(s.in.ch) == 0 {
			for _, e := range s.acks {
				if err := e.flush(ctx); err != nil {
					return err
				}
			}
		}
	}
	if s.proto != nil {
		if err := s.proto.finish(ctx, s); err != nil {
			return err
		}
	}
	for _, e := range s.acks {
		tp, err := e.slot(ctx)
		if err != nil {
			return err
		}
		tp.Kind, tp.Src = msgEOS, int32(s.id)
		if err := e.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// lost counts the records an injected crash loses (stateless pipelines).
func (s *sinkTask) lost(rest []tuple) { s.stats.lost += int64(len(rest)) }

// forward has nothing to do: the sink has no outputs.
func (s *sinkTask) forward(context.Context, checkpoint.ID) error { return nil }

// transact writes a pane (or a stateless record) to the exactly-once
// mode's sink: the current transaction of the two-phase-commit sink, or the
// idempotent sink.
func (s *sinkTask) transact(tp *tuple) error {
	var e checkpoint.Emission
	switch tp.Kind {
	case msgPane:
		if paneTiming(tp) == dataflow.PaneMerged {
			e.Result = dataflow.Result{Window: tp.Win, Key: tp.Row[0].S}
			e.Pane, e.Merged, e.Into = int(tp.Aux), true, mergedInto(tp)
			return s.txn.write(e, s.nowc) // a notice, not an emission (RS4)
		}
		e.Result = dataflow.Result{Window: tp.Win, Key: tp.Row[0].S, Value: tp.Row[1]}
		if len(tp.Row) > 2 {
			e.Result.Extra = slices.Clone(tp.Row[2:])
		}
		e.Pane = int(tp.Aux)
	case msgData:
		row := tp.Row
		s.key = dataflow.AppendKey(s.key[:0], row, s.keyIdx)
		e.Result = dataflow.Result{Key: string(s.key), Value: row[s.valIdx]}
		for _, x := range s.extraIdx {
			e.Result.Extra = append(e.Result.Extra, row[x])
		}
	}
	e.MaxEventTime, e.MaxIngestNanos = tp.Time, tp.Ingest
	s.stats.emissions++
	return s.txn.write(e, s.nowc)
}
