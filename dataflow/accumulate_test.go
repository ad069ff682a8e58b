package dataflow_test

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// randomValues draws n values of kind k from a fixed-seed PCG: small ranges,
// so distinct and top-N see repeats.
func randomValues(r *rand.Rand, k dataflow.Kind, n int) []dataflow.Value {
	vs := make([]dataflow.Value, n)
	for i := range vs {
		switch k {
		case dataflow.KindInt64:
			vs[i] = dataflow.Int(r.Int64N(200) - 100)
		case dataflow.KindTimestamp:
			vs[i] = dataflow.Timestamp(dataflow.Time(1_700_000_000_000 + r.Int64N(1e6)))
		case dataflow.KindFloat64:
			vs[i] = dataflow.Float(math.Round(r.NormFloat64()*1000) / 8)
		case dataflow.KindString:
			vs[i] = dataflow.Str("v" + strconv.Itoa(r.IntN(30)))
		}
	}
	return vs
}

// naive computes an exact aggregate the obvious way.
func naive(g dataflow.Agg, in dataflow.Kind, vs []dataflow.Value) dataflow.Value {
	switch g.Kind {
	case dataflow.AggCount:
		return dataflow.Int(int64(len(vs)))
	case dataflow.AggSum:
		if in == dataflow.KindFloat64 {
			s := 0.0
			for _, v := range vs {
				s += v.Float64()
			}
			return dataflow.Float(s)
		}
		var s int64
		for _, v := range vs {
			s += v.I
		}
		return dataflow.Int(s)
	case dataflow.AggMin:
		return slices.MinFunc(vs, dataflow.Value.Compare)
	case dataflow.AggMax:
		return slices.MaxFunc(vs, dataflow.Value.Compare)
	case dataflow.AggMean:
		s := 0.0
		for _, v := range vs {
			s += v.Float64()
		}
		return dataflow.Float(s / float64(len(vs)))
	case dataflow.AggSpan:
		lo, hi := slices.MinFunc(vs, dataflow.Value.Compare), slices.MaxFunc(vs, dataflow.Value.Compare)
		if in == dataflow.KindFloat64 {
			return dataflow.Float(hi.Float64() - lo.Float64())
		}
		return dataflow.Int(hi.I - lo.I)
	case dataflow.AggDistinct:
		seen := map[string]bool{}
		for _, v := range vs {
			seen[v.String()] = true
		}
		return dataflow.Int(int64(len(seen)))
	case dataflow.AggTopN:
		counts := map[string]int{}
		for _, v := range vs {
			counts[v.String()]++
		}
		type kv struct {
			v dataflow.Value
			n int
		}
		var es []kv
		for _, v := range vs {
			if c, ok := counts[v.String()]; ok {
				es = append(es, kv{v, c})
				delete(counts, v.String())
			}
		}
		slices.SortFunc(es, func(a, b kv) int {
			if a.n != b.n {
				return cmp.Compare(b.n, a.n)
			}
			return a.v.Compare(b.v)
		})
		var parts []string
		for i, e := range es {
			if i == g.N {
				break
			}
			parts = append(parts, fmt.Sprintf("%v=%d", e.v, e.n))
		}
		return dataflow.Str(strings.Join(parts, ","))
	}
	panic("no naive " + g.Kind.String())
}

type aggCase struct {
	agg dataflow.Agg
	in  dataflow.Kind
}

func exactCases() []aggCase {
	var cs []aggCase
	for _, k := range []dataflow.Kind{dataflow.KindInt64, dataflow.KindFloat64, dataflow.KindTimestamp} {
		for _, g := range []dataflow.Agg{dataflow.Count(), dataflow.Sum("x"), dataflow.Min("x"), dataflow.Max("x"), dataflow.Mean("x"), dataflow.Span("x"), dataflow.Distinct("x"), dataflow.TopN("x", 5)} {
			cs = append(cs, aggCase{g, k})
		}
	}
	for _, g := range []dataflow.Agg{dataflow.Min("x"), dataflow.Max("x"), dataflow.Distinct("x"), dataflow.TopN("x", 3), dataflow.Count()} {
		cs = append(cs, aggCase{g, dataflow.KindString})
	}
	return cs
}

