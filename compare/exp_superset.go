package compare

import (
	"context"
	"strings"
)

// supersetExperiment is the superset experiment's specification.
func supersetExperiment() *Experiment {
	return &Experiment{
		Name:      "superset",
		Claim:     "L2",
		Statement: "A well-designed streaming system is a superset of batch: on bounded input it gives exactly the batch answer.",
		Rule:      "Holds when every run a model can express equals the reference; does not hold when one differs; inconclusive when a run failed.",
		Published: "No paper measures this directly; the YSB generator's `--check` mode recomputes the expected count per window and diffs it against Redis, the same kind of oracle as our reference check (papers.md §1).",
		run:       runSuperset,
	}
}

// ---- superset (L2) ----

func runSuperset(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"workload", "runtime", "events", "events/s", "matches reference"}}}
	d := DataSpec{Seed: 1, Events: pick[int64](quick, 40_000, 0)}
	rows, err := RunSuite(ctx, DefaultSuite(), LectureWorkloads(), d, Options{Seed: 1}, nil, func(r SuiteRow) {
		sayf(progress, "  %s on %s", r.Workload, r.Runtime)
	})
	if err != nil {
		res.Notes = append(res.Notes, "suite stopped: "+err.Error())
	}
	o := supersetOutcome{Runs: map[string]runEnd{}}
	for _, r := range rows {
		key := r.Workload + " on " + r.Runtime
		if r.Err != nil {
			res.Table.add(r.Workload, r.Runtime, "-", "-", errText(r.Err))
			if r.Unsupported() {
				o.Runs[key] = runEnd{Unsupported: errText(r.Err)}
			} else {
				o.Runs[key] = runEnd{Failed: trialStatus(r.Err)}
			}
			continue
		}
		s := r.Report.Summary
		res.Table.add(r.Workload, r.Runtime, s.Events, s.EventsPerSecond, r.Report.Check.String())
		o.Runs[key] = runEnd{Exact: r.Report.Check.OK(), Check: r.Report.Check.String()}
	}
	res.Verdict = verdictSuperset(o)
	return res
}

// ---- L2 superset ----

// supersetOutcome maps "workload on runtime" to how its run ended.
type supersetOutcome struct {
	Runs map[string]runEnd
}

func verdictSuperset(o supersetOutcome) Verdict {
	var failed, differ []string
	exact, unsupported := 0, 0
	for _, k := range sortedKeys(o.Runs) {
		r := o.Runs[k]
		switch {
		case r.Failed != "":
			failed = append(failed, k+": "+r.Failed)
		case r.Unsupported != "":
			unsupported++
		case r.Exact:
			exact++
		default:
			differ = append(differ, k+": "+r.Check)
		}
	}
	switch {
	case len(differ) > 0:
		return doesNotHold("%d of %d expressible runs differ from the reference answer: %s", len(differ), len(differ)+exact, strings.Join(differ, "; "))
	case len(failed) > 0 || exact == 0:
		return inconclusive("%d runs failed (%s); %d ran and were exact", len(failed), strings.Join(failed, "; "), exact)
	}
	return holds("all %d runs the models can express equal the reference (batch) answer exactly; %d pairs are outside a model (unsupported, with the model's reason)", exact, unsupported)
}
