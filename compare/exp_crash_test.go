package compare

import "testing"

func TestVerdictCrash(t *testing.T) {
	three := func(r crashRep) []crashRep { return []crashRep{r, r, r} }
	loses := crashRun{Claim: crashClaimLoses, Want: crashLoses, Reps: three(crashRep{Lost: 5})}
	exact := crashRun{Claim: crashClaimExact, Want: crashExact, Reps: three(crashRep{})}
	dups := crashRun{Claim: crashClaimDups, Want: crashDuplicates, Stateless: true, Reps: []crashRep{{Duplicated: 138, SinkDuplicates: 138}, {Duplicated: 120, SinkDuplicates: 120}, {Duplicated: 150, SinkDuplicates: 150}}}
	// Windowed at-least-once whose replays are dropped as late: reported,
	// not judged.
	lateALO := crashRun{Want: crashDuplicates, Reps: three(crashRep{Lost: 44, LateReplays: 12261})}
	o := func(runs map[string]crashRun) func() Verdict {
		return func() Verdict { return verdictCrash(crashOutcome{Runs: runs}) }
	}
	runVerdictCases(t, []verdictCase{
		{"holds: at-least-once duplicates rows, the windowed one reported", o(map[string]crashRun{"amo": loses, "grep alo": dups, "ysb alo": lateALO, "eo": exact}),
			Holds, []string{"at-least-once duplicates (grep alo: 0 [0-0] rows lost, 138 [120-150] duplicated (the sink counted 138 [120-150] duplicates))", "reported, not judged: ysb alo: 44 [44-44] windows lost", "12261 [12261-12261] replays dropped as late (loses in every repetition)", "exactly-once is exact (eo"}},
		{"does not hold: at-least-once duplicates nothing", o(map[string]crashRun{"amo": loses, "grep alo": {Claim: crashClaimDups, Want: crashDuplicates, Stateless: true, Reps: three(crashRep{})}, "eo": exact}),
			DoesNotHold, []string{"at-least-once duplicates: grep alo: 0 [0-0] rows lost, 0 [0-0] duplicated (exact in every repetition, not duplicates)"}},
		{"does not hold: exactly-once duplicates too", o(map[string]crashRun{"amo": loses, "grep alo": dups, "eo": {Claim: crashClaimExact, Want: crashExact, Reps: three(crashRep{Duplicated: 3})}}),
			DoesNotHold, []string{"exactly-once is exact: eo: 0 [0-0] windows lost, 3 [3-3] duplicated (duplicates in every repetition, not exact)"}},
		{"inconclusive: only the windowed at-least-once ran, so no trial tests duplicates", o(map[string]crashRun{"amo": loses, "ysb alo": lateALO, "eo": exact}),
			Inconclusive, []string{"no trial tests at-least-once duplicates"}},
		{"inconclusive: duplicates in some repetitions only", o(map[string]crashRun{"amo": loses, "grep alo": {Claim: crashClaimDups, Want: crashDuplicates, Stateless: true, Reps: []crashRep{{Duplicated: 4}, {}, {Duplicated: 2}}}, "eo": exact}),
			Inconclusive, []string{"varied", "at-least-once duplicates: grep alo: 0 [0-0] rows lost, 2 [0-4] duplicated"}},
		{"inconclusive: varies across repetitions", o(map[string]crashRun{"amo": loses, "grep alo": dups, "eo": {Claim: crashClaimExact, Want: crashExact, Reps: []crashRep{{}, {Lost: 1}, {}}}}),
			Inconclusive, []string{"varied"}},
		{"inconclusive: failed", o(map[string]crashRun{"amo": loses, "eo": {Failed: "error: boom"}}),
			Inconclusive, []string{"eo: error: boom"}},
		{"inconclusive: too few repetitions", o(map[string]crashRun{"amo": loses, "grep alo": {Claim: crashClaimDups, Want: crashDuplicates, Reps: []crashRep{{Duplicated: 1}}}, "eo": exact}),
			Inconclusive, []string{"grep alo has 1 repetitions (need 3)"}},
	})
}
