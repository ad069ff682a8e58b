package microbatch

import (
	"fmt"
	"strings"

	"github.com/weirlab/weir/dataflow"
)

// kexpr evaluates an expression over the selected rows of the frame
// (x.sel) and returns a vec indexed by frame row; rows not selected hold
// garbage. The vec's buffers belong to the kernel and are reused (MK3).
type kexpr func(x *exec) vec

// kpred refines a selection: it returns the rows of sel for which the
// predicate holds, written into out (which may alias sel).
type kpred func(x *exec, sel, out []int32) []int32

// dictMap is a per-dictionary-entry cache (MK2): for dictionary id, vals[c]
// is the result for code c, for the codes computed so far.
type dictMap[T any] struct {
	id   int64
	vals []T
}

// of returns the cache for d, extended to all its codes with f.
func (m *dictMap[T]) of(d *dictVals, f func(string) T) []T {
	if m.id != d.id {
		m.id, m.vals = d.id, m.vals[:0]
	}
	for i := len(m.vals); i < len(d.vals); i++ {
		m.vals = append(m.vals, f(d.vals[i]))
	}
	return m.vals
}

// compilePred compiles a bool expression into a selection kernel, with fast
// paths for the shapes workloads use: string column (==, !=, in,
// has_prefix, contains) a literal on dictionary columns compares each
// dictionary entry once and then tests codes (MK2); integer column against a
// literal; conjunctions chain.
func (c *compiler) compilePred(e dataflow.Expr, s dataflow.Schema) (kpred, error) {
	if k, err := e.Kind(s); err != nil {
		return nil, err
	} else if k != dataflow.KindBool {
		return nil, fmt.Errorf("microbatch: predicate %v is %v, not bool", e, k)
	}
	if b, ok := e.(dataflow.BinaryExpr); ok && b.Op == dataflow.OpAnd {
		l, err := c.compilePred(b.L, s)
		if err != nil {
			return nil, err
		}
		r, err := c.compilePred(b.R, s)
		if err != nil {
			return nil, err
		}
		return func(x *exec, sel, out []int32) []int32 { return r(x, l(x, sel, out), out) }, nil
	}
	if col, test, ok := c.stringTest(e, s); ok {
		var m dictMap[uint8]
		test8 := func(s string) uint8 { return uint8(b2i(test(s))) }
		return func(x *exec, sel, out []int32) []int32 {
			v := &x.cols[col]
			out = out[:0]
			if v.codes != nil {
				// Branch-free: write every row, advance by the bit, as a
				// filter keeping a third of the rows mispredicts half of
				// its branches.
				bm := m.of(v.dict, test8)
				codes := v.codes
				out = out[:len(sel)]
				n := 0
				for _, r := range sel {
					out[n] = r
					n += int(bm[codes[r]])
				}
				return out[:n]
			}
			for _, r := range sel {
				if test(v.str(r)) {
					out = append(out, r)
				}
			}
			return out
		}, nil
	}
	if b, ok := e.(dataflow.BinaryExpr); ok && b.Op >= dataflow.OpEq && b.Op <= dataflow.OpGe {
		if cl, ok := b.L.(dataflow.ColExpr); ok {
			if lit, ok := b.R.(dataflow.LitExpr); ok {
				i := s.Index(cl.Name)
				k := s.Fields[i].Kind
				if k != dataflow.KindFloat64 && k != dataflow.KindString && lit.Value.K != dataflow.KindFloat64 && lit.Value.K != dataflow.KindString {
					lv, op := lit.Value.I, b.Op
					return func(x *exec, sel, out []int32) []int32 {
						v := &x.cols[i]
						out = out[:0]
						if v.isConst {
							if cmpOrdered(op, v.c.I, lv) {
								out = append(out, sel...)
							}
							return out
						}
						vals := v.i64
						switch op {
						case dataflow.OpEq: // the common case, branch-free
							out = out[:len(sel)]
							n := 0
							if x.selAll && len(sel) == x.n {
								// Every row: read the column, not sel.
								for r, v := range vals[:len(sel)] {
									out[n] = int32(r)
									n += int(b2i(v == lv))
								}
							} else {
								for _, r := range sel {
									out[n] = r
									n += int(b2i(vals[r] == lv))
								}
							}
							out = out[:n]
						case dataflow.OpNe:
							for _, r := range sel {
								if vals[r] != lv {
									out = append(out, r)
								}
							}
						default:
							for _, r := range sel {
								if cmpOrdered(op, vals[r], lv) {
									out = append(out, r)
								}
							}
						}
						return out
					}, nil
				}
			}
		}
	}
	f, _, err := c.compileExpr(e, s)
	if err != nil {
		return nil, err
	}
	return func(x *exec, sel, out []int32) []int32 {
		v := f(x)
		out = out[:0]
		if v.isConst {
			if v.c.I != 0 {
				return append(out, sel...)
			}
			return out
		}
		for _, r := range sel {
			if v.i64[r] != 0 {
				out = append(out, r)
			}
		}
		return out
	}, nil
}

