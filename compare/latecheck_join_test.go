package compare

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

var joinLateSchema = dataflow.NewSchema(
	dataflow.Field{Name: "side", Kind: dataflow.KindString},
	dataflow.Field{Name: "k", Kind: dataflow.KindString},
	dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
)

// joinRow is one record of joinLateLog: its side ("L", "R" or "X", a row
// of neither side), key and event time in seconds.
type joinRow struct {
	side, k string
	s       int64
}

func joinLateLog(t *testing.T, parts ...[]joinRow) *datasets.Log {
	t.Helper()
	l, err := datasets.NewLog(datasets.LogConfig{Schema: joinLateSchema, Partitions: len(parts), ChunkRows: 16})
	require.NoError(t, err)
	a := l.Appender()
	for p, rows := range parts {
		for i, r := range rows {
			a.AppendRow(p, int64(i+1)*1e6, dataflow.Row{dataflow.Str(r.side), dataflow.Str(r.k), dataflow.Timestamp(dataflow.Time(r.s * 1000))})
		}
	}
	require.NoError(t, a.Flush())
	l.Close()
	return l
}

// joinLatePipeline joins L and R rows on k in fixed 10 s windows (or
// incrementally, with the zero window) with a 5 s watermark bound.
func joinLatePipeline(t *testing.T, w dataflow.WindowFn) *dataflow.Pipeline {
	t.Helper()
	side := func(name, tag, col string) dataflow.JoinSide {
		return dataflow.JoinSide{Name: name,
			Steps: []dataflow.Step{
				dataflow.FilterStep{Pred: dataflow.Eq(dataflow.Col("side"), dataflow.LitStr(tag))},
				dataflow.MapStep{As: col, Expr: dataflow.Col("event_time")},
			},
			Key: []string{"k"}, Cols: []string{col}, TimeCol: "event_time"}
	}
	p := dataflow.NewPipeline("join-late", joinLateSchema)
	p.Join = &dataflow.Join{Left: side("left", "L", "l_time"), Right: side("right", "R", "r_time"), Window: w,
		Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: 5 * time.Second}}
	p.Output([]string{"l_time"}, "r_time")
	require.NoError(t, p.Validate())
	return p
}

func keyed(l dataflow.LateRecord, key string) dataflow.LateRecord {
	l.Key = key
	return l
}

