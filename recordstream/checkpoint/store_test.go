package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultFS wraps OSFS and fails the operations fail selects (pebble's
// vfs/errorfs in small).
type faultFS struct {
	OSFS
	fail func(op, path string) error
}

var errInjected = errors.New("injected fault")

func (f *faultFS) check(op, path string) error {
	if f.fail == nil {
		return nil
	}
	return f.fail(op, path)
}

func (f *faultFS) CreateTemp(dir, pattern string) (File, error) {
	if err := f.check("create", filepath.Join(dir, pattern)); err != nil {
		return nil, err
	}
	file, err := f.OSFS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

func (f *faultFS) Rename(oldpath, newpath string) error {
	if err := f.check("rename", newpath); err != nil {
		return err
	}
	return f.OSFS.Rename(oldpath, newpath)
}

func (f *faultFS) SyncDir(dir string) error {
	if err := f.check("syncdir", dir); err != nil {
		return err
	}
	return f.OSFS.SyncDir(dir)
}

type faultFile struct {
	File
	fs *faultFS
}

func (f *faultFile) Write(b []byte) (int, error) {
	if err := f.fs.check("write", f.Name()); err != nil {
		return 0, err
	}
	return f.File.Write(b)
}

func (f *faultFile) Sync() error {
	if err := f.fs.check("sync", f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}

// writeCheckpoint writes a complete checkpoint with one file per payload.
func writeCheckpoint(t *testing.T, s *Store, id ID, payloads ...string) {
	t.Helper()
	var files []TaskFile
	for i, p := range payloads {
		f, err := s.WriteTask(Snapshot{Checkpoint: id, Task: TaskID(i), Payload: []byte(p)})
		require.NoError(t, err)
		files = append(files, f)
	}
	pruneErr, err := s.Complete(id, files)
	require.NoError(t, err)
	require.NoError(t, pruneErr)
}

func newStore(t *testing.T, cfg StoreConfig) *Store {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), "checkpoints")
	}
	s, err := NewStore(cfg)
	require.NoError(t, err)
	return s
}

func TestStoreLatest(t *testing.T) {
	s := newStore(t, StoreConfig{Keep: 2})
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
	assert.Equal(t, int64(2*(2+SnapshotOverhead)), c.Size)

	// Keep 2: chk-1 is gone.
	_, err = os.Stat(s.CheckpointDir(1))
	assert.True(t, os.IsNotExist(err), "chk-1 kept after chk-3 completed with Keep 2")
	max, err := s.MaxID()
	require.NoError(t, err)
	assert.Equal(t, ID(3), max)
}

func TestStoreFallsBack(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, s *Store)
		want   string // in the skipped error
	}{
		{"bit flip in a task file", func(t *testing.T, s *Store) {
			p := s.TaskPath(2, 1)
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			b[len(b)/2] ^= 0x10
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}, "task-1.snap"},
		{"truncated task file", func(t *testing.T, s *Store) {
			p := s.TaskPath(2, 0)
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, b[:len(b)-3], 0o644))
		}, "task-0.snap"},
		{"missing task file", func(t *testing.T, s *Store) {
			require.NoError(t, os.Remove(s.TaskPath(2, 1)))
		}, "task-1.snap"},
		{"no marker", func(t *testing.T, s *Store) {
			require.NoError(t, os.Remove(filepath.Join(s.CheckpointDir(2), markerName)))
		}, "_COMPLETED"},
		{"corrupt marker", func(t *testing.T, s *Store) {
			p := filepath.Join(s.CheckpointDir(2), markerName)
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			b[len(markerHeader)+4] ^= 1
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}, "_COMPLETED"},
		{"task file swapped with another checkpoint's", func(t *testing.T, s *Store) {
			b, err := os.ReadFile(s.TaskPath(1, 0))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(s.TaskPath(2, 0), b, 0o644))
		}, "task-0.snap"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, StoreConfig{})
			writeCheckpoint(t, s, 1, "a1", "b1")
			writeCheckpoint(t, s, 2, "a2", "b2")
			tc.damage(t, s)
			c, err := s.Latest()
			require.NoError(t, err)
			assert.Equal(t, ID(1), c.ID, "Latest after damaging chk-2")
			assert.Equal(t, []byte("b1"), c.Tasks[1])
			require.Len(t, c.Skipped, 1)
			assert.Contains(t, c.Skipped[0].Error(), tc.want)
			assert.Contains(t, c.Skipped[0].Error(), "chk-2")
		})
	}
	t.Run("nothing usable", func(t *testing.T) {
		s := newStore(t, StoreConfig{Keep: 1})
		writeCheckpoint(t, s, 5, "x")
		require.NoError(t, os.Remove(s.TaskPath(5, 0)))
		_, err := s.Latest()
		require.ErrorIs(t, err, ErrNoCheckpoint)
		assert.Contains(t, err.Error(), "task-0.snap")
	})
}

