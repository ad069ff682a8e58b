package translate

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window/trigger"

	"github.com/weirlab/weir/dataflow"
)

// Model is the name refusals give ([dataflow.UnsupportedError.Model]).
const Model = "beam"

// Options say how a pipeline is translated.
type Options struct {
	// Runner is the Beam runner the pipeline is for: "prism" (in-process)
	// or "universal" (a job server: Prism's standalone server, Flink's or
	// Spark's job server). Some refusals are Prism's own.
	Runner string
	// LogWatermark sets the source's watermark from the log (see
	// [ReadFn]); false holds it until the log is read, so nothing is late.
	LogWatermark bool
	// Chunk is how many records of a partition the source reads per bundle
	// when LogWatermark is set (default 4096): the watermark advances once
	// per chunk.
	Chunk int64
	// OutDir is where the sink writes its part files.
	OutDir string
	// SessionsMergeTouching says the runner merges session windows that
	// only touch ([a, b) and [b, c)), as Prism v2.77.0 does; weir's I3 does
	// not. The translation then gives Beam proto-sessions one millisecond
	// short, [t, t+gap-1), which merge under Prism's rule exactly when
	// weir's [t, t+gap) overlap, and the sink adds the millisecond back to
	// each session's end. Leave it false on a runner that merges only
	// overlapping windows.
	SessionsMergeTouching bool
}

// Source is what the source DoFn needs about the driver's log.
type Source struct {
	Log         LogSpec
	Ends        []int64
	Fingerprint string
	WithIngest  bool
}