// stringTest recognises a test of one string column against constants.
func (c *compiler) stringTest(e dataflow.Expr, s dataflow.Schema) (int, func(string) bool, bool) {
	colOf := func(e dataflow.Expr) int {
		if cl, ok := e.(dataflow.ColExpr); ok {
			if i := s.Index(cl.Name); i >= 0 && s.Fields[i].Kind == dataflow.KindString {
				return i
			}
		}
		return -1
	}
	switch e := e.(type) {
	case dataflow.BinaryExpr:
		if e.Op != dataflow.OpEq && e.Op != dataflow.OpNe {
			return 0, nil, false
		}
		i := colOf(e.L)
		lit, ok := e.R.(dataflow.LitExpr)
		if i < 0 || !ok || lit.Value.K != dataflow.KindString {
			return 0, nil, false
		}
		want, eq := lit.Value.S, e.Op == dataflow.OpEq
		return i, func(v string) bool { return (v == want) == eq }, true
	case dataflow.InExpr:
		i := colOf(e.X)
		if i < 0 {
			return 0, nil, false
		}
		set := make(map[string]bool, len(e.Set))
		for _, v := range e.Set {
			set[v.S] = true
		}
		return i, func(v string) bool { return set[v] }, true
	case dataflow.FuncExpr:
		i := colOf(e.X)
		if i < 0 {
			return 0, nil, false
		}
		arg := e.Arg.S
		switch e.Func {
		case dataflow.FuncHasPrefix:
			return i, func(v string) bool { return strings.HasPrefix(v, arg) }, true
		case dataflow.FuncContains:
			return i, func(v string) bool { return strings.Contains(v, arg) }, true
		}
	}
	return 0, nil, false
}

// cmpOrdered applies a comparison operator to two numbers.
func cmpOrdered[T int64 | float64](op dataflow.Op, a, b T) bool {
	switch op {
	case dataflow.OpEq:
		return a == b
	case dataflow.OpNe:
		return a != b
	case dataflow.OpLt:
		return a < b
	case dataflow.OpLe:
		return a <= b
	case dataflow.OpGt:
		return a > b
	}
	return a >= b
}

func cmpStrings(op dataflow.Op, a, b string) bool {
	c := strings.Compare(a, b)
	switch op {
	case dataflow.OpEq:
		return c == 0
	case dataflow.OpNe:
		return c != 0
	case dataflow.OpLt:
		return c < 0
	case dataflow.OpLe:
		return c <= 0
	case dataflow.OpGt:
		return c > 0
	}
	return c >= 0
}