func allCases() []aggCase {
	return append(exactCases(),
		aggCase{dataflow.ApproxDistinct("x"), dataflow.KindString},
		aggCase{dataflow.Agg{Kind: dataflow.AggApproxDistinct, Col: "x", Precision: 6}, dataflow.KindInt64},
		aggCase{dataflow.ApproxTopN("x", 3), dataflow.KindString},
		aggCase{dataflow.Agg{Kind: dataflow.AggApproxTopN, Col: "x", N: 2, Width: 16, Depth: 2}, dataflow.KindFloat64},
		// Add(v) of a max-by is AddPair(v, v).
		aggCase{dataflow.MaxBy("x", "y"), dataflow.KindString},
		aggCase{dataflow.MaxBy("x", "y"), dataflow.KindFloat64},
	)
}

func (c aggCase) String() string { return c.agg.String() + "/" + c.in.String() }

func resultsMatch(t *testing.T, want, got dataflow.Value, msg string, args ...any) {
	t.Helper()
	m := fmt.Sprintf(msg, args...)
	assert.Equal(t, want.K, got.K, m)
	assert.True(t, want.ApproxEqual(got), "%s: got %v, want %v", m, got, want)
}

func TestAccumulatorsMatchNaive(t *testing.T) {
	const seed = 20261124
	r := rand.New(rand.NewPCG(seed, 0))
	schema := func(k dataflow.Kind) dataflow.Schema {
		return dataflow.NewSchema(dataflow.Field{Name: "x", Kind: k})
	}
	for _, c := range exactCases() {
		t.Run(c.String(), func(t *testing.T) {
			for trial := range 20 {
				vs := randomValues(r, c.in, 1+r.IntN(300))
				want := naive(c.agg, c.in, vs)
				assert.Equal(t, c.agg.ResultKind(schema(c.in)), want.K, "naive kind")

				one := c.agg.NewAccumulator(c.in)
				for _, v := range vs {
					one.Add(v)
				}
				resultsMatch(t, want, one.Result(), "seed %d trial %d: one accumulator", seed, trial)

				// Partial accumulators over random splits, merged in order.
				merged := c.agg.NewAccumulator(c.in)
				for rest := vs; len(rest) > 0; {
					n := 1 + r.IntN(len(rest))
					part := c.agg.NewAccumulator(c.in)
					for _, v := range rest[:n] {
						part.Add(v)
					}
					merged.Merge(part)
					rest = rest[n:]
				}
				merged.Merge(c.agg.NewAccumulator(c.in)) // an empty partial changes nothing
				resultsMatch(t, want, merged.Result(), "seed %d trial %d: merged partials", seed, trial)

				one.Reset()
				empty := c.agg.NewAccumulator(c.in)
				assert.Equal(t, empty.Result(), one.Result(), "Reset empties")
			}
		})
	}
}

func TestAccumulatorEmptyResults(t *testing.T) {
	assert.Equal(t, dataflow.Int(0), dataflow.Count().NewAccumulator(dataflow.KindInt64).Result())
	assert.Equal(t, dataflow.Int(0), dataflow.Sum("x").NewAccumulator(dataflow.KindInt64).Result())
	assert.Equal(t, dataflow.Float(0), dataflow.Sum("x").NewAccumulator(dataflow.KindFloat64).Result())
	assert.True(t, dataflow.Min("x").NewAccumulator(dataflow.KindInt64).Result().IsNull())
	assert.Equal(t, dataflow.Float(0), dataflow.Mean("x").NewAccumulator(dataflow.KindInt64).Result())
	assert.Equal(t, dataflow.Int(0), dataflow.Span("x").NewAccumulator(dataflow.KindTimestamp).Result())
	assert.Equal(t, dataflow.Str(""), dataflow.TopN("x", 3).NewAccumulator(dataflow.KindString).Result())
	assert.Equal(t, dataflow.Str(""), dataflow.ApproxTopN("x", 3).NewAccumulator(dataflow.KindString).Result())
	assert.Equal(t, dataflow.Int(0), dataflow.ApproxDistinct("x").NewAccumulator(dataflow.KindString).Result())
}

