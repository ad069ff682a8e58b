package compare

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/metrics"
)

// crashFixture is a set of crash trials that shows every sub-claim; each
// case of TestVerdictCrash changes one of them.
type crashFixture struct {
	amo, alo, aloControl, late, eo, mb, grepALO crashRun
}

func newCrashFixture() crashFixture {
	three := func(r crashRep) []crashRep { return []crashRep{r, r, r} }
	pairs := func(d ...int) []crashPair {
		return []crashPair{{A: 0, B: 1, Differ: d[0]}, {A: 0, B: 2, Differ: d[1]}, {A: 1, B: 2, Differ: d[2]}}
	}
	restored := crashRep{Restores: 1, RestoredCheckpoint: 5, RestoredOffset: 9800}
	return crashFixture{
		amo: crashRun{Claim: crashClaimLoses, Want: crashLoses, Reps: []crashRep{{Lost: 424}, {Lost: 384}, {Lost: 440}}, Pairs: pairs(433, 550, 598)},
		alo: crashRun{Claim: crashClaimDups, Want: crashDuplicates, Reps: []crashRep{{Duplicated: 600, SinkDuplicates: 98}, {Duplicated: 331, SinkDuplicates: 94}, {Duplicated: 308, SinkDuplicates: 108, LateReplays: 33}}, Pairs: pairs(437, 162, 442),
			Control: "alo, without faults"},
		aloControl: crashRun{Want: crashDuplicates, Reps: []crashRep{{Duplicated: 2}, {}, {Duplicated: 5}}, Pairs: pairs(2, 5, 7)},
		// Windowed at-least-once with lateness 0: its replays are dropped
		// as late; reported, not judged.
		late:    crashRun{Want: crashDuplicates, Reps: three(crashRep{Lost: 393, LateReplays: 417}), Pairs: pairs(53, 49, 58)},
		eo:      crashRun{Claim: crashClaimExact, Want: crashExact, Restore: true, Reps: three(restored), Pairs: pairs(0, 0, 0)},
		mb:      crashRun{Claim: crashClaimExact, Want: crashExact, Reps: three(crashRep{}), Pairs: pairs(0, 0, 0)},
		grepALO: crashRun{Claim: crashClaimDups, Want: crashDuplicates, Stateless: true, Reps: []crashRep{{Duplicated: 138, SinkDuplicates: 138}, {Duplicated: 120, SinkDuplicates: 120}, {Duplicated: 150, SinkDuplicates: 150}}, Pairs: pairs(40, 52, 61)},
	}
}

func (f crashFixture) outcome() crashOutcome {
	return crashOutcome{Runs: map[string]crashRun{"amo": f.amo, "alo": f.alo, "alo, without faults": f.aloControl, "alo lateness 0": f.late, "eo": f.eo, "mb": f.mb, "grep alo": f.grepALO}}
}

