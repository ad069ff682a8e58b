package recordstream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"sync"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/metrics"
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
//	  restart from the latest complete checkpoint (E2).
//
//   - E1 Tasks never block on I/O for a checkpoint: they encode their state
//     and hand it to the writer goroutine, then go on processing.
//   - E2 A crash of any task restarts the whole topology from the newest
//     complete, valid checkpoint of this run (falling back past corrupt
//     ones); with none, from the beginning of the log. The sink's committed
//     output outlives restarts (it is the external system).
//   - E3 A checkpoint covers every task: spouts (their next offset),
//     windowed bolts (operator state, late records, channel state) and the
//     sink (its pre-committed transactions, channel state).

// CheckpointConfig configures the exactly-once mode ([ExactlyOnce]). The
// zero value is valid.
type CheckpointConfig struct {
	// CheckpointInterval is the time between checkpoint triggers (default
	// 1 s).
	CheckpointInterval time.Duration
	// CheckpointDir is the checkpoint directory. Empty: a new temporary
	// directory, removed when Run returns. Checkpoints already in the
	// directory are never restored: a run restores only its own.
	CheckpointDir string
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
	CheckpointFS checkpoint.FS
	// MaxRestarts bounds the restarts of one run (default 1000).
	MaxRestarts int
}

// Validate reports a checkpoint configuration that cannot run.
func (c *CheckpointConfig) Validate() error {
	switch {
	case c.Unaligned && c.AtLeastOnceCheckpoints:
		return errors.New("recordstream: cannot use unaligned checkpoints with at-least-once checkpointing; drop --unaligned or the at-least-once checkpoint mode")
	case c.CheckpointInterval < 0:
		return fmt.Errorf("recordstream: checkpoint interval must be positive, got %v", c.CheckpointInterval)
	case c.KeepCheckpoints < 0 || c.CheckpointTimeout < 0 || c.MaxRestarts < 0:
		return errors.New("recordstream: kept checkpoints, checkpoint timeout and max restarts must not be negative")
	}
	return nil
}

func (c CheckpointConfig) withDefaults() CheckpointConfig {
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = time.Second
	}
	if c.KeepCheckpoints == 0 {
		c.KeepCheckpoints = checkpoint.DefaultKeep
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
	store *checkpoint.Store
	// firstID: checkpoints with smaller ids were in the directory before
	// this run and are never restored.
	firstID checkpoint.ID

	out  *checkpoint.Committed
	idem *checkpoint.IdempotentSink

	taken    int64   // records taken in by crashable tasks, across incarnations
	hw       []int64 // per partition: the highest offset ever read + 1
	latency  metrics.Latency
	duration *metrics.Histogram // checkpoint trigger to completion
	align    *metrics.Histogram // per task ack
	recovery *metrics.Histogram // crash to restored topology

	counters map[string]int64
	crashAt  int64        // ns, when the last crash was seen
	seed     maphash.Seed // the fields grouping's hash seed, fixed for the run
}

// runExactlyOnce runs p in the exactly-once mode (E2: restarting the
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
	store, err := checkpoint.NewStore(checkpoint.StoreConfig{Dir: dir, FS: cp.CheckpointFS, Keep: cp.KeepCheckpoints})
	if err != nil {
		return nil, err
	}
	maxID, err := store.MaxID()
	if err != nil {
		return nil, err
	}
	r := &eoRunner{p: p, src: src, cfg: c, cp: cp, store: store, firstID: maxID + 1,
		out: checkpoint.NewCommitted(), hw: make([]int64, src.Partitions()),
		latency: metrics.NewLatency().Since(c.Clock.Now()), duration: metrics.NewHistogram(), align: metrics.NewHistogram(),
		recovery: metrics.NewHistogram(), counters: map[string]int64{}, seed: maphash.MakeSeed()}
	if cp.IdempotentSink {
		r.idem = checkpoint.NewIdempotentSink()
	}
	start := c.Clock.Now()
	for restarts := 0; ; restarts++ {
		inc, err := r.newIncarnation()
		if err != nil {
			return nil, err
		}
		if restarts > 0 {
			r.recovery.RecordNanos(c.Clock.Now() - r.crashAt)
		}
		err = inc.run(ctx)
		r.taken = inc.t.taken.Load()
		inc.collect()
		switch {
		case errors.Is(err, errCrashed):
			r.crashAt = c.Clock.Now()
			r.counters["crashes"]++
			r.counters["restarts"]++
			if restarts >= cp.MaxRestarts {
				return nil, fmt.Errorf("recordstream: gave up after %d restarts; raise MaxRestarts or crash less", restarts)
			}
			continue
		case err != nil:
			return nil, err
		}
		return r.report(inc, time.Duration(c.Clock.Now()-start))
	}
}

