package snapshot

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// MemFS is an in-memory [FS]: a map of file names to contents and a set of
// directories. Sync and SyncDir do nothing, so a store on a MemFS is fast
// (tests that write many checkpoints, where fsync on a real disk would
// dominate) and not durable: its contents live as long as the MemFS.
//
// A file written through [MemFS.CreateTemp] becomes visible when closed.
// Paths are cleaned with filepath.Clean, so "a/b" and "a//b" are one file.
// MemFS is safe for concurrent use; the zero value is an empty file system.
type MemFS struct {
	mu    sync.Mutex
	files map[string][]byte // guarded by mu
	dirs  map[string]bool   // guarded by mu
	seq   int               // guarded by mu; numbers temporary files
}

// NewMemFS returns an empty in-memory file system.
func NewMemFS() *MemFS { return &MemFS{} }

// lazyInit makes the maps of a zero MemFS; m.mu is held.
func (m *MemFS) lazyInit() {
	if m.files == nil {
		m.files, m.dirs = map[string][]byte{}, map[string]bool{}
	}
}

// MkdirAll implements FS.
func (m *MemFS) MkdirAll(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lazyInit()
	for d := filepath.Clean(dir); d != "." && d != "/"; d = filepath.Dir(d) {
		m.dirs[d] = true
	}
	return nil
}

// CreateTemp implements FS. The file exists (empty) from creation and gets
// its contents when closed.
func (m *MemFS) CreateTemp(dir, pattern string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lazyInit()
	dir = filepath.Clean(dir)
	if !m.dirs[dir] {
		return nil, &fs.PathError{Op: "createtemp", Path: dir, Err: fs.ErrNotExist}
	}
	m.seq++
	name := filepath.Join(dir, strings.Replace(pattern, "*", strconv.Itoa(m.seq), 1))
	m.files[name] = nil
	return &memFile{m: m, name: name}, nil
}

type memFile struct {
	m    *MemFS
	name string
	buf  bytes.Buffer
}

func (f *memFile) Write(b []byte) (int, error) { return f.buf.Write(b) }
func (f *memFile) Name() string                { return f.name }
func (f *memFile) Sync() error                 { return nil }
func (f *memFile) Close() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if _, ok := f.m.files[f.name]; ok { // not removed meanwhile
		f.m.files[f.name] = bytes.Clone(f.buf.Bytes())
	}
	return nil
}

// Rename implements FS.
func (m *MemFS) Rename(oldpath, newpath string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	oldpath, newpath = filepath.Clean(oldpath), filepath.Clean(newpath)
	b, ok := m.files[oldpath]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: fs.ErrNotExist}
	}
	if !m.dirs[filepath.Dir(newpath)] {
		return &fs.PathError{Op: "rename", Path: newpath, Err: fs.ErrNotExist}
	}
	delete(m.files, oldpath)
	m.files[newpath] = b
	return nil
}

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	if _, ok := m.files[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.files, name)
	return nil
}

// RemoveAll implements FS.
func (m *MemFS) RemoveAll(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = filepath.Clean(dir)
	delete(m.files, dir)
	for f := range m.files {
		if strings.HasPrefix(f, dir+"/") {
			delete(m.files, f)
		}
	}
	for d := range m.dirs {
		if d == dir || strings.HasPrefix(d, dir+"/") {
			delete(m.dirs, d)
		}
	}
	return nil
}

// ReadFile implements FS; the returned slice is a copy.
func (m *MemFS) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[filepath.Clean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return bytes.Clone(b), nil
}

// WriteFile creates or replaces the file name with a copy of data at once,
// not atomically through a temporary file: tests use it to damage a
// checkpoint as a faulty disk or a careless copy would. Its directory must
// exist.
func (m *MemFS) WriteFile(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lazyInit()
	name = filepath.Clean(name)
	if !m.dirs[filepath.Dir(name)] {
		return &fs.PathError{Op: "write", Path: name, Err: fs.ErrNotExist}
	}
	m.files[name] = bytes.Clone(data)
	return nil
}

// ReadDir implements FS.
func (m *MemFS) ReadDir(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = filepath.Clean(dir)
	if !m.dirs[dir] {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrNotExist}
	}
	var names []string
	for f := range m.files {
		if filepath.Dir(f) == dir {
			names = append(names, filepath.Base(f))
		}
	}
	for d := range m.dirs {
		if filepath.Dir(d) == dir {
			names = append(names, filepath.Base(d))
		}
	}
	slices.Sort(names)
	return names, nil
}

// SyncDir implements FS; it does nothing.
func (m *MemFS) SyncDir(string) error { return nil }