func TestStorePrunesUnfinished(t *testing.T) {
	s := newStore(t, StoreConfig{Keep: 1})
	writeCheckpoint(t, s, 1, "a")
	_, err := s.WriteTask(Snapshot{Checkpoint: 2, Task: 0, Payload: []byte("aborted")})
	require.NoError(t, err)
	_, err = s.WriteTask(Snapshot{Checkpoint: 4, Task: 0, Payload: []byte("in progress")})
	require.NoError(t, err)
	writeCheckpoint(t, s, 3, "c")
	names, err := OSFS{}.ReadDir(s.Dir())
	require.NoError(t, err)
	assert.Equal(t, []string{"chk-3", "chk-4"}, names, "after completing chk-3 with Keep 1")

	require.NoError(t, s.Abort(4))
	names, err = OSFS{}.ReadDir(s.Dir())
	require.NoError(t, err)
	assert.Equal(t, []string{"chk-3"}, names)
}

func TestWriteFileAtomicFaults(t *testing.T) {
	for _, op := range []string{"create", "write", "sync", "rename", "syncdir"} {
		t.Run(op, func(t *testing.T) {
			fsys := &faultFS{fail: func(o, path string) error {
				if o == op {
					return errInjected
				}
				return nil
			}}
			dir := t.TempDir()
			path := filepath.Join(dir, "task-0.snap")
			require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
			err := WriteFileAtomic(fsys, path, []byte("new"))
			require.ErrorIs(t, err, errInjected)
			assert.Contains(t, err.Error(), path)
			b, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			if op == "syncdir" {
				assert.Equal(t, "new", string(b), "the rename happened before the failed directory sync")
			} else {
				assert.Equal(t, "old", string(b), "a failed %s left the old file in place", op)
			}
			names, _ := OSFS{}.ReadDir(dir)
			for _, n := range names {
				assert.False(t, strings.Contains(n, ".tmp-"), "temporary file %s left behind after a failed %s", n, op)
			}
		})
	}
}

func TestStoreCompleteFailureLeavesCheckpointIncomplete(t *testing.T) {
	fsys := &faultFS{}
	s := newStore(t, StoreConfig{FS: fsys})
	writeCheckpoint(t, s, 1, "a1")
	f, err := s.WriteTask(Snapshot{Checkpoint: 2, Task: 0, Payload: []byte("a2")})
	require.NoError(t, err)
	fsys.fail = func(op, path string) error {
		if op == "rename" && strings.HasSuffix(path, markerName) {
			return errInjected
		}
		return nil
	}
	_, err = s.Complete(2, []TaskFile{f})
	require.ErrorIs(t, err, errInjected)
	c, err := s.Latest()
	require.NoError(t, err)
	assert.Equal(t, ID(1), c.ID)
	assert.ErrorIs(t, c.Skipped[0], ErrIncomplete)
}

func TestStoreConfigValidate(t *testing.T) {
	_, err := NewStore(StoreConfig{})
	assert.ErrorContains(t, err, "Dir")
	_, err = NewStore(StoreConfig{Dir: t.TempDir(), Keep: -1})
	assert.ErrorContains(t, err, "Keep")
}
