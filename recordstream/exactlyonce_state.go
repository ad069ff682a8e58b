package recordstream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
	"github.com/weirlab/weir/internal/snapshot"
	"github.com/weirlab/weir/recordstream/checkpoint"
)

// The encoding of the tasks' state in a checkpoint (RE3), and its restore.
//
//	spout:   "offset"   varint next offset
//	window:  "op"       the window operator's snapshot (dataflow)
//	         "late"     uvarint n, n × (partition, offset, watermark varints, key string)
//	         "channels" unaligned only: the channel state, as tuples
//	join:    "op"       the join operator's snapshot (dataflow)
//	         "late"     as the window's
//	         "channels" unaligned only
//	regroup: "op"       the regroup operator's snapshot (dataflow)
//	         "channels" unaligned only
//	sink:    "txns"     the two-phase-commit sink's pre-committed transactions
//	         "channels" unaligned only

// appendSpoutState encodes a spout's state: its next offset.
func appendSpoutState(dst []byte, next int64) []byte {
	return wire.AppendSection(dst, "offset", binary.AppendVarint(nil, next))
}

// restoreOffsets decodes every spout's next offset from c.
func restoreOffsets(c *snapshot.Checkpoint, partitions int) ([]int64, error) {
	offsets := make([]int64, partitions)
	for p := range offsets {
		secs, err := wire.Sections(c.Tasks[checkpoint.TaskID(p)])
		if err != nil {
			return nil, fmt.Errorf("recordstream: restore spout %d from %v: %w", p, c.ID, err)
		}
		d := wire.NewDecoder(secs["offset"])
		offsets[p] = d.Varint()
		if d.Err() != nil {
			return nil, fmt.Errorf("recordstream: restore spout %d from %v: %w", p, c.ID, d.Err())
		}
	}
	return offsets, nil
}

// appendState encodes the window bolt's state behind dst's room for the
// file header. The operator's state, the largest part, goes straight into
// the buffer behind room for the "op" section header, so that it is never
// copied on its way to the file; the section header is then written just
// before it and the result starts that much later in dst's array.
func (w *windowTask) appendState(dst []byte, _ checkpoint.ID) ([]byte, error) {
	return appendWindowState(dst, w.op.AppendSnapshot, appendLate(nil, w.late))
}

// beginState takes a view of the window bolt's state for a writer to
// encode off the task's goroutine (RE1): the operator's copy-on-write view
// (dataflow.SnapshotView) and the late records, encoded at once (they are
// few). The view is the state at this call whatever the task does next.
func (w *windowTask) beginState(checkpoint.ID) (encodeFunc, error) {
	v := w.op.BeginSnapshot()
	late := appendLate(nil, w.late)
	return func(ctx context.Context, dst []byte) ([]byte, error) {
		return appendWindowState(dst, func(b []byte) ([]byte, error) { return v.Encode(ctx, b) }, late)
	}, nil
}

// appendWindowState appends the window bolt's sections, the operator's
// state from op and the late records' late, to dst. The operator's state
// goes straight into the buffer behind room for the "op" section header,
// so that it is never copied; the section header is then written just
// before it and the result starts that much later in dst's array.
func appendWindowState(dst []byte, op func([]byte) ([]byte, error), late []byte) ([]byte, error) {
	const sec = 1 + len("op") + binary.MaxVarintLen64
	room := len(dst) + sec
	buf := append(dst, make([]byte, sec)...)
	buf, err := op(buf)
	if err != nil {
		return nil, err
	}
	var head [sec]byte
	h := wire.AppendString(head[:0], "op")
	h = binary.AppendUvarint(h, uint64(len(buf)-room))
	at := room - len(h) - len(dst)
	copy(buf[room-len(h):], h)
	return wire.AppendSection(buf[at:], "late", late), nil
}

// appendLate encodes late records (the "late" section).
func appendLate(dst []byte, ls []dataflow.LateRecord) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ls)))
	for _, r := range ls {
		dst = binary.AppendVarint(dst, int64(r.Partition))
		dst = binary.AppendVarint(dst, r.Offset)
		dst = binary.AppendVarint(dst, int64(r.Watermark))
		dst = wire.AppendString(dst, r.Key)
	}
	return dst
}

