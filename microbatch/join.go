package microbatch

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
)

// joinPlan is a pipeline's stream-stream join compiled for a run
// (Structured Streaming's StreamingSymmetricHashJoinExec, with weir's
// windowed-join semantics: see [dataflow.Join] and the package doc, MJ1-MJ5).
type joinPlan struct {
	j       *dataflow.Join
	schemas dataflow.JoinSchemas
	sides   [2]joinSidePlan
	// joined is the joined row's schema, before Join.Steps.
	joined dataflow.Schema
	// stepLookups[i] is Join.Steps[i]'s lookup table, if it is a lookup.
	stepLookups []*lookupIndex
	delayMs     int64 // each side's watermark delay (MaxOutOfOrderness)
	latenessMs  int64
}

// joinSidePlan is one side's steps and columns.
type joinSidePlan struct {
	lookups []*lookupIndex // by side step
	keyIdx  []int          // in the side's last schema
	colIdx  []int
	timeIdx int
}

func newJoinPlan(p *dataflow.Pipeline, ids *atomic.Int64) (*joinPlan, error) {
	js, err := p.JoinSchemas()
	if err != nil {
		return nil, err
	}
	j := p.Join
	jp := &joinPlan{j: j, schemas: js, joined: js.Joined[0],
		delayMs: dataflow.Millis(j.Watermark.MaxOutOfOrderness), latenessMs: dataflow.Millis(j.AllowedLateness)}
	for side := range 2 {
		sd, ss := &j.Left, js.Left
		if side == dataflow.JoinRight {
			sd, ss = &j.Right, js.Right
		}
		sp := &jp.sides[side]
		sp.lookups = make([]*lookupIndex, len(sd.Steps))
		for i, st := range sd.Steps {
			if st, ok := st.(dataflow.LookupStep); ok {
				if sp.lookups[i], err = newLookupIndex(st, ss[i], ids); err != nil {
					return nil, fmt.Errorf("microbatch: join %s side step %d (%v): %w", j.SideName(side), i, st, err)
				}
			}
		}
		last := ss[len(ss)-1]
		for _, k := range sd.Key {
			sp.keyIdx = append(sp.keyIdx, last.Index(k))
		}
		for _, c := range sd.Cols {
			sp.colIdx = append(sp.colIdx, last.Index(c))
		}
		sp.timeIdx = last.Index(sd.TimeCol)
	}
	jp.stepLookups = make([]*lookupIndex, len(j.Steps))
	for i, st := range j.Steps {
		if st, ok := st.(dataflow.LookupStep); ok {
			if jp.stepLookups[i], err = newLookupIndex(st, js.Joined[i], ids); err != nil {
				return nil, fmt.Errorf("microbatch: join step %d (%v): %w", i, st, err)
			}
		}
	}
	return jp, nil
}

// sideRow is one side row: what the join keeps of it in its state.
type sideRow struct {
	key    string
	t      int64 // event time, ms (the side's TimeCol)
	ingest int64 // ns
	ref    dataflow.RecordRef
	vals   []dataflow.Value // the side's Cols; strings are owned copies
}

// sideExec runs the join's side steps in a task, after the shared steps:
// each side's steps run on a copy of the frame's state (the column views and
// the selection), so both sides see the shared steps' output, and the
// surviving rows are copied out of the frame as side rows.
type sideExec struct {
	steps [2][]step
	cols  []vec
	sel   []int32
	rows  [2][]sideRow
	vals  []dataflow.Value // arena the rows' values are cut from
	kbuf  []byte
	// keys interns the task's key texts: a key's rows share one string,
	// and a known key costs a map lookup, not an allocation.
	keys map[string]string
}

func (p *plan) newSideExec() (*sideExec, error) {
	se := &sideExec{}
	jp := p.join
	for side := range 2 {
		sd, ss := &jp.j.Left, jp.schemas.Left
		if side == dataflow.JoinRight {
			sd, ss = &jp.j.Right, jp.schemas.Right
		}
		c := &compiler{ids: p.ids, lookups: jp.sides[side].lookups}
		for i, st := range sd.Steps {
			k, err := c.compileStep(i, st, ss[i])
			if err != nil {
				return nil, fmt.Errorf("microbatch: join %s side step %d (%v): %w", jp.j.SideName(side), i, st, err)
			}
			se.steps[side] = append(se.steps[side], k)
		}
	}
	return se, nil
}

