package compare

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
)

// lambdaExpresses reports whether Lambda's serving merge can split p's
// answer at a batch cut-off: it needs event-time windows (fixed, sliding
// or sessions) over a timestamp column, since the cut-off is an event
// time. The refusal is the architecture's reason, as a
// *dataflow.UnsupportedError.
func lambdaExpresses(p *dataflow.Pipeline) error {
	no := func(why string) error {
		return &dataflow.UnsupportedError{Model: "lambda architecture", Reason: "its serving layer splits the answer by event-time window at the batch view's cut-off; pipeline " + p.Name + " " + why}
	}
	switch {
	case p.Join != nil:
		return no("joins two streams: a window's join pairs come from both layers' inputs, so the merge cannot split them at the cut-off")
	case p.Then != nil:
		return no("regroups an aggregation's results, which the serving merge does not recombine")
	case p.Agg == nil:
		return no("is stateless: it has no windows to split")
	case p.Agg.Domain != dataflow.EventTime:
		return no("windows by processing time, which a batch recomputation cannot reproduce")
	case p.Agg.Window.Kind != dataflow.WindowFixed && p.Agg.Window.Kind != dataflow.WindowSliding && p.Agg.Window.Kind != dataflow.WindowSession:
		return no(fmt.Sprintf("has %v windows, which do not end at an event time", p.Agg.Window.Kind))
	}
	return nil
}

// batchView is one batch run's output, served from when it finished.
type batchView struct {
	// Done is when the run finished, since the architecture's run started.
	Done time.Duration
	// Cutoff is the event time up to which the view serves windows: the
	// watermark of the prefix at the cut (the least over partitions of the
	// largest event time, minus the pipeline's bound); MaxTime for the run
	// over the closed log.
	Cutoff  dataflow.Time
	Results []dataflow.Result
}

// runLambda runs the speed layer over the live log and the batch layer
// every period beside it, then builds the served answer's series and
// report (the package comment of arch.go).
func (a *Architecture) runLambda(ctx context.Context, f *archFill, p *dataflow.Pipeline) (*ArchReport, error) {
	timeCol := f.log.Schema().Index(p.Agg.TimeCol) // Run checked it is there
	start := f.clk.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		speedOut *Outcome
		speedErr error
	)
	speedOpts := f.opts
	speedOpts.Clock, speedOpts.Trace = f.clk, true // the panes' emit times give the speed view over time
	wg.Go(func() {
		speedOut, speedErr = a.stream.Run(ctx, &Job{Workload: f.w, Pipeline: p, Log: f.log, Options: speedOpts, Identity: jobIdentity(f.w, p, f.log, f.d)})
		if speedErr != nil {
			cancel()
		}
	})
	views, work, runs, batchErr := a.batchLayer(ctx, f, p, timeCol, start)
	if batchErr != nil {
		cancel()
	}
	wg.Wait()
	switch {
	case speedErr != nil:
		return nil, fmt.Errorf("speed layer %s: %w", a.stream.Name(), speedErr)
	case batchErr != nil:
		return nil, fmt.Errorf("batch layer %s: %w", a.batch.Name(), batchErr)
	}
	full := &fullReference{}
	exact, err := full.get(ctx, p, f.log)
	if err != nil {
		return nil, fmt.Errorf("reference answer: %w", err)
	}
	last := views[len(views)-1] // the run over the closed log
	served := &Outcome{
		Results: ServeMerge(last.Results, last.Cutoff, speedOut.Results), Events: f.log.Len(), Elapsed: clock.Since(f.clk, start),
		Emissions: speedOut.Emissions, Latency: speedOut.Latency, Counters: maps.Clone(speedOut.Counters),
	}
	if served.Counters == nil {
		served.Counters = map[string]int64{}
	}
	served.Counters["lambda_speed_records"] = speedOut.Events
	served.Counters["lambda_batch_records"] = work
	served.Counters["lambda_batch_runs"] = int64(runs)
	samples := lambdaSamples(views, speedOut, exact, start, a.cfg.BatchPeriod, served.Elapsed)
	served.Series = seriesOf(samples)
	for k, s := range speedOut.Series {
		served.Series["speed/"+k] = s
	}
	rep, err := f.report(ctx, a.Name(), p, served, full, a.cfg.Flags)
	if err != nil {
		return nil, err
	}
	return &ArchReport{
		Report: rep, Served: samples, BatchRuns: runs,
		Work:      map[string]int64{"speed": speedOut.Events, "batch": work},
		CodePaths: []string{"speed layer: " + a.stream.Name(), "batch layer: " + a.batch.Name()},
	}, nil
}

