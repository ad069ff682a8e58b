package exactlyonce

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/labs/internal/labtest"
)

// Both sinks of the job satisfy the lab's Sink interface.
var (
	_ Sink = (*TxSink)(nil)
	_ Sink = (*WriteThrough)(nil)
)

func payment(card string, amount int64, at dataflow.Time, merchant string) dataflow.Result {
	return dataflow.Result{Key: card, Value: dataflow.Int(amount), Extra: []dataflow.Value{dataflow.Timestamp(at), dataflow.Str(merchant)}}
}

// TestIdempotentSinkRules: one row per id, duplicates counted, a
// conflicting duplicate refused, rows kept in first-write order and not
// aliased to the caller's slices.
func TestIdempotentSinkRules(t *testing.T) {
	_, err := NewIdempotentSink(nil)
	assert.Error(t, err, "NewIdempotentSink(nil) must refuse a missing id function")
	s, err := NewIdempotentSink(PaymentIDOf)
	require.NoError(t, err)
	a := payment("card-1", 12_000, 1_000, "x store")
	b := payment("card-2", 15_000, 1_000, "y store")
	c := payment("card-1", 30_000, 1_001, "z store")
	for _, r := range []dataflow.Result{a, b, a, c, b, a} {
		require.NoError(t, s.Write(r), "Write(%s)", labtest.Row(r))
	}
	assert.Equal(t, []dataflow.Result{a, b, c}, s.Results(), "Results after writing a, b, a, c, b, a")
	assert.Equal(t, int64(3), s.Duplicates(), "Duplicates after writing a, b, a, c, b, a")

	conflict := payment("card-1", 99_999, 1_000, "x store")
	assert.Error(t, s.Write(conflict), "a row with a's id and another amount is not a duplicate of a: Write must refuse it")
	assert.Error(t, s.Write(dataflow.Result{Key: "card-9", Value: dataflow.Int(1)}), "a row without an event time has no id")

	d := payment("card-3", 20_000, 2_000, "w store")
	require.NoError(t, s.Write(d))
	d.Extra[1] = dataflow.Str("changed by the caller")
	got := s.Results()
	require.Len(t, got, 4)
	assert.Equal(t, "w store", got[3].Extra[1].S, "the sink must keep its own copy of a row's extra columns")
}

// paymentsWorkload is Spec as a compare workload, so a real runtime runs
// it.
func paymentsWorkload() *compare.Workload {
	return &compare.Workload{
		Name: "payments", Dataset: "transactions", EventRate: EventRate,
		Description: "payments of $100 or more (labs/exactlyonce)",
		Pipeline: func(map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
			g, err := datasets.Lookup("transactions")
			if err != nil {
				return nil, err
			}
			return Spec(g.Schema())
		},
	}
}

// TestIdempotentSinkAtLeastOnceRun runs the payments feed on
// recordstream's at-least-once guarantee with a crash of the sink task and
// 1% of acker messages lost, so records time out and replay and the
// runtime's output holds duplicated rows. Written through the idempotent
// sink, in a shuffled order, the rows are exactly the reference answer.
func TestIdempotentSinkAtLeastOnceRun(t *testing.T) {
	w := paymentsWorkload()
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			s, err := NewIdempotentSink(PaymentIDOf)
			require.NoError(t, err)
			r, err := compare.NewRunner("recordstream", compare.RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, MessageTimeout: 100 * time.Millisecond})
			require.NoError(t, err)
			rep, err := compare.RunOne(t.Context(), w, r, compare.DataSpec{Events: 20_000, Seed: seed},
				compare.Options{CrashAfter: []int64{2_000}, DropAcks: 0.01, Seed: seed}, nil)
			require.NoError(t, err)
			rows := rep.Outcome.Results
			require.Positive(t, rep.Check.Full.Duplicated, "the at-least-once run duplicated nothing: the test does not exercise the sink (counters %v)", rep.Outcome.Counters)

			log, _, err := compare.LoadData(t.Context(), w, compare.DataSpec{Events: 20_000, Seed: seed})
			require.NoError(t, err)
			spec, err := Spec(log.Schema())
			require.NoError(t, err)
			want, err := dataflow.Reference(spec, log.All(), dataflow.ReferenceOptions{})
			require.NoError(t, err)
			ids := map[string]bool{}
			for _, x := range want {
				id, err := PaymentIDOf(x)
				require.NoError(t, err)
				require.False(t, ids[id], "two payments share the id %s: the id does not identify a payment", id)
				ids[id] = true
			}
			require.NotEmpty(t, labtest.Diff(want, rows), "the runtime's own output already equals the reference")

			rng := rand.New(rand.NewPCG(seed, 4))
			for _, i := range rng.Perm(len(rows)) {
				require.NoError(t, s.Write(rows[i]))
			}
			if d := labtest.Diff(want, s.Results()); d != "" {
				t.Errorf("the idempotent sink's rows differ from the exact answer: %s", d)
			}
			assert.Equal(t, int64(len(rows)-len(want)), s.Duplicates(), "duplicates skipped")
		})
	}
}

