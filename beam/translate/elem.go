package translate

import (
	"fmt"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
)

// Elem is the one element type of a translated pipeline: a row of the
// pipeline with its place in the log. Beam's Go SDK has no dynamic row
// type, so every PCollection of rows is a PCollection of Elem, encoded by
// weir's own row encoding ([dataflow.AppendRow]) through a coder registered
// in init.
//
// After an aggregation the same type carries a result: Row holds the value
// then the extra aggregates, EventMs the largest event time and Ingest the
// largest ingest time of the records that made it (for latency).
type Elem struct {
	// Partition and Offset name the log record the row came from; Sub
	// numbers the rows one record gave (an explode's tokens, in order), so
	// (Partition, Offset, Sub) is the row's place in weir's arrival order.
	Partition int32
	Sub       int32
	Offset    int64
	// Ingest is the record's ingest time (ns since the epoch).
	Ingest int64
	// EventMs is the row's time in the aggregation's domain (ms).
	EventMs int64
	Row     dataflow.Row
	// Refs, on a result under LogWatermark, lists the log records (packed
	// by packRef) that reached it: how the driver learns which records
	// Beam dropped as late, which Beam itself never reports.
	Refs []uint64
}

// packRef packs a record's place: partitions are below 2^10
// (datasets.MaxPartitions) and offsets below 2^53.
func packRef(part int32, off int64) uint64 { return uint64(part)<<53 | uint64(off) }

func appendRefs(dst []byte, refs []uint64) []byte {
	dst = wire.AppendUvarint(dst, uint64(len(refs)))
	for _, r := range refs {
		dst = wire.AppendUvarint(dst, r)
	}
	return dst
}

func decodeRefs(d *wire.Decoder) []uint64 {
	n := d.Count()
	if n == 0 {
		return nil
	}
	refs := make([]uint64, 0, n)
	for ; n > 0 && d.Err() == nil; n-- {
		refs = append(refs, d.Uvarint())
	}
	return refs
}

func appendElem(dst []byte, e Elem) []byte {
	dst = wire.AppendVarint(dst, int64(e.Partition))
	dst = wire.AppendVarint(dst, int64(e.Sub))
	dst = wire.AppendVarint(dst, e.Offset)
	dst = wire.AppendVarint(dst, e.Ingest)
	dst = wire.AppendVarint(dst, e.EventMs)
	dst = dataflow.AppendRow(dst, e.Row)
	return appendRefs(dst, e.Refs)
}

func decodeElemFrom(d *wire.Decoder) Elem {
	var e Elem
	e.Partition = int32(d.Varint())
	e.Sub = int32(d.Varint())
	e.Offset = d.Varint()
	e.Ingest = d.Varint()
	e.EventMs = d.Varint()
	e.Row = dataflow.DecodeRow(d, nil)
	e.Refs = decodeRefs(d)
	return e
}

func encodeElem(e Elem) []byte { return appendElem(nil, e) }

func decodeElem(b []byte) (Elem, error) {
	d := wire.NewDecoder(b)
	e := decodeElemFrom(d)
	if err := d.Finish(); err != nil {
		return Elem{}, fmt.Errorf("translate: decode element: %w", err)
	}
	return e, nil
}

// Acc is the accumulator of the aggregation's combiner: one dataflow
// accumulator per aggregate, exactly the ones [dataflow.Reference] and both
// runtimes use, merged by their own Merge and carried between Beam stages
// in their own wire encoding (Accumulator.AppendBinary), so a result is
// bit-identical to weir's whatever way Beam splits and lifts the combine.
// Its coder writes each aggregate's description before its state, so a
// worker decodes an accumulator without the plan.
type Acc struct {
	aggs    []dataflow.Agg
	in      []dataflow.Kind // the input kind of each aggregate's column
	accs    []dataflow.Accumulator
	maxEv   int64
	maxIng  int64
	records int64
	refs    []uint64 // with CombineFn.Track
}

func newAcc(aggs []dataflow.Agg, in []dataflow.Kind) Acc {
	a := Acc{aggs: aggs, in: in, accs: make([]dataflow.Accumulator, len(aggs)), maxEv: int64(dataflow.MinTime)}
	for i, g := range aggs {
		a.accs[i] = g.NewAccumulator(in[i])
	}
	return a
}

func encodeAcc(a Acc) ([]byte, error) {
	dst := wire.AppendUvarint(nil, uint64(len(a.aggs)))
	for i, g := range a.aggs {
		dst = append(dst, byte(g.Kind), byte(a.in[i]), g.Precision)
		dst = wire.AppendString(dst, g.Col)
		dst = wire.AppendVarint(dst, int64(g.N))
		dst = wire.AppendVarint(dst, int64(g.Width))
		dst = wire.AppendVarint(dst, int64(g.Depth))
		var err error
		st, err := a.accs[i].AppendBinary(nil)
		if err != nil {
			return nil, fmt.Errorf("translate: encode accumulator of %v: %w", g, err)
		}
		dst = wire.AppendBytes(dst, st)
	}
	dst = wire.AppendVarint(dst, a.maxEv)
	dst = wire.AppendVarint(dst, a.maxIng)
	dst = wire.AppendVarint(dst, a.records)
	return appendRefs(dst, a.refs), nil
}

func decodeAcc(b []byte) (Acc, error) {
	d := wire.NewDecoder(b)
	n := d.Count()
	var a Acc
	for i := 0; i < n && d.Err() == nil; i++ {
		g := dataflow.Agg{Kind: dataflow.AggKind(d.Byte())}
		in := dataflow.Kind(d.Byte())
		g.Precision = d.Byte()
		g.Col = d.String()
		g.N = int(d.Varint())
		g.Width = int(d.Varint())
		g.Depth = int(d.Varint())
		st := d.Bytes()
		if d.Err() != nil {
			break
		}
		if g.Kind == dataflow.AggInvalid || g.Kind > dataflow.AggSpan || in > dataflow.KindTimestamp {
			return Acc{}, fmt.Errorf("translate: decode accumulator: bad aggregate kind %d or input kind %d", g.Kind, in)
		}
		acc := g.NewAccumulator(in)
		if err := acc.UnmarshalBinary(st); err != nil {
			return Acc{}, fmt.Errorf("translate: decode accumulator of %v: %w", g, err)
		}
		a.aggs, a.in, a.accs = append(a.aggs, g), append(a.in, in), append(a.accs, acc)
	}
	a.maxEv = d.Varint()
	a.maxIng = d.Varint()
	a.records = d.Varint()
	a.refs = decodeRefs(d)
	if err := d.Finish(); err != nil {
		return Acc{}, fmt.Errorf("translate: decode accumulator: %w", err)
	}
	return a, nil
}
