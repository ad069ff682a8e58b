package dataflow_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

var exprSchema = dataflow.NewSchema(
	dataflow.Field{Name: "i", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "j", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "f", Kind: dataflow.KindFloat64},
	dataflow.Field{Name: "s", Kind: dataflow.KindString},
	dataflow.Field{Name: "b", Kind: dataflow.KindBool},
	dataflow.Field{Name: "t", Kind: dataflow.KindTimestamp},
	dataflow.Field{Name: "z", Kind: dataflow.KindInt64},
)

var exprRow = dataflow.Row{
	dataflow.Int(7), dataflow.Int(-2), dataflow.Float(2.5), dataflow.Str("Hello #World"),
	dataflow.Bool(true), dataflow.Timestamp(1000), dataflow.Int(0),
}

func TestExprEval(t *testing.T) {
	c := dataflow.Col
	tests := []struct {
		e    dataflow.Expr
		want dataflow.Value
	}{
		{c("i"), dataflow.Int(7)},
		{dataflow.LitStr("x"), dataflow.Str("x")},
		// Comparisons, same kinds and mixed numeric kinds.
		{dataflow.Eq(c("i"), dataflow.LitInt(7)), dataflow.Bool(true)},
		{dataflow.Ne(c("i"), dataflow.LitInt(7)), dataflow.Bool(false)},
		{dataflow.Lt(c("j"), c("i")), dataflow.Bool(true)},
		{dataflow.Le(c("i"), dataflow.LitInt(7)), dataflow.Bool(true)},
		{dataflow.Gt(c("f"), c("i")), dataflow.Bool(false)},
		{dataflow.Ge(c("f"), dataflow.LitInt(2)), dataflow.Bool(true)},
		{dataflow.Lt(c("s"), dataflow.LitStr("Hz")), dataflow.Bool(true)},
		{dataflow.Eq(c("b"), dataflow.LitBool(true)), dataflow.Bool(true)},
		{dataflow.Gt(c("t"), dataflow.LitInt(999)), dataflow.Bool(true)},
		// Logic.
		{dataflow.And(c("b"), dataflow.Gt(c("i"), dataflow.LitInt(0))), dataflow.Bool(true)},
		{dataflow.And(c("b"), dataflow.LitBool(false)), dataflow.Bool(false)},
		{dataflow.And(), dataflow.Bool(true)},
		{dataflow.Or(dataflow.LitBool(false), dataflow.LitBool(false)), dataflow.Bool(false)},
		{dataflow.Or(dataflow.LitBool(false), c("b")), dataflow.Bool(true)},
		{dataflow.Or(), dataflow.Bool(false)},
		{dataflow.Not(c("b")), dataflow.Bool(false)},
		// Arithmetic: int stays int, any float makes float.
		{dataflow.Add(c("i"), c("j")), dataflow.Int(5)},
		{dataflow.Sub(c("i"), c("j")), dataflow.Int(9)},
		{dataflow.Mul(c("i"), c("j")), dataflow.Int(-14)},
		{dataflow.Div(c("i"), c("j")), dataflow.Int(-3)},
		{dataflow.Div(c("i"), c("z")), dataflow.Int(0)},
		{dataflow.Mod(c("i"), dataflow.LitInt(4)), dataflow.Int(3)},
		{dataflow.Mod(c("i"), c("z")), dataflow.Int(0)},
		{dataflow.Add(c("i"), c("f")), dataflow.Float(9.5)},
		{dataflow.Mul(c("f"), dataflow.LitFloat(2)), dataflow.Float(5)},
		{dataflow.Div(c("i"), c("f")), dataflow.Float(2.8)},
		{dataflow.Sub(c("f"), c("f")), dataflow.Float(0)},
		{dataflow.Add(c("t"), dataflow.LitInt(500)), dataflow.Timestamp(1500)},
		{dataflow.Sub(c("t"), c("t")), dataflow.Int(0)},
		// Sets and functions.
		{dataflow.In(c("i"), dataflow.Int(1), dataflow.Int(7)), dataflow.Bool(true)},
		{dataflow.In(c("i"), dataflow.Int(1)), dataflow.Bool(false)},
		{dataflow.In(c("i")), dataflow.Bool(false)},
		{dataflow.In(c("s"), dataflow.Str("a"), dataflow.Str("Hello #World")), dataflow.Bool(true)},
		{dataflow.In(c("s"), dataflow.Str("a")), dataflow.Bool(false)},
		{dataflow.Prefix(c("s"), 5), dataflow.Str("Hello")},
		{dataflow.Prefix(c("s"), 0), dataflow.Str("")},
		{dataflow.Prefix(c("s"), 100), dataflow.Str("Hello #World")},
		{dataflow.HasPrefix(c("s"), "Hell"), dataflow.Bool(true)},
		{dataflow.HasPrefix(c("s"), "hell"), dataflow.Bool(false)},
		{dataflow.Contains(c("s"), "#Wor"), dataflow.Bool(true)},
		{dataflow.Contains(c("s"), "#wor"), dataflow.Bool(false)},
		{dataflow.Lower(c("s")), dataflow.Str("hello #world")},
		{dataflow.Lower(dataflow.LitStr("ÄB")), dataflow.Str("Äb")},
		{dataflow.HasPrefix(dataflow.Lower(c("s")), "hello"), dataflow.Bool(true)},
	}
	for _, tc := range tests {
		t.Run(tc.e.String(), func(t *testing.T) {
			f, k, err := dataflow.Compile(tc.e, exprSchema)
			require.NoError(t, err)
			assert.Equal(t, tc.want.K, k, "Compile(%v) kind", tc.e)
			got := f(exprRow)
			assert.True(t, tc.want.Equal(got), "%v = %v, want %v", tc.e, got, tc.want)
			if k == dataflow.KindBool {
				pred, err := dataflow.CompilePredicate(tc.e, exprSchema)
				require.NoError(t, err)
				assert.Equal(t, tc.want.Bool(), pred(exprRow), "predicate %v", tc.e)
			}
		})
	}
}