func TestVerdictCrash(t *testing.T) {
	with := func(change func(*crashFixture)) func() Verdict {
		return func() Verdict {
			f := newCrashFixture()
			change(&f)
			return verdictCrash(f.outcome())
		}
	}
	runVerdictCases(t, []verdictCase{
		{"holds: every sub-claim, the lateness-0 control reported", with(func(*crashFixture) {}),
			Holds, []string{
				"at-most-once loses (amo: 424 [384-440] windows lost, 0 [0-0] duplicated)",
				"at-least-once duplicates (alo: 0 [0-0] windows lost, 331 [308-600] duplicated (the sink counted 98 [94-108] duplicates), 0 [0-33] replays dropped as late, above the 2 [0-5] duplicated without faults (alo, without faults); grep alo: 0 [0-0] rows lost, 138 [120-150] duplicated",
				"exactly-once is exact (eo: 0 [0-0] windows lost",
				"exactly-once restores from a completed checkpoint (eo: restored checkpoint 5 [5-5] at offset 9800 [9800-9800], past offset 0 in 3 of 3 repetitions, exact in every repetition)",
				"amo: 550 [433-598] windows differ between the two runs of a pair (3 pairs), 0 of 3 runs equal to the full answer",
				"eo: 0 [0-0] windows differ between the two runs of a pair (3 pairs), 3 of 3 runs equal to the full answer",
				"reported, not judged: alo lateness 0: 393 [393-393] windows lost, 0 [0-0] duplicated, 417 [417-417] replays dropped as late (loses in every repetition)"}},
		{"holds: at-least-once judged on the windowed trial alone", with(func(f *crashFixture) { f.grepALO.Claim = "" }),
			Holds, []string{"at-least-once duplicates (alo: 0 [0-0] windows lost, 331 [308-600] duplicated"}},
		{"holds: the windowed control duplicates as much, so that trial is reported and grep carries the sub-claim", with(func(f *crashFixture) {
			f.aloControl.Reps = []crashRep{{Duplicated: 498}, {Duplicated: 420}, {Duplicated: 510}}
		}), Holds, []string{"at-least-once duplicates (grep alo: 0 [0-0] rows lost, 138 [120-150] duplicated", "reported, not judged: alo lateness 0", "alo: 0 [0-0] windows lost, 331 [308-600] duplicated", "not above the 498 [420-510] windows duplicated without faults (alo, without faults): the duplicates are not the faults' alone"}},
		{"inconclusive: the control without faults duplicates as much and no other trial is above its control", with(func(f *crashFixture) {
			f.aloControl.Reps = []crashRep{{Duplicated: 498}, {Duplicated: 420}, {Duplicated: 510}}
			f.grepALO.Claim = ""
		}), Inconclusive, []string{"at-least-once duplicates: alo: 0 [0-0] windows lost, 331 [308-600] duplicated", "not above the 498 [420-510] windows duplicated without faults (alo, without faults)"}},
		{"inconclusive: the control did not run", with(func(f *crashFixture) { f.alo.Control = "alo, never run" }),
			Inconclusive, []string{"its control alo, never run has 0 repetitions (need 3)"}},
		{"does not hold: at-least-once duplicates nothing and repeats the full answer", with(func(f *crashFixture) {
			f.alo.Reps = []crashRep{{}, {}, {}}
			f.alo.Pairs = []crashPair{{A: 0, B: 1}, {A: 0, B: 2}, {A: 1, B: 2}}
		}), DoesNotHold, []string{"at-least-once duplicates: alo: 0 [0-0] windows lost, 0 [0-0] duplicated (exact in every repetition, not duplicates)",
			"alo: 0 [0-0] windows differ between the two runs of a pair (3 pairs), 3 of 3 runs equal to the full answer (the full answer in both runs of every pair)"}},
		{"does not hold: exactly-once duplicates too", with(func(f *crashFixture) { f.mb.Reps = []crashRep{{Duplicated: 3}, {Duplicated: 3}, {Duplicated: 3}} }),
			DoesNotHold, []string{"exactly-once is exact: mb: 0 [0-0] windows lost, 3 [3-3] duplicated (duplicates in every repetition, not exact)"}},
		{"does not hold: restored past offset 0 and lost windows every time", with(func(f *crashFixture) {
			for i := range f.eo.Reps {
				f.eo.Reps[i].Lost = 7
			}
		}), DoesNotHold, []string{"exactly-once restores from a completed checkpoint: eo: restored checkpoint 5 [5-5] at offset 9800 [9800-9800], past offset 0 in 3 of 3 repetitions, exact in none"}},
		{"does not hold: exactly-once gives another answer in every pair", with(func(f *crashFixture) {
			f.mb.Pairs = []crashPair{{A: 0, B: 1, Differ: 2}, {A: 0, B: 2, Differ: 1}, {A: 1, B: 2, Differ: 2}}
		}), DoesNotHold, []string{"mb: 2 [1-2] windows differ between the two runs of a pair (3 pairs), 3 of 3 runs equal to the full answer (exactly-once gave a different answer in every pair)"}},
		{"inconclusive: exactly-once restored from offset 0, so restore is not exercised", with(func(f *crashFixture) {
			for i := range f.eo.Reps {
				f.eo.Reps[i].RestoredOffset = 0
			}
		}), Inconclusive, []string{"exactly-once restores from a completed checkpoint: eo: restored checkpoint 5 [5-5] at offset 0 [0-0], past offset 0 in 0 of 3 repetitions (not exercised)"}},
		{"inconclusive: no restore in one repetition", with(func(f *crashFixture) { f.eo.Reps[1] = crashRep{} }),
			Inconclusive, []string{"past offset 0 in 2 of 3 repetitions (not exercised)"}},
		{"inconclusive: no trial must restore", with(func(f *crashFixture) { f.eo.Restore = false }),
			Inconclusive, []string{"no trial tests exactly-once restores from a completed checkpoint"}},
		{"inconclusive: exactly-once differs in one pair only", with(func(f *crashFixture) { f.eo.Pairs[1].Differ = 4 }),
			Inconclusive, []string{"exact runs repeat their answer, at-most-once and at-least-once do not: eo: 0 [0-4] windows differ"}},
		{"inconclusive: at-most-once gives the full answer twice in one pair only", with(func(f *crashFixture) {
			f.amo.Reps = []crashRep{{}, {}, {Lost: 3}}
			f.amo.Pairs = []crashPair{{A: 0, B: 1}, {A: 0, B: 2, Differ: 3}, {A: 1, B: 2, Differ: 3}}
		}), Inconclusive, []string{"varied", "amo: 3 [0-3] windows differ between the two runs of a pair (3 pairs), 2 of 3 runs equal to the full answer"}},
		{"inconclusive: only the lateness-0 trial ran, so no trial tests duplicates", with(func(f *crashFixture) { f.alo.Claim, f.grepALO.Claim = "", "" }),
			Inconclusive, []string{"no trial tests at-least-once duplicates"}},
		{"inconclusive: duplicates in some repetitions only", with(func(f *crashFixture) { f.grepALO.Reps = []crashRep{{Duplicated: 4}, {}, {Duplicated: 2}} }),
			Inconclusive, []string{"varied", "at-least-once duplicates: grep alo: 0 [0-0] rows lost, 2 [0-4] duplicated"}},
		{"inconclusive: exactly-once varies across repetitions", with(func(f *crashFixture) { f.mb.Reps = []crashRep{{}, {Lost: 1}, {}} }),
			Inconclusive, []string{"varied"}},
		{"inconclusive: failed", with(func(f *crashFixture) { f.eo = crashRun{Failed: "error: boom"} }),
			Inconclusive, []string{"eo: error: boom"}},
		{"inconclusive: too few repetitions", with(func(f *crashFixture) { f.alo.Reps = f.alo.Reps[:1] }),
			Inconclusive, []string{"alo has 1 repetitions (need 3)"}},
	})
}

