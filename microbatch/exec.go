package microbatch

import (
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/weirlab/weir/dataflow"
)

// compiler compiles the stateless steps of a pipeline into kernels for one
// exec. Each exec (one per concurrently running task) has its own kernels,
// so kernel buffers need no locks.
type compiler struct {
	ids     *atomic.Int64
	lookups []*lookupIndex // by step; shared by every exec
}

func (c *compiler) newID() int64 { return c.ids.Add(1) }

// step is one compiled stateless step: it transforms the frame in place.
type step func(x *exec) error

// exec runs the compiled pipeline over the Arrow record batches of one task
// and pre-aggregates them (MK4). An exec is owned by one goroutine at a time.
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
	ingest []int64 // per frame's base row (not frame row): use baseRow
	origin []int32 // frame row -> input record row; nil: identity

	// base is the loaded record's columns and rows its row count: a frame
	// starts from them ([exec.frame]).
	base       []vec
	baseIngest []int64
	// event and baseEvent are, for rows of a frame of joined rows
	// ([exec.runRows]), each base row's largest contributing event time
	// (ms); nil for log records.
	event, baseEvent []int64
	rows             int
	iota             []int32 // 0, 1, 2, ...: the selection of a new frame (read only)

	// selAll says that sel is every row of the frame, in order; steps
	// that change sel clear it.
	selAll bool

	// per base column
	dicts    []dictCache
	boolBufs [][]int64
	strBufs  [][]string

	agg *aggExec
	// side runs a join's side steps after the shared steps (join pipelines'
	// tasks; agg is then unused).
	side *sideExec
}

// newExec compiles p's steps for one task.
func (p *plan) newExec() (*exec, error) {
	n := p.input.Len()
	x := &exec{p: p, dicts: make([]dictCache, n), boolBufs: make([][]int64, n), strBufs: make([][]string, n)}
	for i := range x.dicts {
		x.dicts[i].ids = p.ids
	}
	c := &compiler{ids: p.ids, lookups: p.lookups}
	s := p.input
	for i, st := range p.pipeline.Steps {
		k, err := c.compileStep(i, st, s)
		if err != nil {
			return nil, fmt.Errorf("microbatch: step %d (%v): %w", i, st, err)
		}
		x.steps = append(x.steps, k)
		s = p.schemas[i+1]
	}
	if p.join != nil {
		se, err := p.newSideExec()
		if err != nil {
			return nil, err
		}
		x.side = se
		return x, nil
	}
	ae, err := p.newAggExec(c, s)
	if err != nil {
		return nil, err
	}
	x.agg = ae
	return x, nil
}

// newJoinedExec compiles what follows a join (Join.Steps, then the
// aggregation or emit) over the joined rows, as kernels over the columns of
// a [rowFrame] ([exec.runRows]). The driver owns it: joined rows are made
// by commits, one batch at a time.
func (p *plan) newJoinedExec() (*exec, error) {
	jp := p.join
	n := jp.joined.Len()
	x := &exec{p: p, dicts: make([]dictCache, n), boolBufs: make([][]int64, n), strBufs: make([][]string, n)}
	for i := range x.dicts {
		x.dicts[i].ids = p.ids
	}
	c := &compiler{ids: p.ids, lookups: jp.stepLookups}
	s := jp.joined
	for i, st := range jp.j.Steps {
		k, err := c.compileStep(i, st, s)
		if err != nil {
			return nil, fmt.Errorf("microbatch: join step %d (%v): %w", i, st, err)
		}
		x.steps = append(x.steps, k)
		s = jp.schemas.Joined[i+1]
	}
	ae, err := p.newAggExec(c, s)
	if err != nil {
		return nil, err
	}
	x.agg = ae
	return x, nil
}

// runRows runs the joined exec over the rows of f, a frame of frameRows
// rows at a time, into its aggregation (started by the caller). Nothing
// is late there (MJ4).
func (x *exec) runRows(f *rowFrame) error {
	x.base = f.vecs(x.base[:0])
	x.baseIngest, x.baseEvent = f.ingest, f.event
	x.rows = f.n
	for lo := 0; lo < x.rows; lo += frameRows {
		x.frame(lo, min(lo+frameRows, x.rows))
		if err := x.run(); err != nil {
			return err
		}
		x.agg.consume(x, 0, int64(lo))
	}
	return nil
}

// load binds the columns of rec and makes all its rows the frame.
func (x *exec) load(rec arrow.Record) error {
	n := int(rec.NumRows())
	nc := x.p.input.Len()
	if int(rec.NumCols()) != nc+1 {
		return fmt.Errorf("microbatch: source record has %d columns; want %d plus _ingest_ns", rec.NumCols(), nc)
	}
	if cap(x.base) < nc {
		x.base = make([]vec, nc)
	}
	x.base = x.base[:nc]
	for i, f := range x.p.input.Fields {
		if !x.p.used[i] {
			x.base[i] = vec{kind: f.Kind, isConst: true} // never read
			continue
		}
		if err := x.bindColumn(&x.base[i], i, f.Kind, rec.Column(i)); err != nil {
			return err
		}
	}
	x.baseIngest, x.baseEvent = int64s(rec.Column(nc)), nil
	x.rows = n
	x.frame(0, n)
	return nil
}

