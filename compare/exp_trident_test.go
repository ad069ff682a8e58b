package compare

import "testing"

func TestVerdictTrident(t *testing.T) {
	exact := tridentExact{Duplicated: sp(0, 0, 0), Reps: 3}
	dups := tridentExact{Duplicated: sp(150, 155, 162), Reps: 3}
	sizes := func(p50Small, p50Large spread) []tridentSize {
		return []tridentSize{
			{Batch: 250, Throughput: sp(140e3, 145e3, 146e3), LatencyP50: p50Small, LatencyP99: sp(1, 2, 3)},
			{Batch: 1000, Throughput: sp(550e3, 574e3, 576e3), LatencyP50: sp(1, 1.2, 1.4), LatencyP99: sp(2, 3, 4)},
			{Batch: 4000, Throughput: sp(1.8e6, 2.3e6, 2.4e6), LatencyP50: p50Large, LatencyP99: sp(5, 6, 7)},
		}
	}
	good := func() tridentOutcome {
		return tridentOutcome{ALO: dups, Trident: exact, Opaque: exact, ALOThroughput: sp(1.6e6, 2.1e6, 2.2e6), DefaultBatch: 1000,
			Sizes: sizes(sp(0.4, 0.6, 0.64), sp(3.9, 4.0, 4.04))}
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictTrident(good()) }, Holds,
			[]string{"155 [150-162]", "574000 [550000-576000]", "2100000 [1600000-2200000]", "27%", "0.6 [0.4-0.64]", "4 [3.90-4.04]"}},
		{"does not hold: Trident not exact", func() Verdict {
			o := good()
			o.Opaque.Inexact = 1
			return verdictTrident(o)
		}, DoesNotHold, []string{"1 of 3 (opaque)"}},
		{"does not hold: at-least-once never duplicates", func() Verdict {
			o := good()
			o.ALO = exact
			return verdictTrident(o)
		}, DoesNotHold, []string{"duplicated no window in 3"}},
		{"does not hold: Trident as fast as at-least-once", func() Verdict {
			o := good()
			o.ALOThroughput = sp(500e3, 520e3, 540e3)
			return verdictTrident(o)
		}, DoesNotHold, []string{"less than 30%", "520000 [500000-540000]"}},
		{"does not hold: latency falls with the batch size", func() Verdict {
			o := good()
			o.Sizes = sizes(sp(3.9, 4.0, 4.04), sp(0.4, 0.6, 0.64))
			return verdictTrident(o)
		}, DoesNotHold, []string{"fell from 4 [3.90-4.04] ms"}},
		{"inconclusive: throughput spreads straddle the threshold", func() Verdict {
			o := good()
			o.ALOThroughput = sp(600e3, 900e3, 2e6)
			return verdictTrident(o)
		}, Inconclusive, []string{"straddle 70%"}},
		{"inconclusive: at-least-once duplicates in some repetitions only", func() Verdict {
			o := good()
			o.ALO.Duplicated = sp(0, 3, 9)
			return verdictTrident(o)
		}, Inconclusive, []string{"some repetitions only (3 [0-9])"}},
		{"inconclusive: latency inside the spread", func() Verdict {
			o := good()
			o.Sizes = sizes(sp(0.4, 1, 5), sp(3.9, 4.0, 4.04))
			return verdictTrident(o)
		}, Inconclusive, []string{"inside the spread"}},
		{"inconclusive: a failed trial", func() Verdict {
			o := good()
			o.Trident = tridentExact{Reps: 1, Failed: "hung (cut by its time limit)"}
			return verdictTrident(o)
		}, Inconclusive, []string{"hung"}},
		{"inconclusive: too few repetitions", func() Verdict {
			o := good()
			o.ALOThroughput = sp(2e6)
			return verdictTrident(o)
		}, Inconclusive, []string{"need 3"}},
	})
}
