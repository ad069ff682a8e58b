package snapshot

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawFS is an FS a test can also write to directly, to damage files.
type rawFS interface {
	FS
	WriteFile(name string, data []byte) error
}

// osRaw is OSFS with a direct write.
type osRaw struct{ OSFS }

func (osRaw) WriteFile(name string, data []byte) error { return os.WriteFile(name, data, 0o644) }

// fileSystems are the file systems every store test runs on.
func fileSystems(t *testing.T) map[string]func() (rawFS, string) {
	return map[string]func() (rawFS, string){
		"os":  func() (rawFS, string) { return osRaw{}, filepath.Join(t.TempDir(), "checkpoints") },
		"mem": func() (rawFS, string) { return NewMemFS(), "/checkpoints" },
	}
}

// writeCheckpoint writes a complete checkpoint with one file per payload.
func writeCheckpoint(t *testing.T, s *Store, id ID, payloads ...string) {
	t.Helper()
	var files []TaskFile
	for i, p := range payloads {
		f, err := s.WriteTask(TaskState{Checkpoint: id, Task: TaskID(i), Payload: []byte(p)})
		require.NoError(t, err)
		files = append(files, f)
	}
	pruneErr, err := s.Complete(id, files)
	require.NoError(t, err)
	require.NoError(t, pruneErr)
}

func newStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), "checkpoints")
	}
	s, err := NewStore(cfg)
	require.NoError(t, err)
	return s
}

func TestStoreLatest(t *testing.T) {
	for name, mk := range fileSystems(t) {
		t.Run(name, func(t *testing.T) {
			fsys, dir := mk()
			s := newStore(t, Config{Dir: dir, FS: fsys, Keep: 2})
			_, err := s.Latest()
			require.ErrorIs(t, err, ErrNoCheckpoint)

			writeCheckpoint(t, s, 1, "a1", "b1")
			writeCheckpoint(t, s, 2, "a2", "b2")
			writeCheckpoint(t, s, 3, "a3", "b3")
			c, err := s.Latest()
			require.NoError(t, err)
			assert.Equal(t, ID(3), c.ID)
			assert.Equal(t, map[TaskID][]byte{0: []byte("a3"), 1: []byte("b3")}, c.Tasks)
			assert.Empty(t, c.Skipped)
			assert.Equal(t, int64(2*(2+Overhead)), c.Size)

			// Keep 2: chk-1 is gone (SN5).
			names, err := fsys.ReadDir(dir)
			require.NoError(t, err)
			assert.Equal(t, []string{"chk-2", "chk-3"}, names, "after chk-3 completed with Keep 2")
			max, err := s.MaxID()
			require.NoError(t, err)
			assert.Equal(t, ID(3), max)
		})
	}
}

