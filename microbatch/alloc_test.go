package microbatch

import (
	"math"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/datasets"
)

// MK4: once a task's cells exist, running the kernels over a record batch
// allocates nothing, whatever the number of rows.
func TestHotPathAllocatesNothing(t *testing.T) {
	l := testLog(t, 9, 4000, 1, 10_000, 100)
	src := datasets.NewArrowSource(l)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	for _, name := range []string{"fixed-count", "lookup-having", "sliding-multi", "sliding-having", "sliding-uneven", "proc-fixed"} {
		t.Run(name, func(t *testing.T) {
			cfg := Config{}.withDefaults()
			pl, err := newPlan(shapes()[name], &cfg)
			require.NoError(t, err)
			x, err := pl.newExec()
			require.NoError(t, err)
			recs, err := src.Read(0, 0, l.End(0), mem, 4000)
			require.NoError(t, err)
			defer func() {
				for _, r := range recs {
					r.Release()
				}
			}()
			x.agg.startTask(math.MinInt64)
			step := func() {
				for _, rec := range recs {
					require.NoError(t, x.load(rec))
					require.NoError(t, x.run())
					x.agg.consume(x, 0, 0)
				}
			}
			step() // creates the cells and sizes the buffers
			allocs := testing.AllocsPerRun(10, step)
			assert.Zero(t, allocs, "allocations per record batch of %d rows", l.End(0))
		})
	}
}

// MK5: merging a task's cells into cells the state already holds costs no
// allocation and no string hashing: key ids are translated once per exec
// and key, and windows find their cells by key id.
func TestStoreCommitAllocatesNothing(t *testing.T) {
	l := testLog(t, 9, 4000, 1, 10_000, 100)
	src := datasets.NewArrowSource(l)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	for _, name := range []string{"fixed-count", "sliding-having", "sliding-multi", "lookup-having"} {
		t.Run(name, func(t *testing.T) {
			cfg := Config{}.withDefaults()
			pl, err := newPlan(shapes()[name], &cfg)
			require.NoError(t, err)
			x, err := pl.newExec()
			require.NoError(t, err)
			recs, err := src.Read(0, 0, l.End(0), mem, 4000)
			require.NoError(t, err)
			defer func() {
				for _, rec := range recs {
					rec.Release()
				}
			}()
			x.agg.startTask(math.MinInt64)
			for _, rec := range recs {
				require.NoError(t, x.load(rec))
				require.NoError(t, x.run())
				x.agg.consume(x, 0, 0)
			}
			o := x.agg.finishTask()
			require.Positive(t, o.part.len())
			// Without a maximum event time the watermark stays at -inf, so
			// no window is evicted and every commit merges into the same
			// cells.
			o.maxEvent = math.MinInt64
			st := newStore(pl)
			st.commit(0, 0, []*taskOut{o}, math.MinInt64, false)
			cells := st.live()
			seq := int64(1)
			allocs := testing.AllocsPerRun(10, func() {
				st.commit(seq, seq*1000, []*taskOut{o}, math.MinInt64, false)
				seq++
			})
			assert.Zero(t, allocs, "allocations per commit of %d cells", o.part.len())
			assert.Equal(t, cells, st.live(), "commits of the same cells add none")
			assert.Equal(t, int64(12)*o.part.n[0], st.cells.n[0], "the first cell holds every commit's rows")
		})
	}
}
