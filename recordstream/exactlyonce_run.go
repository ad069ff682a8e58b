package recordstream

import (
	"context"
	"time"

	"github.com/weirlab/weir/internal/snapshot"
	"github.com/weirlab/weir/recordstream/checkpoint"
)

// One incarnation of the exactly-once topology and the goroutines beside its
// tasks: the checkpoint coordinator and the snapshot writers.

// maxWriters is the number of snapshot writer goroutines of a run.
const maxWriters = 4

// writeReq is a task's encoded state on its way to the writer (RE1).
type writeReq struct {
	id   checkpoint.ID
	task checkpoint.TaskID
	// payload is the task's state; when framed, it starts with
	// snapshot.HeaderSize bytes of room for the file header, and
	// the writer frames it in place ([snapshot.Frame]) instead of
	// copying a large state.
	payload []byte
	framed  bool
	// recycle, if not nil, takes the encoded bytes back once they are
	// written, for the task's next snapshot.
	recycle chan<- []byte
	align   time.Duration
	// encode, if not nil, encodes the task's state into payload (the
	// buffer, with its room) on the writer's goroutine (asyncStater).
	encode encodeFunc
	// spout marks a spout's snapshot: partition part resumes at offset
	// next from this checkpoint.
	spout bool
	part  int
	next  int64
}

type ackMsg struct {
	id  checkpoint.ID
	ack checkpoint.Ack
	// spout, part and next are the writeReq's: a spout's resume offset.
	spout bool
	part  int
	next  int64
}

type declineMsg struct {
	id     checkpoint.ID
	reason checkpoint.AbortReason
}

// incarnation is one run of the topology between two crashes.
type incarnation struct {
	r *eoRunner
	t *topo

	restored *snapshot.Checkpoint
	trig     []chan checkpoint.ID // per spout
	writes   chan writeReq
	acks     chan ackMsg
	declines chan declineMsg
	notify   chan checkpoint.ID // to the sink: notifyComplete
	finished chan struct{}      // a spout finished (buffered, one per spout)
	jobDone  chan struct{}      // closed when the sink has finished

	windows  []*gateProtocol // per window task
	joins    []*gateProtocol // per join task
	regroups []*gateProtocol // per regroup task
	sink     *gateProtocol
}

func (r *eoRunner) newIncarnation() (*incarnation, error) {
	// Where a recovery's time goes (the last restore's, in microseconds):
	// reading and verifying the checkpoint, then compiling the topology and
	// decoding the tasks' states.
	began := r.cfg.Clock.Now()
	restored, err := r.latest()
	if err != nil {
		return nil, err
	}
	loaded := r.cfg.Clock.Now()
	cfg := r.cfg
	cfg.Guarantee = ExactlyOnce
	var offsets []int64
	if restored != nil {
		if offsets, err = restoreOffsets(restored, r.src.Partitions()); err != nil {
			return nil, err
		}
	}
	t, err := compile(r.p, r.src, cfg, offsets)
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
	// Fill the tasks' protocol slots.
	for _, s := range t.spouts {
		p := &barrierSpout{inc: inc, trig: make(chan checkpoint.ID, 1)}
		inc.trig = append(inc.trig, p.trig)
		s.proto, s.hw = p, &r.hw[s.part]
	}
	for _, w := range t.windows {
		p, err := newGateProtocol(inc, w.taskBase)
		if err != nil {
			return nil, err
		}
		inc.windows = append(inc.windows, p)
		w.proto = p
	}
	for _, j := range t.joins {
		p, err := newGateProtocol(inc, j.taskBase)
		if err != nil {
			return nil, err
		}
		inc.joins = append(inc.joins, p)
		j.proto = p
	}
	for _, g := range t.regroups {
		p, err := newGateProtocol(inc, g.taskBase)
		if err != nil {
			return nil, err
		}
		inc.regroups = append(inc.regroups, p)
		g.proto = p
	}
	p, err := newGateProtocol(inc, t.sink.taskBase)
	if err != nil {
		return nil, err
	}
	p.notify = inc.notify
	p.txn = &eoSink{r: r, idem: r.idem}
	if r.idem == nil {
		p.txn.tpc = checkpoint.NewTwoPhaseSink(checkpoint.TaskID(t.sink.id), r.out)
		p.txn.tpc.OnCommit = func(es []checkpoint.Emission) {
			now := t.now()
			// The shift is read at each commit, not once at the start: a
			// paced filler sets it with its first record, which may come
			// after this incarnation started.
			shift := r.src.EventTimeShift()
			for _, e := range es {
				if !e.Merged {
					r.latency.Observe(now, int64(e.MaxEventTime)+shift, e.MaxIngestNanos)
				}
			}
		}
	}
	inc.sink, t.sink.proto, t.sink.txn = p, p, p.txn
	if r.cfg.Trace {
		t.sink.trace = &r.panes // one trace over every incarnation
	}
	if restored != nil {
		r.counters["restored_checkpoints"]++
		// The last restore's checkpoint and the offsets it resumed the
		// spouts at (summed over partitions): 0 would mean a restore
		// from the start of the input.
		r.counters["restored_checkpoint_id"] = int64(restored.ID)
		var sum int64
		for _, o := range offsets {
			sum += o
		}
		r.counters["restored_offset"] = sum
		if err := inc.restore(); err != nil {
			return nil, err
		}
		r.counters["restore_load_us"] = loaded.Sub(began).Microseconds()
		r.counters["restore_decode_us"] = r.cfg.Clock.Now().Sub(loaded).Microseconds()
	}
	return inc, nil
}

