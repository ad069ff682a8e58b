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
	"github.com/weirlab/weir/microbatch"
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
	// figures (verdicts.go).
	Rule string
	// run executes the experiment. quick sizes it to seconds.
	run func(ctx context.Context, quick bool, progress func(string)) *ExperimentResult
}

// Run executes the experiment and returns its result. A configuration that
// is missing or fails is recorded in the result's table; only a canceled ctx
// gives an error.
func (e *Experiment) Run(ctx context.Context, quick bool, progress func(string)) (*ExperimentResult, error) {
	start := time.Now()
	r := e.run(ctx, quick, progress)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.Name, r.Claim, r.Statement, r.Rule, r.Quick = e.Name, e.Claim, e.Statement, e.Rule, quick
	r.Seconds = time.Since(start).Seconds()
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
	// verdict function (verdicts.go).
	Verdict Verdict  `json:"verdict"`
	Notes   []string `json:"notes,omitempty"`
}

// Experiments returns the experiments of the suite, in report order. Each
// call builds new values.
func Experiments() []*Experiment {
	return []*Experiment{
		{Name: "superset", Claim: "L2", Statement: "A well-designed streaming system is a superset of batch: on bounded input it gives exactly the batch answer.", Rule: "Holds when every run a model can express equals the reference; does not hold when one differs; inconclusive when a run failed.", run: runSuperset},
		{Name: "acker-cost", Claim: "L5.1", Statement: "Storm's record acknowledgement costs throughput: every tuple sends a system message to the acker.", Rule: "Holds when every acked configuration is slower than at-most-once with the ranges of repetitions apart and sends about 2 or more acker messages per tracked tuple; does not hold when one is faster outside the spread, or slower with fewer messages; inconclusive inside the spread or on a failed trial. Second sub-claim, acking lowers the sustainable rate: holds when at-least-once (1 acker) sustains less than at-most-once by more than the search's precision, inconclusive when a search failed or found only a lower bound, does not hold otherwise. The verdict is the worse of the two.", run: runAckerCost},
		{Name: "timeouts", Claim: "L5.3", Statement: "Under backpressure slow processing looks like failure: tuples time out before they are acked and are replayed although nothing failed.", Rule: "Holds when the short timeout times out and replays trees in every repetition, nothing fails, and the negative control (a timeout above the queueing delay) times out none; does not hold when the short timeout times out none; inconclusive when a trial hung or failed, the control timed out, or repetitions disagree.", run: runTimeouts},
		{Name: "crash", Claim: "L4/L5/L6/L7", Statement: "Mostly correct is not good enough: after a crash at-most-once loses, at-least-once duplicates, snapshots and recomputed micro-batches are exact.", Rule: "Each sub-claim (at-most-once loses; at-least-once duplicates, judged on stateless grep with lost acks, where duplicates must be measured in every repetition; exactly-once is exact, so it duplicates nothing) is tested on its trials against the full answer in every repetition: holds when every trial shows its outcome, does not hold when one consistently shows another, inconclusive when repetitions disagree, a sub-claim has no trial, or a trial failed. Windowed at-least-once with lateness 0 is reported, not judged.", run: runCrash},
		{Name: "windows", Claim: "L6.2/L6.4", Statement: "Micro-batches limit windows (no count or session windows) and tie the window size to the batch interval.", Rule: "Holds when the DStream configuration refuses sessions, count windows and a window that is not a multiple of the batch interval, and runs the aligned window exactly; does not hold when it runs one of them; inconclusive when a trial failed.", run: runWindows},
		{Name: "microbatch-backpressure", Claim: "L6.3", Statement: "When processing is slower than the batch cutter, batches queue, the delay grows batch after batch, and the job ends out of memory.", Rule: "Holds when, without backpressure, the scheduling delay exceeds twice the batch interval in every repetition and the memory budget stops every run; does not hold when the delay never exceeds the interval or the budget never stops a run; inconclusive otherwise.", run: runBackpressure},
		{Name: "latency", Claim: "L6.1", Statement: "Micro-batches have higher latency than record-at-a-time processing (YSB comparison).", Rule: "On the same paced load, holds when every micro-batch configuration has a higher p50 latency than record-at-a-time with the ranges of repetitions apart; does not hold when one is lower outside the spread; inconclusive when the batch floor is inside the spread or a trial failed.", run: runLatency},
		{Name: "snapshot-overhead", Claim: "L7", Statement: "Distributed snapshots give exactly-once with almost no overhead when state is small.", Rule: "Among intervals with at least 10 checkpoints in every repetition, holds when each keeps at least 90% of the throughput without checkpoints; does not hold when one loses more, outside the spread; inconclusive inside the spread or when no interval has enough checkpoints.", run: runSnapshotOverhead},
		{Name: "time-domains", Claim: "L9/L10", Statement: "Four approaches to time (time-agnostic, approximation, processing-time windows, event-time windows); event time needs a completeness bound, and a tighter watermark drops more late data.", Rule: "Holds when every approach matches the reference, the late share at the tightest watermark bound is above the loosest bound's, ranges apart, and the approximate top-N's recall is below 1 at the smallest sketch width and at least 0.99 at the default in every repetition; does not hold when an approach differs, the order is reversed, or the smallest sketch misses nothing; inconclusive inside the spread, when recall is not monotone in the width, or on a failed trial.", run: runTimeDomains},
	}
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
}

// do runs t and returns its report, or the error that stopped it.
func (t trial) do(ctx context.Context, progress func(string)) (*Report, error) {
	r, err := NewRunner(t.runtime, t.flags)
	if err != nil {
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

// ---- superset (L2) ----

func runSuperset(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"workload", "runtime", "events", "events/s", "matches reference"}}}
	d := DataSpec{Seed: 1, Events: pick[int64](quick, 40_000, 0)}
	rows, err := RunSuite(ctx, DefaultSuite(), Workloads(), d, Options{Seed: 1}, nil, func(r SuiteRow) {
		sayf(progress, "  %s on %s", r.Workload, r.Runtime)
	})
	if err != nil {
		res.Notes = append(res.Notes, "suite stopped: "+err.Error())
	}
	o := supersetOutcome{Runs: map[string]runEnd{}}
	for _, r := range rows {
		key := r.Workload + " on " + r.Runtime
		if r.Err != nil {
			res.Table.add(r.Workload, r.Runtime, "-", "-", errText(r.Err))
			if r.Unsupported() {
				o.Runs[key] = runEnd{Unsupported: errText(r.Err)}
			} else {
				o.Runs[key] = runEnd{Failed: trialStatus(r.Err)}
			}
			continue
		}
		s := r.Report.Summary
		res.Table.add(r.Workload, r.Runtime, s.Events, s.EventsPerSecond, r.Report.Check.String())
		o.Runs[key] = runEnd{Exact: r.Report.Check.OK(), Check: r.Report.Check.String()}
	}
	res.Verdict = verdictSuperset(o)
	return res
}

