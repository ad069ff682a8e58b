package dataflow_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// The building blocks of the hashtag workloads, as their docs state them:
// Explode keeps repeated tokens, and top-N renders "value=count,..." by count
// descending, ties by value ascending.

// TestTopNTieOrder pins the tie order with equal counts, including which of
// several values tied at the N-th count are listed, whatever the order the
// values arrive in and however partial aggregates are merged.
func TestTopNTieOrder(t *testing.T) {
	// #z 3 times; #b, #a, #B and #c twice each. Byte order: #B < #a < #b < #c.
	in := []string{"#b", "#z", "#a", "#c", "#B", "#z", "#b", "#c", "#a", "#B", "#z"}
	tests := []struct {
		n    int
		want string
	}{
		{1, "#z=3"},
		{2, "#z=3,#B=2"},
		{3, "#z=3,#B=2,#a=2"},
		{5, "#z=3,#B=2,#a=2,#b=2,#c=2"},
		{9, "#z=3,#B=2,#a=2,#b=2,#c=2"}, // fewer distinct values than n: all
	}
	aggs := func(n int) []dataflow.Agg {
		// A sketch wide enough that five values never collide: its estimates
		// are the exact counts, so the approximate result is the exact one.
		return []dataflow.Agg{dataflow.TopN("x", n), {Kind: dataflow.AggApproxTopN, Col: "x", N: n, Width: 1 << 14, Depth: 4}}
	}
	for _, tc := range tests {
		for _, g := range aggs(tc.n) {
			orders := [][]string{in, slices.Clone(in), slices.Clone(in)}
			slices.Reverse(orders[1])
			slices.Sort(orders[2])
			for _, order := range orders {
				a := g.NewAccumulator(dataflow.KindString)
				for _, s := range order {
					a.Add(dataflow.Str(s))
				}
				assert.Equal(t, dataflow.Str(tc.want), a.Result(), "%v over %v", g, order)

				// Split in two and merged: the same.
				left, right := g.NewAccumulator(dataflow.KindString), g.NewAccumulator(dataflow.KindString)
				for i, s := range order {
					if i%2 == 0 {
						left.Add(dataflow.Str(s))
					} else {
						right.Add(dataflow.Str(s))
					}
				}
				right.Merge(left)
				assert.Equal(t, dataflow.Str(tc.want), right.Result(), "%v merged over %v", g, order)
			}
		}
	}
}

// TestTopNNumericTies: numbers tie in numeric order, not text order.
func TestTopNNumericTies(t *testing.T) {
	a := dataflow.TopN("x", 3).NewAccumulator(dataflow.KindInt64)
	for _, v := range []int64{10, 9, 100, 9, 10, 100} {
		a.Add(dataflow.Int(v))
	}
	assert.Equal(t, dataflow.Str("9=2,10=2,100=2"), a.Result())
}

// TestExplodeKeepsRepeats: a tag repeated in one tweet is two records, so it
// counts 2 in a count and in a top-N.
func TestExplodeKeepsRepeats(t *testing.T) {
	s := dataflow.NewSchema(
		dataflow.Field{Name: "text", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	in := recs(dataflow.Row{dataflow.Str("#a #a"), ts(0)})

	rows := dataflow.NewPipeline("explode", s).Explode("text", "#", "hashtag").Output(nil, "hashtag")
	require.NoError(t, rows.Validate())
	got, err := dataflow.Reference(rows, sliceSeq(in), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	require.Len(t, got, 2, "one record per token, repeats included: %v", got)
	for _, r := range got {
		assert.Equal(t, dataflow.Str("#a"), r.Value)
	}

	counts := dataflow.NewPipeline("count", s).
		Explode("text", "#", "hashtag").
		Aggregate(dataflow.Aggregation{
			Key:     []string{"hashtag"},
			Window:  dataflow.FixedWindows(time.Hour),
			TimeCol: "event_time",
			Aggs:    []dataflow.Agg{dataflow.Count(), dataflow.TopN("hashtag", 10)},
		})
	require.NoError(t, counts.Validate())
	got, err = dataflow.Reference(counts, sliceSeq(in), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	assert.Equal(t, []dataflow.Result{res(0, 3_600_000, "#a", dataflow.Int(2), dataflow.Str("#a=2"))}, got)
}
