package compare

import (
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
	"github.com/weirlab/weir/internal/metrics"
)

// windowsExperiment is the windows experiment's specification.
func windowsExperiment() *Experiment {
	return &Experiment{
		Name:      "windows",
		Claim:     "L6.2/L6.4",
		Statement: "Micro-batches limit windows (no count or session windows) and tie windows to the batch interval: the window size must be a multiple of it, and a window's output cadence and latency follow it.",
		Rule:      "Holds when the DStream configuration refuses sessions, count windows and a window that is not a multiple of the batch interval, runs the aligned window exactly, and a fixed event-time window run paced at the largest batch interval has a longer output cadence and a higher latency than at the smallest, every repetition above every other (ratio outside the spread); does not hold when DStreams run one of the refused windows, or the cadence or latency at the largest batch interval is no higher than at the smallest; inconclusive when a trial failed or did not match the reference, or a figure lies inside the spread.",
		Published: "PySpark `DStream.window(windowDuration, slideDuration)` [P]: both \"must be a multiple of this DStream's batching interval\"; Structured Streaming gained `session_window` only in Spark 3.2.0 [P]; Flink 0.10 advertised sessions and unaligned windows, \"completely decoupl[ing] windowing from fault tolerance\" [P].",
		run:       runWindows,
	}
}

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
	runWindowCosts(ctx, quick, progress, res, &o)
	res.Verdict = verdictWindows(o)
	res.Notes = append(res.Notes, "Event-time windows (rows 1-5) are Structured Streaming-style in both microbatch modes here, so their size is free: the size coupling of L6.4 applies to DStream's processing-time windows (last row), the cadence and latency coupling to every micro-batch window (the paced runs above).")
	res.Notes = append(res.Notes, fmt.Sprintf("%d events per run; an unsupported cell quotes the model's reason (*dataflow.UnsupportedError).", events))
	return res
}

// ---- L6.2/L6.4 windows ----

// Labels of the windows experiment's rows that the verdict reads.
const (
	windowsSessions = "session, gap 30 s (sessions)"
	windowsCount    = "count 100 (count-window)"
	windowsPT7      = "processing-time 7 s, not a multiple of the 2 s batch (request-rate-7s)"
	windowsAligned  = "processing-time 1 min (request-rate)"
)

// windowsOutcome is the capability matrix: Cells[kind label][configuration]
// for the DStream configuration the verdict reads (DStream); and what the
// limits cost: the coupling of a fixed window's output to the batch
// interval, and sessions where micro-batches have them.
type windowsOutcome struct {
	DStream string
	Cells   map[string]map[string]runEnd
	// Coupling holds the fixed window's paced runs on micro-batches, by
	// increasing batch interval; Control the same on record-at-a-time.
	Coupling []couplingRun
	Control  couplingRun
	// Sessions holds the paced session runs: a micro-batch configuration
	// with session windows and record-at-a-time, by configuration.
	Sessions []sessionRun
}

// couplingRun is one configuration's repetitions of the paced fixed window.
type couplingRun struct {
	Config string
	// BatchMs is the batch interval (0 on record-at-a-time), WindowMs the
	// window size.
	BatchMs, WindowMs float64
	// CadenceMs is the median time between emission bursts of a run;
	// LatencyMs its event-time p50 (emit time minus largest event time).
	CadenceMs, LatencyMs spread
	// Inexact is the check of a repetition that did not match ("" when
	// all did); Failed why a repetition did not finish.
	Inexact, Failed string
}

// sessionRun is one configuration's repetitions of the paced sessions.
type sessionRun struct {
	Config string
	// LatencyMs is the processing-time p50 (emit time minus largest
	// ingest time of the session's records).
	LatencyMs       spread
	Inexact, Failed string
	Check           string
}

// verdictWindows judges every sub-claim: which windows DStreams refuse
// (verdictWindowKinds), the coupling of a window's output to the batch
// interval (verdictCoupling), and the session runs that show what
// sessions cost where micro-batches have them (verdictSessionCost). Any
// sub-verdict that does not hold decides; else any inconclusive one.
func verdictWindows(o windowsOutcome) Verdict {
	return worstOf(subVerdict{V: verdictWindowKinds(o)}, subVerdict{V: verdictCoupling(o.Coupling, o.Control)}, subVerdict{V: verdictSessionCost(o.Sessions)})
}

