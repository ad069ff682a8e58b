package snapshot

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The directory and marker layouts are in the package comment.
const (
	markerName = "_COMPLETED"
	// markerHeader is the marker's first line; its number is the marker's
	// version (2: with the writer's identity, SN6).
	markerHeader = "weir checkpoint 2"
	dirPrefix    = "chk-"
)

// DefaultKeep is how many completed checkpoints a [Store] keeps by default:
// two, so that a corrupt newest one leaves an older one to fall back to.
const DefaultKeep = 2

// Config configures a [Store].
type Config struct {
	// Dir is the checkpoint directory. Required.
	Dir string
	// FS is the file system; nil means [OSFS].
	FS FS
	// Keep is how many completed checkpoints to keep; older ones are deleted
	// when a newer one completes. Default [DefaultKeep].
	Keep int
	// Identity is the run writing the store: [Store.Complete] records it in
	// every marker, and [Store.Load] refuses a checkpoint recording another
	// (SN6). The zero value is an identity like any other: a store opened
	// without one restores only checkpoints written without one.
	Identity Identity
}

// Validate reports a configuration the store cannot use.
func (c *Config) Validate() error {
	if c.Dir == "" {
		return errors.New("snapshot: Config.Dir is empty; give a checkpoint directory")
	}
	if c.Keep < 0 {
		return fmt.Errorf("snapshot: Config.Keep is %d; keep at least 1 completed checkpoint (0 means %d)", c.Keep, DefaultKeep)
	}
	return validIdentity(c.Identity)
}

// Store is a checkpoint directory (layout in the package comment).
// WriteTask and WriteEncoded may be called concurrently for different
// tasks; Complete, Abort, Latest and Load by one goroutine at a time (a
// checkpoint coordinator's, a driver's). Store itself holds no mutable
// state: everything is in its [FS].
type Store struct {
	dir      string
	fs       FS
	keep     int
	identity Identity
}

// NewStore returns a store over cfg.Dir, creating the directory.
func NewStore(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.FS == nil {
		cfg.FS = OSFS{}
	}
	if cfg.Keep == 0 {
		cfg.Keep = DefaultKeep
	}
	if err := cfg.FS.MkdirAll(cfg.Dir); err != nil {
		return nil, fmt.Errorf("snapshot: create checkpoint directory: %w", err)
	}
	return &Store{dir: cfg.Dir, fs: cfg.FS, keep: cfg.Keep, identity: cfg.Identity}, nil
}

// Dir returns the checkpoint directory.
func (s *Store) Dir() string { return s.dir }

// CheckpointDir returns the directory of checkpoint id.
func (s *Store) CheckpointDir(id ID) string { return filepath.Join(s.dir, id.String()) }

// TaskPath returns the path of a task's snapshot file in checkpoint id.
func (s *Store) TaskPath(id ID, task TaskID) string {
	return filepath.Join(s.CheckpointDir(id), task.String()+".snap")
}

// TaskFile describes a written snapshot file, as the _COMPLETED marker
// lists it.
type TaskFile struct {
	Task TaskID
	// Size is the file's size in bytes, header and checksum included.
	Size int64
	// CRC is the CRC-32C of the whole file.
	CRC uint32
}

// WriteTask encodes ts and writes it atomically (SN3) to its task file.
func (s *Store) WriteTask(ts TaskState) (TaskFile, error) {
	buf := Append(make([]byte, 0, len(ts.Payload)+Overhead), ts)
	return s.WriteEncoded(ts.Checkpoint, ts.Task, buf)
}

// WriteEncoded writes a snapshot file already encoded by [Append] or [Frame] for
// (id, task): the path for callers that encode on the task's goroutine and
// write on another.
func (s *Store) WriteEncoded(id ID, task TaskID, encoded []byte) (TaskFile, error) {
	if err := s.fs.MkdirAll(s.CheckpointDir(id)); err != nil {
		return TaskFile{}, fmt.Errorf("snapshot: create %s: %w", s.CheckpointDir(id), err)
	}
	if err := WriteFileAtomic(s.fs, s.TaskPath(id, task), encoded); err != nil {
		return TaskFile{}, err
	}
	return TaskFile{Task: task, Size: int64(len(encoded)), CRC: Checksum(encoded)}, nil
}

// Complete makes checkpoint id complete (SN2) by writing its _COMPLETED
// marker listing files and the store's identity (SN6), then deletes what
// is no longer needed: completed checkpoints beyond the newest Keep and
// unfinished ones older than id. A failure to delete is not an error of
// Complete (the checkpoint is complete); it is returned as the second
// value for logging.
func (s *Store) Complete(id ID, files []TaskFile) (pruneErr, err error) {
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b TaskFile) int { return int(a.Task) - int(b.Task) })
	for i := 1; i < len(files); i++ {
		if files[i].Task == files[i-1].Task {
			return nil, fmt.Errorf("snapshot: complete %v: %v listed twice", id, files[i].Task)
		}
	}
	if err := WriteFileAtomic(s.fs, filepath.Join(s.CheckpointDir(id), markerName), encodeMarker(marker{id: id, identity: s.identity, files: files})); err != nil {
		return nil, err
	}
	return s.prune(id), nil
}

