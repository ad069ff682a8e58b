package handloop_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/handloop"
)

// events sizes the input of BenchmarkWorkloads and of TestRatioTable with
// -ratios: that many events of each workload's built-in data (seed 1,
// pre-filled, 4 partitions); 0 is each workload's own default
// (compare.DataConfig: 200k events, fraud 100k, count-window 1M). The small
// default keeps a smoke run (-benchtime 1x) brief.
var events = flag.Int64("events", 20_000, "events of each workload's input for BenchmarkWorkloads and TestRatioTable -ratios (0: the workload's default)")

// config is one weir runtime configuration the loops are compared with.
type config struct {
	label   string // sub-benchmark name: the runner's name, '/' as '-'
	runtime string
	flags   compare.RuntimeFlags
}

// configs returns the configurations of issue 16's table: the reference,
// both microbatch modes, and recordstream at-most-once, at-least-once and
// exactly-once, with compare.DefaultSuite's flags (parallelism 2, 1 s batch
// and checkpoint intervals).
func configs() ([]config, error) {
	var cs []config
	for _, e := range compare.DefaultSuite() {
		switch e.Flags.Guarantee {
		case "trident", "dataflow":
			continue
		}
		r, err := compare.NewRunner(e.Runtime, e.Flags)
		if err != nil {
			return nil, err
		}
		cs = append(cs, config{label: strings.ReplaceAll(r.Name(), "/", "-"), runtime: e.Runtime, flags: e.Flags})
	}
	return cs, nil
}

// input is one workload's pre-filled log, its tables and its reference
// answer, shared by the hand loop and every configuration.
type input struct {
	w      *compare.Workload
	loop   handloop.Loop
	log    *datasets.Log
	tables map[string]*dataflow.Table
	spec   compare.DataSpec
	ref    []dataflow.Result
}

// loadInput generates w's data as a run's input is made (compare.LoadData:
// the same generator, config and partitions) and computes the reference.
func loadInput(ctx context.Context, w *compare.Workload, n int64) (*input, error) {
	loop, err := handloop.Lookup(w.Name)
	if err != nil {
		return nil, err
	}
	spec := compare.DataSpec{Events: n, Seed: 1}
	log, tables, err := compare.LoadData(ctx, w, spec)
	if err != nil {
		return nil, err
	}
	p, err := w.Pipeline(tables)
	if err != nil {
		return nil, err
	}
	ref, err := dataflow.Reference(p, log.All(), dataflow.ReferenceOptions{})
	if err != nil {
		return nil, err
	}
	return &input{w: w, loop: loop, log: log, tables: tables, spec: spec, ref: ref}, nil
}

// runLoop runs the hand loop once and checks its answer's size (check
// compares it in full).
func (in *input) runLoop() (handloop.Answer, error) {
	ans, err := in.loop.Run(in.log, in.tables)
	if err == nil && ans.Len() != len(in.ref) {
		err = fmt.Errorf("%s: the hand loop gave %d results, the reference %d", in.w.Name, ans.Len(), len(in.ref))
	}
	return ans, err
}

// checkLoop compares the hand loop's answer with the reference in full.
func (in *input) checkLoop(ans handloop.Answer) error {
	got := ans.Results()
	dataflow.SortResults(got)
	if len(got) != len(in.ref) {
		return fmt.Errorf("%s: the hand loop gave %d results, the reference %d", in.w.Name, len(got), len(in.ref))
	}
	for i := range got {
		if dataflow.CompareResults(got[i], in.ref[i]) != 0 {
			return fmt.Errorf("%s: result %d of the hand loop is %v, the reference's %v", in.w.Name, i, got[i], in.ref[i])
		}
	}
	return nil
}

// errUnsupported marks a configuration whose model cannot express the
// workload (a *dataflow.UnsupportedError): a cell of the table, not a
// failure.
var errUnsupported = errors.New("unsupported")

// runConfig runs configuration c once on the input, through compare's
// Runner, and returns the outcome: the timed part of a benchmark.
func (in *input) runConfig(ctx context.Context, c config) (*compare.Outcome, error) {
	r, err := compare.NewRunner(c.runtime, c.flags)
	if err != nil {
		return nil, err
	}
	p, err := in.w.Pipeline(in.tables)
	if err != nil {
		return nil, err
	}
	out, err := r.Run(ctx, &compare.Job{Workload: in.w, Pipeline: p, Log: in.log})
	if ue, ok := errors.AsType[*dataflow.UnsupportedError](err); ok {
		return nil, fmt.Errorf("%w: %v", errUnsupported, ue)
	}
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", in.w.Name, r.Name(), err)
	}
	if out.Events != in.log.Len() {
		return nil, fmt.Errorf("%s on %s: read %d of the log's %d events", in.w.Name, r.Name(), out.Events, in.log.Len())
	}
	return out, nil
}

// checkConfig checks an outcome of c against the reference answer (CM1):
// with no late drops, the check of compare.RunLog against the cached full
// answer; with late drops, compare.RunLog itself, which verifies each drop
// under the model's rule (CM2) on a new run. A difference is an error.
func (in *input) checkConfig(ctx context.Context, c config, out *compare.Outcome) error {
	p, err := in.w.Pipeline(in.tables)
	if err != nil {
		return err
	}
	check := compare.Check(in.ref, out.Results, compare.CheckOptionsFor(p, 0))
	if len(out.Late) > 0 {
		r, err := compare.NewRunner(c.runtime, c.flags)
		if err != nil {
			return err
		}
		rep, err := compare.RunLog(ctx, in.w, r, in.log, in.tables, in.spec, compare.Options{}, nil)
		if err != nil {
			return err
		}
		check = rep.Check
	}
	if !check.OK() {
		return fmt.Errorf("%s on %s does not match the reference: %v", in.w.Name, c.label, check)
	}
	return nil
}

// benchWorkloads returns the workloads with a hand loop, in compare's
// order.
func benchWorkloads() []*compare.Workload {
	var ws []*compare.Workload
	for _, w := range compare.Workloads() {
		if _, err := handloop.Lookup(w.Name); err == nil {
			ws = append(ws, w)
		}
	}
	return ws
}
