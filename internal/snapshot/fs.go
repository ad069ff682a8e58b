package snapshot

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FS is the file system a [Store] writes to: the few operations an atomic
// write and a directory scan need. [OSFS] is the real one, [MemFS] an
// in-memory one, and [FaultFS] wraps either to inject failures.
// Implementations must be safe for concurrent use: a Store writes the
// files of different tasks concurrently.
type FS interface {
	// MkdirAll creates a directory and its parents.
	MkdirAll(dir string) error
	// CreateTemp creates a new file in dir (os.CreateTemp's pattern rules).
	CreateTemp(dir, pattern string) (File, error)
	// Rename renames a file, replacing newpath atomically.
	Rename(oldpath, newpath string) error
	// Remove removes a file.
	Remove(name string) error
	// RemoveAll removes a directory tree; a missing one is not an error.
	RemoveAll(dir string) error
	// ReadFile reads a whole file. The caller owns the returned slice.
	ReadFile(name string) ([]byte, error)
	// ReadDir lists the names in dir, sorted.
	ReadDir(dir string) ([]string, error)
	// SyncDir makes the directory's entries (a rename) durable.
	SyncDir(dir string) error
}

// File is a file being written by [FS.CreateTemp].
type File interface {
	io.Writer
	Name() string
	Sync() error
	Close() error
}

// chmodFile is a [File] whose mode can be set (*os.File).
type chmodFile interface {
	Chmod(mode fs.FileMode) error
}

// OSFS is [FS] on the operating system's files.
type OSFS struct{}

// MkdirAll implements FS.
func (OSFS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

// CreateTemp implements FS.
func (OSFS) CreateTemp(dir, pattern string) (File, error) { return os.CreateTemp(dir, pattern) }

// Rename implements FS.
func (OSFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove implements FS.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// RemoveAll implements FS.
func (OSFS) RemoveAll(dir string) error { return os.RemoveAll(dir) }

// ReadFile implements FS.
func (OSFS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// ReadDir implements FS.
func (OSFS) ReadDir(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name()
	}
	return names, nil
}

// SyncDir implements FS. On a file system that cannot sync a directory
// (the error is fs.ErrInvalid or errors.ErrUnsupported) it returns nil: the
// rename is still atomic, only its durability is the file system's.
func (OSFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, fs.ErrInvalid) || errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}

// WriteFileAtomic writes data to path so that a crash leaves either the old
// file or the complete new one (SN3): it writes a temporary file in the same
// directory, syncs it, renames it over path and syncs the directory. The
// temporary file is removed on failure. Every failure, the directory sync's
// included, is returned, wrapped with the path. The file's mode is 0600
// (os.CreateTemp's): for checkpoints, which only the run reads; files that
// people read go through [WriteFileAtomicPerm].
func WriteFileAtomic(fsys FS, path string, data []byte) error {
	return WriteFileAtomicPerm(fsys, path, data, 0o600)
}

// WriteFileAtomicPerm is [WriteFileAtomic] giving the file mode perm (0644
// for an output that any reader may open, as os.WriteFile(path, data,
// 0o644) would make it under the usual umask). perm is set on the temporary
// file before the rename, so the file never appears with another mode; a
// [File] without a Chmod method (an in-memory one) keeps its own.
func WriteFileAtomicPerm(fsys FS, path string, data []byte, perm fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := fsys.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("snapshot: write %s: %w", path, err)
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		if err != nil {
			if !renamed {
				_ = fsys.Remove(tmp) // best effort; the error that matters is err
			}
			err = fmt.Errorf("snapshot: write %s: %w", path, err)
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if c, ok := f.(chmodFile); ok {
		if err = c.Chmod(perm); err != nil {
			_ = f.Close()
			return err
		}
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = fsys.Rename(tmp, path); err != nil {
		return err
	}
	renamed = true
	return fsys.SyncDir(dir)
}
