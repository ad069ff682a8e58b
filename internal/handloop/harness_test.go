package handloop_test

import (
	"context"
	"flag"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/internal/handloop"
)

// events sizes the input of BenchmarkWorkloads and of TestRatioTable with
// -ratios: that many events of each workload's built-in data (seed 1,
// pre-filled, 4 partitions); 0 is each workload's own default
// (compare.DataConfig: 200k events, fraud 100k, count-window 1M). The small
// default keeps a smoke run (-benchtime 1x) brief.
var events = flag.Int64("events", 20_000, "events of each workload's input for BenchmarkWorkloads and TestRatioTable -ratios (0: the workload's default)")

// load builds workload w's input of n events and its configurations as
// bench perf does (compare.PerfInput, compare.PerfConfigs of
// compare.PerfSuite: the reference, both microbatch modes, recordstream
// at-most-once, at-least-once and exactly-once).
func load(ctx context.Context, w *compare.Workload, n int64) (*handloop.Input, []handloop.Config, error) {
	d := compare.DataSpec{Events: n, Seed: 1}
	in, err := compare.PerfInput(ctx, w, d)
	if err != nil {
		return nil, nil, err
	}
	cs, err := compare.PerfConfigs(w, in, d, compare.PerfSuite())
	return in, cs, err
}
