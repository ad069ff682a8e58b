package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
)

// ID numbers a checkpoint. Ids are positive and increase (SN1); 0 means none.
type ID uint64

// String returns the name of the checkpoint's directory, "chk-7".
func (id ID) String() string { return "chk-" + strconv.FormatUint(uint64(id), 10) }

// TaskID names one task that writes a snapshot file into each checkpoint
// (a spout, bolt or sink instance of a topology; microbatch's driver).
type TaskID uint32

// String returns "task-3", the stem of the task's file name.
func (t TaskID) String() string { return "task-" + strconv.FormatUint(uint64(t), 10) }

// TaskState is one task's state in one checkpoint: the content of one
// snapshot file.
type TaskState struct {
	Checkpoint ID
	Task       TaskID
	// Payload is the task's encoded state; its format is the task's business.
	Payload []byte
}

// The snapshot file layout is in the package comment.
const (
	fileMagic   = "WEIRSNAP"
	fileVersion = 1
	// HeaderSize is the size of a snapshot file's header, the bytes before
	// its payload. A task that encodes its payload at buf[HeaderSize:] lets
	// [Frame] turn buf into the file's bytes in place, with no copy of a
	// large payload.
	HeaderSize = 32
	trailer    = 4
	// Overhead is the size of a snapshot file beyond its payload.
	Overhead = HeaderSize + trailer
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C (Castagnoli) of b, the checksum of every file
// in a checkpoint.
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// ErrCorrupt is wrapped by every error about a damaged file: truncated,
// bit-flipped, wrong magic or version, or not matching its _COMPLETED
// marker. Test with errors.Is.
var ErrCorrupt = errors.New("snapshot: corrupt")

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
	return fmt.Sprintf("snapshot: %s is corrupt: %s (the checkpoint cannot be restored; an older one is used if there is one)", p, e.Problem)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// Append appends the snapshot file of s to dst and returns the extended
// slice.
func Append(dst []byte, s TaskState) []byte {
	start := len(dst)
	dst = appendHeader(dst, s.Checkpoint, s.Task, len(s.Payload))
	dst = append(dst, s.Payload...)
	return binary.LittleEndian.AppendUint32(dst, Checksum(dst[start:]))
}

func appendHeader(dst []byte, id ID, task TaskID, n int) []byte {
	dst = append(dst, fileMagic...)
	dst = binary.LittleEndian.AppendUint16(dst, fileVersion)
	dst = binary.LittleEndian.AppendUint16(dst, 0)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(id))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(task))
	return binary.LittleEndian.AppendUint64(dst, uint64(n))
}

// Frame writes the header of the snapshot file of (id, task) into
// buf[:HeaderSize], whose payload is buf[HeaderSize:], and appends the
// checksum: the result is what [Append] would give for that payload. It
// reuses buf when it has room for the 4 checksum bytes. A buf shorter than
// the header is a programming error and panics.
func Frame(buf []byte, id ID, task TaskID) []byte {
	if len(buf) < HeaderSize {
		panic("snapshot: Frame of a buffer without room for the header")
	}
	appendHeader(buf[:0:HeaderSize], id, task, len(buf)-HeaderSize)
	return binary.LittleEndian.AppendUint32(buf, Checksum(buf))
}

// Decode decodes a snapshot file written by [Append] or [Frame]. The
// returned Payload aliases b. Any damage gives a *[CorruptError] naming
// path (which is only used in the message).
func Decode(path string, b []byte) (TaskState, error) {
	bad := func(format string, args ...any) (TaskState, error) {
		return TaskState{}, &CorruptError{Path: path, Problem: fmt.Sprintf(format, args...)}
	}
	if len(b) < Overhead {
		return bad("truncated: %d bytes, a snapshot has at least %d", len(b), Overhead)
	}
	if string(b[:8]) != fileMagic {
		return bad("wrong magic %q, want %q (not a snapshot file)", b[:8], fileMagic)
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != fileVersion {
		return bad("unsupported version %d, want %d", v, fileVersion)
	}
	if r := binary.LittleEndian.Uint16(b[10:]); r != 0 {
		return bad("reserved field is %d, want 0", r)
	}
	n := binary.LittleEndian.Uint64(b[24:])
	if want := uint64(len(b) - Overhead); n != want {
		if n > want {
			return bad("truncated: header says %d payload bytes, file holds %d", n, want)
		}
		return bad("%d trailing bytes after the payload", want-n)
	}
	end := HeaderSize + int(n)
	if got, want := Checksum(b[:end]), binary.LittleEndian.Uint32(b[end:]); got != want {
		return bad("checksum mismatch: computed %08x, stored %08x", got, want)
	}
	return TaskState{
		Checkpoint: ID(binary.LittleEndian.Uint64(b[12:])),
		Task:       TaskID(binary.LittleEndian.Uint32(b[20:])),
		Payload:    b[HeaderSize:end:end],
	}, nil
}
