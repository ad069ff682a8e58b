package recordstream

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// TestLateReplayAfterReplayTakenInKeepsItsDelivery drives one window task
// of an at-least-once session pipeline by hand through the sequence that
// made compare's TestCrashGuarantees flaky under load (sessions,
// seed=683430, crash=2722, p=3): a crash loses a held tuple; its replay is
// taken into a session, which fires; the replay's own tree times out (the
// task was slow), and the second replay comes after the session fired.
// That late replay's earlier delivery (the first replay) reached its
// session, so its LostAbove must be MaxTime (nothing lost, RW4). Stale
// crash bookkeeping said MinTime, and the check then left the record out
// of the reference while the run had counted it: the reference's session
// split or shrank, and the run's complete sessions were reported missing
// ("lost") and not in the reference.
func TestLateReplayAfterReplayTakenInKeepsItsDelivery(t *testing.T) {
	p := shapes()["session"] // gap 150 ms, watermark bound 100 ms, lateness 0
	src := &memSource{schema: testSchema, parts: [][]dataflow.Record{nil}}
	tp, err := compile(p, src, (&Config{Guarantee: AtLeastOnce}).withDefaults(), nil)
	require.NoError(t, err)
	w := tp.windows[0]
	ctx := t.Context()

	at := dataflow.Time(testBaseTime + 10)
	row := make(dataflow.Row, tp.aggIn.Len())
	row[tp.aggIn.Index("user")] = dataflow.Str("u1")
	row[tp.aggIn.Index("event_time")] = dataflow.Timestamp(at)
	deliver := func(replay bool, root uint64) {
		t.Helper()
		d := tuple{Kind: msgData, Partition: 0, Offset: 7, Time: at, Root: root, Edge: root + 1, Row: row}
		if replay {
			d.Aux = 1
		}
		require.NoError(t, w.handle(ctx, 0, &d))
	}
	watermark := func(wm dataflow.Time) {
		t.Helper()
		require.NoError(t, w.handle(ctx, 0, &tuple{Kind: msgWatermark, Time: wm}))
	}

	deliver(false, 10) // held in the key's queue: its session has not fired
	require.NoError(t, w.crash())
	require.Equal(t, dataflow.MinTime, w.lostAt[dataflow.RecordRef{Offset: 7}], "the crash lost a tuple whose session had not fired")

	deliver(true, 20) // the replay is taken into a new session
	assert.Equal(t, int64(1), w.stats.replaysIn)
	watermark(at + 1_000) // past the session's end: it fires on time
	require.NotNil(t, w.out.cur, "no pane sent")
	pane := w.out.cur.ts[len(w.out.cur.ts)-1]
	require.Equal(t, msgPane, pane.Kind)
	assert.Equal(t, dataflow.Window{Start: at, End: at + 150}, pane.Win)
	assert.Equal(t, dataflow.Int(1), pane.Row[1], "the session counts the record once")

	deliver(true, 30) // the first replay's tree timed out: a second replay, late
	require.Len(t, w.late, 1)
	l := w.late[0]
	assert.True(t, l.Replay)
	assert.Equal(t, dataflow.MaxTime, l.LostAbove,
		"the first replay's delivery reached its session, which fired: nothing of the record is lost (RW4)")

}
