package checkpoint

import (
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
)

// AppendEmission appends an emission, in package wire's encoding: pane
// index, result ([dataflow.AppendResult]) and latency times.
func AppendEmission(dst []byte, e Emission) []byte {
	dst = wire.AppendVarint(dst, int64(e.Pane))
	dst = dataflow.AppendResult(dst, e.Result)
	dst = wire.AppendVarint(dst, int64(e.MaxEventTime))
	dst = wire.AppendVarint(dst, e.MaxIngestNanos)
	if !e.Merged {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	dst = wire.AppendVarint(dst, int64(e.Into.Start))
	return wire.AppendVarint(dst, int64(e.Into.End))
}

// DecodeEmission reads an emission written by [AppendEmission].
func DecodeEmission(d *wire.Decoder) Emission {
	var e Emission
	e.Pane = int(d.Varint())
	e.Result = dataflow.DecodeResult(d)
	e.MaxEventTime = dataflow.Time(d.Varint())
	e.MaxIngestNanos = d.Varint()
	switch d.Byte() {
	case 0:
	case 1:
		e.Merged = true
		e.Into.Start = dataflow.Time(d.Varint())
		e.Into.End = dataflow.Time(d.Varint())
	default:
		d.Fail("emission flag not 0 or 1")
	}
	return e
}
