package compare

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/snapshot"
)

// The Nexmark measurement (`bench nexmark`, issue 12) runs each Nexmark
// query on each runtime configuration and reports, in the shape of the
// nexmark/nexmark report (Throughput/Cores), for every pair:
//
//  1. a check run: unpaced, over the log filled before it starts, its
//     results kept and checked against the reference answer (matches
//     reference);
//  2. if it matches, a throughput run over the same log, as nexmark/nexmark
//     measures (its sink a blackhole): the runtime's counting sink
//     (microbatch and recordstream's Storm modes, Config.CountingSink)
//     builds every result and counts it but keeps none, so neither keeping
//     nor sorting the output is timed. It must read every event and, for
//     a stateless query, emit as many results as the check run; then it
//     gives events/s, the cores it used (process CPU time over the run's
//     wall time, getrusage) and events per second per core (events / CPU
//     seconds: nexmark's Throughput/Cores). A configuration with no
//     counting sink (recordstream's exactly-once modes, whose sinks are
//     transactional stores) times a run that keeps every result; the row
//     says which sink (ThroughputSink). A check that fails leaves the
//     throughput unmeasured;
//  3. a paced run at [NexmarkOptions.PacedRate]: event-time and
//     processing-time latency p50 and p99 (Karimov et al.), checked too;
//  4. optionally, the sustainable throughput ([SustainableRate]) of the
//     windowed queries: its rule reads the trend of the event-time latency
//     of watermark-fired panes, so probes must span several 10 s windows
//     (ProbeDuration of 30 s or more), and stateless queries, which fire
//     none, are not searched (the row says so).
//
// A configuration whose model cannot express a query refuses it with the
// model's reason, recorded in the row. The published per-core figures of
// Flink and RisingWave ([NexmarkPublished]) stand beside ours, labelled as
// theirs; they come from clusters with their own harnesses and count
// their in-engine generator in Flink's cores, so only orders of magnitude
// compare. Our cores exclude the generator: the log is filled first.

// NexmarkCSV is the file [WriteNexmark] writes into its directory (with
// NexmarkParquet beside it), and [ReadNexmark] and `bench report` read.
const (
	NexmarkCSV     = "nexmark.csv"
	NexmarkParquet = "nexmark.parquet"
)

// NexmarkPublished is one query's published throughput per core, in
// events per second per core, from nexmark-and-peers.md 1.4: Flink 1.13
// on 3 x 8 cores, parallelism 8, exactly-once checkpoints every 3 min,
// RocksDB (the nexmark/nexmark README); RisingWave nightly-20230309 on 8
// vCPU reading Kafka (its docs). Zero: none published.
type NexmarkPublished struct {
	Flink, RisingWave float64
}

// NexmarkPublishedFigures returns the published per-core figures by
// query name (nexmark-q0, ...).
func NexmarkPublishedFigures() map[string]NexmarkPublished {
	return map[string]NexmarkPublished{
		"nexmark-q0":  {Flink: 155_000, RisingWave: 118_000},
		"nexmark-q1":  {Flink: 158_000, RisingWave: 119_000},
		"nexmark-q2":  {Flink: 175_000, RisingWave: 127_000},
		"nexmark-q3":  {Flink: 152_000, RisingWave: 97_000},
		"nexmark-q4":  {Flink: 34_000, RisingWave: 14_000},
		"nexmark-q5":  {Flink: 22_000, RisingWave: 5_200},
		"nexmark-q7":  {Flink: 12_000, RisingWave: 20_000},
		"nexmark-q8":  {Flink: 146_000, RisingWave: 61_000},
		"nexmark-q11": {Flink: 40_000},
		"nexmark-q12": {Flink: 76_000},
	}
}

