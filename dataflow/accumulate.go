package dataflow

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/weirlab/weir/dataflow/wire"
)

// This file implements [Accumulator] for every [AggKind].
//
// # Encoding
//
// AppendBinary writes a self-describing, versioned record:
//
//	+------+---------+----------+-----------------------------+
//	| 'A'  | version | agg kind | payload (kind-specific)     |
//	+------+---------+----------+-----------------------------+
//	  1 B     1 B        1 B
//
// Payloads are written with package wire: integers are varints, floats 8
// bytes, values as [AppendValue] writes them (a kind byte, then a varint or
// a length-prefixed string). UnmarshalBinary checks the magic, version, kind and every length against the
// bytes left, so truncated or corrupt input gives an error wrapping
// [ErrCorruptState], never a panic or a huge allocation.

// ErrCorruptState is wrapped by the errors of [Accumulator.UnmarshalBinary]
// for input that is not a valid encoding of the accumulator's state.
var ErrCorruptState = errors.New("dataflow: corrupt accumulator state")

const (
	accMagic   = 'A'
	accVersion = 1
)

// NewAccumulator returns an empty accumulator for g over an input column of
// kind in (the kind of g.Col in the schema reaching the aggregation; count
// ignores it). Its Result has the kind [Agg.ResultKind] gives. g must be
// valid ([Pipeline.Validate]); an unknown aggregate kind is a programming
// error and panics.
//
// Add does not allocate for count, sum, min, max, mean, span and the two
// sketches; distinct and top_n allocate for each new distinct value.
func (g Agg) NewAccumulator(in Kind) Accumulator {
	switch g.Kind {
	case AggCount:
		return &countAcc{}
	case AggSum:
		if in == KindFloat64 {
			return &sumFloatAcc{}
		}
		return &sumIntAcc{}
	case AggMin, AggMax:
		return &extremeAcc{max: g.Kind == AggMax}
	case AggMean:
		return &meanAcc{float: in == KindFloat64}
	case AggSpan:
		return &spanAcc{float: in == KindFloat64}
	case AggDistinct:
		return &distinctAcc{set: make(map[Value]struct{})}
	case AggTopN:
		return &topNAcc{n: g.N, counts: make(map[Value]int64)}
	case AggApproxTopN:
		return newApproxTopNAcc(g)
	case AggApproxDistinct:
		p := g.Precision
		if p == 0 {
			p = DefaultHLLPrecision
		}
		return &approxDistinctAcc{hll: newHyperLogLog(p)}
	}
	panic(fmt.Sprintf("dataflow: NewAccumulator of invalid aggregate %v; validate the pipeline first", g.Kind))
}

// mismatch panics on a Merge of accumulators of different aggregates: a
// programming error, as both come from the same Agg.
func mismatch(a, o Accumulator) {
	panic(fmt.Sprintf("dataflow: merge of %T into %T; merge only accumulators of the same Agg", o, a))
}

// ---- count

type countAcc struct{ n int64 }

func (a *countAcc) Add(Value)     { a.n++ }
func (a *countAcc) Result() Value { return Int(a.n) }
func (a *countAcc) Reset()        { a.n = 0 }
func (a *countAcc) Merge(o Accumulator) {
	b, ok := o.(*countAcc)
	if !ok {
		mismatch(a, o)
	}
	a.n += b.n
}
func (a *countAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, AggCount)
	return wire.AppendVarint(dst, a.n), nil
}
func (a *countAcc) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	accHeader(d, AggCount)
	n := d.Varint()
	if n < 0 {
		d.Fail("negative count")
	}
	if err := accFinish(d, AggCount); err != nil {
		return err
	}
	a.n = n
	return nil
}

// ---- sum

type sumIntAcc struct{ s int64 }

func (a *sumIntAcc) Add(v Value)   { a.s += v.I }
func (a *sumIntAcc) Result() Value { return Int(a.s) }
func (a *sumIntAcc) Reset()        { a.s = 0 }
func (a *sumIntAcc) Merge(o Accumulator) {
	b, ok := o.(*sumIntAcc)
	if !ok {
		mismatch(a, o)
	}
	a.s += b.s
}
func (a *sumIntAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, AggSum)
	dst = append(dst, 0) // 0: int64 sum
	return wire.AppendVarint(dst, a.s), nil
}
func (a *sumIntAcc) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	accHeader(d, AggSum)
	accFlag(d, false, "an int64 sum")
	s := d.Varint()
	if err := accFinish(d, AggSum); err != nil {
		return err
	}
	a.s = s
	return nil
}

