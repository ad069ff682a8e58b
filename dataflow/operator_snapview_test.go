package dataflow_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// snapViewAggs are the aggregations of the snapshot tests: every window
// kind and trigger.
func snapViewAggs() map[string]dataflow.Aggregation {
	aggs := opDiffAggregations()
	late := aggs["fixed"]
	late.AllowedLateness = 50 * time.Millisecond
	late.Trigger = dataflow.Trigger{LateFirings: true, EarlyEvery: 10 * time.Millisecond}
	aggs["late-early"] = late
	aggs["session-discarding"] = dataflow.Aggregation{Key: []string{"k"}, Window: dataflow.SessionWindows(20 * time.Millisecond), TimeCol: "t",
		Aggs: []dataflow.Agg{dataflow.Sum("v"), dataflow.Count()}, Accumulation: dataflow.Discarding,
		AllowedLateness: 100 * time.Millisecond, Trigger: dataflow.Trigger{AfterCount: 3}}
	return aggs
}

// snapStep drives an operator with record i of recs, advancing the
// watermark and the processing time every 40 records.
func snapStep(h *opHarness, recs []dataflow.Record, i int) {
	r := recs[i]
	h.op.Add(r.Row, r.IngestNanos)
	if i%40 == 39 {
		h.op.AdvanceWatermark(dataflow.Time(i*3 - 300))
		h.op.OnProcessingTime(dataflow.Time(i))
	}
}

// continuation restores snap into a new operator, drives it through recs
// from 300 on and Finish, and returns the panes and late rows it emitted.
func continuation(t *testing.T, a dataflow.Aggregation, snap []byte, recs []dataflow.Record) ([]string, []dataflow.Row) {
	t.Helper()
	h := newOpHarness(t, a)
	require.NoError(t, h.op.Restore(snap), "Restore")
	for i := 300; i < len(recs); i++ {
		snapStep(h, recs, i)
	}
	h.op.Finish()
	var panes []string
	for _, p := range h.panes {
		panes = append(panes, opPane(p))
	}
	return panes, h.late
}

// TestSnapshotViewIsTheStateAtBegin checks AV1-AV4: a view encoded after
// the operator went on (every later record, watermark and Finish applied
// before Encode runs, so every group the operator touched was encoded on
// its side first), or while it goes on (Encode on another goroutine), is
// the state at BeginSnapshot: restored, it behaves exactly as the
// synchronous AppendSnapshot taken at the same moment.
func TestSnapshotViewIsTheStateAtBegin(t *testing.T) {
	for name, a := range snapViewAggs() {
		for _, concurrent := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/concurrent=%v", name, concurrent), func(t *testing.T) {
				recs := opRandomRecords(5, 600)
				orig := newOpHarness(t, a)
				for i := range 300 {
					snapStep(orig, recs, i)
				}
				atBegin, err := orig.op.AppendSnapshot(nil)
				require.NoError(t, err)
				stats := orig.op.Stats()
				v := orig.op.BeginSnapshot()
				var async []byte
				var encErr error
				var wg sync.WaitGroup
				encode := func() { async, encErr = v.Encode(context.Background(), []byte("room")) }
				if concurrent {
					wg.Go(encode)
				}
				for i := 300; i < len(recs); i++ {
					snapStep(orig, recs, i)
				}
				orig.op.Finish()
				if !concurrent {
					encode()
				}
				wg.Wait()
				require.NoError(t, encErr, "Encode")
				require.Equal(t, "room", string(async[:4]), "Encode appends to dst")
				async = async[4:]

				wantPanes, wantLate := continuation(t, a, atBegin, recs)
				gotPanes, gotLate := continuation(t, a, async, recs)
				assert.Equal(t, wantPanes, gotPanes, "panes after restoring the view")
				assert.Equal(t, wantLate, gotLate, "late rows after restoring the view")

				// The same entries: a restore of the view re-snapshots to the
				// synchronous snapshot's length.
				r2 := newOpHarness(t, a)
				require.NoError(t, r2.op.Restore(async))
				again, err := r2.op.AppendSnapshot(nil)
				require.NoError(t, err)
				assert.Len(t, again, len(atBegin), "the view holds the synchronous snapshot's entries")
				assert.Equal(t, stats, r2.op.Stats(), "Stats of the restored view")
			})
		}
	}
}

