package handloop

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
)

// Input is one workload's pre-filled log, its lookup tables and its
// reference answer: what the hand loop and every configuration measured
// against it read (HL2). Whoever builds it (compare's perf harness) fills
// the log as a run's input is filled.
type Input struct {
	// Loop is the workload's hand loop ([Lookup]).
	Loop Loop
	// Log is the closed log every run reads.
	Log *datasets.Log
	// Tables are the dataset's lookup tables.
	Tables map[string]*dataflow.Table
	// Reference is [dataflow.Reference]'s answer on Log, sorted
	// ([dataflow.SortResults]).
	Reference []dataflow.Result
}

// RunLoop runs the hand loop once over the input and checks its answer's
// size (CheckLoop compares it in full): the timed part of a loop's
// measurement.
func (in *Input) RunLoop() (Answer, error) {
	ans, err := in.Loop.Run(in.Log, in.Tables)
	if err == nil && ans.Len() != len(in.Reference) {
		err = fmt.Errorf("handloop: %s: the hand loop gave %d results, the reference %d", in.Loop.Workload, ans.Len(), len(in.Reference))
	}
	return ans, err
}

// CheckLoop compares the loop's answer with the reference, result for
// result (HL1); the first difference is the error.
func (in *Input) CheckLoop(ans Answer) error {
	got := ans.Results()
	dataflow.SortResults(got)
	if len(got) != len(in.Reference) {
		return fmt.Errorf("handloop: %s: the hand loop gave %d results, the reference %d", in.Loop.Workload, len(got), len(in.Reference))
	}
	for i := range got {
		if dataflow.CompareResults(got[i], in.Reference[i]) != 0 {
			return fmt.Errorf("handloop: %s: result %d of the hand loop is %v, the reference's %v", in.Loop.Workload, i, got[i], in.Reference[i])
		}
	}
	return nil
}

// Config is one runtime configuration measured against a hand loop.
type Config struct {
	// Label names the configuration in tables and benchmark names: the
	// runner's name with '/' as '-' ("microbatch-dstream").
	Label string
	// Runtime is the runner's name ("microbatch/dstream").
	Runtime string
	// Reference marks the batch evaluator (dataflow.Reference as a
	// runtime): measured, but not a streaming runtime, so never a row's
	// best or slowest.
	Reference bool
	// Run runs the configuration once over the input: the timed part
	// unless Timed is set. An error that is (errors.As) a
	// *[dataflow.UnsupportedError] is the model's refusal of the
	// workload; any other error fails the cell.
	Run func(ctx context.Context) (Run, error)
	// Timed, if not nil, is what the repetitions time instead of Run: the
	// same configuration with a sink that counts its results rather than
	// keeping and sorting them (a blackhole, as Nexmark's throughput runs
	// have; the hand loop keeps its answer in a compact form and sorts
	// nothing). Run then runs once, untimed, before the first timed run,
	// and its answer is the one checked; a timed run must still read the
	// whole log.
	Timed func(ctx context.Context) (Run, error)
	// Sink names what the timed runs' sink does with results: "counting"
	// (Timed's blackhole) or "kept" (every result kept and sorted, as
	// Run's); empty is "kept".
	Sink string
}

// Run is what one run of a [Config] did.
type Run struct {
	// Events is the number of log records the run read; a run that read
	// fewer than the log holds fails its cell.
	Events int64
	// Check compares the run's answer with the reference answer (with
	// the model's documented exclusions verified, compare's CM2) and
	// returns the difference as an error. It is not timed. Nil when the
	// configuration's answer is checked some other way; Measure then
	// fails the cell, as HL3 asks.
	Check func(ctx context.Context) error
}

// Cell status values ([Cell.Status]).
const (
	// StatusOK is a measured cell whose first run matched the reference.
	StatusOK = "ok"
	// StatusRefused is a configuration whose model cannot express the
	// workload: its reason, no figure.
	StatusRefused = "refused"
	// StatusFailed is a configuration that failed or did not match the
	// reference: why, no figure.
	StatusFailed = "failed"
)

// Stat summarises events/s over repetitions.
type Stat struct {
	Median, Min, Max float64
	// N is the number of repetitions.
	N int
}

