package compare

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/weirlab/weir/dataflow"
)

// windowsExperiment is the windows experiment's specification.
func windowsExperiment() *Experiment {
	return &Experiment{
		Name:      "windows",
		Claim:     "L6.2/L6.4",
		Statement: "Micro-batches limit windows (no count or session windows) and tie the window size to the batch interval.",
		Rule:      "Holds when the DStream configuration refuses sessions, count windows and a window that is not a multiple of the batch interval, and runs the aligned window exactly; does not hold when it runs one of them; inconclusive when a trial failed.",
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
	res.Verdict = verdictWindows(o)
	res.Notes = append(res.Notes, "Event-time windows (rows 1-5) are Structured Streaming-style in both microbatch modes here, so their size is free; the batch-interval coupling of L6.4 applies to DStream's processing-time windows (last row).")
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
// for the DStream configuration the verdict reads (DStream).
type windowsOutcome struct {
	DStream string
	Cells   map[string]map[string]runEnd
}

func verdictWindows(o windowsOutcome) Verdict {
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
	return holds("%s refused %s, and ran the aligned %s exactly (%s). Measured: which windows the model expresses; what the limits cost (sessions emulated with state, output cadence tied to the batch interval) is not measured in this suite", o.DStream, strings.Join(refused, "; "), windowsAligned, ctl.Check)
}
