package compare

import "testing"

func TestVerdictSuperset(t *testing.T) {
	ok := runEnd{Exact: true}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict {
			return verdictSuperset(supersetOutcome{Runs: map[string]runEnd{"a on x": ok, "b on x": ok, "c on y": {Unsupported: "no sessions"}}})
		}, Holds, []string{"all 2 runs", "1 pairs"}},
		{"does not hold", func() Verdict {
			return verdictSuperset(supersetOutcome{Runs: map[string]runEnd{"a on x": ok, "b on x": {Check: "NO (lost 3)"}}})
		}, DoesNotHold, []string{"b on x: NO (lost 3)"}},
		{"inconclusive", func() Verdict {
			return verdictSuperset(supersetOutcome{Runs: map[string]runEnd{"a on x": ok, "b on x": {Failed: "hung (cut by its time limit)"}}})
		}, Inconclusive, []string{"b on x: hung"}},
	})
}
