package recordstream

import (
	"slices"

	"github.com/weirlab/weir/dataflow"
)

// ColumnReader is implemented by sources that can read some of a record's
// columns (*datasets.Log, a columnar log, does). A spout uses it to read only
// the columns its pipeline uses, and the columns of a leading filter before
// the rest, so a record the filter drops costs one column read (RP1). A
// source without it is read whole with [Source.Read].
type ColumnReader interface {
	// ReadColumns is Source.Read for the columns at positions cols: the other
	// values of dst are left as they are.
	ReadColumns(p int, off int64, cols []int, dst dataflow.Row) (dataflow.Row, int64)
}

// readPlan is how a spout reads a record: first the columns the leading
// filter needs (pred, nil when the pipeline does not start with a filter),
// and only if it passes the rest of the columns the pipeline uses.
type readPlan struct {
	cr    ColumnReader
	first []int // columns of the leading filter
	rest  []int // the other used columns
	pred  func(dataflow.Row) bool
}

// newReadPlan returns the plan for pipeline p over src, or nil to read whole
// records (the source cannot read columns, or the pipeline uses them all).
func newReadPlan(p *dataflow.Pipeline, src Source) (*readPlan, error) {
	cr, ok := src.(ColumnReader)
	if !ok {
		return nil, nil
	}
	in := p.Input
	used := p.UsedInputColumns()
	rp := &readPlan{cr: cr}
	firstSet := make([]bool, in.Len())
	if len(p.Steps) > 0 {
		if f, ok := p.Steps[0].(dataflow.FilterStep); ok {
			pred, err := dataflow.CompilePredicate(f.Pred, in)
			if err != nil {
				return nil, err
			}
			rp.pred = pred
			for _, name := range dataflow.Columns(nil, f.Pred) {
				if i := in.Index(name); i >= 0 && !firstSet[i] {
					firstSet[i] = true
					rp.first = append(rp.first, i)
				}
			}
		}
	}
	n := 0
	for i, u := range used {
		if u {
			n++
			if !firstSet[i] {
				rp.rest = append(rp.rest, i)
			}
		}
	}
	if rp.pred == nil && n == in.Len() {
		return nil, nil // nothing to save
	}
	return rp, nil
}

// read reads the record at off into dst. It reports false, having read only
// the filter's columns, when the leading filter rejects the record; the
// chain then has nothing to do for it.
func (rp *readPlan) read(part int, off int64, dst dataflow.Row) (dataflow.Row, int64, bool) {
	if rp.pred != nil {
		row, ing := rp.cr.ReadColumns(part, off, rp.first, dst)
		if !rp.pred(row) {
			return row, ing, false
		}
		dst = row
	}
	row, ing := rp.cr.ReadColumns(part, off, rp.rest, dst)
	return row, ing, true
}

// chainStart is the index of the first chain step a record that rp.read
// passed still has to go through: 1 when the plan evaluated the
// pipeline's leading filter, 0 otherwise (or with no plan).
func (rp *readPlan) chainStart() int {
	if rp == nil || rp.pred == nil {
		return 0
	}
	return 1
}

// zeroRow returns a row of schema s holding each column's zero value, the
// values a pruned read leaves in the columns it skips.
func zeroRow(s dataflow.Schema) dataflow.Row {
	r := make(dataflow.Row, s.Len())
	for i, f := range s.Fields {
		r[i] = dataflow.Value{K: f.Kind}
	}
	return r
}

// projectForAgg returns the columns of last that the aggregation reads (its
// key, event-time and aggregate columns, in that order, each once) and the
// schema of that projection. A spout copies only those values into a data
// tuple, so a tuple to a window task carries 2 values for YSB instead of 8
// (RP2). It returns nil and last itself when every column is needed.
func projectForAgg(a *dataflow.Aggregation, last dataflow.Schema) ([]int, dataflow.Schema) {
	var idx []int
	add := func(name string) {
		if i := last.Index(name); i >= 0 && !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	for _, k := range a.Key {
		add(k)
	}
	if a.TimeCol != "" {
		add(a.TimeCol)
	}
	for _, g := range a.Aggs {
		if g.Kind != dataflow.AggCount {
			add(g.Col)
		}
		if g.By != "" {
			add(g.By) // max-by's ordering column
		}
	}
	if len(idx) == last.Len() {
		return nil, last
	}
	fs := make([]dataflow.Field, len(idx))
	for j, i := range idx {
		fs[j] = last.Fields[i]
	}
	return idx, dataflow.Schema{Fields: fs}
}
