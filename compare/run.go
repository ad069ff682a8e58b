package compare

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
)

// DataSpec says where a run's input comes from: built-in data (Events,
// Seed) or a directory written by `bench gen` (InputDir), filled before the
// run (Rate 0) or paced at Rate events per second while the run reads.
type DataSpec struct {
	// Events and Seed select built-in data; Events 0 means the workload's
	// default ([Workload.Events], else [DefaultEvents]).
	Events int64
	Seed   uint64
	// EventRate is the event-time density of built-in data in events per
	// second; 0 means Rate when ingestion is paced (event time then follows
	// the wall clock), else the workload's ([Workload.EventRate]), else the
	// dataset's default.
	EventRate float64
	// Rate paces ingestion in events per second, from
	// [datasets.MinPacedRate] to [datasets.MaxPacedRate]; 0 fills the log
	// before the run starts, so the run's throughput measures the runtime
	// alone.
	Rate float64
	// InputDir, if set, loads DIR/events.parquet (and the lookup tables)
	// instead of generating.
	InputDir string
	// Partitions is the number of log partitions (default 4, at most
	// [datasets.MaxPartitions]).
	Partitions int
	// Skew is the event-time disorder of built-in data (zero: the dataset's
	// default, [datasets.DefaultSkew]); InOrder turns disorder off, and Skew
	// must then be zero. Neither applies to InputDir, whose file holds the
	// arrival order it was generated with.
	Skew    datasets.Skew
	InOrder bool
	// Steps change the paced rate at times after the fill starts (a step
	// in the offered load); they need Rate > 0.
	Steps []datasets.RateStep
}

// Validate reports a spec that cannot be run: a *[FieldError] naming the
// field to change (Field "DataSpec.Events", ...) and the values it takes.
// [RunOne] and [LoadData] also check the data against the workload before
// they generate it: the span of event time its events take, and the memory
// its log takes against the machine's.
func (d DataSpec) Validate() error {
	switch {
	case d.Events < 0:
		return &FieldError{Field: "DataSpec.Events", Err: fmt.Errorf("want a positive number of events, or 0 for the workload's default; got %d", d.Events)}
	case !(d.EventRate >= 0) || math.IsInf(d.EventRate, 0):
		return &FieldError{Field: "DataSpec.EventRate", Err: fmt.Errorf("want a finite number of events per second of event time, or 0 for the workload's default; got %v", d.EventRate)}
	case d.Rate != 0 && !datasets.PacedRateInRange(d.Rate):
		return &FieldError{Field: "DataSpec.Rate", Err: fmt.Errorf("want events per second between %.3g and %.0e (one event per 292 years to one per nanosecond), or 0 to fill the log before the run; got %v",
			datasets.MinPacedRate, datasets.MaxPacedRate, d.Rate)}
	case d.Partitions < 0 || d.Partitions > datasets.MaxPartitions:
		return &FieldError{Field: "DataSpec.Partitions", Err: fmt.Errorf("want 1 to %d partitions, or 0 for the default (4); got %d", datasets.MaxPartitions, d.Partitions)}
	case len(d.Steps) > 0 && d.Rate == 0:
		return &FieldError{Field: "DataSpec.Steps", Err: errors.New("steps change a paced rate; set Rate above 0")}
	case d.InputDir != "" && d.Rate > 0:
		return &FieldError{Field: "DataSpec.Rate", Err: errors.New("paces built-in data only, and InputDir is set; set Rate to 0 or InputDir to empty")}
	}
	if len(d.Steps) > 0 {
		// A step the filler refuses would stop it before the run ends.
		if err := (&datasets.Pacing{Rate: d.Rate, Steps: d.Steps}).Validate(); err != nil {
			return &FieldError{Field: "DataSpec.Steps", Err: err}
		}
	}
	return nil
}

// Report is everything one run gives: the runtime's outcome, the check of
// its results against the reference answer, and the summary.
type Report struct {
	Workload *Workload
	Pipeline *dataflow.Pipeline
	Runner   string
	Outcome  *Outcome
	Check    CheckResult
	Summary  Summary
	// Trace is the run's trace with [Options.Trace] (nil otherwise): a
	// record row per log record ([RecordTrace]), then the outcome's pane
	// rows ([Outcome.Trace]). [datasets.WriteTrace] writes it.
	Trace []datasets.TraceRow
}

// paneTrace turns a runtime's pane emissions into trace rows.
func paneTrace(runtime string, shiftMs int64, panes []dataflow.PaneEmission) []datasets.TraceRow {
	out := make([]datasets.TraceRow, 0, len(panes))
	for _, e := range panes {
		out = append(out, datasets.TraceRow{Kind: datasets.TracePane, Runtime: runtime,
			EventTimeMs: int64(e.MaxEventTime), EventTimeShiftMs: shiftMs, IngestNanos: e.MaxIngestNanos,
			WindowStartMs: int64(e.Window.Start), WindowEndMs: int64(e.Window.End), Key: e.Key,
			PaneIndex: e.Index, PaneTiming: e.Timing, EmitNanos: e.EmitNanos, WatermarkMs: int64(e.Watermark), Task: int32(e.Task)})
	}
	return out
}

