package dataflow

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Kind -linecomment

// Kind is the type of a column or a value.
type Kind uint8

// The kinds a column can have. The zero Kind is invalid, so a forgotten type
// is caught by [Schema.Validate].
const (
	KindInvalid Kind = iota // invalid
	KindInt64               // int64
	KindFloat64             // float64
	KindString              // string
	KindBool                // bool
	// KindTimestamp is milliseconds since the Unix epoch, stored as an int64.
	KindTimestamp // timestamp
)

// Numeric reports whether values of k take part in arithmetic.
func (k Kind) Numeric() bool { return k == KindInt64 || k == KindFloat64 || k == KindTimestamp }

// Time is a point in time in milliseconds since the Unix epoch. Event time is
// read from a column of each record; processing time is a record's ingest time
// in the log, truncated to milliseconds.
type Time int64

// Min and Max bound the representable times. Global windows span them.
const (
	MinTime Time = math.MinInt64
	MaxTime Time = math.MaxInt64
)

func (t Time) String() string {
	switch t {
	case MinTime:
		return "-inf"
	case MaxTime:
		return "+inf"
	}
	return time.UnixMilli(int64(t)).UTC().Format("2006-01-02T15:04:05.000Z")
}

// Millis converts a duration to whole milliseconds, truncating toward zero.
func Millis(d time.Duration) int64 { return d.Milliseconds() }

// Value is one typed scalar. It is a small value type (32 bytes) so rows of
// values can be reused without allocation: I holds int64, timestamp and bool
// (0 or 1) values and the bits of float64 values; S holds strings.
type Value struct {
	K Kind
	I int64
	S string
}

// Int returns an int64 value.
func Int(i int64) Value { return Value{K: KindInt64, I: i} }

// Float returns a float64 value.
func Float(f float64) Value { return Value{K: KindFloat64, I: int64(math.Float64bits(f))} }

// Str returns a string value.
func Str(s string) Value { return Value{K: KindString, S: s} }

// Bool returns a bool value.
func Bool(b bool) Value {
	if b {
		return Value{K: KindBool, I: 1}
	}
	return Value{K: KindBool}
}

// Timestamp returns a timestamp value.
func Timestamp(t Time) Value { return Value{K: KindTimestamp, I: int64(t)} }

// Int64 returns v as an int64; floats are truncated.
func (v Value) Int64() int64 {
	if v.K == KindFloat64 {
		return int64(v.Float64())
	}
	return v.I
}

// Float64 returns v as a float64.
func (v Value) Float64() float64 {
	if v.K == KindFloat64 {
		return math.Float64frombits(uint64(v.I))
	}
	return float64(v.I)
}

// Bool reports whether v is a true bool.
func (v Value) Bool() bool { return v.K == KindBool && v.I != 0 }

// Time returns v as a time (for timestamps and integers).
func (v Value) Time() Time { return Time(v.I) }

// IsNull reports whether v is the zero Value, used for a missing value.
func (v Value) IsNull() bool { return v.K == KindInvalid }

// Equal reports whether two values are identical. Floats compare by value
// (so 0 == -0 and NaN != NaN); use [Value.ApproxEqual] for results computed
// in different orders.
func (v Value) Equal(o Value) bool {
	if v.K != o.K {
		return false
	}
	switch v.K {
	case KindString:
		return v.S == o.S
	case KindFloat64:
		return v.Float64() == o.Float64()
	}
	return v.I == o.I
}

// ApproxEqual is [Value.Equal], except that float64 values match when their
// relative difference is at most 1e-9: a float sum or mean depends on the order
// of additions, which differs between runtimes.
func (v Value) ApproxEqual(o Value) bool {
	if v.K == KindFloat64 && o.K == KindFloat64 {
		a, b := v.Float64(), o.Float64()
		if a == b {
			return true
		}
		d := math.Abs(a - b)
		m := math.Max(math.Abs(a), math.Abs(b))
		return d <= 1e-9*m || d <= 1e-12
	}
	return v.Equal(o)
}

