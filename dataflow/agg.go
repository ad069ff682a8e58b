package dataflow

import (
	"errors"
	"fmt"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=AggKind -linecomment

// AggKind names an aggregate function.
type AggKind uint8

// Aggregate functions. Exact ones first, then the approximate sketches.
const (
	AggInvalid AggKind = iota // invalid
	// AggCount counts records (Col is ignored). Result int64.
	AggCount // count
	// AggSum sums Col. Result int64 for integer columns, float64 otherwise.
	AggSum // sum
	// AggMin and AggMax keep the least and greatest value of Col.
	AggMin // min
	AggMax // max
	// AggMean is the arithmetic mean of Col. Result float64.
	AggMean // mean
	// AggDistinct counts distinct values of Col exactly. Result int64.
	AggDistinct // distinct
	// AggTopN lists the N most frequent values of Col, exactly, as text
	// "value=count,value=count" by count descending then value ascending
	// (see [TopN] for the exact format).
	AggTopN // top_n
	// AggApproxTopN is AggTopN estimated by a Count-Min sketch (Width x
	// Depth counters) over a bounded set of candidate values, in the same
	// text form (see [ApproxTopN]).
	AggApproxTopN // approx_top_n
	// AggApproxDistinct estimates AggDistinct with HyperLogLog (2^Precision
	// registers). Result int64.
	AggApproxDistinct // approx_distinct
	// AggSpan is max(Col) - min(Col): a session's duration from its
	// timestamps. Result int64 (or float64 for float columns).
	AggSpan // span
	// AggMaxBy is the value of Col in the row of greatest By (Nexmark q7's
	// highest bid and its bidder): ties in By are broken by the least Col
	// value ([Value.Compare]), so the result does not depend on arrival
	// order or on how partial results merged; null over no rows. Result
	// Col's kind.
	AggMaxBy // max_by
)

// Combinable reports whether results of this kind over disjoint parts of a
// window combine into the result over the whole ([CombineResults]); only such
// aggregates may use discarding panes.
func (k AggKind) Combinable() bool {
	return k == AggCount || k == AggSum || k == AggMin || k == AggMax
}

// Agg is one aggregate of an [Aggregation].
type Agg struct {
	Kind AggKind
	// Col is the input column (unused by count).
	Col string
	// N is how many values top-N lists.
	N int
	// By is the ordering column of max-by.
	By string
	// As names the output column; the default is kind_col (or "count").
	As string
	// Width and Depth size the Count-Min sketch (defaults 2048 x 4);
	// Precision sizes HyperLogLog (default 14, 4 <= p <= 18).
	Width, Depth int
	Precision    uint8
}

// Count, Sum, Min, Max, Mean, Distinct, ApproxDistinct and Span build
// aggregates with default parameters; TopN and ApproxTopN follow.
func Count() Agg                    { return Agg{Kind: AggCount} }
func Sum(col string) Agg            { return Agg{Kind: AggSum, Col: col} }
func Min(col string) Agg            { return Agg{Kind: AggMin, Col: col} }
func Max(col string) Agg            { return Agg{Kind: AggMax, Col: col} }
func Mean(col string) Agg           { return Agg{Kind: AggMean, Col: col} }
func Distinct(col string) Agg       { return Agg{Kind: AggDistinct, Col: col} }
func ApproxDistinct(col string) Agg { return Agg{Kind: AggApproxDistinct, Col: col} }
func Span(col string) Agg           { return Agg{Kind: AggSpan, Col: col} }

// MaxBy is the value of col in the row of greatest by: see [AggMaxBy].
func MaxBy(col, by string) Agg { return Agg{Kind: AggMaxBy, Col: col, By: by} }

// TopN lists the n most frequent values of col, exactly. Its result is a
// string value (KindString):
//
//	value=count,value=count,...
//
// with at most n entries (fewer when the window holds fewer distinct values;
// "" when it holds none), each the value's text ([Value.AppendText]), '=' and
// its count in decimal, joined by ',' with no spaces. Entries are ordered by
// count descending, then by value ascending ([Value.Compare]: strings in byte
// order, so "#Go" before "#go" before "#go2"; numbers numerically); the same
// order decides which of several values tied at the n-th count are listed.
// The result therefore does not depend on arrival order or on how partial
// aggregates were merged. Values are not escaped: a value holding ',' or
// '=' (a hashtag token such as "#go," keeps its comma) makes the text
// ambiguous to split. Every added value counts, so a value that occurs twice
// in one record's exploded tokens counts 2 ([ExplodeStep] keeps repeats).
func TopN(col string, n int) Agg { return Agg{Kind: AggTopN, Col: col, N: n} }

// ApproxTopN estimates [TopN] with a Count-Min sketch (Width x Depth
// counters, one independent hash per row). Its result has TopN's format and
// order, with each count replaced by the sketch's estimate, which is never
// below the true count: the n candidates of largest estimate, ties by value
// ascending (NaN before every other float).
//
// The candidates are the distinct values of the input, at most max(65536,
// 2n) of them: beyond that bound, the distinct values of least 64-bit hash
// (then value). So the result is a function of the multiset of input values,
// whatever their order and however a runtime splits them into batches and
// tasks and merges the parts: every runtime gives the reference's answer.
// Below the bound a frequent value is never missed; above it, a frequent
// value outside the hash sample is. Candidates kept by their estimate (a
// heavy-hitter heap) were not used because which values such a set keeps
// depends on arrival order: a value's estimate grows after its last
// occurrence, through values that share its counters.
func ApproxTopN(col string, n int) Agg { return Agg{Kind: AggApproxTopN, Col: col, N: n} }

// Named returns g with output column name as.
func (g Agg) Named(as string) Agg {
	g.As = as
	return g
}

// Name is the output column name.
func (g Agg) Name() string {
	if g.As != "" {
		return g.As
	}
	if g.Kind == AggCount {
		return "count"
	}
	return g.Kind.String() + "_" + g.Col
}

func (g Agg) String() string {
	switch g.Kind {
	case AggCount:
		return "count()"
	case AggTopN, AggApproxTopN:
		return fmt.Sprintf("%v(%s, %d)", g.Kind, g.Col, g.N)
	case AggMaxBy:
		return fmt.Sprintf("%v(%s, %s)", g.Kind, g.Col, g.By)
	}
	return fmt.Sprintf("%v(%s)", g.Kind, g.Col)
}

func (g Agg) validate(in Schema) error {
	if g.Kind == AggInvalid || g.Kind > AggMaxBy {
		return errors.New("dataflow: unknown aggregate")
	}
	if g.Kind == AggCount {
		return nil
	}
	f, _, err := in.Lookup(g.Col)
	if err != nil {
		return err
	}
	switch g.Kind {
	case AggSum, AggMean, AggSpan:
		if !f.Kind.Numeric() {
			return fmt.Errorf("dataflow: %v needs a numeric column, %q is %v", g.Kind, g.Col, f.Kind)
		}
	case AggMin, AggMax:
		if f.Kind == KindBool {
			return fmt.Errorf("dataflow: %v of bool column %q", g.Kind, g.Col)
		}
	case AggTopN, AggApproxTopN:
		if g.N <= 0 {
			return fmt.Errorf("dataflow: %v needs N > 0, got %d", g.Kind, g.N)
		}
	case AggMaxBy:
		bf, _, err := in.Lookup(g.By)
		if err != nil {
			return fmt.Errorf("max-by ordering column (Agg.By): %w", err)
		}
		if bf.Kind == KindBool {
			return fmt.Errorf("dataflow: max-by ordered by bool column %q", g.By)
		}
	}
	if g.Width < 0 || g.Depth < 0 {
		return errors.New("dataflow: sketch width and depth must not be negative")
	}
	if g.Precision != 0 && (g.Precision < 4 || g.Precision > 18) {
		return fmt.Errorf("dataflow: HyperLogLog precision must be in [4, 18], got %d", g.Precision)
	}
	return nil
}

// ResultKind is the kind of the aggregate's result over input schema in.
func (g Agg) ResultKind(in Schema) Kind {
	col := KindInt64
	if f, _, err := in.Lookup(g.Col); err == nil {
		col = f.Kind
	}
	switch g.Kind {
	case AggCount, AggDistinct, AggApproxDistinct:
		return KindInt64
	case AggMean:
		return KindFloat64
	case AggTopN, AggApproxTopN:
		return KindString
	case AggSum, AggSpan:
		if col == KindFloat64 {
			return KindFloat64
		}
		return KindInt64
	case AggMin, AggMax, AggMaxBy:
		return col
	}
	return KindInvalid
}

// Accumulator holds one aggregate's state for one key and window. It is not
// safe for concurrent use. Implementations live in this package; create them
// with [Agg.NewAccumulator].
type Accumulator interface {
	// Add folds one input value in (count ignores it).
	Add(v Value)
	// Merge folds in another accumulator of the same Agg (partial
	// aggregates: per-batch, per-task, per-pane).
	Merge(o Accumulator)
	// Result is the aggregate's current value.
	Result() Value
	// Reset empties the accumulator for reuse.
	Reset()
	// AppendBinary appends a self-describing encoding of the state, for
	// checkpoints; UnmarshalBinary restores it into an accumulator made by
	// the same Agg.
	AppendBinary(dst []byte) ([]byte, error)
	UnmarshalBinary(b []byte) error
}

// CombineResults combines two results of a combinable aggregate kind over
// disjoint inputs: counts and sums add, min and max take the extreme. It is
// how a sink rebuilds a window's final value from discarding panes.
func CombineResults(k AggKind, a, b Value) (Value, error) {
	if a.IsNull() {
		return b, nil
	}
	if b.IsNull() {
		return a, nil
	}
	switch k {
	case AggCount, AggSum:
		if a.K == KindFloat64 || b.K == KindFloat64 {
			return Float(a.Float64() + b.Float64()), nil
		}
		return Value{K: a.K, I: a.I + b.I}, nil
	case AggMin:
		if b.Compare(a) < 0 {
			return b, nil
		}
		return a, nil
	case AggMax:
		if b.Compare(a) > 0 {
			return b, nil
		}
		return a, nil
	}
	return Value{}, fmt.Errorf("dataflow: results of %v do not combine", k)
}