func newTxSink(t *testing.T) *TxSink {
	t.Helper()
	s, err := NewTxSink()
	require.NoError(t, err)
	require.NotNil(t, s)
	return s
}

// TestTxSinkRules checks the two-phase commit protocol step by step.
func TestTxSinkRules(t *testing.T) {
	a := payment("card-1", 12_000, 1_000, "x")
	b := payment("card-2", 13_000, 1_001, "y")
	c := payment("card-3", 14_000, 1_002, "z")
	visible := func(s *TxSink, want ...dataflow.Result) {
		t.Helper()
		if d := labtest.Diff(want, s.Committed()); d != "" {
			t.Errorf("visible rows: %s", d)
		}
	}
	t.Run("nothing is visible before its checkpoint commits", func(t *testing.T) {
		s := newTxSink(t)
		require.NoError(t, s.Write(a))
		visible(s)
		require.NoError(t, s.PreCommit(1))
		visible(s)
		require.NoError(t, s.Write(b))
		require.NoError(t, s.Commit(1))
		visible(s, a)
		require.NoError(t, s.Commit(1), "a second commit of checkpoint 1")
		visible(s, a)
		require.NoError(t, s.PreCommit(2))
		require.NoError(t, s.Commit(2))
		visible(s, a, b)
	})
	t.Run("checkpoint ids increase, and only sealed ones commit", func(t *testing.T) {
		s := newTxSink(t)
		require.NoError(t, s.PreCommit(3))
		assert.Error(t, s.PreCommit(3), "PreCommit(3) twice")
		assert.Error(t, s.PreCommit(2), "PreCommit(2) after 3")
		assert.Error(t, s.Commit(7), "Commit(7) of a checkpoint never pre-committed")
	})
	t.Run("recover aborts the open transaction and those sealed after the restored checkpoint", func(t *testing.T) {
		s := newTxSink(t)
		require.NoError(t, s.Write(a))
		require.NoError(t, s.PreCommit(1))
		require.NoError(t, s.Commit(1))
		require.NoError(t, s.Write(b))
		require.NoError(t, s.PreCommit(2)) // its checkpoint fails
		require.NoError(t, s.Write(c))     // the open transaction
		require.NoError(t, s.Recover(1))
		visible(s, a)
		assert.Error(t, s.Commit(2), "checkpoint 2 was aborted by Recover(1)")
		require.NoError(t, s.Write(b))
		require.NoError(t, s.PreCommit(3))
		require.NoError(t, s.Commit(3))
		visible(s, a, b)
	})
	t.Run("recover commits a completed checkpoint whose commit was never sent", func(t *testing.T) {
		s := newTxSink(t)
		require.NoError(t, s.Write(a))
		require.NoError(t, s.PreCommit(1))
		require.NoError(t, s.Write(b))
		require.NoError(t, s.PreCommit(2))
		require.NoError(t, s.Write(c))
		require.NoError(t, s.Recover(2))
		visible(s, a, b)
		require.NoError(t, s.Recover(2), "recovering twice")
		visible(s, a, b)
	})
	t.Run("recover to no checkpoint discards everything", func(t *testing.T) {
		s := newTxSink(t)
		require.NoError(t, s.Write(a))
		require.NoError(t, s.PreCommit(1))
		require.NoError(t, s.Recover(0))
		visible(s)
	})
}

