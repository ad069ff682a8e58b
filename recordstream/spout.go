package recordstream

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/invariants"
	"github.com/weirlab/weir/internal/metrics"
	"github.com/weirlab/weir/recordstream/checkpoint"
	"github.com/weirlab/weir/recordstream/internal/acking"
)

// pendingInfo is what a spout keeps per tracked tuple: the offset to replay,
// the emit time for the complete latency and, for the stall check
// ([spoutTask.stuck]), the lowest watermark at which the windowed bolts can
// ack the tree ([topo.releaseBound] of its tuples; math.MaxInt64 when the
// check is off).
type pendingInfo struct {
	off  int64
	emit int64
	exp  int64
}

type spoutStats struct {
	events, emitted, acked, failed, timedOut, replayed int64
	ackerMsgs, ackerDropped                            int64
	// timeline counts acked, timed-out and replayed trees per
	// SampleInterval since the topology started (nil without sampling).
	timeline *treeTimeline
}

// treeTimeline counts tree outcomes in buckets of width ns since start,
// owned by one spout's goroutine; [topo.report] sums the spouts' into
// per-second series.
type treeTimeline struct {
	start, width              int64
	acked, timedOut, replayed []int64
}

// add counts one event in *c at clock reading now (ns).
func (l *treeTimeline) add(c *[]int64, now int64) {
	if l == nil {
		return
	}
	i := max(0, (now-l.start)/l.width)
	for int64(len(*c)) <= i {
		*c = append(*c, 0)
	}
	(*c)[i]++
}

// spoutTask reads one log partition record by record, runs the chained
// stateless steps, and emits the results with the offset's tree as message
// id (as Storm's KafkaSpout does). One goroutine owns it.
type spoutTask struct {
	*taskBase
	t     *topo
	part  int
	next  int64
	out   []*edge // window tasks (fields grouping) or the sink (global)
	acks  []*edge
	drain *drainer
	chain *chain
	plan  *readPlan // pruned reads (RP1); nil reads whole records
	row   dataflow.Row
	key   []byte
	rng   *rand.Rand
	drop  *rand.Rand

	pending *acking.Pending[pendingInfo] // tracked trees (at-least-once)
	seq     uint64                       // the last tree's sequence number ([acking.RootID])
	replay  []int64
	tr      *tracker      // counts pending and replay against the budget (RB1); nil without acking
	nowc    int64         // coarse clock, refreshed per burst
	proto   spoutProtocol // nil: Storm's spout
	holder  spoutHolder   // proto, if it holds records back
	mw      *millSpout    // the Dataflow mode's protocol (also proto); nil otherwise
	hw      *int64        // the highest offset ever read + 1 (across restarts in exactly-once)
	hwOwn   int64

	// retainer is the source's Retainer (nil: none, or a mode that
	// reports nothing); retained is the last position reported, retainAt
	// the clock reading of the next report.
	retainer Retainer
	retained int64
	retainAt int64

	// current record
	curOff    int64
	curIngest int64
	curRoot   uint64
	curXOR    uint64
	curN      int
	curReplay bool
	curExp    int64 // the lowest releaseBound of its tuples (stallRule)

	// stallRule says the stall check of [spoutTask.stuck] applies;
	// releasable holds pending roots its last scan found releasable.
	stallRule  bool
	releasable []uint64

	maxT dataflow.Time
	// A join pipeline's spout: each side's chain (its Steps, after the
	// shared ones) and the largest event time of its rows.
	sides     [2]*chain
	maxTSide  [2]dataflow.Time
	sinceWM   int
	lastWM    int64 // clock reading of the last watermark sent
	endSent   bool
	lastEndWM int64
	eosAckers int
	lastAck   int64 // clock reading of the last completed tree, or of having nothing pending
	stats     spoutStats
	complete  *metrics.Histogram
	timer     clock.Timer
	ooo       dataflow.Time
	procTime  bool
}

