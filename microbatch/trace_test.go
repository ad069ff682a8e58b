package microbatch

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// TestTracePanes checks Config.Trace: the last traced result of each
// window and key is the sink's final result, indices count up from 0, emit
// times and batches do not decrease, and on-time results fired at or past
// their window's end; off, nothing is kept.
func TestTracePanes(t *testing.T) {
	l := testLog(t, 1, 3000, 3, 20_000, 2000)
	src := datasets.NewArrowSource(l)
	defer src.Release()
	p := shapes()["fixed-count"]
	for _, mode := range []Mode{ModeEventTime, ModeDStream} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg := Config{Mode: mode, BatchInterval: time.Second, MaxBatchRows: 100, Trace: true}
			rep, err := Run(context.Background(), p, src, cfg)
			require.NoError(t, err)
			require.NotEmpty(t, rep.Panes)
			last := map[wkey]dataflow.PaneEmission{}
			for i, e := range rep.Panes {
				k := wkey{e.Window, e.Key}
				prev, seen := last[k]
				want := int64(0)
				if seen {
					want = prev.Index + 1
				}
				assert.Equal(t, want, e.Index, "pane %d %v %q index", i, e.Window, e.Key)
				if i > 0 {
					assert.GreaterOrEqual(t, e.EmitNanos, rep.Panes[i-1].EmitNanos, "pane %d's emit time", i)
					assert.GreaterOrEqual(t, e.Batch, rep.Panes[i-1].Batch, "pane %d's batch", i)
				}
				if rep.Watermarked && e.Timing == dataflow.PaneEarly {
					assert.Greater(t, e.Window.End, e.Watermark, "pane %d is early", i)
				}
				last[k] = e
			}
			require.Len(t, last, len(rep.Results), "traced windows against results")
			for _, r := range rep.Results {
				_, ok := last[wkey{r.Window, r.Key}]
				assert.True(t, ok, "result %v %q is traced", r.Window, r.Key)
			}

			cfg.Trace = false
			rep, err = Run(context.Background(), p, src, cfg)
			require.NoError(t, err)
			assert.Nil(t, rep.Panes, "no trace without Config.Trace")
		})
	}
}
