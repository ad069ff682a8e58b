package compare

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sp is a spread over the given repetitions.
func sp(v ...float64) spread { return spreadOf(v) }

// verdictCase is one constructed outcome and the verdict kind it must give;
// mention lists figures the explanation must quote.
type verdictCase struct {
	name    string
	verdict func() Verdict
	want    VerdictKind
	mention []string
}

func runVerdictCases(t *testing.T, cases []verdictCase) {
	t.Helper()
	seen := map[VerdictKind]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.verdict()
			assert.Equal(t, tc.want, v.Kind, "verdict = %v", v)
			assert.NotEmpty(t, v.Explanation)
			for _, m := range tc.mention {
				assert.Contains(t, v.Explanation, m, "the explanation quotes the figure")
			}
		})
		seen[tc.want] = true
	}
	for _, k := range []VerdictKind{Holds, DoesNotHold, Inconclusive} {
		assert.True(t, seen[k], "a case comes out %v", k)
	}
}

func TestSpread(t *testing.T) {
	s := sp(3, 1, 2)
	assert.Equal(t, spread{Median: 2, Min: 1, Max: 3, N: 3}, s)
	assert.Equal(t, "2 [1-3]", s.String())
	assert.InDelta(t, 2.5, sp(4, 1, 2, 3).Median, 1e-9, "even count: mean of the middle two")
	assert.Equal(t, "-", spread{}.String())
	assert.True(t, sp(1, 2, 3).below(sp(4, 5, 6)))
	assert.False(t, sp(1, 2, 5).below(sp(4, 5, 6)), "overlapping ranges are inside the spread")
	assert.False(t, spread{}.below(sp(1)), "nothing measured is below nothing")
	assert.True(t, sp(1, 2, 3).enough())
	assert.False(t, sp(1, 2).enough())
}

func TestVerdictJSON(t *testing.T) {
	for _, k := range []VerdictKind{Holds, DoesNotHold, Inconclusive} {
		b, err := json.Marshal(Verdict{k, "x"})
		require.NoError(t, err)
		var got Verdict
		require.NoError(t, json.Unmarshal(b, &got), "%s", b)
		assert.Equal(t, Verdict{k, "x"}, got)
	}
	var k VerdictKind
	assert.ErrorIs(t, k.UnmarshalText([]byte("maybe")), ErrVerdictKind)
	_, err := VerdictKind(7).MarshalText()
	assert.Error(t, err)
	assert.Equal(t, "does not hold: 3 < 4", Verdict{DoesNotHold, "3 < 4"}.String())
}

func TestVerdictSuperset(t *testing.T) {
	ok := runEnd{Exact: true}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict {
			return verdictSuperset(supersetOutcome{Runs: map[string]runEnd{"a on x": ok, "b on x": ok, "c on y": {Unsupported: "no sessions"}}})
		}, Holds, []string{"all 2 runs", "1 pairs"}},
		{"does not hold", func() Verdict {
			return verdictSuperset(supersetOutcome{Runs: map[string]runEnd{"a on x": ok, "b on x": {Check: "NO (lost 3)"}}})
		}, DoesNotHold, []string{"b on x: NO (lost 3)"}},
		{"inconclusive", func() Verdict {
			return verdictSuperset(supersetOutcome{Runs: map[string]runEnd{"a on x": ok, "b on x": {Failed: "hung (cut by its time limit)"}}})
		}, Inconclusive, []string{"b on x: hung"}},
	})
}

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

func TestVerdictWindows(t *testing.T) {
	const ds = "microbatch/dstream 2s"
	o := func(sessions runEnd, aligned runEnd) windowsOutcome {
		return windowsOutcome{DStream: ds, Cells: map[string]map[string]runEnd{
			windowsSessions: {ds: sessions},
			windowsCount:    {ds: {Unsupported: "DStreams have no count windows"}},
			windowsPT7:      {ds: {Unsupported: "7s is not a multiple of 2s"}},
			windowsAligned:  {ds: aligned},
		}}
	}
	refused := runEnd{Unsupported: "DStreams have no session windows"}
	exact := runEnd{Exact: true, Check: "yes (10/10 windows)"}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictWindows(o(refused, exact)) }, Holds, []string{`"DStreams have no session windows"`, `"7s is not a multiple of 2s"`, "yes (10/10 windows)"}},
		{"does not hold: sessions run", func() Verdict {
			return verdictWindows(o(runEnd{Exact: true, Check: "yes (4/4 windows)"}, exact))
		}, DoesNotHold, []string{windowsSessions + " (yes (4/4 windows))"}},
		{"inconclusive: the aligned control failed", func() Verdict {
			return verdictWindows(o(refused, runEnd{Failed: "error: boom"}))
		}, Inconclusive, []string{"error: boom"}},
	})
}

func TestVerdictBackpressure(t *testing.T) {
	o := func(none bpRun, budget bpRun) bpOutcome {
		return bpOutcome{Interval: 200 * time.Millisecond, Runs: map[string]bpRun{bpNone: none, bpBudget: budget, bpPID: {MaxDelayMs: sp(300, 400, 500), Reps: 3}}}
	}
	grown := bpRun{MaxDelayMs: sp(7000, 8000, 9000), Reps: 3}
	stopped := bpRun{MaxDelayMs: sp(900, 1000, 1100), BudgetStops: 3, Reps: 3}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictBackpressure(o(grown, stopped)) }, Holds, []string{"8000 [7000-9000]", "3 of 3", "400 [300-500] ms"}},
		{"does not hold: the delay never exceeded the interval", func() Verdict {
			return verdictBackpressure(o(bpRun{MaxDelayMs: sp(50, 60, 70), Reps: 3}, bpRun{MaxDelayMs: sp(50, 60, 70), Reps: 3}))
		}, DoesNotHold, []string{"60 [50-70]", "0 of 3"}},
		{"inconclusive: the budget stopped some runs only", func() Verdict {
			b := stopped
			b.BudgetStops = 1
			return verdictBackpressure(o(grown, b))
		}, Inconclusive, []string{"1 of 3"}},
		{"inconclusive: failed", func() Verdict {
			return verdictBackpressure(o(bpRun{Failed: "hung (cut by its time limit)", Reps: 1}, stopped))
		}, Inconclusive, []string{"hung"}},
	})
}

