package compare

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/internal/clock"
	"github.com/weirlab/weir/internal/metrics"
	"github.com/weirlab/weir/recordstream"
)

var _ recordstream.Source = (*logView)(nil)

// logView is one Kappa job's subscription to the shared log: it records
// how far the job's spouts have read each partition (the job's position)
// and, once stopped, ends the job's input at the offsets it had read, so
// the job drains what it took in and finishes (Kreps's step 4, "stop the
// old job"). Safe for concurrent use by the job's spout tasks.
type logView struct {
	*datasets.Log
	// pos[p] is the offset after the highest record of p read.
	pos []atomic.Int64
	// stopped is set once stopEnd holds the ends; End and Closed read it.
	stopped atomic.Bool
	stopEnd []int64
}

func newLogView(l *datasets.Log) *logView {
	return &logView{Log: l, pos: make([]atomic.Int64, l.Partitions())}
}

// Read implements recordstream.Source, noting the position (two atomic
// operations per record, no allocation).
func (v *logView) Read(p int, off int64, dst dataflow.Row) (dataflow.Row, int64) {
	row, ingest := v.Log.Read(p, off, dst)
	v.note(p, off)
	return row, ingest
}

// ReadColumns is the column-pruned read recordstream prefers
// (recordstream's pushdown); it notes the position as Read does.
func (v *logView) ReadColumns(p int, off int64, cols []int, dst dataflow.Row) (dataflow.Row, int64) {
	row, ingest := v.Log.ReadColumns(p, off, cols, dst)
	v.note(p, off)
	return row, ingest
}

// note raises pos[p] past off.
func (v *logView) note(p int, off int64) {
	for {
		cur := v.pos[p].Load()
		if off < cur || v.pos[p].CompareAndSwap(cur, off+1) {
			return
		}
	}
}

// End implements recordstream.Source: once stopped, the offsets read then.
func (v *logView) End(p int) int64 {
	if v.stopped.Load() {
		return v.stopEnd[p]
	}
	return v.Log.End(p)
}

// Closed implements recordstream.Source: stopped, or the log closed.
func (v *logView) Closed() bool { return v.stopped.Load() || v.Log.Closed() }

// stop ends the view's input at the positions read so far. A spout waiting
// for data wakes at the log's next flush or close.
func (v *logView) stop() {
	v.stopEnd = v.positions()
	v.stopped.Store(true)
}

// positions returns pos.
func (v *logView) positions() []int64 {
	out := make([]int64, len(v.pos))
	for p := range v.pos {
		out[p] = v.pos[p].Load()
	}
	return out
}

// catchUpPoll is how often Kappa compares the second job's position with
// the log's head.
const catchUpPoll = time.Millisecond

// maxLagPoints caps the points of the reprocessing lag series.
const maxLagPoints = 512

// runKappa runs job 1 (p1) over the live log from the start, job 2 (p2)
// from offset 0 once the log holds ReprocessAt of its events, switches
// serving to job 2's table once job 2 has caught up with the log's head,
// and stops job 1 there (the package comment of arch.go).
func (a *Architecture) runKappa(ctx context.Context, f *archFill, p1, p2 *dataflow.Pipeline) (*ArchReport, error) {
	rs, ok := a.stream.(*recordstreamRunner)
	if !ok {
		return nil, fmt.Errorf("kappa's jobs run on recordstream, not %s", a.stream.Name())
	}
	start := f.clk.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	v1, v2 := newLogView(f.log), newLogView(f.log)
	var (
		wg         sync.WaitGroup
		out1, out2 *Outcome
		err1, err2 error
	)
	opts1 := f.opts
	opts1.Clock, opts1.Trace = f.clk, true // the panes' emit times give the served table over time
	wg.Go(func() {
		out1, err1 = rs.runOn(ctx, &Job{Workload: f.w, Pipeline: p1, Log: f.log, Options: opts1, Identity: jobIdentity(f.w, p1, f.log, f.d)}, v1)
		if err1 != nil {
			cancel()
		}
	})
	// jobsErr is the first job's error, once both have returned.
	jobsErr := func() error {
		switch {
		case err1 != nil:
			return fmt.Errorf("job 1: %w", err1)
		case err2 != nil:
			return fmt.Errorf("job 2: %w", err2)
		}
		return nil
	}
	fail := func(err error) (*ArchReport, error) {
		cancel()
		wg.Wait()
		return nil, cmp.Or(jobsErr(), err)
	}
	threshold := int64(math.Ceil(a.cfg.ReprocessAt * float64(f.events)))
	if err := waitForLen(ctx, f.log, threshold); err != nil {
		return fail(err)
	}
	fig := &KappaFigures{StartRecords: f.log.Len()}
	t2 := clock.Since(f.clk, start)
	sayf(f.progress, "%s: job 2 (%s) starts reprocessing from offset 0 at %d records", f.w.Name, p2.Name, fig.StartRecords)
	opts2 := Options{Clock: f.clk, Seed: f.opts.Seed, Trace: true} // the new job runs without the injected faults
	wg.Go(func() {
		out2, err2 = rs.runOn(ctx, &Job{Workload: f.w, Pipeline: p2, Log: f.log, Options: opts2, Identity: jobIdentity(f.w, p2, f.log, f.d)}, v2)
		if err2 != nil {
			cancel()
		}
	})
	caught, lag, err := watchCatchUp(ctx, f, v1, v2, start)
	if err != nil {
		return fail(err)
	}
	// Caught up: serving switches to table 2, and job 1 stops.
	fig.Reprocess = caught - t2
	v1.stop()
	read1, read2 := int64(0), int64(0)
	for p, e := range v2.positions() {
		read1, read2 = read1+v1.stopEnd[p], read2+e
	}
	fig.SwitchedAfterCatchUp = read2 >= read1 // job 2 had read as much as job 1 at the switch
	wg.Wait()
	if err := jobsErr(); err != nil {
		return nil, err
	}
	// Table 1 against the old pipeline's reference over what job 1 read.
	ends1 := v1.positions()
	prefix, _, err := copyPrefix(ctx, f.log, ends1, -1)
	if err != nil {
		return nil, err
	}
	ref1 := &fullReference{}
	if fig.Table1, err = checkOutcome(ctx, p1, prefix, out1, ref1); err != nil {
		return nil, fmt.Errorf("job 1's table: %w", err)
	}
	fig.Table1Records = prefix.Len()
	served := *out2 // the final served answer: table 2
	served.Elapsed = clock.Since(f.clk, start)
	served.Counters = maps.Clone(out2.Counters)
	if served.Counters == nil {
		served.Counters = map[string]int64{}
	}
	served.Counters["kappa_job1_records"] = out1.Events
	served.Counters["kappa_job2_records"] = out2.Events
	served.Counters["kappa_reprocess_start_records"] = fig.StartRecords
	served.Counters["kappa_reprocess_us"] = fig.Reprocess.Microseconds()
	served.Counters["kappa_table1_records"] = fig.Table1Records
	served.Series = maps.Clone(out2.Series)
	if served.Series == nil {
		served.Series = map[string]metrics.Series{}
	}
	served.Series["job1_lag_records"] = lag[0]
	served.Series["job2_lag_records"] = lag[1]
	served.Series["served_table"] = metrics.Series{{T: 0, V: 1}, {T: caught.Seconds(), V: 2}}
	ref2 := &fullReference{}
	rep, err := f.report(ctx, a.Name(), p2, &served, ref2, a.cfg.Flags)
	if err != nil {
		return nil, err
	}
	samples := kappaSamples(emittedOverTime(out1, start, served.Elapsed), emittedOverTime(out2, start, served.Elapsed),
		ref1.results, ref2.results, caught, served.Elapsed)
	maps.Copy(rep.Summary.Series, seriesOf(samples))
	rep.Outcome.Trace, out1.Trace = nil, nil // read; the runs' panes are not the served answer's
	fig.Table2 = rep.Check
	return &ArchReport{
		Report: rep, Kappa: fig, Served: samples,
		Work:      map[string]int64{"job1": out1.Events, "job2": out2.Events},
		CodePaths: []string{"jobs 1 and 2: " + a.stream.Name() + " (one implementation, two pipelines' settings)"},
	}, nil
}