func verdictWindowKinds(o windowsOutcome) Verdict {
	cell := func(kind string) (runEnd, bool) {
		c, ok := o.Cells[kind][o.DStream]
		return c, ok
	}
	var refused, expressed []string
	for _, k := range []string{windowsSessions, windowsCount, windowsPT7} {
		c, ok := cell(k)
		switch {
		case !ok:
			return inconclusive("%s was not tried on %s", k, o.DStream)
		case c.Failed != "":
			return inconclusive("%s on %s failed: %s", k, o.DStream, c.Failed)
		case c.Unsupported != "":
			refused = append(refused, fmt.Sprintf("%s (%q)", k, c.Unsupported))
		default:
			expressed = append(expressed, fmt.Sprintf("%s (%s)", k, c.Check))
		}
	}
	ctl, ok := cell(windowsAligned)
	switch {
	case len(expressed) > 0:
		return doesNotHold("%s runs %s", o.DStream, strings.Join(expressed, "; "))
	case !ok || ctl.Failed != "" || ctl.Unsupported != "" || !ctl.Exact:
		return inconclusive("%s refused %s, but its control, the aligned %s, did not run exactly (%s%s%s)", o.DStream, strings.Join(refused, "; "), windowsAligned, ctl.Failed, ctl.Unsupported, ctl.Check)
	}
	return holds("%s refused %s, and ran the aligned %s exactly (%s)", o.DStream, strings.Join(refused, "; "), windowsAligned, ctl.Check)
}

// verdictCoupling compares the smallest and the largest batch interval of
// runs: the window's output cadence and latency follow the batch interval
// when both are higher at the largest, every repetition above every
// repetition at the smallest; they do not when one is no higher (every
// repetition at the largest at or below every one at the smallest). The
// record-at-a-time control is quoted, not judged.
func verdictCoupling(runs []couplingRun, control couplingRun) Verdict {
	if len(runs) < 2 {
		return inconclusive("the window's output was measured at %d batch intervals (need 2)", len(runs))
	}
	for _, r := range append(slices.Clone(runs), control) {
		switch {
		case r.Failed != "":
			return inconclusive("the paced window on %s failed: %s", r.Config, r.Failed)
		case r.Inexact != "":
			return inconclusive("the paced window on %s did not match the reference: %s", r.Config, r.Inexact)
		}
	}
	for _, r := range runs {
		if !r.CadenceMs.enough() || !r.LatencyMs.enough() {
			return inconclusive("the paced window on %s: cadence over %d and latency over %d repetitions (need %d)", r.Config, r.CadenceMs.N, r.LatencyMs.N, minReps)
		}
	}
	lo, hi := runs[0], runs[len(runs)-1]
	var grew, flat, inside []string
	for _, f := range []struct {
		name   string
		lo, hi spread
	}{{"output cadence", lo.CadenceMs, hi.CadenceMs}, {"event-time p50 latency", lo.LatencyMs, hi.LatencyMs}} {
		desc := fmt.Sprintf("%s %s ms at %s ms batches against %s ms at %s ms (x%s for a x%s batch interval)", f.name, f.hi, cell(hi.BatchMs), f.lo, cell(lo.BatchMs), cell(f.hi.Median/f.lo.Median), cell(hi.BatchMs/lo.BatchMs))
		switch {
		case f.lo.below(f.hi):
			grew = append(grew, desc)
		case f.hi.Max <= f.lo.Min:
			flat = append(flat, desc)
		default:
			inside = append(inside, desc)
		}
	}
	ctl := "-"
	if control.Config != "" {
		ctl = fmt.Sprintf("%s: cadence %s ms, latency %s ms", control.Config, control.CadenceMs, control.LatencyMs)
	}
	win := cell(hi.WindowMs)
	switch {
	case len(flat) > 0:
		return doesNotHold("the %s ms window's output does not follow the batch interval: %s (rising: %s; record-at-a-time %s)", win, strings.Join(flat, "; "), strings.Join(append(grew, inside...), "; "), ctl)
	case len(inside) > 0:
		return inconclusive("the %s ms window's output against the batch interval lies inside the spread: %s (rising: %s; record-at-a-time %s)", win, strings.Join(inside, "; "), strings.Join(grew, "; "), ctl)
	}
	return holds("the %s ms window's output follows the batch interval: %s (record-at-a-time %s)", win, strings.Join(grew, "; "), ctl)
}