type sumFloatAcc struct{ s float64 }

func (a *sumFloatAcc) Add(v Value)   { a.s += v.Float64() }
func (a *sumFloatAcc) Result() Value { return Float(a.s) }
func (a *sumFloatAcc) Reset()        { a.s = 0 }
func (a *sumFloatAcc) Merge(o Accumulator) {
	b, ok := o.(*sumFloatAcc)
	if !ok {
		mismatch(a, o)
	}
	a.s += b.s
}
func (a *sumFloatAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, AggSum)
	dst = append(dst, 1) // 1: float64 sum
	return wire.AppendFloat(dst, a.s), nil
}
func (a *sumFloatAcc) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	accHeader(d, AggSum)
	accFlag(d, true, "a float64 sum")
	s := d.Float()
	if err := accFinish(d, AggSum); err != nil {
		return err
	}
	a.s = s
	return nil
}

// ---- min, max

// extremeAcc keeps the least (or greatest) value by [Value.Compare]. Empty,
// its result is the null Value.
type extremeAcc struct {
	max bool
	set bool
	v   Value
}

func (a *extremeAcc) kind() AggKind {
	if a.max {
		return AggMax
	}
	return AggMin
}

func (a *extremeAcc) Add(v Value) {
	if !a.set {
		a.v, a.set = v, true
		return
	}
	c := v.Compare(a.v)
	if (a.max && c > 0) || (!a.max && c < 0) {
		a.v = v
	}
}
func (a *extremeAcc) Result() Value { return a.v }
func (a *extremeAcc) Reset()        { a.v, a.set = Value{}, false }
func (a *extremeAcc) Merge(o Accumulator) {
	b, ok := o.(*extremeAcc)
	if !ok || b.max != a.max {
		mismatch(a, o)
	}
	if b.set {
		a.Add(b.v)
	}
}
func (a *extremeAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, a.kind())
	if !a.set {
		return append(dst, 0), nil
	}
	return AppendValue(append(dst, 1), a.v), nil
}
func (a *extremeAcc) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	accHeader(d, a.kind())
	set := d.Byte()
	var v Value
	switch set {
	case 0:
	case 1:
		v = DecodeValue(d)
	default:
		d.Fail("bad presence flag")
	}
	if err := accFinish(d, a.kind()); err != nil {
		return err
	}
	a.v, a.set = v, set == 1
	return nil
}

// ---- mean

// meanAcc sums integer columns exactly in an int64 and float columns in a
// float64, so the mean of integers is the same whatever the order of
// additions and merges.
type meanAcc struct {
	float bool
	n     int64
	sumI  int64
	sumF  float64
}

func (a *meanAcc) Add(v Value) {
	a.n++
	if a.float {
		a.sumF += v.Float64()
	} else {
		a.sumI += v.I
	}
}

// Result is the mean, or 0 for an empty accumulator.
func (a *meanAcc) Result() Value {
	if a.n == 0 {
		return Float(0)
	}
	if a.float {
		return Float(a.sumF / float64(a.n))
	}
	return Float(float64(a.sumI) / float64(a.n))
}
func (a *meanAcc) Reset() { a.n, a.sumI, a.sumF = 0, 0, 0 }
func (a *meanAcc) Merge(o Accumulator) {
	b, ok := o.(*meanAcc)
	if !ok || b.float != a.float {
		mismatch(a, o)
	}
	a.n += b.n
	a.sumI += b.sumI
	a.sumF += b.sumF
}
func (a *meanAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, AggMean)
	if a.float {
		dst = append(dst, 1)
		dst = wire.AppendVarint(dst, a.n)
		return wire.AppendFloat(dst, a.sumF), nil
	}
	dst = append(dst, 0)
	dst = wire.AppendVarint(dst, a.n)
	return wire.AppendVarint(dst, a.sumI), nil
}
func (a *meanAcc) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	accHeader(d, AggMean)
	accFlag(d, a.float, "a mean of this column kind")
	n := d.Varint()
	if n < 0 {
		d.Fail("negative count")
	}
	var sumI int64
	var sumF float64
	if a.float {
		sumF = d.Float()
	} else {
		sumI = d.Varint()
	}
	if err := accFinish(d, AggMean); err != nil {
		return err
	}
	a.n, a.sumI, a.sumF = n, sumI, sumF
	return nil
}