// ---- acker-cost (L5.1) ----

func runAckerCost(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "events/s median [min-max]", "relative to at-most-once (medians)", "acker messages per tracked tuple", "tracked tuples", "matches reference (every repetition)", "event-time p99 ms median [min-max]"}}}
	w := mustWorkload("ysb")
	events := pick[int64](quick, 200_000, 1_000_000)
	n := reps(quick)
	cfgs := []ackerConfig{
		{ackerBase, RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}},
		{"at-least-once, 1 acker", RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, Ackers: 1}},
		{"at-least-once, 2 ackers", RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, Ackers: 2}},
	}
	o := ackerOutcome{Runs: map[string]ackerRun{}}
	for _, c := range cfgs {
		reports, err := trial{workload: w, runtime: "recordstream", flags: c.flags, data: DataSpec{Events: events}, timeout: 2 * time.Minute}.repeat(ctx, n, progress)
		if err != nil {
			o.Runs[c.name] = ackerRun{Failed: trialStatus(err)}
			res.Table.add(c.name, "-", "-", "-", "-", errText(err), "-")
			continue
		}
		r := ackerRun{
			Throughput: spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond })),
			MsgsPerTuple: spreadOf(figure(reports, func(r *Report) float64 {
				return float64(r.Summary.Counters["acker_messages"]) / float64(max(r.Summary.Counters["emitted"], 1))
			})),
		}
		o.Runs[c.name] = r
		tracked := "-"
		if c.flags.Guarantee != "at-most-once" {
			tracked = spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Summary.Counters["emitted"]) })).String()
		}
		rel := "-"
		if b := o.Runs[ackerBase].Throughput; b.N > 0 {
			rel = cell(r.Throughput.Median / b.Median)
		}
		res.Table.add(c.name, r.Throughput.String(), rel, r.MsgsPerTuple.String(), tracked, allExact(reports), "-")
	}
	res.Notes = append(res.Notes, fmt.Sprintf("YSB, %d events per run, log filled before the run (capacity, not latency), parallelism 2, %d repetitions per configuration. A tracked tuple is one the spout emitted into a tracked tree; its acker messages are the spout's init, the bolts' acks and the acker's result.", events, n))
	runAckerKnee(ctx, quick, res, &o, progress)
	res.Verdict = verdictAckerCost(o)
	return res
}

// ackerKneeConfigs are the configurations acker-cost searches the
// sustainable rate of and sweeps offered load on: at-most-once first (the
// sweep's fractions are of its rate), the acked ones after it.
func ackerKneeConfigs(quick bool) []ackerConfig {
	cfgs := []ackerConfig{
		{ackerBase, RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}},
		{ackerKneeAcked, RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, Ackers: 1}},
	}
	if !quick {
		cfgs = append(cfgs,
			ackerConfig{"at-least-once, 2 ackers", RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, Ackers: 2}},
			ackerConfig{"exactly-once (barrier snapshots)", RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2}})
	}
	return cfgs
}

// ackerConfig is one labelled recordstream configuration of acker-cost.
type ackerConfig struct {
	name  string
	flags RuntimeFlags
}

// ackerKneeFractions are the sweep's offered rates as shares of
// at-most-once's sustainable rate: 10% to 150% in full mode; three points
// in quick mode (below, at and above the acked knee), which keeps the quick
// suite well inside its time budget.
func ackerKneeFractions(quick bool) []float64 {
	if quick {
		return []float64{0.25, 1.0, 1.5}
	}
	return []float64{0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5}
}

// runAckerKnee searches each knee configuration's sustainable rate
// ([SustainableRate]) on YSB with 500 ms windows and a 250 ms watermark
// bound (so short probes close enough windows to judge), then sweeps the
// offered load at ackerKneeFractions of at-most-once's rate, measuring
// event-time p99 per point. It records the rates in o.Knee, rows in res's
// table and the latency-against-load figure.
func runAckerKnee(ctx context.Context, quick bool, res *ExperimentResult, o *ackerOutcome, progress func(string)) {
	w, err := Overrides{Window: 500 * time.Millisecond, WatermarkBound: 250 * time.Millisecond}.Workload(mustWorkload("ysb"))
	if err != nil {
		res.Table.add("sustainable rate", "-", "-", "-", "-", errText(err), "-")
		return
	}
	copts := CapacityOptions{
		StartRate:     pick(quick, 800_000.0, 400_000.0),
		MaxProbes:     pick(quick, 5, 9),
		ProbeDuration: pick(quick, 2*time.Second, 4*time.Second),
		Precision:     pick(quick, 0.25, 0.1),
		Options:       Options{Seed: 1},
	}
	o.Precision = copts.Precision
	o.Knee = map[string]ackerKnee{}
	cfgs := ackerKneeConfigs(quick)
	for _, c := range cfgs {
		r, err := NewRunner("recordstream", c.flags)
		if err == nil {
			var cr CapacityResult
			cr, err = SustainableRate(ctx, w, r, DataSpec{Seed: 1}, copts)
			if err == nil {
				k := ackerKnee{Rate: cr.Rate, LowerBound: cr.LowerBound, Reason: cr.Reason}
				if cr.Rate == 0 {
					k.Failed = cr.Reason
				}
				o.Knee[c.name] = k
				sayf(progress, "  %s: sustainable %.0f events/s (%s)", c.name, cr.Rate, cr.Reason)
				rate, rel := cell(cr.Rate), "-"
				if cr.LowerBound {
					rate = "at least " + rate
				}
				if b := o.Knee[ackerBase]; b.Rate > 0 {
					rel = cell(cr.Rate / b.Rate)
				}
				res.Table.add(c.name+": sustainable rate (paced search)", rate, rel, "-", "-", fmt.Sprintf("%d probes", len(cr.Probes)), "-")
				continue
			}
		}
		o.Knee[c.name] = ackerKnee{Failed: trialStatus(err)}
		res.Table.add(c.name+": sustainable rate (paced search)", "-", "-", "-", "-", errText(err), "-")
	}
	base := o.Knee[ackerBase].Rate
	if base == 0 {
		res.Notes = append(res.Notes, "No latency-against-load sweep: at-most-once's sustainable rate was not found.")
		return
	}
	n := pick(quick, 1, minReps)
	// A sweep point offers its rate for point; quick mode halves a probe's
	// duration (the overloaded points are the suite's longest runs).
	point := pick(quick, copts.ProbeDuration/2, copts.ProbeDuration)
	fig := Series{Name: "knee", Title: fmt.Sprintf("YSB event-time p99 against offered load (recordstream, parallelism 2, 500 ms windows, %v per point)", point),
		XLabel: "offered rate (events/s)", YLabel: "event-time p99 (ms)"}
	for _, c := range cfgs {
		if k := o.Knee[c.name]; k.Rate > 0 {
			fig.Refs = append(fig.Refs, VLine(c.name+" sustainable", k.Rate))
		}
		line := Line{Label: c.name}
		for _, f := range ackerKneeFractions(quick) {
			rate := f * base
			label := fmt.Sprintf("%s at %.0f%% of at-most-once's rate (%s events/s)", c.name, 100*f, cell(rate))
			t := trial{workload: w, runtime: "recordstream", flags: c.flags, data: DataSpec{Rate: rate, Events: int64(rate * point.Seconds())}, timeout: 3*point + 5*time.Second}
			reports, err := t.repeat(ctx, n, progress)
			if err != nil {
				res.Table.add(label, "-", "-", "-", "-", errText(err), "-")
				continue
			}
			p99 := spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.LatencyMs.EventTime.P99 }))
			line.Points = append(line.Points, metrics.Point{T: rate, V: p99.Median})
			res.Table.add(label, spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond })).String(), "-", "-", "-", allExact(reports), p99.String())
		}
		fig.Lines = append(fig.Lines, line)
	}
	res.Series = append(res.Series, fig)
	res.Notes = append(res.Notes, fmt.Sprintf("Sustainable rate: compare.SustainableRate on YSB with 500 ms windows and a 250 ms watermark bound, paced probes of %v from %.0f events/s, at most %d probes, precision %.0f%%. The sweep offers %v of at-most-once's rate to every configuration for %v, %d repetition(s) per point; a point's event-time p99 is over all its panes.", copts.ProbeDuration, copts.StartRate, copts.MaxProbes, 100*copts.Precision, ackerKneeFractions(quick), point, n))
}