func TestExprFloatEdges(t *testing.T) {
	f, _, err := dataflow.Compile(dataflow.Div(dataflow.Col("f"), dataflow.LitFloat(0)), exprSchema)
	require.NoError(t, err)
	assert.True(t, math.IsInf(f(exprRow).Float64(), 1), "float division by zero is +Inf")
}

func TestPredicateFastPaths(t *testing.T) {
	// Column == literal has a fast path; it must agree with the general one.
	for _, e := range []dataflow.Expr{
		dataflow.Eq(dataflow.Col("s"), dataflow.LitStr("Hello #World")),
		dataflow.Ne(dataflow.Col("s"), dataflow.LitStr("Hello #World")),
		dataflow.Eq(dataflow.Col("i"), dataflow.LitInt(7)),
		dataflow.Ne(dataflow.Col("i"), dataflow.LitInt(8)),
		dataflow.Eq(dataflow.Col("f"), dataflow.LitFloat(2.5)),
		dataflow.Eq(dataflow.Col("i"), dataflow.LitFloat(7)),
		dataflow.Eq(dataflow.Col("b"), dataflow.LitBool(false)),
	} {
		pred, err := dataflow.CompilePredicate(e, exprSchema)
		require.NoError(t, err)
		f, _, err := dataflow.Compile(e, exprSchema)
		require.NoError(t, err)
		assert.Equal(t, f(exprRow).Bool(), pred(exprRow), "%v", e)
	}
}

func TestExprTypeErrors(t *testing.T) {
	c := dataflow.Col
	for _, tc := range []struct {
		e    dataflow.Expr
		want string
	}{
		{c("nope"), `no column "nope"`},
		{dataflow.Lit(dataflow.Value{}), "literal has no kind"},
		{dataflow.Eq(c("s"), dataflow.LitInt(1)), "compares string with int64"},
		{dataflow.And(c("b"), c("i")), "needs bool operands"},
		{dataflow.Not(c("i")), "needs a bool operand"},
		{dataflow.Add(c("s"), c("i")), "needs numeric operands"},
		{dataflow.Add(c("b"), c("i")), "needs numeric operands"},
		{dataflow.Mod(c("f"), c("i")), "needs integer operands"},
		{dataflow.BinaryExpr{Op: dataflow.OpAdd, L: c("i")}, "needs two operands"},
		{dataflow.In(c("i"), dataflow.Str("x")), "is string, not int64"},
		{dataflow.Prefix(c("i"), 2), "needs a string"},
		{dataflow.Prefix(c("s"), -1), "non-negative length"},
		{dataflow.FuncExpr{Func: dataflow.FuncHasPrefix, X: c("s"), Arg: dataflow.Int(1)}, "needs a string argument"},
		{dataflow.FuncExpr{Func: 99, X: c("s")}, "unknown function"},
		{dataflow.Gt(c("nope"), c("i")), `no column "nope"`},
		{dataflow.Gt(c("i"), c("nope")), `no column "nope"`},
	} {
		_, _, err := dataflow.Compile(tc.e, exprSchema)
		assert.ErrorContains(t, err, tc.want, "Compile(%v)", tc.e)
	}
	_, err := dataflow.CompilePredicate(dataflow.Add(c("i"), c("j")), exprSchema)
	assert.ErrorContains(t, err, "not bool")
}

func TestExprStringAndColumns(t *testing.T) {
	e := dataflow.And(
		dataflow.Ge(dataflow.Col("i"), dataflow.LitInt(3)),
		dataflow.Not(dataflow.In(dataflow.Lower(dataflow.Col("s")), dataflow.Str("a"), dataflow.Str("b"))),
		dataflow.HasPrefix(dataflow.Col("s"), "#"),
	)
	assert.Equal(t, `(((i >= 3) && !(lower(s) in ("a", "b"))) && has_prefix(s, "#"))`, e.String())
	assert.Equal(t, []string{"i", "s", "s"}, dataflow.Columns(nil, e))
	assert.Equal(t, "prefix(s, 2)", dataflow.Prefix(dataflow.Col("s"), 2).String())
	assert.Equal(t, "%", dataflow.OpMod.String())
	assert.Equal(t, "contains", dataflow.FuncContains.String())
}

func TestCompiledExprAllocs(t *testing.T) {
	pred, err := dataflow.CompilePredicate(dataflow.And(
		dataflow.Gt(dataflow.Add(dataflow.Col("i"), dataflow.Col("f")), dataflow.LitInt(1)),
		dataflow.HasPrefix(dataflow.Lower(dataflow.Col("s")), "hello"),
		dataflow.In(dataflow.Col("s"), dataflow.Str("Hello #World"), dataflow.Str("hello #world")),
	), exprSchema)
	require.NoError(t, err)
	lowerRow := append(dataflow.Row(nil), exprRow...)
	lowerRow[3] = dataflow.Str("hello #world")
	allocs := testing.AllocsPerRun(1000, func() {
		if !pred(lowerRow) {
			t.Fatal("predicate false")
		}
	})
	assert.Zero(t, allocs, "a compiled predicate allocates (lower of a lower-case string must not)")
}
