package compare

import "testing"

// ackerHoldingOutcome is an outcome on which every sub-claim of acker-cost
// holds: acking sustains 800k against 3.2M events/s, the acked p99 grows
// from ~110 ms to ~500 ms past its rate while at-most-once stays at ~105 ms,
// and the acked configurations send 2 messages per tracked tuple.
func ackerHoldingOutcome() ackerOutcome {
	pt := func(offered float64, p99 spread, msgs spread) ackerPoint {
		return ackerPoint{Offered: offered, P99Ms: p99, FillRate: sp(offered, offered, offered), MsgsPerTuple: msgs, Tracked: sp(1000, 1000, 1000)}
	}
	two, zero := sp(2, 2, 2.1), sp(0, 0, 0)
	return ackerOutcome{
		Precision: 0.25,
		Rates: map[string]ackerKnee{
			ackerBase:      {Rate: 3_200_000},
			ackerKneeAcked: {Rate: 800_000, Unsustainable: 1_000_000, Tracked: true},
			ackerTwo:       {Rate: 900_000, Tracked: true},
			ackerExactly:   {Rate: 2_000_000},
		},
		Points: map[string]ackerPoint{
			ackerPointKey(ackerBase, ackerLow):       pt(200_000, sp(100, 105, 110), zero),
			ackerPointKey(ackerBase, ackerHigh):      pt(1_200_000, sp(100, 104, 112), zero),
			ackerPointKey(ackerKneeAcked, ackerLow):  pt(200_000, sp(105, 110, 120), two),
			ackerPointKey(ackerKneeAcked, ackerHigh): pt(1_200_000, sp(450, 500, 560), two),
			ackerPointKey(ackerTwo, ackerLow):        pt(200_000, sp(105, 110, 120), two),
			ackerPointKey(ackerTwo, ackerHigh):       pt(1_200_000, sp(400, 450, 500), two),
		},
	}
}

// withPoint returns o with the point at key changed by f.
func withPoint(o ackerOutcome, key string, f func(*ackerPoint)) ackerOutcome {
	p := o.Points[key]
	f(&p)
	o.Points[key] = p
	return o
}

// withRate returns o with config's search changed by f.
func withRate(o ackerOutcome, config string, f func(*ackerKnee)) ackerOutcome {
	k := o.Rates[config]
	f(&k)
	o.Rates[config] = k
	return o
}

func TestVerdictAckerCost(t *testing.T) {
	ackedHi, baseHi := ackerPointKey(ackerKneeAcked, ackerHigh), ackerPointKey(ackerBase, ackerHigh)
	runVerdictCases(t, []verdictCase{
		{"holds: all three sub-claims", func() Verdict { return verdictAckerCost(ackerHoldingOutcome()) },
			Holds, []string{"sustainable rate holds", "acked knee holds", "acker messages holds", "500 [450-560] ms", "800000 events/s (25%"}},
		{"does not hold: one sub-claim does not, another is inconclusive", func() Verdict {
			o := withRate(ackerHoldingOutcome(), ackerTwo, func(k *ackerKnee) { k.Rate = 3_000_000 })
			return verdictAckerCost(withPoint(o, ackedHi, func(p *ackerPoint) { p.Failed = "hung (cut by its time limit)" }))
		}, DoesNotHold, []string{"sustainable rate does not hold", "acked knee inconclusive"}},
		{"inconclusive: one sub-claim is, the others hold", func() Verdict {
			return verdictAckerCost(withPoint(ackerHoldingOutcome(), baseHi, func(p *ackerPoint) { p.FillRate = sp(900_000, 1_000_000, 1_100_000) }))
		}, Inconclusive, []string{"not offered a rate past the acked knee", "sustainable rate holds"}},
	})
}

