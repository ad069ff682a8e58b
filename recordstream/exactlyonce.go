package recordstream

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"slices"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/metrics"
	"github.com/weirlab/weir/internal/snapshot"
	"github.com/weirlab/weir/recordstream/checkpoint"
)

// The exactly-once mode: Flink's asynchronous barrier snapshots on the
// record-at-a-time topology (mechanics.md 4.1), built from the pure cores of
// recordstream/checkpoint.
//
//	runner (Run's goroutine)           one incarnation of the topology
//	  load the latest checkpoint ──▶   compile, restore each task's state
//	                                   spouts ─barrier n─▶ windows ─▶ sink
//	                                     │ offsets   │ operator    │ 2PC txns
//	                                     ▼           ▼             ▼
//	                                   writer goroutine: task files (async)
//	                                     │ ack
//	                                     ▼
//	                                   coordinator goroutine: trigger, complete
//	                                   (marker), notifyComplete ─▶ sink commits
//	  a task crashes: cancel the incarnation, wait for every goroutine,
//	  restart from the latest complete checkpoint (RE2).
//
// The files: this one has the configuration, the restart loop and the
// run's report; exactlyonce_run.go one incarnation and its coordinator and
// snapshot-writer goroutines; exactlyonce_barriers.go the protocols that
// fill the tasks' protocol slot (the barrier gate of every bolt, the
// barrier injector of every spout, the sink's transactional output);
// exactlyonce_state.go the encoding of the tasks' state and its restore.
//
//   - RE1 Tasks never block on I/O for a checkpoint: they encode their state
//     and hand it to the writer goroutine, then go on processing.
//   - RE2 A crash of any task restarts the whole topology from the newest
//     complete, valid checkpoint of this run (falling back past corrupt
//     ones); with none, from the beginning of the log. The sink's committed
//     output outlives restarts (it is the external system).
//   - RE3 A checkpoint covers every task: spouts (their next offset),
//     windowed bolts (operator state, late records, channel state) and the
//     sink (its pre-committed transactions, channel state).
//   - RE4 A run restores only checkpoints it wrote itself: "the same run"
//     is one call of Run and the incarnations it restarts after crashes.
//     Its checkpoints record its identity (snapshot's SN6: the pipeline,
//     the input, a token drawn when Run starts), and a directory that
//     already holds a checkpoint is refused before the first incarnation:
//     the committed output of an earlier run is not in this run's sink,
//     so resuming its checkpoints would lose it.
//   - RE5 Every damaged checkpoint a restore skips is counted
//     (checkpoint_fallbacks) and warned of, naming its file
//     ([Report.Warnings]); a restart that finds none undamaged starts from
//     offset 0, and is counted (restarts_from_start) and warned of too.

// CheckpointConfig configures the exactly-once mode ([ExactlyOnce]). The
// zero value is valid.
type CheckpointConfig struct {
	// CheckpointInterval is the time between checkpoint triggers (default
	// 1 s).
	CheckpointInterval time.Duration
	// CheckpointDir is the checkpoint directory. Empty: a new temporary
	// directory, removed when Run returns. A run restores only its own
	// checkpoints (RE4): a directory that already holds a checkpoint is
	// refused before the run starts, with a *ConfigError on CheckpointDir
	// wrapping snapshot.ErrForeign.
	CheckpointDir string
	// CheckpointIdentity says what the run computes from what, beyond the
	// pipeline's name, the guarantee, the parallelism and the partitions,
	// which the run adds itself (compare gives the workload, the
	// pipeline's fingerprint and the input's identity). Every checkpoint
	// records it with a token drawn when Run starts (snapshot's SN6).
	CheckpointIdentity string
	// Unaligned selects unaligned checkpoints (snapshot at the first
	// barrier, in-flight records persisted as channel state).
	Unaligned bool
	// AtLeastOnceCheckpoints selects Flink's AT_LEAST_ONCE checkpointing
	// mode: barriers are counted, never aligned, so a restore replays
	// records that the state already holds (duplicates).
	AtLeastOnceCheckpoints bool
	// KeepCheckpoints is how many completed checkpoints to keep (default 2,
	// so that a corrupt newest one leaves one to fall back to).
	KeepCheckpoints int
	// CheckpointTimeout aborts a checkpoint not complete within it (default
	// 10 minutes, Flink's).
	CheckpointTimeout time.Duration
	// IdempotentSink replaces the two-phase-commit sink by an upsert keyed
	// by window and key, written at once (for comparison): its final
	// contents are right, but a reader sees output later rolled back.
	IdempotentSink bool
	// CheckpointFS is the file system of the checkpoint store (nil: the
	// operating system's); tests inject faults through it.
	CheckpointFS snapshot.FS
	// MaxRestarts bounds the restarts of one run (default 1000).
	MaxRestarts int
}

