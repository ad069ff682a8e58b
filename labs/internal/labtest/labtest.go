// Package labtest holds what the labs' tests share: the built-in data they
// run on and a readable difference between a student's results and the
// exact answer of [dataflow.Reference].
//
// It is imported by the labs' tests only. It starts no goroutines and does
// no I/O beyond generating data in memory.
package labtest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// Log generates the built-in dataset name with cfg, in memory, and returns
// the closed log with the dataset's lookup tables.
func Log(ctx context.Context, name string, cfg datasets.Config) (*datasets.Log, map[string]*dataflow.Table, error) {
	return datasets.Generate(ctx, name, cfg)
}

// maxExamples is how many differing rows [Diff] prints of each kind.
const maxExamples = 5

// Diff compares got with want as multisets of results (order does not
// matter; neither slice is changed) and returns "" when they are equal, or
// a short report: how many rows are missing from got, how many are extra,
// and the first few of each. Values compare with [dataflow.Value.ApproxEqual]
// (floats to 1e-9 relative), so a float mean computed in another order
// still matches.
func Diff(want, got []dataflow.Result) string {
	w, g := slices.Clone(want), slices.Clone(got)
	dataflow.SortResults(w)
	dataflow.SortResults(g)
	var missing, extra []dataflow.Result
	i, j := 0, 0
	for i < len(w) && j < len(g) {
		switch c := dataflow.CompareResults(w[i], g[j]); {
		case Same(w[i], g[j]):
			i++
			j++
		case c < 0:
			missing = append(missing, w[i])
			i++
		default:
			extra = append(extra, g[j])
			j++
		}
	}
	missing = append(missing, w[i:]...)
	extra = append(extra, g[j:]...)
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows of the exact answer (of %d) are missing and %d rows (of %d) are not in it", len(missing), len(w), len(extra), len(g))
	list := func(what string, rs []dataflow.Result) {
		for k, r := range rs {
			if k == maxExamples {
				fmt.Fprintf(&b, "\n  ... and %d more %s", len(rs)-k, what)
				break
			}
			fmt.Fprintf(&b, "\n  %s: %s", what, Row(r))
		}
	}
	list("missing", missing)
	list("extra", extra)
	return b.String()
}

// Same reports whether two results name the same window and key and hold
// the same values (floats to 1e-9 relative).
func Same(a, b dataflow.Result) bool {
	if a.Window != b.Window || a.Key != b.Key || !a.Value.ApproxEqual(b.Value) || len(a.Extra) != len(b.Extra) {
		return false
	}
	for i := range a.Extra {
		if !a.Extra[i].ApproxEqual(b.Extra[i]) {
			return false
		}
	}
	return true
}

// Row renders one result for a message: window, key, value and extras.
func Row(r dataflow.Result) string {
	var b strings.Builder
	if r.Window != (dataflow.Window{}) {
		fmt.Fprintf(&b, "%v ", r.Window)
	}
	fmt.Fprintf(&b, "key=%q value=%v", r.Key, r.Value)
	for _, x := range r.Extra {
		fmt.Fprintf(&b, " %v", x)
	}
	return b.String()
}
