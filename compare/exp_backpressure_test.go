package compare

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/metrics"
)

func TestVerdictBackpressure(t *testing.T) {
	o := func(none, budget, pid bpRun) bpOutcome {
		return bpOutcome{Interval: 200 * time.Millisecond, Runs: map[string]bpRun{bpNone: none, bpBudget: budget, bpPID: pid}}
	}
	grown := bpRun{MaxDelayMs: sp(7000, 8000, 9000), MaxHeld: sp(4e5, 5e5, 6e5), MaxLag: sp(9000, 10000, 11000), Reps: 3}
	stopped := bpRun{MaxDelayMs: sp(900, 1000, 1100), BudgetStops: 3, Reps: 3}
	bounded := bpRun{MaxDelayMs: sp(300, 400, 500), MaxLag: sp(9500, 10500, 11500), Reps: 3}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictBackpressure(o(grown, stopped, bounded)) }, Holds,
			[]string{"8000 [7000-9000]", "3 of 3", "400 [300-500] ms", "500000 [400000-600000] bytes", "10500 [9500-11500] records"}},
		{"does not hold: the delay never exceeded the interval", func() Verdict {
			return verdictBackpressure(o(bpRun{MaxDelayMs: sp(50, 60, 70), Reps: 3}, bpRun{MaxDelayMs: sp(50, 60, 70), Reps: 3}, bounded))
		}, DoesNotHold, []string{"60 [50-70]", "0 of 3"}},
		{"does not hold: the PID's delay is above the one without it", func() Verdict {
			return verdictBackpressure(o(grown, stopped, bpRun{MaxDelayMs: sp(20000, 21000, 22000), Reps: 3}))
		}, DoesNotHold, []string{"did not bound", "21000 [20000-22000]"}},
		{"inconclusive: the budget stopped some runs only", func() Verdict {
			b := stopped
			b.BudgetStops = 1
			return verdictBackpressure(o(grown, b, bounded))
		}, Inconclusive, []string{"1 of 3"}},
		{"inconclusive: the PID's delay inside the spread", func() Verdict {
			return verdictBackpressure(o(grown, stopped, bpRun{MaxDelayMs: sp(500, 2000, 7500), Reps: 3}))
		}, Inconclusive, []string{"2000 [500-7500]"}},
		{"inconclusive: the PID trial too short", func() Verdict {
			return verdictBackpressure(o(grown, stopped, bpRun{MaxDelayMs: sp(300), Reps: 1}))
		}, Inconclusive, []string{"need 3"}},
		{"inconclusive: failed", func() Verdict {
			return verdictBackpressure(o(bpRun{Failed: "hung (cut by its time limit)", Reps: 1}, stopped, bounded))
		}, Inconclusive, []string{"hung"}},
	})
}

func TestBackpressureStep(t *testing.T) {
	s := bpStep{low: 1000, high: 10_000, after: time.Second, events: 5000}
	assert.InDelta(t, 500, s.offered(0.5), 1e-9)
	assert.InDelta(t, 3000, s.offered(1.2), 1e-9)
	assert.InDelta(t, 5000, s.offered(9), 1e-9, "no more than the events")
	d := s.spec()
	assert.NoError(t, d.Validate())
	assert.Equal(t, 1000.0, d.Rate)
	assert.Len(t, d.Steps, 1)

	// Read 400 by 0.5 s and 1500 more by 1.2 s: lag 100, then 1100.
	lag := sourceLag(s, metrics.Series{{T: 0.5, V: 400}, {T: 1.2, V: 1500}})
	if assert.Len(t, lag, 2) {
		assert.InDelta(t, 100, lag[0].V, 1e-6)
		assert.InDelta(t, 1100, lag[1].V, 1e-6)
	}
	assert.Equal(t, metrics.Series{{T: 0.5, V: 4000}}, perSecond(metrics.Series{{T: 0.5, V: 400}}, 100*time.Millisecond))
	assert.Equal(t, metrics.Series{{T: 0.5, V: 1000}, {T: 1.2, V: 10_000}, {T: 9, V: 0}}, offeredLine(s, metrics.Series{{T: 0.5}, {T: 1.2}, {T: 9}}))
	assert.Equal(t, metrics.Series{{T: 2, V: 5}}, positive(metrics.Series{{T: 1, V: 0}, {T: 2, V: 5}}))
	assert.Equal(t, 7.0, maxOf(metrics.Series{{V: 3}, {V: 7}, {V: 1}}))
}

func TestDataSpecStepsNeedRate(t *testing.T) {
	err := DataSpec{Events: 10, Steps: []datasets.RateStep{{After: time.Second, Rate: 10}}}.Validate()
	var fe *FieldError
	assert.ErrorAs(t, err, &fe)
	assert.Equal(t, "DataSpec.Steps", fe.Field)
}