func TestAccumulatorCanonicalValues(t *testing.T) {
	d := dataflow.Distinct("x").NewAccumulator(dataflow.KindFloat64)
	for _, f := range []float64{0, math.Copysign(0, -1), math.NaN(), -math.NaN(), 1} {
		d.Add(dataflow.Float(f))
	}
	assert.Equal(t, dataflow.Int(3), d.Result(), "0 == -0, one NaN, 1")
	top := dataflow.TopN("x", 2).NewAccumulator(dataflow.KindString)
	for _, s := range []string{"b", "a", "b", "c", "a"} {
		top.Add(dataflow.Str(s))
	}
	assert.Equal(t, dataflow.Str("a=2,b=2"), top.Result(), "ties by value ascending")
}

func TestAccumulatorBinaryRoundTrip(t *testing.T) {
	const seed = 99
	r := rand.New(rand.NewPCG(seed, 0))
	for _, c := range allCases() {
		t.Run(c.String(), func(t *testing.T) {
			for _, n := range []int{0, 1, 500} {
				a := c.agg.NewAccumulator(c.in)
				for _, v := range randomValues(r, c.in, n) {
					a.Add(v)
				}
				enc, err := a.AppendBinary([]byte("prefix"))
				require.NoError(t, err)
				require.Equal(t, "prefix", string(enc[:6]), "AppendBinary appends")
				enc = enc[6:]

				b := c.agg.NewAccumulator(c.in)
				b.Add(randomValues(r, c.in, 1)[0]) // state to be replaced
				require.NoError(t, b.UnmarshalBinary(enc), "seed %d n %d", seed, n)
				assert.Equal(t, a.Result(), b.Result(), "seed %d n %d: result after round trip", seed, n)
				again, err := b.AppendBinary(nil)
				require.NoError(t, err)
				assert.Equal(t, enc, again, "seed %d n %d: re-encoding", seed, n)

				// Every truncation is an error, never a panic. Large sketches
				// are cut at ~300 points, so the test stays quick.
				step := max(1, len(enc)/300)
				for i := 0; i < len(enc); i += step {
					if i+step >= len(enc) {
						i = len(enc) - 1 // the last byte missing
					}
					err := c.agg.NewAccumulator(c.in).UnmarshalBinary(enc[:i])
					require.ErrorIs(t, err, dataflow.ErrCorruptState, "truncated to %d of %d bytes", i, len(enc))
				}
				assert.ErrorIs(t, c.agg.NewAccumulator(c.in).UnmarshalBinary(append(enc, 0)), dataflow.ErrCorruptState, "trailing byte")
			}
		})
	}
}

func TestAccumulatorUnmarshalMismatch(t *testing.T) {
	enc, err := dataflow.Sum("x").NewAccumulator(dataflow.KindInt64).AppendBinary(nil)
	require.NoError(t, err)
	err = dataflow.Sum("x").NewAccumulator(dataflow.KindFloat64).UnmarshalBinary(enc)
	assert.ErrorContains(t, err, "same Agg", "an int sum into a float sum")
	err = dataflow.Count().NewAccumulator(dataflow.KindInt64).UnmarshalBinary(enc)
	assert.ErrorContains(t, err, "state of a sum aggregate")

	hll, err := dataflow.ApproxDistinct("x").NewAccumulator(dataflow.KindString).AppendBinary(nil)
	require.NoError(t, err)
	err = dataflow.Agg{Kind: dataflow.AggApproxDistinct, Col: "x", Precision: 10}.NewAccumulator(dataflow.KindString).UnmarshalBinary(hll)
	assert.ErrorContains(t, err, "precision 14, want 10")

	bad := slices.Clone(enc)
	bad[1] = 9
	assert.ErrorContains(t, dataflow.Sum("x").NewAccumulator(dataflow.KindInt64).UnmarshalBinary(bad), "format version 9")
}

