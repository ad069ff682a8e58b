package compare

import (
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOutputFilesReadable: the suite's results (results.json, the CSVs and
// the tidy files) are for any reader: mode 0644, as
// os.WriteFile(path, data, 0o644) makes them under the usual umask. The
// suite's files were 0600, the mode of the checkpoints' atomic writer.
func TestOutputFilesReadable(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	require.NoError(t, WriteSuiteResults(dir, fakeResults()))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		info, err := e.Info()
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o644), info.Mode().Perm(), "mode of %s", e.Name())
	}
}
