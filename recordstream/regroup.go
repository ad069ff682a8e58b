package recordstream

import (
	"context"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/recordstream/checkpoint"
)

// regroupTask is the regroup bolt of a pipeline with a Pipeline.Then: a
// [dataflow.RegroupOperator] behind a fields grouping on Regroup.Key from
// the window tasks, which send their on-time results as rows of
// [dataflow.Aggregation.ResultSchema] and forward their watermarks; its
// tracker's minimum over the window tasks fires a window once all of them
// have passed its end, and its panes go to the sink. A result for a window
// the regroup fired (a window task's re-fire) is dropped and counted
// (regroup_late_rows). Results are panes, which no mode anchors, so the
// task acks nothing. One goroutine owns it.
type regroupTask struct {
	*taskBase
	t     *topo
	index int
	out   *edge

	op       *dataflow.RegroupOperator
	tracker  *dataflow.WatermarkTracker
	eos      []bool
	eosN     int
	finished bool
	panes    []tuple
	slowDebt time.Duration
	proto    boltProtocol // nil: Storm's modes
	stats    regroupStats
}

type regroupStats struct {
	rows, late int64
}

func (g *regroupTask) init() error {
	g.eos = make([]bool, len(g.inputs))
	op, err := dataflow.NewRegroupOperator(g.t.agg, g.t.then, g.t.last, dataflow.RegroupConfig{Emit: g.onPane})
	if err != nil {
		return err
	}
	g.op = op
	g.tracker = dataflow.NewWatermarkTracker(len(g.inputs), dataflow.WatermarkPolicy{})
	return nil
}

// onPane queues a regroup result as a pane tuple for the sink, sent after
// the operator call returns.
func (g *regroupTask) onPane(p dataflow.Pane) {
	n := len(g.panes)
	if n < cap(g.panes) {
		g.panes = g.panes[:n+1]
	} else {
		g.panes = append(g.panes, tuple{})
	}
	tp := &g.panes[n]
	row := append(tp.Row[:0], dataflow.Str(p.Key), p.Value)
	row = append(row, p.Extra...)
	*tp = tuple{Kind: msgPane, Src: int32(g.id), Row: row, Win: p.Window, Time: p.MaxEventTime,
		Ingest: p.MaxIngestNanos, Aux: int64(p.Index), Partition: int32(p.Timing), Offset: int64(g.op.Watermark())}
}

func (g *regroupTask) sendPanes(ctx context.Context) error {
	for i := range g.panes {
		if err := g.out.put(ctx, &g.panes[i]); err != nil {
			return err
		}
	}
	g.panes = g.panes[:0]
	return nil
}

// handle handles one message from input channel ch (the window task of
// that index): a result row, a watermark or end-of-stream.
func (g *regroupTask) handle(ctx context.Context, ch int, tp *tuple) error {
	switch tp.Kind {
	case msgPane:
		g.stats.rows++
		g.slowDebt += g.t.cfg.Faults.Slow
		if g.op.AddRowEvent(tp.Win, tp.Row, tp.Ingest, tp.Time) { // the first-stage pane's MaxEventTime
			g.stats.late++
		}
		return nil
	case msgWatermark:
		if tp.Time == dataflow.MaxTime {
			g.tracker.Finish(ch)
		} else {
			g.tracker.Advance(ch, tp.Time, dataflow.Time(g.t.now()/1e6))
		}
		return g.advance(ctx)
	case msgEOS:
		if !g.eos[ch] {
			g.eos[ch] = true
			g.eosN++
			g.tracker.Finish(ch)
		}
		return g.advance(ctx)
	}
	return nil
}

// advance applies the tracker's watermark to the operator.
func (g *regroupTask) advance(ctx context.Context) error {
	if g.finished {
		return nil
	}
	wm := g.tracker.Current(dataflow.Time(g.t.now() / 1e6))
	if wm <= g.op.Watermark() {
		return nil
	}
	if wm == dataflow.MaxTime {
		g.finished = true
		g.op.Finish()
	} else {
		g.op.AdvanceWatermark(wm)
	}
	return g.sendPanes(ctx)
}

// lost: a regroup task is never a crash point (the window tasks take the
// records in).
func (g *regroupTask) lost([]tuple) {}

// run is the regroup bolt's loop, for every guarantee it supports.
func (g *regroupTask) run(ctx context.Context) error {
	t := g.t
	if g.proto != nil {
		if err := g.proto.start(ctx, g); err != nil {
			return err
		}
	}
	for g.eosN < len(g.eos) {
		b, err := g.receive(ctx, g.proto)
		if err != nil {
			return err
		}
		if b == nil {
			continue // a notice
		}
		start := t.now()
		err = g.deliver(ctx, b, g.proto, g, false)
		b.release()
		if err != nil {
			return err
		}
		if err := g.pay(ctx, &g.slowDebt); err != nil {
			return err
		}
		g.busy.Add(t.now() - start)
		if len(g.in.ch) == 0 {
			if err := g.out.flush(ctx); err != nil {
				return err
			}
		}
	}
	if !g.finished { // every input ended: the tracker is at MaxTime
		g.finished = true
		g.op.Finish()
		if err := g.sendPanes(ctx); err != nil {
			return err
		}
	}
	if g.proto != nil {
		if err := g.proto.finish(ctx, g); err != nil {
			return err
		}
	}
	tp, err := g.out.slot(ctx)
	if err != nil {
		return err
	}
	tp.Kind, tp.Src = msgEOS, int32(g.id)
	return g.out.flush(ctx)
}

// forward sends barrier id to the sink (exactly-once).
func (g *regroupTask) forward(ctx context.Context, id checkpoint.ID) error {
	return sendBarrier(ctx, g.out, g.id, id)
}
