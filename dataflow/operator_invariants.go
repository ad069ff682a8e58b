package dataflow

import (
	"fmt"

	"github.com/weirlab/weir/internal/invariants"
)

// This file holds the WindowOperator's debug-only state checks, run after
// every call that changes the state when the build has the tag
// `invariants` (internal/invariants); without the tag the calls are
// compiled out and WindowOperator.inv stays nil.
//
// The checks, named as failures report them:
//
//   - DO1 heap: the timers are a min-heap by deadline, each entry's
//     deadline is its window's (a session's may be earlier: one that grew
//     by a merge is filed again only when its old deadline comes up), every
//     held window is in it once and knows it (heapIdx >= 0), a session
//     knows its place in it (heapIdx is its index); count windows are
//     never in it.
//   - DO2 counts: every window is held exactly once, by the wins map (fixed,
//     sliding, global, unwindowed), its key's sessions or its key's count
//     windows; each key's open count is its number of windows, their sum is
//     the operator's, and only count-window keys outlive their last window;
//     the key cache names only held keys.
//   - DO3 sessions: a key's sessions are sorted and pairwise disjoint (I3).
//   - DO4 cache and lists: a key's cache of recent windows holds only its
//     live windows in their slots; the EarlyEvery list holds each dirty
//     window once, and deadDirty counts its dead entries.
//   - DO5 firing: a window not yet fired is not past its on-time moment
//     (W < end, I4); no window past its allowed lateness is held (I5), and
//     none is made (a fired window is never re-opened: a new window may be
//     made behind the watermark only within the allowed lateness, and then
//     fires late panes); a closed window has fired; count windows are
//     never full (I6); Late <= Records.
//   - DO6 the watermark never decreases (DW1), except by Restore.
//
// DO5 depends on data a snapshot carries and [WindowOperator.Restore] does
// not validate (flags, the watermark, counters): a corrupt but well-formed
// snapshot restores without error and must not make the operator panic,
// so after a Restore whose state fails DO5 only DO1-DO4 and DO6 are checked.
//
// A full check visits every window and key, so it is amortized: it runs at
// every call while the state is small, and every size/checkBudget calls
// when it is large, keeping the cost near checkBudget visits per call.

// checkBudget is roughly how many windows and keys the checks visit per
// call, amortized.
const checkBudget = 64

// opChecks is the state of the checks, nil without the tag.
type opChecks struct {
	countdown int
	lastWM    Time
	// lax is set when a Restore brought in a state that fails DO5.
	lax bool
	// perKey is scratch for DO2, cleared after each check.
	perKey map[*keyState]int
	// inHeap is scratch for DO1 (the timers' windows, when they do not
	// know their index), cleared after each check.
	inHeap map[*winState]bool
}

// checkInvariants runs the checks (when due) and panics on a violation.
func (o *WindowOperator) checkInvariants() {
	if o.inv == nil {
		o.inv = &opChecks{lastWM: MinTime, perKey: map[*keyState]int{}, inHeap: map[*winState]bool{}}
	}
	c := o.inv
	if o.st.wm < c.lastWM {
		invariants.Assertf(false, "DO6: window operator watermark went back from %d to %d", c.lastWM, o.st.wm)
	}
	c.lastWM = o.st.wm
	if c.countdown--; c.countdown > 0 {
		return
	}
	c.countdown = 1 + (len(o.st.timers)+len(o.st.keys))/checkBudget
	if msg := o.structureViolation(); msg != "" {
		invariants.Assertf(false, "%s", msg)
	}
	if c.lax {
		return
	}
	if msg := o.firingViolation(); msg != "" {
		invariants.Assertf(false, "%s", msg)
	}
}

// checkRestored resets the checks for a state that Restore swapped in: the
// watermark may have moved either way, and a state that fails DO5 turns DO5
// off (see above). It panics only on DO1-DO4, which Restore guarantees.
func (o *WindowOperator) checkRestored() {
	if o.inv == nil {
		o.inv = &opChecks{perKey: map[*keyState]int{}, inHeap: map[*winState]bool{}}
	}
	o.inv.lastWM = o.st.wm
	o.inv.countdown = 0
	o.inv.lax = o.firingViolation() != ""
	o.checkInvariants()
}

// checkNewWindow asserts DO5's "none is made": a window made for a record or
// a partial aggregate is not already past its allowed lateness.
func (o *WindowOperator) checkNewWindow(w Window) {
	if o.fn.Kind != WindowCount && o.IsLate(w) && (o.inv == nil || !o.inv.lax) {
		invariants.Assertf(false, "DO5: window %v made at watermark %d, past its allowed lateness %d", w, o.st.wm, o.lateness)
	}
}

