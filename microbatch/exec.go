package microbatch

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/weirlab/weir/dataflow"
)

// compiler compiles the stateless steps of a pipeline into kernels for one
// exec. Each exec (one per concurrently running task) has its own kernels,
// so kernel buffers need no locks.
type compiler struct {
	ids *atomic.Int64
}

func (c *compiler) newID() int64 { return c.ids.Add(1) }

// step is one compiled stateless step: it transforms the frame in place.
type step func(x *exec) error

// exec runs the compiled pipeline over the Arrow record batches of one task
// and pre-aggregates them (K4). An exec is owned by one goroutine at a time.
//
// The frame is the current set of columns over n physical rows, with the
// selection sel of live rows (filters shrink it; nothing is copied). Explode
// starts a new frame; origin maps its rows back to the input record's rows.
type exec struct {
	p      *plan
	steps  []step
	cols   []vec
	n      int
	sel    []int32
	selBuf []int32
	ingest []int64 // per input record row (not frame row): use baseRow
	origin []int32 // frame row -> input record row; nil: identity

	// per base column
	dicts    []dictCache
	boolBufs [][]int64
	strBufs  [][]string

	agg *aggExec
}

// newExec compiles p's steps for one task.
func (p *plan) newExec() (*exec, error) {
	n := p.input.Len()
	x := &exec{p: p, dicts: make([]dictCache, n), boolBufs: make([][]int64, n), strBufs: make([][]string, n)}
	for i := range x.dicts {
		x.dicts[i].ids = p.ids
	}
	c := &compiler{ids: p.ids}
	s := p.input
	for i, st := range p.pipeline.Steps {
		k, err := c.compileStep(st, s)
		if err != nil {
			return nil, fmt.Errorf("microbatch: step %d (%v): %w", i, st, err)
		}
		x.steps = append(x.steps, k)
		s = p.schemas[i+1]
	}
	ae, err := p.newAggExec(c, s)
	if err != nil {
		return nil, err
	}
	x.agg = ae
	return x, nil
}

// load binds the columns of rec as the frame, all rows selected.
func (x *exec) load(rec arrow.Record) error {
	n := int(rec.NumRows())
	nc := x.p.input.Len()
	if int(rec.NumCols()) != nc+1 {
		return fmt.Errorf("microbatch: source record has %d columns; want %d plus _ingest_ns", rec.NumCols(), nc)
	}
	if cap(x.cols) < nc {
		x.cols = make([]vec, nc, nc+8)
	}
	x.cols = x.cols[:nc]
	for i, f := range x.p.input.Fields {
		if !x.p.used[i] {
			x.cols[i] = vec{kind: f.Kind, isConst: true} // never read
			continue
		}
		if err := x.bindColumn(&x.cols[i], i, f.Kind, rec.Column(i)); err != nil {
			return err
		}
	}
	x.ingest = int64s(rec.Column(nc))
	x.n = n
	x.origin = nil
	sel := growI32(&x.selBuf, n)
	for i := range sel {
		sel[i] = int32(i)
	}
	x.sel = sel
	return nil
}

// run applies every step to the loaded frame.
func (x *exec) run() error {
	for _, s := range x.steps {
		if err := s(x); err != nil {
			return err
		}
		if len(x.sel) == 0 {
			return nil
		}
	}
	return nil
}

// baseRow returns the input record row of frame row r.
func (x *exec) baseRow(r int32) int32 {
	if x.origin != nil {
		return x.origin[r]
	}
	return r
}

