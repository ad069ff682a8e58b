package dataflow

import (
	"cmp"
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
// The version is 1 for every kind but approx_top_n, which is 2 (see
// approxTopNVersion).
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
	// approxTopNVersion is approx_top_n's format version: 2 since its rows
	// hash independently (a version 1 sketch's counters sit in other
	// columns, and restoring one would give wrong estimates silently).
	approxTopNVersion = 2
)

// versionOf is the format version of kind k's encoding.
func versionOf(k AggKind) byte {
	if k == AggApproxTopN {
		return approxTopNVersion
	}
	return accVersion
}

// NewAccumulator returns an empty accumulator for g over an input column of
// kind in (the kind of g.Col in the schema reaching the aggregation; count
// ignores it). Its Result has the kind [Agg.ResultKind] gives. g must be
// valid ([Pipeline.Validate]); an unknown aggregate kind is a programming
// error and panics.
//
// Add does not allocate for count, sum, min, max, mean, span and
// approx_distinct; distinct, top_n and approx_top_n (whose candidates are
// the distinct values, see [ApproxTopN]) allocate only as their set of
// distinct values grows.
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
	case AggMaxBy:
		return &maxByAcc{}
	case AggApproxDistinct:
		p := g.Precision
		if p == 0 {
			p = DefaultHLLPrecision
		}
		return &approxDistinctAcc{hll: newHyperLogLog(p)}
	}
	panic(fmt.Sprintf("dataflow: NewAccumulator of invalid aggregate %v; validate the pipeline first", g.Kind))
}

// PairAccumulator is an [Accumulator] of a two-input aggregate (max-by,
// [AggMaxBy]): every evaluator feeds it each row's Col and By values with
// AddPair rather than Add. Whether an aggregate needs it is [Agg.Paired].
type PairAccumulator interface {
	Accumulator
	// AddPair folds in one row's value v (of Col) and ordering value by
	// (of By).
	AddPair(v, by Value)
}

// Paired reports whether g's accumulators are [PairAccumulator]s, fed with
// the Col and By values of each row.
func (g Agg) Paired() bool { return g.Kind == AggMaxBy }

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

// ---- max_by

// maxByAcc keeps the value of Col in the row of greatest By (totalCompare),
// ties broken by the least Col: a total order on (by, v) pairs, so the
// result does not depend on the order of additions and merges. Rows whose
// By is null are skipped (as SQL's MAX_BY ignores null orderings); the
// result over no rows is the null Value.
type maxByAcc struct {
	set   bool
	v, by Value
}

// Add is AddPair(v, v): a max-by ordered by its own column is a max.
func (a *maxByAcc) Add(v Value) { a.AddPair(v, v) }

