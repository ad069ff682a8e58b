package dataflow

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sketchSeeds is how many random inputs TestApproxAggregatesSplitMerge
// draws per aggregate; raise it to search further:
//
//	go test ./dataflow -run TestApproxAggregatesSplitMerge -sketch.seeds=2000
var sketchSeeds = flag.Int("sketch.seeds", 60, "random inputs per approximate aggregate in TestApproxAggregatesSplitMerge")

// approxAggs are every approximate aggregate, at sizes small enough that
// values collide in the sketch (the case where the answer used to depend on
// the arrival order) and at the defaults. cap > 0 lowers the candidate
// bound of an approximate top-N so that inputs exceed it.
var approxAggs = []struct {
	agg Agg
	cap int
}{
	{Agg{Kind: AggApproxTopN, Col: "x", N: 3, Width: 8, Depth: 2}, 0},
	{Agg{Kind: AggApproxTopN, Col: "x", N: 5, Width: 16, Depth: 4}, 0},
	{Agg{Kind: AggApproxTopN, Col: "x", N: 10, Width: 100, Depth: 3}, 0}, // not a power of two
	{Agg{Kind: AggApproxTopN, Col: "x", N: 4, Width: 32, Depth: 4}, 12},  // more distinct values than candidates
	{ApproxTopN("x", 10), 0},
	{Agg{Kind: AggApproxDistinct, Col: "x", Precision: 4}, 0},
	{Agg{Kind: AggApproxDistinct, Col: "x", Precision: 8}, 0},
	{ApproxDistinct("x"), 0},
}

// newApprox returns an empty accumulator of the i-th entry of approxAggs.
func newApprox(i int, in Kind) Accumulator {
	a := approxAggs[i].agg.NewAccumulator(in)
	if c := approxAggs[i].cap; c > 0 {
		a.(*approxTopNAcc).cap = c
	}
	return a
}

// sketchInput draws a Zipf-distributed input of kind string, int64 or
// float64 (with -0, 0 and NaNs, which the sketches treat as one value each).
func sketchInput(r *rand.Rand) (Kind, []Value) {
	n := 1 + r.IntN(3000)
	vocab := 2 + r.Uint64N(400)
	z := rand.NewZipf(r, 1.1+r.Float64(), 1, vocab)
	kind := []Kind{KindString, KindInt64, KindFloat64}[r.IntN(3)]
	vs := make([]Value, n)
	for i := range vs {
		x := z.Uint64()
		switch kind {
		case KindString:
			vs[i] = Str("#t" + strconv.FormatUint(x, 36))
		case KindInt64:
			vs[i] = Int(int64(x) - 50)
		default:
			switch x {
			case 0:
				vs[i] = Float(math.Copysign(0, -1))
			case 1:
				vs[i] = Float(math.NaN())
			default:
				vs[i] = Float(float64(x) / 4)
			}
		}
	}
	return kind, vs
}

// TestApproxAggregatesSplitMerge is the property every runtime relies on:
// an approximate aggregate's answer is a function of the multiset of its
// input. Shuffling the input, splitting it into arbitrary parts (the
// batches and tasks of a runtime), accumulating each part, round-tripping
// some through the encoding (checkpoints) and merging them in a random
// order, as a chain or a tree, gives the answer and the encoding of adding
// the values one at a time, in input order.
func TestApproxAggregatesSplitMerge(t *testing.T) {
	for i, c := range approxAggs {
		t.Run(fmt.Sprintf("%v-w%d-d%d-p%d-cap%d", c.agg.Kind, c.agg.Width, c.agg.Depth, c.agg.Precision, c.cap), func(t *testing.T) {
			for seed := range uint64(*sketchSeeds) {
				r := rand.New(rand.NewPCG(seed, uint64(i)))
				kind, vs := sketchInput(r)
				one := newApprox(i, kind)
				for _, v := range vs {
					one.Add(v)
				}
				want := one.Result()
				wantEnc, err := one.AppendBinary(nil)
				require.NoError(t, err)

				shuffled := slices.Clone(vs)
				r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
				parts := make([]Accumulator, 1+r.IntN(8))
				for p := range parts {
					parts[p] = newApprox(i, kind)
				}
				for _, v := range shuffled {
					parts[r.IntN(len(parts))].Add(v)
				}
				for p := range parts {
					if r.IntN(3) == 0 { // a checkpoint and a restore
						enc, err := parts[p].AppendBinary(nil)
						require.NoError(t, err)
						restored := newApprox(i, kind)
						require.NoError(t, restored.UnmarshalBinary(enc), "seed %d", seed)
						parts[p] = restored
					}
				}
				r.Shuffle(len(parts), func(a, b int) { parts[a], parts[b] = parts[b], parts[a] })
				for len(parts) > 1 { // merge two random parts until one is left
					a, b := r.IntN(len(parts)), r.IntN(len(parts)-1)
					if b >= a {
						b++
					}
					parts[a].Merge(parts[b])
					parts = slices.Delete(parts, b, b+1)
				}
				got := parts[0]
				require.Equal(t, want, got.Result(), "seed %d (-sketch.seeds), %d values of kind %v: split, merged answer differs from one at a time", seed, len(vs), kind)
				gotEnc, err := got.AppendBinary(nil)
				require.NoError(t, err)
				require.Equal(t, wantEnc, gotEnc, "seed %d: merged state encodes differently from one at a time", seed)
			}
		})
	}
}

// TestCountMinRowsIndependent pins the defect of double hashing: with row
// columns h1 + r*h2, two values whose hash halves agree modulo the width
// share a column in every row. With a hash per row, values that share row
// 0's column spread over the other rows.
func TestCountMinRowsIndependent(t *testing.T) {
	c := newCountMin(2048, 4)
	byCol := map[int][]uint64{}
	for i := range 200_000 {
		h := hashValue(Str("#v" + strconv.Itoa(i)))
		byCol[c.col(h, 0)] = append(byCol[c.col(h, 0)], h)
	}
	everyRow, pairs := 0, 0
	for _, hs := range byCol {
		for x := 0; x < len(hs); x++ {
			for y := x + 1; y < len(hs); y++ {
				pairs++
				same := true
				for r := 1; r < c.depth; r++ {
					same = same && c.col(hs[x], r) == c.col(hs[y], r)
				}
				if same {
					everyRow++
				}
			}
		}
	}
	// Independent rows: a pair sharing row 0's column shares rows 1-3 with
	// probability 2048^-3, so among ~10^7 pairs none is expected.
	assert.Greater(t, pairs, 1_000_000)
	assert.Zero(t, everyRow, "pairs of values colliding in every row, of %d sharing row 0", pairs)
}

// TestCountMinIssue15Pair is the pair of issue 15: #bitumoreju and #bofive
// shared a column in all four rows of the default sketch, so #bitumoreju
// was listed with #bofive's 201.
func TestCountMinIssue15Pair(t *testing.T) {
	c := newCountMin(DefaultSketchWidth, DefaultSketchDepth)
	for range 201 {
		c.add(hashValue(Str("#bofive")))
	}
	assert.Equal(t, uint32(201), c.estimate(hashValue(Str("#bofive"))))
	assert.Zero(t, c.estimate(hashValue(Str("#bitumoreju"))), "#bitumoreju shares every row's column with #bofive")
}
