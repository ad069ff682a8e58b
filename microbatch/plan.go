package microbatch

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/weirlab/weir/dataflow"
)

// shape is how the end of a pipeline runs in the chosen model.
type shape uint8

const (
	shapeEmit     shape = iota // stateless: one result per record
	shapeBatchWin              // DStream window(length, slide) over batches
	shapeTimeWin               // fixed/sliding windows over a time column (or ingest ms)
	shapeSession               // session windows
	shapeGlobal                // global and unwindowed aggregation: the zero window
)

// plan is a pipeline compiled for one run: schemas, the shape of its end
// and the model's choices. It is immutable once built and shared by every
// exec.
type plan struct {
	pipeline *dataflow.Pipeline
	input    dataflow.Schema
	schemas  []dataflow.Schema
	last     dataflow.Schema
	ids      *atomic.Int64
	cfg      *Config

	shape    shape
	agg      *dataflow.Aggregation
	specs    []aggSpec
	keyIdx   []int
	timeIdx  int // event-time column in last; -1: ingest time (processing time)
	win      dataflow.WindowFn
	delayMs  int64 // Structured Streaming watermark delay
	output   OutputMode
	having   func(dataflow.Row) bool
	emitKey  []int
	emitVal  int
	emitXtra []int

	// join is the pipeline's stream-stream join, nil without one; then its
	// regroup (Pipeline.Then), nil without one.
	join *joinPlan
	then *regroupPlan

	// lookups[i] is lookup step i's table, compiled once.
	lookups []*lookupIndex

	// used[i] says whether input column i is read at all (by name,
	// anywhere in the pipeline); unused columns are never bound.
	used []bool

	// DStream windows, in ms: length, slide and the alignment of window
	// ends (ends are align + k*slide).
	lenMs, slideMs, alignMs int64
}

func unsupported(m Mode, format string, args ...any) error {
	return &dataflow.UnsupportedError{Model: "microbatch (" + m.String() + ")", Reason: fmt.Sprintf(format, args...)}
}

// newPlan validates p and maps it onto the model of cfg.Mode.
func newPlan(p *dataflow.Pipeline, cfg *Config) (*plan, error) {
	schemas, err := p.Schemas()
	if err != nil {
		return nil, err
	}
	pl := &plan{pipeline: p, input: p.Input, schemas: schemas, last: schemas[len(schemas)-1], ids: new(atomic.Int64), cfg: cfg, timeIdx: -1}
	pl.used = usedColumns(p)
	if p.Join != nil {
		if cfg.Mode == ModeDStream {
			return nil, dstreamJoinRefusal(p.Join)
		}
		if pl.join, err = newJoinPlan(p, pl.ids); err != nil {
			return nil, err
		}
		pl.last = pl.join.schemas.Joined[len(pl.join.schemas.Joined)-1]
	}
	pl.lookups = make([]*lookupIndex, len(p.Steps))
	for i, st := range p.Steps {
		if st, ok := st.(dataflow.LookupStep); ok {
			if pl.lookups[i], err = newLookupIndex(st, schemas[i], pl.ids); err != nil {
				return nil, fmt.Errorf("microbatch: step %d (%v): %w", i, st, err)
			}
		}
	}
	if p.Agg == nil {
		pl.shape = shapeEmit
		for _, k := range p.Emit.Key {
			pl.emitKey = append(pl.emitKey, pl.last.Index(k))
		}
		pl.emitVal = pl.last.Index(p.Emit.Value)
		for _, k := range p.Emit.Extra {
			pl.emitXtra = append(pl.emitXtra, pl.last.Index(k))
		}
		return pl, nil
	}
	a := p.Agg
	pl.agg = a
	pl.win = a.Window
	for _, k := range a.Key {
		pl.keyIdx = append(pl.keyIdx, pl.last.Index(k))
	}
	for _, g := range a.Aggs {
		pl.specs = append(pl.specs, newAggSpec(g, pl.last))
	}
	if p.Then != nil {
		if m := cfg.Mode; m == ModeDStream {
			return nil, unsupported(m, "a second aggregation over each window's final results (Pipeline.Then) needs a watermark to know a window is complete; DStream state (mapWithState, updateStateByKey) emits updates per batch without one; use Structured Streaming (event-time mode)")
		}
		if cfg.OutputMode == OutputUpdate {
			return nil, unsupported(cfg.Mode, "a second aggregation over each window's final results (Pipeline.Then) reads the first aggregation in Append output mode (each window once, when the watermark passes its end); Update mode emits unfinished windows")
		}
		if pl.then, err = newRegroupPlan(a, p.Then, pl.last); err != nil {
			return nil, err
		}
	}
	if a.Having != nil {
		h, err := dataflow.CompilePredicate(a.Having, a.OutputSchemaFor(pl.last))
		if err != nil {
			return nil, err
		}
		pl.having = h
	}
	if a.Domain == dataflow.EventTime && a.Window.Kind != dataflow.WindowNone && a.Window.Kind != dataflow.WindowGlobal && a.Window.Kind != dataflow.WindowCount {
		pl.timeIdx = pl.last.Index(a.TimeCol)
	}
	pl.delayMs = dataflow.Millis(a.Watermark.MaxOutOfOrderness + a.AllowedLateness)
	m := cfg.Mode
	switch a.Window.Kind {
	case dataflow.WindowCount:
		if m == ModeDStream {
			return nil, unsupported(m, "count windows: a DStream window is a span of batch time (window(length, slide), multiples of the batch interval), so it cannot close after a number of elements")
		}
		return nil, unsupported(m, "count windows: Structured Streaming windows are spans of event time (window, session_window); nothing closes a window after a number of rows")
	case dataflow.WindowSession:
		if m == ModeDStream {
			return nil, unsupported(m, "session windows: DStream windows are fixed spans of batch time; a window whose end depends on a gap in the data cannot be expressed with window(length, slide)")
		}
		if len(a.Key) == 0 {
			return nil, unsupported(m, "session windows need at least one grouping column besides session_window in Structured Streaming")
		}
		if cfg.OutputMode == OutputUpdate {
			return nil, unsupported(m, "session windows do not support Update output mode in Structured Streaming; use Append")
		}
		pl.shape, pl.output = shapeSession, OutputAppend
	case dataflow.WindowNone, dataflow.WindowGlobal:
		if m == ModeEventTime && cfg.OutputMode == OutputAppend {
			return nil, unsupported(m, "Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark")
		}
		pl.shape, pl.output = shapeGlobal, OutputUpdate
	default: // fixed, sliding
		if m == ModeDStream && a.Domain == dataflow.ProcessingTime {
			if err := pl.batchWindows(a.Window, cfg); err != nil {
				return nil, err
			}
			pl.shape = shapeBatchWin
			break
		}
		pl.shape = shapeTimeWin
		pl.output = cfg.OutputMode
		if pl.output == OutputAuto {
			pl.output = OutputAppend
		}
	}
	if m == ModeDStream && pl.shape != shapeBatchWin {
		pl.output = OutputUpdate // mapWithState / updateStateByKey emit updated state
	}
	return pl, nil
}

