package compare

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
)

// A log filled before the run (--rate 0, --input) is one trigger's worth
// in event-time mode, however long loading took; the outcome carries
// Spark's late rule and one delivery per batch covering the log.
func TestMicrobatchFilledLogOneBatch(t *testing.T) {
	w, err := LookupWorkload("ysb")
	require.NoError(t, err)
	gen, err := datasets.Lookup(w.Dataset)
	require.NoError(t, err)
	cfg := datasets.Config{Events: 20_000, Seed: 2}
	l, err := datasets.NewLogFor(gen, cfg)
	require.NoError(t, err)
	// The log is "loaded" over a second of ingest time an hour ago, as a
	// parquet scan stamps it, without waiting: a manual clock jumps over
	// every wait of the paced fill.
	clk := clock.NewManual(time.Now().Add(-time.Hour))
	fillCtx, filled := context.WithCancel(context.Background())
	var fillErr error
	go func() {
		defer filled()
		fillErr = datasets.Fill(fillCtx, gen, l, cfg, datasets.Pacing{Rate: 20_000, Clock: clk})
	}()
	_ = clk.FastForward(fillCtx)
	require.NoError(t, fillErr)
	for _, tc := range []struct {
		mode    string
		rule    LateRule
		batches int
	}{{"event-time", LateRuleSpark, 1}, {"dstream", LateRuleNone, 0}} {
		r, err := NewRunner("microbatch", RuntimeFlags{Mode: tc.mode, BatchInterval: 50 * time.Millisecond})
		require.NoError(t, err)
		rep, err := RunLog(context.Background(), w, r, l, gen.Tables(cfg.Seed), DataSpec{}, Options{}, nil)
		require.NoError(t, err)
		out := rep.Outcome
		assert.Equal(t, tc.rule, out.LateRule, tc.mode)
		if tc.batches > 0 {
			assert.Len(t, out.Batches, tc.batches, tc.mode)
		} else {
			assert.Greater(t, len(out.Batches), 15, "%s: DStream batches stay the ingest-time slices", tc.mode)
		}
		last := out.Batches[len(out.Batches)-1]
		for p := range l.Partitions() {
			assert.Equal(t, l.End(p), last.End[p])
		}
		assert.Empty(t, out.Late)
		assert.True(t, rep.Check.OK(), "%s: %+v", tc.mode, rep.Check)
	}
}