// run runs the incarnation to the end of the input, or until a task
// crashes (errCrashed) or fails. Every goroutine it starts has exited when
// it returns.
func (inc *incarnation) run(ctx context.Context) error {
	t := inc.t
	services := []func(context.Context) error{inc.coordinate}
	// Several writers, so that one task's large or slow (fsync) file does
	// not hold back the others' acknowledgements.
	for range min(maxWriters, len(t.all)) {
		services = append(services, inc.writer)
	}
	t.start = t.now()
	if err := t.runTasks(ctx, services, func() { close(inc.jobDone) }); err != nil {
		return err
	}
	if tpc := inc.sink.txn.tpc; tpc != nil {
		tpc.CommitAll() // the job is done: nothing will be replayed
	}
	return nil
}

func (inc *incarnation) topology() *topo { return inc.t }

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
	tick := r.cfg.Clock.NewTicker(max(time.Millisecond, min(r.cp.CheckpointInterval/10, 50*time.Millisecond)))
	defer tick.Stop()
	var evs []checkpoint.Event
	finished := 0
	for {
		evs = evs[:0]
		select {
		case <-tick.C():
			evs = coord.Tick(now(), evs)
		case a := <-inc.acks:
			r.align.Record(a.ack.Alignment)
			if a.spout {
				r.resume.note(a.id, a.part, a.next)
			}
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
				if err := r.resume.complete(e.ID, r.cp.KeepCheckpoints); err != nil {
					return err
				}
				r.duration.Record(e.Stats.Duration)
				select {
				case inc.notify <- e.ID:
				case <-ctx.Done():
					return nil
				}
			case checkpoint.EventAbort:
				r.counters["checkpoints_aborted"]++
				r.resume.forget(e.ID)
				if err := r.store.Abort(e.ID); err != nil {
					r.cfg.Logger.Warn("recordstream: aborted checkpoint not deleted", "err", err)
				}
			}
		}
	}
}

// writer writes the tasks' snapshots (RE1) and acknowledges them to the
// coordinator; a failed write declines the checkpoint.
func (inc *incarnation) writer(ctx context.Context) error {
	for {
		select {
		case req := <-inc.writes:
			if req.encode != nil {
				b, err := req.encode(ctx, req.payload)
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					inc.r.cfg.Logger.Warn("recordstream: snapshot not encoded", "task", req.task, "err", err)
					inc.decline(ctx, req.id, checkpoint.AbortDeclined)
					continue
				}
				req.payload = b
			}
			var enc []byte
			if req.framed {
				enc = snapshot.Frame(req.payload, req.id, req.task)
			} else {
				enc = snapshot.Append(make([]byte, 0, len(req.payload)+snapshot.Overhead),
					snapshot.TaskState{Checkpoint: req.id, Task: req.task, Payload: req.payload})
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
			case inc.acks <- ackMsg{id: req.id, ack: checkpoint.Ack{Task: req.task, File: f, Alignment: req.align}, spout: req.spout, part: req.part, next: req.next}:
			case <-ctx.Done():
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// snapshot hands a task's encoded state to the writer (RE1).
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
