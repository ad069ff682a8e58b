package compare

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/weirlab/weir/internal/metrics"
)

// lambdaKappaExperiment is the lambda-vs-kappa experiment's specification.
func lambdaKappaExperiment() *Experiment {
	return &Experiment{
		Name:      "lambda-vs-kappa",
		Claim:     "L3",
		Statement: "The Lambda architecture runs a fast, approximate streaming layer beside a slow, exact batch layer. Its critique (Kreps 2014) replaces the batch layer with a replay of the log.",
		Rule: "Three sub-claims, the worst decides. (a) Lambda (speed layer recordstream at-most-once, crashed once; batch layer the reference every period): holds when in every repetition the crash fired, the served answer differed from the exact one in a share of complete windows above 0 at some time and in none at the end, and the final served answer matches the reference; does not hold when a repetition ends inexact, or no repetition was ever wrong; inconclusive otherwise. " +
			"(b) compute: Lambda's records processed (speed + batch layers) over Kappa's (jobs 1 and 2) on a log of the same length, paired by repetition: holds when every ratio is above 1, does not hold when none is, inconclusive otherwise or when a final answer is inexact. " +
			"(c) Kappa's reprocessing time (job 2's start to catch-up) at 3 or more log lengths: does not hold when a table (job 2's against the changed pipeline's reference, job 1's against the old one's over what it read) is inexact or the median time at the longest log is not above the shortest's; holds when the medians rise with every length and the time per reprocessed record varies by at most a factor 3 across lengths (roughly linear); inconclusive otherwise.",
		Published: "No paper measures either architecture (models.md §4): Marz (2011) describes the batch layer recomputing from scratch and the speed layer's errors as transient; Kreps (2014) describes reprocessing as a second job from the log's start, with compute doubled while it runs [S, wording unverified].",
		run:       runLambdaKappa,
	}
}

// ---- lambda-vs-kappa (L3) ----

// lambdaRep is one Lambda repetition's figures.
type lambdaRep struct {
	CrashFired bool
	// MaxShare and FinalShare are the served answer's share of differing
	// complete windows: the largest over the run and the last.
	MaxShare, FinalShare float64
	// Exact: the final served answer matches the reference.
	Exact bool
	// Work is the records both layers processed.
	Work int64
}

// kappaRep is one Kappa repetition's figures.
type kappaRep struct {
	Reprocess time.Duration
	// Reprocessed is the log's length when job 2 started: what it had to
	// catch up on.
	Reprocessed int64
	// Table1 and Table2 say each table matches its reference.
	Table1, Table2 bool
	// Work is the records both jobs processed.
	Work int64
}

// lambdaKappaOutcome is what the verdict reads.
type lambdaKappaOutcome struct {
	Lambda       []lambdaRep
	LambdaFailed string
	// Kappa holds the repetitions per log length (events).
	Kappa       map[int64][]kappaRep
	KappaFailed string
	// CompareLength is the log length of the Lambda runs, one of Kappa's.
	CompareLength int64
}

// lambdaKappaSetup is the experiment's size.
type lambdaKappaSetup struct {
	lambdaEvents int64
	lambdaRate   float64
	period       time.Duration
	crash        int64
	kappaLengths []int64
	kappaRate    float64
}

func lambdaKappaSize(quick bool) lambdaKappaSetup {
	if quick {
		return lambdaKappaSetup{lambdaEvents: 40_000, lambdaRate: 40_000, period: 500 * time.Millisecond, crash: 1500,
			kappaLengths: []int64{40_000, 80_000, 160_000}, kappaRate: 100_000}
	}
	return lambdaKappaSetup{lambdaEvents: 80_000, lambdaRate: 40_000, period: 500 * time.Millisecond, crash: 1500,
		kappaLengths: []int64{40_000, 80_000, 160_000, 320_000}, kappaRate: 100_000}
}

// kappaReprocessAt is the share of the log after which the experiment's
// Kappa runs start reprocessing: late, so that the catch-up, not the
// job's start, dominates the time measured.
const kappaReprocessAt = 0.9

