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
	"github.com/weirlab/weir/internal/metrics"
)

// DefaultRetention is how much ingest time an unbounded run's log keeps
// behind its newest record when its consumers do not report positions
// ([datasets.Retention.MaxAge]): longer than recordstream's default message
// timeout (30 s), so an at-least-once spout's replay of a timed-out tuple
// finds its record.
const DefaultRetention = 40 * time.Second

// StopGrace is how long after its context is done (Ctrl-C) an unbounded
// run waits for the runtime to drain the closed log before it abandons it.
const StopGrace = time.Second

// maxSummaryPoints caps each series of an unbounded run's summary.
const maxSummaryPoints = 512

// UnboundedSpec is an unbounded run's input: built-in data paced at
// Data.Rate for Duration (0: until the context is done), in a log that
// keeps Retention of ingest time.
type UnboundedSpec struct {
	// Data is the built-in data: Rate required, Events and InputDir unset.
	Data DataSpec
	// Duration is the stream's length on the run's clock (0: until the
	// context is done: Ctrl-C).
	Duration time.Duration
	// Retention is the log's [datasets.Retention.MaxAge] (0:
	// [DefaultRetention]).
	Retention time.Duration
	// ProgressEvery is the time between progress lines (0: 5 s).
	ProgressEvery time.Duration
}

// Validate reports a spec that cannot be run unbounded, naming the field.
func (u UnboundedSpec) Validate() error {
	d := u.Data
	switch {
	case d.Rate == 0:
		return &FieldError{Field: "DataSpec.Rate", Err: errors.New("an unbounded stream is paced: set a rate in events per second")}
	case d.Events != 0:
		return &FieldError{Field: "DataSpec.Events", Err: fmt.Errorf("an unbounded stream runs for a duration, not a number of events (%d); set one of them", d.Events)}
	case d.InputDir != "":
		return &FieldError{Field: "DataSpec.InputDir", Err: errors.New("an unbounded stream is generated as it runs; a file is a bounded input: drop the input directory or the duration")}
	case u.Duration < 0:
		return &FieldError{Field: "UnboundedSpec.Duration", Err: fmt.Errorf("must not be negative (0: until interrupted); got %v", u.Duration)}
	case u.Retention < 0:
		return &FieldError{Field: "UnboundedSpec.Retention", Err: fmt.Errorf("must not be negative (0: the default, %v); got %v", DefaultRetention, u.Retention)}
	case u.ProgressEvery < 0:
		return &FieldError{Field: "UnboundedSpec.ProgressEvery", Err: fmt.Errorf("must not be negative (0: 5s); got %v", u.ProgressEvery)}
	}
	return d.Validate()
}

// UnboundedReport is what an unbounded run gives: the [Report] (its Check
// is the online check's, against the exact per-window answer computed as
// the data was generated) and the memory figures.
type UnboundedReport struct {
	Report
	// NotChecked, if set, is why the run's results were not checked (the
	// workload's answer cannot be computed online in bounded memory);
	// Check is then empty and means nothing.
	NotChecked string
	// Generated is the number of events the stream had; Held the most
	// records the log held at a progress sample.
	Generated, HeldMax int64
	// Interrupted says the stream ended because the context was done
	// (Ctrl-C), not at Duration.
	Interrupted bool
	// RSSStart and RSSEnd are the process's resident memory (bytes) when
	// the stream started and when it ended (0 where unknown).
	RSSStart, RSSEnd int64
	// Beyond counts rows that came after the check had finalised their
	// window (disorder beyond the data's largest delay): then the check is
	// not exact and the run does not match.
	Beyond int64
	// OpenWindowsMax is the most windows the online check held open.
	OpenWindowsMax int
}

// Verdict is the run's one-line check: "not checked: ..." or the online
// check's [CheckResult] line.
func (u *UnboundedReport) Verdict() string {
	if u.NotChecked != "" {
		return "not checked: " + u.NotChecked
	}
	s := u.Check.String()
	if u.Beyond > 0 {
		s += fmt.Sprintf("; INEXACT: %d rows came after their window was final (disorder beyond the data's largest delay)", u.Beyond)
	}
	return s
}

