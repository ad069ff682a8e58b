package microbatch

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// TestEmitIntKey checks the stateless emit's per-key texts of a single
// integer key column (negative keys, which the dense table does not
// hold, and keys repeated across frames and batches) and its uncloned
// dictionary strings: the results equal the reference, and stay equal
// after the source's Arrow memory is released.
func TestEmitIntKey(t *testing.T) {
	l := testLog(t, 5, 5000, 3, 20_000, 2000)
	p := dataflow.NewPipeline("int-key-emit", testSchema).
		Filter(dataflow.Ne(dataflow.Col("page"), dataflow.LitStr("help"))).
		Output([]string{"amount"}, "text", "user", "event_time", "page")
	want := reference(t, p, l, nil)
	require.NotEmpty(t, want)
	for _, mode := range []Mode{ModeEventTime, ModeDStream} {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		src := datasets.NewArrowSource(l)
		rep, err := Run(context.Background(), p, src, Config{Mode: mode, BatchInterval: 500 * time.Millisecond, Allocator: mem, MaxBatchRows: 700})
		require.NoError(t, err)
		src.Release()
		mem.AssertSize(t, 0)
		requireSameResults(t, want, rep.Results)
		assert.Equal(t, int64(len(want)), rep.Emissions, mode.String())
	}
}

// TestCountingSink checks Config.CountingSink: the sink keeps no result,
// but every result is counted (Emissions, the sum of BatchInfo.Emitted)
// as the keeping sink counts them, for a stateless and a windowed pipeline.
func TestCountingSink(t *testing.T) {
	l := testLog(t, 9, 3000, 3, 20_000, 2000)
	src := datasets.NewArrowSource(l)
	defer src.Release()
	for _, name := range []string{"stateless", "fixed-count", "session"} {
		p := shapes()[name]
		cfg := Config{Mode: ModeEventTime, BatchInterval: time.Second}
		kept, err := Run(context.Background(), p, src, cfg)
		require.NoError(t, err)
		require.NotEmpty(t, kept.Results, name)
		cfg.CountingSink = true
		counted, err := Run(context.Background(), p, src, cfg)
		require.NoError(t, err)
		assert.Nil(t, counted.Results, "%s: a counting sink keeps nothing", name)
		assert.Equal(t, kept.Emissions, counted.Emissions, name)
		assert.Equal(t, kept.Events, counted.Events, name)
		var emitted int64
		for _, b := range counted.Batches {
			emitted += int64(b.Emitted)
		}
		assert.Equal(t, counted.Emissions, emitted, "%s: the batches' emissions add up", name)
	}
}
