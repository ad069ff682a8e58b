package dataflow

import (
	"fmt"
	"iter"
	"maps"
	"slices"
)

// This file holds the batch answer of joins and regroups ([Reference]).

// refJoin is the batch state of a join: every side row, per key, until the
// input ends; then the joined rows, in key order.
type refJoin struct {
	j       *Join
	sides   [2]*refJoinSide
	exclude func(partition int, offset int64, side int, key string) (lo, hi Time, ok bool)
	joined  func(Row) // Join.Steps, then the aggregation or emit
	cur     Record    // the record being processed
	buf     Row
	wins    []Window
}

// refJoinSide is one side's steps and rows.
type refJoinSide struct {
	run     func(Row) // the side's steps, ending in refJoin.collect
	keyIdx  []int
	timeIdx int
	colIdx  []int
	rows    map[string][]refSideRow
}

// refSideRow is one side row: its event time, its Cols and the windows it
// is excluded from.
type refSideRow struct {
	t    Time
	cols []Value
	ex   exclusion
}

func newRefJoin(j *Join, shared Schema, exclude func(int, int64, int, string) (Time, Time, bool), sink func(Row)) (*refJoin, error) {
	js, err := j.schemas(shared)
	if err != nil {
		return nil, err
	}
	rj := &refJoin{j: j, exclude: exclude}
	for side := range 2 {
		ss := js.Left
		if side == JoinRight {
			ss = js.Right
		}
		rs, err := newRefJoinSide(j.side(side), ss[len(ss)-1])
		if err != nil {
			return nil, err
		}
		rj.sides[side] = rs
		run := func(r Row) { rj.collect(side, r) }
		steps := j.side(side).Steps
		for i := len(steps) - 1; i >= 0; i-- {
			if run, err = compileRefStep(steps[i], ss[i], ss[i+1], run); err != nil {
				return nil, fmt.Errorf("%s side step %d (%v): %w", j.SideName(side), i, steps[i], err)
			}
		}
		rs.run = run
	}
	joined := sink
	for i := len(j.Steps) - 1; i >= 0; i-- {
		if joined, err = compileRefStep(j.Steps[i], js.Joined[i], js.Joined[i+1], joined); err != nil {
			return nil, fmt.Errorf("join step %d (%v): %w", i, j.Steps[i], err)
		}
	}
	rj.joined = joined
	rj.buf = make(Row, js.Joined[0].Len())
	rj.wins = make([]Window, 0, j.Window.MaxWindowsPerElement())
	return rj, nil
}

func newRefJoinSide(sd *JoinSide, s Schema) (*refJoinSide, error) {
	rs := &refJoinSide{rows: make(map[string][]refSideRow)}
	var err error
	if rs.keyIdx, err = columnIndexes(s, sd.Key); err != nil {
		return nil, err
	}
	if rs.colIdx, err = columnIndexes(s, sd.Cols); err != nil {
		return nil, err
	}
	if _, rs.timeIdx, err = s.Lookup(sd.TimeCol); err != nil {
		return nil, err
	}
	return rs, nil
}

// add offers one output row of the shared steps, from record rec, to both
// sides.
func (rj *refJoin) add(r Row, rec Record) {
	rj.cur = rec
	rj.sides[JoinLeft].run(r)
	rj.sides[JoinRight].run(r)
}

// collect keeps one side row, with the windows ExcludeSide (or
// ExcludeWindows) leaves it out of; a row left out whole (or of an incremental join) is not kept.
func (rj *refJoin) collect(side int, r Row) {
	rec := rj.cur
	rs := rj.sides[side]
	key := string(AppendKey(nil, r, rs.keyIdx))
	row := refSideRow{t: r[rs.timeIdx].Time(), cols: make([]Value, len(rs.colIdx))}
	for i, c := range rs.colIdx {
		row.cols[i] = r[c]
	}
	if rj.exclude != nil {
		row.ex.lo, row.ex.hi, row.ex.ok = rj.exclude(rec.Partition, rec.Offset, side, key)
		if row.ex.ok && !rj.j.Windowed() {
			return
		}
	}
	rs.rows[key] = append(rs.rows[key], row)
}