// randomPlan draws a checkpoint interval and two to five distinct crashes
// of every kind (each checkpoint id is used once, so a crash at one fires
// at most once).
func randomPlan(r *rand.Rand, events int64) Plan {
	p := Plan{CheckpointEvery: 500 + r.Int64N(1500)}
	epochs := events / p.CheckpointEvery
	for n := 2 + r.IntN(4); len(p.Crashes) < n; {
		c := Crash{Kind: CrashMidEpoch, At: 1 + r.Int64N(events)}
		switch r.IntN(3) {
		case 1:
			c = Crash{Kind: CrashAfterPreCommit, At: 1 + r.Int64N(epochs)}
		case 2:
			c = Crash{Kind: CrashBeforeNotify, At: 1 + r.Int64N(epochs)}
		}
		if !slices.ContainsFunc(p.Crashes, func(o Crash) bool { return o.At == c.At && (o.Kind == CrashMidEpoch) == (c.Kind == CrashMidEpoch) }) {
			p.Crashes = append(p.Crashes, c)
		}
	}
	return p
}

// prefixAnswer returns the exact answer of Spec over the records below
// offsets (partition by partition): what a committed checkpoint covers.
func prefixAnswer(t *testing.T, l *datasets.Log, offsets []int64) []dataflow.Result {
	t.Helper()
	spec, err := Spec(l.Schema())
	require.NoError(t, err)
	want, err := dataflow.Reference(spec, l.All(), dataflow.ReferenceOptions{Exclude: func(p int, off int64) bool { return off >= offsets[p] }})
	require.NoError(t, err)
	return want
}

// TestTxSinkExactlyOnce runs the payments job with random checkpoint and
// crash plans into the transactional sink: after every commit the visible
// rows are exactly the answer for the log prefix the checkpoint covers
// (nothing uncommitted, nothing twice), and at the end the whole answer.
func TestTxSinkExactlyOnce(t *testing.T) {
	newTxSink(t) // fail before generating data if there is no sink
	const events = 12_000
	l, _, err := labtest.Log(t.Context(), "transactions", datasets.Config{Events: events, Seed: 7, EventRate: EventRate})
	require.NoError(t, err)
	full := prefixAnswer(t, l, []int64{events, events, events, events})
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 6 {
		plan := randomPlan(r, events)
		t.Run(fmt.Sprintf("plan=%d", i), func(t *testing.T) {
			s := newTxSink(t)
			commits := 0
			st, err := RunJob(l, plan, s, func(offsets []int64) error {
				commits++
				if d := labtest.Diff(prefixAnswer(t, l, offsets), s.Committed()); d != "" {
					return fmt.Errorf("after commit %d (offsets %v) the visible rows differ from the exact answer of that prefix: %s", commits, offsets, d)
				}
				return nil
			})
			require.NoError(t, err, "plan %+v", plan)
			assert.Equal(t, int64(len(plan.Crashes)), st.Crashes, "every crash of plan %+v fired", plan)
			if d := labtest.Diff(full, s.Committed()); d != "" {
				t.Errorf("plan %+v: the final visible rows differ from the exact answer: %s", plan, d)
			}
		})
	}
}

// TestHarnessJob checks the lab's job, not the exercise: without crashes
// the write-through sink gets exactly the answer, and under the test's
// crash plans it gets duplicates (so the plans do exercise replay).
func TestHarnessJob(t *testing.T) {
	const events = 12_000
	l, _, err := labtest.Log(t.Context(), "transactions", datasets.Config{Events: events, Seed: 7, EventRate: EventRate})
	require.NoError(t, err)
	full := prefixAnswer(t, l, []int64{events, events, events, events})
	var wt WriteThrough
	st, err := RunJob(l, Plan{CheckpointEvery: 1000}, &wt, nil)
	require.NoError(t, err)
	assert.Empty(t, labtest.Diff(full, wt.Committed()), "without crashes")
	assert.Equal(t, int64(events), st.Processed)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 6 {
		plan := randomPlan(r, events)
		var wt WriteThrough
		st, err := RunJob(l, plan, &wt, nil)
		require.NoError(t, err)
		assert.Greater(t, st.Processed, int64(events), "plan %d replays records", i)
		assert.Greater(t, len(wt.Committed()), len(full), "plan %d: the write-through sink duplicates rows", i)
	}
	_, err = RunJob(l, Plan{}, &wt, nil)
	assert.Error(t, err, "a plan without a checkpoint interval")
}
