package compare

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/metrics"
)

// An architecture composes runs of the existing runtimes over one paced
// log into a served answer (issue 11, models.md §4):
//
//   - lambda (Marz 2011): a speed layer (a streaming run, recordstream
//     at-most-once by default) over the live log, a batch layer that every
//     BatchPeriod recomputes the answer from scratch over the log's prefix
//     closed at a cut-off (the reference, or microbatch, over a bounded copy
//     of the prefix), and a serving layer that merges them at query time:
//     windows ending at or before the batch view's cut-off from the batch
//     view, later ones from the speed view ([ServeMerge]).
//   - kappa (Kreps 2014): one streaming job (recordstream exactly-once by
//     default) serves table 1; at ReprocessAt of the log a second instance
//     of the job with a changed pipeline (Change) reads the log from offset
//     0 into table 2; once it has caught up (it is no further behind the
//     log's head than job 1), serving switches to table 2 and job 1 stops.
//
// Every table an architecture serves is checked against dataflow.Reference
// on the same input, like every runtime's output.

// Architectures returns the names [NewArchitecture] accepts.
func Architectures() []string { return []string{"lambda", "kappa"} }

// ArchDescription is one line on the named architecture for `bench list`.
func ArchDescription(name string) string {
	switch name {
	case "lambda":
		return "speed layer (recordstream at-most-once) + batch layer (reference over the log's prefix every period), merged at query time"
	case "kappa":
		return "one streaming job (recordstream exactly-once); reprocessing is a second job with a changed pipeline from offset 0, then a switch"
	}
	return ""
}

// Ranges of [ArchConfig]'s durations and shares.
const (
	MinBatchPeriod     = 10 * time.Millisecond
	MaxBatchPeriod     = time.Hour
	DefaultBatchPeriod = 500 * time.Millisecond
	// DefaultReprocessAt is the share of the log's events after which
	// Kappa starts reprocessing.
	DefaultReprocessAt = 0.5
	// maxBatchViews caps the batch views a Lambda run keeps for its
	// served-distance series: beyond it every other view is dropped, so
	// the series gets coarser instead of memory growing with the run.
	maxBatchViews = 256
)

// ArchConfig configures an [Architecture]. The zero value of each field
// is its documented default.
type ArchConfig struct {
	// Architecture is "lambda" or "kappa" (required).
	Architecture string
	// Runtime and Flags configure the streaming runs: Lambda's speed layer
	// (default recordstream at-most-once; any runtime but the reference)
	// and Kappa's jobs (recordstream only; default exactly-once).
	Runtime string
	Flags   RuntimeFlags
	// BatchPeriod is Lambda's period between batch runs, from
	// [MinBatchPeriod] to [MaxBatchPeriod] (0: [DefaultBatchPeriod]). A
	// batch run longer than the period is followed by the next at once.
	BatchPeriod time.Duration
	// BatchLayer is Lambda's batch runtime: "reference" (the default) or
	// "microbatch" (event-time mode, a bounded job over the prefix).
	BatchLayer string
	// Change is Kappa's change of the pipeline for the second job (a new
	// window size, ...); it must change something the pipeline can take.
	Change Overrides
	// ReprocessAt is the share of the log's events, in (0, 1), after which
	// Kappa starts the second job (0: [DefaultReprocessAt]).
	ReprocessAt float64
}

// BatchLayers returns the values of ArchConfig.BatchLayer.
func BatchLayers() []string { return []string{"reference", "microbatch"} }

