package datasets

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFillStepAllocs locks in the generator hot loop's steady state: a step
// of batchRows events allocates nothing per record (chunks, allocated once
// per ChunkRows records, average out).
func TestFillStepAllocs(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("allocation counts need a normal build")
	}
	for _, name := range []string{"ysb", "iot", "weblogs", "sessions", "transactions"} {
		for _, inOrder := range []bool{true, false} {
			g, err := Lookup(name)
			require.NoError(t, err)
			cfg := Config{Events: 1 << 20, InOrder: inOrder}
			l, err := NewLogFor(g, cfg)
			require.NoError(t, err)
			f := newFiller(g, l, cfg.withDefaults())
			for range 100 { // warm up the reorder buffer and slices
				f.step(batchRows, 1)
			}
			allocs := testing.AllocsPerRun(50, func() { f.step(batchRows, 1) })
			assert.Zero(t, allocs, "%s (in order %v): allocations per step of %d events", name, inOrder, batchRows)
		}
	}
}