// Refuse reports why Beam cannot run p as weir defines it, as a
// *dataflow.UnsupportedError, or nil when it can:
//
//   - a stream join, a regroup (Pipeline.Then) or a max-by aggregate: not
//     translated yet (the Nexmark queries q3, q4, q7 and q8 need them);
//   - a late-record side output (LateSideOutput): Beam's windowing drops
//     expired elements inside the GroupByKey and offers no output for them;
//   - processing-time early panes (Trigger.EarlyEvery): Beam fires them by
//     the runner's clock, which no rerun reproduces;
//   - a window offset: Beam Go's fixed and sliding windows have none;
//   - processing-time windows over a loaded folder (the loader stamps
//     ingest times with its clock, so a worker cannot rebuild them);
//   - on Prism, session windows with a count trigger, which Prism v2.77.0
//     rejects;
//   - an idle timeout: Beam's watermark has no idle partitions;
//   - with LogWatermark, sliding windows or a session aggregation: Beam drops an expired element per window (and a session
//     element when its proto-session [t, t+gap) expires), where weir's I5
//     drops a record from all its windows (sessions once W > t + lateness),
//     so the counts would differ in ways the check cannot attribute.
func Refuse(p *dataflow.Pipeline, src Source, o Options) error {
	refuse := func(format string, args ...any) error {
		return &dataflow.UnsupportedError{Model: Model, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case p.Join != nil:
		return refuse("a stream join (Pipeline.Join): the translation has no CoGroupByKey of two sides yet; run it on microbatch (event-time) or recordstream")
	case p.Then != nil:
		return refuse("a regroup (Pipeline.Then): the translation has no second per-window combine yet; run it on microbatch (event-time) or recordstream")
	}
	a := p.Agg
	if a == nil {
		return nil
	}
	for _, g := range a.Aggs {
		if g.Kind == dataflow.AggMaxBy {
			return refuse("max_by(%s, %s): the combiner feeds one column per aggregate, max-by needs two; run it on microbatch or recordstream", g.Col, g.By)
		}
	}
	switch {
	case a.Late == dataflow.LateSideOutput:
		return refuse("a late-record side output: Beam drops expired elements inside its GroupByKey and has no output for them; use Late: drop (the drops are then counted) or recordstream")
	case a.Trigger.EarlyEvery > 0:
		return refuse("processing-time early panes every %v: Beam fires them on the runner's clock, so no rerun reproduces them; use a count trigger (Trigger.AfterCount) or recordstream", a.Trigger.EarlyEvery)
	case a.Window.Offset != 0:
		return refuse("window offset %d ms: Beam Go's fixed and sliding windows have no offset; use offset 0", a.Window.Offset)
	case a.Watermark.IdleTimeout > 0:
		return refuse("watermark idle timeout %v: Beam's watermark has no idle partitions; use no idle timeout", a.Watermark.IdleTimeout)
	case a.Domain == dataflow.ProcessingTime && src.Log.InputDir != "" && windowed(a.Window.Kind):
		return refuse("processing-time windows over a loaded folder: its ingest times come from the loader's clock, which a Beam worker cannot reproduce; run on built-in data (no --input)")
	case o.Runner == "prism" && a.Window.Kind == dataflow.WindowSession && a.Trigger.AfterCount > 0:
		return refuse("session windows with a count trigger: Prism v2.77.0 rejects count triggers on merging windows; use the default trigger, or --runner universal with a job server that supports them")
	case o.SessionsMergeTouching && a.Window.Kind == dataflow.WindowSession && a.Window.Gap < 2:
		return refuse("a session gap of %d ms with a runner that merges touching sessions: the translation needs a gap of at least 2 ms", a.Window.Gap)
	case a.Trigger.AfterCount > math.MaxInt32:
		return refuse("a count trigger of %d elements: Beam's element count is an int32", a.Trigger.AfterCount)
	case o.LogWatermark && a.Window.Kind == dataflow.WindowSliding:
		return refuse("sliding windows under the log's watermark: Beam drops a late element per window, weir's I5 from all its windows; use the end-of-input watermark (no --log-watermark) or recordstream")
	case o.LogWatermark && a.Window.Kind == dataflow.WindowSession:
		return refuse("session windows under the log's watermark: Beam drops an element once its proto-session [t, t+gap) expires, weir's I5 once W > t + lateness; use the end-of-input watermark (no --log-watermark) or recordstream")
	}
	return nil
}

func windowed(k dataflow.WindowKind) bool {
	return k == dataflow.WindowFixed || k == dataflow.WindowSliding || k == dataflow.WindowSession
}

// Build adds p to the Beam pipeline of scope s: the source over the log
// (one splittable read per partition, the stateless steps fused into it),
// then the windowing, triggers and combine of the aggregation (or the
// count-window DoFn), then the sink. It refuses what [Refuse] refuses.
func Build(s beam.Scope, p *dataflow.Pipeline, src Source, o Options) error {
	if err := Refuse(p, src, o); err != nil {
		return err
	}
	if o.OutDir == "" {
		return errors.New("translate: Options.OutDir is empty; give the folder the sink writes to")
	}
	plan, err := EncodePlan(p)
	if err != nil {
		return err
	}
	if o.Chunk <= 0 {
		o.Chunk = 4096
	}
	parts := make([]int, len(src.Ends))
	for i := range parts {
		parts[i] = i
	}
	read := &ReadFn{Plan: plan, Log: src.Log, Ends: src.Ends, Fingerprint: src.Fingerprint, WithIngest: src.WithIngest,
		LogWatermark: o.LogWatermark && p.Agg != nil && p.Agg.Domain == dataflow.EventTime && windowed(p.Agg.Window.Kind), Chunk: o.Chunk}
	reads, err := beam.TryParDo(s.Scope("read "+p.Name), read, beam.CreateList(s.Scope("partitions"), parts))
	if err != nil {
		return fmt.Errorf("translate: source: %w", err)
	}
	rows := reads[0]
	sink := &SinkFn{Dir: o.OutDir}
	a := p.Agg
	if a == nil {
		if _, err := beam.TryParDo(s.Scope("sink"), sink, rows); err != nil {
			return fmt.Errorf("translate: sink: %w", err)
		}
		return nil
	}
	var out beam.PCollection
	if a.Window.Kind == dataflow.WindowCount {
		sink.Count, sink.Size = true, a.Window.Size
		grouped, err := beam.TryGroupByKey(s.Scope("group by key"), rows)
		if err != nil {
			return fmt.Errorf("translate: count windows: %w", err)
		}
		outs, err := beam.TryParDo(s.Scope("count windows"), &CountFn{Plan: plan}, grouped)
		if err != nil {
			return fmt.Errorf("translate: count windows: %w", err)
		}
		out = outs[0]
	} else {
		opts := []beam.WindowIntoOption{beam.AllowedLateness(a.AllowedLateness)}
		if a.Accumulation == dataflow.Discarding {
			opts = append(opts, beam.PanesDiscard())
		} else {
			opts = append(opts, beam.PanesAccumulate())
		}
		if tr := beamTrigger(a); tr != nil {
			opts = append(opts, beam.Trigger(tr))
		}
		wf := a.Window
		if o.SessionsMergeTouching && wf.Kind == dataflow.WindowSession {
			wf.Gap--
			sink.EndFix = 1
		}
		win, err := beam.TryWindowInto(s.Scope("window"), windowFn(wf), rows, opts...)
		if err != nil {
			return fmt.Errorf("translate: window: %w", err)
		}
		if out, err = beam.TryCombinePerKey(s.Scope("aggregate"), &CombineFn{Plan: plan, Track: read.LogWatermark}, win); err != nil {
			return fmt.Errorf("translate: aggregate: %w", err)
		}
	}
	if _, err := beam.TryParDo(s.Scope("sink"), sink, out); err != nil {
		return fmt.Errorf("translate: sink: %w", err)
	}
	return nil
}

func windowFn(w dataflow.WindowFn) *window.Fn {
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	switch w.Kind {
	case dataflow.WindowFixed:
		return window.NewFixedWindows(ms(w.Size))
	case dataflow.WindowSliding:
		return window.NewSlidingWindows(ms(w.Period), ms(w.Size))
	case dataflow.WindowSession:
		return window.NewSessions(ms(w.Gap))
	}
	return window.NewGlobalWindows() // global and unwindowed aggregations
}

// beamTrigger is weir's trigger in Beam's terms: on time at the end of the
// window (Beam's default); a count trigger as early firings every N
// elements (repeated, over the global window: Repeat(AfterCount(N)));
// late firings as one pane per late element. nil keeps Beam's default.
func beamTrigger(a *dataflow.Aggregation) trigger.Trigger {
	t := a.Trigger
	if t.IsDefault() {
		return nil
	}
	if a.Window.Kind == dataflow.WindowGlobal || a.Window.Kind == dataflow.WindowNone {
		if t.AfterCount > 0 {
			return trigger.Repeat(trigger.AfterCount(int32(t.AfterCount)))
		}
		return nil
	}
	eow := trigger.AfterEndOfWindow()
	if t.AfterCount > 0 {
		eow = eow.EarlyFiring(trigger.AfterCount(int32(t.AfterCount)))
	}
	if t.LateFirings {
		eow = eow.LateFiring(trigger.AfterCount(1))
	}
	return eow
}
