package dataflow

import (
	"fmt"

	"github.com/weirlab/weir/dataflow/wire"
)

// The binary encodings of values, rows and results, built on package wire
// (whose package comment has the layout diagram). Accumulator states,
// window-operator snapshots and both runtimes' checkpoints use them; they
// live here rather than in wire because wire must not import dataflow,
// which decodes with it.

// AppendValue appends v's encoding: its kind byte, then its I as a varint
// (int64, float64 bits, bool 0 or 1, timestamp; 0 for the null value) or its
// S as a length-prefixed string.
func AppendValue(dst []byte, v Value) []byte {
	dst = append(dst, byte(v.K))
	switch v.K {
	case KindInvalid:
		return append(dst, 0)
	case KindString:
		return wire.AppendString(dst, v.S)
	}
	return wire.AppendVarint(dst, v.I)
}

// AppendRow appends r's encoding: its length, then its values.
func AppendRow(dst []byte, r Row) []byte {
	dst = wire.AppendUvarint(dst, uint64(len(r)))
	for _, v := range r {
		dst = AppendValue(dst, v)
	}
	return dst
}

// AppendResult appends r's encoding: window start and end, key, value and
// the extra values as a row.
func AppendResult(dst []byte, r Result) []byte {
	dst = wire.AppendVarint(dst, int64(r.Window.Start))
	dst = wire.AppendVarint(dst, int64(r.Window.End))
	dst = wire.AppendString(dst, r.Key)
	dst = AppendValue(dst, r.Value)
	return AppendRow(dst, r.Extra)
}

// DecodeValue reads a value written by [AppendValue]. An unknown kind, a
// bool other than 0 or 1, or a null value with bits fails d (wire's WR1).
// Only strings allocate.
func DecodeValue(d *wire.Decoder) Value {
	k := Kind(d.Byte())
	switch k {
	case KindString:
		return Value{K: k, S: d.String()}
	case KindInt64, KindFloat64, KindTimestamp:
		return Value{K: k, I: d.Varint()}
	case KindBool:
		i := d.Varint()
		if i != 0 && i != 1 {
			d.Fail("bool value out of range")
			return Value{}
		}
		return Value{K: k, I: i}
	case KindInvalid: // the null Value, which min and max may hold
		if d.Varint() != 0 {
			d.Fail("null value with bits")
		}
		return Value{}
	}
	d.Fail(fmt.Sprintf("bad value kind %d", k))
	return Value{}
}

// DecodeRow reads a row written by [AppendRow] into dst, reusing its
// storage, and returns it. It allocates only when dst is too short and for
// string values.
func DecodeRow(d *wire.Decoder, dst Row) Row {
	dst = dst[:0]
	for n := d.Count(); n > 0 && d.Err() == nil; n-- {
		dst = append(dst, DecodeValue(d))
	}
	return dst
}

// DecodeResult reads a result written by [AppendResult]. Extra is nil
// when the result has no extra values.
func DecodeResult(d *wire.Decoder) Result {
	var r Result
	r.Window.Start = Time(d.Varint())
	r.Window.End = Time(d.Varint())
	r.Key = d.String()
	r.Value = DecodeValue(d)
	if ex := DecodeRow(d, nil); len(ex) > 0 {
		r.Extra = ex
	}
	return r
}
