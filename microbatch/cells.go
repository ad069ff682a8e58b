package microbatch

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/weirlab/weir/dataflow"
)

// aggMode is how one aggregate's state is held in a cell.
type aggMode uint8

const (
	modeCount aggMode = iota // the cell's record count
	modeSumI                 // i
	modeSumF                 // f
	modeMinI                 // i (int64, timestamp)
	modeMaxI
	modeMinF // f
	modeMaxF
	modeMinS // s, has
	modeMaxS
	modeMean  // f (sum), the cell's count
	modeMeanI // i (sum), the cell's count
	modeSpanI // i min, j max
	modeSpanF // f min, g max
	modeAcc   // a dataflow.Accumulator
	modeMaxBy // v (Col's value), w (By's value), has
)

// aggSpec describes one aggregate of the aggregation.
type aggSpec struct {
	agg     dataflow.Agg
	col     int // input column in the aggregation's schema; -1 for count
	inKind  dataflow.Kind
	resKind dataflow.Kind
	mode    aggMode
	by      int // max-by's ordering column; -1 otherwise
}

func newAggSpec(g dataflow.Agg, in dataflow.Schema) aggSpec {
	sp := aggSpec{agg: g, col: -1, by: -1, resKind: g.ResultKind(in)}
	if g.Kind != dataflow.AggCount {
		sp.col = in.Index(g.Col)
		sp.inKind = in.Fields[sp.col].Kind
	}
	fl := sp.inKind == dataflow.KindFloat64
	str := sp.inKind == dataflow.KindString
	switch g.Kind {
	case dataflow.AggCount:
		sp.mode = modeCount
	case dataflow.AggSum:
		sp.mode = pick(fl, modeSumF, modeSumI)
	case dataflow.AggMin:
		sp.mode = pick(fl, modeMinF, pick(str, modeMinS, modeMinI))
	case dataflow.AggMax:
		sp.mode = pick(fl, modeMaxF, pick(str, modeMaxS, modeMaxI))
	case dataflow.AggMean:
		sp.mode = pick(fl, modeMean, modeMeanI)
	case dataflow.AggSpan:
		sp.mode = pick(fl, modeSpanF, modeSpanI)
	case dataflow.AggMaxBy:
		sp.mode, sp.by = modeMaxBy, in.Index(g.By)
	default:
		sp.mode = modeAcc
	}
	return sp
}