// ---- span

// spanAcc is max - min of a numeric column; 0 when empty.
type spanAcc struct {
	float    bool
	set      bool
	lo, hi   int64
	flo, fhi float64
}

func (a *spanAcc) Add(v Value) {
	if a.float {
		f := v.Float64()
		if !a.set {
			a.flo, a.fhi, a.set = f, f, true
			return
		}
		a.flo, a.fhi = min(a.flo, f), max(a.fhi, f)
		return
	}
	if !a.set {
		a.lo, a.hi, a.set = v.I, v.I, true
		return
	}
	a.lo, a.hi = min(a.lo, v.I), max(a.hi, v.I)
}
func (a *spanAcc) Result() Value {
	if a.float {
		if !a.set {
			return Float(0)
		}
		return Float(a.fhi - a.flo)
	}
	if !a.set {
		return Int(0)
	}
	return Int(a.hi - a.lo)
}
func (a *spanAcc) Reset() { *a = spanAcc{float: a.float} }
func (a *spanAcc) Merge(o Accumulator) {
	b, ok := o.(*spanAcc)
	if !ok || b.float != a.float {
		mismatch(a, o)
	}
	if !b.set {
		return
	}
	if a.float {
		a.Add(Float(b.flo))
		a.Add(Float(b.fhi))
		return
	}
	a.Add(Int(b.lo))
	a.Add(Int(b.hi))
}
func (a *spanAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, AggSpan)
	flag := byte(0)
	if a.float {
		flag = 1
	}
	dst = append(dst, flag)
	if !a.set {
		return append(dst, 0), nil
	}
	dst = append(dst, 1)
	if a.float {
		dst = wire.AppendFloat(dst, a.flo)
		return wire.AppendFloat(dst, a.fhi), nil
	}
	dst = wire.AppendVarint(dst, a.lo)
	return wire.AppendVarint(dst, a.hi), nil
}
func (a *spanAcc) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	accHeader(d, AggSpan)
	accFlag(d, a.float, "a span of this column kind")
	n := spanAcc{float: a.float}
	switch d.Byte() {
	case 0:
	case 1:
		n.set = true
		if a.float {
			n.flo, n.fhi = d.Float(), d.Float()
		} else {
			n.lo, n.hi = d.Varint(), d.Varint()
		}
	default:
		d.Fail("bad presence flag")
	}
	if err := accFinish(d, AggSpan); err != nil {
		return err
	}
	*a = n
	return nil
}

// ---- distinct (exact)

type distinctAcc struct{ set map[Value]struct{} }

func (a *distinctAcc) Add(v Value)   { a.set[canonical(v)] = struct{}{} }
func (a *distinctAcc) Result() Value { return Int(int64(len(a.set))) }
func (a *distinctAcc) Reset()        { clear(a.set) }
func (a *distinctAcc) Merge(o Accumulator) {
	b, ok := o.(*distinctAcc)
	if !ok {
		mismatch(a, o)
	}
	for v := range b.set {
		a.set[v] = struct{}{}
	}
}

// AppendBinary writes the values in [Value.Compare] order, so equal states
// encode to equal bytes.
func (a *distinctAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, AggDistinct)
	vs := make([]Value, 0, len(a.set))
	for v := range a.set {
		vs = append(vs, v)
	}
	slices.SortFunc(vs, Value.Compare)
	dst = wire.AppendUvarint(dst, uint64(len(vs)))
	for _, v := range vs {
		dst = AppendValue(dst, v)
	}
	return dst, nil
}
func (a *distinctAcc) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	accHeader(d, AggDistinct)
	n := d.Count()
	set := make(map[Value]struct{}, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		set[canonical(DecodeValue(d))] = struct{}{}
	}
	if err := accFinish(d, AggDistinct); err != nil {
		return err
	}
	a.set = set
	return nil
}

