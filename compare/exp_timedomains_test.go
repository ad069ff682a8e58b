package compare

import (
	"math"
	"testing"
	"time"
)

func TestVerdictTimeDomains(t *testing.T) {
	ok := map[string]runEnd{"1 time-agnostic": {Exact: true}, "4 event-time fixed windows": {Exact: true}}
	sweep := map[int]spread{4: sp(0.04, 0.06, 0.08), 64: sp(0.74, 0.79, 0.80), 2048: sp(1, 1, 1)}
	o := func(approaches map[string]runEnd, tight, loose spread) timeDomainsOutcome {
		return timeDomainsOutcome{Approaches: approaches, Recall: math.NaN(), LateShare: map[time.Duration]spread{0: tight, time.Second: sp(1, 1, 1), 4 * time.Second: loose},
			SketchRecall: sweep, DefaultWidth: 2048}
	}
	withSweep := func(s map[int]spread) timeDomainsOutcome {
		v := o(ok, sp(4, 5, 6), sp(0, 0, 0))
		v.SketchRecall = s
		return v
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictTimeDomains(o(ok, sp(4, 5, 6), sp(0, 0, 0))) }, Holds, []string{"5 [4-6]% at bound 0s", "at bound 4s", "4: 0.06 [0.04-0.08], 64: 0.79 [0.74-0.8], 2048: 1 [1-1]", "below 1 at 4 counters per row"}},
		{"does not hold: approach differs", func() Verdict {
			return verdictTimeDomains(o(map[string]runEnd{"1 time-agnostic": {Check: "NO (lost 1)"}}, sp(4, 5, 6), sp(0, 0, 0)))
		}, DoesNotHold, []string{"NO (lost 1)"}},
		{"does not hold: tighter drops less", func() Verdict { return verdictTimeDomains(o(ok, sp(0, 0, 0), sp(4, 5, 6))) }, DoesNotHold, []string{"drops less", "shown: recall by sketch width"}},
		{"does not hold: the smallest sketch misses nothing", func() Verdict {
			return verdictTimeDomains(withSweep(map[int]spread{4: sp(1, 1, 1), 2048: sp(1, 1, 1)}))
		}, DoesNotHold, []string{"even 4 counters per row miss no top-N entry", "shown: all 2 approaches match"}},
		{"inconclusive: inside the spread", func() Verdict { return verdictTimeDomains(o(ok, sp(0.1, 0.3, 0.5), sp(0, 0.2, 0.4))) }, Inconclusive, []string{"inside the spread"}},
		{"inconclusive: recall not monotone in the width", func() Verdict {
			return verdictTimeDomains(withSweep(map[int]spread{4: sp(0.5, 0.6, 0.7), 64: sp(0.1, 0.2, 0.3), 2048: sp(1, 1, 1)}))
		}, Inconclusive, []string{"not monotone, width 64 recalls less than width 4"}},
		{"inconclusive: the default width does not reach 1", func() Verdict {
			return verdictTimeDomains(withSweep(map[int]spread{4: sp(0.1, 0.2, 0.3), 2048: sp(0.9, 0.95, 1)}))
		}, Inconclusive, []string{"2048: 0.95 [0.9-1]", "at least 0.99 at 2048"}},
		{"inconclusive: the sweep stops below the default", func() Verdict {
			return verdictTimeDomains(withSweep(map[int]spread{4: sp(0.1, 0.2, 0.3), 64: sp(0.9, 0.95, 1)}))
		}, Inconclusive, []string{"the sketch-width sweep has 2 widths [4 64]"}},
	})
}