// TestSnapshotViewLargeConcurrent encodes a view of 20 000 keys on
// another goroutine while the operator adds a record to every key and
// finishes (dropping every window): under -race this is the data race
// check of AV1/AV2; the restored state is the state at BeginSnapshot.
func TestSnapshotViewLargeConcurrent(t *testing.T) {
	const keys = 20_000
	for _, w := range []dataflow.WindowFn{{}, dataflow.FixedWindows(time.Second), dataflow.SessionWindows(time.Second), dataflow.CountWindows(3, 3)} {
		t.Run(w.Kind.String(), func(t *testing.T) {
			a := dataflow.Aggregation{Key: []string{"k"}, Window: w, TimeCol: "t",
				Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("v"), dataflow.Distinct("v")}}
			h := newOpHarness(t, a)
			row := func(k, v int) dataflow.Row { return opRow(fmt.Sprintf("key-%06d", k), int64(k%500), int64(v)) }
			for k := range keys {
				h.op.Add(row(k, k%7), 0)
			}
			atBegin, err := h.op.AppendSnapshot(nil)
			require.NoError(t, err)
			v := h.op.BeginSnapshot()
			var async []byte
			var encErr error
			var wg sync.WaitGroup
			wg.Go(func() { async, encErr = v.Encode(context.Background(), nil) })
			for k := keys - 1; k >= 0; k-- { // the other end of the map's order too
				h.op.Add(row(k, 100+k%3), 0)
				h.op.Add(row(keys+k, 1), 0) // new keys: not the view's (AV3)
			}
			h.op.Finish()
			wg.Wait()
			require.NoError(t, encErr)
			finals := func(snap []byte) []string {
				r := newOpHarness(t, a)
				require.NoError(t, r.op.Restore(snap))
				r.op.Finish()
				var out []string
				for _, p := range r.panes {
					out = append(out, opPane(p))
				}
				slices.Sort(out)
				return out
			}
			want := finals(atBegin)
			if w.Kind != dataflow.WindowCount { // partial count windows emit nothing
				require.NotEmpty(t, want)
			}
			assert.Equal(t, want, finals(async), "the view restores to the state at BeginSnapshot")
		})
	}
}

// TestSnapshotViewLifecycle covers AV5 and the errors: a second
// BeginSnapshot and a Restore while a view is open encode its rest first;
// Encode twice is an error; a cancelled Encode returns ctx's error and the
// operator goes on.
func TestSnapshotViewLifecycle(t *testing.T) {
	a := opDiffAggregations()["fixed"]
	recs := opRandomRecords(3, 400)
	h := newOpHarness(t, a)
	for i := range 200 {
		snapStep(h, recs, i)
	}
	want, err := h.op.AppendSnapshot(nil)
	require.NoError(t, err)
	v1 := h.op.BeginSnapshot()
	for i := 200; i < 300; i++ {
		snapStep(h, recs, i)
	}
	want2, err := h.op.AppendSnapshot(nil)
	require.NoError(t, err)
	v2 := h.op.BeginSnapshot() // v1 unencoded: drained into its side buffer
	for i := 300; i < 400; i++ {
		snapStep(h, recs, i)
	}
	got1, err := v1.Encode(context.Background(), nil)
	require.NoError(t, err)
	got2, err := v2.Encode(context.Background(), nil)
	require.NoError(t, err)
	_, err = v2.Encode(context.Background(), nil)
	assert.Error(t, err, "Encode twice")
	for _, c := range []struct {
		name      string
		want, got []byte
	}{{"first view", want, got1}, {"second view", want2, got2}} {
		w, _ := continuation(t, a, c.want, recs)
		g, _ := continuation(t, a, c.got, recs)
		assert.Equal(t, w, g, c.name)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v3 := h.op.BeginSnapshot()
	_, err = v3.Encode(ctx, []byte("x"))
	assert.ErrorIs(t, err, context.Canceled)
	h.op.Finish() // the operator goes on after an abandoned view

	// Restore while a view is open: the view still encodes the old state.
	h2 := newOpHarness(t, a)
	for i := range 200 {
		snapStep(h2, recs, i)
	}
	v4 := h2.op.BeginSnapshot()
	require.NoError(t, h2.op.Restore(want2))
	for i := 300; i < 400; i++ {
		snapStep(h2, recs, i)
	}
	got4, err := v4.Encode(context.Background(), nil)
	require.NoError(t, err)
	w, _ := continuation(t, a, want, recs)
	g, _ := continuation(t, a, got4, recs)
	assert.Equal(t, w, g, "a view open across Restore")
}
