package datasets

import (
	"math"
	"unsafe"

	"github.com/weirlab/weir/dataflow"
)

// Chunk holds up to ChunkRows consecutive records of one partition,
// starting at offset Base. Rows [0, n) where Base+n <= End(partition) are
// immutable and safe to read concurrently. Columns are addressed by schema
// position; read each with the accessor of its kind (int64, timestamp and
// bool columns: [Chunk.Int] and [Chunk.Ints64]; float64: [Chunk.Float] and
// [Chunk.Floats64]; string columns: their codes in [Log.Dict], [Chunk.Code]
// and [Chunk.Codes32]; every record's ingest time: [Chunk.IngestAt] and
// [Chunk.Ingests]).
//
// A chunk is stored in one of two forms, which the accessors hide:
//
//   - open: the chunk the appender is writing holds wide columns (8 bytes
//     an int64, timestamp, bool, float64 or ingest time, 4 a string code)
//     of ChunkRows rows, allocated whole;
//   - sealed ([Chunk.Sealed]): once every row is appended and the appender
//     has moved to the next chunk (or the log is closed), the log swaps in
//     a compact copy. Each integer column (int64, timestamp, bool, string
//     code, ingest time) is stored as a frame of reference, the chunk's
//     smallest value, plus each value's difference from it in the
//     narrowest of 1, 2 or 4 bytes that holds the chunk's range (a column
//     whose range needs more stays wide); float64 columns stay 8 bytes.
//     A YSB chunk of the built-in data takes 13 bytes a record
//     instead of 40.
//
// The bulk decoders ([Chunk.Ints64], [Chunk.Codes32], [Chunk.Floats64],
// [Chunk.Ingests]) widen a row range of one column into a caller's reused
// buffer in one tight loop, for loops that read many rows of few columns:
// decode each column's range, then loop over the buffers. They allocate
// only when the buffer is too small.
type Chunk struct {
	Base   int64
	n      int // rows held: ChunkRows for an open chunk, the rows sealed otherwise
	sealed bool
	cols   []column // by schema position
	ingest column   // ingest times, ns since the epoch
}

// column is one column of a chunk: exactly one of the slices is set. wide
// forms are i64 (int64, timestamp and bool values, ingest times), f64
// (floats) and i32 (string codes); packed forms are u8, u16 and u32, each
// value ref plus the unsigned difference.
type column struct {
	i64 []int64
	f64 []float64
	i32 []int32
	u8  []uint8
	u16 []uint16
	u32 []uint32
	ref int64
}

// newChunk returns an open chunk of n rows of schema s at offset base.
func newChunk(s dataflow.Schema, base int64, n int) *Chunk {
	c := &Chunk{Base: base, n: n, cols: make([]column, s.Len()), ingest: column{i64: make([]int64, n)}}
	for i, f := range s.Fields {
		switch f.Kind {
		case dataflow.KindFloat64:
			c.cols[i].f64 = make([]float64, n)
		case dataflow.KindString:
			c.cols[i].i32 = make([]int32, n)
		default:
			c.cols[i].i64 = make([]int64, n)
		}
	}
	return c
}

// Sealed reports whether c is the compact copy of a complete chunk (see
// [Chunk]), as opposed to the open chunk being appended.
func (c *Chunk) Sealed() bool { return c.sealed }

// Bytes returns the bytes c's columns hold.
func (c *Chunk) Bytes() int64 {
	n := c.ingest.bytes()
	for i := range c.cols {
		n += c.cols[i].bytes()
	}
	return n
}

func (k *column) bytes() int64 {
	return int64(8*cap(k.i64) + 8*cap(k.f64) + 4*cap(k.i32) + cap(k.u8) + 2*cap(k.u16) + 4*cap(k.u32))
}

