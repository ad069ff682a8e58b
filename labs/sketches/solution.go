//go:build !student

package sketches

import (
	"fmt"
	"math"
	"math/bits"
)

// HLL is a HyperLogLog sketch (Flajolet et al. 2007, with the 64-bit hash
// of Heule et al. 2013): the top p bits of a value's hash choose one of
// 2^p registers, which keeps the largest rank (leading zeros + 1) seen in
// the remaining bits. Adding a value twice changes nothing, and merging
// takes the register-wise maximum, so the merged sketch is exactly the
// sketch of the union of the inputs, whatever the split and the order.
type HLL struct {
	p   uint8
	reg []uint8
}

// NewHLL returns an empty sketch of 2^p registers (one byte each), p in
// [MinPrecision, MaxPrecision].
func NewHLL(p uint8) (*HLL, error) {
	if p < MinPrecision || p > MaxPrecision {
		return nil, fmt.Errorf("sketches: HyperLogLog precision %d is outside [%d, %d]", p, MinPrecision, MaxPrecision)
	}
	return &HLL{p: p, reg: make([]uint8, 1<<p)}, nil
}

// hash is FNV-1a over the bytes of s, then MurmurHash3's 64-bit
// finalizer: FNV alone has weak high bits, and the high bits pick the
// register. It is fixed and seedless, so every task and every run hashes
// a value the same way (hash/maphash is seeded per process: two processes'
// sketches would not merge).
func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// Add counts value v. It does not allocate.
func (h *HLL) Add(v string) {
	x := hash(v)
	idx := x >> (64 - h.p)
	// The sentinel bit caps the rank at 64-p+1 when the rest is all zero.
	w := x<<h.p | 1<<(h.p-1)
	if r := uint8(bits.LeadingZeros64(w) + 1); r > h.reg[idx] {
		h.reg[idx] = r
	}
}

// Merge folds o into h: afterwards h is the sketch of everything added to
// either. The precisions must match.
func (h *HLL) Merge(o *HLL) error {
	if o.p != h.p {
		return fmt.Errorf("sketches: cannot merge a HyperLogLog of precision %d into one of precision %d; build every partial with the same precision", o.p, h.p)
	}
	for i, r := range o.reg {
		h.reg[i] = max(h.reg[i], r)
	}
	return nil
}

// Estimate returns the estimated number of distinct values added: the
// harmonic mean of 2^register, bias-corrected, or linear counting over
// the empty registers while the estimate is small (below 2.5 * 2^p), where
// the raw estimate is biased.
func (h *HLL) Estimate() int64 {
	m := float64(len(h.reg))
	var sum float64
	zeros := 0
	for _, r := range h.reg { // register order: the same sum on every machine
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	alpha := 0.7213 / (1 + 1.079/m)
	switch len(h.reg) {
	case 16:
		alpha = 0.673
	case 32:
		alpha = 0.697
	case 64:
		alpha = 0.709
	}
	e := alpha * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return int64(math.Round(e))
}

// Moments accumulates the count, mean and variance of a stream of floats
// in one pass (Welford 1962) and merges partials (Chan, Golub and LeVeque
// 1979). It keeps the mean and the sum of squared deviations from it, never
// a sum of squares: E[x²] - E[x]² cancels catastrophically when the mean
// is large against the spread. The zero value is empty and ready to use.
type Moments struct {
	n    int64
	mean float64
	m2   float64 // sum of squared deviations from mean
}

// Add folds x in.
func (m *Moments) Add(x float64) {
	m.n++
	d := x - m.mean
	m.mean += d / float64(m.n)
	m.m2 += d * (x - m.mean)
}

// Merge folds o in: afterwards m holds the moments of both inputs, equal
// to the one-pass moments up to rounding.
func (m *Moments) Merge(o Moments) {
	switch {
	case o.n == 0:
		return
	case m.n == 0:
		*m = o
		return
	}
	n := m.n + o.n
	d := o.mean - m.mean
	m.mean += d * float64(o.n) / float64(n)
	m.m2 += o.m2 + d*d*float64(m.n)*float64(o.n)/float64(n)
	m.n = n
}

// Count is the number of values added.
func (m *Moments) Count() int64 { return m.n }

// Mean is their arithmetic mean (0 when empty).
func (m *Moments) Mean() float64 { return m.mean }

// Variance is their population variance, the mean squared deviation from
// the mean (0 when empty).
func (m *Moments) Variance() float64 {
	if m.n == 0 {
		return 0
	}
	return m.m2 / float64(m.n)
}
