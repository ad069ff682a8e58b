package checkpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
)

func res(start int64, key string, v int64) dataflow.Result {
	return dataflow.Result{Window: dataflow.Window{Start: dataflow.Time(start), End: dataflow.Time(start + 10)}, Key: key, Value: dataflow.Int(v)}
}

func TestTwoPhaseSink(t *testing.T) {
	out := NewCommitted()
	s := NewTwoPhaseSink(3, out)
	s.Write(res(0, "a", 1), 0)
	s.PreCommit(1)
	snap1 := s.AppendSnapshot(nil)
	s.Write(res(10, "b", 2), 0)
	assert.Empty(t, out.Results(), "nothing is visible before checkpoint 1 completes")

	s.NotifyComplete(1)
	assert.Equal(t, []dataflow.Result{res(0, "a", 1)}, out.Results())
	assert.Equal(t, 1, s.PendingEmissions())

	// Crash: the task restarts from checkpoint 1, whose state still holds
	// transaction 1 (committed again: a no-op), and replays b.
	s2 := NewTwoPhaseSink(3, out)
	require.NoError(t, s2.Restore(snap1))
	assert.Equal(t, 1, out.Transactions())
	s2.Write(res(10, "b", 2), 0)
	s2.PreCommit(2)
	s2.Write(res(10, "b", 3), 1) // a later pane of the same window
	s2.PreCommit(3)              // checkpoint 3 completes before 2's notification
	s2.NotifyComplete(3)
	s2.Write(res(20, "c", 4), 0)
	s2.EndOfInput()
	s2.CommitAll()
	assert.Equal(t, []dataflow.Result{res(0, "a", 1), res(10, "b", 3), res(20, "c", 4)}, out.Results())
	assert.Zero(t, out.Duplicates())
	assert.Len(t, out.Emissions(), 4)
	assert.Zero(t, s2.PendingEmissions())
}

func TestTwoPhaseSinkRestoreCommitsPreCommitted(t *testing.T) {
	// Checkpoint 1 completed but the sink crashed before notifyComplete:
	// the restore commits transaction 1.
	out := NewCommitted()
	s := NewTwoPhaseSink(0, out)
	r := res(0, "k", 5)
	r.Extra = []dataflow.Value{dataflow.Str("x"), dataflow.Float(1.5)}
	s.Write(r, 2)
	s.PreCommit(1)
	snap := s.AppendSnapshot(nil)

	s2 := NewTwoPhaseSink(0, out)
	require.NoError(t, s2.Restore(snap))
	assert.Equal(t, []Emission{{Result: r, Pane: 2}}, out.Emissions())

	require.ErrorIs(t, s2.Restore(snap[:len(snap)-1]), wire.ErrCorrupt)
	require.ErrorIs(t, s2.Restore(append(snap, 0)), wire.ErrCorrupt)
}

func TestTwoPhaseSinkCountsDuplicates(t *testing.T) {
	out := NewCommitted()
	s := NewTwoPhaseSink(0, out)
	s.Write(res(0, "a", 1), 0)
	s.PreCommit(1)
	s.NotifyComplete(1)
	s.Write(res(0, "a", 1), 0) // the same pane again: a duplicate a reader sees
	s.PreCommit(2)
	s.Abort(2)
	s.NotifyComplete(2)
	assert.Zero(t, out.Duplicates(), "an aborted transaction is never committed")
	s.Write(res(0, "a", 1), 0)
	s.PreCommit(3)
	s.NotifyComplete(3)
	assert.Equal(t, int64(1), out.Duplicates())
}

func TestIdempotentSink(t *testing.T) {
	s := NewIdempotentSink()
	s.Write(res(0, "a", 1), 0)
	s.Write(res(0, "a", 2), 1)
	s.Write(res(0, "a", 2), 1) // replayed
	s.Write(res(10, "a", 7), 0)
	assert.Equal(t, []dataflow.Result{res(0, "a", 2), res(10, "a", 7)}, s.Results())
	assert.Equal(t, int64(2), s.Overwrites())
}

func TestEmissionEncodingRoundTrip(t *testing.T) {
	e := Emission{Result: res(10, "k", 7), Pane: 3, MaxEventTime: 19, MaxIngestNanos: 1 << 40}
	e.Result.Extra = dataflow.Row{dataflow.Str("hé"), dataflow.Float(2.5), {}}
	b := AppendEmission(nil, e)
	d := wire.NewDecoder(b)
	assert.Equal(t, e, DecodeEmission(d))
	require.NoError(t, d.Finish())
	for n := range len(b) {
		d := wire.NewDecoder(b[:n])
		DecodeEmission(d)
		assert.ErrorIs(t, d.Err(), wire.ErrCorrupt, "DecodeEmission of %d of %d bytes", n, len(b))
	}
}

// TestMergeNotices follows a session that fired an early pane and then
// merged into a larger one (dataflow.PaneMerged) through the encoding, the
// committed output and the idempotent sink: only the merged session is a
// final value.
func TestMergeNotices(t *testing.T) {
	from := dataflow.Window{Start: 0, End: 10}
	into := dataflow.Window{Start: 0, End: 25}
	early := Emission{Result: dataflow.Result{Window: from, Key: "k", Value: dataflow.Int(2)}, Pane: 0}
	notice := Emission{Result: dataflow.Result{Window: from, Key: "k"}, Pane: 1, Merged: true, Into: into}
	final := Emission{Result: dataflow.Result{Window: into, Key: "k", Value: dataflow.Int(5)}, Pane: 1}

	d := wire.NewDecoder(AppendEmission(nil, notice))
	assert.Equal(t, notice, DecodeEmission(d), "a merge notice round-trips")
	require.NoError(t, d.Finish())
	bad := AppendEmission(nil, early)
	bad[len(bad)-1] = 2 // neither pane nor notice
	d = wire.NewDecoder(bad)
	DecodeEmission(d)
	assert.ErrorIs(t, d.Err(), wire.ErrCorrupt, "an emission flag of 2")

	out := NewCommitted()
	require.True(t, out.commit(TxnID{Checkpoint: 1}, []Emission{early}))
	require.True(t, out.commit(TxnID{Checkpoint: 2}, []Emission{notice, final}))
	assert.Equal(t, []dataflow.Result{final.Result}, out.Results(), "committed results after the merge")
	assert.Len(t, out.Emissions(), 3, "the notice is kept in commit order for readers that rebuild values")

	s := NewIdempotentSink()
	s.Write(early.Result, early.Pane)
	s.Merge("k", from, into)
	moved := early.Result
	moved.Window = into
	assert.Equal(t, []dataflow.Result{moved}, s.Results(), "the early value moves to the merged session")
	s.Write(final.Result, final.Pane)
	assert.Equal(t, []dataflow.Result{final.Result}, s.Results(), "and the merged session's pane replaces it")
	s.Merge("k", from, into) // a repeated notice finds nothing to move
	assert.Equal(t, []dataflow.Result{final.Result}, s.Results())
}
