package microbatch

import (
	"cmp"
	"math"
	"slices"

	"github.com/weirlab/weir/dataflow"
)

// wkey names one cell of keyed state: a window and a key.
type wkey struct {
	w   dataflow.Window
	key string
}

// output is one result leaving the state for the sink, with what latency
// needs; deleted says the sink must drop the window and key (an update
// that no longer passes Having).
type output struct {
	res     dataflow.Result
	maxEv   int64
	maxIng  int64
	deleted bool
	// keyRow is the cell's key column values, for a regroup (nil without
	// one).
	keyRow dataflow.Row
}

// taskOut is what one task hands to the driver.
type taskOut struct {
	// owner is the exec whose key ids keys and part's gid are (nil: ids
	// of this task only).
	owner    *aggExec
	part     *cellSet
	keys     []string
	late     []dataflow.RecordRef
	maxEvent int64
	records  int64
	out      []emitChunk // a stateless pipeline's results, a chunk per frame
	// keyRows[g] is key g's column values (a regroup's first stage only).
	keyRows []dataflow.Row
	// side holds the task's join side rows (a join pipeline's tasks only).
	side [2][]sideRow
}

// store is the driver's keyed state across batches (MK5): Structured
// Streaming's state store in event-time mode, mapWithState/updateStateByKey
// or the windowed DStream's remembered batches in DStream mode. It is owned
// by the commit path: one batch at a time, in batch order.
//
// Keys are held as small integer ids (keyID; a cell's gid column is its
// key's id), so that merging a task's cells costs no string hashing: a
// task's key ids are translated to the store's once per key and exec
// (xlate), and a window's cells are found by key id in a dense array
// ([winCells]). Windows leave the state whole, so evicting a window
// deletes no per-cell map entries.
type store struct {
	p *plan

	cells   *cellSet
	dead    []bool
	ndead   int
	lastUpd []int64 // batch time (ms) of each cell's last update
	touched []int32
	// outs is commit's result buffer, reused batch after batch: the
	// driver is done with a batch's outputs (the sink copies them) before
	// the next commit.
	outs []output
	mark []int64 // batch seq+1 that last touched the cell

	// keyID is the id of each key text; xlate[a][g] is the store's id of
	// key g of exec a (extended as the exec adds keys).
	keyID map[string]int32
	nkeys int32
	xlate map[*aggExec][]int32
	// wins holds the cells of each window (fixed, sliding and global
	// shapes); recent caches the last windows looked up.
	wins   map[dataflow.Window]*winCells
	recent [8]*winCells
	nrec   int
	// sess[g] is key g's live session cells (session shape).
	sess [][]int32

	wm       int64 // watermark applied in the current batch (ms)
	maxEvent int64

	// DStream windows over batches.
	batches   map[int64]*cellSet // batch time (ms) -> cells by key
	prevWin   *cellSet
	lastBatch int64
	zeroKeys  int64

	stateCalls int64

	// havingRow is the scratch row Having is evaluated on.
	havingRow dataflow.Row
	// extras is the unused part of the slab results' Extra values are cut
	// from, so that results do not each allocate theirs.
	extras []dataflow.Value

	// keyRows[c] is cell c's key column values (with a regroup only).
	keyRows []dataflow.Row
	// join is the stream-stream join's state (join pipelines only).
	join *joinState
}

// winCells is one window's cells: every cell made for it (dead ones
// included, in creation order, the order it emits them) and, by key id,
// the live cell of each key: dense[g] (-1: none) for ids the dense array
// covers, else sparse[g].
type winCells struct {
	w      dataflow.Window
	cells  []int32
	dense  []int32
	sparse map[int32]int32
}

// winDenseSlack bounds a window's dense array: it covers key ids up to
// max(winDenseMin, winDenseSlack times the window's cells), so that a
// window with few cells among many keys does not cost an array of every
// key; ids above it go to the window's map.
const (
	winDenseMin   = 4096
	winDenseSlack = 8
)

func (wc *winCells) get(g int32) int32 {
	if uint(g) < uint(len(wc.dense)) {
		return wc.dense[g]
	}
	if c, ok := wc.sparse[g]; ok {
		return c
	}
	return -1
}

