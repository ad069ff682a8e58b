package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRerunIntoACheckpointDirExitsTwo: a run restores only its own
// checkpoints (snapshot's SN6). The same command run again into the same
// --checkpoint-dir, or another workload's run into it, exits 2 before any
// work, naming the checkpoint and the flag, instead of resuming the first
// run's final state and reporting no results.
func TestRerunIntoACheckpointDirExitsTwo(t *testing.T) {
	for _, rt := range [][]string{
		{"--runtime", "microbatch"},
		{"--runtime", "recordstream", "--guarantee", "exactly-once", "--checkpoint-interval", "1ms", "--slow", "20us"},
	} {
		t.Run(rt[1], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "checkpoints")
			args := append([]string{"run", "ysb", "--events", "40000", "--checkpoint-dir", dir}, rt...)
			code, out, stderr := bench(t, args...)
			require.Equal(t, exitOK, code, stderr)
			require.Contains(t, out, "matches reference: yes", "the first run")
			chks, err := filepath.Glob(filepath.Join(dir, "chk-*"))
			require.NoError(t, err)
			require.NotEmpty(t, chks, "the first run left no checkpoint: nothing to refuse")
			for _, again := range [][]string{args, append([]string{"run", "iot-sliding", "--events", "40000", "--checkpoint-dir", dir}, rt...)} {
				code, out, stderr := bench(t, again...)
				assert.Equal(t, exitUsage, code, "%v: stdout %s, stderr %s", again[:2], out, stderr)
				assert.Empty(t, out, "%v: refused before any run", again[:2])
				assert.Contains(t, stderr, dir+"/chk-")
				assert.Contains(t, stderr, "(flag --checkpoint-dir)")
			}
		})
	}
}
