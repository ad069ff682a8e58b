package compare

import (
	"testing"
	"time"
)

// timeoutsHoldingOutcome is an outcome on which every sub-claim of
// timeouts holds: a 600 ms queueing delay, timeouts of 150 and 300 ms time
// out trees, 1.2 s and 30 s none, goodput falls from 5000 to 3000 acked
// trees/s, and max spout pending restores it.
func timeoutsHoldingOutcome() timeoutsOutcome {
	zero := sp(0, 0, 0)
	run := func(timeout time.Duration, frac float64, pending int, timedOut, goodput spread) timeoutRun {
		return timeoutRun{Timeout: timeout, Fraction: frac, Pending: pending, TimedOut: timedOut, Replayed: timedOut, FailedTrees: zero, Goodput: goodput, CompleteMaxMs: sp(600, 610, 620)}
	}
	return timeoutsOutcome{QueueingDelay: 600 * time.Millisecond, Runs: map[string]timeoutRun{
		timeoutControl:          run(30*time.Second, 0, 0, zero, sp(4900, 5000, 5100)),
		timeoutSweepLabel(0.25): run(150*time.Millisecond, 0.25, 0, sp(600, 612, 650), sp(2900, 3000, 3100)),
		timeoutSweepLabel(0.5):  run(300*time.Millisecond, 0.5, 0, sp(300, 320, 350), sp(3900, 4000, 4100)),
		timeoutSweepLabel(2):    run(1200*time.Millisecond, 2, 0, zero, sp(4900, 5000, 5100)),
		timeoutRemedy:           run(150*time.Millisecond, 0.25, 375, zero, sp(4800, 4950, 5050)),
	}}
}

// withRun returns o with the run at label changed by f.
func withRun(o timeoutsOutcome, label string, f func(*timeoutRun)) timeoutsOutcome {
	r := o.Runs[label]
	f(&r)
	o.Runs[label] = r
	return o
}

func TestVerdictTimeouts(t *testing.T) {
	runVerdictCases(t, []verdictCase{
		{"holds: all three sub-claims", func() Verdict { return verdictTimeouts(timeoutsHoldingOutcome()) },
			Holds, []string{"spurious timeouts holds", "goodput collapse holds", "max spout pending holds"}},
		{"does not hold: the short timeouts time out nothing", func() Verdict {
			o := timeoutsHoldingOutcome()
			for _, f := range []float64{0.25, 0.5} {
				o = withRun(o, timeoutSweepLabel(f), func(r *timeoutRun) { r.TimedOut, r.Replayed = sp(0, 0, 0), sp(0, 0, 0) })
			}
			return verdictTimeouts(o)
		}, DoesNotHold, []string{"spurious timeouts does not hold"}},
		{"inconclusive: a trial hung", func() Verdict {
			return verdictTimeouts(withRun(timeoutsHoldingOutcome(), timeoutRemedy, func(r *timeoutRun) { r.Failed = "hung (cut by its time limit)" }))
		}, Inconclusive, []string{timeoutRemedy + ": hung"}},
	})
}

