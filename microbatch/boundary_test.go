package microbatch

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// boundaryLog has one partition; each record is (ingest ms after testT0,
// event time ms).
func boundaryLog(t *testing.T, recs [][2]int64) *datasets.Log {
	l, err := datasets.NewLog(datasets.LogConfig{Schema: testSchema, Partitions: 1})
	require.NoError(t, err)
	a := l.Appender()
	for _, r := range recs {
		a.AppendRow(0, (testT0+r[0])*1e6, dataflow.Row{dataflow.Str("k"), dataflow.Str("home"), dataflow.Int(1), dataflow.Float(1),
			dataflow.Bool(true), dataflow.Str(""), dataflow.Timestamp(dataflow.Time(r[1]))})
	}
	require.NoError(t, a.Flush())
	l.Close()
	return l
}

// ME1, ME2, MD2 at their boundaries: a record ingested exactly at a batch time
// goes to the next batch; the watermark is computed at the end of a batch
// and applied from the next; a row is late for a window whose end is at or
// below the watermark (Spark's window.end <= watermark, models.md 3.2),
// however close its event time is to the watermark, and kept when its
// window ends after the watermark, even at an event time <= the watermark;
// a window is final when its end equals the watermark.
func TestEventTimeBoundaries(t *testing.T) {
	l := boundaryLog(t, [][2]int64{
		{100, 5000}, {200, 5999}, // batch 0: max event 5999 -> watermark 5999
		{1100, 5999}, {1200, 6000}, {1300, 4000}, // batch 1: 4000 is late ([4000, 5000) ends <= 5999); 5999 is not ([5000, 6000) ends after 5999)
		{2000, 7500}, // ingested exactly at batch time T0+2000: batch 2; watermark 6000 closes [5000, 6000)
		{2100, 5500}, // batch 2: late, its window ends at the watermark 6000
		{3000, 9000}, // batch 3, the last: everything fires
	})
	p := dataflow.NewPipeline("b", testSchema).Aggregate(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.FixedWindows(time.Second),
		TimeCol: "event_time", Aggs: []dataflow.Agg{dataflow.Count()}})
	rep, err := Run(context.Background(), p, datasets.NewArrowSource(l), Config{BatchInterval: time.Second})
	require.NoError(t, err)
	require.Len(t, rep.Batches, 4)
	recs := []int64{2, 3, 2, 1}
	wms := []int64{math.MinInt64, 5999, 6000, 7500}
	emitted := []int{0, 0, 1, 3}
	for i, b := range rep.Batches {
		assert.Equal(t, recs[i], b.Records, "batch %d records", i)
		assert.Equal(t, wms[i], b.Watermark, "batch %d watermark", i)
		assert.Equal(t, emitted[i], b.Emitted, "batch %d emissions", i)
		assert.Equal(t, time.UnixMilli(testT0+int64(i+1)*1000), b.Time, "batch %d time", i)
	}
	assert.Equal(t, []dataflow.LateRecord{
		{RecordRef: dataflow.RecordRef{Partition: 0, Offset: 4}, Batch: 1, Watermark: 5999, LostAbove: dataflow.MaxTime},
		{RecordRef: dataflow.RecordRef{Partition: 0, Offset: 6}, Batch: 2, Watermark: 6000, LostAbove: dataflow.MaxTime},
	}, rep.Late)
	want := []dataflow.Result{
		{Window: dataflow.Window{Start: 5000, End: 6000}, Key: "k", Value: dataflow.Int(3)},
		{Window: dataflow.Window{Start: 6000, End: 7000}, Key: "k", Value: dataflow.Int(1)},
		{Window: dataflow.Window{Start: 7000, End: 8000}, Key: "k", Value: dataflow.Int(1)},
		{Window: dataflow.Window{Start: 9000, End: 10000}, Key: "k", Value: dataflow.Int(1)},
	}
	requireSameResults(t, want, rep.Results)
	requireSparkResults(t, p, l, rep)

	// Processing time (MD2, MD3): the record ingested exactly at T0+2000 is in
	// the window [T0+2000, T0+4000), in both modes.
	pp := dataflow.NewPipeline("b", testSchema).Aggregate(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.FixedWindows(2 * time.Second),
		Domain: dataflow.ProcessingTime, Aggs: []dataflow.Agg{dataflow.Count()}})
	for _, m := range []Mode{ModeDStream, ModeEventTime} {
		rep, err := Run(context.Background(), pp, datasets.NewArrowSource(l), Config{Mode: m, BatchInterval: time.Second})
		require.NoError(t, err)
		requireSameResults(t, []dataflow.Result{
			{Window: dataflow.Window{Start: testT0, End: testT0 + 2000}, Key: "k", Value: dataflow.Int(5)},
			{Window: dataflow.Window{Start: testT0 + 2000, End: testT0 + 4000}, Key: "k", Value: dataflow.Int(3)},
		}, rep.Results)
		assert.Empty(t, rep.Late)
	}
}

