package compare

import "testing"

func TestVerdictSnapshot(t *testing.T) {
	base := snapRun{Throughput: sp(100, 105, 110), Checkpoints: sp(0, 0, 0)}
	o := func(r snapRun) snapshotOutcome {
		return snapshotOutcome{Runs: map[string]snapRun{snapshotBase: base, "10ms": r, "10s": {Throughput: sp(100, 100, 100), Checkpoints: sp(0, 0, 0)}}}
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict {
			return verdictSnapshot(o(snapRun{Throughput: sp(98, 100, 104), Checkpoints: sp(40, 42, 45)}))
		}, Holds, []string{"42 [40-45] checkpoints", "95%", "10s (0 [0-0] checkpoints)"}},
		{"does not hold", func() Verdict {
			return verdictSnapshot(o(snapRun{Throughput: sp(50, 55, 60), Checkpoints: sp(40, 42, 45)}))
		}, DoesNotHold, []string{"52%"}},
		{"inconclusive: too few checkpoints", func() Verdict {
			return verdictSnapshot(o(snapRun{Throughput: sp(50, 55, 60), Checkpoints: sp(1, 2, 3)}))
		}, Inconclusive, []string{"no interval completed 10 checkpoints", "10ms (2 [1-3] checkpoints)"}},
		{"inconclusive: inside the spread", func() Verdict {
			return verdictSnapshot(o(snapRun{Throughput: sp(60, 85, 120), Checkpoints: sp(40, 42, 45)}))
		}, Inconclusive, []string{"inside the spread"}},
	})
}