// TestVerifyLateJoinDataflow: a join side row's drop is verified under
// I4/I5 with the join's watermark, the minimum of both sides': only at a
// watermark both sides' rows of the partition before it allow, and only
// when the row is late for its earliest window. Verified drops leave the
// side row out of the reference; the others make the run not match.
func TestVerifyLateJoinDataflow(t *testing.T) {
	// Partition 0: L and R rows of key a at 20 s and 22 s (both sides then
	// allow a join watermark of 20 - 5 = 15 s), then an L row at 3 s
	// (window [0,10): late once W >= 10), an R row at 12 s (window
	// [10,20): not late at W <= 15) and a row of neither side.
	// Partition 1 has L rows only: its R side never allows more than
	// MinTime, so nothing there is late.
	l := joinLateLog(t,
		[]joinRow{{"L", "a", 20}, {"R", "a", 22}, {"L", "a", 3}, {"R", "a", 12}, {"X", "a", 1}},
		[]joinRow{{"L", "b", 50}, {"L", "b", 2}})
	p := joinLatePipeline(t, dataflow.FixedWindows(10*time.Second))
	for _, tc := range []struct {
		name       string
		late       dataflow.LateRecord
		verified   int
		unverified int
	}{
		{"late at the highest watermark the partition allows", drop(0, 2, 15), 1, 0},
		{"late at a lower watermark", drop(0, 2, 10), 1, 0},
		{"the drop names the side row's key", keyed(drop(0, 2, 15), "a"), 1, 0},
		{"another key", keyed(drop(0, 2, 15), "b"), 0, 1},
		{"watermark above what both sides allow", drop(0, 2, 16), 0, 1},
		{"not late at its watermark", drop(0, 2, 9), 0, 1},
		{"its window ends after the watermark", drop(0, 3, 15), 0, 1},
		{"a row of neither side", drop(0, 4, 15), 0, 1},
		{"one side has no rows on the partition", drop(1, 1, 15), 0, 1},
		{"no such record", drop(0, 9, 15), 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := &Outcome{Late: []dataflow.LateRecord{tc.late}, LateRule: LateRuleDataflow}
			acc, ex, err := VerifyLate(p, l, out)
			require.NoError(t, err)
			assert.Equal(t, tc.verified, acc.Verified, "verified: %v", acc.Examples)
			assert.Equal(t, tc.unverified, acc.Unverified, "unverified")
			assert.Len(t, ex, tc.verified, "exclusions")
		})
	}

	// The verified drop takes the 3 s L row out of the reference: the
	// window [0, 10) has no pair left, and the check matches a run that
	// dropped it, not one that did not.
	out := &Outcome{Late: []dataflow.LateRecord{keyed(drop(0, 2, 15), "a")}, LateRule: LateRuleDataflow}
	ctx := context.Background()
	full, err := referenceAnswer(ctx, p, l, nil)
	require.NoError(t, err)
	_, ex, err := VerifyLate(p, l, out)
	require.NoError(t, err)
	without, err := referenceAnswer(ctx, p, l, ex)
	require.NoError(t, err)
	assert.Len(t, full, 1, "the full answer has the 20 s x 22 s pair only (3 s and 12 s lie in windows without the other side)")
	assert.Len(t, without, len(full), "the dropped row had no pair")

	// A drop on an incremental join is never verified.
	inc := joinLatePipeline(t, dataflow.WindowFn{})
	acc, _, err := VerifyLate(inc, l, &Outcome{Late: []dataflow.LateRecord{drop(0, 2, 15)}, LateRule: LateRuleDataflow})
	require.NoError(t, err)
	assert.Equal(t, 1, acc.Unverified, "incremental join: %v", acc.Examples)
	assert.Contains(t, acc.Examples[0], "incremental join")
}

// TestVerifyLateJoinExcludes: a verified drop of a side row that has
// pairs removes exactly its pairs from the reference.
func TestVerifyLateJoinExcludes(t *testing.T) {
	// L at 20 s and R at 22 s move the join watermark to 15 s; then an L
	// row at 4 s whose window [0,10) holds an R row at 5 s (delivered
	// before, on partition 1).
	l := joinLateLog(t,
		[]joinRow{{"L", "a", 20}, {"R", "a", 22}, {"L", "a", 4}},
		[]joinRow{{"R", "a", 5}, {"L", "a", 30}})
	p := joinLatePipeline(t, dataflow.FixedWindows(10*time.Second))
	ctx := context.Background()
	full, err := referenceAnswer(ctx, p, l, nil)
	require.NoError(t, err)
	out := &Outcome{Late: []dataflow.LateRecord{keyed(drop(0, 2, 15), "a")}, LateRule: LateRuleDataflow}
	acc, ex, err := VerifyLate(p, l, out)
	require.NoError(t, err)
	require.Equal(t, 1, acc.Verified, "%v", acc.Examples)
	without, err := referenceAnswer(ctx, p, l, ex)
	require.NoError(t, err)
	assert.Len(t, full, 2, "pairs (20, 22) and (4, 5)")
	assert.Len(t, without, 1, "the dropped 4 s row's pair is left out")
	check := Check(without, without, CheckOptionsFor(p, 1))
	assert.True(t, check.OK())
}

