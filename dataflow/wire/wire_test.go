package wire_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow/wire"
)

// record is one of each primitive, for round trips.
type record struct {
	U    uint64
	I    int64
	F    float64
	B    byte
	Raw  []byte // fixed size 3
	Blob []byte
	S    string
}

func appendRecord(dst []byte, r record) []byte {
	dst = wire.AppendUvarint(dst, r.U)
	dst = wire.AppendVarint(dst, r.I)
	dst = wire.AppendFloat(dst, r.F)
	dst = append(dst, r.B)
	dst = append(dst, r.Raw...)
	dst = wire.AppendBytes(dst, r.Blob)
	return wire.AppendString(dst, r.S)
}

func decodeRecord(d *wire.Decoder) record {
	return record{U: d.Uvarint(), I: d.Varint(), F: d.Float(), B: d.Byte(), Raw: d.Next(3), Blob: d.Bytes(), S: d.String()}
}

func TestRoundTrip(t *testing.T) {
	for _, r := range []record{
		{Raw: []byte{0, 0, 0}, Blob: []byte{}},
		{U: 127, I: -64, F: 1.5, B: 0xff, Raw: []byte("abc"), Blob: []byte("blob"), S: "hé"},
		{U: 128, I: 64, F: math.Inf(-1), Raw: []byte{1, 2, 3}, Blob: bytes.Repeat([]byte{7}, 300), S: "s"},
		{U: math.MaxUint64, I: math.MinInt64, F: math.Copysign(0, -1), Raw: []byte{9, 9, 9}, Blob: []byte{}},
		{U: 1, I: math.MaxInt64, F: math.SmallestNonzeroFloat64, Raw: []byte{0, 1, 0}, Blob: []byte{0}},
	} {
		b := appendRecord([]byte("prefix"), r)
		d := wire.NewDecoder(b[len("prefix"):])
		got := decodeRecord(d)
		require.NoError(t, d.Finish(), "decode(append(%+v))", r)
		assert.Equal(t, r, got, "decode(append(%+v))", r)
		assert.Zero(t, d.Len())
	}
}

func TestNaNRoundTrip(t *testing.T) {
	d := wire.NewDecoder(wire.AppendFloat(nil, math.NaN()))
	assert.True(t, math.IsNaN(d.Float()))
	require.NoError(t, d.Finish())
}

// TestTruncated checks that every prefix of a valid encoding fails with an
// error wrapping ErrCorrupt and that reads after the failure return zero
// values (WR1).
func TestTruncated(t *testing.T) {
	full := appendRecord(nil, record{U: 1 << 40, I: -3, F: 2, B: 4, Raw: []byte("xyz"), Blob: []byte("blob"), S: "str"})
	for n := range len(full) {
		d := wire.NewDecoder(full[:n])
		decodeRecord(d)
		require.Error(t, d.Err(), "decode of the first %d of %d bytes", n, len(full))
		assert.ErrorIs(t, d.Err(), wire.ErrCorrupt)
		assert.Zero(t, d.Len(), "unread bytes after a failure")
		assert.Zero(t, d.Uvarint(), "Uvarint after a failure")
		assert.Zero(t, d.Byte(), "Byte after a failure")
		assert.Nil(t, d.Bytes(), "Bytes after a failure")
	}
}

