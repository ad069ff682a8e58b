package microbatch

import (
	"fmt"

	"github.com/weirlab/weir/dataflow"
)

// regroupPlan is a pipeline's second aggregation (Pipeline.Then,
// [dataflow.Regroup]) compiled for a run. In Append output mode the first
// aggregation emits each window once, in the batch whose watermark passes
// the window's end, so every first-stage result of a window reaches the
// regroup in the same batch (MJ5): the regroup is stateless across batches
// and aggregates each batch's fired results, per window, by its Key. It
// reads the first stage's key columns, which the state keeps per cell
// beside the rendered key (the result's Key is text only).
type regroupPlan struct {
	rs     dataflow.Schema // the first aggregation's ResultSchema
	nKey   int
	specs  []aggSpec
	keyIdx []int // Regroup.Key in rs
	having func(dataflow.Row) bool
}

func newRegroupPlan(first *dataflow.Aggregation, r *dataflow.Regroup, in dataflow.Schema) (*regroupPlan, error) {
	rs, err := first.ResultSchema(in)
	if err != nil {
		return nil, err
	}
	rp := &regroupPlan{rs: rs, nKey: len(first.Key)}
	for _, g := range r.Aggs {
		rp.specs = append(rp.specs, newAggSpec(g, rs))
	}
	for _, k := range r.Key {
		rp.keyIdx = append(rp.keyIdx, rs.Index(k))
	}
	if r.Having != nil {
		if rp.having, err = dataflow.CompilePredicate(r.Having, r.OutputSchemaFor(rs)); err != nil {
			return nil, err
		}
	}
	return rp, nil
}

// apply aggregates the first stage's fired results of one batch again and
// returns the regroup's results: per window and regroup key, the first
// aggregate as Value and the others as Extra, those that pass Having. A
// result's largest event and ingest times are those of its inputs.
func (rp *regroupPlan) apply(outs []output) ([]output, error) {
	cs := newCellSet(rp.specs)
	idx := map[wkey]int32{}
	f := newRowFrame(rp.rs)
	var cells, rows []int32
	var evt []int64
	row := make(dataflow.Row, rp.rs.Len())
	var kb []byte
	for _, o := range outs {
		if o.deleted {
			continue
		}
		if len(o.keyRow) != rp.nKey || 1+len(o.res.Extra) != len(row)-rp.nKey {
			return nil, fmt.Errorf("microbatch: regroup: first-stage result %v of window %v has no key columns (internal error)", o.res.Key, o.res.Window)
		}
		copy(row, o.keyRow)
		row[rp.nKey] = o.res.Value
		copy(row[rp.nKey+1:], o.res.Extra)
		kb = dataflow.AppendKey(kb[:0], row, rp.keyIdx)
		k := wkey{o.res.Window, string(kb)}
		c, ok := idx[k]
		if !ok {
			c = cs.add(k.w, -1, k.key)
			idx[k] = c
		}
		for i, v := range row {
			f.put(i, v)
		}
		rows = append(rows, int32(f.n))
		f.endRow(o.maxEv, o.maxIng)
		cells = append(cells, c)
		evt = append(evt, o.maxEv)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	cs.update(rows, cells, f.vecs(nil), evt, f.ingest, false)
	res := make([]output, 0, cs.len())
	for c := range int32(cs.len()) {
		r := dataflow.Result{Window: cs.win[c], Key: cs.key[c], Value: cs.value(0, c)}
		if len(rp.specs) > 1 {
			r.Extra = make([]dataflow.Value, len(rp.specs)-1)
			for j := 1; j < len(rp.specs); j++ {
				r.Extra[j-1] = cs.value(j, c)
			}
		}
		if rp.having != nil && !rp.having(append(dataflow.Row{dataflow.Str(r.Key), r.Value}, r.Extra...)) {
			continue
		}
		res = append(res, output{res: r, maxEv: cs.maxEv[c], maxIng: cs.maxIng[c]})
	}
	return res, nil
}
