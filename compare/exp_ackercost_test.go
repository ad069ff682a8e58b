package compare

import "testing"

func TestVerdictAckerCost(t *testing.T) {
	base := ackerRun{Throughput: sp(100, 110, 105)}
	o := func(acked ackerRun) ackerOutcome {
		return ackerOutcome{Runs: map[string]ackerRun{ackerBase: base, "at-least-once, 1 acker": acked}}
	}
	runVerdictCases(t, []verdictCase{
		{"holds: slower outside the spread, 3 messages per tuple", func() Verdict {
			return verdictAckerCost(o(ackerRun{Throughput: sp(40, 45, 50), MsgsPerTuple: sp(3, 3, 3)}))
		}, Holds, []string{"45 [40-50]", "43%"}},
		{"does not hold: faster outside the spread", func() Verdict {
			return verdictAckerCost(o(ackerRun{Throughput: sp(120, 125, 130), MsgsPerTuple: sp(3, 3, 3)}))
		}, DoesNotHold, []string{"125 [120-130]"}},
		{"does not hold: slower but about one message per tuple", func() Verdict {
			return verdictAckerCost(o(ackerRun{Throughput: sp(40, 45, 50), MsgsPerTuple: sp(1, 1, 1)}))
		}, DoesNotHold, []string{"1 [1-1] acker messages"}},
		{"inconclusive: inside the spread", func() Verdict {
			return verdictAckerCost(o(ackerRun{Throughput: sp(95, 102, 108), MsgsPerTuple: sp(3, 3, 3)}))
		}, Inconclusive, []string{"inside the spread"}},
		{"inconclusive: a trial failed", func() Verdict {
			return verdictAckerCost(o(ackerRun{Failed: "hung (cut by its time limit)"}))
		}, Inconclusive, []string{"hung"}},
		{"inconclusive: too few repetitions", func() Verdict {
			return verdictAckerCost(o(ackerRun{Throughput: sp(40), MsgsPerTuple: sp(3)}))
		}, Inconclusive, []string{"1 repetitions"}},
	})
}

func TestVerdictAckerKnee(t *testing.T) {
	runs := map[string]ackerRun{ackerBase: {Throughput: sp(100, 110, 105)}, ackerKneeAcked: {Throughput: sp(40, 45, 50), MsgsPerTuple: sp(3, 3, 3)}}
	o := func(base, acked ackerKnee) ackerOutcome {
		return ackerOutcome{Runs: runs, Precision: 0.1, Knee: map[string]ackerKnee{ackerBase: base, ackerKneeAcked: acked}}
	}
	runVerdictCases(t, []verdictCase{
		{"holds: acked sustains less by more than the precision", func() Verdict {
			return verdictAckerCost(o(ackerKnee{Rate: 1_600_000}, ackerKnee{Rate: 800_000}))
		}, Holds, []string{"acking lowers the sustainable rate", "800000 events/s", "50%"}},
		{"does not hold: within the precision", func() Verdict {
			return verdictAckerCost(o(ackerKnee{Rate: 1_600_000}, ackerKnee{Rate: 1_500_000}))
		}, DoesNotHold, []string{"does not lower", "1500000 events/s"}},
		{"does not hold: acked sustains more", func() Verdict {
			return verdictAckerCost(o(ackerKnee{Rate: 800_000}, ackerKnee{Rate: 1_600_000}))
		}, DoesNotHold, []string{"does not lower"}},
		{"inconclusive: a lower bound only", func() Verdict {
			return verdictAckerCost(o(ackerKnee{Rate: 1_600_000, LowerBound: true}, ackerKnee{Rate: 800_000}))
		}, Inconclusive, []string{"lower bound"}},
		{"inconclusive: a search failed", func() Verdict {
			return verdictAckerCost(o(ackerKnee{Rate: 1_600_000}, ackerKnee{Failed: "even the start rate is not sustainable"}))
		}, Inconclusive, []string{"even the start rate"}},
		{"inconclusive: not searched", func() Verdict {
			return verdictAckerCost(ackerOutcome{Runs: runs, Knee: map[string]ackerKnee{}})
		}, Inconclusive, []string{"not searched"}},
	})
}
