package checkpoint

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
)

// Emission is one pane as a sink received it: a window's result for a key
// and the pane's index within the window (0 for the first firing).
type Emission struct {
	Result dataflow.Result
	Pane   int
	// MaxEventTime and MaxIngestNanos are the largest event time (ms) and
	// ingest time (ns) among the pane's records, for latency at commit.
	MaxEventTime   dataflow.Time
	MaxIngestNanos int64
	// Merged marks a notice rather than a pane ([dataflow.PaneMerged]):
	// session Result.Window of Result.Key, which fired early panes, merged
	// into session Into. Result has no value.
	Merged bool
	Into   dataflow.Window
}

type windowKey struct {
	w   dataflow.Window
	key string
}

type paneKey struct {
	windowKey
	pane int
}

// TxnID names a sink transaction: the sink task and the checkpoint that
// pre-committed it ([FinalTxn] for the job's last one).
type TxnID struct {
	Task       TaskID
	Checkpoint ID
}

// FinalTxn is the checkpoint id of the transaction a sink pre-commits at the
// end of its input ([TwoPhaseSink.EndOfInput]); it commits when the whole
// job has finished (Flink's final checkpoint, FLIP-147).
const FinalTxn ID = math.MaxUint64

// Committed is the external system a [TwoPhaseSink] commits to: what a reader
// of the sink sees. It outlives task restarts (the topology's restarts do
// not touch it) and commits each transaction at most once, so a commit
// repeated after a restore is harmless (like Kafka's transactional ids).
// Committed is safe for concurrent use.
//
// A commit appends the transaction's emissions and nothing else: the
// per-pane index that [Committed.Results] and [Committed.Duplicates] read
// is built from the emissions when they are called, so a commit of a
// stateless job's rows costs no map operation per row.
type Committed struct {
	mu        sync.Mutex
	committed map[TxnID]bool    // guarded by mu
	emissions []Emission        // guarded by mu; in commit order
	last      map[windowKey]int // guarded by mu; index of the last emission per window and key
	panes     map[paneKey]bool  // guarded by mu
	dups      int64             // guarded by mu
	indexed   int               // guarded by mu; emissions[:indexed] are in last, panes and dups
}

// NewCommitted returns an empty output.
func NewCommitted() *Committed {
	return &Committed{committed: make(map[TxnID]bool), last: make(map[windowKey]int), panes: make(map[paneKey]bool)}
}

// commit makes a transaction visible; it reports false if txn was already
// committed.
func (o *Committed) commit(txn TxnID, es []Emission) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.committed[txn] {
		return false
	}
	o.committed[txn] = true
	o.emissions = append(o.emissions, es...)
	return true
}

// index brings last, panes and dups up to date with the emissions. The
// caller holds mu.
func (o *Committed) index() {
	for i := o.indexed; i < len(o.emissions); i++ {
		e := &o.emissions[i]
		wk := windowKey{e.Result.Window, e.Result.Key}
		if e.Merged {
			// The session's panes stand for part of e.Into now; its last
			// pane is no final value of its own.
			delete(o.last, wk)
			continue
		}
		pk := paneKey{wk, e.Pane}
		if o.panes[pk] {
			o.dups++
		}
		o.panes[pk] = true
		o.last[wk] = i
	}
	o.indexed = len(o.emissions)
}

// Results returns the final value of each window and key (its last
// committed pane), sorted with [dataflow.SortResults]. The caller owns it.
func (o *Committed) Results() []dataflow.Result {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.index()
	rs := make([]dataflow.Result, 0, len(o.last))
	for _, i := range o.last {
		rs = append(rs, o.emissions[i].Result)
	}
	dataflow.SortResults(rs)
	return rs
}

// Emissions returns a copy of every committed emission in commit order.
func (o *Committed) Emissions() []Emission {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.emissions)
}

// Duplicates returns how many committed emissions repeated a pane (window,
// key and pane index) committed before: zero under exactly-once.
func (o *Committed) Duplicates() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.index()
	return o.dups
}

