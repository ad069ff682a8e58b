package recordstream

import (
	"context"

	"github.com/weirlab/weir/recordstream/internal/acking"
)

type ackerStats struct {
	results int64
}

// ackerTask wraps the pure [acking.Acker] in a task: it takes init and ack
// messages from its queue (fields grouping on the root id) and answers the
// spout that owns a completed or failed tree with a direct emit. It rotates
// its map every message timeout of the injected clock. One goroutine owns it.
type ackerTask struct {
	*taskBase
	t          *topo
	out        []*edge // one per spout task, indexed by spout id (direct grouping)
	core       *acking.Acker
	lastRotate int64
	stats      ackerStats
	tr         *tracker // counts the entries against the budget (RB1)
}

func (a *ackerTask) init() {
	a.core = acking.NewAckerOf(len(a.t.ackers))
	a.lastRotate = a.t.now()
	a.tr = a.t.newTracker()
}

func (a *ackerTask) run(ctx context.Context) error {
	t := a.t
	timeout := int64(t.cfg.MessageTimeout)
	eos := make(map[int32]bool, len(a.inputs))
	for len(eos) < len(a.inputs) {
		var b *batch
		select {
		case b = <-a.in.ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		now := t.now()
		if n := (now - a.lastRotate) / timeout; n > 0 {
			a.core.RotateN(n) // bounded cost, however long the gap
			a.lastRotate += n * timeout
		}
		for i := range b.ts {
			m := &b.ts[i]
			switch m.Kind {
			case msgEOS:
				eos[m.Src] = true
			case msgAck:
				res, ok := a.core.Execute(acking.AckMsg{Kind: acking.AckKind(m.Aux), Root: m.Root, Val: m.Edge, SpoutTask: int(m.Src)}, now)
				if !ok {
					continue
				}
				a.stats.results++
				e := a.out[direct.choose(len(a.out), 0, res.SpoutTask)]
				tp, err := e.slot(ctx)
				if err != nil {
					return err
				}
				tp.Kind, tp.Aux, tp.Root, tp.Ingest, tp.Src = msgAckResult, int64(res.Kind), res.Root, res.DeltaNanos, int32(a.id)
				if err := e.commit(ctx); err != nil {
					return err
				}
			}
		}
		b.release()
		var n [numTracked]int64
		n[trackAcker] = int64(a.core.Pending())
		if err := a.tr.publish(&n, 0); err != nil {
			return err
		}
		a.busy.Add(t.now() - now)
		if len(a.in.ch) == 0 {
			for _, e := range a.out {
				if err := e.flush(ctx); err != nil {
					return err
				}
			}
		}
	}
	for _, e := range a.out {
		tp, err := e.slot(ctx)
		if err != nil {
			return err
		}
		tp.Kind, tp.Src = msgEOS, int32(a.id)
		if err := e.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}