func (s *spoutTask) init() error {
	t := s.t
	schemas, err := t.p.Schemas()
	if err != nil {
		return err
	}
	if s.chain, err = compileChain(t.p.Steps, schemas); err != nil {
		return err
	}
	s.chain.emit = s.emitTuple
	if t.join != nil {
		s.chain.emit = s.emitShared
		for side, ss := range [2][]dataflow.Schema{t.js.Left, t.js.Right} {
			sd := t.join.Left
			if side == dataflow.JoinRight {
				sd = t.join.Right
			}
			if s.sides[side], err = compileChain(sd.Steps, ss); err != nil {
				return err
			}
			s.maxTSide[side] = dataflow.MinTime
		}
		s.sides[dataflow.JoinLeft].emit = s.emitLeft
		s.sides[dataflow.JoinRight].emit = s.emitRight
		s.ooo = dataflow.Time(dataflow.Millis(t.join.Watermark.MaxOutOfOrderness))
	}
	if s.plan, err = newReadPlan(t.p, t.src); err != nil {
		return err
	}
	s.row = zeroRow(t.p.Input)
	s.rng = t.rng(s.id)
	s.drop = rand.New(rand.NewPCG(t.cfg.Faults.Seed, uint64(s.id)+1000))
	s.complete = metrics.NewHistogram()
	s.maxT = dataflow.MinTime
	if t.restore != nil {
		s.next = t.restore[s.part]
	}
	s.hw = &s.hwOwn
	if g := t.cfg.Guarantee; g == AtMostOnce || g == AtLeastOnce {
		s.retainer, _ = t.src.(Retainer) // exactly once the checkpoints report (resumePoints); see Retainer
	}
	if a := t.agg; a != nil && t.join == nil {
		s.ooo = dataflow.Time(dataflow.Millis(a.Watermark.MaxOutOfOrderness))
		s.procTime = a.Domain == dataflow.ProcessingTime
	}
	if t.acking {
		s.stallRule = t.cfg.MaxSpoutPending > 0 && t.join == nil && t.releaseBounded()
		s.pending = acking.NewPending(t.cfg.MessageTimeout, t.now(), s.onExpire)
		s.tr = t.newTracker()
		if t.cfg.SampleInterval > 0 {
			s.stats.timeline = &treeTimeline{start: t.now(), width: int64(t.cfg.SampleInterval)}
		}
	}
	return nil
}

func (s *spoutTask) onExpire(_ uint64, info pendingInfo) {
	s.stats.timedOut++
	if l := s.stats.timeline; l != nil {
		l.add(&l.timedOut, s.nowc)
	}
	s.replay = append(s.replay, info.off)
}

// onResults handles a batch from the ackers: tree results and EOS. It never
// sends, so it is safe to run while blocked on a full queue (RQ4).
func (s *spoutTask) onResults(b *batch) {
	for i := range b.ts {
		m := &b.ts[i]
		switch m.Kind {
		case msgEOS:
			s.eosAckers++
		case msgAckResult:
			if s.mw != nil {
				s.mw.acked(m)
				continue
			}
			if s.pending == nil {
				continue
			}
			switch acking.AckKind(m.Aux) {
			case acking.AckAck:
				if info, ok := s.pending.Remove(m.Root); ok {
					s.stats.acked++
					if l := s.stats.timeline; l != nil {
						l.add(&l.acked, s.nowc)
					}
					s.lastAck = s.nowc
					s.complete.RecordNanos(s.nowc - info.emit)
				} // else: it timed out already; a late ack is ignored
			case acking.AckFail:
				if info, ok := s.pending.Remove(m.Root); ok {
					s.stats.failed++
					s.replay = append(s.replay, info.off)
				}
			case acking.AckResetTimeout:
				if info, ok := s.pending.Get(m.Root); ok {
					s.pending.Put(m.Root, info)
				}
			}
		}
	}
	b.release()
}

func (s *spoutTask) tracked() bool { return s.pending != nil }