// Validate reports the first bad field: a *[FieldError] naming it
// ("ArchConfig.BatchPeriod", ...) and the values it takes.
func (c ArchConfig) Validate() error {
	if !slices.Contains(Architectures(), c.Architecture) {
		return &FieldError{Field: "ArchConfig.Architecture", Err: fmt.Errorf("want one of %s; got %q", strings.Join(Architectures(), ", "), c.Architecture)}
	}
	lambda := c.Architecture == "lambda"
	switch {
	case c.BatchPeriod != 0 && !lambda:
		return &FieldError{Field: "ArchConfig.BatchPeriod", Err: errors.New("is Lambda's batch layer's; kappa has no batch layer")}
	case c.BatchLayer != "" && !lambda:
		return &FieldError{Field: "ArchConfig.BatchLayer", Err: errors.New("is Lambda's batch layer's; kappa has no batch layer")}
	case !c.Change.IsZero() && lambda:
		return &FieldError{Field: "ArchConfig.Change", Err: errors.New("is Kappa's reprocessing change; lambda does not reprocess")}
	case c.ReprocessAt != 0 && lambda:
		return &FieldError{Field: "ArchConfig.ReprocessAt", Err: errors.New("is Kappa's reprocessing point; lambda does not reprocess")}
	case c.BatchPeriod != 0 && (c.BatchPeriod < MinBatchPeriod || c.BatchPeriod > MaxBatchPeriod):
		return &FieldError{Field: "ArchConfig.BatchPeriod", Err: fmt.Errorf("want %v to %v (0: %v); got %v", MinBatchPeriod, MaxBatchPeriod, DefaultBatchPeriod, c.BatchPeriod)}
	case c.BatchLayer != "" && !slices.Contains(BatchLayers(), c.BatchLayer):
		return &FieldError{Field: "ArchConfig.BatchLayer", Err: fmt.Errorf("want one of %s; got %q", strings.Join(BatchLayers(), ", "), c.BatchLayer)}
	case c.ReprocessAt != 0 && !(c.ReprocessAt > 0 && c.ReprocessAt < 1):
		return &FieldError{Field: "ArchConfig.ReprocessAt", Err: fmt.Errorf("want a share of the log in (0, 1) (0: %v); got %v", DefaultReprocessAt, c.ReprocessAt)}
	case c.Runtime == "reference":
		return &FieldError{Field: "ArchConfig.Runtime", Err: errors.New("the reference runtime is the batch answer, not a streaming layer; use recordstream or microbatch")}
	case c.Flags.CheckpointDir != "" && !lambda:
		return &FieldError{Field: "RuntimeFlags.CheckpointDir", Err: errors.New("kappa runs two jobs at once, each with its own checkpoints; leave it empty (each job takes a temporary directory)")}
	case c.Runtime != "" && c.Runtime != "recordstream" && !lambda:
		return &FieldError{Field: "ArchConfig.Runtime", Err: fmt.Errorf("kappa's jobs run on recordstream (its reprocessing job reads the log from offset 0 through a view of it); got %q", c.Runtime)}
	}
	if err := c.Change.Validate(); err != nil {
		return err
	}
	return nil
}

// withDefaults fills the zero fields.
func (c ArchConfig) withDefaults() ArchConfig {
	c.Runtime = cmp.Or(c.Runtime, "recordstream")
	if c.Runtime == "recordstream" && c.Flags.Guarantee == "" {
		c.Flags.Guarantee = "at-most-once"
		if c.Architecture == "kappa" {
			c.Flags.Guarantee = "exactly-once"
		}
	}
	if c.Architecture == "lambda" {
		c.BatchPeriod = cmp.Or(c.BatchPeriod, DefaultBatchPeriod)
		c.BatchLayer = cmp.Or(c.BatchLayer, "reference")
	} else {
		c.ReprocessAt = cmp.Or(c.ReprocessAt, DefaultReprocessAt)
	}
	return c
}

// Architecture is a configured architecture: the runners it composes. It
// holds no state between runs; [Architecture.Run] may be called again.
type Architecture struct {
	cfg ArchConfig
	// stream is Lambda's speed layer or Kappa's job (both jobs).
	stream Runner
	// batch is Lambda's batch layer; nil for Kappa.
	batch Runner
}

