package compare

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

// Sustainable throughput (Karimov et al., ICDE 2018): "the highest load of
// event traffic that a system can handle without exhibiting prolonged
// backpressure (i.e. without a continuously increasing event-time
// latency)". [SustainableRate] finds it for one workload on one runtime
// configuration by a bounded search over paced, time-bounded runs (probes):
//
//  1. Probe the start rate. If it is not sustainable the result is 0, with
//     the probe's reason.
//  2. Double the rate while probes are sustainable; the first that is not
//     brackets the answer between the last sustainable rate and it.
//  3. Bisect the bracket until it is narrower than [CapacityOptions.Precision]
//     or [CapacityOptions.MaxProbes] probes have run.
//
// The answer is the highest rate a probe found sustainable. When every probe
// was sustainable (the doubling ran out of probes), it is a lower bound and
// [CapacityResult.Reason] says so.
//
// A probe is sustainable ([sustainable]) when its run finished within its
// time limit, the generator filled the log at at least (1 - Lag) of the
// offered rate ([FillRate]), it read at least (1 - Lag) of the offered
// rate, its results match
// the reference answer, and its event-time
// latency did not grow over the run: of its emissions fired by the watermark
// (not by the end of the input) in emit order, the p99
// event-time latency of the last third is at most (1 + Growth) times that of
// the first third plus Slack. A probe with fewer than MinEmissions emissions
// or whose emissions span less than a third of the probe's duration (too few
// windows closed during it to show a trend) is inconclusive, and counts as
// not sustainable: the search does not claim
// a rate it could not judge.

// CapacityOptions bound the search of [SustainableRate]. The zero value is
// valid: every zero field takes the default its comment names.
type CapacityOptions struct {
	// StartRate is the first offered rate, events per second (default
	// 10,000).
	StartRate float64
	// MaxProbes is the most runs the search makes (default 8).
	MaxProbes int
	// ProbeDuration is how long each probe offers its rate: it ingests
	// rate × ProbeDuration events (default 10 s).
	ProbeDuration time.Duration
	// ProbeTimeout is the most a probe may run, draining included; one that
	// is still running then is stopped and is not sustainable (default
	// 3 × ProbeDuration + 5 s).
	ProbeTimeout time.Duration
	// Precision ends the bisection once the bracket's upper rate is within
	// this share of its lower one (default 0.1: 10%).
	Precision float64
	// Rule judges each probe (zero fields: [DefaultCapacityRule]'s).
	Rule CapacityRule
	// Options are the run's options (faults, seed, clock); Trace is
	// ignored, the search takes the panes it needs itself.
	Options Options
	// Progress, if set, receives each probe as it finishes.
	Progress func(CapacityProbe)
}

// CapacityRule is the rule [sustainable] applies to a probe's latency.
type CapacityRule struct {
	// Growth is the share by which the last third's p99 event-time latency
	// may exceed the first third's (default 0.5: 50%).
	Growth float64
	// Slack is the absolute growth always allowed, absorbing the jitter of
	// a run that keeps up (default 250 ms: on a shared 2-core machine a
	// run that keeps up varies by tens of milliseconds between thirds).
	Slack time.Duration
	// MinEmissions is the fewest emissions a probe is judged on (default
	// 30: ten per third).
	MinEmissions int
	// Lag is the share by which the events read per second of the run may
	// fall short of the offered rate (default 0.05). Reading slower than
	// the offer grows the input queue, which is the backpressure of the
	// definition, even when the panes fired during the probe look flat:
	// the windows that close during the drain fire at the end of the
	// input and are not judged on latency.
	Lag float64
}

// DefaultCapacityRule is the rule the zero [CapacityRule] means.
func DefaultCapacityRule() CapacityRule {
	return CapacityRule{Growth: 0.5, Slack: 250 * time.Millisecond, MinEmissions: 30, Lag: 0.05}
}

