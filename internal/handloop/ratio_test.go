package handloop_test

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/internal/handloop"
)

// ratios turns TestRatioTable into the measurement of issue 16's table
// (what `bench perf` prints; use that for figures to quote):
//
//	GOMAXPROCS=2 go test -count=1 -v -run TestRatioTable ./internal/handloop/ -args -ratios -events 1000000
//
// Without it the test measures a small input once, which checks the
// instrument (every cell measured or refused by its model, every run
// checked) without measuring anything worth quoting.
var ratios = flag.Bool("ratios", false, "TestRatioTable: measure every workload at -events events, medians of 3, and print the table")

// only restricts TestRatioTable to some workloads (comma-separated), so a
// long measurement can run in parts.
var only = flag.String("workloads", "", "TestRatioTable: only these workloads, comma-separated (default: every workload with a hand loop)")

// TestRatioTable measures, in one process, each workload's hand loop and
// weir's configurations on the same input (compare.RunPerf, which runs
// handloop.Measure) and renders issue 16's table of best / loop ratios.
// With -ratios it measures at -events events, medians of 3, and prints
// the table; without, a small input once.
func TestRatioTable(t *testing.T) {
	o := compare.PerfOptions{Events: 3000, Reps: 1, MinLoop: time.Nanosecond}
	if *ratios {
		o = compare.PerfOptions{Events: *events, Reps: 3, MinLoop: 200 * time.Millisecond}
	}
	if *only != "" {
		o.Workloads = strings.Split(*only, ",")
	}
	recs, err := compare.RunPerf(context.Background(), o)
	require.NoError(t, err)
	want := len(o.Workloads)
	if want == 0 {
		want = len(compare.PerfWorkloads())
	}
	targets := compare.PerfTargets(recs, nil)
	require.Len(t, targets, want)
	for _, tg := range targets {
		assert.Positive(t, tg.Loop, "%s: hand loop events/s", tg.Workload)
		assert.NotEmpty(t, tg.Best, "%s: no runtime configuration ran it", tg.Workload)
	}
	require.Len(t, recs, want*(1+len(compare.PerfSuite())), "one record per workload's loop and configuration")
	for _, r := range recs {
		// A cell is measured, or refused by its model, never failed: every
		// configuration matches the reference on the built-in data.
		switch r.Status {
		case handloop.StatusOK:
			assert.Positive(t, r.EventsPerSecond, "%s on %s", r.Workload, r.Config)
			assert.LessOrEqual(t, r.MinEventsPerSecond, r.EventsPerSecond, "%s on %s", r.Workload, r.Config)
			assert.GreaterOrEqual(t, r.MaxEventsPerSecond, r.EventsPerSecond, "%s on %s", r.Workload, r.Config)
		case handloop.StatusRefused:
			assert.Zero(t, r.EventsPerSecond, "%s on %s", r.Workload, r.Config)
			assert.Contains(t, r.Reason, "cannot express", "%s on %s", r.Workload, r.Config)
		default:
			t.Errorf("%s on %s: %s: %s", r.Workload, r.Config, r.Status, r.Reason)
		}
	}
	table := compare.PerfTable(recs, nil)
	require.Len(t, table.Rows, want)
	if *ratios {
		size := fmt.Sprintf("%d events per workload", o.Events)
		if o.Events == 0 {
			size = "each workload's default number of events"
		}
		fmt.Printf("events/s, medians of %d, %s, GOMAXPROCS=%d:\n\n", o.Reps, size, runtime.GOMAXPROCS(0))
		fmt.Println(strings.Join(table.Columns, " | "))
		for _, r := range table.Rows {
			fmt.Println(strings.Join(r, " | "))
		}
		for _, r := range recs {
			if r.Status != handloop.StatusOK {
				fmt.Printf("%s on %s: %s\n", r.Workload, r.Config, r.Reason)
			}
		}
	}
}