func (a *maxByAcc) AddPair(v, by Value) {
	if by.IsNull() {
		return
	}
	if a.set {
		c := totalCompare(by, a.by)
		if c < 0 || (c == 0 && totalCompare(v, a.v) >= 0) {
			return
		}
	}
	a.v, a.by, a.set = canonical(v), canonical(by), true
}
func (a *maxByAcc) Result() Value { return a.v }
func (a *maxByAcc) Reset()        { *a = maxByAcc{} }
func (a *maxByAcc) Merge(o Accumulator) {
	b, ok := o.(*maxByAcc)
	if !ok {
		mismatch(a, o)
	}
	if b.set {
		a.AddPair(b.v, b.by)
	}
}
func (a *maxByAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, AggMaxBy)
	if !a.set {
		return append(dst, 0), nil
	}
	dst = AppendValue(append(dst, 1), a.v)
	return AppendValue(dst, a.by), nil
}
func (a *maxByAcc) UnmarshalBinary(b []byte) error {
	d := wire.NewDecoder(b)
	accHeader(d, AggMaxBy)
	var n maxByAcc
	switch d.Byte() {
	case 0:
	case 1:
		n.set = true
		n.v, n.by = canonical(DecodeValue(d)), canonical(DecodeValue(d))
		if d.Err() == nil && n.by.IsNull() {
			d.Fail("null ordering value")
		}
	default:
		d.Fail("bad presence flag")
	}
	if err := accFinish(d, AggMaxBy); err != nil {
		return err
	}
	*a = n
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

// AppendBinary writes the values in totalCompare order, so equal states
// encode to equal bytes.
func (a *distinctAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, AggDistinct)
	vs := make([]Value, 0, len(a.set))
	for v := range a.set {
		vs = append(vs, v)
	}
	slices.SortFunc(vs, totalCompare)
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
	slices.SortFunc(es, func(x, y valueCount) int { return totalCompare(x.v, y.v) })
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

// totalCompare is [Value.Compare] made a total order: a NaN, which
// Value.Compare finds equal to every float, sorts before every other float
// (canonical makes every NaN one value). Sorts whose result is output or
// encoded use it, so the order cannot depend on the order of the input.
func totalCompare(x, y Value) int {
	if x.K == KindFloat64 && y.K == KindFloat64 {
		return cmp.Compare(x.Float64(), y.Float64())
	}
	return x.Compare(y)
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
		return totalCompare(x.v, y.v)
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

// ---- approx_top_n (Count-Min sketch + candidate values)

// candidate is one value the approximate top-N tracks, with its hash.
type candidate struct {
	h uint64
	v Value
}

// cmpCandidate orders candidates by hash, then value: the total order the
// candidate bound keeps the least of.
func cmpCandidate(x, y candidate) int {
	if x.h != y.h {
		if x.h < y.h {
			return -1
		}
		return 1
	}
	return totalCompare(x.v, y.v)
}

// approxTopNAcc estimates the most frequent values with a Count-Min sketch
// and lists the n candidates of largest estimate.
//
// The answer is a function of the multiset of added values, whatever their
// order and however they are split into partial accumulators and merged
// (the reference adds one value at a time, microbatch merges per-batch
// partials, recordstream adds per record, and all three must agree value for
// value). The sketch is linear, so its counters are. The candidates are the
// distinct values added, bounded by cap: when more than cap distinct values
// arrive, the candidates are the cap of least (hash, value), a uniform
// sample of the distinct values that is also a function of the set (a value
// evicted from it never returns, as the bound only tightens). A candidate
// set that keeps values by their estimate when last seen (a heavy-hitter
// heap) cannot have this property: a value's estimate grows after its last
// occurrence through collisions, so the set depends on arrival order.
type approxTopNAcc struct {
	n   int
	cap int
	cms countMin
	// members holds the candidates' values; heap holds the candidates as a
	// max-heap by cmpCandidate, so the greatest is the one to evict.
	members map[Value]struct{}
	heap    []candidate
}

// candidateCap is the least bound of the candidate set: every distinct
// value of a window is a candidate below it (the hashtag workloads have a
// few hundred per window and prefix), at most 2.5 MiB of candidates per
// accumulator above it.
const candidateCap = 1 << 16

func newApproxTopNAcc(g Agg) *approxTopNAcc {
	w, dp := g.Width, g.Depth
	if w == 0 {
		w = DefaultSketchWidth
	}
	if dp == 0 {
		dp = DefaultSketchDepth
	}
	return &approxTopNAcc{n: g.N, cap: max(candidateCap, 2*g.N), cms: newCountMin(w, dp),
		members: make(map[Value]struct{})}
}

// Add counts v in the sketch and admits it as a candidate. It allocates only
// when a new distinct value grows the candidate set.
func (a *approxTopNAcc) Add(v Value) {
	v = canonical(v)
	h := hashValue(v)
	a.cms.add(h)
	a.admit(candidate{h: h, v: v})
}

// admit adds c to the candidates unless it is one already or the set is
// full of lesser ones.
func (a *approxTopNAcc) admit(c candidate) {
	if len(a.heap) == a.cap && cmpCandidate(c, a.heap[0]) >= 0 {
		return // the greatest candidate itself, or greater than every one
	}
	if _, ok := a.members[c.v]; ok {
		return
	}
	a.members[c.v] = struct{}{}
	a.heap = append(a.heap, c)
	a.up(len(a.heap) - 1)
	if len(a.heap) > a.cap {
		delete(a.members, a.heap[0].v)
		last := len(a.heap) - 1
		a.heap[0] = a.heap[last]
		a.heap = a.heap[:last]
		a.down(0)
	}
}

// up and down restore the max-heap order from index i.
func (a *approxTopNAcc) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if cmpCandidate(a.heap[i], a.heap[p]) <= 0 {
			return
		}
		a.heap[i], a.heap[p] = a.heap[p], a.heap[i]
		i = p
	}
}

func (a *approxTopNAcc) down(i int) {
	for {
		l, big := 2*i+1, i
		if l < len(a.heap) && cmpCandidate(a.heap[l], a.heap[big]) > 0 {
			big = l
		}
		if r := l + 1; r < len(a.heap) && cmpCandidate(a.heap[r], a.heap[big]) > 0 {
			big = r
		}
		if big == i {
			return
		}
		a.heap[i], a.heap[big] = a.heap[big], a.heap[i]
		i = big
	}
}

func (a *approxTopNAcc) Reset() {
	a.cms.reset()
	clear(a.members)
	a.heap = a.heap[:0]
}

// Merge adds o's counters and admits o's candidates: exactly the state of
// one accumulator given both inputs.
func (a *approxTopNAcc) Merge(o Accumulator) {
	b, ok := o.(*approxTopNAcc)
	if !ok || b.cms.width != a.cms.width || b.cms.depth != a.cms.depth || b.cap != a.cap {
		mismatch(a, o)
	}
	a.cms.merge(&b.cms)
	for _, c := range b.heap {
		a.admit(c)
	}
}

