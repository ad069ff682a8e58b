package compare

import (
	"maps"
	"slices"
)

// This file holds what the verdicts share. Each experiment's own verdict, a
// pure function over a typed outcome whose figures are keyed by trial label
// (CM6), sits in the experiment's file (exp_*.go) beside the run function
// that fills the outcome; the tests construct outcomes.

// runEnd is how one trial ended when only its exactness matters.
type runEnd struct {
	// Failed is why the trial did not finish ("" when it did).
	Failed string
	// Unsupported is the model's reason for refusing the pipeline.
	Unsupported string
	// Exact reports whether it matched the reference.
	Exact bool
	// Check is the check's one-line account, for explanations.
	Check string
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// failedTrials lists "label: reason" for every failed trial in ends.
func failedTrials(ends map[string]string) []string {
	return failedRuns(ends, func(e string) string { return e })
}

// failedRuns lists "label: how it failed" for every run that failed, in
// label order; failed returns "" for a run that finished.
func failedRuns[R any](runs map[string]R, failed func(R) string) []string {
	var out []string
	for _, k := range sortedKeys(runs) {
		if f := failed(runs[k]); f != "" {
			out = append(out, k+": "+f)
		}
	}
	return out
}
