package recordstream

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/metrics"
)

// Component names a kind of task in the compiled topology.
type Component uint8

// The components of a compiled pipeline.
const (
	// ComponentSpout reads one log partition (with the stateless steps
	// chained in).
	ComponentSpout Component = iota
	// ComponentWindow is the windowed aggregation bolt (fields grouping on
	// the key).
	ComponentWindow
	// ComponentSink keeps the final value per window and key (global
	// grouping: one task).
	ComponentSink
	// ComponentAcker is Storm's __acker (fields grouping on the root id).
	ComponentAcker
)

var componentNames = [...]string{"spout", "window", "sink", "acker"}

func (c Component) String() string {
	if int(c) < len(componentNames) {
		return componentNames[c]
	}
	return fmt.Sprintf("component(%d)", c)
}

// Grouping is how a stream's tuples are spread over the consumer's tasks
// (mechanics.md 1.6). Target tasks are sorted ascending.
type Grouping uint8

// Groupings.
const (
	// Shuffle sends tuples round-robin over the targets.
	Shuffle Grouping = iota
	// Fields sends each tuple to hash(fields) mod n, so equal keys meet in
	// one task.
	Fields
	// All sends every tuple to every target (watermarks, EOS).
	All
	// Global sends everything to the lowest target task.
	Global
	// LocalOrShuffle prefers targets in the producer's worker; the topology
	// runs in one worker, so it is Shuffle.
	LocalOrShuffle
	// Direct lets the producer name the target (acker to spout).
	Direct
)

var groupingNames = [...]string{"shuffle", "fields", "all", "global", "local-or-shuffle", "direct"}

func (g Grouping) String() string {
	if int(g) < len(groupingNames) {
		return groupingNames[g]
	}
	return fmt.Sprintf("grouping(%d)", g)
}

// Choose returns the index among n sorted targets of a tuple for groupings
// that pick one target: hash is the fields hash (Fields), rr the
// producer's round-robin counter (Shuffle, LocalOrShuffle), direct the
// chosen index (Direct). All has no single target and returns -1.
func (g Grouping) Choose(n int, hash uint64, rr *uint64, direct int) int {
	switch g {
	case Fields:
		return int(hash % uint64(n))
	case Global:
		return 0
	case Direct:
		return direct
	case Shuffle, LocalOrShuffle:
		*rr++
		return int(*rr % uint64(n))
	}
	return -1
}

// Report is what a run produced and measured.
type Report struct {
	// Results is the final value per window and key (sorted), or one row per
	// emitted record for a stateless pipeline (duplicates included).
	Results []dataflow.Result
	// Late lists the records dropped (or side-output) as late, each with
	// the watermark it was judged at (W2).
	Late []LateRecord
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
	// tuples a window took in: with nothing lost, double counts).
	Counters map[string]int64
	// Series are sampled per task: "queue_batches/<task>" and
	// "busy/<task>" (fraction of the interval spent working).
	Series map[string]metrics.Series
}

// LateRecord is one record a windowed bolt dropped as late (W2): what an
// outside check needs to verify the drop under dataflow's I4/I5.
type LateRecord struct {
	dataflow.RecordRef
	// Key is the dropped row's key (I9).
	Key string
	// Watermark is the bolt's watermark when it dropped the row: the
	// minimum over its input spouts of the watermarks they had sent.
	Watermark dataflow.Time
	// Replay says the dropped tuple was a replay (at-least-once). Its
	// earlier delivery is in the row's windows that ended at or before
	// LostAbove and missing from the others: the watermark at which a crash
	// lost the bolt's state holding it (MinTime if it was lost in the queue
	// before reaching a window, MaxTime if no crash lost it: a timeout or
	// a lost ack replayed it).
	Replay    bool
	LostAbove dataflow.Time
}

// taskBase is what every task has: its id, its inbox, its input tasks
// (upstream task ids, for alignment and EOS counting) and its live stats.
type taskBase struct {
	id     int
	comp   Component
	name   string
	in     *inbox
	inputs []int
	busy   atomic.Int64 // ns spent working, for sampling
}

// topo is one run of a compiled topology.
type topo struct {
	cfg   Config
	src   Source
	p     *dataflow.Pipeline
	agg   *dataflow.Aggregation
	aggIn dataflow.Schema // schema of data tuples to window tasks (P2)
	// proj lists the columns of last a data tuple carries to a window task,
	// nil for all of them (P2); tupleKeyIdx are the key columns in aggIn.
	proj        []int
	tupleKeyIdx []int
	last        dataflow.Schema // schema after the stateless steps
	keyIdx      []int
	timeAt      int // event-time column in last, -1 for ingest time
	acking      bool
	seed        maphash.Seed

	spouts  []*spoutTask
	windows []*windowTask
	sink    *sinkTask
	ackers  []*ackerTask
	all     []*taskBase

	taken   atomic.Int64 // records taken in by the crashable tasks
	crashAt []int64
	start   int64
}

// Run compiles p to a topology reading src, runs it to the end of the
// (closed) log, and returns what the sink kept and what the tasks measured.
// It returns only after every goroutine it started has exited (R1).
func Run(ctx context.Context, p *dataflow.Pipeline, src Source, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Guarantee == ExactlyOnce {
		return runExactlyOnce(ctx, p, src, cfg, cfg.CheckpointConfig)
	}
	c := cfg.withDefaults()
	t, err := compile(p, src, c)
	if err != nil {
		return nil, err
	}
	return t.run(ctx)
}

