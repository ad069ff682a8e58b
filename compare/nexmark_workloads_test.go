package compare

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// TestNexmarkWorkloads checks each Nexmark query is listed, described,
// valid, and has the shape of Beam's query it stands for.
func TestNexmarkWorkloads(t *testing.T) {
	names := NexmarkQueries()
	require.Equal(t, []string{"nexmark-q0", "nexmark-q1", "nexmark-q2", "nexmark-q3", "nexmark-q4", "nexmark-q5",
		"nexmark-q7", "nexmark-q8", "nexmark-q11", "nexmark-q12"}, names)
	all := WorkloadNames()
	pipes := map[string]*dataflow.Pipeline{}
	for _, name := range names {
		assert.Contains(t, all, name, "Workloads() lists %s", name)
		w, err := LookupWorkload(name)
		require.NoError(t, err)
		assert.Equal(t, "nexmark", w.Dataset, name)
		assert.Equal(t, float64(NexmarkEventRate), w.EventRate, name)
		assert.Contains(t, w.Description, "Nexmark "+name[len("nexmark-"):]+" ", "description of %s names the query", name)
		p, err := w.Pipeline(nil)
		require.NoError(t, err, "%s builds and validates", name)
		assert.Equal(t, name, p.Name)
		pipes[name] = p
	}
	stateless := []string{"nexmark-q0", "nexmark-q1", "nexmark-q2", "nexmark-q3", "nexmark-q8"}
	for _, n := range stateless {
		assert.Nil(t, pipes[n].Agg, "%s emits rows", n)
	}
	q3 := pipes["nexmark-q3"]
	require.NotNil(t, q3.Join)
	assert.False(t, q3.Join.Windowed(), "q3 is an incremental join")
	q4 := pipes["nexmark-q4"]
	require.NotNil(t, q4.Join)
	assert.True(t, q4.Join.Windowed(), "q4 joins per window")
	require.NotNil(t, q4.Then, "q4 averages the winning prices per category")
	assert.Equal(t, []string{"category"}, q4.Then.Key)
	q8 := pipes["nexmark-q8"]
	require.NotNil(t, q8.Join)
	assert.Equal(t, dataflow.FixedWindows(nexmarkWindow), q8.Join.Window)
	assert.Equal(t, dataflow.SlidingWindows(nexmarkWindow, nexmarkSlide), pipes["nexmark-q5"].Agg.Window)
	assert.Equal(t, dataflow.AggMaxBy, pipes["nexmark-q7"].Agg.Aggs[1].Kind)
	assert.Equal(t, dataflow.WindowSession, pipes["nexmark-q11"].Agg.Window.Kind)
	assert.Equal(t, dataflow.ProcessingTime, pipes["nexmark-q12"].Agg.Domain)

	// The q1 conversion is a float product, the q2 selection a modulus.
	q1s, err := pipes["nexmark-q1"].Last()
	require.NoError(t, err)
	f, _, err := q1s.Lookup("price_eur")
	require.NoError(t, err)
	assert.Equal(t, dataflow.KindFloat64, f.Kind)
}

// TestNexmarkCheckOptions checks the check reads q4's results as the
// regroup's (a mean, not a count) and q11's as counts.
func TestNexmarkCheckOptions(t *testing.T) {
	for name, want := range map[string]CheckOptions{
		"nexmark-q0":  {Stateless: true},
		"nexmark-q4":  {},
		"nexmark-q11": {CountValued: true},
		"nexmark-q12": {CountValued: true},
	} {
		w, err := LookupWorkload(name)
		require.NoError(t, err)
		p, err := w.Pipeline(nil)
		require.NoError(t, err)
		assert.Equal(t, want, CheckOptionsFor(p, 0), name)
	}
	w, err := LookupWorkload("nexmark-q4")
	require.NoError(t, err)
	p, err := w.Pipeline(nil)
	require.NoError(t, err)
	assert.Equal(t, []string(nil), ExtraColumns(p), "q4's regroup has one aggregate")
}

// TestNexmarkOnEveryConfiguration runs every Nexmark query on every
// configuration of the default suite and asserts, per configuration,
// what its runtime answered: a refusal with the model's reason, or
// results equal to the reference. Nothing is taken on a runtime's word:
// which of the two holds comes from the run, and a run that neither
// refuses nor matches fails. The reference always runs, and the
// stateless single-stream queries run everywhere.
func TestNexmarkOnEveryConfiguration(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 80 small runs")
	}
	var ws []*Workload
	for _, n := range NexmarkQueries() {
		w, err := LookupWorkload(n)
		require.NoError(t, err)
		ws = append(ws, w)
	}
	// 20,000 events at 2,000 per second: 10 s of event time, two fixed
	// windows, a few sliding ones, sessions cut by the gap.
	d := DataSpec{Events: 20_000, EventRate: 2_000, Seed: 3}
	rows, err := RunSuite(context.Background(), DefaultSuite(), ws, d, Options{}, nil, nil)
	require.NoError(t, err)
	require.Len(t, rows, len(ws)*len(DefaultSuite()))
	mustRun := map[string]bool{"nexmark-q0": true, "nexmark-q1": true, "nexmark-q2": true}
	ran := map[string]int{}
	for _, r := range rows {
		label := fmt.Sprintf("%s on %s", r.Workload, r.Runtime)
		var u *dataflow.UnsupportedError
		switch {
		case errors.As(r.Err, &u):
			t.Logf("%s: refused: %s", label, u.Reason)
			assert.NotEmpty(t, u.Reason, "%s refuses with a reason", label)
			assert.NotEqual(t, "reference", r.Runtime, "the reference evaluates every pipeline")
			assert.False(t, mustRun[r.Workload] && r.Runtime != "recordstream/trident", "%s refused a stateless selection: %v", label, u)
		case r.Err != nil:
			t.Errorf("%s failed: %v", label, r.Err)
		default:
			ran[r.Workload]++
			assert.True(t, r.Report.Check.OK(), "%s: %s %v", label, r.Report.Check, r.Report.Check.Examples)
			assert.Positive(t, r.Report.Check.Windows, "%s: the reference has results to compare", label)
		}
	}
	for _, w := range ws {
		assert.Positive(t, ran[w.Name], "%s ran somewhere", w.Name)
	}
}
