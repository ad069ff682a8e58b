package datasets

import (
	"context"
	"fmt"
	"math/bits"
	"sync"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/weirlab/weir/dataflow"
)

// IngestColumn is the name of the last column of [ArrowSource] batches:
// each record's ingest time in ns since the epoch.
const IngestColumn = "_ingest_ns"

// DefaultMaxBatchRows is the default row limit of [ArrowSource.Read].
const DefaultMaxBatchRows = 1 << 16

// maxDictLen is the largest dictionary an [ArrowSource] sends as an Arrow
// dictionary; a string column whose Dict is larger when the source is made
// is sent as plain utf8 instead (its values are mostly distinct, so a
// dictionary would not save anything).
const maxDictLen = 1 << 16

// ArrowType returns the Arrow type of a column kind: int64, float64, utf8,
// boolean, timestamp[ms, UTC].
func ArrowType(k dataflow.Kind) (arrow.DataType, error) {
	switch k {
	case dataflow.KindInt64:
		return arrow.PrimitiveTypes.Int64, nil
	case dataflow.KindFloat64:
		return arrow.PrimitiveTypes.Float64, nil
	case dataflow.KindString:
		return arrow.BinaryTypes.String, nil
	case dataflow.KindBool:
		return arrow.FixedWidthTypes.Boolean, nil
	case dataflow.KindTimestamp:
		return arrow.FixedWidthTypes.Timestamp_ms, nil
	}
	return nil, fmt.Errorf("datasets: no Arrow type for column kind %v", k)
}

// ArrowSchema returns the Arrow schema of s with plain utf8 strings.
func ArrowSchema(s dataflow.Schema) (*arrow.Schema, error) {
	fs := make([]arrow.Field, len(s.Fields))
	for i, f := range s.Fields {
		t, err := ArrowType(f.Kind)
		if err != nil {
			return nil, err
		}
		fs[i] = arrow.Field{Name: f.Name, Type: t}
	}
	return arrow.NewSchema(fs, nil), nil
}

// ArrowSource serves a [Log] as Arrow record batches of offset ranges: the
// input of the microbatch runtime, whose Source interface it satisfies as
// it is (datasets does not import microbatch; compare, which wires the
// two, asserts it at compile time). It is safe for concurrent use.
//
// Batches share memory with the log wherever they can: float64 columns, and
// int64, timestamp, ingest and dictionary-index columns stored wide (every
// such column of an open chunk; those of a sealed chunk whose range needs
// 8 bytes, or 4 for codes), wrap the log's chunk slices without copying
// (flushed rows are immutable, DS5). A sealed chunk's narrow columns are
// widened, in one loop per column, into buffers of a pool the log's
// sources share, which a batch's Release returns to it: a reader that releases its
// batches reuses the same few buffers rather than allocating (and
// zeroing, and collecting) a new one per column and batch.
// A dictionary-encoded string column's dictionary is built once from the
// column's [Dict] and extended as it grows (DS6). Bool columns and plain
// utf8 columns are allocated too.
type ArrowSource struct {
	l      *Log
	schema *arrow.Schema
	plain  []bool // per log column: string column sent as plain utf8

	mu    sync.Mutex
	dicts []*arrowDict // per log column; guarded by mu

	cons *Consumer // set by Consume before the source is shared

	pool *bufPool // buffers of widened columns: the log's, shared by its sources
	skip []bool   // per log column: sent as nulls (Skip); nil: none
	zero []byte   // zeroed, shared by the skipped columns of every batch
}

// arrowDict is the Arrow form of one column's Dict: its offsets and bytes
// grow by appending (old arrays keep their shorter prefix), so extending it
// costs only the new strings.
type arrowDict struct {
	n       int
	offsets []int32
	data    []byte
	arr     *array.String // over the first n values; holds one reference
}

// NewArrowSource returns an Arrow view of l. String columns are
// dictionary<int32, utf8> except those whose dictionary already has more
// than 65536 values, which are plain utf8; the choice is made here, once,
// so every batch has the same [ArrowSource.Schema].
func NewArrowSource(l *Log) *ArrowSource {
	s := &ArrowSource{l: l, plain: make([]bool, l.schema.Len()), dicts: make([]*arrowDict, l.schema.Len()), pool: &l.pool}
	fs := make([]arrow.Field, 0, l.schema.Len()+1)
	for i, f := range l.schema.Fields {
		t, _ := ArrowType(f.Kind) // the log's schema is valid
		if f.Kind == dataflow.KindString {
			if l.Dict(i).Len() > maxDictLen {
				s.plain[i] = true
			} else {
				t = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
				s.dicts[i] = &arrowDict{offsets: []int32{0}}
			}
		}
		fs = append(fs, arrow.Field{Name: f.Name, Type: t})
	}
	fs = append(fs, arrow.Field{Name: IngestColumn, Type: arrow.PrimitiveTypes.Int64})
	s.schema = arrow.NewSchema(fs, nil)
	return s
}