func runLambdaKappa(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	sz := lambdaKappaSize(quick)
	n := reps(quick)
	res := &ExperimentResult{Table: Table{Columns: []string{"architecture", "log (events)", "repetitions", "crashes fired",
		"served differing share, worst", "served differing share, end", "final answer exact", "records processed", "reprocessing time (ms)", "reprocessed records", "tables exact (job 1, job 2)"}}}
	// YSB with 200 ms windows and a 100 ms bound, so that windows close
	// during the run (event time follows the paced clock); in-order data,
	// so that the speed layer's errors are the crash's.
	w, err := Overrides{Window: 200 * time.Millisecond, WatermarkBound: 100 * time.Millisecond}.Workload(mustWorkload("ysb"))
	if err != nil {
		res.Notes = append(res.Notes, "workload: "+err.Error())
		res.Verdict = verdictLambdaKappa(lambdaKappaOutcome{LambdaFailed: err.Error(), KappaFailed: err.Error()})
		return res
	}
	o := lambdaKappaOutcome{Kappa: map[int64][]kappaRep{}, CompareLength: sz.lambdaEvents}
	distFig := Series{Name: "served-distance", Title: fmt.Sprintf("Lambda: share of complete windows the served answer gets wrong (speed layer crashed after %d records, batch every %v)", sz.crash, sz.period),
		XLabel: "time since start (s)", YLabel: "share of complete windows differing", XScale: ScaleLinear, YScale: ScaleLinear}
	lambda, err := NewArchitecture(ArchConfig{Architecture: "lambda", BatchPeriod: sz.period})
	if err != nil {
		o.LambdaFailed = errText(err)
	}
	for i := range n {
		if lambda == nil {
			break
		}
		rep, err := lambda.Run(ctx, w, DataSpec{Events: sz.lambdaEvents, Seed: 1, Rate: sz.lambdaRate, InOrder: true}, Options{CrashAfter: []int64{sz.crash}, Seed: 1}, nil)
		if err != nil {
			o.LambdaFailed = trialStatus(err)
			break
		}
		r := lambdaRep{CrashFired: rep.Summary.Crashes > 0, Exact: rep.Check.OK(), Work: rep.Work["speed"] + rep.Work["batch"]}
		var line metrics.Series
		for _, s := range rep.Served {
			r.MaxShare = max(r.MaxShare, s.Share())
			line = append(line, metrics.Point{T: s.T.Seconds(), V: s.Share()})
		}
		if k := len(rep.Served); k > 0 {
			r.FinalShare = rep.Served[k-1].Share()
		}
		distFig.Lines = append(distFig.Lines, Line{Label: fmt.Sprintf("repetition %d", i+1), Points: line})
		sayf(progress, "  lambda %d: worst share %.3g, final %.3g, %d records processed", i+1, r.MaxShare, r.FinalShare, r.Work)
		o.Lambda = append(o.Lambda, r)
	}
	if len(o.Lambda) > 0 {
		var fired, exact int
		for _, r := range o.Lambda {
			fired += b2i(r.CrashFired)
			exact += b2i(r.Exact)
		}
		res.Table.add(lambda.Name(), sz.lambdaEvents, len(o.Lambda), fired,
			spreadOf(figureOf(o.Lambda, func(r lambdaRep) float64 { return r.MaxShare })).String(),
			spreadOf(figureOf(o.Lambda, func(r lambdaRep) float64 { return r.FinalShare })).String(),
			fmt.Sprintf("%d of %d", exact, len(o.Lambda)),
			spreadOf(figureOf(o.Lambda, func(r lambdaRep) float64 { return float64(r.Work) })).String(), "-", "-", "-")
	}
	reproFig := Series{Name: "reprocessing-time", Title: fmt.Sprintf("Kappa: reprocessing time against log length (job 2 from offset 0 at %.0f%% of the log, %.0f events/s)", 100*kappaReprocessAt, sz.kappaRate),
		XLabel: "log length (events)", YLabel: "reprocessing time (ms)", XScale: ScaleLinear, YScale: ScaleLinear}
	kappa, err := NewArchitecture(ArchConfig{Architecture: "kappa", Change: Overrides{Window: 400 * time.Millisecond}, ReprocessAt: kappaReprocessAt})
	if err != nil {
		o.KappaFailed = errText(err)
	}
	med := Line{Label: "median"}
	for _, length := range sz.kappaLengths {
		if kappa == nil || o.KappaFailed != "" {
			break
		}
		for range n {
			rep, err := kappa.Run(ctx, w, DataSpec{Events: length, Seed: 1, Rate: sz.kappaRate}, Options{Seed: 1}, nil)
			if err != nil {
				o.KappaFailed = trialStatus(err)
				break
			}
			k := rep.Kappa
			o.Kappa[length] = append(o.Kappa[length], kappaRep{Reprocess: k.Reprocess, Reprocessed: k.StartRecords,
				Table1: k.Table1.OK(), Table2: k.Table2.OK(), Work: rep.Work["job1"] + rep.Work["job2"]})
		}
		rs := o.Kappa[length]
		if len(rs) == 0 {
			continue
		}
		ms := spreadOf(figureOf(rs, func(r kappaRep) float64 { return float64(r.Reprocess) / float64(time.Millisecond) }))
		med.Points = append(med.Points, metrics.Point{T: float64(length), V: ms.Median})
		exact := 0
		for _, r := range rs {
			exact += b2i(r.Table1 && r.Table2)
		}
		res.Table.add(kappa.Name(), length, len(rs), "-", "-", "-", "-",
			spreadOf(figureOf(rs, func(r kappaRep) float64 { return float64(r.Work) })).String(), ms.String(),
			spreadOf(figureOf(rs, func(r kappaRep) float64 { return float64(r.Reprocessed) })).String(), fmt.Sprintf("%d of %d", exact, len(rs)))
		sayf(progress, "  kappa at %d events: reprocessing %s ms", length, ms)
	}
	reproFig.Lines = append(reproFig.Lines, med)
	res.Series = append(res.Series, distFig, reproFig)
	res.Notes = append(res.Notes, "Lambda's two code paths: the speed layer and the batch layer are two runtimes implementing one query (recordstream and the reference); Kappa's two jobs are one runtime with two pipelines' settings (the changed window size).",
		"The speed view at a time holds the speed layer's final value of each window it had emitted by then (one firing per window: at-most-once, no allowed lateness).")
	res.Verdict = verdictLambdaKappa(o)
	return res
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// figureOf gathers f over rs.
func figureOf[T any](rs []T, f func(T) float64) []float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return v
}

