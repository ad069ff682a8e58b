package checkpoint

import (
	"encoding/binary"
	"fmt"

	"github.com/weirlab/weir/dataflow"
)

// The helpers below encode the pieces of a task's state payload: named
// sections (a task with a spout's offsets, an operator's state and channel
// state writes one section each), values, rows and results. Integers are
// varints; strings and byte slices are length-prefixed.

// AppendSection appends a named section holding data.
func AppendSection(dst []byte, name string, data []byte) []byte {
	dst = AppendString(dst, name)
	dst = binary.AppendUvarint(dst, uint64(len(data)))
	return append(dst, data...)
}

// Sections decodes a payload of sections written by [AppendSection]. The
// returned slices alias b.
func Sections(b []byte) (map[string][]byte, error) {
	m := make(map[string][]byte)
	d := NewDecoder(b)
	for d.Len() > 0 {
		name := d.String()
		data := d.Bytes()
		if d.Err() != nil {
			return nil, d.Err()
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("%w: section %q appears twice", ErrCorrupt, name)
		}
		m[name] = data
	}
	return m, nil
}

// AppendString appends a length-prefixed string.
func AppendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// AppendValue appends a value: its kind, then its int bits or its string.
func AppendValue(dst []byte, v dataflow.Value) []byte {
	dst = append(dst, byte(v.K))
	if v.K == dataflow.KindString {
		return AppendString(dst, v.S)
	}
	return binary.AppendVarint(dst, v.I)
}

// AppendRow appends a row: its length, then its values.
func AppendRow(dst []byte, r dataflow.Row) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(r)))
	for _, v := range r {
		dst = AppendValue(dst, v)
	}
	return dst
}

// AppendResult appends a result: window, key, value and extra values.
func AppendResult(dst []byte, r dataflow.Result) []byte {
	dst = binary.AppendVarint(dst, int64(r.Window.Start))
	dst = binary.AppendVarint(dst, int64(r.Window.End))
	dst = AppendString(dst, r.Key)
	dst = AppendValue(dst, r.Value)
	return AppendRow(dst, r.Extra)
}

// Decoder reads what the Append functions wrote. Its error is sticky: after
// the first problem every read returns a zero value and [Decoder.Err]
// reports the problem (wrapping [ErrCorrupt]).
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder returns a decoder over b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err returns the first decoding error.
func (d *Decoder) Err() error { return d.err }

// Len returns the number of bytes left.
func (d *Decoder) Len() int { return len(d.b) }

func (d *Decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: payload truncated or damaged reading %s", ErrCorrupt, what)
	}
	d.b = nil
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Varint reads a signed varint.
func (d *Decoder) Varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Bytes reads a length-prefixed byte slice; it aliases the input.
func (d *Decoder) Bytes() []byte {
	n := d.Uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("bytes")
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

// String reads a length-prefixed string.
func (d *Decoder) String() string { return string(d.Bytes()) }

// Value reads a value.
func (d *Decoder) Value() dataflow.Value {
	if d.err != nil {
		return dataflow.Value{}
	}
	if len(d.b) == 0 {
		d.fail("value kind")
		return dataflow.Value{}
	}
	k := dataflow.Kind(d.b[0])
	d.b = d.b[1:]
	if k > dataflow.KindTimestamp {
		d.fail("value kind")
		return dataflow.Value{}
	}
	if k == dataflow.KindString {
		return dataflow.Value{K: k, S: d.String()}
	}
	return dataflow.Value{K: k, I: d.Varint()}
}

// Row reads a row into dst (reused when it has room) and returns it.
func (d *Decoder) Row(dst dataflow.Row) dataflow.Row {
	n := d.Uvarint()
	if d.err != nil || n > uint64(len(d.b)) { // each value takes at least a byte
		d.fail("row")
		return dst[:0]
	}
	dst = dst[:0]
	for range n {
		dst = append(dst, d.Value())
	}
	return dst
}

// Result reads a result.
func (d *Decoder) Result() dataflow.Result {
	var r dataflow.Result
	r.Window.Start = dataflow.Time(d.Varint())
	r.Window.End = dataflow.Time(d.Varint())
	r.Key = d.String()
	r.Value = d.Value()
	if ex := d.Row(nil); len(ex) > 0 {
		r.Extra = ex
	}
	return r
}

// AppendEmission appends an emission: pane index, result and latency times.
func AppendEmission(dst []byte, e Emission) []byte {
	dst = binary.AppendVarint(dst, int64(e.Pane))
	dst = AppendResult(dst, e.Result)
	dst = binary.AppendVarint(dst, int64(e.MaxEventTime))
	return binary.AppendVarint(dst, e.MaxIngestNanos)
}

// Emission reads an emission.
func (d *Decoder) Emission() Emission {
	var e Emission
	e.Pane = int(d.Varint())
	e.Result = d.Result()
	e.MaxEventTime = dataflow.Time(d.Varint())
	e.MaxIngestNanos = d.Varint()
	return e
}