// batchWindows maps the model's processing-time windows onto DStream
// windows (MD3): a window [s, s+size) over ingest time is the union of the
// batches whose times lie in (s, s+size], which is window(size, period) with
// window ends aligned at offset+size. Length, slide and offset must be
// multiples of the batch interval; otherwise the window is Spark's error.
func (pl *plan) batchWindows(w dataflow.WindowFn, cfg *Config) error {
	b := cfg.BatchInterval
	length, slide := time.Duration(w.Size)*time.Millisecond, time.Duration(w.Period)*time.Millisecond
	check := ValidateWindow
	if cfg.InverseReduce {
		check = ValidateReducedWindow
	}
	if err := check(length, slide, b); err != nil {
		return unsupported(ModeDStream, "%v", err)
	}
	if w.Offset%b.Milliseconds() != 0 {
		return unsupported(ModeDStream, "window offset %d ms is not a multiple of the batch interval (%s); DStream windows are unions of whole batches", w.Offset, sparkDuration(b))
	}
	if cfg.InverseReduce {
		for _, sp := range pl.specs {
			if !sp.invertible() {
				return unsupported(ModeDStream, "reduceByKeyAndWindow with an inverse function needs invertible aggregates (count, sum); %v has no inverse", sp.agg)
			}
		}
	}
	pl.lenMs, pl.slideMs = w.Size, w.Period
	pl.alignMs = dataflow.FloorMod(w.Offset+w.Size, w.Period)
	return nil
}