// verdictSessionCost holds when every configuration ran the paced
// sessions exactly, quoting their latencies; inconclusive otherwise.
func verdictSessionCost(runs []sessionRun) Verdict {
	if len(runs) == 0 {
		return inconclusive("no paced session run was measured")
	}
	var got []string
	for _, r := range runs {
		switch {
		case r.Failed != "":
			return inconclusive("the paced sessions on %s failed: %s", r.Config, r.Failed)
		case r.Inexact != "":
			return inconclusive("the paced sessions on %s did not match the reference: %s", r.Config, r.Inexact)
		case !r.LatencyMs.enough():
			return inconclusive("the paced sessions on %s: %d repetitions (need %d)", r.Config, r.LatencyMs.N, minReps)
		}
		got = append(got, fmt.Sprintf("%s %s ms", r.Config, r.LatencyMs))
	}
	return holds("paced sessions ran exactly (%s), processing-time p50 %s; the DStream emulation with mapWithState is not built", runs[0].Check, strings.Join(got, " against "))
}

// runWindowCosts measures what the window limits cost, on paced input: a
// fixed event-time window at batch intervals of half, one and two window
// sizes on Structured Streaming-style micro-batches (output cadence and
// event-time latency against the batch interval), the same window on
// record-at-a-time, and sessions on micro-batches (event-time mode's
// session_window) against record-at-a-time. The configurations of one
// repetition run at once (paced at a low rate, they mostly wait), the
// repetitions one after another.
func runWindowCosts(ctx context.Context, quick bool, progress func(string), res *ExperimentResult, o *windowsOutcome) {
	win := pick(quick, 200*time.Millisecond, time.Second)
	seconds := pick(quick, 1.6, 8.0)
	const rate = 2000.0
	n := reps(quick)
	fixed := ysbVariant("ysb-"+win.String(), dataflow.FixedWindows(win), win/10)
	paced := DataSpec{Events: int64(rate * seconds), Rate: rate, EventRate: rate, InOrder: true}
	var coupling []SuiteEntry
	for _, b := range []time.Duration{win / 2, win, 2 * win} {
		coupling = append(coupling, SuiteEntry{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "event-time", BatchInterval: b}})
	}
	stream := SuiteEntry{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}}
	sessions := []SuiteEntry{{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "event-time", BatchInterval: 2 * win}}, stream}
	type job struct {
		t       trial
		session bool
	}
	var jobs []job
	for _, e := range append(slices.Clone(coupling), stream) {
		jobs = append(jobs, job{t: trial{workload: fixed, runtime: e.Runtime, flags: e.Flags, data: paced, opts: Options{Trace: true},
			timeout: time.Minute, label: "paced fixed " + win.String() + " window on " + configName(e)}})
	}
	for _, e := range sessions {
		jobs = append(jobs, job{session: true, t: trial{workload: mustWorkload("sessions"), runtime: e.Runtime, flags: e.Flags, data: DataSpec{Events: int64(rate * seconds), Rate: rate},
			timeout: time.Minute, label: "paced sessions on " + configName(e)}})
	}
	var mu sync.Mutex
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		sayf(progress, "%s", s)
	}
	reports := make([][]*Report, len(jobs))
	failed := make([]string, len(jobs))
	for range n {
		var wg sync.WaitGroup
		for i, j := range jobs {
			if failed[i] != "" {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				rep, err := j.t.do(ctx, say)
				if err != nil {
					failed[i] = trialStatus(err)
					return
				}
				reports[i] = append(reports[i], rep)
			}()
		}
		wg.Wait()
	}
	inexact := func(reps []*Report) string {
		for _, r := range reps {
			if !r.Check.OK() {
				return r.Check.String()
			}
		}
		return ""
	}
	fig := Series{Name: "coupling", Title: fmt.Sprintf("ysb, %v event-time windows, paced at %.0f events/s: output cadence and latency against the batch interval (median of repetitions)", win, rate),
		XLabel: "batch interval (ms)", YLabel: "ms", Refs: []RefLine{HLine("window "+win.String(), float64(win.Milliseconds()))}}
	cad, lat := Line{Label: "micro-batch output cadence"}, Line{Label: "micro-batch event-time p50 latency"}
	for i, j := range jobs {
		name := configName(SuiteEntry{Runtime: j.t.runtime, Flags: j.t.flags})
		if j.session {
			r := sessionRun{Config: name, Failed: failed[i], Inexact: inexact(reports[i]),
				LatencyMs: spreadOf(figure(reports[i], func(r *Report) float64 { return r.Summary.LatencyMs.ProcessingTime.P50 }))}
			if len(reports[i]) > 0 {
				r.Check = reports[i][0].Check.String()
			}
			o.Sessions = append(o.Sessions, r)
			res.Notes = append(res.Notes, fmt.Sprintf("Paced sessions (gap 30 s of event time) on %s: processing-time p50 %s ms, p99 %s ms; %s.", name, r.LatencyMs,
				spreadOf(figure(reports[i], func(r *Report) float64 { return r.Summary.LatencyMs.ProcessingTime.P99 })), runSummary(reports[i], failed[i])))
			continue
		}
		r := couplingRun{Config: name, BatchMs: float64(j.t.flags.BatchInterval.Milliseconds()), WindowMs: float64(win.Milliseconds()),
			Failed: failed[i], Inexact: inexact(reports[i]),
			CadenceMs: spreadOf(measured(figure(reports[i], func(r *Report) float64 { return emissionCadenceMs(r.Trace, win/10) }))),
			LatencyMs: spreadOf(figure(reports[i], func(r *Report) float64 { return r.Summary.LatencyMs.EventTime.P50 }))}
		if j.t.runtime == "recordstream" {
			o.Control = r
		} else {
			o.Coupling = append(o.Coupling, r)
			if r.CadenceMs.N > 0 {
				cad.Points = append(cad.Points, metrics.Point{T: r.BatchMs, V: r.CadenceMs.Median})
				lat.Points = append(lat.Points, metrics.Point{T: r.BatchMs, V: r.LatencyMs.Median})
			}
		}
		res.Notes = append(res.Notes, fmt.Sprintf("Paced %v window on %s: output cadence %s ms, event-time p50 %s ms, p99 %s ms; %s.", win, name, r.CadenceMs, r.LatencyMs,
			spreadOf(figure(reports[i], func(r *Report) float64 { return r.Summary.LatencyMs.EventTime.P99 })), runSummary(reports[i], failed[i])))
	}
	if o.Control.CadenceMs.N > 0 {
		fig.Refs = append(fig.Refs, HLine("record-at-a-time latency", o.Control.LatencyMs.Median))
	}
	fig.Lines = append(fig.Lines, cad, lat)
	res.Series = append(res.Series, fig)
	res.Notes = append(res.Notes, fmt.Sprintf("The cost rows run ysb with %v event-time windows (watermark bound %v, data in event-time order, event time following the wall clock) and the sessions workload, each paced at %.0f events/s for %.0f s, %d repetitions, median [min-max]. Output cadence is the median time between emission bursts (emissions less than %v apart form one burst; the flush at the end of the input, once the last record was ingested, is left out). DStreams would emulate sessions with mapWithState; the runtime's mapWithState (microbatch.Config.StateOp, StateTimeout) keeps the aggregation's own state, with no user state function, and is not reachable through RuntimeFlags, so that emulation is not built.", win, win/10, rate, seconds, n, win/10))
}