func TestVerdictLatency(t *testing.T) {
	o := func(rs, mb spread) latencyOutcome {
		return latencyOutcome{Stream: "rs", Batch: []string{"mb 1s"}, Workloads: []string{"grep"},
			P50Ms: map[latencyKey]spread{{"grep", "rs"}: rs, {"grep", "mb 1s"}: mb}, Failed: map[latencyKey]string{}}
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictLatency(o(sp(0.05, 0.06, 0.07), sp(450, 455, 460))) }, Holds, []string{"455 [450-460]", "floor 455"}},
		{"does not hold: micro-batches faster", func() Verdict { return verdictLatency(o(sp(500, 510, 520), sp(15, 20, 25))) }, DoesNotHold, []string{"20 [15-25]", "510 [500-520]"}},
		{"inconclusive: floor inside the spread", func() Verdict { return verdictLatency(o(sp(10, 50, 200), sp(40, 60, 80))) }, Inconclusive, []string{"inside the spread"}},
		{"inconclusive: failed", func() Verdict {
			x := o(sp(1, 1, 1), sp(2, 2, 2))
			x.Failed[latencyKey{"grep", "mb 1s"}] = "hung (cut by its time limit)"
			return verdictLatency(x)
		}, Inconclusive, []string{"grep on mb 1s: hung"}},
	})
}

func TestVerdictSnapshot(t *testing.T) {
	base := snapRun{Throughput: sp(100, 105, 110), Checkpoints: sp(0, 0, 0)}
	o := func(r snapRun) snapshotOutcome {
		return snapshotOutcome{Runs: map[string]snapRun{snapshotBase: base, "10ms": r, "10s": {Throughput: sp(100, 100, 100), Checkpoints: sp(0, 0, 0)}}}
	}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict {
			return verdictSnapshot(o(snapRun{Throughput: sp(98, 100, 104), Checkpoints: sp(40, 42, 45)}))
		}, Holds, []string{"42 [40-45] checkpoints", "95%", "10s (0 [0-0] checkpoints)"}},
		{"does not hold", func() Verdict {
			return verdictSnapshot(o(snapRun{Throughput: sp(50, 55, 60), Checkpoints: sp(40, 42, 45)}))
		}, DoesNotHold, []string{"52%"}},
		{"inconclusive: too few checkpoints", func() Verdict {
			return verdictSnapshot(o(snapRun{Throughput: sp(50, 55, 60), Checkpoints: sp(1, 2, 3)}))
		}, Inconclusive, []string{"no interval completed 10 checkpoints", "10ms (2 [1-3] checkpoints)"}},
		{"inconclusive: inside the spread", func() Verdict {
			return verdictSnapshot(o(snapRun{Throughput: sp(60, 85, 120), Checkpoints: sp(40, 42, 45)}))
		}, Inconclusive, []string{"inside the spread"}},
	})
}

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

// TestNoPretypedReasons guards the rule that explanations come from the
// figures: no string in the experiments or their verdicts gives a cause
// ("because ...") that no measurement checked.
func TestNoPretypedReasons(t *testing.T) {
	for _, file := range []string{"experiments.go", "verdicts.go", "verdict.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				v, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				assert.NotContains(t, strings.ToLower(v), "because", "%s: %s", file, v)
				assert.NotContains(t, v, "does not hold here", "%s: verdicts are built with doesNotHold", file)
			}
			return true
		})
	}
}

func TestLectureClaims(t *testing.T) {
	ids := map[string]bool{}
	majors := map[string]bool{}
	for _, c := range LectureClaims() {
		assert.False(t, ids[c.ID], "duplicate claim %s", c.ID)
		ids[c.ID] = true
		majors[strings.SplitN(c.ID, ".", 2)[0]] = true
		assert.NotEmpty(t, c.Statement, c.ID)
		assert.False(t, c.Pending != "" && c.Shown != "", "%s is either pending or shown", c.ID)
	}
	for i := 1; i <= 12; i++ {
		assert.True(t, majors["L"+strconv.Itoa(i)], "claim L%d of the lecture is listed", i)
	}
	for _, e := range Experiments() {
		assert.NotEmpty(t, e.Rule, "%s states its verdict rule", e.Name)
		for _, tok := range claimTokens(e.Claim) {
			assert.True(t, ids[tok] || majors[tok], "%s names claim %s, which LectureClaims lists", e.Name, tok)
			assert.Empty(t, func() string {
				for _, c := range LectureClaims() {
					if c.ID == tok {
						return c.Pending
					}
				}
				return ""
			}(), "%s measures %s, so it is not pending", e.Name, tok)
		}
	}
	for _, want := range []string{"L1", "L3", "L5.2", "L8", "L12"} {
		i := slices.IndexFunc(LectureClaims(), func(c LectureClaim) bool { return c.ID == want })
		require.GreaterOrEqual(t, i, 0, want)
		assert.Contains(t, LectureClaims()[i].Pending, "not yet measured", want)
	}
}
