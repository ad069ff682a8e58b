package checkpoint

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSnapshotRoundTrip(t *testing.T) {
	for _, s := range []Snapshot{
		{Checkpoint: 1, Task: 0, Payload: []byte{}},
		{Checkpoint: 7, Task: 3, Payload: []byte("window state")},
		{Checkpoint: 1 << 40, Task: 1<<32 - 1, Payload: bytes.Repeat([]byte{0xff}, 1000)},
	} {
		b := AppendSnapshot([]byte("prefix"), s)
		got, err := DecodeSnapshot("x.snap", b[len("prefix"):])
		require.NoError(t, err, "DecodeSnapshot(AppendSnapshot(%v))", s.Checkpoint)
		assert.Equal(t, s.Checkpoint, got.Checkpoint)
		assert.Equal(t, s.Task, got.Task)
		assert.Equal(t, s.Payload, got.Payload)
		assert.Len(t, b, len("prefix")+len(s.Payload)+SnapshotOverhead)
	}
}

func TestDecodeSnapshotRejectsDamage(t *testing.T) {
	good := AppendSnapshot(nil, Snapshot{Checkpoint: 3, Task: 2, Payload: []byte("some task state")})
	t.Run("truncated", func(t *testing.T) {
		for n := range len(good) {
			_, err := DecodeSnapshot("chk-3/task-2.snap", good[:n])
			require.Error(t, err, "DecodeSnapshot of the first %d of %d bytes", n, len(good))
			assert.ErrorIs(t, err, ErrCorrupt)
			assert.Contains(t, err.Error(), "chk-3/task-2.snap")
		}
	})
	t.Run("bit flip", func(t *testing.T) {
		for i := range len(good) * 8 {
			b := bytes.Clone(good)
			b[i/8] ^= 1 << (i % 8)
			_, err := DecodeSnapshot("p", b)
			require.Error(t, err, "DecodeSnapshot with bit %d flipped", i)
			assert.ErrorIs(t, err, ErrCorrupt)
		}
	})
	t.Run("trailing bytes", func(t *testing.T) {
		_, err := DecodeSnapshot("p", append(bytes.Clone(good), 0))
		assert.ErrorContains(t, err, "trailing")
	})
	t.Run("wrong magic", func(t *testing.T) {
		b := bytes.Clone(good)
		copy(b, "NOTASNAP")
		_, err := DecodeSnapshot("p", b)
		assert.ErrorContains(t, err, "wrong magic")
		ce, ok := errors.AsType[*CorruptError](err)
		require.True(t, ok)
		assert.Equal(t, "p", ce.Path)
	})
}

func FuzzDecodeSnapshot(f *testing.F) {
	// Seeds: valid snapshots (empty and non-empty payloads), garbage, a
	// header claiming a huge payload.
	f.Add(AppendSnapshot(nil, Snapshot{Checkpoint: 1, Task: 0}))
	f.Add(AppendSnapshot(nil, Snapshot{Checkpoint: 9, Task: 4, Payload: []byte("state")}))
	f.Add([]byte("WEIRSNAP"))
	f.Add([]byte{})
	huge := AppendSnapshot(nil, Snapshot{Checkpoint: 2, Task: 1, Payload: []byte("x")})
	huge[30] = 0xff
	f.Add(huge)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSnapshot("fuzz", b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("DecodeSnapshot error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		// Only valid encodings decode: re-encoding gives the same bytes.
		if re := AppendSnapshot(nil, s); !bytes.Equal(re, b) {
			t.Fatalf("DecodeSnapshot accepted %x, which re-encodes as %x", b, re)
		}
	})
}

func TestSections(t *testing.T) {
	var b []byte
	b = AppendSection(b, "spout", []byte{1, 2, 3})
	b = AppendSection(b, "window", nil)
	m, err := Sections(b)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3}, m["spout"])
	assert.Empty(t, m["window"])
	assert.Contains(t, m, "window")

	_, err = Sections(b[:len(b)-1])
	assert.ErrorIs(t, err, ErrCorrupt)
	_, err = Sections(AppendSection(b, "spout", nil))
	assert.ErrorContains(t, err, "twice")
}

// TestFrameSnapshot checks that framing a payload in place gives the bytes
// AppendSnapshot gives.
func TestFrameSnapshot(t *testing.T) {
	for _, s := range []Snapshot{
		{Checkpoint: 1, Task: 0, Payload: []byte{}},
		{Checkpoint: 7, Task: 3, Payload: []byte("window state")},
		{Checkpoint: 1 << 40, Task: 1<<32 - 1, Payload: bytes.Repeat([]byte{0xab}, 1000)},
	} {
		buf := append(make([]byte, SnapshotHeaderSize, SnapshotHeaderSize+len(s.Payload)+4), s.Payload...)
		got := FrameSnapshot(buf, s.Checkpoint, s.Task)
		assert.Equal(t, AppendSnapshot(nil, s), got, "FrameSnapshot of %v", s.Checkpoint)
		assert.Same(t, &buf[0], &got[0], "FrameSnapshot reuses a buffer with room")
	}
	assert.Panics(t, func() { FrameSnapshot(make([]byte, 3), 1, 1) }, "FrameSnapshot without room for the header")
}