// OK reports whether the run was checked and matched.
func (u *UnboundedReport) OK() bool { return u.NotChecked == "" && u.Beyond == 0 && u.Check.OK() }

// RunUnbounded runs workload w on runner r over an unbounded stream: the
// dataset generated as the pacing needs it ([datasets.Pacing.Unbounded]),
// into a log that releases chunks as its retention allows
// ([datasets.Retention]: below every registered consumer's position, and
// anything older than spec.Retention), for spec.Duration or until ctx is
// done. Its memory does not grow with the stream's length: the log holds
// about Rate × Retention records, latency histograms have fixed buckets,
// and the summary's series are downsampled.
//
// The check cannot be [dataflow.Reference] (that needs the whole input):
// for windowed aggregations it is an online exact answer
// ([OnlineCheckable]), window by window from the records as they are
// generated, compared with the runtime's results when it ends. Other
// workloads run unchecked, and the report says why (NotChecked).
//
// When ctx is done the stream ends (the log is closed). With Duration 0
// (until interrupted) that is the run's normal end: the runner and the check
// then have [StopGrace] to drain the log and report; after it, or at once
// for a run of a set Duration, they are canceled and RunUnbounded returns
// ctx's error. progress receives a line every spec.ProgressEvery.
//
// Until the runtimes report their positions ([datasets.Log.Retain] with the
// runner's name, which RunUnbounded registers as a consumer), the log
// releases by age only: a runtime lagging more than the retention fails
// the run with the log's offset-out-of-range error, never a silent gap.
func RunUnbounded(ctx context.Context, w *Workload, r Runner, spec UnboundedSpec, opts Options, progress func(string)) (*UnboundedReport, error) {
	if err := spec.Validate(); err != nil {
		return nil, &InputError{err}
	}
	if err := opts.Validate(); err != nil {
		return nil, &InputError{err}
	}
	if opts.Trace {
		return nil, &InputError{&FieldError{Field: "Options.Trace", Err: errors.New("a trace has a row per record, which an unbounded stream cannot keep; trace a run of a number of events")}}
	}
	if r.Name() == "reference" {
		return nil, &InputError{errors.New("the reference runtime is the batch answer over the whole input, which an unbounded stream never has; run a streaming runtime")}
	}
	if err := datasets.StreamsInBoundedMemory(w.Dataset); err != nil {
		return nil, &InputError{err}
	}
	ret := cmpOr(spec.Retention, DefaultRetention)
	if isRecordstream(r.Name()) {
		var mt time.Duration
		if rr, ok := r.(*recordstreamRunner); ok {
			mt = rr.cfg.MessageTimeout
		} else if f, ok := r.(interface{ Flags() RuntimeFlags }); ok {
			mt = f.Flags().MessageTimeout
		}
		if mt = cmpOr(mt, 30*time.Second); mt >= ret {
			return nil, &InputError{&FieldError{Field: "UnboundedSpec.Retention", Err: fmt.Errorf(
				"the log keeps %v of records, but recordstream replays a tuple tree that times out after its message timeout (%v) from the log: keep more than that, or lower the message timeout", ret, mt)}}
		}
	}
	d := spec.Data
	// The log holds about Rate × retention records: check that, not a total.
	held := d
	held.Events = int64(math.Min(d.Rate*ret.Seconds(), math.MaxInt64/2)) + 1
	if err := checkMemory(w, held, DataConfig(w, held), memoryLimit()); err != nil {
		return nil, &InputError{fmt.Errorf("the log keeps %v of records at %.0f events/s: %w", ret, d.Rate, err)}
	}
	p, err := w.Pipeline(datasetTables(w, d))
	if err != nil {
		return nil, &InputError{fmt.Errorf("workload %s: %w", w.Name, err)}
	}
	gen, err := datasets.Lookup(w.Dataset)
	if err != nil {
		return nil, &InputError{err}
	}
	cfg := DataConfig(w, d)
	cfg.Events = 0 // unbounded: the pacing decides
	if err := cfg.Validate(); err != nil {
		return nil, &InputError{err}
	}
	lc := datasets.Config{Partitions: cfg.Partitions, ChunkRows: cfg.ChunkRows}
	log, err := newRetainingLog(gen, lc, datasets.Retention{Consumers: true, MaxAge: ret})
	if err != nil {
		return nil, &InputError{err}
	}
	clk := clock.OrReal(opts.Clock)
	rep := &UnboundedReport{}
	rep.RSSStart, _ = metrics.RSS()

	// The runtime's consumer: until the runtime reports its positions
	// (Log.Retain with this name) it holds everything it has not
	// reported, and the age rule alone releases.
	runCons, err := log.NewConsumer(r.Name())
	if err != nil {
		return nil, err
	}
	defer runCons.Close()

	reason := OnlineCheckable(w, p)
	var oc *onlineCheck
	if reason == "" {
		eff := cfg
		if !eff.InOrder && eff.Skew.IsZero() {
			eff.Skew = datasets.DefaultSkew()
		}
		maxDelay := max(eff.Skew.Delay, eff.Skew.LateDelay).Milliseconds()
		if eff.InOrder {
			maxDelay = 0
		}
		if oc, err = newOnlineCheck(p, maxDelay); err != nil {
			return nil, fmt.Errorf("%s: online check: %w", w.Name, err)
		}
	}
	rep.NotChecked = reason
	var cons *datasets.Consumer // the check's
	if oc != nil {
		if cons, err = log.NewConsumer(onlineConsumer); err != nil {
			return nil, err
		}
	}

	// Goroutines: the filler, the online check, the stop watchdog and the
	// progress lines; all are waited for before RunUnbounded returns. The
	// stream ends when ctx is done; the runner and the check run on until
	// they have read the closed log (or StopGrace after ctx is done).
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	fillCtx, cancelFill := context.WithCancel(ctx)
	defer cancelFill()
	bg, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBg()
	var work, side sync.WaitGroup
	var fillErr, checkErr error
	sayf(progress, "%s: streaming %s at %.0f events/s for %s into %s (log retention: %s)", w.Name, w.Dataset, d.Rate, durText(spec.Duration), r.Name(), log.Retention())
	work.Go(func() {
		fillErr = datasets.Fill(fillCtx, gen, log, cfg, datasets.Pacing{Rate: d.Rate, Steps: d.Steps, Clock: clk, Unbounded: true, For: spec.Duration})
		if fillErr != nil {
			cancelRun()
		}
	})
	var checkMu sync.Mutex // guards rep's maxima, written by two goroutines
	if oc != nil {
		work.Go(func() {
			defer cons.Close()
			checkErr = oc.follow(runCtx, p, log, cons, func() {
				checkMu.Lock()
				rep.OpenWindowsMax = max(rep.OpenWindowsMax, oc.openWindows())
				checkMu.Unlock()
			})
			if checkErr != nil {
				cancelRun()
			}
		})
	}
	side.Go(func() { // Ctrl-C: the stream ends; the readers have StopGrace
		select {
		case <-ctx.Done():
		case <-bg.Done():
			return
		}
		grace := time.Duration(0) // a run of a set length interrupted stops at once
		if spec.Duration == 0 {
			grace = StopGrace // until interrupted: the interruption is its end
		}
		if clock.Sleep(bg, clk, grace) == nil {
			cancelRun()
		}
	})
	every := cmpOr(spec.ProgressEvery, 5*time.Second)
	start := clk.Now()
	side.Go(func() {
		for clock.Sleep(bg, clk, every) == nil {
			h := log.Held()
			rss, _ := metrics.RSS()
			checkMu.Lock()
			rep.HeldMax = max(rep.HeldMax, h)
			checkMu.Unlock()
			sayf(progress, "%s: %v: %d events generated, log holds %d (%d MiB), RSS %d MiB",
				w.Name, clock.Since(clk, start).Round(time.Second), log.Len(), h, log.Bytes()>>20, rss>>20)
		}
	})

	job := &Job{Workload: w, Pipeline: p, Log: log, Consumer: runCons, Options: opts, Progress: progress,
		Identity: jobIdentity(w, p, log, d) + fmt.Sprintf(" unbounded for %v", spec.Duration)}
	out, runErr := r.Run(runCtx, job)
	if runErr != nil {
		cancelRun() // the check stops too
	}
	cancelFill() // a failed runner stops the stream; a finished one has read its end
	work.Wait()  // the check reads the closed log to its end
	stopBg()
	side.Wait()
	rep.RSSEnd, _ = metrics.RSS()
	rep.Generated = log.Len()
	rep.HeldMax = max(rep.HeldMax, log.Held())
	rep.Interrupted = ctx.Err() != nil
	switch {
	case fillErr != nil:
		return nil, fmt.Errorf("%s: filling the log: %w", w.Name, fillErr)
	case (runErr != nil || checkErr != nil) && ctx.Err() != nil:
		return nil, ctx.Err() // interrupted, or not drained within the grace
	case runErr != nil:
		return nil, fmt.Errorf("%s on %s: %w", w.Name, r.Name(), runErr)
	case out == nil:
		return nil, fmt.Errorf("%s on %s: the runner returned no outcome", w.Name, r.Name())
	case log.Err() != nil:
		return nil, fmt.Errorf("%s on %s: the runtime read what the log had released: %w", w.Name, r.Name(), log.Err())
	case checkErr != nil:
		return nil, fmt.Errorf("%s: online check: %w", w.Name, checkErr)
	}
	dataflow.SortResults(out.Results)
	var check CheckResult
	if oc != nil {
		dataflow.SortResults(oc.final)
		check = Check(oc.final, out.Results, CheckOptionsFor(p, len(out.Late)))
		rep.Beyond = oc.beyond
	}
	rc := RunConfig{Events: rep.Generated, EventRate: cfg.EventRate, Seed: d.Seed, Rate: d.Rate, Partitions: log.Partitions(),
		CrashAfter: opts.CrashAfter, SlowNanos: int64(opts.Slow), DropAcks: opts.DropAcks}
	if f, ok := r.(interface{ Flags() RuntimeFlags }); ok {
		rc.Flags = f.Flags()
	}
	sum := NewSummary(w.Name, r.Name(), rc, out, check)
	for k, s := range sum.Series {
		sum.Series[k] = metrics.Downsample(s, maxSummaryPoints, metrics.ReduceMean)
	}
	if rep.NotChecked != "" {
		sum.Reference = ReferenceCheck{}
		sum.Warnings = append(sum.Warnings, Warning{Message: "not checked: " + rep.NotChecked})
	} else if rep.Beyond > 0 {
		sum.Reference.OK = false
		sum.Warnings = append(sum.Warnings, Warning{Message: fmt.Sprintf("online check inexact: %d rows came after their window was final", rep.Beyond)})
	}
	rep.Report = Report{Workload: w, Pipeline: p, Runner: r.Name(), Outcome: out, Check: check, Summary: sum}
	return rep, nil
}

// newRetainingLog returns an empty log for gen under cfg with retention ret.
func newRetainingLog(gen datasets.Generator, cfg datasets.Config, ret datasets.Retention) (*datasets.Log, error) {
	l, err := datasets.NewLogFor(gen, cfg)
	if err != nil {
		return nil, err
	}
	return datasets.NewLog(datasets.LogConfig{Schema: gen.Schema(), Partitions: l.Partitions(), ChunkRows: l.ChunkRows(), Retention: ret})
}

// datasetTables returns the lookup tables of w's dataset for d's seed.
func datasetTables(w *Workload, d DataSpec) map[string]*dataflow.Table {
	gen, err := datasets.Lookup(w.Dataset)
	if err != nil {
		return nil
	}
	return gen.Tables(d.Seed)
}

func isRecordstream(name string) bool {
	return len(name) > len("recordstream/") && name[:len("recordstream/")] == "recordstream/"
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func durText(d time.Duration) string {
	if d == 0 {
		return "until interrupted"
	}
	return d.String()
}