// frame makes rows [lo, hi) of the loaded record the frame, all selected:
// the base columns are resliced, so frame row i is record row lo+i and the
// kernels' buffers (indexed by frame row) stay small. Running the steps on
// slices of a record keeps those buffers and the columns' lines in cache
// from one step to the next; a slice's results are consumed before the
// next slice overwrites them (MK3).
func (x *exec) frame(lo, hi int) {
	if cap(x.cols) < len(x.base)+8 {
		x.cols = make([]vec, 0, len(x.base)+8)
	}
	x.cols = x.cols[:len(x.base)]
	for i := range x.base {
		x.cols[i] = x.base[i].slice(lo, hi)
	}
	x.ingest = x.baseIngest[lo:hi]
	x.event = nil
	if x.baseEvent != nil {
		x.event = x.baseEvent[lo:hi]
	}
	x.n = hi - lo
	x.origin = nil
	if len(x.iota) < x.n {
		x.iota = make([]int32, x.n)
		for i := range x.iota {
			x.iota[i] = int32(i)
		}
	}
	x.sel = x.iota[:x.n:x.n] // read only: new selections go to selOut
	x.selAll = true
}

// selOut returns the storage for a selection made from x.sel. It is x.sel's
// own storage when that is selBuf (selecting in place is safe: the output
// never overtakes the input), and never iota, which every frame shares.
func (x *exec) selOut() []int32 {
	if cap(x.selBuf) < len(x.sel) {
		x.selBuf = make([]int32, len(x.sel))
	}
	return x.selBuf[:0]
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

func (c *compiler) compileStep(i int, st dataflow.Step, s dataflow.Schema) (step, error) {
	switch st := st.(type) {
	case dataflow.FilterStep:
		pred, err := c.compilePred(st.Pred, s)
		if err != nil {
			return nil, err
		}
		return func(x *exec) error {
			x.sel = pred(x, x.sel, x.selOut())
			x.selAll = false
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
		li := c.lookups[i]
		if li == nil {
			return nil, fmt.Errorf("microbatch: lookup step %d has no compiled table", i)
		}
		return c.compileLookup(li)
	case dataflow.ExplodeStep:
		return c.compileExplode(st, s)
	}
	return nil, fmt.Errorf("microbatch: unknown step %T", st)
}

// lookupIndex is a lookup step's table compiled once per plan and shared,
// read-only, by the kernels of every exec.
type lookupIndex struct {
	on     int
	onKind dataflow.Kind
	idx    map[string]int // key text -> table row
	cols   []lookupCol
	// Integer keys in a small range are looked up in a dense table:
	// dense[k] is the row of key k, or -1. With one integer column joined,
	// denseInts[k] is its value for key k if denseOK[k].
	dense     []int32
	denseInts []int64
	denseOK   []bool
}

// lookupCol is one joined column.
type lookupCol struct {
	pos  int // position in the output schema, or -1 to append
	kind dataflow.Kind
	dict *dictVals
	ints []int64
	flts []float64
}

// newLookupIndex compiles st over the schema s reaching it.
func newLookupIndex(st dataflow.LookupStep, s dataflow.Schema, ids *atomic.Int64) (*lookupIndex, error) {
	li := &lookupIndex{on: s.Index(st.On)}
	if li.on < 0 {
		return nil, fmt.Errorf("microbatch: lookup column %q is not in the schema %v", st.On, s)
	}
	li.onKind = s.Fields[li.on].Kind
	kf, kc, err := st.Table.Schema.Lookup(st.Key)
	if err != nil {
		return nil, err
	}
	out := s
	for _, name := range st.Cols {
		f, ci, err := st.Table.Schema.Lookup(name)
		if err != nil {
			return nil, err
		}
		t := lookupCol{pos: out.Index(name), kind: f.Kind}
		switch f.Kind {
		case dataflow.KindString:
			t.dict = &dictVals{id: ids.Add(1), vals: make([]string, len(st.Table.Rows))}
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
		li.cols = append(li.cols, t)
		if t.pos < 0 {
			out.Fields = append(append([]dataflow.Field(nil), out.Fields...), f)
		}
	}
	if (li.onKind == dataflow.KindInt64 || li.onKind == dataflow.KindTimestamp) && kf.Kind == li.onKind {
		li.dense = denseRows(st.Table, kc)
	}
	switch {
	case li.dense != nil:
	case kf.Kind == dataflow.KindString:
		// A string's text is itself: the table's strings are the keys,
		// without a copy each.
		li.idx = make(map[string]int, len(st.Table.Rows))
		for r, row := range st.Table.Rows {
			if _, dup := li.idx[row[kc].S]; dup {
				return nil, fmt.Errorf("microbatch: table %q has two rows with %s = %q; lookup keys must be unique", st.Table.Name, st.Key, row[kc].S)
			}
			li.idx[row[kc].S] = r
		}
	default:
		// The key's text (as the reference joins) to the table row; it
		// also reports duplicate keys.
		if li.idx, err = st.Table.Index(st.Key); err != nil {
			return nil, err
		}
	}
	if li.dense != nil && len(li.cols) == 1 && li.cols[0].ints != nil {
		li.denseInts, li.denseOK = make([]int64, len(li.dense)), make([]bool, len(li.dense))
		for k, t := range li.dense {
			if t >= 0 {
				li.denseInts[k], li.denseOK[k] = li.cols[0].ints[t], true
			}
		}
	}
	return li, nil
}

// denseRows returns the rows of integer key column kc by key, or nil if a
// key is negative, not below denseKeyLimit, or repeated (Table.Index then
// reports the repetition).
func denseRows(t *dataflow.Table, kc int) []int32 {
	n := int64(0)
	for _, row := range t.Rows {
		k := row[kc].I
		if k < 0 || k >= denseKeyLimit {
			return nil
		}
		n = max(n, k+1)
	}
	dense := make([]int32, n)
	for i := range dense {
		dense[i] = -1
	}
	for r, row := range t.Rows {
		if dense[row[kc].I] >= 0 {
			return nil
		}
		dense[row[kc].I] = int32(r)
	}
	return dense
}

// compileLookup joins a static table (compiled once per plan: li). For a
// dictionary column the table row of each dictionary entry is found once
// (MK2) and each record costs one array read; the table's string columns
// become dictionary columns whose dictionary is the table column and whose
// codes are table rows, so no string is copied.
func (c *compiler) compileLookup(li *lookupIndex) (step, error) {
	on, onKind, idx, dense, denseInts, denseOK := li.on, li.onKind, li.idx, li.dense, li.denseInts, li.denseOK
	// Per exec: the kernel's buffers.
	type tcol struct {
		lookupCol
		ibuf []int64
		fbuf []float64
	}
	cols := make([]*tcol, len(li.cols))
	for j, lc := range li.cols {
		cols[j] = &tcol{lookupCol: lc}
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
	if dense != nil {
		// Every key is an integer: no key text matches.
		find = func(string) int32 { return -1 }
	}
	return func(x *exec) error {
		v := &x.cols[on]
		tr := grow(&trow, x.n)
		sel := x.selOut()
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
		case denseInts != nil && !v.isConst:
			// One integer column from a dense table: the hot loop writes
			// the joined value itself.
			vals, t := v.i64, cols[0]
			o := grow(&t.ibuf, x.n)
			sel = sel[:len(x.sel)]
			n := 0
			for _, r := range x.sel {
				if k := vals[r]; uint64(k) < uint64(len(denseInts)) {
					o[r] = denseInts[k]
					sel[n] = r
					n += int(b2i(denseOK[k]))
				}
			}
			x.sel, x.selAll = sel[:n], false
			nv := vec{kind: t.kind, i64: o}
			if t.pos >= 0 {
				x.cols[t.pos] = nv
			} else {
				x.cols = append(x.cols, nv)
			}
			return nil
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
		case dense != nil: // a constant key
			if k := v.c.I; uint64(k) < uint64(len(dense)) && dense[k] >= 0 {
				for _, r := range x.sel {
					tr[r] = dense[k]
					sel = append(sel, r)
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
		x.selAll = false
		for _, t := range cols {
			nv := vec{kind: t.kind}
			switch {
			case t.dict != nil:
				nv.codes, nv.dict = tr, t.dict
			case t.flts != nil:
				o := grow(&t.fbuf, x.n)
				for _, r := range sel {
					o[r] = t.flts[tr[r]]
				}
				nv.f64 = o
			default:
				o := grow(&t.ibuf, x.n)
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
// token ([dataflow.AppendTokens], the tokenizer every evaluator uses).
// Tokens are substrings of the input strings, valid for the batch.
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
			n0 := len(tokens)
			tokens = dataflow.AppendTokens(tokens, v.str(r), prefix)
			for range len(tokens) - n0 {
				parent = append(parent, r)
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
				nv.i64 = gather(&ibufs[i], old.i64, parent)
			case old.f64 != nil:
				nv.f64 = gather(&fbufs[i], old.f64, parent)
			case old.codes != nil:
				nv.codes = gather(&cbufs[i], old.codes, parent)
			case old.strs != nil:
				nv.strs = gather(&sbufs[i], old.strs, parent)
			}
			x.cols[i] = nv
		}
		tv := vec{kind: dataflow.KindString, strs: tokens}
		if as >= 0 {
			x.cols[as] = tv
		} else {
			x.cols = append(x.cols, tv)
		}
		org := grow(&origin, n)
		for k, p := range parent {
			org[k] = x.baseRow(p)
		}
		x.origin = org
		x.n = n
		sel := grow(&newSel, n)
		for k := range sel {
			sel[k] = int32(k)
		}
		x.sel = sel
		x.selAll = false
		return nil
	}, nil
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
