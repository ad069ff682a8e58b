package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRerunIntoACheckpointDirExitsTwo: a run restores only its own
// checkpoints (snapshot's SN6). The same command run again into the same
// --checkpoint-dir, another workload's run into it, or a run on the other
// runtime's checkpointing mode, exits 2 before any work, naming the
// checkpoint and the flag, instead of resuming the first run's final state
// and reporting no results ("lost 100"). The first run is microbatch's,
// which checkpoints every batch, so the directory surely holds one.
func TestRerunIntoACheckpointDirExitsTwo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "checkpoints")
	args := []string{"run", "ysb", "--events", "5000", "--checkpoint-dir", dir, "--runtime", "microbatch"}
	code, out, stderr := bench(t, args...)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "matches reference: yes", "the first run")
	chks, err := filepath.Glob(filepath.Join(dir, "chk-*"))
	require.NoError(t, err)
	require.NotEmpty(t, chks, "the first run left no checkpoint: nothing to refuse")
	for _, again := range [][]string{
		args,
		{"run", "iot-sliding", "--events", "5000", "--checkpoint-dir", dir, "--runtime", "microbatch"},
		{"run", "ysb", "--events", "5000", "--checkpoint-dir", dir, "--runtime", "recordstream", "--guarantee", "exactly-once"},
	} {
		code, out, stderr := bench(t, again...)
		assert.Equal(t, exitUsage, code, "%v: stdout %s, stderr %s", again, out, stderr)
		assert.Empty(t, out, "%v: refused before any run", again)
		assert.Contains(t, stderr, dir+"/chk-")
		assert.Contains(t, stderr, "(flag --checkpoint-dir)")
	}
}
