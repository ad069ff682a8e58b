package invariants_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/weirlab/weir/internal/invariants"
)

func TestAssertf(t *testing.T) {
	assert.NotPanics(t, func() { invariants.Assertf(true, "holds") })
	if !invariants.Enabled {
		assert.NotPanics(t, func() { invariants.Assertf(false, "off: %d", 1) }, "Assertf without the tag")
		return
	}
	assert.PanicsWithValue(t, "invariant violated: queue 3 out of order", func() {
		invariants.Assertf(false, "queue %d out of order", 3)
	})
}