// allExact is "yes" when every report matched the reference, otherwise the
// first differing check.
func allExact(reports []*Report) string {
	for _, r := range reports {
		if !r.Check.OK() {
			return r.Check.String()
		}
	}
	if len(reports) == 0 {
		return "-"
	}
	return reports[0].Check.String()
}

// ---- timeouts (L5.3) ----

func runTimeouts(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"trial", "workload", "message timeout", "max spout pending", "finished", "failed", "timed out", "replayed", "duplicated windows/rows", "events/s", "matches reference (every repetition)"}}}
	events := pick[int64](quick, 20_000, 100_000)
	limit := pick(quick, 10*time.Second, time.Minute)
	n := reps(quick)
	type cfg struct {
		label    string
		workload string
		timeout  time.Duration
		pending  int
	}
	// Storm expires a tuple tree between T and 2T after it was emitted (a
	// rotating map of two buckets); the queueing delay of the slow sink
	// (about 0.6 s for the grep rows kept at 200 µs each) lies above 2T for
	// 250 ms and below T for 30 s, the negative control.
	cfgs := []cfg{
		{timeoutControl, "grep", 30 * time.Second, 0},
		{timeoutShort, "grep", 250 * time.Millisecond, 0},
		{timeoutRemedy, "grep", 250 * time.Millisecond, 200},
	}
	if !quick {
		cfgs = append(cfgs, cfg{"ysb, timeout above the queueing delay", "ysb", 30 * time.Second, 0}, cfg{"ysb, timeout below the queueing delay", "ysb", 500 * time.Millisecond, 0})
	}
	slow := 200 * time.Microsecond
	o := timeoutsOutcome{Runs: map[string]timeoutRun{}}
	for _, c := range cfgs {
		f := RuntimeFlags{Guarantee: "at-least-once", Parallelism: 1, MessageTimeout: c.timeout, MaxSpoutPending: c.pending}
		pending := "unlimited"
		if c.pending > 0 {
			pending = strconv.Itoa(c.pending)
		}
		reports, err := trial{workload: mustWorkload(c.workload), runtime: "recordstream", flags: f, data: DataSpec{Events: events}, opts: Options{Slow: slow}, timeout: limit}.repeat(ctx, n, progress)
		counter := func(k string) spread {
			return spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Summary.Counters[k]) }))
		}
		r := timeoutRun{Timeout: c.timeout, Failed: trialStatus(err), TimedOut: counter("timed_out"), Replayed: counter("replayed"), FailedTrees: counter("failed")}
		if c.workload == "grep" {
			o.Runs[c.label] = r
		}
		if err != nil {
			res.Table.add(c.label, c.workload, c.timeout.String(), pending, fmt.Sprintf("%d of %d: %s", len(reports), n, r.Failed), "-", "-", "-", "-", "-", "-")
			continue
		}
		dup := spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Check.Duplicated) }))
		eps := spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond }))
		res.Table.add(c.label, c.workload, c.timeout.String(), pending, fmt.Sprintf("%d of %d", len(reports), n), r.FailedTrees.String(), r.TimedOut.String(), r.Replayed.String(), dup.String(), eps.String(), allExact(reports))
	}
	res.Notes = append(res.Notes, fmt.Sprintf("recordstream at-least-once, parallelism 1, a slow step (Options.Slow) of %v per record in the windowed step (the sink for grep), %d events filled before the run (so the spout's offered load is far above capacity), %d repetitions per trial, each cut after %v (a cut run counts as hung). The verdict reads the grep trials; figures are median [min-max] over repetitions.", slow, events, n, limit))
	res.Verdict = verdictTimeouts(o)
	return res
}

// lateText is a check's late drops as "verified / replays / unverified".
func lateText(c CheckResult) string {
	return fmt.Sprintf("%d / %d / %d", c.Late.Verified, c.Late.Replays, c.Late.Unverified)
}

// ---- crash (L4, L5, L6, L7) ----

