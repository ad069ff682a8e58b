package recordstream

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/weirlab/weir/dataflow"
)

// TestTaskLoopsDoNotAllocate locks in zero allocations per tuple in the
// steady state of the spout (read, chained steps, fields grouping, batched
// transfer) and of the windowed bolt (operator Add for an existing window).
func TestTaskLoopsDoNotAllocate(t *testing.T) {
	src, p := ysbFixture(1<<14, 1)
	tp, err := compile(p, src, (&Config{Parallelism: 2}).withDefaults(), nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	// Consumers that only return batches, so the spout never blocks.
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for _, w := range tp.windows {
		wg.Go(func() {
			for {
				select {
				case b := <-w.in.ch:
					b.release()
				case <-ctx.Done():
					return
				}
			}
		})
	}
	s := tp.spouts[0]
	off := int64(0)
	end := src.End(0)
	emit := func() {
		if err := s.emitRecord(ctx, off); err != nil {
			t.Fatal(err)
		}
		off = (off + 1) % end
	}
	for range 4096 { // warm up: batches, rows, maps
		emit()
	}
	if a := testing.AllocsPerRun(10000, emit); a != 0 {
		t.Errorf("spout emitRecord: %v allocs per record, want 0", a)
	}

	// The windowed bolt: a batch of views for windows that already exist.
	w := tp.windows[0]
	b := &batch{edge: newEdge(&inbox{ch: make(chan *batch, 1)}, 1, 256, nil)}
	row := make(dataflow.Row, 0, 8)
	for i := range 256 {
		r, ing := src.Read(0, int64(i), row[:0])
		for !s.chainPasses(r) {
			i++
			r, ing = src.Read(0, int64(i), row[:0])
		}
		out := append(dataflow.Row(nil), s.chain.steps[len(s.chain.steps)-1].buf...)
		b.ts = append(b.ts, tuple{Kind: msgData, Row: out, Ingest: ing, Time: out[5].Time()})
	}
	require.NoError(t, w.deliver(ctx, b, nil, w, true)) // creates the windows
	if a := testing.AllocsPerRun(100, func() {
		if err := w.deliver(ctx, b, nil, w, true); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("window process: %v allocs per batch of 256, want 0", a)
	}
}

// chainPasses runs r through the chain without emitting and reports whether
// a tuple came out (test helper).
func (s *spoutTask) chainPasses(r dataflow.Row) bool {
	passed := false
	emit := s.chain.emit
	s.chain.emit = func(context.Context, dataflow.Row) error { passed = true; return nil }
	_ = s.chain.run(context.Background(), r)
	s.chain.emit = emit
	return passed
}

// TestJoinSpoutDoesNotAllocate locks in zero allocations per record in a
// join pipeline's spout: shared steps, both side chains, the fields
// grouping on the join key and the batched transfer to the join tasks.
func TestJoinSpoutDoesNotAllocate(t *testing.T) {
	src := newNexmarkSource(9, 1<<13, 1, 10)
	p := joinShapes()["windowed"]
	// Few, small batches per edge: the warm-up gives every slot its row.
	tp, err := compile(p, src, (&Config{Parallelism: 2, QueueBatches: 2, BatchSize: 64}).withDefaults(), nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for _, j := range tp.joins {
		wg.Go(func() {
			for {
				select {
				case b := <-j.in.ch:
					b.release()
				case <-ctx.Done():
					return
				}
			}
		})
	}
	s := tp.spouts[0]
	off, end := int64(0), src.End(0)
	emit := func() {
		if err := s.emitRecord(ctx, off); err != nil {
			t.Fatal(err)
		}
		off = (off + 1) % end
	}
	for range 4096 {
		emit()
	}
	if a := testing.AllocsPerRun(10000, emit); a != 0 {
		t.Errorf("join spout emitRecord: %v allocs per record, want 0", a)
	}
	require.Positive(t, s.stats.emitted, "side rows emitted")
}