// Validate reports a checkpoint configuration that cannot run.
func (c *CheckpointConfig) Validate() error {
	switch {
	case c.Unaligned && c.AtLeastOnceCheckpoints:
		return &ConfigError{Field: "Unaligned", Err: errors.New("unaligned checkpoints cannot be used with at-least-once checkpointing (AtLeastOnceCheckpoints); drop one of the two")}
	case c.CheckpointInterval < 0:
		return &ConfigError{Field: "CheckpointInterval", Err: fmt.Errorf("checkpoint interval must be positive, got %v", c.CheckpointInterval)}
	case c.KeepCheckpoints < 0:
		return &ConfigError{Field: "KeepCheckpoints", Err: fmt.Errorf("kept checkpoints must not be negative, got %d", c.KeepCheckpoints)}
	case c.CheckpointTimeout < 0:
		return &ConfigError{Field: "CheckpointTimeout", Err: fmt.Errorf("checkpoint timeout must not be negative, got %v", c.CheckpointTimeout)}
	case c.MaxRestarts < 0:
		return &ConfigError{Field: "MaxRestarts", Err: fmt.Errorf("max restarts must not be negative, got %d", c.MaxRestarts)}
	}
	return nil
}

func (c CheckpointConfig) withDefaults() CheckpointConfig {
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = time.Second
	}
	if c.KeepCheckpoints == 0 {
		c.KeepCheckpoints = snapshot.DefaultKeep
	}
	if c.MaxRestarts == 0 {
		c.MaxRestarts = 1000
	}
	return c
}

// mode is the barrier handling of the configuration.
func (c *CheckpointConfig) mode() checkpoint.Mode {
	switch {
	case c.Unaligned:
		return checkpoint.Unaligned
	case c.AtLeastOnceCheckpoints:
		return checkpoint.AtLeastOnce
	}
	return checkpoint.Aligned
}

// eoRunner carries what outlives one incarnation of the topology: the
// store, the sink's committed output, the crash counter, the histograms
// and counters of the whole run. It is used by Run's goroutine, and by one
// incarnation's goroutines while it runs (never both at once).
type eoRunner struct {
	p     *dataflow.Pipeline
	src   Source
	cfg   Config
	cp    CheckpointConfig
	store *snapshot.Store

	out  *checkpoint.Committed
	idem *checkpoint.IdempotentSink

	restarter
	hw       []int64 // per partition: the highest offset ever read + 1
	latency  metrics.Latency
	panes    []dataflow.PaneEmission // Config.Trace: every pane any incarnation's sink received
	duration *metrics.Histogram      // checkpoint trigger to completion
	align    *metrics.Histogram      // per task ack

	resume   resumePoints // the kept checkpoints' spout offsets, reported to a Retainer source
	warnings []string     // Report.Warnings (RE5)
	seed     maphash.Seed // the fields grouping's hash seed, fixed for the run
}

