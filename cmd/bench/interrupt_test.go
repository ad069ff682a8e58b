package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// benchCtx runs the command in process on ctx (which stands for the signal:
// signalContext cancels it) and returns its exit code and output.
func benchCtx(ctx context.Context, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestSignalContext: SIGINT and SIGTERM alike cancel the commands' context,
// with the signal as its cause, and the first one gives the signal back its
// default action (a second one kills a process that does not stop).
func TestSignalContext(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		want string
	}{
		{syscall.SIGINT, "interrupt signal received"},
		{syscall.SIGTERM, "terminated signal received"},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			ctx, stop := signalContext(t.Context())
			defer stop()
			require.NoError(t, syscall.Kill(os.Getpid(), tc.sig))
			<-ctx.Done()
			assert.EqualError(t, context.Cause(ctx), tc.want)
			var stderr bytes.Buffer
			assert.Equal(t, exitFailed, interrupted(ctx, &stderr, "bench run", "nothing written"))
			assert.Equal(t, "bench run: interrupted ("+tc.want+"); nothing written\n", stderr.String())
		})
	}
}

// errSignal stands for what signalContext's context gives as its cause.
var errSignal = errors.New("terminated signal received")

// interruptedAfter runs the command in a synctest bubble, where time moves
// only while every goroutine waits, and cancels its context with
// errSignal after d of (fake) time, as a signal would. It returns the exit
// code, stderr and the time from the signal to the command's return.
func interruptedAfter(t *testing.T, d time.Duration, args ...string) (code int, stderr string, took time.Duration) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		defer cancel(nil)
		var at time.Time
		time.AfterFunc(d, func() { at = time.Now(); cancel(errSignal) })
		code, _, stderr = benchCtx(ctx, args...)
		require.False(t, at.IsZero(), "bench %s ended before the signal: exit %d, stderr %s", strings.Join(args, " "), code, stderr)
		took = time.Since(at)
	})
	return code, stderr, took
}

// assertInterrupted checks the one line of an interrupted command: exit 1,
// the command, the cause, what was kept; nothing about a canceled context.
func assertInterrupted(t *testing.T, code int, stderr, want string) {
	t.Helper()
	assert.Equal(t, exitFailed, code, "stderr: %s", stderr)
	assert.Contains(t, stderr, want+"\n")
	assert.Equal(t, 1, strings.Count(stderr, "interrupted"), "one line says so: %s", stderr)
	assert.NotContains(t, stderr, "context canceled")
	assert.NotContains(t, stderr, "panic")
}

// TestInterruptStopsRunWithinASecond: a run stops within a second of the
// signal whatever its flags, exits 1 with the one interrupted line, and an
// exactly-once run leaves no temporary checkpoint directory behind. The
// slow fault waits 10 s a record, so each batch of the windowed bolt waits
// far longer than the test's signal at 2 s.
func TestInterruptStopsRunWithinASecond(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the temporary checkpoint directory goes
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"recordstream slow", []string{"run", "ysb", "--runtime", "recordstream", "--events", "2000", "--slow", "10s"}},
		{"recordstream at-least-once slow", []string{"run", "ysb", "--runtime", "recordstream", "--guarantee", "at-least-once", "--events", "2000", "--slow", "10s"}},
		{"recordstream exactly-once slow", []string{"run", "ysb", "--runtime", "recordstream", "--guarantee", "exactly-once", "--events", "2000", "--slow", "10s"}},
		{"recordstream paced", []string{"run", "ysb", "--runtime", "recordstream", "--rate", "100", "--duration", "1h"}},
		{"reference paced", []string{"run", "ysb", "--runtime", "reference", "--rate", "100", "--duration", "1h"}},
		{"lambda paced", []string{"run", "ysb", "--architecture", "lambda", "--batch-period", "100ms", "--rate", "1000", "--duration", "1h"}},
		{"kappa paced", []string{"run", "ysb", "--architecture", "kappa", "--reprocess-window", "20s", "--reprocess-at", "0.0001", "--rate", "1000", "--duration", "1h"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr, took := interruptedAfter(t, 2*time.Second, tc.args...)
			assertInterrupted(t, code, stderr, "bench run: interrupted (terminated signal received); nothing written")
			assert.Less(t, took, time.Second, "the run stopped %v after the signal", took)
			left, err := filepath.Glob(filepath.Join(tmp, "weir-*"))
			require.NoError(t, err)
			assert.Empty(t, left, "temporary directories left behind")
		})
	}
}

