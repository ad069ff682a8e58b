package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
)

// ID numbers a checkpoint. Ids strictly increase (C1); 0 means none.
type ID uint64

func (id ID) String() string { return "chk-" + strconv.FormatUint(uint64(id), 10) }

// TaskID names one task of a topology (a spout, bolt or sink instance).
type TaskID uint32

func (t TaskID) String() string { return "task-" + strconv.FormatUint(uint64(t), 10) }

// Snapshot is one task's state in one checkpoint.
type Snapshot struct {
	Checkpoint ID
	Task       TaskID
	// Payload is the task's encoded state; its format is the task's business.
	Payload []byte
}

// The snapshot file layout (little endian):
//
//	offset  size  field
//	0       8     magic "WEIRSNAP"
//	8       2     version (1)
//	10      2     reserved, 0
//	12      8     checkpoint id
//	20      4     task id
//	24      8     payload length n
//	32      n     payload
//	32+n    4     CRC-32C (Castagnoli) of bytes [0, 32+n)
const (
	snapMagic      = "WEIRSNAP"
	snapVersion    = 1
	snapHeaderSize = 32
	snapTrailer    = 4
	// SnapshotOverhead is the size of a snapshot file beyond its payload.
	SnapshotOverhead = snapHeaderSize + snapTrailer
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C (Castagnoli) of b, the checksum of every file
// in a checkpoint.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// ErrCorrupt is wrapped by every error about a damaged file: truncated,
// bit-flipped, wrong magic or version, or not matching its _COMPLETED
// marker. Test with errors.Is.
var ErrCorrupt = errors.New("checkpoint: corrupt")

// CorruptError says which file is damaged and how.
type CorruptError struct {
	// Path is the file, or "" when decoding bytes not read from a file.
	Path string
	// Problem says what is wrong, e.g. "checksum mismatch".
	Problem string
}

func (e *CorruptError) Error() string {
	p := e.Path
	if p == "" {
		p = "snapshot"
	}
	return fmt.Sprintf("checkpoint: %s is corrupt: %s (the checkpoint cannot be restored; an older one is used if there is one)", p, e.Problem)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// AppendSnapshot appends the encoding of s to dst and returns the extended
// slice.
func AppendSnapshot(dst []byte, s Snapshot) []byte {
	start := len(dst)
	dst = append(dst, snapMagic...)
	dst = binary.LittleEndian.AppendUint16(dst, snapVersion)
	dst = binary.LittleEndian.AppendUint16(dst, 0)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(s.Checkpoint))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(s.Task))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(s.Payload)))
	dst = append(dst, s.Payload...)
	return binary.LittleEndian.AppendUint32(dst, Checksum(dst[start:]))
}

// SnapshotHeaderSize is the size of a snapshot file's header, the bytes
// before its payload. A task that encodes its payload at
// buf[SnapshotHeaderSize:] lets [FrameSnapshot] turn buf into the file's
// bytes in place, with no copy of a large payload.
const SnapshotHeaderSize = snapHeaderSize

// FrameSnapshot writes the header of the snapshot (id, task) into
// buf[:SnapshotHeaderSize], whose payload is buf[SnapshotHeaderSize:], and
// appends the checksum: the result is what [AppendSnapshot] would give for
// that payload. It reuses buf when it has room for the 4 checksum bytes. A
// buf shorter than the header is a programming error and panics.
func FrameSnapshot(buf []byte, id ID, task TaskID) []byte {
	if len(buf) < snapHeaderSize {
		panic("checkpoint: FrameSnapshot of a buffer without room for the header")
	}
	h := buf[:0:snapHeaderSize]
	h = append(h, snapMagic...)
	h = binary.LittleEndian.AppendUint16(h, snapVersion)
	h = binary.LittleEndian.AppendUint16(h, 0)
	h = binary.LittleEndian.AppendUint64(h, uint64(id))
	h = binary.LittleEndian.AppendUint32(h, uint32(task))
	binary.LittleEndian.AppendUint64(h, uint64(len(buf)-snapHeaderSize))
	return binary.LittleEndian.AppendUint32(buf, Checksum(buf))
}

// DecodeSnapshot decodes a snapshot encoded by [AppendSnapshot]. The
// returned Payload aliases b. Any damage gives a *[CorruptError] naming
// path (which is only used in the message).
func DecodeSnapshot(path string, b []byte) (Snapshot, error) {
	bad := func(format string, args ...any) (Snapshot, error) {
		return Snapshot{}, &CorruptError{Path: path, Problem: fmt.Sprintf(format, args...)}
	}
	if len(b) < SnapshotOverhead {
		return bad("truncated: %d bytes, a snapshot has at least %d", len(b), SnapshotOverhead)
	}
	if string(b[:8]) != snapMagic {
		return bad("wrong magic %q, want %q (not a snapshot file)", b[:8], snapMagic)
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != snapVersion {
		return bad("unsupported version %d, want %d", v, snapVersion)
	}
	if r := binary.LittleEndian.Uint16(b[10:]); r != 0 {
		return bad("reserved field is %d, want 0", r)
	}
	n := binary.LittleEndian.Uint64(b[24:])
	if want := uint64(len(b) - SnapshotOverhead); n != want {
		if n > want {
			return bad("truncated: header says %d payload bytes, file holds %d", n, want)
		}
		return bad("%d trailing bytes after the payload", want-n)
	}
	end := snapHeaderSize + int(n)
	if got, want := Checksum(b[:end]), binary.LittleEndian.Uint32(b[end:]); got != want {
		return bad("checksum mismatch: computed %08x, stored %08x", got, want)
	}
	return Snapshot{
		Checkpoint: ID(binary.LittleEndian.Uint64(b[12:])),
		Task:       TaskID(binary.LittleEndian.Uint32(b[20:])),
		Payload:    b[snapHeaderSize:end:end],
	}, nil
}
