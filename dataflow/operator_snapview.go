package dataflow

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
)

// Asynchronous snapshots of the window operator: Flink's copy-on-write heap
// state backend, for a single-goroutine operator whose state another
// goroutine encodes.
//
// [WindowOperator.BeginSnapshot], on the operator's goroutine, takes a view
// of the state: the header (watermark, trigger state, counters) encoded at
// once, and the list of the snapshot's groups (windows; keys for sessions
// and count windows), a walk of one map that reads no window. Another
// goroutine then encodes the groups with [SnapshotView.Encode] while the
// operator goes on taking records. Every group carries a mark (an atomic
// word): pending, being encoded, or done for the view's generation.
//
//   - AV1 Whoever encodes a group claims it first (pending -> busy, a
//     compare-and-swap), and marks it done after: the encoder walking the
//     list, or the operator about to change it (AV2). A group is encoded
//     exactly once per view.
//   - AV2 Before the operator changes a group the view holds (a record
//     folded into a window, a pane fired, a window dropped, sessions merged,
//     a count window opened), it claims the group and encodes it as it is
//     into the view's side buffer, or, if the encoder holds it, waits for
//     the encoder to finish it (a few hundred nanoseconds). What the view
//     encodes is therefore the state at BeginSnapshot, whatever the records
//     after it do.
//   - AV3 Groups created after BeginSnapshot are not the view's: a window
//     is marked done when it is made, a key (sessions, count windows) when
//     the operator first touches it with no window and no count yet (the
//     snapshot of such a key is empty: skipping it changes no behaviour).
//   - AV4 The group count in the header is written padded to five bytes and
//     set when the encoding ends, from the groups actually encoded.
//   - AV5 A new BeginSnapshot, or a Restore, while a view is unfinished
//     first encodes the rest of that view on the operator's goroutine (so
//     its encoder finishes at once); views never overlap.
//
// The operator pays nothing per record when no view is open but a nil
// test; while one is open, one atomic load per group it touches, and the
// encoding of the groups it touches before the encoder reaches them.

// SnapshotView is a consistent view of a [WindowOperator]'s state, taken
// by [WindowOperator.BeginSnapshot] and encoded by [SnapshotView.Encode] on
// any goroutine, while the operator goes on. Encode produces a snapshot
// that [WindowOperator.Restore] reads as it reads one of
// [WindowOperator.AppendSnapshot]: the state at BeginSnapshot.
type SnapshotView struct {
	o          *WindowOperator // immutable configuration only: agg, fn, keyRow
	perKey     bool
	busy, done uint32 // the marks of this view's generation
	head       []byte // the header, group count padded (AV4)
	wins       []*winState
	keys       []*keyState

	// Written by the operator's goroutine before it marks a group done,
	// read by Encode after every group is done (AV1).
	side    []byte
	sideN   int
	sideErr error

	encoding atomic.Bool // Encode was called
	finished atomic.Bool // Encode ended (done or cancelled)
}

// groupCountLen is the padded length of the header's group count (AV4):
// up to 2^35-1 groups.
const groupCountLen = 5

// BeginSnapshot takes a view of the operator's state for another goroutine
// to encode ([SnapshotView.Encode]). It costs a walk of the window (or key)
// map; the windows themselves are read by Encode. Until the view is
// encoded, the operator encodes the groups it is about to change itself
// (AV2), so the view stays the state at this call. Call it on the
// operator's goroutine; Encode once per view.
func (o *WindowOperator) BeginSnapshot() *SnapshotView {
	o.closeView() // AV5
	o.snapGen++
	st := &o.st
	v := &SnapshotView{o: o, busy: 2*o.snapGen + 1, done: 2*o.snapGen + 2,
		perKey: o.fn.Kind == WindowSession || o.fn.Kind == WindowCount}
	v.head = o.appendSnapshotHeader(make([]byte, 0, 64+groupCountLen))
	// Reuse the last view's list when its encoder is done with it.
	if v.perKey {
		v.keys = o.snapKeys[:0]
		if cap(v.keys) < len(st.keys) {
			v.keys = make([]*keyState, 0, len(st.keys)+len(st.keys)/8)
		}
		for _, ks := range st.keys {
			v.keys = append(v.keys, ks)
		}
		o.snapKeys = nil
	} else {
		v.wins = o.snapWins[:0]
		if cap(v.wins) < len(st.wins) {
			v.wins = make([]*winState, 0, len(st.wins)+len(st.wins)/8)
		}
		for _, ws := range st.wins {
			v.wins = append(v.wins, ws)
		}
		o.snapWins = nil
	}
	o.snap = v
	return v
}