func runCrash(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "workload", "faults", "sub-claim (claimed outcome)", "windows / rows", "lost (full answer)", "duplicated (full answer)", "mismatched (full answer)", "duplicates counted by the sink", "late drops: replays lost to lateness", "crashes / restarts", "replayed / recomputed", "exact repetitions"}}}
	ysb, grep := mustWorkload("ysb"), mustWorkload("grep")
	events := pick[int64](quick, 100_000, 400_000)
	grepEvents := pick[int64](quick, 50_000, 200_000)
	n := reps(quick)
	// The crash counts records taken in by the windowed step: YSB keeps
	// the views, a third of the events, so events/6 is mid-run. grep is
	// stateless, so its sink task crashes; it keeps about 16% of the
	// events, so events/16 is 40% of its rows.
	at, grepAt := events/6, grepEvents/16
	type cfg struct {
		w       *Workload
		runtime string
		flags   RuntimeFlags
		crashes []int64
		// dropAcks is the share of acker messages lost.
		dropAcks float64
		claim    string
		want     crashClass
	}
	// A crashed task's trees are replayed when they time out: a 1 s
	// message timeout instead of Storm's 30 s keeps the run short.
	alo := RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2, MessageTimeout: time.Second}
	eo := RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2, CheckpointInterval: 20 * time.Millisecond}
	amo := RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}
	cfgs := []cfg{
		{ysb, "recordstream", amo, []int64{at}, 0, crashClaimLoses, crashLoses},
		// Its replays reach windows that already fired (lateness 0) and
		// are dropped as late: reported, not judged.
		{ysb, "recordstream", alo, []int64{at}, 0, "", crashDuplicates},
		{ysb, "recordstream", eo, []int64{at}, 0, crashClaimExact, crashExact},
		{ysb, "microbatch", RuntimeFlags{Mode: "dstream", BatchInterval: time.Second}, []int64{at}, 0, crashClaimExact, crashExact},
		{ysb, "microbatch", RuntimeFlags{Mode: "dstream", BatchInterval: time.Second, CheckpointInterval: time.Second}, []int64{at / 2, at}, 0, crashClaimExact, crashExact},
		// Stateless grep: the sink crashes and 1% of acker messages are
		// lost, so rows whose acks were lost time out and reach the sink
		// again under a new tree (recordstream's RS2).
		{grep, "recordstream", amo, []int64{grepAt}, crashDropAcks, crashClaimLoses, crashLoses},
		{grep, "recordstream", alo, []int64{grepAt}, crashDropAcks, crashClaimDups, crashDuplicates},
		{grep, "recordstream", eo, []int64{grepAt}, crashDropAcks, crashClaimExact, crashExact},
	}
	o := crashOutcome{Runs: map[string]crashRun{}}
	for _, c := range cfgs {
		name := configName(SuiteEntry{Runtime: c.runtime, Flags: c.flags})
		if len(c.crashes) > 1 {
			name += " (failed batch + driver crash)"
		}
		label := c.w.Name + " on " + name
		faults := "crash after " + strings.Trim(strings.ReplaceAll(fmt.Sprint(c.crashes), " ", ", "), "[]")
		if c.dropAcks > 0 {
			faults += fmt.Sprintf(", %.0f%% of acker messages lost", 100*c.dropAcks)
		}
		claimed := string(c.want)
		if c.claim == "" {
			claimed = "not judged (" + claimed + " claimed; lateness 0 drops replays)"
		} else {
			claimed = c.claim + " (" + claimed + ")"
		}
		events := events
		if c.w == grep {
			events = grepEvents
		}
		reports, err := trial{workload: c.w, runtime: c.runtime, flags: c.flags, data: DataSpec{Events: events}, opts: Options{CrashAfter: c.crashes, DropAcks: c.dropAcks}, timeout: 2 * time.Minute}.repeat(ctx, n, progress)
		run := crashRun{Failed: trialStatus(err), Claim: c.claim, Want: c.want, Stateless: c.w == grep}
		if err != nil {
			o.Runs[label] = run
			res.Table.add(name, c.w.Name, faults, claimed, "-", "-", "-", "-", "-", "-", "-", "-", errText(err))
			continue
		}
		exact := 0
		for _, r := range reports {
			f := r.Check.Full
			p := crashRep{Lost: f.Lost, Duplicated: f.Duplicated, Mismatched: f.Mismatched, LateReplays: r.Check.Late.Replays, SinkDuplicates: int(r.Summary.Counters["duplicates"])}
			run.Reps = append(run.Reps, p)
			if p.class() == crashExact {
				exact++
			}
		}
		o.Runs[label] = run
		fig := func(f func(*Report) float64) string { return spreadOf(figure(reports, f)).String() }
		k := func(names ...string) func(*Report) float64 {
			return func(r *Report) float64 {
				var v int64
				for _, n := range names {
					v += r.Summary.Counters[n]
				}
				return float64(v)
			}
		}
		res.Table.add(name, c.w.Name, faults, claimed, fig(func(r *Report) float64 { return float64(r.Check.Full.Windows) }),
			fig(func(r *Report) float64 { return float64(r.Check.Full.Lost) }), fig(func(r *Report) float64 { return float64(r.Check.Full.Duplicated) }),
			fig(func(r *Report) float64 { return float64(r.Check.Full.Mismatched) }), fig(k("duplicates")), fig(func(r *Report) float64 { return float64(r.Check.Late.Replays) }),
			fig(k("crashes", "failed_batches"))+" / "+fig(k("restarts", "driver_restarts")), fig(k("replayed"))+" / "+fig(k("recomputed_records")),
			fmt.Sprintf("%d of %d", exact, len(reports)))
	}
	res.Notes = append(res.Notes, fmt.Sprintf("YSB, %d events, and grep (stateless), %d events; %d repetitions per configuration; recordstream at-least-once with a 1 s message timeout. YSB: one crash of the windowed task (recordstream) or failure of the batch holding record %d (microbatch); the last microbatch row adds a driver crash, recovered from the checkpoint. grep: one crash of the sink task after %d rows, and %.0f%% of acker messages lost (a seeded choice), so at-least-once replays rows that had reached the sink; at-most-once has no acker and exactly-once no acks to lose. Counts compare with the full (batch) answer, median [min-max]: windows for YSB, rows (as multisets) for grep.", events, grepEvents, n, at, grepAt, 100*crashDropAcks))
	res.Notes = append(res.Notes, "A replayed YSB record reaches its window after the window fired and is dropped as late (lateness 0, Storm's rule), so windowed at-least-once loses where the lecture expects duplicates; that row is reported, not judged, and the sub-claim \"at-least-once duplicates\" is judged on grep, where a replayed row reaches the sink again.")
	res.Verdict = verdictCrash(o)
	return res
}

// crashDropAcks is the share of acker messages the crash experiment's
// stateless trials lose.
const crashDropAcks = 0.01

// ---- windows (L6.2, L6.4) ----

// ysbVariant is the ysb workload with another window and watermark bound.
func ysbVariant(name string, window dataflow.WindowFn, bound time.Duration) *Workload {
	w := mustWorkload("ysb")
	w.Name = name
	w.Description = fmt.Sprintf("ysb with %v windows and a watermark bound of %v", window, bound)
	w.Pipeline = func(tables map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
		in, err := datasetSchema("ysb")
		if err != nil {
			return nil, err
		}
		campaigns := tables["campaigns"]
		if campaigns == nil {
			return nil, errors.New("workload ysb needs the campaigns table")
		}
		a := eventTime(dataflow.Aggregation{Key: []string{"campaign_id"}, Window: window, Aggs: []dataflow.Agg{dataflow.Count()}})
		a.Watermark = dataflow.WatermarkPolicy{MaxOutOfOrderness: bound}
		p := dataflow.NewPipeline(name, in).
			Filter(dataflow.Eq(dataflow.Col("event_type"), dataflow.LitStr("view"))).
			Lookup(campaigns, "ad_id", "ad_id", "campaign_id").
			Aggregate(a)
		return p, p.Validate()
	}
	return w
}