// Log returns the underlying log.
func (s *ArrowSource) Log() *Log { return s.l }

// Consume makes the source report its job's positions to c, a consumer
// registered on the log ([Log.NewConsumer]), through [ArrowSource.Retain].
// Call it before the source is shared; nil reports nothing.
func (s *ArrowSource) Consume(c *Consumer) { s.cons = c }

// Skip makes every batch carry no values for the log columns at positions
// cols, for a reader that uses only some columns (a pipeline that reads 3
// of YSB's 7), as recordstream's spouts read only theirs through
// [Log.ReadColumns]: each such column is an all-null array of its type
// (the schema is unchanged), over one shared zeroed buffer, so it costs
// neither a decode nor an allocation. A reader that reads it anyway reads
// nulls, never made-up values. Call it before the source is shared; an
// out-of-range position is an error.
func (s *ArrowSource) Skip(cols []int) error {
	skip := make([]bool, s.l.schema.Len())
	for _, c := range cols {
		if c < 0 || c >= len(skip) {
			return fmt.Errorf("datasets: skip column %d of a log of %d columns (%v); positions are 0 to %d", c, len(skip), s.l.schema, len(skip)-1)
		}
		skip[c] = true
	}
	s.skip = skip
	s.zero = make([]byte, 8*(s.l.chunkRows+1)) // the widest buffer: int64 values or n+1 offsets
	return nil
}

// Retain reports that the job reading s will never again read partition p
// below off (its committed or checkpointed position, as a Kafka consumer
// commits its offsets), so that the log's retention may release what lies
// below ([Retention]). Without a consumer ([ArrowSource.Consume]) it does
// nothing.
func (s *ArrowSource) Retain(p int, off int64) error {
	if s.cons == nil {
		return nil
	}
	return s.cons.Retain(p, off)
}

// Schema returns the schema of every batch: the log's columns, then the
// int64 column [IngestColumn].
func (s *ArrowSource) Schema() *arrow.Schema { return s.schema }

// Partitions returns the number of partitions.
func (s *ArrowSource) Partitions() int { return s.l.Partitions() }

// End returns partition p's readable end offset.
func (s *ArrowSource) End(p int) int64 { return s.l.End(p) }

// Wait blocks until partition p has offset off; see [Log.Wait].
func (s *ArrowSource) Wait(ctx context.Context, p int, off int64) error {
	return s.l.Wait(ctx, p, off)
}

// Changed returns a channel closed at the next flush; see [Log.Changed].
func (s *ArrowSource) Changed() <-chan struct{} { return s.l.Changed() }

// Closed reports whether the log is complete.
func (s *ArrowSource) Closed() bool { return s.l.Closed() }

// EventTimeShift returns the log's [Log.EventTimeShift].
func (s *ArrowSource) EventTimeShift() int64 { return s.l.EventTimeShift() }

// OffsetAtIngest returns the first offset of partition p at or after from
// whose record was ingested at or after nanos (ns since the epoch), or
// End(p) if there is none: [Log.OffsetAtIngest], not below from. The
// microbatch job generator cuts each batch at its batch time with it.
func (s *ArrowSource) OffsetAtIngest(p int, from, nanos int64) int64 {
	return max(from, s.l.OffsetAtIngest(p, nanos))
}

// IngestAt returns the ingest time (ns) of the record at offset off of
// partition p ([Log.IngestAt]); off must be below End(p).
func (s *ArrowSource) IngestAt(p int, off int64) int64 { return s.l.IngestAt(p, off) }