func TestDecoderErrors(t *testing.T) {
	t.Run("overlong varint", func(t *testing.T) {
		d := wire.NewDecoder(bytes.Repeat([]byte{0xff}, 11))
		d.Uvarint()
		assert.ErrorIs(t, d.Err(), wire.ErrCorrupt)
		assert.ErrorContains(t, d.Err(), "varint")
	})
	t.Run("count above the bytes left", func(t *testing.T) {
		d := wire.NewDecoder(append(wire.AppendUvarint(nil, 3), 1, 2))
		assert.Zero(t, d.Count())
		assert.ErrorContains(t, d.Err(), "3 elements in 2 bytes")
	})
	t.Run("count of the bytes left", func(t *testing.T) {
		d := wire.NewDecoder(append(wire.AppendUvarint(nil, 2), 1, 2))
		assert.Equal(t, 2, d.Count())
		require.NoError(t, d.Err())
	})
	t.Run("length above the bytes left", func(t *testing.T) {
		d := wire.NewDecoder(append(wire.AppendUvarint(nil, 1<<62), 'x'))
		assert.Nil(t, d.Bytes())
		assert.ErrorIs(t, d.Err(), wire.ErrCorrupt)
	})
	t.Run("negative Next", func(t *testing.T) {
		d := wire.NewDecoder([]byte{1})
		assert.Nil(t, d.Next(-1))
		assert.ErrorIs(t, d.Err(), wire.ErrCorrupt)
	})
	t.Run("trailing bytes", func(t *testing.T) {
		d := wire.NewDecoder([]byte{1, 2, 3})
		d.Byte()
		err := d.Finish()
		assert.ErrorIs(t, err, wire.ErrCorrupt)
		assert.ErrorContains(t, err, "2 trailing bytes")
		assert.ErrorContains(t, err, "byte 1 of 3")
	})
	t.Run("first failure sticks", func(t *testing.T) {
		d := wire.NewDecoder([]byte{5})
		d.Fail("first")
		d.Fail("second")
		assert.ErrorContains(t, d.Err(), "first")
		assert.NotContains(t, d.Err().Error(), "second")
		assert.ErrorContains(t, d.Err(), "byte 0 of 1")
	})
	t.Run("reset clears the error", func(t *testing.T) {
		d := wire.NewDecoder(nil)
		d.Byte()
		require.Error(t, d.Err())
		d.Reset([]byte{9})
		assert.Equal(t, byte(9), d.Byte())
		assert.NoError(t, d.Finish())
	})
}

// TestAliasing pins WR3: Bytes and Next alias the input with capacity
// their length, so an append cannot overwrite what follows.
func TestAliasing(t *testing.T) {
	b := wire.AppendBytes(nil, []byte("ab"))
	b = append(b, 'c', 'd')
	d := wire.NewDecoder(b)
	got := d.Bytes()
	assert.Same(t, &b[1], &got[0], "Bytes aliases its input")
	assert.Equal(t, 2, cap(got))
	next := d.Next(1)
	assert.Equal(t, 1, cap(next))
	_ = append(next, 'X')
	assert.Equal(t, byte('d'), d.Byte(), "append to Next's slice overwrote the input")
}

func TestSections(t *testing.T) {
	var b []byte
	b = wire.AppendSection(b, "spout", []byte{1, 2, 3})
	b = wire.AppendSection(b, "window", nil)
	m, err := wire.Sections(b)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3}, m["spout"])
	assert.Empty(t, m["window"])
	assert.Contains(t, m, "window")

	m, err = wire.Sections(nil)
	require.NoError(t, err)
	assert.Empty(t, m)

	_, err = wire.Sections(b[:len(b)-1])
	assert.ErrorIs(t, err, wire.ErrCorrupt)
	_, err = wire.Sections(wire.AppendSection(b, "spout", nil))
	assert.ErrorIs(t, err, wire.ErrCorrupt)
	assert.ErrorContains(t, err, "twice")
}

// TestDecoderAllocs pins WR4: the hot reads allocate nothing.
func TestDecoderAllocs(t *testing.T) {
	var b []byte
	for i := range 64 {
		b = wire.AppendUvarint(b, uint64(i)<<(i%40))
		b = wire.AppendVarint(b, -int64(i)<<(i%50))
		b = wire.AppendFloat(b, float64(i)/3)
		b = append(b, byte(i))
		b = wire.AppendBytes(b, []byte("bytes"))
		b = wire.AppendUvarint(b, 1)
		b = append(b, 0)
	}
	var d wire.Decoder
	var sink uint64
	allocs := testing.AllocsPerRun(100, func() {
		d.Reset(b)
		for d.Len() > 0 {
			sink += d.Uvarint()
			sink += uint64(d.Varint())
			sink += uint64(d.Float())
			sink += uint64(d.Byte())
			sink += uint64(len(d.Bytes()))
			sink += uint64(d.Count())
			sink += uint64(len(d.Next(1)))
		}
		if d.Finish() != nil {
			t.Fatal(d.Err())
		}
	})
	assert.Zero(t, allocs, "allocations per decode of %d bytes", len(b))
	allocs = testing.AllocsPerRun(100, func() {
		d := wire.NewDecoder(b)
		sink += d.Uvarint()
	})
	assert.Zero(t, allocs, "NewDecoder of a decoder that does not escape")
	_ = sink
}

