package recordstream

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/metrics"
	"github.com/weirlab/weir/recordstream/internal/trident"
)

// The Trident mode: Storm's exactly-once micro-batches over the
// record-at-a-time topology (models.md §1), built from the pure rules of
// recordstream/internal/trident.
//
//	runner (Run's goroutine)                 one incarnation of the topology
//	  durable store (outlives restarts):       coordinator goroutine (the MBC)
//	    batch metadata per txid                  start txid ──▶ every spout
//	    committed txid, offsets, max times       spouts emit [start, end) + watermark
//	    window tasks' state {txid, prev, curr}     + batch-end marker txid
//	    the sink's output per window and key     windows buffer per txid (TrackedBatch)
//	                                             all markers in ──▶ processed(txid)
//	                                           lowest processed txid: commit(txid)
//	                                             windows apply, store, re-emit ─▶ sink
//	                                             sink applies, commits the batch ─▶ committed
//	  a task crashes: cancel the incarnation, wait for every goroutine,
//	  restart; the coordinator replays from the first uncommitted txid (TR3).
//
// The files: this one has the configuration, the durable store, the
// restart loop and the report; trident_protocol.go the coordinator and the
// protocols that fill the tasks' protocol slot.
//
//   - TR1 Batch txid covers, per partition, the log offsets [start, end),
//     at most BatchSize of them, starting where txid-1 ended. A
//     transactional spout replays a txid's stored range exactly; an opaque
//     spout replays from the end of the last committed batch with a
//     different (seeded) size, so a replayed txid may hold other records.
//   - TR2 At most MaxBatchesPending batches are started and not committed;
//     a batch starts no sooner than EmitInterval after the previous one;
//     commits are strictly in txid order, one at a time.
//   - TR3 A crash of any task restarts the whole topology (a failed batch
//     fails every later batch in flight too, as Storm's MBC does); the
//     spouts resume at the end of the last committed batch.
//   - TR4 A bolt applies a batch's records to its state only at the
//     batch's commit, in txid order. A window task's state is one Trident
//     value per task (the operator's snapshot, its late records and the
//     batch's output) under the rules T1-T4 of internal/trident: a task
//     that already committed a replayed txid skips it and sends its stored
//     output again (transactional), or recomputes it from the value before
//     the batch (opaque).
//   - TR5 The sink's output is a Trident state per window and key (per
//     record for a stateless pipeline). The sink is the last committer: its
//     commit of txid and the coordinator's "committed up to txid" change
//     together, under one lock of the store, so a batch the sink committed
//     is never replayed.
//   - TR6 Watermarks travel inside batches: each spout sends its watermark
//     after a batch's records, the end-of-input watermark in the final
//     batch (the first cut when the log is closed and every partition is
//     read to its end). Records are late by the rule of the other modes
//     (RW2, judged at the commit), and the late list is part of the
//     task's state.

// TridentConfig configures the Trident mode ([Trident]). The zero value is
// valid.
type TridentConfig struct {
	// BatchSize is the most records a batch takes from each partition
	// (default 1000; Storm's Kafka Trident spout's max batch size per
	// partition). At most [MaxTridentBatchSize].
	BatchSize int
	// MaxBatchesPending is how many batches may be in flight, started and
	// not committed (default 1, Storm's: topology.max.spout.pending unset).
	// At most [MaxTridentPending].
	MaxBatchesPending int
	// EmitInterval is the least time between two batch starts (Storm's
	// topology.trident.batch.emit.interval.millis, 500 ms there; weir's
	// default is 5 ms, so that small runs and bench check stay fast; set
	// 500ms for Storm's). Negative: no wait. At most a minute.
	EmitInterval time.Duration
	// Opaque selects opaque transactional spouts and opaque state
	// (OpaqueMap: txid, previous and current value); false selects
	// transactional spouts and transactional state (TransactionalMap).
	Opaque bool
}

// Ranges of [TridentConfig] fields.
const (
	MaxTridentBatchSize  = 1 << 20
	MaxTridentPending    = 64
	MaxTridentEmitPeriod = time.Minute
)