// aggExec is the per-task end of the pipeline: it turns the frame's live
// rows into partial aggregates (MK4), late records, or emitted results.
type aggExec struct {
	p    *plan
	part *cellSet

	// Key ids: keys[g] is key g's text. Ids persist across tasks of the
	// exec; only cells are per task.
	keys   []string
	byStr  map[string]int32
	byInt  map[int64]int32
	byCode dictMap[int32]
	// byDense[k] is the id of the small non-negative integer key k, or -1:
	// a dense table beats a map for ids below denseKeyLimit.
	byDense []int32
	// keyText[k] is the text of the emitted integer key k, or "" (a
	// stateless pipeline's single integer key column, [aggExec.emit]).
	keyText []string
	keyBuf  []byte
	gids    []int32
	rows    []int32
	cells   []int32
	winBuf  []dataflow.Window
	slotBuf []int
	times   []int64
	evt     []int64 // joined rows' contributing event times per frame row
	ingest  []int64

	// Window slots of this task: cellOf[s][g] is the cell of key g in
	// window wins[s], or -1.
	wins   []dataflow.Window
	cellOf [][]int32
	sess   [][]int32 // session shape: live session cells per key
	parent []int32   // session shape: union-find over cells
	rootOf []int32   // session shape: scratch of finishTask

	// Per task.
	// lateWM is the watermark late rows are judged at (ME2): the batch's
	// watermark in event-time mode for event-time fixed, sliding and
	// session windows, else math.MinInt64 (nothing is late).
	lateWM   int64
	late     []dataflow.RecordRef
	keyRows  []dataflow.Row // keyRows[g]: key g's column values (a regroup's first stage only)
	maxEvent int64
	records  int64
	out      []emitChunk
	slow     int64
}

// emitChunk is the stateless results of one frame with their ingest
// times (ingest[i] is res[i]'s) and, for joined rows, their largest
// contributing event times (event[i], ms; nil for log records, whose
// event-time latency is taken from their ingest time). A task's results
// are a list of chunks, each allocated once at its size, so a task of many
// rows never copies results to grow one slice; the sink keeps the chunks
// as they are.
type emitChunk struct {
	res    []dataflow.Result
	ingest []int64
	event  []int64
}

func (p *plan) newAggExec(c *compiler, s dataflow.Schema) (*aggExec, error) {
	a := &aggExec{p: p, byStr: map[string]int32{}, byInt: map[int64]int32{}}
	if p.shape != shapeEmit {
		a.part = newCellSet(p.specs)
	}
	return a, nil
}

// startTask resets the per-task state.
func (a *aggExec) startTask(wm int64) {
	if !a.p.watermarked() {
		wm = math.MinInt64
	}
	a.lateWM, a.late, a.maxEvent, a.records, a.out, a.slow = wm, nil, math.MinInt64, 0, nil, 0
	if a.part != nil {
		// The last task's cells go to the driver at its end; the next
		// task likely needs about as many.
		n := a.part.len()
		a.part = newCellSet(a.p.specs)
		a.part.reserve(n)
	}
	a.wins = a.wins[:0]
	for i := range a.sess {
		a.sess[i] = a.sess[i][:0]
	}
	a.parent = a.parent[:0]
}

// gid returns the id of key text k, adding it.
func (a *aggExec) gidOf(k string) int32 {
	if g, ok := a.byStr[k]; ok {
		return g
	}
	k = strings.Clone(k)
	g := int32(len(a.keys))
	a.keys = append(a.keys, k)
	a.byStr[k] = g
	return g
}

// computeGids fills a.gids[r] for the live rows: a dictionary key column
// costs one array read per row (MK2), an integer key a map lookup, anything
// else the key's text in a map.
func (a *aggExec) computeGids(x *exec) {
	g := grow(&a.gids, x.n)
	switch {
	case len(a.p.keyIdx) == 0:
		if len(a.keys) == 0 {
			a.gidOf("")
		}
		for _, r := range x.sel {
			g[r] = 0
		}
	case len(a.p.keyIdx) == 1 && x.cols[a.p.keyIdx[0]].codes != nil:
		v := &x.cols[a.p.keyIdx[0]]
		m := a.byCode.of(v.dict, a.gidOf)
		for _, r := range x.sel {
			g[r] = m[v.codes[r]]
		}
	case len(a.p.keyIdx) == 1 && (v0(x, a.p.keyIdx[0]).kind == dataflow.KindInt64 || v0(x, a.p.keyIdx[0]).kind == dataflow.KindTimestamp) && !v0(x, a.p.keyIdx[0]).isConst:
		v := &x.cols[a.p.keyIdx[0]]
		for _, r := range x.sel {
			k := v.i64[r]
			if uint64(k) < uint64(len(a.byDense)) {
				if id := a.byDense[k]; id >= 0 {
					g[r] = id
					continue
				}
			}
			g[r] = a.intGid(v, r)
		}
	default:
		for _, r := range x.sel {
			b := a.keyBuf[:0]
			for i, c := range a.p.keyIdx {
				if i > 0 {
					b = append(b, dataflow.KeySep)
				}
				b = appendVecText(b, &x.cols[c], r)
			}
			a.keyBuf = b
			id, ok := a.byStr[string(b)]
			if !ok {
				id = a.gidOf(string(b))
			}
			g[r] = id
		}
	}
}

func v0(x *exec, i int) *vec { return &x.cols[i] }

