package microbatch

import (
	"slices"

	"github.com/weirlab/weir/dataflow"
)

// sink is the idempotent output (MF3), like foreachBatch keyed by batch id:
// a window and key holds the value of the latest batch that wrote it, and a
// stateless batch's rows replace whatever an earlier attempt of the same
// batch wrote, so recomputed batches never duplicate output.
//
// A counting sink ([Config.CountingSink]) keeps nothing: the commit counts
// the emissions.
type sink struct {
	counting bool
	keyed    map[wkey]sinkVal
	rows     map[int64][][]dataflow.Result // a stateless batch's chunks
}

type sinkVal struct {
	batch int64
	res   dataflow.Result
}

func newSink(counting bool) *sink {
	return &sink{counting: counting, keyed: map[wkey]sinkVal{}, rows: map[int64][][]dataflow.Result{}}
}

func (s *sink) write(batch int64, outs []output) {
	if s.counting {
		return
	}
	for _, o := range outs {
		k := wkey{o.res.Window, o.res.Key}
		if old, ok := s.keyed[k]; ok && old.batch > batch {
			continue
		}
		if o.deleted {
			delete(s.keyed, k)
			continue
		}
		s.keyed[k] = sinkVal{batch: batch, res: o.res}
	}
}

func (s *sink) writeRows(batch int64, rows [][]dataflow.Result) {
	if s.counting {
		return
	}
	s.rows[batch] = rows
}

func (s *sink) results() []dataflow.Result {
	if s.counting {
		return nil
	}
	n := len(s.keyed)
	for _, chs := range s.rows {
		for _, ch := range chs {
			n += len(ch)
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]dataflow.Result, 0, n)
	for _, v := range s.keyed {
		out = append(out, v.res)
	}
	batches := make([]int64, 0, len(s.rows))
	for b := range s.rows {
		batches = append(batches, b)
	}
	slices.Sort(batches)
	for _, b := range batches {
		for _, ch := range s.rows[b] {
			out = append(out, ch...)
		}
	}
	dataflow.SortResults(out)
	return out
}