// startTask forgets the previous task's rows (the driver owns them now).
func (se *sideExec) startTask() { se.rows, se.keys = [2][]sideRow{}, map[string]string{} }

// consume runs both sides' steps over the frame's live rows (after the
// shared steps) and keeps the surviving rows. part and base name the
// frame's first row in the log.
func (se *sideExec) consume(x *exec, jp *joinPlan, part int, base int64) error {
	se.cols = append(se.cols[:0], x.cols...)
	se.sel = append(se.sel[:0], x.sel...)
	n, origin, selAll := x.n, x.origin, x.selAll
	for side := range 2 {
		if side > 0 {
			x.cols = append(x.cols[:0], se.cols...)
			x.sel, x.n, x.origin, x.selAll = se.sel, n, origin, selAll
		}
		for _, s := range se.steps[side] {
			if len(x.sel) == 0 {
				break
			}
			if err := s(x); err != nil {
				return err
			}
		}
		sp := &jp.sides[side]
		tv := &x.cols[sp.timeIdx]
		for _, r := range x.sel {
			b := se.kbuf[:0]
			for i, c := range sp.keyIdx {
				if i > 0 {
					b = append(b, dataflow.KeySep)
				}
				b = appendVecText(b, &x.cols[c], r)
			}
			se.kbuf = b
			key, ok := se.keys[string(b)]
			if !ok {
				key = string(b)
				se.keys[key] = key
			}
			if len(se.vals) < len(sp.colIdx) {
				se.vals = make([]dataflow.Value, max(256, len(sp.colIdx)))
			}
			vals := se.vals[:len(sp.colIdx):len(sp.colIdx)]
			se.vals = se.vals[len(sp.colIdx):]
			for i, c := range sp.colIdx {
				vals[i] = cloneValue(x.cols[c].value(r))
			}
			br := x.baseRow(r)
			se.rows[side] = append(se.rows[side], sideRow{key: key, t: tv.int(r), ingest: x.ingest[br],
				ref: dataflow.RecordRef{Partition: part, Offset: base + int64(br)}, vals: vals})
		}
	}
	return nil
}

// joinCell is the state of one key in one join window (a windowed join) or
// of one key (an incremental join, whose window is the zero Window): each
// side's rows, and whether the window's pairs were emitted.
type joinCell struct {
	w     dataflow.Window
	key   string
	rows  [2][]sideRow
	fired bool
}

// joinState is the join's keyed state store across batches, one per driver
// (MK5: only commits change it, in batch order). It is partitioned by a
// hash of the join key into shards, as Spark's join runs one state store
// per shuffle partition: a batch's side rows are routed to their key's
// shard, and the shards join concurrently, each writing its joined rows
// into its own frame (MJ3).
type joinState struct {
	jp      *joinPlan
	shards  []*joinShard
	maxTime [2]int64 // largest event time of each side's rows so far (late ones too)
}

// joinShard is the state of the keys of one shard: it joins the batch's
// side rows against the other side's kept rows and against each other, and
// writes the joined rows into out. A shard is used by one goroutine at a
// time.
type joinShard struct {
	jp    *joinPlan
	cells map[wkey]*joinCell
	// byEnd lists a windowed join's cells by window end, so firing and
	// dropping visit the windows the watermark passed, not the state.
	byEnd  map[dataflow.Time][]*joinCell
	ends   []dataflow.Time // scratch
	heldN  int64           // side rows kept (a sliding window's row once per window)
	winBuf []dataflow.Window
	out    *rowFrame
	in     [2][]*sideRow // the batch's rows routed here
	late   []dataflow.LateRecord
	// Statistics: rows taken, late rows dropped, pairs emitted.
	rows, lateN [2]int64
	emitted     int64
}

