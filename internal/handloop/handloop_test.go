package handloop_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/handloop"
)

// withoutLoop names the workloads of compare's registry that have no hand
// loop yet, and why. Every other workload must have one (TestEveryWorkload).
func withoutLoop(name string) (string, bool) {
	if strings.HasPrefix(name, "nexmark") {
		return "the Nexmark queries are being added to compare now (issue 16 names their loops as a later piece)", true
	}
	return "", false
}

// TestEveryWorkloadHasALoop fails when compare registers a workload with no
// hand loop (other than those withoutLoop names), or a loop has no
// workload or reads another dataset.
func TestEveryWorkloadHasALoop(t *testing.T) {
	loops := map[string]handloop.Loop{}
	for _, l := range handloop.Loops() {
		loops[l.Workload] = l
	}
	for _, w := range compare.Workloads() {
		l, ok := loops[w.Name]
		if why, excused := withoutLoop(w.Name); excused {
			t.Logf("%s: no hand loop: %s", w.Name, why)
			continue
		}
		if assert.True(t, ok, "compare's workload %s has no hand loop in handloop.Loops()", w.Name) {
			assert.Equal(t, w.Dataset, l.Dataset, "the hand loop of %s reads dataset %s, the workload %s", w.Name, l.Dataset, w.Dataset)
		}
		delete(loops, w.Name)
	}
	for name := range loops {
		t.Errorf("hand loop %s has no workload in compare.Workloads()", name)
	}
}

// testCase is one input a hand loop is checked on.
type testCase struct {
	name string
	spec compare.DataSpec
}

// testCases returns the inputs workload w's loop is checked on: seeds 1 to
// 3 of the default disorder, in order on one partition (seed 4), and with
// late records on three partitions (seed 5) (which the batch answer counts like any other), each large
// enough for a non-empty answer. count-window needs 100 transactions of
// one card, so a million events (100 per card): one seed here, and several
// seeds of a few cards in TestCountWindowFewCards.
func testCases(w *compare.Workload) []testCase {
	if w.Name == "count-window" {
		return []testCase{{"default/seed=1", compare.DataSpec{Events: 1_000_000, Seed: 1}}}
	}
	events := int64(20_000)
	switch w.Name {
	case "fraud", "hashtag-topn", "hashtag-approx-topn":
		events = 40_000
	}
	late := datasets.Skew{Delay: 2 * time.Second, OutOfOrder: 0.1, Late: 0.05, LateDelay: 40 * time.Second}
	cs := []testCase{
		{"in-order-1-partition/seed=4", compare.DataSpec{Events: events, Seed: 4, InOrder: true, Partitions: 1}},
		{"late-3-partitions/seed=5", compare.DataSpec{Events: events, Seed: 5, Partitions: 3, Skew: late}},
	}
	for seed := uint64(1); seed <= 3; seed++ {
		cs = append(cs, testCase{fmt.Sprintf("default/seed=%d", seed), compare.DataSpec{Events: events, Seed: seed}})
	}
	return cs
}

// TestLoopsMatchReference checks each hand loop's answer against
// dataflow.Reference of the workload's pipeline on the same log
// (testCases), result for result.
func TestLoopsMatchReference(t *testing.T) {
	for _, w := range compare.Workloads() {
		if _, excused := withoutLoop(w.Name); excused {
			continue
		}
		loop, err := handloop.Lookup(w.Name)
		require.NoError(t, err)
		t.Run(w.Name, func(t *testing.T) {
			for _, tc := range testCases(w) {
				t.Run(tc.name, func(t *testing.T) {
					log, tables, err := compare.LoadData(context.Background(), w, tc.spec)
					require.NoError(t, err)
					requireMatch(t, w, loop, log, tables)
				})
			}
		})
	}
}

// requireMatch runs loop and the reference of w's pipeline on log and
// requires equal, non-empty answers.
func requireMatch(t *testing.T, w *compare.Workload, loop handloop.Loop, log *datasets.Log, tables map[string]*dataflow.Table) {
	t.Helper()
	p, err := w.Pipeline(tables)
	require.NoError(t, err)
	want, err := dataflow.Reference(p, log.All(), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, want, "the reference answer of %s on %d events is empty: the test would check nothing", w.Name, log.Len())
	ans, err := loop.Run(log, tables)
	require.NoError(t, err)
	got := ans.Results()
	dataflow.SortResults(got)
	assert.Equal(t, len(got), ans.Len(), "Len() and len(Results())")
	require.Equal(t, len(want), len(got), "results of the hand loop of %s and of the reference", w.Name)
	for i := range want {
		require.Equal(t, want[i], got[i], "result %d of %s: reference, hand loop", i, w.Name)
	}
}