// RecordTrace returns one row of kind [datasets.TraceRecord] per record of
// log, partition by partition in
// offset order: partition, offset, ingest time, and the event time of p's
// event-time column (the aggregation's TimeCol, else the log's first
// timestamp column; 0 when it has none).
func RecordTrace(p *dataflow.Pipeline, log *datasets.Log) []datasets.TraceRow {
	s := log.Schema()
	col := -1
	if p.Agg != nil && p.Agg.TimeCol != "" {
		col = s.Index(p.Agg.TimeCol)
	}
	for i, f := range s.Fields {
		if col >= 0 {
			break
		}
		if f.Kind == dataflow.KindTimestamp {
			col = i
		}
	}
	shift := log.EventTimeShift()
	out := make([]datasets.TraceRow, 0, log.Len())
	for r := range log.All() {
		var ev int64
		if col >= 0 {
			ev = r.Row[col].I
		}
		out = append(out, datasets.TraceRow{Kind: datasets.TraceRecord, Partition: int32(r.Partition), Offset: r.Offset,
			EventTimeMs: ev, EventTimeShiftMs: shift, IngestNanos: r.IngestNanos})
	}
	return out
}

// ExtraColumns returns the names of a pipeline's extra result columns (after
// key and value): the aggregates after the first (the regroup's, with a
// Pipeline.Then), or a stateless pipeline's Emit.Extra.
func ExtraColumns(p *dataflow.Pipeline) []string {
	if p.Agg == nil {
		return append([]string(nil), p.Emit.Extra...)
	}
	aggs := p.Agg.Aggs
	if p.Then != nil {
		aggs = p.Then.Aggs
	}
	var cols []string
	for _, g := range aggs[1:] {
		cols = append(cols, g.Name())
	}
	return cols
}

// DefaultEvents is the number of events of built-in data when neither the
// DataSpec nor the workload says.
const DefaultEvents = 200_000

// DataConfig returns the datasets config of workload w's built-in data
// under d: d's values, else the workload's, else the defaults. The event-time
// rate is d.EventRate, else d.Rate when ingestion is paced (so event time
// follows the wall clock), else [Workload.EventRate], else the dataset's.
func DataConfig(w *Workload, d DataSpec) datasets.Config {
	cfg := datasets.Config{Events: d.Events, Seed: d.Seed, Partitions: d.Partitions, EventRate: d.EventRate,
		Skew: d.Skew, InOrder: d.InOrder}
	if cfg.Events == 0 {
		cfg.Events = w.Events
	}
	if cfg.Events == 0 {
		cfg.Events = DefaultEvents
	}
	if cfg.EventRate == 0 && d.Rate > 0 {
		// Paced: event time advances with the wall clock, as it does for
		// events generated live, so event-time latency is the delay since
		// an event happened (Karimov et al.). A workload's own density (an
		// hour of hashtags in 200k events) would put event time hours ahead
		// of or behind the clock.
		cfg.EventRate = d.Rate
	}
	if cfg.EventRate == 0 {
		cfg.EventRate = w.EventRate
	}
	return cfg
}

// LoadData builds the log and lookup tables of a workload's dataset from d
// with no pacing: generated, or loaded from d.InputDir. The log is closed.
func LoadData(ctx context.Context, w *Workload, d DataSpec) (*datasets.Log, map[string]*dataflow.Table, error) {
	if err := d.Validate(); err != nil {
		return nil, nil, err
	}
	if err := checkData(w, d, memoryLimit()); err != nil {
		return nil, nil, err
	}
	cfg := DataConfig(w, d)
	if d.InputDir != "" {
		return datasets.LoadDir(ctx, d.InputDir, w.Dataset, cfg)
	}
	return datasets.Generate(ctx, w.Dataset, cfg)
}

// InputError reports input a run cannot use: a bad [DataSpec], data that
// cannot be generated or loaded, or a dataset without what the workload
// needs. The CLI exits with status 2 on it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *InputError) Unwrap() error { return e.Err }

// FieldError reports a bad value in one field the caller set: Field names
// it by its type, as "DataSpec.Events" or "RuntimeFlags.MaxSpoutPending",
// and Err says what is wrong and which values the field takes. compare's
// errors name fields, never command-line flags (CM5); cmd/bench maps Field to
// its flag. A FieldError about input arrives wrapped in an [InputError], so
// errors.As finds either.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return "compare: " + e.Field + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error { return e.Err }

