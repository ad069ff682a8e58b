package recordstream

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// TestDataflowLateRetryIsNotAReplay drives the one window task of a
// Dataflow fixed-window pipeline by hand through the sequence `bench
// torture --guarantees dataflow` found (seed 2, trial 499, with --late):
// the watermark passes a window; a record of that window, late when first
// sent, arrives in a bundle the task crashes in before its commit; the
// restarted task reloads its store, which has neither the record's id nor
// its late report; the spout's retry arrives and is late again. The
// committed run has that one delivery: it must be reported as a first
// delivery (RD7). Reported as a replay whose earlier delivery reached its
// windows (LostAbove MaxTime), compare's check kept the record in the
// reference, and the run's windows were short of it.
func TestDataflowLateRetryIsNotAReplay(t *testing.T) {
	h := newDataflowWindowHarness(t, "fixed")
	w, m := h.w, h.m
	const wm = testBaseTime + 2_000
	h.bundle(tuple{Kind: msgWatermark, Time: wm})
	require.Equal(t, dataflow.Time(wm), w.op.Watermark())

	first := h.record(false)
	require.NoError(t, m.input(t.Context(), w, 0, &first))
	require.Len(t, w.late, 1, "the record's window ended before the watermark: late")
	require.NoError(t, m.crash())
	require.NoError(t, w.crash())
	require.NoError(t, m.restart(t.Context(), w))
	require.Empty(t, w.late, "the late report went with the uncommitted bundle")
	require.Equal(t, dataflow.Time(wm), w.op.Watermark(), "the restart reloads the committed watermark")

	h.bundle(h.record(true)) // the spout's retry
	require.Len(t, w.late, 1)
	l := w.late[0]
	assert.False(t, l.Replay, "the retry is the record's only committed delivery (RD7)")
	assert.Equal(t, dataflow.MaxTime, l.LostAbove)
	assert.Equal(t, dataflow.Time(wm), l.Watermark)
	assert.Equal(t, 1, m.store.late, "the late report is committed with its bundle")

	h.bundle(h.record(true)) // its ack was lost: another retry, a duplicate
	assert.Len(t, w.late, 1, "a duplicate of a committed late record was reported again")
	assert.Equal(t, int64(1), m.recv.Stats.Duplicates)
}

// dataflowWindowHarness is a Dataflow window task (one input spout) and
// its protocol, driven by hand: no goroutines, no clock.
type dataflowWindowHarness struct {
	t   *testing.T
	w   *windowTask
	m   *millBolt
	row dataflow.Row
}

func newDataflowWindowHarness(t *testing.T, shape string) *dataflowWindowHarness {
	src := &memSource{schema: testSchema, parts: [][]dataflow.Record{nil}}
	cfg := (&Config{Guarantee: Dataflow}).withDefaults()
	tp, err := compile(shapes()[shape], src, cfg, nil)
	require.NoError(t, err)
	r := &mwRun{t: tp, cfg: cfg.DataflowConfig.withDefaults()}
	w := tp.windows[0]
	m := r.newBolt(w.taskBase)
	m.w, m.up, m.box = w, []*edge{newEdge(tp.spouts[0].in, cfg.QueueBatches, cfg.BatchSize, nil)}, &ackBox{wake: m.wake}
	w.proto, w.strong = m, m
	h := &dataflowWindowHarness{t: t, w: w, m: m, row: make(dataflow.Row, tp.aggIn.Len())}
	for name, v := range map[string]dataflow.Value{"user": dataflow.Str("u1"), "v": dataflow.Int(3), "event_time": dataflow.Timestamp(testBaseTime + 10)} {
		if i := tp.aggIn.Index(name); i >= 0 {
			h.row[i] = v
		}
	}
	return h
}

// record is a delivery of the record at offset 7, event time
// testBaseTime+10 (a retry with replay).
func (h *dataflowWindowHarness) record(replay bool) tuple {
	d := tuple{Kind: msgData, Offset: 7, Time: testBaseTime + 10, Row: h.row}
	if replay {
		d.Aux = 1
	}
	return d
}

// bundle delivers tps from the spout as one bundle and commits it.
func (h *dataflowWindowHarness) bundle(tps ...tuple) {
	h.t.Helper()
	for i := range tps {
		require.NoError(h.t, h.m.input(h.t.Context(), h.w, 0, &tps[i]))
	}
	require.NoError(h.t, h.m.endBatch(h.t.Context(), h.w))
}

// makeLate moves a share of src's records back in event time by delay,
// behind the watermark bound (the generators' --late, --late-delay).
func makeLate(src *memSource, seed uint64, share float64, delay time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 17))
	at := src.schema.Index("event_time")
	for _, part := range src.parts {
		for i := range part {
			if rng.Float64() < share {
				part[i].Row[at] = dataflow.Timestamp(part[i].Row[at].Time() - dataflow.Time(delay.Milliseconds()))
			}
		}
	}
}

// checkDataflowLate asserts what compare's check verifies of a Dataflow
// run's late records (RD5, RD7): none is a replay, and each drop's
// watermark is at most what the event times of its partition's records
// before it allow (the largest minus the watermark bound).
func checkDataflowLate(t *testing.T, p *dataflow.Pipeline, src *memSource, rep *Report) {
	t.Helper()
	at := src.schema.Index("event_time")
	var bound dataflow.Time
	if a := p.Agg; a != nil {
		bound = dataflow.Time(a.Watermark.MaxOutOfOrderness.Milliseconds())
	}
	for _, l := range rep.Late {
		assert.False(t, l.Replay, "late record %v reported as a replay (RD7)", l.RecordRef)
		assert.Equal(t, dataflow.MaxTime, l.LostAbove, "late record %v", l.RecordRef)
		hi := dataflow.MinTime
		for _, r := range src.parts[l.Partition][:l.Offset] {
			hi = max(hi, r.Row[at].Time())
		}
		if hi != dataflow.MinTime {
			hi -= bound
		}
		assert.LessOrEqual(t, l.Watermark, hi, "late record %v dropped at a watermark its partition's records before it do not allow (RD5)", l.RecordRef)
	}
}
