//go:build invariants

package invariants_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/internal/invariants"
)

func TestEnabledWithTag(t *testing.T) {
	require.True(t, invariants.Enabled, "built with -tags invariants")
}

func TestAssertfOnPanicsWhenFalse(t *testing.T) {
	assert.PanicsWithValue(t, "invariant violated: X1: watermark 5 after 7",
		func() { invariants.Assertf(false, "X1: watermark %d after %d", 5, 7) })
	assert.NotPanics(t, func() { invariants.Assertf(true, "never %s", "printed") })
}
