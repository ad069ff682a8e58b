package snapshot

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteFileAtomicPerm: an output written for people gets the mode asked
// for (0644, what os.WriteFile(..., 0o644) makes under the usual umask),
// also when it replaces a file of another mode; WriteFileAtomic (the
// checkpoints') keeps 0600.
func TestWriteFileAtomicPerm(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	mode := func(path string) os.FileMode {
		st, err := os.Stat(path)
		require.NoError(t, err)
		return st.Mode().Perm()
	}

	out := filepath.Join(dir, "results.json")
	require.NoError(t, WriteFileAtomicPerm(OSFS{}, out, []byte("{}"), 0o644))
	assert.Equal(t, os.FileMode(0o644), mode(out))
	require.NoError(t, os.Chmod(out, 0o600))
	require.NoError(t, WriteFileAtomicPerm(OSFS{}, out, []byte("{}\n"), 0o644))
	assert.Equal(t, os.FileMode(0o644), mode(out), "a replaced output gets the mode asked for")

	plain := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(plain, nil, 0o644))
	assert.Equal(t, mode(plain), mode(out), "the mode os.WriteFile gives")

	ckpt := filepath.Join(dir, "task-0")
	require.NoError(t, WriteFileAtomic(OSFS{}, ckpt, []byte("state")))
	assert.Equal(t, os.FileMode(0o600), mode(ckpt), "a checkpoint stays private to the run")

	// Through a FaultFS without faults, the mode is set too.
	faulty := filepath.Join(dir, "through-faultfs")
	require.NoError(t, WriteFileAtomicPerm(&FaultFS{FS: OSFS{}}, faulty, []byte("x"), 0o644))
	assert.Equal(t, os.FileMode(0o644), mode(faulty))
}