// decodeLate decodes a "late" section into dst[:0].
func decodeLate(dst []dataflow.LateRecord, b []byte) ([]dataflow.LateRecord, error) {
	dst = dst[:0]
	d := wire.NewDecoder(b)
	for n := d.Uvarint(); n > 0 && d.Err() == nil; n-- {
		l := dataflow.LateRecord{RecordRef: dataflow.RecordRef{Partition: int(d.Varint()), Offset: d.Varint()}, LostAbove: dataflow.MaxTime}
		l.Watermark = dataflow.Time(d.Varint())
		l.Key = d.String()
		dst = append(dst, l)
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("late records: %w", d.Err())
	}
	return dst, nil
}

// appendState encodes the join bolt's state: its operator and late
// records.
func (j *joinTask) appendState(dst []byte, _ checkpoint.ID) ([]byte, error) {
	op, err := j.op.AppendSnapshot(nil)
	if err != nil {
		return nil, err
	}
	dst = wire.AppendSection(dst, "op", op)
	return wire.AppendSection(dst, "late", appendLate(nil, j.late)), nil
}

// restoreState replaces the join bolt's operator state and late records by
// the sections [joinTask.appendState] wrote.
func (j *joinTask) restoreState(secs map[string][]byte) error {
	if err := j.op.Restore(secs["op"]); err != nil {
		return err
	}
	var err error
	j.late, err = decodeLate(j.late, secs["late"])
	return err
}

// appendState pre-commits the sink's current transaction as checkpoint id's
// and encodes the pre-committed transactions.
func (s *sinkTask) appendState(dst []byte, id checkpoint.ID) ([]byte, error) {
	var txns []byte
	if tpc := s.txn.tpc; tpc != nil {
		tpc.PreCommit(id)
		txns = tpc.AppendSnapshot(nil)
	}
	return wire.AppendSection(dst, "txns", txns), nil
}

// appendState encodes the regroup bolt's state: its operator.
func (g *regroupTask) appendState(dst []byte, _ checkpoint.ID) ([]byte, error) {
	op, err := g.op.AppendSnapshot(nil)
	if err != nil {
		return nil, err
	}
	return wire.AppendSection(dst, "op", op), nil
}

// restoreRegroup gives one regroup bolt its state: operator and channel
// state.
func (inc *incarnation) restoreRegroup(g *regroupTask, st *gateProtocol) error {
	c := inc.restored
	secs, err := wire.Sections(c.Tasks[checkpoint.TaskID(g.id)])
	if err != nil {
		return fmt.Errorf("recordstream: restore %s from %v: %w", g.name, c.ID, err)
	}
	if err := g.op.Restore(secs["op"]); err != nil {
		return fmt.Errorf("recordstream: restore %s from %v: %w", g.name, c.ID, err)
	}
	if st.replay, err = decodeTuples(secs["channels"]); err != nil {
		return fmt.Errorf("recordstream: restore %s channel state from %v: %w", g.name, c.ID, err)
	}
	return nil
}