// emitTuple is the chain's sink: one output row becomes one tuple to its
// window task (fields grouping on the key) or to the sink.
func (s *spoutTask) emitTuple(ctx context.Context, row dataflow.Row) error {
	t := s.t
	if s.mw != nil && s.mw.skip(s.curOff, s.curN) {
		s.curN++ // a retry: this output was acknowledged (RD3)
		return nil
	}
	e := s.out[0]
	if len(s.out) > 1 {
		e = s.out[fields.choose(len(s.out), s.routeHash(row, t.keyIdx), 0)]
	}
	tp, err := e.slot(ctx)
	if err != nil {
		return err
	}
	tp.Kind = msgData
	tp.Src = int32(s.id)
	tp.Partition = int32(s.part)
	tp.Offset = s.curOff
	tp.Ingest = s.curIngest
	if t.proj == nil {
		tp.Row = append(tp.Row, row...)
	} else {
		for _, i := range t.proj { // RP2
			tp.Row = append(tp.Row, row[i])
		}
	}
	ts := dataflow.Time(s.curIngest / 1e6)
	if t.timeAt >= 0 {
		ts = row[t.timeAt].Time()
	}
	tp.Time = ts
	if ts > s.maxT {
		s.maxT = ts
	}
	if s.stallRule {
		s.curExp = min(s.curExp, t.releaseBound(ts))
	}
	if s.curReplay {
		tp.Aux = 1 // a replay: counted by the window bolt if it is accepted
	}
	if s.tracked() {
		edgeID := s.rng.Uint64()
		tp.Root, tp.Edge = s.curRoot, edgeID
		s.curXOR ^= edgeID
	}
	if s.mw != nil {
		tp.Edge = uint64(s.curN) // the id's index among the record's outputs (RD1)
		s.mw.sent(s.curOff, s.curN, ts, s.nowc)
	}
	s.curN++
	s.stats.emitted++
	return e.commit(ctx)
}

// routeHash is the fields grouping's hash of row's key columns idx: the
// hash of their key text ([dataflow.AppendKey]), as [topo.hashKey]
// computes it. A key of one string column is hashed in place
// (maphash.String equals maphash.Bytes of the same bytes, and a string's
// key text is its bytes), without copying it into the key buffer.
func (s *spoutTask) routeHash(row dataflow.Row, idx []int) uint64 {
	if len(idx) == 1 {
		if v := &row[idx[0]]; v.K == dataflow.KindString {
			return s.t.hashKeyString(v.S)
		}
	}
	s.key = dataflow.AppendKey(s.key[:0], row, idx)
	return s.t.hashKey(s.key)
}

// emitShared is a join pipeline's shared chain's sink: each output row
// goes through both sides' chains.
func (s *spoutTask) emitShared(ctx context.Context, row dataflow.Row) error {
	if err := s.sides[dataflow.JoinLeft].run(ctx, row); err != nil {
		return err
	}
	return s.sides[dataflow.JoinRight].run(ctx, row)
}

func (s *spoutTask) emitLeft(ctx context.Context, row dataflow.Row) error {
	return s.emitSide(ctx, dataflow.JoinLeft, row)
}

func (s *spoutTask) emitRight(ctx context.Context, row dataflow.Row) error {
	return s.emitSide(ctx, dataflow.JoinRight, row)
}

// emitSide is a side chain's sink: one side row becomes one tuple to its
// join task (fields grouping on the join key), its event time the side's
// TimeCol.
func (s *spoutTask) emitSide(ctx context.Context, side int, row dataflow.Row) error {
	t := s.t
	e := s.out[0]
	if len(s.out) > 1 {
		e = s.out[fields.choose(len(s.out), s.routeHash(row, t.sideKeyFull[side]), 0)]
	}
	tp, err := e.slot(ctx)
	if err != nil {
		return err
	}
	tp.Kind = msgData
	tp.Side = uint8(side)
	tp.Src = int32(s.id)
	tp.Partition = int32(s.part)
	tp.Offset = s.curOff
	tp.Ingest = s.curIngest
	for _, i := range t.sideProj[side] {
		tp.Row = append(tp.Row, row[i])
	}
	ts := row[t.sideTimeAt[side]].Time()
	tp.Time = ts
	if ts > s.maxTSide[side] {
		s.maxTSide[side] = ts
	}
	if s.curReplay {
		tp.Aux = 1
	}
	if s.tracked() {
		edgeID := s.rng.Uint64()
		tp.Root, tp.Edge = s.curRoot, edgeID
		s.curXOR ^= edgeID
	}
	s.curN++
	s.stats.emitted++
	return e.commit(ctx)
}

