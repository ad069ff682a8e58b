package wire_test

import (
	"fmt"

	"github.com/weirlab/weir/dataflow/wire"
)

// A payload of named sections, each holding varints, read back with a
// sticky-error decoder.
func Example() {
	var offsets []byte
	offsets = wire.AppendUvarint(offsets, 2)
	offsets = wire.AppendVarint(offsets, 4711)
	offsets = wire.AppendVarint(offsets, -1)
	payload := wire.AppendSection(nil, "offsets", offsets)
	payload = wire.AppendSection(payload, "name", wire.AppendString(nil, "spout-0"))

	secs, err := wire.Sections(payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	d := wire.NewDecoder(secs["offsets"])
	for n := d.Count(); n > 0; n-- {
		fmt.Println(d.Varint())
	}
	if err := d.Finish(); err != nil {
		fmt.Println(err)
	}

	// Truncated: the count promises more elements than bytes are left.
	d = wire.NewDecoder(secs["offsets"][:2])
	for n := d.Count(); n > 0; n-- {
		d.Varint()
	}
	fmt.Println(d.Err())
	// Output:
	// 4711
	// -1
	// wire: corrupt encoding at byte 1 of 2: 2 elements in 1 bytes
}
