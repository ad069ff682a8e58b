package compare

import (
	"testing"
	"time"
)

func TestVerdictTimeouts(t *testing.T) {
	zero := sp(0, 0, 0)
	ctl := timeoutRun{Timeout: 30 * time.Second, TimedOut: zero, Replayed: zero, FailedTrees: zero}
	short := timeoutRun{Timeout: 250 * time.Millisecond, TimedOut: sp(600, 612, 650), Replayed: sp(600, 612, 650), FailedTrees: zero}
	o := func(runs map[string]timeoutRun) timeoutsOutcome { return timeoutsOutcome{Runs: runs} }
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict {
			return verdictTimeouts(o(map[string]timeoutRun{timeoutControl: ctl, timeoutShort: short}))
		}, Holds, []string{"612 [600-650]", "30s"}},
		{"does not hold: the short timeout shows none", func() Verdict {
			s := short
			s.TimedOut, s.Replayed = zero, zero
			return verdictTimeouts(o(map[string]timeoutRun{timeoutControl: ctl, timeoutShort: s}))
		}, DoesNotHold, []string{"250ms"}},
		{"inconclusive: a trial hung", func() Verdict {
			return verdictTimeouts(o(map[string]timeoutRun{timeoutControl: ctl, timeoutShort: short, timeoutRemedy: {Failed: "hung (cut by its time limit)"}}))
		}, Inconclusive, []string{timeoutRemedy + ": hung"}},
		{"inconclusive: the negative control timed out", func() Verdict {
			c := ctl
			c.TimedOut = sp(0, 3, 5)
			return verdictTimeouts(o(map[string]timeoutRun{timeoutControl: c, timeoutShort: short}))
		}, Inconclusive, []string{"negative control"}},
		{"inconclusive: trees failed", func() Verdict {
			s := short
			s.FailedTrees = sp(1, 1, 2)
			return verdictTimeouts(o(map[string]timeoutRun{timeoutControl: ctl, timeoutShort: s}))
		}, Inconclusive, []string{"failed 1 [1-2]"}},
	})
}
