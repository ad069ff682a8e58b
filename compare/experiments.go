package compare

import (
	"context"
	"errors"
	"fmt"
	"math"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/metrics"
)

// Experiment is one reproduction of a lecture claim (LECTURE.md): real runs
// through [RunOne], measured and reduced to a table, plot series and a
// verdict computed from the numbers.
type Experiment struct {
	// Name is the experiment's name on the command line.
	Name string
	// Claim is the lecture claim it tests, e.g. "L5.1".
	Claim string
	// Statement is the claim in one line.
	Statement string
	// Rule says, in one line, how the verdict function decides from the
	// figures (the verdict function in its exp_*.go file).
	Rule string
	// Published is the published figures it is compared with, quoted from
	// shared/reference/papers.md with the sources and reliability marks that
	// file gives ([P] primary, [S] secondary, [U] recalled, not re-read),
	// labelled as theirs.
	Published string
	// run executes the experiment. quick sizes it to seconds.
	run func(ctx context.Context, quick bool, progress func(string)) *ExperimentResult
}

// Run executes the experiment and returns its result. A configuration that
// is missing or fails is recorded in the result's table; only a canceled ctx
// gives an error.
func (e *Experiment) Run(ctx context.Context, quick bool, progress func(string)) (*ExperimentResult, error) {
	start := time.Now()
	rec := &trialRecorder{experiment: e.Name}
	r := e.run(withRecorder(ctx, rec), quick, progress)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.Name, r.Claim, r.Statement, r.Rule, r.Quick = e.Name, e.Claim, e.Statement, e.Rule, quick
	r.Seconds = time.Since(start).Seconds()
	r.Trials = rec.take()
	return r, nil
}

// Table is a result table: rows of named columns, as text.
type Table struct {
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// add appends one row; cells are formatted with [cell].
func (t *Table) add(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = cell(c)
	}
	t.Rows = append(t.Rows, row)
}

