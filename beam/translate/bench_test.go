package translate_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/beam/translate"
	"github.com/weirlab/weir/compare"
)

// BenchmarkRuntimes runs ysb, sessions and iot-sliding on Beam-on-Prism
// beside weir's microbatch and recordstream (at-most-once) over the same
// log, each run checked against the reference, and reports events/s (the
// runtime's own elapsed time, as bench run's summary). Run it once:
//
//	cd beam && GOMAXPROCS=2 go test -run '^$' -bench BenchmarkRuntimes -benchtime 1x ./translate/
func BenchmarkRuntimes(b *testing.B) {
	const events = 50_000
	for _, name := range []string{"ysb", "sessions", "iot-sliding"} {
		w, err := compare.LookupWorkload(name)
		require.NoError(b, err)
		d := compare.DataSpec{Events: events, Seed: 1}
		br := &translate.Runner{Beam: "prism", SessionsMergeTouching: true}
		br.Log = translate.SpecFor(w, d)
		log, tables, err := translate.OpenLog(b.Context(), br.Log)
		require.NoError(b, err)
		mb, err := compare.NewRunner("microbatch", compare.RuntimeFlags{})
		require.NoError(b, err)
		rs, err := compare.NewRunner("recordstream", compare.RuntimeFlags{Guarantee: "at-most-once"})
		require.NoError(b, err)
		for _, r := range []compare.Runner{br, mb, rs} {
			b.Run("workload="+name+"/runtime="+r.Name(), func(b *testing.B) {
				b.ReportAllocs()
				var perSec float64
				for b.Loop() {
					rep, err := compare.RunLog(b.Context(), w, r, log, tables, d, compare.Options{}, nil)
					require.NoError(b, err)
					require.True(b, rep.Check.OK(), "%s on %s: %v", name, r.Name(), rep.Check)
					perSec = float64(rep.Outcome.Events) / rep.Outcome.Elapsed.Seconds()
				}
				b.ReportMetric(perSec, "events/s")
			})
		}
	}
}
