package snapshot

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
)

// Op names an [FS] operation, for [FaultFS.Inject].
type Op uint8

// The operations of [FS] and [File]. The zero Op is invalid.
const (
	OpMkdirAll Op = iota + 1
	OpCreateTemp
	OpWrite // File.Write
	OpSync  // File.Sync
	OpClose // File.Close
	OpRename
	OpRemove
	OpRemoveAll
	OpReadFile
	OpReadDir
	OpSyncDir
)

var opNames = [...]string{"invalid", "mkdirall", "createtemp", "write", "sync", "close", "rename", "remove",
	"removeall", "readfile", "readdir", "syncdir"}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "op(" + strconv.Itoa(int(o)) + ")"
}

// ErrInjected is a ready-made error for [FaultFS.Inject] to return.
var ErrInjected = errors.New("snapshot: injected fault")

// FaultFS wraps an [FS] and injects failures and damage into it, so tests
// can drive a [Store] through every way a disk write or read goes wrong
// (pebble's vfs/errorfs in small). The zero FaultFS is [OSFS] without
// faults.
//
// Its hooks are called from every goroutine that uses the file system, so
// they must be safe for concurrent use. Set them before the FaultFS is
// shared, or guard them yourself.
type FaultFS struct {
	// FS is the wrapped file system; nil means OSFS.
	FS FS
	// Inject, if set, is called before each operation with the path it
	// works on (the new path of a rename, the file of a File method, the
	// pattern joined to the directory for CreateTemp). A non-nil error
	// fails the operation, which is not performed.
	Inject func(op Op, path string) error
	// Read, if set, may change what ReadFile returns: it gets the path and
	// the file's contents, which it owns, and returns the bytes to give the
	// reader (say, with a bit flipped or the tail cut off, as bit rot or a
	// lost write would leave them).
	Read func(path string, b []byte) []byte
}

func (f *FaultFS) fs() FS {
	if f.FS == nil {
		return OSFS{}
	}
	return f.FS
}

func (f *FaultFS) inject(op Op, path string) error {
	if f.Inject == nil {
		return nil
	}
	return f.Inject(op, path)
}

// MkdirAll implements FS.
func (f *FaultFS) MkdirAll(dir string) error {
	if err := f.inject(OpMkdirAll, dir); err != nil {
		return err
	}
	return f.fs().MkdirAll(dir)
}

// CreateTemp implements FS.
func (f *FaultFS) CreateTemp(dir, pattern string) (File, error) {
	if err := f.inject(OpCreateTemp, filepath.Join(dir, pattern)); err != nil {
		return nil, err
	}
	file, err := f.fs().CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

// Rename implements FS.
func (f *FaultFS) Rename(oldpath, newpath string) error {
	if err := f.inject(OpRename, newpath); err != nil {
		return err
	}
	return f.fs().Rename(oldpath, newpath)
}

// Remove implements FS.
func (f *FaultFS) Remove(name string) error {
	if err := f.inject(OpRemove, name); err != nil {
		return err
	}
	return f.fs().Remove(name)
}

// RemoveAll implements FS.
func (f *FaultFS) RemoveAll(dir string) error {
	if err := f.inject(OpRemoveAll, dir); err != nil {
		return err
	}
	return f.fs().RemoveAll(dir)
}

// ReadFile implements FS.
func (f *FaultFS) ReadFile(name string) ([]byte, error) {
	if err := f.inject(OpReadFile, name); err != nil {
		return nil, err
	}
	b, err := f.fs().ReadFile(name)
	if err != nil || f.Read == nil {
		return b, err
	}
	return f.Read(name, b), nil
}

// ReadDir implements FS.
func (f *FaultFS) ReadDir(dir string) ([]string, error) {
	if err := f.inject(OpReadDir, dir); err != nil {
		return nil, err
	}
	return f.fs().ReadDir(dir)
}

// SyncDir implements FS.
func (f *FaultFS) SyncDir(dir string) error {
	if err := f.inject(OpSyncDir, dir); err != nil {
		return err
	}
	return f.fs().SyncDir(dir)
}

type faultFile struct {
	File
	fs *FaultFS
}

// Chmod sets the wrapped file's mode when it can be set (see
// [WriteFileAtomicPerm]); it injects no fault.
func (f *faultFile) Chmod(mode fs.FileMode) error {
	if c, ok := f.File.(chmodFile); ok {
		return c.Chmod(mode)
	}
	return nil
}

func (f *faultFile) Write(b []byte) (int, error) {
	if err := f.fs.inject(OpWrite, f.Name()); err != nil {
		return 0, err
	}
	return f.File.Write(b)
}

func (f *faultFile) Sync() error {
	if err := f.fs.inject(OpSync, f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) Close() error {
	if err := f.fs.inject(OpClose, f.Name()); err != nil {
		_ = f.File.Close() // release it; the injected failure is the result
		return err
	}
	return f.File.Close()
}