// reduceByKeyAndWindow with an inverse gives the same windows as without.
func TestInverseReduceMatches(t *testing.T) {
	l := testLog(t, 5, 2000, 2, 30_000, 0)
	p := dataflow.NewPipeline("inv", testSchema).Aggregate(dataflow.Aggregation{Key: []string{"page"}, Window: dataflow.SlidingWindows(6*time.Second, 2*time.Second),
		Domain: dataflow.ProcessingTime, Aggs: []dataflow.Agg{dataflow.Count(), dataflow.Sum("amount"), dataflow.Sum("score")}})
	rep, err := Run(context.Background(), p, datasets.NewArrowSource(l), Config{Mode: ModeDStream, BatchInterval: time.Second, InverseReduce: true})
	require.NoError(t, err)
	requireSameResults(t, reference(t, p, l, nil), rep.Results)
	bad := dataflow.NewPipeline("inv", testSchema).Aggregate(dataflow.Aggregation{Key: []string{"page"}, Window: dataflow.SlidingWindows(6*time.Second, 2*time.Second),
		Domain: dataflow.ProcessingTime, Aggs: []dataflow.Agg{dataflow.Max("amount")}})
	_, err = Run(context.Background(), bad, datasets.NewArrowSource(l), Config{Mode: ModeDStream, InverseReduce: true})
	var ue *dataflow.UnsupportedError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Reason, "no inverse")
}

// updateStateByKey calls the state function for every key every batch;
// mapWithState only for keys with new data. Both give the reference answer.
func TestDStreamStateOps(t *testing.T) {
	l := testLog(t, 6, 2000, 2, 10_000, 500)
	p := shapes()["fixed-count"]
	var calls [2]int64
	for i, op := range []StateOp{MapWithState, UpdateStateByKey} {
		rep, err := Run(context.Background(), p, datasets.NewArrowSource(l), Config{Mode: ModeDStream, BatchInterval: time.Second, StateOp: op})
		require.NoError(t, err)
		requireSparkResults(t, p, l, rep)
		assert.Empty(t, rep.Late, "DStreams drop nothing as late")
		calls[i] = rep.Counters["state_calls"]
	}
	assert.Greater(t, calls[1], calls[0], "updateStateByKey calls the function for every key in the state")
}

// mapWithState's timeout removes idle keys, detected only every
// mapWithStateScanEvery batches (2.6); without a timeout the state keeps
// every key.
func TestMapWithStateTimeout(t *testing.T) {
	var recs [][2]int64
	for i := range int64(30) { // one record per batch for 30 batches
		recs = append(recs, [2]int64{i*1000 + 10, i * 1000})
	}
	l := boundaryLog(t, recs)
	// Key by event time: every record is a new key, idle after its batch.
	p := dataflow.NewPipeline("idle", testSchema).Aggregate(dataflow.Aggregation{Key: []string{"event_time"}, Aggs: []dataflow.Agg{dataflow.Count()}})
	cells := map[time.Duration]int64{}
	for _, to := range []time.Duration{0, 2 * time.Second} {
		rep, err := Run(context.Background(), p, datasets.NewArrowSource(l), Config{Mode: ModeDStream, BatchInterval: time.Second, StateTimeout: to})
		require.NoError(t, err)
		cells[to] = rep.Counters["state_cells"]
	}
	assert.Equal(t, int64(30), cells[0], "without a timeout every key stays")
	// The last scan is batch 20 (time T0+21s): keys last updated before
	// T0+19s (batches 0..17) time out; the 12 keys of batches 18..29 stay,
	// although those of 18..26 are idle longer than the timeout by the end.
	assert.Equal(t, int64(12), cells[2*time.Second], "timeouts are found only in scan batches")
}