func FuzzAccumulatorUnmarshal(f *testing.F) {
	cases := allCases()
	r := rand.New(rand.NewPCG(5, 5))
	for i, c := range cases {
		a := c.agg.NewAccumulator(c.in)
		for _, v := range randomValues(r, c.in, 20) {
			a.Add(v)
		}
		enc, err := a.AppendBinary(nil)
		require.NoError(f, err)
		f.Add(uint8(i), enc)
	}
	f.Add(uint8(0), []byte{})
	f.Add(uint8(6), []byte{'A', 1, byte(dataflow.AggDistinct), 0xff, 0xff, 0xff, 0xff, 0x0f}) // huge element count
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		c := cases[int(which)%len(cases)]
		a := c.agg.NewAccumulator(c.in)
		if err := a.UnmarshalBinary(b); err != nil {
			require.ErrorIs(t, err, dataflow.ErrCorruptState)
			return
		}
		res := a.Result()
		enc, err := a.AppendBinary(nil)
		require.NoError(t, err)
		b2 := c.agg.NewAccumulator(c.in)
		require.NoError(t, b2.UnmarshalBinary(enc), "re-encoding of accepted state")
		require.Equal(t, res.String(), b2.Result().String())
	})
}

func TestHyperLogLogError(t *testing.T) {
	const n = 100_000
	a := dataflow.ApproxDistinct("x").NewAccumulator(dataflow.KindString)
	parts := []dataflow.Accumulator{
		dataflow.ApproxDistinct("x").NewAccumulator(dataflow.KindString),
		dataflow.ApproxDistinct("x").NewAccumulator(dataflow.KindString),
		dataflow.ApproxDistinct("x").NewAccumulator(dataflow.KindString),
	}
	for i := range n {
		v := dataflow.Str("user-" + strconv.Itoa(i))
		a.Add(v)
		a.Add(v) // duplicates do not count
		parts[i%3].Add(v)
	}
	est := a.Result().I
	rel := math.Abs(float64(est)-n) / n
	t.Logf("HyperLogLog p=14: %d distinct estimated as %d (%.3f%% error)", n, est, 100*rel)
	assert.Less(t, rel, 0.02, "estimate %d of %d distinct", est, n)

	merged := dataflow.ApproxDistinct("x").NewAccumulator(dataflow.KindString)
	for _, p := range parts {
		merged.Merge(p)
	}
	encA, _ := a.AppendBinary(nil)
	encM, _ := merged.AppendBinary(nil)
	assert.Equal(t, encA, encM, "merge equals the sketch of the union")
	assert.Equal(t, a.Result(), merged.Result())

	small := dataflow.ApproxDistinct("x").NewAccumulator(dataflow.KindInt64)
	for i := range int64(100) {
		small.Add(dataflow.Int(i))
	}
	assert.InDelta(t, 100, small.Result().I, 2, "linear counting at small cardinalities")
}

// TestSketchDeterminism pins sketch results on fixed input: the hash is
// seedless, so every runtime, process and machine must give these numbers.
func TestSketchDeterminism(t *testing.T) {
	hll := dataflow.Agg{Kind: dataflow.AggApproxDistinct, Col: "x", Precision: 8}.NewAccumulator(dataflow.KindString)
	cms := dataflow.Agg{Kind: dataflow.AggApproxTopN, Col: "x", N: 3, Width: 8, Depth: 2}.NewAccumulator(dataflow.KindInt64)
	for i := range 5000 {
		hll.Add(dataflow.Str("k" + strconv.Itoa(i)))
		cms.Add(dataflow.Int(int64(i % 37 % 11)))
	}
	assert.Equal(t, dataflow.Int(goldenHLL), hll.Result(), "HyperLogLog of k0..k4999 at p=8")
	assert.Equal(t, dataflow.Str(goldenCMS), cms.Result(), "Count-Min 8x2 top 3")
}

const (
	goldenHLL = 5816
	goldenCMS = "5=1351,6=946,4=811"
)

func zipfStrings(seed uint64, n, vocab int) []dataflow.Value {
	r := rand.New(rand.NewPCG(seed, 0))
	z := rand.NewZipf(r, 1.2, 1, uint64(vocab-1))
	vs := make([]dataflow.Value, n)
	for i := range vs {
		vs[i] = dataflow.Str("#tag" + strconv.FormatUint(z.Uint64(), 10))
	}
	return vs
}

