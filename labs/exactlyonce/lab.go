// Package exactlyonce is lab 4: sinks that turn at-least-once delivery
// into exactly-once output, the end-to-end half of the lecture's
// consistency claims (L4: "mostly correct is not good enough"; L7's
// snapshots and L8's transactional updates only make state exact, not
// what a sink has already written to the outside world).
//
// The task (README.md has the full text, hints and the discussion): the
// payments feed is a stateless pipeline over the transactions dataset
// ([Spec]: payments of $100 or more, one output row per payment). Write
// two sinks whose output equals dataflow.Reference of Spec exactly:
//
//   - [IdempotentSink] takes the rows of a real weir run under Storm's
//     at-least-once guarantee, with a crash and lost acks, which replays
//     records and so delivers some rows twice; it keeps each payment once,
//     by its id ([PaymentIDOf]), and refuses a "duplicate" that differs.
//   - [TxSink] is a transactional (two-phase commit) sink in the style of
//     Flink's TwoPhaseCommitSinkFunction: rows go into the open
//     transaction, a checkpoint pre-commits (seals) it, the checkpoint's
//     completion commits it, and after a crash the job restores its last
//     completed checkpoint and the sink commits what that checkpoint
//     sealed and aborts the rest. [RunJob] is the job that drives it: a
//     deterministic replay of the log with checkpoints and crashes.
//
// You write both sinks in exercise.go; run the tests against your code
// with
//
//	go test -tags student ./labs/exactlyonce/
//
// Without the tag the tests run against the worked solution (solution.go).
// The sinks are not safe for concurrent use: one sink task owns each.
package exactlyonce

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// ErrNotImplemented is what the unfilled skeleton returns.
var ErrNotImplemented = errors.New("exactlyonce: not implemented (fill in exercise.go)")

// EventRate is the payments feed's event-time density: 1,000 payments a
// second, so no two payments share a millisecond of event time (datasets'
// DS2: payment n happens at Start + n ms), and a card and an event time
// identify a payment.
const EventRate = 1000

// Spec is the payments feed over the transactions schema in: every payment
// of 10,000 cents or more, as a row with key card_id, value amount and
// extra columns event_time and merchant.
func Spec(in dataflow.Schema) (*dataflow.Pipeline, error) {
	p := dataflow.NewPipeline("payments", in).
		Filter(dataflow.Ge(dataflow.Col("amount"), dataflow.LitInt(10_000))).
		Output([]string{"card_id"}, "amount", "event_time", "merchant")
	return p, p.Validate()
}

// PaymentIDOf returns the id of a row of Spec: its card and event time
// ("card-00042@1700000000123"), or an error for a row that is not one of
// Spec's.
func PaymentIDOf(r dataflow.Result) (string, error) {
	if r.Key == "" || len(r.Extra) != 2 || r.Extra[0].K != dataflow.KindTimestamp {
		return "", fmt.Errorf("exactlyonce: %v is not a payments row (key card_id, value amount, extras event_time, merchant)", r)
	}
	return r.Key + "@" + strconv.FormatInt(int64(r.Extra[0].Time()), 10), nil
}

// Sink is what [RunJob] writes to: a transactional sink. [TxSink]
// implements it; so does [WriteThrough], the at-least-once baseline.
type Sink interface {
	// Write adds a row to the open transaction.
	Write(r dataflow.Result) error
	// PreCommit seals the open transaction under checkpoint id epoch and
	// opens a new one. Epochs increase over the sink's life (a checkpoint
	// that failed leaves its id unused).
	PreCommit(epoch int64) error
	// Commit makes the transaction sealed under epoch visible. Committing
	// one twice is a no-op; committing an epoch never sealed is an error.
	Commit(epoch int64) error
	// Recover is called after a crash, when the job has restored its last
	// completed checkpoint, epoch (0: none, the job restarts from the
	// beginning of the log): the transactions sealed under epochs up to
	// epoch are committed (their checkpoint completed, though the job may
	// have crashed before it said so), those sealed later and the open one
	// are aborted, and a new transaction is opened.
	Recover(epoch int64) error
	// Committed returns the visible rows, in commit order: what a reader
	// of the sink's table sees. The slice is the caller's.
	Committed() []dataflow.Result
}

// WriteThrough is the at-least-once sink: every row is visible as soon as
// it is written, and transactions are ignored, so rows written after the
// last completed checkpoint of a crashed job are written again by the
// replay. It is the lab's baseline, not an answer.
type WriteThrough struct{ rows []dataflow.Result }

// Write implements Sink.
func (w *WriteThrough) Write(r dataflow.Result) error { w.rows = append(w.rows, r); return nil }

// PreCommit implements Sink.
func (w *WriteThrough) PreCommit(int64) error { return nil }

// Commit implements Sink.
func (w *WriteThrough) Commit(int64) error { return nil }

// Recover implements Sink.
func (w *WriteThrough) Recover(int64) error { return nil }

// Committed implements Sink.
func (w *WriteThrough) Committed() []dataflow.Result {
	return append([]dataflow.Result(nil), w.rows...)
}

// CrashKind says where in the job a crash happens.
type CrashKind uint8

// Crash kinds.
const (
	// CrashMidEpoch crashes after the job has processed At records
	// (replays included), between checkpoints.
	CrashMidEpoch CrashKind = iota + 1
	// CrashAfterPreCommit crashes checkpoint At after the sink sealed its
	// transaction and before the checkpoint completed: the checkpoint
	// fails, and its transaction must be aborted.
	CrashAfterPreCommit
	// CrashBeforeNotify crashes checkpoint At after it completed and before
	// the sink was told to commit: the transaction must still be
	// committed, by Recover.
	CrashBeforeNotify
)

