package compare

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJudgeTorture judges constructed checks under each rule, in every
// direction: what each rule allows and what it does not.
func TestJudgeTorture(t *testing.T) {
	exact := CheckResult{Windows: 10, Matching: 10}
	with := func(f func(*CheckResult)) CheckResult {
		c := exact
		f(&c)
		return c
	}
	lost := with(func(c *CheckResult) { c.Matching, c.Lost = 8, 2 })
	dup := with(func(c *CheckResult) { c.Matching, c.Duplicated = 9, 1 })
	extra := with(func(c *CheckResult) { c.Duplicated = 3 }) // windows the reference lacks
	mismatched := with(func(c *CheckResult) { c.Matching, c.Mismatched = 9, 1 })
	unverified := with(func(c *CheckResult) { c.DroppedLate, c.Late.Unverified = 1, 1 })
	verifiedLate := with(func(c *CheckResult) {
		c.DroppedLate, c.Late.Verified, c.LateWindows = 4, 4, 2
		c.Full = FullCheck{Windows: 10, Matching: 8, Lost: 2}
	})
	// Sessions under at-most-once: a lost record splits a session into
	// windows the reference lacks (Duplicated), but no count is above.
	split := with(func(c *CheckResult) {
		c.Matching, c.Lost, c.Duplicated = 9, 1, 2
		c.Full = FullCheck{Windows: 10, Matching: 9, Lost: 1, Duplicated: 2, Deltas: []WindowDelta{{Delta: 0}, {Delta: -3}}}
	})
	sessionAbove := with(func(c *CheckResult) {
		c.Matching, c.Duplicated = 9, 1
		c.Full = FullCheck{Windows: 10, Matching: 9, Duplicated: 1, Deltas: []WindowDelta{{Delta: 0}, {Delta: 1}}}
	})
	statelessLost := CheckResult{Stateless: true, Windows: 5, Matching: 4, Lost: 1}

	tests := []struct {
		name     string
		rule     Rule
		c        CheckResult
		sessions bool
		want     string // in the one violation; "" for none
	}{
		{"exact/exact", RuleExact, exact, false, ""},
		{"exact/verified late drops", RuleExact, verifiedLate, false, ""},
		{"exact/lost", RuleExact, lost, false, "not exact: 8/10 windows match, lost 2"},
		{"exact/duplicated", RuleExact, dup, false, "duplicated 1"},
		{"exact/extra windows", RuleExact, extra, false, "duplicated 3"},
		{"exact/mismatched", RuleExact, mismatched, false, "mismatched 1"},
		{"exact/unverified", RuleExact, unverified, false, "1 late drops not verified"},
		{"exact/stateless lost", RuleExact, statelessLost, false, "4/5 rows match"},

		{"never lose/exact", RuleNeverLose, exact, false, ""},
		{"never lose/duplicated", RuleNeverLose, dup, false, ""},
		{"never lose/extra windows", RuleNeverLose, extra, false, ""},
		{"never lose/mismatched (a duplicate in a mean)", RuleNeverLose, mismatched, false, ""},
		{"never lose/verified late drops", RuleNeverLose, verifiedLate, false, ""},
		{"never lose/lost", RuleNeverLose, lost, false, "lost 2 windows"},
		{"never lose/stateless lost", RuleNeverLose, statelessLost, false, "lost 1 rows"},
		{"never lose/unverified", RuleNeverLose, unverified, false, "not verified"},

		{"never duplicate/exact", RuleNeverDuplicate, exact, false, ""},
		{"never duplicate/lost", RuleNeverDuplicate, lost, false, ""},
		{"never duplicate/mismatched (a loss in a mean)", RuleNeverDuplicate, mismatched, false, ""},
		{"never duplicate/duplicated", RuleNeverDuplicate, dup, false, "duplicated 1 windows"},
		{"never duplicate/extra windows", RuleNeverDuplicate, extra, false, "duplicated 3 windows"},
		{"never duplicate/unverified", RuleNeverDuplicate, unverified, false, "not verified"},
		{"never duplicate/sessions split by a loss", RuleNeverDuplicate, split, true, ""},
		{"never duplicate/split read as windows", RuleNeverDuplicate, split, false, "duplicated 2 windows"},
		{"never duplicate/session counted above", RuleNeverDuplicate, sessionAbove, true, "1 sessions counted above"},
		{"never duplicate/sessions exact", RuleNeverDuplicate, exact, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := JudgeTorture(tc.rule, tc.c, tc.sessions)
			if tc.want == "" {
				assert.Empty(t, got, "JudgeTorture(%v, %+v)", tc.rule, tc.c)
				return
			}
			require.Len(t, got, 1, "JudgeTorture(%v, %+v) = %q", tc.rule, tc.c, got)
			assert.Contains(t, got[0], tc.want)
		})
	}
	// An unverified drop and a loss are two violations.
	both := lost
	both.Late.Unverified = 2
	assert.Len(t, JudgeTorture(RuleExact, both, false), 2)
	assert.NotEmpty(t, JudgeTorture(Rule(0), exact, false), "an unknown rule is never kept")
}

