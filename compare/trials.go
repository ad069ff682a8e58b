package compare

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
)

// TrialRecord is one trial run of an experiment as the suite's result files
// hold it (trials.csv, trials.parquet): what ran, how it ended, and the
// check's counts (never a runtime's own claim). Every run an experiment
// makes through [RunOne] (its trials, the suites it runs, the capacity
// search's probes) is recorded by the engine ([Experiment.Run] puts the
// recorder in ctx, RunOne appends), not by the experiment.
type TrialRecord struct {
	Experiment string `json:"experiment" parquet:"experiment"`
	// Label is the trial's label in its experiment (trial.label), else
	// the workload's name.
	Label    string `json:"label" parquet:"label"`
	Workload string `json:"workload" parquet:"workload"`
	// Config is the runtime configuration's name, Flags its flags as JSON.
	Config string `json:"config" parquet:"config"`
	Flags  string `json:"flags" parquet:"flags"`
	// Rate is the offered (paced) rate in events/s, 0 for a filled log.
	Rate float64 `json:"rate" parquet:"rate"`
	// Repetition counts from 0 over the experiment's trials of the same
	// label, workload and configuration.
	Repetition int `json:"repetition" parquet:"repetition"`
	// Status is "ok", or how the trial failed (unsupported, error, hung).
	Status          string  `json:"status" parquet:"status"`
	Events          int64   `json:"events" parquet:"events"`
	EventsPerSecond float64 `json:"events_per_second" parquet:"events_per_second"`
	// Latencies in ms: event time (emit minus largest event time) and
	// processing time (emit minus largest ingest time).
	EventTimeP50Ms      float64 `json:"event_time_p50_ms" parquet:"event_time_p50_ms"`
	EventTimeP99Ms      float64 `json:"event_time_p99_ms" parquet:"event_time_p99_ms"`
	ProcessingTimeP50Ms float64 `json:"processing_time_p50_ms" parquet:"processing_time_p50_ms"`
	ProcessingTimeP99Ms float64 `json:"processing_time_p99_ms" parquet:"processing_time_p99_ms"`
	// The check against the reference answer.
	Exact      bool   `json:"exact" parquet:"exact"`
	Windows    int64  `json:"windows" parquet:"windows"`
	Lost       int64  `json:"lost" parquet:"lost"`
	Duplicated int64  `json:"duplicated" parquet:"duplicated"`
	Mismatched int64  `json:"mismatched" parquet:"mismatched"`
	Late       int64  `json:"late" parquet:"late"`
	Check      string `json:"check" parquet:"check"`
	// Warnings are the run's warnings ([Summary.Warnings]), "; " between
	// them; empty when it had none.
	Warnings string `json:"warnings,omitempty" parquet:"warnings"`
}

// trialRecorder gathers the records of one experiment's trials; trial.do
// appends to the one in its ctx. It is safe for concurrent trials.
type trialRecorder struct {
	experiment string
	mu         sync.Mutex
	records    []TrialRecord
	seen       map[[3]string]int
}

type recorderKey struct{}

func withRecorder(ctx context.Context, r *trialRecorder) context.Context {
	return context.WithValue(ctx, recorderKey{}, r)
}

func recorderFrom(ctx context.Context) *trialRecorder {
	r, _ := ctx.Value(recorderKey{}).(*trialRecorder)
	return r
}

type trialKey struct{}

// withTrial marks ctx as the context of trial t, so the run it makes is
// recorded under t's label and flags.
func withTrial(ctx context.Context, t trial) context.Context {
	return context.WithValue(ctx, trialKey{}, t)
}

// recordRun appends the record of one run of w on the runner named
// runner over d, which ended with rep and err. A run made by a trial
// (withTrial) is recorded under the trial's label and flags; any other run
// (a suite's, a capacity probe) under its workload's name and runner.
func (r *trialRecorder) recordRun(ctx context.Context, w *Workload, runner string, d DataSpec, rep *Report, err error) {
	if r == nil {
		return
	}
	rec := TrialRecord{Experiment: r.experiment, Config: runner, Rate: d.Rate, Status: "ok"}
	if w != nil {
		rec.Workload, rec.Label = w.Name, w.Name
	}
	if t, ok := ctx.Value(trialKey{}).(trial); ok {
		if t.label != "" {
			rec.Label = t.label
		}
		rec.Config = configName(SuiteEntry{Runtime: t.runtime, Flags: t.flags})
		if b, jerr := json.Marshal(t.flags); jerr == nil {
			rec.Flags = string(b)
		}
	}
	if err != nil {
		rec.Status = trialStatus(err)
	}
	if rep != nil {
		s := rep.Summary
		rec.Events, rec.EventsPerSecond = s.Events, s.EventsPerSecond
		rec.EventTimeP50Ms, rec.EventTimeP99Ms = s.LatencyMs.EventTime.P50, s.LatencyMs.EventTime.P99
		rec.ProcessingTimeP50Ms, rec.ProcessingTimeP99Ms = s.LatencyMs.ProcessingTime.P50, s.LatencyMs.ProcessingTime.P99
		c := rep.Check
		rec.Exact, rec.Windows, rec.Lost, rec.Duplicated = c.OK(), int64(c.Windows), int64(c.Lost), int64(c.Duplicated)
		rec.Mismatched, rec.Late, rec.Check = int64(c.Mismatched), int64(c.DroppedLate), c.String()
		ws := make([]string, len(s.Warnings))
		for i, w := range s.Warnings {
			ws[i] = w.String()
		}
		rec.Warnings = strings.Join(ws, "; ")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[[3]string]int{}
	}
	k := [3]string{rec.Label, rec.Workload, rec.Config}
	rec.Repetition = r.seen[k]
	r.seen[k]++
	r.records = append(r.records, rec)
}

// take returns the records so far.
func (r *trialRecorder) take() []TrialRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.records
}
