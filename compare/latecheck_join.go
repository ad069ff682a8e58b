package compare

import (
	"fmt"
	"math"
	"slices"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// joinSideRow is one side row a dropped record gave: its side, event time
// and join key text.
type joinSideRow struct {
	side int
	t    dataflow.Time
	key  string
}

// joinFacts is what the check recomputes from the log for the drops of a
// pipeline with a join ([dataflow.JoinInput]): each dropped record's side
// rows, and per side the largest side-row time of each partition below the
// offsets the rule needs.
type joinFacts struct {
	rows map[dataflow.RecordRef][]joinSideRow
	// queries[p] are sorted offsets; prefixMax[side][p][i] is the largest
	// time of the side's rows of partition p below queries[p][i] (MinTime
	// if none).
	queries   [][]int64
	prefixMax [2][][]dataflow.Time
}

func (f *joinFacts) before(side, p int, off int64) dataflow.Time {
	i, ok := slices.BinarySearch(f.queries[p], off)
	if !ok {
		panic(fmt.Sprintf("compare: join side prefix maximum of partition %d at %d was not computed", p, off))
	}
	return f.prefixMax[side][p][i]
}

// joinBefore is the highest join watermark the side rows of partition p
// below off allow, before the bound: the minimum over the two sides (the
// join's watermark is the minimum of its inputs', each a minimum over the
// partitions that counts a partition without rows as MinTime).
func (f *joinFacts) joinBefore(p int, off int64) dataflow.Time {
	return min(f.before(dataflow.JoinLeft, p, off), f.before(dataflow.JoinRight, p, off))
}

// recomputeJoin makes one pass over the log through the pipeline's steps
// and its join's side steps.
func recomputeJoin(p *dataflow.Pipeline, log *datasets.Log, late []dataflow.LateRecord, queries [][]int64) (*joinFacts, error) {
	js, err := p.JoinSchemas()
	if err != nil {
		return nil, err
	}
	var keyIdx [2][]int
	for side, ss := range [2][]dataflow.Schema{js.Left, js.Right} {
		sd := p.Join.Left
		if side == dataflow.JoinRight {
			sd = p.Join.Right
		}
		for _, k := range sd.Key {
			_, i, err := ss[len(ss)-1].Lookup(k)
			if err != nil {
				return nil, err
			}
			keyIdx[side] = append(keyIdx[side], i)
		}
	}
	f := &joinFacts{rows: make(map[dataflow.RecordRef][]joinSideRow, len(late)), queries: queries}
	want := make(map[dataflow.RecordRef]bool, len(late))
	for _, l := range late {
		want[l.RecordRef] = true
	}
	var run [2][]dataflow.Time
	next := make([]int, len(queries))
	for i := range queries {
		slices.Sort(queries[i])
		queries[i] = slices.Compact(queries[i])
	}
	for side := range 2 {
		f.prefixMax[side] = make([][]dataflow.Time, len(queries))
		run[side] = make([]dataflow.Time, len(queries))
		for i := range queries {
			f.prefixMax[side][i] = make([]dataflow.Time, len(queries[i]))
			run[side][i] = dataflow.MinTime
		}
	}
	resolve := func(part int, upTo int64) {
		q := queries[part]
		for next[part] < len(q) && q[next[part]] <= upTo {
			for side := range 2 {
				f.prefixMax[side][part][next[part]] = run[side][part]
			}
			next[part]++
		}
	}
	var kb []byte
	err = dataflow.JoinInput(p, log.All(), func(rec dataflow.Record, side int, t dataflow.Time, row dataflow.Row) {
		part := rec.Partition
		if part < 0 || part >= len(queries) {
			return
		}
		resolve(part, rec.Offset)
		run[side][part] = max(run[side][part], t)
		ref := dataflow.RecordRef{Partition: part, Offset: rec.Offset}
		if want[ref] {
			kb = dataflow.AppendKey(kb[:0], row, keyIdx[side])
			f.rows[ref] = append(f.rows[ref], joinSideRow{side: side, t: t, key: string(kb)})
		}
	})
	if err != nil {
		return nil, err
	}
	for part := range queries {
		resolve(part, math.MaxInt64)
	}
	return f, nil
}

// verifyJoinLate is [VerifyLate] for a pipeline with a join. Only a
// windowed join's side rows can be late (dataflow.Join): an incremental
// join has no windows, and a join emits a window's pairs before the
// watermark that fired them, so a joined row is never late for the
// aggregation after it. A drop is verified when the record gave a side
// row (of the drop's key, when the drop names one) that the model's rule
// finds late:
//
//   - LateRuleDataflow: W >= end + the join's AllowedLateness of the row's
//     earliest window, and W at most what the partition's side rows
//     before the record allow: the minimum over both sides of the largest
//     side-row time, minus the join's bound (no bound with an idle
//     timeout). A replay is checked as for an aggregation. The side row is
//     left out of all its windows (after LostAbove for a replay);
//   - LateRuleSpark, by microbatch's join rule (its doc, MJ2 and MJ3), not
//     by Spark's aggregation rule: delivered in its batch, the batch's
//     watermark the one the drop saw, and at most the minimum over both
//     sides of the largest side-row time of every partition in earlier
//     batches (late rows included), minus the join's bound only (MJ2: the
//     join's delay is MaxOutOfOrderness; its AllowedLateness keeps rows,
//     it does not hold the watermark back), -inf while a side has had no
//     row; and the row late at it as dataflow.JoinOperator.IsLateTime
//     says, W >= end + AllowedLateness for one of its windows. The side
//     row is left out of all its windows, as the runtime drops it whole.
func verifyJoinLate(p *dataflow.Pipeline, log *datasets.Log, out *Outcome, acc *LateAccount, unverified func(dataflow.LateRecord, string, ...any)) (exclusions, error) {
	ex := exclusions{}
	j := p.Join
	if !j.Windowed() || out.LateRule == LateRuleNone {
		why := "an incremental join keeps every row and has nothing late"
		if j.Windowed() {
			why = "the runtime's model has no late rule: nothing may be dropped as late"
		}
		for _, l := range out.Late {
			unverified(l, "%s", why)
		}
		return ex, nil
	}
	parts := log.Partitions()
	queries, err := lateQueries(out, parts)
	if err != nil {
		return nil, err
	}
	facts, err := recomputeJoin(p, log, out.Late, queries)
	if err != nil {
		return nil, err
	}
	lateness := dataflow.Time(dataflow.Millis(j.AllowedLateness))
	bound := dataflow.Time(dataflow.Millis(j.Watermark.MaxOutOfOrderness))
	var wins []dataflow.Window
	for _, l := range out.Late {
		if l.Partition < 0 || l.Partition >= parts || l.Offset < 0 || l.Offset >= log.End(l.Partition) {
			unverified(l, "no such record in the log")
			continue
		}
		var rows []joinSideRow
		for _, r := range facts.rows[l.RecordRef] {
			if l.Key == "" || r.key == l.Key {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			if len(facts.rows[l.RecordRef]) > 0 {
				unverified(l, "the record's join side rows have key %q, not the drop's %q", facts.rows[l.RecordRef][0].key, l.Key)
			} else {
				unverified(l, "the record is a row of neither join side")
			}
			continue
		}
		// A record on both sides (a self-join) may be dropped on one side
		// and kept on the other; the drop does not say which, so a side
		// row another drop of the record has not taken yet comes first.
		slices.SortStableFunc(rows, func(a, b joinSideRow) int {
			_, ua := ex[exclusionKey{l.RecordRef, l.Key, a.side}]
			_, ub := ex[exclusionKey{l.RecordRef, l.Key, b.side}]
			switch {
			case ua == ub:
				return 0
			case ub:
				return -1
			}
			return 1
		})
		why := ""
		ok := false
		for _, r := range rows {
			key := exclusionKey{l.RecordRef, l.Key, r.side}
			switch out.LateRule {
			case LateRuleDataflow:
				wins = j.Window.Assign(wins[:0], r.t)
				first := dataflow.MaxTime
				for _, w := range wins {
					first = min(first, w.End)
				}
				if l.Watermark < addSat(first, lateness) {
					why = fmt.Sprintf("the %s row's event time %s is not late at that watermark", j.SideName(r.side), timeText(r.t))
					continue
				}
				if l.Replay {
					if l.LostAbove != dataflow.MaxTime && l.LostAbove > l.Watermark {
						why = fmt.Sprintf("a replay whose earlier delivery is said lost above %s, after the drop's watermark", timeText(l.LostAbove))
						continue
					}
					acc.Replays++
					ex.add(key, l.LostAbove, dataflow.MaxTime)
					ok = true
					break
				}
				if j.Watermark.IdleTimeout <= 0 {
					if u := subSat(facts.joinBefore(l.Partition, l.Offset), bound); l.Watermark > u {
						why = fmt.Sprintf("the highest join watermark the partition's side rows before it allow is %s", timeText(u))
						continue
					}
				}
				acc.Verified++
				ex.add(key, dataflow.MinTime, dataflow.MaxTime)
				ok = true
			case LateRuleSpark:
				b, problem := deliveringBatch(out, l)
				if problem != "" {
					why = problem
					continue
				}
				if l.Watermark != b.Watermark {
					why = fmt.Sprintf("batch %d applied watermark %s", l.Batch, timeText(b.Watermark))
					continue
				}
				wm := dataflow.MinTime
				if l.Batch > 0 {
					prev := out.Batches[l.Batch-1]
					var side [2]dataflow.Time
					for s := range 2 {
						side[s] = dataflow.MinTime
						for q := range parts {
							side[s] = max(side[s], facts.before(s, q, endOf(prev, q)))
						}
					}
					wm = min(side[0], side[1])
				}
				if u := subSat(wm, bound); l.Watermark > u {
					why = fmt.Sprintf("the highest join watermark the side rows of batches before %d allow is %s", l.Batch, timeText(u))
					continue
				}
				late := false
				wins = j.Window.Assign(wins[:0], r.t)
				for _, w := range wins {
					late = late || l.Watermark >= addSat(w.End, lateness)
				}
				if !late {
					why = fmt.Sprintf("no window of the %s row's event time %s has end + allowed lateness (%s) at or before the watermark", j.SideName(r.side), timeText(r.t), j.AllowedLateness)
					continue
				}
				acc.Verified++
				ex.add(key, dataflow.MinTime, dataflow.MaxTime)
				ok = true
			}
			if ok {
				break
			}
		}
		if !ok {
			unverified(l, "%s", why)
		}
	}
	return ex, nil
}