func TestTortureGuaranteeRules(t *testing.T) {
	want := map[TortureGuarantee]Rule{
		TortureAtMostOnce: RuleNeverDuplicate, TortureAtLeastOnce: RuleNeverLose,
		TortureExactlyOnce: RuleExact, TortureExactlyOnceUnaligned: RuleExact, TortureTrident: RuleExact, TortureDataflow: RuleExact, TortureMicrobatch: RuleExact,
	}
	require.Len(t, TortureGuarantees(), len(want))
	for _, g := range TortureGuarantees() {
		assert.Equal(t, want[g], g.Rule(), "%s.Rule()", g)
	}
}

func TestParseTortureGuarantees(t *testing.T) {
	for _, s := range []string{"", "all"} {
		gs, err := ParseTortureGuarantees(s)
		require.NoError(t, err)
		assert.Equal(t, TortureGuarantees(), gs, "ParseTortureGuarantees(%q)", s)
	}
	gs, err := ParseTortureGuarantees("exactly-once-unaligned, at-most-once,exactly-once-unaligned")
	require.NoError(t, err)
	assert.Equal(t, []TortureGuarantee{TortureExactlyOnceUnaligned, TortureAtMostOnce}, gs)
	_, err = ParseTortureGuarantees("exactly-once,maybe-once")
	fe, ok := errors.AsType[*FieldError](err)
	require.True(t, ok, "want a *FieldError, got %v", err)
	assert.Equal(t, "TortureGuarantee", fe.Field)
	assert.Contains(t, err.Error(), `got "maybe-once"`)
	assert.Contains(t, err.Error(), "microbatch-recompute")
}

// TestTortureScheduleDeterministic: the schedule is a function of the
// seed, trial i does not depend on how many are drawn, and another seed
// draws other trials.
func TestTortureScheduleDeterministic(t *testing.T) {
	gs := TortureGuarantees()
	a, b := TortureSchedule(7, 40, gs), TortureSchedule(7, 40, gs)
	require.Equal(t, a, b, "TortureSchedule(7, 40) twice")
	assert.Equal(t, a[:10], TortureSchedule(7, 10, gs), "the first 10 of 40 trials are the 10 of a schedule of 10")
	for i, tr := range a {
		assert.Equal(t, i, tr.Index)
		assert.Equal(t, gs[i%len(gs)], tr.Guarantee, "trial %d cycles through the guarantees", i)
		assert.Equal(t, tr, DrawTortureTrial(7, i, tr.Guarantee), "trial %d drawn alone", i)
	}
	c := TortureSchedule(8, 40, gs)
	same := 0
	for i := range a {
		if fmt.Sprint(a[i]) == fmt.Sprint(c[i]) {
			same++
		}
	}
	assert.Less(t, same, 4, "seeds 7 and 8 draw the same trials")
	assert.Empty(t, TortureSchedule(1, 5, nil))
}