// damageCases is the fault matrix every store must survive (SN4): each case
// damages checkpoint 2 of a store holding complete checkpoints 1 and 2
// (tasks 0 and 1), and Latest must fall back to checkpoint 1, reporting
// the damage with an error naming want.
func damageCases() []struct {
	name   string
	damage func(t *testing.T, fsys rawFS, s *Store)
	want   string
} {
	rewrite := func(t *testing.T, fsys rawFS, path string, f func(b []byte) []byte) {
		t.Helper()
		b, err := fsys.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, fsys.WriteFile(path, f(b)))
	}
	// reframe rewrites task 1's file with f applied, recomputes its own
	// checksum and completes checkpoint 2 again, so that the marker matches
	// the damaged file and only Decode's checks can catch it.
	reframe := func(t *testing.T, fsys rawFS, s *Store, f func(b []byte)) {
		t.Helper()
		b, err := fsys.ReadFile(s.TaskPath(2, 1))
		require.NoError(t, err)
		f(b)
		binary.LittleEndian.PutUint32(b[len(b)-4:], Checksum(b[:len(b)-4]))
		f1, err := s.WriteEncoded(2, 1, b)
		require.NoError(t, err)
		f0b, err := fsys.ReadFile(s.TaskPath(2, 0))
		require.NoError(t, err)
		_, err = s.Complete(2, []TaskFile{{Task: 0, Size: int64(len(f0b)), CRC: Checksum(f0b)}, f1})
		require.NoError(t, err)
	}
	marker := func(s *Store) string { return filepath.Join(s.CheckpointDir(2), markerName) }
	return []struct {
		name   string
		damage func(t *testing.T, fsys rawFS, s *Store)
		want   string
	}{
		{"bit flip in a task file", func(t *testing.T, fsys rawFS, s *Store) {
			rewrite(t, fsys, s.TaskPath(2, 1), func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b })
		}, "task-1.snap"},
		{"truncated task file", func(t *testing.T, fsys rawFS, s *Store) {
			rewrite(t, fsys, s.TaskPath(2, 0), func(b []byte) []byte { return b[:len(b)-3] })
		}, "task-0.snap"},
		{"partial task file (a header only)", func(t *testing.T, fsys rawFS, s *Store) {
			rewrite(t, fsys, s.TaskPath(2, 0), func(b []byte) []byte { return b[:HeaderSize] })
		}, "task-0.snap"},
		{"empty task file", func(t *testing.T, fsys rawFS, s *Store) {
			rewrite(t, fsys, s.TaskPath(2, 1), func([]byte) []byte { return nil })
		}, "task-1.snap"},
		{"missing task file", func(t *testing.T, fsys rawFS, s *Store) {
			require.NoError(t, fsys.Remove(s.TaskPath(2, 1)))
		}, "task-1.snap"},
		{"missing marker", func(t *testing.T, fsys rawFS, s *Store) {
			require.NoError(t, fsys.Remove(marker(s)))
		}, "_COMPLETED"},
		{"truncated marker", func(t *testing.T, fsys rawFS, s *Store) {
			rewrite(t, fsys, marker(s), func(b []byte) []byte { return b[:len(b)/2] })
		}, "_COMPLETED"},
		{"corrupt marker", func(t *testing.T, fsys rawFS, s *Store) {
			rewrite(t, fsys, marker(s), func(b []byte) []byte { b[len(markerHeader)+4] ^= 1; return b })
		}, "_COMPLETED"},
		{"marker of a newer version", func(t *testing.T, fsys rawFS, s *Store) {
			rewrite(t, fsys, marker(s), func(b []byte) []byte {
				body := strings.Replace(string(b[:strings.LastIndex(string(b[:len(b)-1]), "\n")+1]), markerHeader, "weir checkpoint 3", 1)
				return []byte(body + "crc32c " + hex8(Checksum([]byte(body))) + "\n")
			})
		}, "_COMPLETED"},
		{"task file of a newer version", func(t *testing.T, fsys rawFS, s *Store) {
			reframe(t, fsys, s, func(b []byte) { binary.LittleEndian.PutUint16(b[8:], fileVersion+1) })
		}, "unsupported version"},
		{"CRC mismatch inside a task file", func(t *testing.T, fsys rawFS, s *Store) {
			// The marker matches the file, but the file's own checksum does not.
			b, err := fsys.ReadFile(s.TaskPath(2, 1))
			require.NoError(t, err)
			b[len(b)-1] ^= 0xff
			f1, err := s.WriteEncoded(2, 1, b)
			require.NoError(t, err)
			f0b, err := fsys.ReadFile(s.TaskPath(2, 0))
			require.NoError(t, err)
			_, err = s.Complete(2, []TaskFile{{Task: 0, Size: int64(len(f0b)), CRC: Checksum(f0b)}, f1})
			require.NoError(t, err)
		}, "checksum mismatch"},
		{"task file swapped with another checkpoint's", func(t *testing.T, fsys rawFS, s *Store) {
			b, err := fsys.ReadFile(s.TaskPath(1, 0))
			require.NoError(t, err)
			require.NoError(t, fsys.WriteFile(s.TaskPath(2, 0), b))
		}, "task-0.snap"},
	}
}

func hex8(v uint32) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 8)
	for i := range b {
		b[7-i] = digits[v>>(4*i)&0xf]
	}
	return string(b)
}