// seal returns the sealed form of rows [0, n) of the open chunk c, which
// nobody writes any more. Wide slices that stay wide are shared with c when
// n is the whole chunk, and copied to n rows otherwise.
func (c *Chunk) seal(n int) *Chunk {
	s := &Chunk{Base: c.Base, n: n, sealed: true, cols: make([]column, len(c.cols))}
	whole := n == c.n
	for i := range c.cols {
		k := &c.cols[i]
		switch {
		case k.f64 != nil:
			s.cols[i].f64 = k.f64[:n:n]
			if !whole {
				s.cols[i].f64 = append([]float64(nil), k.f64[:n]...)
			}
		case k.i32 != nil:
			s.cols[i] = packCodes(k.i32[:n], whole)
		default:
			s.cols[i] = packInts(k.i64[:n], whole)
		}
	}
	s.ingest = packInts(c.ingest.i64[:n], whole)
	return s
}

// packInts returns vs as a column of the narrowest width holding its range.
func packInts(vs []int64, share bool) column {
	if len(vs) == 0 {
		return column{i64: []int64{}}
	}
	lo, hi := vs[0], vs[0]
	for _, v := range vs {
		lo, hi = min(lo, v), max(hi, v)
	}
	span := uint64(hi) - uint64(lo) // the range, exact in uint64 even for [MinInt64, MaxInt64]
	k := column{ref: lo}
	switch {
	case span <= math.MaxUint8:
		k.u8 = make([]uint8, len(vs))
		for i, v := range vs {
			k.u8[i] = uint8(uint64(v) - uint64(lo))
		}
	case span <= math.MaxUint16:
		k.u16 = make([]uint16, len(vs))
		for i, v := range vs {
			k.u16[i] = uint16(uint64(v) - uint64(lo))
		}
	case span <= math.MaxUint32:
		k.u32 = make([]uint32, len(vs))
		for i, v := range vs {
			k.u32[i] = uint32(uint64(v) - uint64(lo))
		}
	default:
		k.ref = 0
		k.i64 = vs[:len(vs):len(vs)]
		if !share {
			k.i64 = append([]int64(nil), vs...)
		}
	}
	return k
}

// packCodes is packInts for string codes (non-negative int32).
func packCodes(vs []int32, share bool) column {
	if len(vs) == 0 {
		return column{i32: []int32{}}
	}
	lo, hi := vs[0], vs[0]
	for _, v := range vs {
		lo, hi = min(lo, v), max(hi, v)
	}
	span := uint32(hi) - uint32(lo)
	k := column{ref: int64(lo)}
	switch {
	case span <= math.MaxUint8:
		k.u8 = make([]uint8, len(vs))
		for i, v := range vs {
			k.u8[i] = uint8(v - lo)
		}
	case span <= math.MaxUint16:
		k.u16 = make([]uint16, len(vs))
		for i, v := range vs {
			k.u16[i] = uint16(v - lo)
		}
	default:
		k.ref = 0
		k.i32 = vs[:len(vs):len(vs)]
		if !share {
			k.i32 = append([]int32(nil), vs...)
		}
	}
	return k
}

// width returns the bytes a value of k takes.
func (k *column) width() int {
	switch {
	case k.u8 != nil:
		return 1
	case k.u16 != nil:
		return 2
	case k.u32 != nil, k.i32 != nil:
		return 4
	}
	return 8
}

// Width returns the bytes a value of column col takes in c (1, 2, 4 or 8),
// or of the ingest times for col -1: what sealing chose for it.
func (c *Chunk) Width(col int) int {
	if col == -1 {
		return c.ingest.width()
	}
	return c.cols[col].width()
}

// Rows returns the rows c holds: ChunkRows for an open chunk, and for a
// sealed one the rows appended before it was sealed (fewer only for the
// last chunk of a partition of a closed log).
func (c *Chunk) Rows() int { return c.n }

// Int returns row i of int64, timestamp (ms) or bool (0/1) column col.
func (c *Chunk) Int(col, i int) int64 { return c.cols[col].int(i) }

// IngestAt returns the ingest time (ns since the epoch) of row i.
func (c *Chunk) IngestAt(i int) int64 { return c.ingest.int(i) }

