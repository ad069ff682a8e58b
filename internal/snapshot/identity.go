package snapshot

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// Identity says which run writes a [Store]: every checkpoint's _COMPLETED
// marker records it, and [Store.Load] refuses a checkpoint that records
// another (SN6). Two runs are the same run only when both fields are equal.
type Identity struct {
	// Job says what the run computes and from what: the runtime and its
	// model, the pipeline's fingerprint, the input's identity (dataset,
	// seed, events, partitions, or the input file). One line of text; it is
	// only compared and shown, never parsed.
	Job string
	// Run tells apart runs of the same Job: a random token drawn when the
	// run starts ([NewIdentity]). A run's incarnations after a crash share
	// it; a new process never does.
	Run string
}

// NewIdentity returns the identity of a run of job that starts now: job
// with a new random [Identity.Run] token.
func NewIdentity(job string) Identity {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return Identity{Job: job, Run: hex.EncodeToString(b[:])}
}

func (id Identity) String() string {
	job := id.Job
	if job == "" {
		job = "(no job recorded)"
	}
	if id.Run == "" {
		return job
	}
	return job + ", run " + id.Run
}

// ErrForeign is wrapped by the error about a checkpoint that another run
// wrote ([ForeignError]). Test with errors.Is.
var ErrForeign = errors.New("snapshot: checkpoint of another run")

// ForeignError is a checkpoint that the run opening the store did not
// write: found in the directory before the run started ([CheckFresh]), or
// recording another [Identity] than the store's ([Store.Load]).
type ForeignError struct {
	// Path is the checkpoint directory or marker at fault.
	Path string
	// Found is the identity the checkpoint's marker records; zero when it
	// has no readable marker.
	Found Identity
	// Want is the identity of the run that met it; zero when the caller
	// checked a directory before knowing it.
	Want Identity
	// Known says Found was read from a marker.
	Known bool
}

func (e *ForeignError) Error() string {
	var whose string
	switch {
	case !e.Known:
		whose = "a checkpoint this run did not write (it has no readable marker)"
	case e.Want == (Identity{}):
		whose = fmt.Sprintf("a checkpoint of another run (%v)", e.Found)
	case e.Found.Job == e.Want.Job:
		whose = fmt.Sprintf("a checkpoint of another run of the same job (run %s; this run is %s)", orNone(e.Found.Run), orNone(e.Want.Run))
	default:
		whose = fmt.Sprintf("a checkpoint of another job (%v; this run is %v)", e.Found, e.Want)
	}
	return fmt.Sprintf("snapshot: %s holds %s; a run restores only the checkpoints it wrote itself, "+
		"so give it an empty checkpoint directory, or delete the chk-* directories in %s",
		e.Path, whose, filepath.Dir(trimMarker(e.Path)))
}

// Unwrap makes errors.Is(err, ErrForeign) true.
func (e *ForeignError) Unwrap() error { return ErrForeign }

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// trimMarker returns the checkpoint directory of a marker's path.
func trimMarker(path string) string {
	if filepath.Base(path) == markerName {
		return filepath.Dir(path)
	}
	return path
}

// CheckFresh returns nil when dir holds no checkpoint directory (a missing
// or empty dir, or one with only other files), and otherwise a
// *[ForeignError] naming the newest chk-<n> in it and the identity its
// marker records, if it has a readable one. want is the identity of the
// run asking (zero: not known yet); it only shapes the message. A run
// calls it (or [Store.CheckFresh]) before its first checkpoint (SN6).
func CheckFresh(fsys FS, dir string, want Identity) error {
	if fsys == nil {
		fsys = OSFS{}
	}
	ids, err := listIDs(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	// Name the newest checkpoint with a readable marker, else the newest.
	for _, id := range ids {
		mpath := filepath.Join(dir, id.String(), markerName)
		b, err := fsys.ReadFile(mpath)
		if err != nil {
			continue
		}
		if m, err := decodeMarker(mpath, b); err == nil {
			return &ForeignError{Path: mpath, Found: m.identity, Want: want, Known: true}
		}
	}
	return &ForeignError{Path: filepath.Join(dir, ids[0].String()), Want: want}
}

// CheckFresh is [CheckFresh] on the store's directory with its identity.
func (s *Store) CheckFresh() error { return CheckFresh(s.fs, s.dir, s.identity) }

// Identity returns the identity the store records in every checkpoint.
func (s *Store) Identity() Identity { return s.identity }

// validIdentity reports an identity that cannot be written on one line.
func validIdentity(id Identity) error {
	if strings.ContainsAny(id.Run, " \t\r\n") {
		return fmt.Errorf("snapshot: Config.Identity.Run %q has white space; use a token such as NewIdentity draws", id.Run)
	}
	return nil
}