func TestStoreFallsBack(t *testing.T) {
	for fsName, mk := range fileSystems(t) {
		for _, tc := range damageCases() {
			t.Run(fsName+"/"+tc.name, func(t *testing.T) {
				fsys, dir := mk()
				s := newStore(t, Config{Dir: dir, FS: fsys})
				writeCheckpoint(t, s, 1, "a1", "b1")
				writeCheckpoint(t, s, 2, "a2", "b2")
				tc.damage(t, fsys, s)
				c, err := s.Latest()
				require.NoError(t, err)
				assert.Equal(t, ID(1), c.ID, "Latest after damaging chk-2")
				assert.Equal(t, map[TaskID][]byte{0: []byte("a1"), 1: []byte("b1")}, c.Tasks)
				require.Len(t, c.Skipped, 1)
				assert.ErrorContains(t, c.Skipped[0], tc.want)
				assert.ErrorContains(t, c.Skipped[0], "chk-2")
				_, err = s.Load(2)
				assert.Error(t, err, "Load of the damaged chk-2")
			})
		}
	}
	t.Run("nothing usable", func(t *testing.T) {
		s := newStore(t, Config{Keep: 1})
		writeCheckpoint(t, s, 5, "x")
		require.NoError(t, os.Remove(s.TaskPath(5, 0)))
		_, err := s.Latest()
		require.ErrorIs(t, err, ErrNoCheckpoint)
		assert.ErrorContains(t, err, "task-0.snap")
	})
}

// TestStoreFaultFSRead drives the fallback through FaultFS.Read: bit rot
// seen only when reading, the files on disk intact.
func TestStoreFaultFSRead(t *testing.T) {
	fsys := &FaultFS{FS: NewMemFS()}
	s := newStore(t, Config{Dir: "/c", FS: fsys, Keep: 3})
	writeCheckpoint(t, s, 1, "a1")
	writeCheckpoint(t, s, 2, "a2")
	writeCheckpoint(t, s, 3, "a3")
	fsys.Read = func(path string, b []byte) []byte {
		if strings.Contains(path, "chk-3") && strings.HasSuffix(path, ".snap") {
			b[HeaderSize] ^= 0x40
		}
		if strings.Contains(path, "chk-2") && strings.HasSuffix(path, markerName) {
			return b[:len(b)-2]
		}
		return b
	}
	c, err := s.Latest()
	require.NoError(t, err)
	assert.Equal(t, ID(1), c.ID)
	require.Len(t, c.Skipped, 2)
	assert.ErrorContains(t, c.Skipped[0], "chk-3/task-0.snap")
	assert.ErrorContains(t, c.Skipped[1], "chk-2/_COMPLETED")
	assert.ErrorIs(t, c.Skipped[0], ErrCorrupt)
}

func TestStorePrunesUnfinished(t *testing.T) {
	for name, mk := range fileSystems(t) {
		t.Run(name, func(t *testing.T) {
			fsys, dir := mk()
			s := newStore(t, Config{Dir: dir, FS: fsys, Keep: 1})
			writeCheckpoint(t, s, 1, "a")
			_, err := s.WriteTask(TaskState{Checkpoint: 2, Task: 0, Payload: []byte("aborted")})
			require.NoError(t, err)
			_, err = s.WriteTask(TaskState{Checkpoint: 4, Task: 0, Payload: []byte("in progress")})
			require.NoError(t, err)
			writeCheckpoint(t, s, 3, "c")
			names, err := fsys.ReadDir(s.Dir())
			require.NoError(t, err)
			assert.Equal(t, []string{"chk-3", "chk-4"}, names, "after completing chk-3 with Keep 1")

			require.NoError(t, s.Abort(4))
			names, err = fsys.ReadDir(s.Dir())
			require.NoError(t, err)
			assert.Equal(t, []string{"chk-3"}, names)
		})
	}
}

