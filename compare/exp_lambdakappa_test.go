package compare

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// lkOutcome is an outcome whose every sub-claim holds: Lambda wrong then
// exact in 3 repetitions, 3 times Kappa's work, and reprocessing times
// that rise linearly with exact tables.
func lkOutcome() lambdaKappaOutcome {
	ms := time.Millisecond
	lam := lambdaRep{CrashFired: true, MaxShare: 0.4, FinalShare: 0, Exact: true, Work: 89_700}
	kap := func(d time.Duration, reprocessed int64) kappaRep {
		return kappaRep{Reprocess: d, Reprocessed: reprocessed, Table1: true, Table2: true, Work: 30_000}
	}
	return lambdaKappaOutcome{
		Lambda:        []lambdaRep{lam, lam, lam},
		CompareLength: 20_000,
		Kappa: map[int64][]kappaRep{
			10_000: {kap(5*ms, 5000), kap(6*ms, 5000), kap(5*ms, 5000)},
			20_000: {kap(10*ms, 10_000), kap(11*ms, 10_000), kap(9*ms, 10_000)},
			40_000: {kap(20*ms, 20_000), kap(22*ms, 20_000), kap(19*ms, 20_000)},
		},
	}
}

func TestVerdictLambdaKappa(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(o *lambdaKappaOutcome)
		want   VerdictKind
		says   string
	}{
		{"every sub-claim holds", func(*lambdaKappaOutcome) {}, Holds, "2.99 [2.99-2.99] times the records"},
		// (a) served answer
		{"lambda ends inexact", func(o *lambdaKappaOutcome) { o.Lambda[1].FinalShare = 0.1 }, DoesNotHold, "1 of 3 repetitions end with a served answer that differs"},
		{"lambda never wrong", func(o *lambdaKappaOutcome) {
			for i := range o.Lambda {
				o.Lambda[i].MaxShare = 0
			}
		}, DoesNotHold, "never wrong"},
		{"lambda crash did not fire", func(o *lambdaKappaOutcome) { o.Lambda[0].CrashFired = false }, Inconclusive, "the crash fired in 2"},
		{"lambda failed", func(o *lambdaKappaOutcome) { o.LambdaFailed = "hung (cut by its time limit)" }, Inconclusive, "a Lambda run failed: hung"},
		// (b) compute
		{"lambda cheaper", func(o *lambdaKappaOutcome) {
			for i := range o.Lambda {
				o.Lambda[i].Work = 20_000
			}
		}, DoesNotHold, "0.667 [0.667-0.667] times the records Kappa did on 20000 events: never more"},
		{"compute ratios disagree", func(o *lambdaKappaOutcome) { o.Lambda[0].Work = 20_000 }, Inconclusive, "the repetitions disagree"},
		{"no kappa at the lambda length", func(o *lambdaKappaOutcome) { o.CompareLength = 30_000 }, Inconclusive, "0 paired repetitions at 30000 events"},
		// (c) reprocessing
		{"table 2 inexact", func(o *lambdaKappaOutcome) { o.Kappa[20_000][1].Table2 = false }, DoesNotHold, "1 of 3 at 20000 events"},
		{"reprocessing flat", func(o *lambdaKappaOutcome) {
			for _, l := range []int64{10_000, 20_000, 40_000} {
				for i := range o.Kappa[l] {
					o.Kappa[l][i].Reprocess = 5 * time.Millisecond
				}
			}
		}, DoesNotHold, "does not take longer on the longest log"},
		{"reprocessing superlinear", func(o *lambdaKappaOutcome) {
			for i := range o.Kappa[40_000] {
				o.Kappa[40_000][i].Reprocess = 200 * time.Millisecond
			}
		}, Inconclusive, "more than a factor 3"},
		{"middle length not higher", func(o *lambdaKappaOutcome) {
			for i := range o.Kappa[20_000] {
				o.Kappa[20_000][i].Reprocess = 4 * time.Millisecond
			}
		}, Inconclusive, "does not rise at every length"},
		{"two lengths", func(o *lambdaKappaOutcome) { delete(o.Kappa, 40_000) }, Inconclusive, "2 log lengths measured, 3 needed"},
		{"too few repetitions", func(o *lambdaKappaOutcome) { o.Kappa[40_000] = o.Kappa[40_000][:2] }, Inconclusive, "2 repetitions at 40000 events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := lkOutcome()
			tc.change(&o)
			v := verdictLambdaKappa(o)
			assert.Equal(t, tc.want, v.Kind, "%s", v)
			assert.Contains(t, v.Explanation, tc.says)
		})
	}
}