// requestRateVariant is request-rate with processing-time windows of size.
func requestRateVariant(name string, size time.Duration) *Workload {
	w := mustWorkload("request-rate")
	w.Name = name
	w.Description = fmt.Sprintf("requests per processing-time window of %v", size)
	w.Pipeline = func(map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
		in, err := datasetSchema("weblogs")
		if err != nil {
			return nil, err
		}
		p := dataflow.NewPipeline(name, in).Aggregate(dataflow.Aggregation{
			Window: dataflow.FixedWindows(size), Domain: dataflow.ProcessingTime, Aggs: []dataflow.Agg{dataflow.Count()},
		})
		return p, p.Validate()
	}
	return w
}

func runWindows(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	entries := []SuiteEntry{
		{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "dstream", BatchInterval: 2 * time.Second}},
		{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "event-time", BatchInterval: 2 * time.Second}},
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}},
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2}},
	}
	cols := []string{"window kind (workload)"}
	for _, e := range entries {
		cols = append(cols, configName(e))
	}
	res := &ExperimentResult{Table: Table{Columns: cols}}
	type kind struct {
		label string
		w     *Workload
	}
	kinds := []kind{
		{"fixed 10 s (ysb)", mustWorkload("ysb")},
		{"event-time fixed 7 s, not a multiple of the 2 s batch (ysb-7s)", ysbVariant("ysb-7s", dataflow.FixedWindows(7*time.Second), watermarkBound)},
		{"sliding 60 s every 10 s (iot-sliding)", mustWorkload("iot-sliding")},
		{windowsSessions, mustWorkload("sessions")},
		{windowsCount, mustWorkload("count-window")},
		{windowsAligned, mustWorkload("request-rate")},
		{windowsPT7, requestRateVariant("request-rate-7s", 7*time.Second)},
	}
	events := pick[int64](quick, 20_000, 100_000)
	o := windowsOutcome{DStream: configName(entries[0]), Cells: map[string]map[string]runEnd{}}
	for _, k := range kinds {
		row := []any{k.label}
		o.Cells[k.label] = map[string]runEnd{}
		for _, e := range entries {
			rep, err := trial{workload: k.w, runtime: e.Runtime, flags: e.Flags, data: DataSpec{Events: events}, timeout: time.Minute}.do(ctx, progress)
			var u *dataflow.UnsupportedError
			switch {
			case errors.As(err, &u):
				row = append(row, errText(err))
				o.Cells[k.label][configName(e)] = runEnd{Unsupported: u.Reason}
			case err != nil:
				row = append(row, errText(err))
				o.Cells[k.label][configName(e)] = runEnd{Failed: trialStatus(err)}
			case rep.Check.OK():
				row = append(row, "yes, exact")
				o.Cells[k.label][configName(e)] = runEnd{Exact: true, Check: rep.Check.String()}
			default:
				row = append(row, "runs, differs: "+rep.Check.String())
				o.Cells[k.label][configName(e)] = runEnd{Check: rep.Check.String()}
			}
		}
		res.Table.add(row...)
	}
	res.Verdict = verdictWindows(o)
	res.Notes = append(res.Notes, "Event-time windows (rows 1-5) are Structured Streaming-style in both microbatch modes here, so their size is free; the batch-interval coupling of L6.4 applies to DStream's processing-time windows (last row).")
	res.Notes = append(res.Notes, fmt.Sprintf("%d events per run; an unsupported cell quotes the model's reason (*dataflow.UnsupportedError).", events))
	return res
}

// ---- microbatch-backpressure (L6.3) ----

func runBackpressure(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "finished", "batches", "max scheduling delay ms", "last scheduling delay ms", "events/s", "matches reference / stop"}}}
	rate := 20_000.0
	events := pick[int64](quick, 40_000, 200_000)
	n := reps(quick)
	// The slow step sleeps per partition task, four tasks at once: 1 ms
	// a record gives about 4,000 views/s, below the 6,700 views/s offered.
	slow := time.Millisecond
	bi := 200 * time.Millisecond
	type cfg struct {
		name  string
		flags RuntimeFlags
	}
	cfgs := []cfg{
		{bpNone, RuntimeFlags{Mode: "dstream", BatchInterval: bi}},
		{bpPID, RuntimeFlags{Mode: "dstream", BatchInterval: bi, Backpressure: true}},
		{bpBudget, RuntimeFlags{Mode: "dstream", BatchInterval: bi, MemoryBudget: 1 << 20}},
	}
	fig := Series{Name: "scheduling-delay", Title: "Scheduling delay per batch (microbatch, paced YSB above capacity, first repetition)", XLabel: "time since start (s)", YLabel: "scheduling delay (ms)",
		Refs: []RefLine{batchIntervalLine(bi)}}
	o := bpOutcome{Interval: bi, Runs: map[string]bpRun{}}
	for _, c := range cfgs {
		t := trial{workload: mustWorkload("ysb"), runtime: "microbatch", flags: c.flags, data: DataSpec{Events: events, Rate: rate}, opts: Options{Slow: slow}, timeout: pick(quick, 40*time.Second, 3*time.Minute)}
		run := bpRun{}
		var maxD, lastD, eps []float64
		var batches []float64
		var stops []string
		checks := ""
		for i := range n {
			rep, err := t.do(ctx, progress)
			run.Reps++
			if err != nil {
				if mbe, ok := errors.AsType[*microbatch.MemoryBudgetError](err); ok {
					run.BudgetStops++
					maxD = append(maxD, float64(mbe.SchedulingDelay.Milliseconds()))
					stops = append(stops, fmt.Sprintf("%d batches queued holding %d records in %d bytes", mbe.QueuedBatches, mbe.BacklogRecords, mbe.HeldBytes))
					continue
				}
				run.Failed = trialStatus(err)
				break
			}
			pts := rep.Outcome.Series["scheduling_delay_ms"]
			var m float64
			for _, p := range pts {
				m = max(m, p.V)
			}
			maxD = append(maxD, m)
			if len(pts) > 0 {
				lastD = append(lastD, pts[len(pts)-1].V)
			}
			eps = append(eps, rep.Summary.EventsPerSecond)
			batches = append(batches, float64(rep.Summary.Counters["batches"]))
			if i == 0 {
				fig.Lines = append(fig.Lines, Line{Label: c.name, Points: pts})
			}
			if !rep.Check.OK() || checks == "" {
				checks = rep.Check.String()
			}
		}
		run.MaxDelayMs = spreadOf(maxD)
		o.Runs[c.name] = run
		finished := fmt.Sprintf("%d of %d", run.Reps-run.BudgetStops, n)
		if run.Failed != "" {
			finished += ": " + run.Failed
		}
		if len(stops) > 0 {
			checks = fmt.Sprintf("stopped by the memory budget in %d of %d runs (first: %s)", run.BudgetStops, run.Reps, stops[0])
		}
		res.Table.add(c.name, finished, spreadOf(batches).String(), run.MaxDelayMs.String(), spreadOf(lastD).String(), spreadOf(eps).String(), checks)
	}
	res.Series = append(res.Series, fig)
	res.Notes = append(res.Notes, fmt.Sprintf("YSB paced at %.0f events/s (%d events), batch interval %v, a slow step (Options.Slow) of %v per record in the windowed step, so processing is slower than the batch cutter; %d repetitions, median [min-max]. A run stopped by the memory budget gives its scheduling delay at the stop.", rate, events, bi, slow, n))
	res.Verdict = verdictBackpressure(o)
	return res
}

