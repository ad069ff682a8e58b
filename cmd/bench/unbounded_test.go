package main

import (
	"context"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bench run --duration on a streaming runtime is an unbounded stream,
// checked online per window.
func TestRunDurationIsAnUnboundedStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		summary := filepath.Join(t.TempDir(), "s.json")
		code, out, stderr := benchCtx(t.Context(), "run", "ysb", "--runtime", "recordstream", "--rate", "20000", "--duration", "3s", "--window", "1s", "--summary", summary)
		require.Equal(t, exitOK, code, stderr)
		assert.Contains(t, out, "60000 events")
		assert.Contains(t, out, "matches reference: yes")
		assert.Contains(t, out, "(online, per window, exact)")
		assert.Contains(t, out, "unbounded stream ran for its duration: 60000 events generated")
		assert.Contains(t, stderr, "log retention: release below every consumer's retained position, and records ingested more than 40s before the newest")
		assert.FileExists(t, summary)
	})
}

// --duration 0 runs until Ctrl-C, which ends the stream normally: the run
// drains, is checked and reports.
func TestRunDurationZeroUntilInterrupted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		defer cancel(nil)
		time.AfterFunc(4*time.Second, func() { cancel(errSignal) })
		start := time.Now()
		code, out, stderr := benchCtx(ctx, "run", "ysb", "--runtime", "microbatch", "--rate", "5000", "--duration", "0", "--window", "1s")
		require.Equal(t, exitOK, code, stderr)
		assert.Less(t, time.Since(start), 5*time.Second, "stopped within a second of the signal")
		assert.Contains(t, out, "unbounded stream ended by interrupt")
		assert.Contains(t, out, "matches reference: yes")
	})
}

func TestRunDurationRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"retention without duration", []string{"run", "ysb", "--runtime", "recordstream", "--retention", "1m"}, "give --duration"},
		{"negative retention", []string{"run", "ysb", "--runtime", "recordstream", "--rate", "10", "--duration", "1s", "--retention", "-1s"}, "must not be negative"},
		{"until interrupted on the reference", []string{"run", "ysb", "--runtime", "reference", "--rate", "10", "--duration", "0"}, "the reference runtime and the architectures cannot"},
		{"until interrupted without a rate", []string{"run", "ysb", "--runtime", "recordstream", "--duration", "0"}, "give --rate"},
		{"trace", []string{"run", "ysb", "--runtime", "recordstream", "--rate", "10", "--duration", "1s", "--trace", filepath.Join(t.TempDir(), "t.parquet")}, "row per record"},
		{"hashtags", []string{"run", "hashtag-topn", "--runtime", "recordstream", "--rate", "10", "--duration", "1s"}, "hashtags cannot stream in bounded memory"},
		{"retention under the message timeout", []string{"run", "ysb", "--runtime", "recordstream", "--rate", "10", "--duration", "1s", "--retention", "5s"}, "(flag --retention)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := bench(t, tc.args...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
}