func (wc *winCells) set(g, c int32) {
	if uint(g) < uint(len(wc.dense)) {
		wc.dense[g] = c
		return
	}
	if c < 0 {
		delete(wc.sparse, g)
		return
	}
	if limit := max(winDenseMin, winDenseSlack*len(wc.cells)); int(g) < limit {
		n := min(max(int(g)+1, 2*len(wc.dense), 64), limit)
		grown := make([]int32, n)
		copy(grown, wc.dense)
		for i := len(wc.dense); i < n; i++ {
			grown[i] = -1
		}
		// Ids the array now covers move out of the map.
		for k, v := range wc.sparse {
			if int(k) < n {
				grown[k] = v
				delete(wc.sparse, k)
			}
		}
		wc.dense = grown
		wc.dense[g] = c
		return
	}
	if wc.sparse == nil {
		wc.sparse = map[int32]int32{}
	}
	wc.sparse[g] = c
}

func newStore(p *plan) *store {
	s := &store{p: p, cells: newCellSet(p.specs), keyID: map[string]int32{}, xlate: map[*aggExec][]int32{},
		wins: map[dataflow.Window]*winCells{}, wm: math.MinInt64, maxEvent: math.MinInt64, batches: map[int64]*cellSet{}, lastBatch: math.MinInt64}
	if p.join != nil {
		s.join = newJoinState(p.join, p.cfg.Parallelism)
	}
	return s
}

// keyOf returns the store's id of key text k, adding it.
func (s *store) keyOf(k string) int32 {
	if g, ok := s.keyID[k]; ok {
		return g
	}
	g := s.nkeys
	s.nkeys++
	s.keyID[k] = g
	return g
}

// taskKeys returns the store's ids of t's keys, by t's key id: translated
// once per key and exec, as an exec's key ids never change.
func (s *store) taskKeys(t *taskOut) []int32 {
	var xl []int32
	if t.owner != nil {
		xl = s.xlate[t.owner]
	}
	for len(xl) < len(t.keys) {
		xl = append(xl, s.keyOf(t.keys[len(xl)]))
	}
	if t.owner != nil {
		s.xlate[t.owner] = xl
	}
	return xl
}

// window returns the cells of window w, adding them.
func (s *store) window(w dataflow.Window) *winCells {
	for i := range s.nrec {
		if wc := s.recent[i]; wc.w == w {
			return wc
		}
	}
	wc, ok := s.wins[w]
	if !ok {
		wc = &winCells{w: w}
		s.wins[w] = wc
	}
	if s.nrec < len(s.recent) {
		s.nrec++
	}
	copy(s.recent[1:s.nrec], s.recent[:s.nrec-1])
	s.recent[0] = wc
	return wc
}

// dropWindow removes window w's index (its cells are dead or dying).
func (s *store) dropWindow(w dataflow.Window) {
	delete(s.wins, w)
	s.nrec = 0
}

// addCell adds a cell of window w and key id g (text key); a cell of a
// fixed, sliding or global window is indexed in its window.
func (s *store) addCell(w dataflow.Window, g int32, key string) int32 {
	c := s.cells.add(w, g, key)
	s.dead = append(s.dead, false)
	s.lastUpd = append(s.lastUpd, 0)
	s.mark = append(s.mark, 0)
	if s.p.then != nil {
		s.keyRows = append(s.keyRows, nil)
	}
	if s.p.shape != shapeSession {
		wc := s.window(w)
		wc.cells = append(wc.cells, c)
		wc.set(g, c)
	}
	return c
}

// markDead retires cell c whose window's index is dropped or rebuilt.
func (s *store) markDead(c int32) {
	if s.dead[c] {
		return
	}
	s.dead[c] = true
	s.ndead++
}

// kill retires cell c and removes it from its window's index.
func (s *store) kill(c int32) {
	if s.dead[c] {
		return
	}
	s.markDead(c)
	if s.p.shape != shapeSession {
		if wc, ok := s.wins[s.cells.win[c]]; ok {
			wc.set(s.cells.gid[c], -1)
		}
	}
}

// live returns the number of live cells.
func (s *store) live() int { return s.cells.len() - s.ndead }

func (s *store) touch(c int32, seq int64) {
	if s.mark[c] != seq+1 {
		s.mark[c] = seq + 1
		s.touched = append(s.touched, c)
	}
}

// extra returns n values for a result's Extra, cut from a slab.
func (s *store) extra(n int) []dataflow.Value {
	if len(s.extras) < n {
		s.extras = make([]dataflow.Value, max(n, 256*n))
	}
	x := s.extras[:n:n]
	s.extras = s.extras[n:]
	return x
}

