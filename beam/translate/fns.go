package translate

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
)

// aggInputs returns the column index (-1 for count) and kind of each
// aggregate's input in the schema of the rows reaching the aggregation.
func aggInputs(p *dataflow.Pipeline) ([]int, []dataflow.Kind, error) {
	last, err := p.Last()
	if err != nil {
		return nil, nil, err
	}
	idx := make([]int, len(p.Agg.Aggs))
	kinds := make([]dataflow.Kind, len(p.Agg.Aggs))
	for i, g := range p.Agg.Aggs {
		idx[i], kinds[i] = -1, dataflow.KindInvalid
		if g.Kind != dataflow.AggCount {
			f, j, err := last.Lookup(g.Col)
			if err != nil {
				return nil, nil, err
			}
			idx[i], kinds[i] = j, f.Kind
		}
	}
	return idx, kinds, nil
}

// CombineFn is the aggregation as a Beam combiner (CombinePerKey): its
// accumulator is [Acc], weir's own accumulators, so Beam's combiner lifting
// (a partial combine before the shuffle, a merge after) computes exactly
// what weir computes.
type CombineFn struct {
	Plan string
	// Track makes each result carry the records that reached it
	// ([Elem.Refs]), so the driver can name the records Beam dropped.
	Track bool

	aggs []dataflow.Agg
	idx  []int
	in   []dataflow.Kind
}

// Setup decodes the plan.
func (fn *CombineFn) Setup() error {
	p, err := DecodePlan(fn.Plan)
	if err != nil {
		return err
	}
	if p.Agg == nil {
		return fmt.Errorf("translate: combine of pipeline %q, which has no aggregation", p.Name)
	}
	fn.aggs = p.Agg.Aggs
	fn.idx, fn.in, err = aggInputs(p)
	return err
}

// CreateAccumulator returns empty accumulators.
func (fn *CombineFn) CreateAccumulator() Acc { return newAcc(fn.aggs, fn.in) }

// AddInput folds one row in.
func (fn *CombineFn) AddInput(a Acc, e Elem) Acc {
	for i, x := range fn.idx {
		if x >= 0 {
			a.accs[i].Add(e.Row[x])
		} else {
			a.accs[i].Add(dataflow.Value{})
		}
	}
	a.maxEv, a.maxIng = max(a.maxEv, e.EventMs), max(a.maxIng, e.Ingest)
	a.records++
	if fn.Track {
		a.refs = append(a.refs, packRef(e.Partition, e.Offset))
	}
	return a
}

// MergeAccumulators merges b into a.
func (fn *CombineFn) MergeAccumulators(a, b Acc) Acc {
	for i := range a.accs {
		a.accs[i].Merge(b.accs[i])
	}
	a.maxEv, a.maxIng = max(a.maxEv, b.maxEv), max(a.maxIng, b.maxIng)
	a.records += b.records
	a.refs = append(a.refs, b.refs...)
	return a
}

// ExtractOutput returns the value and the extra aggregates as Row.
func (fn *CombineFn) ExtractOutput(a Acc) Elem {
	row := make(dataflow.Row, len(a.accs))
	for i, acc := range a.accs {
		row[i] = acc.Result()
	}
	return Elem{EventMs: a.maxEv, Ingest: a.maxIng, Offset: a.records, Row: row, Refs: a.refs}
}

// CountFn computes count windows (I6) over one key's rows, grouped by a
// GroupByKey in the global window (so it runs when the watermark reaches
// the end of the input): it orders the rows by their place in the log
// (partition, offset, token), which is weir's arrival order, and emits
// every full window: element ordinals [k*slide, k*slide+size) in Offset,
// the value and extra aggregates in Row. A partial window is not emitted
// (Flink's CountTrigger, I6). Beam guarantees no order of arrival, which is
// why the log offset travels with every row.
//
// A stateful DoFn (bag state plus an end-of-input timer) computes the same
// and was the first translation; on Prism v2.77.0 it took 44 s for 100k
// rows (a state request per row), the grouping well under a second.
type CountFn struct {
	Plan string

	win  dataflow.WindowFn
	comb CombineFn
	rows []Elem
	wins []dataflow.Window
}

// Setup decodes the plan.
func (fn *CountFn) Setup() error {
	fn.comb.Plan = fn.Plan
	if err := fn.comb.Setup(); err != nil {
		return err
	}
	p, _ := DecodePlan(fn.Plan)
	fn.win = p.Agg.Window
	return nil
}

