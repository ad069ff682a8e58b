package recordstream

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
	"github.com/weirlab/weir/internal/metrics"
	"github.com/weirlab/weir/recordstream/checkpoint"
	"github.com/weirlab/weir/recordstream/internal/millwheel"
)

// The Dataflow mode: MillWheel's exactly-once delivery (VLDB 2013 §5.1-5.3)
// as Cloud Dataflow runs it, in the tasks' protocol slot (protocol.go),
// built from the pure cores of recordstream/internal/millwheel.
//
//	spout ──(part, offset, sub)──▶ window task ──(task, seq)──▶ sink
//	  ▲ upstream backup:             │ per bundle:                │ per bundle:
//	  │ retry after RetryTimeout     │ dedup (cache, Bloom, ids)  │ dedup, apply,
//	  │                              │ run the operator           │ commit ids
//	  │                              │ commit state+ids+outputs   │
//	  └──────── acks (inbox) ────────┤ ack, then send outputs     │
//	                                 ▲ upstream backup, retry     │
//	                                 └──── acks (mailbox) ────────┘
//
// Every record carries an id fixed at its production: a spout's tuple is
// (partition, offset, index among the record's outputs), stable because the
// log replays the same record; a window task's pane is (task, production
// sequence number), stable because productions are committed before they
// are sent (strong productions). A task's store (millStore) is the
// durable part: it outlives the task's restarts, as MillWheel's Bigtable
// rows do. The invariants (RD1-RD7) are in doc.go.

// DataflowConfig configures the Dataflow mode ([Dataflow]). The zero value
// is valid.
type DataflowConfig struct {
	// RetryTimeout is how long a sender waits for an acknowledgement before
	// it sends a record again (default 200 ms; at least 1 ms, at most 1 h).
	// Senders look every RetryTimeout/2, so a record is sent again between
	// one and one and a half timeouts after its last send.
	RetryTimeout time.Duration
	// IDCache is the capacity of every receiver's in-memory record-id cache
	// (default 4096 ids; negative: no cache, every lookup goes to the Bloom
	// filter).
	IDCache int
	// BloomBits is the size of every receiver's Bloom filter in front of its
	// id catalog (default 65536 bits, rounded up to a power of two; at most
	// 1<<30).
	BloomBits int
}

// Validate reports a Dataflow configuration that cannot run.
func (c *DataflowConfig) Validate() error {
	switch {
	case c.RetryTimeout != 0 && (c.RetryTimeout < time.Millisecond || c.RetryTimeout > time.Hour):
		return &ConfigError{Field: "RetryTimeout", Err: fmt.Errorf("retry timeout must lie in [1ms, 1h], got %v (0: the default, 200ms)", c.RetryTimeout)}
	case c.BloomBits < 0 || c.BloomBits > 1<<30:
		return &ConfigError{Field: "BloomBits", Err: fmt.Errorf("the Bloom filter's bits must lie in [0, %d], got %d (0: the default, 65536)", 1<<30, c.BloomBits)}
	}
	return nil
}

func (c DataflowConfig) withDefaults() DataflowConfig {
	if c.RetryTimeout == 0 {
		c.RetryTimeout = 200 * time.Millisecond
	}
	switch {
	case c.IDCache == 0:
		c.IDCache = 4096
	case c.IDCache < 0:
		c.IDCache = 0
	}
	if c.BloomBits == 0 {
		c.BloomBits = 1 << 16
	}
	return c
}

// dataflowModel names the mode in an [dataflow.UnsupportedError].
const dataflowModel = "recordstream (dataflow)"

// mwRun is one run of the Dataflow mode: the protocols of its tasks and the
// retry ticker that wakes them.
type mwRun struct {
	t      *topo
	cfg    DataflowConfig
	spouts []*millSpout
	bolts  []*millBolt
	// ackers counts the tasks that acknowledge the spouts (the window
	// tasks, or the sink of a stateless pipeline) not yet finished;
	// acksDone is closed when it reaches 0: no acknowledgement is sent to
	// a spout after that, so an ended spout may stop reading its inbox.
	ackers   atomic.Int32
	acksDone chan struct{}
}