// ---- top_n (exact)

type topNAcc struct {
	n      int
	counts map[Value]int64
}

func (a *topNAcc) Add(v Value) { a.counts[canonical(v)]++ }
func (a *topNAcc) Reset()      { clear(a.counts) }
func (a *topNAcc) Merge(o Accumulator) {
	b, ok := o.(*topNAcc)
	if !ok {
		mismatch(a, o)
	}
	for v, c := range b.counts {
		a.counts[v] += c
	}
}

// Result is "value=count,..." for the n most frequent values, by count
// descending then value ascending.
func (a *topNAcc) Result() Value {
	es := make([]valueCount, 0, len(a.counts))
	for v, c := range a.counts {
		es = append(es, valueCount{v, c})
	}
	return Str(formatTop(es, a.n))
}
func (a *topNAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, AggTopN)
	es := make([]valueCount, 0, len(a.counts))
	for v, c := range a.counts {
		es = append(es, valueCount{v, c})
	}
	slices.SortFunc(es, func(x, y valueCount) int { return x.v.Compare(y.v) })
	dst = wire.AppendUvarint(dst, uint64(len(es)))
	for _, e := range es {
		dst = AppendValue(dst, e.v)
		dst = wire.AppendVarint(dst, e.n)
	}
	return dst, nil
}
func (a *topNAcc) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	accHeader(d, AggTopN)
	n := d.Count()
	counts := make(map[Value]int64, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		v := canonical(DecodeValue(d))
		c := d.Varint()
		if c <= 0 {
			d.Fail("non-positive count")
		}
		if _, dup := counts[v]; dup {
			d.Fail("duplicate value " + v.String())
		}
		counts[v] = c
	}
	if err := accFinish(d, AggTopN); err != nil {
		return err
	}
	a.counts = counts
	return nil
}

type valueCount struct {
	v Value
	n int64
}

