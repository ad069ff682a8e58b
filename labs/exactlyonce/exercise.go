//go:build student

package exactlyonce

import "github.com/weirlab/weir/dataflow"

// IdempotentSink keeps each row once by its id. Add the fields it needs.
type IdempotentSink struct{}

// NewIdempotentSink returns a sink that identifies rows with id; a nil id
// is an error.
func NewIdempotentSink(id func(dataflow.Result) (string, error)) (*IdempotentSink, error) {
	// TODO
	return nil, ErrNotImplemented
}

// Write keeps r unless a row with its id is kept already (a duplicate:
// count it). A duplicate that differs from the kept row is an error.
func (s *IdempotentSink) Write(r dataflow.Result) error {
	// TODO
	return ErrNotImplemented
}

// Results returns the kept rows in the order they were first written.
func (s *IdempotentSink) Results() []dataflow.Result {
	// TODO
	return nil
}

// Duplicates counts the writes skipped as duplicates.
func (s *IdempotentSink) Duplicates() int64 {
	// TODO
	return 0
}

// TxSink is a two-phase-commit sink (see the Sink interface for the
// contract of each method). Add the fields it needs.
type TxSink struct{}

// NewTxSink returns an empty transactional sink.
func NewTxSink() (*TxSink, error) {
	// TODO
	return nil, ErrNotImplemented
}

// Write adds r to the open transaction.
func (s *TxSink) Write(r dataflow.Result) error {
	// TODO
	return ErrNotImplemented
}

// PreCommit seals the open transaction under epoch (above every epoch
// sealed before) and opens a new one.
func (s *TxSink) PreCommit(epoch int64) error {
	// TODO
	return ErrNotImplemented
}

// Commit makes the transaction sealed under epoch visible; again is a
// no-op, an epoch never sealed an error.
func (s *TxSink) Commit(epoch int64) error {
	// TODO
	return ErrNotImplemented
}

// Recover commits the transactions sealed up to epoch, aborts the later
// ones and the open one, and opens a new transaction.
func (s *TxSink) Recover(epoch int64) error {
	// TODO
	return ErrNotImplemented
}

// Committed returns the visible rows in commit order.
func (s *TxSink) Committed() []dataflow.Result {
	// TODO
	return nil
}