// runDataflow runs p in the Dataflow mode.
func runDataflow(ctx context.Context, p *dataflow.Pipeline, src Source, cfg Config) (*Report, error) {
	if a := p.Agg; a != nil && a.Window.Kind == dataflow.WindowCount {
		return nil, &dataflow.UnsupportedError{Model: dataflowModel, Reason: "count windows are defined by arrival order, and MillWheel's delivery keeps no order: a record sent again after a crash arrives behind newer ones; use time windows"}
	}
	c := cfg.withDefaults()
	t, err := compile(p, src, c, nil)
	if err != nil {
		return nil, err
	}
	r := &mwRun{t: t, cfg: c.DataflowConfig.withDefaults(), acksDone: make(chan struct{})}
	qb, bs := c.QueueBatches, c.BatchSize
	// Upstream acks to spouts go to their inboxes, which a spout drains
	// even while blocked (RQ4); acks to window tasks go to a mailbox, since
	// a window task blocked on the sink's full queue reads no inbox (RD4).
	spoutAcks := func() []*edge {
		es := make([]*edge, len(t.spouts))
		for i, s := range t.spouts {
			es[i] = newEdge(s.in, qb, bs, nil)
		}
		return es
	}
	for _, s := range t.spouts {
		m := &millSpout{r: r, wake: make(chan checkpoint.ID, 1), out: millwheel.NewSender[dataflow.Time](int64(r.cfg.RetryTimeout))}
		s.proto, s.mw = m, m
		r.spouts = append(r.spouts, m)
	}
	var boxes []*ackBox
	for _, w := range t.windows {
		m := r.newBolt(w.taskBase)
		m.w, m.up = w, spoutAcks()
		m.box = &ackBox{wake: m.wake}
		w.proto, w.strong = m, m
		boxes = append(boxes, m.box)
	}
	m := r.newBolt(t.sink.taskBase)
	m.s = t.sink
	if len(t.windows) > 0 {
		m.boxes = boxes
	} else {
		m.up = spoutAcks()
	}
	t.sink.proto = m
	r.ackers.Store(int32(max(len(t.windows), 1)))
	services := []func(context.Context) error{r.tick}
	series := map[string]metrics.Series{}
	if c.SampleInterval > 0 {
		services = append(services, func(ctx context.Context) error { t.sample(ctx, series); return nil })
	}
	t.start = t.now()
	if err := t.runTasks(ctx, services, nil); err != nil {
		return nil, err
	}
	rep := t.report(series)
	r.report(rep)
	return rep, nil
}

func (r *mwRun) newBolt(b *taskBase) *millBolt {
	m := &millBolt{r: r, b: b, wake: make(chan checkpoint.ID, 1), lows: make([]int64, len(b.inputs)),
		drop:  rand.New(rand.NewPCG(r.t.cfg.Faults.Seed, uint64(b.id)+3000)),
		store: &millStore{cat: millwheel.NewCatalog(r.cfg.BloomBits), out: millwheel.NewSender[*tuple](int64(r.cfg.RetryTimeout))}}
	m.recv = millwheel.NewReceiver(m.store.cat, r.cfg.IDCache)
	m.recovery = metrics.NewHistogram()
	r.bolts = append(r.bolts, m)
	return m
}

