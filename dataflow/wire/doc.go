// Package wire is weir's one binary encoding: the append helpers and the
// sticky-error [Decoder] that every state, checkpoint and snapshot payload
// of the module is written and read with (dataflow's accumulators and
// window-operator snapshots, recordstream's checkpoint sections, channel
// state and sink transactions, microbatch's checkpoints).
//
// wire imports only the standard library and knows no dataflow type, so
// that dataflow itself can build on it; dataflow adds the encodings of its
// values, rows and results on top ([github.com/weirlab/weir/dataflow.AppendValue]
// and friends), in the layout given below. The package does no I/O, holds
// no state beyond a Decoder's and starts no goroutines.
//
// # Usage
//
//	buf = wire.AppendUvarint(buf, uint64(len(xs)))
//	for _, x := range xs {
//		buf = wire.AppendVarint(buf, x)
//	}
//
//	d := wire.NewDecoder(buf)
//	xs = xs[:0]
//	for n := d.Count(); n > 0 && d.Err() == nil; n-- {
//		xs = append(xs, d.Varint())
//	}
//	if err := d.Finish(); err != nil { ... } // errors.Is(err, wire.ErrCorrupt)
//
// The reader's duties:
//
//  1. Check [Decoder.Err] (or [Decoder.Finish]) once at the end, not after
//     every read: after the first problem every read returns a zero value
//     (WR1), so a decoding loop only needs to stop on Err when its trip
//     count came from the input.
//  2. Read element counts with [Decoder.Count], never with Uvarint, before
//     sizing a slice or map: Count fails when the count exceeds the bytes
//     left, so corrupt input cannot ask for a huge allocation (WR2).
//  3. Copy what must outlive the input: [Decoder.Bytes] and [Decoder.Next]
//     return slices of it (WR3).
//
// # Layout
//
// Every primitive is self-delimiting; nothing is aligned and there is no
// framing beyond what the writer adds. Integers use encoding/binary's
// varints (LEB128; signed ones zig-zag encoded), so small numbers take one
// byte:
//
//	uvarint   ┌──────────────┐  1-10 bytes, 7 bits each, low group first,
//	          │ 1xxxxxxx ... │  high bit set on every byte but the last
//	          └──────────────┘
//	varint    uvarint of (v << 1) ^ (v >> 63)
//	float     ┌───────────────────────────────┐
//	          │ IEEE-754 bits, 8 bytes, LE    │
//	          └───────────────────────────────┘
//	bytes,    ┌──────────────┬────────────────┐
//	string    │ uvarint n    │ n bytes        │
//	          └──────────────┴────────────────┘
//	section   ┌──────────────┬────────────────┐  a payload is a sequence of
//	          │ string name  │ bytes data     │  sections, each name once
//	          └──────────────┴────────────────┘  ([AppendSection], [Sections])
//
// dataflow's values, rows and results, built on the primitives:
//
//	value     ┌──────────┬─────────────────────────────────────────────┐
//	          │ kind 1 B │ varint I   (int64, float64 bits, bool 0/1,  │
//	          │          │             timestamp ms, invalid: 0)       │
//	          │          │ string S   (string)                         │
//	          └──────────┴─────────────────────────────────────────────┘
//	row       ┌──────────────┬──────────────────┐
//	          │ uvarint n    │ value × n        │
//	          └──────────────┴──────────────────┘
//	result    ┌──────────────┬────────────┬────────────┬───────┬───────────┐
//	          │ varint start │ varint end │ string key │ value │ row extra │
//	          └──────────────┴────────────┴────────────┴───────┴───────────┘
//
// Formats built on these carry their own magic and version where they are
// stored (dataflow's accumulator and operator encodings, the snapshot
// files of internal/snapshot); wire itself has none, so a change to any
// layout above is a change to every format that uses it.
//
// # Invariants
//
//   - WR1 The error is sticky: the first problem is kept, the unread input is
//     dropped, and every later read returns the zero value.
//   - WR2 [Decoder.Count] never returns more than the number of bytes left,
//     since every element takes at least one byte.
//   - WR3 Slices a Decoder returns alias its input; strings are copies.
//   - WR4 The reads of fixed-size values and of varints, Count, Next and
//     Bytes allocate nothing (TestDecoderAllocs); only a failure allocates
//     (the error).
//
// # When not to use
//
// wire is for state that weir writes and reads itself. It is not a
// self-describing or schema-evolving format: a reader must know the layout
// the writer used, which is why every stored format above it is versioned.
package wire
