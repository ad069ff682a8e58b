package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
)

// TestTortureTinyTrials runs the command itself: three drawn trials, each
// judged under its guarantee's rule, the tally on stdout and a line per
// trial on stderr.
func TestTortureTinyTrials(t *testing.T) {
	code, stdout, stderr := bench(t, "torture", "--trials", "3", "--seed", "1")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "torture (seed 1): 3 trials in ")
	assert.Contains(t, stdout, "; 0 violations")
	for _, g := range compare.TortureGuarantees() {
		assert.Contains(t, stdout, string(g)+" ", "the tally has a row per guarantee")
	}
	for _, line := range []string{"[1] trial 0: at-most-once", "[2] trial 1: at-least-once", "[3] trial 2: exactly-once"} {
		assert.Contains(t, stderr, line)
	}
}

// fakeTrials runs no runtime: trial i returns outcome(i).
func fakeTrials(outcome func(ctx context.Context, t compare.TortureTrial) (*compare.TortureOutcome, error)) runTrialFunc {
	return outcome
}

func tortureWith(ctx context.Context, cfg tortureConfig, run runTrialFunc) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := torture(ctx, cfg, run, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestTortureViolationReproduces(t *testing.T) {
	cfg := tortureConfig{trials: 4, seed: 9, trialTimeout: time.Minute, guarantees: compare.TortureGuarantees()}
	run := fakeTrials(func(_ context.Context, tr compare.TortureTrial) (*compare.TortureOutcome, error) {
		o := &compare.TortureOutcome{Trial: tr, Faults: 2, Restarts: 1}
		if tr.Index == 2 {
			o.Violations = []string{"not exact: 3/4 windows match, lost 1, duplicated 0, mismatched 0"}
		}
		return o, nil
	})
	code, stdout, stderr := tortureWith(t.Context(), cfg, run)
	assert.Equal(t, exitFailed, code, "a violation exits 1")
	assert.Contains(t, stdout, "torture (seed 9): 4 trials in ")
	assert.Contains(t, stdout, "8 faults fired, 4 restarts")
	assert.Contains(t, stdout, "; 1 violations")
	tr := compare.DrawTortureTrial(9, 2, compare.TortureExactlyOnce)
	assert.Contains(t, stdout, "VIOLATION in "+tr.String()+" (rule: exact):\n  not exact: 3/4 windows match")
	assert.Contains(t, stdout, "  reproduce: bench run "+tr.Workload+" --runtime recordstream --events ")
	assert.Contains(t, stderr, "[3] "+tr.String()+": VIOLATION: not exact")
	assert.Contains(t, stderr, "1 of 4 trials broke their guarantee's rule")
}

// TestTortureFailedRunIsAViolation: a run that fails (a runtime error) is
// a violation with the command that reproduces it.
func TestTortureFailedRunIsAViolation(t *testing.T) {
	cfg := tortureConfig{trials: 1, seed: 1, trialTimeout: time.Minute, guarantees: []compare.TortureGuarantee{compare.TortureMicrobatch}}
	run := fakeTrials(func(context.Context, compare.TortureTrial) (*compare.TortureOutcome, error) {
		return nil, os.ErrClosed
	})
	code, stdout, _ := tortureWith(t.Context(), cfg, run)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stdout, "the run failed: file already closed")
	assert.Contains(t, stdout, "reproduce: bench run ")
}

// TestTortureInterrupted: a canceled context (Ctrl-C) stops the loop at
// the running trial, which is not counted; the tally of those before it is
// printed and the exit status is 1.
func TestTortureInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cfg := tortureConfig{trials: 100, seed: 1, trialTimeout: time.Minute, guarantees: compare.TortureGuarantees()}
	ran := 0
	run := fakeTrials(func(ctx context.Context, tr compare.TortureTrial) (*compare.TortureOutcome, error) {
		ran++
		if tr.Index == 2 {
			cancel()
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return &compare.TortureOutcome{Trial: tr, Faults: 1}, nil
	})
	code, stdout, stderr := tortureWith(ctx, cfg, run)
	assert.Equal(t, exitFailed, code)
	assert.Equal(t, 3, ran, "no trial starts after the interrupt")
	assert.Contains(t, stdout, "torture (seed 1): 2 trials in ")
	assert.Contains(t, stdout, "2 faults fired")
	assert.Contains(t, stderr, "interrupted after 2 trials")
	assert.NotContains(t, stdout, "VIOLATION")
}

// TestTortureHung: a trial still running after --trial-timeout is a
// violation (fake time: the bubble's clock runs the timeout at once).
func TestTortureHung(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := tortureConfig{trials: 2, seed: 1, trialTimeout: time.Minute, guarantees: []compare.TortureGuarantee{compare.TortureAtLeastOnce}}
		run := fakeTrials(func(ctx context.Context, tr compare.TortureTrial) (*compare.TortureOutcome, error) {
			if tr.Index == 0 {
				<-ctx.Done() // a run that only a timeout stops
				return nil, ctx.Err()
			}
			return &compare.TortureOutcome{Trial: tr}, nil
		})
		code, stdout, _ := tortureWith(t.Context(), cfg, run)
		assert.Equal(t, exitFailed, code)
		assert.Contains(t, stdout, "2 trials in ")
		assert.Contains(t, stdout, "hung: still running after 1m0s (flag --trial-timeout)")
		assert.Contains(t, stdout, "; 1 violations")
	})
}

