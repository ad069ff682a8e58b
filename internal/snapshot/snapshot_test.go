package snapshot

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTaskStateRoundTrip(t *testing.T) {
	for _, s := range []TaskState{
		{Checkpoint: 1, Task: 0, Payload: []byte{}},
		{Checkpoint: 7, Task: 3, Payload: []byte("window state")},
		{Checkpoint: 1 << 40, Task: 1<<32 - 1, Payload: bytes.Repeat([]byte{0xff}, 1000)},
	} {
		b := Append([]byte("prefix"), s)
		got, err := Decode("x.snap", b[len("prefix"):])
		require.NoError(t, err, "Decode(Append(%v))", s.Checkpoint)
		assert.Equal(t, s.Checkpoint, got.Checkpoint)
		assert.Equal(t, s.Task, got.Task)
		assert.Equal(t, s.Payload, got.Payload)
		assert.Len(t, b, len("prefix")+len(s.Payload)+Overhead)
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	good := Append(nil, TaskState{Checkpoint: 3, Task: 2, Payload: []byte("some task state")})
	t.Run("truncated", func(t *testing.T) {
		for n := range len(good) {
			_, err := Decode("chk-3/task-2.snap", good[:n])
			require.Error(t, err, "Decode of the first %d of %d bytes", n, len(good))
			assert.ErrorIs(t, err, ErrCorrupt)
			assert.Contains(t, err.Error(), "chk-3/task-2.snap")
		}
	})
	t.Run("bit flip", func(t *testing.T) {
		for i := range len(good) * 8 {
			b := bytes.Clone(good)
			b[i/8] ^= 1 << (i % 8)
			_, err := Decode("p", b)
			require.Error(t, err, "Decode with bit %d flipped", i)
			assert.ErrorIs(t, err, ErrCorrupt)
		}
	})
	t.Run("trailing bytes", func(t *testing.T) {
		_, err := Decode("p", append(bytes.Clone(good), 0))
		assert.ErrorContains(t, err, "trailing")
	})
	t.Run("wrong magic", func(t *testing.T) {
		b := bytes.Clone(good)
		copy(b, "NOTASNAP")
		_, err := Decode("p", b)
		assert.ErrorContains(t, err, "wrong magic")
		ce, ok := errors.AsType[*CorruptError](err)
		require.True(t, ok)
		assert.Equal(t, "p", ce.Path)
	})
}

func FuzzDecode(f *testing.F) {
	// Seeds: valid snapshots (empty and non-empty payloads), garbage, a
	// header claiming a huge payload.
	f.Add(Append(nil, TaskState{Checkpoint: 1, Task: 0}))
	f.Add(Append(nil, TaskState{Checkpoint: 9, Task: 4, Payload: []byte("state")}))
	f.Add([]byte("WEIRSNAP"))
	f.Add([]byte{})
	huge := Append(nil, TaskState{Checkpoint: 2, Task: 1, Payload: []byte("x")})
	huge[30] = 0xff
	f.Add(huge)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode("fuzz", b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decode error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		// Only valid encodings decode: re-encoding gives the same bytes.
		if re := Append(nil, s); !bytes.Equal(re, b) {
			t.Fatalf("Decode accepted %x, which re-encodes as %x", b, re)
		}
	})
}

// TestFrame checks that framing a payload in place gives the bytes Append
// gives.
func TestFrame(t *testing.T) {
	for _, s := range []TaskState{
		{Checkpoint: 1, Task: 0, Payload: []byte{}},
		{Checkpoint: 7, Task: 3, Payload: []byte("window state")},
		{Checkpoint: 1 << 40, Task: 1<<32 - 1, Payload: bytes.Repeat([]byte{0xab}, 1000)},
	} {
		buf := append(make([]byte, HeaderSize, HeaderSize+len(s.Payload)+4), s.Payload...)
		got := Frame(buf, s.Checkpoint, s.Task)
		assert.Equal(t, Append(nil, s), got, "Frame of %v", s.Checkpoint)
		assert.Same(t, &buf[0], &got[0], "Frame reuses a buffer with room")
	}
	assert.Panics(t, func() { Frame(make([]byte, 3), 1, 1) }, "Frame without room for the header")
}

func TestIDStrings(t *testing.T) {
	assert.Equal(t, "chk-12", ID(12).String())
	assert.Equal(t, "task-3", TaskID(3).String())
	assert.Equal(t, "rename", OpRename.String())
	assert.Equal(t, "op(99)", Op(99).String())
}
