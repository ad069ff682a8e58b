package microbatch

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

func TestCapOffsetsSplitsByAvailability(t *testing.T) {
	for _, tc := range []struct {
		from, until []int64
		m           int64
		want        []int64
	}{
		{[]int64{0, 0}, []int64{100, 300}, 40, []int64{10, 30}},              // in proportion
		{[]int64{50, 0}, []int64{60, 10}, 100, []int64{60, 10}},              // under the limit: as it was
		{[]int64{0, 0, 0}, []int64{1, 1, 1}, 2, []int64{1, 1, 0}},            // rounding: the rest in order
		{[]int64{0, 0, 0}, []int64{10, 0, 5}, 1, []int64{1, 0, 0}},           // a limit below the partitions still moves
		{[]int64{7, 7}, []int64{7, 1007}, 500, []int64{7, 507}},              // an empty partition takes nothing
		{[]int64{0, 0, 0}, []int64{333, 333, 334}, 100, []int64{34, 33, 33}}, // 33+33+33 rounded down, 1 left to the first
	} {
		t.Run(fmt.Sprint(tc.until, tc.m), func(t *testing.T) {
			until := append([]int64(nil), tc.until...)
			capOffsets(tc.from, until, tc.m)
			assert.Equal(t, tc.want, until)
		})
	}
}

// TestMaxOffsetsPerTriggerBoundsBatches runs a filled log, which the first
// trigger would read whole, with maxOffsetsPerTrigger: every batch reads at
// most the limit, the batches together read the whole log in order, and
// the answer is the reference's under Spark's late-row rule (a record late
// for the watermark that moved between batches is left out of exactly the
// windows that rule drops it from: sparkReference).
func TestMaxOffsetsPerTriggerBoundsBatches(t *testing.T) {
	const n, limit = 4000, 700
	l := testLog(t, 5, n, 3, 20_000, 300)
	p := dataflow.NewPipeline("trigger", testSchema).Aggregate(dataflow.Aggregation{Key: []string{"page"}, Window: dataflow.SlidingWindows(2*time.Second, time.Second),
		TimeCol: "event_time", Aggs: []dataflow.Agg{dataflow.Count()}})
	for _, mode := range []Mode{ModeEventTime, ModeDStream} {
		t.Run(mode.String(), func(t *testing.T) {
			src := datasets.NewArrowSource(l)
			defer src.Release()
			rep, err := Run(context.Background(), p, src, Config{Mode: mode, FilledBeforeStart: true, MaxOffsetsPerTrigger: limit, BatchInterval: time.Second})
			require.NoError(t, err)
			requireSameResults(t, sparkReference(t, p, l, rep.Late), rep.Results)
			var total int64
			for _, b := range rep.Batches {
				assert.LessOrEqual(t, b.Records, int64(limit), "batch %d", b.Seq)
				total += b.Records
			}
			assert.Equal(t, int64(n), total, "the batches read the whole log")
			assert.GreaterOrEqual(t, len(rep.Batches), (n+limit-1)/limit)
		})
	}
	src := datasets.NewArrowSource(l)
	defer src.Release()
	_, err := Run(context.Background(), p, src, Config{MaxOffsetsPerTrigger: -1})
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "MaxOffsetsPerTrigger", ce.Field)
}

// TestAppendModeEmitsOnlyWhatHavingKeeps: in Append mode a window's result
// leaves once, when the watermark passes its end; one Having rejects was
// never shown, so it is no emission at all (no pane, no latency sample),
// not a deletion sent for nothing.
func TestAppendModeEmitsOnlyWhatHavingKeeps(t *testing.T) {
	l := testLog(t, 9, 3000, 3, 20_000, 0)
	p := shapes()["sliding-having"]
	src := datasets.NewArrowSource(l)
	defer src.Release()
	for _, bi := range []time.Duration{100 * time.Millisecond, 5 * time.Second} {
		rep, err := Run(context.Background(), p, src, Config{Mode: ModeEventTime, BatchInterval: bi})
		require.NoError(t, err)
		requireSameResults(t, sparkReference(t, p, l, rep.Late), rep.Results)
		require.NotEmpty(t, rep.Results)
		assert.Equal(t, int64(len(rep.Results)), rep.Emissions, "batch interval %v: one emission per result Having keeps", bi)
	}
}