func (c *compiler) compileStep(st dataflow.Step, s dataflow.Schema) (step, error) {
	switch st := st.(type) {
	case dataflow.FilterStep:
		pred, err := c.compilePred(st.Pred, s)
		if err != nil {
			return nil, err
		}
		return func(x *exec) error {
			// Filtering in place is safe: out never overtakes sel.
			x.sel = pred(x, x.sel, x.sel[:0])
			return nil
		}, nil
	case dataflow.MapStep:
		f, _, err := c.compileExpr(st.Expr, s)
		if err != nil {
			return nil, err
		}
		i := s.Index(st.As)
		return func(x *exec) error {
			v := f(x)
			if i >= 0 {
				x.cols[i] = v
			} else {
				x.cols = append(x.cols, v)
			}
			return nil
		}, nil
	case dataflow.ProjectStep:
		idx := make([]int, len(st.Cols))
		for j, name := range st.Cols {
			idx[j] = s.Index(name)
		}
		var tmp []vec
		return func(x *exec) error {
			tmp = tmp[:0]
			for _, i := range idx {
				tmp = append(tmp, x.cols[i])
			}
			x.cols = append(x.cols[:0], tmp...)
			return nil
		}, nil
	case dataflow.LookupStep:
		return c.compileLookup(st, s)
	case dataflow.ExplodeStep:
		return c.compileExplode(st, s)
	}
	return nil, fmt.Errorf("microbatch: unknown step %T", st)
}

// compileLookup joins a static table. For a dictionary column the table row
// of each dictionary entry is found once (K2) and each record costs one
// array read; the table's string columns become dictionary columns whose
// dictionary is the table column and whose codes are table rows, so no
// string is copied.
func (c *compiler) compileLookup(st dataflow.LookupStep, s dataflow.Schema) (step, error) {
	idx, err := st.Table.Index(st.Key)
	if err != nil {
		return nil, err
	}
	on := s.Index(st.On)
	onKind := s.Fields[on].Kind
	type tcol struct {
		pos  int // position in the output schema, or -1 to append
		kind dataflow.Kind
		dict *dictVals
		ints []int64
		flts []float64
		ibuf []int64
		fbuf []float64
	}
	out := s
	cols := make([]*tcol, len(st.Cols))
	for j, name := range st.Cols {
		f, ci, err := st.Table.Schema.Lookup(name)
		if err != nil {
			return nil, err
		}
		t := &tcol{pos: out.Index(name), kind: f.Kind}
		switch f.Kind {
		case dataflow.KindString:
			t.dict = &dictVals{id: c.newID(), vals: make([]string, len(st.Table.Rows))}
			for r, row := range st.Table.Rows {
				t.dict.vals[r] = row[ci].S
			}
		case dataflow.KindFloat64:
			for _, row := range st.Table.Rows {
				t.flts = append(t.flts, row[ci].Float64())
			}
		default:
			for _, row := range st.Table.Rows {
				t.ints = append(t.ints, row[ci].I)
			}
		}
		cols[j] = t
		if t.pos < 0 {
			out.Fields = append(append([]dataflow.Field(nil), out.Fields...), f)
		}
	}
	var rowOf dictMap[int32]
	var trow []int32
	var buf []byte
	find := func(sv string) int32 {
		if r, ok := idx[sv]; ok {
			return int32(r)
		}
		return -1
	}
	// Integer keys in a small range are looked up in a dense table.
	var dense []int32
	if onKind != dataflow.KindString && onKind != dataflow.KindFloat64 {
		_, kc, _ := st.Table.Schema.Lookup(st.Key)
		ok := true
		for _, row := range st.Table.Rows {
			k := row[kc].I
			if k < 0 || k >= denseKeyLimit {
				ok = false
				break
			}
			for int(k) >= len(dense) {
				dense = append(dense, -1)
			}
			dense[k] = int32(idx[row[kc].String()])
		}
		if !ok {
			dense = nil
		}
	}
	return func(x *exec) error {
		v := &x.cols[on]
		tr := growI32(&trow, x.n)
		sel := x.sel[:0]
		switch {
		case v.codes != nil:
			m := rowOf.of(v.dict, find)
			codes := v.codes
			for _, r := range x.sel {
				if t := m[codes[r]]; t >= 0 {
					tr[r] = t
					sel = append(sel, r)
				}
			}
		case onKind == dataflow.KindString:
			for _, r := range x.sel {
				if t := find(v.str(r)); t >= 0 {
					tr[r] = t
					sel = append(sel, r)
				}
			}
		case dense != nil && !v.isConst:
			vals := v.i64
			for _, r := range x.sel {
				if k := vals[r]; uint64(k) < uint64(len(dense)) {
					if t := dense[k]; t >= 0 {
						tr[r] = t
						sel = append(sel, r)
					}
				}
			}
		default:
			for _, r := range x.sel {
				buf = v.value(r).AppendText(buf[:0])
				if t, ok := idx[string(buf)]; ok {
					tr[r] = int32(t)
					sel = append(sel, r)
				}
			}
		}
		x.sel = sel
		for _, t := range cols {
			nv := vec{kind: t.kind}
			switch {
			case t.dict != nil:
				nv.codes, nv.dict = tr, t.dict
			case t.flts != nil:
				o := growF64(&t.fbuf, x.n)
				for _, r := range sel {
					o[r] = t.flts[tr[r]]
				}
				nv.f64 = o
			default:
				o := growI64(&t.ibuf, x.n)
				for _, r := range sel {
					o[r] = t.ints[tr[r]]
				}
				nv.i64 = o
			}
			if t.pos >= 0 {
				x.cols[t.pos] = nv
			} else {
				x.cols = append(x.cols, nv)
			}
		}
		return nil
	}, nil
}