// Transactions returns the number of committed transactions.
func (o *Committed) Transactions() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.committed)
}

type txn struct {
	id ID
	es []Emission
}

// TwoPhaseSink is a two-phase-commit sink (Flink's
// TwoPhaseCommitSinkFunction): what it receives between two barriers forms
// one transaction, pre-committed when the task snapshots checkpoint n and
// committed to its [Committed] when checkpoint n completes (notifyComplete). A
// restore commits the transactions recorded in the restored (complete)
// checkpoint and drops everything after it, which the replay produces
// again. So a reader of the Committed output never sees a duplicate or loses a window
// value (CK7).
//
// TwoPhaseSink is not safe for concurrent use; the sink task's goroutine
// owns it.
type TwoPhaseSink struct {
	task    TaskID
	out     *Committed
	current []Emission
	pre     []txn // pre-committed, not yet committed; ascending ids
	// OnCommit, if set, is called with the emissions of each transaction
	// this sink commits (not those already committed), in commit order: the
	// moment a reader sees them, for latency. The slice is only valid
	// during the call.
	OnCommit func(es []Emission)
}

// NewTwoPhaseSink returns the sink of task committing to out.
func NewTwoPhaseSink(task TaskID, out *Committed) *TwoPhaseSink {
	return &TwoPhaseSink{task: task, out: out}
}

// Write adds a pane to the current transaction. The sink keeps r (and its
// Extra slice).
func (s *TwoPhaseSink) Write(r dataflow.Result, pane int) {
	s.current = append(s.current, Emission{Result: r, Pane: pane})
}

// WriteEmission adds an emission to the current transaction. The sink keeps
// e.Result's Extra slice.
func (s *TwoPhaseSink) WriteEmission(e Emission) { s.current = append(s.current, e) }

// PreCommit closes the current transaction as checkpoint id's, at the
// sink's snapshot of id. Call [TwoPhaseSink.AppendSnapshot] after it.
func (s *TwoPhaseSink) PreCommit(id ID) {
	if len(s.current) > 0 {
		s.pre = append(s.pre, txn{id: id, es: s.current})
		s.current = nil
	}
}

// Abort drops the transactions pre-committed for checkpoint id. Nothing is
// lost: a later checkpoint's transaction would contain the same records, but
// Abort is only needed when the checkpoint is known never to complete and
// the sink's state is rolled back; most callers leave them for the next
// [TwoPhaseSink.NotifyComplete], which commits every id up to its own.
func (s *TwoPhaseSink) Abort(id ID) {
	s.pre = slices.DeleteFunc(s.pre, func(t txn) bool { return t.id == id })
}

// NotifyComplete commits every pre-committed transaction up to checkpoint
// id: an aborted checkpoint's transaction commits with the next completed
// one, whose state covers it.
func (s *TwoPhaseSink) NotifyComplete(id ID) {
	i := 0
	for i < len(s.pre) && s.pre[i].id <= id {
		if s.out.commit(TxnID{s.task, s.pre[i].id}, s.pre[i].es) && s.OnCommit != nil {
			s.OnCommit(s.pre[i].es)
		}
		i++
	}
	s.pre = slices.Delete(s.pre, 0, i)
}

// EndOfInput pre-commits the current transaction as the final one
// ([FinalTxn]); [TwoPhaseSink.CommitAll] commits it once the job is done.
func (s *TwoPhaseSink) EndOfInput() { s.PreCommit(FinalTxn) }

// CommitAll commits every pre-committed transaction: the job finished, so
// nothing will be replayed.
func (s *TwoPhaseSink) CommitAll() { s.NotifyComplete(FinalTxn) }

// PendingEmissions returns how many emissions are not committed yet.
func (s *TwoPhaseSink) PendingEmissions() int {
	n := len(s.current)
	for _, t := range s.pre {
		n += len(t.es)
	}
	return n
}

