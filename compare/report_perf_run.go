package compare

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/handloop"
)

// The performance measurement (`bench perf`, issue 16) puts every
// workload that has a hand loop (internal/handloop) beside every runtime
// configuration of [PerfSuite], on one pre-filled log per workload:
// handloop.Measure times the loop and each configuration in interleaved
// repetitions, checks each against the reference answer once, and gives
// events/s median [min-max] and the cores each kept busy. This file
// supplies what handloop cannot import (compare is imported only by
// cmd/bench and tests): the input, made as a run's input is made
// ([LoadData]), and the configurations, run through compare's [Runner]
// and checked by [Check] (with late drops verified by [RunLog], CM2).
// report_perf.go writes, reads and renders the figures.

// PerfSuite returns the runtime configurations `bench perf` measures:
// [DefaultSuite] without the trident and dataflow guarantees (issue 16's
// table: the reference, both microbatch modes, and recordstream
// at-most-once, at-least-once and exactly-once).
func PerfSuite() []SuiteEntry {
	var es []SuiteEntry
	for _, e := range DefaultSuite() {
		switch e.Flags.Guarantee {
		case "trident", "dataflow":
			continue
		}
		es = append(es, e)
	}
	return es
}

// PerfWorkloads returns the workloads that have a hand loop, in
// [Workloads] order.
func PerfWorkloads() []*Workload {
	var ws []*Workload
	for _, w := range Workloads() {
		if _, err := handloop.Lookup(w.Name); err == nil {
			ws = append(ws, w)
		}
	}
	return ws
}

// PerfInput builds workload w's input for handloop.Measure from d: the log
// and tables as [LoadData] makes them for a run, and the reference answer,
// sorted. A workload without a hand loop is an error wrapping
// handloop.ErrNoLoop.
func PerfInput(ctx context.Context, w *Workload, d DataSpec) (*handloop.Input, error) {
	loop, err := handloop.Lookup(w.Name)
	if err != nil {
		return nil, err
	}
	log, tables, err := LoadData(ctx, w, d)
	if err != nil {
		return nil, err
	}
	p, err := w.Pipeline(tables)
	if err != nil {
		return nil, err
	}
	ref, err := referenceAnswer(ctx, p, log, nil)
	if err != nil {
		return nil, err
	}
	dataflow.SortResults(ref)
	return &handloop.Input{Loop: loop, Log: log, Tables: tables, Reference: ref}, nil
}

