package compare

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

var lateSchema = dataflow.NewSchema(
	dataflow.Field{Name: "k", Kind: dataflow.KindString},
	dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
)

// lateLog builds a closed log whose partition p holds records with the
// event times (s) times[p], all of key "a".
func lateLog(t *testing.T, times ...[]int64) *datasets.Log {
	t.Helper()
	l, err := datasets.NewLog(datasets.LogConfig{Schema: lateSchema, Partitions: len(times), ChunkRows: 16})
	require.NoError(t, err)
	a := l.Appender()
	for p, ts := range times {
		for i, s := range ts {
			a.AppendRow(p, int64(i+1)*1e6, dataflow.Row{dataflow.Str("a"), dataflow.Timestamp(dataflow.Time(s * 1000))})
		}
	}
	require.NoError(t, a.Flush())
	l.Close()
	return l
}

// latePipeline counts per key in windows of 10 s (or the given window) with
// a 5 s watermark bound.
func latePipeline(t *testing.T, w dataflow.WindowFn) *dataflow.Pipeline {
	t.Helper()
	p := dataflow.NewPipeline("late", lateSchema).Aggregate(eventTime(dataflow.Aggregation{
		Key: []string{"k"}, Window: w, Aggs: []dataflow.Agg{dataflow.Count()},
	}))
	require.NoError(t, p.Validate())
	return p
}

func drop(p int, off int64, wmS int64) dataflow.LateRecord {
	return dataflow.LateRecord{RecordRef: dataflow.RecordRef{Partition: p, Offset: off}, Watermark: dataflow.Time(wmS * 1000)}
}

// TestVerifyLateDataflow: under I4/I5 a drop is verified only at a
// watermark the partition's earlier records allow, and only if the record
// is late for its earliest window there.
func TestVerifyLateDataflow(t *testing.T) {
	// Partition 0: 20 s, then 3 s (late: window [0,10) ends at 10 <= 15),
	// then 12 s (window [10,20) ends at 20 > 15: on time under any
	// watermark the partition allows). Partition 1 is far ahead.
	l := lateLog(t, []int64{20, 3, 12}, []int64{100})
	p := latePipeline(t, dataflow.FixedWindows(10*time.Second))
	for _, tc := range []struct {
		name     string
		drop     dataflow.LateRecord
		verified bool
	}{
		{"late at the highest allowed watermark", drop(0, 1, 15), true},
		{"late at a lower watermark", drop(0, 1, 10), true},
		{"watermark above what the partition allows", drop(0, 1, 16), false},
		{"not late at the watermark", drop(0, 1, 9), false},
		{"on time under every allowed watermark", drop(0, 2, 15), false},
		{"the first record cannot be late", drop(0, 0, 15), false},
		{"no such record", drop(0, 9, 15), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acc, ex, err := VerifyLate(p, l, &Outcome{Late: []dataflow.LateRecord{tc.drop}, LateRule: LateRuleDataflow})
			require.NoError(t, err)
			assert.Equal(t, 1, acc.Reported)
			if tc.verified {
				assert.Equal(t, 1, acc.Verified, "%v", acc.Examples)
				assert.Len(t, ex, 1)
			} else {
				assert.Equal(t, 1, acc.Unverified)
				assert.Empty(t, ex)
				assert.Len(t, acc.Examples, 1)
			}
		})
	}
}

// TestVerifyLateReplay: a replay may come after anything; it is verified by
// the rule alone, and excluded only from the windows its task lost.
func TestVerifyLateReplay(t *testing.T) {
	l := lateLog(t, []int64{5, 15, 25})
	p := latePipeline(t, dataflow.SlidingWindows(20*time.Second, 10*time.Second))
	r := drop(0, 0, 30) // t = 5 s: windows [-10,10) and [0,20)
	r.Replay = true
	r.LostAbove = 10_000
	acc, ex, err := VerifyLate(p, l, &Outcome{Late: []dataflow.LateRecord{r}, LateRule: LateRuleDataflow})
	require.NoError(t, err)
	assert.Equal(t, 1, acc.Replays)
	assert.Zero(t, acc.Unverified)
	lo, hi, ok := ex.lookup(0, 0, "a")
	require.True(t, ok)
	assert.Equal(t, [2]dataflow.Time{10_000, dataflow.MaxTime}, [2]dataflow.Time{lo, hi}, "left out of the windows ending after the loss")

	r.LostAbove = 40_000 // after the drop's watermark: not explained
	acc, _, err = VerifyLate(p, l, &Outcome{Late: []dataflow.LateRecord{r}, LateRule: LateRuleDataflow})
	require.NoError(t, err)
	assert.Equal(t, 1, acc.Unverified)

	r.LostAbove, r.Watermark = 0, 1_000 // not late at 1 s
	acc, _, err = VerifyLate(p, l, &Outcome{Late: []dataflow.LateRecord{r}, LateRule: LateRuleDataflow})
	require.NoError(t, err)
	assert.Equal(t, 1, acc.Unverified)
}