// NexmarkRecord is one row of the Nexmark table: one query on one runtime
// configuration. Times are seconds and milliseconds; rates events per
// second. A figure that was not measured is 0.
type NexmarkRecord struct {
	Query   string `parquet:"query"`
	Runtime string `parquet:"runtime"`
	// Config is the configuration's flags, as `bench run` takes them.
	Config string `parquet:"config"`
	// Status is "ok" (it ran; Matches says how it compares), "refused"
	// (the model cannot express the query; Reason says why) or "failed"
	// (Reason holds the error).
	Status string `parquet:"status"`
	Reason string `parquet:"reason"`
	// The throughput run (unpaced, counting sink; none when the check run
	// fails). ThroughputSink is "counting" (the runtime's counting sink)
	// or "kept" (the runtime keeps and sorts every result: it has no
	// counting sink).
	ThroughputSink  string  `parquet:"throughput_sink"`
	Events          int64   `parquet:"events"`
	Seconds         float64 `parquet:"seconds"`
	EventsPerSecond float64 `parquet:"events_per_s"`
	CPUSeconds      float64 `parquet:"cpu_seconds"`
	// Cores is CPUSeconds / the run's wall time.
	Cores float64 `parquet:"cores"`
	// EventsPerCoreSecond is Events / CPUSeconds (Throughput/Cores).
	EventsPerCoreSecond float64 `parquet:"events_per_core_s"`
	// The check run (unpaced, results kept): whether they equal the
	// reference answer, and the check's summary.
	Matches bool   `parquet:"matches"`
	Check   string `parquet:"check"`
	// The paced run.
	PacedRate    float64 `parquet:"paced_rate"`
	PacedEvents  int64   `parquet:"paced_events"`
	EventP50Ms   float64 `parquet:"event_time_p50_ms"`
	EventP99Ms   float64 `parquet:"event_time_p99_ms"`
	ProcP50Ms    float64 `parquet:"processing_time_p50_ms"`
	ProcP99Ms    float64 `parquet:"processing_time_p99_ms"`
	PacedMatches bool    `parquet:"paced_matches"`
	// SustainableRate is the sustainable throughput (0: not measured;
	// SustainableNote says why or qualifies it).
	SustainableRate float64 `parquet:"sustainable_rate"`
	SustainableNote string  `parquet:"sustainable_note"`
	// Published per-core figures, theirs.
	FlinkPerCore      float64 `parquet:"flink_per_core"`
	RisingWavePerCore float64 `parquet:"risingwave_per_core"`
}

// NexmarkOptions say what [RunNexmark] measures. The zero value is valid:
// every zero field takes the default its comment names.
type NexmarkOptions struct {
	// Queries are the query names (default: all, [NexmarkQueries]).
	Queries []string
	// Entries are the runtime configurations (default [NexmarkSuite]).
	Entries []SuiteEntry
	// Events is the unpaced run's number of events (default 1,000,000).
	Events int64
	// Seed selects the data.
	Seed uint64
	// PacedRate is the paced run's ingestion rate (default 20,000 events
	// per second); PacedDuration how long it ingests (default 30 s). A
	// negative PacedDuration skips the paced run.
	PacedRate     float64
	PacedDuration time.Duration
	// Sustainable runs [SustainableRate] per pair with Capacity's bounds.
	Sustainable bool
	Capacity    CapacityOptions
	// Progress, if set, receives a line per stage.
	Progress func(string)
}

// QuickNexmarkOptions are the options of `bench nexmark --quick`: 200,000
// events unpaced, 2 s paced at 20,000 events/s, two configurations, no
// sustainable search; under two minutes on two cores.
func QuickNexmarkOptions() NexmarkOptions {
	return NexmarkOptions{
		Events:        200_000,
		PacedRate:     20_000,
		PacedDuration: 2 * time.Second,
		Entries: []SuiteEntry{
			{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "event-time", BatchInterval: time.Second}},
			{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}},
		},
	}
}

// NexmarkSuite is the default configurations of the Nexmark table: both
// microbatch models, recordstream at-most-once (Storm without acking, the
// throughput baseline) and exactly-once (Flink's barriers, the
// configuration Flink's published figures ran).
func NexmarkSuite() []SuiteEntry {
	return []SuiteEntry{
		{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "event-time", BatchInterval: time.Second}},
		{Runtime: "microbatch", Flags: RuntimeFlags{Mode: "dstream", BatchInterval: time.Second}},
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}},
		{Runtime: "recordstream", Flags: RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2, CheckpointInterval: time.Second}},
	}
}

