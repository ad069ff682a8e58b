package handloop_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/handloop"
)

// fakeAnswer is a loop's answer given as results.
type fakeAnswer []dataflow.Result

func (a fakeAnswer) Results() []dataflow.Result { return append([]dataflow.Result(nil), a...) }
func (a fakeAnswer) Len() int                   { return len(a) }

// fakeInput is a tiny real log with a made-up reference answer and a loop
// that takes loopCost of clk's time per run and answers ans.
func fakeInput(t *testing.T, clk *clock.Manual, loopCost time.Duration, ans fakeAnswer) *handloop.Input {
	t.Helper()
	w, err := compare.LookupWorkload("ysb")
	require.NoError(t, err)
	log, tables, err := compare.LoadData(t.Context(), w, compare.DataSpec{Events: 1000, Seed: 1})
	require.NoError(t, err)
	ref := fakeAnswer{{Key: "a", Value: dataflow.Int(1)}, {Key: "b", Value: dataflow.Int(2)}}
	loop := handloop.Loop{Workload: "ysb", Dataset: "ysb", Run: func(*datasets.Log, map[string]*dataflow.Table) (handloop.Answer, error) {
		clk.Advance(loopCost)
		return ans, nil
	}}
	return &handloop.Input{Loop: loop, Log: log, Tables: tables, Reference: ref}
}

// timedConfig is a configuration whose runs take costs[i] of clk's time
// (the last cost repeats), read events records and check as check says.
func timedConfig(label string, clk *clock.Manual, costs []time.Duration, events int64, runs *int, check func(context.Context) error) handloop.Config {
	return handloop.Config{Label: label, Runtime: label, Run: func(context.Context) (handloop.Run, error) {
		clk.Advance(costs[min(*runs, len(costs)-1)])
		*runs++
		return handloop.Run{Events: events, Check: check}, nil
	}}
}

func ok(context.Context) error { return nil }

func TestMeasureFiguresAndStatuses(t *testing.T) {
	clk := clock.NewManual(time.Unix(0, 0))
	in := fakeInput(t, clk, 10*time.Millisecond, fakeAnswer{{Key: "b", Value: dataflow.Int(2)}, {Key: "a", Value: dataflow.Int(1)}})
	n := in.Log.Len()
	var fastRuns, slowRuns, refRuns, refusedRuns, wrongRuns, shortRuns, uncheckedRuns int
	sec := time.Second
	cs := []handloop.Config{
		timedConfig("fast", clk, []time.Duration{sec, sec / 2, sec / 4}, n, &fastRuns, ok),
		timedConfig("slow", clk, []time.Duration{4 * sec}, n, &slowRuns, ok),
		timedConfig("reference", clk, []time.Duration{sec / 10}, n, &refRuns, ok),
		{Label: "refused", Run: func(context.Context) (handloop.Run, error) {
			refusedRuns++
			return handloop.Run{}, fmt.Errorf("wrapped: %w", &dataflow.UnsupportedError{Model: "m", Reason: "no count windows"})
		}},
		timedConfig("wrong", clk, []time.Duration{sec / 100}, n, &wrongRuns, func(context.Context) error { return errors.New("1 window differs") }),
		timedConfig("short", clk, []time.Duration{sec / 100}, n-1, &shortRuns, ok),
		timedConfig("unchecked", clk, []time.Duration{sec / 100}, n, &uncheckedRuns, nil),
	}
	cs[2].Reference = true
	// Each run's CPU time is twice its wall time: two cores.
	var cpu time.Duration
	last := clk.Now()
	cpuNow := func() (time.Duration, error) {
		now := clk.Now()
		cpu += 2 * now.Sub(last)
		last = now
		return cpu, nil
	}
	var said []string
	row, err := handloop.Measure(t.Context(), in, cs, handloop.Options{Reps: 3, MinLoop: 35 * time.Millisecond, Clock: clk, CPU: cpuNow,
		Progress: func(s string) { said = append(said, s) }})
	require.NoError(t, err)

	assert.Equal(t, n, row.Events)
	assert.EqualValues(t, 2, row.Results)
	// The loop runs 4 times (40 ms ≥ 35 ms) per repetition.
	perLoop := float64(n) / 0.010
	assert.InDelta(t, perLoop, row.Loop.Median, perLoop*1e-9)
	assert.Equal(t, 3, row.Loop.N)
	assert.InDelta(t, 2, row.LoopCores, 1e-9)

	byLabel := map[string]handloop.Cell{}
	for _, c := range row.Cells {
		byLabel[c.Label] = c
	}
	fast := byLabel["fast"]
	require.Equal(t, handloop.StatusOK, fast.Status, fast.Reason)
	assert.Equal(t, handloop.Stat{Median: float64(n) / 0.5, Min: float64(n) / 1, Max: float64(n) / 0.25, N: 3}, fast.Rate)
	assert.InDelta(t, 2, fast.Cores, 1e-9)
	assert.Equal(t, 3, fastRuns)
	assert.Equal(t, handloop.StatusOK, byLabel["slow"].Status)
	assert.Equal(t, handloop.StatusOK, byLabel["reference"].Status)

	refused := byLabel["refused"]
	assert.Equal(t, handloop.StatusRefused, refused.Status)
	assert.Contains(t, refused.Reason, "m cannot express this pipeline: no count windows")
	assert.Zero(t, refused.Rate)
	assert.Equal(t, 1, refusedRuns, "a refused configuration is not run again")

	for label, runs := range map[string]int{"wrong": wrongRuns, "short": shortRuns, "unchecked": uncheckedRuns} {
		c := byLabel[label]
		assert.Equal(t, handloop.StatusFailed, c.Status, label)
		assert.Zero(t, c.Rate, "%s: a failed configuration has no figure", label)
		assert.Equal(t, 1, runs, "%s: a failed configuration is not run again", label)
	}
	assert.Contains(t, byLabel["wrong"].Reason, "does not match the reference: 1 window differs")
	assert.Contains(t, byLabel["short"].Reason, "read 999 of the log's 1000 events")
	assert.Contains(t, byLabel["unchecked"].Reason, "cannot be checked")

	// The reference is measured but is neither the best nor the slowest.
	assert.Equal(t, "fast", row.Cells[row.Best()].Label)
	assert.Equal(t, "slow", row.Cells[row.Slowest()].Label)
	assert.InDelta(t, fast.Rate.Median/row.Loop.Median, row.BestOverLoop(), 1e-12)
	assert.Contains(t, said, "ysb: repetition 2 of 3: fast")
}

