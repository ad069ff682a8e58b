package compare

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/snapshot"
)

// TestCheckpointDirBelongsToOneRun: a run restores only its own
// checkpoints (identity.go). After a run into a checkpoint directory, a
// second run into it, of the same workload and data (the same command
// again) or of another workload, is an InputError on
// RuntimeFlags.CheckpointDir naming the checkpoint: at NewRunner, before
// any data is made, and at the runtime's start for a runner built before
// the first run wrote its checkpoints. It used to resume the first run's
// final state and report no results ("lost" every window).
func TestCheckpointDirBelongsToOneRun(t *testing.T) {
	iot, err := LookupWorkload("iot-sliding")
	require.NoError(t, err)
	for _, tc := range []struct {
		runtime string
		flags   RuntimeFlags
		opts    Options
		data    DataSpec
	}{
		{"microbatch", RuntimeFlags{}, Options{}, small},
		// Checkpoints every millisecond of a run slowed to last longer.
		{"recordstream", RuntimeFlags{Guarantee: "exactly-once", CheckpointInterval: time.Millisecond},
			Options{Slow: 20 * time.Microsecond}, DataSpec{Events: 40_000, Seed: 7}},
	} {
		t.Run(tc.runtime, func(t *testing.T) {
			// A short exactly-once run may end before its first checkpoint
			// completes (under load): then there is nothing to refuse, and
			// the first run is tried again in a new directory.
			var dir string
			var second Runner
			for try := 0; ; try++ {
				dir = filepath.Join(t.TempDir(), "checkpoints")
				tc.flags.CheckpointDir = dir
				first, err := NewRunner(tc.runtime, tc.flags)
				require.NoError(t, err, "a new checkpoint directory")
				second, err = NewRunner(tc.runtime, tc.flags) // built before the first run wrote
				require.NoError(t, err)
				rep, err := RunOne(t.Context(), ysb(t), first, tc.data, tc.opts, nil)
				require.NoError(t, err)
				require.True(t, rep.Check.OK(), "the first run: %v", rep.Check)
				chks, err := filepath.Glob(filepath.Join(dir, "chk-*"))
				require.NoError(t, err)
				if len(chks) > 0 {
					break
				}
				require.Less(t, try, 4, "the first run left no checkpoint in 5 tries: nothing to refuse")
			}

			_, err := NewRunner(tc.runtime, tc.flags)
			requireCheckpointDirError(t, err, dir, "NewRunner over the first run's directory")
			assert.ErrorContains(t, err, "holds a checkpoint of another run (")
			assert.ErrorContains(t, err, "workload ysb pipeline ", "the identity the checkpoint records")

			_, err = RunOne(t.Context(), ysb(t), second, tc.data, tc.opts, nil)
			requireCheckpointDirError(t, err, dir, "the same workload and data again")
			assert.ErrorContains(t, err, "another run of the same job")
			var in *InputError
			assert.True(t, errors.As(err, &in), "%v is an InputError (exit status 2)", err)

			_, err = RunOne(t.Context(), iot, second, tc.data, tc.opts, nil)
			requireCheckpointDirError(t, err, dir, "another workload")
			assert.ErrorContains(t, err, "another job")
		})
	}
}

func requireCheckpointDirError(t *testing.T, err error, dir, what string) {
	t.Helper()
	require.ErrorIs(t, err, snapshot.ErrForeign, what)
	fe, ok := errors.AsType[*FieldError](err)
	require.True(t, ok, "%s: %v is a FieldError", what, err)
	assert.Equal(t, "RuntimeFlags.CheckpointDir", fe.Field, what)
	assert.Regexp(t, `\Q`+dir+`\E/chk-\d+/_COMPLETED`, err.Error(), what)
	assert.NotContains(t, err.Error(), "--", "%s names a field, not a flag", what)
}

// TestJobIdentity: the identity a run's checkpoints record tells apart
// workloads, overridden pipelines and inputs, and is the same for the
// same ones.
func TestJobIdentity(t *testing.T) {
	w := ysb(t)
	log, tables, err := LoadData(t.Context(), w, small)
	require.NoError(t, err)
	p, err := w.Pipeline(tables)
	require.NoError(t, err)
	id := jobIdentity(w, p, log, small)
	assert.Equal(t, id, jobIdentity(w, p, log, small), "the same job")
	assert.Contains(t, id, "workload ysb pipeline ")
	assert.Contains(t, id, "data ysb events 5000 seed 7 partitions 4")
	other := small
	other.Seed = 8
	assert.NotEqual(t, id, jobIdentity(w, p, log, other), "another seed")
	wider, err := Overrides{Window: 20 * time.Second}.Workload(w)
	require.NoError(t, err)
	pw, err := wider.Pipeline(tables)
	require.NoError(t, err)
	assert.NotEqual(t, pipelineFingerprint(p), pipelineFingerprint(pw), "an overridden window")
	in := DataSpec{InputDir: t.TempDir()}
	assert.Contains(t, jobIdentity(w, p, log, in), filepath.Join(in.InputDir, datasets.EventsFile))
}