// tick is the retry ticker's goroutine: every RetryTimeout/2 it wakes every
// sender, which sends again what is due (RD3).
func (r *mwRun) tick(ctx context.Context) error {
	tk := r.t.cfg.Clock.NewTicker(max(time.Millisecond, r.cfg.RetryTimeout/2))
	defer tk.Stop()
	for {
		select {
		case <-tk.C():
			for _, s := range r.spouts {
				wake(s.wake)
			}
			for _, b := range r.bolts {
				wake(b.wake)
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// wake sends on a wake channel of capacity 1 without blocking: one wake-up
// pending is enough.
func wake(ch chan checkpoint.ID) {
	select {
	case ch <- 0:
	default:
	}
}

// report adds the mode's counters to rep.
func (r *mwRun) report(rep *Report) {
	add := func(k string, v int64) { rep.Counters[k] += v }
	recovery := metrics.NewHistogram()
	var catMax int64
	for _, s := range r.spouts {
		add("retries_sent", s.retries)
		add("unacked_at_end", int64(s.out.Len()))
	}
	for _, b := range r.bolts {
		st := b.recv.Stats
		add("dedup_lookups", st.Lookups)
		add("dedup_cache_hits", st.CacheHits)
		add("dedup_bloom_negatives", st.BloomNegatives)
		add("dedup_catalog_reads", st.CatalogReads)
		add("dedup_false_positives", st.FalsePositives)
		add("dedup_expired", st.Expired)
		add("duplicates_dropped", st.Duplicates)
		add("retries_sent", b.stats.retries)
		add("acks_sent", b.stats.acks)
		add("acks_dropped", b.stats.acksDropped)
		add("acker_messages_dropped", b.stats.acksDropped) // the name the other modes report lost acks under
		add("commits", b.stats.commits)
		add("commit_bytes", b.stats.stateBytes+b.stats.idBytes+b.stats.outBytes)
		add("commit_state_bytes", b.stats.stateBytes)
		add("commit_id_bytes", b.stats.idBytes)
		add("commit_production_bytes", b.stats.outBytes)
		add("state_compactions", b.stats.compactions)
		add("catalog_ids", int64(b.store.cat.Len()))
		add("catalog_collected", b.store.cat.Collected)
		catMax = max(catMax, int64(b.store.cat.Max))
		add("catalog_ids_max/"+b.b.name, int64(b.store.cat.Max))
		add("task_restarts", b.stats.restarts)
		add("restarts/"+b.b.name, b.stats.restarts)
		add("unacked_at_end", int64(b.store.out.Len()))
		recovery.Merge(b.recovery)
	}
	rep.Counters["catalog_ids_max"] = catMax
	addPercentiles(rep.Counters, "recovery", recovery)
}

// millSpout is a spout's Dataflow protocol: the upstream backup of its
// tuples (RD3), keyed by (offset, index among the record's outputs), each
// with its event time for the watermark hold (RD5).
type millSpout struct {
	r        *mwRun
	wake     chan checkpoint.ID
	out      *millwheel.Sender[dataflow.Time]
	retrying bool // a retry is being emitted: send only the pending tuples
	retries  int64
	offs     []int64
	low      int64 // the GC bound found by the last hold
}

func (m *millSpout) triggers() <-chan checkpoint.ID { return m.wake }

// checkpoint is the retry round the ticker asked for: every tuple whose
// last send is a retry timeout old is read again from the log and sent
// again (its record's acknowledged tuples are not).
func (m *millSpout) checkpoint(ctx context.Context, s *spoutTask, _ checkpoint.ID) error {
	due := m.out.Due(s.t.now())
	if len(due) == 0 {
		return nil
	}
	m.offs = m.offs[:0]
	for _, id := range due {
		if n := len(m.offs); n == 0 || m.offs[n-1] != id.Seq {
			m.offs = append(m.offs, id.Seq)
		}
	}
	s.nowc = s.t.now()
	m.retrying = true
	for _, off := range m.offs {
		if err := s.emitRecordAs(ctx, off, true); err != nil {
			m.retrying = false
			return err
		}
	}
	m.retrying = false
	return s.flushAll(ctx)
}

// afterEnd keeps the ended spout reading its inbox until no task will
// acknowledge it any more: a receiver still acknowledges the duplicates
// of this spout's records that were in flight when it ended, and a full
// inbox nobody reads would block that receiver for ever (RD4).
func (m *millSpout) afterEnd(ctx context.Context, s *spoutTask) error {
	for {
		select {
		case b := <-s.in.ch:
			s.onResults(b)
		case <-m.r.acksDone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// unfinished holds the spout's end-of-stream until every tuple it sent is
// acknowledged (RD3).
func (m *millSpout) unfinished() bool { return m.out.Len() > 0 }

// skip reports whether the tuple about to be emitted (the curN-th output of
// the record at off) is left out of a retry: it was acknowledged.
func (m *millSpout) skip(off int64, sub int) bool {
	return m.retrying && m.out.Get(millwheel.ID{Seq: off, Sub: int32(sub)}) == nil
}

// sent records a tuple as sent.
func (m *millSpout) sent(off int64, sub int, t dataflow.Time, now int64) {
	if m.retrying {
		m.retries++
	}
	m.out.Put(millwheel.ID{Seq: off, Sub: int32(sub)}, t, now)
}

// acked handles a receiver's acknowledgement (an ack result in the inbox).
func (m *millSpout) acked(tp *tuple) {
	m.out.Ack(millwheel.ID{Seq: tp.Offset, Sub: int32(tp.Edge)})
}

// hold is the spout's watermark hold (RD5): the least event time of its
// unacknowledged tuples, MaxTime when there are none. A record the
// receiver has not committed must not be overtaken by the watermark, or a
// retry after a crash would be late. The same scan of the pending tuples
// finds the GC bound the watermark message then carries (RD6): every
// watermark is computed (hold) before it is sent (broadcast), and an ack
// taken in between only makes the bound conservative.
func (m *millSpout) hold() dataflow.Time {
	h := dataflow.MaxTime
	if m.out.Len() == 0 {
		m.low = m.out.Low() // one past the largest sent: no scan
		return h
	}
	low := int64(math.MaxInt64)
	m.out.Each(func(id millwheel.ID, e *millwheel.Sent[dataflow.Time]) {
		h, low = min(h, e.Value), min(low, id.Seq)
	})
	m.low = low
	return h
}

// ackBox is a window task's mailbox of acknowledgements from the sink: the
// sink never blocks on it, so acks cannot close a cycle of full queues
// with the data the window task sends the sink (RD4). It holds at most one
// entry per delivery of a production.
type ackBox struct {
	mu   sync.Mutex
	seqs []int64 // guarded by mu
	wake chan checkpoint.ID
}

func (b *ackBox) post(seqs []int64) {
	b.mu.Lock()
	b.seqs = append(b.seqs, seqs...)
	b.mu.Unlock()
	wake(b.wake)
}

// take swaps the box's content with dst (emptied) and returns it.
func (b *ackBox) take(dst []int64) []int64 {
	b.mu.Lock()
	got := b.seqs
	b.seqs = dst[:0]
	b.mu.Unlock()
	return got
}

// millStore is a task's durable store: what a restart reloads (RD2). It is
// written only at a bundle's commit (and when an acknowledgement deletes a
// production), owned by the task's goroutine.
//
// A window task's operator state is a base snapshot and the log of the
// operator calls committed since (records added, watermarks advanced,
// processing-time firings, the end), so that a commit writes what its
// bundle did, as MillWheel writes the keys a bundle touched, not the
// whole state; once the log outgrows the snapshot (and 64 KiB) a commit
// writes a new snapshot and empties the log, so the store stays within
// twice the state and the bytes written within twice the log's. A restart
// restores the snapshot and replays the log with its panes dropped (they
// were committed as productions when first fired). The operator is
// deterministic, so the replay rebuilds the committed state exactly.
type millStore struct {
	state, spare []byte // the window operator's base snapshot; nil: the empty operator
	log          []byte // the operator calls committed since the base snapshot
	late         int    // committed length of the window task's late records
	rows         int    // the sink's committed rows (stateless pipelines)
	cat          *millwheel.Catalog
	out          *millwheel.Sender[*tuple] // committed productions not yet acknowledged
	seq          int64                     // the next production's sequence number
}

type millStats struct {
	retries, acks, acksDropped, commits, restarts, compactions int64
	stateBytes, idBytes, outBytes                              int64
}

// millBolt is a window task's or the sink's Dataflow protocol (RD1-RD7).
type millBolt struct {
	ackedLast bool // finish has counted this task out of mwRun.ackers
	r         *mwRun
	b         *taskBase
	w         *windowTask // nil for the sink
	s         *sinkTask   // nil for window tasks
	store     *millStore
	recv      *millwheel.Receiver
	wake      chan checkpoint.ID
	box       *ackBox   // window tasks: acks from the sink
	boxes     []*ackBox // the sink of a windowed pipeline: the window tasks' mailboxes
	up        []*edge   // acks to spouts by input channel (window tasks, a stateless sink)
	lows      []int64   // per input channel: the GC bound its sender reported (RD6)
	drop      *rand.Rand

	opLog    []byte         // the operator calls since the last commit (window tasks)
	acks     []millwheel.ID // the bundle's acks, sent after its commit
	boxSeqs  [][]int64      // the sink: acks per window task
	prod     []tuple        // the bundle's productions (window tasks), sent after its commit
	got      []int64        // reused by the ack mailbox
	dirty    bool           // the bundle changed the task's state
	scratch  []byte
	crashAt  int64
	recovery *metrics.Histogram
	stats    millStats
}

// idOf is the id of tp, which arrived on input channel ch.
func idOf(ch int, tp *tuple) millwheel.ID {
	if tp.Kind == msgData {
		return millwheel.ID{Producer: int32(ch), Seq: tp.Offset, Sub: int32(tp.Edge)}
	}
	return millwheel.ID{Producer: int32(ch), Seq: tp.Seq}
}

func (m *millBolt) start(context.Context, bolt) error { return nil }

// input deduplicates a record before the task handles it (RD1) and keeps
// its acknowledgement for after the bundle's commit; control messages pass
// through, a sender's GC bound noted (RD6).
func (m *millBolt) input(ctx context.Context, b bolt, ch int, tp *tuple) error {
	switch tp.Kind {
	case msgData, msgPane:
		id := idOf(ch, tp)
		m.acks = append(m.acks, id)
		if m.recv.Admit(id).Duplicate() {
			return nil
		}
		m.dirty = true
		if m.s != nil {
			m.scratch = dataflow.AppendRow(m.scratch[:0], tp.Row)
			m.stats.outBytes += int64(len(m.scratch))
		}
	case msgWatermark:
		m.lows[ch] = max(m.lows[ch], tp.Seq)
		m.dirty = m.dirty || m.w != nil
	}
	return b.handle(ctx, ch, tp)
}

// produce takes a window task's panes as the bundle's productions: they are
// committed before they are sent (strong productions, RD2).
func (m *millBolt) produce(panes []tuple) {
	if len(panes) > 0 {
		// A pane fired changes the operator's state (an early trigger fires
		// between bundles): the commit that holds it holds that state too.
		m.dirty = true
	}
	for i := range panes {
		n := len(m.prod)
		if n < cap(m.prod) {
			m.prod = m.prod[:n+1]
		} else {
			m.prod = append(m.prod, tuple{})
		}
		row := append(m.prod[n].Row[:0], panes[i].Row...)
		m.prod[n] = panes[i]
		m.prod[n].Row = row
	}
}

// endBatch commits the bundle, then acknowledges its records to their
// senders, then sends its productions (RD2).
func (m *millBolt) endBatch(ctx context.Context, _ bolt) error {
	if w := m.w; w != nil && w.after != nil {
		// The correction operator (RW4) is not part of the committed state:
		// fire it into this bundle's productions.
		if err := w.flushAfter(ctx); err != nil {
			return err
		}
	}
	if err := m.commit(); err != nil {
		return err
	}
	if err := m.sendAcks(ctx); err != nil {
		return err
	}
	if err := m.sendProductions(ctx); err != nil {
		return err
	}
	m.drainAcks()
	return m.retry(ctx, false)
}

// commit writes the bundle atomically to the task's store: the operator
// state and late records (window tasks) or the rows (a stateless sink), the
// consumed ids, the productions with their sequence numbers; then it
// collects the ids the senders reported done (RD6).
func (m *millBolt) commit() error {
	st := m.store
	ids := m.recv.Commit()
	if !m.dirty && ids == 0 && len(m.prod) == 0 && len(m.opLog) == 0 {
		return nil
	}
	m.stats.commits++
	m.stats.idBytes += int64(ids) * millwheel.IDBytes
	if w := m.w; w != nil {
		if len(m.opLog) > 0 {
			st.log = append(st.log, m.opLog...)
			m.stats.stateBytes += int64(len(m.opLog))
			m.opLog = m.opLog[:0]
			if len(st.log) > max(len(st.state), minCompaction) {
				buf, err := w.op.AppendSnapshot(st.spare[:0])
				if err != nil {
					return err
				}
				st.state, st.spare, st.log = buf, st.state, st.log[:0]
				m.stats.stateBytes += int64(len(buf))
				m.stats.compactions++
			}
		}
		st.late = len(w.late)
		now := m.r.t.now()
		for i := range m.prod {
			tp := &tuple{}
			*tp = m.prod[i]
			tp.Row = append(dataflow.Row(nil), m.prod[i].Row...)
			tp.Seq = st.seq
			st.seq++
			st.out.Put(millwheel.ID{Seq: tp.Seq}, tp, now)
			m.scratch = dataflow.AppendRow(m.scratch[:0], tp.Row)
			m.stats.outBytes += int64(len(m.scratch)) + 5*8 // window, times, index
		}
	}
	if s := m.s; s != nil && !s.windowed {
		st.rows = len(s.rows)
	}
	for ch, low := range m.lows {
		if low > 0 {
			st.cat.Collect(int32(ch), low)
		}
	}
	m.dirty = false
	return nil
}

// sendAcks acknowledges the bundle's records, a share lost with
// Faults.DropAcks. A sender that has ended sends nothing more, so its
// records in the bundle were duplicates of acknowledged ones: they need no
// ack (and its inbox is no longer read).
func (m *millBolt) sendAcks(ctx context.Context) error {
	if len(m.acks) == 0 {
		return nil
	}
	eos := m.sinkOrWindowEOS()
	p := m.r.t.cfg.Faults.DropAcks
	for _, id := range m.acks {
		ch := int(id.Producer)
		if eos[ch] {
			continue
		}
		m.stats.acks++
		if p > 0 && m.drop.Float64() < p {
			m.stats.acksDropped++
			continue
		}
		if m.boxes != nil {
			for len(m.boxSeqs) <= ch {
				m.boxSeqs = append(m.boxSeqs, nil)
			}
			m.boxSeqs[ch] = append(m.boxSeqs[ch], id.Seq)
			continue
		}
		e := m.up[ch]
		tp, err := e.slot(ctx)
		if err != nil {
			return err
		}
		tp.Kind, tp.Src, tp.Offset, tp.Edge = msgAckResult, int32(m.b.id), id.Seq, uint64(uint32(id.Sub))
		if err := e.commit(ctx); err != nil {
			return err
		}
	}
	m.acks = m.acks[:0]
	for ch, seqs := range m.boxSeqs {
		if len(seqs) > 0 {
			m.boxes[ch].post(seqs)
			m.boxSeqs[ch] = seqs[:0]
		}
	}
	for _, e := range m.up {
		if err := e.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (m *millBolt) sinkOrWindowEOS() []bool {
	if m.w != nil {
		return m.w.eos
	}
	return m.s.eos
}

// sendProductions sends the bundle's committed productions to the sink,
// then the task's GC bound (RD6).
func (m *millBolt) sendProductions(ctx context.Context) error {
	if m.w == nil || len(m.prod) == 0 {
		m.prod = m.prod[:0]
		return nil
	}
	st := m.store
	first := st.seq - int64(len(m.prod))
	for i := range m.prod {
		if err := m.w.out.put(ctx, st.out.Get(millwheel.ID{Seq: first + int64(i)}).Value); err != nil {
			return err
		}
	}
	m.prod = m.prod[:0]
	return m.sendLow(ctx)
}

// sendLow sends the window task's GC bound to the sink in band, behind
// every production sent before it (RD6): the earliest production not yet
// acknowledged.
func (m *millBolt) sendLow(ctx context.Context) error {
	st := m.store
	st.out.SetNext(st.seq)
	tp, err := m.w.out.slot(ctx)
	if err != nil {
		return err
	}
	tp.Kind, tp.Src, tp.Seq, tp.Time = msgWatermark, int32(m.b.id), st.out.Low(), m.w.op.Watermark()
	return m.w.out.flush(ctx)
}

// drainAcks applies the acknowledgements in the window task's mailbox.
func (m *millBolt) drainAcks() {
	if m.box == nil {
		return
	}
	m.got = m.box.take(m.got)
	for _, seq := range m.got {
		m.store.out.Ack(millwheel.ID{Seq: seq})
	}
}

// retry sends again the window task's productions whose last send is a
// retry timeout old (all of them with all set: a restart).
func (m *millBolt) retry(ctx context.Context, all bool) error {
	if m.w == nil || m.store.out.Len() == 0 {
		return nil
	}
	st := m.store
	now := m.r.t.now()
	var ids []millwheel.ID
	if all {
		st.out.Each(func(id millwheel.ID, _ *millwheel.Sent[*tuple]) { ids = append(ids, id) })
	} else {
		ids = st.out.Due(now)
	}
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		e := st.out.Get(id)
		if err := m.w.out.put(ctx, e.Value); err != nil {
			return err
		}
		e.SentAt = now
		m.stats.retries++
	}
	return m.sendLow(ctx)
}

func (m *millBolt) notices() <-chan checkpoint.ID { return m.wake }

// notice is a wake-up: acknowledgements in the mailbox, or a retry round.
func (m *millBolt) notice(ctx context.Context, _ checkpoint.ID) error {
	m.drainAcks()
	if err := m.retry(ctx, false); err != nil {
		return err
	}
	if m.w != nil && len(m.w.in.ch) == 0 {
		return m.w.out.flush(ctx)
	}
	return nil
}

// crash lets the task restart alone (RD2: no global rollback).
func (m *millBolt) crash() error {
	m.crashAt = m.r.t.now()
	return nil
}

// restart reloads the task's committed state after the task lost its
// memory (RD2): the operator and late records, or the sink's rows; the
// bundle in progress and the id cache are gone; every pending production is
// sent again.
func (m *millBolt) restart(ctx context.Context, _ bolt) error {
	m.stats.restarts++
	m.recv.Abort()
	m.acks, m.prod, m.dirty, m.opLog = m.acks[:0], m.prod[:0], false, m.opLog[:0]
	st := m.store
	if w := m.w; w != nil {
		if st.state != nil {
			if err := w.op.Restore(st.state); err != nil {
				return fmt.Errorf("recordstream: restore %s from its store: %w", w.name, err)
			}
		}
		if err := m.replay(); err != nil {
			return fmt.Errorf("recordstream: restore %s from its store: %w", w.name, err)
		}
		w.late = w.late[:st.late]
	}
	if s := m.s; s != nil && !s.windowed {
		s.rows = s.rows[:st.rows]
	}
	err := m.retry(ctx, true)
	m.recovery.RecordNanos(m.r.t.now() - m.crashAt)
	return err
}

// finish commits what the end of the input fired, sends it, and waits
// until the sink has acknowledged every production (RD3).
func (m *millBolt) finish(ctx context.Context, b bolt) error {
	if err := m.endBatch(ctx, b); err != nil {
		return err
	}
	if m.up != nil && !m.ackedLast {
		m.ackedLast = true
		if m.r.ackers.Add(-1) == 0 {
			close(m.r.acksDone) // the last acknowledgements to the spouts are sent
		}
	}
	if m.w == nil {
		return nil
	}
	if err := m.w.out.flush(ctx); err != nil {
		return err
	}
	for m.store.out.Len() > 0 {
		select {
		case <-m.wake:
			m.drainAcks()
			if err := m.retry(ctx, false); err != nil {
				return err
			}
			if err := m.w.out.flush(ctx); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// restart and unfinished are the exactly-once and Trident protocols' part
// of the slot's restart hooks: they restart the whole topology (RE2, TR3),
// never one task, and their spouts wait for nothing before they end.
func (p *gateProtocol) restart(context.Context, bolt) error { return nil }

func (p *barrierSpout) unfinished() bool { return false }

func (p *tridentBolt) restart(context.Context, bolt) error { return nil }

func (p *tridentSpout) unfinished() bool { return false }

// minCompaction is the least log a window task's store keeps before it
// writes a new base snapshot: below it a snapshot costs more than the log
// it saves.
const minCompaction = 64 << 10

// The operator calls a window task's store logs.
const (
	opAdd            = iota // a record: its row and ingest time
	opWatermark             // AdvanceWatermark(v)
	opProcessingTime        // OnProcessingTime(v)
	opFinish                // Finish
)

// logOp logs an operator call of the bundle in progress (a nil m: not the
// Dataflow mode). It is the commit's per-record cost: the row's encoding
// and a few varints.
func (m *millBolt) logOp(kind int, row dataflow.Row, v int64) {
	if m == nil {
		return
	}
	m.opLog = binary.AppendUvarint(m.opLog, uint64(kind))
	if kind == opAdd {
		m.opLog = dataflow.AppendRow(m.opLog, row)
	}
	if kind != opFinish {
		m.opLog = binary.AppendVarint(m.opLog, v)
	}
}

// replay applies the store's log to the restored operator and drops the
// panes it fires: they were committed as productions the first time.
func (m *millBolt) replay() error {
	w := m.w
	d := wire.NewDecoder(m.store.log)
	var row dataflow.Row
	for d.Len() > 0 && d.Err() == nil {
		switch d.Uvarint() {
		case opAdd:
			row = dataflow.DecodeRow(d, row[:0])
			w.op.Add(row, d.Varint())
		case opWatermark:
			w.op.AdvanceWatermark(dataflow.Time(d.Varint()))
		case opProcessingTime:
			w.op.OnProcessingTime(dataflow.Time(d.Varint()))
		case opFinish:
			w.op.Finish()
		default:
			d.Fail("unknown operator call")
		}
	}
	w.panes = w.panes[:0]
	return d.Err()
}