// formatTop sorts es by count descending then value ascending and renders
// the first n as "value=count,value=count".
func formatTop(es []valueCount, n int) string {
	slices.SortFunc(es, func(x, y valueCount) int {
		if x.n != y.n {
			return cmpInt(y.n, x.n)
		}
		return x.v.Compare(y.v)
	})
	var b []byte
	for i, e := range es {
		if i == n {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = e.v.AppendText(b)
		b = append(b, '=')
		b = strconv.AppendInt(b, e.n, 10)
	}
	return string(b)
}

// ---- approx_top_n (Count-Min sketch + heavy-hitter candidates)

// candidate is one value the approximate top-N tracks, with its hash and its
// estimate when last seen (a lower bound of its current estimate).
type candidate struct {
	h   uint64
	v   Value
	est uint32
}

// approxTopNAcc estimates the most frequent values with a Count-Min sketch
// and keeps at most cap candidates: a value seen while the set is full
// replaces the candidate of least estimate if its own estimate is larger.
// Result re-estimates the candidates with the final sketch. The sketch is
// exactly mergeable; the candidate set of a merge is the union of both sets,
// cut to the cap by final estimate, so a merge and a single accumulator agree
// on every value heavy enough to stay a candidate in both.
type approxTopNAcc struct {
	n     int
	cap   int
	cms   countMin
	cands []candidate // len <= cap; preallocated so Add does not allocate
	// hashes mirrors cands[i].h, so the per-record search scans 8-byte
	// words rather than 48-byte candidates.
	hashes []uint64
	// minEst is a lower bound of the least candidate estimate (estimates
	// only grow), so most values of the long tail are turned away without
	// a scan.
	minEst uint32
}

// minCandidates is the least size of the candidate set: small N still gets
// enough slack that a heavy hitter seen late is not crowded out by noise.
const minCandidates = 64

func newApproxTopNAcc(g Agg) *approxTopNAcc {
	w, dp := g.Width, g.Depth
	if w == 0 {
		w = DefaultSketchWidth
	}
	if dp == 0 {
		dp = DefaultSketchDepth
	}
	c := max(8*g.N, minCandidates)
	return &approxTopNAcc{n: g.N, cap: c, cms: newCountMin(w, dp),
		cands: make([]candidate, 0, c), hashes: make([]uint64, 0, c)}
}

func (a *approxTopNAcc) Add(v Value) {
	v = canonical(v)
	h := hashValue(v)
	est := a.cms.add(h)
	a.offer(h, v, est)
}

// offer records that the value v with hash h has estimate est.
func (a *approxTopNAcc) offer(h uint64, v Value, est uint32) {
	for i, x := range a.hashes {
		if x == h && a.cands[i].v == v {
			a.cands[i].est = est
			return
		}
	}
	if len(a.cands) < a.cap {
		a.cands = append(a.cands, candidate{h: h, v: v, est: est})
		a.hashes = append(a.hashes, h)
		return
	}
	if est <= a.minEst {
		return
	}
	lo := 0
	for i := range a.cands {
		if a.cands[i].est < a.cands[lo].est {
			lo = i
		}
	}
	a.minEst = a.cands[lo].est
	if est > a.minEst {
		a.cands[lo] = candidate{h: h, v: v, est: est}
		a.hashes[lo] = h
	}
}

func (a *approxTopNAcc) Reset() {
	a.cms.reset()
	a.cands, a.hashes, a.minEst = a.cands[:0], a.hashes[:0], 0
}

func (a *approxTopNAcc) Merge(o Accumulator) {
	b, ok := o.(*approxTopNAcc)
	if !ok || b.cms.width != a.cms.width || b.cms.depth != a.cms.depth {
		mismatch(a, o)
	}
	a.cms.merge(&b.cms)
	for _, c := range b.cands {
		if !slices.ContainsFunc(a.cands, func(x candidate) bool { return x.h == c.h && x.v == c.v }) {
			a.cands = append(a.cands, c)
		}
	}
	a.refresh()
}

// setCandidates replaces the candidates (at most cap) and rebuilds hashes.
func (a *approxTopNAcc) setCandidates(cs []candidate) {
	a.cands = append(a.cands[:0], cs...)
	a.hashes = a.hashes[:0]
	for _, c := range a.cands {
		a.hashes = append(a.hashes, c.h)
	}
}

// refresh re-estimates every candidate with the current sketch and keeps the
// cap best, by estimate descending then value ascending.
func (a *approxTopNAcc) refresh() {
	for i := range a.cands {
		a.cands[i].est = a.cms.estimate(a.cands[i].h)
	}
	a.minEst = 0
	if len(a.cands) > a.cap {
		slices.SortFunc(a.cands, func(x, y candidate) int {
			if x.est != y.est {
				return cmpInt(int64(y.est), int64(x.est))
			}
			return x.v.Compare(y.v)
		})
		// Keep the backing array of cap entries that New allocated.
		a.setCandidates(slices.Clone(a.cands[:a.cap]))
		return
	}
	a.setCandidates(a.cands)
}

// Result is "value=estimate,..." for the n candidates of largest estimate,
// ties by value ascending ([formatTop], the order of [TopN]).
func (a *approxTopNAcc) Result() Value {
	es := make([]valueCount, len(a.cands))
	for i, c := range a.cands {
		es[i] = valueCount{c.v, int64(a.cms.estimate(c.h))}
	}
	return Str(formatTop(es, a.n))
}

func (a *approxTopNAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, AggApproxTopN)
	dst = wire.AppendUvarint(dst, uint64(a.cms.width))
	dst = wire.AppendUvarint(dst, uint64(a.cms.depth))
	for _, x := range a.cms.cells {
		dst = wire.AppendUvarint(dst, uint64(x))
	}
	dst = wire.AppendUvarint(dst, uint64(len(a.cands)))
	for _, c := range a.cands {
		dst = AppendValue(dst, c.v)
	}
	return dst, nil
}

