package compare

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/microbatch"
)

// TestVerifyLateJoinSparkSliding: microbatch's join rule (MJ2, MJ3), not
// Spark's aggregation rule, verifies a microbatch join's drops. With
// sliding 10 s windows every 5 s, a 5 s bound and 2 s of allowed lateness:
// batch 0 delivers L 18 s and R 22 s (and R 4 s, R 12 s), so batch 1's
// join watermark is at most min(18, 22) - 5 = 13 s (the bound alone: the
// lateness does not hold the watermark back). L 7 s (windows [0,10) and
// [5,15)) is late there, 13 >= 10 + 2, and dropped whole, from [5,15)
// too, which has not ended; at a batch watermark of 11 s it is not late
// (11 < 12), though a window of it has ended, which Spark's per-window
// aggregation rule would drop.
func TestVerifyLateJoinSparkSliding(t *testing.T) {
	l := joinLateLog(t, []joinRow{{"L", "a", 18}, {"R", "a", 22}, {"R", "a", 4}, {"R", "a", 12}, {"L", "a", 7}, {"L", "a", 3}, {"L", "a", 30}})
	p := joinLatePipeline(t, dataflow.SlidingWindows(10*time.Second, 5*time.Second))
	p.Join.AllowedLateness = 2 * time.Second
	require.NoError(t, p.Validate())
	batches := func(wm dataflow.Time) []BatchDelivery {
		return []BatchDelivery{{End: []int64{4}, Watermark: dataflow.MinTime}, {End: []int64{7}, Watermark: wm}}
	}
	mk := func(off int64, batch int, wm dataflow.Time) dataflow.LateRecord {
		return dataflow.LateRecord{RecordRef: dataflow.RecordRef{Offset: off}, Key: "a", Batch: batch, Watermark: wm}
	}
	for _, tc := range []struct {
		name     string
		batchWM  dataflow.Time
		late     dataflow.LateRecord
		verified bool
		why      string
	}{
		{"late at the highest watermark the earlier batches allow", 13_000, mk(4, 1, 13_000), true, ""},
		{"late for both its windows", 13_000, mk(5, 1, 13_000), true, ""},
		{"late at a lower watermark", 9_000, mk(5, 1, 9_000), true, ""},
		{"a window ended, but within the allowed lateness", 11_000, mk(4, 1, 11_000), false, "allowed lateness"},
		{"on time: no window has ended", 13_000, mk(6, 1, 13_000), false, "allowed lateness"},
		{"a watermark above what both sides allow", 14_000, mk(4, 1, 14_000), false, "highest join watermark"},
		{"a watermark the batch did not apply", 13_000, mk(4, 1, 12_000), false, "applied watermark"},
		{"not delivered by that batch", 13_000, mk(4, 0, dataflow.MinTime), false, "did not deliver"},
		{"another join key", 13_000, func() dataflow.LateRecord { d := mk(4, 1, 13_000); d.Key = "b"; return d }(), false, "not the drop's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := &Outcome{Late: []dataflow.LateRecord{tc.late}, LateRule: LateRuleSpark, Batches: batches(tc.batchWM)}
			acc, ex, err := VerifyLate(p, l, out)
			require.NoError(t, err)
			if tc.verified {
				assert.Equal(t, 1, acc.Verified, "%v", acc.Examples)
				lo, hi, ok := ex.lookupSide(0, tc.late.Offset, dataflow.JoinLeft, "a")
				require.True(t, ok, "the left side row is excluded")
				assert.Equal(t, [2]dataflow.Time{dataflow.MinTime, dataflow.MaxTime}, [2]dataflow.Time{lo, hi}, "from every window")
				_, _, ok = ex.lookupSide(0, tc.late.Offset, dataflow.JoinRight, "a")
				assert.False(t, ok, "the record is no right side row")
				return
			}
			assert.Equal(t, 1, acc.Unverified, "%v", tc.late)
			require.Len(t, acc.Examples, 1)
			assert.Contains(t, acc.Examples[0], tc.why)
		})
	}

	// The verified drop of L 7 s leaves out its pairs in both windows,
	// R 4 s in [0,10) and R 12 s in [5,15), as microbatch drops it whole:
	// the reference without it is the answer of a run that dropped it, and
	// not that of a run that dropped it from [0,10) only.
	ctx := context.Background()
	full, err := referenceAnswer(ctx, p, l, nil)
	require.NoError(t, err)
	out := &Outcome{Late: []dataflow.LateRecord{mk(4, 1, 13_000)}, LateRule: LateRuleSpark, Batches: batches(13_000)}
	_, ex, err := VerifyLate(p, l, out)
	require.NoError(t, err)
	without, err := referenceAnswer(ctx, p, l, ex)
	require.NoError(t, err)
	perWindow, err := referenceAnswer(ctx, p, l, exclusions{exclusionKey{dataflow.RecordRef{Offset: 4}, "a", dataflow.JoinLeft}: {dataflow.MinTime, 13_000}})
	require.NoError(t, err)
	// Full: L18 x R12 in [10,20), L18 x R22 in [15,25), L7 x R4 in [0,10),
	// L7 x R12 in [5,15), L3 x R4 in [-5,5) and [0,10).
	assert.Len(t, full, 6)
	assert.Len(t, without, 4, "both pairs of L 7 s are left out")
	assert.Len(t, perWindow, 5, "a per-window exclusion keeps the [5,15) pair")
	assert.True(t, Check(without, without, CheckOptionsFor(p, 1)).OK())
	assert.False(t, Check(perWindow, without, CheckOptionsFor(p, 1)).OK(), "a run that kept the [5,15) pair does not match")
}