// finish joins the kept rows, key by key in key order, and passes every
// joined row on.
func (rj *refJoin) finish() {
	left, right := rj.sides[JoinLeft], rj.sides[JoinRight]
	for _, key := range slices.Sorted(maps.Keys(left.rows)) {
		ls, rs := left.rows[key], right.rows[key]
		if len(rs) == 0 {
			continue
		}
		if !rj.j.Windowed() {
			for _, l := range ls {
				for _, r := range rs {
					rj.emit(l, r, Timestamp(max(l.t, r.t)), Value{}, Value{})
				}
			}
			continue
		}
		// Windowed: bucket each side's rows by window, then pair within
		// each window both sides share.
		var buckets [2]map[Window][]int
		for side, rows := range [][]refSideRow{ls, rs} {
			buckets[side] = make(map[Window][]int)
			for i, row := range rows {
				rj.wins = rj.j.Window.Assign(rj.wins[:0], row.t)
				for _, w := range rj.wins {
					if !row.ex.drops(w.End) {
						buckets[side][w] = append(buckets[side][w], i)
					}
				}
			}
		}
		for _, w := range slices.SortedFunc(maps.Keys(buckets[JoinLeft]), compareWindows) {
			for _, li := range buckets[JoinLeft][w] {
				for _, ri := range buckets[JoinRight][w] {
					rj.emit(ls[li], rs[ri], Timestamp(w.End-1), Timestamp(w.Start), Timestamp(w.End))
				}
			}
		}
	}
}

// emit builds a joined row (left Cols, right Cols, then window_start and
// window_end for windowed joins, then join_time) and passes it on.
func (rj *refJoin) emit(l, r refSideRow, joinTime, start, end Value) {
	b := append(append(rj.buf[:0], l.cols...), r.cols...)
	if rj.j.Windowed() {
		b = append(b, start, end)
	}
	rj.joined(append(b, joinTime))
}

func compareWindows(a, b Window) int {
	if c := cmpInt(int64(a.End), int64(b.End)); c != 0 {
		return c
	}
	return cmpInt(int64(a.Start), int64(b.Start))
}

// JoinInput runs p's shared steps and each join side's steps over records
// and calls fn for each side row (side [JoinLeft] or [JoinRight]) with the
// record it came from and the row's event time (its TimeCol). It is the
// join's counterpart of [AggregationInput]: how a check recomputes each
// side's watermark and finds which side rows a runtime could have found
// late. A pipeline without a join is an error. The row passed to fn is
// reused after fn returns.
func JoinInput(p *Pipeline, records iter.Seq[Record], fn func(rec Record, side int, t Time, row Row)) error {
	schemas, err := p.Schemas()
	if err != nil {
		return err
	}
	if p.Join == nil {
		return fmt.Errorf("dataflow: JoinInput of pipeline %q, which has no join; use AggregationInput", p.Name)
	}
	js, err := p.Join.schemas(schemas[len(schemas)-1])
	if err != nil {
		return err
	}
	var cur Record
	var sides [2]func(Row)
	for side := range 2 {
		ss := js.Left
		if side == JoinRight {
			ss = js.Right
		}
		sd := p.Join.side(side)
		_, ti, err := ss[len(ss)-1].Lookup(sd.TimeCol)
		if err != nil {
			return err
		}
		run := func(r Row) { fn(cur, side, r[ti].Time(), r) }
		for i := len(sd.Steps) - 1; i >= 0; i-- {
			if run, err = compileRefStep(sd.Steps[i], ss[i], ss[i+1], run); err != nil {
				return fmt.Errorf("dataflow: pipeline %q join %s side step %d (%v): %w", p.Name, p.Join.SideName(side), i, sd.Steps[i], err)
			}
		}
		sides[side] = run
	}
	run := func(r Row) {
		sides[JoinLeft](r)
		sides[JoinRight](r)
	}
	return feedRefSteps(p, schemas, records, &cur, run)
}

// regroup is the batch answer of a [Regroup] over the aggregation's
// windows: every (key, window) result as a row of
// [Aggregation.ResultSchema], grouped again per window by r.Key.
func (ra *refAggregation) regroup(r *Regroup) ([]Result, error) {
	rs, err := ra.a.ResultSchema(ra.in)
	if err != nil {
		return nil, err
	}
	second := &Aggregation{Key: r.Key, Aggs: r.Aggs, Having: r.Having}
	sa, err := newRefAggregation(second, rs)
	if err != nil {
		return nil, fmt.Errorf("dataflow: regroup: %w", err)
	}
	row := make(Row, rs.Len())
	for _, k := range ra.keys {
		for w, g := range k.wins {
			copy(row, k.keyRow)
			for i, acc := range g.accs {
				row[len(k.keyRow)+i] = acc.Result()
			}
			sa.addWindow(row, w)
		}
	}
	return sa.results()
}

// addWindow folds a row into window w of its key (a regroup's input: the
// window is the first aggregation's).
func (ra *refAggregation) addWindow(r Row, w Window) {
	ra.keyBuf = AppendKey(ra.keyBuf[:0], r, ra.keyIdx)
	k := ra.key(r)
	g := ra.group(k, w)
	ra.fold(g, r)
}
