package dataflow_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// wmStep is one step of a watermark tracker case: an observation, a
// watermark message or a finish on one input, then the expected Current at
// processing time now.
type wmStep struct {
	op    string // "obs", "adv", "fin" or "" (only query)
	input int
	t     dataflow.Time // event time or watermark
	now   dataflow.Time
	want  dataflow.Time
}

func TestWatermarkTracker(t *testing.T) {
	const minT, maxT = dataflow.MinTime, dataflow.MaxTime
	cases := []struct {
		name   string
		inputs int
		policy dataflow.WatermarkPolicy
		steps  []wmStep
	}{{
		name:   "one input: max event time minus the bound",
		inputs: 1,
		policy: dataflow.WatermarkPolicy{MaxOutOfOrderness: 5 * time.Millisecond},
		steps: []wmStep{
			{op: "", want: minT},
			{op: "obs", t: 100, want: 95},
			{op: "obs", t: 90, want: 95}, // out of order: the maximum stays
			{op: "obs", t: 120, want: 115},
		},
	}, {
		name:   "minimum over inputs, MinTime until each has data",
		inputs: 3,
		steps: []wmStep{
			{op: "obs", input: 0, t: 100, want: minT},
			{op: "obs", input: 1, t: 50, want: minT},
			{op: "obs", input: 2, t: 70, want: 50},
			{op: "obs", input: 1, t: 200, want: 70},
			{op: "adv", input: 2, t: 150, want: 100},
			{op: "adv", input: 2, t: 10, want: 100}, // a lower message is ignored
		},
	}, {
		name:   "finished inputs count as MaxTime",
		inputs: 2,
		steps: []wmStep{
			{op: "obs", input: 0, t: 10, want: minT},
			{op: "fin", input: 1, want: 10},
			{op: "fin", input: 0, want: maxT},
		},
	}, {
		name:   "idle input is excluded, and the watermark never goes back when it returns",
		inputs: 2,
		policy: dataflow.WatermarkPolicy{IdleTimeout: 100 * time.Millisecond},
		steps: []wmStep{
			{op: "obs", input: 0, t: 1000, now: 0, want: minT},
			{op: "obs", input: 1, t: 500, now: 0, want: 500},
			{op: "obs", input: 0, t: 2000, now: 99, want: 500},
			// input 1 has been silent for 100 ms: idle.
			{op: "obs", input: 0, t: 3000, now: 100, want: 3000},
			// input 1 is back behind the others: it counts again, but W1 holds the value.
			{op: "obs", input: 1, t: 600, now: 150, want: 3000},
			{op: "obs", input: 0, t: 4000, now: 160, want: 3000},
			{op: "obs", input: 1, t: 3500, now: 170, want: 3500},
		},
	}, {
		name:   "an input that never has data goes idle after the timeout",
		inputs: 2,
		policy: dataflow.WatermarkPolicy{IdleTimeout: 100 * time.Millisecond},
		steps: []wmStep{
			{op: "obs", input: 0, t: 1000, now: 1000, want: minT},
			{op: "", now: 1099, want: minT},
			{op: "obs", input: 0, t: 1000, now: 1100, want: 1000},
		},
	}, {
		name:   "all idle: the watermark holds",
		inputs: 2,
		policy: dataflow.WatermarkPolicy{IdleTimeout: 10 * time.Millisecond},
		steps: []wmStep{
			{op: "obs", input: 0, t: 100, now: 0, want: minT},
			{op: "obs", input: 1, t: 200, now: 0, want: 100},
			{op: "", now: 50, want: 100},
		},
	}, {
		name:   "no underflow near MinTime",
		inputs: 1,
		policy: dataflow.WatermarkPolicy{MaxOutOfOrderness: time.Second},
		steps: []wmStep{
			{op: "obs", t: minT + 10, want: minT},
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := dataflow.NewWatermarkTracker(tc.inputs, tc.policy)
			for i, s := range tc.steps {
				switch s.op {
				case "obs":
					tr.Observe(s.input, s.t, s.now)
				case "adv":
					tr.Advance(s.input, s.t, s.now)
				case "fin":
					tr.Finish(s.input)
				}
				assert.Equal(t, s.want, tr.Current(s.now), "step %d (%s input %d t=%d now=%d): Current", i, s.op, s.input, s.t, s.now)
			}
		})
	}
}

// TestWatermarkNeverDecreases checks W1 on random observations, messages,
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