// batchLayer runs a batch recomputation over the log's prefix now and
// every period (at once after a run longer than the period), until a run
// over the closed log: the views (thinned beyond maxBatchViews, the last
// always kept), the records the runs read and their number.
func (a *Architecture) batchLayer(ctx context.Context, f *archFill, p *dataflow.Pipeline, timeCol int, start time.Time) (views []batchView, work int64, runs int, err error) {
	tick := f.clk.NewTicker(a.cfg.BatchPeriod)
	defer tick.Stop()
	last := int64(0) // nothing to compute over an empty prefix
	for {
		ends, closed := logEnds(f.log)
		n := int64(0)
		for _, e := range ends {
			n += e
		}
		if n != last || closed {
			v, err := a.batchRun(ctx, f, p, timeCol, ends, closed)
			if err != nil {
				return nil, 0, 0, err
			}
			v.Done = clock.Since(f.clk, start)
			if len(views) == maxBatchViews {
				views = thinViews(views)
			}
			views = append(views, v)
			work += n
			runs++
			last = n
			if closed {
				return views, work, runs, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, 0, 0, ctx.Err()
		case <-tick.C():
		}
	}
}

// thinViews drops every other view but the last, in place.
func thinViews(v []batchView) []batchView {
	out := v[:0]
	for i := range v {
		if i%2 == 1 || i == len(v)-1 {
			out = append(out, v[i])
		}
	}
	clear(v[len(out):])
	return out
}

// batchRun is one batch run over the records [0, ends[p]): a bounded
// job on a closed copy of the prefix.
func (a *Architecture) batchRun(ctx context.Context, f *archFill, p *dataflow.Pipeline, timeCol int, ends []int64, closed bool) (batchView, error) {
	prefix, maxT, err := copyPrefix(ctx, f.log, ends, timeCol)
	if err != nil {
		return batchView{}, err
	}
	out, err := a.batch.Run(ctx, &Job{Workload: f.w, Pipeline: p, Log: prefix, Options: Options{Clock: f.clk, Seed: f.opts.Seed}, Identity: jobIdentity(f.w, p, prefix, f.d)})
	if err != nil {
		return batchView{}, err
	}
	if out == nil {
		return batchView{}, fmt.Errorf("%s returned no outcome", a.batch.Name())
	}
	v := batchView{Results: out.Results, Cutoff: dataflow.MaxTime}
	if !closed {
		v.Cutoff = prefixWatermark(maxT, p.Agg.Watermark.MaxOutOfOrderness)
	}
	return v, nil
}

// prefixWatermark is the watermark of a prefix whose partitions' largest
// event times are maxT (dataflow's I4: the least over partitions, minus
// the bound); MinTime while a partition is empty.
func prefixWatermark(maxT []dataflow.Time, bound time.Duration) dataflow.Time {
	w := dataflow.MaxTime
	for _, t := range maxT {
		w = min(w, t)
	}
	if w == dataflow.MinTime || w == dataflow.MaxTime {
		return dataflow.MinTime
	}
	return w - dataflow.Time(bound.Milliseconds())
}

// maxServedSamples caps the points of the served-distance series.
const maxServedSamples = 400

// lambdaSamples computes the served answer's distance from exact over the
// run: at each batch view's completion and on a grid of a quarter period
// (coarser for long runs), the served answer is [ServeMerge] of the latest
// finished view and the speed view then, and its distance is taken over
// the windows up to the latest window end it serves ([ServedDistance]).
//
// The speed view at time t holds the speed layer's final result of each
// window and key whose first pane the sink took in by t: the value it
// served then when a window fires once (on time, no replays: at-most-once
// without allowed lateness), and its later value when it fired again.
func lambdaSamples(views []batchView, speed *Outcome, exact []dataflow.Result, start time.Time, period, elapsed time.Duration) []ServedSample {
	sp := emittedOverTime(speed, start, elapsed)
	extra := make([]time.Duration, len(views))
	for i, v := range views {
		extra[i] = v.Done
	}
	times := sampleTimes(period/4, elapsed, extra...)
	out := make([]ServedSample, 0, len(times))
	var speedNow []dataflow.Result
	si, vi := 0, -1
	for _, t := range times {
		for si < len(sp) && sp[si].at <= t {
			speedNow = append(speedNow, sp[si].r)
			si++
		}
		for vi+1 < len(views) && views[vi+1].Done <= t {
			vi++
		}
		var batch []dataflow.Result
		cutoff := dataflow.MinTime
		if vi >= 0 {
			batch, cutoff = views[vi].Results, views[vi].Cutoff
		}
		out = append(out, ServedSample{T: t, Cutoff: cutoff, Distance: distanceNow(ServeMerge(batch, cutoff, speedNow), exact)})
	}
	return out
}

// timedResult is a final result and when its window and key first reached
// the sink (since the run started).
type timedResult struct {
	at time.Duration
	r  dataflow.Result
}

// emittedOverTime returns out's final results in the order their window
// and key first reached the sink, from out's pane trace ([Options.Trace]);
// a result without a pane row counts from elapsed.
func emittedOverTime(out *Outcome, start time.Time, elapsed time.Duration) []timedResult {
	type wk struct {
		w dataflow.Window
		k string
	}
	first := map[wk]int64{}
	for _, r := range out.Trace {
		k := wk{dataflow.Window{Start: dataflow.Time(r.WindowStartMs), End: dataflow.Time(r.WindowEndMs)}, r.Key}
		if t, ok := first[k]; !ok || r.EmitNanos < t {
			first[k] = r.EmitNanos
		}
	}
	sp := make([]timedResult, 0, len(out.Results))
	for _, r := range out.Results {
		at := elapsed
		if t, ok := first[wk{r.Window, r.Key}]; ok {
			at = time.Duration(t - start.UnixNano())
		}
		sp = append(sp, timedResult{at, r})
	}
	slices.SortStableFunc(sp, func(a, b timedResult) int { return cmp.Compare(a.at, b.at) })
	return sp
}

// sampleTimes returns the times of a served series: a grid of step
// (coarser when the run would take more than maxServedSamples points)
// from 0 to elapsed, the extra times and elapsed, sorted, each once.
func sampleTimes(step, elapsed time.Duration, extra ...time.Duration) []time.Duration {
	step = max(step, elapsed/maxServedSamples, time.Millisecond)
	var times []time.Duration
	for t := time.Duration(0); t <= elapsed; t += step {
		times = append(times, t)
	}
	times = append(append(times, extra...), elapsed)
	slices.Sort(times)
	return slices.Compact(times)
}

// distanceNow is [ServedDistance] over the windows up to the latest window
// end served.
func distanceNow(served, exact []dataflow.Result) Distance {
	frontier := dataflow.MinTime
	for _, r := range served {
		frontier = max(frontier, r.Window.End)
	}
	return ServedDistance(served, exact, frontier)
}