// Read returns record batches covering offsets [from, to) of partition p in
// order, each of at most maxRows rows (0: [DefaultMaxBatchRows]); a batch
// never spans two log chunks. The caller owns the records and must Release
// them; allocations (bool and plain string columns) come from mem, and
// the widened columns of sealed chunks from the log's pool (see
// [ArrowSource]).
func (s *ArrowSource) Read(p int, from, to int64, mem memory.Allocator, maxRows int) ([]arrow.Record, error) {
	if p < 0 || p >= s.l.Partitions() {
		return nil, fmt.Errorf("datasets: read partition %d of %d", p, s.l.Partitions())
	}
	if end := s.l.End(p); from < 0 || from > to || to > end {
		return nil, fmt.Errorf("datasets: read offsets [%d, %d) of partition %d outside its readable range [0, %d)", from, to, p, end)
	}
	if from < to && from < s.l.Start(p) {
		return nil, s.l.CheckRange(p, from, to) // released by the log's retention
	}
	if maxRows <= 0 {
		maxRows = DefaultMaxBatchRows
	}
	dicts, err := s.dictionaries()
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, d := range dicts {
			if d != nil {
				d.Release()
			}
		}
	}()
	var out []arrow.Record
	s.l.Chunks(p, from, to, func(c *Chunk, lo, hi int) bool {
		for ; lo < hi && err == nil; lo += maxRows {
			var rec arrow.Record
			rec, err = s.batch(c, lo, min(hi, lo+maxRows), dicts, mem)
			if err == nil {
				out = append(out, rec)
			}
		}
		return err == nil
	})
	if err != nil {
		for _, r := range out {
			r.Release()
		}
		return nil, err
	}
	return out, nil
}

// dictionaries returns the current Arrow dictionary of each dictionary
// column (nil for others), each with a reference the caller releases.
func (s *ArrowSource) dictionaries() ([]*array.String, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*array.String, len(s.dicts))
	for col, ad := range s.dicts {
		if ad == nil {
			continue
		}
		d := s.l.Dict(col)
		if n := d.Len(); n > ad.n || ad.arr == nil {
			for c := int32(ad.n); c < int32(n); c++ {
				ad.data = append(ad.data, d.Get(c)...)
				if len(ad.data) > 1<<31-1 {
					return nil, fmt.Errorf("datasets: dictionary of column %q exceeds 2 GiB; Arrow utf8 offsets are int32", s.l.schema.Fields[col].Name)
				}
				ad.offsets = append(ad.offsets, int32(len(ad.data)))
			}
			data := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{
				nil,
				memory.NewBufferBytes(int32Bytes(ad.offsets[:n+1])),
				memory.NewBufferBytes(ad.data),
			}, nil, 0, 0)
			if ad.arr != nil {
				ad.arr.Release()
			}
			ad.arr = array.NewStringData(data)
			data.Release()
			ad.n = n
		}
		ad.arr.Retain()
		out[col] = ad.arr
	}
	return out, nil
}

// Release drops the source's cached dictionaries. The source stays usable.
func (s *ArrowSource) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ad := range s.dicts {
		if ad != nil && ad.arr != nil {
			ad.arr.Release()
			ad.arr = nil
			ad.n = 0
			ad.offsets, ad.data = ad.offsets[:1], ad.data[:0]
		}
	}
}

func int64Bytes(s []int64) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*8)
}

func float64Bytes(s []float64) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*8)
}

func int32Bytes(s []int32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*4)
}

// batch makes one record of chunk rows [lo, hi).
func (s *ArrowSource) batch(c *Chunk, lo, hi int, dicts []*array.String, mem memory.Allocator) (arrow.Record, error) {
	n := hi - lo
	cols := make([]arrow.Array, 0, len(s.schema.Fields()))
	defer func() {
		for _, a := range cols {
			a.Release()
		}
	}()
	for col, f := range s.l.schema.Fields {
		var a arrow.Array
		if s.skip != nil && s.skip[col] {
			cols = append(cols, s.nullArray(col, n, dicts))
			continue
		}
		switch f.Kind {
		case dataflow.KindInt64, dataflow.KindTimestamp:
			a = intArray(s.schema.Field(col).Type, &c.cols[col], lo, hi, s.pool)
		case dataflow.KindFloat64:
			a = wrapFixed(arrow.PrimitiveTypes.Float64, n, float64Bytes(c.cols[col].f64[lo:hi]))
		case dataflow.KindBool:
			b := array.NewBooleanBuilder(mem)
			b.Reserve(n)
			for i := lo; i < hi; i++ {
				b.UnsafeAppend(c.Int(col, i) != 0)
			}
			a = b.NewArray()
			b.Release()
		case dataflow.KindString:
			if s.plain[col] {
				d := s.l.Dict(col)
				b := array.NewStringBuilder(mem)
				b.Reserve(n)
				for i := lo; i < hi; i++ {
					b.Append(d.Get(c.Code(col, i)))
				}
				a = b.NewArray()
				b.Release()
			} else {
				idx := codeArray(&c.cols[col], lo, hi, s.pool)
				a = array.NewDictionaryArray(s.schema.Field(col).Type, idx, dicts[col])
				idx.Release()
			}
		default:
			return nil, fmt.Errorf("datasets: column %q has kind %v, which Arrow batches do not support", f.Name, f.Kind)
		}
		cols = append(cols, a)
	}
	cols = append(cols, intArray(arrow.PrimitiveTypes.Int64, &c.ingest, lo, hi, s.pool))
	return array.NewRecord(s.schema, cols, int64(n)), nil
}