// TestTortureDuration: with --duration and no --trials, trials run until
// the time is up (fake time: each trial takes a second of the bubble's
// clock).
func TestTortureDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := tortureConfig{trials: -1, seed: 1, duration: 3500 * time.Millisecond, trialTimeout: time.Minute, guarantees: compare.TortureGuarantees()}
		run := fakeTrials(func(_ context.Context, tr compare.TortureTrial) (*compare.TortureOutcome, error) {
			time.Sleep(time.Second) // the trial's cost, in the bubble's time
			return &compare.TortureOutcome{Trial: tr}, nil
		})
		code, stdout, _ := tortureWith(t.Context(), cfg, run)
		assert.Equal(t, exitOK, code)
		assert.Contains(t, stdout, "torture (seed 1): 4 trials in 4.0s")
	})
}

func TestTortureUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--trials", "0"}, "--trials 0: want at least one trial"},
		{[]string{"--duration", "-1s"}, "--duration -1s must not be negative"},
		{[]string{"--trial-timeout", "0s"}, "--trial-timeout 0s: want a positive duration"},
		{[]string{"--guarantees", "exactly-once,twice"}, `got "twice" (flag --guarantees)`},
		{[]string{"ysb"}, "bench torture: takes no arguments"},
		{[]string{"--turbo"}, "turbo"},
	}
	for _, tc := range tests {
		code, _, stderr := bench(t, append([]string{"torture"}, tc.args...)...)
		assert.Equal(t, exitUsage, code, "bench torture %v", tc.args)
		assert.Contains(t, stderr, tc.want, "bench torture %v", tc.args)
	}
	code, stdout, _ := bench(t, "torture", "-h")
	assert.Equal(t, exitOK, code)
	assert.Empty(t, stdout)
}

// TestReproduceCommand runs the printed bench run command of drawn trials
// and checks, from its summary, that it ran the trial's data, faults and
// configuration.
func TestReproduceCommand(t *testing.T) {
	// One trial of each kind of flag: lost acks, unaligned, microbatch,
	// late data.
	need := []func(compare.TortureTrial) bool{
		func(tr compare.TortureTrial) bool { return tr.Options.DropAcks > 0 && tr.Options.Slow > 0 },
		func(tr compare.TortureTrial) bool { return tr.Flags.Unaligned && tr.Data.Rate > 0 },
		func(tr compare.TortureTrial) bool {
			return tr.Runtime == "microbatch" && tr.Flags.CheckpointInterval > 0
		},
		func(tr compare.TortureTrial) bool { return tr.Data.Skew.Late > 0 },
	}
	var picked []compare.TortureTrial
	for _, f := range need {
		for _, tr := range compare.TortureSchedule(5, 200, compare.TortureGuarantees()) {
			if f(tr) {
				picked = append(picked, tr)
				break
			}
		}
	}
	require.Len(t, picked, len(need), "the schedule has a trial of each kind")
	for _, tr := range picked {
		args := reproduceArgs(tr)
		cmd := reproduceCommand(tr)
		require.True(t, strings.HasPrefix(cmd, "bench run "), cmd)
		summary := filepath.Join(t.TempDir(), "s.json")
		code, stdout, stderr := bench(t, append(args, "--summary", summary)...)
		require.Equal(t, exitOK, code, "%s\nstdout:\n%s\nstderr:\n%s", cmd, stdout, stderr)
		b, err := os.ReadFile(summary)
		require.NoError(t, err)
		var s struct {
			Config compare.RunConfig `json:"config"`
		}
		require.NoError(t, json.Unmarshal(b, &s))
		c := s.Config
		assert.Equal(t, tr.Data.Events, c.Events, cmd)
		assert.Equal(t, tr.Data.Seed, c.Seed, cmd)
		if tr.Data.EventRate > 0 { // else paced: the summary records the rate
			assert.Equal(t, tr.Data.EventRate, c.EventRate, cmd)
		}
		assert.Equal(t, tr.Data.Rate, c.Rate, cmd)
		assert.Equal(t, tr.Data.Partitions, c.Partitions, cmd)
		assert.Equal(t, tr.Options.CrashAfter, c.CrashAfter, cmd)
		assert.Equal(t, int64(tr.Options.Slow), c.SlowNanos, cmd)
		assert.Equal(t, tr.Options.DropAcks, c.DropAcks, cmd)
		// The summary holds the runners' flags only where they report
		// them; the runner's name says which configuration ran.
		r, err := compare.NewRunner(tr.Runtime, tr.Flags)
		require.NoError(t, err)
		assert.Contains(t, stdout, " on "+r.Name()+": ", cmd)
	}
}