func (o NexmarkOptions) withDefaults() NexmarkOptions {
	if len(o.Queries) == 0 {
		o.Queries = NexmarkQueries()
	}
	if len(o.Entries) == 0 {
		o.Entries = NexmarkSuite()
	}
	if o.Events == 0 {
		o.Events = 1_000_000
	}
	if o.PacedRate == 0 {
		o.PacedRate = 20_000
	}
	if o.PacedDuration == 0 {
		o.PacedDuration = 30 * time.Second
	}
	return o
}

// Validate reports options [RunNexmark] cannot use: a *[FieldError]
// naming the field.
func (o NexmarkOptions) Validate() error {
	known := NexmarkQueries()
	for _, q := range o.Queries {
		if !slices.Contains(known, q) {
			return &FieldError{Field: "NexmarkOptions.Queries", Err: fmt.Errorf("unknown query %q: use one of %s", q, strings.Join(known, ", "))}
		}
	}
	for _, e := range o.Entries {
		if !slices.Contains(Runtimes(), e.Runtime) {
			return &FieldError{Field: "NexmarkOptions.Entries", Err: fmt.Errorf("unknown runtime %q: use one of %s", e.Runtime, strings.Join(Runtimes(), ", "))}
		}
		if err := e.Flags.Validate(); err != nil {
			return err
		}
	}
	switch {
	case o.Events < 0:
		return &FieldError{Field: "NexmarkOptions.Events", Err: fmt.Errorf("want a positive number of events (0: 1,000,000); got %d", o.Events)}
	case o.PacedRate < 0:
		return &FieldError{Field: "NexmarkOptions.PacedRate", Err: fmt.Errorf("want a positive rate (0: 20,000 events/s); got %v", o.PacedRate)}
	}
	if o.Sustainable {
		return o.Capacity.Validate()
	}
	return nil
}

// cpuMeter measures the process CPU time and the wall time of the
// runner's Run alone (not the data's loading nor the check).
type cpuMeter struct {
	Runner
	cpu, wall time.Duration
	err       error
}

func (m *cpuMeter) Run(ctx context.Context, job *Job) (*Outcome, error) {
	clk := clock.OrReal(job.Options.Clock)
	c0, err := processCPU()
	t0 := clk.Now()
	out, rerr := m.Runner.Run(ctx, job)
	m.wall = clock.Since(clk, t0)
	c1, err1 := processCPU()
	m.cpu, m.err = c1-c0, errors.Join(err, err1)
	return out, rerr
}

// Flags forwards the runner's flags to the summary.
func (m *cpuMeter) Flags() RuntimeFlags {
	if f, ok := m.Runner.(interface{ Flags() RuntimeFlags }); ok {
		return f.Flags()
	}
	return RuntimeFlags{}
}

