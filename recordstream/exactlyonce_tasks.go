package recordstream

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/recordstream/checkpoint"
)

// The task loops of the exactly-once mode. They reuse the at-most-once
// tasks' record handling (the chain, the window operator, the sink's
// result rows) and add the barrier protocol: spouts inject barriers and
// snapshot their offsets; bolts and the sink pass every input through a
// [checkpoint.Gate], snapshot their state when it says so and forward the
// barrier.

// runEO is the spout loop: take a checkpoint trigger if one is waiting,
// emit a burst of records, send watermarks; at the end of the partition send
// the final watermark and EOS.
func (s *spoutTask) runEO(ctx context.Context, inc *incarnation) error {
	t := s.t
	end := t.src.End(s.part)
	windows := t.agg != nil
	hw := &inc.r.hw[s.part]
	for {
		select {
		case id := <-inc.trig[s.part]:
			if err := s.checkpointEO(ctx, inc, id); err != nil {
				return err
			}
		default:
		}
		start := t.now()
		s.nowc = start
		progressed := 0
		for progressed < spoutBurst {
			if s.next >= end {
				end = t.src.End(s.part)
				if s.next >= end {
					break
				}
			}
			if err := s.emitRecord(ctx, s.next); err != nil {
				return err
			}
			s.next++
			if s.next > *hw {
				*hw = s.next
				s.stats.events++
			} else {
				s.stats.replayed++
			}
			progressed++
		}
		if windows {
			if err := s.maybeWatermark(ctx, progressed < spoutBurst); err != nil {
				return err
			}
		}
		s.busy.Add(t.now() - start)
		if progressed == spoutBurst {
			continue
		}
		if err := s.flushAll(ctx); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		err := t.src.Wait(wctx, s.part, s.next)
		cancel()
		switch {
		case errors.Is(err, io.EOF):
			return s.finishEO(ctx, inc)
		case err == nil, errors.Is(err, context.DeadlineExceeded):
			end = t.src.End(s.part)
		default:
			return err
		}
	}
}

// checkpointEO snapshots the spout's next offset for checkpoint id and
// sends the barrier downstream: every record before it is in the
// downstream state, every record after it is replayed from the offset.
func (s *spoutTask) checkpointEO(ctx context.Context, inc *incarnation, id checkpoint.ID) error {
	payload := checkpoint.AppendSection(nil, "offset", binary.AppendVarint(nil, s.next))
	if err := inc.snapshot(ctx, writeReq{id: id, task: checkpoint.TaskID(s.id), payload: payload}); err != nil {
		return err
	}
	for _, e := range s.out {
		if err := sendBarrier(ctx, e, s.id, id); err != nil {
			return err
		}
	}
	return nil
}