func TestVerdictSpuriousTimeouts(t *testing.T) {
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictSpuriousTimeouts(timeoutsHoldingOutcome()) },
			Holds, []string{"150ms (0.25 × the queueing delay 600ms): 612 [600-650] timed out", "1.2s: 0 [0-0]", "30s: 0 [0-0]"}},
		{"does not hold: no timeout below the delay times out", func() Verdict {
			o := timeoutsHoldingOutcome()
			for _, f := range []float64{0.25, 0.5} {
				o = withRun(o, timeoutSweepLabel(f), func(r *timeoutRun) { r.TimedOut, r.Replayed = sp(0, 0, 0), sp(0, 0, 0) })
			}
			return verdictSpuriousTimeouts(o)
		}, DoesNotHold, []string{"no timeout below the queueing delay"}},
		{"inconclusive: the negative control above the delay timed out", func() Verdict {
			return verdictSpuriousTimeouts(withRun(timeoutsHoldingOutcome(), timeoutSweepLabel(2), func(r *timeoutRun) { r.TimedOut = sp(0, 3, 5) }))
		}, Inconclusive, []string{"negative control at 1.2s", "3 [0-5]"}},
		{"inconclusive: the 30 s control timed out", func() Verdict {
			return verdictSpuriousTimeouts(withRun(timeoutsHoldingOutcome(), timeoutControl, func(r *timeoutRun) { r.TimedOut = sp(0, 3, 5) }))
		}, Inconclusive, []string{"negative control (timeout 30s)"}},
		{"inconclusive: trees failed", func() Verdict {
			return verdictSpuriousTimeouts(withRun(timeoutsHoldingOutcome(), timeoutSweepLabel(0.25), func(r *timeoutRun) { r.FailedTrees = sp(1, 1, 2) }))
		}, Inconclusive, []string{"failed 1 [1-2]"}},
		{"inconclusive: some repetitions only", func() Verdict {
			return verdictSpuriousTimeouts(withRun(timeoutsHoldingOutcome(), timeoutSweepLabel(0.5), func(r *timeoutRun) { r.TimedOut = sp(0, 10, 20) }))
		}, Inconclusive, []string{"some repetitions only", "10 [0-20]"}},
		{"inconclusive: no timeout above the delay", func() Verdict {
			o := timeoutsHoldingOutcome()
			delete(o.Runs, timeoutSweepLabel(2))
			return verdictSpuriousTimeouts(o)
		}, Inconclusive, []string{"0 at or above it"}},
	})
}

func TestVerdictGoodput(t *testing.T) {
	runVerdictCases(t, []verdictCase{
		{"holds: goodput falls at the shortest timeout", func() Verdict { return verdictGoodput(timeoutsHoldingOutcome()) },
			Holds, []string{"3000 [2900-3100] acked trees/s with a 150ms timeout against 5000 [4900-5100]", "60%"}},
		{"does not hold: goodput rises", func() Verdict {
			return verdictGoodput(withRun(timeoutsHoldingOutcome(), timeoutSweepLabel(0.25), func(r *timeoutRun) { r.Goodput = sp(6000, 6100, 6200) }))
		}, DoesNotHold, []string{"rises"}},
		{"inconclusive: inside the spread", func() Verdict {
			return verdictGoodput(withRun(timeoutsHoldingOutcome(), timeoutSweepLabel(0.25), func(r *timeoutRun) { r.Goodput = sp(4800, 4950, 5000) }))
		}, Inconclusive, []string{"inside the spread"}},
	})
}

func TestVerdictRemedy(t *testing.T) {
	runVerdictCases(t, []verdictCase{
		{"holds: nothing times out", func() Verdict { return verdictRemedy(timeoutsHoldingOutcome()) },
			Holds, []string{"max spout pending 375 and a 150ms timeout, 0 [0-0]"}},
		{"does not hold: trees still time out", func() Verdict {
			return verdictRemedy(withRun(timeoutsHoldingOutcome(), timeoutRemedy, func(r *timeoutRun) { r.TimedOut = sp(5, 8, 9) }))
		}, DoesNotHold, []string{"8 [5-9]"}},
		{"inconclusive: some repetitions", func() Verdict {
			return verdictRemedy(withRun(timeoutsHoldingOutcome(), timeoutRemedy, func(r *timeoutRun) { r.TimedOut = sp(0, 0, 2) }))
		}, Inconclusive, []string{"some repetitions"}},
		{"holds: goodput a little below the control's, far above unlimited pending's", func() Verdict {
			return verdictRemedy(withRun(timeoutsHoldingOutcome(), timeoutRemedy, func(r *timeoutRun) { r.Goodput = sp(4700, 4750, 4800) }))
		}, Holds, []string{"4750 [4700-4800]"}},
		{"inconclusive: goodput not above unlimited pending's", func() Verdict {
			return verdictRemedy(withRun(timeoutsHoldingOutcome(), timeoutRemedy, func(r *timeoutRun) { r.Goodput = sp(3000, 3100, 3200) }))
		}, Inconclusive, []string{"not above unlimited pending's", "3000 [2900-3100]"}},
	})
}