func (r CapacityRule) withDefaults() CapacityRule {
	d := DefaultCapacityRule()
	if r.Growth == 0 {
		r.Growth = d.Growth
	}
	if r.Slack == 0 {
		r.Slack = d.Slack
	}
	if r.MinEmissions == 0 {
		r.MinEmissions = d.MinEmissions
	}
	if r.Lag == 0 {
		r.Lag = d.Lag
	}
	return r
}

func (o CapacityOptions) withDefaults() CapacityOptions {
	if o.StartRate == 0 {
		o.StartRate = 10_000
	}
	if o.MaxProbes == 0 {
		o.MaxProbes = 8
	}
	if o.ProbeDuration == 0 {
		o.ProbeDuration = 10 * time.Second
	}
	if o.ProbeTimeout == 0 {
		o.ProbeTimeout = 3*o.ProbeDuration + 5*time.Second
	}
	if o.Precision == 0 {
		o.Precision = 0.1
	}
	o.Rule = o.Rule.withDefaults()
	return o
}

// Validate reports options no search can use: a *[FieldError] naming the
// field (Field "CapacityOptions.MaxProbes", ...).
func (o CapacityOptions) Validate() error {
	switch {
	case o.StartRate < 0 || math.IsNaN(o.StartRate) || math.IsInf(o.StartRate, 0):
		return &FieldError{Field: "CapacityOptions.StartRate", Err: fmt.Errorf("want events per second, or 0 for 10,000; got %v", o.StartRate)}
	case o.MaxProbes < 0:
		return &FieldError{Field: "CapacityOptions.MaxProbes", Err: fmt.Errorf("want a positive number of runs, or 0 for 8; got %d", o.MaxProbes)}
	case o.ProbeDuration < 0:
		return &FieldError{Field: "CapacityOptions.ProbeDuration", Err: fmt.Errorf("must not be negative (0: 10s); got %v", o.ProbeDuration)}
	case o.ProbeTimeout < 0:
		return &FieldError{Field: "CapacityOptions.ProbeTimeout", Err: fmt.Errorf("must not be negative (0: 3 × ProbeDuration + 5s); got %v", o.ProbeTimeout)}
	case o.Precision < 0 || math.IsNaN(o.Precision):
		return &FieldError{Field: "CapacityOptions.Precision", Err: fmt.Errorf("want a share above 0, or 0 for 0.1; got %v", o.Precision)}
	case o.Rule.Growth < 0 || math.IsNaN(o.Rule.Growth):
		return &FieldError{Field: "CapacityRule.Growth", Err: fmt.Errorf("want a share of at least 0 (0: 0.5); got %v", o.Rule.Growth)}
	case o.Rule.Slack < 0:
		return &FieldError{Field: "CapacityRule.Slack", Err: fmt.Errorf("must not be negative (0: 250ms); got %v", o.Rule.Slack)}
	case o.Rule.Lag < 0 || o.Rule.Lag >= 1 || math.IsNaN(o.Rule.Lag):
		return &FieldError{Field: "CapacityRule.Lag", Err: fmt.Errorf("want a share in [0, 1) (0: 0.05); got %v", o.Rule.Lag)}
	case o.Rule.MinEmissions < 0:
		return &FieldError{Field: "CapacityRule.MinEmissions", Err: fmt.Errorf("must not be negative (0: 30); got %d", o.Rule.MinEmissions)}
	}
	return nil
}

// CapacityProbe is one run of the search and the figures it was judged on.
type CapacityProbe struct {
	// Rate is the offered rate (events/s) and Events the events offered
	// (Rate × ProbeDuration).
	Rate   float64
	Events int64
	// Duration is the probe's offered duration (CapacityOptions.ProbeDuration).
	Duration time.Duration
	// Seconds is the run's wall time, draining included; Throughput the
	// events it read per second of it.
	Seconds    float64
	Throughput float64
	// FillRate is the rate the generator actually filled the log at
	// (events over the span of their ingest times, [FillRate]); 0 when the
	// run did not finish. The generator lags behind a high offered rate,
	// and a probe that was never offered its rate cannot show it
	// sustained.
	FillRate float64
	// TimedOut says the run was stopped at the probe's time limit.
	TimedOut bool
	// Emissions is the number of panes judged: those the watermark fired,
	// not the end of the input. SpanSeconds is the time between the first
	// and the last one's emission; FirstP99Ms and LastP99Ms the p99
	// event-time latency (ms) of the first and last third of them in emit
	// order.
	Emissions   int
	SpanSeconds float64
	FirstP99Ms  float64
	LastP99Ms   float64
	// CheckOK says the results matched the reference answer; Check is the
	// check's text.
	CheckOK bool
	Check   string
	// Rule is the rule the probe was judged by.
	Rule CapacityRule
	// Sustainable is the verdict and Reason its explanation, computed from
	// the figures above.
	Sustainable bool
	Reason      string
}