// recordKeyRows keeps the key column values of every key id first seen in
// the frame (a regroup reads its first stage's key columns, MJ5).
func (a *aggExec) recordKeyRows(x *exec) {
	for _, r := range x.sel {
		g := a.gids[r]
		for int(g) >= len(a.keyRows) {
			a.keyRows = append(a.keyRows, nil)
		}
		if a.keyRows[g] != nil {
			continue
		}
		row := make(dataflow.Row, len(a.p.keyIdx))
		for i, c := range a.p.keyIdx {
			row[i] = cloneValue(x.cols[c].value(r))
		}
		a.keyRows[g] = row
	}
}

// intKey returns the values of the single integer key column, if that is
// the key, for the key ids of [aggExec.intGid].
func (a *aggExec) intKey(x *exec) []int64 {
	if len(a.p.keyIdx) != 1 {
		return nil
	}
	v := &x.cols[a.p.keyIdx[0]]
	if v.isConst || (v.kind != dataflow.KindInt64 && v.kind != dataflow.KindTimestamp) {
		return nil
	}
	return v.i64
}

// intGid returns the id of the integer key v[r], adding it: the slow path
// of a key not yet in byDense.
func (a *aggExec) intGid(v *vec, r int32) int32 {
	k := v.i64[r]
	id, ok := a.byInt[k]
	if !ok {
		a.keyBuf = appendVecText(a.keyBuf[:0], v, r)
		id = a.gidOf(string(a.keyBuf))
		a.byInt[k] = id
	}
	if k >= 0 && k < denseKeyLimit {
		for int(k) >= len(a.byDense) {
			a.byDense = append(a.byDense, -1)
		}
		a.byDense[k] = id
	}
	return id
}

// denseKeyLimit bounds the integer keys (and lookup keys) held in dense
// tables: 1<<20 int32s is 4 MiB per exec.
const denseKeyLimit = 1 << 20

// timeOf returns row r's window time in ms: the event-time column, or the
// ingest time for processing time (I7).
func (a *aggExec) timeOf(x *exec, r int32) int64 {
	if a.p.timeIdx >= 0 {
		return x.cols[a.p.timeIdx].int(r)
	}
	return dataflow.FloorDiv(x.ingest[x.baseRow(r)], 1e6)
}

// cellFor returns the cell of key g in window w, adding it.
func (a *aggExec) cellFor(slot int, g int32) int32 {
	m := a.cellOf[slot]
	if int(g) >= len(m) {
		n := max(int(g)+1, 2*len(m), 64)
		grown := make([]int32, n)
		copy(grown, m)
		for i := len(m); i < n; i++ {
			grown[i] = -1
		}
		a.cellOf[slot], m = grown, grown
	}
	c := m[g]
	if c < 0 {
		c = a.part.add(a.wins[slot], g, "")
		m[g] = c
	}
	return c
}

func (a *aggExec) slotOf(w dataflow.Window) int {
	for i := len(a.wins) - 1; i >= 0; i-- {
		if a.wins[i] == w {
			return i
		}
	}
	a.wins = append(a.wins, w)
	if len(a.cellOf) < len(a.wins) {
		a.cellOf = append(a.cellOf, nil)
	}
	m := a.cellOf[len(a.wins)-1]
	for i := range m {
		m[i] = -1
	}
	return len(a.wins) - 1
}

