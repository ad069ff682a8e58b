// Package drive is the part a runtime plays in the labs whose operator
// the student writes by hand (sessions, trending): it reads a closed log
// one record at a time and keeps the watermark, and the lab's Run calls
// the operator from the two callbacks.
//
// [Log] reads the partitions round robin, each in offset order, as a
// runtime's tasks would interleave them, and keeps the watermark with a
// [dataflow.WatermarkTracker] (each partition's largest event time minus
// the bound, the minimum over partitions). Once every partition is done
// the watermark is [dataflow.MaxTime], which fires everything still open.
// It starts no goroutines, reads no clock and does no I/O beyond the
// in-memory log.
package drive

import (
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// Log drives the closed log l with a watermark bounded by bound of
// out-of-orderness. For each record it calls record with the record's
// place, its row (reused by the next call: copy what you keep), and the
// watermark before the record; the record's event time is read from
// column timeCol. Whenever the watermark moves it calls advance with the
// new one, and last with dataflow.MaxTime (unless it already reached it).
func Log(l *datasets.Log, timeCol int, bound time.Duration,
	record func(ref dataflow.RecordRef, row dataflow.Row, wm dataflow.Time),
	advance func(wm dataflow.Time)) {
	np := l.Partitions()
	wt := dataflow.NewWatermarkTracker(np, dataflow.WatermarkPolicy{MaxOutOfOrderness: bound})
	wm := dataflow.MinTime
	next := make([]int64, np)
	var row dataflow.Row
	for open := np; open > 0; {
		open = 0
		for p := range np {
			if next[p] >= l.End(p) {
				continue
			}
			open++
			row, _ = l.Read(p, next[p], row)
			record(dataflow.RecordRef{Partition: p, Offset: next[p]}, row, wm)
			next[p]++
			wt.Observe(p, row[timeCol].Time(), 0)
			if next[p] == l.End(p) {
				wt.Finish(p)
			}
			if w := wt.Current(0); w != wm {
				wm = w
				advance(wm)
			}
		}
	}
	if wm != dataflow.MaxTime { // an empty log
		advance(dataflow.MaxTime)
	}
}
