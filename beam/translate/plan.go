package translate

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
)

// A plan is a dataflow.Pipeline as JSON: what every DoFn of a translated
// pipeline carries in its exported Plan field, so that a worker (in this
// process under Prism's loopback environment, or a Flink task manager
// running this binary) rebuilds the same pipeline, with its lookup tables,
// from the Beam pipeline proto alone. Expressions and steps are closed sets
// of types in dataflow, so each gets a tagged form here.

type planJSON struct {
	Name  string
	Input dataflow.Schema
	Steps []stepJSON
	Agg   *aggJSON `json:",omitempty"`
	Emit  dataflow.Emit
}

type stepJSON struct {
	Kind   string          // filter, map, project, explode, lookup
	Pred   *exprJSON       `json:",omitempty"`
	As     string          `json:",omitempty"`
	Expr   *exprJSON       `json:",omitempty"`
	Cols   []string        `json:",omitempty"`
	Col    string          `json:",omitempty"`
	Prefix string          `json:",omitempty"`
	Table  *dataflow.Table `json:",omitempty"`
	On     string          `json:",omitempty"`
	Key    string          `json:",omitempty"`
}

type aggJSON struct {
	Key             []string
	Window          dataflow.WindowFn
	Domain          dataflow.TimeDomain
	TimeCol         string
	MaxOutOfOrder   time.Duration
	IdleTimeout     time.Duration
	AllowedLateness time.Duration
	Late            dataflow.LateAction
	Trigger         dataflow.Trigger
	Accumulation    dataflow.Accumulation
	Aggs            []dataflow.Agg
	Having          *exprJSON `json:",omitempty"`
}

type exprJSON struct {
	Kind  string           // col, lit, bin, in, func
	Name  string           `json:",omitempty"`
	Value *dataflow.Value  `json:",omitempty"`
	Op    dataflow.Op      `json:",omitempty"`
	L     *exprJSON        `json:",omitempty"`
	R     *exprJSON        `json:",omitempty"`
	Set   []dataflow.Value `json:",omitempty"`
	Func  dataflow.Func    `json:",omitempty"`
}

// EncodePlan returns p as the JSON a translated pipeline's DoFns carry.
// p must be valid ([dataflow.Pipeline.Validate]).
func EncodePlan(p *dataflow.Pipeline) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	if p.Join != nil || p.Then != nil {
		// The plan has no encoding of a join or a regroup: refuse rather than
		// encode a pipeline without them ([Refuse] says why).
		return "", Refuse(p, Source{}, Options{})
	}
	pj := planJSON{Name: p.Name, Input: p.Input, Emit: p.Emit}
	for _, s := range p.Steps {
		sj, err := encodeStep(s)
		if err != nil {
			return "", err
		}
		pj.Steps = append(pj.Steps, sj)
	}
	if a := p.Agg; a != nil {
		aj := &aggJSON{Key: a.Key, Window: a.Window, Domain: a.Domain, TimeCol: a.TimeCol,
			MaxOutOfOrder: a.Watermark.MaxOutOfOrderness, IdleTimeout: a.Watermark.IdleTimeout,
			AllowedLateness: a.AllowedLateness, Late: a.Late, Trigger: a.Trigger, Accumulation: a.Accumulation, Aggs: a.Aggs}
		if a.Having != nil {
			h, err := encodeExpr(a.Having)
			if err != nil {
				return "", err
			}
			aj.Having = h
		}
		pj.Agg = aj
	}
	b, err := json.Marshal(pj)
	return string(b), err
}

// DecodePlan rebuilds the pipeline EncodePlan encoded and validates it.
func DecodePlan(s string) (*dataflow.Pipeline, error) {
	var pj planJSON
	if err := json.Unmarshal([]byte(s), &pj); err != nil {
		return nil, fmt.Errorf("translate: decode plan: %w", err)
	}
	p := &dataflow.Pipeline{Name: pj.Name, Input: pj.Input, Emit: pj.Emit}
	for i, sj := range pj.Steps {
		st, err := decodeStep(sj)
		if err != nil {
			return nil, fmt.Errorf("translate: decode plan step %d: %w", i, err)
		}
		p.Steps = append(p.Steps, st)
	}
	if aj := pj.Agg; aj != nil {
		a := &dataflow.Aggregation{Key: aj.Key, Window: aj.Window, Domain: aj.Domain, TimeCol: aj.TimeCol,
			Watermark:       dataflow.WatermarkPolicy{MaxOutOfOrderness: aj.MaxOutOfOrder, IdleTimeout: aj.IdleTimeout},
			AllowedLateness: aj.AllowedLateness, Late: aj.Late, Trigger: aj.Trigger, Accumulation: aj.Accumulation, Aggs: aj.Aggs}
		if aj.Having != nil {
			h, err := decodeExpr(aj.Having)
			if err != nil {
				return nil, fmt.Errorf("translate: decode plan having: %w", err)
			}
			a.Having = h
		}
		p.Agg = a
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("translate: decoded plan: %w", err)
	}
	return p, nil
}