func pick[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

// invertible reports whether the aggregate has an inverse function
// (reduceByKeyAndWindow with invReduceFunc): counts and sums subtract.
func (sp aggSpec) invertible() bool {
	return sp.mode == modeCount || sp.mode == modeSumI || sp.mode == modeSumF
}

// aggCols is the state of one aggregate for every cell of a cellSet.
type aggCols struct {
	i, j []int64
	f, g []float64
	s    []string
	has  []bool
	acc  []dataflow.Accumulator
	v, w []dataflow.Value
}

// cellSet holds partial aggregates, one cell per (window, key), as columns
// (MK4): n is the number of records in the cell, maxEv the largest event time
// (ms; the largest ingest ms for processing time) and maxIng the largest
// ingest time (ns) among them, for latency.
type cellSet struct {
	specs  []aggSpec
	win    []dataflow.Window
	gid    []int32  // key id in the owner's key table (partials)
	key    []string // rendered key (state)
	n      []int64
	maxEv  []int64
	maxIng []int64
	a      []aggCols
	intern map[string]string // copies of plain strings kept by accumulators
}

func newCellSet(specs []aggSpec) *cellSet {
	return &cellSet{specs: specs, a: make([]aggCols, len(specs))}
}

func (cs *cellSet) len() int { return len(cs.n) }

// reserve makes room for n cells, so that adding them allocates nothing.
func (cs *cellSet) reserve(n int) {
	cs.win = slices.Grow(cs.win, n)
	cs.gid = slices.Grow(cs.gid, n)
	cs.key = slices.Grow(cs.key, n)
	cs.n = slices.Grow(cs.n, n)
	cs.maxEv = slices.Grow(cs.maxEv, n)
	cs.maxIng = slices.Grow(cs.maxIng, n)
	for k, sp := range cs.specs {
		a := &cs.a[k]
		switch sp.mode {
		case modeSumI, modeMeanI, modeMinI, modeMaxI:
			a.i = slices.Grow(a.i, n)
		case modeSumF, modeMean, modeMinF, modeMaxF:
			a.f = slices.Grow(a.f, n)
		case modeMinS, modeMaxS:
			a.s, a.has = slices.Grow(a.s, n), slices.Grow(a.has, n)
		case modeSpanI:
			a.i, a.j = slices.Grow(a.i, n), slices.Grow(a.j, n)
		case modeSpanF:
			a.f, a.g = slices.Grow(a.f, n), slices.Grow(a.g, n)
		case modeAcc:
			a.acc = slices.Grow(a.acc, n)
		case modeMaxBy:
			a.v, a.w, a.has = slices.Grow(a.v, n), slices.Grow(a.w, n), slices.Grow(a.has, n)
		}
	}
}

// add appends an empty cell and returns its index.
func (cs *cellSet) add(w dataflow.Window, gid int32, key string) int32 {
	c := int32(len(cs.n))
	cs.win = append(cs.win, w)
	cs.gid = append(cs.gid, gid)
	cs.key = append(cs.key, key)
	cs.n = append(cs.n, 0)
	cs.maxEv = append(cs.maxEv, math.MinInt64)
	cs.maxIng = append(cs.maxIng, math.MinInt64)
	for k, sp := range cs.specs {
		a := &cs.a[k]
		switch sp.mode {
		case modeSumI, modeMeanI:
			a.i = append(a.i, 0)
		case modeSumF, modeMean:
			a.f = append(a.f, 0)
		case modeMinI:
			a.i = append(a.i, math.MaxInt64)
		case modeMaxI:
			a.i = append(a.i, math.MinInt64)
		case modeMinF:
			a.f = append(a.f, math.Inf(1))
		case modeMaxF:
			a.f = append(a.f, math.Inf(-1))
		case modeMinS, modeMaxS:
			a.s = append(a.s, "")
			a.has = append(a.has, false)
		case modeSpanI:
			a.i = append(a.i, math.MaxInt64)
			a.j = append(a.j, math.MinInt64)
		case modeSpanF:
			a.f = append(a.f, math.Inf(1))
			a.g = append(a.g, math.Inf(-1))
		case modeAcc:
			a.acc = append(a.acc, sp.agg.NewAccumulator(sp.inKind))
		case modeMaxBy:
			a.v, a.w, a.has = append(a.v, dataflow.Value{}), append(a.w, dataflow.Value{}), append(a.has, false)
		}
	}
	return c
}

// update folds the rows into their cells: row rows[k] goes to cell
// cells[k]. cols are the aggregation's input columns; evt and ing give each
// row's event time (ms) and ingest time (ns), indexed by row; counted says
// the caller has already counted the rows and their times into the cells.
// It is the hot loop of the aggregation and does not allocate, except for
// accumulators that keep new distinct values and strings of plain
// (non-dictionary) columns they keep.
func (cs *cellSet) update(rows, cells []int32, cols []vec, evt, ing []int64, counted bool) {
	n, mev, mig := cs.n, cs.maxEv, cs.maxIng
	cells = cells[:len(rows)]
	if !counted {
		for k, r := range rows {
			c := cells[k]
			n[c]++
			mev[c] = max(mev[c], evt[r])
			mig[c] = max(mig[c], ing[r])
		}
	}
	for j, sp := range cs.specs {
		if sp.mode == modeCount {
			continue
		}
		a := &cs.a[j]
		v := &cols[sp.col]
		switch sp.mode {
		case modeSumI, modeMeanI:
			for k, r := range rows {
				a.i[cells[k]] += v.int(r)
			}
		case modeSumF, modeMean:
			for k, r := range rows {
				a.f[cells[k]] += v.float(r)
			}
		case modeMinI:
			for k, r := range rows {
				if x := v.int(r); x < a.i[cells[k]] {
					a.i[cells[k]] = x
				}
			}
		case modeMaxI:
			for k, r := range rows {
				if x := v.int(r); x > a.i[cells[k]] {
					a.i[cells[k]] = x
				}
			}
		case modeMinF:
			for k, r := range rows {
				if x := v.float(r); x < a.f[cells[k]] {
					a.f[cells[k]] = x
				}
			}
		case modeMaxF:
			for k, r := range rows {
				if x := v.float(r); x > a.f[cells[k]] {
					a.f[cells[k]] = x
				}
			}
		case modeMinS, modeMaxS:
			for k, r := range rows {
				c := cells[k]
				x := v.str(r)
				if !a.has[c] || (sp.mode == modeMinS && x < a.s[c]) || (sp.mode == modeMaxS && x > a.s[c]) {
					if v.codes == nil && !v.isConst {
						x = strings.Clone(x)
					}
					a.s[c], a.has[c] = x, true
				}
			}
		case modeSpanI:
			for k, r := range rows {
				c, x := cells[k], v.int(r)
				a.i[c] = min(a.i[c], x)
				a.j[c] = max(a.j[c], x)
			}
		case modeSpanF:
			for k, r := range rows {
				c, x := cells[k], v.float(r)
				a.f[c] = min(a.f[c], x)
				a.g[c] = max(a.g[c], x)
			}
		case modeMaxBy:
			bv := &cols[sp.by]
			for k, r := range rows {
				c := cells[k]
				by, x := bv.value(r), v.value(r)
				if by.IsNull() || (a.has[c] && !maxByWins(by, x, a.w[c], a.v[c])) {
					continue // a row without an ordering value is skipped
				}
				// Values point into the frame (MK1): the kept ones are
				// copied, which happens only when the maximum changes.
				a.v[c], a.w[c], a.has[c] = cloneValue(x), cloneValue(by), true
			}
		case modeAcc:
			plain := v.kind == dataflow.KindString && v.codes == nil && !v.isConst
			for k, r := range rows {
				val := v.value(r)
				if plain {
					// Accumulators keep values; strings of plain columns
					// point into Arrow buffers (MK1), so they are copied,
					// once per distinct value.
					if s, ok := cs.intern[val.S]; ok {
						val.S = s
					} else {
						if cs.intern == nil {
							cs.intern = map[string]string{}
						}
						c := strings.Clone(val.S)
						cs.intern[c] = c
						val.S = c
					}
				}
				a.acc[cells[k]].Add(val)
			}
		}
	}
}

// merge folds cell c of src into cell d of cs (same specs).
func (cs *cellSet) merge(d int32, src *cellSet, c int32) {
	cs.n[d] += src.n[c]
	cs.maxEv[d] = max(cs.maxEv[d], src.maxEv[c])
	cs.maxIng[d] = max(cs.maxIng[d], src.maxIng[c])
	for j, sp := range cs.specs {
		a, b := &cs.a[j], &src.a[j]
		switch sp.mode {
		case modeSumI, modeMeanI:
			a.i[d] += b.i[c]
		case modeSumF, modeMean:
			a.f[d] += b.f[c]
		case modeMinI:
			a.i[d] = min(a.i[d], b.i[c])
		case modeMaxI:
			a.i[d] = max(a.i[d], b.i[c])
		case modeMinF:
			a.f[d] = min(a.f[d], b.f[c])
		case modeMaxF:
			a.f[d] = max(a.f[d], b.f[c])
		case modeMinS, modeMaxS:
			if b.has[c] && (!a.has[d] || (sp.mode == modeMinS && b.s[c] < a.s[d]) || (sp.mode == modeMaxS && b.s[c] > a.s[d])) {
				a.s[d], a.has[d] = b.s[c], true
			}
		case modeSpanI:
			a.i[d] = min(a.i[d], b.i[c])
			a.j[d] = max(a.j[d], b.j[c])
		case modeSpanF:
			a.f[d] = min(a.f[d], b.f[c])
			a.g[d] = max(a.g[d], b.g[c])
		case modeAcc:
			a.acc[d].Merge(b.acc[c])
		case modeMaxBy:
			if b.has[c] && (!a.has[d] || maxByWins(b.w[c], b.v[c], a.w[d], a.v[d])) {
				a.v[d], a.w[d], a.has[d] = b.v[c], b.w[c], true
			}
		}
	}
}

// subtract removes cell c of src from cell d (inverse reduce; invertible
// aggregates only). The largest event and ingest times are kept.
func (cs *cellSet) subtract(d int32, src *cellSet, c int32) {
	cs.n[d] -= src.n[c]
	for j, sp := range cs.specs {
		a, b := &cs.a[j], &src.a[j]
		switch sp.mode {
		case modeSumI:
			a.i[d] -= b.i[c]
		case modeSumF:
			a.f[d] -= b.f[c]
		}
	}
}

// value returns aggregate j of cell c.
func (cs *cellSet) value(j int, c int32) dataflow.Value {
	sp := cs.specs[j]
	a := &cs.a[j]
	switch sp.mode {
	case modeCount:
		return dataflow.Int(cs.n[c])
	case modeSumI:
		return dataflow.Int(a.i[c])
	case modeSumF:
		return dataflow.Float(a.f[c])
	case modeMinI, modeMaxI:
		return dataflow.Value{K: sp.resKind, I: a.i[c]}
	case modeMinF, modeMaxF:
		return dataflow.Float(a.f[c])
	case modeMinS, modeMaxS:
		return dataflow.Str(a.s[c])
	case modeMean:
		if cs.n[c] == 0 {
			return dataflow.Float(0)
		}
		return dataflow.Float(a.f[c] / float64(cs.n[c]))
	case modeMeanI:
		if cs.n[c] == 0 {
			return dataflow.Float(0)
		}
		return dataflow.Float(float64(a.i[c]) / float64(cs.n[c]))
	case modeSpanI:
		return dataflow.Value{K: sp.resKind, I: a.j[c] - a.i[c]}
	case modeSpanF:
		return dataflow.Float(a.g[c] - a.f[c])
	case modeMaxBy:
		if !a.has[c] {
			return dataflow.Value{} // null over no rows
		}
		return a.v[c]
	}
	return a.acc[c].Result()
}

// maxByWins reports whether the row (by, v) replaces the kept (keptBy,
// kept) in a max-by ([dataflow.AggMaxBy]): a greater By, or an equal By and
// a lesser Col value, so the result depends neither on arrival order nor
// on how partial cells merge. Floats are in cmp.Compare's total order (NaN
// least), as dataflow's max-by accumulator orders them.
func maxByWins(by, v, keptBy, kept dataflow.Value) bool {
	switch c := totalCompare(by, keptBy); {
	case c > 0:
		return true
	case c < 0:
		return false
	}
	return totalCompare(v, kept) < 0
}

func totalCompare(x, y dataflow.Value) int {
	if x.K == dataflow.KindFloat64 && y.K == dataflow.KindFloat64 {
		return cmp.Compare(x.Float64(), y.Float64())
	}
	return x.Compare(y)
}