func TestVerdictAckerRates(t *testing.T) {
	runVerdictCases(t, []verdictCase{
		{"holds: every acked rate below by more than the precision", func() Verdict { return verdictAckerRates(ackerHoldingOutcome()) },
			Holds, []string{ackerKneeAcked + " 800000 events/s (25%", ackerTwo + " 900000"}},
		{"holds: at-most-once a lower bound above the acked rates", func() Verdict {
			return verdictAckerRates(withRate(ackerHoldingOutcome(), ackerBase, func(k *ackerKnee) { k.LowerBound = true }))
		}, Holds, []string{"at least 3200000"}},
		{"does not hold: within the precision", func() Verdict {
			return verdictAckerRates(withRate(ackerHoldingOutcome(), ackerKneeAcked, func(k *ackerKnee) { k.Rate = 3_000_000 }))
		}, DoesNotHold, []string{"does not lower", ackerKneeAcked + " 3000000"}},
		{"does not hold: acked sustains more", func() Verdict {
			return verdictAckerRates(withRate(ackerHoldingOutcome(), ackerTwo, func(k *ackerKnee) { k.Rate = 4_000_000 }))
		}, DoesNotHold, []string{"does not lower", "125%"}},
		{"inconclusive: an acked search found a lower bound only", func() Verdict {
			return verdictAckerRates(withRate(ackerHoldingOutcome(), ackerKneeAcked, func(k *ackerKnee) { k.LowerBound = true }))
		}, Inconclusive, []string{"lower bound"}},
		{"inconclusive: a search failed", func() Verdict {
			return verdictAckerRates(withRate(ackerHoldingOutcome(), ackerExactly, func(k *ackerKnee) { k.Failed = "even the start rate is not sustainable" }))
		}, Inconclusive, []string{ackerExactly + ": even the start rate"}},
		{"inconclusive: not searched", func() Verdict { return verdictAckerRates(ackerOutcome{}) }, Inconclusive, []string{"not searched"}},
	})
}

func TestVerdictAckerKnee(t *testing.T) {
	ackedHi, baseHi := ackerPointKey(ackerKneeAcked, ackerHigh), ackerPointKey(ackerBase, ackerHigh)
	runVerdictCases(t, []verdictCase{
		{"holds: acked explodes, at-most-once flat", func() Verdict { return verdictAckerKnee(ackerHoldingOutcome()) },
			Holds, []string{"500 [450-560] ms at 1200000 events/s offered, 1200000 [1200000-1200000] filled (150% of its sustainable rate 800000)", "104 [100-112] ms against 105 [100-110]"}},
		{"does not hold: the acked latency stays flat past its rate", func() Verdict {
			return verdictAckerKnee(withPoint(ackerHoldingOutcome(), ackedHi, func(p *ackerPoint) { p.P99Ms = sp(110, 120, 130) }))
		}, DoesNotHold, []string{"no acked knee", "120 [110-130] ms"}},
		{"does not hold: at-most-once explodes as well (negative control)", func() Verdict {
			return verdictAckerKnee(withPoint(ackerHoldingOutcome(), baseHi, func(p *ackerPoint) { p.P99Ms = sp(400, 450, 500) }))
		}, DoesNotHold, []string{"without acking as well"}},
		{"inconclusive: growth between the thresholds", func() Verdict {
			return verdictAckerKnee(withPoint(ackerHoldingOutcome(), ackedHi, func(p *ackerPoint) { p.P99Ms = sp(190, 200, 230) }))
		}, Inconclusive, []string{"between 1.5× and 2×"}},
		{"inconclusive: growth inside the spread", func() Verdict {
			return verdictAckerKnee(withPoint(ackerHoldingOutcome(), ackedHi, func(p *ackerPoint) { p.P99Ms = sp(115, 500, 560) }))
		}, Inconclusive, []string{"inside the spread"}},
		{"holds: the generator lagged, but the achieved rate is past the acked knee", func() Verdict {
			return verdictAckerKnee(withPoint(ackerHoldingOutcome(), ackedHi, func(p *ackerPoint) { p.FillRate = sp(1_050_000, 1_100_000, 1_200_000) }))
		}, Holds, []string{"grows more than 2×"}},
		{"inconclusive: the generator lagged to the acked knee (achieved below offered)", func() Verdict {
			return verdictAckerKnee(withPoint(ackerHoldingOutcome(), ackedHi, func(p *ackerPoint) { p.FillRate = sp(990_000, 1_100_000, 1_200_000) }))
		}, Inconclusive, []string{"not offered a rate past the acked knee", "1100000 [990000-1200000]", "not above 1000000"}},
		{"inconclusive: the acked search found no unsustainable rate", func() Verdict {
			return verdictAckerKnee(withRate(ackerHoldingOutcome(), ackerKneeAcked, func(k *ackerKnee) { k.Unsustainable = 0 }))
		}, Inconclusive, []string{"no rate that is not sustainable"}},
		{"inconclusive: the low point was not offered its rate", func() Verdict {
			return verdictAckerKnee(withPoint(ackerHoldingOutcome(), ackerPointKey(ackerBase, ackerLow), func(p *ackerPoint) { p.FillRate = sp(150_000, 180_000, 200_000) }))
		}, Inconclusive, []string{"not offered its rate"}},
		{"inconclusive: a point hung", func() Verdict {
			return verdictAckerKnee(withPoint(ackerHoldingOutcome(), baseHi, func(p *ackerPoint) { p.Failed = "hung (cut by its time limit)" }))
		}, Inconclusive, []string{"hung"}},
		{"inconclusive: a point differs from the reference", func() Verdict {
			return verdictAckerKnee(withPoint(ackerHoldingOutcome(), ackedHi, func(p *ackerPoint) { p.Mismatch = "NO (lost 3)" }))
		}, Inconclusive, []string{"differs from the reference: NO (lost 3)"}},
		{"inconclusive: too few repetitions", func() Verdict {
			return verdictAckerKnee(withPoint(ackerHoldingOutcome(), ackedHi, func(p *ackerPoint) { p.P99Ms, p.FillRate = sp(500), sp(1_200_000) }))
		}, Inconclusive, []string{"1 repetitions"}},
	})
}

