package compare

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

var lateTrials = flag.Int("late.trials", 60, "random pipelines in TestEveryLateDropIsVerified")

// variant returns workload base with its aggregation's window and
// watermark bound replaced.
func variant(t *testing.T, base string, win dataflow.WindowFn, bound time.Duration) *Workload {
	t.Helper()
	w, err := LookupWorkload(base)
	require.NoError(t, err)
	build := w.Pipeline
	w.Pipeline = func(tables map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
		p, err := build(tables)
		if err != nil {
			return nil, err
		}
		p.Agg.Window = win
		p.Agg.Watermark.MaxOutOfOrderness = bound
		return p, p.Validate()
	}
	return w
}

// TestEveryLateDropIsVerified is issue 8's property: over random event-time
// pipelines, watermark bounds, skewed inputs and runtime configurations
// (batch intervals from 1 ms to 5 s), every record a runtime drops as late is
// verified under its model's rule, and the rest equals the reference.
func TestEveryLateDropIsVerified(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	bases := []string{"ysb", "iot-sliding", "sessions", "hashtag-topn"}
	for i := range *lateTrials {
		base := bases[i%len(bases)]
		var win dataflow.WindowFn
		switch r.IntN(3) {
		case 0:
			win = dataflow.FixedWindows(time.Duration(1+r.IntN(20)) * time.Second)
		case 1:
			slide := time.Duration(1+r.IntN(5)) * time.Second
			win = dataflow.SlidingWindows(slide*time.Duration(1+r.IntN(4)), slide)
		default:
			win = dataflow.SessionWindows(time.Duration(1+r.IntN(30)) * time.Second)
		}
		bound := time.Duration(r.IntN(3000)) * time.Millisecond
		w := variant(t, base, win, bound)
		seed := r.Uint64N(1 << 20)
		data := DataSpec{Events: 3_000 + r.Int64N(5_000), Seed: seed, EventRate: float64(200 + r.IntN(5_000)),
			Skew: datasets.Skew{Delay: time.Duration(1+r.IntN(4000)) * time.Millisecond, OutOfOrder: r.Float64() * 0.3,
				Late: r.Float64() * 0.05, LateDelay: time.Duration(2+r.IntN(20)) * time.Second}}
		var runtime string
		var flags RuntimeFlags
		switch r.IntN(4) {
		case 0:
			runtime, flags = "microbatch", RuntimeFlags{Mode: "event-time", BatchInterval: time.Duration(1+r.IntN(5000)) * time.Millisecond}
		case 1:
			runtime, flags = "recordstream", RuntimeFlags{Guarantee: "at-most-once", Parallelism: 1 + r.IntN(3)}
		case 2:
			runtime, flags = "recordstream", RuntimeFlags{Guarantee: "at-least-once", Parallelism: 1 + r.IntN(3)}
		default:
			runtime, flags = "recordstream", RuntimeFlags{Guarantee: "exactly-once", Parallelism: 1 + r.IntN(3), CheckpointInterval: 10 * time.Millisecond}
		}
		if base == "sessions" && runtime == "microbatch" && r.IntN(2) == 0 {
			flags.BatchInterval = time.Millisecond
		}
		name := fmt.Sprintf("%d:%s/%v/bound=%v/seed=%d/%s%+v", i, base, win, bound, seed, runtime, flags)
		runner, err := NewRunner(runtime, flags)
		require.NoError(t, err)
		rep, err := RunOne(t.Context(), w, runner, data, Options{Seed: seed}, nil)
		require.NoError(t, err, name)
		c := rep.Check
		if !assert.Zero(t, c.Late.Unverified, "%s: %v", name, c.Late.Examples) || !assert.True(t, c.OK(), "%s: %v %q", name, c, c.Examples) {
			return
		}
	}
}