// ProcessElement emits the key's full count windows.
func (fn *CountFn) ProcessElement(key string, iter func(*Elem) bool, emit func(string, Elem)) {
	fn.rows = fn.rows[:0]
	var e Elem
	for iter(&e) {
		fn.rows = append(fn.rows, e)
	}
	slices.SortFunc(fn.rows, func(a, b Elem) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		if a.Offset != b.Offset {
			if a.Offset < b.Offset {
				return -1
			}
			return 1
		}
		return int(a.Sub - b.Sub)
	})
	size, slide := fn.win.Size, fn.win.Period
	var open []Acc // open[j] is the window starting at (first+j)*slide
	first := int64(0)
	for n, e := range fn.rows {
		fn.wins = fn.win.AssignCount(fn.wins[:0], int64(n))
		for _, w := range fn.wins {
			j := int(int64(w.Start)/slide - first)
			for len(open) <= j {
				open = append(open, fn.comb.CreateAccumulator())
			}
			open[j] = fn.comb.AddInput(open[j], e)
		}
		// The window starting at first*slide is full after its size-th row.
		for len(open) > 0 && int64(n)+1 >= first*slide+size {
			out := fn.comb.ExtractOutput(open[0])
			out.Offset = first * slide
			emit(key, out)
			open, first = open[1:], first+1
		}
	}
	clear(fn.rows) // let the rows go
}

// pane is one emission the sink received.
type pane struct {
	win    dataflow.Window
	key    string
	index  int64
	timing typex.PaneTiming
	elem   Elem
	emitNs int64
}

func appendPane(dst []byte, p pane) []byte {
	dst = wire.AppendVarint(dst, int64(p.win.Start))
	dst = wire.AppendVarint(dst, int64(p.win.End))
	dst = wire.AppendString(dst, p.key)
	dst = wire.AppendVarint(dst, p.index)
	dst = append(dst, byte(p.timing))
	dst = wire.AppendVarint(dst, p.emitNs)
	return appendElem(dst, p.elem)
}

func decodePane(d *wire.Decoder) pane {
	var p pane
	p.win.Start = dataflow.Time(d.Varint())
	p.win.End = dataflow.Time(d.Varint())
	p.key = d.String()
	p.index = d.Varint()
	p.timing = typex.PaneTiming(d.Byte())
	p.emitNs = d.Varint()
	p.elem = decodeElemFrom(d)
	return p
}

// SinkFn writes every pane it receives, with its window, key, pane index
// and timing, to a part file in Dir (one per bundle, written to a
// temporary name and renamed, so a reader never sees half a file). The
// driver reads the parts after the job ends ([Collect]). Dir must be
// reachable by every worker: a local folder under Prism or the loopback
// environment, a shared file system on a cluster.
type SinkFn struct {
	Dir   string
	Count bool  // count windows: the window is [Offset, Offset+Size)
	Size  int64 // count window size
	// EndFix is added to each window's end (Options.SessionsMergeTouching).
	EndFix int64

	buf []byte
}

// StartBundle resets the bundle's buffer.
func (fn *SinkFn) StartBundle() { fn.buf = fn.buf[:0] }

// ProcessElement records one pane.
func (fn *SinkFn) ProcessElement(pi typex.PaneInfo, w beam.Window, key string, e Elem) {
	p := pane{key: key, index: pi.Index, timing: pi.Timing, elem: e, emitNs: time.Now().UnixNano()}
	switch w := w.(type) {
	case window.IntervalWindow:
		p.win = dataflow.Window{Start: dataflow.Time(w.Start), End: dataflow.Time(int64(w.End) + fn.EndFix)}
	}
	if fn.Count {
		p.win = dataflow.Window{Start: dataflow.Time(e.Offset), End: dataflow.Time(e.Offset + fn.Size)}
	}
	fn.buf = appendPane(fn.buf, p)
}

// FinishBundle writes the bundle's part file.
func (fn *SinkFn) FinishBundle() error {
	if len(fn.buf) == 0 {
		return nil
	}
	f, err := os.CreateTemp(fn.Dir, "part-*.tmp")
	if err != nil {
		return fmt.Errorf("translate: sink: %w", err)
	}
	_, err = f.Write(fn.buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		name := f.Name()
		err = os.Rename(name, name[:len(name)-len(".tmp")]+".bin")
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("translate: sink: write %s: %w", filepath.Base(f.Name()), err)
	}
	fn.buf = fn.buf[:0]
	return nil
}
