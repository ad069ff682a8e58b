package dataflow

import (
	"fmt"
	"strings"
)

// Expr is an expression over the named columns of a record. Expressions are
// plain data (an AST), so each runtime compiles them its own way: the
// reference and recordstream to row closures ([Compile]), microbatch to
// column kernels. The set of node types is closed; build expressions with
// [Col], [Lit], the Lit helpers and the operator functions.
type Expr interface {
	// Kind type-checks the expression against a schema.
	Kind(s Schema) (Kind, error)
	String() string
	exprNode()
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Op -linecomment

// Op is a binary or unary operator.
type Op uint8

// Operators. Comparisons yield bool; arithmetic yields int64 when both sides
// are int64 (or timestamp) and float64 otherwise; Div by an int64 zero is an
// evaluation of 0 (SQL engines give NULL; we have no nulls in hot paths).
const (
	OpEq  Op = iota + 1 // ==
	OpNe                // !=
	OpLt                // <
	OpLe                // <=
	OpGt                // >
	OpGe                // >=
	OpAnd               // &&
	OpOr                // ||
	OpNot               // !
	OpAdd               // +
	OpSub               // -
	OpMul               // *
	OpDiv               // /
	OpMod               // %
)

func (o Op) comparison() bool { return o >= OpEq && o <= OpGe }
func (o Op) logical() bool    { return o == OpAnd || o == OpOr || o == OpNot }

// ColExpr reads a column.
type ColExpr struct{ Name string }

// LitExpr is a constant.
type LitExpr struct{ Value Value }

// BinaryExpr applies Op to L and R (for OpNot, R is nil).
type BinaryExpr struct {
	Op   Op
	L, R Expr
}

// InExpr is true when X equals one of Set (all of X's kind).
type InExpr struct {
	X   Expr
	Set []Value
}

// FuncExpr applies a built-in string function to X.
type FuncExpr struct {
	Func Func
	X    Expr
	// Arg is the function's constant argument: a length for FuncPrefix, a
	// string for FuncHasPrefix and FuncContains.
	Arg Value
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Func -linecomment

// Func names a built-in function.
type Func uint8

// Built-in functions.
const (
	// FuncPrefix(s, n) is the first n bytes of s (all of s if shorter).
	FuncPrefix Func = iota + 1 // prefix
	// FuncHasPrefix(s, p) reports whether s starts with p.
	FuncHasPrefix // has_prefix
	// FuncContains(s, sub) reports whether sub occurs in s.
	FuncContains // contains
	// FuncLower(s) is s in lower case (ASCII).
	FuncLower // lower
)

func (ColExpr) exprNode()    {}
func (LitExpr) exprNode()    {}
func (BinaryExpr) exprNode() {}
func (InExpr) exprNode()     {}
func (FuncExpr) exprNode()   {}

// Col reads the named column.
func Col(name string) Expr { return ColExpr{Name: name} }

// Lit is a constant value.
func Lit(v Value) Expr { return LitExpr{Value: v} }

// LitInt, LitFloat, LitStr and LitBool are constants of each kind.
func LitInt(i int64) Expr     { return Lit(Int(i)) }
func LitFloat(f float64) Expr { return Lit(Float(f)) }
func LitStr(s string) Expr    { return Lit(Str(s)) }
func LitBool(b bool) Expr     { return Lit(Bool(b)) }

func bin(op Op, l, r Expr) Expr { return BinaryExpr{Op: op, L: l, R: r} }

// Comparison, logical and arithmetic operators.
func Eq(l, r Expr) Expr  { return bin(OpEq, l, r) }
func Ne(l, r Expr) Expr  { return bin(OpNe, l, r) }
func Lt(l, r Expr) Expr  { return bin(OpLt, l, r) }
func Le(l, r Expr) Expr  { return bin(OpLe, l, r) }
func Gt(l, r Expr) Expr  { return bin(OpGt, l, r) }
func Ge(l, r Expr) Expr  { return bin(OpGe, l, r) }
func Add(l, r Expr) Expr { return bin(OpAdd, l, r) }
func Sub(l, r Expr) Expr { return bin(OpSub, l, r) }
func Mul(l, r Expr) Expr { return bin(OpMul, l, r) }
func Div(l, r Expr) Expr { return bin(OpDiv, l, r) }
func Mod(l, r Expr) Expr { return bin(OpMod, l, r) }
func Not(x Expr) Expr    { return BinaryExpr{Op: OpNot, L: x} }

// And is true when every operand is; with no operands it is true.
func And(xs ...Expr) Expr { return fold(OpAnd, true, xs) }

// Or is true when some operand is; with no operands it is false.
func Or(xs ...Expr) Expr { return fold(OpOr, false, xs) }

func fold(op Op, empty bool, xs []Expr) Expr {
	if len(xs) == 0 {
		return LitBool(empty)
	}
	e := xs[0]
	for _, x := range xs[1:] {
		e = bin(op, e, x)
	}
	return e
}

// In is true when x equals one of the values.
func In(x Expr, set ...Value) Expr { return InExpr{X: x, Set: set} }

// Prefix is the first n bytes of the string x.
func Prefix(x Expr, n int) Expr { return FuncExpr{Func: FuncPrefix, X: x, Arg: Int(int64(n))} }

// HasPrefix reports whether the string x starts with p.
func HasPrefix(x Expr, p string) Expr { return FuncExpr{Func: FuncHasPrefix, X: x, Arg: Str(p)} }

// Contains reports whether sub occurs in the string x.
func Contains(x Expr, sub string) Expr { return FuncExpr{Func: FuncContains, X: x, Arg: Str(sub)} }

// Lower is the string x in ASCII lower case.
func Lower(x Expr) Expr { return FuncExpr{Func: FuncLower, X: x} }

// Kind implements Expr.
func (e ColExpr) Kind(s Schema) (Kind, error) {
	f, _, err := s.Lookup(e.Name)
	return f.Kind, err
}

// Kind implements Expr.
func (e LitExpr) Kind(Schema) (Kind, error) {
	if e.Value.K == KindInvalid {
		return KindInvalid, fmt.Errorf("dataflow: literal has no kind")
	}
	return e.Value.K, nil
}

// Kind implements Expr.
func (e BinaryExpr) Kind(s Schema) (Kind, error) {
	lk, err := e.L.Kind(s)
	if err != nil {
		return KindInvalid, err
	}
	if e.Op == OpNot {
		if lk != KindBool {
			return KindInvalid, fmt.Errorf("dataflow: %v needs a bool operand, got %v", e, lk)
		}
		return KindBool, nil
	}
	if e.R == nil {
		return KindInvalid, fmt.Errorf("dataflow: operator %v needs two operands", e.Op)
	}
	rk, err := e.R.Kind(s)
	if err != nil {
		return KindInvalid, err
	}
	switch {
	case e.Op.logical():
		if lk != KindBool || rk != KindBool {
			return KindInvalid, fmt.Errorf("dataflow: %v needs bool operands, got %v and %v", e, lk, rk)
		}
		return KindBool, nil
	case e.Op.comparison():
		if lk == rk || (lk.Numeric() && rk.Numeric()) {
			return KindBool, nil
		}
		return KindInvalid, fmt.Errorf("dataflow: %v compares %v with %v", e, lk, rk)
	default: // arithmetic
		if !lk.Numeric() || !rk.Numeric() {
			return KindInvalid, fmt.Errorf("dataflow: %v needs numeric operands, got %v and %v", e, lk, rk)
		}
		if lk == KindFloat64 || rk == KindFloat64 {
			if e.Op == OpMod {
				return KindInvalid, fmt.Errorf("dataflow: %v needs integer operands", e)
			}
			return KindFloat64, nil
		}
		if lk == KindTimestamp && rk != KindTimestamp && (e.Op == OpAdd || e.Op == OpSub) {
			return KindTimestamp, nil
		}
		return KindInt64, nil
	}
}

// Kind implements Expr.
func (e InExpr) Kind(s Schema) (Kind, error) {
	k, err := e.X.Kind(s)
	if err != nil {
		return KindInvalid, err
	}
	for _, v := range e.Set {
		if v.K != k {
			return KindInvalid, fmt.Errorf("dataflow: %v: set value %v is %v, not %v", e, v, v.K, k)
		}
	}
	return KindBool, nil
}

// Kind implements Expr.
func (e FuncExpr) Kind(s Schema) (Kind, error) {
	k, err := e.X.Kind(s)
	if err != nil {
		return KindInvalid, err
	}
	if k != KindString {
		return KindInvalid, fmt.Errorf("dataflow: %v needs a string, got %v", e, k)
	}
	switch e.Func {
	case FuncPrefix:
		if e.Arg.K != KindInt64 || e.Arg.I < 0 {
			return KindInvalid, fmt.Errorf("dataflow: %v needs a non-negative length", e)
		}
		return KindString, nil
	case FuncLower:
		return KindString, nil
	case FuncHasPrefix, FuncContains:
		if e.Arg.K != KindString {
			return KindInvalid, fmt.Errorf("dataflow: %v needs a string argument", e)
		}
		return KindBool, nil
	}
	return KindInvalid, fmt.Errorf("dataflow: unknown function %v", e.Func)
}

func (e ColExpr) String() string { return e.Name }
func (e LitExpr) String() string {
	if e.Value.K == KindString {
		return fmt.Sprintf("%q", e.Value.S)
	}
	return e.Value.String()
}
func (e BinaryExpr) String() string {
	if e.Op == OpNot {
		return "!(" + e.L.String() + ")"
	}
	return "(" + e.L.String() + " " + e.Op.String() + " " + e.R.String() + ")"
}
func (e InExpr) String() string {
	parts := make([]string, len(e.Set))
	for i, v := range e.Set {
		parts[i] = LitExpr{Value: v}.String()
	}
	return e.X.String() + " in (" + strings.Join(parts, ", ") + ")"
}
func (e FuncExpr) String() string {
	if e.Func == FuncLower {
		return "lower(" + e.X.String() + ")"
	}
	return e.Func.String() + "(" + e.X.String() + ", " + LitExpr{Value: e.Arg}.String() + ")"
}

// Columns appends the names of the columns e reads.
func Columns(dst []string, e Expr) []string {
	switch e := e.(type) {
	case ColExpr:
		return append(dst, e.Name)
	case BinaryExpr:
		dst = Columns(dst, e.L)
		if e.R != nil {
			dst = Columns(dst, e.R)
		}
	case InExpr:
		return Columns(dst, e.X)
	case FuncExpr:
		return Columns(dst, e.X)
	}
	return dst
}
