package datasets

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"

	"github.com/weirlab/weir/dataflow"
)

// Deterministic choices. Generators draw uniform uint64s from PCG and map
// them to choices with integer arithmetic only, so the same seed gives the
// same events on every machine (no floating-point library calls whose last
// bit may differ between architectures).

// pick maps a uniform 32-bit value to [0, n) (Lemire's multiply-shift; its
// bias, below n/2^32, is irrelevant here).
func pick(r uint32, n int) int { return int(uint64(r) * uint64(n) >> 32) }

// pickN maps a uniform uint64 to [0, n) for any n > 0.
func pickN(r uint64, n int64) int64 {
	hi, _ := bits.Mul64(r, uint64(n))
	return int64(hi)
}

// timeline maps event numbers to event times: event n happens at
// start + n*1000/rate ms.
type timeline struct {
	start dataflow.Time
	msPer float64
}

func newTimeline(cfg Config) timeline {
	return timeline{start: cfg.Start, msPer: 1000 / cfg.EventRate}
}

// at returns the event time of event n in ms. A single multiplication, so
// the result is exact IEEE arithmetic on every machine.
func (tl timeline) at(n int64) int64 { return int64(tl.start) + int64(float64(n)*tl.msPer) }

// partitionOf returns the partition of a record whose partition key has
// value v: FNV-1a of a string's bytes, or a 64-bit mix of an integer, modulo
// the number of partitions. Generators and [LoadDir] both use it, so a
// reloaded log is partitioned like the generated one.
func partitionOf(v dataflow.Value, partitions int) int32 {
	var h uint64
	if v.K == dataflow.KindString {
		h = fnv1a(v.S)
	} else {
		h = mix64(uint64(v.I))
	}
	return int32(h % uint64(partitions))
}

func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix64 is SplitMix64's finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// pool is a list of strings interned in one column's dictionary, with each
// string's code and, for partition-key columns, its partition.
type pool struct {
	vals  []string
	codes []int32
	parts []int32
}

func newPool(d *Dict, vals []string, partitions int) pool {
	p := pool{vals: vals, codes: make([]int32, len(vals)), parts: make([]int32, len(vals))}
	for i, v := range vals {
		p.codes[i] = d.Intern(v)
		p.parts[i] = partitionOf(dataflow.Str(v), partitions)
	}
	return p
}

// numbered returns prefix + i (zero padded to width) for i in [0, n).
func numbered(prefix string, n, width int) []string {
	out := make([]string, n)
	for i := range out {
		s := strconv.Itoa(i)
		for len(s) < width {
			s = "0" + s
		}
		out[i] = prefix + s
	}
	return out
}

// uuids returns n UUID-like (version 4 layout) ids drawn from r.
func uuids(r *rand.Rand, n int) []string {
	const hex = "0123456789abcdef"
	out := make([]string, n)
	var b [36]byte
	for i := range out {
		hi, lo := r.Uint64(), r.Uint64()
		hi = hi&^(0xf<<12) | 4<<12 // version 4
		lo = lo&^(3<<62) | 2<<62   // variant
		k := 0
		for j := range 32 {
			if j == 8 || j == 12 || j == 16 || j == 20 {
				b[k] = '-'
				k++
			}
			var nib uint64
			if j < 16 {
				nib = hi >> (60 - 4*j) & 0xf
			} else {
				nib = lo >> (60 - 4*(j-16)) & 0xf
			}
			b[k] = hex[nib]
			k++
		}
		out[i] = string(b[:])
	}
	return out
}

// zipf samples ranks 0..n-1 with probability proportional to 1/(rank+1)
// (Zipf's law, s = 1) in O(1) with Vose's alias method: a uniform column
// i, then i or its alias by a 32-bit threshold. The table is built with IEEE
// division, addition and subtraction only (nothing the compiler may fuse),
// so it is the same on every machine (DS1).
type zipf struct {
	thr   []uint32 // keep column i when the draw's high half is below thr[i]
	alias []int32
}

func newZipf(n int) zipf {
	w := make([]float64, n)
	var total float64
	for i := range w {
		w[i] = 1 / float64(i+1)
		total += w[i]
	}
	z := zipf{thr: make([]uint32, n), alias: make([]int32, n)}
	p := make([]float64, n)
	var small, large []int32
	for i := range w {
		p[i] = w[i] / total * float64(n)
		if p[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		z.thr[s] = uint32(p[s] * (1 << 32))
		z.alias[s] = l
		p[l] = (p[l] + p[s]) - 1
		if p[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range append(small, large...) {
		z.thr[i] = math.MaxUint32
		z.alias[i] = i
	}
	return z
}

// sample returns a rank for a uniform uint64.
func (z zipf) sample(r uint64) int {
	i := pick(uint32(r), len(z.thr))
	if uint32(r>>32) < z.thr[i] {
		return i
	}
	return int(z.alias[i])
}

// randomWord returns a pronounceable pseudo-word of 2..maxSyl syllables.
func randomWord(r *rand.Rand, maxSyl int) string {
	const cons, vows = "bcdfghjklmnprstvwz", "aeiou"
	n := 2 + r.IntN(maxSyl-1)
	b := make([]byte, 0, 2*n)
	for range n {
		b = append(b, cons[r.IntN(len(cons))], vows[r.IntN(len(vows))])
	}
	return string(b)
}

// distinctWords returns n distinct pseudo-words.
func distinctWords(r *rand.Rand, n, maxSyl int) []string {
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for len(out) < n {
		w := randomWord(r, maxSyl)
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// ipv4s returns n distinct dotted IPv4 addresses in a private range.
func ipv4s(r *rand.Rand, n int, first byte) []string {
	seen := make(map[uint32]bool, n)
	out := make([]string, 0, n)
	for len(out) < n {
		x := r.Uint32() & 0xffffff
		if seen[x] {
			continue
		}
		seen[x] = true
		out = append(out, strconv.Itoa(int(first))+"."+strconv.Itoa(int(x>>16))+"."+strconv.Itoa(int(x>>8&0xff))+"."+strconv.Itoa(int(x&0xff)))
	}
	return out
}

// schemaOf builds a schema from name/kind pairs.
func schemaOf(fs ...dataflow.Field) dataflow.Schema { return dataflow.NewSchema(fs...) }

func str(name string) dataflow.Field { return dataflow.Field{Name: name, Kind: dataflow.KindString} }
func i64(name string) dataflow.Field { return dataflow.Field{Name: name, Kind: dataflow.KindInt64} }
func f64(name string) dataflow.Field { return dataflow.Field{Name: name, Kind: dataflow.KindFloat64} }
func tstamp(name string) dataflow.Field {
	return dataflow.Field{Name: name, Kind: dataflow.KindTimestamp}
}