// Compare orders values of the same kind: -1, 0 or +1. Values of different
// kinds order by kind. Strings compare bytewise.
func (v Value) Compare(o Value) int {
	if v.K != o.K {
		return cmpInt(int64(v.K), int64(o.K))
	}
	switch v.K {
	case KindString:
		switch {
		case v.S < o.S:
			return -1
		case v.S > o.S:
			return 1
		}
		return 0
	case KindFloat64:
		a, b := v.Float64(), o.Float64()
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
	return cmpInt(v.I, o.I)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AppendText appends the canonical text form of v: integers and timestamps
// in decimal, floats in the shortest form that round-trips, bools as
// true/false, strings as they are. It is the form used in keys and CSV.
func (v Value) AppendText(dst []byte) []byte {
	switch v.K {
	case KindInt64, KindTimestamp:
		return strconv.AppendInt(dst, v.I, 10)
	case KindFloat64:
		return strconv.AppendFloat(dst, v.Float64(), 'g', -1, 64)
	case KindBool:
		return strconv.AppendBool(dst, v.I != 0)
	case KindString:
		return append(dst, v.S...)
	}
	return dst
}

func (v Value) String() string {
	if v.K == KindInvalid {
		return "null"
	}
	return string(v.AppendText(nil))
}

// Field is one named, typed column.
type Field struct {
	Name string
	Kind Kind
}

func (f Field) String() string { return f.Name + " " + f.Kind.String() }

// Schema is the ordered list of a record's columns. Rows are positional: the
// i-th value of a [Row] belongs to the i-th field.
type Schema struct {
	Fields []Field
}

// NewSchema returns a schema of the given fields.
func NewSchema(fields ...Field) Schema { return Schema{Fields: fields} }

// Len returns the number of columns.
func (s Schema) Len() int { return len(s.Fields) }

// Index returns the position of the named column, or -1.
func (s Schema) Index(name string) int {
	for i, f := range s.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// Lookup returns the named field and its position.
func (s Schema) Lookup(name string) (Field, int, error) {
	i := s.Index(name)
	if i < 0 {
		return Field{}, -1, &ColumnError{Column: name, Schema: s}
	}
	return s.Fields[i], i, nil
}

// Validate checks that every field has a name, a valid kind and a unique name.
func (s Schema) Validate() error {
	seen := make(map[string]bool, len(s.Fields))
	for i, f := range s.Fields {
		if f.Name == "" {
			return fmt.Errorf("dataflow: schema field %d has no name", i)
		}
		if f.Kind == KindInvalid || f.Kind > KindTimestamp {
			return fmt.Errorf("dataflow: schema field %q has no valid kind", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("dataflow: schema has two fields named %q", f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}

// Equal reports whether two schemas have the same fields in the same order.
func (s Schema) Equal(o Schema) bool {
	if len(s.Fields) != len(o.Fields) {
		return false
	}
	for i := range s.Fields {
		if s.Fields[i] != o.Fields[i] {
			return false
		}
	}
	return true
}

func (s Schema) String() string {
	b := []byte{'('}
	for i, f := range s.Fields {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, f.String()...)
	}
	return string(append(b, ')'))
}

// with returns a copy of s with the field added, or replaced if a field of
// that name exists.
func (s Schema) with(f Field) Schema {
	out := make([]Field, len(s.Fields), len(s.Fields)+1)
	copy(out, s.Fields)
	if i := s.Index(f.Name); i >= 0 {
		out[i] = f
		return Schema{Fields: out}
	}
	return Schema{Fields: append(out, f)}
}

// ColumnError reports a column that a step names but its input lacks.
type ColumnError struct {
	Column string
	Schema Schema
}

func (e *ColumnError) Error() string {
	return fmt.Sprintf("dataflow: no column %q in %v", e.Column, e.Schema)
}

// Row is one record: its values in schema order. A Row handed to a callback is
// owned by the caller and valid only during the call unless documented
// otherwise; copy it (slices.Clone) to keep it. Strings are immutable and may be
// kept.
type Row []Value

// Record is a row with its place in the source log: the partition and offset
// that identify it (and make replay possible) and the time it entered the log.
type Record struct {
	Row       Row
	Partition int
	Offset    int64
	// IngestNanos is when the record entered the log, in nanoseconds since the
	// Unix epoch. Processing-time windows use it truncated to milliseconds.
	IngestNanos int64
}

// ProcessingTime is the record's processing timestamp: its ingest time in ms.
func (r Record) ProcessingTime() Time { return Time(FloorDiv(r.IngestNanos, 1e6)) }

// RecordRef names one record of the source log: the partition it is in and
// its offset there. The pair is what both runtimes report about a record
// (microbatch's and recordstream's late records, compare's check) and what
// [ReferenceOptions] excludes by.
type RecordRef struct {
	Partition int
	Offset    int64
}

// String renders the reference as "partition P offset O".
func (r RecordRef) String() string {
	return "partition " + strconv.Itoa(r.Partition) + " offset " + strconv.FormatInt(r.Offset, 10)
}

// PaneEmission is one pane (or, for a runtime without panes, one window
// result) as a runtime's sink received it: what a trace of the run records
// (compare's --trace). Both runtimes report their emissions in this form.
type PaneEmission struct {
	// Window and Key name the pane; Index numbers the window and key's
	// firings (results) in the order the sink got them.
	Window Window
	Key    string
	Index  int64
	// Timing says early, on time, late, or merged (a notice with no value,
	// [PaneMerged]). A runtime without panes (microbatch) derives it from
	// its watermark: early while the window's end is above it, on time for
	// the first result at or past it, late after that; without a watermark
	// every result is on time.
	Timing PaneTiming
	// Increment marks a pane that adds to the window's value (recordstream's
	// correction operator for processing-time replays).
	Increment bool
	// EmitNanos is the sink's clock reading when it took the pane in.
	EmitNanos int64
	// MaxEventTime (ms, the dataset's event time) and MaxIngestNanos are the
	// largest event and ingest time of the pane's records.
	MaxEventTime   Time
	MaxIngestNanos int64
	// Watermark is the watermark the pane was fired (the batch applied) at.
	Watermark Time
	// Task is the id of the task that fired it (recordstream's window
	// task); Batch the sequence number of the committing micro-batch.
	Task  int
	Batch int64
}

// LateRecord is one record a runtime dropped as late, with what a check
// needs to verify the drop under the runtime's documented rule (I4/I5 for
// recordstream, Spark's for microbatch's event-time mode). Both runtimes
// report drops in this form, and compare verifies them.
type LateRecord struct {
	RecordRef
	// Key is the key (I9) of the dropped rows; "" for every row of the
	// record (one record's rows, after an explode, may meet different
	// watermarks; microbatch drops a record whole).
	Key string
	// Watermark is the watermark the drop was judged at (ms).
	Watermark Time
	// Batch is the index of the micro-batch that delivered the record
	// (microbatch; 0 elsewhere).
	Batch int
	// Replay says the dropped delivery was a replay of a record delivered
	// before (at-least-once). Its earlier delivery reached its windows
	// ending at or before LostAbove and is missing from the later ones,
	// because the task holding them crashed at that watermark: MaxTime if
	// the runtime lost nothing of it (the replay came from a timeout or a
	// lost ack), MinTime if the earlier delivery reached no window.
	Replay    bool
	LostAbove Time
}