// Validate reports a Trident configuration that cannot run, as a
// [*ConfigError] naming the field.
func (c *TridentConfig) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: "Trident." + field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case c.BatchSize < 0 || c.BatchSize > MaxTridentBatchSize:
		return bad("BatchSize", "a Trident batch takes 1 to %d records per partition, got %d (0: the default, 1000)", MaxTridentBatchSize, c.BatchSize)
	case c.MaxBatchesPending < 0 || c.MaxBatchesPending > MaxTridentPending:
		return bad("MaxBatchesPending", "1 to %d Trident batches may be in flight, got %d (0: the default, 1)", MaxTridentPending, c.MaxBatchesPending)
	case c.EmitInterval > MaxTridentEmitPeriod:
		return bad("EmitInterval", "the Trident emit interval must be at most %v, got %v (0: the default, 5ms; Storm's is 500ms)", MaxTridentEmitPeriod, c.EmitInterval)
	}
	return nil
}

func (c TridentConfig) withDefaults() TridentConfig {
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.MaxBatchesPending == 0 {
		c.MaxBatchesPending = 1
	}
	switch {
	case c.EmitInterval == 0:
		c.EmitInterval = 5 * time.Millisecond
	case c.EmitInterval < 0:
		c.EmitInterval = 0
	}
	return c
}

// batchMeta is the coordinator's durable metadata of one batch (TR1):
// per partition the offsets [start, end), and the largest event time the
// spout had emitted after it (so a restart resumes the watermark).
type batchMeta struct {
	start, end []int64
	maxT       []dataflow.Time
	final      bool // the batch carries the end-of-input watermark (TR6)
	attempts   int
}

// records is the number of records the batch covers.
func (m *batchMeta) records() int64 {
	var n int64
	for p := range m.start {
		n += m.end[p] - m.start[p]
	}
	return n
}

// windowValue is a window task's Trident value (TR4): the encoded
// operator state and late records, and the panes the batch sent.
type windowValue struct {
	state []byte
	out   []tuple
}

// tridentRunner carries what outlives one incarnation: the durable store
// (Storm's ZooKeeper metadata and the external state), the histograms and
// counters of the whole run.
type tridentRunner struct {
	p   *dataflow.Pipeline
	src Source
	cfg Config
	tc  TridentConfig

	// mu guards the store: the fields down to done. The coordinator, the
	// spouts, the window tasks and the sink of an incarnation use it.
	mu            sync.Mutex
	batches       map[uint64]*batchMeta // started and not committed
	committed     uint64                // the last committed txid (0: none)
	committedEnd  []int64               // per partition: where the next batch after committed starts
	committedMaxT []dataflow.Time
	done          bool // the final batch committed
	windows       *trident.Map[int, windowValue]
	final         *trident.Map[resKey, *sinkEntry]        // windowed sink: nil value = no entry
	rows          *trident.Map[recKey, []dataflow.Result] // stateless sink
	replayRNG     *rand.Rand                              // opaque replays' batch sizes

	restarter         // its counters are guarded by mu while an incarnation runs
	hw        []int64 // per partition: the highest offset ever read + 1
	latency   metrics.Latency
	panes     []dataflow.PaneEmission
	commit    *metrics.Histogram // commit notice to batch committed
	batch     *metrics.Histogram // batch start to committed
	seed      maphash.Seed
}

// runTrident runs p in the Trident mode, restarting the topology after
// every crash (TR3; at most CheckpointConfig.MaxRestarts times), and
// reports the whole run.
func runTrident(ctx context.Context, p *dataflow.Pipeline, src Source, cfg Config) (*Report, error) {
	if err := cfg.CheckpointConfig.Validate(); err != nil { // MaxRestarts
		return nil, err
	}
	c := cfg.withDefaults()
	cp := cfg.CheckpointConfig.withDefaults()
	kind := trident.Transactional
	if cfg.Trident.Opaque {
		kind = trident.Opaque
	}
	n := src.Partitions()
	r := &tridentRunner{p: p, src: src, cfg: c, tc: cfg.Trident.withDefaults(),
		batches: map[uint64]*batchMeta{}, committedEnd: make([]int64, n), committedMaxT: make([]dataflow.Time, n),
		windows: trident.NewMap[int, windowValue](kind), final: trident.NewMap[resKey, *sinkEntry](kind),
		rows: trident.NewMap[recKey, []dataflow.Result](kind), replayRNG: rand.New(rand.NewPCG(c.Seed, 0x7a1d)),
		hw: make([]int64, n), latency: metrics.NewLatency().Since(c.Clock.Now().UnixNano()),
		commit: metrics.NewHistogram(), batch: metrics.NewHistogram(),
		restarter: restarter{recovery: metrics.NewHistogram(), counters: map[string]int64{}}, seed: maphash.MakeSeed()}
	for i := range r.committedMaxT {
		r.committedMaxT[i] = dataflow.MinTime
	}
	inc, elapsed, err := restartLoop(ctx, &r.restarter, c, cp.MaxRestarts, r.newIncarnation)
	if err != nil {
		return nil, err
	}
	return r.report(inc, elapsed), nil
}

