//go:build !invariants

package invariants_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/internal/invariants"
)

func TestDisabledWithoutTag(t *testing.T) {
	require.False(t, invariants.Enabled, "built without -tags invariants")
}

func TestAssertfOffNeverPanics(t *testing.T) {
	assert.NotPanics(t, func() { invariants.Assertf(false, "X1: watermark %d after %d", 5, 7) })
}

// TestAssertfOffAllocatesNothing pins the package doc's promise: without the
// tag a bare Assertf with non-constant arguments costs no allocation.
func TestAssertfOffAllocatesNothing(t *testing.T) {
	x, y := int64(5), int64(7)
	s := []int64{1, 2, 3}
	allocs := testing.AllocsPerRun(100, func() {
		invariants.Assertf(x < y, "X1: watermark %d after %d in %v", x, y, s)
		x++
	})
	assert.Zero(t, allocs, "Assertf without the tag")
}
