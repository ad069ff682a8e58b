package translate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
)

// TestPrismWorkloads runs every workload of compare that Beam expresses on
// in-process Prism and requires its final panes to equal the reference.
func TestPrismWorkloads(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events int64
	}{
		{"ysb", 50_000},
		{"grep", 20_000},
		{"hashtag-topn", 20_000},
		{"hashtag-approx-topn", 20_000},
		{"request-rate", 20_000},
		{"sessions", 30_000},
		{"iot-sliding", 30_000},
		{"fraud", 30_000},
		{"count-window", 100_000},
		{"count-window-10", 50_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := runPrism(t, tc.name, compare.DataSpec{Events: tc.events, Seed: 7})
			if tc.name == "count-window" {
				// 100k transactions of 10k cards fill no window of 100:
				// the reference and the run must both be empty.
				require.True(t, rep.Check.OK(), "%v", rep.Check)
				return
			}
			t.Logf("%s: %v; %d events in %v, %d panes", tc.name, rep.Check, rep.Outcome.Events, rep.Outcome.Elapsed, rep.Outcome.Emissions)
			require.True(t, rep.Check.OK(), "%s on prism: %v %v", tc.name, rep.Check, rep.Check.Examples)
			assert.NotZero(t, rep.Check.Windows, "%s: the reference has results to compare", tc.name)
		})
	}
}
