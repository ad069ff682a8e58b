package dataflow

import (
	"fmt"
	"math"
	"strings"
)

// RowFunc evaluates a compiled expression on one row. It does not allocate,
// except for [Lower] on strings that have upper-case letters.
type RowFunc func(Row) Value

// Compile type-checks e against s and returns a row evaluator and the
// result kind. The evaluator reads columns by position, so it only works on
// rows of schema s.
func Compile(e Expr, s Schema) (RowFunc, Kind, error) {
	k, err := e.Kind(s)
	if err != nil {
		return nil, KindInvalid, err
	}
	f, err := compile(e, s)
	return f, k, err
}

// CompilePredicate compiles a bool expression into a row predicate.
func CompilePredicate(e Expr, s Schema) (func(Row) bool, error) {
	k, err := e.Kind(s)
	if err != nil {
		return nil, err
	}
	if k != KindBool {
		return nil, fmt.Errorf("dataflow: predicate %v is %v, not bool", e, k)
	}
	// Fast paths for the shapes workloads use most: column == literal.
	if b, ok := e.(BinaryExpr); ok && (b.Op == OpEq || b.Op == OpNe) {
		if c, ok := b.L.(ColExpr); ok {
			if l, ok := b.R.(LitExpr); ok {
				i := s.Index(c.Name)
				want := b.Op == OpEq
				if l.Value.K == KindString && s.Fields[i].Kind == KindString {
					lit := l.Value.S
					return func(r Row) bool { return (r[i].S == lit) == want }, nil
				}
				if l.Value.K == s.Fields[i].Kind && l.Value.K != KindFloat64 {
					lit := l.Value.I
					return func(r Row) bool { return (r[i].I == lit) == want }, nil
				}
			}
		}
	}
	f, err := compile(e, s)
	if err != nil {
		return nil, err
	}
	return func(r Row) bool { return f(r).I != 0 }, nil
}

func compile(e Expr, s Schema) (RowFunc, error) {
	switch e := e.(type) {
	case ColExpr:
		i := s.Index(e.Name)
		if i < 0 {
			return nil, &ColumnError{Column: e.Name, Schema: s}
		}
		return func(r Row) Value { return r[i] }, nil
	case LitExpr:
		v := e.Value
		return func(Row) Value { return v }, nil
	case InExpr:
		x, err := compile(e.X, s)
		if err != nil {
			return nil, err
		}
		set := e.Set
		if len(set) > 0 && set[0].K == KindString {
			m := make(map[string]struct{}, len(set))
			for _, v := range set {
				m[v.S] = struct{}{}
			}
			return func(r Row) Value { _, ok := m[x(r).S]; return Bool(ok) }, nil
		}
		return func(r Row) Value {
			v := x(r)
			for _, w := range set {
				if v.Equal(w) {
					return Bool(true)
				}
			}
			return Bool(false)
		}, nil
	case FuncExpr:
		x, err := compile(e.X, s)
		if err != nil {
			return nil, err
		}
		switch e.Func {
		case FuncPrefix:
			n := int(e.Arg.I)
			return func(r Row) Value {
				v := x(r).S
				if len(v) > n {
					v = v[:n]
				}
				return Str(v)
			}, nil
		case FuncHasPrefix:
			p := e.Arg.S
			return func(r Row) Value { return Bool(strings.HasPrefix(x(r).S, p)) }, nil
		case FuncContains:
			p := e.Arg.S
			return func(r Row) Value { return Bool(strings.Contains(x(r).S, p)) }, nil
		case FuncLower:
			return func(r Row) Value { return Str(asciiLower(x(r).S)) }, nil
		}
		return nil, fmt.Errorf("dataflow: unknown function %v", e.Func)
	case BinaryExpr:
		return compileBinary(e, s)
	}
	return nil, fmt.Errorf("dataflow: unknown expression %T", e)
}

func compileBinary(e BinaryExpr, s Schema) (RowFunc, error) {
	l, err := compile(e.L, s)
	if err != nil {
		return nil, err
	}
	if e.Op == OpNot {
		return func(r Row) Value { return Bool(l(r).I == 0) }, nil
	}
	rt, err := compile(e.R, s)
	if err != nil {
		return nil, err
	}
	lk, _ := e.L.Kind(s)
	rk, _ := e.R.Kind(s)
	switch e.Op {
	case OpAnd:
		return func(r Row) Value { return Bool(l(r).I != 0 && rt(r).I != 0) }, nil
	case OpOr:
		return func(r Row) Value { return Bool(l(r).I != 0 || rt(r).I != 0) }, nil
	}
	if e.Op.comparison() {
		op := e.Op
		if lk != rk { // mixed numeric: compare as floats
			return func(r Row) Value { return Bool(cmpResult(op, cmpFloat(l(r).Float64(), rt(r).Float64()))) }, nil
		}
		return func(r Row) Value { return Bool(cmpResult(op, l(r).Compare(rt(r)))) }, nil
	}
	op := e.Op
	k, _ := e.Kind(s)
	if k == KindFloat64 {
		return func(r Row) Value { return Float(arithFloat(op, l(r).Float64(), rt(r).Float64())) }, nil
	}
	return func(r Row) Value { return Value{K: k, I: arithInt(op, l(r).I, rt(r).I)} }, nil
}

// asciiLower lowers A-Z only, as [Lower] documents (strings.ToLower also
// maps Unicode letters, which a column kernel need not do). It returns s
// itself, without allocating, when s has no upper-case ASCII letter.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpResult(op Op, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	case OpGt:
		return c > 0
	}
	return c >= 0
}

func arithInt(op Op, a, b int64) int64 {
	switch op {
	case OpAdd:
		return a + b
	case OpSub:
		return a - b
	case OpMul:
		return a * b
	case OpDiv:
		if b == 0 {
			return 0
		}
		return a / b
	case OpMod:
		if b == 0 {
			return 0
		}
		return a % b
	}
	return 0
}

func arithFloat(op Op, a, b float64) float64 {
	switch op {
	case OpAdd:
		return a + b
	case OpSub:
		return a - b
	case OpMul:
		return a * b
	case OpDiv:
		return a / b
	}
	return math.NaN()
}