// TestInterruptKeepsWhatFinished: every command interrupted says so in the
// same one line and exits 1; the suite and the lecture suite keep their
// results folder (here with no experiment finished).
func TestInterruptKeepsWhatFinished(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"suite", []string{"suite", "windows", "--quick", "--out", filepath.Join(dir, "suite")}, "bench suite: interrupted (terminated signal received); 0 finished experiments kept in " + filepath.Join(dir, "suite")},
		{"lecture", []string{"--out", filepath.Join(dir, "lecture")}, "bench: interrupted (terminated signal received); 0 finished experiments kept in " + filepath.Join(dir, "lecture")},
		{"check", []string{"check"}, "bench check: interrupted (terminated signal received); the 0 runs done are in the table"},
		{"capacity", []string{"capacity", "ysb", "--runtime", "reference", "--probe-duration", "1s"}, "bench capacity: interrupted (terminated signal received); stopped after 0 probes, printed above"},
		{"run", []string{"run", "ysb", "--runtime", "recordstream"}, "bench run: interrupted (terminated signal received); nothing written"},
		{"gen", []string{"gen", "ysb", "--out", filepath.Join(dir, "gen")}, "bench gen: interrupted (terminated signal received); nothing written"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			cancel(errSignal)
			code, _, stderr := benchCtx(ctx, tc.args...)
			assertInterrupted(t, code, stderr, tc.want)
		})
	}
	for _, sub := range []string{"suite", "lecture"} {
		assert.FileExists(t, filepath.Join(dir, sub, "results.json"), "the %s keeps its results folder", sub)
	}
	assert.NoDirExists(t, filepath.Join(dir, "gen"), "gen leaves nothing behind")
}

// tripCtx is a context that is canceled (with errSignal) by the at-th
// call of its Err method: a signal at a chosen point of a computation that
// looks at its context now and then, wherever that point falls in time.
// at 0 never trips; calls counts the calls.
type tripCtx struct {
	context.Context
	cancel context.CancelCauseFunc
	at     int64
	calls  atomic.Int64
}

func newTripCtx(t *testing.T, at int64) *tripCtx {
	ctx, cancel := context.WithCancelCause(t.Context())
	t.Cleanup(func() { cancel(nil) })
	return &tripCtx{Context: ctx, cancel: cancel, at: at}
}

func (c *tripCtx) Err() error {
	if c.calls.Add(1) == c.at {
		c.cancel(errSignal)
	}
	return c.Context.Err()
}

// TestGenInterrupted: gen interrupted while it generates or while it
// writes exits 1 with the interrupted line and leaves no file behind, not
// even an empty or temporary one; a directory it made is removed, and an
// existing one keeps its files untouched.
func TestGenInterrupted(t *testing.T) {
	args := func(out string) []string {
		return []string{"gen", "ysb", "--events", "30000", "--seed", "2", "--out", out}
	}
	// A full run counts the looks at the context: generating, then writing.
	full := newTripCtx(t, 0)
	code, _, stderr := benchCtx(full, args(filepath.Join(t.TempDir(), "full"))...)
	require.Equal(t, exitOK, code, stderr)
	n := full.calls.Load()
	require.Greater(t, n, int64(8), "gen looks at its context while it generates and while it writes")

	existing := t.TempDir()
	old := filepath.Join(existing, "notes.txt")
	require.NoError(t, os.WriteFile(old, []byte("keep me"), 0o644))
	for _, at := range []int64{2, n / 2, n - 3, n - 1, n} {
		for _, out := range []string{filepath.Join(t.TempDir(), "new"), existing} {
			code, _, stderr := benchCtx(newTripCtx(t, at), args(out)...)
			assertInterrupted(t, code, stderr, "bench gen: interrupted (terminated signal received); nothing written")
			if out == existing {
				entries, err := os.ReadDir(out)
				require.NoError(t, err)
				require.Len(t, entries, 1, "signal at look %d of %d: the directory holds only what it held", at, n)
				b, err := os.ReadFile(old)
				require.NoError(t, err)
				assert.Equal(t, "keep me", string(b))
			} else {
				assert.NoDirExists(t, out, "signal at look %d of %d: the directory gen made is removed", at, n)
			}
		}
	}
}

// TestRunInterruptedWhileChecking: the check against the reference answer
// (seconds on a large run) stops at the signal too, rather than finishing
// and exiting 0.
func TestRunInterruptedWhileChecking(t *testing.T) {
	args := []string{"run", "ysb", "--runtime", "recordstream", "--events", "50000"}
	full := newTripCtx(t, 0)
	code, _, stderr := benchCtx(full, args...)
	require.Equal(t, exitOK, code, stderr)
	n := full.calls.Load()
	require.Greater(t, n, int64(5), "the check looks at the context while it computes the reference answer")
	code, _, stderr = benchCtx(newTripCtx(t, n-1), args...)
	assertInterrupted(t, code, stderr, "bench run: interrupted (terminated signal received); nothing written")
	assert.Contains(t, stderr, "checking against the reference", "the signal came during the check")
}