// finishEO ends the partition: the final watermark and EOS downstream.
// The finished spout still takes part in checkpoints until the job is done:
// it acknowledges with its final offset and sends no barrier (its outputs
// have ended, and the gates downstream count only open channels), so
// checkpoints go on while other partitions are still being read.
func (s *spoutTask) finishEO(ctx context.Context, inc *incarnation) error {
	if s.t.agg != nil {
		if err := s.broadcast(ctx, MsgWatermark, dataflow.MaxTime); err != nil {
			return err
		}
	}
	if err := s.broadcast(ctx, MsgEOS, 0); err != nil {
		return err
	}
	if err := s.flushAll(ctx); err != nil {
		return err
	}
	select {
	case inc.finished <- struct{}{}:
	default:
	}
	payload := checkpoint.AppendSection(nil, "offset", binary.AppendVarint(nil, s.next))
	for {
		select {
		case id := <-inc.trig[s.part]:
			if err := inc.snapshot(ctx, writeReq{id: id, task: checkpoint.TaskID(s.id), payload: payload}); err != nil {
				return err
			}
		case <-inc.jobDone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// runEO is the windowed bolt's loop: every input goes through the gate,
// which says when to process a record, snapshot or finish.
func (w *windowTask) runEO(ctx context.Context, inc *incarnation, st *eoTask) error {
	t := w.t
	slow := t.cfg.Faults.Slow
	mode := inc.r.cp.mode()
	var (
		cbErr   error
		ended   bool
		pending []byte // unaligned: the state taken at the first barrier
	)
	onRecord := func(tp *Tuple) error {
		switch tp.Kind {
		case MsgData:
			w.stats.records++
			st.records++
			w.slowDebt += slow
			return w.onData(ctx, tp)
		case MsgWatermark:
			ch := st.chanOf[tp.Src]
			if tp.Time == dataflow.MaxTime {
				w.tracker.Finish(ch)
			} else {
				w.tracker.Advance(ch, tp.Time, dataflow.Time(t.now()/1e6))
			}
			return w.advance(ctx)
		}
		return nil
	}
	// state encodes the bolt's state as a framed snapshot (the file header
	// left to fill, writeReq.framed): the operator's state, the largest part,
	// goes straight into the buffer, behind room for the file header and
	// the "op" section header, so that it is never copied on its way to the
	// file. The buffer is sized from the previous snapshot, and is the
	// previous snapshot's when the writer has given it back (eoTask.spare).
	state := func() ([]byte, error) {
		const room = checkpoint.SnapshotHeaderSize + 1 + len("op") + binary.MaxVarintLen64
		var buf []byte
		select {
		case b := <-st.spare:
			// Too small for a grown state, AppendSnapshot grows it once
			// while it holds only the room: no copy of state bytes.
			buf = b[:room]
		default:
			buf = make([]byte, room, room+max(st.snapHint, 4096))
		}
		buf, err := w.AppendSnapshot(buf)
		if err != nil {
			return nil, err
		}
		var head [1 + len("op") + binary.MaxVarintLen64]byte
		h := checkpoint.AppendString(head[:0], "op")
		h = binary.AppendUvarint(h, uint64(len(buf)-room))
		at := room - len(h) - checkpoint.SnapshotHeaderSize
		copy(buf[room-len(h):], h)
		late := binary.AppendUvarint(nil, uint64(len(w.late)))
		for _, r := range w.late {
			late = binary.AppendVarint(late, int64(r.Partition))
			late = binary.AppendVarint(late, r.Offset)
			late = binary.AppendVarint(late, int64(r.Watermark))
			late = checkpoint.AppendString(late, r.Key)
		}
		late = binary.AppendVarint(late, st.records)
		buf = checkpoint.AppendSection(buf[at:], "late", late)
		st.snapHint = len(buf) + len(buf)/8
		return buf, nil
	}
	gate, err := checkpoint.NewGate(checkpoint.GateConfig{Mode: mode, Channels: len(w.inputs)}, func(o checkpoint.Output[*Tuple]) {
		if cbErr != nil {
			return
		}
		switch o.Kind {
		case checkpoint.OutRecord:
			cbErr = onRecord(o.Record)
		case checkpoint.OutSnapshot:
			var b []byte
			if b, cbErr = state(); cbErr != nil {
				return
			}
			if mode == checkpoint.Unaligned {
				pending = b
			} else {
				cbErr = inc.snapshot(ctx, writeReq{id: o.ID, task: checkpoint.TaskID(w.id), payload: b, framed: true, recycle: st.spare, align: o.Alignment})
			}
			if cbErr == nil {
				cbErr = sendBarrier(ctx, w.out, w.id, o.ID)
			}
		case checkpoint.OutChannelState:
			b := checkpoint.AppendSection(pending, "channels", appendTuples(nil, slices.Concat(o.ChannelState...)))
			pending = nil
			cbErr = inc.snapshot(ctx, writeReq{id: o.ID, task: checkpoint.TaskID(w.id), payload: b, framed: true, recycle: st.spare, align: o.Alignment})
		case checkpoint.OutAbort:
			inc.decline(ctx, o.ID, o.Reason)
		case checkpoint.OutEnd:
			ended = true
		}
	})
	if err != nil {
		return err
	}
	// C6: the restored channel state goes first.
	for _, tp := range st.replay {
		if err := onRecord(tp); err != nil {
			return err
		}
	}
	st.replay = nil
	early := t.agg.Trigger.EarlyEvery > 0
	var arena tupleArena
	for !ended {
		var b *batch
		select {
		case b = <-w.in.ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		start := t.now()
		if err := feedGate(t, b, st.chanOf, gate, &arena, mode, MsgWatermark, true, &cbErr); err != nil {
			return err
		}
		if early {
			w.op.OnProcessingTime(dataflow.Time(t.now() / 1e6))
			if err := w.sendPanes(ctx); err != nil {
				return err
			}
		}
		w.spin()
		w.busy.Add(t.now() - start)
		if len(w.in.ch) == 0 {
			if err := w.out.flush(ctx); err != nil {
				return err
			}
		}
	}
	if err := w.finish(ctx); err != nil {
		return err
	}
	tp, err := w.out.slot(ctx)
	if err != nil {
		return err
	}
	tp.Kind, tp.Src = MsgEOS, int32(w.id)
	return w.out.flush(ctx)
}

// runEO is the sink's loop: panes (or records) go into the current
// transaction of the two-phase-commit sink, which pre-commits at the
// snapshot and commits when the coordinator says the checkpoint completed.
func (s *sinkTask) runEO(ctx context.Context, inc *incarnation, st *eoSink) error {
	t := s.t
	mode := inc.r.cp.mode()
	var (
		cbErr   error
		ended   bool
		pending []byte
	)
	onRecord := func(tp *Tuple) error {
		var e checkpoint.Emission
		switch tp.Kind {
		case MsgPane:
			e.Result = dataflow.Result{Window: tp.Win, Key: tp.Row[0].S, Value: tp.Row[1]}
			if len(tp.Row) > 2 {
				e.Result.Extra = slices.Clone(tp.Row[2:])
			}
			e.Pane = int(tp.Aux)
		case MsgData:
			row := tp.Row
			s.key = dataflow.AppendKey(s.key[:0], row, s.keyIdx)
			e.Result = dataflow.Result{Key: string(s.key), Value: row[s.valIdx]}
			for _, x := range s.extraIdx {
				e.Result.Extra = append(e.Result.Extra, row[x])
			}
		default:
			return nil
		}
		e.MaxEventTime, e.MaxIngestNanos = tp.Time, tp.Ingest
		s.stats.emissions++
		if st.tpc != nil {
			st.tpc.WriteEmission(e)
			return nil
		}
		inc.r.idem.Write(e.Result, e.Pane)
		inc.r.latency.Observe(t.now(), int64(tp.Time)+s.shift, tp.Ingest)
		return nil
	}
	state := func(id checkpoint.ID) []byte {
		var txns []byte
		if st.tpc != nil {
			st.tpc.PreCommit(id)
			txns = st.tpc.AppendSnapshot(nil)
		}
		return checkpoint.AppendSection(nil, "txns", txns)
	}
	gate, err := checkpoint.NewGate(checkpoint.GateConfig{Mode: mode, Channels: len(s.inputs)}, func(o checkpoint.Output[*Tuple]) {
		if cbErr != nil {
			return
		}
		switch o.Kind {
		case checkpoint.OutRecord:
			cbErr = onRecord(o.Record)
		case checkpoint.OutSnapshot:
			b := state(o.ID)
			if mode == checkpoint.Unaligned {
				pending = b
				return
			}
			cbErr = inc.snapshot(ctx, writeReq{id: o.ID, task: checkpoint.TaskID(s.id), payload: b, align: o.Alignment})
		case checkpoint.OutChannelState:
			b := checkpoint.AppendSection(pending, "channels", appendTuples(nil, slices.Concat(o.ChannelState...)))
			pending = nil
			cbErr = inc.snapshot(ctx, writeReq{id: o.ID, task: checkpoint.TaskID(s.id), payload: b, align: o.Alignment})
		case checkpoint.OutAbort:
			inc.decline(ctx, o.ID, o.Reason)
		case checkpoint.OutEnd:
			ended = true
		}
	})
	if err != nil {
		return err
	}
	for _, tp := range st.replay {
		if err := onRecord(tp); err != nil {
			return err
		}
	}
	st.replay = nil
	var arena tupleArena
	for !ended {
		var b *batch
		select {
		case b = <-s.in.ch:
		case id := <-inc.notify:
			if st.tpc != nil {
				st.tpc.NotifyComplete(id)
			}
			continue
		case <-ctx.Done():
			return ctx.Err()
		}
		start := t.now()
		// A stateless pipeline's records are taken in by the sink, so it is
		// the task that crashes; a windowed one's by the window bolts.
		if err := feedGate(t, b, st.chanOf, gate, &arena, mode, MsgPane, !s.windowed, &cbErr); err != nil {
			return err
		}
		s.busy.Add(t.now() - start)
	}
	if st.tpc != nil {
		st.tpc.EndOfInput()
	}
	return nil
}