func compile(p *dataflow.Pipeline, src Source, cfg Config) (*topo, error) {
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
	t := &topo{cfg: cfg, src: src, p: p, agg: p.Agg, last: schemas[len(schemas)-1], timeAt: -1,
		acking: cfg.Guarantee == AtLeastOnce, seed: maphash.MakeSeed()}
	t.aggIn = t.last
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
			return nil, fmt.Errorf("recordstream: window count (length + sliding interval) value %d is more than max spout pending value %d; raise --max-spout-pending or set it to 0",
				a.Window.Size+a.Window.Period, cfg.MaxSpoutPending)
		}
	}
	t.crashAt = append(t.crashAt, cfg.Faults.CrashAfter...)
	if cfg.Restore != nil && len(cfg.Restore.Offsets) != src.Partitions() {
		return nil, fmt.Errorf("recordstream: restore has %d offsets for %d partitions", len(cfg.Restore.Offsets), src.Partitions())
	}

	nSp, nWin, nAck := src.Partitions(), cfg.Parallelism, 0
	if p.Agg == nil {
		nWin = 0
	}
	if t.acking {
		nAck = cfg.Ackers
	}
	newBase := func(comp Component, i int) *taskBase {
		b := &taskBase{id: len(t.all), comp: comp, name: fmt.Sprintf("%v-%d", comp, i),
			in: &inbox{ch: make(chan *batch, cfg.QueueBatches)}}
		t.all = append(t.all, b)
		return b
	}
	for i := range nSp {
		t.spouts = append(t.spouts, &spoutTask{taskBase: newBase(ComponentSpout, i), t: t, part: i})
	}
	for i := range nWin {
		t.windows = append(t.windows, &windowTask{taskBase: newBase(ComponentWindow, i), t: t, index: i})
	}
	t.sink = &sinkTask{taskBase: newBase(ComponentSink, 0), t: t}
	for i := range nAck {
		t.ackers = append(t.ackers, &ackerTask{taskBase: newBase(ComponentAcker, i), t: t})
	}

	// Wire the edges. Spouts drain their inbox while blocked (Q4).
	qb, bs := cfg.QueueBatches, cfg.BatchSize
	for _, s := range t.spouts {
		s.drain = &drainer{ch: s.in.ch, fn: s.onResults}
		if nWin > 0 {
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
	for _, w := range t.windows {
		w.out = newEdge(t.sink.in, qb, bs, nil)
		t.sink.inputs = append(t.sink.inputs, w.id)
		w.acks = ackingBolt(w.taskBase)
	}
	if nWin == 0 {
		t.sink.acks = ackingBolt(t.sink.taskBase)
	}
	for _, a := range t.ackers {
		for _, s := range t.spouts {
			a.out = append(a.out, newEdge(s.in, qb, bs, nil))
		}
	}
	for _, s := range t.spouts {
		if err := s.init(); err != nil {
			return nil, err
		}
	}
	for _, w := range t.windows {
		if err := w.init(); err != nil {
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
// (mechanics.md 1.1).
func (t *topo) ackerFor(root uint64) int {
	return Fields.Choose(len(t.ackers), root, nil, 0)
}

// hashKey hashes a key's text for the fields grouping.
func (t *topo) hashKey(key []byte) uint64 { return maphash.Bytes(t.seed, key) }

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

func (t *topo) now() int64 { return t.cfg.Clock.Now() }

func (t *topo) run(ctx context.Context) (*Report, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	t.start = t.now()
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) {
		if err != nil && !errors.Is(err, context.Canceled) {
			errOnce.Do(func() { firstErr = err })
		}
		if err != nil {
			cancel(err)
		}
	}
	series := map[string]metrics.Series{}
	stopSampler := make(chan struct{})
	var samplerWG sync.WaitGroup
	if t.cfg.SampleInterval > 0 {
		samplerWG.Go(func() { t.sample(stopSampler, series) })
	}
	for _, s := range t.spouts {
		wg.Go(func() { fail(s.run(ctx)) })
	}
	for _, w := range t.windows {
		wg.Go(func() { fail(w.run(ctx)) })
	}
	wg.Go(func() { fail(t.sink.run(ctx)) })
	for _, a := range t.ackers {
		wg.Go(func() { fail(a.run(ctx)) })
	}
	wg.Wait()
	close(stopSampler)
	samplerWG.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = context.Cause(ctx)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return t.report(series), nil
}

// sample records every task's queue depth and busy fraction every
// SampleInterval of real time until stop is closed.
func (t *topo) sample(stop <-chan struct{}, series map[string]metrics.Series) {
	tick := time.NewTicker(t.cfg.SampleInterval)
	defer tick.Stop()
	last := make([]int64, len(t.all))
	lastAt := time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
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
		r.Late = append(r.Late, w.late...)
		transferred += w.out.sent
		for _, e := range w.acks {
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
	add("goodput", s.stats.emissions-s.stats.duplicates)
	r.Emissions = s.stats.emissions
	r.Latency = s.latency
	r.Results = s.results()
	return r
}
