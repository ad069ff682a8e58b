package translate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/beam/translate"
	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/datasets"
)

// TestPrismLateDrops reads a skewed log (5% of records 15-30 s late, past
// ysb's 5 s bound) with the log-driven watermark: Beam drops records as
// late for real, the runner names them (the records no result holds), the
// check verifies each under I5, and the rest equal the reference minus
// them. Without the log watermark the same input loses nothing.
func TestPrismLateDrops(t *testing.T) {
	w := workload(t, "ysb")
	d := compare.DataSpec{Events: 200_000, Seed: 11, Skew: datasets.Skew{Delay: 2e9, OutOfOrder: 0.05, Late: 0.05, LateDelay: 30e9}}
	r := &translate.Runner{Beam: "prism", LogWatermark: true, Chunk: 1000, SessionsMergeTouching: true}
	rep, err := translate.RunWorkload(t.Context(), w, d, r, compare.Options{}, nil)
	require.NoError(t, err)
	c := rep.Check
	t.Logf("log watermark: %v", c)
	require.Positive(t, c.DroppedLate, "Beam drops late records under the log's watermark")
	assert.Zero(t, c.Late.Unverified, "every drop is late under I5: %v", c.Late.Examples)
	assert.True(t, c.OK(), "the rest equal the reference minus the drops: %v %v", c, c.Examples)
	assert.False(t, c.Full.OK(), "the drops change the full answer")

	r = &translate.Runner{Beam: "prism", SessionsMergeTouching: true}
	rep, err = translate.RunWorkload(t.Context(), w, d, r, compare.Options{}, nil)
	require.NoError(t, err)
	assert.True(t, rep.Check.Full.OK(), "end-of-input watermark: nothing late, the full answer: %v", rep.Check)
}
