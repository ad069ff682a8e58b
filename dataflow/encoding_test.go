package dataflow_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
)

func TestValueEncodingRoundTrip(t *testing.T) {
	row := dataflow.Row{dataflow.Int(-5), dataflow.Str("hé"), dataflow.Float(2.5), dataflow.Bool(true),
		dataflow.Bool(false), dataflow.Timestamp(1700000000000), {}, dataflow.Str(""), dataflow.Int(math.MinInt64)}
	b := dataflow.AppendRow(nil, row)
	d := wire.NewDecoder(b)
	assert.Equal(t, row, dataflow.DecodeRow(d, nil))
	require.NoError(t, d.Finish())
	for n := range len(b) {
		d := wire.NewDecoder(b[:n])
		dataflow.DecodeRow(d, nil)
		assert.ErrorIs(t, d.Err(), wire.ErrCorrupt, "DecodeRow of %d of %d bytes", n, len(b))
	}

	for _, r := range []dataflow.Result{
		{Key: "k", Value: dataflow.Int(3)},
		{Window: dataflow.Window{Start: -10, End: 20}, Key: "", Value: dataflow.Float(-1.25),
			Extra: dataflow.Row{dataflow.Str("x"), {}}},
	} {
		d := wire.NewDecoder(dataflow.AppendResult(nil, r))
		assert.Equal(t, r, dataflow.DecodeResult(d), "DecodeResult(AppendResult(%v))", r)
		require.NoError(t, d.Finish())
	}
}

// TestValueEncodingBytes pins the layout in package wire's doc: the bytes
// are part of every stored format (accumulators, snapshots, checkpoints).
func TestValueEncodingBytes(t *testing.T) {
	for _, tc := range []struct {
		v    dataflow.Value
		want []byte
	}{
		{dataflow.Value{}, []byte{0, 0}},
		{dataflow.Int(-2), []byte{1, 3}},
		{dataflow.Str("ab"), []byte{3, 2, 'a', 'b'}},
		{dataflow.Bool(true), []byte{4, 2}},
		{dataflow.Timestamp(64), []byte{5, 0x80, 0x01}},
	} {
		assert.Equal(t, tc.want, dataflow.AppendValue(nil, tc.v), "AppendValue(%v)", tc.v)
	}
	assert.Equal(t, []byte{7, 0, 1, 'k', 1, 2, 1, 0, 0},
		dataflow.AppendResult(nil, dataflow.Result{Window: dataflow.Window{Start: -4, End: 0}, Key: "k", Value: dataflow.Int(1),
			Extra: dataflow.Row{{}}}))
}

func TestDecodeValueRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"unknown kind", []byte{9, 0}, "bad value kind 9"},
		{"bool out of range", []byte{byte(dataflow.KindBool), 4}, "bool value out of range"},
		{"null with bits", []byte{0, 2}, "null value with bits"},
		{"empty", nil, "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := wire.NewDecoder(tc.b)
			assert.Equal(t, dataflow.Value{}, dataflow.DecodeValue(d))
			assert.ErrorIs(t, d.Err(), wire.ErrCorrupt)
			assert.ErrorContains(t, d.Err(), tc.want)
		})
	}
}

// TestDecodeRowAllocs: a row of non-string values decodes into a reused
// row without allocating (wire's WR4 carried to values).
func TestDecodeRowAllocs(t *testing.T) {
	row := dataflow.Row{dataflow.Int(1), dataflow.Float(2), dataflow.Bool(true), dataflow.Timestamp(4), {}}
	b := dataflow.AppendRow(nil, row)
	dst := make(dataflow.Row, 0, len(row))
	var d wire.Decoder
	allocs := testing.AllocsPerRun(1000, func() {
		d.Reset(b)
		dst = dataflow.DecodeRow(&d, dst)
		if d.Finish() != nil {
			t.Fatal(d.Err())
		}
	})
	assert.Zero(t, allocs)
	assert.Equal(t, row, dst)
}

func randomValue(r *rand.Rand) dataflow.Value {
	switch r.IntN(6) {
	case 0:
		return dataflow.Value{}
	case 1:
		return dataflow.Int(int64(r.Uint64()))
	case 2:
		return dataflow.Float(r.NormFloat64())
	case 3:
		b := make([]byte, r.IntN(8))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return dataflow.Str(string(b))
	case 4:
		return dataflow.Bool(r.IntN(2) == 1)
	}
	return dataflow.Timestamp(dataflow.Time(r.Int64N(1 << 42)))
}

func FuzzResultRoundTrip(f *testing.F) {
	// Seeds: an empty result, negative windows with extras, a long key.
	f.Add(uint64(1), 0)
	f.Add(uint64(2), 3)
	f.Add(uint64(99), 12)
	f.Fuzz(func(t *testing.T, seed uint64, extras int) {
		r := rand.New(rand.NewPCG(seed, 7))
		res := dataflow.Result{Window: dataflow.Window{Start: dataflow.Time(r.Int64() - r.Int64()), End: dataflow.Time(r.Int64())},
			Key: randomValue(r).String(), Value: randomValue(r)}
		for range extras % 16 {
			res.Extra = append(res.Extra, randomValue(r))
		}
		b := dataflow.AppendResult(nil, res)
		d := wire.NewDecoder(b)
		if got := dataflow.DecodeResult(d); d.Finish() != nil || !equalResults(got, res) {
			t.Fatalf("DecodeResult(AppendResult(%v)) = %v, %v (seed %d)", res, got, d.Err(), seed)
		}
		for n := range len(b) {
			d := wire.NewDecoder(b[:n])
			dataflow.DecodeResult(d)
			if d.Finish() == nil {
				t.Fatalf("DecodeResult of %d of %d bytes did not fail (seed %d)", n, len(b), seed)
			}
		}
	})
}

func equalResults(a, b dataflow.Result) bool {
	if a.Window != b.Window || a.Key != b.Key || a.Value != b.Value || len(a.Extra) != len(b.Extra) {
		return false
	}
	for i := range a.Extra {
		if a.Extra[i] != b.Extra[i] {
			return false
		}
	}
	return true
}