func verdictLambdaKappa(o lambdaKappaOutcome) Verdict {
	return worstOf(
		subVerdict{"(a) Lambda approximate then exact", verdictLambdaServed(o)},
		subVerdict{"(b) Lambda's compute above Kappa's", verdictLambdaCompute(o)},
		subVerdict{"(c) Kappa's reprocessing grows with the log and is exact", verdictKappaReprocess(o)},
	)
}

func verdictLambdaServed(o lambdaKappaOutcome) Verdict {
	if o.LambdaFailed != "" {
		return inconclusive("a Lambda run failed: %s", o.LambdaFailed)
	}
	fired, wrong, inexact := 0, 0, 0
	worst := 0.0
	for _, r := range o.Lambda {
		fired += b2i(r.CrashFired)
		inexact += b2i(!r.Exact || r.FinalShare > 0)
		if r.CrashFired && r.MaxShare > 0 {
			wrong++
		}
		worst = max(worst, r.MaxShare)
	}
	n := len(o.Lambda)
	switch {
	case inexact > 0:
		return doesNotHold("%d of %d repetitions end with a served answer that differs from the reference", inexact, n)
	case n >= minReps && fired == n && wrong == 0:
		return doesNotHold("the speed layer crashed in all %d repetitions and the served answer was never wrong", n)
	case n < minReps || fired < n || wrong < n:
		return inconclusive("%d repetitions (%d needed), the crash fired in %d, the served answer was wrong at some time in %d", n, minReps, fired, wrong)
	}
	return holds("in all %d repetitions the crashed speed layer made the served answer wrong (worst share of complete windows %.3g) until a batch run covered its windows, and the final served answer equals the reference", n, worst)
}

