package recordstream

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/weirlab/weir/internal/invariants"
)

// The at-least-once memory budget (RB1, RB2). Storm's bookkeeping grows
// with the tuples in flight, and in a replay storm (tuples that wait in
// queues and windows longer than the message timeout time out, are
// replayed, wait again and time out again) it grows without bound: the
// window tasks hold every delivery of a record until its window expires,
// the late replays of fired windows are listed one by one, and the
// replays of a stateless pipeline pile up at the sink. Rather than let
// such a run exhaust the machine, every structure that grows with the
// tuples in flight is counted against [Config.MemoryBudget], and a run
// over it stops with a [*MemoryBudgetError] saying what to change.

// trackedKind is one structure of the at-least-once bookkeeping counted
// against the budget.
type trackedKind uint8

const (
	trackPending trackedKind = iota // spouts' pending trees
	trackReplay                     // spouts' queued replays
	trackHeld                       // window tasks' held tuples (RW1), correction tuples (RW4), crash records
	trackLate                       // window tasks' late records (RW2)
	trackAcker                      // ackers' entries
	trackDup                        // the sink's duplicate rows of a stateless pipeline (RS2)
	numTracked
)

// entryBytes is the estimated memory of one entry of kind k, with the
// slack of the table or slice that holds it (load factor, growth by
// doubling). The budget is a guard, not an accounting: the estimates
// err on the high side of what the Go heap holds live.
func (k trackedKind) entryBytes() int64 {
	switch k {
	case trackPending:
		return 64 // 8 B id + 16 B pendingInfo in 2 open-addressing buckets at load <= 3/4
	case trackReplay:
		return 16 // an 8 B offset in a slice grown by doubling
	case trackHeld:
		return 96 // a 56 B held in a heap or queue slice grown by doubling
	case trackLate:
		return 112 // a 64 B dataflow.LateRecord and its key's string
	case trackAcker:
		return 64 // 8 B id + 24 B ackObject in 3 open-addressing buckets
	case trackDup:
		return 128 // a dataflow.Result with its key and extra values
	}
	return 0
}

// defaultMemoryBudget is [Config.MemoryBudget]'s default: about 100 times
// what a 10 s window of YSB's tracked tuples holds at 20,000 events/s, and
// far below the machine's memory.
const defaultMemoryBudget = 512 << 20

// MinMessageTimeout and MaxMessageTimeout bound [Config.MessageTimeout]. A
// timeout below a millisecond is shorter than any tuple's queueing delay
// (every tree would time out), and the pending maps would rotate faster
// than the spouts look at them; one above a day is never reached by a run.
const (
	MinMessageTimeout = time.Millisecond
	MaxMessageTimeout = 24 * time.Hour
)

// budget is a run's shared count of tracked entries, by kind (RB1). Each
// task publishes its own counts through its [tracker]; any task may find
// the total over the limit. Safe for concurrent use.
type budget struct {
	limit    int64 // bytes; <= 0: counted, never enforced
	counts   [numTracked]atomic.Int64
	timedOut atomic.Int64 // trees the spouts timed out, for the error's diagnosis
	cfg      *Config
}

// bytes returns the estimated memory of the counted entries and the counts.
func (b *budget) bytes() (int64, [numTracked]int64) {
	var n [numTracked]int64
	var total int64
	for k := range numTracked {
		n[k] = b.counts[k].Load()
		total += n[k] * k.entryBytes()
	}
	return total, n
}

// tracker is one task's side of the budget: the counts it published last.
// A nil *tracker (no acking) does nothing. One task goroutine owns it.
type tracker struct {
	b            *budget
	last         [numTracked]int64
	lastTimedOut int64
}

