package dataflow_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/script"
)

// TestWatermarkTrackerScript runs testdata/watermark/*.txt. Commands:
//
//	new inputs=N [delay=MS] [idle=MS]  a tracker (MaxOutOfOrderness, IdleTimeout)
//	obs in=I t=T [now=N]               Observe a record with event time T
//	adv in=I w=T [now=N]               Advance with a watermark message
//	fin in=I [now=N]                   Finish the input
//	current [now=N]                    no change, only the query
//
// Every command but new prints Current(now) (now defaults to 0).
func TestWatermarkTrackerScript(t *testing.T) {
	var (
		tr   *dataflow.WatermarkTracker
		file *testing.T // the file tr belongs to: each file starts afresh
	)
	script.Walk(t, "testdata/watermark", func(t *testing.T, c *script.Cmd) string {
		if file != t {
			tr, file = nil, t
		}
		if c.Name == "new" {
			tr = dataflow.NewWatermarkTracker(c.Int(t, "inputs"), dataflow.WatermarkPolicy{
				MaxOutOfOrderness: time.Duration(scriptIntArg(t, c, "delay", 0)) * time.Millisecond,
				IdleTimeout:       time.Duration(scriptIntArg(t, c, "idle", 0)) * time.Millisecond,
			})
			return ""
		}
		if tr == nil {
			t.Fatalf("%s: %s before new", c.Pos, c.Name)
		}
		now := scriptTimeArg(t, c, "now", 0)
		switch c.Name {
		case "obs":
			tr.Observe(c.Int(t, "in"), scriptTimeArg(t, c, "t", 0), now)
		case "adv":
			tr.Advance(c.Int(t, "in"), scriptTimeArg(t, c, "w", 0), now)
		case "fin":
			tr.Finish(c.Int(t, "in"))
		case "current":
		default:
			t.Fatalf("%s: unknown command %q", c.Pos, c.Name)
		}
		return scriptTime(tr.Current(now))
	})
}

// TestWatermarkNeverDecreases checks DW1 on random observations, messages,
// idleness and finishes.
func TestWatermarkNeverDecreases(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		tr := dataflow.NewWatermarkTracker(4, dataflow.WatermarkPolicy{
			MaxOutOfOrderness: time.Duration(rng.IntN(50)) * time.Millisecond,
			IdleTimeout:       time.Duration(rng.IntN(3)*20) * time.Millisecond,
		})
		prev := dataflow.MinTime
		now := dataflow.Time(0)
		for i := range 2000 {
			now += dataflow.Time(rng.IntN(10))
			in := rng.IntN(4)
			switch r := rng.IntN(100); {
			case r < 80:
				tr.Observe(in, dataflow.Time(rng.IntN(10000)), now)
			case r < 98:
				tr.Advance(in, dataflow.Time(rng.IntN(10000)), now)
			default:
				tr.Finish(in)
			}
			cur := tr.Current(now)
			require.GreaterOrEqual(t, cur, prev, "seed %d step %d: watermark went back from %d to %d", seed, i, prev, cur)
			prev = cur
		}
	}
}

func TestWatermarkObserveAllocs(t *testing.T) {
	tr := dataflow.NewWatermarkTracker(8, dataflow.WatermarkPolicy{MaxOutOfOrderness: time.Second, IdleTimeout: time.Second})
	var i int
	allocs := testing.AllocsPerRun(1000, func() {
		tr.Observe(i%8, dataflow.Time(i), dataflow.Time(i))
		_ = tr.Current(dataflow.Time(i))
		i++
	})
	assert.Zero(t, allocs, "Observe+Current allocations per call")
}

func TestWatermarkTrackerBadInputPanics(t *testing.T) {
	tr := dataflow.NewWatermarkTracker(2, dataflow.WatermarkPolicy{})
	assert.PanicsWithValue(t, "dataflow: watermark tracker has 2 inputs, no input 2", func() { tr.Observe(2, 0, 0) })
}

func ExampleWatermarkTracker() {
	tr := dataflow.NewWatermarkTracker(2, dataflow.WatermarkPolicy{MaxOutOfOrderness: 10 * time.Millisecond})
	tr.Observe(0, 1000, 0)
	fmt.Println(tr.Current(0) == dataflow.MinTime) // input 1 has no data yet
	tr.Observe(1, 500, 0)
	fmt.Println(int64(tr.Current(0)))
	tr.Finish(1)
	fmt.Println(int64(tr.Current(0)))
	// Output:
	// true
	// 490
	// 990
}