// consume takes the live rows of the frame of one record batch of
// partition part whose first row has offset base.
func (a *aggExec) consume(x *exec, part int, base int64) {
	p := a.p
	if p.shape == shapeEmit {
		a.emit(x)
		return
	}
	// Spark's late-row rule (ME2): a row is dropped from each of its
	// windows whose end is <= the watermark, and its record reported once.
	if a.lateWM > math.MinInt64 {
		a.dropLate(x, part, base)
	}
	if len(x.sel) == 0 {
		return
	}
	a.records += int64(len(x.sel))
	if p.cfg.Slow > 0 {
		a.slow += int64(len(x.sel))
	}
	// Joined rows (x.event set) take the general path: their cells' latest
	// event times are their side rows', not the join_time that windows them.
	fixed := p.shape == shapeTimeWin && p.win.Kind == dataflow.WindowFixed && p.timeIdx >= 0 && !x.cols[p.timeIdx].isConst && x.event == nil
	var keyInts []int64
	if fixed && p.then == nil {
		keyInts = a.intKey(x)
	}
	if keyInts == nil {
		a.computeGids(x)
	}
	if p.then != nil {
		a.recordKeyRows(x)
	}
	// Ingest time per frame row.
	ingest := x.ingest
	if x.origin != nil {
		ingest = grow(&a.ingest, x.n)
		for _, r := range x.sel {
			ingest[r] = x.ingest[x.origin[r]]
		}
	}
	rows, cells := a.rows[:0], a.cells[:0]
	counted := false // the cells' counts and latest times are done
	switch p.shape {
	case shapeBatchWin, shapeGlobal:
		slot := a.slotOf(dataflow.Window{})
		for _, r := range x.sel {
			rows = append(rows, r)
			cells = append(cells, a.cellFor(slot, a.gids[r]))
		}
	case shapeTimeWin:
		w := p.win
		if fixed {
			a.fixedWindows(x, keyInts, ingest)
			rows, cells, counted = x.sel, a.cells, true
		} else if p.slidingFast() && !x.cols[p.timeIdx].isConst {
			rows, cells = a.slidingWindows(x, ingest)
			counted = true
		} else if w.Kind == dataflow.WindowFixed {
			lastStart, slot := int64(math.MinInt64), 0
			for _, r := range x.sel {
				t := a.timeOf(x, r)
				s := t - dataflow.FloorMod(t-w.Offset, w.Size)
				if s != lastStart {
					lastStart = s
					slot = a.slotOf(dataflow.Window{Start: dataflow.Time(s), End: dataflow.Time(s + w.Size)})
				}
				rows = append(rows, r)
				cells = append(cells, a.cellFor(slot, a.gids[r]))
			}
		} else {
			for _, r := range x.sel {
				a.winBuf = w.Assign(a.winBuf[:0], dataflow.Time(a.timeOf(x, r)))
				for _, win := range a.winBuf {
					if int64(win.End) <= a.lateWM {
						continue // late for this window only (ME2)
					}
					rows = append(rows, r)
					cells = append(cells, a.cellFor(a.slotOf(win), a.gids[r]))
				}
			}
		}
	case shapeSession:
		for _, r := range x.sel {
			t := a.timeOf(x, r)
			rows = append(rows, r)
			cells = append(cells, a.sessionCell(a.gids[r], dataflow.Window{Start: dataflow.Time(t), End: dataflow.Time(t + p.win.Gap)}))
		}
		for k, c := range cells {
			cells[k] = a.find(c)
		}
	}
	// Times per frame row: the event-time column, or ingest ms.
	var times []int64
	if p.timeIdx >= 0 && !x.cols[p.timeIdx].isConst {
		times = x.cols[p.timeIdx].i64
	} else {
		times = grow(&a.times, x.n)
		for _, r := range x.sel {
			times[r] = a.timeOf(x, r)
		}
	}
	if !counted {
		m := a.maxEvent
		for _, r := range x.sel {
			m = max(m, times[r])
		}
		a.maxEvent = m
	}
	// The cells' latest event times, for latency: a joined row's largest
	// contributing event time (its side rows'), else its window time. The
	// task's maxEvent above stays the window time.
	evt := times
	if x.event != nil {
		evt = grow(&a.evt, x.n)
		for _, r := range x.sel {
			evt[r] = x.event[x.baseRow(r)]
		}
	}
	a.part.update(rows, cells, x.cols, evt, ingest, counted)
	if len(rows) == 0 || &rows[0] != &x.sel[0] {
		a.rows = rows
	}
	a.cells = cells
}

// watermarked reports whether the run drops late rows by a watermark:
// Structured Streaming's event-time fixed, sliding and session windows.
func (p *plan) watermarked() bool {
	return p.cfg.Mode == ModeEventTime && p.timeIdx >= 0 && (p.shape == shapeTimeWin || p.shape == shapeSession)
}

// lateByWatermark reports whether the run drops rows as late by a
// watermark: [plan.watermarked], or a windowed join's side rows (MJ3).
func (p *plan) lateByWatermark() bool {
	return p.watermarked() || (p.join != nil && p.join.j.Windowed())
}

// dropLate applies Spark's late-row rule (ME2, models.md 3.2) to the live
// rows of the frame: a row of a fixed or sliding window is dropped from each
// of its windows whose end is <= the watermark and kept in the others (the
// sliding-window loop of consume skips the dropped ones); a session row is
// dropped when t + gap <= the watermark. The record of a row dropped from
// at least one window is reported once. Rows with event time above the
// watermark lose no window (every window ends after its rows' times), so
// the per-row work is one comparison except for the few rows at or below
// the watermark. The dropped rows still count towards the batch's maximum
// event time (ME1): Spark's EventTimeWatermarkExec sees every row reaching
// the aggregation before the late filter.
func (a *aggExec) dropLate(x *exec, part int, base int64) {
	p := a.p
	wm := a.lateWM
	tv := &x.cols[p.timeIdx]
	sel := x.selOut()
	last := int32(-1)
	for _, r := range x.sel {
		t := tv.int(r)
		if t > wm {
			sel = append(sel, r)
			continue
		}
		a.maxEvent = max(a.maxEvent, t)
		all, some := a.lateWindows(t)
		if some {
			if b := x.baseRow(r); b != last {
				a.late = append(a.late, dataflow.RecordRef{Partition: part, Offset: base + int64(b)})
				last = b
			}
		}
		if !all {
			sel = append(sel, r)
		}
	}
	if len(sel) != len(x.sel) {
		x.selAll = false
	}
	x.sel = sel
}