// Crash is one injected failure of the job.
type Crash struct {
	Kind CrashKind
	// At is the record count (CrashMidEpoch) or the checkpoint id (the
	// others) the crash happens at.
	At int64
}

// Plan is a job's schedule of checkpoints and crashes.
type Plan struct {
	// CheckpointEvery takes a checkpoint after every this many records
	// processed since the last one (and one at the end of the input).
	CheckpointEvery int64
	// Crashes are the failures to inject; each fires once.
	Crashes []Crash
}

// JobStats counts what a job did.
type JobStats struct {
	Processed   int64 // records processed, replays included
	Checkpoints int64 // completed checkpoints
	Crashes     int64
}

// RunJob runs the payments feed (Spec) over the closed log l into sink,
// with the plan's checkpoints and crashes, as a Flink job with a
// transactional sink would: records are read round robin over the
// partitions, each processed row is written to the sink, and a checkpoint
// records every partition's offset after the sink has pre-committed; a
// completed checkpoint is then committed. A crash loses the job's progress
// since its last completed checkpoint: it restores that checkpoint's
// offsets, calls sink.Recover and replays. Checkpoint ids increase over
// the whole run; a failed checkpoint's id is not reused.
//
// onCommit, if not nil, is called after each commit (and after each
// Recover) with the offsets the committed checkpoint covers, so a test can
// compare the sink's visible rows with the exact answer for that prefix of
// the log. RunJob is deterministic: the same log and plan make the same
// calls.
func RunJob(l *datasets.Log, plan Plan, sink Sink, onCommit func(offsets []int64) error) (JobStats, error) {
	if plan.CheckpointEvery <= 0 {
		return JobStats{}, fmt.Errorf("exactlyonce: a plan needs CheckpointEvery > 0, got %d", plan.CheckpointEvery)
	}
	spec, err := Spec(l.Schema())
	if err != nil {
		return JobStats{}, err
	}
	keep, err := dataflow.CompilePredicate(spec.Steps[0].(dataflow.FilterStep).Pred, l.Schema())
	if err != nil {
		return JobStats{}, err
	}
	s := l.Schema()
	cols := make([]int, 4)
	for i, c := range []string{"card_id", "amount", "event_time", "merchant"} {
		if _, cols[i], err = s.Lookup(c); err != nil {
			return JobStats{}, err
		}
	}
	fired := make([]bool, len(plan.Crashes))
	crashAt := func(kind CrashKind, at int64) bool {
		for i, c := range plan.Crashes {
			if !fired[i] && c.Kind == kind && c.At == at {
				fired[i] = true
				return true
			}
		}
		return false
	}

	np := l.Partitions()
	pos := make([]int64, np)
	done := make([]int64, np)         // offsets of the last completed checkpoint
	var doneEpoch, epoch, since int64 // epoch: the last checkpoint id used
	var st JobStats
	restore := func() error {
		st.Crashes++
		copy(pos, done)
		since = 0
		if err := sink.Recover(doneEpoch); err != nil {
			return fmt.Errorf("exactlyonce: recover to checkpoint %d: %w", doneEpoch, err)
		}
		if onCommit != nil {
			return onCommit(append([]int64(nil), done...))
		}
		return nil
	}
	// checkpoint returns false when the job crashed during it.
	checkpoint := func() (bool, error) {
		epoch++
		since = 0
		if err := sink.PreCommit(epoch); err != nil {
			return false, fmt.Errorf("exactlyonce: pre-commit of checkpoint %d: %w", epoch, err)
		}
		if crashAt(CrashAfterPreCommit, epoch) {
			return false, restore()
		}
		copy(done, pos)
		doneEpoch = epoch
		st.Checkpoints++
		if crashAt(CrashBeforeNotify, epoch) {
			return false, restore()
		}
		if err := sink.Commit(epoch); err != nil {
			return false, fmt.Errorf("exactlyonce: commit of checkpoint %d: %w", epoch, err)
		}
		if onCommit != nil {
			return true, onCommit(append([]int64(nil), done...))
		}
		return true, nil
	}
	var row dataflow.Row
	for {
		progressed := false
		for p := range np {
			if pos[p] >= l.End(p) {
				continue
			}
			progressed = true
			row, _ = l.Read(p, pos[p], row)
			st.Processed++
			if crashAt(CrashMidEpoch, st.Processed) {
				if err := restore(); err != nil {
					return st, err
				}
				break
			}
			if keep(row) {
				r := dataflow.Result{Key: row[cols[0]].S, Value: row[cols[1]], Extra: []dataflow.Value{row[cols[2]], row[cols[3]]}}
				if err := sink.Write(r); err != nil {
					return st, fmt.Errorf("exactlyonce: write of partition %d offset %d: %w", p, pos[p], err)
				}
			}
			pos[p]++
			if since++; since == plan.CheckpointEvery {
				if _, err := checkpoint(); err != nil {
					return st, err
				}
				break
			}
		}
		if !progressed {
			// The end of the input: a final checkpoint commits the rest
			// (Flink's final checkpoint). A crash in it replays from the
			// last completed one.
			ok, err := checkpoint()
			if err != nil {
				return st, err
			}
			if ok {
				return st, nil
			}
		}
	}
}