// nullArray returns an all-null array of n rows of column col's batch type
// over s.zero (see [ArrowSource.Skip]).
func (s *ArrowSource) nullArray(col, n int, dicts []*array.String) arrow.Array {
	t := s.schema.Field(col).Type
	validity := memory.NewBufferBytes(s.zero[:(n+7)/8])
	switch {
	case s.l.schema.Fields[col].Kind == dataflow.KindString && !s.plain[col]:
		idx := nullData(arrow.PrimitiveTypes.Int32, n, validity, memory.NewBufferBytes(s.zero[:4*n]))
		defer idx.Release()
		return array.NewDictionaryArray(t, idx, dicts[col])
	case s.l.schema.Fields[col].Kind == dataflow.KindString:
		data := array.NewData(t, n, []*memory.Buffer{validity, memory.NewBufferBytes(s.zero[:4*(n+1)]), memory.NewBufferBytes(s.zero[:0])}, nil, n, 0)
		defer data.Release()
		return array.MakeFromData(data)
	case s.l.schema.Fields[col].Kind == dataflow.KindBool:
		return nullData(t, n, validity, memory.NewBufferBytes(s.zero[:(n+7)/8]))
	}
	return nullData(t, n, validity, memory.NewBufferBytes(s.zero[:8*n]))
}