// lateWindows says whether a row at event time t is dropped from all of
// its windows and from some of them under the watermark lateWM (ME2).
func (a *aggExec) lateWindows(t int64) (all, some bool) {
	w, wm := a.p.win, a.lateWM
	switch w.Kind {
	case dataflow.WindowSession:
		late := t+w.Gap <= wm
		return late, late
	case dataflow.WindowFixed:
		late := t-dataflow.FloorMod(t-w.Offset, w.Size)+w.Size <= wm
		return late, late
	}
	a.winBuf = w.Assign(a.winBuf[:0], dataflow.Time(t))
	all = true
	for _, win := range a.winBuf {
		if int64(win.End) <= wm {
			some = true
		} else {
			all = false
		}
	}
	return all, some
}

// fixedWindows is the hot loop of fixed event-time windows (MK4): it puts
// the cell of each live row in a.cells, and counts the row and its latest
// times into the cell. The current window is cached, so the window
// assignment (a division) and the slot search run once per change of
// window, not per row; event times are nearly sorted, so that is rare.
// With keyInts (a single integer key) the key ids are found here, else
// they are in a.gids.
func (a *aggExec) fixedWindows(x *exec, keyInts []int64, ingest []int64) {
	w := a.p.win
	tv := x.cols[a.p.timeIdx].i64
	gids := a.gids
	byDense := a.byDense
	cells := grow(&a.cells, len(x.sel))
	part := a.part
	cn, cev, cig := part.n, part.maxEv, part.maxIng
	maxEv := a.maxEvent
	lo, hi := int64(1), int64(0)
	var m []int32
	slot := 0
	for k, r := range x.sel {
		t := tv[r]
		if t < lo || t >= hi {
			lo = t - dataflow.FloorMod(t-w.Offset, w.Size)
			hi = lo + w.Size
			slot = a.slotOf(dataflow.Window{Start: dataflow.Time(lo), End: dataflow.Time(hi)})
			m = a.cellOf[slot]
		}
		var g int32
		if keyInts != nil {
			g = -1
			if k := keyInts[r]; uint64(k) < uint64(len(byDense)) {
				g = byDense[k]
			}
			if g < 0 {
				g = a.intGid(&x.cols[a.p.keyIdx[0]], r)
				byDense = a.byDense
			}
		} else {
			g = gids[r]
		}
		c := int32(-1)
		if uint(g) < uint(len(m)) {
			c = m[g]
		}
		if c < 0 {
			c = a.cellFor(slot, g)
			m = a.cellOf[slot]
			cn, cev, cig = part.n, part.maxEv, part.maxIng
		}
		cells[k] = c
		cn[c]++
		cev[c] = max(cev[c], t)
		cig[c] = max(cig[c], ingest[r])
		maxEv = max(maxEv, t)
	}
	a.maxEvent = maxEv
}

// maxSlidingFast bounds the windows per row of the sliding-window hot loop.
const maxSlidingFast = 64

// slidingFast reports whether sliding windows take the hot loop of
// [aggExec.slidingWindows]: event-time sliding windows whose size is a
// multiple of the period (so every row has the same number of windows) and
// at most maxSlidingFast of them.
func (p *plan) slidingFast() bool {
	w := p.win
	return p.shape == shapeTimeWin && w.Kind == dataflow.WindowSliding && p.timeIdx >= 0 &&
		w.Period > 0 && w.Size%w.Period == 0 && w.Size/w.Period <= maxSlidingFast
}