func newJoinState(jp *joinPlan, shards int) *joinState {
	js := &joinState{jp: jp, maxTime: [2]int64{math.MinInt64, math.MinInt64}}
	for range max(shards, 1) {
		js.shards = append(js.shards, &joinShard{jp: jp, cells: map[wkey]*joinCell{}, byEnd: map[dataflow.Time][]*joinCell{}, out: newRowFrame(jp.joined)})
	}
	return js
}

// shardOf is the shard of a key text: FNV-1a, stable across runs.
func (js *joinState) shardOf(key string) *joinShard {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return js.shards[h%uint32(len(js.shards))]
}

// commit takes one batch's side rows (tasks in partition-range order) at
// the batch's watermark wm, routes them to their key's shard and runs the
// shards concurrently ([joinShard.commit]); it returns the batch's late
// side rows appended to late. Each shard's joined rows are in its out.
func (js *joinState) commit(tasks []*taskOut, wm int64, seq int64, final bool, late []dataflow.LateRecord) []dataflow.LateRecord {
	for _, sh := range js.shards {
		sh.in = [2][]*sideRow{sh.in[0][:0], sh.in[1][:0]}
	}
	for _, t := range tasks {
		for side := range 2 {
			for i := range t.side[side] {
				r := &t.side[side][i]
				js.maxTime[side] = max(js.maxTime[side], r.t)
				sh := js.shardOf(r.key)
				sh.in[side] = append(sh.in[side], r)
			}
		}
	}
	var wg sync.WaitGroup
	for _, sh := range js.shards[1:] {
		wg.Go(func() { sh.commit(wm, seq, final) })
	}
	js.shards[0].commit(wm, seq, final)
	wg.Wait()
	for _, sh := range js.shards {
		late = append(late, sh.late...)
	}
	return late
}

// stats sums the shards' statistics.
func (js *joinState) stats() (rows, late [2]int64, emitted, held, batch int64) {
	for _, sh := range js.shards {
		for side := range 2 {
			rows[side] += sh.rows[side]
			late[side] += sh.lateN[side]
		}
		emitted += sh.emitted
		held += sh.heldN
		batch += int64(sh.out.n)
	}
	return rows, late, emitted, held, batch
}

// isLate is dataflow.JoinOperator's rule (I5 for a join side): a windowed
// join's row is late once one of its windows is, W >= end +
// AllowedLateness; an incremental join has no late rows.
func (js *joinShard) isLate(t, wm int64) bool {
	if !js.jp.j.Windowed() || wm == math.MinInt64 {
		return false
	}
	js.winBuf = js.jp.j.Window.Assign(js.winBuf[:0], dataflow.Time(t))
	for _, w := range js.winBuf {
		if wm >= addSatMs(int64(w.End), js.jp.latenessMs) {
			return true
		}
	}
	return false
}

