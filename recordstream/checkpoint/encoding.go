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
	return wire.AppendVarint(dst, e.MaxIngestNanos)
}

// DecodeEmission reads an emission written by [AppendEmission].
func DecodeEmission(d *wire.Decoder) Emission {
	var e Emission
	e.Pane = int(d.Varint())
	e.Result = dataflow.DecodeResult(d)
	e.MaxEventTime = dataflow.Time(d.Varint())
	e.MaxIngestNanos = d.Varint()
	return e
}