// TestVerifyLateJoinSpark: under Spark's rule the join watermark of a
// batch is the minimum over both sides of the largest side-row time of
// the earlier batches, minus the bound.
func TestVerifyLateJoinSpark(t *testing.T) {
	// Batch 0 delivers L 20 s and R 22 s (join watermark after it: 15 s);
	// batch 1 delivers L 3 s (late: [0,10) ends at 10 <= 15) and R 12 s
	// (on time).
	l := joinLateLog(t, []joinRow{{"L", "a", 20}, {"R", "a", 22}, {"L", "a", 3}, {"R", "a", 12}})
	p := joinLatePipeline(t, dataflow.FixedWindows(10*time.Second))
	batches := []BatchDelivery{{End: []int64{2}, Watermark: dataflow.MinTime}, {End: []int64{4}, Watermark: 15_000}}
	for _, tc := range []struct {
		name     string
		late     dataflow.LateRecord
		verified int
	}{
		{"late in batch 1", dataflow.LateRecord{RecordRef: dataflow.RecordRef{Offset: 2}, Batch: 1, Watermark: 15_000}, 1},
		{"on time in batch 1", dataflow.LateRecord{RecordRef: dataflow.RecordRef{Offset: 3}, Batch: 1, Watermark: 15_000}, 0},
		{"not delivered by that batch", dataflow.LateRecord{RecordRef: dataflow.RecordRef{Offset: 2}, Batch: 0, Watermark: dataflow.MinTime}, 0},
		{"a watermark the batch did not apply", dataflow.LateRecord{RecordRef: dataflow.RecordRef{Offset: 2}, Batch: 1, Watermark: 14_000}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := &Outcome{Late: []dataflow.LateRecord{tc.late}, LateRule: LateRuleSpark, Batches: batches}
			acc, _, err := VerifyLate(p, l, out)
			require.NoError(t, err)
			assert.Equal(t, tc.verified, acc.Verified, "%v", acc.Examples)
			assert.Equal(t, 1-tc.verified, acc.Unverified)
		})
	}
}

// TestVerifyLateSelfJoin: a record that reaches both sides may be
// dropped on one side and kept on the other; each verified drop leaves
// one side row out, a second drop of the record the other.
func TestVerifyLateSelfJoin(t *testing.T) {
	side := func(name, col string, tags ...string) dataflow.JoinSide {
		var set []dataflow.Value
		for _, tag := range tags {
			set = append(set, dataflow.Str(tag))
		}
		return dataflow.JoinSide{Name: name,
			Steps: []dataflow.Step{
				dataflow.FilterStep{Pred: dataflow.In(dataflow.Col("side"), set...)},
				dataflow.MapStep{As: col, Expr: dataflow.Col("event_time")},
			},
			Key: []string{"k"}, Cols: []string{col}, TimeCol: "event_time"}
	}
	p := dataflow.NewPipeline("self-join", joinLateSchema)
	p.Join = &dataflow.Join{Left: side("left", "l_time", "L", "B"), Right: side("right", "r_time", "R", "B"),
		Window: dataflow.FixedWindows(10 * time.Second), Watermark: dataflow.WatermarkPolicy{MaxOutOfOrderness: 5 * time.Second}}
	p.Output([]string{"l_time"}, "r_time")
	require.NoError(t, p.Validate())
	// After L 20 s and R 22 s (join watermark up to 15 s), B at 3 s is a
	// late row of both sides; L 4 s and R 5 s share its window [0, 10).
	l := joinLateLog(t, []joinRow{{"L", "a", 20}, {"R", "a", 22}, {"B", "a", 3}, {"L", "a", 4}, {"R", "a", 5}})
	ctx := context.Background()
	full, err := referenceAnswer(ctx, p, l, nil)
	require.NoError(t, err)
	require.Len(t, full, 5, "(20,22) and the four pairs of {B,L4} x {B,R5}")
	b := keyed(drop(0, 2, 15), "a")
	for _, tc := range []struct {
		drops int
		want  int
	}{{1, 3}, {2, 2}} {
		out := &Outcome{Late: make([]dataflow.LateRecord, tc.drops), LateRule: LateRuleDataflow}
		for i := range out.Late {
			out.Late[i] = b
		}
		acc, ex, err := VerifyLate(p, l, out)
		require.NoError(t, err)
		assert.Equal(t, tc.drops, acc.Verified, "%d drops: %v", tc.drops, acc.Examples)
		without, err := referenceAnswer(ctx, p, l, ex)
		require.NoError(t, err)
		assert.Len(t, without, tc.want, "%d drops of the record leave out %d of its side rows", tc.drops, tc.drops)
	}
}