// structureViolation checks DO1-DO4 and describes the first failure, or
// returns "".
func (o *WindowOperator) structureViolation() string {
	st := &o.st
	h := st.timers
	indexed := o.indexedTimers()
	inHeap := o.inv.inHeap
	defer clear(inHeap)
	for i, t := range h {
		ws := t.ws
		if ws == nil || ws.heapIdx < 0 || (indexed && ws.heapIdx != i) {
			return fmt.Sprintf("DO1: timer %d does not know its place (heapIdx %d)", i, heapIdxOf(ws))
		}
		if !indexed {
			if inHeap[ws] {
				return fmt.Sprintf("DO1: window %v of %q has two timers", ws.w, keyOf(ws))
			}
			inHeap[ws] = true
		}
		if d := o.deadline(ws); t.deadline != d && (o.fn.Kind != WindowSession || t.deadline > d) {
			return fmt.Sprintf("DO1: timer %d (%v of %q) has deadline %d, the window's is %d", i, ws.w, keyOf(ws), t.deadline, d)
		}
		if i > 0 && h.less(i, (i-1)/2) {
			return fmt.Sprintf("DO1: timer %d (%v of %q, deadline %d) before its parent (%v, deadline %d)",
				i, ws.w, keyOf(ws), t.deadline, h[(i-1)/2].ws.w, h[(i-1)/2].deadline)
		}
	}
	counts := o.inv.perKey
	defer clear(counts)
	held := 0
	switch o.fn.Kind {
	case WindowSession, WindowCount:
		for key, ks := range st.keys {
			list := ks.sessions
			if o.fn.Kind == WindowCount {
				list = ks.counts
				if len(ks.sessions) != 0 {
					return fmt.Sprintf("DO2: count-window key %q has sessions", key)
				}
			} else if len(ks.counts) != 0 {
				return fmt.Sprintf("DO2: session key %q has count windows", key)
			}
			for i, ws := range list {
				if msg := o.heldWindow(ws, ks); msg != "" {
					return msg
				}
				if o.fn.Kind == WindowSession && i > 0 && list[i-1].w.End > ws.w.Start {
					return fmt.Sprintf("DO3: sessions %v and %v of key %q overlap or are out of order", list[i-1].w, ws.w, key)
				}
			}
			counts[ks] += len(list)
			held += len(list)
		}
	default:
		for k, ws := range st.wins {
			if ws.w.Start != k.start || ws.ks != k.ks {
				return fmt.Sprintf("DO2: window %v of %q is held under start %d", ws.w, keyOf(ws), k.start)
			}
			if msg := o.heldWindow(ws, k.ks); msg != "" {
				return msg
			}
			counts[k.ks]++
			held++
		}
	}
	if int64(held) != st.openCount {
		return fmt.Sprintf("DO2: %d windows held, openCount %d", held, st.openCount)
	}
	if o.fn.Kind != WindowCount && len(h) != held {
		return fmt.Sprintf("DO1: %d timers for %d windows", len(h), held)
	}
	for _, e := range o.keyCache {
		if e.ks != nil && st.keys[e.ks.key] != e.ks {
			return fmt.Sprintf("DO2: the key cache names a state of key %q that is not held", e.ks.key)
		}
	}
	for key, ks := range st.keys {
		if ks.key != key {
			return fmt.Sprintf("DO2: key %q is held under %q", ks.key, key)
		}
		if ks.open != counts[ks] {
			return fmt.Sprintf("DO2: key %q has %d windows, open %d", key, counts[ks], ks.open)
		}
		if ks.open == 0 && o.fn.Kind != WindowCount {
			return fmt.Sprintf("DO2: key %q is held with no window", key)
		}
		for slot, ws := range ks.recent {
			if ws == nil {
				continue
			}
			if ws.ks != ks || st.wins[winKey{ks, ws.w.Start}] != ws || o.cacheSlot(ws.w) != slot {
				return fmt.Sprintf("DO4: cache slot %d of key %q holds %v, not a live window of the key in that slot", slot, key, ws.w)
			}
		}
	}
	if len(counts) > len(st.keys) {
		return fmt.Sprintf("DO2: windows of %d keys, %d keys held", len(counts), len(st.keys))
	}
	dead, live := 0, 0
	for _, ws := range st.dirty {
		switch {
		case ws.dead:
			dead++
		case !ws.inDirty || ws.ks == nil:
			return fmt.Sprintf("DO4: dirty list holds %v (inDirty %v), not a live dirty window", ws.w, ws.inDirty)
		default:
			live++
		}
	}
	if dead != st.deadDirty {
		return fmt.Sprintf("DO4: dirty list has %d dead entries, deadDirty %d", dead, st.deadDirty)
	}
	inDirty := 0
	for _, t := range h {
		if t.ws.inDirty {
			inDirty++
		}
	}
	if live != inDirty {
		return fmt.Sprintf("DO4: dirty list has %d live entries for %d dirty windows", live, inDirty)
	}
	for _, ws := range o.free {
		if ws.ks != nil || ws.heapIdx != -1 || ws.inDirty {
			return fmt.Sprintf("DO2: free window %v is still in use", ws.w)
		}
	}
	return ""
}