// RunOne runs workload w on runner r over the data d ([LoadData], or paced
// filling when d.Rate > 0), then checks the results against the reference
// answer ([RunLog]). progress, if not nil, receives a line at each stage.
// Input problems give an *InputError; a pipeline the runtime cannot express
// gives a *dataflow.UnsupportedError (wrapped; use errors.As).
//
// With d.Rate > 0 the log is filled by a goroutine RunOne owns, paced, while
// the runner reads it; RunOne waits for that goroutine before it returns.
func RunOne(ctx context.Context, w *Workload, r Runner, d DataSpec, opts Options, progress func(string)) (*Report, error) {
	rep, err := runOne(ctx, w, r, d, opts, progress)
	recorderFrom(ctx).recordRun(ctx, w, r.Name(), d, rep, err)
	return rep, err
}

func runOne(ctx context.Context, w *Workload, r Runner, d DataSpec, opts Options, progress func(string)) (*Report, error) {
	if err := d.Validate(); err != nil {
		return nil, &InputError{err}
	}
	if err := opts.Validate(); err != nil {
		return nil, &InputError{err}
	}
	if err := checkData(w, d, memoryLimit()); err != nil {
		return nil, &InputError{err}
	}
	clk := clock.OrReal(opts.Clock)
	if d.Rate == 0 {
		start := clk.Now()
		log, tables, err := LoadData(ctx, w, d)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err() // canceled, not bad input
			}
			return nil, &InputError{err}
		}
		sayf(progress, "%s: %d %s events ready in %v", w.Name, log.Len(), w.Dataset, clock.Since(clk, start).Round(time.Millisecond))
		return RunLog(ctx, w, r, log, tables, d, opts, progress)
	}
	gen, err := datasets.Lookup(w.Dataset)
	if err != nil {
		return nil, &InputError{err}
	}
	cfg := DataConfig(w, d)
	log, err := datasets.NewLogFor(gen, cfg)
	if err != nil {
		return nil, &InputError{err}
	}
	fillCtx, cancelFill := context.WithCancel(ctx)
	defer cancelFill()
	var (
		fill    sync.WaitGroup
		fillErr error
	)
	sayf(progress, "%s: filling the %s log at %.0f events/s while %s reads it", w.Name, w.Dataset, d.Rate, r.Name())
	// A filler that fails leaves the log open, and a runner would wait for
	// the rest of it forever: the failure stops the run.
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	fill.Go(func() {
		fillErr = datasets.Fill(fillCtx, gen, log, cfg, datasets.Pacing{Rate: d.Rate, Steps: d.Steps, Clock: clk})
		if fillErr != nil {
			cancelRun()
		}
	})
	// A runner that succeeds has read the log to its end, so the filler
	// has closed it; one that fails stops the filler. Either way the filler
	// is waited for before RunOne returns.
	rep, err := RunLog(runCtx, w, r, log, gen.Tables(d.Seed), d, opts, progress)
	cancelFill()
	fill.Wait()
	if fillErr != nil && ctx.Err() == nil && !errors.Is(fillErr, context.Canceled) {
		return nil, fmt.Errorf("%s: filling the log: %w", w.Name, fillErr)
	}
	return rep, err
}

func sayf(progress func(string), format string, args ...any) {
	if progress != nil {
		progress(fmt.Sprintf(format, args...))
	}
}

// RunLog runs workload w on runner r over log (with the dataset's lookup
// tables), checks the results against the reference answer computed without
// the records the run reported late (CM2), and returns the report. d is
// recorded in the summary. The reference answer needs the whole input, so
// the log must be closed once the runner returns.
func RunLog(ctx context.Context, w *Workload, r Runner, log *datasets.Log, tables map[string]*dataflow.Table, d DataSpec, opts Options, progress func(string)) (*Report, error) {
	return runLog(ctx, w, r, log, tables, d, opts, progress, nil)
}

// fullReference caches the reference answer with no exclusions of one
// workload on one log, so runs of several runtimes on the same data compute
// it once.
type fullReference struct {
	results []dataflow.Result
	done    bool
}

func (f *fullReference) get(ctx context.Context, p *dataflow.Pipeline, log *datasets.Log) ([]dataflow.Result, error) {
	if f != nil && f.done {
		return f.results, nil
	}
	rs, err := referenceAnswer(ctx, p, log, nil)
	if err == nil && f != nil {
		f.results, f.done = rs, true
	}
	return rs, err
}