// Size returns the number of groups (windows, or keys for sessions and
// count windows) the view holds: an estimate of the work of Encode.
func (v *SnapshotView) Size() int { return len(v.wins) + len(v.keys) }

// Encode appends the view's snapshot to dst, in the layout of
// [WindowOperator.AppendSnapshot]. It may run on any goroutine,
// concurrently with the operator. Cancelling ctx abandons the encoding
// (the error is ctx's); the operator then stops protecting the view. A
// second call returns an error.
func (v *SnapshotView) Encode(ctx context.Context, dst []byte) ([]byte, error) {
	if !v.encoding.CompareAndSwap(false, true) {
		return dst, errors.New("dataflow: SnapshotView.Encode called twice; take a new view with BeginSnapshot")
	}
	defer v.finished.Store(true)
	start := len(dst)
	dst = append(dst, v.head...)
	countAt := len(dst)
	dst = append(dst, make([]byte, groupCountLen)...)
	n := 0
	var err error
	if v.perKey {
		for i, ks := range v.keys {
			if i&1023 == 0 && ctx.Err() != nil {
				return dst[:start], ctx.Err()
			}
			var ok bool
			if dst, ok, err = v.claimKey(dst, ks, false); err != nil {
				return dst[:start], err
			} else if ok {
				n++
			}
		}
	} else {
		for i, ws := range v.wins {
			if i&1023 == 0 && ctx.Err() != nil {
				return dst[:start], ctx.Err()
			}
			var ok bool
			if dst, ok, err = v.claimWin(dst, ws, false); err != nil {
				return dst[:start], err
			} else if ok {
				n++
			}
		}
	}
	// Every group is done (AV1): the side buffer is complete.
	if v.sideErr != nil {
		return dst[:start], v.sideErr
	}
	dst = append(dst, v.side...)
	n += v.sideN
	if uint64(n) >= 1<<(7*groupCountLen) {
		return dst[:start], fmt.Errorf("dataflow: %d groups do not fit a snapshot header", n)
	}
	putPaddedUvarint(dst[countAt:countAt+groupCountLen], uint64(n))
	return dst, nil
}

// claimWin encodes ws into dst if it is still pending (AV1), waiting while
// the other side encodes it; ok reports whether this call encoded it. With
// toSide (the operator's claim, AV2) dst is the side buffer, and the
// outcome is recorded there before ws is marked done: the encoder reads
// the side buffer once it has seen every group done, so every write to it
// must come before a mark.
func (v *SnapshotView) claimWin(dst []byte, ws *winState, toSide bool) (_ []byte, ok bool, err error) {
	for {
		m := ws.snap.Load()
		switch {
		case m >= v.done:
			return dst, false, nil
		case m == v.busy:
			runtime.Gosched() // the other side is encoding it
		case ws.snap.CompareAndSwap(m, v.busy):
			dst = v.o.appendGroupHead(dst, ws.ks, 1)
			dst, err = v.o.appendWindow(dst, ws)
			if toSide {
				v.noteSide(dst, err == nil, err)
			}
			ws.snap.Store(v.done)
			return dst, err == nil, err
		}
	}
}