// CapacityResult is the outcome of [SustainableRate].
type CapacityResult struct {
	Workload string
	Runner   string
	// Probes lists every run in the order it ran.
	Probes []CapacityProbe
	// Rate is the sustainable throughput found (events/s): the highest
	// sustainable probe's rate; 0 when even the start rate was not.
	Rate float64
	// LowerBound says every probe was sustainable, so Rate is only a lower
	// bound (the search ran out of probes while doubling).
	LowerBound bool
	// Reason explains Rate from the probes.
	Reason string
}

// SustainableRate searches the sustainable throughput of workload w on
// runner r (the package comment's steps): each probe is [RunOne] on d paced
// at the probe's rate for opts.ProbeDuration (d.Rate and d.Events are set by
// the search; d.InputDir must be empty). It returns when the search ends,
// or ctx's error (with the probes so far) when ctx is done. Errors of a run
// other than its time limit (unsupported pipeline, bad input) end the search
// and are returned.
func SustainableRate(ctx context.Context, w *Workload, r Runner, d DataSpec, opts CapacityOptions) (CapacityResult, error) {
	res := CapacityResult{Workload: w.Name, Runner: r.Name()}
	if err := opts.Validate(); err != nil {
		return res, err
	}
	if d.InputDir != "" {
		return res, &FieldError{Field: "DataSpec.InputDir", Err: errors.New("a capacity search paces built-in data; set InputDir to empty")}
	}
	opts = opts.withDefaults()
	probe := func(rate float64) (CapacityProbe, error) {
		p, err := runProbe(ctx, w, r, d, rate, opts)
		if err == nil {
			res.Probes = append(res.Probes, p)
			if opts.Progress != nil {
				opts.Progress(p)
			}
		}
		return p, err
	}
	lo, hi := 0.0, 0.0 // highest sustainable, lowest unsustainable (0: none yet)
	for rate := opts.StartRate; len(res.Probes) < opts.MaxProbes; rate = nextRate(lo, hi) {
		p, err := probe(rate)
		if err != nil {
			return res, err
		}
		if p.Sustainable {
			lo = rate
		} else {
			hi = rate
		}
		if lo == 0 { // the start rate is not sustainable
			res.Reason = fmt.Sprintf("even the start rate %.0f events/s is not sustainable: %s", rate, p.Reason)
			return res, nil
		}
		if hi != 0 && hi <= lo*(1+opts.Precision) {
			break
		}
	}
	res.Rate = lo
	switch {
	case hi == 0:
		res.LowerBound = true
		res.Reason = fmt.Sprintf("every probe up to %.0f events/s was sustainable; %d probes were not enough to find one that is not", lo, len(res.Probes))
	default:
		res.Reason = fmt.Sprintf("%.0f events/s was sustainable and %.0f events/s was not (%s)", lo, hi, unsustainableReason(res.Probes, hi))
	}
	return res, nil
}

// nextRate is the search's next rate: double the highest sustainable rate
// lo until a rate is not (hi 0), then the middle of the bracket.
func nextRate(lo, hi float64) float64 {
	if hi == 0 {
		return 2 * lo
	}
	return (lo + hi) / 2
}

func unsustainableReason(ps []CapacityProbe, rate float64) string {
	for _, p := range ps {
		if p.Rate == rate {
			return p.Reason
		}
	}
	return ""
}

