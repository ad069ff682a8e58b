package snapshot

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStoreRefusesAnotherRunsCheckpoints pins SN6: a checkpoint records
// the identity of the run that wrote it, and a store of another run
// refuses it, whether the job differs (another workload or input) or only
// the run token (the same command run again), rather than restoring it or
// falling back past it.
func TestStoreRefusesAnotherRunsCheckpoints(t *testing.T) {
	first := Identity{Job: "microbatch ysb seed 1 \"quoted\"\nsecond line", Run: "aaaa"}
	for name, mk := range fileSystems(t) {
		for _, tc := range []struct {
			name string
			id   Identity
			want string
		}{
			{"same job, another run", Identity{Job: first.Job, Run: "bbbb"}, "another run of the same job (run aaaa; this run is bbbb)"},
			{"another job", Identity{Job: "microbatch iot-sliding", Run: "aaaa"}, "another job"},
			{"no identity", Identity{}, "another run"},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				fsys, dir := mk()
				a := newStore(t, Config{Dir: dir, FS: fsys, Identity: first})
				require.NoError(t, a.CheckFresh(), "a new directory is fresh")
				writeCheckpoint(t, a, 1, "a1")
				writeCheckpoint(t, a, 2, "a2")
				c, err := a.Latest()
				require.NoError(t, err, "the writer restores its own checkpoint")
				assert.Equal(t, ID(2), c.ID)

				b := newStore(t, Config{Dir: dir, FS: fsys, Identity: tc.id})
				for what, err := range map[string]error{"CheckFresh": b.CheckFresh(), "Latest": latestErr(b), "Load": loadErr(b, 2)} {
					require.ErrorIs(t, err, ErrForeign, "%s by another run", what)
					assert.NotErrorIs(t, err, ErrNoCheckpoint, "%s: another run's checkpoint is not skipped", what)
					fe, ok := errors.AsType[*ForeignError](err)
					require.True(t, ok, "%s: %v is a *ForeignError", what, err)
					assert.Equal(t, filepath.Join(dir, "chk-2", markerName), fe.Path, "%s names the newest checkpoint's marker", what)
					assert.Equal(t, first, fe.Found, "%s: the identity the marker records", what)
					assert.ErrorContains(t, err, tc.want)
					assert.ErrorContains(t, err, "give it an empty checkpoint directory")
				}
			})
		}
	}
}

func latestErr(s *Store) error {
	_, err := s.Latest()
	return err
}

func loadErr(s *Store, id ID) error {
	_, err := s.Load(id)
	return err
}

// TestLatestStopsAtAForeignCheckpoint: falling back past a damaged
// checkpoint never lands on another run's (SN6 over SN4).
func TestLatestStopsAtAForeignCheckpoint(t *testing.T) {
	fsys := NewMemFS()
	other := newStore(t, Config{Dir: "/c", FS: fsys, Identity: Identity{Job: "other", Run: "1"}})
	writeCheckpoint(t, other, 1, "theirs")
	mine := newStore(t, Config{Dir: "/c", FS: fsys, Identity: Identity{Job: "mine", Run: "2"}})
	writeCheckpoint(t, mine, 2, "mine")
	require.NoError(t, fsys.Remove(mine.TaskPath(2, 0)))
	_, err := mine.Latest()
	require.ErrorIs(t, err, ErrForeign)
	assert.ErrorContains(t, err, "/c/chk-1/_COMPLETED")
}

func TestCheckFresh(t *testing.T) {
	fsys := NewMemFS()
	assert.NoError(t, CheckFresh(fsys, "/missing", Identity{}), "a missing directory")
	require.NoError(t, fsys.MkdirAll("/c/notes"))
	require.NoError(t, fsys.WriteFile("/c/README", []byte("x")))
	assert.NoError(t, CheckFresh(fsys, "/c", Identity{}), "a directory with no chk-<n> in it")

	require.NoError(t, fsys.MkdirAll("/c/chk-4"))
	err := CheckFresh(fsys, "/c", Identity{Job: "j", Run: "r"})
	require.ErrorIs(t, err, ErrForeign, "an unfinished checkpoint of another run")
	assert.ErrorContains(t, err, "/c/chk-4 holds a checkpoint this run did not write")

	s := newStore(t, Config{Dir: "/c", FS: fsys, Identity: Identity{Job: "j", Run: "old"}})
	writeCheckpoint(t, s, 3, "x")
	err = CheckFresh(fsys, "/c", Identity{})
	require.ErrorIs(t, err, ErrForeign)
	assert.ErrorContains(t, err, "/c/chk-3/_COMPLETED holds a checkpoint of another run (j, run old)",
		"the newest checkpoint with a marker is named, with its identity")
}

func TestIdentity(t *testing.T) {
	a, b := NewIdentity("job"), NewIdentity("job")
	assert.Equal(t, "job", a.Job)
	assert.Len(t, a.Run, 16)
	assert.NotEqual(t, a.Run, b.Run, "two runs of one job draw different tokens")
	_, err := NewStore(Config{Dir: "/c", FS: NewMemFS(), Identity: Identity{Run: "a b"}})
	assert.ErrorContains(t, err, "white space")
}