// TestTortureScheduleCovers draws many trials: every trial is one the
// runtimes accept, and the schedule reaches every workload under every
// guarantee that can express it, every kind of crash, paced and filled
// input, slow steps, lost acks and late data.
func TestTortureScheduleCovers(t *testing.T) {
	gs := TortureGuarantees()
	seen := map[string]bool{}
	mark := func(format string, args ...any) { seen[fmt.Sprintf(format, args...)] = true }
	for _, tr := range TortureSchedule(3, 2000, gs) {
		name := tr.String()
		_, err := NewRunner(tr.Runtime, tr.Flags)
		require.NoError(t, err, name)
		require.NoError(t, tr.Data.Validate(), name)
		require.NoError(t, tr.Data.Skew.Validate(), name)
		_, err = LookupWorkload(tr.Workload)
		require.NoError(t, err, name)
		require.True(t, tortureExpressible(tr.Guarantee, tr.Flags.Mode, tr.Workload), name)
		require.Equal(t, tr.Data.Seed, tr.Options.Seed, "%s: fault injection is seeded as bench run seeds it", name)
		require.NotEmpty(t, tr.Options.CrashAfter, name)
		require.Len(t, tr.Crashes, len(tr.Options.CrashAfter), name)
		require.True(t, slices.IsSorted(tr.Options.CrashAfter), "%s: crash points in order", name)
		require.Positive(t, tr.Options.CrashAfter[0], name)
		require.LessOrEqual(t, tr.Data.Events, int64(8_000), "%s: trials stay small", name)
		switch tr.Guarantee {
		case TortureDataflow:
			require.Positive(t, tr.Flags.DataflowRetry, "%s: lost acks are retried within the trial", name)
		case TortureAtLeastOnce:
			require.Positive(t, tr.Flags.MessageTimeout, "%s: lost trees replay within the trial", name)
		default:
			require.Zero(t, tr.Options.DropAcks, "%s: only at-least-once and dataflow have acks to lose", name)
		}
		if tr.Data.Rate > 0 {
			require.LessOrEqual(t, float64(tr.Data.Events)/tr.Data.Rate, 1.01, "%s: paced for at most a second", name)
		}
		mark("%s/%s", tr.Guarantee, tr.Workload)
		for _, k := range tr.Crashes {
			mark("%s/%s", tr.Guarantee, k)
		}
		mark("%s/paced=%v", tr.Guarantee, tr.Data.Rate > 0)
		mark("%s/slow=%v", tr.Guarantee, tr.Options.Slow > 0)
		mark("%s/late=%v", tr.Guarantee, tr.Data.Skew.Late > 0)
		if tr.Options.DropAcks > 0 {
			mark("drop acks")
		}
		if tr.Flags.Mode != "" {
			mark("mode %s", tr.Flags.Mode)
		}
		if tr.Flags.Unaligned {
			mark("unaligned")
		}
	}
	for _, g := range gs {
		for _, lw := range LectureWorkloads() {
			if w := lw.Name; tortureExpressible(g, "event-time", w) {
				assert.True(t, seen[fmt.Sprintf("%s/%s", g, w)], "%s never runs %s", g, w)
			}
		}
		kinds := []CrashKind{CrashInWindow, CrashDuringRestore}
		if g.Rule() == RuleExact && g != TortureDataflow { // dataflow commits every bundle: no checkpoint to crash in
			kinds = append(kinds, CrashDuringCheckpoint)
		}
		for _, k := range kinds {
			assert.True(t, seen[fmt.Sprintf("%s/%s", g, k)], "%s never crashes %s", g, k)
		}
		for _, b := range []bool{false, true} {
			for _, what := range []string{"paced", "slow", "late"} {
				assert.True(t, seen[fmt.Sprintf("%s/%s=%v", g, what, b)], "%s never has %s=%v", g, what, b)
			}
		}
	}
	for _, k := range []string{"drop acks", "mode dstream", "mode event-time", "unaligned"} {
		assert.True(t, seen[k], "never %s", k)
	}
	assert.False(t, seen["microbatch-recompute/count-window"])
}

// TestRunTortureTrialCounts runs two small drawn trials: the outcome
// counts the faults that fired, and a trial whose model keeps its rule has
// no violation.
func TestRunTortureTrialCounts(t *testing.T) {
	for _, g := range []TortureGuarantee{TortureExactlyOnce, TortureMicrobatch} {
		tr := DrawTortureTrial(1, 0, g)
		tr.Data.Events = min(tr.Data.Events, 3_000)
		tr.Data.Rate = 0
		tr.Options.CrashAfter, tr.Crashes = []int64{50}, []CrashKind{CrashInWindow}
		o, err := RunTortureTrial(t.Context(), tr)
		require.NoError(t, err, tr.String())
		assert.Empty(t, o.Violations, "%s: %v", tr, o.Report.Check)
		assert.Equal(t, int64(1), o.Faults, "%s: counters %v", tr, o.Report.Outcome.Counters)
		assert.Equal(t, tr, o.Trial)
	}
	_, err := RunTortureTrial(t.Context(), TortureTrial{Workload: "nope", Runtime: "recordstream"})
	assert.Error(t, err)
}