// NewArchitecture validates c and builds the runners it composes (with
// [NewRunner]); a bad field gives a *[FieldError].
func NewArchitecture(c ArchConfig) (*Architecture, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	s, err := NewRunner(c.Runtime, c.Flags)
	if err != nil {
		return nil, err
	}
	a := &Architecture{cfg: c, stream: s}
	if c.Architecture == "lambda" {
		f := RuntimeFlags{}
		if c.BatchLayer == "microbatch" {
			f.Mode = "event-time" // a bounded job over event-time windows
		}
		if a.batch, err = NewRunner(c.BatchLayer, f); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Name is "lambda(<speed runner> + <batch runner>)" or "kappa(<job runner>)".
func (a *Architecture) Name() string {
	if a.batch != nil {
		return fmt.Sprintf("lambda(%s + %s)", a.stream.Name(), a.batch.Name())
	}
	return fmt.Sprintf("kappa(%s)", a.stream.Name())
}

// Config returns the configuration with its defaults filled in.
func (a *Architecture) Config() ArchConfig { return a.cfg }

// StreamRunner returns the runner of the streaming layer (Lambda's speed
// layer, Kappa's jobs), whose flags cmd/bench checks.
func (a *Architecture) StreamRunner() Runner { return a.stream }

// ArchReport is what one architecture run gives: the final served answer
// checked against the reference (Report, whose Summary carries the
// series), and the architecture's own figures.
type ArchReport struct {
	*Report
	// Served is the served answer's distance from the exact answer (the
	// reference with no exclusions: a record a streaming job dropped as
	// late counts) over the run, sampled on the run's clock: Lambda's
	// merged answer; Kappa's table 1 against the old pipeline's answer
	// before the switch, table 2 against the changed pipeline's after.
	Served []ServedSample
	// Work counts the records each layer or job processed: "speed" and
	// "batch" (Lambda: the batch layer reprocesses the whole prefix at every
	// run), "job1" and "job2" (Kappa).
	Work map[string]int64
	// CodePaths names the implementations of the one query: Lambda's speed
	// and batch layers are two runtimes (two code paths that must agree);
	// Kappa's two jobs are one.
	CodePaths []string
	// BatchRuns is the number of Lambda batch runs.
	BatchRuns int
	// Kappa's figures.
	Kappa *KappaFigures
}

// KappaFigures are a Kappa run's own measurements.
type KappaFigures struct {
	// Reprocess is the time from the second job's start until it had
	// caught up: it was no further behind the log's head (records not yet
	// read, over all partitions) than job 1, the job serving then.
	Reprocess time.Duration
	// StartRecords is the log's length when the second job started.
	StartRecords int64
	// Table1 is job 1's table (old pipeline) checked against the reference
	// of the old pipeline over the prefix job 1 read before it stopped;
	// Table1Records is that prefix's length.
	Table1        CheckResult
	Table1Records int64
	// Table2 is job 2's table (changed pipeline) checked against the
	// reference of the changed pipeline over the whole log.
	Table2 CheckResult
	// SwitchedAfterCatchUp reports that serving switched to table 2 only
	// once job 2 had caught up.
	SwitchedAfterCatchUp bool
}

// ServedSample is the served answer's distance from the exact answer at
// one time of the run.
type ServedSample struct {
	// T is the time since the run started.
	T time.Duration
	// Cutoff is the batch view's cut-off (event time, ms) then;
	// dataflow.MinTime before the first batch run.
	Cutoff dataflow.Time
	Distance
}

// Distance measures a served answer against the exact answer over the
// windows complete so far ([ServedDistance]).
type Distance struct {
	// Windows is the number of exact (window, key) results complete so far.
	Windows int
	// Differing counts those the served answer misses or gives another
	// value, plus served results the exact answer does not have.
	Differing int
	// AbsError sums |served - exact| over numeric values (a missing
	// result counts as 0).
	AbsError float64
}

// Share is Differing over Windows (0 when no window is complete).
func (d Distance) Share() float64 {
	if d.Windows == 0 {
		return 0
	}
	return float64(d.Differing) / float64(d.Windows)
}

// ServeMerge is Lambda's serving layer (Marz's merge at query time), a
// pure function: the results of windows that end at or before cutoff come
// from batch (the batch view, exact over the log up to its cut-off), the
// others from speed (the realtime view). The result is sorted
// ([dataflow.SortResults]) and shares no slice with its inputs but the
// Extra values.
func ServeMerge(batch []dataflow.Result, cutoff dataflow.Time, speed []dataflow.Result) []dataflow.Result {
	out := make([]dataflow.Result, 0, len(batch)+len(speed))
	for _, r := range batch {
		if r.Window.End <= cutoff {
			out = append(out, r)
		}
	}
	for _, r := range speed {
		if r.Window.End > cutoff {
			out = append(out, r)
		}
	}
	dataflow.SortResults(out)
	return out
}

// ServedDistance compares served with exact over the windows complete by
// frontier (event time, ms): the exact results whose window ends at or
// before it, and the served ones that do. A pure function.
func ServedDistance(served, exact []dataflow.Result, frontier dataflow.Time) Distance {
	type wk struct {
		w dataflow.Window
		k string
	}
	got := make(map[wk]dataflow.Result, len(served))
	for _, r := range served {
		if r.Window.End <= frontier {
			got[wk{r.Window, r.Key}] = r
		}
	}
	var d Distance
	for _, e := range exact {
		if e.Window.End > frontier {
			continue
		}
		d.Windows++
		s, ok := got[wk{e.Window, e.Key}]
		delete(got, wk{e.Window, e.Key})
		switch {
		case !ok:
			d.Differing++
			d.AbsError += absValue(e.Value)
		case !sameResult(s, e):
			d.Differing++
			if s.Value.K.Numeric() && e.Value.K.Numeric() {
				d.AbsError += math.Abs(s.Value.Float64() - e.Value.Float64())
			}
		}
	}
	for _, s := range got { // served windows the exact answer does not have
		d.Differing++
		d.AbsError += absValue(s.Value)
	}
	return d
}

func absValue(v dataflow.Value) float64 {
	if v.K.Numeric() {
		return math.Abs(v.Float64())
	}
	return 0
}

// Run runs workload w on the architecture over data d, paced (d.Rate must
// be above 0: the layers run while the log fills), with opts' faults
// applied to the streaming layer (Lambda's speed layer, Kappa's job 1).
// Bad input gives an *[InputError]; a workload the architecture (or its
// streaming runtime) cannot express a *dataflow.UnsupportedError. Every
// goroutine it starts has stopped when it returns.
//
// Memory: besides the log, Lambda keeps the speed layer's pane trace (one
// row per emission, for the speed view over time), at most maxBatchViews
// batch views, and one prefix copy while a batch run lasts; Kappa keeps two
// jobs' state and a bounded lag series. None of it grows per record beyond
// the log itself and the answers.
func (a *Architecture) Run(ctx context.Context, w *Workload, d DataSpec, opts Options, progress func(string)) (*ArchReport, error) {
	if err := d.Validate(); err != nil {
		return nil, &InputError{err}
	}
	if err := opts.Validate(); err != nil {
		return nil, &InputError{err}
	}
	if d.Rate == 0 || d.InputDir != "" {
		return nil, &InputError{&FieldError{Field: "DataSpec.Rate", Err: fmt.Errorf("the %s architecture runs its layers while the log fills: pace built-in data (a rate above 0)", a.cfg.Architecture)}}
	}
	if err := checkData(w, d, memoryLimit()); err != nil {
		return nil, &InputError{err}
	}
	gen, err := datasets.Lookup(w.Dataset)
	if err != nil {
		return nil, &InputError{err}
	}
	tables := gen.Tables(d.Seed)
	p, err := w.Pipeline(tables)
	if err != nil {
		return nil, &InputError{fmt.Errorf("workload %s: %w", w.Name, err)}
	}
	var run func(ctx context.Context, f *archFill) (*ArchReport, error)
	if a.batch != nil {
		if err := lambdaExpresses(p); err != nil {
			return nil, err
		}
		if gen.Schema().Index(p.Agg.TimeCol) < 0 {
			return nil, &dataflow.UnsupportedError{Model: "lambda architecture", Reason: fmt.Sprintf("the batch cut-off is an event time, and the %s log has no column %q", w.Dataset, p.Agg.TimeCol)}
		}
		run = func(ctx context.Context, f *archFill) (*ArchReport, error) { return a.runLambda(ctx, f, p) }
	} else {
		w2, err := a.cfg.Change.Workload(w)
		if err != nil {
			return nil, &InputError{err}
		}
		if a.cfg.Change.IsZero() {
			return nil, &InputError{&FieldError{Field: "ArchConfig.Change", Err: errors.New("kappa reprocesses with a changed pipeline; change something (a window size)")}}
		}
		p2, err := w2.Pipeline(tables)
		if err != nil {
			return nil, &InputError{fmt.Errorf("workload %s: %w", w.Name, err)}
		}
		run = func(ctx context.Context, f *archFill) (*ArchReport, error) { return a.runKappa(ctx, f, p, p2) }
	}
	clk := clock.OrReal(opts.Clock)
	cfg := DataConfig(w, d)
	log, err := datasets.NewLogFor(gen, cfg)
	if err != nil {
		return nil, &InputError{err}
	}
	f := &archFill{w: w, log: log, d: d, opts: opts, clk: clk, progress: progress, events: cfg.Events}
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	var (
		fill    sync.WaitGroup
		fillErr error
	)
	sayf(progress, "%s: filling the %s log at %.0f events/s under %s", w.Name, w.Dataset, d.Rate, a.Name())
	fill.Go(func() {
		fillErr = datasets.Fill(runCtx, gen, log, cfg, datasets.Pacing{Rate: d.Rate, Steps: d.Steps, Clock: clk})
		if fillErr != nil {
			cancelRun() // an open log would keep the layers waiting
		}
	})
	rep, err := run(runCtx, f)
	cancelRun()
	fill.Wait()
	var r *Report
	if err == nil && fillErr == nil {
		r = rep.Report
	}
	recorderFrom(ctx).recordRun(ctx, w, a.Name(), d, r, cmp.Or(err, fillErr))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if fillErr != nil && !errors.Is(fillErr, context.Canceled) {
		return nil, fmt.Errorf("%s: filling the log: %w", w.Name, fillErr)
	}
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", w.Name, a.Name(), err)
	}
	return rep, nil
}

// archFill is what a layer needs of the run: the filling log and the run's
// settings.
type archFill struct {
	w        *Workload
	log      *datasets.Log
	d        DataSpec
	opts     Options
	clk      clock.Clock
	progress func(string)
	// events is the number of events the log will hold once filled.
	events int64
}

// report builds the final served answer's report: served checked against
// the reference of p over the closed log, with the summary of a run named
// name.
func (f *archFill) report(ctx context.Context, name string, p *dataflow.Pipeline, served *Outcome, full *fullReference, flags RuntimeFlags) (*Report, error) {
	check, err := checkOutcome(ctx, p, f.log, served, full)
	if err != nil {
		return nil, err
	}
	dc := DataConfig(f.w, f.d)
	cfg := RunConfig{Events: dc.Events, EventRate: dc.EventRate, Seed: f.d.Seed, Rate: f.d.Rate, Partitions: f.log.Partitions(),
		Flags: flags, CrashAfter: f.opts.CrashAfter, SlowNanos: int64(f.opts.Slow), DropAcks: f.opts.DropAcks}
	dataflow.SortResults(served.Results)
	return &Report{Workload: f.w, Pipeline: p, Runner: name, Outcome: served, Check: check,
		Summary: NewSummary(f.w.Name, name, cfg, served, check)}, nil
}

// ends reads the log's end offsets, Closed first (once it is true, End is
// final): the cut-off of a prefix.
func logEnds(l *datasets.Log) (ends []int64, closed bool) {
	closed = l.Closed()
	ends = make([]int64, l.Partitions())
	for p := range ends {
		ends[p] = l.End(p)
	}
	return ends, closed
}

// copyPrefix returns a closed copy of the records [0, ends[p]) of each
// partition p of l (ingest times and the event-time shift kept), the
// bounded input a batch run or a check over a prefix takes, and the
// largest value of column timeCol in each partition's prefix (MinTime for
// an empty one; timeCol < 0: not read).
func copyPrefix(ctx context.Context, l *datasets.Log, ends []int64, timeCol int) (*datasets.Log, []dataflow.Time, error) {
	c, err := datasets.NewLog(datasets.LogConfig{Schema: l.Schema(), Partitions: l.Partitions(), ChunkRows: l.ChunkRows()})
	if err != nil {
		return nil, nil, err
	}
	c.SetEventTimeShift(l.EventTimeShift())
	maxT := make([]dataflow.Time, len(ends))
	a := c.Appender()
	var row dataflow.Row
	for p, end := range ends {
		maxT[p] = dataflow.MinTime
		for off := int64(0); off < end; off++ {
			if off%4096 == 0 && ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			var ingest int64
			row, ingest = l.Read(p, off, row)
			if timeCol >= 0 {
				maxT[p] = max(maxT[p], row[timeCol].Time())
			}
			a.AppendRow(p, ingest, row)
		}
	}
	if err := a.Flush(); err != nil {
		return nil, nil, err
	}
	c.Close()
	return c, maxT, nil
}

// seriesOf turns served samples into the summary's series, x in seconds.
func seriesOf(samples []ServedSample) map[string]metrics.Series {
	share := make(metrics.Series, 0, len(samples))
	abs := make(metrics.Series, 0, len(samples))
	wins := make(metrics.Series, 0, len(samples))
	for _, s := range samples {
		t := s.T.Seconds()
		share = append(share, metrics.Point{T: t, V: s.Share()})
		abs = append(abs, metrics.Point{T: t, V: s.AbsError})
		wins = append(wins, metrics.Point{T: t, V: float64(s.Windows)})
	}
	return map[string]metrics.Series{"served_differing_share": share, "served_abs_error": abs, "served_complete_windows": wins}
}
