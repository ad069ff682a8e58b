package translate_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/beam/translate"
	"github.com/weirlab/weir/compare"
)

func runPrism(t *testing.T, name string, d compare.DataSpec) *compare.Report {
	t.Helper()
	w, err := compare.LookupWorkload(name)
	require.NoError(t, err)
	rep, err := translate.RunWorkload(context.Background(), w, d, &translate.Runner{Beam: "prism"}, compare.Options{}, nil)
	require.NoError(t, err, "run %s on prism", name)
	return rep
}

func TestPrismYSB(t *testing.T) {
	rep := runPrism(t, "ysb", compare.DataSpec{Events: 20_000, Seed: 1})
	require.True(t, rep.Check.OK(), "ysb on prism: %v", rep.Check)
	require.NotZero(t, rep.Check.Windows)
}
