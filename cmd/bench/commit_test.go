package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
)

// TestInterruptedSuiteRecordsCommit: an interrupted suite (and lecture
// suite) records the source commit in its results as a finished one does;
// it used to ask git on the canceled context and record "".
func TestInterruptedSuiteRecordsCommit(t *testing.T) {
	want := sourceCommit(t.Context())
	require.NotEmpty(t, want, "the tests run in a git checkout, so the commit is known")
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"suite", []string{"suite", "windows", "--quick", "--out", filepath.Join(dir, "suite")}},
		{"lecture", []string{"--out", filepath.Join(dir, "lecture")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			cancel(errSignal)
			code, _, stderr := benchCtx(ctx, tc.args...)
			assert.Equal(t, exitFailed, code, stderr)
			res, err := compare.ReadSuiteResults(filepath.Join(dir, tc.name))
			require.NoError(t, err)
			assert.Equal(t, want, res.Commit, "the interrupted %s's commit", tc.name)
		})
	}
}
