package compare

import "testing"

func TestVerdictLatency(t *testing.T) {
	o := func(rs, mb spread) latencyOutcome {
		return latencyOutcome{Stream: "rs", Batch: []string{"mb 1s"}, Workloads: []string{"grep"},
			P50Ms: map[latencyKey]spread{{"grep", "rs"}: rs, {"grep", "mb 1s"}: mb}, Failed: map[latencyKey]string{}}
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictLatency(o(sp(0.05, 0.06, 0.07), sp(450, 455, 460))) }, Holds, []string{"455 [450-460]", "floor 455"}},
		{"does not hold: micro-batches faster", func() Verdict { return verdictLatency(o(sp(500, 510, 520), sp(15, 20, 25))) }, DoesNotHold, []string{"20 [15-25]", "510 [500-520]"}},
		{"inconclusive: floor inside the spread", func() Verdict { return verdictLatency(o(sp(10, 50, 200), sp(40, 60, 80))) }, Inconclusive, []string{"inside the spread"}},
		{"inconclusive: failed", func() Verdict {
			x := o(sp(1, 1, 1), sp(2, 2, 2))
			x.Failed[latencyKey{"grep", "mb 1s"}] = "hung (cut by its time limit)"
			return verdictLatency(x)
		}, Inconclusive, []string{"grep on mb 1s: hung"}},
	})
}