func topValues(res string) []string {
	var out []string
	for _, part := range strings.Split(res, ",") {
		v, _, _ := strings.Cut(part, "=")
		out = append(out, v)
	}
	return out
}

func TestCountMinTopNRecall(t *testing.T) {
	const seed, n, vocab = 42, 200_000, 50_000
	vs := zipfStrings(seed, n, vocab)
	exact := dataflow.TopN("x", 10).NewAccumulator(dataflow.KindString)
	approx := dataflow.ApproxTopN("x", 10).NewAccumulator(dataflow.KindString)
	parts := make([]dataflow.Accumulator, 4)
	for i := range parts {
		parts[i] = dataflow.ApproxTopN("x", 10).NewAccumulator(dataflow.KindString)
	}
	for i, v := range vs {
		exact.Add(v)
		approx.Add(v)
		parts[(i/1000)%4].Add(v)
	}
	want, got := topValues(exact.Result().S), topValues(approx.Result().S)
	hits := 0
	for _, v := range got {
		if slices.Contains(want, v) {
			hits++
		}
	}
	t.Logf("seed %d: exact %s\napprox %s", seed, exact.Result(), approx.Result())
	assert.GreaterOrEqual(t, hits, 9, "seed %d: recall of the top 10: exact %v, approx %v", seed, want, got)

	merged := dataflow.ApproxTopN("x", 10).NewAccumulator(dataflow.KindString)
	for _, p := range parts {
		merged.Merge(p)
	}
	assert.Equal(t, approx.Result(), merged.Result(), "seed %d: merged partial sketches give the single sketch's answer", seed)
}

func TestAccumulatorAddAllocs(t *testing.T) {
	for _, c := range []aggCase{
		{dataflow.Count(), dataflow.KindInt64},
		{dataflow.Sum("x"), dataflow.KindInt64},
		{dataflow.Sum("x"), dataflow.KindFloat64},
		{dataflow.Min("x"), dataflow.KindString},
		{dataflow.Max("x"), dataflow.KindInt64},
		{dataflow.Mean("x"), dataflow.KindInt64},
		{dataflow.Mean("x"), dataflow.KindFloat64},
		{dataflow.Span("x"), dataflow.KindTimestamp},
		{dataflow.ApproxDistinct("x"), dataflow.KindString},
		{dataflow.ApproxTopN("x", 10), dataflow.KindString},
		{dataflow.ApproxTopN("x", 10), dataflow.KindInt64},
	} {
		a := c.agg.NewAccumulator(c.in)
		vs := randomValues(rand.New(rand.NewPCG(1, 1)), c.in, 1000)
		if c.in == dataflow.KindString {
			vs = zipfStrings(1, 1000, 500) // more distinct values than candidates
		}
		i := 0
		allocs := testing.AllocsPerRun(2000, func() {
			a.Add(vs[i%len(vs)])
			i++
		})
		assert.Zero(t, allocs, "%v.Add allocates", c)
	}
}

func TestCombineResults(t *testing.T) {
	v, err := dataflow.CombineResults(dataflow.AggCount, dataflow.Int(2), dataflow.Int(3))
	require.NoError(t, err)
	assert.Equal(t, dataflow.Int(5), v)
	v, err = dataflow.CombineResults(dataflow.AggMin, dataflow.Str("b"), dataflow.Str("a"))
	require.NoError(t, err)
	assert.Equal(t, dataflow.Str("a"), v)
	v, err = dataflow.CombineResults(dataflow.AggMax, dataflow.Value{}, dataflow.Float(1.5))
	require.NoError(t, err)
	assert.Equal(t, dataflow.Float(1.5), v)
	_, err = dataflow.CombineResults(dataflow.AggMean, dataflow.Float(1), dataflow.Float(2))
	assert.Error(t, err)
}

func TestAccumulatorNullValue(t *testing.T) {
	a := dataflow.Max("x").NewAccumulator(dataflow.KindString)
	a.Add(dataflow.Value{})
	enc, err := a.AppendBinary(nil)
	require.NoError(t, err)
	b := dataflow.Max("x").NewAccumulator(dataflow.KindString)
	require.NoError(t, b.UnmarshalBinary(enc), "a null value round-trips")
	assert.True(t, b.Result().IsNull())
}