// ---- latency (L6.1) ----

func runLatency(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"workload", "configuration", "offered events/s", "events/s", "processing-time p50 ms", "processing-time p99 ms", "event-time p50 ms", "event-time p99 ms", "matches reference (every repetition)"}}}
	rates := pick(quick, []float64{20_000}, []float64{10_000, 50_000, 100_000})
	seconds := pick(quick, 1.0, 5.0)
	n := reps(quick)
	entries := []SuiteEntry{
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2}},
		{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "dstream", BatchInterval: time.Second}},
		{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "dstream", BatchInterval: 200 * time.Millisecond}},
	}
	o := latencyOutcome{Stream: configName(entries[0]), P50Ms: map[latencyKey]spread{}, Failed: map[latencyKey]string{}}
	for _, e := range entries[1:] {
		o.Batch = append(o.Batch, configName(e))
	}
	fig := Series{Name: "processing-latency", Title: "grep: processing-time latency p50 (median of repetitions) against offered load", XLabel: "offered load (events/s)", YLabel: "p50 processing-time latency (ms)",
		YScale: ScaleLog, Refs: []RefLine{batchIntervalLine(entries[1].Flags.BatchInterval), batchIntervalLine(entries[2].Flags.BatchInterval)}}
	// row runs one trial n times and records the p50 the verdict reads:
	// processing-time latency for grep (stateless, no watermark), event-time
	// latency for windowed YSB (the window's result waits for the
	// watermark, as in YSB's own metric).
	row := func(label string, w *Workload, e SuiteEntry, d DataSpec, eventTime bool) (spread, bool) {
		name := configName(e)
		key := latencyKey{label, name}
		o.Workloads = appendNew(o.Workloads, label)
		reports, err := trial{workload: w, runtime: e.Runtime, flags: e.Flags, data: d, timeout: time.Minute}.repeat(ctx, n, progress)
		if err != nil {
			o.Failed[key] = trialStatus(err)
			res.Table.add(label, name, d.Rate, "-", "-", "-", "-", "-", errText(err))
			return spread{}, false
		}
		lat := func(f func(LatencySummary) float64) spread {
			return spreadOf(figure(reports, func(r *Report) float64 { return f(r.Summary.LatencyMs) }))
		}
		pt50 := lat(func(l LatencySummary) float64 { return l.ProcessingTime.P50 })
		et50 := lat(func(l LatencySummary) float64 { return l.EventTime.P50 })
		if et50.Median > float64(time.Hour.Milliseconds()) {
			res.Notes = append(res.Notes, fmt.Sprintf("The event-time latency of %s on %s (p50 %s ms) is off by about an hour: the event-time shift of the log is misapplied in that runtime; its processing-time latency is unaffected.", w.Name, name, et50))
		}
		eps := spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond }))
		res.Table.add(label, name, d.Rate, eps.String(), pt50.String(), lat(func(l LatencySummary) float64 { return l.ProcessingTime.P99 }).String(),
			et50.String(), lat(func(l LatencySummary) float64 { return l.EventTime.P99 }).String(), allExact(reports))
		if eventTime {
			o.P50Ms[key] = et50
			return et50, true
		}
		o.P50Ms[key] = pt50
		return pt50, true
	}
	grep := mustWorkload("grep")
	lines := map[string]*Line{}
	for _, r := range rates {
		for _, e := range entries {
			name := configName(e)
			if lines[name] == nil {
				lines[name] = &Line{Label: name}
			}
			if p, ok := row(fmt.Sprintf("grep at %.0f events/s", r), grep, e, DataSpec{Events: int64(r * seconds), Rate: r}, false); ok {
				lines[name].Points = append(lines[name].Points, metrics.Point{T: r, V: p.Median})
			}
		}
	}
	for _, e := range entries {
		fig.Lines = append(fig.Lines, *lines[configName(e)])
	}
	// YSB with 1 s windows and a 500 ms watermark bound, its event time
	// running at the offered rate, so windows fire during the run.
	ysbRate := 20_000.0
	ysbSeconds := pick(quick, 2.0, 10.0)
	ysb := ysbVariant("ysb-1s", dataflow.FixedWindows(time.Second), 500*time.Millisecond)
	for _, e := range entries {
		row(fmt.Sprintf("ysb-1s at %.0f events/s", ysbRate), ysb, e, DataSpec{Events: int64(ysbRate * ysbSeconds), Rate: ysbRate, EventRate: ysbRate}, true)
	}
	res.Series = append(res.Series, fig)
	res.Notes = append(res.Notes, fmt.Sprintf("Every configuration runs the same paced load: grep (stateless) at each offered rate for %.0f s of ingestion, and YSB with 1 s windows and a 500 ms watermark bound at %.0f events/s for %.0f s; %d repetitions each, median [min-max]. The verdict compares grep's processing-time p50 (emit time minus the largest ingest time of the output's records) and YSB's event-time p50 (emit time minus the largest event time, Karimov et al.; the window's result waits for the watermark).", seconds, ysbRate, ysbSeconds, n))
	res.Verdict = verdictLatency(o)
	return res
}

// appendNew appends s to v unless v holds it.
func appendNew(v []string, s string) []string {
	if slices.Contains(v, s) {
		return v
	}
	return append(v, s)
}

// ---- snapshot-overhead (L7) ----

