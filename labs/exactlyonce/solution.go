//go:build !student

package exactlyonce

import (
	"errors"
	"fmt"
	"slices"

	"github.com/weirlab/weir/dataflow"
)

// IdempotentSink keeps each row once by its id: a second write of a row
// already kept is a duplicate, counted and skipped. Its memory grows with
// the number of distinct ids (see README.md for bounded alternatives).
type IdempotentSink struct {
	id   func(dataflow.Result) (string, error)
	seen map[string]int // id -> index in rows
	rows []dataflow.Result
	dups int64
}

// NewIdempotentSink returns a sink that identifies rows with id.
func NewIdempotentSink(id func(dataflow.Result) (string, error)) (*IdempotentSink, error) {
	if id == nil {
		return nil, errors.New("exactlyonce: an idempotent sink needs an id function; use PaymentIDOf for the payments feed")
	}
	return &IdempotentSink{id: id, seen: map[string]int{}}, nil
}

// Write keeps r unless a row with its id is kept already. A duplicate that
// differs from the kept row is an error: a replay of a deterministic
// pipeline reproduces its rows exactly, so two different rows under one id
// mean the id is not an id (or the pipeline is not deterministic), and
// keeping either would hide it.
func (s *IdempotentSink) Write(r dataflow.Result) error {
	id, err := s.id(r)
	if err != nil {
		return err
	}
	if i, ok := s.seen[id]; ok {
		if !sameRow(s.rows[i], r) {
			return fmt.Errorf("exactlyonce: id %s has two different rows, %v and %v: it does not identify a row", id, s.rows[i], r)
		}
		s.dups++
		return nil
	}
	s.seen[id] = len(s.rows)
	r.Extra = slices.Clone(r.Extra)
	s.rows = append(s.rows, r)
	return nil
}

// sameRow reports whether a and b are the same row, value for value.
func sameRow(a, b dataflow.Result) bool {
	return a.Window == b.Window && a.Key == b.Key && a.Value.Equal(b.Value) &&
		slices.EqualFunc(a.Extra, b.Extra, dataflow.Value.Equal)
}

// Results returns the kept rows in the order they were first written. The
// slice is the caller's.
func (s *IdempotentSink) Results() []dataflow.Result { return slices.Clone(s.rows) }

// Duplicates counts the writes skipped as duplicates.
func (s *IdempotentSink) Duplicates() int64 { return s.dups }

// TxSink is a two-phase-commit sink. Rows written go to the open
// transaction; PreCommit seals it under a checkpoint id; Commit appends a
// sealed transaction to the visible table. Nothing a reader sees is ever
// taken back, and nothing is visible before its checkpoint completed.
type TxSink struct {
	open      []dataflow.Result
	sealed    map[int64][]dataflow.Result // pre-committed, not yet committed
	committed map[int64]bool              // epochs committed (Commit is idempotent)
	visible   []dataflow.Result
	last      int64 // the largest epoch sealed
}

// NewTxSink returns an empty transactional sink.
func NewTxSink() (*TxSink, error) {
	return &TxSink{sealed: map[int64][]dataflow.Result{}, committed: map[int64]bool{}}, nil
}

// Write adds r to the open transaction.
func (s *TxSink) Write(r dataflow.Result) error {
	r.Extra = slices.Clone(r.Extra)
	s.open = append(s.open, r)
	return nil
}

// PreCommit seals the open transaction under epoch, which must be above
// every epoch sealed before, and opens a new one.
func (s *TxSink) PreCommit(epoch int64) error {
	if epoch <= s.last {
		return fmt.Errorf("exactlyonce: pre-commit of checkpoint %d after checkpoint %d; checkpoint ids must increase", epoch, s.last)
	}
	s.sealed[epoch] = s.open
	s.open = nil
	s.last = epoch
	return nil
}

// Commit makes the transaction sealed under epoch visible; committing it
// again does nothing.
func (s *TxSink) Commit(epoch int64) error {
	if s.committed[epoch] {
		return nil
	}
	rows, ok := s.sealed[epoch]
	if !ok {
		return fmt.Errorf("exactlyonce: commit of checkpoint %d, which was never pre-committed (or was aborted)", epoch)
	}
	s.visible = append(s.visible, rows...)
	delete(s.sealed, epoch)
	s.committed[epoch] = true
	return nil
}

// Recover commits, in epoch order, every transaction sealed under an epoch
// up to epoch (their checkpoints completed), aborts those sealed later and
// the open one, and opens a new transaction.
func (s *TxSink) Recover(epoch int64) error {
	var es []int64
	for e := range s.sealed {
		es = append(es, e)
	}
	slices.Sort(es)
	for _, e := range es {
		if e > epoch {
			delete(s.sealed, e) // its checkpoint never completed: abort
			continue
		}
		if err := s.Commit(e); err != nil {
			return err
		}
	}
	s.open = nil
	return nil
}

// Committed returns the visible rows in commit order. The slice is the
// caller's.
func (s *TxSink) Committed() []dataflow.Result { return slices.Clone(s.visible) }