func (s *store) out(c int32) output {
	cs := s.cells
	res := dataflow.Result{Window: cs.win[c], Key: cs.key[c], Value: cs.value(0, c)}
	if len(cs.specs) > 1 {
		res.Extra = s.extra(len(cs.specs) - 1)
		for j := 1; j < len(cs.specs); j++ {
			res.Extra[j-1] = cs.value(j, c)
		}
	}
	o := output{res: res, maxEv: cs.maxEv[c], maxIng: cs.maxIng[c]}
	if s.keyRows != nil {
		o.keyRow = s.keyRows[c]
	}
	if h := s.p.having; h != nil {
		// The predicate reads the row and keeps nothing of it.
		row := append(append(s.havingRow[:0], dataflow.Str(res.Key), res.Value), res.Extra...)
		o.deleted = !h(row)
		s.havingRow = row
	}
	return o
}

// commit folds one batch's task outputs into the state and returns what
// the batch emits. tMs is the batch time; procWM the processing-time
// watermark after the batch (ms); final marks the end of the input.
func (s *store) commit(seq, tMs int64, tasks []*taskOut, procWM int64, final bool) []output {
	p := s.p
	s.touched = s.touched[:0]
	outs := s.outs[:0]
	defer func() { s.outs = outs[:0] }()
	switch p.shape {
	case shapeTimeWin, shapeGlobal:
		for _, t := range tasks {
			ids := s.taskKeys(t)
			part := t.part
			var wc *winCells
			for c := range int32(part.len()) {
				if wc == nil || wc.w != part.win[c] {
					wc = s.window(part.win[c])
				}
				tg := part.gid[c]
				g := ids[tg]
				d := wc.get(g)
				if d < 0 {
					d = s.addCell(wc.w, g, t.keys[tg])
				}
				s.cells.merge(d, part, c)
				if s.keyRows != nil && s.keyRows[d] == nil {
					s.keyRows[d] = t.keyRows[tg]
				}
				s.lastUpd[d] = tMs
				s.touch(d, seq)
			}
		}
	case shapeSession:
		for _, t := range tasks {
			ids := s.taskKeys(t)
			for c := range int32(t.part.len()) {
				tg := t.part.gid[c]
				s.mergeSession(ids[tg], t.keys[tg], t.part, c, seq)
			}
		}
	case shapeBatchWin:
		return s.commitBatchWindows(tMs, tasks, final)
	}
	for _, t := range tasks {
		s.maxEvent = max(s.maxEvent, t.maxEvent)
	}
	if p.cfg.Mode == ModeDStream {
		s.stateCalls += int64(len(s.touched))
		if p.cfg.StateOp == UpdateStateByKey {
			// updateStateByKey calls the function for every key in the state
			// and emits the whole state every batch.
			s.stateCalls += int64(s.live() - len(s.touched))
			outs = slices.Grow(outs, s.live())
			for c := range int32(s.cells.len()) {
				if !s.dead[c] {
					outs = append(outs, s.out(c))
				}
			}
		} else {
			outs = slices.Grow(outs, len(s.touched))
			for _, c := range s.touched {
				outs = append(outs, s.out(c))
			}
			if to := p.cfg.StateTimeout.Milliseconds(); to > 0 && seq%mapWithStateScanEvery == 0 {
				// Timeouts are only detected in checkpointed batches (2.6).
				for c := range int32(s.cells.len()) {
					if !s.dead[c] && s.lastUpd[c] < tMs-to {
						s.kill(c)
					}
				}
			}
		}
		s.compact()
		return outs
	}
	// Structured Streaming.
	if p.output == OutputUpdate {
		outs = slices.Grow(outs, len(s.touched))
		for _, c := range s.touched {
			outs = append(outs, s.out(c))
		}
	}
	if final {
		if p.output == OutputAppend {
			outs = slices.Grow(outs, s.live())
		}
		for c := range int32(s.cells.len()) {
			if !s.dead[c] {
				if p.output == OutputAppend {
					outs = s.appendFinal(outs, c)
				}
				s.markDead(c)
			}
		}
		clear(s.wins)
		s.nrec = 0
		clear(s.sess)
	} else if p.shape != shapeGlobal {
		outs = s.evict(outs)
	}
	// The watermark for the next batch (3): max event time minus the delay,
	// never decreasing. A join's watermark drives what follows it: the
	// driver sets it from the join's sides (MJ2).
	if p.join != nil {
	} else if p.timeIdx >= 0 {
		if s.maxEvent > math.MinInt64 {
			s.wm = max(s.wm, s.maxEvent-p.delayMs)
		}
	} else {
		s.wm = max(s.wm, procWM)
	}
	s.compact()
	return outs
}

