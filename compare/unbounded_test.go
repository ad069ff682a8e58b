package compare

import (
	"cmp"
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// The online check's answer is the reference answer: for every workload it
// can check, following a filled log gives exactly dataflow.Reference's
// results; the others say why not.
func TestOnlineCheckEqualsReference(t *testing.T) {
	checked := 0
	for _, w := range Workloads() {
		t.Run(w.Name, func(t *testing.T) {
			log, tables, err := LoadData(t.Context(), w, DataSpec{Events: 20_000, Seed: 3})
			require.NoError(t, err)
			p, err := w.Pipeline(tables)
			require.NoError(t, err)
			reason := OnlineCheckable(w, p)
			if reason != "" {
				assert.NotEmpty(t, reason)
				return
			}
			checked++
			oc, err := newOnlineCheck(p, datasets.DefaultSkew().Delay.Milliseconds())
			require.NoError(t, err)
			cons, err := log.NewConsumer(onlineConsumer)
			require.NoError(t, err)
			require.NoError(t, oc.follow(t.Context(), p, log, cons, nil))
			ref, err := referenceAnswer(t.Context(), p, log, nil)
			require.NoError(t, err)
			require.NotEmpty(t, ref)
			dataflow.SortResults(oc.final)
			assert.Equal(t, ref, oc.final)
			assert.Zero(t, oc.beyond)
			assert.Zero(t, oc.openWindows(), "a closed log finalises every window")
			for p := range log.Partitions() {
				assert.Equal(t, log.End(p), cons.Position(p), "the check reported what it read")
			}
		})
	}
	assert.GreaterOrEqual(t, checked, 3, "ysb, request-rate and iot-sliding at least")
}

func TestOnlineCheckableReasons(t *testing.T) {
	for name, want := range map[string]string{
		"sessions":     "session",
		"grep":         "stateless",
		"count-window": "count window",
	} {
		w, err := LookupWorkload(name)
		require.NoError(t, err)
		p, err := w.Pipeline(datasetTables(w, DataSpec{}))
		require.NoError(t, err)
		assert.Contains(t, OnlineCheckable(w, p), want, name)
	}
}

// During a paced stream the check finalises windows as the generator
// passes them (not only at the end) and keeps only the few open windows.
func TestOnlineCheckFinalisesAsTheStreamGoes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := LookupWorkload("ysb")
		require.NoError(t, err)
		o := Overrides{Window: time.Second}
		w, err = o.Workload(w)
		require.NoError(t, err)
		d := DataSpec{Rate: 10_000, Seed: 1}
		p, err := w.Pipeline(datasetTables(w, d))
		require.NoError(t, err)
		gen, err := datasets.Lookup(w.Dataset)
		require.NoError(t, err)
		cfg := DataConfig(w, d)
		log, err := newRetainingLog(gen, cfg, datasets.Retention{Consumers: true})
		require.NoError(t, err)
		oc, err := newOnlineCheck(p, datasets.DefaultSkew().Delay.Milliseconds())
		require.NoError(t, err)
		cons, err := log.NewConsumer(onlineConsumer)
		require.NoError(t, err)
		var mu sync.Mutex
		maxOpen, finalBeforeEnd := 0, int64(0)
		done := make(chan error, 1)
		go func() {
			done <- oc.follow(t.Context(), p, log, cons, func() {
				mu.Lock()
				defer mu.Unlock()
				maxOpen = max(maxOpen, oc.openWindows())
				if !log.Closed() {
					finalBeforeEnd = oc.finalWindows
				}
			})
		}()
		require.NoError(t, datasets.Fill(t.Context(), gen, log, cfg, datasets.Pacing{Rate: d.Rate, Unbounded: true, For: 30 * time.Second}))
		require.NoError(t, <-done)
		mu.Lock()
		defer mu.Unlock()
		// 1 s windows, 2 s of disorder: a window is final about 3 s after it
		// opens.
		assert.LessOrEqual(t, maxOpen, 5, "open windows")
		assert.GreaterOrEqual(t, finalBeforeEnd, int64(25), "windows final while the stream ran")
		assert.InDelta(t, 30, oc.finalWindows, 1, "30 s of 1 s windows")
		assert.True(t, log.Released(), "the only consumer's positions let the log release")
	})
}