// runProbe runs one probe at rate and judges it.
func runProbe(ctx context.Context, w *Workload, r Runner, d DataSpec, rate float64, opts CapacityOptions) (CapacityProbe, error) {
	p := CapacityProbe{Rate: rate, Events: max(1, int64(rate*opts.ProbeDuration.Seconds())), Duration: opts.ProbeDuration, Rule: opts.Rule}
	d.Rate, d.Events = rate, p.Events
	runOpts := opts.Options
	runOpts.Trace = false // the panes only, through paneTracer
	clk := clock.OrReal(runOpts.Clock)
	pctx, cancel := context.WithTimeout(ctx, opts.ProbeTimeout)
	defer cancel()
	start := clk.Now()
	m := &fillMeter{Runner: r}
	rep, err := RunOne(pctx, w, paneTracer{m}, d, runOpts, nil)
	p.Seconds = clock.Since(clk, start).Seconds()
	switch {
	case err != nil && ctx.Err() != nil:
		return p, ctx.Err()
	case err != nil && pctx.Err() != nil:
		p.TimedOut = true
	case err != nil:
		return p, fmt.Errorf("probe at %.0f events/s: %w", rate, err)
	default:
		p.Throughput = rep.Summary.EventsPerSecond
		p.FillRate = m.Rate
		p.CheckOK = rep.Check.OK()
		p.Check = rep.Check.String()
		p.Emissions, p.SpanSeconds, p.FirstP99Ms, p.LastP99Ms = latencyThirds(rep.Outcome.Trace)
	}
	p.Sustainable, p.Reason = sustainable(p)
	return p, nil
}

// paneTracer runs its runner with [Options.Trace] set in the job only, so
// the runner returns its pane rows ([Outcome.Trace]) while [RunOne], which
// sees Trace unset, builds no record row per log record: a probe at 500k
// events/s for 10 s would otherwise hold 5M rows it never reads.
type paneTracer struct{ Runner }

func (t paneTracer) Run(ctx context.Context, job *Job) (*Outcome, error) {
	j := *job
	j.Options.Trace = true
	return t.Runner.Run(ctx, &j)
}

// Flags forwards the runner's flags to the summary, as [RunLog] records
// them.
func (t paneTracer) Flags() RuntimeFlags {
	if f, ok := t.Runner.(interface{ Flags() RuntimeFlags }); ok {
		return f.Flags()
	}
	return RuntimeFlags{}
}

// latencyThirds returns the number of pane rows in rows that the watermark
// fired (not the end of the input), the seconds between the first and last
// one's emit time, and the p99 event-time latency (ms) of the first and last
// third of them in emit order. A pane's event-time latency is its emit time minus its largest
// event time on the wall clock (metrics.Latency's definition).
func latencyThirds(rows []datasets.TraceRow) (n int, spanSeconds, firstMs, lastMs float64) {
	type pane struct{ emit, lat int64 }
	var ps []pane
	for _, r := range rows {
		// A pane fired at the end of the input (watermark MaxTime) fired
		// because the input ended, not because the watermark passed its
		// window: its latency lacks the watermark's wait, and would read
		// as latency falling at the end of every run.
		if r.Kind == datasets.TracePane && r.WatermarkMs != int64(dataflow.MaxTime) {
			ps = append(ps, pane{r.EmitNanos, r.EmitNanos - (r.EventTimeMs+r.EventTimeShiftMs)*1e6})
		}
	}
	slices.SortStableFunc(ps, func(a, b pane) int { return cmp.Compare(a.emit, b.emit) })
	n = len(ps)
	if n < 3 {
		return n, 0, 0, 0
	}
	spanSeconds = float64(ps[n-1].emit-ps[0].emit) / 1e9
	third := n / 3
	p99 := func(ps []pane) float64 {
		lat := make([]int64, len(ps))
		for i, p := range ps {
			lat[i] = p.lat
		}
		slices.Sort(lat)
		i := int(math.Ceil(0.99*float64(len(lat)))) - 1
		return float64(lat[max(i, 0)]) / 1e6
	}
	return n, spanSeconds, p99(ps[:third]), p99(ps[n-third:])
}