// heldWindow checks one held window's links (DO1, DO2).
func (o *WindowOperator) heldWindow(ws *winState, ks *keyState) string {
	if ws.ks != ks || ws.dead {
		return fmt.Sprintf("DO2: window %v of key %q belongs to %q (dead %v)", ws.w, ks.key, keyOf(ws), ws.dead)
	}
	if o.fn.Kind == WindowCount {
		if ws.heapIdx != -1 {
			return fmt.Sprintf("DO1: count window %v of key %q is a timer", ws.w, ks.key)
		}
		return ""
	}
	if !o.indexedTimers() {
		if ws.heapIdx < 0 || !o.inv.inHeap[ws] {
			return fmt.Sprintf("DO1: window %v of key %q is not in the timers (heapIdx %d)", ws.w, ks.key, ws.heapIdx)
		}
		return ""
	}
	if ws.heapIdx < 0 || ws.heapIdx >= len(o.st.timers) || o.st.timers[ws.heapIdx].ws != ws {
		return fmt.Sprintf("DO1: window %v of key %q is not in the timers (heapIdx %d)", ws.w, ks.key, ws.heapIdx)
	}
	return ""
}

// firingViolation checks DO5 and describes the first failure, or returns "".
func (o *WindowOperator) firingViolation() string {
	st := &o.st
	if st.stats.Late > st.stats.Records || st.stats.Late < 0 {
		return fmt.Sprintf("DO5: %d late records of %d", st.stats.Late, st.stats.Records)
	}
	check := func(ws *winState) string {
		if ws.n < 0 || ws.since < 0 || ws.since > ws.n {
			return fmt.Sprintf("DO5: window %v of %q has %d records, %d since its last pane", ws.w, keyOf(ws), ws.n, ws.since)
		}
		if o.fn.Kind == WindowCount {
			if ws.n >= o.fn.Size || ws.fired || ws.closed || ws.w.Start >= Time(ws.ks.ordinal) {
				return fmt.Sprintf("DO5: count window %v of %q (n %d, fired %v) should have fired and gone", ws.w, keyOf(ws), ws.n, ws.fired)
			}
			return ""
		}
		if !ws.fired && st.wm >= ws.w.End {
			return fmt.Sprintf("DO5: window %v of %q not fired at watermark %d", ws.w, keyOf(ws), st.wm)
		}
		if o.deadline(ws) <= st.wm {
			return fmt.Sprintf("DO5: window %v of %q held at watermark %d, past its deadline %d", ws.w, keyOf(ws), st.wm, o.deadline(ws))
		}
		if ws.closed && !ws.fired {
			return fmt.Sprintf("DO5: window %v of %q closed but not fired", ws.w, keyOf(ws))
		}
		return ""
	}
	if o.fn.Kind == WindowCount {
		for _, ks := range st.keys {
			if len(ks.counts) > o.fn.MaxWindowsPerElement() {
				return fmt.Sprintf("DO5: key %q has %d count windows, at most %d open", ks.key, len(ks.counts), o.fn.MaxWindowsPerElement())
			}
			for _, ws := range ks.counts {
				if msg := check(ws); msg != "" {
					return msg
				}
			}
		}
		return ""
	}
	for _, t := range st.timers {
		if msg := check(t.ws); msg != "" {
			return msg
		}
	}
	return ""
}

func heapIdxOf(ws *winState) int {
	if ws == nil {
		return -2
	}
	return ws.heapIdx
}

func keyOf(ws *winState) string {
	if ws == nil || ws.ks == nil {
		return "<none>"
	}
	return ws.ks.key
}