// compileExpr compiles any expression into a column kernel. String
// functions of dictionary columns are computed once per dictionary entry and
// keep the codes (MK2).
func (c *compiler) compileExpr(e dataflow.Expr, s dataflow.Schema) (kexpr, dataflow.Kind, error) {
	k, err := e.Kind(s)
	if err != nil {
		return nil, 0, err
	}
	switch e := e.(type) {
	case dataflow.ColExpr:
		i := s.Index(e.Name)
		return func(x *exec) vec { return x.cols[i] }, k, nil
	case dataflow.LitExpr:
		v := vec{kind: k, isConst: true, c: e.Value}
		return func(*exec) vec { return v }, k, nil
	case dataflow.InExpr:
		if i, test, ok := c.stringTest(e, s); ok {
			return c.stringBool(i, test), k, nil
		}
		xf, _, err := c.compileExpr(e.X, s)
		if err != nil {
			return nil, 0, err
		}
		set := e.Set
		var out []int64
		return func(x *exec) vec {
			v := xf(x)
			o := grow(&out, x.n)
			for _, r := range x.sel {
				val := v.value(r)
				o[r] = 0
				for _, w := range set {
					if val.Equal(w) {
						o[r] = 1
						break
					}
				}
			}
			return vec{kind: dataflow.KindBool, i64: o}
		}, k, nil
	case dataflow.FuncExpr:
		if e.Func == dataflow.FuncHasPrefix || e.Func == dataflow.FuncContains {
			i, test, ok := c.stringTest(e, s)
			if ok {
				return c.stringBool(i, test), k, nil
			}
			xf, _, err := c.compileExpr(e.X, s)
			if err != nil {
				return nil, 0, err
			}
			arg, fn := e.Arg.S, e.Func
			var out []int64
			return func(x *exec) vec {
				v := xf(x)
				o := grow(&out, x.n)
				for _, r := range x.sel {
					sv := v.str(r)
					var b bool
					if fn == dataflow.FuncHasPrefix {
						b = strings.HasPrefix(sv, arg)
					} else {
						b = strings.Contains(sv, arg)
					}
					o[r] = b2i(b)
				}
				return vec{kind: dataflow.KindBool, i64: o}
			}, k, nil
		}
		xf, _, err := c.compileExpr(e.X, s)
		if err != nil {
			return nil, 0, err
		}
		var f func(string) string
		if e.Func == dataflow.FuncPrefix {
			n := int(e.Arg.I)
			f = func(v string) string {
				if len(v) > n {
					return v[:n]
				}
				return v
			}
		} else {
			f = strings.ToLower
		}
		var m dictMap[string]
		var derived dictVals
		var srcID int64 = -1
		var out []string
		return func(x *exec) vec {
			v := xf(x)
			if v.isConst {
				return vec{kind: dataflow.KindString, isConst: true, c: dataflow.Str(f(v.c.S))}
			}
			if v.codes != nil {
				vals := m.of(v.dict, f)
				if srcID != v.dict.id {
					srcID = v.dict.id
					derived.id = c.newID()
				}
				derived.vals = vals
				return vec{kind: dataflow.KindString, codes: v.codes, dict: &derived}
			}
			o := grow(&out, x.n)
			for _, r := range x.sel {
				o[r] = f(v.strs[r])
			}
			return vec{kind: dataflow.KindString, strs: o}
		}, k, nil
	case dataflow.BinaryExpr:
		return c.compileBinary(e, s, k)
	}
	return nil, 0, fmt.Errorf("microbatch: unknown expression %T", e)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (c *compiler) stringBool(i int, test func(string) bool) kexpr {
	var m dictMap[bool]
	var out []int64
	return func(x *exec) vec {
		v := &x.cols[i]
		o := grow(&out, x.n)
		if v.isConst {
			return vec{kind: dataflow.KindBool, isConst: true, c: dataflow.Bool(test(v.c.S))}
		}
		if v.codes != nil {
			bm := m.of(v.dict, test)
			for _, r := range x.sel {
				o[r] = b2i(bm[v.codes[r]])
			}
		} else {
			for _, r := range x.sel {
				o[r] = b2i(test(v.strs[r]))
			}
		}
		return vec{kind: dataflow.KindBool, i64: o}
	}
}

func (c *compiler) compileBinary(e dataflow.BinaryExpr, s dataflow.Schema, k dataflow.Kind) (kexpr, dataflow.Kind, error) {
	lf, lk, err := c.compileExpr(e.L, s)
	if err != nil {
		return nil, 0, err
	}
	var out []int64
	var fout []float64
	if e.Op == dataflow.OpNot {
		return func(x *exec) vec {
			l := lf(x)
			if l.isConst {
				return vec{kind: dataflow.KindBool, isConst: true, c: dataflow.Bool(l.c.I == 0)}
			}
			o := grow(&out, x.n)
			for _, r := range x.sel {
				o[r] = 1 - l.i64[r]
			}
			return vec{kind: dataflow.KindBool, i64: o}
		}, k, nil
	}
	rf, rk, err := c.compileExpr(e.R, s)
	if err != nil {
		return nil, 0, err
	}
	op := e.Op
	switch {
	case op == dataflow.OpAnd || op == dataflow.OpOr:
		return func(x *exec) vec {
			l, r := lf(x), rf(x)
			o := grow(&out, x.n)
			for _, i := range x.sel {
				a, b := l.int(i) != 0, r.int(i) != 0
				if op == dataflow.OpAnd {
					o[i] = b2i(a && b)
				} else {
					o[i] = b2i(a || b)
				}
			}
			return vec{kind: dataflow.KindBool, i64: o}
		}, k, nil
	case op >= dataflow.OpEq && op <= dataflow.OpGe:
		return func(x *exec) vec {
			l, r := lf(x), rf(x)
			o := grow(&out, x.n)
			switch {
			case lk == dataflow.KindString:
				for _, i := range x.sel {
					o[i] = b2i(cmpStrings(op, l.str(i), r.str(i)))
				}
			case lk == dataflow.KindFloat64 || rk == dataflow.KindFloat64 || lk != rk:
				for _, i := range x.sel {
					o[i] = b2i(cmpOrdered(op, l.float(i), r.float(i)))
				}
			default:
				for _, i := range x.sel {
					o[i] = b2i(cmpOrdered(op, l.int(i), r.int(i)))
				}
			}
			return vec{kind: dataflow.KindBool, i64: o}
		}, k, nil
	}
	// Arithmetic, as dataflow's row evaluator does it.
	if k == dataflow.KindFloat64 {
		return func(x *exec) vec {
			l, r := lf(x), rf(x)
			o := grow(&fout, x.n)
			for _, i := range x.sel {
				a, b := l.float(i), r.float(i)
				switch op {
				case dataflow.OpAdd:
					o[i] = a + b
				case dataflow.OpSub:
					o[i] = a - b
				case dataflow.OpMul:
					o[i] = a * b
				case dataflow.OpDiv:
					o[i] = a / b
				}
			}
			return vec{kind: k, f64: o}
		}, k, nil
	}
	return func(x *exec) vec {
		l, r := lf(x), rf(x)
		o := grow(&out, x.n)
		for _, i := range x.sel {
			a, b := l.int(i), r.int(i)
			var v int64
			switch op {
			case dataflow.OpAdd:
				v = a + b
			case dataflow.OpSub:
				v = a - b
			case dataflow.OpMul:
				v = a * b
			case dataflow.OpDiv:
				if b != 0 {
					v = a / b
				}
			case dataflow.OpMod:
				if b != 0 {
					v = a % b
				}
			}
			o[i] = v
		}
		return vec{kind: k, i64: o}
	}, k, nil
}