// slidingWindows is the hot loop of sliding event-time windows (MK4): it
// counts each live row and its latest times into the cell of each of its
// windows and returns the (row, cell) pairs for the aggregates' update
// (none when every aggregate is a count). The windows of the current
// period are cached, so the window assignment and the slot searches run
// once per change of period, not per row; event times are nearly sorted,
// so that is rare. A row's window is skipped when its end is at or before
// the late watermark (ME2); only rows at or below it can have one.
func (a *aggExec) slidingWindows(x *exec, ingest []int64) (rows, cells []int32) {
	w := a.p.win
	nw := int(w.Size / w.Period)
	tv := x.cols[a.p.timeIdx].i64
	gids := a.gids
	part := a.part
	needPairs := false
	for _, sp := range a.p.specs {
		needPairs = needPairs || sp.mode != modeCount
	}
	rows, cells = a.rows[:0], a.cells[:0]
	slots := grow(&a.slotBuf, nw)
	cn, cev, cig := part.n, part.maxEv, part.maxIng
	maxEv, lateWM := a.maxEvent, a.lateWM
	lo, hi := int64(1), int64(0)
	for _, r := range x.sel {
		t := tv[r]
		if t < lo || t >= hi {
			lo = t - dataflow.FloorMod(t-w.Offset, w.Period)
			hi = lo + w.Period
			for j := range slots {
				s := lo - int64(j)*w.Period
				slots[j] = a.slotOf(dataflow.Window{Start: dataflow.Time(s), End: dataflow.Time(s + w.Size)})
			}
		}
		maxEv = max(maxEv, t)
		g := gids[r]
		ig := ingest[r]
		for j, slot := range slots {
			if t <= lateWM && lo-int64(j)*w.Period+w.Size <= lateWM {
				continue // late for this window only (ME2)
			}
			m := a.cellOf[slot]
			c := int32(-1)
			if uint(g) < uint(len(m)) {
				c = m[g]
			}
			if c < 0 {
				c = a.cellFor(slot, g)
				cn, cev, cig = part.n, part.maxEv, part.maxIng
			}
			cn[c]++
			cev[c] = max(cev[c], t)
			cig[c] = max(cig[c], ig)
			if needPairs {
				rows = append(rows, r)
				cells = append(cells, c)
			}
		}
	}
	a.maxEvent = maxEv
	return rows, cells
}

// sessionCell assigns a proto-session to the task's sessions of key g,
// merging the sessions it overlaps (I3) by union-find; the rows' cells are
// resolved to the surviving root after assignment, so no state moves.
//
// A key's sessions (a.sess[g]) are disjoint and sorted by start. So a row
// starting inside the latest session, the common case of a key's rows in
// time order, extends that session's end only, which reaches no other
// session: it costs one comparison, not a scan.
func (a *aggExec) sessionCell(g int32, w dataflow.Window) int32 {
	for int(g) >= len(a.sess) {
		a.sess = append(a.sess, nil)
	}
	live := a.sess[g]
	if n := len(live); n > 0 {
		c := live[n-1]
		if cw := &a.part.win[c]; w.Start >= cw.Start && w.Start < cw.End {
			cw.End = max(cw.End, w.End)
			return c
		}
	}
	root := int32(-1)
	keep := live[:0]
	for _, c := range live {
		cw := a.part.win[c]
		if root < 0 {
			if m, ok := dataflow.MergeSession(cw, w); ok {
				root = c
				a.part.win[c] = m
				keep = append(keep, c)
				continue
			}
		} else if m, ok := dataflow.MergeSession(a.part.win[root], cw); ok {
			// The root's window covers w: merging with it covers merging
			// with w.
			a.part.win[root] = m
			a.parent[c] = root
			continue
		}
		keep = append(keep, c)
	}
	if root < 0 {
		root = a.part.add(w, g, "")
		a.parent = append(a.parent, root)
		keep = append(keep, root)
	}
	a.sess[g] = keep
	// A merge may make the root overlap sessions kept before it was found.
	if len(keep) > 1 {
		w := a.part.win[root]
		k2 := keep[:0]
		for _, c := range keep {
			if c != root {
				if m, ok := dataflow.MergeSession(w, a.part.win[c]); ok {
					w = m
					a.parent[c] = root
					continue
				}
			}
			k2 = append(k2, c)
		}
		a.part.win[root] = w
		a.sess[g] = k2
	}
	// Keep the sessions sorted by start (insertion sort: the list is short
	// and was sorted but for the root).
	ks := a.sess[g]
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && a.part.win[ks[j]].Start < a.part.win[ks[j-1]].Start; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return root
}

func (a *aggExec) find(c int32) int32 {
	for a.parent[c] != c {
		a.parent[c] = a.parent[a.parent[c]]
		c = a.parent[c]
	}
	return c
}