func unboundedWorkload(t *testing.T, name string, window time.Duration) *Workload {
	t.Helper()
	w, err := LookupWorkload(name)
	require.NoError(t, err)
	if window > 0 {
		o := Overrides{Window: window}
		w, err = o.Workload(w)
		require.NoError(t, err)
	}
	return w
}

// A 30 s stream at 50k events/s on microbatch, in a synctest bubble: the
// log releases behind the run (it holds a few chunks, not the stream), and
// the results match the online exact answer.
func TestRunUnboundedMicrobatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := unboundedWorkload(t, "ysb", time.Second)
		r, err := NewRunner("microbatch", RuntimeFlags{})
		require.NoError(t, err)
		const rate = 50_000
		var (
			mu    sync.Mutex
			lines []string
		)
		rep, err := RunUnbounded(t.Context(), w, r, UnboundedSpec{Data: DataSpec{Rate: rate, Seed: 2}, Duration: 30 * time.Second,
			Retention: 2 * time.Second, ProgressEvery: time.Second}, Options{}, func(s string) {
			mu.Lock()
			defer mu.Unlock()
			if strings.Contains(s, "log holds") {
				lines = append(lines, s)
			}
		})
		require.NoError(t, err)
		assert.True(t, rep.OK(), rep.Verdict())
		assert.Empty(t, rep.NotChecked)
		assert.Equal(t, int64(rate*30), rep.Generated)
		assert.Equal(t, int64(rate*30), rep.Outcome.Events)
		assert.GreaterOrEqual(t, rep.Check.Windows, 30, "30 one-second windows, each of many campaigns")
		assert.False(t, rep.Interrupted)
		// 2 s of records plus, per partition, the chunk being filled and
		// one not yet past the age.
		assert.LessOrEqual(t, rep.HeldMax, int64(rate*2+4*2*65536))
		assert.Less(t, rep.HeldMax, rep.Generated/2)
		assert.GreaterOrEqual(t, len(lines), 25, "a progress line a second")
		assert.True(t, rep.Summary.Reference.OK)
	})
}

// With an age limit far beyond the run, only the consumers' positions can
// release the log: the runtimes report theirs (microbatch at each
// committed batch, recordstream's spouts what they may still read), so the
// log holds a few chunks behind the slower of the runtime and the online
// check, not the stream, and the answer is still exact.
func TestRunUnboundedReleasesBehindTheRuntime(t *testing.T) {
	for _, tc := range []struct {
		runtime string
		flags   RuntimeFlags
	}{
		{"microbatch", RuntimeFlags{}},
		{"recordstream", RuntimeFlags{}},
		{"recordstream", RuntimeFlags{Guarantee: "at-least-once"}},
	} {
		t.Run(tc.runtime+"/"+cmp.Or(tc.flags.Guarantee, "default"), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := unboundedWorkload(t, "ysb", time.Second)
				r, err := NewRunner(tc.runtime, tc.flags)
				require.NoError(t, err)
				const rate = 50_000
				rep, err := RunUnbounded(t.Context(), w, r, UnboundedSpec{Data: DataSpec{Rate: rate, Seed: 3}, Duration: time.Minute,
					Retention: time.Hour}, Options{}, nil)
				require.NoError(t, err)
				assert.True(t, rep.OK(), rep.Verdict())
				assert.Equal(t, int64(rate*60), rep.Generated)
				// Per partition (4): the chunk being filled, the one the
				// slower consumer is in, and one it may lag into (chunks of
				// 65536 rows): 786,432 of the 3,000,000 records.
				assert.LessOrEqual(t, rep.HeldMax, int64(4*3*65536), "the log held %d of %d records: the age rule cannot release within the run, the consumers' positions must", rep.HeldMax, rep.Generated)
			})
		})
	}
}