func TestDiffOutputs(t *testing.T) {
	w1, w2 := dataflow.Window{Start: 0, End: 10}, dataflow.Window{Start: 10, End: 20}
	res := func(w dataflow.Window, key string, v int64) dataflow.Result {
		return dataflow.Result{Window: w, Key: key, Value: dataflow.Int(v)}
	}
	a := []dataflow.Result{res(w1, "a", 3), res(w1, "b", 4), res(w2, "a", 5)}
	assert.Equal(t, 0, diffOutputs(a, a, false), "a run equals itself")
	b := []dataflow.Result{res(w1, "a", 3), res(w1, "b", 5), res(w2, "c", 5)}
	assert.Equal(t, 3, diffOutputs(a, b, false), "w1/b's value differs, w2/a is missing from b, w2/c from a")
	c := append([]dataflow.Result{res(w1, "a", 2)}, a...)
	assert.Equal(t, 1, diffOutputs(a, c, false), "a second result for w1/a")
	assert.Equal(t, 1, diffOutputs(c, a, false), "symmetric")

	rows := []dataflow.Result{res(dataflow.Window{}, "x", 1), res(dataflow.Window{}, "x", 1), res(dataflow.Window{}, "y", 2)}
	assert.Equal(t, 0, diffOutputs(rows, rows, true))
	assert.Equal(t, 1, diffOutputs(rows, rows[1:], true), "one row fewer")
	assert.Equal(t, 3, diffOutputs(rows, append(rows[:1:1], res(dataflow.Window{}, "z", 3)), true), "x once less, y missing, z extra")
}

func TestCrashPairs(t *testing.T) {
	r := func(v int64) *Report {
		return &Report{Outcome: &Outcome{Results: []dataflow.Result{{Key: "k", Value: dataflow.Int(v)}}}}
	}
	got := crashPairs([]*Report{r(1), r(1), r(2)}, false)
	assert.Equal(t, []crashPair{{A: 0, B: 1, Differ: 0}, {A: 0, B: 2, Differ: 1}, {A: 1, B: 2, Differ: 1}}, got)
}

func TestCountDeltas(t *testing.T) {
	w := dataflow.Window{Start: 0, End: 10}
	res := func(key string, v int64) dataflow.Result {
		return dataflow.Result{Window: w, Key: key, Value: dataflow.Int(v)}
	}
	ref := []dataflow.Result{res("a", 5), res("b", 5), res("c", 5), res("d", 5)}
	got := []dataflow.Result{res("a", 5), res("b", 3), res("c", 4), res("c", 8), res("e", 1)}
	assert.Equal(t, []WindowDelta{{w, "a", 0}, {w, "b", -2}, {w, "c", 3}, {w, "d", -5}}, CountDeltas(ref, got),
		"the last result counts; a missing window is minus the reference; a window the reference lacks is not one of its windows")
	assert.Empty(t, CountDeltas([]dataflow.Result{{Window: w, Key: "a", Value: dataflow.Float(1)}}, got), "only counts have deltas")
}

func TestWindowDeltaLine(t *testing.T) {
	rep := func(d ...int64) *Report {
		r := &Report{}
		for _, v := range d {
			r.Check.Full.Deltas = append(r.Check.Full.Deltas, WindowDelta{Delta: v})
		}
		return r
	}
	got := windowDeltaLine([]*Report{rep(0, -3, 9), rep(1, -1, 2), rep(0, -2, 4)})
	assert.Equal(t, metrics.Series{{T: 0, V: 0}, {T: 1, V: -2}, {T: 2, V: 4}}, got, "the median over repetitions, per window")
	assert.Empty(t, windowDeltaLine(nil))
}