// RunNexmark measures every query of o on every configuration, in query
// order then configuration order. Failures and refusals of single pairs
// are in their rows; only bad options or a canceled ctx stop it (with an
// error, and the rows measured so far).
func RunNexmark(ctx context.Context, o NexmarkOptions) ([]NexmarkRecord, error) {
	if err := o.Validate(); err != nil {
		return nil, &InputError{err}
	}
	o = o.withDefaults()
	published := NexmarkPublishedFigures()
	var rows []NexmarkRecord
	d := DataSpec{Events: o.Events, Seed: o.Seed}
	for _, q := range o.Queries {
		w, err := LookupWorkload(q)
		if err != nil {
			return rows, &InputError{err}
		}
		// Every query reads the same nexmark log: generated once per query
		// (a few hundred ms), so the previous one's memory can go.
		log, tables, err := LoadData(ctx, w, d)
		if err != nil {
			if ctx.Err() != nil {
				return rows, ctx.Err()
			}
			return rows, &InputError{err}
		}
		for _, e := range o.Entries {
			if err := ctx.Err(); err != nil {
				return rows, err
			}
			rec := NexmarkRecord{Query: q, Runtime: e.Runtime, Config: e.Flags.CommandLine(),
				FlinkPerCore: published[q].Flink, RisingWavePerCore: published[q].RisingWave}
			r, err := NewRunner(e.Runtime, e.Flags)
			if err != nil {
				return rows, &InputError{err}
			}
			rec.Runtime = r.Name()
			sayf(o.Progress, "nexmark: %s on %s %s: check run", q, rec.Runtime, rec.Config)
			// The reference answer is computed per check run, not kept
			// for the query's next configuration: held, it would be live
			// heap the throughput run's collector scans.
			rep, err := runLog(ctx, w, r, log, tables, d, Options{Seed: o.Seed}, nil, nil)
			if !nexmarkOutcome(&rec, err) {
				if ctx.Err() != nil {
					return rows, ctx.Err()
				}
				rows = append(rows, rec)
				continue
			}
			rec.Matches = rep.Check.OK()
			rec.Check = rep.Check.String()
			if rec.Matches {
				sayf(o.Progress, "nexmark: %s on %s %s: throughput run", q, rec.Runtime, rec.Config)
				if err := nexmarkThroughput(ctx, &rec, r, rep, log, d, o.Seed); err != nil {
					return rows, err
				}
			} else {
				rec.Reason = "throughput not measured: the check run does not match the reference"
			}
			if o.PacedDuration > 0 {
				if err := nexmarkPaced(ctx, &rec, w, r, o); err != nil {
					return rows, err
				}
			}
			switch {
			case o.Sustainable && rep.Pipeline.Agg == nil:
				// The rule (capacity.go) reads the trend of the event-time
				// latency of the panes the watermark fires.
				rec.SustainableNote = "not measured: the sustainable rule judges the event-time latency of panes the watermark fires, and a stateless query fires none"
			case o.Sustainable:
				res, err := SustainableRate(ctx, w, r, DataSpec{Seed: o.Seed}, o.Capacity)
				switch {
				case ctx.Err() != nil:
					return rows, ctx.Err()
				case err != nil:
					rec.SustainableNote = "search failed: " + err.Error()
				default:
					rec.SustainableRate, rec.SustainableNote = res.Rate, res.Reason
				}
			default:
				rec.SustainableNote = "not measured (NexmarkOptions.Sustainable)"
			}
			rows = append(rows, rec)
		}
	}
	return rows, nil
}

// nexmarkThroughput runs the throughput run of rec's pair over log, with
// the runtime's counting sink where it has one, and records its figures.
// check is the pair's check run: the throughput run must read as many
// events and, for a stateless query, emit as many results, or the row
// fails with the difference and no throughput. Only a canceled ctx is
// returned.
func nexmarkThroughput(ctx context.Context, rec *NexmarkRecord, r Runner, check *Report, log *datasets.Log, d DataSpec, seed uint64) error {
	tr, sink := countingRunner(r)
	m := &cpuMeter{Runner: tr}
	p := check.Pipeline
	counts := countsOf(check.Outcome)
	check.Outcome.Results = nil // garbage, collected below
	job := &Job{Workload: check.Workload, Pipeline: p, Log: log, Options: Options{Seed: seed}, Identity: jobIdentity(check.Workload, p, log, d)}
	// The check run's garbage (its results, the reference's work) is
	// collected before the clock starts, so the CPU measured is the
	// throughput run's own.
	runtime.GC()
	out, err := m.Run(ctx, job)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		rec.Status, rec.Reason = "failed", "throughput run: "+err.Error()
		return nil
	case out == nil:
		rec.Status, rec.Reason = "failed", "throughput run: the runner returned no outcome"
		return nil
	}
	if reason := throughputMismatch(p, out, counts); reason != "" {
		rec.Status, rec.Reason = "failed", "throughput run: "+reason
		return nil
	}
	rec.ThroughputSink = sink
	rec.Events = out.Events
	rec.Seconds = out.Elapsed.Seconds()
	if rec.Seconds > 0 {
		rec.EventsPerSecond = float64(out.Events) / rec.Seconds
	}
	if m.err == nil && m.cpu > 0 && m.wall > 0 {
		rec.CPUSeconds = m.cpu.Seconds()
		rec.Cores = m.cpu.Seconds() / m.wall.Seconds()
		rec.EventsPerCoreSecond = float64(rec.Events) / m.cpu.Seconds()
	}
	return nil
}