// waitForLen waits until l holds n records or is closed.
func waitForLen(ctx context.Context, l *datasets.Log, n int64) error {
	for {
		ch := l.Changed()
		if l.Closed() || l.Len() >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// watchCatchUp polls every catchUpPoll until job 2 (view v2) has caught
// up: it is no further behind the log's head than job 1 (view v1), the
// job serving now. It returns the time then (since start) and both jobs'
// lags behind the head (records) over time.
func watchCatchUp(ctx context.Context, f *archFill, v1, v2 *logView, start time.Time) (time.Duration, [2]metrics.Series, error) {
	tick := f.clk.NewTicker(catchUpPoll)
	defer tick.Stop()
	var lag [2]metrics.Series
	polls, stride := 0, 1
	for {
		pos1, pos2 := v1.positions(), v2.positions() // before the ends: the head only grows
		ends, _ := logEnds(f.log)
		var behind [2]int64
		for p := range ends {
			behind[0] += max(0, ends[p]-pos1[p])
			behind[1] += max(0, ends[p]-pos2[p])
		}
		caught := behind[1] <= behind[0]
		now := clock.Since(f.clk, start)
		if polls%stride == 0 || caught {
			for j := range lag {
				if len(lag[j]) == maxLagPoints { // keep every other point: the series stays bounded
					for i := range maxLagPoints / 2 {
						lag[j][i] = lag[j][2*i+1]
					}
					lag[j] = lag[j][:maxLagPoints/2]
				}
				lag[j] = append(lag[j], metrics.Point{T: now.Seconds(), V: float64(behind[j])})
			}
			if len(lag[0]) == maxLagPoints/2+1 {
				stride *= 2
			}
		}
		polls++
		if caught {
			return now, lag, nil
		}
		select {
		case <-ctx.Done():
			return 0, lag, ctx.Err()
		case <-tick.C():
		}
	}
}

// kappaSamples computes the served table's distance from the exact answer
// of the pipeline it serves: table 1 (t1, against ref1, the old pipeline's
// over what job 1 read) before the switch, table 2 (t2, against ref2) from
// it, each holding the results its job had emitted by then (valued at
// their final values; [emittedOverTime]).
func kappaSamples(t1, t2 []timedResult, ref1, ref2 []dataflow.Result, switchAt, elapsed time.Duration) []ServedSample {
	times := sampleTimes(elapsed/100, elapsed, switchAt)
	out := make([]ServedSample, 0, len(times))
	var now1, now2 []dataflow.Result
	i1, i2 := 0, 0
	for _, t := range times {
		for ; i1 < len(t1) && t1[i1].at <= t; i1++ {
			now1 = append(now1, t1[i1].r)
		}
		for ; i2 < len(t2) && t2[i2].at <= t; i2++ {
			now2 = append(now2, t2[i2].r)
		}
		d := distanceNow(now1, ref1)
		if t >= switchAt {
			d = distanceNow(now2, ref2)
		}
		out = append(out, ServedSample{T: t, Cutoff: dataflow.MinTime, Distance: d})
	}
	return out
}