// beginBatch returns the metadata of batch txid, cut now from the log
// whose partitions end at ends (closed: for good) or, for a transactional
// replay, as stored (TR1). ok is false when there is nothing to cut: no
// new record and not the final batch.
func (r *tridentRunner) beginBatch(txid uint64, closed bool, ends []int64) (m *batchMeta, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.batches[txid]
	if old != nil && !r.tc.Opaque {
		old.attempts++
		r.counters["replayed_batches"]++
		return old, true
	}
	prev := r.committedEnd
	if pm := r.batches[txid-1]; pm != nil && txid-1 > r.committed {
		prev = pm.end
	}
	size := int64(r.tc.BatchSize)
	if old != nil {
		// An opaque replay: the same txid, from the same start, to another
		// end (TR1).
		size = 1 + r.replayRNG.Int64N(size)
	}
	m = &batchMeta{start: make([]int64, len(ends)), end: make([]int64, len(ends)), maxT: make([]dataflow.Time, len(ends)), final: closed}
	fresh := false
	for p, e := range ends {
		m.start[p] = prev[p]
		m.end[p] = min(prev[p]+size, e)
		m.maxT[p] = dataflow.MinTime
		fresh = fresh || m.end[p] > m.start[p]
		m.final = m.final && m.end[p] == e
	}
	if !fresh && !m.final {
		return nil, false
	}
	if old != nil {
		m.attempts = old.attempts + 1
		r.counters["replayed_batches"]++
	} else {
		m.attempts = 1
	}
	r.batches[txid] = m
	r.counters["max_batches_in_flight"] = max(r.counters["max_batches_in_flight"], int64(len(r.batches)))
	return m, true
}

// rangeOf returns partition p's offsets of started batch txid and whether it is the final batch.
func (r *tridentRunner) rangeOf(txid uint64, p int) (start, end int64, final bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.batches[txid]
	return m.start[p], m.end[p], m.final
}

// emitted records partition p's largest event time after batch txid.
func (r *tridentRunner) emitted(txid uint64, p int, maxT dataflow.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches[txid].maxT[p] = maxT
}

// commitLocked marks batch txid committed (TR5); r.mu is held.
func (r *tridentRunner) commitLocked(txid uint64) error {
	m := r.batches[txid]
	if m == nil || txid != r.committed+1 {
		return fmt.Errorf("recordstream: trident: commit of batch %d after batch %d", txid, r.committed)
	}
	r.committed = txid
	copy(r.committedEnd, m.end)
	copy(r.committedMaxT, m.maxT)
	r.done = m.final
	delete(r.batches, txid)
	r.counters["batches"]++
	r.counters["batch_records"] += m.records()
	return nil
}

// report builds the run's report from the store and the last incarnation.
func (r *tridentRunner) report(inc *tridentInc, elapsed time.Duration) *Report {
	t := inc.t
	rep := restartedReport(r.counters, r.latency, r.hw, t, elapsed)
	rep.Panes = r.panes
	if t.sink.windowed {
		r.final.All(func(_ resKey, v trident.Value[*sinkEntry]) {
			if v.Curr != nil {
				rep.Results = append(rep.Results, v.Curr.r)
			}
		})
	} else {
		r.rows.All(func(_ recKey, v trident.Value[[]dataflow.Result]) { rep.Results = append(rep.Results, v.Curr...) })
	}
	dataflow.SortResults(rep.Results)
	c := rep.Counters
	c["late"] = int64(len(rep.Late))
	rep.Emissions = c["emissions"]
	delete(c, "emissions")
	c["goodput"] = rep.Emissions - c["duplicates"]
	c["trident_batch_size"] = int64(r.tc.BatchSize)
	c["trident_pending"] = int64(r.tc.MaxBatchesPending)
	if n := c["batches"]; n > 0 {
		c["records_per_batch"] = c["batch_records"] / n
	}
	addPercentiles(c, "commit_latency", r.commit)
	addPercentiles(c, "batch_latency", r.batch)
	addPercentiles(c, "recovery", r.recovery)
	return rep
}