func runSnapshotOverhead(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"configuration", "checkpoint interval", "events/s", "relative to no checkpoints (medians)", "checkpoints", "checkpoint bytes", "checkpoint p50 ms", "alignment p50 ms", "matches reference (every repetition)"}}}
	events := pick[int64](quick, 4_000_000, 8_000_000)
	n := reps(quick)
	w := mustWorkload("ysb")
	type cfg struct {
		label    string
		guar     string
		interval time.Duration
	}
	cfgs := []cfg{
		{"at-most-once (no snapshots)", "at-most-once", 0},
		{"exactly-once", "exactly-once", time.Hour},
		{"exactly-once", "exactly-once", 10 * time.Second},
		{"exactly-once", "exactly-once", time.Second},
		{"exactly-once", "exactly-once", 100 * time.Millisecond},
		{"exactly-once", "exactly-once", 10 * time.Millisecond},
	}
	o := snapshotOutcome{Runs: map[string]snapRun{}}
	for _, c := range cfgs {
		f := RuntimeFlags{Guarantee: c.guar, Parallelism: 2, CheckpointInterval: c.interval}
		iv, key := "-", ""
		if c.guar == "exactly-once" {
			iv, key = c.interval.String(), c.interval.String()
			if c.interval == time.Hour {
				iv, key = "off (1h, never reached)", snapshotBase
			}
		}
		reports, err := trial{workload: w, runtime: "recordstream", flags: f, data: DataSpec{Events: events}, timeout: 2 * time.Minute}.repeat(ctx, n, progress)
		if err != nil {
			if key != "" {
				o.Runs[key] = snapRun{Failed: trialStatus(err)}
			}
			res.Table.add(c.label, iv, "-", "-", "-", "-", "-", "-", errText(err))
			continue
		}
		k := func(name string, scale float64) spread {
			return spreadOf(figure(reports, func(r *Report) float64 { return float64(r.Summary.Counters[name]) / scale }))
		}
		r := snapRun{Throughput: spreadOf(figure(reports, func(r *Report) float64 { return r.Summary.EventsPerSecond })), Checkpoints: k("checkpoints", 1)}
		rel := "-"
		if key != "" {
			o.Runs[key] = r
			if b := o.Runs[snapshotBase].Throughput; b.N > 0 {
				rel = cell(r.Throughput.Median / b.Median)
			}
		}
		res.Table.add(c.label, iv, r.Throughput.String(), rel, r.Checkpoints.String(), k("checkpoint_bytes", 1).String(), k("checkpoint_duration_p50_us", 1e3).String(), k("alignment_p50_us", 1e3).String(), allExact(reports))
	}
	res.Notes = append(res.Notes, fmt.Sprintf("YSB, %d events filled before the run (capacity, not latency), parallelism 2, %d repetitions, median [min-max]. An interval is judged only when each repetition completed at least %d checkpoints; the baseline is exactly-once whose interval is never reached.", events, n, snapshotMinCheckpoints))
	res.Verdict = verdictSnapshot(o)
	return res
}

// ---- time-domains (L9, L10) ----

func runTimeDomains(ctx context.Context, quick bool, progress func(string)) *ExperimentResult {
	res := &ExperimentResult{Table: Table{Columns: []string{"approach", "workload", "runtime", "watermark bound", "results", "late drops: verified / replays lost to lateness / unverified", "late share % (bound sweep: median [min-max])", "windows affected", "matches reference (after verified exclusions)"}}}
	rsFlags := RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}
	events := pick[int64](quick, 50_000, 200_000)
	type app struct {
		approach string
		w        *Workload
	}
	reports := map[string]*Report{}
	o := timeDomainsOutcome{Approaches: map[string]runEnd{}, Recall: math.NaN(), LateShare: map[time.Duration]spread{}, SketchRecall: map[int]spread{}, DefaultWidth: dataflow.DefaultSketchWidth}
	for _, a := range []app{
		{"1 time-agnostic", mustWorkload("grep")},
		{"2 approximation (Count-Min top-N)", mustWorkload("hashtag-approx-topn")},
		{"2 exact top-N, for recall", mustWorkload("hashtag-topn")},
		{"3 processing-time windows", mustWorkload("request-rate")},
		{"4 event-time fixed windows", mustWorkload("ysb")},
		{"4 event-time sessions", mustWorkload("sessions")},
	} {
		rep, err := trial{workload: a.w, runtime: "recordstream", flags: rsFlags, data: DataSpec{Events: events}, timeout: time.Minute}.do(ctx, progress)
		if err != nil {
			o.Approaches[a.approach] = runEnd{Failed: trialStatus(err)}
			res.Table.add(a.approach, a.w.Name, "recordstream/at-most-once", "-", "-", "-", "-", "-", errText(err))
			continue
		}
		o.Approaches[a.approach] = runEnd{Exact: rep.Check.OK(), Check: rep.Check.String()}
		reports[a.w.Name] = rep
		bound := "-"
		if rep.Pipeline.Agg != nil && rep.Pipeline.Agg.Domain == dataflow.EventTime {
			bound = rep.Pipeline.Agg.Watermark.MaxOutOfOrderness.String()
		}
		ch := rep.Check
		res.Table.add(a.approach, a.w.Name, rep.Runner, bound, rep.Summary.Results, lateText(ch), 100*float64(ch.DroppedLate)/float64(max(rep.Summary.Events, 1)), ch.LateWindows, ch.String())
	}
	if ap, ex := reports["hashtag-approx-topn"], reports["hashtag-topn"]; ap != nil && ex != nil {
		o.Recall = topNRecall(ex.Outcome.Results, ap.Outcome.Results)
		res.Notes = append(res.Notes, fmt.Sprintf("Approximate top-10 recall against the exact top-10 (share of exact entries the sketch also lists, over every window and prefix): %.3f.", o.Recall))
	}
	runSketchSweep(ctx, quick, res, &o, progress)
	// The watermark bound sweep: the same data, tighter bounds.
	bounds := []time.Duration{4 * time.Second, 2 * time.Second, time.Second, 500 * time.Millisecond, 100 * time.Millisecond, 0}
	sweepEvents := pick[int64](quick, 300_000, 1_000_000)
	sweepRuns := reps(quick)
	fig := Series{Name: "late-share", Title: "Late records dropped against the watermark bound (YSB, 1 s windows, median of repetitions)", XLabel: "watermark bound (s)", YLabel: "late records dropped (%)"}
	for _, e := range []SuiteEntry{{Runtime: "recordstream", Flags: rsFlags}, {Runtime: "microbatch", Flags: RuntimeFlags{Mode: "event-time", BatchInterval: time.Second}}} {
		line := Line{Label: configName(e)}
		for _, b := range bounds {
			w := ysbVariant("ysb-bound-"+b.String(), dataflow.FixedWindows(time.Second), b)
			// The late share depends on how partitions interleave, so
			// each bound is repeated.
			reports, err := trial{workload: w, runtime: e.Runtime, flags: e.Flags, data: DataSpec{Events: sweepEvents, EventRate: 50_000}, timeout: time.Minute}.repeat(ctx, sweepRuns, progress)
			if err != nil {
				res.Table.add("4 event-time, bound sweep", "ysb", configName(e), b.String(), "-", "-", "-", "-", errText(err))
				if e.Runtime == "recordstream" {
					o.Approaches["4 event-time, bound "+b.String()] = runEnd{Failed: trialStatus(err)}
				}
				continue
			}
			share := spreadOf(figure(reports, func(r *Report) float64 {
				return 100 * float64(r.Check.DroppedLate) / float64(max(r.Summary.Events, 1))
			}))
			rep := reports[0]
			ch := rep.Check
			res.Table.add("4 event-time, bound sweep", "ysb", rep.Runner, b.String(), rep.Summary.Results, lateText(ch), share.String(), ch.LateWindows, allExact(reports))
			line.Points = append(line.Points, metrics.Point{T: b.Seconds(), V: share.Median})
			if e.Runtime == "recordstream" {
				o.LateShare[b] = share
			}
		}
		fig.Lines = append(fig.Lines, line)
	}
	res.Series = append(res.Series, fig)
	res.Notes = append(res.Notes, fmt.Sprintf("%d events per run on recordstream at-most-once (no faults, so every difference would be a defect); the bound sweep (%d events, 50,000 events per second of event time, 1 s windows, %d repetitions per bound; the late share column is median [min-max], the other columns the first repetition) uses the built-in disorder (5%% of records delayed up to 2 s). recordstream's spouts send a watermark every 4,096 records; microbatch advances the watermark between batches, and a log filled before the run is cut into few batches. The verdict compares the recordstream late share at the tightest and loosest bounds, and the sketch sweep's recall at its narrowest and default widths.", events, sweepEvents, sweepRuns))
	res.Verdict = verdictTimeDomains(o)
	return res
}