func addSatMs(a, b int64) int64 {
	if a > 0 && b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

// commit takes the shard's rows of one batch (js.in, in partition-range
// order) at the batch's watermark wm: late rows go to js.late, the others
// join; then the windows whose end is <= wm (every window when final) emit
// their pairs and the windows with end + AllowedLateness <= wm are dropped.
// The joined rows are in js.out afterwards (reset at the start of each
// commit).
func (js *joinShard) commit(wm int64, seq int64, final bool) {
	js.out.reset()
	js.late = js.late[:0]
	windowed := js.jp.j.Windowed()
	for side := range 2 {
		for _, r := range js.in[side] {
			if js.isLate(r.t, wm) {
				js.lateN[side]++
				js.late = append(js.late, dataflow.LateRecord{RecordRef: r.ref, Key: r.key, Watermark: dataflow.Time(wm), Batch: int(seq), LostAbove: dataflow.MaxTime})
				continue
			}
			js.rows[side]++
			if !windowed {
				js.add(side, r, wkey{key: r.key}, true)
				continue
			}
			js.winBuf = js.jp.j.Window.Assign(js.winBuf[:0], dataflow.Time(r.t))
			for _, w := range js.winBuf {
				js.add(side, r, wkey{w: w, key: r.key}, false)
			}
		}
	}
	js.in = [2][]*sideRow{js.in[0][:0], js.in[1][:0]}
	if !windowed {
		return
	}
	js.ends = js.ends[:0]
	for e := range js.byEnd {
		if final || int64(e) <= wm {
			js.ends = append(js.ends, e)
		}
	}
	slices.Sort(js.ends)
	for _, e := range js.ends {
		cells := js.byEnd[e]
		for _, c := range cells {
			if c.fired {
				continue
			}
			c.fired = true
			for i := range c.rows[dataflow.JoinLeft] {
				for k := range c.rows[dataflow.JoinRight] {
					js.pair(&c.rows[dataflow.JoinLeft][i], &c.rows[dataflow.JoinRight][k], c.w, true)
				}
			}
		}
		if final || wm >= addSatMs(int64(e), js.jp.latenessMs) {
			for _, c := range cells {
				js.heldN -= int64(len(c.rows[0]) + len(c.rows[1]))
				delete(js.cells, wkey{c.w, c.key})
			}
			delete(js.byEnd, e)
		}
	}
}

// add puts r into the cell of k; in a fired window (or an incremental join)
// it joins the other side's kept rows at once.
func (js *joinShard) add(side int, r *sideRow, k wkey, incremental bool) {
	c := js.cells[k]
	if c == nil {
		c = &joinCell{w: k.w, key: k.key}
		js.cells[k] = c
		if !incremental {
			js.byEnd[k.w.End] = append(js.byEnd[k.w.End], c)
		}
	}
	js.heldN++
	if c.fired || incremental {
		for i := range c.rows[1-side] {
			o := &c.rows[1-side][i]
			if side == dataflow.JoinLeft {
				js.pair(r, o, k.w, !incremental)
			} else {
				js.pair(o, r, k.w, !incremental)
			}
		}
	}
	c.rows[side] = append(c.rows[side], *r)
}

// pair writes the joined row of l and r: left Cols, right Cols, then
// window_start and window_end (windowed) and join_time.
func (js *joinShard) pair(l, r *sideRow, w dataflow.Window, windowed bool) {
	f := js.out
	col := 0
	for _, v := range l.vals {
		f.put(col, v)
		col++
	}
	for _, v := range r.vals {
		f.put(col, v)
		col++
	}
	jt := max(l.t, r.t)
	if windowed {
		f.put(col, dataflow.Timestamp(w.Start))
		f.put(col+1, dataflow.Timestamp(w.End))
		col += 2
		jt = int64(w.End) - 1
	}
	f.put(col, dataflow.Timestamp(dataflow.Time(jt)))
	f.endRow(max(l.t, r.t), max(l.ingest, r.ingest))
	js.emitted++
}

// nextWatermark is the join's watermark after the batches so far: the
// minimum over both sides of the side's largest event time minus the delay
// (Spark's MultipleWatermarkPolicy "min"), or -inf while a side has had no
// row.
func (js *joinState) nextWatermark() int64 {
	wm := int64(math.MaxInt64)
	for side := range 2 {
		if js.maxTime[side] == math.MinInt64 {
			return math.MinInt64
		}
		wm = min(wm, js.maxTime[side]-js.jp.delayMs)
	}
	return wm
}

// held is the number of side rows the state keeps (a sliding window's row
// once per window).
func (js *joinState) held() int64 {
	_, _, _, held, _ := js.stats()
	return held
}

// appendJoinState appends the join state to a checkpoint:
//
//	maxTime(left) | maxTime(right) | rows×2 | late×2 | emitted | u#cells cell...
//	cell: start | end | key s | fired b | (u#rows row...)×2
//	row:  t | ingest | partition | offset | value...   (the side's Cols, dataflow.AppendValue)
//
// Cells are in window and key order, so equal states give equal bytes.
func (js *joinState) appendJoinState(dst []byte) []byte {
	for side := range 2 {
		dst = wire.AppendVarint(dst, js.maxTime[side])
	}
	rows, late, emitted, _, _ := js.stats()
	for side := range 2 {
		dst = wire.AppendVarint(dst, rows[side])
		dst = wire.AppendVarint(dst, late[side])
	}
	dst = wire.AppendVarint(dst, emitted)
	var cells []*joinCell
	for _, sh := range js.shards {
		for _, c := range sh.cells {
			cells = append(cells, c)
		}
	}
	slices.SortFunc(cells, func(a, b *joinCell) int {
		return cmp.Or(cmp.Compare(a.w.Start, b.w.Start), cmp.Compare(a.w.End, b.w.End), strings.Compare(a.key, b.key))
	})
	dst = wire.AppendUvarint(dst, uint64(len(cells)))
	for _, c := range cells {
		dst = wire.AppendVarint(dst, int64(c.w.Start))
		dst = wire.AppendVarint(dst, int64(c.w.End))
		dst = wire.AppendString(dst, c.key)
		dst = append(dst, boolByte(c.fired))
		for side := range 2 {
			dst = wire.AppendUvarint(dst, uint64(len(c.rows[side])))
			for _, r := range c.rows[side] {
				dst = wire.AppendVarint(dst, r.t)
				dst = wire.AppendVarint(dst, r.ingest)
				dst = wire.AppendVarint(dst, int64(r.ref.Partition))
				dst = wire.AppendVarint(dst, r.ref.Offset)
				for _, v := range r.vals {
					dst = dataflow.AppendValue(dst, v)
				}
			}
		}
	}
	return dst
}

// decodeJoinState reads what appendJoinState wrote into an empty state,
// each cell into its key's shard (the statistics into the first).
func (js *joinState) decodeJoinState(d *wire.Decoder) error {
	for side := range 2 {
		js.maxTime[side] = d.Varint()
	}
	sh0 := js.shards[0]
	for side := range 2 {
		sh0.rows[side], sh0.lateN[side] = d.Varint(), d.Varint()
	}
	sh0.emitted = d.Varint()
	ncols := [2]int{len(js.jp.sides[0].colIdx), len(js.jp.sides[1].colIdx)}
	for n := d.Count(); n > 0 && d.Err() == nil; n-- {
		c := &joinCell{w: dataflow.Window{Start: dataflow.Time(d.Varint()), End: dataflow.Time(d.Varint())}, key: d.String()}
		switch d.Byte() {
		case 0:
		case 1:
			c.fired = true
		default:
			d.Fail("bad join fired flag")
		}
		for side := range 2 {
			for m := d.Count(); m > 0 && d.Err() == nil; m-- {
				r := sideRow{key: c.key, t: d.Varint(), ingest: d.Varint()}
				r.ref.Partition, r.ref.Offset = int(d.Varint()), d.Varint()
				r.vals = make([]dataflow.Value, ncols[side])
				for i := range r.vals {
					r.vals[i] = dataflow.DecodeValue(d)
				}
				c.rows[side] = append(c.rows[side], r)
			}
		}
		if d.Err() == nil {
			sh := js.shardOf(c.key)
			sh.cells[wkey{c.w, c.key}] = c
			if js.jp.j.Windowed() {
				sh.byEnd[c.w.End] = append(sh.byEnd[c.w.End], c)
			}
			sh.heldN += int64(len(c.rows[0]) + len(c.rows[1]))
		}
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("%w: join state: %w", ErrCorruptCheckpoint, err)
	}
	return nil
}

// dstreamJoinRefusal is why the DStream model does not run a join: its
// join pairs the two streams' RDDs of one batch (or of one window of
// batches, window(L, S).join), by arrival.
func dstreamJoinRefusal(j *dataflow.Join) error {
	if !j.Windowed() {
		return unsupported(ModeDStream, "an incremental stream-stream join: a DStream join is per batch (it pairs the two streams' RDDs of the same batch), so joining each row with every earlier row of the other side needs cross-batch state per key (updateStateByKey or mapWithState holding both sides' rows), which DStream's join does not keep; use Structured Streaming (event-time mode), whose stream-stream join keeps that state")
	}
	return unsupported(ModeDStream, "a windowed stream-stream join: DStream's window(length, slide).join pairs the rows of the same windows of batches, by arrival time, while this join pairs rows by event-time window (the sides' TimeCol); the answers differ whenever a row arrives in another batch window than its event time's; use Structured Streaming (event-time mode)")
}