// With no Duration the stream runs until the context is done, which ends
// it normally: the runtime drains the closed log and the run is checked.
func TestRunUnboundedUntilInterrupted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := unboundedWorkload(t, "ysb", time.Second)
		r, err := NewRunner("recordstream", RuntimeFlags{})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			time.Sleep(5 * time.Second)
			cancel()
		}()
		rep, err := RunUnbounded(ctx, w, r, UnboundedSpec{Data: DataSpec{Rate: 2000, Seed: 1}}, Options{}, nil)
		require.NoError(t, err)
		assert.True(t, rep.Interrupted)
		assert.True(t, rep.OK(), rep.Verdict())
		assert.InDelta(t, 10_000, rep.Generated, 5)
	})
}

// A run of a set Duration that is interrupted stops at once with ctx's
// error (nothing to report).
func TestRunUnboundedInterruptedDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := unboundedWorkload(t, "ysb", 0)
		r, err := NewRunner("recordstream", RuntimeFlags{})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			time.Sleep(2 * time.Second)
			cancel()
		}()
		start := time.Now()
		_, err = RunUnbounded(ctx, w, r, UnboundedSpec{Data: DataSpec{Rate: 1000, Seed: 1}, Duration: time.Hour}, Options{}, nil)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), 3*time.Second)
	})
}

func TestRunUnboundedNotChecked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := unboundedWorkload(t, "grep", 0)
		r, err := NewRunner("recordstream", RuntimeFlags{})
		require.NoError(t, err)
		rep, err := RunUnbounded(t.Context(), w, r, UnboundedSpec{Data: DataSpec{Rate: 1000, Seed: 1}, Duration: 2 * time.Second}, Options{}, nil)
		require.NoError(t, err)
		assert.Contains(t, rep.NotChecked, "stateless")
		assert.False(t, rep.OK())
		assert.Contains(t, rep.Verdict(), "not checked: ")
		assert.False(t, rep.Summary.Reference.OK, "the summary does not say it matches")
		assert.Contains(t, rep.Summary.Warnings, Warning{Message: "not checked: " + rep.NotChecked})
	})
}

func TestRunUnboundedRefusals(t *testing.T) {
	ysb := unboundedWorkload(t, "ysb", 0)
	rs, err := NewRunner("recordstream", RuntimeFlags{})
	require.NoError(t, err)
	ref, err := NewRunner("reference", RuntimeFlags{})
	require.NoError(t, err)
	ok := UnboundedSpec{Data: DataSpec{Rate: 100}, Duration: time.Second}
	for _, tc := range []struct {
		name string
		w    *Workload
		r    Runner
		spec UnboundedSpec
		opts Options
		want string
	}{
		{"no rate", ysb, rs, UnboundedSpec{Duration: time.Second}, Options{}, "is paced"},
		{"events", ysb, rs, UnboundedSpec{Data: DataSpec{Rate: 100, Events: 5}, Duration: time.Second}, Options{}, "not a number of events"},
		{"negative duration", ysb, rs, UnboundedSpec{Data: DataSpec{Rate: 100}, Duration: -1}, Options{}, "must not be negative"},
		{"trace", ysb, rs, ok, Options{Trace: true}, "row per record"},
		{"reference", ysb, ref, ok, Options{}, "batch answer"},
		{"hashtags", unboundedWorkload(t, "hashtag-topn", 0), rs, ok, Options{}, "hashtags cannot stream in bounded memory"},
		{"retention under the message timeout", ysb, rs, UnboundedSpec{Data: DataSpec{Rate: 100}, Duration: time.Second, Retention: 10 * time.Second}, Options{}, "message timeout (30s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RunUnbounded(t.Context(), tc.w, tc.r, tc.spec, tc.opts, nil)
			var ie *InputError
			require.ErrorAs(t, err, &ie)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