func TestVerdictAckerMessages(t *testing.T) {
	ackedLo, baseLo := ackerPointKey(ackerKneeAcked, ackerLow), ackerPointKey(ackerBase, ackerLow)
	runVerdictCases(t, []verdictCase{
		{"holds: two messages per tracked tuple, none without acking", func() Verdict { return verdictAckerMessages(ackerHoldingOutcome()) },
			Holds, []string{ackerKneeAcked + " 2 [2-2.10] acker messages per tracked tuple over 1000"}},
		{"does not hold: fewer than one per tracked tuple", func() Verdict {
			return verdictAckerMessages(withPoint(ackerHoldingOutcome(), ackedLo, func(p *ackerPoint) { p.MsgsPerTuple = sp(0.5, 0.5, 0.6) }))
		}, DoesNotHold, []string{"fewer than 1", "0.5 [0.5-0.6]"}},
		{"inconclusive: repetitions on both sides of one", func() Verdict {
			return verdictAckerMessages(withPoint(ackerHoldingOutcome(), ackedLo, func(p *ackerPoint) { p.MsgsPerTuple = sp(0.9, 1, 1.1) }))
		}, Inconclusive, []string{"1 [0.9-1.10]"}},
		{"inconclusive: the control sent acker messages", func() Verdict {
			return verdictAckerMessages(withPoint(ackerHoldingOutcome(), baseLo, func(p *ackerPoint) { p.MsgsPerTuple = sp(0, 0, 1) }))
		}, Inconclusive, []string{"the control"}},
		{"holds: an acked configuration not swept (quick mode) is left out", func() Verdict {
			o := ackerHoldingOutcome()
			delete(o.Points, ackerPointKey(ackerTwo, ackerLow))
			return verdictAckerMessages(o)
		}, Holds, []string{ackerKneeAcked + " 2 [2-2.10]"}},
		{"inconclusive: the 1-acker point is missing", func() Verdict {
			o := ackerHoldingOutcome()
			delete(o.Points, ackedLo)
			return verdictAckerMessages(o)
		}, Inconclusive, []string{"missing"}},
		{"inconclusive: the control is missing", func() Verdict {
			o := ackerHoldingOutcome()
			delete(o.Points, baseLo)
			return verdictAckerMessages(o)
		}, Inconclusive, []string{"control point is missing"}},
	})
}