// TestRandomRoundTrip round-trips random records with a fixed seed.
func TestRandomRoundTrip(t *testing.T) {
	const seed = 11
	r := rand.New(rand.NewPCG(seed, 1))
	var b []byte
	var want []record
	for range 500 {
		rec := record{U: r.Uint64() >> r.IntN(64), I: int64(r.Uint64()) >> r.IntN(64), F: r.NormFloat64(),
			B: byte(r.IntN(256)), Raw: []byte{byte(r.IntN(256)), 0, 1}, Blob: make([]byte, r.IntN(200))}
		for i := range rec.Blob {
			rec.Blob[i] = byte(r.IntN(256))
		}
		rec.S = string(rec.Blob[:len(rec.Blob)/2])
		want = append(want, rec)
		b = appendRecord(b, rec)
	}
	d := wire.NewDecoder(b)
	for i, w := range want {
		require.Equal(t, w, decodeRecord(d), "record %d (seed %d)", i, seed)
	}
	require.NoError(t, d.Finish())
}

func FuzzRoundTrip(f *testing.F) {
	// Seeds: zero values, the one- and two-byte varint boundary, extremes.
	f.Add(uint64(0), int64(0), 0.0, byte(0), []byte{}, "")
	f.Add(uint64(127), int64(-64), 1.5, byte(1), []byte("blob"), "hé")
	f.Add(uint64(128), int64(64), -2.25, byte(0x80), []byte{0}, "x")
	f.Add(uint64(math.MaxUint64), int64(math.MinInt64), math.Inf(1), byte(0xff), bytes.Repeat([]byte{0xff}, 200), "long")
	f.Fuzz(func(t *testing.T, u uint64, i int64, fl float64, c byte, blob []byte, s string) {
		rec := record{U: u, I: i, F: fl, B: c, Raw: []byte{c, c, c}, Blob: blob, S: s}
		b := appendRecord(nil, rec)
		d := wire.NewDecoder(b)
		got := decodeRecord(d)
		if err := d.Finish(); err != nil {
			t.Fatalf("decode(append(%+v)): %v", rec, err)
		}
		if got.U != u || got.I != i || math.Float64bits(got.F) != math.Float64bits(fl) || got.B != c ||
			!bytes.Equal(got.Blob, blob) || got.S != s {
			t.Fatalf("decode(append(%+v)) = %+v", rec, got)
		}
		// Any prefix fails cleanly, never panics.
		for n := range len(b) {
			d := wire.NewDecoder(b[:n])
			decodeRecord(d)
			if !errors.Is(d.Err(), wire.ErrCorrupt) {
				t.Fatalf("decode of %d of %d bytes: err %v, want ErrCorrupt", n, len(b), d.Err())
			}
		}
	})
}

func FuzzDecoder(f *testing.F) {
	// Seeds: a valid record, garbage, an overlong varint.
	f.Add(appendRecord(nil, record{U: 300, I: -1, F: 3, B: 2, Raw: []byte("abc"), Blob: []byte("b"), S: "s"}))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0x80}, 12))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := wire.NewDecoder(b)
		for d.Len() > 0 {
			n := d.Count()
			for range n {
				d.Varint()
			}
			d.Bytes()
		}
		if err := d.Finish(); err != nil && !errors.Is(err, wire.ErrCorrupt) {
			t.Fatalf("error %v does not wrap ErrCorrupt", err)
		}
		if _, err := wire.Sections(b); err != nil && !errors.Is(err, wire.ErrCorrupt) {
			t.Fatalf("Sections error %v does not wrap ErrCorrupt", err)
		}
	})
}