// publish replaces the task's counts in the budget by now (and adds its
// newly timed-out trees), then, if they grew, checks the budget: it
// returns a [*MemoryBudgetError] when the run's total is over it. Tasks
// publish after every batch (spouts after every burst), so the total
// overshoots the budget by at most one batch's growth per task (RB1).
func (tr *tracker) publish(now *[numTracked]int64, timedOut int64) error {
	if tr == nil {
		return nil
	}
	grew := false
	for k := range numTracked {
		if d := now[k] - tr.last[k]; d != 0 {
			if invariants.Enabled && now[k] < 0 {
				invariants.Assertf(false, "RB1: negative count %d of tracked kind %d", now[k], k)
			}
			tr.b.counts[k].Add(d)
			tr.last[k] = now[k]
			grew = grew || d > 0
		}
	}
	if d := timedOut - tr.lastTimedOut; d != 0 {
		tr.b.timedOut.Add(d)
		tr.lastTimedOut = timedOut
	}
	if !grew || tr.b.limit <= 0 {
		return nil
	}
	total, n := tr.b.bytes()
	if total <= tr.b.limit {
		return nil
	}
	return &MemoryBudgetError{
		HeldBytes: total, Budget: tr.b.limit,
		Pending: n[trackPending], Replays: n[trackReplay], Held: n[trackHeld], Late: n[trackLate],
		AckerEntries: n[trackAcker], Duplicates: n[trackDup],
		TimedOut: tr.b.timedOut.Load(), MessageTimeout: tr.b.cfg.MessageTimeout, MaxSpoutPending: tr.b.cfg.MaxSpoutPending,
	}
}

// newTracker returns a task's tracker, nil without acking.
func (t *topo) newTracker() *tracker {
	if t.budget == nil {
		return nil
	}
	return &tracker{b: t.budget}
}

// MemoryBudgetError stops an at-least-once run whose bookkeeping (the
// structures that grow with the tuples in flight, RB1) holds more than
// [Config.MemoryBudget]. It is what Storm's out-of-memory end of a replay
// storm is here, without harming the machine.
type MemoryBudgetError struct {
	// HeldBytes and Budget are the estimated memory of the bookkeeping
	// and the budget, in bytes.
	HeldBytes, Budget int64
	// The entries counted: the spouts' pending trees and queued replays,
	// the window tasks' held tuples and late records, the ackers' entries
	// and the sink's duplicate rows of a stateless pipeline.
	Pending, Replays, Held, Late, AckerEntries, Duplicates int64
	// TimedOut is the number of trees the spouts timed out so far.
	TimedOut int64
	// MessageTimeout and MaxSpoutPending are the run's settings (0: unlimited).
	MessageTimeout  time.Duration
	MaxSpoutPending int
}

func (e *MemoryBudgetError) Error() string {
	const mib = 1 << 20
	msg := fmt.Sprintf("recordstream: at-least-once bookkeeping out of memory budget: about %.1f MiB held (budget %.1f MiB) in %d pending trees, %d queued replays, %d held tuples, %d late records, %d acker entries and %d duplicate rows; ",
		float64(e.HeldBytes)/mib, float64(e.Budget)/mib, e.Pending, e.Replays, e.Held, e.Late, e.AckerEntries, e.Duplicates)
	pending := "unlimited"
	if e.MaxSpoutPending > 0 {
		pending = fmt.Sprint(e.MaxSpoutPending)
	}
	if e.TimedOut > 0 {
		return msg + fmt.Sprintf("%d trees timed out: tuples wait in queues and windows longer than the message timeout (%v), so their replays pile up (a replay storm); raise Config.MessageTimeout above the queueing delay plus the windows' length and allowed lateness, bound the tuples in flight with Config.MaxSpoutPending (now %s), or raise Config.MemoryBudget",
			e.TimedOut, e.MessageTimeout, pending)
	}
	return msg + fmt.Sprintf("no tree timed out: the open windows hold more tuples than the budget allows; bound the tuples in flight with Config.MaxSpoutPending (now %s), shorten the windows or raise Config.MemoryBudget", pending)
}