// nullData returns a fixed-width array of n nulls.
func nullData(t arrow.DataType, n int, validity, values *memory.Buffer) arrow.Array {
	data := array.NewData(t, n, []*memory.Buffer{validity, values}, nil, n, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// intArray returns rows [lo, hi) of an integer column of a chunk as an
// Arrow array of type t (int64 or timestamp): the chunk's memory when the
// column is wide, else widened into a buffer of mem.
func intArray(t arrow.DataType, k *column, lo, hi int, mem memory.Allocator) arrow.Array {
	n := hi - lo
	if k.i64 != nil {
		return wrapFixed(t, n, int64Bytes(k.i64[lo:hi]))
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n * 8)
	decodeInts(k, lo, hi, int64sOf(buf.Bytes(), n))
	return wrapBuffer(t, n, buf)
}

// codeArray is intArray for the int32 dictionary indices of a string
// column.
func codeArray(k *column, lo, hi int, mem memory.Allocator) arrow.Array {
	n := hi - lo
	if k.i32 != nil {
		return wrapFixed(arrow.PrimitiveTypes.Int32, n, int32Bytes(k.i32[lo:hi]))
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n * 4)
	decodeCodes(k, lo, hi, int32sOf(buf.Bytes(), n))
	return wrapBuffer(arrow.PrimitiveTypes.Int32, n, buf)
}

// bufPool is a [memory.Allocator] that keeps freed buffers for reuse, by
// power-of-two size class (64 B to 4 MiB; larger ones are left to the
// garbage collector, as is what the pool holds across collections).
// Buffers are Go memory: aligned as Arrow needs (a power-of-two size class
// of Go's allocator is aligned to its size up to a page). It is safe for
// concurrent use.
type bufPool struct {
	classes [bufClasses]sync.Pool // class k: *[]byte of capacity 1<<k
}

const (
	minBufClass = 6
	bufClasses  = 23
)

func bufClass(size int) int { return max(minBufClass, bits.Len(uint(size-1))) }

// Allocate returns a buffer of size bytes, not zeroed.
func (p *bufPool) Allocate(size int) []byte {
	k := bufClass(size)
	if k >= bufClasses {
		return make([]byte, size)
	}
	if b, ok := p.classes[k].Get().(*[]byte); ok {
		return (*b)[:size]
	}
	return make([]byte, size, 1<<k)
}

// Reallocate returns b resized to size bytes, keeping its contents.
func (p *bufPool) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free returns b, which no array uses any more, to the pool.
func (p *bufPool) Free(b []byte) {
	k := bufClass(cap(b))
	if cap(b) == 0 || cap(b) != 1<<k || k >= bufClasses {
		return
	}
	b = b[:cap(b)]
	p.classes[k].Put(&b)
}

// wrapBuffer returns a fixed-width array over buf, taking over the
// caller's reference to it.
func wrapBuffer(t arrow.DataType, n int, buf *memory.Buffer) arrow.Array {
	data := array.NewData(t, n, []*memory.Buffer{nil, buf}, nil, 0, 0)
	buf.Release()
	defer data.Release()
	return array.MakeFromData(data)
}

// wrapFixed returns a fixed-width array over Go memory (no allocator, no
// copy).
func wrapFixed(t arrow.DataType, n int, b []byte) arrow.Array {
	data := array.NewData(t, n, []*memory.Buffer{nil, memory.NewBufferBytes(b)}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// RowsToArrow converts rows of schema s to one record (plain utf8 strings),
// allocated from mem; the caller releases it.
func RowsToArrow(s dataflow.Schema, rows []dataflow.Row, mem memory.Allocator) (arrow.Record, error) {
	as, err := ArrowSchema(s)
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(mem, as)
	defer b.Release()
	for r, row := range rows {
		if len(row) != s.Len() {
			return nil, fmt.Errorf("datasets: row %d has %d values, schema %v has %d columns", r, len(row), s, s.Len())
		}
		for c, v := range row {
			f := s.Fields[c]
			if v.K != f.Kind {
				return nil, fmt.Errorf("datasets: row %d column %q holds a %v value, schema says %v", r, f.Name, v.K, f.Kind)
			}
			switch fb := b.Field(c).(type) {
			case *array.Int64Builder:
				fb.Append(v.I)
			case *array.Float64Builder:
				fb.Append(v.Float64())
			case *array.StringBuilder:
				fb.Append(v.S)
			case *array.BooleanBuilder:
				fb.Append(v.I != 0)
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(v.I))
			}
		}
	}
	return b.NewRecord(), nil
}

// ArrowToRows converts a record to rows and their schema. It reads int64,
// float64, utf8 (plain or dictionary with integer indices), boolean and
// timestamp (ms) columns; the ingest column, if present, is an ordinary
// int64 column. Nulls become the zero [dataflow.Value].
func ArrowToRows(rec arrow.Record) (dataflow.Schema, []dataflow.Row, error) {
	var s dataflow.Schema
	n := int(rec.NumRows())
	rows := make([]dataflow.Row, n)
	vals := make([]dataflow.Value, n*int(rec.NumCols()))
	for i := range rows {
		rows[i] = vals[i*int(rec.NumCols()) : (i+1)*int(rec.NumCols()) : (i+1)*int(rec.NumCols())]
	}
	for c, col := range rec.Columns() {
		f := rec.Schema().Field(c)
		var kind dataflow.Kind
		var get func(i int) dataflow.Value
		switch a := col.(type) {
		case *array.Int64:
			kind, get = dataflow.KindInt64, func(i int) dataflow.Value { return dataflow.Int(a.Value(i)) }
		case *array.Float64:
			kind, get = dataflow.KindFloat64, func(i int) dataflow.Value { return dataflow.Float(a.Value(i)) }
		case *array.String:
			kind, get = dataflow.KindString, func(i int) dataflow.Value { return dataflow.Str(a.Value(i)) }
		case *array.Boolean:
			kind, get = dataflow.KindBool, func(i int) dataflow.Value { return dataflow.Bool(a.Value(i)) }
		case *array.Timestamp:
			if u := a.DataType().(*arrow.TimestampType).Unit; u != arrow.Millisecond {
				return dataflow.Schema{}, nil, fmt.Errorf("datasets: column %q is a timestamp in %v; only milliseconds are supported", f.Name, u)
			}
			kind, get = dataflow.KindTimestamp, func(i int) dataflow.Value { return dataflow.Timestamp(dataflow.Time(a.Value(i))) }
		case *array.Dictionary:
			dict, ok := a.Dictionary().(*array.String)
			if !ok {
				return dataflow.Schema{}, nil, fmt.Errorf("datasets: column %q is a dictionary of %v; only utf8 dictionaries are supported", f.Name, a.Dictionary().DataType())
			}
			kind, get = dataflow.KindString, func(i int) dataflow.Value { return dataflow.Str(dict.Value(a.GetValueIndex(i))) }
		default:
			return dataflow.Schema{}, nil, fmt.Errorf("datasets: column %q has Arrow type %v, which has no dataflow kind", f.Name, col.DataType())
		}
		s.Fields = append(s.Fields, dataflow.Field{Name: f.Name, Kind: kind})
		for i := range n {
			if col.IsNull(i) {
				continue
			}
			rows[i][c] = get(i)
		}
	}
	return s, rows, nil
}