// appendFinal appends cell c's output in Append mode, where it is the
// cell's only emission: a cell Having rejects was never shown, so it is
// left out (no pane, no emission, no latency sample), as Spark's filter
// after the aggregation drops the row, rather than sent as a deletion of
// nothing. (fraud: 5 M cells, 978 pass.)
func (s *store) appendFinal(outs []output, c int32) []output {
	o := s.out(c)
	if o.deleted {
		return outs
	}
	return append(outs, o)
}

// mapWithStateScanEvery is how often mapWithState scans for timeouts: in
// checkpointed batches, every 10 batches by default (2.6).
const mapWithStateScanEvery = 10

// evict finalises windows whose end is at or before the watermark applied
// in this batch: Append mode emits them; both modes drop their state. A
// window leaves whole: its index is dropped, not its cells' entries.
func (s *store) evict(outs []output) []output {
	if s.p.shape == shapeTimeWin {
		var ended []*winCells
		for _, wc := range s.wins {
			if int64(wc.w.End) <= s.wm {
				ended = append(ended, wc)
			}
		}
		slices.SortFunc(ended, func(a, b *winCells) int {
			return cmp.Or(cmp.Compare(a.w.End, b.w.End), cmp.Compare(a.w.Start, b.w.Start))
		})
		for _, wc := range ended {
			for _, c := range wc.cells {
				if s.dead[c] {
					continue
				}
				if s.p.output == OutputAppend {
					outs = s.appendFinal(outs, c)
				}
				s.markDead(c)
			}
			s.dropWindow(wc.w)
		}
		return outs
	}
	for g, live := range s.sess {
		if len(live) == 0 {
			continue
		}
		keep := live[:0]
		for _, c := range live {
			if int64(s.cells.win[c].End) <= s.wm {
				if s.p.output == OutputAppend {
					outs = s.appendFinal(outs, c)
				} else {
					outs = append(outs, s.out(c))
				}
				s.markDead(c)
				continue
			}
			keep = append(keep, c)
		}
		s.sess[g] = keep
	}
	return outs
}

// mergeSession folds a task's session (cell c of part) into the sessions
// of key id g (text key), merging every one that merges with it by
// [dataflow.MergeSession] (I3); the merged session spans all of them.
func (s *store) mergeSession(g int32, key string, part *cellSet, c int32, seq int64) {
	w := part.win[c]
	for int(g) >= len(s.sess) {
		s.sess = append(s.sess, nil)
	}
	live := s.sess[g]
	root := int32(-1)
	keep := live[:0]
	for _, d := range live {
		if _, ok := dataflow.MergeSession(s.cells.win[d], w); !ok {
			keep = append(keep, d)
			continue
		}
		if root < 0 {
			root = d
			keep = append(keep, d)
			continue
		}
		s.cells.merge(root, s.cells, d)
		s.cells.win[root] = s.cells.win[root].Span(s.cells.win[d])
		s.markDead(d)
	}
	if root < 0 {
		root = s.addCell(w, g, key)
		keep = append(keep, root)
	} else {
		s.cells.win[root] = s.cells.win[root].Span(w)
	}
	s.cells.merge(root, part, c)
	s.touch(root, seq)
	s.sess[g] = keep
}

// compact rebuilds the cells when more than half are dead.
func (s *store) compact() {
	if s.ndead < 1024 || s.ndead*2 < s.cells.len() {
		return
	}
	old, oldUpd, oldDead, oldRows := s.cells, s.lastUpd, s.dead, s.keyRows
	s.cells = newCellSet(s.p.specs)
	s.cells.reserve(old.len() - s.ndead)
	s.dead, s.lastUpd, s.mark, s.ndead, s.keyRows = nil, nil, nil, 0, nil
	clear(s.wins)
	s.nrec = 0
	remap := make([]int32, old.len())
	for c := range int32(old.len()) {
		if oldDead[c] {
			continue
		}
		d := s.addCell(old.win[c], old.gid[c], old.key[c])
		s.cells.merge(d, old, c)
		s.lastUpd[d] = oldUpd[c]
		if oldRows != nil {
			s.keyRows[d] = oldRows[c]
		}
		remap[c] = d
	}
	for _, live := range s.sess {
		for i, c := range live {
			live[i] = remap[c]
		}
	}
}

