package recordstream

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// TestTracePanes checks Config.Trace: the sink's panes, in order, end in
// each window's result (accumulating panes), carry a watermark at or past
// the window's end when on time, and their emit times do not decrease; off,
// nothing is kept.
func TestTracePanes(t *testing.T) {
	src := newMemSource(1, 3000, 3, 80)
	p := shapes()["fixed"]
	for _, g := range []Guarantee{AtMostOnce, AtLeastOnce, ExactlyOnce} {
		t.Run(fmt.Sprintf("%v", g), func(t *testing.T) {
			cfg := Config{Guarantee: g, Parallelism: 2, BatchSize: 16, QueueBatches: 4, WatermarkEvery: 50, Seed: 3, Trace: true}
			cfg.CheckpointDir = t.TempDir()
			rep, err := Run(t.Context(), p, src, cfg)
			require.NoError(t, err)
			require.NotEmpty(t, rep.Panes)
			assert.Len(t, rep.Panes, int(rep.Emissions), "one trace entry per emission")
			last := map[resKey]dataflow.PaneEmission{}
			for i, e := range rep.Panes {
				if i > 0 {
					assert.GreaterOrEqual(t, e.EmitNanos, rep.Panes[i-1].EmitNanos, "pane %d's emit time", i)
				}
				if e.Timing == dataflow.PaneOnTime {
					assert.GreaterOrEqual(t, e.Watermark, e.Window.End, "pane %d %v fired on time at watermark %v", i, e.Window, e.Watermark)
				}
				last[resKey{w: e.Window, key: e.Key}] = e
			}
			require.Len(t, last, len(rep.Results), "windows traced against results")
			for _, r := range rep.Results {
				e, ok := last[resKey{w: r.Window, key: r.Key}]
				require.True(t, ok, "result %v %q has a traced pane", r.Window, r.Key)
				assert.LessOrEqual(t, int64(e.MaxEventTime), int64(r.Window.End), "pane %v's max event time", r.Window)
			}

			cfg.Trace = false
			rep, err = Run(t.Context(), p, src, cfg)
			require.NoError(t, err)
			assert.Nil(t, rep.Panes, "no trace without Config.Trace")
		})
	}
}