// statOf returns the median, minimum and maximum of xs (zero for none).
func statOf(xs []float64) Stat {
	if len(xs) == 0 {
		return Stat{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stat{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// Cell is one configuration's figures on one workload.
type Cell struct {
	Label, Runtime string
	Reference      bool
	// Status is StatusOK, StatusRefused or StatusFailed; Reason says why
	// for the latter two.
	Status, Reason string
	// Rate is events/s over the repetitions (zero unless StatusOK).
	Rate Stat
	// Cores is the process CPU time (user and system, every thread) over
	// the wall time of the timed runs: how many cores the configuration
	// kept busy. Zero when CPU time is unavailable.
	Cores float64
	// Sink is the timed runs' sink, [Config.Sink] ("kept" when empty).
	Sink string
}

// Row is one workload's line of the table: the hand loop and every
// configuration, measured on one input.
type Row struct {
	Workload string
	// Events is the log's length; Results the reference answer's.
	Events, Results int64
	// Loop is the hand loop's events/s; LoopCores its cores (about 1).
	Loop      Stat
	LoopCores float64
	Cells     []Cell
}

// Best returns the index in r.Cells of the fastest measured runtime
// configuration (by median; the reference is not a runtime), or -1 when
// none was measured.
func (r Row) Best() int { return r.extreme(1) }

// Slowest returns the index of the slowest measured runtime
// configuration, or -1.
func (r Row) Slowest() int { return r.extreme(-1) }

func (r Row) extreme(sign float64) int {
	best := -1
	for i, c := range r.Cells {
		if c.Reference || c.Status != StatusOK {
			continue
		}
		if best < 0 || sign*(c.Rate.Median-r.Cells[best].Rate.Median) > 0 {
			best = i
		}
	}
	return best
}

// BestOverLoop is the best runtime's median over the loop's: issue 16's
// ratio (at least 0.5). NaN when either is unmeasured.
func (r Row) BestOverLoop() float64 {
	i := r.Best()
	if i < 0 || r.Loop.Median <= 0 {
		return math.NaN()
	}
	return r.Cells[i].Rate.Median / r.Loop.Median
}

// Options say how [Measure] measures. The zero value is valid.
type Options struct {
	// Reps is the number of repetitions (0: 3). Each repetition times the
	// loop, then every configuration once, in order, so that a change in
	// the machine's load falls on all of them alike.
	Reps int
	// MinLoop is how long the loop is repeated within one repetition (its
	// rate is the runs over the time), so that a loop of a few
	// milliseconds is not timed once (0: a single run).
	MinLoop time.Duration
	// Clock times the runs (nil: the real clock).
	Clock clock.Clock
	// CPU returns the process CPU time so far (nil: [ProcessCPU]). An
	// error leaves the cores at zero.
	CPU func() (time.Duration, error)
	// Progress, if not nil, is told what is being measured.
	Progress func(string)
}

// Measure measures the hand loop and every configuration of cs on in, in
// the interleaved order [Options.Reps] describes. The loop's first run is
// checked against the reference in full, and an error is returned if it
// differs (a loop that is fast but wrong measures nothing, HL1). Each
// configuration's first run is checked (HL3): one that fails, reads less
// than the whole log or does not match gets StatusFailed and its reason,
// and is not run again; one its model refuses gets StatusRefused. Only a
// failing loop or a canceled ctx ends Measure with an error (ctx's).
func Measure(ctx context.Context, in *Input, cs []Config, o Options) (Row, error) {
	if o.Reps <= 0 {
		o.Reps = 3
	}
	clk := clock.OrReal(o.Clock)
	cpu := o.CPU
	if cpu == nil {
		cpu = ProcessCPU
	}
	say := func(format string, args ...any) {
		if o.Progress != nil {
			o.Progress(fmt.Sprintf(format, args...))
		}
	}
	n := in.Log.Len()
	row := Row{Workload: in.Loop.Workload, Events: n, Results: int64(len(in.Reference)), Cells: make([]Cell, len(cs))}
	for i, c := range cs {
		row.Cells[i] = Cell{Label: c.Label, Runtime: c.Runtime, Reference: c.Reference, Status: StatusOK, Sink: cmp.Or(c.Sink, "kept")}
	}
	loopRates := make([]float64, 0, o.Reps)
	var loopMeter meter
	rates := make([][]float64, len(cs))
	meters := make([]meter, len(cs))
	for rep := range o.Reps {
		say("%s: repetition %d of %d: hand loop", in.Loop.Workload, rep+1, o.Reps)
		runs := 0
		loopMeter.start(clk, cpu)
		for runs == 0 || clock.Since(clk, loopMeter.t0) < o.MinLoop {
			if err := ctx.Err(); err != nil {
				return row, err
			}
			ans, err := in.RunLoop()
			if err == nil && rep == 0 && runs == 0 {
				err = in.CheckLoop(ans)
			}
			if err != nil {
				return row, err
			}
			runs++
		}
		wall := loopMeter.stop(clk, cpu)
		loopRates = append(loopRates, float64(n)*float64(runs)/wall.Seconds())
		for i, c := range cs {
			cell := &row.Cells[i]
			if cell.Status != StatusOK {
				continue
			}
			if err := ctx.Err(); err != nil {
				return row, err
			}
			say("%s: repetition %d of %d: %s", in.Loop.Workload, rep+1, o.Reps, c.Label)
			// judge records what a run's outcome says about the cell
			// (refused, failed, or fine) and reports whether it is fine.
			judge := func(r Run, err error, check bool) (bool, error) {
				if err != nil && ctx.Err() != nil {
					return false, ctx.Err()
				}
				if ue, ok := errors.AsType[*dataflow.UnsupportedError](err); ok {
					cell.Status, cell.Reason = StatusRefused, ue.Error()
					return false, nil
				}
				if cell.Reason = checkRun(ctx, r, err, n, check); ctx.Err() != nil {
					return false, ctx.Err()
				}
				if cell.Reason != "" {
					cell.Status = StatusFailed
					rates[i] = nil
					return false, nil
				}
				return true, nil
			}
			run := c.Run
			if c.Timed != nil {
				if rep == 0 {
					// The untimed run whose answer is checked; Timed's
					// runs are timed.
					r, err := c.Run(ctx)
					if ok, err := judge(r, err, true); err != nil {
						return row, err
					} else if !ok {
						continue
					}
				}
				run = c.Timed
			}
			meters[i].start(clk, cpu)
			r, err := run(ctx)
			wall := meters[i].stop(clk, cpu)
			if ok, err := judge(r, err, rep == 0 && c.Timed == nil); err != nil {
				return row, err
			} else if !ok {
				continue
			}
			rates[i] = append(rates[i], float64(n)/wall.Seconds())
		}
	}
	row.Loop, row.LoopCores = statOf(loopRates), loopMeter.cores()
	for i := range row.Cells {
		if row.Cells[i].Status == StatusOK {
			row.Cells[i].Rate, row.Cells[i].Cores = statOf(rates[i]), meters[i].cores()
		}
	}
	return row, nil
}

// checkRun says why a run fails its cell ("" if it does not): an error, a
// short read of the log's n events, or, with check, an answer that cannot
// be checked or does not match the reference. An UnsupportedError is
// returned as its text; the caller tells it apart.
func checkRun(ctx context.Context, r Run, err error, n int64, check bool) string {
	switch {
	case err != nil:
		return err.Error()
	case r.Events != n:
		return fmt.Sprintf("read %d of the log's %d events", r.Events, n)
	case check && r.Check == nil:
		return "its answer cannot be checked against the reference (no Check), so its figure would be its own word"
	case check:
		if err := r.Check(ctx); err != nil {
			return "does not match the reference: " + err.Error()
		}
	}
	return ""
}

// meter accumulates the wall and CPU time of timed runs.
type meter struct {
	t0         time.Time
	c0         time.Duration
	wall, cpu  time.Duration
	cpuMissing bool
}

func (m *meter) start(clk clock.Clock, cpu func() (time.Duration, error)) {
	c, err := cpu()
	m.cpuMissing = m.cpuMissing || err != nil
	m.c0, m.t0 = c, clk.Now()
}

// stop ends the run begun by start and returns its wall time (at least a
// nanosecond, so a rate is finite).
func (m *meter) stop(clk clock.Clock, cpu func() (time.Duration, error)) time.Duration {
	wall := max(clock.Since(clk, m.t0), time.Nanosecond)
	c, err := cpu()
	m.cpuMissing = m.cpuMissing || err != nil
	m.wall += wall
	m.cpu += c - m.c0
	return wall
}

// cores is the CPU time over the wall time, 0 when CPU time was
// unavailable.
func (m *meter) cores() float64 {
	if m.cpuMissing || m.wall <= 0 {
		return 0
	}
	return m.cpu.Seconds() / m.wall.Seconds()
}