// throughputMismatch says how a throughput run's outcome differs from its
// check run's in what a counting sink still sees ("" if it does not): the
// events read, and a stateless query's number of results (one per emitted
// row; a windowed query's pane count may differ between runs with early
// or merged panes, so it is not compared).
func throughputMismatch(p *dataflow.Pipeline, out *Outcome, c checkCounts) string {
	if out.Events != c.events {
		return fmt.Sprintf("read %d events, the check run %d", out.Events, c.events)
	}
	if p.Agg == nil && out.Emissions != c.results {
		return fmt.Sprintf("its sink counted %d results, the check run kept %d", out.Emissions, c.results)
	}
	return ""
}

// checkCounts are what a throughput run is held to of its check run: the
// events it read and the results it kept.
type checkCounts struct{ events, results int64 }

func countsOf(check *Outcome) checkCounts {
	return checkCounts{events: check.Events, results: int64(len(check.Results))}
}

// countingRunner returns r with its runtime's counting sink
// (microbatch.Config.CountingSink, recordstream.Config.CountingSink) and
// "counting", or r itself and "kept" where the configuration has none
// (recordstream's exactly-once modes, Trident, Dataflow, and the
// reference).
func countingRunner(r Runner) (Runner, string) {
	switch r := r.(type) {
	case *microbatchRunner:
		c := *r
		c.cfg.CountingSink = true
		if c.cfg.Validate() == nil {
			return &c, "counting"
		}
	case *recordstreamRunner:
		c := *r
		c.cfg.CountingSink = true
		if c.cfg.Validate() == nil {
			return &c, "counting"
		}
	}
	return r, "kept"
}

// nexmarkOutcome records a run's error in rec and reports whether the run
// completed.
func nexmarkOutcome(rec *NexmarkRecord, err error) bool {
	var u *dataflow.UnsupportedError
	switch {
	case errors.As(err, &u):
		rec.Status, rec.Reason = "refused", u.Reason
		return false
	case err != nil:
		rec.Status, rec.Reason = "failed", err.Error()
		return false
	}
	rec.Status = "ok"
	return true
}

// nexmarkPaced runs the paced run of rec's pair and records its latency.
// A paced run that fails is noted in rec (its latency stays 0); only a
// canceled ctx is returned.
func nexmarkPaced(ctx context.Context, rec *NexmarkRecord, w *Workload, r Runner, o NexmarkOptions) error {
	n := int64(o.PacedRate * o.PacedDuration.Seconds())
	rec.PacedRate, rec.PacedEvents = o.PacedRate, n
	rep, err := RunOne(ctx, w, r, DataSpec{Events: n, Seed: o.Seed, Rate: o.PacedRate}, Options{Seed: o.Seed}, nil)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rec.Reason = "paced run: " + err.Error()
		return nil
	}
	l := rep.Summary.LatencyMs
	rec.EventP50Ms, rec.EventP99Ms = l.EventTime.P50, l.EventTime.P99
	rec.ProcP50Ms, rec.ProcP99Ms = l.ProcessingTime.P50, l.ProcessingTime.P99
	rec.PacedMatches = rep.Check.OK()
	if !rec.PacedMatches {
		rec.Reason = "paced run: " + rep.Check.String()
	}
	return nil
}

