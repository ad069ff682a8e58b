package compare

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/metrics"
)

// Summary is the object `bench run --summary FILE.json` writes (DESIGN.md):
// what ran, on what, how fast, with which latency, and how the results
// compare with the reference answer.
type Summary struct {
	Runtime  string    `json:"runtime"`
	Workload string    `json:"workload"`
	Config   RunConfig `json:"config"`
	// Events is the number of log records the run read.
	Events int64 `json:"events"`
	// Seconds is the run's processing time (Outcome.Elapsed).
	Seconds         float64 `json:"seconds"`
	EventsPerSecond float64 `json:"events_per_second"`
	// Emissions counts every pane the sink received; Results the final
	// results compared with the reference.
	Emissions int64          `json:"emissions"`
	Results   int            `json:"results"`
	LatencyMs LatencySummary `json:"latency_ms"`
	Reference ReferenceCheck `json:"reference"`
	// Counters are the runtime's own counts (acked, failed, timed_out,
	// replayed, acker_messages, batches, scheduling_delay_ms, checkpoints...).
	Counters map[string]int64 `json:"counters"`
	// Series are the run's samples over time, x in seconds: the runtime's
	// own as its report exposes them (microbatch per batch: input_records,
	// scheduling/processing/total_delay_ms, queued_batches, held_bytes,
	// rate_limit; recordstream every sample interval: queue_batches/<task>,
	// busy/<task>), and, from a run's trace ([Summary.AddTraceSeries]),
	// ingest_events_per_s, emitted_panes, watermark_ms and
	// processing_time_latency_ms.
	Series map[string]metrics.Series `json:"series,omitempty"`
	// Crashes counts the injected crashes ([Options.CrashAfter]) that
	// fired: crashed tasks (recordstream), failed batches and driver
	// crashes (microbatch). The reference runtime injects none.
	Crashes int64 `json:"crashes"`
	// Warnings are what the run was asked for and did not do, such as a
	// crash that never fired ([FaultWarnings]), then the runtime's own
	// ([Outcome.Warnings], such as a damaged checkpoint a restore skipped),
	// which have no Field ([RunWarnings]).
	Warnings []Warning `json:"warnings,omitempty"`
}

// Warning is something a person should know of a run that is not an
// error. Field names the field it is about as a [FieldError] does
// ("Options.CrashAfter"), so that a caller can name its own option for it;
// it is empty for a runtime's warning, which is about the run itself.
type Warning struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (w Warning) String() string {
	if w.Field == "" {
		return w.Message
	}
	return w.Field + ": " + w.Message
}

// RunWarnings returns every warning of a run on runtime that was asked
// for crashAfter and whose outcome is out: [FaultWarnings], then the
// runtime's [Outcome.Warnings] (without a Field). [Summary.Warnings] holds
// them, so every command that reports a run reports them alike.
func RunWarnings(runtime string, crashAfter []int64, out *Outcome) []Warning {
	ws := FaultWarnings(runtime, crashAfter, out)
	for _, m := range out.Warnings {
		ws = append(ws, Warning{Message: m})
	}
	return ws
}

// crashesFired counts the injected crashes a runtime's counters report.
func crashesFired(counters map[string]int64) int64 {
	return counters["crashes"] + counters["failed_batches"] + counters["driver_restarts"]
}

// FaultWarnings returns the warnings of a run on runtime that was asked for
// crashAfter and whose outcome is out: one when a requested crash did not
// fire, saying how many records the crashes count reached (records_in, the
// records the windowed step took in, where the runtime reports it; else the
// events read). A fault asked for is never dropped silently.
func FaultWarnings(runtime string, crashAfter []int64, out *Outcome) []Warning {
	if len(crashAfter) == 0 {
		return nil
	}
	if runtime == "reference" {
		return []Warning{{Field: "Options.CrashAfter", Message: fmt.Sprintf(
			"crashes: 0 of %d: the reference runtime (the batch answer) injects no faults; run a streaming runtime to crash it", len(crashAfter))}}
	}
	fired := crashesFired(out.Counters)
	if fired >= int64(len(crashAfter)) {
		return nil
	}
	taken, what := out.Events, "events read"
	if n, ok := out.Counters["records_in"]; ok {
		taken, what = n, "records the windowed step took in"
	}
	var beyond []string
	for _, n := range crashAfter {
		if n > taken {
			beyond = append(beyond, strconv.FormatInt(n, 10))
		}
	}
	msg := fmt.Sprintf("crashes: %d of %d fired; the run had %d %s", fired, len(crashAfter), taken, what)
	if len(beyond) > 0 {
		msg += fmt.Sprintf(", fewer than %s: crash points must be at most %d", strings.Join(beyond, ", "), taken)
	}
	return []Warning{{Field: "Options.CrashAfter", Message: msg}}
}

