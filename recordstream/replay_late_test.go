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
	h := newLateReplayHarness(t)
	w := h.w

	h.deliver(false, 10) // held in the key's queue: its session has not fired
	require.NoError(t, w.crash())
	require.Equal(t, dataflow.MinTime, w.lostAt[h.ref], "the crash lost a tuple whose session had not fired")

	h.deliver(true, 20) // the replay is taken into a new session
	assert.Equal(t, int64(1), w.stats.replaysIn)
	h.watermark(h.at + 1_000) // past the session's end: it fires on time
	h.requireSessionPane()

	h.deliver(true, 30) // the first replay's tree timed out: a second replay, late
	h.requireLateReplayLostNothing()
}

// TestLateReplayAfterLostReplayKeepsItsDelivery: the record's first
// delivery reached its session, which fired; its tree timed out (the ack
// was slow), and the replay waited in the window task's queue when the
// task crashed. Losing that replay loses nothing of the record, so the
// next replay, late, reports LostAbove MaxTime; a crash that said MinTime
// made the check leave the record out of the reference although the
// run's session had it (seen under load as the same flaky "lost").
func TestLateReplayAfterLostReplayKeepsItsDelivery(t *testing.T) {
	h := newLateReplayHarness(t)
	w := h.w

	h.deliver(false, 10)
	h.watermark(h.at + 1_000) // the session fires and its tuple is acked
	h.requireSessionPane()
	require.Empty(t, w.keys["u1"].q)
	require.Zero(t, w.exq.len())

	// The replay is queued in the task's inbox when it crashes.
	e := h.tp.spouts[0].out[0]
	q, err := e.slot(t.Context())
	require.NoError(t, err)
	*q = h.tuple(true, 20)
	require.NoError(t, e.flush(t.Context()))
	require.NoError(t, w.crash())
	assert.Equal(t, int64(1), w.stats.lost)
	_, lost := w.lostAt[h.ref]
	assert.False(t, lost, "a lost replay of a record whose first delivery reached its windows loses nothing")

	h.watermark(h.at + 1_000)
	h.deliver(true, 30) // the lost replay's tree timed out: the next replay is late
	h.requireLateReplayLostNothing()
}

// lateReplayHarness drives the one window task of an at-least-once
// session pipeline by hand, with one record of key u1.
type lateReplayHarness struct {
	t   *testing.T
	tp  *topo
	w   *windowTask
	at  dataflow.Time
	row dataflow.Row
	ref dataflow.RecordRef
}

func newLateReplayHarness(t *testing.T) *lateReplayHarness {
	p := shapes()["session"] // gap 150 ms, watermark bound 100 ms, lateness 0
	src := &memSource{schema: testSchema, parts: [][]dataflow.Record{nil}}
	tp, err := compile(p, src, (&Config{Guarantee: AtLeastOnce}).withDefaults(), nil)
	require.NoError(t, err)
	h := &lateReplayHarness{t: t, tp: tp, w: tp.windows[0], at: testBaseTime + 10, ref: dataflow.RecordRef{Offset: 7}}
	h.row = make(dataflow.Row, tp.aggIn.Len())
	h.row[tp.aggIn.Index("user")] = dataflow.Str("u1")
	h.row[tp.aggIn.Index("event_time")] = dataflow.Timestamp(h.at)
	return h
}

// tuple is a delivery of the record under tree root.
func (h *lateReplayHarness) tuple(replay bool, root uint64) tuple {
	d := tuple{Kind: msgData, Partition: int32(h.ref.Partition), Offset: h.ref.Offset, Time: h.at, Root: root, Edge: root + 1, Row: h.row}
	if replay {
		d.Aux = 1
	}
	return d
}

func (h *lateReplayHarness) deliver(replay bool, root uint64) {
	h.t.Helper()
	d := h.tuple(replay, root)
	require.NoError(h.t, h.w.handle(h.t.Context(), 0, &d))
}

func (h *lateReplayHarness) watermark(wm dataflow.Time) {
	h.t.Helper()
	require.NoError(h.t, h.w.handle(h.t.Context(), 0, &tuple{Kind: msgWatermark, Time: wm}))
}

// requireSessionPane asserts that the last pane sent is the record's
// session, counting it once.
func (h *lateReplayHarness) requireSessionPane() {
	h.t.Helper()
	out := h.w.out.cur
	require.NotNil(h.t, out, "no pane sent")
	pane := out.ts[len(out.ts)-1]
	require.Equal(h.t, msgPane, pane.Kind)
	assert.Equal(h.t, dataflow.Window{Start: h.at, End: h.at + 150}, pane.Win)
	assert.Equal(h.t, dataflow.Int(1), pane.Row[1], "the session counts the record once")
}

// requireLateReplayLostNothing asserts that the one late record is a
// replay whose earlier delivery the run kept (RW4).
func (h *lateReplayHarness) requireLateReplayLostNothing() {
	h.t.Helper()
	require.Len(h.t, h.w.late, 1)
	l := h.w.late[0]
	assert.True(h.t, l.Replay)
	assert.Equal(h.t, dataflow.MaxTime, l.LostAbove,
		"an earlier delivery reached the record's session, which fired: nothing of the record is lost (RW4)")
}
