package recordstream

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/metrics"
	"github.com/weirlab/weir/recordstream/checkpoint"
	"github.com/weirlab/weir/recordstream/internal/acking"
	"golang.org/x/sync/errgroup"
)

// component names a kind of task in the compiled topology.
type component uint8

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=component,grouping -linecomment

// The components of a compiled pipeline.
const (
	// componentSpout reads one log partition (with the stateless steps
	// chained in).
	componentSpout component = iota // spout
	// componentWindow is the windowed aggregation bolt (fields grouping on
	// the key).
	componentWindow // window
	// componentSink keeps the final value per window and key (global
	// grouping: one task).
	componentSink // sink
	// componentAcker is Storm's __acker (fields grouping on the root id).
	componentAcker // acker
	// componentJoin is the stream-join bolt (fields grouping on the join
	// key from both sides).
	componentJoin // join
	// componentRegroup is the regroup bolt of Pipeline.Then (fields
	// grouping on Regroup.Key from the window tasks).
	componentRegroup // regroup
)

// grouping is how a stream's tuples are spread over the consumer's tasks
// (mechanics.md 1.6), for the groupings the compiled topologies use.
// Target tasks are sorted ascending.
type grouping uint8

const (
	// fields sends each tuple to hash(fields) mod n, so equal keys meet in
	// one task: spouts to window tasks, bolts to ackers (on the root id).
	fields grouping = iota // fields
	// global sends everything to the lowest target task: window tasks (or
	// spouts) to the sink.
	global // global
	// direct lets the producer name the target: acker to spout.
	direct // direct
)

// choose returns the index among n sorted targets of a tuple: hash is the
// fields hash (fields), target the chosen index (direct).
func (g grouping) choose(n int, hash uint64, target int) int {
	switch g {
	case fields:
		return int(hash % uint64(n))
	case direct:
		return target
	}
	return 0
}

// Report is what a run produced and measured.
type Report struct {
	// Results is the final value per window and key (sorted), or one row per
	// emitted record for a stateless pipeline (duplicates included). Nil
	// with [Config.CountingSink].
	Results []dataflow.Result
	// Late lists the records dropped (or side-output) as late, each with
	// the watermark it was judged at (RW2).
	Late []dataflow.LateRecord
	// Events is the number of log records read for the first time.
	Events int64
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
	// Emissions counts every pane (or record) the sink received.
	Emissions int64
	// Latency has the event-time and processing-time latency of every
	// emission; Complete the spout-emit to tree-acked latency.
	Latency  metrics.Latency
	Complete *metrics.Histogram
	// Counters: emitted, transferred, acked, failed, timed_out, replayed,
	// acker_messages, acker_messages_dropped, duplicates (panes fired again
	// for a window already seen, or stateless records seen under another
	// tree), goodput (sink emissions that are not duplicates), late,
	// crashes, lost_in_crash, records_in, replays_in_windows (replayed
	// tuples a window took in: with nothing lost, double counts),
	// session_reholds (at-least-once: tuples of a fired session held again
	// because the session merged into a larger one, RW1).
	Counters map[string]int64
	// Series are sampled per task: "queue_batches/<task>" and
	// "busy/<task>" (fraction of the interval spent working); at-least-once
	// adds the spouts' tree outcomes per second over time, one point per
	// SampleInterval: "acked_per_s", "timed_out_per_s", "replayed_per_s".
	Series map[string]metrics.Series
	// Panes lists every pane the sink received, in order, with
	// [Config.Trace] (nil otherwise). In exactly-once mode it spans every
	// incarnation, so a pane fired again after a restore is listed again.
	Panes []dataflow.PaneEmission
	// Warnings are what a person should know of the run that is not an
	// error, one sentence each: in exactly-once mode, a damaged checkpoint
	// a restore skipped, naming its file, and a restart from offset 0
	// because every checkpoint was damaged (RE5).
	Warnings []string
}

// taskBase is what every task has: its id, its inbox, its input tasks
// (upstream task ids, for alignment and EOS counting) and its live stats.
type taskBase struct {
	id     int
	comp   component
	name   string
	in     *inbox
	inputs []int
	chanOf []int        // input channel by sending task id; -1 if none
	busy   atomic.Int64 // ns spent working, for sampling
	clk    clock.Clock
	slow   clock.Timer // the slow fault's wait (pay), made on first use
	t      *topo
}