// PerfConfigs returns entries as handloop configurations of workload w on
// in: each run builds w's pipeline and runs it through the entry's
// [Runner] on in's log, and its check compares the outcome with in's
// reference answer ([Check]); a run with late drops is checked by
// [RunLog] on a new run, which verifies each drop under the model's rule
// (CM2). d is the input's DataSpec, for that run.
func PerfConfigs(w *Workload, in *handloop.Input, d DataSpec, entries []SuiteEntry) ([]handloop.Config, error) {
	cs := make([]handloop.Config, 0, len(entries))
	for _, e := range entries {
		r, err := NewRunner(e.Runtime, e.Flags)
		if err != nil {
			return nil, err
		}
		c := handloop.Config{Label: strings.ReplaceAll(r.Name(), "/", "-"), Runtime: r.Name(), Reference: e.Runtime == "reference"}
		// The timed runs count their results in the runtime's counting
		// sink where it has one, as Nexmark's throughput runs do; the
		// checked run keeps them.
		tr, sink := countingRunner(r)
		c.Sink = sink
		if sink == "counting" {
			c.Timed = func(ctx context.Context) (handloop.Run, error) {
				p, err := w.Pipeline(in.Tables)
				if err != nil {
					return handloop.Run{}, err
				}
				out, err := tr.Run(ctx, &Job{Workload: w, Pipeline: p, Log: in.Log})
				if err != nil {
					return handloop.Run{}, err
				}
				return handloop.Run{Events: out.Events}, nil
			}
		}
		c.Run = func(ctx context.Context) (handloop.Run, error) {
			p, err := w.Pipeline(in.Tables)
			if err != nil {
				return handloop.Run{}, err
			}
			out, err := r.Run(ctx, &Job{Workload: w, Pipeline: p, Log: in.Log})
			if err != nil {
				return handloop.Run{}, err
			}
			check := func(ctx context.Context) error {
				res := Check(in.Reference, out.Results, CheckOptionsFor(p, 0))
				if len(out.Late) > 0 {
					rep, err := RunLog(ctx, w, r, in.Log, in.Tables, d, Options{Seed: d.Seed}, nil)
					if err != nil {
						return err
					}
					res = rep.Check
				}
				if !res.OK() {
					return errors.New(res.String())
				}
				return nil
			}
			return handloop.Run{Events: out.Events, Check: check}, nil
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// PerfOptions say what [RunPerf] measures. The zero value is valid: every
// workload with a hand loop at its default size, [PerfSuite], medians of
// 3.
type PerfOptions struct {
	// Workloads names the workloads (default: [PerfWorkloads]); each
	// must have a hand loop.
	Workloads []string
	// Events is the input's size per workload (0: each workload's
	// default, [DataConfig]); Seed the generator's (0: 1).
	Events int64
	Seed   uint64
	// Reps is the number of repetitions (0: 3); MinLoop how long the
	// loop repeats within one (0: 200 ms).
	Reps    int
	MinLoop time.Duration
	// Entries are the configurations (default: [PerfSuite]).
	Entries []SuiteEntry
	// Progress, if not nil, is told what is being measured.
	Progress func(string)
}

// QuickPerfOptions are `bench perf --quick`'s: 20,000 events per
// workload, one repetition, the loop repeated for 50 ms: a smoke run of
// seconds that checks the instrument, not figures to quote (count-window's
// answer is empty below about a million events, 100 per card).
func QuickPerfOptions() PerfOptions {
	return PerfOptions{Events: 20_000, Reps: 1, MinLoop: 50 * time.Millisecond}
}

// Validate reports options RunPerf cannot use: a *[FieldError] naming the
// field, or an error naming a workload without a hand loop.
func (o PerfOptions) Validate() error {
	switch {
	case o.Events < 0:
		return &FieldError{Field: "PerfOptions.Events", Err: fmt.Errorf("want a positive number of events (0: each workload's default); got %d", o.Events)}
	case o.Reps < 0:
		return &FieldError{Field: "PerfOptions.Reps", Err: fmt.Errorf("want at least one repetition (0: 3); got %d", o.Reps)}
	case o.MinLoop < 0:
		return &FieldError{Field: "PerfOptions.MinLoop", Err: fmt.Errorf("want a positive duration (0: 200ms); got %v", o.MinLoop)}
	}
	for _, name := range o.Workloads {
		if _, err := LookupWorkload(name); err != nil {
			return &FieldError{Field: "PerfOptions.Workloads", Err: err}
		}
		if _, err := handloop.Lookup(name); err != nil {
			return &FieldError{Field: "PerfOptions.Workloads", Err: err}
		}
	}
	return nil
}

func (o PerfOptions) withDefaults() PerfOptions {
	if len(o.Workloads) == 0 {
		for _, w := range PerfWorkloads() {
			o.Workloads = append(o.Workloads, w.Name)
		}
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Reps == 0 {
		o.Reps = 3
	}
	if o.MinLoop == 0 {
		o.MinLoop = 200 * time.Millisecond
	}
	if len(o.Entries) == 0 {
		o.Entries = PerfSuite()
	}
	return o
}

// RunPerf measures every workload of o (handloop.Measure), one input
// each, generated when its turn comes, and returns its records: per
// workload the hand loop's, then each configuration's, in o.Entries'
// order. Refusals and failed checks of single configurations are in
// their records; bad options, a hand loop that differs from the reference
// (a bug in the yardstick) or a canceled ctx stop it, with the records of
// the workloads finished so far.
func RunPerf(ctx context.Context, o PerfOptions) ([]PerfRecord, error) {
	if err := o.Validate(); err != nil {
		return nil, &InputError{err}
	}
	o = o.withDefaults()
	flags := make([]string, len(o.Entries))
	for i, e := range o.Entries {
		flags[i] = strings.TrimSpace("--runtime " + e.Runtime + " " + e.Flags.CommandLine())
	}
	var recs []PerfRecord
	for _, name := range o.Workloads {
		w, err := LookupWorkload(name)
		if err != nil {
			return recs, &InputError{err}
		}
		d := DataSpec{Events: o.Events, Seed: o.Seed}
		sayf(o.Progress, "perf: %s: generating the input and its reference answer", name)
		in, err := PerfInput(ctx, w, d)
		if err != nil {
			if ctx.Err() != nil {
				return recs, ctx.Err()
			}
			return recs, &InputError{err}
		}
		cs, err := PerfConfigs(w, in, d, o.Entries)
		if err != nil {
			return recs, &InputError{err}
		}
		row, err := handloop.Measure(ctx, in, cs, handloop.Options{Reps: o.Reps, MinLoop: o.MinLoop, Progress: o.Progress})
		if err != nil {
			return recs, err
		}
		recs = append(recs, perfRecords(row, flags)...)
	}
	return recs, nil
}

// perfRecords turns a measured row into its records: the loop's first,
// then each cell's, with flags[i] the command-line flags of cell i.
func perfRecords(row handloop.Row, flags []string) []PerfRecord {
	base := PerfRecord{Workload: row.Workload, Events: row.Events, Results: row.Results, LoopEventsPerSecond: row.Loop.Median}
	loop := base
	loop.Config, loop.Runtime, loop.Kind, loop.Status = PerfLoop, PerfLoop, PerfKindLoop, handloop.StatusOK
	loop.Reps, loop.EventsPerSecond, loop.MinEventsPerSecond, loop.MaxEventsPerSecond, loop.Cores =
		int64(row.Loop.N), row.Loop.Median, row.Loop.Min, row.Loop.Max, row.LoopCores
	recs := []PerfRecord{loop}
	for i, c := range row.Cells {
		r := base
		r.Config, r.Runtime, r.Status, r.Reason, r.Sink = c.Label, c.Runtime, c.Status, c.Reason, c.Sink
		r.Kind = PerfKindRuntime
		if c.Reference {
			r.Kind = PerfKindReference
		}
		if i < len(flags) {
			r.Flags = flags[i]
		}
		r.Reps, r.EventsPerSecond, r.MinEventsPerSecond, r.MaxEventsPerSecond, r.Cores =
			int64(c.Rate.N), c.Rate.Median, c.Rate.Min, c.Rate.Max, c.Cores
		recs = append(recs, r)
	}
	return recs
}

// perfWorkloadOrder returns the workloads of recs in first-seen order.
func perfWorkloadOrder(recs []PerfRecord) []string {
	var ws []string
	for _, r := range recs {
		if !slices.Contains(ws, r.Workload) {
			ws = append(ws, r.Workload)
		}
	}
	return ws
}