// compileExplode is the flat-map: a new frame with one row per matching
// token. Tokens are substrings of the input strings, valid for the batch.
func (c *compiler) compileExplode(st dataflow.ExplodeStep, s dataflow.Schema) (step, error) {
	col := s.Index(st.Col)
	as := s.Index(st.As)
	prefix := st.Prefix
	var parent, origin, newSel []int32
	var tokens []string
	var ibufs [][]int64
	var fbufs [][]float64
	var sbufs [][]string
	var cbufs [][]int32
	return func(x *exec) error {
		parent, tokens = parent[:0], tokens[:0]
		v := &x.cols[col]
		for _, r := range x.sel {
			text := v.str(r)
			for len(text) > 0 {
				i := 0
				for i < len(text) && isSpace(text[i]) {
					i++
				}
				j := i
				for j < len(text) && !isSpace(text[j]) {
					j++
				}
				if j > i && strings.HasPrefix(text[i:j], prefix) {
					parent = append(parent, r)
					tokens = append(tokens, text[i:j])
				}
				text = text[j:]
			}
		}
		n := len(parent)
		nc := len(x.cols)
		for len(ibufs) < nc {
			ibufs, fbufs, sbufs, cbufs = append(ibufs, nil), append(fbufs, nil), append(sbufs, nil), append(cbufs, nil)
		}
		for i := range x.cols {
			old := x.cols[i]
			nv := vec{kind: old.kind, dict: old.dict, isConst: old.isConst, c: old.c}
			switch {
			case old.isConst:
			case old.i64 != nil:
				o := growI64(&ibufs[i], n)
				for k, p := range parent {
					o[k] = old.i64[p]
				}
				nv.i64 = o
			case old.f64 != nil:
				o := growF64(&fbufs[i], n)
				for k, p := range parent {
					o[k] = old.f64[p]
				}
				nv.f64 = o
			case old.codes != nil:
				o := growI32(&cbufs[i], n)
				for k, p := range parent {
					o[k] = old.codes[p]
				}
				nv.codes = o
			case old.strs != nil:
				o := growStr(&sbufs[i], n)
				for k, p := range parent {
					o[k] = old.strs[p]
				}
				nv.strs = o
			}
			x.cols[i] = nv
		}
		tv := vec{kind: dataflow.KindString, strs: tokens}
		if as >= 0 {
			x.cols[as] = tv
		} else {
			x.cols = append(x.cols, tv)
		}
		org := growI32(&origin, n)
		for k, p := range parent {
			org[k] = x.baseRow(p)
		}
		x.origin = org
		x.n = n
		sel := growI32(&newSel, n)
		for k := range sel {
			sel[k] = int32(k)
		}
		x.sel = sel
		return nil
	}, nil
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

// keyText renders a key column value the way dataflow.AppendKey does.
func appendVecText(dst []byte, v *vec, r int32) []byte {
	switch {
	case v.kind == dataflow.KindString:
		return append(dst, v.str(r)...)
	case v.kind == dataflow.KindFloat64:
		return strconv.AppendFloat(dst, v.float(r), 'g', -1, 64)
	case v.kind == dataflow.KindBool:
		return strconv.AppendBool(dst, v.int(r) != 0)
	}
	return strconv.AppendInt(dst, v.int(r), 10)
}