// runExactlyOnce runs p in the exactly-once mode (RE2: restarting the
// topology after every crash) and reports the whole run.
func runExactlyOnce(ctx context.Context, p *dataflow.Pipeline, src Source, cfg Config, cp CheckpointConfig) (*Report, error) {
	if err := cp.Validate(); err != nil {
		return nil, err
	}
	cp = cp.withDefaults()
	c := cfg.withDefaults()
	dir := cp.CheckpointDir
	if dir == "" {
		d, err := os.MkdirTemp("", "weir-checkpoints-*")
		if err != nil {
			return nil, fmt.Errorf("recordstream: checkpoint directory: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	store, err := snapshot.NewStore(snapshot.Config{Dir: dir, FS: cp.CheckpointFS, Keep: cp.KeepCheckpoints,
		Identity: snapshot.NewIdentity(checkpointJob(p, src, &c, &cp))})
	if err != nil {
		return nil, err
	}
	if err := store.CheckFresh(); err != nil { // RE4
		if errors.Is(err, snapshot.ErrForeign) {
			return nil, &ConfigError{Field: "CheckpointDir", Err: err}
		}
		return nil, err
	}
	r := &eoRunner{p: p, src: src, cfg: c, cp: cp, store: store,
		out: checkpoint.NewCommitted(), hw: make([]int64, src.Partitions()),
		latency: metrics.NewLatency().Since(c.Clock.Now().UnixNano()), duration: metrics.NewHistogram(), align: metrics.NewHistogram(),
		restarter: restarter{recovery: metrics.NewHistogram(), counters: map[string]int64{}}, seed: maphash.MakeSeed(), resume: newResumePoints(src)}
	if cp.IdempotentSink {
		r.idem = checkpoint.NewIdempotentSink()
	}
	inc, elapsed, err := restartLoop(ctx, &r.restarter, c, cp.MaxRestarts, r.newIncarnation)
	if err != nil {
		return nil, err
	}
	return r.report(inc, elapsed)
}

// restarter is what the restart loop of the modes that restart the whole
// topology after a crash (RE2, Trident's TR3) keeps across incarnations.
type restarter struct {
	taken    int64              // records taken in by crashable tasks, across incarnations
	recovery *metrics.Histogram // crash to restored topology
	counters map[string]int64
	crashAt  int64 // ns, when the last crash was seen
}

// incarnationOf is one incarnation of such a mode.
type incarnationOf interface {
	run(ctx context.Context) error
	topology() *topo
}

// restartLoop runs incarnations made by newInc until one ends without a
// crash, and returns it with the time since the first started. A crash
// (errCrashed) is counted and starts the next incarnation, up to
// maxRestarts; the records the crashable tasks took in carry over, so each
// crash point fires once.
func restartLoop[I incarnationOf](ctx context.Context, rs *restarter, c Config, maxRestarts int, newInc func() (I, error)) (I, time.Duration, error) {
	var zero I
	start := c.Clock.Now().UnixNano()
	for restarts := 0; ; restarts++ {
		inc, err := newInc()
		if err != nil {
			return zero, 0, err
		}
		if restarts > 0 {
			rs.recovery.RecordNanos(c.Clock.Now().UnixNano() - rs.crashAt)
		}
		err = inc.run(ctx)
		t := inc.topology()
		rs.taken = t.taken.Load()
		rs.collect(t)
		switch {
		case errors.Is(err, errCrashed):
			rs.crashAt = c.Clock.Now().UnixNano()
			rs.counters["crashes"]++
			rs.counters["restarts"]++
			if restarts >= maxRestarts {
				return zero, 0, fmt.Errorf("recordstream: gave up after %d restarts; raise MaxRestarts or crash less", restarts)
			}
			continue
		case err != nil:
			return zero, 0, err
		}
		return inc, time.Duration(c.Clock.Now().UnixNano() - start), nil
	}
}

// collect adds an incarnation's counts to the run's.
func (rs *restarter) collect(t *topo) {
	for _, s := range t.spouts {
		rs.counters["emitted"] += s.stats.emitted
		rs.counters["replayed"] += s.stats.replayed
	}
	for _, w := range t.windows {
		rs.counters["records_in"] += w.stats.records
	}
	for _, j := range t.joins {
		rs.counters["join_records_in"] += j.stats.records
		rs.counters["joined"] += j.stats.joined
	}
}

// checkpointJob is the Job of the run's snapshot.Identity (RE4): what the
// checkpoints' state depends on and the caller's CheckpointIdentity.
func checkpointJob(p *dataflow.Pipeline, src Source, c *Config, cp *CheckpointConfig) string {
	job := fmt.Sprintf("recordstream %v pipeline %s parallelism %d partitions %d", c.Guarantee, p.Name, c.Parallelism, src.Partitions())
	if cp.CheckpointIdentity != "" {
		job += "; " + cp.CheckpointIdentity
	}
	return job
}

// latest returns the newest complete checkpoint of this run, or nil. It
// counts and warns of every damaged checkpoint it skipped, and of a
// restart from offset 0 when every checkpoint was damaged (RE5).
func (r *eoRunner) latest() (*snapshot.Checkpoint, error) {
	c, err := r.store.Latest()
	var skipped []error
	switch {
	case errors.Is(err, snapshot.ErrNoCheckpoint):
		skipped = snapshot.Unusable(err)
	case errors.Is(err, snapshot.ErrForeign):
		// Another run writes to the same directory (RE4).
		return nil, &ConfigError{Field: "CheckpointDir", Err: err}
	case err != nil:
		return nil, err
	default:
		skipped = c.Skipped
	}
	damaged := 0
	for _, e := range skipped {
		if !errors.Is(e, snapshot.ErrIncomplete) {
			damaged++
			r.warn(fmt.Sprintf("recordstream: a restore skipped a damaged checkpoint: %v", e))
		}
	}
	r.counters["checkpoint_fallbacks"] += int64(damaged)
	if c == nil && damaged > 0 {
		r.counters["restarts_from_start"]++
		r.warn(fmt.Sprintf("recordstream: every checkpoint in %s was damaged; the topology restarted from the start of the input (offset 0)", r.store.Dir()))
	}
	return c, nil
}

// warn logs msg and keeps it for the report, once: a damaged checkpoint
// stays in the store, so a later restore skips it again.
func (r *eoRunner) warn(msg string) {
	r.cfg.Logger.Warn(msg)
	if !slices.Contains(r.warnings, msg) {
		r.warnings = append(r.warnings, msg)
	}
}

// report builds the run's report from the last incarnation and the
// committed output.
func (r *eoRunner) report(inc *incarnation, elapsed time.Duration) (*Report, error) {
	t := inc.t
	rep := restartedReport(r.counters, r.latency, r.hw, t, elapsed)
	rep.Warnings = r.warnings
	rep.Counters["late"] = int64(len(rep.Late))
	// Rebuild the final values from what a reader of the sink sees, with
	// the at-least-once sink's rules (RS1: a pane index not above the one
	// seen is a duplicate; discarding panes combine).
	view := &sinkTask{t: t, taskBase: &taskBase{}}
	if err := view.init(); err != nil {
		return nil, err
	}
	var es []checkpoint.Emission
	if r.idem != nil {
		for _, res := range r.idem.Results() {
			es = append(es, checkpoint.Emission{Result: res})
		}
	} else {
		es = r.out.Emissions()
	}
	var tp tuple
	var merges int64 // notices, not emissions
	for _, e := range es {
		if view.windowed {
			tp.Kind, tp.Win, tp.Aux, tp.Partition = msgPane, e.Result.Window, int64(e.Pane), 0
			tp.Row = append(tp.Row[:0], dataflow.Str(e.Result.Key), e.Result.Value)
			tp.Row = append(tp.Row, e.Result.Extra...)
			if e.Merged {
				tp.Partition = int32(dataflow.PaneMerged)
				setMergedInto(&tp, e.Into)
				merges++
			}
			_ = view.pane(&tp, 0) // combining results of one aggregate kind cannot fail
		} else {
			view.rows = append(view.rows, e.Result)
		}
	}
	rep.Results = view.results()
	rep.Panes = r.panes
	rep.Emissions = int64(len(es)) - merges
	rep.Counters["duplicates"] = view.stats.duplicates
	rep.Counters["goodput"] = rep.Emissions - view.stats.duplicates
	rep.Counters["committed_transactions"] = int64(r.out.Transactions())
	addPercentiles(rep.Counters, "checkpoint_duration", r.duration)
	addPercentiles(rep.Counters, "alignment", r.align)
	addPercentiles(rep.Counters, "recovery", r.recovery)
	return rep, nil
}

// restartedReport starts the report of a run that restarts its topology
// after crashes: the run's counters and latency, the events read (hw: per
// partition, the highest offset ever read + 1) and the late records of the
// last incarnation t's window tasks, each once.
func restartedReport(counters map[string]int64, latency metrics.Latency, hw []int64, t *topo, elapsed time.Duration) *Report {
	rep := &Report{Counters: counters, Series: map[string]metrics.Series{}, Latency: latency,
		Complete: metrics.NewHistogram(), Elapsed: elapsed}
	for _, n := range hw {
		rep.Events += n
	}
	seen := map[dataflow.LateRecord]bool{}
	lates := make([][]dataflow.LateRecord, 0, len(t.windows)+len(t.joins))
	for _, w := range t.windows {
		lates = append(lates, w.late)
	}
	for _, j := range t.joins {
		lates = append(lates, j.late)
	}
	for _, ls := range lates {
		for _, l := range ls {
			if !seen[l] {
				seen[l] = true
				rep.Late = append(rep.Late, l)
			}
		}
	}
	return rep
}

// addPercentiles adds p50, p99 and max of h in microseconds.
func addPercentiles(m map[string]int64, name string, h *metrics.Histogram) {
	if h.Count() == 0 {
		return
	}
	m[name+"_p50_us"] = h.Quantile(50).Microseconds()
	m[name+"_p99_us"] = h.Quantile(99).Microseconds()
	m[name+"_max_us"] = h.Max().Microseconds()
}
