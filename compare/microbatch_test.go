package compare

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/datasets"
)

// slowLoadClock is a datasets.Clock whose time moves on as a paced fill
// waits, without waiting: a log "loaded" over a second of ingest time, as a
// parquet scan stamps it.
type slowLoadClock struct{ now time.Time }

func (c *slowLoadClock) Now() time.Time { return c.now }
func (c *slowLoadClock) After(d time.Duration) <-chan time.Time {
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

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
	clk := &slowLoadClock{now: time.Now().Add(-time.Hour)}
	require.NoError(t, datasets.Fill(context.Background(), gen, l, cfg, datasets.Pacing{Rate: 20_000, Clock: clk}))
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