// runSketchSweep runs the approximate top-N at Count-Min widths from 4
// counters per row to the default, on a new data seed per repetition, and
// records each width's recall against the exact top-N of the same data
// (computed by the reference runner) in o, res's table and a figure.
func runSketchSweep(ctx context.Context, quick bool, res *ExperimentResult, o *timeDomainsOutcome, progress func(string)) {
	widths := []int{4, 16, 64, 256, dataflow.DefaultSketchWidth}
	events := pick[int64](quick, 100_000, 400_000)
	n := reps(quick)
	approx, exact := mustWorkload("hashtag-approx-topn"), mustWorkload("hashtag-topn")
	rsFlags := RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}
	// exacts[i] is the exact top-N of seed i+1.
	var exacts [][]dataflow.Result
	for i := range n {
		rep, err := trial{workload: exact, runtime: "reference", data: DataSpec{Events: events, Seed: uint64(i + 1)}, timeout: time.Minute}.do(ctx, progress)
		if err != nil {
			res.Table.add("2 approximation, sketch sweep", exact.Name, "reference", "-", "-", "-", "-", "-", errText(err))
			return
		}
		exacts = append(exacts, rep.Outcome.Results)
	}
	fig := Series{Name: "sketch-recall", Title: fmt.Sprintf("Approximate top-10 recall against the Count-Min sketch's width (hashtags, %d events, median of %d data seeds)", events, n),
		XLabel: "sketch width (counters per row; depth 4)", YLabel: "top-10 recall", XScale: ScaleLog, YScale: ScaleLinear,
		Refs: []RefLine{VLine("default width", float64(dataflow.DefaultSketchWidth)), HLine("recall 1", 1)}}
	line := Line{Label: "recordstream/at-most-once"}
	for _, w := range widths {
		wl, err := Overrides{SketchWidth: w}.Workload(approx)
		if err != nil {
			res.Table.add("2 approximation, sketch sweep", approx.Name, "recordstream/at-most-once", "-", "-", "-", "-", "-", errText(err))
			continue
		}
		var recall []float64
		var check string
		for i := range n {
			rep, err := trial{workload: wl, runtime: "recordstream", flags: rsFlags, data: DataSpec{Events: events, Seed: uint64(i + 1)}, timeout: time.Minute}.do(ctx, progress)
			if err != nil {
				check = errText(err)
				recall = nil
				break
			}
			recall = append(recall, topNRecall(exacts[i], rep.Outcome.Results))
			if i == 0 || !rep.Check.OK() {
				check = rep.Check.String()
			}
		}
		r := spreadOf(recall)
		if r.N > 0 {
			o.SketchRecall[w] = r
			line.Points = append(line.Points, metrics.Point{T: float64(w), V: r.Median})
		}
		// The sketch's counters are uint32, width x depth per window
		// and key.
		bytes := w * dataflow.DefaultSketchDepth * 4
		res.Table.add("2 approximation, sketch sweep", approx.Name, "recordstream/at-most-once", fmt.Sprintf("width %d (%d B of counters per window and prefix)", w, bytes), "-", "-", "recall "+r.String(), "-", check)
	}
	fig.Lines = append(fig.Lines, line)
	res.Series = append(res.Series, fig)
	res.Notes = append(res.Notes, fmt.Sprintf("Sketch sweep: hashtag-approx-topn with Overrides.SketchWidth %v (depth %d), %d events, data seeds 1-%d (one repetition per seed), recall against the exact top-10 of the same seed computed by the reference runner, median [min-max]. The counters' memory is width x depth x 4 bytes per window and prefix, computed, not measured. A narrow sketch's candidates depend on arrival order, so its answer may differ from the reference's (the last column) as well as from the exact top-N.", widths, dataflow.DefaultSketchDepth, events, n))
}

// topNRecall is the share of the exact top-N entries (value=count lists)
// that the approximate lists also name, over every window and key.
func topNRecall(exact, approx []dataflow.Result) float64 {
	type wk struct {
		w dataflow.Window
		k string
	}
	names := func(v dataflow.Value) []string {
		var out []string
		for _, e := range strings.Split(string(v.AppendText(nil)), ",") {
			if i := strings.LastIndexByte(e, '='); i > 0 {
				out = append(out, e[:i])
			}
		}
		return out
	}
	ap := map[wk][]string{}
	for _, r := range approx {
		ap[wk{r.Window, r.Key}] = names(r.Value)
	}
	var hit, total int
	for _, r := range exact {
		got := ap[wk{r.Window, r.Key}]
		for _, n := range names(r.Value) {
			total++
			if slices.Contains(got, n) {
				hit++
			}
		}
	}
	if total == 0 {
		return math.NaN()
	}
	return float64(hit) / float64(total)
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