// TestMeasureTimesTimedAndChecksRun gives configurations a Timed run:
// Run's answer is checked once, untimed; the figures are Timed's; a
// configuration whose Run fails or does not match is never timed; a Timed
// run that reads less than the log fails its cell.
func TestMeasureTimesTimedAndChecksRun(t *testing.T) {
	clk := clock.NewManual(time.Unix(0, 0))
	in := fakeInput(t, clk, time.Millisecond, fakeAnswer{{Key: "a", Value: dataflow.Int(1)}, {Key: "b", Value: dataflow.Int(2)}})
	n := in.Log.Len()
	var runs, timed, wrongRuns, wrongTimed, shortRuns, shortTimed int
	sec := time.Second
	withTimed := func(c handloop.Config, cost time.Duration, events int64, count *int) handloop.Config {
		c.Sink = "counting"
		c.Timed = func(context.Context) (handloop.Run, error) {
			clk.Advance(cost)
			*count++
			return handloop.Run{Events: events}, nil // no Check: a counting sink keeps nothing to check
		}
		return c
	}
	cs := []handloop.Config{
		withTimed(timedConfig("counted", clk, []time.Duration{4 * sec}, n, &runs, ok), sec, n, &timed),
		withTimed(timedConfig("wrong", clk, []time.Duration{sec}, n, &wrongRuns, func(context.Context) error { return errors.New("1 window differs") }), sec, n, &wrongTimed),
		withTimed(timedConfig("short", clk, []time.Duration{sec}, n, &shortRuns, ok), sec, n-1, &shortTimed),
		timedConfig("kept", clk, []time.Duration{2 * sec}, n, new(int), ok),
	}
	row, err := handloop.Measure(t.Context(), in, cs, handloop.Options{Reps: 3, Clock: clk, CPU: func() (time.Duration, error) { return 0, errors.New("no getrusage") }})
	require.NoError(t, err)
	counted := row.Cells[0]
	require.Equal(t, handloop.StatusOK, counted.Status, counted.Reason)
	assert.Equal(t, handloop.Stat{Median: float64(n), Min: float64(n), Max: float64(n), N: 3}, counted.Rate, "the figures are the 1 s Timed runs', not the 4 s checked run's")
	assert.Equal(t, 1, runs, "Run runs once, for the check")
	assert.Equal(t, 3, timed)
	assert.Equal(t, "counting", counted.Sink)

	assert.Equal(t, handloop.StatusFailed, row.Cells[1].Status)
	assert.Contains(t, row.Cells[1].Reason, "does not match the reference: 1 window differs")
	assert.Zero(t, wrongTimed, "a configuration whose answer is wrong is not timed")
	assert.Equal(t, handloop.StatusFailed, row.Cells[2].Status)
	assert.Contains(t, row.Cells[2].Reason, "read 999 of the log's 1000 events")
	assert.Equal(t, 1, shortTimed, "the short timed run fails its cell and is not repeated")

	kept := row.Cells[3]
	assert.Equal(t, handloop.StatusOK, kept.Status)
	assert.Equal(t, "kept", kept.Sink, "without Timed the sink is Run's")
	assert.InDelta(t, float64(n)/2, kept.Rate.Median, 1e-9)
}

