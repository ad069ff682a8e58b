package translate

import (
	"fmt"

	"github.com/weirlab/weir/dataflow"
)

// chain runs a pipeline's stateless steps on one row: Beam fuses the
// translated steps into one DoFn anyway, so they run as one compiled chain,
// each step writing into its own reused row. A chain is owned by one DoFn
// instance (Beam calls a DoFn instance from one goroutine at a time).
type chain struct {
	steps []link
}

type link struct {
	kind   stepKind
	buf    dataflow.Row
	pred   func(dataflow.Row) bool
	mapFn  dataflow.RowFunc
	at     int
	proj   []int
	col    int
	prefix string
	toks   []string
	index  map[string]int
	table  []dataflow.Row
	tcols  []int
	outAt  []int
	text   []byte
}

type stepKind uint8

const (
	kindFilter stepKind = iota
	kindMap
	kindProject
	kindExplode
	kindLookup
)

func compileChain(p *dataflow.Pipeline) (*chain, error) {
	schemas, err := p.Schemas()
	if err != nil {
		return nil, err
	}
	c := &chain{}
	for i, st := range p.Steps {
		in, out := schemas[i], schemas[i+1]
		l := link{buf: make(dataflow.Row, out.Len())}
		switch st := st.(type) {
		case dataflow.FilterStep:
			l.kind = kindFilter
			if l.pred, err = dataflow.CompilePredicate(st.Pred, in); err != nil {
				return nil, err
			}
		case dataflow.MapStep:
			l.kind, l.at = kindMap, out.Index(st.As)
			if l.mapFn, _, err = dataflow.Compile(st.Expr, in); err != nil {
				return nil, err
			}
		case dataflow.ProjectStep:
			l.kind = kindProject
			for _, name := range st.Cols {
				l.proj = append(l.proj, in.Index(name))
			}
		case dataflow.ExplodeStep:
			l.kind, l.col, l.at, l.prefix = kindExplode, in.Index(st.Col), out.Index(st.As), st.Prefix
		case dataflow.LookupStep:
			l.kind, l.col, l.table = kindLookup, in.Index(st.On), st.Table.Rows
			if l.index, err = st.Table.Index(st.Key); err != nil {
				return nil, err
			}
			for _, name := range st.Cols {
				l.tcols = append(l.tcols, st.Table.Schema.Index(name))
				l.outAt = append(l.outAt, out.Index(name))
			}
		default:
			return nil, fmt.Errorf("translate: unknown step %T", st)
		}
		c.steps = append(c.steps, l)
	}
	return c, nil
}

// run pushes row through the chain from step i, calling emit with each
// output row and its sub-index (the explode token's ordinal, 0 otherwise).
// The row passed to emit is valid only during the call.
func (c *chain) run(i int, sub int32, row dataflow.Row, emit func(sub int32, row dataflow.Row)) {
	for ; i < len(c.steps); i++ {
		l := &c.steps[i]
		switch l.kind {
		case kindFilter:
			if !l.pred(row) {
				return
			}
			continue
		case kindMap:
			v := l.mapFn(row)
			copy(l.buf, row)
			l.buf[l.at] = v
		case kindProject:
			for j, k := range l.proj {
				l.buf[j] = row[k]
			}
		case kindLookup:
			l.text = row[l.col].AppendText(l.text[:0])
			r, ok := l.index[string(l.text)]
			if !ok {
				return
			}
			copy(l.buf, row)
			for j, tc := range l.tcols {
				l.buf[l.outAt[j]] = l.table[r][tc]
			}
		case kindExplode:
			l.toks = dataflow.AppendTokens(l.toks[:0], row[l.col].S, l.prefix)
			for n, tok := range l.toks {
				copy(l.buf, row)
				l.buf[l.at] = dataflow.Str(tok)
				c.run(i+1, sub*int32(len(l.toks)+1)+int32(n), l.buf, emit)
			}
			return
		}
		row = l.buf
	}
	emit(sub, row)
}
