package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrCorrupt is wrapped by every error of a [Decoder] and of [Sections]:
// the input is truncated, has bytes left over, or holds something its
// reader rejected ([Decoder.Fail]). Test with errors.Is.
var ErrCorrupt = errors.New("wire: corrupt encoding")

// AppendUvarint appends v as an unsigned varint.
func AppendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

// AppendVarint appends v as a zig-zag signed varint.
func AppendVarint(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

// AppendFloat appends the IEEE-754 bits of f, 8 bytes little endian.
func AppendFloat(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

// AppendBytes appends b prefixed with its length.
func AppendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// AppendString appends s prefixed with its length.
func AppendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// AppendSection appends a named section holding data: the name as a
// string, then data as bytes. A payload of sections is read back with
// [Sections].
func AppendSection(dst []byte, name string, data []byte) []byte {
	dst = AppendString(dst, name)
	return AppendBytes(dst, data)
}

// Sections decodes a payload of sections written by [AppendSection] into a
// map from name to data. The data slices alias b (WR3). A truncated payload
// or a name that appears twice gives an error wrapping [ErrCorrupt].
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

// Decoder reads what the Append functions wrote, front to back. Its error
// is sticky (WR1): after the first problem every read returns a zero value
// and [Decoder.Err] reports the problem, wrapping [ErrCorrupt] and giving
// the byte offset where it was found.
//
// A Decoder is a small value: [NewDecoder] is inlined, so a Decoder that
// does not escape lives on the caller's stack. It is not safe for
// concurrent use.
type Decoder struct {
	b   []byte // the unread input; nil once err is set (WR1)
	n   int    // length of the whole input, for offsets in errors
	err error
}

// NewDecoder returns a decoder over b. The decoder does not copy b; the
// caller must not modify b while decoding.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b, n: len(b)} }

// Reset makes d a decoder over b, clearing its error.
func (d *Decoder) Reset(b []byte) { *d = Decoder{b: b, n: len(b)} }

// Err returns the first problem found, or nil.
func (d *Decoder) Err() error { return d.err }

// Len returns the number of unread bytes (0 after an error).
func (d *Decoder) Len() int { return len(d.b) }

// Offset returns the number of bytes read so far.
func (d *Decoder) Offset() int { return d.n - len(d.b) }

// Fail records problem at the current offset, unless an earlier problem is
// recorded, and drops the unread input (WR1). Readers call it for input
// that decodes but is not valid for them ("negative count"); the message
// names what is wrong in the reader's terms.
func (d *Decoder) Fail(problem string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d of %d: %s", ErrCorrupt, d.Offset(), d.n, problem)
	}
	d.b = nil
}

// Finish returns the first problem found or, with none, an error if any
// bytes are left unread: a reader that expects to consume the whole input
// calls it at the end.
func (d *Decoder) Finish() error {
	if d.err == nil && len(d.b) > 0 {
		d.Fail(fmt.Sprintf("%d trailing bytes", len(d.b)))
	}
	return d.err
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if len(d.b) == 0 { // also after an error (WR1)
		d.Fail("truncated reading a byte")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	// Most varints in weir's state (counts, lengths, flags, small deltas)
	// take one byte: read those without binary.Uvarint's loop.
	if len(d.b) > 0 && d.b[0] < 0x80 {
		v := uint64(d.b[0])
		d.b = d.b[1:]
		return v
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.Fail("truncated or overlong varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Varint reads a zig-zag signed varint.
func (d *Decoder) Varint() int64 {
	ux := d.Uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// Float reads 8 bytes of IEEE-754 bits, little endian.
func (d *Decoder) Float() float64 {
	if len(d.b) < 8 {
		d.Fail("truncated reading a float")
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return f
}

// Next reads the next n bytes, which alias the input (WR3); its capacity is
// n, so appending to it never overwrites the input.
func (d *Decoder) Next(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.Fail(fmt.Sprintf("truncated reading %d bytes", n))
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

// Bytes reads a length-prefixed byte slice, which aliases the input (WR3);
// its capacity is its length.
func (d *Decoder) Bytes() []byte {
	n := d.Uvarint()
	if n > uint64(len(d.b)) {
		d.Fail(fmt.Sprintf("length %d with %d bytes left", n, len(d.b)))
		return nil
	}
	b := d.b[:n:n]
	d.b = d.b[n:]
	return b
}

// String reads a length-prefixed string (a copy).
func (d *Decoder) String() string { return string(d.Bytes()) }

// Count reads the number of elements that follow, each taking at least one
// byte: a count larger than the bytes left fails (WR2), so it is safe to
// size a slice or map with the result.
func (d *Decoder) Count() int {
	n := d.Uvarint()
	if n > uint64(len(d.b)) {
		d.Fail(fmt.Sprintf("%d elements in %d bytes", n, len(d.b)))
		return 0
	}
	return int(n)
}