// RunConfig records what a run was given.
type RunConfig struct {
	// Events and Seed describe built-in data (Events is what was asked for,
	// zero with Input; Summary.Events is what was read).
	Events int64  `json:"events,omitempty"`
	Seed   uint64 `json:"seed"`
	// EventRate is the data's event-time density, events per second (0:
	// the dataset's default).
	EventRate float64 `json:"event_rate,omitempty"`
	// Rate is the paced ingestion rate in events/s (0: the log is filled
	// before the run starts).
	Rate float64 `json:"rate"`
	// Input is the directory the data was loaded from, if any.
	Input      string       `json:"input,omitempty"`
	Partitions int          `json:"partitions"`
	Flags      RuntimeFlags `json:"flags"`
	CrashAfter []int64      `json:"crash_after,omitempty"`
	SlowNanos  int64        `json:"slow_ns,omitempty"`
	DropAcks   float64      `json:"drop_acks,omitempty"`
}

// LatencySummary holds the two latency figures (DESIGN.md), in ms. The
// reference runner's are zero: it emits everything at the end, so its
// latency means nothing.
type LatencySummary struct {
	EventTime      metrics.Summary `json:"event_time"`
	ProcessingTime metrics.Summary `json:"processing_time"`
}

// ReferenceCheck is the check against the reference answer as the summary
// reports it ([CheckResult]). Windows to Mismatched compare with the
// reference without the verified late drops; Full with the full answer.
// OK ("matches") means no unverified drop and equal after the verified
// exclusions.
type ReferenceCheck struct {
	Windows    int `json:"windows"`
	Matching   int `json:"matching"`
	Lost       int `json:"lost"`
	Duplicated int `json:"duplicated"`
	Mismatched int `json:"mismatched"`
	// DroppedLate counts every reported drop; LateVerified the first
	// deliveries the model's rule explains, LateReplays the verified drops
	// of replays (lost to lateness after a replay), LateUnverified the rest.
	DroppedLate    int    `json:"dropped_late"`
	LateVerified   int    `json:"late_verified"`
	LateReplays    int    `json:"late_replays"`
	LateUnverified int    `json:"late_unverified"`
	LateRule       string `json:"late_rule"`
	LateWindows    int    `json:"late_windows"`
	FullWindows    int    `json:"full_windows,omitempty"`
	// Full is the comparison with the full (batch) answer.
	Full      FullSummary `json:"full"`
	Stateless bool        `json:"stateless,omitempty"`
	OK        bool        `json:"ok"`
}

// FullSummary is [FullCheck] in the summary.
type FullSummary struct {
	Windows    int  `json:"windows"`
	Matching   int  `json:"matching"`
	Lost       int  `json:"lost"`
	Duplicated int  `json:"duplicated"`
	Mismatched int  `json:"mismatched"`
	OK         bool `json:"ok"`
}

// NewSummary builds the summary of one run.
func NewSummary(workload, runtime string, cfg RunConfig, out *Outcome, c CheckResult) Summary {
	s := Summary{
		Runtime:   runtime,
		Workload:  workload,
		Config:    cfg,
		Events:    out.Events,
		Seconds:   out.Elapsed.Seconds(),
		Emissions: out.Emissions,
		Results:   len(out.Results),
		Reference: ReferenceCheck{
			Windows: c.Windows, Matching: c.Matching, Lost: c.Lost, Duplicated: c.Duplicated,
			Mismatched: c.Mismatched, DroppedLate: c.DroppedLate, LateWindows: c.LateWindows, FullWindows: c.FullWindows,
			LateVerified: c.Late.Verified, LateReplays: c.Late.Replays, LateUnverified: c.Late.Unverified, LateRule: out.LateRule.String(),
			Full: FullSummary{Windows: c.Full.Windows, Matching: c.Full.Matching, Lost: c.Full.Lost, Duplicated: c.Full.Duplicated,
				Mismatched: c.Full.Mismatched, OK: c.Full.OK()},
			Stateless: c.Stateless, OK: c.OK(),
		},
		Counters: map[string]int64{},
		Crashes:  crashesFired(out.Counters),
		Warnings: RunWarnings(runtime, cfg.CrashAfter, out),
	}
	if s.Seconds > 0 {
		s.EventsPerSecond = float64(out.Events) / s.Seconds
	}
	if out.Latency.EventTime != nil {
		s.LatencyMs.EventTime = out.Latency.EventTime.Summarize()
	}
	if out.Latency.ProcessingTime != nil {
		s.LatencyMs.ProcessingTime = out.Latency.ProcessingTime.Summarize()
	}
	maps.Copy(s.Counters, out.Counters)
	if len(out.Series) > 0 {
		s.Series = map[string]metrics.Series{}
		for k, v := range out.Series {
			s.Series[k] = slices.Clone(v)
		}
	}
	return s
}