func (a *approxTopNAcc) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	accHeader(d, AggApproxTopN)
	if w, dp := d.Uvarint(), d.Uvarint(); d.Err() == nil && (w != uint64(a.cms.width) || dp != uint64(a.cms.depth)) {
		d.Fail(fmt.Sprintf("sketch is %dx%d, want %dx%d (the same Agg)", w, dp, a.cms.width, a.cms.depth))
	}
	cells := make([]uint32, len(a.cms.cells))
	for i := 0; i < len(cells) && d.Err() == nil; i++ {
		x := d.Uvarint()
		if x > math.MaxUint32 {
			d.Fail("counter out of range")
		}
		cells[i] = uint32(x)
	}
	n := d.Count()
	if d.Err() == nil && n > a.cap {
		d.Fail(fmt.Sprintf("%d candidates, more than the cap %d", n, a.cap))
	}
	cands := make([]candidate, 0, a.cap)
	for i := 0; i < n && d.Err() == nil; i++ {
		v := canonical(DecodeValue(d))
		h := hashValue(v)
		if slices.ContainsFunc(cands, func(c candidate) bool { return c.h == h && c.v == v }) {
			d.Fail("duplicate candidate " + v.String())
		}
		cands = append(cands, candidate{h: h, v: v})
	}
	if err := accFinish(d, AggApproxTopN); err != nil {
		return err
	}
	a.cms.cells = cells
	a.setCandidates(cands)
	a.refresh()
	return nil
}

// ---- approx_distinct (HyperLogLog)

type approxDistinctAcc struct{ hll hyperLogLog }

func (a *approxDistinctAcc) Add(v Value)   { a.hll.add(hashValue(canonical(v))) }
func (a *approxDistinctAcc) Result() Value { return Int(a.hll.estimate()) }
func (a *approxDistinctAcc) Reset()        { a.hll.reset() }
func (a *approxDistinctAcc) Merge(o Accumulator) {
	b, ok := o.(*approxDistinctAcc)
	if !ok || b.hll.p != a.hll.p {
		mismatch(a, o)
	}
	a.hll.merge(&b.hll)
}
func (a *approxDistinctAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, AggApproxDistinct)
	dst = append(dst, a.hll.p)
	return append(dst, a.hll.reg...), nil
}
func (a *approxDistinctAcc) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	accHeader(d, AggApproxDistinct)
	if p := d.Byte(); d.Err() == nil && p != a.hll.p {
		d.Fail(fmt.Sprintf("precision %d, want %d (the same Agg)", p, a.hll.p))
	}
	raw := d.Next(len(a.hll.reg))
	if d.Err() == nil {
		mr := a.hll.maxRank()
		for _, r := range raw {
			if r > mr {
				d.Fail(fmt.Sprintf("register rank %d above %d", r, mr))
				break
			}
		}
	}
	if err := accFinish(d, AggApproxDistinct); err != nil {
		return err
	}
	copy(a.hll.reg, raw)
	return nil
}

// ---- encoding helpers

func appendHeader(dst []byte, k AggKind) []byte {
	return append(dst, accMagic, accVersion, byte(k))
}

// accHeader reads and checks the header of an accumulator encoding of
// kind k (magic, version, kind), failing d on a mismatch.
func accHeader(d *wire.Decoder, k AggKind) {
	h := d.Next(3)
	switch {
	case h == nil:
		d.Fail("truncated header")
	case h[0] != accMagic:
		d.Fail("not an accumulator encoding (bad magic byte)")
	case h[1] != accVersion:
		d.Fail(fmt.Sprintf("format version %d, this build reads version %d", h[1], accVersion))
	case AggKind(h[2]) != k:
		d.Fail(fmt.Sprintf("state of a %v aggregate; unmarshal it into an accumulator of the same Agg", AggKind(h[2])))
	}
}

// accFlag reads the column-kind flag of sum, mean and span and checks it
// against the receiver's.
func accFlag(d *wire.Decoder, float bool, what string) {
	f := d.Byte()
	if d.Err() == nil && (f > 1 || (f == 1) != float) {
		d.Fail("not the state of " + what + "; unmarshal into an accumulator of the same Agg and column kind")
	}
}

// accFinish reports the first problem of an accumulator decoding of kind
// k, or bytes left after the state, as an error wrapping [ErrCorruptState].
func accFinish(d *wire.Decoder, k AggKind) error {
	if err := d.Finish(); err != nil {
		return fmt.Errorf("%w: %v: %w", ErrCorruptState, k, err)
	}
	return nil
}