// commitBatchWindows runs DStream windows over batches (MD3): the batch's
// cells are remembered by batch time; at every window end t (align +
// k*slide) the window covering batches (t-length, t] is emitted, as
// reduceByKey -> window -> reduceByKey, or with InverseReduce as the
// previous window plus the entering batches minus the leaving ones
// (reduceByKeyAndWindow with an inverse, 2.5). At the end of the input the
// windows still holding batches are emitted as later (empty) batches would.
func (s *store) commitBatchWindows(tMs int64, tasks []*taskOut, final bool) []output {
	p := s.p
	b := p.cfg.BatchInterval.Milliseconds()
	cur := newCellSet(p.specs)
	idx := map[string]int32{}
	for _, t := range tasks {
		for c := range int32(t.part.len()) {
			k := t.keys[t.part.gid[c]]
			d, ok := idx[k]
			if !ok {
				d = cur.add(dataflow.Window{}, -1, k)
				idx[k] = d
			}
			cur.merge(d, t.part, c)
		}
	}
	if s.lastBatch == math.MinInt64 {
		s.lastBatch = tMs - b
	}
	var outs []output
	// Batches in between (none are skipped by the generator, but a restart
	// may resume later) are empty.
	for bt := s.lastBatch + b; bt <= tMs; bt += b {
		if bt == tMs && cur.len() > 0 {
			s.batches[bt] = cur
		}
		outs = s.windowAt(bt, outs)
	}
	s.lastBatch = tMs
	if final {
		for bt := tMs + b; bt < tMs+p.lenMs+p.slideMs; bt += b {
			outs = s.windowAt(bt, outs)
		}
		s.lastBatch = tMs + p.lenMs + p.slideMs
	}
	return outs
}

// windowAt emits the window ending at batch time t, if t is a window end.
func (s *store) windowAt(t int64, outs []output) []output {
	p := s.p
	if dataflow.FloorMod(t-p.alignMs, p.slideMs) != 0 {
		return outs
	}
	var win *cellSet
	if p.cfg.InverseReduce {
		win = s.prevWin
		if win == nil {
			win = newCellSet(p.specs)
		}
		idx := map[string]int32{}
		for c := range int32(win.len()) {
			idx[win.key[c]] = c
		}
		for bt, cs := range s.batches {
			entering := bt > t-p.slideMs && bt <= t
			leaving := bt > t-p.slideMs-p.lenMs && bt <= t-p.lenMs
			if !entering && !leaving {
				continue
			}
			for c := range int32(cs.len()) {
				d, ok := idx[cs.key[c]]
				if !ok {
					d = win.add(dataflow.Window{}, -1, cs.key[c])
					idx[cs.key[c]] = d
				}
				if entering {
					win.merge(d, cs, c)
				}
				if leaving {
					win.subtract(d, cs, c)
				}
			}
		}
		s.prevWin = win
	} else {
		win = newCellSet(p.specs)
		idx := map[string]int32{}
		for bt, cs := range s.batches {
			if bt <= t-p.lenMs || bt > t {
				continue
			}
			for c := range int32(cs.len()) {
				d, ok := idx[cs.key[c]]
				if !ok {
					d = win.add(dataflow.Window{}, -1, cs.key[c])
					idx[cs.key[c]] = d
				}
				win.merge(d, cs, c)
			}
		}
	}
	w := dataflow.Window{Start: dataflow.Time(t - p.lenMs), End: dataflow.Time(t)}
	var zero int64
	for c := range int32(win.len()) {
		if win.n[c] == 0 {
			// A key whose value returned to zero stays in the inverse
			// state (Spark keeps it unless a filter function drops it);
			// it has no records in this window, so it emits nothing.
			zero++
			continue
		}
		win.win[c] = w
		o := output{res: dataflow.Result{Window: w, Key: win.key[c], Value: win.value(0, c)}, maxEv: win.maxEv[c], maxIng: win.maxIng[c]}
		if len(p.specs) > 1 {
			o.res.Extra = make([]dataflow.Value, len(p.specs)-1)
			for j := 1; j < len(p.specs); j++ {
				o.res.Extra[j-1] = win.value(j, c)
			}
		}
		if h := p.having; h != nil {
			row := append(dataflow.Row{dataflow.Str(o.res.Key), o.res.Value}, o.res.Extra...)
			o.deleted = !h(row)
		}
		outs = append(outs, o)
	}
	s.zeroKeys = zero
	// Forget batches no later window needs (clearMetadata): the next
	// window covers (t+slide-length, t+slide]; with an inverse it also
	// subtracts the batches in (t-length, t+slide-length].
	keepAfter := t + p.slideMs - p.lenMs
	if p.cfg.InverseReduce {
		keepAfter = t - p.lenMs
	}
	for bt := range s.batches {
		if bt <= keepAfter {
			delete(s.batches, bt)
		}
	}
	return outs
}
