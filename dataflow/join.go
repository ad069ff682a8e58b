package dataflow

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Join is the stream-stream equi-join of a pipeline (Nexmark's q3, q4 and q8
// need it). Every record that survives the pipeline's shared Steps is offered
// to both sides; each side applies its own Steps (typically a Filter that
// selects one event type, as Nexmark's persons, auctions and bids share one
// log) and keeps the rows that survive. A left row and a right row join when
// their Key columns render to the same text ([AppendKey]); the joined row
// holds the left side's Cols, then the right side's Cols, then the columns
// the join adds (see [Join.Schema]), and goes through Join.Steps before the
// pipeline's Agg or Emit.
//
// Two kinds of join:
//
//   - Windowed (Window fixed or sliding, event time): both sides are assigned
//     to windows by their TimeCol; a left and a right row join when they share
//     a key and a window, once per shared window. A window's pairs are
//     emitted when the join's watermark passes its end; the window's rows are
//     kept until W >= end + AllowedLateness, and a row accepted after the end
//     (within the allowed lateness) joins the other side's kept rows at once.
//     A side row is late, dropped and counted, under the aggregation's rule
//     (I5, [WindowOperator.IsLateTime]): once one of its windows is late. The
//     joined row adds window_start and window_end (timestamps) and join_time
//     = window_end - 1 ms, the time a downstream aggregation windows it by.
//   - Incremental (Window is the zero WindowFn, WindowNone): each side's rows
//     are kept for ever (unbounded state, as Flink's regular join without a
//     state TTL); a new row on either side joins every row of the other side
//     seen so far and is emitted at once. So every matching pair is emitted
//     exactly once, when its later row arrives, and the answer does not
//     depend on arrival order. The joined row adds join_time = the later of
//     the two rows' event times. Nothing is late. An incremental join ends
//     the pipeline with an Emit (no Agg): its rows come in no event-time
//     order a downstream window could rely on.
//
// The join's watermark is the minimum of its two inputs' watermarks, each
// derived by Watermark (bounded out-of-orderness, idle timeout) from the
// side's rows per log partition, as a two-input operator of Flink or Beam
// takes the minimum of its inputs. A runtime emits a window's joined rows
// before it forwards the watermark that fired them, so they are never late
// for a downstream aggregation. When the pipeline has an Agg after a join,
// the Agg's Watermark must be zero (the join's output watermark drives it)
// and the join's AllowedLateness must be zero (a late joined row would be
// late downstream).
type Join struct {
	Left, Right JoinSide
	// Window is fixed or sliding (a windowed join), or the zero WindowFn (an
	// incremental join).
	Window WindowFn
	// Watermark derives each side's watermark from its rows.
	Watermark WatermarkPolicy
	// AllowedLateness keeps a window's rows this long past its end.
	AllowedLateness time.Duration
	// Steps run on each joined row, before the pipeline's Agg or Emit.
	Steps []Step
}

// JoinSide is one input of a [Join].
type JoinSide struct {
	// Name names the side in messages, statistics and plans ("person",
	// "auction"); empty means "left" or "right".
	Name string
	// Steps select and shape the side's rows from the shared steps' output.
	Steps []Step
	// Key names the join key columns; both sides have as many, of the same
	// kinds, in the same order.
	Key []string
	// Cols are the columns the side contributes to the joined row, in order.
	// A column name may come from one side only: rename with a Map in the
	// side's Steps.
	Cols []string
	// TimeCol is the side's event-time column (timestamp or int64 ms).
	TimeCol string
}

// Join sides, as the operator and the runtimes number them.
const (
	JoinLeft  = 0
	JoinRight = 1
)

// Columns a join adds to its joined rows.
const (
	JoinWindowStartCol = "window_start"
	JoinWindowEndCol   = "window_end"
	JoinTimeCol        = "join_time"
)

// Windowed reports whether j is a windowed join (fixed or sliding windows)
// rather than an incremental one.
func (j *Join) Windowed() bool { return j.Window.Kind != WindowNone }

// SideName is the side's name, or "left" / "right" when it has none.
func (j *Join) SideName(side int) string {
	s := j.side(side)
	if s.Name != "" {
		return s.Name
	}
	if side == JoinLeft {
		return "left"
	}
	return "right"
}

func (j *Join) side(side int) *JoinSide {
	if side == JoinLeft {
		return &j.Left
	}
	return &j.Right
}

// JoinSchemas are the schemas through a pipeline's join.
type JoinSchemas struct {
	// Left and Right are each side's schemas: element 0 is the output of the
	// pipeline's shared Steps, element i+1 the output of the side's Steps[i].
	Left, Right []Schema
	// Joined are the joined row's schemas: element 0 is the joined row
	// ([Join.Schema]), element i+1 the output of Join.Steps[i]; the last
	// reaches the pipeline's Agg or Emit.
	Joined []Schema
}

// Schema returns the joined row's schema given the two sides' row schemas:
// left.Cols, right.Cols, then window_start and window_end (windowed joins)
// and join_time, the last three timestamps.
func (j *Join) Schema(left, right Schema) (Schema, error) {
	var fs []Field
	for side, s := range []Schema{left, right} {
		for _, c := range j.side(side).Cols {
			f, _, err := s.Lookup(c)
			if err != nil {
				return Schema{}, fmt.Errorf("%s side column: %w", j.SideName(side), err)
			}
			if slices.ContainsFunc(fs, func(g Field) bool { return g.Name == c }) {
				return Schema{}, fmt.Errorf("dataflow: join column %q comes from both sides; rename one with a Map step in its side's Steps", c)
			}
			fs = append(fs, f)
		}
	}
	added := []string{JoinTimeCol}
	if j.Windowed() {
		added = []string{JoinWindowStartCol, JoinWindowEndCol, JoinTimeCol}
	}
	for _, c := range added {
		if slices.ContainsFunc(fs, func(g Field) bool { return g.Name == c }) {
			return Schema{}, fmt.Errorf("dataflow: join side column %q has the name of a column the join adds; rename it with a Map step in its side's Steps", c)
		}
		fs = append(fs, Field{Name: c, Kind: KindTimestamp})
	}
	out := Schema{Fields: fs}
	return out, out.Validate()
}

// JoinSchemas type-checks the pipeline's join and returns its schemas; it is
// an error to call it on a pipeline without a Join.
func (p *Pipeline) JoinSchemas() (JoinSchemas, error) {
	ss, err := p.Schemas()
	if err != nil {
		return JoinSchemas{}, err
	}
	if p.Join == nil {
		return JoinSchemas{}, fmt.Errorf("dataflow: pipeline %q has no join", p.Name)
	}
	return p.Join.schemas(ss[len(ss)-1])
}

func (j *Join) schemas(shared Schema) (JoinSchemas, error) {
	var out JoinSchemas
	for side := range 2 {
		sd := j.side(side)
		name := j.SideName(side)
		ss := []Schema{shared}
		s := shared
		for i, st := range sd.Steps {
			var err error
			if s, err = st.Out(s); err != nil {
				return JoinSchemas{}, fmt.Errorf("join %s side step %d (%v): %w", name, i, st, err)
			}
			ss = append(ss, s)
		}
		if len(sd.Key) == 0 {
			return JoinSchemas{}, fmt.Errorf("dataflow: join %s side needs key columns (JoinSide.Key)", name)
		}
		for _, k := range sd.Key {
			if _, _, err := s.Lookup(k); err != nil {
				return JoinSchemas{}, fmt.Errorf("join %s side key: %w", name, err)
			}
		}
		f, _, err := s.Lookup(sd.TimeCol)
		if err != nil {
			return JoinSchemas{}, fmt.Errorf("join %s side event-time column (JoinSide.TimeCol): %w", name, err)
		}
		if f.Kind != KindTimestamp && f.Kind != KindInt64 {
			return JoinSchemas{}, fmt.Errorf("dataflow: join %s side event-time column %q is %v, not a timestamp", name, sd.TimeCol, f.Kind)
		}
		if len(sd.Cols) == 0 {
			return JoinSchemas{}, fmt.Errorf("dataflow: join %s side contributes no columns (JoinSide.Cols)", name)
		}
		if side == JoinLeft {
			out.Left = ss
		} else {
			out.Right = ss
		}
	}
	l, r := out.Left[len(out.Left)-1], out.Right[len(out.Right)-1]
	if len(j.Left.Key) != len(j.Right.Key) {
		return JoinSchemas{}, fmt.Errorf("dataflow: join keys differ in length: %s has %d columns, %s %d", j.SideName(JoinLeft), len(j.Left.Key), j.SideName(JoinRight), len(j.Right.Key))
	}
	for i := range j.Left.Key {
		lf, _, _ := l.Lookup(j.Left.Key[i])
		rf, _, _ := r.Lookup(j.Right.Key[i])
		if lf.Kind != rf.Kind {
			return JoinSchemas{}, fmt.Errorf("dataflow: join key %d is %v on the %s side (%q) and %v on the %s side (%q); convert one with a Map step", i, lf.Kind, j.SideName(JoinLeft), lf.Name, rf.Kind, j.SideName(JoinRight), rf.Name)
		}
	}
	switch j.Window.Kind {
	case WindowNone:
	case WindowFixed, WindowSliding:
		if err := j.Window.Validate(); err != nil {
			return JoinSchemas{}, fmt.Errorf("join window: %w", err)
		}
	default:
		return JoinSchemas{}, fmt.Errorf("dataflow: a join's window is fixed, sliding or none (incremental), not %v", j.Window.Kind)
	}
	if j.Watermark.MaxOutOfOrderness < 0 || j.Watermark.IdleTimeout < 0 {
		return JoinSchemas{}, errors.New("dataflow: join watermark durations must not be negative")
	}
	if j.AllowedLateness < 0 {
		return JoinSchemas{}, fmt.Errorf("dataflow: join allowed lateness must not be negative, got %v", j.AllowedLateness)
	}
	if !j.Windowed() && j.AllowedLateness != 0 {
		return JoinSchemas{}, errors.New("dataflow: an incremental join has no windows, so no allowed lateness; set a join window or leave AllowedLateness zero")
	}
	js, err := j.Schema(l, r)
	if err != nil {
		return JoinSchemas{}, err
	}
	out.Joined = []Schema{js}
	s := js
	for i, st := range j.Steps {
		if s, err = st.Out(s); err != nil {
			return JoinSchemas{}, fmt.Errorf("join step %d (%v): %w", i, st, err)
		}
		out.Joined = append(out.Joined, s)
	}
	return out, nil
}

// validateJoined checks what a join asks of the pipeline's end.
func (p *Pipeline) validateJoined() error {
	j := p.Join
	if p.Agg == nil {
		return nil
	}
	if !j.Windowed() {
		return errors.New("dataflow: an incremental join ends with an Emit (Pipeline.Output), not an aggregation: its rows come in no event-time order a window could rely on; use a windowed join")
	}
	if p.Agg.Domain != EventTime {
		return errors.New("dataflow: an aggregation after a join is in event time (TimeCol join_time)")
	}
	if p.Agg.TimeCol != JoinTimeCol {
		// A joined row's other timestamps (a side's event time,
		// window_start) may lie behind the join's watermark when the row is
		// emitted, so the aggregation would find it late; join_time (the
		// window's last ms) never does.
		return fmt.Errorf("dataflow: an aggregation after a join windows by the join's %q column (Aggregation.TimeCol), not %q: only join_time is never behind the join's watermark when the joined row is emitted", JoinTimeCol, p.Agg.TimeCol)
	}
	if p.Agg.Watermark != (WatermarkPolicy{}) {
		return errors.New("dataflow: an aggregation after a join takes the join's watermark; set the watermark policy on the Join and leave Aggregation.Watermark zero")
	}
	if j.AllowedLateness != 0 {
		return errors.New("dataflow: a join followed by an aggregation needs zero join AllowedLateness (a late joined row would be late for the aggregation); set lateness on the aggregation")
	}
	return nil
}

// Regroup is a second aggregation over the results of the pipeline's Agg
// (Pipeline.Then): within each window of the first aggregation, its results
// are grouped again by Key and aggregated by Aggs, as Beam's per-window
// combine after a GroupByKey and Nexmark's q4 (the winning bid per auction,
// then the mean per category) need. The first aggregation's result rows have
// the schema [Aggregation.ResultSchema]: its key columns by name, then each
// aggregate by [Agg.Name]. A regroup result has the first aggregation's
// window, the key rendered from Key ([AppendKey]), the first of Aggs as its
// value and the others as extra columns, filtered by Having (over
// [Regroup.OutputSchemaFor]). It fires when the window's first-stage results
// are complete: when the watermark passes the window's end.
//
// The first aggregation must fire once per window, on time: fixed or
// sliding windows, the default trigger, accumulating panes, no allowed
// lateness.
type Regroup struct {
	Key    []string
	Aggs   []Agg
	Having Expr
}

// ResultSchema is the schema of the aggregation's results as rows, the input
// of a [Regroup]: the key columns (kinds from in, the aggregation's input),
// then every aggregate under its [Agg.Name] (the first too, not "value").
func (a *Aggregation) ResultSchema(in Schema) (Schema, error) {
	var fs []Field
	for _, k := range a.Key {
		f, _, err := in.Lookup(k)
		if err != nil {
			return Schema{}, fmt.Errorf("key: %w", err)
		}
		fs = append(fs, f)
	}
	for _, g := range a.Aggs {
		fs = append(fs, Field{Name: g.Name(), Kind: g.ResultKind(in)})
	}
	s := Schema{Fields: fs}
	if err := s.Validate(); err != nil {
		return Schema{}, fmt.Errorf("aggregation result row: %w (name aggregates with Agg.As)", err)
	}
	return s, nil
}

// OutputSchemaFor returns the schema Having is checked against: key
// (string), value (the first aggregate's kind) and the other aggregates by
// name; in is the first aggregation's [Aggregation.ResultSchema].
func (r *Regroup) OutputSchemaFor(in Schema) Schema {
	a := Aggregation{Aggs: r.Aggs}
	return a.OutputSchemaFor(in)
}

func (r *Regroup) validate(first *Aggregation, in Schema) error {
	switch first.Window.Kind {
	case WindowFixed, WindowSliding:
	default:
		return fmt.Errorf("dataflow: a regroup (Pipeline.Then) needs fixed or sliding windows in the first aggregation, not %v", first.Window.Kind)
	}
	if !first.Trigger.IsDefault() || first.Accumulation != Accumulating || first.AllowedLateness != 0 {
		return errors.New("dataflow: a regroup (Pipeline.Then) needs a first aggregation that fires once per window: the default trigger, accumulating panes, zero allowed lateness")
	}
	if first.Having != nil {
		return errors.New("dataflow: a regroup (Pipeline.Then) follows an aggregation without Having; filter in the regroup's Having instead")
	}
	rs, err := first.ResultSchema(in)
	if err != nil {
		return err
	}
	second := Aggregation{Key: r.Key, Aggs: r.Aggs, Having: r.Having}
	for _, k := range r.Key {
		if _, _, err := rs.Lookup(k); err != nil {
			return fmt.Errorf("key: %w", err)
		}
	}
	if len(r.Aggs) == 0 {
		return errors.New("dataflow: a regroup needs at least one aggregate (Regroup.Aggs)")
	}
	for i, g := range r.Aggs {
		if err := g.validate(rs); err != nil {
			return fmt.Errorf("aggregate %d (%v): %w", i, g, err)
		}
	}
	out := second.OutputSchemaFor(rs)
	if err := out.Validate(); err != nil {
		return fmt.Errorf("output: %w (name aggregates with Agg.As)", err)
	}
	if r.Having != nil {
		k, err := r.Having.Kind(out)
		if err != nil {
			return fmt.Errorf("having: %w", err)
		}
		if k != KindBool {
			return fmt.Errorf("dataflow: having %v is %v, not bool", r.Having, k)
		}
	}
	return nil
}
