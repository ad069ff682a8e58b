package compare

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/internal/clock"
)

// A paced run (DataSpec.Rate) on Options.Clock takes no real time on a
// manual clock: the fill waits on it, and the test jumps over each wait.
// The reference runner times itself on the same clock, which does not move
// while it computes.
func TestRunOnePacedOnManualClock(t *testing.T) {
	w, err := LookupWorkload("ysb")
	require.NoError(t, err)
	r, err := NewRunner("reference", RuntimeFlags{})
	require.NoError(t, err)
	start := time.UnixMilli(1_700_000_000_000)
	clk := clock.NewManual(start)
	ctx, cancel := context.WithCancel(t.Context())
	var (
		rep    *Report
		runErr error
	)
	go func() {
		defer cancel()
		rep, runErr = RunOne(ctx, w, r, DataSpec{Events: 2000, Seed: 1, Rate: 1000}, Options{Clock: clk}, nil)
	}()
	_ = clk.FastForward(ctx) // until RunOne returns
	require.NoError(t, runErr)
	assert.True(t, rep.Check.OK(), "%+v", rep.Check)
	assert.Equal(t, int64(2000), rep.Outcome.Events)
	assert.Zero(t, rep.Outcome.Elapsed, "the manual clock stands still while the reference computes")
	assert.GreaterOrEqual(t, clk.Now().Sub(start), 1999*time.Millisecond, "the fill took its 2 s of manual time")
}