// emitRecord reads offset off and pushes it through the chain; a tracked
// record with outputs is put in the pending map and announced to its acker
// with the XOR of its edge ids.
func (s *spoutTask) emitRecord(ctx context.Context, off int64) error {
	return s.emitRecordAs(ctx, off, false)
}

// emitRecordAs is emitRecord, marking the tuples as a replay or not.
func (s *spoutTask) emitRecordAs(ctx context.Context, off int64, replay bool) error {
	var (
		row  dataflow.Row
		ing  int64
		pass = true
	)
	if s.plan != nil {
		row, ing, pass = s.plan.read(s.part, off, s.row)
	} else {
		row, ing = s.t.src.Read(s.part, off, s.row)
	}
	s.row = row
	s.curOff, s.curIngest, s.curN, s.curXOR, s.curReplay = off, ing, 0, 0, replay
	s.curExp = math.MaxInt64
	if s.tracked() && pass {
		s.seq++
		s.curRoot = acking.RootID(s.part, s.seq) // dense ids (acking's ID1)
	}
	if pass {
		// The read plan has already evaluated the leading filter (RP1):
		// the chain starts after it.
		if err := s.chain.from(ctx, s.plan.chainStart(), row); err != nil {
			return err
		}
	}
	s.sinceWM++
	if !s.tracked() || s.curN == 0 {
		// Untracked, or filtered out inside the chain: nothing to wait for
		// (RC1). Storm would send an INIT with value 0 and ack at once.
		return nil
	}
	s.pending.Put(s.curRoot, pendingInfo{off: off, emit: s.nowc, exp: s.curExp})
	return s.sendAck(ctx, acking.AckInit, s.curRoot, s.curXOR)
}

func (s *spoutTask) sendAck(ctx context.Context, kind acking.AckKind, root, val uint64) error {
	s.stats.ackerMsgs++
	if p := s.t.cfg.Faults.DropAcks; p > 0 && s.drop.Float64() < p {
		s.stats.ackerDropped++
		return nil
	}
	e := s.acks[s.t.ackerFor(root)]
	tp, err := e.slot(ctx)
	if err != nil {
		return err
	}
	tp.Kind, tp.Aux, tp.Root, tp.Edge, tp.Src = msgAck, int64(kind), root, val, int32(s.id)
	return e.commit(ctx)
}

// broadcast sends a control message to every output task.
func (s *spoutTask) broadcast(ctx context.Context, kind msgKind, tm dataflow.Time) error {
	if s.t.join != nil && kind == msgWatermark {
		// Both sides' inputs of the join tasks.
		if err := s.broadcastSide(ctx, kind, tm, dataflow.JoinLeft); err != nil {
			return err
		}
		return s.broadcastSide(ctx, kind, tm, dataflow.JoinRight)
	}
	return s.broadcastSide(ctx, kind, tm, 0)
}

// broadcastSide is broadcast for one side's input of the join tasks.
func (s *spoutTask) broadcastSide(ctx context.Context, kind msgKind, tm dataflow.Time, side uint8) error {
	for _, e := range s.out {
		tp, err := e.slot(ctx)
		if err != nil {
			return err
		}
		tp.Kind, tp.Time, tp.Src, tp.Side = kind, tm, int32(s.id), side
		if kind == msgWatermark && s.mw != nil {
			tp.Seq = s.mw.low // the GC bound, in band (RD6), found with the watermark's hold
		}
		if err := e.commit(ctx); err != nil {
			return err
		}
	}
	return nil
}

// maybeWatermark sends the spout's watermark after a burst: every
// WatermarkEvery records or WatermarkInterval of processing time, whichever
// comes first, and whenever the spout ran out of input (idle), so
// downstream windows fire without waiting for more data.
func (s *spoutTask) maybeWatermark(ctx context.Context, idle bool) error {
	if s.sinceWM == 0 {
		return nil
	}
	due := idle || s.sinceWM >= s.t.cfg.WatermarkEvery ||
		(s.t.cfg.WatermarkInterval > 0 && s.nowc-s.lastWM >= int64(s.t.cfg.WatermarkInterval))
	if !due {
		return nil
	}
	s.sinceWM, s.lastWM = 0, s.nowc
	if s.t.join != nil {
		return s.sideWatermarks(ctx)
	}
	if wm := s.watermark(); wm != dataflow.MinTime {
		return s.broadcast(ctx, msgWatermark, wm)
	}
	return nil
}