// Code returns row i of string column col: its code in [Log.Dict](col).
func (c *Chunk) Code(col, i int) int32 {
	k := &c.cols[col]
	switch {
	case k.i32 != nil:
		return k.i32[i]
	case k.u8 != nil:
		return int32(k.ref) + int32(k.u8[i])
	default:
		return int32(k.ref) + int32(k.u16[i])
	}
}

// Float returns row i of float64 column col.
func (c *Chunk) Float(col, i int) float64 { return c.cols[col].f64[i] }

func (k *column) int(i int) int64 {
	switch {
	case k.i64 != nil:
		return k.i64[i]
	case k.u8 != nil:
		return k.ref + int64(k.u8[i])
	case k.u16 != nil:
		return k.ref + int64(k.u16[i])
	default:
		return int64(uint64(k.ref) + uint64(k.u32[i]))
	}
}

// Ints64 returns rows [lo, hi) of int64, timestamp or bool column col in
// dst resized to hi-lo (reallocated only when its capacity is too small):
// pass the previous result back in to reuse its memory.
func (c *Chunk) Ints64(col, lo, hi int, dst []int64) []int64 {
	return c.cols[col].ints(lo, hi, dst)
}

// Ingests returns the ingest times of rows [lo, hi) as [Chunk.Ints64]
// returns a column.
func (c *Chunk) Ingests(lo, hi int, dst []int64) []int64 { return c.ingest.ints(lo, hi, dst) }

func (k *column) ints(lo, hi int, dst []int64) []int64 {
	dst = grow(dst, hi-lo)
	if k.i64 != nil {
		copy(dst, k.i64[lo:hi])
		return dst
	}
	decodeInts(k, lo, hi, dst)
	return dst
}

// decodeInts widens rows [lo, hi) of the packed integer column k into dst
// (len(dst) == hi-lo).
func decodeInts(k *column, lo, hi int, dst []int64) {
	ref := k.ref
	switch {
	case k.u8 != nil:
		src := k.u8[lo:hi]
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] = ref + int64(v)
		}
	case k.u16 != nil:
		src := k.u16[lo:hi]
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] = ref + int64(v)
		}
	default:
		src := k.u32[lo:hi]
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] = int64(uint64(ref) + uint64(v))
		}
	}
}

// Codes32 returns the codes of rows [lo, hi) of string column col in dst,
// as [Chunk.Ints64] does.
func (c *Chunk) Codes32(col, lo, hi int, dst []int32) []int32 {
	k := &c.cols[col]
	dst = grow(dst, hi-lo)
	if k.i32 != nil {
		copy(dst, k.i32[lo:hi])
		return dst
	}
	decodeCodes(k, lo, hi, dst)
	return dst
}

// decodeCodes widens rows [lo, hi) of the packed code column k into dst.
func decodeCodes(k *column, lo, hi int, dst []int32) {
	ref := int32(k.ref)
	if k.u8 != nil {
		src := k.u8[lo:hi]
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] = ref + int32(v)
		}
		return
	}
	src := k.u16[lo:hi]
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = ref + int32(v)
	}
}

// Floats64 returns rows [lo, hi) of float64 column col in dst, as
// [Chunk.Ints64] does.
func (c *Chunk) Floats64(col, lo, hi int, dst []float64) []float64 {
	dst = grow(dst, hi-lo)
	copy(dst, c.cols[col].f64[lo:hi])
	return dst
}

// grow returns dst resized to n, reallocated only when too small.
func grow[T any](dst []T, n int) []T {
	if cap(dst) < n {
		return make([]T, n, max(n, 2*cap(dst)))
	}
	return dst[:n]
}

// int64sOf and int32sOf view b, a buffer of an Arrow allocator (aligned to
// 64 bytes), as n values.
func int64sOf(b []byte, n int) []int64 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*int64)(unsafe.Pointer(&b[0])), n)
}

func int32sOf(b []byte, n int) []int32 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(&b[0])), n)
}