// Abort deletes the files of an unfinished checkpoint.
func (s *Store) Abort(id ID) error {
	if err := s.fs.RemoveAll(s.CheckpointDir(id)); err != nil {
		return fmt.Errorf("snapshot: abort %v: %w", id, err)
	}
	return nil
}

// prune deletes completed checkpoints beyond the newest keep and unfinished
// ones older than the newest completed one (done), SN5.
func (s *Store) prune(done ID) error {
	ids, err := s.ids()
	if err != nil {
		return err
	}
	var errs []error
	kept := 0
	for _, id := range ids { // newest first
		if id > done {
			continue // a later checkpoint may be in progress
		}
		if kept < s.keep && s.hasMarker(id) {
			kept++
			continue
		}
		if err := s.fs.RemoveAll(s.CheckpointDir(id)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Store) hasMarker(id ID) bool {
	names, err := s.fs.ReadDir(s.CheckpointDir(id))
	return err == nil && slices.Contains(names, markerName)
}

// ids returns the ids of every chk-<n> directory, newest first.
func (s *Store) ids() ([]ID, error) { return listIDs(s.fs, s.dir) }

// listIDs returns the ids of every chk-<n> directory in dir, newest first.
func listIDs(fsys FS, dir string) ([]ID, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("snapshot: list %s: %w", dir, err)
	}
	var ids []ID
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, dirPrefix)
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(rest, 10, 64)
		if err != nil || v == 0 {
			continue
		}
		ids = append(ids, ID(v))
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids, nil
}

// MaxID returns the largest checkpoint id with a directory in the store,
// complete or not (0 if none): a restarted coordinator numbers its
// checkpoints above it (SN1).
func (s *Store) MaxID() (ID, error) {
	ids, err := s.ids()
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

// Checkpoint is a completed checkpoint read back from a [Store].
type Checkpoint struct {
	ID ID
	// Tasks maps each task to its state payload.
	Tasks map[TaskID][]byte
	// Size is the total size of its task files in bytes.
	Size int64
	// Skipped lists why each newer checkpoint directory could not be used
	// (unfinished, corrupt, missing a file), newest first; each error names
	// the bad path.
	Skipped []error
}

// ErrNoCheckpoint is returned by [Store.Latest] when no complete, valid
// checkpoint exists.
var ErrNoCheckpoint = errors.New("snapshot: no complete checkpoint")

// Latest returns the newest complete checkpoint whose marker and task files
// are all present and valid (SN4). Newer directories that are unfinished or
// damaged are skipped and reported in [Checkpoint.Skipped]. With none usable
// it returns an error wrapping [ErrNoCheckpoint] and every problem found.
// A checkpoint of another run is not skipped: Latest returns its
// *[ForeignError] (SN6), since falling back past it would restore from a
// directory that two runs share.
func (s *Store) Latest() (*Checkpoint, error) {
	ids, err := s.ids()
	if err != nil {
		return nil, err
	}
	var skipped []error
	for _, id := range ids {
		c, err := s.Load(id)
		if errors.Is(err, ErrForeign) {
			return nil, err
		}
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		c.Skipped = skipped
		return c, nil
	}
	return nil, errors.Join(append([]error{fmt.Errorf("%w in %s", ErrNoCheckpoint, s.dir)}, skipped...)...)
}

// Unusable returns the checkpoints that an error of [Store.Latest]
// wrapping [ErrNoCheckpoint] reports as unusable, newest first, each error
// naming its path (nil for any other error): what a caller that starts
// over counts and warns of.
func Unusable(err error) []error {
	if !errors.Is(err, ErrNoCheckpoint) {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return nil
	}
	return j.Unwrap()[1:] // the first is ErrNoCheckpoint's own
}

// ErrIncomplete is wrapped by the error of [Store.Load] for a checkpoint
// with no _COMPLETED marker: it never completed.
var ErrIncomplete = errors.New("snapshot: incomplete")

// Load reads and verifies checkpoint id: its marker, the identity it
// records (the store's, or a *[ForeignError], SN6), and every task file it
// lists (present, the listed size and CRC, a valid snapshot of this id and
// task).
func (s *Store) Load(id ID) (*Checkpoint, error) {
	mpath := filepath.Join(s.CheckpointDir(id), markerName)
	mb, err := s.fs.ReadFile(mpath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no %s marker (unfinished or aborted)", ErrIncomplete, s.CheckpointDir(id), markerName)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: read %s: %w", mpath, err)
	}
	m, err := decodeMarker(mpath, mb)
	if err != nil {
		return nil, err
	}
	if m.id != id {
		return nil, &CorruptError{Path: mpath, Problem: fmt.Sprintf("marker names %v, not %v", m.id, id)}
	}
	if m.identity != s.identity {
		return nil, &ForeignError{Path: mpath, Found: m.identity, Want: s.identity, Known: true}
	}
	c := &Checkpoint{ID: id, Tasks: make(map[TaskID][]byte, len(m.files))}
	for _, f := range m.files {
		p := s.TaskPath(id, f.Task)
		b, err := s.fs.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("snapshot: %v is missing a task file: %w", id, err)
		}
		if int64(len(b)) != f.Size {
			return nil, &CorruptError{Path: p, Problem: fmt.Sprintf("size %d bytes, the marker says %d", len(b), f.Size)}
		}
		if crc := Checksum(b); crc != f.CRC {
			return nil, &CorruptError{Path: p, Problem: fmt.Sprintf("checksum %08x, the marker says %08x", crc, f.CRC)}
		}
		ts, err := Decode(p, b)
		if err != nil {
			return nil, err
		}
		if ts.Checkpoint != id || ts.Task != f.Task {
			return nil, &CorruptError{Path: p, Problem: fmt.Sprintf("holds %v of %v, want %v of %v", ts.Task, ts.Checkpoint, f.Task, id)}
		}
		c.Tasks[f.Task] = ts.Payload
		c.Size += f.Size
	}
	return c, nil
}