// sideWatermarks sends each join side's watermark: the largest event time
// of the side's rows minus the join's bound of out-of-orderness, for each
// side that has rows.
func (s *spoutTask) sideWatermarks(ctx context.Context) error {
	for side, m := range s.maxTSide {
		if m == dataflow.MinTime {
			continue
		}
		if err := s.broadcastSide(ctx, msgWatermark, m-s.ooo, uint8(side)); err != nil {
			return err
		}
	}
	return nil
}

// watermark is the partition's watermark: the largest event time emitted
// minus the bound of out-of-orderness (processing time: the largest ingest
// time).
func (s *spoutTask) watermark() dataflow.Time {
	if s.maxT == dataflow.MinTime {
		return dataflow.MinTime
	}
	wm := s.maxT - s.ooo
	if s.procTime {
		wm = s.maxT
	}
	if s.mw != nil {
		wm = min(wm, s.mw.hold()) // RD5
	}
	return wm
}

func (s *spoutTask) flushAll(ctx context.Context) error {
	for _, e := range s.out {
		if err := e.flush(ctx); err != nil {
			return err
		}
	}
	for _, e := range s.acks {
		if err := e.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// ErrSpoutStalled is returned when a spout sits at max spout pending and no
// pending tree can complete: windowed bolts hold their tuples until the
// window expires, so a window holding more tuples than max spout pending can
// never fire (Storm checks this for count windows only). The spout reports
// it when it stalls ([spoutTask.stuck]): held back, with every pending tree
// held in a window its own watermark has not closed, which only more input
// (which it may not read) would close. Where that rule does not apply (the
// watermark can also move by idleness or processing time) or another spout
// holds the watermark back, it reports it after four message timeouts
// without a completed tree.
var ErrSpoutStalled = errors.New("recordstream: spout stalled at max spout pending: open windows hold more tuples than Config.MaxSpoutPending allows; raise it or set it to 0 (unlimited)")

func (s *spoutTask) checkStall() error {
	if s.t.cfg.MaxSpoutPending == 0 || (s.pending.Len() == 0 && len(s.replay) == 0) {
		s.lastAck = s.nowc
		return nil
	}
	if s.nowc-s.lastAck > 4*int64(s.t.cfg.MessageTimeout) {
		return fmt.Errorf("%w (spout %d, %d pending)", ErrSpoutStalled, s.part, s.pending.Len())
	}
	return nil
}

// releaseBounded reports whether a tree's release by the windowed bolts has
// a lower bound in the spouts' watermark ([topo.releaseBound]): windows in
// event time (fixed, sliding, sessions) without idleness, whose held tuples
// are acked only when the watermark passes their windows (RW1).
func (t *topo) releaseBounded() bool {
	a := t.agg
	if a == nil || a.Domain != dataflow.EventTime || a.Watermark.IdleTimeout > 0 {
		return false
	}
	switch a.Window.Kind {
	case dataflow.WindowFixed, dataflow.WindowSliding, dataflow.WindowSession:
		return true
	}
	return false
}

// releaseBound is the lowest watermark at which a windowed bolt acks a tuple
// of event time ts (when [topo.releaseBounded]): for fixed and sliding
// windows the expiry [windowTask.hold] gives it (the end of its last window
// plus the allowed lateness); for sessions, which end at least a gap after
// their last record, ts plus the gap and the lateness. A tuple later than
// that is dropped as late and acked at once (RW2), which the bound covers:
// late means below it.
func (t *topo) releaseBound(ts dataflow.Time) int64 {
	a := t.agg
	fn, late := a.Window, dataflow.Millis(a.AllowedLateness)
	if fn.Kind == dataflow.WindowSession {
		return int64(ts) + fn.Gap + late
	}
	last := int64(ts) - dataflow.FloorMod(int64(ts)-fn.Offset, fn.Period)
	return last + fn.Size + late
}

// stuck reports whether the spout, held back at max spout pending, can never
// emit again (with [spoutTask.stallRule]). A tree completes only once the
// windowed bolts' watermark reaches its [topo.releaseBound]; their watermark
// is at most this spout's (the minimum over spouts), which the spout has
// sent and which rises only when it reads a new record. Replays do not
// raise it, and a held-back spout reads nothing new. So if every pending
// tree's bound is above the spout's watermark, no tree completes, and
// timeouts only replay the same records into the same windows: a stall.
//
// A scan of the pending map keeps the roots it finds releasable; as the
// watermark never decreases, one still pending proves the spout not stuck,
// so the map is scanned again only once they have all completed or timed
// out.
func (s *spoutTask) stuck() bool {
	if !s.stallRule || s.endSent {
		return false // the end-of-input watermark releases every tree
	}
	for n := len(s.releasable); n > 0; n = len(s.releasable) {
		if _, ok := s.pending.Get(s.releasable[n-1]); ok {
			return false
		}
		s.releasable = s.releasable[:n-1]
	}
	wm := int64(s.watermark())
	s.pending.Each(func(root uint64, info pendingInfo) {
		if info.exp <= wm {
			s.releasable = append(s.releasable, root)
		}
	})
	return len(s.releasable) == 0
}

// spoutBurst is how many records a spout emits between looks at its inbox
// and the clock.
const spoutBurst = 64

// endWatermarkEvery is how often a spout at the end of its partition sends
// the end-of-input watermark again while trees are pending, so that a
// restarted bolt learns it too.
const endWatermarkEvery = int64(10 * time.Millisecond)

// run is the spout loop of mechanics.md 1.3, for every guarantee: consume
// acker results, take a checkpoint trigger, time out, emit replays first and
// new records while under max spout pending, send watermarks; at the end of
// the partition wait for every tree, then send end-of-stream. When there is
// nothing to do it waits in one select on its inbox, the log's change
// signal, the protocol's triggers, one reused timer (the next timeout) and
// ctx: it never polls.
func (s *spoutTask) run(ctx context.Context) error {
	t := s.t
	s.timer = t.cfg.Clock.NewTimer(time.Hour)
	s.timer.Stop()
	defer s.timer.Stop()
	var trig <-chan checkpoint.ID
	if s.proto != nil {
		trig = s.proto.triggers()
		s.holder, _ = s.proto.(spoutHolder)
	}
	end := t.src.End(s.part)
	atEnd := false
	windows := t.agg != nil || t.join != nil
	for {
		// 0. stop when asked: with replays or records always at hand the
		// loop below never blocks, where it would look at ctx.
		if err := ctx.Err(); err != nil {
			return err
		}
		// 1. acker results, every iteration.
		for drained := false; !drained; {
			select {
			case b := <-s.in.ch:
				s.onResults(b)
			default:
				drained = true
			}
		}
		// 2. a checkpoint trigger.
		select {
		case id := <-trig:
			if err := s.proto.checkpoint(ctx, s, id); err != nil {
				return err
			}
		default:
		}
		start := t.now()
		s.nowc = start
		// 3. timeouts.
		if s.tracked() {
			if err := s.checkStall(); err != nil {
				return err
			}
			s.pending.Tick(s.nowc)
		}
		// 4. a burst: replays first, then new records.
		progressed, err := s.burst(ctx, &end)
		if err != nil {
			return err
		}
		if err := s.retain(); err != nil {
			return err
		}
		if err := s.publish(); err != nil {
			return err
		}
		if windows || s.mw != nil { // Dataflow: the watermark carries the GC bound (RD6)
			if err := s.maybeWatermark(ctx, progressed < spoutBurst); err != nil {
				return err
			}
		}
		s.busy.Add(t.now() - start)
		if progressed == spoutBurst {
			continue
		}
		// Out of work for now: flush partial batches (latency).
		if err := s.flushAll(ctx); err != nil {
			return err
		}
		// 5. wait for something to do.
		changed := t.src.Changed() // before reading End: no lost wake-up
		if !atEnd && s.next >= end {
			closed := t.src.Closed()
			if end = t.src.End(s.part); s.next >= end && closed {
				atEnd = true
			}
		}
		switch {
		case s.protoHolds():
			// Only the protocol's trigger (Trident: a batch to emit) gives
			// work.
			if err := s.wait(ctx, trig, nil, 0); err != nil {
				return err
			}
		case s.heldBack():
			// Only an acker result (or a timeout) frees a slot, unless
			// none can come. At the end of the partition the end-of-input
			// watermark closes every window, held back or not.
			at := int64(0)
			if atEnd && windows {
				if err := s.endWatermark(ctx); err != nil {
					return err
				}
				at = s.lastEndWM + endWatermarkEvery
			}
			if s.stuck() {
				return fmt.Errorf("%w (spout %d, %d pending, watermark %v)", ErrSpoutStalled, s.part, s.pending.Len(), s.watermark())
			}
			if err := s.wait(ctx, trig, nil, s.deadline(at)); err != nil {
				return err
			}
		case len(s.replay) > 0 || s.next < end:
			// More to emit.
		case !atEnd:
			if err := s.wait(ctx, trig, changed, s.deadline(0)); err != nil {
				return err
			}
		default:
			// The end of the partition: say so (again now and then while
			// trees are pending).
			if windows {
				if err := s.endWatermark(ctx); err != nil {
					return err
				}
			}
			if (!s.tracked() || s.pending.Len() == 0) && (s.proto == nil || !s.proto.unfinished()) {
				if err := s.finish(ctx); err != nil {
					return err
				}
				if s.proto != nil {
					return s.proto.afterEnd(ctx, s)
				}
				return nil
			}
			at := int64(0)
			if windows {
				at = s.lastEndWM + endWatermarkEvery
			}
			if err := s.wait(ctx, trig, nil, s.deadline(at)); err != nil {
				return err
			}
		}
	}
}

// retain reports to a [Retainer] source, at most every WatermarkInterval,
// the oldest offset the spout may still read: its next offset, or at least
// once the lowest offset of a pending tree or a queued replay. A pending
// tree's offset is read by walking the pending map, which is why it is
// not done per record.
func (s *spoutTask) retain() error {
	if s.retainer == nil || s.nowc < s.retainAt {
		return nil
	}
	s.retainAt = s.nowc + int64(s.t.cfg.WatermarkInterval)
	off := s.next
	if s.tracked() {
		for _, r := range s.replay {
			off = min(off, r)
		}
		s.pending.Each(func(_ uint64, info pendingInfo) { off = min(off, info.off) })
	}
	if off <= s.retained {
		return nil
	}
	s.retained = off
	return s.retainer.Retain(s.part, off)
}

// endWatermark sends the end-of-input watermark (MaxTime) at the end of the
// partition, and again every endWatermarkEvery while trees are pending, so
// that a restarted bolt learns it too.
func (s *spoutTask) endWatermark(ctx context.Context) error {
	now := s.t.now()
	if s.endSent && now-s.lastEndWM < endWatermarkEvery {
		return nil
	}
	wm := dataflow.MaxTime
	if s.mw != nil {
		wm = s.mw.hold() // RD5: MaxTime once every tuple is acknowledged
	}
	if err := s.broadcast(ctx, msgWatermark, wm); err != nil {
		return err
	}
	if err := s.flushAll(ctx); err != nil {
		return err
	}
	s.endSent, s.lastEndWM = true, now
	return nil
}

// burst emits up to spoutBurst records: replays first, then new ones, while
// under max spout pending (replays too: they re-enter through nextTuple in
// Storm). end is the partition's end offset as last read.
func (s *spoutTask) burst(ctx context.Context, end *int64) (int, error) {
	progressed := 0
	for progressed < spoutBurst && !s.heldBack() && !s.protoHolds() {
		if len(s.replay) > 0 {
			off := s.replay[0]
			s.replay = s.replay[1:]
			if len(s.replay) == 0 {
				s.replay = s.replay[:0:cap(s.replay)]
			}
			s.stats.replayed++
			if l := s.stats.timeline; l != nil {
				l.add(&l.replayed, s.nowc)
			}
			if err := s.emitRecordAs(ctx, off, true); err != nil {
				return progressed, err
			}
			progressed++
			continue
		}
		if s.next >= *end {
			if *end = s.t.src.End(s.part); s.next >= *end {
				break
			}
		}
		if err := s.emitNext(ctx); err != nil {
			return progressed, err
		}
		progressed++
	}
	return progressed, nil
}

// emitNext emits the record at the spout's next offset and moves past it.
func (s *spoutTask) emitNext(ctx context.Context) error {
	if err := s.emitRecord(ctx, s.next); err != nil {
		return err
	}
	s.next++
	if s.next > *s.hw {
		*s.hw = s.next
		s.stats.events++
	} else {
		s.stats.replayed++ // read again after a restore (exactly-once, Trident)
	}
	return nil
}

// protoHolds reports whether the spout's protocol holds new records back
// (Trident: the spout emits only the batches its coordinator starts).
func (s *spoutTask) protoHolds() bool { return s.holder != nil && s.holder.holds() }

// publish counts the spout's pending trees and queued replays against the
// budget (RB1). With max spout pending m the two together never exceed m
// (RB2): a new record is read only while fewer than m trees are pending and
// no replay is queued, and a timeout, a fail or a replay moves a tree
// between them.
func (s *spoutTask) publish() error {
	if s.tr == nil {
		return nil
	}
	np, nr := s.pending.Len(), len(s.replay)
	if m := s.t.cfg.MaxSpoutPending; invariants.Enabled && m > 0 && np+nr > m {
		invariants.Assertf(false, "RB2: spout %d holds %d pending trees and %d queued replays, over max spout pending %d", s.part, np, nr, m)
	}
	var n [numTracked]int64
	n[trackPending], n[trackReplay] = int64(np), int64(nr)
	return s.tr.publish(&n, s.stats.timedOut)
}

// heldBack reports whether max spout pending stops the spout from emitting.
func (s *spoutTask) heldBack() bool {
	return s.tracked() && s.t.cfg.MaxSpoutPending > 0 && s.pending.Len() >= s.t.cfg.MaxSpoutPending
}

// deadline returns the clock reading at which the spout must look again
// without being woken (the next rotation of its pending map, the stall
// check), or at if that is earlier and not 0; 0 means none.
func (s *spoutTask) deadline(at int64) int64 {
	if s.tracked() && (s.pending.Len() > 0 || len(s.replay) > 0) {
		d := s.pending.NextRotation()
		if s.t.cfg.MaxSpoutPending > 0 {
			d = min(d, s.lastAck+4*s.pending.Timeout()+1)
		}
		if at == 0 || d < at {
			at = d
		}
	}
	return at
}

// wait blocks until an acker result arrives (handled here), the log
// changes (changed, nil to ignore), a checkpoint trigger arrives (handled
// here), the clock reaches deadline (0: no deadline) or ctx is done.
func (s *spoutTask) wait(ctx context.Context, trig <-chan checkpoint.ID, changed <-chan struct{}, deadline int64) error {
	var timeout <-chan time.Time
	if deadline != 0 {
		d := time.Duration(deadline - s.t.now())
		if d <= 0 {
			return nil
		}
		s.timer.Reset(d)
		defer s.timer.Stop() // Go >= 1.23: no stale tick after Stop
		timeout = s.timer.C()
	}
	select {
	case b := <-s.in.ch:
		s.onResults(b)
	case <-changed:
	case id := <-trig:
		return s.proto.checkpoint(ctx, s, id)
	case <-timeout:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// finish sends EOS downstream and to the ackers, then drains the inbox until
// every acker has said EOS (late acker results are ignored).
func (s *spoutTask) finish(ctx context.Context) error {
	if err := s.broadcast(ctx, msgEOS, 0); err != nil {
		return err
	}
	for _, e := range s.acks {
		tp, err := e.slot(ctx)
		if err != nil {
			return err
		}
		tp.Kind, tp.Src = msgEOS, int32(s.id)
		if err := e.commit(ctx); err != nil {
			return err
		}
	}
	if err := s.flushAll(ctx); err != nil {
		return err
	}
	for s.eosAckers < len(s.acks) {
		select {
		case b := <-s.in.ch:
			s.onResults(b)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
