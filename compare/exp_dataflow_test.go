package compare

import "testing"

// tuGood is an outcome on which both sub-claims hold; each case below
// changes one part of it.
func tuGood() tuOutcome {
	return tuOutcome{Runs: map[string]tuRun{
		tuDataflow: {N: 3, Matched: 3, Crashed: 3, P50: sp(8, 9, 10), P99: sp(30, 35, 40), Throughput: sp(2e5, 2.1e5, 2.2e5),
			Recovery: sp(0.1, 0.2, 0.3), Resent: sp(150, 170, 200), LookupsPerRecord: sp(1.02, 1.05, 1.1), CommitBytesPerRecord: sp(300, 320, 350), IDBytesPerRecord: sp(16, 16.8, 17.6)},
		tuBarrier: {N: 3, Matched: 3, Crashed: 3, P50: sp(150, 160, 170), P99: sp(380, 400, 420), Throughput: sp(3e5, 3.1e5, 3.2e5),
			Recovery: sp(5, 6, 7), Resent: sp(900, 1000, 1100)},
	}}
}

func TestVerdictTransactional(t *testing.T) {
	with := func(f func(map[string]tuRun)) tuOutcome {
		o := tuGood()
		f(o.Runs)
		return o
	}
	set := func(m map[string]tuRun, key string, f func(*tuRun)) {
		r := m[key]
		f(&r)
		m[key] = r
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictTransactional(tuGood()) }, Holds,
			[]string{"3 of 3 dataflow repetitions", "170 [150-200] records sent again", "1.05 [1.02-1.10] record ids", "320 [300-350] bytes", "p50 9 [8-10] ms is below barrier snapshots' 160 [150-170] ms (6% of it)", "p99 35 [30-40] ms against 400 [380-420] ms"}},
		{"holds: dataflow slower, ranges apart, stated", func() Verdict {
			return verdictTransactional(with(func(m map[string]tuRun) { set(m, tuDataflow, func(r *tuRun) { r.P50 = sp(200, 208, 210) }) }))
		}, Holds, []string{"208 [200-210] ms is above barrier snapshots' 160 [150-170] ms (130% of it)"}},
		{"does not hold: a repetition did not match", func() Verdict {
			return verdictTransactional(with(func(m map[string]tuRun) { set(m, tuDataflow, func(r *tuRun) { r.Matched = 2 }) }))
		}, DoesNotHold, []string{"exact does not hold", "1 of 3 dataflow repetitions", "per-record cost holds"}},
		{"does not hold: fewer lookups than records", func() Verdict {
			return verdictTransactional(with(func(m map[string]tuRun) {
				set(m, tuDataflow, func(r *tuRun) { r.LookupsPerRecord = sp(0.5, 1, 1) })
			}))
		}, DoesNotHold, []string{"looked up 0.5 record ids per record"}},
		{"does not hold: nothing committed", func() Verdict {
			return verdictTransactional(with(func(m map[string]tuRun) {
				set(m, tuDataflow, func(r *tuRun) { r.CommitBytesPerRecord = sp(0, 0, 0) })
			}))
		}, DoesNotHold, []string{"committed 0 bytes per record"}},
		{"inconclusive: latencies overlap", func() Verdict {
			return verdictTransactional(with(func(m map[string]tuRun) { set(m, tuDataflow, func(r *tuRun) { r.P50 = sp(100, 155, 200) }) }))
		}, Inconclusive, []string{"155 [100-200] ms and barrier snapshots' 160 [150-170] ms overlap"}},
		{"inconclusive: no crash fired", func() Verdict {
			return verdictTransactional(with(func(m map[string]tuRun) { set(m, tuDataflow, func(r *tuRun) { r.Crashed = 1 }) }))
		}, Inconclusive, []string{"fired in only 1 of 3"}},
		{"inconclusive: a trial failed", func() Verdict {
			return verdictTransactional(with(func(m map[string]tuRun) {
				set(m, tuBarrier, func(r *tuRun) { r.Failed = "hung (cut by its time limit)" })
			}))
		}, Inconclusive, []string{"hung (cut by its time limit)"}},
		{"inconclusive: nothing ran", func() Verdict { return verdictTransactional(tuOutcome{Runs: map[string]tuRun{}}) }, Inconclusive,
			[]string{"no dataflow repetition ran"}},
	})
}
