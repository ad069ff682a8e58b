package compare

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOutputFilesReadable: the suite's results (results.json, the CSVs and
// the tidy files) and a run's summary are for any reader: mode 0644, as
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

	summary := filepath.Join(t.TempDir(), "summary.json")
	require.NoError(t, Summary{Workload: "ysb", Runtime: "reference"}.WriteFile(summary))
	st, err := os.Stat(summary)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "mode of the summary")
}