// sustainable judges a probe from its figures alone: not when it timed out,
// its results differ from the reference, or it read less than (1 - Lag) of
// the offered rate; inconclusive (not sustainable)
// with fewer than p.Rule.MinEmissions emissions; else sustainable when the
// last third's p99 event-time latency is at most (1 + Growth) × the first
// third's + Slack. The explanation quotes the figures.
func sustainable(p CapacityProbe) (bool, string) {
	r := p.Rule.withDefaults()
	switch {
	case p.TimedOut:
		return false, fmt.Sprintf("still running %.1fs after it started (the probe's time limit): the backlog did not drain", p.Seconds)
	case !p.CheckOK:
		return false, "results differ from the reference: " + p.Check
	case p.FillRate > 0 && p.FillRate < (1-r.Lag)*p.Rate:
		return false, fmt.Sprintf("not offered its rate: the generator filled the log at %.0f events/s of the %.0f asked (less than %.0f%%)", p.FillRate, p.Rate, 100*(1-r.Lag))
	case p.Throughput < (1-r.Lag)*p.Rate:
		return false, fmt.Sprintf("does not keep up: read %.0f events/s of the %.0f offered (less than %.0f%%), so its input queue grew", p.Throughput, p.Rate, 100*(1-r.Lag))
	case p.Emissions < r.MinEmissions:
		return false, fmt.Sprintf("inconclusive: %d emissions fired by the watermark, fewer than the %d the rule needs (probe longer, or use shorter windows)", p.Emissions, r.MinEmissions)
	case p.SpanSeconds < p.Duration.Seconds()/3:
		return false, fmt.Sprintf("inconclusive: the emissions fired by the watermark span %.1fs, less than a third of the %v probe, so they show no trend (probe longer, or use shorter windows)", p.SpanSeconds, p.Duration)
	}
	bound := (1+r.Growth)*p.FirstP99Ms + float64(r.Slack)/float64(time.Millisecond)
	if p.LastP99Ms > bound {
		return false, fmt.Sprintf("event-time latency grows: p99 %.0f ms in the last third of %d emissions against %.0f ms in the first (more than %.0f ms = (1+%.2f) × first + %v)",
			p.LastP99Ms, p.Emissions, p.FirstP99Ms, bound, r.Growth, r.Slack)
	}
	return true, fmt.Sprintf("event-time latency flat: p99 %.0f ms in the last third of %d emissions against %.0f ms in the first (at most %.0f ms = (1+%.2f) × first + %v)",
		p.LastP99Ms, p.Emissions, p.FirstP99Ms, bound, r.Growth, r.Slack)
}

// fillMeter runs its runner and then measures the rate at which the log it
// read was filled ([FillRate]): the achieved offered rate of a paced run.
type fillMeter struct {
	Runner
	// Rate is the last run's fill rate (events/s; 0 before a run).
	Rate float64
}

func (m *fillMeter) Run(ctx context.Context, job *Job) (*Outcome, error) {
	out, err := m.Runner.Run(ctx, job)
	if err == nil {
		m.Rate = FillRate(job.Log)
	}
	return out, err
}

// Flags forwards the runner's flags to the summary, as [RunLog] records
// them.
func (m *fillMeter) Flags() RuntimeFlags {
	if f, ok := m.Runner.(interface{ Flags() RuntimeFlags }); ok {
		return f.Flags()
	}
	return RuntimeFlags{}
}

// FillRate is the rate log was filled at: its records over the time from
// the first one's ingest time to the log's closing ([datasets.Log.ClosedAt]:
// a lagging generator stamps a late batch with the time it fell due, so the
// stamps alone would show the offered rate), in events/s; 0 for an open log
// or one of fewer than two records.
func FillRate(log *datasets.Log) float64 {
	var n int64
	first := int64(math.MaxInt64)
	for p := range log.Partitions() {
		if end := log.End(p); end > 0 {
			n += end
			first = min(first, log.IngestAt(p, 0))
		}
	}
	last := log.ClosedAt()
	if n < 2 || last <= first {
		return 0
	}
	return float64(n) / (float64(last-first) / 1e9)
}
