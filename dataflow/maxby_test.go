package dataflow_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

func maxByAcc(t *testing.T) dataflow.PairAccumulator {
	t.Helper()
	g := dataflow.MaxBy("bidder", "price")
	require.True(t, g.Paired())
	acc, ok := g.NewAccumulator(dataflow.KindString).(dataflow.PairAccumulator)
	require.True(t, ok, "a max-by accumulator is a PairAccumulator")
	return acc
}

func TestMaxByAccumulator(t *testing.T) {
	s, i, f := dataflow.Str, dataflow.Int, dataflow.Float
	for _, tc := range []struct {
		name  string
		pairs [][2]dataflow.Value // (v, by)
		want  dataflow.Value
	}{
		{"empty", nil, dataflow.Value{}},
		{"one", [][2]dataflow.Value{{s("x"), i(3)}}, s("x")},
		{"greatest by", [][2]dataflow.Value{{s("x"), i(3)}, {s("y"), i(9)}, {s("z"), i(4)}}, s("y")},
		{"tie: least value", [][2]dataflow.Value{{s("y"), i(9)}, {s("x"), i(9)}, {s("z"), i(9)}}, s("x")},
		{"tie first: least value", [][2]dataflow.Value{{s("x"), i(9)}, {s("y"), i(9)}}, s("x")},
		{"null by skipped", [][2]dataflow.Value{{s("x"), {}}, {s("y"), i(-5)}}, s("y")},
		{"only null by", [][2]dataflow.Value{{s("x"), {}}}, dataflow.Value{}},
		{"null value wins a tie", [][2]dataflow.Value{{s("x"), i(1)}, {dataflow.Value{}, i(1)}}, dataflow.Value{}},
		{"float by, NaN least", [][2]dataflow.Value{{s("x"), f(math.NaN())}, {s("y"), f(-1)}}, s("y")},
	} {
		acc := maxByAcc(t)
		for _, p := range tc.pairs {
			acc.AddPair(p[0], p[1])
		}
		assert.Equal(t, tc.want, acc.Result(), tc.name)
	}
}

// TestMaxByOrderFree: whatever the order of additions and however partial
// accumulators merge, the result is the same, and a snapshot restores it.
func TestMaxByOrderFree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		n := 1 + r.IntN(20)
		vs := make([][2]dataflow.Value, n)
		for i := range vs {
			vs[i] = [2]dataflow.Value{dataflow.Int(r.Int64N(5)), dataflow.Int(r.Int64N(4))}
		}
		whole := maxByAcc(t)
		for _, p := range vs {
			whole.AddPair(p[0], p[1])
		}
		r.Shuffle(n, func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
		cut := r.IntN(n + 1)
		a, b := maxByAcc(t), maxByAcc(t)
		for _, p := range vs[:cut] {
			a.AddPair(p[0], p[1])
		}
		for _, p := range vs[cut:] {
			b.AddPair(p[0], p[1])
		}
		enc, err := b.AppendBinary(nil)
		require.NoError(t, err)
		c := maxByAcc(t)
		require.NoError(t, c.UnmarshalBinary(enc))
		a.Merge(c)
		require.Equal(t, whole.Result(), a.Result())
	}
}

func TestMaxBySnapshot(t *testing.T) {
	for _, pairs := range [][][2]dataflow.Value{nil, {{dataflow.Str("x"), dataflow.Int(3)}}} {
		a := maxByAcc(t)
		for _, p := range pairs {
			a.AddPair(p[0], p[1])
		}
		enc, err := a.AppendBinary(nil)
		require.NoError(t, err)
		b := maxByAcc(t)
		b.AddPair(dataflow.Str("old"), dataflow.Int(100))
		require.NoError(t, b.UnmarshalBinary(enc))
		assert.Equal(t, a.Result(), b.Result())
		// After the restore, b orders by the restored state, not the old one.
		b.AddPair(dataflow.Str("w"), dataflow.Int(3))
		a.AddPair(dataflow.Str("w"), dataflow.Int(3))
		assert.Equal(t, a.Result(), b.Result())
		for n := range len(enc) {
			err := b.UnmarshalBinary(enc[:n])
			assert.True(t, errors.Is(err, dataflow.ErrCorruptState), "truncated at %d: %v", n, err)
		}
		assert.ErrorIs(t, b.UnmarshalBinary(append(enc, 0)), dataflow.ErrCorruptState)
	}
	// The state of another kind is refused.
	enc, err := dataflow.Max("x").NewAccumulator(dataflow.KindInt64).AppendBinary(nil)
	require.NoError(t, err)
	assert.ErrorIs(t, maxByAcc(t).UnmarshalBinary(enc), dataflow.ErrCorruptState)
}

// TestWindowOperatorMaxBy: the window operator feeds max-by its Col and By
// values, and its pane equals the reference.
func TestWindowOperatorMaxBy(t *testing.T) {
	p := dataflow.NewPipeline("q7", nxSchema).
		Filter(dataflow.Eq(dataflow.Col("kind"), dataflow.LitStr("b"))).
		Aggregate(dataflow.Aggregation{Window: dataflow.FixedWindows(10 * time.Millisecond), TimeCol: "t",
			Aggs: []dataflow.Agg{dataflow.MaxBy("auction", "price"), dataflow.Count()}})
	in := recs(bid(5, 3, 1), bid(4, 9, 2), bid(6, 9, 3), bid(1, 2, 14))
	last, err := p.Last()
	require.NoError(t, err)
	var got []dataflow.Result
	op, err := dataflow.NewWindowOperator(p.Agg, last, dataflow.OperatorConfig{Emit: func(pn dataflow.Pane) { got = append(got, pn.Result) }})
	require.NoError(t, err)
	for _, r := range in {
		op.Add(r.Row, r.IngestNanos)
	}
	op.Finish()
	dataflow.SortResults(got)
	assert.Equal(t, mustReference(t, p, in, dataflow.ReferenceOptions{}), got)
	assert.Equal(t, dataflow.Int(4), got[0].Value)
}
