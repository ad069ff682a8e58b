package microbatch

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
)

// Under testing/synctest the real clock is the bubble's fake clock, so the
// driver's figures are exact: batches are submitted at their batch times,
// one batch interval apart (MD1), and the Slow fault is waiting on the clock,
// not CPU work: a batch's processing delay is its records times Slow, to
// the nanosecond, because computing costs no fake time.
func TestDriverOnRealClockUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 500 * time.Millisecond
		const slow = 100 * time.Microsecond
		l := liveLog(t)
		go fillPaced(t.Context(), t, l, 10, 3*time.Second) // 1000 records/s
		rep, err := Run(t.Context(), liveShape(), datasets.NewArrowSource(l), Config{
			BatchInterval: interval, Slow: slow, Parallelism: 1, Clock: clock.Real(),
		})
		require.NoError(t, err)
		requireSparkResults(t, liveShape(), l, rep)
		require.Greater(t, len(rep.Batches), 4)
		checked := 0
		for i, b := range rep.Batches {
			if b.Records == 0 {
				continue
			}
			checked++
			assert.Zero(t, b.Time.UnixMilli()%interval.Milliseconds(), "batch %d time %v is a multiple of the interval", i, b.Time)
			if i > 0 && rep.Batches[i-1].Records > 0 {
				assert.Equal(t, interval, b.Time.Sub(rep.Batches[i-1].Time), "batch %d follows batch %d by one interval", i, i-1)
			}
			assert.Equal(t, b.Time, b.Submission, "batch %d is submitted at its batch time", i)
			assert.Zero(t, b.SchedulingDelay, "batch %d: %v of work per %v batch queues nothing", i, time.Duration(b.Records)*slow, interval)
			assert.Equal(t, time.Duration(b.Records)*slow, b.ProcessingDelay, "batch %d: processing delay of %d records at %v each", i, b.Records, slow)
		}
		assert.GreaterOrEqual(t, checked, 5, "batches with records")
	})
}