// claimKey is claimWin for a key group (sessions, count windows). A key
// with no window and no count is skipped (AV3).
func (v *SnapshotView) claimKey(dst []byte, ks *keyState, toSide bool) (_ []byte, ok bool, err error) {
	for {
		m := ks.snap.Load()
		switch {
		case m >= v.done:
			return dst, false, nil
		case m == v.busy:
			runtime.Gosched()
		case ks.snap.CompareAndSwap(m, v.busy):
			ws := ks.sessions
			if v.o.fn.Kind == WindowCount {
				ws = ks.counts
			}
			if len(ws) == 0 && ks.ordinal == 0 {
				ks.snap.Store(v.done)
				return dst, false, nil
			}
			dst = v.o.appendGroupHead(dst, ks, len(ws))
			for _, w := range ws {
				if dst, err = v.o.appendWindow(dst, w); err != nil {
					break
				}
			}
			if toSide {
				v.noteSide(dst, err == nil, err)
			}
			ks.snap.Store(v.done)
			return dst, err == nil, err
		}
	}
}

// snapTouch encodes the group of ws into the side buffer before the operator
// changes it (AV2). The operator calls it only while o.snap != nil.
func (o *WindowOperator) snapTouch(ws *winState) {
	v := o.snap
	if v.finished.Load() {
		o.snapEnd()
		return
	}
	if v.perKey {
		v.touchKey(ws.ks)
		return
	}
	v.touchWin(ws)
}

// touchWin encodes ws into the side buffer if it is still pending. It
// writes the side buffer only when it encoded ws: once every group is
// done, the encoder reads the buffer.
func (v *SnapshotView) touchWin(ws *winState) {
	_, _, _ = v.claimWin(v.side, ws, true)
}

// snapTouchKey is snapTouch for a key about to change (sessions, count
// windows).
func (o *WindowOperator) snapTouchKey(ks *keyState) {
	v := o.snap
	if v.finished.Load() {
		o.snapEnd()
		return
	}
	v.touchKey(ks)
}

func (v *SnapshotView) touchKey(ks *keyState) {
	_, _, _ = v.claimKey(v.side, ks, true)
}

// noteSide records the operator's claim in the side buffer (it encoded
// something, or failed), before the group is marked done.
func (v *SnapshotView) noteSide(side []byte, ok bool, err error) {
	switch {
	case ok:
		v.side = side
		v.sideN++
	case err != nil && v.sideErr == nil:
		v.sideErr = err
	}
}

// snapNew marks a window made while a view is open as not the view's
// (AV3).
func (o *WindowOperator) snapNew(ws *winState) { ws.snap.Store(o.snap.done) }

// closeView ends the open view, if any: an unfinished one is first
// encoded to the end on this goroutine (AV5).
func (o *WindowOperator) closeView() {
	if o.snap == nil {
		return
	}
	if !o.snap.finished.Load() {
		o.snap.drain()
		// The list is the encoder's until it finishes: leave it to it.
		o.snap = nil
		return
	}
	o.snapEnd()
}

// snapEnd forgets the finished view, keeping its list for the next one.
func (o *WindowOperator) snapEnd() {
	v := o.snap
	o.snap = nil
	o.snapWins, o.snapKeys = v.wins[:0], v.keys[:0]
	clear(o.snapWins[:cap(o.snapWins)])
	clear(o.snapKeys[:cap(o.snapKeys)])
}

// drain encodes every group the view still has pending into its side
// buffer, on the operator's goroutine (AV5).
func (v *SnapshotView) drain() {
	for _, ws := range v.wins {
		v.touchWin(ws)
	}
	for _, ks := range v.keys {
		v.touchKey(ks)
	}
}

// putPaddedUvarint writes x as a uvarint of exactly len(b) bytes
// (continuation bits on every byte but the last): a valid, if not minimal,
// varint that wire's decoder reads. x must fit 7*len(b) bits.
func putPaddedUvarint(b []byte, x uint64) {
	for i := range b {
		c := byte(x & 0x7f)
		x >>= 7
		if i < len(b)-1 {
			c |= 0x80
		}
		b[i] = c
	}
}
