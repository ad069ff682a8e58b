package microbatch

import (
	"context"
	"math"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/weirlab/weir/dataflow"
)

// block is what the receiver stores every block interval (2.2): the records
// received since the previous block, read into memory at once. A batch is
// made of the blocks received before its time, and holds their memory
// until it is processed: with a job slower than the batch interval,
// received data piles up (MB2).
type block struct {
	ranges  []OffsetRange
	recs    [][]arrow.Record // per range
	records int64
	bytes   int64
}

func recordBytes(rec arrow.Record) int64 {
	var n int64
	for _, c := range rec.Columns() {
		n += dataBytes(c.Data())
	}
	return n
}

func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	return n
}

func (b *block) release() {
	for _, rs := range b.recs {
		for _, r := range rs {
			r.Release()
		}
	}
	b.recs = nil
}

// receive is the receiver with its BlockGenerator: every block interval it
// reads what arrived, up to the rate limit (records/s of the clock), into a
// block for the tracker.
func (d *driver) receive(ctx context.Context) error {
	clk := d.cfg.Clock
	for {
		closed := d.src.Closed()
		d.mu.Lock()
		rate := d.rate
		d.mu.Unlock()
		if !d.cfg.Backpressure {
			rate = 0
		}
		budget := int64(math.MaxInt64)
		if rate > 0 {
			budget = max(int64(rate*d.cfg.BlockInterval.Seconds()), 1)
		}
		blk := &block{}
		done := true
		for p := range d.offsets {
			end := d.src.End(p)
			to := d.offsets[p] + min(end-d.offsets[p], budget)
			if to < end {
				done = false
			}
			if to <= d.offsets[p] {
				continue
			}
			recs, err := d.src.Read(p, d.offsets[p], to, d.cfg.Allocator, d.cfg.MaxBatchRows)
			if err != nil {
				for _, r := range recs {
					r.Release()
				}
				blk.release()
				return err
			}
			for _, r := range recs {
				blk.bytes += recordBytes(r)
			}
			blk.ranges = append(blk.ranges, OffsetRange{Partition: p, From: d.offsets[p], Until: to})
			blk.recs = append(blk.recs, recs)
			blk.records += to - d.offsets[p]
			budget -= to - d.offsets[p]
			d.offsets[p] = to
		}
		d.mu.Lock()
		if blk.records > 0 {
			d.blocks = append(d.blocks, blk)
		}
		d.recvDone = closed && done
		d.mu.Unlock()
		if closed && done {
			return nil
		}
		select {
		case <-clk.After(d.cfg.BlockInterval):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// generateFromBlocks is the JobGenerator of receiver mode: at each batch
// time it allocates every block received so far to the batch (2.1).
func (d *driver) generateFromBlocks(ctx context.Context, start []int64) error {
	defer d.genFinished()
	clk := d.cfg.Clock
	bMs := d.cfg.BatchInterval.Milliseconds()
	if d.nextT == math.MinInt64 {
		d.nextT = (dataflow.FloorDiv(clk.Now().UnixMilli(), bMs) + 1) * bMs
	}
	alloc := start // the receiver owns d.offsets
	for {
		t := d.nextT
		if wait := time.UnixMilli(t).Sub(clk.Now()); wait > 0 {
			select {
			case <-clk.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		d.mu.Lock()
		blks, done := d.blocks, d.recvDone
		d.blocks = nil
		d.mu.Unlock()
		b := &batch{seq: d.seq, tMs: t, taken: d.taken, procWM: math.MaxInt64, final: done}
		for _, blk := range blks {
			for i, r := range blk.ranges {
				b.ranges = append(b.ranges, r)
				b.recs = append(b.recs, blk.recs[i])
				alloc[r.Partition] = r.Until
			}
			b.records += blk.records
			b.heldBytes += blk.bytes
		}
		closed := d.src.Closed()
		for p, off := range alloc {
			if off < d.src.End(p) {
				b.procWM = min(b.procWM, dataflow.FloorDiv(d.src.IngestAt(p, off), 1e6))
			} else if !closed {
				b.procWM = min(b.procWM, t)
			}
		}
		b.after = append([]int64(nil), alloc...)
		d.taken += b.records
		d.seq++
		if err := d.push(ctx, b); err != nil {
			return err
		}
		d.nextT += bMs
		if b.final {
			return nil
		}
	}
}