// latest returns the newest complete checkpoint of this run, or nil.
func (r *eoRunner) latest() (*checkpoint.Checkpoint, error) {
	c, err := r.store.Latest()
	if errors.Is(err, checkpoint.ErrNoCheckpoint) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.counters["checkpoint_fallbacks"] += int64(len(c.Skipped) - r.countIncomplete(c.Skipped))
	for _, e := range c.Skipped {
		if !errors.Is(e, checkpoint.ErrIncomplete) {
			r.cfg.Logger.Warn("recordstream: skipped a damaged checkpoint", "err", e)
		}
	}
	if c.ID < r.firstID {
		return nil, nil
	}
	return c, nil
}

func (r *eoRunner) countIncomplete(errs []error) int {
	n := 0
	for _, e := range errs {
		if errors.Is(e, checkpoint.ErrIncomplete) {
			n++
		}
	}
	return n
}

// report builds the run's report from the last incarnation and the
// committed output.
func (r *eoRunner) report(inc *incarnation, elapsed time.Duration) (*Report, error) {
	t := inc.t
	rep := &Report{Counters: r.counters, Series: map[string]metrics.Series{}, Latency: r.latency,
		Complete: metrics.NewHistogram(), Elapsed: elapsed}
	for _, hw := range r.hw {
		rep.Events += hw
	}
	seen := map[LateRecord]bool{}
	for _, w := range t.windows {
		for _, l := range w.late {
			if !seen[l] {
				seen[l] = true
				rep.Late = append(rep.Late, l)
			}
		}
	}
	rep.Counters["late"] = int64(len(rep.Late))
	// Rebuild the final values from what a reader of the sink sees, with
	// the at-least-once sink's rules (S1: a pane index not above the one
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
	var tp Tuple
	for _, e := range es {
		if view.windowed {
			tp.Kind, tp.Win, tp.Aux = MsgPane, e.Result.Window, int64(e.Pane)
			tp.Row = append(tp.Row[:0], dataflow.Str(e.Result.Key), e.Result.Value)
			tp.Row = append(tp.Row, e.Result.Extra...)
			_ = view.pane(&tp, 0) // combining results of one aggregate kind cannot fail
		} else {
			view.rows = append(view.rows, e.Result)
		}
	}
	rep.Results = view.results()
	rep.Emissions = int64(len(es))
	rep.Counters["duplicates"] = view.stats.duplicates
	rep.Counters["goodput"] = rep.Emissions - view.stats.duplicates
	rep.Counters["committed_transactions"] = int64(r.out.Transactions())
	addPercentiles(rep.Counters, "checkpoint_duration", r.duration)
	addPercentiles(rep.Counters, "alignment", r.align)
	addPercentiles(rep.Counters, "recovery", r.recovery)
	return rep, nil
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

// maxWriters is the number of snapshot writer goroutines of a run.
const maxWriters = 4

// writeReq is a task's encoded state on its way to the writer (E1).
type writeReq struct {
	id   checkpoint.ID
	task checkpoint.TaskID
	// payload is the task's state; when framed, it starts with
	// checkpoint.SnapshotHeaderSize bytes of room for the file header, and
	// the writer frames it in place ([checkpoint.FrameSnapshot]) instead of
	// copying a large state.
	payload []byte
	framed  bool
	// recycle, if not nil, takes the encoded bytes back once they are
	// written, for the task's next snapshot.
	recycle chan<- []byte
	align   time.Duration
}

type ackMsg struct {
	id  checkpoint.ID
	ack checkpoint.Ack
}

type declineMsg struct {
	id     checkpoint.ID
	reason checkpoint.AbortReason
}

// incarnation is one run of the topology between two crashes.
type incarnation struct {
	r *eoRunner
	t *topo

	restored *checkpoint.Checkpoint
	trig     []chan checkpoint.ID // per spout
	writes   chan writeReq
	acks     chan ackMsg
	declines chan declineMsg
	notify   chan checkpoint.ID // to the sink: notifyComplete
	finished chan struct{}      // a spout finished (buffered, one per spout)
	jobDone  chan struct{}      // closed when the sink has finished

	windows []*eoTask
	sink    *eoSink
}

// eoTask is the exactly-once state of a windowed bolt.
type eoTask struct {
	chanOf  []int // input channel by sending task id; -1 if none
	replay  []*Tuple
	records int64
	// snapHint is the capacity of the next snapshot buffer: a little more
	// than the last one, so a large state is encoded without regrowing.
	snapHint int
	// spare holds a snapshot buffer the writer is done with. Reusing it
	// saves allocating (and the garbage collector cycles of) a buffer the
	// size of the state at every checkpoint.
	spare chan []byte
}

// eoSink is the exactly-once state of the sink task.
type eoSink struct {
	tpc    *checkpoint.TwoPhaseSink
	chanOf []int
	replay []*Tuple
}

func (r *eoRunner) newIncarnation() (*incarnation, error) {
	restored, err := r.latest()
	if err != nil {
		return nil, err
	}
	cfg := r.cfg
	cfg.Guarantee = ExactlyOnce
	cfg.Restore = nil
	if restored != nil {
		snap := &Snapshot{Offsets: make([]int64, r.src.Partitions())}
		for p := range snap.Offsets {
			secs, err := checkpoint.Sections(restored.Tasks[checkpoint.TaskID(p)])
			if err != nil {
				return nil, fmt.Errorf("recordstream: restore spout %d from %v: %w", p, restored.ID, err)
			}
			d := checkpoint.NewDecoder(secs["offset"])
			snap.Offsets[p] = d.Varint()
			if d.Err() != nil {
				return nil, fmt.Errorf("recordstream: restore spout %d from %v: %w", p, restored.ID, d.Err())
			}
		}
		cfg.Restore = snap
	}
	t, err := compile(r.p, r.src, cfg)
	if err != nil {
		return nil, err
	}
	t.taken.Store(r.taken)
	// Keys must reach the same bolt task in every incarnation, or a
	// restored key's state would sit in one task while its records go to
	// another (Flink's key groups solve the same problem).
	t.seed = r.seed
	inc := &incarnation{r: r, t: t, restored: restored,
		writes: make(chan writeReq, 2*len(t.all)), acks: make(chan ackMsg, 2*len(t.all)),
		declines: make(chan declineMsg, 2*len(t.all)), notify: make(chan checkpoint.ID, 1024),
		finished: make(chan struct{}, len(t.spouts)), jobDone: make(chan struct{})}
	for range t.spouts {
		inc.trig = append(inc.trig, make(chan checkpoint.ID, 1))
	}
	for _, w := range t.windows {
		inc.windows = append(inc.windows, &eoTask{chanOf: chanIndex(w.inputs, len(t.all)), spare: make(chan []byte, 1)})
	}
	inc.sink = &eoSink{chanOf: chanIndex(t.sink.inputs, len(t.all))}
	if r.idem == nil {
		inc.sink.tpc = checkpoint.NewTwoPhaseSink(checkpoint.TaskID(t.sink.id), r.out)
		shift := r.src.EventTimeShift()
		inc.sink.tpc.OnCommit = func(es []checkpoint.Emission) {
			now := t.now()
			for _, e := range es {
				r.latency.Observe(now, int64(e.MaxEventTime)+shift, e.MaxIngestNanos)
			}
		}
	}
	if restored != nil {
		r.counters["restored_checkpoints"]++
		if err := inc.restore(); err != nil {
			return nil, err
		}
	}
	return inc, nil
}

// chanIndex maps sending task ids to input channel indexes.
func chanIndex(inputs []int, tasks int) []int {
	m := make([]int, tasks)
	for i := range m {
		m[i] = -1
	}
	for ch, id := range inputs {
		m[id] = ch
	}
	return m
}

// restore gives the windowed bolts and the sink their state from the
// restored checkpoint (the spouts took their offsets in compile).
func (inc *incarnation) restore() error {
	c := inc.restored
	// The bolts decode their states in parallel: with large state,
	// decoding dominates the recovery time.
	errs := make([]error, len(inc.t.windows))
	var wg sync.WaitGroup
	for i, w := range inc.t.windows {
		wg.Go(func() { errs[i] = inc.restoreWindow(w, inc.windows[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s := inc.t.sink
	secs, err := checkpoint.Sections(c.Tasks[checkpoint.TaskID(s.id)])
	if err != nil {
		return fmt.Errorf("recordstream: restore sink from %v: %w", c.ID, err)
	}
	if inc.sink.tpc != nil {
		if err := inc.sink.tpc.Restore(secs["txns"]); err != nil {
			return err
		}
	}
	if inc.sink.replay, err = decodeTuples(secs["channels"]); err != nil {
		return fmt.Errorf("recordstream: restore sink channel state from %v: %w", c.ID, err)
	}
	return nil
}

// restoreWindow gives one windowed bolt its state: operator, late records
// and channel state.
func (inc *incarnation) restoreWindow(w *windowTask, st *eoTask) error {
	c := inc.restored
	payload := c.Tasks[checkpoint.TaskID(w.id)]
	st.snapHint = len(payload) + len(payload)/8
	secs, err := checkpoint.Sections(payload)
	if err != nil {
		return fmt.Errorf("recordstream: restore %s from %v: %w", w.name, c.ID, err)
	}
	if err := w.Restore(secs["op"]); err != nil {
		return fmt.Errorf("recordstream: restore %s from %v: %w", w.name, c.ID, err)
	}
	d := checkpoint.NewDecoder(secs["late"])
	for n := d.Uvarint(); n > 0 && d.Err() == nil; n-- {
		l := LateRecord{RecordRef: dataflow.RecordRef{Partition: int(d.Varint()), Offset: d.Varint()}, LostAbove: dataflow.MaxTime}
		l.Watermark = dataflow.Time(d.Varint())
		l.Key = d.String()
		w.late = append(w.late, l)
	}
	st.records = d.Varint()
	if d.Err() != nil {
		return fmt.Errorf("recordstream: restore %s late records from %v: %w", w.name, c.ID, d.Err())
	}
	if st.replay, err = decodeTuples(secs["channels"]); err != nil {
		return fmt.Errorf("recordstream: restore %s channel state from %v: %w", w.name, c.ID, err)
	}
	return nil
}

// run runs the incarnation to the end of the input, or until a task
// crashes (errCrashed) or fails. Every goroutine it starts has exited when
// it returns.
func (inc *incarnation) run(ctx context.Context) error {
	t := inc.t
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	svcCtx, svcCancel := context.WithCancel(ctx)
	defer svcCancel()
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		if err == nil {
			return
		}
		mu.Lock()
		if firstErr == nil || (errors.Is(firstErr, context.Canceled) && !errors.Is(err, context.Canceled)) {
			firstErr = err
		}
		mu.Unlock()
		cancel(err)
	}
	var svc, tasks sync.WaitGroup
	svc.Go(func() { fail(inc.coordinate(svcCtx)) })
	// Several writers, so that one task's large or slow (fsync) file does
	// not hold back the others' acknowledgements.
	for range min(maxWriters, len(t.all)) {
		svc.Go(func() { fail(inc.writer(svcCtx)) })
	}
	t.start = t.now()
	for _, s := range t.spouts {
		tasks.Go(func() { fail(s.runEO(ctx, inc)) })
	}
	for i, w := range t.windows {
		tasks.Go(func() { fail(w.runEO(ctx, inc, inc.windows[i])) })
	}
	tasks.Go(func() {
		fail(t.sink.runEO(ctx, inc, inc.sink))
		close(inc.jobDone)
	})
	tasks.Wait()
	svcCancel()
	svc.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = context.Cause(ctx)
	}
	if firstErr != nil {
		return firstErr
	}
	if inc.sink.tpc != nil {
		inc.sink.tpc.CommitAll() // the job is done: nothing will be replayed
	}
	return nil
}

// collect adds the incarnation's counts to the run's.
func (inc *incarnation) collect() {
	r, t := inc.r, inc.t
	for _, s := range t.spouts {
		r.counters["emitted"] += s.stats.emitted
		r.counters["replayed"] += s.stats.replayed
	}
	for _, w := range t.windows {
		r.counters["records_in"] += w.stats.records
	}
}

// coordinate is the checkpoint coordinator's goroutine: it wraps the
// [checkpoint.Coordinator] core with a ticker, the writer's acks and the
// tasks' declines, and does the core's bidding.
func (inc *incarnation) coordinate(ctx context.Context) error {
	r, t := inc.r, inc.t
	now := func() time.Time { return time.Unix(0, t.now()) }
	var tasks []checkpoint.TaskID
	for _, b := range t.all {
		tasks = append(tasks, checkpoint.TaskID(b.id))
	}
	last, err := r.store.MaxID()
	if err != nil {
		return err
	}
	coord, err := checkpoint.NewCoordinator(checkpoint.CoordinatorConfig{Tasks: tasks, Interval: r.cp.CheckpointInterval,
		Timeout: r.cp.CheckpointTimeout, LastID: last}, now())
	if err != nil {
		return err
	}
	tick := time.NewTicker(max(time.Millisecond, min(r.cp.CheckpointInterval/10, 50*time.Millisecond)))
	defer tick.Stop()
	var evs []checkpoint.Event
	finished := 0
	for {
		evs = evs[:0]
		select {
		case <-tick.C:
			evs = coord.Tick(now(), evs)
		case a := <-inc.acks:
			r.align.Record(a.ack.Alignment)
			if evs, err = coord.Ack(a.id, a.ack, now(), evs); err != nil {
				return err
			}
		case d := <-inc.declines:
			evs = coord.Decline(d.id, d.reason, now(), evs)
		case <-inc.finished:
			// Finished spouts still acknowledge, but once every spout has
			// finished the bolts finish too and cannot.
			if finished++; finished == len(t.spouts) {
				coord.Stop()
			}
		case <-ctx.Done():
			return nil
		}
		for _, e := range evs {
			switch e.Kind {
			case checkpoint.EventTrigger:
				r.counters["checkpoints_triggered"]++
				for _, ch := range inc.trig {
					select {
					case ch <- e.ID:
					default: // the spout has not taken the previous one: it times out
					}
				}
			case checkpoint.EventComplete:
				pruneErr, err := r.store.Complete(e.ID, e.Files)
				if err != nil {
					r.counters["checkpoints_failed"]++
					r.cfg.Logger.Warn("recordstream: checkpoint not completed", "id", e.ID, "err", err)
					continue
				}
				if pruneErr != nil {
					r.cfg.Logger.Warn("recordstream: old checkpoints not deleted", "err", pruneErr)
				}
				r.counters["checkpoints"]++
				r.counters["checkpoint_bytes"] = e.Stats.Size
				r.duration.Record(e.Stats.Duration)
				select {
				case inc.notify <- e.ID:
				case <-ctx.Done():
					return nil
				}
			case checkpoint.EventAbort:
				r.counters["checkpoints_aborted"]++
				if err := r.store.Abort(e.ID); err != nil {
					r.cfg.Logger.Warn("recordstream: aborted checkpoint not deleted", "err", err)
				}
			}
		}
	}
}

// writer writes the tasks' snapshots (E1) and acknowledges them to the
// coordinator; a failed write declines the checkpoint.
func (inc *incarnation) writer(ctx context.Context) error {
	for {
		select {
		case req := <-inc.writes:
			var enc []byte
			if req.framed {
				enc = checkpoint.FrameSnapshot(req.payload, req.id, req.task)
			} else {
				enc = checkpoint.AppendSnapshot(make([]byte, 0, len(req.payload)+checkpoint.SnapshotOverhead),
					checkpoint.Snapshot{Checkpoint: req.id, Task: req.task, Payload: req.payload})
			}
			f, err := inc.r.store.WriteEncoded(req.id, req.task, enc)
			if req.recycle != nil {
				// The file is written (or failed): the bytes are free.
				select {
				case req.recycle <- enc:
				default:
				}
			}
			if err != nil {
				inc.r.cfg.Logger.Warn("recordstream: snapshot not written", "err", err)
				inc.decline(ctx, req.id, checkpoint.AbortDeclined)
				continue
			}
			select {
			case inc.acks <- ackMsg{id: req.id, ack: checkpoint.Ack{Task: req.task, File: f, Alignment: req.align}}:
			case <-ctx.Done():
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// snapshot hands a task's encoded state to the writer (E1).
func (inc *incarnation) snapshot(ctx context.Context, req writeReq) error {
	select {
	case inc.writes <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (inc *incarnation) decline(ctx context.Context, id checkpoint.ID, reason checkpoint.AbortReason) {
	select {
	case inc.declines <- declineMsg{id: id, reason: reason}:
	case <-ctx.Done():
	}
}

// sendBarrier sends barrier id on e and flushes it, so that the barrier
// does not wait in a partial batch.
func sendBarrier(ctx context.Context, e *edge, src int, id checkpoint.ID) error {
	tp, err := e.slot(ctx)
	if err != nil {
		return err
	}
	tp.Kind, tp.Src, tp.Aux = MsgBarrier, int32(src), int64(id)
	return e.flush(ctx)
}

// tupleArena copies tuples out of their reused batches for a gate that
// keeps them (a blocked channel, channel state). Copies come from chunks, so
// alignment does not cost two allocations per buffered record; the current
// chunks are reused once the gate holds no copy (reset), and a full chunk is
// left to the garbage collector while copies in it are still held. One task
// goroutine owns it.
type tupleArena struct {
	tuples []Tuple
	values []dataflow.Value
}

const arenaTuples, arenaValues = 512, 4096

// clone returns a copy of tp whose Row lives in the arena.
func (a *tupleArena) clone(tp *Tuple) *Tuple {
	if len(a.tuples) == cap(a.tuples) {
		a.tuples = make([]Tuple, 0, arenaTuples)
	}
	n := len(tp.Row)
	if cap(a.values)-len(a.values) < n {
		a.values = make([]dataflow.Value, 0, max(arenaValues, n))
	}
	at := len(a.values)
	a.values = append(a.values, tp.Row...)
	a.tuples = append(a.tuples, *tp)
	c := &a.tuples[len(a.tuples)-1]
	c.Row = a.values[at : at+n : at+n]
	return c
}

// reset makes the current chunks reusable: call it only when no copy is
// held any more.
func (a *tupleArena) reset() {
	clear(a.tuples) // drop references to strings and rows
	a.tuples = a.tuples[:0]
	clear(a.values)
	a.values = a.values[:0]
}

// gateIdle reports whether a gate holds no copy of a tuple: nothing is
// feedGate passes one input batch through a task's barrier gate in order and
// releases it. Data tuples and tuples of kind record (watermarks for a window
// bolt, panes for the sink) are records for the gate; a record the gate keeps
// (a blocked channel, unaligned channel state) is copied into arena, which is
// emptied once the gate holds nothing. crashes says whether an injected crash
// may hit this task's data tuples. cbErr is where the gate's callbacks store
// their error while the batch is handled.
func feedGate(t *topo, b *batch, chanOf []int, gate *checkpoint.Gate[*Tuple], arena *tupleArena,
	mode checkpoint.Mode, record MsgKind, crashes bool, cbErr *error) error {
	defer b.release()
	for i := range b.ts {
		tp := &b.ts[i]
		ch := chanOf[tp.Src]
		var err error
		switch tp.Kind {
		case MsgData, record:
			if tp.Kind == MsgData && crashes && t.crashNow() {
				return errCrashed
			}
			if gate.Retains(ch) {
				tp = arena.clone(tp)
			}
			err = gate.Record(ch, tp)
		case MsgBarrier:
			err = gate.Barrier(ch, checkpoint.ID(tp.Aux), time.Unix(0, t.now()))
		case MsgEOS:
			err = gate.EndOfStream(ch)
		}
		if err == nil {
			err = *cbErr
		}
		if err != nil {
			return err
		}
	}
	if len(arena.tuples) > 0 && gateIdle(gate, mode) {
		arena.reset()
	}
	return nil
}

// buffered on a blocked channel and no channel state is being recorded.
func gateIdle(g *checkpoint.Gate[*Tuple], mode checkpoint.Mode) bool {
	if g.Buffered() > 0 {
		return false
	}
	_, pending := g.Pending()
	return mode != checkpoint.Unaligned || !pending
}

// appendTuples encodes tuples as channel state.
func appendTuples(dst []byte, ts []*Tuple) []byte {
	dst = appendUvarint(dst, uint64(len(ts)))
	for _, tp := range ts {
		dst = appendUvarint(dst, uint64(tp.Kind))
		dst = appendVarints(dst, int64(tp.Src), int64(tp.Partition), tp.Offset, tp.Ingest, int64(tp.Time),
			tp.Aux, int64(tp.Win.Start), int64(tp.Win.End))
		dst = checkpoint.AppendRow(dst, tp.Row)
	}
	return dst
}

func decodeTuples(b []byte) ([]*Tuple, error) {
	if len(b) == 0 {
		return nil, nil
	}
	d := checkpoint.NewDecoder(b)
	n := d.Uvarint()
	if n > uint64(d.Len()) {
		return nil, fmt.Errorf("%w: %d tuples in %d bytes", checkpoint.ErrCorrupt, n, d.Len())
	}
	ts := make([]*Tuple, 0, n)
	for range n {
		tp := &Tuple{}
		tp.Kind = MsgKind(d.Uvarint())
		tp.Src = int32(d.Varint())
		tp.Partition = int32(d.Varint())
		tp.Offset = d.Varint()
		tp.Ingest = d.Varint()
		tp.Time = dataflow.Time(d.Varint())
		tp.Aux = d.Varint()
		tp.Win.Start = dataflow.Time(d.Varint())
		tp.Win.End = dataflow.Time(d.Varint())
		tp.Row = d.Row(nil)
		ts = append(ts, tp)
	}
	if d.Err() != nil {
		return nil, d.Err()
	}
	return ts, nil
}

func appendUvarint(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }

func appendVarints(dst []byte, vs ...int64) []byte {
	for _, v := range vs {
		dst = binary.AppendVarint(dst, v)
	}
	return dst
}
