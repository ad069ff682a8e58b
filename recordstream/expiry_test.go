package recordstream

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/weirlab/weir/dataflow"
)

// TestExpiryQueueMatchesNaive runs random pushes (runs of equal expiries,
// as fixed windows give, and scattered ones, as sessions give), watermark
// releases and filters against a plain list: every release returns
// exactly the tuples of expiry at most the watermark, each once.
func TestExpiryQueueMatchesNaive(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 3))
		var q expiryQueue
		var naive []held
		next := uint64(1)
		wm := int64(0)
		for step := range 3000 {
			switch op := rng.IntN(10); {
			case op < 6: // a run of pushes
				exp := wm + 1 + rng.Int64N(50)
				for range rng.IntN(8) + 1 {
					if rng.IntN(4) == 0 {
						exp = wm + 1 + rng.Int64N(50)
					}
					h := held{exp: exp, root: next}
					next++
					q.push(h)
					naive = append(naive, h)
				}
			case op < 9: // a watermark
				wm += rng.Int64N(10)
				var got []uint64
				for b := q.popDue(wm); b != nil; b = q.popDue(wm) {
					for _, h := range b.hs {
						require.LessOrEqual(t, h.exp, wm, "seed %d step %d: released before its expiry", seed, step)
						got = append(got, h.root)
					}
					q.recycle(b)
				}
				var want []uint64
				naive = slices.DeleteFunc(naive, func(h held) bool {
					if h.exp <= wm {
						want = append(want, h.root)
						return true
					}
					return false
				})
				slices.Sort(got)
				slices.Sort(want)
				require.Equal(t, want, got, "seed %d step %d: released at watermark %d", seed, step, wm)
			default: // a filter (a merged session taken back)
				odd := func(h held) bool { return h.root%3 == 0 }
				var got []uint64
				q.removeIf(func(h held) bool {
					if odd(h) {
						got = append(got, h.root)
						return true
					}
					return false
				})
				var want []uint64
				naive = slices.DeleteFunc(naive, func(h held) bool {
					if odd(h) {
						want = append(want, h.root)
						return true
					}
					return false
				})
				slices.Sort(got)
				slices.Sort(want)
				require.Equal(t, want, got, "seed %d step %d: taken by the filter", seed, step)
			}
			require.Equal(t, len(naive), q.len(), "seed %d step %d", seed, step)
			q.check()
		}
		n := 0
		q.each(func(*held) { n++ })
		require.Equal(t, len(naive), n, "seed %d: each visits every held tuple", seed)
		q.reset()
		require.Zero(t, q.len())
		require.Nil(t, q.popDue(maxHeld), "seed %d: reset leaves nothing to release", seed)
	}
}

// TestKeptRowsKeepsOrderAcrossChunks checks the sink's chunked store of a
// stateless pipeline's records: every record comes back once, in order,
// across chunk boundaries, and a chunk filled once is never copied (its
// first element keeps its address).
func TestKeptRowsKeepsOrderAcrossChunks(t *testing.T) {
	var k keptRows
	const n = 2*resultChunkLen + 5
	var first *dataflow.Result
	for i := range n {
		k.add(dataflow.Result{Key: "k", Value: dataflow.Int(int64(i))})
		if i == 0 {
			first = &k.chunks[0][0]
		}
	}
	require.Same(t, first, &k.chunks[0][0], "adding records moved a filled chunk")
	require.Len(t, k.chunks, 3)
	got := k.appendTo([]dataflow.Result{{Key: "before"}})
	require.Len(t, got, n+1)
	require.Equal(t, "before", got[0].Key)
	for i, r := range got[1:] {
		require.Equal(t, int64(i), r.Value.I, "record %d", i)
	}
}
