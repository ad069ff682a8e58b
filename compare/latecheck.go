package compare

import (
	"fmt"
	"math"
	"slices"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// LateAccount is the check's account of the records a run dropped as late
// (CM2): how many of the drops its model's rule explains and how many it
// does not.
type LateAccount struct {
	// Rule is the model's rule the drops were checked by.
	Rule LateRule
	// Reported counts the drops the run reported (one per record and key).
	Reported int
	// Verified counts first deliveries the rule explains: late at a
	// watermark the model's policy could have produced from what had been
	// delivered before them.
	Verified int
	// Replays counts verified drops of replays (at-least-once): records
	// lost to lateness after a replay, apart from ordinary late records.
	Replays int
	// Unverified counts drops the rule does not explain: a defect of the
	// runtime, which makes the run not match.
	Unverified int
	// Examples describes the first few unverified drops.
	Examples []string
}

// exclusionKey names the rows a drop applies to: one record, one key ("" for
// every key of the record), and for a join's side rows the side (noSide
// otherwise).
type exclusionKey struct {
	ref  dataflow.RecordRef
	key  string
	side int
}

// noSide is the side of an exclusion that is not of a join's side row.
const noSide = -1

// exclusions maps each verified drop to the windows it leaves the record
// out of: End in (lo, hi] ([dataflow.ReferenceOptions.ExcludeWindows]).
type exclusions map[exclusionKey][2]dataflow.Time

func (e exclusions) add(k exclusionKey, lo, hi dataflow.Time) {
	if lo >= hi {
		return // nothing excluded (a replay whose earlier delivery was kept)
	}
	if r, ok := e[k]; ok { // the widest range covers both drops
		lo, hi = min(lo, r[0]), max(hi, r[1])
	}
	e[k] = [2]dataflow.Time{lo, hi}
}

// lookup is the ExcludeWindows function of the reference.
func (e exclusions) lookup(partition int, offset int64, key string) (lo, hi dataflow.Time, ok bool) {
	ref := dataflow.RecordRef{Partition: partition, Offset: offset}
	r, ok := e[exclusionKey{ref, key, noSide}]
	if !ok {
		r, ok = e[exclusionKey{ref, "", noSide}]
	}
	return r[0], r[1], ok
}

// lookupSide is the ExcludeSide function of the reference: the windows a
// join's side row of that side is left out of.
func (e exclusions) lookupSide(partition int, offset int64, side int, key string) (lo, hi dataflow.Time, ok bool) {
	ref := dataflow.RecordRef{Partition: partition, Offset: offset}
	r, ok := e[exclusionKey{ref, key, side}]
	if !ok {
		r, ok = e[exclusionKey{ref, "", side}]
	}
	return r[0], r[1], ok
}

// lateFacts is what the check recomputes from the log for the drops: each
// dropped record's time in the aggregation and the largest time of the
// aggregation's input rows delivered before the points the rule needs.
type lateFacts struct {
	// t is the aggregation-row time of each dropped record; a record
	// missing from t reached no aggregation.
	t map[dataflow.RecordRef]dataflow.Time
	// prefixMax[p][i] is the largest aggregation-row time of partition p
	// over offsets below queries[p][i] (MinTime if none).
	queries   [][]int64
	prefixMax [][]dataflow.Time
}

// before returns the largest aggregation-row time of partition p below
// offset off, which must have been asked for.
func (f *lateFacts) before(p int, off int64) dataflow.Time {
	i, ok := slices.BinarySearch(f.queries[p], off)
	if !ok {
		panic(fmt.Sprintf("compare: prefix maximum of partition %d at %d was not computed", p, off))
	}
	return f.prefixMax[p][i]
}

// recompute makes one pass over the log through the pipeline's steps.
func recompute(p *dataflow.Pipeline, log *datasets.Log, late []dataflow.LateRecord, queries [][]int64) (*lateFacts, error) {
	f := &lateFacts{t: make(map[dataflow.RecordRef]dataflow.Time, len(late)), queries: queries, prefixMax: make([][]dataflow.Time, len(queries))}
	want := make(map[dataflow.RecordRef]bool, len(late))
	for _, l := range late {
		want[l.RecordRef] = true
	}
	next := make([]int, len(queries)) // next query per partition
	run := make([]dataflow.Time, len(queries))
	for i := range queries {
		slices.Sort(queries[i])
		queries[i] = slices.Compact(queries[i])
		f.prefixMax[i] = make([]dataflow.Time, len(queries[i]))
		run[i] = dataflow.MinTime
	}
	resolve := func(part int, upTo int64) {
		q := queries[part]
		for next[part] < len(q) && q[next[part]] <= upTo {
			f.prefixMax[part][next[part]] = run[part]
			next[part]++
		}
	}
	err := dataflow.AggregationInput(p, log.All(), func(rec dataflow.Record, t dataflow.Time, _ dataflow.Row) {
		part := rec.Partition
		if part < 0 || part >= len(queries) {
			return
		}
		resolve(part, rec.Offset) // maxima over offsets below rec's
		run[part] = max(run[part], t)
		ref := dataflow.RecordRef{Partition: part, Offset: rec.Offset}
		if want[ref] {
			if _, seen := f.t[ref]; !seen {
				f.t[ref] = t
			}
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

// lateQueries returns, per partition, the offsets at which the check
// recomputes the watermark for out's late rule: each dropped record's own
// offset (LateRuleDataflow; replayed and out-of-range records are left
// out) or each batch's end offset (LateRuleSpark).
func lateQueries(out *Outcome, parts int) ([][]int64, error) {
	queries := make([][]int64, parts)
	switch out.LateRule {
	case LateRuleDataflow:
		for _, l := range out.Late {
			if !l.Replay && l.Partition >= 0 && l.Partition < parts {
				queries[l.Partition] = append(queries[l.Partition], l.Offset)
			}
		}
	case LateRuleSpark:
		for _, b := range out.Batches {
			for q := 0; q < parts && q < len(b.End); q++ {
				queries[q] = append(queries[q], b.End[q])
			}
		}
	default:
		return nil, fmt.Errorf("compare: unknown late rule %d", out.LateRule)
	}
	return queries, nil
}

// VerifyLate checks every drop out reports against the rule of its model
// (out.LateRule) on pipeline p over the closed log, and returns the
// account and the exclusions of the verified drops. A drop is verified
// when:
//
//   - the record reached the aggregation and the pipeline has a watermark
//     (event-time fixed, sliding or session windows); a pipeline without
//     one (count or processing-time windows, global, stateless) can never
//     drop a record as late;
//   - LateRuleDataflow (I4, I5): the drop's watermark is at most the
//     largest aggregation-row time its partition had delivered before the
//     record, minus the bound (other partitions could have finished), and
//     the record is late at it: W >= end + lateness of its earliest window,
//     for sessions W > t + lateness. The record is left out of all its
//     windows. A replay (at-least-once) may come after anything, so only
//     the rule is checked, and LostAbove must not exceed the watermark;
//     the record is left out of the windows ending after LostAbove. With an
//     idle timeout a partition may leave the minimum, so the watermark is
//     bounded only by the rule;
//   - LateRuleSpark (models.md 3): the record was delivered in its batch
//     (its offset between the end of the batch before and the end of its
//     own), the batch's watermark is at most the largest aggregation-row
//     time of every partition delivered in earlier batches minus the delay
//     (MaxOutOfOrderness + AllowedLateness), the drop saw that watermark,
//     and some window of the record ends at or before it (sessions: t + gap
//     <= W). The record is left out of its windows ending at or before W.
//
// With a join, the drops are of the join's side rows, checked over each
// side's rows and the join's watermark, the minimum of the sides'
// ([dataflow.JoinInput]; see verifyJoinLate): LateRuleDataflow as above;
// LateRuleSpark by microbatch's join rule (MJ2, MJ3), whose watermark is
// the minimum over both sides of the largest side-row time of earlier
// batches minus the join's bound alone, and which drops a side row whole
// once W >= end + AllowedLateness for one of its windows.
func VerifyLate(p *dataflow.Pipeline, log *datasets.Log, out *Outcome) (LateAccount, exclusions, error) {
	acc := LateAccount{Rule: out.LateRule, Reported: len(out.Late)}
	ex := exclusions{}
	if len(out.Late) == 0 {
		return acc, ex, nil
	}
	a := p.Agg
	hasWatermark := a != nil && a.Domain == dataflow.EventTime && a.TimeCol != "" &&
		(a.Window.Kind == dataflow.WindowFixed || a.Window.Kind == dataflow.WindowSliding || a.Window.Kind == dataflow.WindowSession)
	unverified := func(l dataflow.LateRecord, format string, args ...any) {
		acc.Unverified++
		if len(acc.Examples) < maxExamples {
			acc.Examples = append(acc.Examples, fmt.Sprintf("%v (watermark %s): ", l.RecordRef, timeText(l.Watermark))+fmt.Sprintf(format, args...))
		}
	}
	if p.Join != nil {
		ex, err := verifyJoinLate(p, log, out, &acc, unverified)
		return acc, ex, err
	}
	if !hasWatermark || out.LateRule == LateRuleNone {
		why := "the pipeline has no watermark (count or processing-time windows, global or stateless): nothing may be dropped as late"
		if hasWatermark {
			why = "the runtime's model has no late rule: nothing may be dropped as late"
		}
		for _, l := range out.Late {
			unverified(l, "%s", why)
		}
		return acc, ex, nil
	}
	parts := log.Partitions()
	queries, err := lateQueries(out, parts)
	if err != nil {
		return acc, nil, err
	}
	facts, err := recompute(p, log, out.Late, queries)
	if err != nil {
		return acc, nil, err
	}
	lateness := dataflow.Time(dataflow.Millis(a.AllowedLateness))
	bound := dataflow.Time(dataflow.Millis(a.Watermark.MaxOutOfOrderness))
	var wins []dataflow.Window
	for _, l := range out.Late {
		if l.Partition < 0 || l.Partition >= parts || l.Offset < 0 || l.Offset >= log.End(l.Partition) {
			unverified(l, "no such record in the log")
			continue
		}
		t, ok := facts.t[l.RecordRef]
		if !ok {
			unverified(l, "the record reaches no aggregation")
			continue
		}
		key := exclusionKey{l.RecordRef, l.Key, noSide}
		switch out.LateRule {
		case LateRuleDataflow:
			// I5: late for its earliest window, or for sessions W > t + L.
			late := false
			if a.Window.Kind == dataflow.WindowSession {
				late = l.Watermark > addSat(t, lateness)
			} else {
				wins = a.Window.Assign(wins[:0], t)
				first := dataflow.MaxTime
				for _, w := range wins {
					first = min(first, w.End)
				}
				late = l.Watermark >= addSat(first, lateness)
			}
			if !late {
				unverified(l, "event time %s is not late under I5 at that watermark", timeText(t))
				continue
			}
			if l.Replay {
				if l.LostAbove != dataflow.MaxTime && l.LostAbove > l.Watermark {
					unverified(l, "a replay whose earlier delivery is said lost above %s, after the drop's watermark", timeText(l.LostAbove))
					continue
				}
				acc.Replays++
				ex.add(key, l.LostAbove, dataflow.MaxTime)
				continue
			}
			if a.Watermark.IdleTimeout <= 0 {
				if u := subSat(facts.before(l.Partition, l.Offset), bound); l.Watermark > u {
					unverified(l, "the highest watermark the partition's records before it allow is %s", timeText(u))
					continue
				}
			}
			acc.Verified++
			ex.add(key, dataflow.MinTime, dataflow.MaxTime)
		case LateRuleSpark:
			b, why := deliveringBatch(out, l)
			if why != "" {
				unverified(l, "%s", why)
				continue
			}
			if l.Watermark != b.Watermark {
				unverified(l, "batch %d applied watermark %s", l.Batch, timeText(b.Watermark))
				continue
			}
			wm := dataflow.MinTime
			if l.Batch > 0 {
				prev := out.Batches[l.Batch-1]
				for q := range parts {
					wm = max(wm, facts.before(q, endOf(prev, q)))
				}
			}
			if u := subSat(wm, bound+lateness); l.Watermark > u {
				unverified(l, "the highest watermark the rows of batches before %d allow is %s", l.Batch, timeText(u))
				continue
			}
			late := false
			if a.Window.Kind == dataflow.WindowSession {
				late = addSat(t, dataflow.Time(a.Window.Gap)) <= l.Watermark
			} else {
				wins = a.Window.Assign(wins[:0], t)
				for _, w := range wins {
					late = late || w.End <= l.Watermark
				}
			}
			if !late {
				unverified(l, "no window of event time %s ends at or before the watermark", timeText(t))
				continue
			}
			acc.Verified++
			ex.add(key, dataflow.MinTime, l.Watermark)
		}
	}
	return acc, ex, nil
}

// endOf is the cumulative end offset of partition p after batch b.
// deliveringBatch returns the batch that delivered the dropped record l
// (LateRuleSpark), or why l's batch cannot have: it is not among the run's
// batches, or its offsets do not hold l.
func deliveringBatch(out *Outcome, l dataflow.LateRecord) (BatchDelivery, string) {
	if l.Batch < 0 || l.Batch >= len(out.Batches) {
		return BatchDelivery{}, fmt.Sprintf("batch %d is not among the run's %d batches", l.Batch, len(out.Batches))
	}
	b := out.Batches[l.Batch]
	from := int64(0)
	if l.Batch > 0 {
		from = endOf(out.Batches[l.Batch-1], l.Partition)
	}
	if l.Offset < from || l.Offset >= endOf(b, l.Partition) {
		return BatchDelivery{}, fmt.Sprintf("batch %d did not deliver it (partition %d offsets [%d, %d))", l.Batch, l.Partition, from, endOf(b, l.Partition))
	}
	return b, ""
}

func endOf(b BatchDelivery, p int) int64 {
	if p < len(b.End) {
		return b.End[p]
	}
	return 0
}

func addSat(t, d dataflow.Time) dataflow.Time {
	if d > 0 && t > dataflow.MaxTime-d {
		return dataflow.MaxTime
	}
	return t + d
}

func subSat(t, d dataflow.Time) dataflow.Time {
	if t == dataflow.MinTime || (d > 0 && t < dataflow.MinTime+d) {
		return dataflow.MinTime
	}
	return t - d
}

func timeText(t dataflow.Time) string {
	switch t {
	case dataflow.MinTime:
		return "-inf"
	case dataflow.MaxTime:
		return "+inf"
	}
	return fmt.Sprintf("%d ms", int64(t))
}
