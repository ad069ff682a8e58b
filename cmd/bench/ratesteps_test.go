package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRateSteps(t *testing.T) {
	var s rateSteps
	require.NoError(t, s.Set("5s=20000, 10s=4000"))
	assert.Equal(t, rateSteps{{After: 5 * time.Second, Rate: 20000}, {After: 10 * time.Second, Rate: 4000}}, s)
	assert.Equal(t, "5s=20000,10s=4000", s.String())
	for _, bad := range []string{"5s", "x=1", "-1s=5", "5s=0", "5s=-3", "5s=NaN", "5s=Inf", "5s=1e30", "5s=1,5s=2", "6s=1,5s=2"} {
		var b rateSteps
		assert.Error(t, b.Set(bad), bad)
	}
}

// TestRunRateStepsNeedRate: steps without --rate are refused before any
// work, naming the flag.
func TestRunRateStepsNeedRate(t *testing.T) {
	code, _, stderr := bench(t, "run", "grep", "--runtime", "reference", "--events", "1000", "--rate-steps", "1s=1000")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--rate-steps")
}
