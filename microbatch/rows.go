package microbatch

import (
	"github.com/weirlab/weir/dataflow"
)

// rowFrame builds the columns of a frame row by row, for the parts of a
// pipeline whose input is not an Arrow record: the joined rows a join emits
// in a batch (which then run Join.Steps and the aggregation as columns, on
// the same kernels as the records) and the first-stage results a regroup
// aggregates again. Strings put in it must outlive the frame's use: they are
// read, not copied. A rowFrame is reused batch after batch ([rowFrame.reset]
// keeps its buffers), so building a frame allocates only when it outgrows
// the largest one before.
type rowFrame struct {
	kinds  []dataflow.Kind
	i64    [][]int64 // int64, timestamp and bool (0/1) columns
	f64    [][]float64
	strs   [][]string
	ingest []int64
	// event is each row's largest contributing event time (ms, unshifted):
	// a joined row's later side row's, what its event-time latency is
	// measured from.
	event []int64
	n     int
}

func newRowFrame(s dataflow.Schema) *rowFrame {
	f := &rowFrame{kinds: make([]dataflow.Kind, s.Len()), i64: make([][]int64, s.Len()),
		f64: make([][]float64, s.Len()), strs: make([][]string, s.Len())}
	for i, fd := range s.Fields {
		f.kinds[i] = fd.Kind
	}
	return f
}

// reset empties the frame, keeping its buffers.
func (f *rowFrame) reset() {
	for i := range f.kinds {
		f.i64[i], f.f64[i], f.strs[i] = f.i64[i][:0], f.f64[i][:0], f.strs[i][:0]
	}
	f.ingest, f.event, f.n = f.ingest[:0], f.event[:0], 0
}

// put appends v to column col of the row being built; v has the column's
// kind. Call put once per column, in any order, then endRow.
func (f *rowFrame) put(col int, v dataflow.Value) {
	switch f.kinds[col] {
	case dataflow.KindString:
		f.strs[col] = append(f.strs[col], v.S)
	case dataflow.KindFloat64:
		f.f64[col] = append(f.f64[col], v.Float64())
	default:
		f.i64[col] = append(f.i64[col], v.I)
	}
}

// endRow ends the row being built, with its largest contributing event
// time (ms) and ingest time (ns).
func (f *rowFrame) endRow(event, ingest int64) {
	f.ingest = append(f.ingest, ingest)
	f.event = append(f.event, event)
	f.n++
}

// vecs appends the frame's columns as views to dst (valid until the next
// put or reset).
func (f *rowFrame) vecs(dst []vec) []vec {
	for i, k := range f.kinds {
		v := vec{kind: k}
		switch k {
		case dataflow.KindString:
			v.strs = f.strs[i]
			if v.strs == nil {
				v.strs = []string{}
			}
		case dataflow.KindFloat64:
			v.f64 = f.f64[i]
			if v.f64 == nil {
				v.f64 = []float64{}
			}
		default:
			v.i64 = f.i64[i]
			if v.i64 == nil {
				v.i64 = []int64{}
			}
		}
		dst = append(dst, v)
	}
	return dst
}