func cell(c any) string {
	switch v := c.(type) {
	case string:
		return v
	case float64:
		switch {
		case v == 0:
			return "0"
		case math.Abs(v) >= 100:
			return strconv.FormatFloat(v, 'f', 0, 64)
		case math.Abs(v) >= 1:
			return strconv.FormatFloat(v, 'f', 2, 64)
		}
		return strconv.FormatFloat(v, 'g', 3, 64)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		if v {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(c)
}

// Line is one labelled line of a [Series].
type Line struct {
	Label  string         `json:"label"`
	Points metrics.Series `json:"points"`
	// Scatter draws the points as small dots without a connecting line
	// (a scatter plot); the zero value draws a line.
	Scatter bool `json:"scatter,omitempty"`
}

// Series is the data of one figure: lines over a shared x axis.
type Series struct {
	// Name names the figure's files: <experiment>-<name>.csv, .svg and .png.
	Name   string `json:"name"`
	Title  string `json:"title"`
	XLabel string `json:"x_label"`
	YLabel string `json:"y_label"`
	// XScale and YScale choose linear or log axes; the zero value picks
	// log when the values span two decades ([ScaleAuto]).
	XScale Scale `json:"x_scale,omitempty"`
	YScale Scale `json:"y_scale,omitempty"`
	// Refs are labelled reference lines (batch interval, timeout,
	// capacity) drawn across the figure.
	Refs  []RefLine `json:"refs,omitempty"`
	Lines []Line    `json:"lines"`
}

// ExperimentResult is what one experiment measured.
type ExperimentResult struct {
	Name      string   `json:"name"`
	Claim     string   `json:"claim"`
	Statement string   `json:"statement"`
	Rule      string   `json:"rule,omitempty"`
	Quick     bool     `json:"quick"`
	Seconds   float64  `json:"seconds"`
	Table     Table    `json:"table"`
	Series    []Series `json:"series,omitempty"`
	// Verdict is computed from the measured figures by the experiment's
	// verdict function (in its exp_*.go file).
	Verdict Verdict  `json:"verdict"`
	Notes   []string `json:"notes,omitempty"`
	// Trials lists every trial the experiment ran, as the engine recorded
	// them (trial.do).
	Trials []TrialRecord `json:"trials,omitempty"`
}

// Experiments returns the experiments of the suite, in report order. Each
// call builds new values.
func Experiments() []*Experiment {
	return []*Experiment{
		batchStreamExperiment(),
		supersetExperiment(),
		lambdaKappaExperiment(),
		ackerCostExperiment(),
		timeoutsExperiment(),
		crashExperiment(),
		tridentExperiment(),
		windowsExperiment(),
		microbatchBackpressureExperiment(),
		latencyExperiment(),
		snapshotOverheadExperiment(),
		transactionalUpdatesExperiment(),
		timeDomainsExperiment(),
		scenariosExperiment(),
	}
}

// publishedFor is the named experiment's published figures ("" for a
// name the suite no longer has).
func publishedFor(name string) string {
	for _, e := range Experiments() {
		if e.Name == name {
			return e.Published
		}
	}
	return ""
}

// ExperimentNames returns the names of [Experiments] in order.
func ExperimentNames() []string {
	var names []string
	for _, e := range Experiments() {
		names = append(names, e.Name)
	}
	return names
}

// ErrUnknownExperiment is wrapped by [LookupExperiments] for a name it does
// not know.
var ErrUnknownExperiment = errors.New("unknown experiment")

// LookupExperiments returns the named experiments in the given order, or
// every experiment when names is empty.
func LookupExperiments(names []string) ([]*Experiment, error) {
	all := Experiments()
	if len(names) == 0 {
		return all, nil
	}
	var out []*Experiment
	for _, n := range names {
		i := slices.IndexFunc(all, func(e *Experiment) bool { return e.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("%w %q: use one of %s", ErrUnknownExperiment, n, strings.Join(ExperimentNames(), ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// trial is one run of an experiment.
type trial struct {
	workload *Workload
	runtime  string
	flags    RuntimeFlags
	data     DataSpec
	opts     Options
	// timeout bounds the run; a run cut by it is reported as such.
	timeout time.Duration
	// label names the trial in the suite's trial records (default: the
	// workload's name).
	label string
}

// do runs t and returns its report, or the error that stopped it.
func (t trial) do(ctx context.Context, progress func(string)) (*Report, error) {
	ctx = withTrial(ctx, t)
	r, err := NewRunner(t.runtime, t.flags)
	if err != nil {
		recorderFrom(ctx).recordRun(ctx, t.workload, "", t.data, nil, err)
		return nil, err
	}
	if t.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
		defer cancel()
	}
	if t.data.Seed == 0 {
		t.data.Seed = 1
	}
	if t.opts.Seed == 0 {
		t.opts.Seed = 1
	}
	rep, err := RunOne(ctx, t.workload, r, t.data, t.opts, nil)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && t.timeout > 0 {
		err = fmt.Errorf("did not finish within %v: %w", t.timeout, err)
	}
	if err == nil {
		sayf(progress, "  %s on %s: %s events/s, %s", t.workload.Name, rep.Runner, cell(rep.Summary.EventsPerSecond), rep.Check)
	} else {
		sayf(progress, "  %s on %s: %v", t.workload.Name, t.runtime, err)
	}
	return rep, err
}

func mustWorkload(name string) *Workload {
	w, err := LookupWorkload(name)
	if err != nil {
		panic(err) // a renamed built-in workload is a programming error
	}
	return w
}

// errText is an error as one table cell: the model's reason for an
// unsupported pipeline, the message otherwise.
func errText(err error) string {
	var u *dataflow.UnsupportedError
	if errors.As(err, &u) {
		return "unsupported: " + u.Reason
	}
	return "error: " + err.Error()
}

func configName(e SuiteEntry) string {
	switch e.Runtime {
	case "microbatch":
		mode := e.Flags.Mode
		if mode == "" {
			mode = "dstream"
		}
		bi := e.Flags.BatchInterval
		if bi == 0 {
			bi = time.Second
		}
		return fmt.Sprintf("microbatch/%s %v", mode, bi)
	case "recordstream":
		g := e.Flags.Guarantee
		if g == "" {
			g = "at-most-once"
		}
		return "recordstream/" + g
	}
	return e.Runtime
}

func pick[T any](quick bool, q, full T) T {
	if quick {
		return q
	}
	return full
}

// RunExperiments runs exps in order and gathers their results with the
// machine's description. command is the command line recorded in the
// results. Only a canceled ctx stops it early (with the results so far).
func RunExperiments(ctx context.Context, exps []*Experiment, quick bool, command string, progress func(string)) (*SuiteResults, error) {
	start := time.Now()
	r := &SuiteResults{
		Command: command, Date: start.UTC().Format(time.RFC3339),
		GoVersion: goruntime.Version(), GOOS: goruntime.GOOS, GOARCH: goruntime.GOARCH,
		GOMAXPROCS: goruntime.GOMAXPROCS(0), Cores: goruntime.NumCPU(), CPU: CPUModel(), Quick: quick,
	}
	for _, e := range exps {
		sayf(progress, "experiment %s (%s)", e.Name, e.Claim)
		res, err := e.Run(ctx, quick, progress)
		if err != nil {
			r.Seconds = time.Since(start).Seconds()
			return r, err
		}
		sayf(progress, "experiment %s: %s (%.1fs)", e.Name, res.Verdict, res.Seconds)
		r.Experiments = append(r.Experiments, res)
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}
