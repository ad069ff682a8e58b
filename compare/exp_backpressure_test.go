package compare

import (
	"testing"
	"time"
)

func TestVerdictBackpressure(t *testing.T) {
	o := func(none bpRun, budget bpRun) bpOutcome {
		return bpOutcome{Interval: 200 * time.Millisecond, Runs: map[string]bpRun{bpNone: none, bpBudget: budget, bpPID: {MaxDelayMs: sp(300, 400, 500), Reps: 3}}}
	}
	grown := bpRun{MaxDelayMs: sp(7000, 8000, 9000), Reps: 3}
	stopped := bpRun{MaxDelayMs: sp(900, 1000, 1100), BudgetStops: 3, Reps: 3}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictBackpressure(o(grown, stopped)) }, Holds, []string{"8000 [7000-9000]", "3 of 3", "400 [300-500] ms"}},
		{"does not hold: the delay never exceeded the interval", func() Verdict {
			return verdictBackpressure(o(bpRun{MaxDelayMs: sp(50, 60, 70), Reps: 3}, bpRun{MaxDelayMs: sp(50, 60, 70), Reps: 3}))
		}, DoesNotHold, []string{"60 [50-70]", "0 of 3"}},
		{"inconclusive: the budget stopped some runs only", func() Verdict {
			b := stopped
			b.BudgetStops = 1
			return verdictBackpressure(o(grown, b))
		}, Inconclusive, []string{"1 of 3"}},
		{"inconclusive: failed", func() Verdict {
			return verdictBackpressure(o(bpRun{Failed: "hung (cut by its time limit)", Reps: 1}, stopped))
		}, Inconclusive, []string{"hung"}},
	})
}