// TestVerifyLateSpark: the batch's watermark is the global maximum of the
// rows of earlier batches minus the delay, and a row is dropped from the
// windows ending at or before it.
func TestVerifyLateSpark(t *testing.T) {
	// Batch 0 delivers 20 s (partition 0) and 157 s (partition 1); batch 1
	// delivers 3 s, 150 s and 12 s on partition 0.
	l := lateLog(t, []int64{20, 3, 150, 12}, []int64{157})
	p := latePipeline(t, dataflow.FixedWindows(10*time.Second))
	batches := []BatchDelivery{{End: []int64{1, 1}, Watermark: dataflow.MinTime}, {End: []int64{4, 1}, Watermark: 152_000}}
	mk := func(off int64, batch int, wm int64) dataflow.LateRecord {
		d := drop(0, off, 0)
		d.Batch, d.Watermark = batch, dataflow.Time(wm)
		return d
	}
	for _, tc := range []struct {
		name     string
		drop     dataflow.LateRecord
		verified bool
	}{
		{"window [0,10) ended before 152", mk(1, 1, 152_000), true},
		{"window [10,20) ended before 152", mk(3, 1, 152_000), true},
		{"window [150,160) is open at 152", mk(2, 1, 152_000), false},
		{"a watermark the batch did not apply", mk(1, 1, 151_000), false},
		{"not delivered in that batch", mk(0, 1, 152_000), false},
		{"no batch", mk(1, 7, 152_000), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acc, ex, err := VerifyLate(p, l, &Outcome{Late: []dataflow.LateRecord{tc.drop}, LateRule: LateRuleSpark, Batches: batches})
			require.NoError(t, err)
			if tc.verified {
				assert.Equal(t, 1, acc.Verified, "%v", acc.Examples)
				lo, hi, ok := ex.lookup(0, tc.drop.Offset, "a")
				require.True(t, ok)
				assert.Equal(t, [2]dataflow.Time{dataflow.MinTime, 152_000}, [2]dataflow.Time{lo, hi})
			} else {
				assert.Equal(t, 1, acc.Unverified, "%v", tc.drop)
			}
		})
	}
	// A watermark above the global maximum minus the delay is not Spark's.
	high := []BatchDelivery{batches[0], {End: []int64{4, 1}, Watermark: 153_000}}
	acc, _, err := VerifyLate(p, l, &Outcome{Late: []dataflow.LateRecord{mk(1, 1, 153_000)}, LateRule: LateRuleSpark, Batches: high})
	require.NoError(t, err)
	assert.Equal(t, 1, acc.Unverified)
}

// TestVerifyLateWithoutWatermark: a pipeline with no watermark can never
// drop a record as late.
func TestVerifyLateWithoutWatermark(t *testing.T) {
	l := lateLog(t, []int64{20, 3})
	p := dataflow.NewPipeline("count", lateSchema).Aggregate(dataflow.Aggregation{
		Key: []string{"k"}, Window: dataflow.CountWindows(2, 2), Aggs: []dataflow.Agg{dataflow.Count()},
	})
	require.NoError(t, p.Validate())
	for _, rule := range []LateRule{LateRuleNone, LateRuleDataflow, LateRuleSpark} {
		acc, ex, err := VerifyLate(p, l, &Outcome{Late: []dataflow.LateRecord{drop(0, 1, 100)}, LateRule: rule})
		require.NoError(t, err)
		assert.Equal(t, 1, acc.Unverified, "%v", rule)
		assert.Empty(t, ex)
	}
}
