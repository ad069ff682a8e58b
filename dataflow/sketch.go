package dataflow

import (
	"math"
	"math/bits"
)

// This file holds the two approximate sketches behind AggApproxTopN and
// AggApproxDistinct, and the value hash they share.
//
// Sketch results must be identical on every runtime and machine (the
// reference, microbatch and recordstream are compared value for value), so
// the hash is a fixed, seedless function written out here: FNV-1a over a
// string's bytes (or the 8 bytes of a number), then the 64-bit finalizer of
// MurmurHash3 to spread FNV's weak high bits. hash/maphash is seeded per
// process and would make every run different.
//
// Both sketches are linear: merging two sketches gives exactly the sketch of
// the union of their inputs, whatever the split (a micro-batch merges
// per-batch partial sketches, a bolt adds record by record, and both must
// agree). That is why the Count-Min sketch uses the plain update rather than
// the conservative one: conservative update is more accurate but its
// counters depend on the order of additions and do not merge exactly. The
// approximate top-N's candidate set keeps the same property (see
// [ApproxTopN] and approxTopNAcc).

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211

	// DefaultSketchWidth and DefaultSketchDepth size a Count-Min sketch when
	// [Agg.Width] or [Agg.Depth] is zero.
	DefaultSketchWidth = 2048
	DefaultSketchDepth = 4
	// DefaultHLLPrecision is the HyperLogLog precision (2^14 registers, a
	// standard error of 1.04/sqrt(2^14) = 0.8%) when [Agg.Precision] is zero.
	DefaultHLLPrecision = 14
)

// canonical returns v with the representation the sketches and the exact
// distinct/top-N maps key on: floats -0 and 0 are one value, every NaN is one
// value, and a string carries no integer bits (and a number no string).
func canonical(v Value) Value {
	switch v.K {
	case KindString:
		return Value{K: KindString, S: v.S}
	case KindFloat64:
		f := v.Float64()
		switch {
		case f == 0:
			return Value{K: KindFloat64}
		case f != f:
			return Value{K: KindFloat64, I: int64(math.Float64bits(math.NaN()))}
		}
	}
	return Value{K: v.K, I: v.I}
}

// hashValue is the deterministic 64-bit hash of a canonical value. It does not
// allocate.
func hashValue(v Value) uint64 {
	h := uint64(fnvOffset64)
	h ^= uint64(v.K)
	h *= fnvPrime64
	if v.K == KindString {
		for i := 0; i < len(v.S); i++ {
			h ^= uint64(v.S[i])
			h *= fnvPrime64
		}
		return mix64(h ^ uint64(len(v.S)))
	}
	x := uint64(v.I)
	for i := 0; i < 8; i++ {
		h ^= x & 0xff
		h *= fnvPrime64
		x >>= 8
	}
	return mix64(h)
}

// mix64 is MurmurHash3's fmix64 finalizer: every input bit affects every
// output bit.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// countMin is a Count-Min sketch (Cormode and Muthukrishnan, 2005): depth
// rows of width counters; a value increments one counter per row and its
// estimate is the least of them, which never underestimates. Each row has
// its own hash: row r's column is mix64(h ^ rowSeed(r)) reduced to the
// width, a fixed seed per row, so two values that share a column in one row
// share one in another only by chance (probability 1/width per row). Double
// hashing (h1 + r*h2 from one hash) is not used: two values whose h1 and h2
// agree modulo the width collide in every row, and the sketch then reports
// the two with one inflated estimate. Counters are uint32 and saturate,
// halving the memory of a window's sketch (32 KiB at the default 2048x4).
type countMin struct {
	width, depth int
	// mask is width-1 when width is a power of two (the default), so the
	// column is a mask rather than a division; 0 otherwise.
	mask  uint32
	cells []uint32 // row r is cells[r*width : (r+1)*width]
}

func newCountMin(width, depth int) countMin {
	c := countMin{width: width, depth: depth, cells: make([]uint32, width*depth)}
	if width&(width-1) == 0 {
		c.mask = uint32(width - 1)
	}
	return c
}

// rowSeed is row r's hash seed: the golden-ratio sequence of splitmix64,
// fixed so that every runtime and machine builds the same sketch.
func rowSeed(r int) uint64 { return uint64(r+1) * 0x9e3779b97f4a7c15 }

// col is the column of the value with hash h in row r.
func (c *countMin) col(h uint64, r int) int {
	x := uint32(mix64(h^rowSeed(r)) >> 32)
	if c.mask != 0 || c.width == 1 {
		return int(x & c.mask)
	}
	return int(x % uint32(c.width))
}

// add counts one occurrence of the value with hash h.
func (c *countMin) add(h uint64) {
	for r := 0; r < c.depth; r++ {
		i := r*c.width + c.col(h, r)
		if c.cells[i] < math.MaxUint32 {
			c.cells[i]++
		}
	}
}

// estimate returns the least counter of the value with hash h.
func (c *countMin) estimate(h uint64) uint32 {
	est := uint32(math.MaxUint32)
	for r := 0; r < c.depth; r++ {
		est = min(est, c.cells[r*c.width+c.col(h, r)])
	}
	return est
}

// merge adds o's counters (same width and depth) to c's, saturating.
func (c *countMin) merge(o *countMin) {
	for i, x := range o.cells {
		c.cells[i] = uint32(min(uint64(c.cells[i])+uint64(x), math.MaxUint32))
	}
}

func (c *countMin) reset() { clear(c.cells) }

// hyperLogLog is Flajolet et al.'s HyperLogLog (2007) with a 64-bit hash, as
// in Heule et al. (2013): the top p bits of the hash pick one of 2^p
// registers, which keeps the largest rank (leading zeros + 1) of the rest.
// With 64-bit hashes no large-range correction is needed; small cardinalities
// use linear counting over the empty registers.
type hyperLogLog struct {
	p   uint8
	reg []uint8
}

func newHyperLogLog(p uint8) hyperLogLog {
	return hyperLogLog{p: p, reg: make([]uint8, 1<<p)}
}

// maxRank is the largest rank a register can hold.
func (s *hyperLogLog) maxRank() uint8 { return 64 - s.p + 1 }

func (s *hyperLogLog) add(h uint64) {
	idx := h >> (64 - s.p)
	// The sentinel bit bounds the rank at 64-p+1 when the rest is all zero.
	w := h<<s.p | 1<<(s.p-1)
	if r := uint8(bits.LeadingZeros64(w) + 1); r > s.reg[idx] {
		s.reg[idx] = r
	}
}

// merge takes the register-wise maximum: exactly the sketch of the union.
func (s *hyperLogLog) merge(o *hyperLogLog) {
	for i, r := range o.reg {
		if r > s.reg[i] {
			s.reg[i] = r
		}
	}
}

// estimate returns the cardinality estimate, rounded. The sum runs in
// register order, so the result is the same on every machine.
func (s *hyperLogLog) estimate() int64 {
	m := float64(len(s.reg))
	var sum float64
	zeros := 0
	for _, r := range s.reg {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	var alpha float64
	switch len(s.reg) {
	case 16:
		alpha = 0.673
	case 32:
		alpha = 0.697
	case 64:
		alpha = 0.709
	default:
		alpha = 0.7213 / (1 + 1.079/m)
	}
	e := alpha * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return int64(math.Round(e))
}

func (s *hyperLogLog) reset() { clear(s.reg) }