// CommandLine returns the flags as `bench run` takes them.
func (f RuntimeFlags) CommandLine() string {
	var parts []string
	add := func(name, v string) { parts = append(parts, "--"+name+" "+v) }
	if f.Guarantee != "" {
		add("guarantee", f.Guarantee)
	}
	if f.Mode != "" {
		add("mode", f.Mode)
	}
	if f.BatchInterval != 0 {
		add("batch-interval", f.BatchInterval.String())
	}
	if f.CheckpointInterval != 0 {
		add("checkpoint-interval", f.CheckpointInterval.String())
	}
	if f.Parallelism != 0 {
		add("parallelism", strconv.Itoa(f.Parallelism))
	}
	if f.MaxOffsetsPerTrigger != 0 {
		add("max-offsets-per-trigger", strconv.FormatInt(f.MaxOffsetsPerTrigger, 10))
	}
	return strings.Join(parts, " ")
}

// NexmarkTable renders rows as the nexmark/nexmark report's table
// (Throughput/Cores), with our latency, sustainable rate and check beside
// it and the published per-core figures, theirs, last, with our per-core
// figure as a multiple of Flink's. It computes from the rows' figures
// alone: no verdict.
func NexmarkTable(rows []NexmarkRecord) Table {
	t := Table{Columns: []string{"query", "runtime", "events/s (throughput run)", "cores (throughput run)", "events/s/core (throughput run)",
		"sustainable events/s", "event-time latency p50/p99 ms (paced run)", "processing-time latency p50/p99 ms (paced run)",
		"matches reference (check run)", "Flink events/s/core (theirs)", "RisingWave events/s/core (theirs)", "ours / Flink per core",
		"throughput run's sink"}}
	for _, r := range rows {
		cells := []string{strings.TrimPrefix(r.Query, "nexmark-"), r.Runtime}
		theirs := []string{rateCell(r.FlinkPerCore), rateCell(r.RisingWavePerCore)}
		switch r.Status {
		case "refused":
			cells = append(cells, "refused", "", "", "", "", "", "refused: "+r.Reason)
			t.Rows = append(t.Rows, append(append(cells, theirs...), "", ""))
			continue
		case "failed":
			match := "NO (error: " + r.Reason + ")"
			if r.Matches { // the check run matched; the throughput run failed
				match = "yes; " + r.Reason
			}
			cells = append(cells, "failed", "", "", "", "", "", match)
			t.Rows = append(t.Rows, append(append(cells, theirs...), "", ""))
			continue
		}
		lat := func(p50, p99 float64) string {
			if r.PacedEvents == 0 {
				return "not measured"
			}
			return fmt.Sprintf("%s / %s", msCell(p50), msCell(p99))
		}
		sus := "-"
		if r.SustainableRate > 0 {
			sus = rateCell(r.SustainableRate)
		}
		match := "NO (throughput not measured)"
		if r.Matches {
			match = "yes"
		}
		if r.PacedEvents > 0 && !r.PacedMatches {
			match += "; paced run: NO"
		}
		ratio := ""
		if r.FlinkPerCore > 0 && r.EventsPerCoreSecond > 0 {
			ratio = fmt.Sprintf("%.1fx", r.EventsPerCoreSecond/r.FlinkPerCore)
		}
		cores := ""
		if r.Cores > 0 {
			cores = fmt.Sprintf("%.2f", r.Cores)
		}
		cells = append(cells, rateCell(r.EventsPerSecond), cores, rateCell(r.EventsPerCoreSecond), sus,
			lat(r.EventP50Ms, r.EventP99Ms), lat(r.ProcP50Ms, r.ProcP99Ms), match)
		t.Rows = append(t.Rows, append(append(cells, theirs...), ratio, r.ThroughputSink))
	}
	return t
}