// maxTracePoints caps the points of each series [Summary.AddTraceSeries]
// derives: the trace is cut into at most this many time buckets.
const maxTracePoints = 1000

// AddTraceSeries adds to s the series derived from a run's trace
// ([Report.Trace]), in time buckets of 100 ms (wider when the run is
// longer than maxTracePoints buckets), x in seconds since the first
// record was ingested: ingest_events_per_s (records ingested per second),
// emitted_panes (panes the sink took in), watermark_ms (the largest
// watermark of the bucket's panes, in event time; the end of the input's
// MaxTime left out) and
// processing_time_latency_ms (the largest emit time minus largest ingest
// time of the bucket's panes; a pane row's IngestNanos is its largest
// ingest time). Buckets without panes have no pane point.
func (s *Summary) AddTraceSeries(trace []datasets.TraceRow) {
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, r := range trace {
		t := r.IngestNanos
		if r.Kind == datasets.TracePane {
			t = r.EmitNanos
		}
		if t > 0 {
			if r.Kind == datasets.TraceRecord {
				first = min(first, t)
			}
			last = max(last, t)
		}
	}
	if first == math.MaxInt64 || last < first {
		return
	}
	width := max(int64(100*time.Millisecond), (last-first)/maxTracePoints+1)
	n := int((last-first)/width) + 1
	ingested := make([]float64, n)
	panes := make([]float64, n)
	wm := make([]float64, n)
	lat := make([]float64, n)
	for i := range wm {
		wm[i], lat[i] = math.Inf(-1), math.Inf(-1)
	}
	for _, r := range trace {
		switch {
		case r.Kind == datasets.TraceRecord && r.IngestNanos >= first:
			ingested[(r.IngestNanos-first)/width]++
		case r.Kind == datasets.TracePane && r.EmitNanos >= first:
			b := (r.EmitNanos - first) / width
			panes[b]++
			if w := dataflow.Time(r.WatermarkMs); w > dataflow.MinTime && w < dataflow.MaxTime {
				wm[b] = max(wm[b], float64(w)) // MaxTime: the end of the input
			}
			if r.IngestNanos > 0 {
				lat[b] = max(lat[b], float64(r.EmitNanos-r.IngestNanos)/float64(time.Millisecond))
			}
		}
	}
	if s.Series == nil {
		s.Series = map[string]metrics.Series{}
	}
	sec := float64(width) / float64(time.Second)
	add := func(name string, v []float64, keep func(int) bool) {
		var pts metrics.Series
		for i, x := range v {
			if keep(i) && !math.IsInf(x, 0) {
				pts = append(pts, metrics.Point{T: float64(i) * sec, V: x})
			}
		}
		s.Series[name] = pts
	}
	all := func(int) bool { return true }
	withPanes := func(i int) bool { return panes[i] > 0 }
	for i := range ingested {
		ingested[i] /= sec
	}
	add("ingest_events_per_s", ingested, all)
	add("emitted_panes", panes, all)
	add("watermark_ms", wm, withPanes)
	add("processing_time_latency_ms", lat, withPanes)
}

// WriteFile writes the summary as indented JSON to path, through a
// temporary file renamed into place: a reader never sees half a summary.
func (s Summary) WriteFile(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("compare: encode summary: %w", err)
	}
	if err := writeFileAtomic(path, append(b, '\n')); err != nil {
		return fmt.Errorf("compare: write summary: %w", err)
	}
	return nil
}