// Result is "value=estimate,..." for the n candidates of largest estimate,
// ties by value ascending ([formatTop], the order of [TopN]).
func (a *approxTopNAcc) Result() Value {
	es := make([]valueCount, len(a.heap))
	for i, c := range a.heap {
		es[i] = valueCount{c.v, int64(a.cms.estimate(c.h))}
	}
	return Str(formatTop(es, a.n))
}

// AppendBinary writes the counters, then the candidates in totalCompare
// order, so equal states encode to equal bytes.
func (a *approxTopNAcc) AppendBinary(dst []byte) ([]byte, error) {
	dst = appendHeader(dst, AggApproxTopN)
	dst = wire.AppendUvarint(dst, uint64(a.cms.width))
	dst = wire.AppendUvarint(dst, uint64(a.cms.depth))
	for _, x := range a.cms.cells {
		dst = wire.AppendUvarint(dst, uint64(x))
	}
	vs := make([]Value, len(a.heap))
	for i, c := range a.heap {
		vs[i] = c.v
	}
	slices.SortFunc(vs, totalCompare)
	dst = wire.AppendUvarint(dst, uint64(len(vs)))
	for _, v := range vs {
		dst = AppendValue(dst, v)
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
	members := make(map[Value]struct{}, n)
	heap := make([]candidate, 0, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		v := canonical(DecodeValue(d))
		if _, dup := members[v]; dup {
			d.Fail("duplicate candidate " + v.String())
		}
		members[v] = struct{}{}
		heap = append(heap, candidate{h: hashValue(v), v: v})
	}
	if err := accFinish(d, AggApproxTopN); err != nil {
		return err
	}
	a.cms.cells = cells
	a.members, a.heap = members, heap
	for i := len(heap)/2 - 1; i >= 0; i-- {
		a.down(i)
	}
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
	return append(dst, accMagic, versionOf(k), byte(k))
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
	case AggKind(h[2]) != k:
		d.Fail(fmt.Sprintf("state of a %v aggregate; unmarshal it into an accumulator of the same Agg", AggKind(h[2])))
	case h[1] != versionOf(k):
		d.Fail(fmt.Sprintf("format version %d, this build reads version %d", h[1], versionOf(k)))
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

// ---- typed feeding

// accPath is how an evaluator's row loop feeds one aggregate
// ([feedAccs]): through the concrete type of the small accumulators that
// most workloads use (count, int64 sum, mean, span), which skips the
// dynamic call and the copy of a [Value] into it and lets the compiler
// inline the update (a count is one increment), or through the
// [Accumulator] interface for the others.
type accPath uint8

const (
	accInterface accPath = iota // Accumulator.Add
	accPair                     // PairAccumulator.AddPair (max-by)
	accCount                    // *countAcc
	accSumInt                   // *sumIntAcc
	accMean                     // *meanAcc
	accSpan                     // *spanAcc
)

// accPathOf returns the path of aggregate g over a column of kind in: the
// concrete type [Agg.NewAccumulator] gives it, so the two cannot disagree.
func accPathOf(g Agg, in Kind) accPath {
	if g.Paired() {
		return accPair
	}
	switch g.NewAccumulator(in).(type) {
	case *countAcc:
		return accCount
	case *sumIntAcc:
		return accSumInt
	case *meanAcc:
		return accMean
	case *spanAcc:
		return accSpan
	}
	return accInterface
}

// aggFeed is what an evaluator needs to fold a row into one accumulator
// per aggregate: each aggregate's input column (-1 for count), max-by's
// ordering column (-1 for the others) and path.
type aggFeed struct {
	col   []int
	by    []int
	paths []accPath
}

// add appends aggregate g, whose input column is col (-1 for count) of
// kind in and whose ordering column is by (-1 unless max-by).
func (f *aggFeed) add(g Agg, col, by int, in Kind) {
	f.col = append(f.col, col)
	f.by = append(f.by, by)
	f.paths = append(f.paths, accPathOf(g, in))
}

// feed folds row into accs, one accumulator per aggregate in the order of
// add. An accumulator of another concrete type than its path names (none
// is: they come from the same Agg) is fed through the interface. It does
// not allocate for the accumulators [Agg.NewAccumulator] says do not.
func (f *aggFeed) feed(accs []Accumulator, row Row) {
	for i, a := range accs {
		c := f.col[i]
		switch f.paths[i] {
		case accCount:
			if p, ok := a.(*countAcc); ok {
				p.n++
				continue
			}
		case accSumInt:
			if p, ok := a.(*sumIntAcc); ok {
				p.s += row[c].I
				continue
			}
		case accMean:
			if p, ok := a.(*meanAcc); ok {
				p.Add(row[c])
				continue
			}
		case accSpan:
			if p, ok := a.(*spanAcc); ok {
				p.Add(row[c])
				continue
			}
		case accPair:
			a.(PairAccumulator).AddPair(row[c], row[f.by[i]])
			continue
		}
		if c >= 0 {
			a.Add(row[c])
		} else {
			a.Add(Value{})
		}
	}
}
