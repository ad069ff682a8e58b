package compare

import (
	"context"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// TestVerifyLateJoinOperatorRun checks the late check against a run of
// dataflow.JoinOperator, the join operator the runtimes wrap: Nexmark q8
// over data with very late persons and auctions, the partitions read
// round robin, each side's watermark tracked per partition from its rows
// and the join's the minimum of both, advanced after each record (so a
// record never meets a watermark it raised). Every row the operator finds
// late is reported with the watermark it saw; the check must verify every
// drop, and the run's rows must equal the reference without them while
// differing from the full answer.
func TestVerifyLateJoinOperatorRun(t *testing.T) {
	w, err := LookupWorkload("nexmark-q8")
	require.NoError(t, err)
	p, err := w.Pipeline(nil)
	require.NoError(t, err)
	// 60,000 events at 1,000/s: a minute of event time, six windows; 5% of
	// the records 15 to 30 s late, behind the 5 s bound.
	d := DataSpec{Events: 60_000, EventRate: 1_000, Seed: 7, Partitions: 3,
		Skew: datasets.Skew{Delay: 2 * time.Second, OutOfOrder: 0.05, Late: 0.05, LateDelay: 30 * time.Second}}
	log, _, err := LoadData(context.Background(), w, d)
	require.NoError(t, err)

	js, err := p.JoinSchemas()
	require.NoError(t, err)
	joined := js.Joined[len(js.Joined)-1]
	col := func(name string) int {
		_, i, err := joined.Lookup(name)
		require.NoError(t, err)
		return i
	}
	keyCol, valueCol, extraCol := col("person_id"), col("name"), col(dataflow.JoinWindowStartCol)
	var out Outcome
	out.LateRule = LateRuleDataflow
	var cur dataflow.Record
	op, err := dataflow.NewJoinOperator(p.Join, js.Left[len(js.Left)-1], js.Right[len(js.Right)-1], dataflow.JoinConfig{
		Emit: func(row dataflow.Row, _ dataflow.Time, _ int64) {
			out.Results = append(out.Results, dataflow.Result{Key: string(dataflow.AppendKey(nil, row, []int{keyCol})),
				Value: row[valueCol], Extra: []dataflow.Value{row[extraCol]}})
		},
	})
	require.NoError(t, err)
	var trackers [2]*dataflow.WatermarkTracker
	for side := range trackers {
		trackers[side] = dataflow.NewWatermarkTracker(log.Partitions(), p.Join.Watermark)
	}
	// The partitions round robin, each record's row copied (the log's
	// iterator reuses it).
	var parts [][]dataflow.Record
	for q := range log.Partitions() {
		var rs []dataflow.Record
		for r := range log.Records(q, 0) {
			r.Row = slices.Clone(r.Row)
			rs = append(rs, r)
		}
		parts = append(parts, rs)
	}
	var roundRobin iter.Seq[dataflow.Record] = func(yield func(dataflow.Record) bool) {
		for i := 0; ; i++ {
			more := false
			for _, rs := range parts {
				if i < len(rs) {
					more = true
					if !yield(rs[i]) {
						return
					}
				}
			}
			if !more {
				return
			}
		}
	}
	err = dataflow.JoinInput(p, roundRobin, func(rec dataflow.Record, side int, tm dataflow.Time, row dataflow.Row) {
		cur = rec
		if op.Add(side, row, rec.IngestNanos) {
			out.Late = append(out.Late, dataflow.LateRecord{RecordRef: dataflow.RecordRef{Partition: cur.Partition, Offset: cur.Offset}, Watermark: op.Watermark()})
		}
		trackers[side].Observe(rec.Partition, tm, 0)
		op.AdvanceWatermark(min(trackers[0].Current(0), trackers[1].Current(0)))
	})
	require.NoError(t, err)
	op.Finish()
	out.Events = log.Len()

	require.NotEmpty(t, out.Late, "the very late side rows are dropped")
	check, err := checkOutcome(context.Background(), p, log, &out, nil)
	require.NoError(t, err)
	assert.Equal(t, len(out.Late), check.Late.Verified, "every drop verified: %v", check.Late.Examples)
	assert.Zero(t, check.Late.Unverified)
	assert.True(t, check.OK(), "%s %v", check, check.Examples)
	assert.False(t, check.Full.OK(), "the drops change the answer (%d late side rows)", len(out.Late))
	assert.Positive(t, check.LateWindows)
	t.Logf("%d events, %d late side rows, %d rows; %s", out.Events, len(out.Late), len(out.Results), check)
}
