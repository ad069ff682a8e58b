package compare

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
)

// SuiteRow is one workload on one runtime configuration of a suite.
type SuiteRow struct {
	Workload string
	// Runtime is the runner's name (the entry's runtime if it could not be
	// built).
	Runtime string
	// Report is the run's report; nil when Err is set.
	Report *Report
	// Err is why the run did not complete: a *dataflow.UnsupportedError
	// when the model cannot express the workload (not a failure), anything
	// else a failure.
	Err error
}

// Unsupported reports whether the runtime's model cannot express the
// workload.
func (r SuiteRow) Unsupported() bool {
	var u *dataflow.UnsupportedError
	return errors.As(r.Err, &u)
}

// Failed reports whether the row is a failure: an error other than an
// unsupported pipeline, or results that differ from the reference (CM1).
func (r SuiteRow) Failed() bool {
	if r.Err != nil {
		return !r.Unsupported()
	}
	return r.Report == nil || !r.Report.Check.OK()
}

// RunSuite runs every workload on every entry, on data d generated once per
// dataset, and returns a row per pair in workload order, then entry order.
// each, if not nil, is called with every row as it completes. Only a bad d
// or a canceled ctx stops the suite early (with an error); failures of
// single runs are in their rows.
func RunSuite(ctx context.Context, entries []SuiteEntry, workloads []*Workload, d DataSpec, opts Options, progress func(string), each func(SuiteRow)) ([]SuiteRow, error) {
	if err := d.Validate(); err != nil {
		return nil, &InputError{err}
	}
	if d.Rate > 0 {
		return nil, &InputError{&FieldError{Field: "DataSpec.Rate", Err: errors.New("the suite runs on logs filled before each run; set Rate to 0")}}
	}
	type data struct {
		log    *datasets.Log
		tables map[string]*dataflow.Table
	}
	// Workloads over the same dataset and data config share one log.
	type dataKey struct {
		dataset string
		cfg     datasets.Config
	}
	cache := map[dataKey]data{}
	var rows []SuiteRow
	for _, w := range workloads {
		key := dataKey{w.Dataset, DataConfig(w, d)}
		dd, ok := cache[key]
		if !ok {
			start := clock.OrReal(opts.Clock).Now()
			log, tables, err := LoadData(ctx, w, d)
			if err != nil {
				if ctx.Err() != nil {
					return rows, ctx.Err()
				}
				return rows, &InputError{fmt.Errorf("dataset %s: %w", w.Dataset, err)}
			}
			sayf(progress, "generated %d %s events in %v", log.Len(), w.Dataset, clock.Since(clock.OrReal(opts.Clock), start).Round(time.Millisecond))
			dd = data{log, tables}
			cache[key] = dd
		}
		full := &fullReference{}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return rows, err
			}
			row := SuiteRow{Workload: w.Name, Runtime: e.Runtime}
			r, err := NewRunner(e.Runtime, e.Flags)
			if err == nil {
				row.Runtime = r.Name()
				row.Report, err = runLog(ctx, w, r, dd.log, dd.tables, d, opts, progress, full)
			}
			row.Err = err
			rows = append(rows, row)
			if each != nil {
				each(row)
			}
		}
	}
	return rows, nil
}
