package translate_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/beam/translate"
	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
)

func runPrism(t *testing.T, name string, d compare.DataSpec) *compare.Report {
	t.Helper()
	w := workload(t, name)
	rep, err := translate.RunWorkload(context.Background(), w, d, &translate.Runner{Beam: "prism", SessionsMergeTouching: true}, compare.Options{}, nil)
	require.NoError(t, err, "run %s on prism", name)
	return rep
}

func TestPrismYSB(t *testing.T) {
	rep := runPrism(t, "ysb", compare.DataSpec{Events: 20_000, Seed: 1})
	require.True(t, rep.Check.OK(), "ysb on prism: %v", rep.Check)
	require.NotZero(t, rep.Check.Windows)
}

// workload returns the named workload of compare, or "count-window-10":
// count-window with windows of 10 transactions every 5, so 50k
// transactions fill (and overlap) windows.
func workload(t *testing.T, name string) *compare.Workload {
	t.Helper()
	if name == "count-window-10" {
		w, err := compare.LookupWorkload("count-window")
		require.NoError(t, err)
		build := w.Pipeline
		w.Name = name
		w.Pipeline = func(tables map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
			p, err := build(tables)
			if err != nil {
				return nil, err
			}
			p.Agg.Window = dataflow.CountWindows(10, 5)
			return p, p.Validate()
		}
		return w
	}
	w, err := compare.LookupWorkload(name)
	require.NoError(t, err)
	return w
}