// runSummary is how a trial's repetitions ended, for a note.
func runSummary(reports []*Report, failed string) string {
	if failed != "" {
		return failed
	}
	return fmt.Sprintf("%d repetitions, reference: %s", len(reports), allExact(reports))
}

// emissionCadenceMs is the median time in ms between the starts of the
// emission bursts of a run's trace: its panes sorted by emit time, a pane
// less than burst after the previous one belonging to its burst. Panes
// emitted once the last record was ingested (the flush at the end of the
// input) are left out. NaN when fewer than two bursts remain.
func emissionCadenceMs(trace []datasets.TraceRow, burst time.Duration) float64 {
	end := int64(math.MaxInt64)
	for _, r := range trace {
		if r.Kind == datasets.TraceRecord && r.IngestNanos > 0 {
			if end == math.MaxInt64 {
				end = 0
			}
			end = max(end, r.IngestNanos)
		}
	}
	var at []int64
	for _, r := range trace {
		if r.Kind == datasets.TracePane && r.EmitNanos < end {
			at = append(at, r.EmitNanos)
		}
	}
	slices.Sort(at)
	var gaps []float64
	start, prev := int64(0), int64(0)
	for i, t := range at {
		switch {
		case i == 0:
			start = t
		case t-prev >= burst.Nanoseconds():
			gaps = append(gaps, float64(t-start)/float64(time.Millisecond))
			start = t
		}
		prev = t
	}
	if len(gaps) == 0 {
		return math.NaN()
	}
	return spreadOf(gaps).Median
}

// measured drops the NaNs of v (figures a run could not measure).
func measured(v []float64) []float64 {
	return slices.DeleteFunc(v, math.IsNaN)
}