// receive takes the task's next input batch. A notice of the protocol (if
// any) is handled instead, and nil returned.
func (b *taskBase) receive(ctx context.Context, p boltProtocol) (*batch, error) {
	var notices <-chan checkpoint.ID
	if p != nil {
		notices = p.notices()
	}
	select {
	case bt := <-b.in.ch:
		return bt, nil
	case id := <-notices:
		return nil, p.notice(ctx, id)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// pay waits out the slow fault's accumulated cost, once per batch rather
// than per record. Faults.Slow models a slow call (waiting, not CPU work,
// as in microbatch): the task is idle meanwhile and the other tasks keep
// the cores. A timer wakes late by its granularity; the overshoot is
// credited to the next batch (debt goes negative), so the cost per record
// is the configured one on average.
func (b *taskBase) pay(ctx context.Context, debt *time.Duration) error {
	if *debt <= 0 {
		return nil
	}
	if b.slow == nil {
		b.slow = b.clk.NewTimer(*debt)
	} else {
		b.slow.Reset(*debt)
	}
	start := b.clk.Now()
	select {
	case <-b.slow.C():
	case <-ctx.Done():
		b.slow.Stop()
		return ctx.Err()
	}
	*debt -= clock.Since(b.clk, start)
	return nil
}

// deliver hands a bolt's input batch to it in order: each message straight
// to its handler, or through its protocol when it has one (then the
// protocol's endBatch after the batch). When crashable, each data tuple is
// a possible injected crash point: the bolt's lost gets the rest of the
// batch from it and deliver returns errCrashed.
func (b *taskBase) deliver(ctx context.Context, bt *batch, p boltProtocol, h bolt, crashable bool) error {
	for i := range bt.ts {
		tp := &bt.ts[i]
		if crashable && tp.Kind == msgData && b.t.crashNow() {
			h.lost(bt.ts[i:])
			return errCrashed
		}
		ch := b.chanOf[tp.Src]
		var err error
		if p == nil {
			err = h.handle(ctx, ch, tp)
		} else {
			err = p.input(ctx, h, ch, tp)
		}
		if err != nil {
			return err
		}
	}
	if p != nil {
		return p.endBatch(ctx, h)
	}
	return nil
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

// topo is one run of a compiled topology.
type topo struct {
	cfg   Config
	src   Source
	p     *dataflow.Pipeline
	agg   *dataflow.Aggregation
	aggIn dataflow.Schema // schema of data tuples to window tasks (RP2)
	// proj lists the columns of last a data tuple carries to a window task,
	// nil for all of them (RP2); tupleKeyIdx are the key columns in aggIn.
	proj        []int
	tupleKeyIdx []int
	last        dataflow.Schema // schema after the stateless steps
	keyIdx      []int
	timeAt      int // event-time column in last, -1 for ingest time
	// A pipeline with a Join: last is the joined rows' schema after
	// Join.Steps (what reaches Agg or Emit). A side tuple carries only the
	// side row's key, contributed and event-time columns (sideProj of the
	// side's row, as RP2 projects), of schema sideSchema, its key columns
	// at sideKeyIdx; sideKeyFull and sideTimeAt are the key and event-time
	// columns in the side's row before the projection; joinTimeAt is
	// join_time in last (-1 if a step dropped it).
	join        *dataflow.Join
	js          dataflow.JoinSchemas
	sideProj    [2][]int
	sideSchema  [2]dataflow.Schema
	sideKeyIdx  [2][]int
	sideKeyFull [2][]int
	sideTimeAt  [2]int
	joinTimeAt  int
	then        *dataflow.Regroup
	thenKeyIdx  []int // Regroup.Key in the first aggregation's result rows
	acking      bool
	seed        maphash.Seed

	spouts   []*spoutTask
	joins    []*joinTask
	windows  []*windowTask
	regroups []*regroupTask
	sink     *sinkTask
	ackers   []*ackerTask
	all      []*taskBase

	budget  *budget      // at-least-once bookkeeping (RB1); nil without acking
	taken   atomic.Int64 // records taken in by the crashable tasks
	crashAt []int64
	start   int64
	restore []int64 // the spouts' first offsets (exactly-once restore); nil: 0
}

// Run compiles p to a topology reading src, runs it to the end of the
// (closed) log, and returns what the sink kept and what the tasks measured.
// It returns only after every goroutine it started has exited (RG1).
func Run(ctx context.Context, p *dataflow.Pipeline, src Source, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := refuseJoins(p, &cfg); err != nil {
		return nil, err
	}
	switch cfg.Guarantee {
	case ExactlyOnce:
		return runExactlyOnce(ctx, p, src, cfg, cfg.CheckpointConfig)
	case Dataflow:
		return runDataflow(ctx, p, src, cfg)
	}
	if cfg.Guarantee == Trident {
		return runTrident(ctx, p, src, cfg)
	}
	c := cfg.withDefaults()
	t, err := compile(p, src, c, nil)
	if err != nil {
		return nil, err
	}
	return t.run(ctx)
}

// compile builds the topology of p over src; offsets, if not nil, are the
// spouts' first offsets (a restore).
func compile(p *dataflow.Pipeline, src Source, cfg Config, offsets []int64) (*topo, error) {
	schemas, err := p.Schemas()
	if err != nil {
		return nil, err
	}
	if !src.Schema().Equal(p.Input) {
		return nil, fmt.Errorf("recordstream: the log's schema %v differs from pipeline %q's input %v", src.Schema(), p.Name, p.Input)
	}
	if src.Partitions() < 1 {
		return nil, errors.New("recordstream: the log has no partitions")
	}
	t := &topo{cfg: cfg, src: src, p: p, agg: p.Agg, last: schemas[len(schemas)-1], timeAt: -1, joinTimeAt: -1,
		acking: cfg.Guarantee == AtLeastOnce, seed: maphash.MakeSeed(), join: p.Join, then: p.Then}
	if err := t.compileJoin(); err != nil {
		return nil, err
	}
	t.aggIn = t.last
	if t.acking {
		t.budget = &budget{limit: cfg.MemoryBudget, cfg: &t.cfg}
	}
	if a := p.Agg; a != nil {
		for _, k := range a.Key {
			t.keyIdx = append(t.keyIdx, t.last.Index(k))
		}
		if a.TimeCol != "" && a.Domain == dataflow.EventTime {
			t.timeAt = t.last.Index(a.TimeCol)
		}
		t.proj, t.aggIn = projectForAgg(a, t.last)
		for _, k := range a.Key {
			t.tupleKeyIdx = append(t.tupleKeyIdx, t.aggIn.Index(k))
		}
		if t.acking && cfg.MaxSpoutPending > 0 && a.Window.Kind == dataflow.WindowCount &&
			a.Window.Size+a.Window.Period > int64(cfg.MaxSpoutPending) {
			// Storm's WindowedBoltExecutor check: window tuples are acked
			// only when they expire.
			return nil, &ConfigError{Field: "MaxSpoutPending", Err: fmt.Errorf("window count (length + sliding interval) value %d is more than max spout pending value %d; raise it or set it to 0 (unlimited)",
				a.Window.Size+a.Window.Period, cfg.MaxSpoutPending)}
		}
	}
	if r := p.Then; r != nil {
		rs, err := p.Agg.ResultSchema(t.last)
		if err != nil {
			return nil, err
		}
		for _, k := range r.Key {
			t.thenKeyIdx = append(t.thenKeyIdx, rs.Index(k))
		}
	}
	t.crashAt = append(t.crashAt, cfg.Faults.CrashAfter...)
	if offsets != nil && len(offsets) != src.Partitions() {
		return nil, fmt.Errorf("recordstream: restore has %d offsets for %d partitions", len(offsets), src.Partitions())
	}
	t.restore = offsets

	nSp, nWin, nJoin, nAck := src.Partitions(), cfg.Parallelism, 0, 0
	if p.Agg == nil {
		nWin = 0
	}
	if p.Join != nil {
		nJoin = cfg.Parallelism
	}
	if t.acking {
		nAck = cfg.Ackers
	}
	newBase := func(comp component, i int) *taskBase {
		b := &taskBase{id: len(t.all), comp: comp, name: fmt.Sprintf("%v-%d", comp, i), clk: cfg.Clock, t: t,
			in: &inbox{ch: make(chan *batch, cfg.QueueBatches)}}
		t.all = append(t.all, b)
		return b
	}
	for i := range nSp {
		t.spouts = append(t.spouts, &spoutTask{taskBase: newBase(componentSpout, i), t: t, part: i})
	}
	for i := range nJoin {
		t.joins = append(t.joins, &joinTask{taskBase: newBase(componentJoin, i), t: t, index: i})
	}
	for i := range nWin {
		t.windows = append(t.windows, &windowTask{taskBase: newBase(componentWindow, i), t: t, index: i})
	}
	if p.Then != nil {
		for i := range cfg.Parallelism {
			t.regroups = append(t.regroups, &regroupTask{taskBase: newBase(componentRegroup, i), t: t, index: i})
		}
	}
	t.sink = &sinkTask{taskBase: newBase(componentSink, 0), t: t}
	if t.cfg.Trace {
		t.sink.trace = new([]dataflow.PaneEmission)
	}
	for i := range nAck {
		t.ackers = append(t.ackers, &ackerTask{taskBase: newBase(componentAcker, i), t: t})
	}

	// Wire the edges. Spouts drain their inbox while blocked (RQ4).
	qb, bs := cfg.QueueBatches, cfg.BatchSize
	for _, s := range t.spouts {
		s.drain = &drainer{ch: s.in.ch, fn: s.onResults}
		if nJoin > 0 {
			for _, j := range t.joins {
				s.out = append(s.out, newEdge(j.in, qb, bs, s.drain))
				j.inputs = append(j.inputs, s.id)
			}
		} else if nWin > 0 {
			for _, w := range t.windows {
				s.out = append(s.out, newEdge(w.in, qb, bs, s.drain))
				w.inputs = append(w.inputs, s.id)
			}
		} else {
			s.out = append(s.out, newEdge(t.sink.in, qb, bs, s.drain))
			t.sink.inputs = append(t.sink.inputs, s.id)
		}
		for _, a := range t.ackers {
			s.acks = append(s.acks, newEdge(a.in, qb, bs, s.drain))
			a.inputs = append(a.inputs, s.id)
		}
	}
	ackingBolt := func(b *taskBase) []*edge {
		var es []*edge
		for _, a := range t.ackers {
			es = append(es, newEdge(a.in, qb, bs, nil))
			a.inputs = append(a.inputs, b.id)
		}
		return es
	}
	for _, j := range t.joins {
		if nWin > 0 {
			for _, w := range t.windows {
				j.out = append(j.out, newEdge(w.in, qb, bs, nil))
				w.inputs = append(w.inputs, j.id)
			}
		} else {
			j.out = append(j.out, newEdge(t.sink.in, qb, bs, nil))
			t.sink.inputs = append(t.sink.inputs, j.id)
		}
		j.acks = ackingBolt(j.taskBase)
	}
	for _, w := range t.windows {
		if len(t.regroups) > 0 {
			for _, g := range t.regroups {
				w.outs = append(w.outs, newEdge(g.in, qb, bs, nil))
				g.inputs = append(g.inputs, w.id)
			}
		} else {
			w.out = newEdge(t.sink.in, qb, bs, nil)
			w.outs = []*edge{w.out}
			t.sink.inputs = append(t.sink.inputs, w.id)
		}
		w.acks = ackingBolt(w.taskBase)
	}
	for _, g := range t.regroups {
		g.out = newEdge(t.sink.in, qb, bs, nil)
		t.sink.inputs = append(t.sink.inputs, g.id)
	}
	if nWin == 0 {
		t.sink.acks = ackingBolt(t.sink.taskBase)
	}
	for _, a := range t.ackers {
		for _, s := range t.spouts {
			a.out = append(a.out, newEdge(s.in, qb, bs, nil))
		}
	}
	for _, b := range t.all {
		b.chanOf = chanIndex(b.inputs, len(t.all))
	}
	for _, s := range t.spouts {
		if err := s.init(); err != nil {
			return nil, err
		}
	}
	for _, j := range t.joins {
		if err := j.init(); err != nil {
			return nil, err
		}
	}
	for _, w := range t.windows {
		if err := w.init(); err != nil {
			return nil, err
		}
	}
	for _, g := range t.regroups {
		if err := g.init(); err != nil {
			return nil, err
		}
	}
	if err := t.sink.init(); err != nil {
		return nil, err
	}
	for _, a := range t.ackers {
		a.init()
	}
	return t, nil
}

// ackerFor routes an acker message by fields grouping on the root id
// (mechanics.md 1.1), by blocks of a spout's sequence ([acking.AckerFor]).
func (t *topo) ackerFor(root uint64) int {
	return acking.AckerFor(root, len(t.ackers))
}

// hashKey hashes a key's text for the fields grouping.
func (t *topo) hashKey(key []byte) uint64 { return maphash.Bytes(t.seed, key) }

// hashKeyString is hashKey of a key text held in a string.
func (t *topo) hashKeyString(key string) uint64 { return maphash.String(t.seed, key) }

// crashNow reports whether the record just taken in is a crash point. It
// costs an atomic add per record only when crashes are configured.
func (t *topo) crashNow() bool {
	if len(t.crashAt) == 0 {
		return false
	}
	n := t.taken.Add(1)
	for _, c := range t.crashAt {
		if c == n {
			return true
		}
	}
	return false
}

func (t *topo) rng(task int) *rand.Rand {
	return rand.New(rand.NewPCG(t.cfg.Seed^0x9e3779b97f4a7c15, uint64(task)+1))
}

// now returns the clock's reading in ns since the Unix epoch.
func (t *topo) now() int64 { return t.cfg.Clock.Now().UnixNano() }

func (t *topo) run(ctx context.Context) (*Report, error) {
	t.start = t.now()
	for _, s := range t.spouts {
		if l := s.stats.timeline; l != nil {
			l.start = t.start // the buckets count from the run's start
		}
	}
	series := map[string]metrics.Series{}
	var services []func(context.Context) error
	if t.cfg.SampleInterval > 0 {
		services = append(services, func(ctx context.Context) error { t.sample(ctx, series); return nil })
	}
	if err := t.runTasks(ctx, services, nil); err != nil {
		return nil, err
	}
	return t.report(series), nil
}

// runTasks runs every task of the topology on its own goroutine, and the
// services (the sampler; the exactly-once coordinator and snapshot writers)
// beside them until the tasks are done, then calls sinkDone (if not nil)
// when the sink has returned. It returns the first error of any of them
// (which cancels the others) once every goroutine it started has exited
// (RG1).
func (t *topo) runTasks(ctx context.Context, services []func(context.Context) error, sinkDone func()) error {
	g, gctx := errgroup.WithContext(ctx)
	svcCtx, stop := context.WithCancel(gctx)
	defer stop()
	for _, s := range services {
		g.Go(func() error { return s(svcCtx) })
	}
	var tasks sync.WaitGroup
	spawn := func(run func(context.Context) error) {
		tasks.Add(1)
		g.Go(func() error {
			defer tasks.Done()
			return run(gctx)
		})
	}
	for _, s := range t.spouts {
		spawn(s.run)
	}
	for _, j := range t.joins {
		spawn(j.run)
	}
	for _, w := range t.windows {
		spawn(w.run)
	}
	for _, g := range t.regroups {
		spawn(g.run)
	}
	spawn(func(ctx context.Context) error {
		err := t.sink.run(ctx)
		if sinkDone != nil {
			sinkDone()
		}
		return err
	})
	for _, a := range t.ackers {
		spawn(a.run)
	}
	g.Go(func() error {
		tasks.Wait()
		stop() // the services end with the tasks
		return nil
	})
	return g.Wait()
}

// sample records every task's queue depth and busy fraction every
// SampleInterval until ctx is done.
func (t *topo) sample(ctx context.Context, series map[string]metrics.Series) {
	tick := t.cfg.Clock.NewTicker(t.cfg.SampleInterval)
	defer tick.Stop()
	last := make([]int64, len(t.all))
	lastAt := t.cfg.Clock.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C():
			dt := float64(now.Sub(lastAt))
			lastAt = now
			ts := float64(t.now()-t.start) / 1e9
			for i, b := range t.all {
				busy := b.busy.Load()
				series["queue_batches/"+b.name] = append(series["queue_batches/"+b.name], metrics.Point{T: ts, V: float64(len(b.in.ch))})
				series["busy/"+b.name] = append(series["busy/"+b.name], metrics.Point{T: ts, V: min(1, float64(busy-last[i])/dt)})
				last[i] = busy
			}
		}
	}
}

func (t *topo) report(series map[string]metrics.Series) *Report {
	r := &Report{Counters: map[string]int64{}, Series: series, Latency: metrics.NewLatency(), Complete: metrics.NewHistogram()}
	r.Elapsed = time.Duration(t.now() - t.start)
	add := func(k string, v int64) { r.Counters[k] += v }
	var transferred int64
	for _, s := range t.spouts {
		r.Events += s.stats.events
		add("emitted", s.stats.emitted)
		add("acked", s.stats.acked)
		add("failed", s.stats.failed)
		add("timed_out", s.stats.timedOut)
		add("replayed", s.stats.replayed)
		add("acker_messages", s.stats.ackerMsgs)
		add("acker_messages_dropped", s.stats.ackerDropped)
		r.Complete.Merge(s.complete)
		addTimeline(series, t.start, s.stats.timeline)
		for _, e := range s.out {
			transferred += e.sent
		}
		for _, e := range s.acks {
			transferred += e.sent
		}
	}
	for _, w := range t.windows {
		add("records_in", w.stats.records)
		add("late", int64(len(w.late)))
		add("crashes", w.stats.crashes)
		add("acker_messages", w.stats.ackerMsgs)
		add("acker_messages_dropped", w.stats.ackerDropped)
		add("lost_in_crash", w.stats.lost)
		add("replays_in_windows", w.stats.replaysIn)
		add("session_reholds", w.stats.reheld)
		r.Late = append(r.Late, w.late...)
		for _, e := range w.outs {
			transferred += e.sent
		}
		for _, e := range w.acks {
			transferred += e.sent
		}
	}
	for _, j := range t.joins {
		add("join_records_in", j.stats.records)
		add("joined", j.stats.joined)
		add("replays_in_joins", j.stats.replaysIn)
		add("late", int64(len(j.late)))
		add("acker_messages", j.stats.ackerMsgs)
		add("acker_messages_dropped", j.stats.ackerDropped)
		r.Late = append(r.Late, j.late...)
		for _, e := range j.out {
			transferred += e.sent
		}
		for _, e := range j.acks {
			transferred += e.sent
		}
	}
	for _, a := range t.ackers {
		add("acker_messages", a.stats.results)
		for _, e := range a.out {
			transferred += e.sent
		}
	}
	s := t.sink
	add("acker_messages", s.stats.ackerMsgs)
	add("acker_messages_dropped", s.stats.ackerDropped)
	add("crashes", s.stats.crashes)
	add("lost_in_crash", s.stats.lost)
	for _, e := range s.acks {
		transferred += e.sent
	}
	add("transferred", transferred)
	add("duplicates", s.stats.duplicates)
	for _, g := range t.regroups {
		add("regroup_rows_in", g.stats.rows)
		add("regroup_late_rows", g.stats.late)
		transferred += g.out.sent
	}
	add("goodput", s.stats.emissions-s.stats.duplicates)
	r.Emissions = s.stats.emissions
	r.Latency = s.latency
	if s.trace != nil {
		r.Panes = *s.trace
	}
	r.Results = s.results()
	return r
}

// addTimeline adds one spout's tree outcomes to series as rates per second
// over time (T in seconds since start, at the start of each bucket).
func addTimeline(series map[string]metrics.Series, start int64, l *treeTimeline) {
	if l == nil {
		return
	}
	n := max(len(l.acked), len(l.timedOut), len(l.replayed))
	for name, c := range map[string][]int64{"acked_per_s": l.acked, "timed_out_per_s": l.timedOut, "replayed_per_s": l.replayed} {
		s := series[name]
		for i := range n {
			if i >= len(s) {
				s = append(s, metrics.Point{T: float64(l.start-start+int64(i)*l.width) / 1e9})
			}
			if i < len(c) {
				s[i].V += float64(c[i]) * 1e9 / float64(l.width)
			}
		}
		series[name] = s
	}
}

// compileJoin prepares a pipeline's join: t.last becomes the schema
// reaching Agg or Emit ([dataflow.Pipeline.Last]), and each side's row
// schema, key and event-time columns are found.
func (t *topo) compileJoin() error {
	j := t.join
	if j == nil {
		return nil
	}
	js, err := t.p.JoinSchemas()
	if err != nil {
		return err
	}
	t.js = js
	t.last = js.Joined[len(js.Joined)-1]
	t.joinTimeAt = t.last.Index(dataflow.JoinTimeCol)
	for side, ss := range [2][]dataflow.Schema{js.Left, js.Right} {
		sd := &j.Left
		if side == dataflow.JoinRight {
			sd = &j.Right
		}
		full := ss[len(ss)-1]
		var proj []int
		for _, c := range slices.Concat(sd.Key, sd.Cols, []string{sd.TimeCol}) {
			if i := full.Index(c); !slices.Contains(proj, i) {
				proj = append(proj, i)
			}
		}
		fs := make([]dataflow.Field, len(proj))
		for k, i := range proj {
			fs[k] = full.Fields[i]
		}
		s := dataflow.Schema{Fields: fs}
		t.sideProj[side], t.sideSchema[side] = proj, s
		t.sideKeyIdx[side], t.sideKeyFull[side] = nil, nil
		for _, k := range sd.Key {
			t.sideKeyIdx[side] = append(t.sideKeyIdx[side], s.Index(k))
			t.sideKeyFull[side] = append(t.sideKeyFull[side], full.Index(k))
		}
		t.sideTimeAt[side] = full.Index(sd.TimeCol)
	}
	return nil
}

// joinReleaseBound is the watermark at which a join task's state for a
// side tuple of event time ts is dropped (RJ1): the end of its last join
// window plus the allowed lateness.
func (t *topo) joinReleaseBound(ts dataflow.Time) int64 {
	fn := t.join.Window
	last := int64(ts) - dataflow.FloorMod(int64(ts)-fn.Offset, fn.Period)
	return last + fn.Size + dataflow.Millis(t.join.AllowedLateness)
}

// refuseJoins refuses what a mode does not execute: the Trident and
// Dataflow modes run no stream join (Pipeline.Join) nor regroup
// (Pipeline.Then), and Storm's modes inject no crash into either.
func refuseJoins(p *dataflow.Pipeline, cfg *Config) error {
	if p == nil || (p.Join == nil && p.Then == nil) {
		return nil
	}
	what := "a stream join (Pipeline.Join)"
	if p.Join == nil {
		what = "a regroup (Pipeline.Then)"
	}
	model := "recordstream (" + cfg.Guarantee.String() + ")"
	switch cfg.Guarantee {
	case Trident:
		return &dataflow.UnsupportedError{Model: model, Reason: what + " is not run in Trident's batches: the mode's per-txid state values and batch buffering wrap the window bolt only, so a join or regroup task would apply a replayed batch twice; use the exactly-once mode"}
	case Dataflow:
		return &dataflow.UnsupportedError{Model: model, Reason: what + " is not run in the MillWheel mode: its per-bundle commits log the window bolt's operator calls only, so a join or regroup task would lose its state in a restart; use the exactly-once mode"}
	case AtMostOnce, AtLeastOnce:
		if len(cfg.Faults.CrashAfter) == 0 {
			break
		}
		if p.Join != nil {
			return &dataflow.UnsupportedError{Model: model, Reason: "a crash of a join task in Storm's modes loses its window state and the pairs a replay cannot rebuild (its replays are late for fired windows), which the check cannot tell from a wrong answer; inject crashes into join pipelines in the exactly-once mode"}
		}
		return &dataflow.UnsupportedError{Model: model, Reason: "after a crash of a window task in Storm's modes its windows fire again with the replays, and the regroup keeps each window's first result and drops the re-fires, an answer the check does not model; inject crashes into regroup pipelines in the exactly-once mode"}
	}
	return nil
}