func TestMeasureOrderInterleaves(t *testing.T) {
	clk := clock.NewManual(time.Unix(0, 0))
	var order []string
	in := fakeInput(t, clk, time.Millisecond, fakeAnswer{{Key: "a", Value: dataflow.Int(1)}, {Key: "b", Value: dataflow.Int(2)}})
	in.Loop.Run = func(*datasets.Log, map[string]*dataflow.Table) (handloop.Answer, error) {
		clk.Advance(time.Millisecond)
		order = append(order, "loop")
		return fakeAnswer(in.Reference), nil
	}
	mk := func(label string) handloop.Config {
		return handloop.Config{Label: label, Run: func(context.Context) (handloop.Run, error) {
			clk.Advance(time.Millisecond)
			order = append(order, label)
			return handloop.Run{Events: in.Log.Len(), Check: ok}, nil
		}}
	}
	_, err := handloop.Measure(t.Context(), in, []handloop.Config{mk("a"), mk("b")}, handloop.Options{Reps: 2, Clock: clk, CPU: func() (time.Duration, error) { return 0, errors.New("no getrusage") }})
	require.NoError(t, err)
	assert.Equal(t, []string{"loop", "a", "b", "loop", "a", "b"}, order, "each repetition times the loop, then every configuration, in order")
}

func TestMeasureNoCoresWithoutCPUTime(t *testing.T) {
	clk := clock.NewManual(time.Unix(0, 0))
	in := fakeInput(t, clk, time.Millisecond, fakeAnswer{{Key: "a", Value: dataflow.Int(1)}, {Key: "b", Value: dataflow.Int(2)}})
	var runs int
	row, err := handloop.Measure(t.Context(), in, []handloop.Config{timedConfig("x", clk, []time.Duration{time.Second}, in.Log.Len(), &runs, ok)},
		handloop.Options{Reps: 1, Clock: clk, CPU: func() (time.Duration, error) { return 0, errors.New("no getrusage") }})
	require.NoError(t, err)
	assert.Zero(t, row.LoopCores)
	assert.Zero(t, row.Cells[0].Cores)
	assert.Positive(t, row.Cells[0].Rate.Median)
}

func TestMeasureRejectsAWrongLoop(t *testing.T) {
	clk := clock.NewManual(time.Unix(0, 0))
	in := fakeInput(t, clk, time.Millisecond, fakeAnswer{{Key: "a", Value: dataflow.Int(1)}, {Key: "b", Value: dataflow.Int(3)}})
	_, err := handloop.Measure(t.Context(), in, nil, handloop.Options{Reps: 1, Clock: clk})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "result 1 of the hand loop is")

	in = fakeInput(t, clk, time.Millisecond, fakeAnswer{{Key: "a", Value: dataflow.Int(1)}})
	_, err = handloop.Measure(t.Context(), in, nil, handloop.Options{Reps: 1, Clock: clk})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the hand loop gave 1 results, the reference 2")
}

// TestMeasureStopsOnCancel cancels the context inside a configuration's
// run: Measure returns the context's error at once and runs nothing more.
func TestMeasureStopsOnCancel(t *testing.T) {
	clk := clock.NewManual(time.Unix(0, 0))
	in := fakeInput(t, clk, time.Millisecond, fakeAnswer{{Key: "a", Value: dataflow.Int(1)}, {Key: "b", Value: dataflow.Int(2)}})
	ctx, cancel := context.WithCancel(t.Context())
	var after int
	cs := []handloop.Config{
		{Label: "cancels", Run: func(ctx context.Context) (handloop.Run, error) {
			cancel()
			return handloop.Run{}, ctx.Err()
		}},
		{Label: "after", Run: func(context.Context) (handloop.Run, error) {
			after++
			return handloop.Run{Events: in.Log.Len(), Check: ok}, nil
		}},
	}
	_, err := handloop.Measure(ctx, in, cs, handloop.Options{Reps: 3, Clock: clk})
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, after)
}

func TestRowWithoutRuntimes(t *testing.T) {
	row := handloop.Row{Loop: handloop.Stat{Median: 10}, Cells: []handloop.Cell{
		{Label: "reference", Reference: true, Status: handloop.StatusOK, Rate: handloop.Stat{Median: 5}},
		{Label: "x", Status: handloop.StatusRefused},
	}}
	assert.Equal(t, -1, row.Best())
	assert.Equal(t, -1, row.Slowest())
	assert.True(t, math.IsNaN(row.BestOverLoop()))
}
