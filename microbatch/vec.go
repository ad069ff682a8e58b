package microbatch

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/weirlab/weir/dataflow"
)

// vec is a non-owning view of one column of the current frame (MK1): a slice
// per physical row of the frame, valid until the frame changes. Exactly one
// of i64 (int64, timestamp and bool as 0/1), f64, codes+dict (dictionary
// strings) or strs (plain strings) is set, or isConst with c.
type vec struct {
	kind  dataflow.Kind
	i64   []int64
	f64   []float64
	codes []int32
	dict  *dictVals
	strs  []string

	isConst bool
	c       dataflow.Value
}

// dictVals is one dictionary's values as Go strings (cloned, so they outlive
// the Arrow buffers). id names it for the caches of work done per
// dictionary entry (MK2): a cache built for id covers the first len(vals)
// codes and is extended, not rebuilt, when the dictionary grows.
type dictVals struct {
	id   int64
	vals []string
}

// slice returns the view of rows [lo, hi) of v.
func (v *vec) slice(lo, hi int) vec {
	w := *v
	switch {
	case v.isConst:
	case v.i64 != nil:
		w.i64 = v.i64[lo:hi]
	case v.f64 != nil:
		w.f64 = v.f64[lo:hi]
	case v.codes != nil:
		w.codes = v.codes[lo:hi]
	case v.strs != nil:
		w.strs = v.strs[lo:hi]
	}
	return w
}

func (v *vec) str(r int32) string {
	switch {
	case v.isConst:
		return v.c.S
	case v.codes != nil:
		return v.dict.vals[v.codes[r]]
	}
	return v.strs[r]
}

func (v *vec) int(r int32) int64 {
	if v.isConst {
		return v.c.I
	}
	return v.i64[r]
}

func (v *vec) float(r int32) float64 {
	switch {
	case v.isConst:
		return v.c.Float64()
	case v.f64 != nil:
		return v.f64[r]
	}
	return float64(v.i64[r])
}

// value returns row r as a dataflow.Value (strings are views; clone to keep).
func (v *vec) value(r int32) dataflow.Value {
	if v.isConst {
		return v.c
	}
	switch v.kind {
	case dataflow.KindString:
		return dataflow.Value{K: dataflow.KindString, S: v.str(r)}
	case dataflow.KindFloat64:
		return dataflow.Float(v.f64[r])
	}
	return dataflow.Value{K: v.kind, I: v.i64[r]}
}

// dictCache keeps a base column's dictionary across record batches of one
// task (MK2): dictionaries of a column are prefixes of one another (the log's
// dictionaries are append-only), so a new batch only adds the new entries.
type dictCache struct {
	data arrow.ArrayData
	d    *dictVals
	ids  *atomic.Int64 // the plan's id counter
}

func (c *dictCache) view(a *array.String, data arrow.ArrayData) *dictVals {
	if c.d != nil && c.data == data {
		return c.d
	}
	c.data = data
	n := a.Len()
	if c.d != nil {
		old := c.d.vals
		if n >= len(old) && (len(old) == 0 || (a.Value(0) == old[0] && a.Value(len(old)-1) == old[len(old)-1])) {
			c.d.vals = appendCloned(c.d.vals, a, len(old), n)
			return c.d
		}
	}
	d := &dictVals{id: c.ids.Add(1), vals: appendCloned(make([]string, 0, n), a, 0, n)}
	c.d = d
	return d
}

// appendCloned appends copies of values [lo, hi) of a to dst, all in one
// allocation.
func appendCloned(dst []string, a *array.String, lo, hi int) []string {
	if lo >= hi {
		return dst
	}
	// ValueBytes starts at the first value; the conversion copies.
	o0 := a.ValueOffset(0)
	all := string(a.ValueBytes()[a.ValueOffset(lo)-o0 : a.ValueOffset(hi)-o0])
	base := a.ValueOffset(lo)
	for i := lo; i < hi; i++ {
		dst = append(dst, all[a.ValueOffset(i)-base:a.ValueOffset(i+1)-base])
	}
	return dst
}

// int64s views the values of an 8-byte fixed-width array (int64, timestamp)
// as []int64 without copying.
func int64s(a arrow.Array) []int64 {
	d := a.Data()
	b := d.Buffers()[1]
	if b == nil || a.Len() == 0 {
		return nil
	}
	all := unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(b.Bytes()))), b.Len()/8)
	return all[d.Offset() : d.Offset()+a.Len()]
}

// bindColumn makes v a view of Arrow column a, of model kind k.
func (x *exec) bindColumn(v *vec, col int, k dataflow.Kind, a arrow.Array) error {
	*v = vec{kind: k}
	switch a := a.(type) {
	case *array.Int64:
		v.i64 = a.Int64Values()
	case *array.Timestamp:
		v.i64 = int64s(a)
	case *array.Date64:
		v.i64 = int64s(a)
	case *array.Float64:
		v.f64 = a.Float64Values()
	case *array.Boolean:
		buf := grow(&x.boolBufs[col], a.Len())
		for i := range buf {
			if a.Value(i) {
				buf[i] = 1
			} else {
				buf[i] = 0
			}
		}
		v.i64 = buf
	case *array.Dictionary:
		idx, ok := a.Indices().(*array.Int32)
		if !ok {
			return fmt.Errorf("microbatch: column %d: dictionary indices are %v; want int32", col, a.Indices().DataType())
		}
		vals, ok := a.Dictionary().(*array.String)
		if !ok {
			return fmt.Errorf("microbatch: column %d: dictionary values are %v; want utf8", col, a.Dictionary().DataType())
		}
		v.codes = idx.Int32Values()
		v.dict = x.dicts[col].view(vals, a.Data().Dictionary())
	case *array.String:
		buf := grow(&x.strBufs[col], a.Len())
		for i := range buf {
			buf[i] = a.Value(i)
		}
		v.strs = buf
	default:
		return fmt.Errorf("microbatch: column %d has Arrow type %v, which microbatch does not read", col, a.DataType())
	}
	return nil
}

// grow returns *b resized to n, reusing its array when it is large enough
// (kernels keep one scratch buffer per column and kind).
func grow[T any](b *[]T, n int) []T {
	if cap(*b) < n {
		*b = make([]T, n)
	}
	*b = (*b)[:n]
	return *b
}

// gather returns the values of src at positions idx, in *buf.
func gather[T any](buf *[]T, src []T, idx []int32) []T {
	o := grow(buf, len(idx))
	for k, p := range idx {
		o[k] = src[p]
	}
	return o
}
