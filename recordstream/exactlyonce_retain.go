package recordstream

import (
	"fmt"

	"github.com/weirlab/weir/recordstream/checkpoint"
)

// resumePoints tells a [Retainer] source what the exactly-once mode may
// still read. A restart resumes each spout at its offset in the newest
// completed checkpoint it can restore, falling back to older kept ones
// (KeepCheckpoints) when the newest is damaged; so once a checkpoint
// completes, nothing below the oldest kept checkpoint's offsets is read
// again, and that is what is retained, as Flink's Kafka source commits
// its offsets on checkpoint completion. (A run none of whose kept
// checkpoints restores starts over from offset 0, which a log that has
// released it refuses with its out-of-range error.) Only the coordinator's
// goroutine uses it, one incarnation after the other.
type resumePoints struct {
	src     Retainer
	parts   int
	pending map[checkpoint.ID][]int64 // a checkpoint's spout offsets so far (-1: not yet)
	kept    [][]int64                 // the completed checkpoints' offsets, oldest first
	told    []int64                   // the positions reported per partition
}

func newResumePoints(src Source) resumePoints {
	r, _ := src.(Retainer)
	return resumePoints{src: r, parts: src.Partitions(), pending: map[checkpoint.ID][]int64{}, told: make([]int64, src.Partitions())}
}

// note records that partition part resumes at next from checkpoint id.
func (r *resumePoints) note(id checkpoint.ID, part int, next int64) {
	if r.src == nil {
		return
	}
	offs := r.pending[id]
	if offs == nil {
		offs = make([]int64, r.parts)
		for i := range offs {
			offs[i] = -1
		}
		r.pending[id] = offs
	}
	offs[part] = next
}

// forget drops an aborted checkpoint's offsets.
func (r *resumePoints) forget(id checkpoint.ID) { delete(r.pending, id) }

// complete keeps checkpoint id's offsets among the newest keep completed
// ones and reports, per partition, the lowest offset of those it keeps.
func (r *resumePoints) complete(id checkpoint.ID, keep int) error {
	if r.src == nil {
		return nil
	}
	offs, ok := r.pending[id]
	delete(r.pending, id)
	for older := range r.pending {
		if older < id { // overtaken: a later checkpoint completed first
			delete(r.pending, older)
		}
	}
	if !ok {
		return fmt.Errorf("recordstream: checkpoint %d completed without its spouts' offsets (internal error)", id)
	}
	for p, off := range offs {
		if off < 0 {
			return fmt.Errorf("recordstream: checkpoint %d completed without the offset of partition %d's spout (internal error)", id, p)
		}
	}
	r.kept = append(r.kept, offs)
	if len(r.kept) > keep {
		r.kept = r.kept[len(r.kept)-keep:]
	}
	for p := range r.parts {
		low := r.kept[0][p]
		for _, k := range r.kept[1:] {
			low = min(low, k[p])
		}
		if low <= r.told[p] {
			continue
		}
		r.told[p] = low
		if err := r.src.Retain(p, low); err != nil {
			return err
		}
	}
	return nil
}