// emit renders the live rows of a stateless pipeline as results. Per row
// it allocates nothing but the key text of a key not seen before: a single
// integer key column's texts are kept per key (keyText), dictionary
// strings are already owned copies (MK2) and are not cloned again, and the
// extras of a frame's rows share one allocation, as do its results
// ([emitChunk]).
func (a *aggExec) emit(x *exec) {
	p := a.p
	if len(x.sel) == 0 {
		return // a frame with no live rows may not bind every column
	}
	ch := emitChunk{res: make([]dataflow.Result, len(x.sel)), ingest: make([]int64, len(x.sel))}
	if x.event != nil {
		ch.event = make([]int64, len(x.sel))
	}
	var xs []dataflow.Value
	nx := len(p.emitXtra)
	if nx > 0 {
		xs = make([]dataflow.Value, len(x.sel)*nx)
	}
	var ik, dk *vec
	if len(p.emitKey) == 1 {
		switch v := &x.cols[p.emitKey[0]]; {
		case v.isConst:
		case v.kind == dataflow.KindInt64 || v.kind == dataflow.KindTimestamp:
			ik = v
		case v.codes != nil:
			dk = v // the dictionary cache's strings are owned (MK2)
		}
	}
	val := &x.cols[p.emitVal]
	for i, r := range x.sel {
		var key string
		switch {
		case ik != nil:
			key = a.intKeyText(ik, r)
		case dk != nil:
			key = dk.dict.vals[dk.codes[r]]
		default:
			b := a.keyBuf[:0]
			for i, c := range p.emitKey {
				if i > 0 {
					b = append(b, dataflow.KeySep)
				}
				b = appendVecText(b, &x.cols[c], r)
			}
			a.keyBuf = b
			key = string(b)
		}
		res := &ch.res[i]
		res.Key, res.Value = key, ownedValue(val, r)
		if nx > 0 {
			res.Extra = xs[i*nx : (i+1)*nx : (i+1)*nx]
			for j, c := range p.emitXtra {
				res.Extra[j] = ownedValue(&x.cols[c], r)
			}
		}
		ch.ingest[i] = x.ingest[x.baseRow(r)]
		if ch.event != nil {
			ch.event[i] = x.event[x.baseRow(r)]
		}
	}
	a.out = append(a.out, ch)
	a.records += int64(len(x.sel))
}

// intKeyText returns the text of integer key v[r], kept per key for keys
// below denseKeyLimit (the exec's keyText; texts never change), rendered
// afresh above it.
func (a *aggExec) intKeyText(v *vec, r int32) string {
	k := v.i64[r]
	if uint64(k) < uint64(len(a.keyText)) {
		if s := a.keyText[k]; s != "" {
			return s
		}
	}
	s := strconv.FormatInt(k, 10)
	if k >= 0 && k < denseKeyLimit {
		if int(k) >= len(a.keyText) {
			grown := make([]string, min(max(int(k)+1, 2*len(a.keyText), 64), denseKeyLimit))
			copy(grown, a.keyText)
			a.keyText = grown
		}
		a.keyText[k] = s
	}
	return s
}

// ownedValue is v's row r as a value that outlives the record batch: a
// string of a plain Arrow string column (or a kernel's view of one) is
// cloned; dictionary strings are the dictionary cache's own copies (MK2)
// and constants the pipeline's.
func ownedValue(v *vec, r int32) dataflow.Value {
	if v.kind == dataflow.KindString && !v.isConst && v.codes == nil {
		return dataflow.Value{K: dataflow.KindString, S: strings.Clone(v.strs[r])}
	}
	return v.value(r)
}

func cloneValue(v dataflow.Value) dataflow.Value {
	if v.K == dataflow.KindString {
		v.S = strings.Clone(v.S)
	}
	return v
}

// keysSnapshot returns the key table for the driver: valid indexes never
// change, so the slice may be read while the exec appends.
func (a *aggExec) keysSnapshot() []string { return slices.Clip(a.keys) }

// usedColumns marks the input columns whose names the pipeline mentions.
func usedColumns(p *dataflow.Pipeline) []bool {
	var names []string
	for _, st := range p.Steps {
		switch st := st.(type) {
		case dataflow.FilterStep:
			names = dataflow.Columns(names, st.Pred)
		case dataflow.MapStep:
			names = dataflow.Columns(names, st.Expr)
		case dataflow.ProjectStep:
			names = append(names, st.Cols...)
		case dataflow.ExplodeStep:
			names = append(names, st.Col)
		case dataflow.LookupStep:
			names = append(names, st.On)
		}
	}
	if p.Join != nil {
		// The join's sides and steps may read any column the shared steps
		// pass on; a join pipeline binds every input column.
		used := make([]bool, p.Input.Len())
		for i := range used {
			used[i] = true
		}
		return used
	}
	if a := p.Agg; a != nil {
		names = append(append(names, a.Key...), a.TimeCol)
		for _, g := range a.Aggs {
			names = append(names, g.Col, g.By)
		}
	} else {
		names = append(append(append(names, p.Emit.Key...), p.Emit.Value), p.Emit.Extra...)
	}
	used := make([]bool, p.Input.Len())
	for i, f := range p.Input.Fields {
		used[i] = slices.Contains(names, f.Name)
	}
	return used
}