func runLog(ctx context.Context, w *Workload, r Runner, log *datasets.Log, tables map[string]*dataflow.Table, d DataSpec, opts Options, progress func(string), full *fullReference) (*Report, error) {
	p, err := w.Pipeline(tables)
	if err != nil {
		return nil, &InputError{fmt.Errorf("workload %s: %w", w.Name, err)}
	}
	job := &Job{Workload: w, Pipeline: p, Log: log, Options: opts, Progress: progress, Identity: jobIdentity(w, p, log, d)}
	sayf(progress, "%s: running on %s", w.Name, r.Name())
	out, err := r.Run(ctx, job)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", w.Name, r.Name(), err)
	}
	if out == nil {
		return nil, fmt.Errorf("%s on %s: the runner returned no outcome", w.Name, r.Name())
	}
	if err := log.Err(); err != nil { // it read records the log had released
		return nil, fmt.Errorf("%s on %s: %w", w.Name, r.Name(), err)
	}
	sayf(progress, "%s: %s read %d events in %v; checking against the reference", w.Name, r.Name(), out.Events, out.Elapsed.Round(time.Millisecond))

	check, err := checkOutcome(ctx, p, log, out, full)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.Name, err)
	}
	dc := DataConfig(w, d)
	if d.InputDir != "" { // the data's size and density come from the files
		dc.Events, dc.EventRate = 0, 0
	}
	cfg := RunConfig{
		Events: dc.Events, EventRate: dc.EventRate, Seed: d.Seed, Rate: d.Rate, Input: d.InputDir, Partitions: log.Partitions(),
		CrashAfter: opts.CrashAfter, SlowNanos: int64(opts.Slow), DropAcks: opts.DropAcks,
	}
	if f, ok := r.(interface{ Flags() RuntimeFlags }); ok {
		cfg.Flags = f.Flags()
	}
	dataflow.SortResults(out.Results)
	rep := &Report{
		Workload: w,
		Pipeline: p,
		Runner:   r.Name(),
		Outcome:  out,
		Check:    check,
		Summary:  NewSummary(w.Name, r.Name(), cfg, out, check),
	}
	if opts.Trace {
		rep.Trace = append(RecordTrace(p, log), out.Trace...)
	}
	return rep, nil
}

// checkOutcome checks a run's outcome (CM1, CM2): it verifies each late drop
// under the model's rule ([VerifyLate]), compares the results with the
// reference answer without the verified drops, and separately with the full
// answer.
func checkOutcome(ctx context.Context, p *dataflow.Pipeline, log *datasets.Log, out *Outcome, full *fullReference) (CheckResult, error) {
	all, err := full.get(ctx, p, log)
	if err != nil {
		return CheckResult{}, fmt.Errorf("reference answer: %w", err)
	}
	acc, ex, err := VerifyLate(p, log, out)
	if err != nil {
		return CheckResult{}, fmt.Errorf("verifying late records: %w", err)
	}
	opts := CheckOptionsFor(p, len(out.Late))
	ref := all
	if len(ex) > 0 {
		if ref, err = referenceAnswer(ctx, p, log, ex); err != nil {
			return CheckResult{}, fmt.Errorf("reference answer: %w", err)
		}
		opts.Full = all // to name the windows the drops removed
	}
	check := Check(ref, out.Results, opts)
	check.Late = acc
	fc := check
	if len(ex) > 0 {
		fc = Check(all, out.Results, opts)
		check.LateWindows = LateWindows(all, ref)
	}
	check.Full = FullCheck{Windows: fc.Windows, Matching: fc.Matching, Lost: fc.Lost, Duplicated: fc.Duplicated, Mismatched: fc.Mismatched}
	if opts.CountValued {
		check.Full.Deltas = CountDeltas(all, out.Results)
	}
	check.FullWindows = len(all)
	return check, nil
}

// referenceAnswer is dataflow.Reference over every record of the closed
// log l, leaving the records out of the windows ex names (CM2). It stops
// with ctx's error once ctx is done (looking every few thousand records):
// the check of a large run takes seconds, and a signal must stop it too.
func referenceAnswer(ctx context.Context, p *dataflow.Pipeline, l *datasets.Log, ex exclusions) ([]dataflow.Result, error) {
	if !l.Closed() {
		return nil, errors.New("compare: the reference answer needs a closed (complete) log")
	}
	if l.Released() {
		return nil, fmt.Errorf("compare: the reference answer needs the whole input, and the log's retention (%s) released part of it; check an unbounded run online (RunUnbounded)", l.Retention())
	}
	var opts dataflow.ReferenceOptions
	if len(ex) > 0 {
		opts.ExcludeWindows = ex.lookup
		if p.Join != nil { // the drops are of side rows, each of a side
			opts.ExcludeSide = ex.lookupSide
		}
	}
	records := func(yield func(dataflow.Record) bool) {
		n := 0
		for r := range l.All() {
			if n++; n%4096 == 0 && ctx.Err() != nil {
				return
			}
			if !yield(r) {
				return
			}
		}
	}
	rs, err := dataflow.Reference(p, records, opts)
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr // an answer over part of the log
	}
	return rs, err
}