// AppendSnapshot appends the sink's state: its pre-committed transactions.
// The current (open) transaction is not part of it; call
// [TwoPhaseSink.PreCommit] first.
func (s *TwoPhaseSink) AppendSnapshot(dst []byte) []byte {
	dst = wire.AppendUvarint(dst, uint64(len(s.pre)))
	for _, t := range s.pre {
		dst = wire.AppendUvarint(dst, uint64(t.id))
		dst = wire.AppendUvarint(dst, uint64(len(t.es)))
		for _, e := range t.es {
			dst = AppendEmission(dst, e)
		}
	}
	return dst
}

// Restore restores the sink from its state in a completed checkpoint and
// commits the transactions it holds (Flink's recoverAndCommit; they belong
// to completed checkpoints, and commits are idempotent). Output received
// since that checkpoint is dropped: the replay produces it again.
func (s *TwoPhaseSink) Restore(b []byte) error {
	s.current, s.pre = nil, nil
	d := wire.NewDecoder(b)
	n := d.Uvarint()
	for range n {
		if d.Err() != nil {
			break
		}
		t := txn{id: ID(d.Uvarint())}
		m := d.Uvarint()
		if m > uint64(d.Len()) {
			return fmt.Errorf("checkpoint: restore sink %v: %w: %d emissions in %d bytes", s.task, wire.ErrCorrupt, m, d.Len())
		}
		for range m {
			t.es = append(t.es, DecodeEmission(d))
		}
		s.pre = append(s.pre, t)
	}
	if d.Err() != nil {
		return fmt.Errorf("checkpoint: restore sink %v: %w", s.task, d.Err())
	}
	if d.Len() != 0 {
		return fmt.Errorf("checkpoint: restore sink %v: %w: %d trailing bytes", s.task, wire.ErrCorrupt, d.Len())
	}
	s.CommitAll()
	return nil
}

// IdempotentSink writes each pane straight through as an upsert keyed by
// window and key, so a replayed pane overwrites the value it replays: the
// final contents match the reference answer when the replay is
// deterministic, but a reader can see a window's value go back to an earlier
// pane's and forward again, and sees output of work later rolled back. It
// is what [TwoPhaseSink] is compared with. It outlives task restarts and is
// safe for concurrent use.
type IdempotentSink struct {
	mu         sync.Mutex
	values     map[windowKey]dataflow.Result // guarded by mu
	writes     int64                         // guarded by mu
	overwrites int64                         // guarded by mu
}

// NewIdempotentSink returns an empty sink.
func NewIdempotentSink() *IdempotentSink {
	return &IdempotentSink{values: make(map[windowKey]dataflow.Result)}
}

// Merge applies a [dataflow.PaneMerged] notice: the value kept for key's
// session from, which fired early panes, moves to session into (unless into
// has one already: a later pane of into covers both).
func (s *IdempotentSink) Merge(key string, from, into dataflow.Window) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := windowKey{from, key}
	r, ok := s.values[k]
	if !ok {
		return
	}
	delete(s.values, k)
	if _, ok := s.values[windowKey{into, key}]; !ok {
		r.Window = into
		s.values[windowKey{into, key}] = r
	}
}

// Write upserts the value of r's window and key.
func (s *IdempotentSink) Write(r dataflow.Result, pane int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := windowKey{r.Window, r.Key}
	if _, ok := s.values[k]; ok {
		s.overwrites++
	}
	s.values[k] = r
	s.writes++
}

// Results returns the current value of each window and key, sorted.
func (s *IdempotentSink) Results() []dataflow.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := make([]dataflow.Result, 0, len(s.values))
	for _, r := range s.values {
		rs = append(rs, r)
	}
	dataflow.SortResults(rs)
	return rs
}

// Overwrites returns how many writes replaced an existing value (later
// panes and replays).
func (s *IdempotentSink) Overwrites() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overwrites
}