// joinVariant returns the Nexmark q8 workload (persons joined with the
// auctions they created) with its join's window and allowed lateness
// replaced.
func joinVariant(t *testing.T, win dataflow.WindowFn, lateness time.Duration) *Workload {
	t.Helper()
	w, err := LookupWorkload("nexmark-q8")
	require.NoError(t, err)
	build := w.Pipeline
	w.Pipeline = func(tables map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
		p, err := build(tables)
		if err != nil {
			return nil, err
		}
		p.Join.Window = win
		p.Join.AllowedLateness = lateness
		return p, p.Validate()
	}
	return w
}

// TestMicrobatchJoinDropsVerified runs Nexmark q8 on microbatch (event-time
// mode) over sliding join windows with allowed lateness, on data with very
// late persons and auctions: the runtime drops side rows as late, every
// drop is verified under its join rule, and the run equals the reference
// without the dropped side rows (left out of every window) while
// differing from the full answer. Under Spark's aggregation rule (the
// delay bound + lateness, a per-window drop) these drops were unverified,
// or left the rows in their open windows. The log is filled before the
// run and maxRatePerPartition cuts it into batches of 200 records per
// partition, so the batches, their watermarks and the drops do not depend
// on the machine's speed.
func TestMicrobatchJoinDropsVerified(t *testing.T) {
	for _, tc := range []struct {
		win      dataflow.WindowFn
		lateness time.Duration
	}{
		{dataflow.SlidingWindows(10*time.Second, 5*time.Second), 3 * time.Second},
		{dataflow.SlidingWindows(6*time.Second, 2*time.Second), 1500 * time.Millisecond},
		{dataflow.FixedWindows(10 * time.Second), 4 * time.Second},
		// Without lateness a late row's later windows have not ended: the
		// whole-row exclusion matters here too.
		{dataflow.SlidingWindows(10*time.Second, 5*time.Second), 0},
	} {
		t.Run(fmt.Sprintf("%v/lateness=%v", tc.win, tc.lateness), func(t *testing.T) {
			w := joinVariant(t, tc.win, tc.lateness)
			// 30,000 events over 30 s of event time, 5% of them 8 to
			// 16 s late, some behind the bound and the lateness, some
			// not; batches of 600 records, 0.6 s of event time.
			data := DataSpec{Events: 30_000, EventRate: 1_000, Seed: 12, Partitions: 3,
				Skew: datasets.Skew{Delay: time.Second, OutOfOrder: 0.05, Late: 0.05, LateDelay: 16 * time.Second}}
			runner := &microbatchRunner{name: "microbatch/event-time", cfg: microbatch.Config{
				Mode: microbatch.ModeEventTime, BatchInterval: 10 * time.Millisecond, MaxRatePerPartition: 20_000}}
			rep, err := RunOne(t.Context(), w, runner, data, Options{Seed: 12}, nil)
			require.NoError(t, err)
			c := rep.Check
			require.Greater(t, rep.Outcome.Counters["batches"], int64(40), "the log is read in many batches")
			require.Positive(t, c.Late.Reported, "the run drops late side rows")
			assert.Equal(t, c.Late.Reported, c.Late.Verified, "every drop verified: %v", c.Late.Examples)
			assert.Zero(t, c.Late.Unverified)
			assert.True(t, c.OK(), "%s %q", c, c.Examples)
			assert.False(t, c.Full.OK(), "the drops change the answer")
			t.Logf("%d batches, %d drops verified; %s", rep.Outcome.Counters["batches"], c.Late.Verified, c)
		})
	}
}