// restore gives the windowed bolts and the sink their state from the
// restored checkpoint (the spouts took their offsets in compile).
func (inc *incarnation) restore() error {
	c := inc.restored
	// The bolts decode their states in parallel: with large state,
	// decoding dominates the recovery time.
	nw, nj := len(inc.t.windows), len(inc.t.joins)
	errs := make([]error, nw+nj+len(inc.t.regroups))
	var wg sync.WaitGroup
	for i, w := range inc.t.windows {
		wg.Go(func() { errs[i] = inc.restoreWindow(w, inc.windows[i]) })
	}
	for i, j := range inc.t.joins {
		wg.Go(func() { errs[nw+i] = inc.restoreJoin(j, inc.joins[i]) })
	}
	for i, g := range inc.t.regroups {
		wg.Go(func() { errs[nw+nj+i] = inc.restoreRegroup(g, inc.regroups[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s := inc.t.sink
	secs, err := wire.Sections(c.Tasks[checkpoint.TaskID(s.id)])
	if err != nil {
		return fmt.Errorf("recordstream: restore sink from %v: %w", c.ID, err)
	}
	if tpc := inc.sink.txn.tpc; tpc != nil {
		if err := tpc.Restore(secs["txns"]); err != nil {
			return err
		}
	}
	if inc.sink.replay, err = decodeTuples(secs["channels"]); err != nil {
		return fmt.Errorf("recordstream: restore sink channel state from %v: %w", c.ID, err)
	}
	return nil
}

// restoreWindow gives one windowed bolt its state: operator, late records
// and channel state.
func (inc *incarnation) restoreWindow(w *windowTask, st *gateProtocol) error {
	c := inc.restored
	payload := c.Tasks[checkpoint.TaskID(w.id)]
	st.snapHint = len(payload) + len(payload)/8
	secs, err := wire.Sections(payload)
	if err != nil {
		return fmt.Errorf("recordstream: restore %s from %v: %w", w.name, c.ID, err)
	}
	if err := w.restoreState(secs); err != nil {
		return fmt.Errorf("recordstream: restore %s from %v: %w", w.name, c.ID, err)
	}
	if st.replay, err = decodeTuples(secs["channels"]); err != nil {
		return fmt.Errorf("recordstream: restore %s channel state from %v: %w", w.name, c.ID, err)
	}
	return nil
}

// restoreJoin gives one join bolt its state: operator, late records and
// channel state.
func (inc *incarnation) restoreJoin(j *joinTask, st *gateProtocol) error {
	c := inc.restored
	secs, err := wire.Sections(c.Tasks[checkpoint.TaskID(j.id)])
	if err != nil {
		return fmt.Errorf("recordstream: restore %s from %v: %w", j.name, c.ID, err)
	}
	if err := j.restoreState(secs); err != nil {
		return fmt.Errorf("recordstream: restore %s from %v: %w", j.name, c.ID, err)
	}
	if st.replay, err = decodeTuples(secs["channels"]); err != nil {
		return fmt.Errorf("recordstream: restore %s channel state from %v: %w", j.name, c.ID, err)
	}
	return nil
}

// restoreState replaces the windowed bolt's operator state and late
// records by the sections [windowTask.appendState] wrote.
func (w *windowTask) restoreState(secs map[string][]byte) error {
	if err := w.op.Restore(secs["op"]); err != nil {
		return err
	}
	var err error
	w.late, err = decodeLate(w.late, secs["late"])
	return err
}

// appendTuples encodes tuples as channel state.
func appendTuples(dst []byte, ts []*tuple) []byte {
	dst = appendUvarint(dst, uint64(len(ts)))
	for _, tp := range ts {
		dst = appendUvarint(dst, uint64(tp.Kind))
		dst = appendUvarint(dst, uint64(tp.Side))
		dst = appendVarints(dst, int64(tp.Src), int64(tp.Partition), tp.Offset, tp.Ingest, int64(tp.Time),
			tp.Aux, int64(tp.Win.Start), int64(tp.Win.End))
		dst = dataflow.AppendRow(dst, tp.Row)
	}
	return dst
}

func decodeTuples(b []byte) ([]*tuple, error) {
	if len(b) == 0 {
		return nil, nil
	}
	d := wire.NewDecoder(b)
	n := d.Uvarint()
	if n > uint64(d.Len()) {
		return nil, fmt.Errorf("%w: %d tuples in %d bytes", wire.ErrCorrupt, n, d.Len())
	}
	ts := make([]*tuple, 0, n)
	for range n {
		tp := &tuple{}
		tp.Kind = msgKind(d.Uvarint())
		tp.Side = uint8(d.Uvarint())
		tp.Src = int32(d.Varint())
		tp.Partition = int32(d.Varint())
		tp.Offset = d.Varint()
		tp.Ingest = d.Varint()
		tp.Time = dataflow.Time(d.Varint())
		tp.Aux = d.Varint()
		tp.Win.Start = dataflow.Time(d.Varint())
		tp.Win.End = dataflow.Time(d.Varint())
		tp.Row = dataflow.DecodeRow(d, nil)
		ts = append(ts, tp)
	}
	if d.Err() != nil {
		return nil, d.Err()
	}
	return ts, nil
}

func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

func appendVarints(dst []byte, vs ...int64) []byte {
	for _, v := range vs {
		dst = binary.AppendVarint(dst, v)
	}
	return dst
}