func verdictLambdaCompute(o lambdaKappaOutcome) Verdict {
	ks := o.Kappa[o.CompareLength]
	k := min(len(o.Lambda), len(ks))
	var ratios []float64
	exact := true
	for i := range k {
		exact = exact && o.Lambda[i].Exact && ks[i].Table2
		if ks[i].Work > 0 {
			ratios = append(ratios, float64(o.Lambda[i].Work)/float64(ks[i].Work))
		}
	}
	s := spreadOf(ratios)
	switch {
	case o.LambdaFailed != "" || o.KappaFailed != "":
		return inconclusive("a run failed: %s", strings.Trim(o.LambdaFailed+"; "+o.KappaFailed, "; "))
	case !s.enough():
		return inconclusive("%d paired repetitions at %d events, %d needed", s.N, o.CompareLength, minReps)
	case !exact:
		return inconclusive("a final answer is inexact, so the two did not give the same answer (ratio %s)", s)
	case s.Min > 1:
		return holds("Lambda processed %s times the records Kappa did on %d events (median [range] over %d pairs)", s, o.CompareLength, s.N)
	case s.Max <= 1:
		return doesNotHold("Lambda processed %s times the records Kappa did on %d events: never more", s, o.CompareLength)
	}
	return inconclusive("Lambda processed %s times the records Kappa did on %d events: the repetitions disagree", s, o.CompareLength)
}

func verdictKappaReprocess(o lambdaKappaOutcome) Verdict {
	if o.KappaFailed != "" {
		return inconclusive("a Kappa run failed: %s", o.KappaFailed)
	}
	lengths := slices.Sorted(func(yield func(int64) bool) {
		for l := range o.Kappa {
			if !yield(l) {
				return
			}
		}
	})
	var inexact []string
	var meds, perRecord []float64
	var parts []string
	for _, l := range lengths {
		rs := o.Kappa[l]
		bad := 0
		for _, r := range rs {
			bad += b2i(!r.Table1 || !r.Table2)
		}
		if bad > 0 {
			inexact = append(inexact, fmt.Sprintf("%d of %d at %d events", bad, len(rs), l))
		}
		ms := spreadOf(figureOf(rs, func(r kappaRep) float64 { return float64(r.Reprocess) / float64(time.Millisecond) }))
		rec := spreadOf(figureOf(rs, func(r kappaRep) float64 { return float64(r.Reprocessed) }))
		meds = append(meds, ms.Median)
		if rec.Median > 0 {
			perRecord = append(perRecord, 1000*ms.Median/rec.Median) // µs per record
		}
		parts = append(parts, fmt.Sprintf("%d events: %s ms", l, ms))
	}
	figs := strings.Join(parts, ", ")
	switch {
	case len(inexact) > 0:
		return doesNotHold("a table differs from its reference: %s", strings.Join(inexact, "; "))
	case len(lengths) < 3:
		return inconclusive("%d log lengths measured, 3 needed (%s)", len(lengths), figs)
	}
	for _, l := range lengths {
		if len(o.Kappa[l]) < minReps {
			return inconclusive("%d repetitions at %d events, %d needed (%s)", len(o.Kappa[l]), l, minReps, figs)
		}
	}
	if meds[len(meds)-1] <= meds[0] {
		return doesNotHold("reprocessing does not take longer on the longest log than on the shortest (%s)", figs)
	}
	for i := 1; i < len(meds); i++ {
		if meds[i] <= meds[i-1] {
			return inconclusive("the median reprocessing time does not rise at every length (%s)", figs)
		}
	}
	lo, hi := slices.Min(perRecord), slices.Max(perRecord)
	if lo <= 0 || hi/lo > 3 {
		return inconclusive("reprocessing time rises with the log, but the time per reprocessed record varies %.3g to %.3g µs, more than a factor 3 (%s)", lo, hi, figs)
	}
	return holds("reprocessing time rises with the log's length, roughly linearly (%.3g to %.3g µs per reprocessed record; %s), and both tables equal their references in every repetition", lo, hi, figs)
}
