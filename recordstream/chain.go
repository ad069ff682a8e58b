package recordstream

import (
	"context"
	"fmt"
	"math"
	"unsafe"

	"github.com/weirlab/weir/dataflow"
)

// chain runs a pipeline's stateless steps on one record, chained into the
// spout task as Flink chains operators: a filtered record never becomes a
// tuple, so it costs no transfer and no acker message (RC1). Each step writes
// into its own reused row, so a record through the chain allocates nothing.
// A chain is owned by one task.
type chain struct {
	steps []chainStep
	emit  func(context.Context, dataflow.Row) error
}

type chainStep struct {
	kind    int
	buf     dataflow.Row
	pred    func(dataflow.Row) bool
	mapFn   dataflow.RowFunc
	mapAt   int
	proj    []int
	col, as int
	prefix  string
	toks    []string // explode: the tokens of the current row, reused
	on      int
	onStr   bool
	index   map[string]int
	lcache  []lookupCacheEntry // lookup on a string column: index's answers by the string's address
	table   []dataflow.Row
	tcols   []int // table column positions
	outAt   []int // where they go in the output row
	scratch []byte
}

// lookupCacheEntry is one slot of a lookup step's cache: the string looked
// up (kept, so its address cannot be reused for another string while the
// entry holds it) and the index's answer for it.
type lookupCacheEntry struct {
	s  string
	r  int32
	ok bool
}

// lookupCacheLen is the number of slots of a lookup step's cache (a power
// of two).
const lookupCacheLen = 1024

// lookupString returns the table row of key text k, as s.index does. A
// source of dictionary-coded strings (datasets.Log, a column source) hands
// out each distinct value as one string, so the same address comes back
// for every record of a key: a cache slot chosen by the address answers
// with one comparison (== on strings of equal address and length does not
// read their bytes) instead of hashing the text for the map.
func (s *chainStep) lookupString(k string) (int, bool) {
	if len(k) == 0 {
		r, ok := s.index[k]
		return r, ok
	}
	p := uint64(uintptr(unsafe.Pointer(unsafe.StringData(k))))
	e := &s.lcache[int((p*0x9e3779b97f4a7c15)>>32)&(lookupCacheLen-1)]
	if e.s == k && len(e.s) != 0 {
		return int(e.r), e.ok
	}
	r, ok := s.index[k]
	*e = lookupCacheEntry{s: k, r: int32(r), ok: ok}
	return r, ok
}

const (
	stepFilter = iota
	stepMap
	stepProject
	stepExplode
	stepLookup
)

// compileChain compiles steps whose input schemas are schemas[i] and output
// schemas[i+1].
func compileChain(steps []dataflow.Step, schemas []dataflow.Schema) (*chain, error) {
	c := &chain{}
	for i, st := range steps {
		in, out := schemas[i], schemas[i+1]
		cs := chainStep{buf: make(dataflow.Row, out.Len())}
		switch st := st.(type) {
		case dataflow.FilterStep:
			p, err := dataflow.CompilePredicate(st.Pred, in)
			if err != nil {
				return nil, err
			}
			cs.kind, cs.pred = stepFilter, p
		case dataflow.MapStep:
			f, _, err := dataflow.Compile(st.Expr, in)
			if err != nil {
				return nil, err
			}
			cs.kind, cs.mapFn, cs.mapAt = stepMap, f, out.Index(st.As)
		case dataflow.ProjectStep:
			cs.kind = stepProject
			for _, name := range st.Cols {
				cs.proj = append(cs.proj, in.Index(name))
			}
		case dataflow.ExplodeStep:
			cs.kind, cs.col, cs.as, cs.prefix = stepExplode, in.Index(st.Col), out.Index(st.As), st.Prefix
		case dataflow.LookupStep:
			idx, err := st.Table.Index(st.Key)
			if err != nil {
				return nil, err
			}
			cs.kind, cs.on, cs.index, cs.table = stepLookup, in.Index(st.On), idx, st.Table.Rows
			cs.onStr = in.Fields[cs.on].Kind == dataflow.KindString
			if cs.onStr && len(st.Table.Rows) <= math.MaxInt32 {
				cs.lcache = make([]lookupCacheEntry, lookupCacheLen)
			}
			for _, name := range st.Cols {
				cs.tcols = append(cs.tcols, st.Table.Schema.Index(name))
				cs.outAt = append(cs.outAt, out.Index(name))
			}
		default:
			return nil, fmt.Errorf("recordstream: unknown step %T", st)
		}
		c.steps = append(c.steps, cs)
	}
	return c, nil
}

// run pushes row through the chain, calling c.emit for each output row. The
// row passed to emit is valid only during the call.
func (c *chain) run(ctx context.Context, row dataflow.Row) error { return c.from(ctx, 0, row) }

func (c *chain) from(ctx context.Context, i int, row dataflow.Row) error {
	for ; i < len(c.steps); i++ {
		s := &c.steps[i]
		switch s.kind {
		case stepFilter:
			if !s.pred(row) {
				return nil
			}
			continue // the row passes unchanged
		case stepMap:
			v := s.mapFn(row)
			copy(s.buf, row)
			s.buf[s.mapAt] = v
		case stepProject:
			for j, k := range s.proj {
				s.buf[j] = row[k]
			}
		case stepLookup:
			var r int
			var ok bool
			switch {
			case s.lcache != nil:
				r, ok = s.lookupString(row[s.on].S)
			case s.onStr:
				r, ok = s.index[row[s.on].S]
			default:
				s.scratch = row[s.on].AppendText(s.scratch[:0])
				r, ok = s.index[string(s.scratch)]
			}
			if !ok {
				return nil
			}
			copy(s.buf, row)
			trow := s.table[r]
			for j, tc := range s.tcols {
				s.buf[s.outAt[j]] = trow[tc]
			}
		case stepExplode:
			return c.explode(ctx, i, s, row)
		}
		row = s.buf
	}
	return c.emit(ctx, row)
}

// explode emits one row per token of the column ([dataflow.AppendTokens],
// the tokenizer of every evaluator) into the step's reused token buffer,
// so it does not allocate once the buffer has grown: tokens are substrings
// of the column's string.
func (c *chain) explode(ctx context.Context, i int, s *chainStep, row dataflow.Row) error {
	s.toks = dataflow.AppendTokens(s.toks[:0], row[s.col].S, s.prefix)
	for _, tok := range s.toks {
		copy(s.buf, row)
		s.buf[s.as] = dataflow.Str(tok)
		if err := c.from(ctx, i+1, s.buf); err != nil {
			return err
		}
	}
	return nil
}