// marker is the content of a _COMPLETED file.
type marker struct {
	id       ID
	identity Identity
	files    []TaskFile
}

func encodeMarker(m marker) []byte {
	var b []byte
	b = append(b, markerHeader+"\n"...)
	b = fmt.Appendf(b, "id %d\n", uint64(m.id))
	b = fmt.Appendf(b, "job %s\nrun %s\n", strconv.Quote(m.identity.Job), m.identity.Run)
	b = fmt.Appendf(b, "tasks %d\n", len(m.files))
	for _, f := range m.files {
		b = fmt.Appendf(b, "task %d %d %08x\n", uint32(f.Task), f.Size, f.CRC)
	}
	return fmt.Appendf(b, "crc32c %08x\n", Checksum(b))
}

func decodeMarker(path string, b []byte) (marker, error) {
	bad := func(format string, args ...any) (marker, error) {
		return marker{}, &CorruptError{Path: path, Problem: fmt.Sprintf(format, args...)}
	}
	body, last, ok := cutLastLine(b)
	if !ok {
		return bad("truncated: no checksum line")
	}
	var crc uint32
	if _, err := fmt.Sscanf(last, "crc32c %08x", &crc); err != nil {
		return bad("bad checksum line %q", last)
	}
	if got := Checksum(body); got != crc {
		return bad("checksum mismatch: computed %08x, stored %08x", got, crc)
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, len(body)+1) // a long job line is not an error
	line := func() string {
		if sc.Scan() {
			return sc.Text()
		}
		return ""
	}
	if h := line(); h != markerHeader {
		return bad("header %q, want %q", h, markerHeader)
	}
	var m marker
	var id uint64
	var n int
	if _, err := fmt.Sscanf(line(), "id %d", &id); err != nil {
		return bad("bad id line")
	}
	m.id = ID(id)
	q, ok := strings.CutPrefix(line(), "job ")
	job, err := strconv.Unquote(q)
	if !ok || err != nil {
		return bad("bad job line")
	}
	run, ok := strings.CutPrefix(line(), "run ")
	if !ok || strings.ContainsAny(run, " \t") {
		return bad("bad run line")
	}
	m.identity = Identity{Job: job, Run: run}
	if _, err := fmt.Sscanf(line(), "tasks %d", &n); err != nil || n < 0 || n > len(body) {
		return bad("bad tasks line")
	}
	m.files = make([]TaskFile, n)
	for i := range m.files {
		var t uint32
		if _, err := fmt.Sscanf(line(), "task %d %d %08x", &t, &m.files[i].Size, &m.files[i].CRC); err != nil {
			return bad("bad line for task %d of %d", i+1, n)
		}
		m.files[i].Task = TaskID(t)
	}
	if extra := line(); extra != "" {
		return bad("unexpected line %q", extra)
	}
	return m, nil
}

// cutLastLine splits "body...\nlast\n" into body (with its final newline)
// and last.
func cutLastLine(b []byte) ([]byte, string, bool) {
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return nil, "", false
	}
	i := bytes.LastIndexByte(b[:len(b)-1], '\n')
	if i < 0 {
		return nil, "", false
	}
	return b[:i+1], string(b[i+1 : len(b)-1]), true
}