// TestCountWindowFewCards checks the count-window loop on transactions of
// a few cards (so that many count windows fill in a small log), over
// several seeds and partition counts.
func TestCountWindowFewCards(t *testing.T) {
	w, err := compare.LookupWorkload("count-window")
	require.NoError(t, err)
	loop, err := handloop.Lookup("count-window")
	require.NoError(t, err)
	gen := mustGen(t, "transactions")
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			parts := int(seed)
			log, err := datasets.NewLog(datasets.LogConfig{Schema: gen.Schema(), Partitions: parts, ChunkRows: 1000})
			require.NoError(t, err)
			app := log.Appender()
			const cards = 17
			for i := range 5000 {
				card := r.IntN(cards)
				row := dataflow.Row{dataflow.Str(fmt.Sprintf("card-%02d", card)), dataflow.Str("shop"),
					dataflow.Int(r.Int64N(20_000) - 100), dataflow.Str("US"), dataflow.Timestamp(dataflow.Time(1_000_000 + i*5))}
				app.AppendRow(card%parts, int64(i)*1000, row)
			}
			require.NoError(t, app.Flush())
			log.Close()
			requireMatch(t, w, loop, log, nil)
		})
	}
}

// TestLoopsRefuseBadInput checks that a loop given the wrong input says
// what is wrong: another dataset's log, a log still filling, no lookup
// table.
func TestLoopsRefuseBadInput(t *testing.T) {
	ctx := context.Background()
	iot, _, err := datasets.Generate(ctx, "iot", datasets.Config{Events: 100, Seed: 1})
	require.NoError(t, err)
	for _, l := range handloop.Loops() {
		if l.Dataset == "iot" {
			continue
		}
		_, err := l.Run(iot, nil)
		require.Error(t, err, "%s on an iot log", l.Workload)
		assert.Contains(t, err.Error(), "needs a", "%s on an iot log: %v", l.Workload, err)
	}

	open, err := datasets.NewLogFor(mustGen(t, "iot"), datasets.Config{Events: 10})
	require.NoError(t, err)
	loop, err := handloop.Lookup("iot-sliding")
	require.NoError(t, err)
	_, err = loop.Run(open, nil)
	require.ErrorContains(t, err, "still open")

	ysbLog, _, err := datasets.Generate(ctx, "ysb", datasets.Config{Events: 100, Seed: 1})
	require.NoError(t, err)
	loop, err = handloop.Lookup("ysb")
	require.NoError(t, err)
	_, err = loop.Run(ysbLog, map[string]*dataflow.Table{})
	require.ErrorContains(t, err, "campaigns table")

	_, err = handloop.Lookup("nope")
	require.ErrorIs(t, err, handloop.ErrNoLoop)
}

func mustGen(t *testing.T, name string) datasets.Generator {
	t.Helper()
	g, err := datasets.Lookup(name)
	require.NoError(t, err)
	return g
}

// TestLoopsAllocateLittlePerRecord checks that no loop allocates per
// record: going from n to 4n events adds fewer than one allocation per 100
// added events (the growth of output slices and of per-window state, never
// a record's own).
func TestLoopsAllocateLittlePerRecord(t *testing.T) {
	const n = 20_000
	for _, w := range compare.Workloads() {
		if _, excused := withoutLoop(w.Name); excused {
			continue
		}
		loop, err := handloop.Lookup(w.Name)
		require.NoError(t, err)
		t.Run(w.Name, func(t *testing.T) {
			allocs := func(events int64) float64 {
				log, tables, err := compare.LoadData(context.Background(), w, compare.DataSpec{Events: events, Seed: 1})
				require.NoError(t, err)
				return testing.AllocsPerRun(2, func() {
					if _, err := loop.Run(log, tables); err != nil {
						t.Fatal(err)
					}
				})
			}
			small, large := allocs(n), allocs(4*n)
			assert.Less(t, (large-small)/(3*n), 0.01, "%s: %v allocations on %d events, %v on %d", w.Name, small, n, large, 4*n)
		})
	}
}
