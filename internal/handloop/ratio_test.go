package handloop_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/handloop"
)

// ratios turns TestRatioTable into the measurement of issue 16's table:
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

// ratioWorkloads returns the workloads -workloads names (all by default),
// or an error naming one without a hand loop.
func ratioWorkloads() ([]*compare.Workload, error) {
	all := benchWorkloads()
	if *only == "" {
		return all, nil
	}
	var ws []*compare.Workload
	for _, name := range strings.Split(*only, ",") {
		i := slices.IndexFunc(all, func(w *compare.Workload) bool { return w.Name == name })
		if i < 0 {
			_, err := handloop.Lookup(name)
			return nil, fmt.Errorf("-workloads: %w", err)
		}
		ws = append(ws, all[i])
	}
	return ws, nil
}

// ratioRow is one workload's line of the table: events/s of the hand loop
// and of each configuration (0 where the model cannot express the
// workload), medians over the repetitions.
type ratioRow struct {
	workload string
	events   int64
	loop     float64
	configs  []float64
	reasons  []string // why a configuration could not run, by index
}

// runtimes returns the indexes of row's measured runtime configurations
// (not the reference, which is the batch answer, not a runtime).
func (r ratioRow) runtimes(cs []config) []int {
	var is []int
	for i, c := range cs {
		if c.runtime != "reference" && r.configs[i] > 0 {
			is = append(is, i)
		}
	}
	return is
}

// best and slowest return the index of the fastest and the slowest
// measured runtime configuration, or -1.
func (r ratioRow) best(cs []config) int {
	is := r.runtimes(cs)
	if len(is) == 0 {
		return -1
	}
	return slices.MaxFunc(is, func(a, b int) int { return compareRates(r.configs[a], r.configs[b]) })
}

func (r ratioRow) slowest(cs []config) int {
	is := r.runtimes(cs)
	if len(is) == 0 {
		return -1
	}
	return slices.MinFunc(is, func(a, b int) int { return compareRates(r.configs[a], r.configs[b]) })
}

func compareRates(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// measureRatios measures each workload of ws on one input of n events: per
// repetition the hand loop (repeated until it has run for minLoop, so a
// loop of a few milliseconds is not timed once), then every configuration
// once, in order, so that a change in the machine's load falls on all of
// them alike. Every run's answer is checked against the reference. The
// figures are the medians of reps repetitions.
func measureRatios(ctx context.Context, ws []*compare.Workload, cs []config, n int64, reps int, minLoop time.Duration) ([]ratioRow, error) {
	clk := clock.Real()
	var rows []ratioRow
	for _, w := range ws {
		in, err := loadInput(ctx, w, n)
		if err != nil {
			return nil, err
		}
		events := float64(in.log.Len())
		row := ratioRow{workload: w.Name, events: in.log.Len(), configs: make([]float64, len(cs)), reasons: make([]string, len(cs))}
		loopRates := make([]float64, 0, reps)
		cfgRates := make([][]float64, len(cs))
		for range reps {
			start, runs := clk.Now(), 0
			for runs == 0 || clock.Since(clk, start) < minLoop {
				ans, err := in.runLoop()
				if err == nil && runs == 0 {
					err = in.checkLoop(ans)
				}
				if err != nil {
					return nil, err
				}
				runs++
			}
			loopRates = append(loopRates, events*float64(runs)/clock.Since(clk, start).Seconds())
			for i, c := range cs {
				if row.reasons[i] != "" {
					continue
				}
				start := clk.Now()
				out, err := in.runConfig(ctx, c)
				elapsed := clock.Since(clk, start)
				if errors.Is(err, errUnsupported) {
					row.reasons[i] = err.Error()
					continue
				}
				if err == nil {
					err = in.checkConfig(ctx, c, out)
				}
				if err != nil {
					return nil, err
				}
				cfgRates[i] = append(cfgRates[i], events/elapsed.Seconds())
			}
		}
		row.loop = median(loopRates)
		for i, rs := range cfgRates {
			if len(rs) > 0 {
				row.configs[i] = median(rs)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// rate renders events/s as M/s or k/s with three significant digits.
func rate(x float64) string {
	switch {
	case x <= 0:
		return "-"
	case x >= 1e6:
		return fmt.Sprintf("%.3g M/s", x/1e6)
	}
	return fmt.Sprintf("%.3g k/s", x/1e3)
}

// formatRatios renders the table in Markdown: each workload's hand loop,
// every configuration, the best and the slowest runtime configuration and
// the ratio best / loop ("-": the model cannot express the workload).
func formatRatios(rows []ratioRow, cs []config) string {
	var b strings.Builder
	b.WriteString("| workload | events | hand loop |")
	for _, c := range cs {
		b.WriteString(" " + c.label + " |")
	}
	b.WriteString(" best runtime | slowest runtime | best / loop |\n|---|---|---|")
	for range cs {
		b.WriteString("---|")
	}
	b.WriteString("---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %s |", r.workload, r.events, rate(r.loop))
		for _, x := range r.configs {
			b.WriteString(" " + rate(x) + " |")
		}
		bi, si := r.best(cs), r.slowest(cs)
		if bi < 0 {
			b.WriteString(" - | - | - |\n")
			continue
		}
		fmt.Fprintf(&b, " %s | %s | %.3g |\n", cs[bi].label, cs[si].label, r.configs[bi]/r.loop)
	}
	return b.String()
}

// TestRatioTable measures, in one process, each workload's hand loop and
// weir's configurations on the same input and renders issue 16's table of
// best / loop ratios. With -ratios it measures at -events events, medians
// of 3, and prints the table; without, a small input once.
func TestRatioTable(t *testing.T) {
	n, reps, minLoop := int64(3000), 1, time.Duration(0)
	if *ratios {
		n, reps, minLoop = *events, 3, 200*time.Millisecond
	}
	cs, err := configs()
	require.NoError(t, err)
	ws, err := ratioWorkloads()
	require.NoError(t, err)
	rows, err := measureRatios(context.Background(), ws, cs, n, reps, minLoop)
	require.NoError(t, err)
	require.Len(t, rows, len(ws))
	for _, r := range rows {
		assert.Positive(t, r.loop, "%s: hand loop events/s", r.workload)
		assert.GreaterOrEqual(t, r.best(cs), 0, "%s: no runtime configuration ran it: %v", r.workload, r.reasons)
		for i, x := range r.configs {
			// A cell is measured or refused by its model, never both or
			// neither.
			assert.NotEqual(t, x > 0, r.reasons[i] != "", "%s on %s: %v events/s, refusal %q", r.workload, cs[i].label, x, r.reasons[i])
		}
	}
	table := formatRatios(rows, cs)
	require.Equal(t, len(rows)+2, strings.Count(table, "\n"), "one line per workload and two of header:\n%s", table)
	if *ratios {
		size := fmt.Sprintf("%d events per workload", n)
		if n == 0 {
			size = "each workload's default number of events"
		}
		fmt.Printf("events/s, medians of %d, %s, GOMAXPROCS=%s:\n\n%s\n", reps, size, gomaxprocs(), table)
		for _, r := range rows {
			for i, why := range r.reasons {
				if why != "" {
					fmt.Printf("%s on %s: %s\n", r.workload, cs[i].label, why)
				}
			}
		}
	}
}

func gomaxprocs() string { return fmt.Sprint(runtime.GOMAXPROCS(0)) }