func encodeStep(s dataflow.Step) (stepJSON, error) {
	switch s := s.(type) {
	case dataflow.FilterStep:
		e, err := encodeExpr(s.Pred)
		return stepJSON{Kind: "filter", Pred: e}, err
	case dataflow.MapStep:
		e, err := encodeExpr(s.Expr)
		return stepJSON{Kind: "map", As: s.As, Expr: e}, err
	case dataflow.ProjectStep:
		return stepJSON{Kind: "project", Cols: s.Cols}, nil
	case dataflow.ExplodeStep:
		return stepJSON{Kind: "explode", Col: s.Col, Prefix: s.Prefix, As: s.As}, nil
	case dataflow.LookupStep:
		return stepJSON{Kind: "lookup", Table: s.Table, On: s.On, Key: s.Key, Cols: s.Cols}, nil
	}
	return stepJSON{}, fmt.Errorf("translate: unknown step %T", s)
}

func decodeStep(sj stepJSON) (dataflow.Step, error) {
	switch sj.Kind {
	case "filter":
		e, err := decodeExpr(sj.Pred)
		return dataflow.FilterStep{Pred: e}, err
	case "map":
		e, err := decodeExpr(sj.Expr)
		return dataflow.MapStep{As: sj.As, Expr: e}, err
	case "project":
		return dataflow.ProjectStep{Cols: sj.Cols}, nil
	case "explode":
		return dataflow.ExplodeStep{Col: sj.Col, Prefix: sj.Prefix, As: sj.As}, nil
	case "lookup":
		return dataflow.LookupStep{Table: sj.Table, On: sj.On, Key: sj.Key, Cols: sj.Cols}, nil
	}
	return nil, fmt.Errorf("unknown step kind %q", sj.Kind)
}

func encodeExpr(e dataflow.Expr) (*exprJSON, error) {
	switch e := e.(type) {
	case nil:
		return nil, nil
	case dataflow.ColExpr:
		return &exprJSON{Kind: "col", Name: e.Name}, nil
	case dataflow.LitExpr:
		v := e.Value
		return &exprJSON{Kind: "lit", Value: &v}, nil
	case dataflow.BinaryExpr:
		l, err := encodeExpr(e.L)
		if err != nil {
			return nil, err
		}
		r, err := encodeExpr(e.R)
		return &exprJSON{Kind: "bin", Op: e.Op, L: l, R: r}, err
	case dataflow.InExpr:
		x, err := encodeExpr(e.X)
		return &exprJSON{Kind: "in", L: x, Set: e.Set}, err
	case dataflow.FuncExpr:
		x, err := encodeExpr(e.X)
		v := e.Arg
		return &exprJSON{Kind: "func", Func: e.Func, L: x, Value: &v}, err
	}
	return nil, fmt.Errorf("translate: unknown expression %T", e)
}

func decodeExpr(ej *exprJSON) (dataflow.Expr, error) {
	if ej == nil {
		return nil, nil
	}
	switch ej.Kind {
	case "col":
		return dataflow.ColExpr{Name: ej.Name}, nil
	case "lit":
		if ej.Value == nil {
			return nil, errors.New("literal without a value")
		}
		return dataflow.LitExpr{Value: *ej.Value}, nil
	case "bin":
		l, err := decodeExpr(ej.L)
		if err != nil {
			return nil, err
		}
		r, err := decodeExpr(ej.R)
		return dataflow.BinaryExpr{Op: ej.Op, L: l, R: r}, err
	case "in":
		x, err := decodeExpr(ej.L)
		return dataflow.InExpr{X: x, Set: ej.Set}, err
	case "func":
		x, err := decodeExpr(ej.L)
		if ej.Value == nil {
			return nil, errors.New("function without an argument")
		}
		return dataflow.FuncExpr{Func: ej.Func, X: x, Arg: *ej.Value}, err
	}
	return nil, fmt.Errorf("unknown expression kind %q", ej.Kind)
}