func TestWriteFileAtomicFaults(t *testing.T) {
	for name, mk := range fileSystems(t) {
		for _, op := range []Op{OpCreateTemp, OpWrite, OpSync, OpClose, OpRename, OpSyncDir} {
			t.Run(name+"/"+op.String(), func(t *testing.T) {
				inner, dir := mk()
				require.NoError(t, inner.MkdirAll(dir))
				fsys := &FaultFS{FS: inner, Inject: func(o Op, path string) error {
					if o == op {
						return ErrInjected
					}
					return nil
				}}
				path := filepath.Join(dir, "task-0.snap")
				require.NoError(t, inner.WriteFile(path, []byte("old")))
				err := WriteFileAtomic(fsys, path, []byte("new"))
				require.ErrorIs(t, err, ErrInjected, "WriteFileAtomic with a failing %v", op)
				assert.ErrorContains(t, err, path)
				b, rerr := inner.ReadFile(path)
				require.NoError(t, rerr)
				if op == OpSyncDir {
					assert.Equal(t, "new", string(b), "the rename happened before the failed directory sync")
				} else {
					assert.Equal(t, "old", string(b), "a failed %v left the old file in place", op)
				}
				names, _ := inner.ReadDir(dir)
				for _, n := range names {
					assert.NotContains(t, n, ".tmp-", "temporary file left behind after a failed %v", op)
				}
			})
		}
	}
}

func TestStoreCompleteFailureLeavesCheckpointIncomplete(t *testing.T) {
	fsys := &FaultFS{FS: NewMemFS()}
	s := newStore(t, Config{Dir: "/c", FS: fsys})
	writeCheckpoint(t, s, 1, "a1")
	f, err := s.WriteTask(TaskState{Checkpoint: 2, Task: 0, Payload: []byte("a2")})
	require.NoError(t, err)
	fsys.Inject = func(op Op, path string) error {
		if op == OpRename && strings.HasSuffix(path, markerName) {
			return ErrInjected
		}
		return nil
	}
	_, err = s.Complete(2, []TaskFile{f})
	require.ErrorIs(t, err, ErrInjected)
	c, err := s.Latest()
	require.NoError(t, err)
	assert.Equal(t, ID(1), c.ID)
	require.Len(t, c.Skipped, 1)
	assert.ErrorIs(t, c.Skipped[0], ErrIncomplete)
}

func TestStoreCompleteRejectsDuplicateTasks(t *testing.T) {
	s := newStore(t, Config{FS: NewMemFS(), Dir: "/c"})
	f, err := s.WriteTask(TaskState{Checkpoint: 1, Task: 0, Payload: []byte("x")})
	require.NoError(t, err)
	_, err = s.Complete(1, []TaskFile{f, f})
	assert.ErrorContains(t, err, "listed twice")
}

func TestStoreConfigValidate(t *testing.T) {
	_, err := NewStore(Config{})
	assert.ErrorContains(t, err, "Dir")
	_, err = NewStore(Config{Dir: t.TempDir(), Keep: -1})
	assert.ErrorContains(t, err, "Keep")
	fsys := &FaultFS{FS: NewMemFS(), Inject: func(op Op, _ string) error {
		if op == OpMkdirAll {
			return ErrInjected
		}
		return nil
	}}
	_, err = NewStore(Config{Dir: "/c", FS: fsys})
	assert.ErrorIs(t, err, ErrInjected)
}

func TestMemFS(t *testing.T) {
	var m MemFS // the zero value is usable
	_, err := m.ReadDir("/x")
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, m.MkdirAll("/x/y"))
	require.ErrorIs(t, m.WriteFile("/z/f", nil), os.ErrNotExist, "WriteFile in a missing directory")
	require.NoError(t, WriteFileAtomic(&m, "/x/y/f", []byte("data")))
	b, err := m.ReadFile("/x//y/f")
	require.NoError(t, err)
	assert.Equal(t, "data", string(b))
	b[0] = 'D'
	b, _ = m.ReadFile("/x/y/f")
	assert.Equal(t, "data", string(b), "ReadFile returns a copy")
	names, err := m.ReadDir("/x")
	require.NoError(t, err)
	assert.Equal(t, []string{"y"}, names)
	assert.ErrorIs(t, m.Remove("/x/y/nope"), os.ErrNotExist)
	require.NoError(t, m.RemoveAll("/x"))
	_, err = m.ReadFile("/x/y/f")
	assert.ErrorIs(t, err, os.ErrNotExist)
}