// rateCell is a rate in events per second as "1.2M", "155K" or "950"
// ("" for zero).
func rateCell(v float64) string {
	switch {
	case v <= 0:
		return ""
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fK", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fK", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// msCell is a latency in ms: one decimal below 100 ms, none above.
func msCell(v float64) string {
	if v >= 99.95 { // what %.1f would print as 100.0
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// WriteNexmark writes rows into dir as NexmarkCSV and NexmarkParquet
// (meta in its key-value metadata), each atomically.
func WriteNexmark(dir string, rows []NexmarkRecord, meta [][2]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	return writeTidy(NexmarkCSV, NexmarkParquet, rows, meta, func(name string, data []byte) error {
		if err := snapshot.WriteFileAtomicPerm(snapshot.OSFS{}, filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		return nil
	})
}

// ReadNexmark reads dir's NexmarkCSV written by [WriteNexmark]. A missing
// file is an error wrapping [os.ErrNotExist].
func ReadNexmark(dir string) ([]NexmarkRecord, error) {
	path := filepath.Join(dir, NexmarkCSV)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	return parseNexmarkCSV(path, b)
}

func parseNexmarkCSV(path string, b []byte) ([]NexmarkRecord, error) {
	lines, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("compare: %s: %w", path, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("compare: %s is empty; write it with RunNexmark and WriteNexmark (bench nexmark)", path)
	}
	t := reflect.TypeFor[NexmarkRecord]()
	col := map[string]int{}
	for i, h := range lines[0] {
		col[h] = i
	}
	var rows []NexmarkRecord
	for n, line := range lines[1:] {
		var r NexmarkRecord
		v := reflect.ValueOf(&r).Elem()
		for i := range t.NumField() {
			tag := t.Field(i).Tag.Get("parquet")
			j, ok := col[tag]
			if !ok {
				return nil, fmt.Errorf("compare: %s has no column %q; rewrite it with this version's `bench nexmark`", path, tag)
			}
			s := line[j]
			f := v.Field(i)
			var err error
			switch f.Kind() {
			case reflect.String:
				f.SetString(s)
			case reflect.Int64:
				var x int64
				x, err = strconv.ParseInt(s, 10, 64)
				f.SetInt(x)
			case reflect.Float64:
				var x float64
				x, err = strconv.ParseFloat(s, 64)
				f.SetFloat(x)
			case reflect.Bool:
				var x bool
				x, err = strconv.ParseBool(s)
				f.SetBool(x)
			}
			if err != nil {
				return nil, fmt.Errorf("compare: %s line %d column %s: %w", path, n+2, tag, err)
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// NexmarkNotes returns the notes printed and rendered under the Nexmark
// table: what each figure is and whose it is.
func NexmarkNotes() []string {
	return []string{
		"events/s, cores and events/s/core are ours, from the throughput run: unpaced (the log filled before the clock starts), its sink the runtime's counting sink (results built and counted, none kept or sorted, as nexmark/nexmark's blackhole sink) where the configuration has one (\"counting\"; \"kept\": it keeps and sorts every result), run only after the check run matched, and required to read every event and, for a stateless query, to emit as many results as the check run: cores = process CPU time (getrusage, user + system) / the run's wall time; events/s/core = events / CPU seconds, nexmark/nexmark's Throughput/Cores. The generator is not in our cores; it is in Flink's.",
		"Latency is ours, from a paced run at the rate the table's command set: event time (emit time minus the largest event time that contributed) and processing time (emit time minus the largest ingest time), p50 / p99 from HdrHistogram (Karimov et al.).",
		"matches reference: the check run's results (unpaced, the same log, every result kept) against dataflow.Reference (and the paced run's, named when it differs); refused: the model's own reason, and nothing measured.",
		"Flink and RisingWave columns are THEIR published figures (nexmark-and-peers.md 1.4), not measured here: Flink 1.13, 3 x 8 cores, parallelism 8, exactly-once checkpoints every 3 min, RocksDB (nexmark/nexmark README); RisingWave nightly-20230309, 8 vCPU, Kafka source (its docs). Different harnesses, hardware and query plans: compare orders of magnitude only.",
		"weir's q4 joins per fixed 10 s window (Beam: a custom merging window per auction, then a sliding mean); q8 gives one row per (person, auction) pair; q12's windows are ingest-time windows of the log.",
	}
}
