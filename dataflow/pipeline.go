package dataflow

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Pipeline is a workload written once, run on every runtime: stateless steps
// applied to each input record in order, then either a keyed windowed
// aggregation ([Aggregation]) or, for a stateless pipeline, an [Emit] of
// chosen columns. Build it with [NewPipeline] and the step methods, or as a
// literal; [Pipeline.Validate] type-checks the whole of it.
type Pipeline struct {
	Name  string
	Input Schema
	Steps []Step
	// Agg is the keyed windowed aggregation; nil for a stateless pipeline.
	Agg *Aggregation
	// Emit chooses the output columns of a stateless pipeline.
	Emit Emit
	// Join, if set, joins two streams selected from the records after Steps
	// ([Join]); its joined rows reach Agg or Emit.
	Join *Join
	// Then, if set, aggregates Agg's results again within each window
	// ([Regroup]).
	Then *Regroup
}

// NewPipeline starts a pipeline over records of the input schema.
func NewPipeline(name string, input Schema) *Pipeline {
	return &Pipeline{Name: name, Input: input}
}

// Filter keeps the records for which pred is true.
func (p *Pipeline) Filter(pred Expr) *Pipeline { return p.add(FilterStep{Pred: pred}) }

// Map sets column as to the value of e (adding the column if it is new).
func (p *Pipeline) Map(as string, e Expr) *Pipeline { return p.add(MapStep{As: as, Expr: e}) }

// Project keeps only the named columns, in that order.
func (p *Pipeline) Project(cols ...string) *Pipeline { return p.add(ProjectStep{Cols: cols}) }

// Explode is the flat-map: see [ExplodeStep].
func (p *Pipeline) Explode(col, prefix, as string) *Pipeline {
	return p.add(ExplodeStep{Col: col, Prefix: prefix, As: as})
}

// Lookup joins a static table: see [LookupStep].
func (p *Pipeline) Lookup(t *Table, on, key string, cols ...string) *Pipeline {
	return p.add(LookupStep{Table: t, On: on, Key: key, Cols: cols})
}

// Aggregate ends the pipeline with a keyed windowed aggregation.
func (p *Pipeline) Aggregate(a Aggregation) *Pipeline {
	p.Agg = &a
	return p
}

// Output ends a stateless pipeline: see [Emit].
func (p *Pipeline) Output(key []string, value string, extra ...string) *Pipeline {
	p.Emit = Emit{Key: key, Value: value, Extra: extra}
	return p
}

func (p *Pipeline) add(s Step) *Pipeline {
	p.Steps = append(p.Steps, s)
	return p
}

// Step is one stateless, record-at-a-time transformation. The set of steps is
// closed: FilterStep, MapStep, ProjectStep, ExplodeStep and LookupStep.
type Step interface {
	// Out returns the schema of the step's output given its input schema.
	Out(in Schema) (Schema, error)
	String() string
	stepNode()
}

// FilterStep keeps records for which Pred is true.
type FilterStep struct{ Pred Expr }

// MapStep sets column As to Expr, adding it when the input has no such column.
type MapStep struct {
	As   string
	Expr Expr
}

// ProjectStep keeps only Cols, in that order.
type ProjectStep struct{ Cols []string }

// ExplodeStep is the flat-map of the model: it splits the string column Col
// on ASCII white space and emits one record per token that starts with
// Prefix (every token when Prefix is empty), with the token in the string
// column As (added or replaced). A record with no such token emits nothing.
// Splitting a tweet into its hashtags is Explode("text", "#", "hashtag").
type ExplodeStep struct {
	Col, Prefix, As string
}

// AppendTokens appends to dst the tokens of s that start with prefix (every
// token when prefix is empty), in order and repeats included, and returns the
// extended slice: the values [ExplodeStep] emits, in every evaluator. Tokens
// are the non-empty runs of s between ASCII white space (space, \t, \n, \v,
// \f, \r); unlike strings.Fields it does not split on Unicode spaces, so
// every runtime splits the same bytes the same way, and it keeps punctuation
// ("#go," is a token). The tokens are substrings of s, sharing its memory;
// AppendTokens allocates only when dst has no room for them, so a caller
// reusing dst (dst[:0]) splits without allocating.
func AppendTokens(dst []string, s, prefix string) []string {
	for i := 0; i < len(s); {
		for i < len(s) && isASCIISpace(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isASCIISpace(s[j]) {
			j++
		}
		if j > i && strings.HasPrefix(s[i:j], prefix) {
			dst = append(dst, s[i:j])
		}
		i = j
	}
	return dst
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// LookupStep joins each record with a static table (an inner join): the
// record's column On is looked up in the table's column Key, and the table's
// columns Cols are added to the record. A record whose value has no row in the
// table is filtered out, as by an inner join; table keys must be unique.
type LookupStep struct {
	Table *Table
	On    string
	Key   string
	Cols  []string
}

func (FilterStep) stepNode()  {}
func (MapStep) stepNode()     {}
func (ProjectStep) stepNode() {}
func (ExplodeStep) stepNode() {}
func (LookupStep) stepNode()  {}

// Out implements Step.
func (s FilterStep) Out(in Schema) (Schema, error) {
	k, err := s.Pred.Kind(in)
	if err != nil {
		return Schema{}, err
	}
	if k != KindBool {
		return Schema{}, fmt.Errorf("dataflow: filter %v is %v, not bool", s.Pred, k)
	}
	return in, nil
}

// Out implements Step.
func (s MapStep) Out(in Schema) (Schema, error) {
	if s.As == "" {
		return Schema{}, errors.New("dataflow: map needs an output column name")
	}
	k, err := s.Expr.Kind(in)
	if err != nil {
		return Schema{}, err
	}
	return in.with(Field{Name: s.As, Kind: k}), nil
}

// Out implements Step.
func (s ProjectStep) Out(in Schema) (Schema, error) {
	if len(s.Cols) == 0 {
		return Schema{}, errors.New("dataflow: project needs at least one column")
	}
	out := make([]Field, len(s.Cols))
	for i, c := range s.Cols {
		f, _, err := in.Lookup(c)
		if err != nil {
			return Schema{}, err
		}
		out[i] = f
	}
	o := Schema{Fields: out}
	return o, o.Validate()
}

// Out implements Step.
func (s ExplodeStep) Out(in Schema) (Schema, error) {
	f, _, err := in.Lookup(s.Col)
	if err != nil {
		return Schema{}, err
	}
	if f.Kind != KindString {
		return Schema{}, fmt.Errorf("dataflow: explode needs a string column, %q is %v", s.Col, f.Kind)
	}
	if s.As == "" {
		return Schema{}, errors.New("dataflow: explode needs an output column name")
	}
	return in.with(Field{Name: s.As, Kind: KindString}), nil
}

// Out implements Step.
func (s LookupStep) Out(in Schema) (Schema, error) {
	if s.Table == nil {
		return Schema{}, errors.New("dataflow: lookup has no table")
	}
	on, _, err := in.Lookup(s.On)
	if err != nil {
		return Schema{}, err
	}
	key, _, err := s.Table.Schema.Lookup(s.Key)
	if err != nil {
		return Schema{}, fmt.Errorf("dataflow: lookup table %q: %w", s.Table.Name, err)
	}
	if on.Kind != key.Kind {
		return Schema{}, fmt.Errorf("dataflow: lookup joins %q (%v) with table %q column %q (%v)", s.On, on.Kind, s.Table.Name, s.Key, key.Kind)
	}
	out := in
	for _, c := range s.Cols {
		f, _, err := s.Table.Schema.Lookup(c)
		if err != nil {
			return Schema{}, fmt.Errorf("dataflow: lookup table %q: %w", s.Table.Name, err)
		}
		out = out.with(f)
	}
	return out, nil
}

func (s FilterStep) String() string  { return "filter " + s.Pred.String() }
func (s MapStep) String() string     { return "map " + s.As + " = " + s.Expr.String() }
func (s ProjectStep) String() string { return "project " + strings.Join(s.Cols, ", ") }
func (s ExplodeStep) String() string {
	return fmt.Sprintf("explode %s tokens with prefix %q as %s", s.Col, s.Prefix, s.As)
}
func (s LookupStep) String() string {
	return fmt.Sprintf("lookup %s in %s.%s adding %s", s.On, s.Table.Name, s.Key, strings.Join(s.Cols, ", "))
}

// Emit chooses the output columns of a stateless pipeline: each surviving
// record becomes one [Result] with no window, the key columns rendered as the
// key (see [AppendKey]), Value as the value and Extra as extra columns.
type Emit struct {
	Key   []string
	Value string
	Extra []string
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=TimeDomain -linecomment

// TimeDomain says which clock windows are measured in.
type TimeDomain uint8

// Time domains.
const (
	// EventTime windows by the time in the record's TimeCol.
	EventTime TimeDomain = iota // event-time
	// ProcessingTime windows by the record's ingest time in the log
	// (Record.ProcessingTime), so every runtime and the reference see the
	// same processing timestamps for the same log.
	ProcessingTime // processing-time
)

// WatermarkPolicy says how a runtime derives its event-time watermark
// (see [WatermarkTracker]).
type WatermarkPolicy struct {
	// MaxOutOfOrderness is the bound d of bounded out-of-orderness: a
	// partition's watermark is the largest event time seen on it minus d.
	MaxOutOfOrderness time.Duration
	// IdleTimeout excludes a partition from the minimum once it has had no
	// record for this long in processing time, so an idle partition does not
	// stall the watermark forever. Zero means partitions never go idle.
	IdleTimeout time.Duration
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=LateAction -linecomment

// LateAction says what happens to a record that is late for all its windows.
type LateAction uint8

// Late actions.
const (
	// LateDrop drops the record and counts it.
	LateDrop LateAction = iota // drop
	// LateSideOutput emits the record to the late output (and counts it).
	LateSideOutput // side-output
)

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=Accumulation -linecomment

// Accumulation says what a pane holds when a window fires more than once.
type Accumulation uint8

// Accumulation modes.
const (
	// Accumulating panes hold everything in the window so far.
	Accumulating Accumulation = iota // accumulating
	// Discarding panes hold only what arrived since the previous firing.
	// Only aggregations whose results combine (count, sum, min, max) may
	// discard, so the final value of a window can be rebuilt from its panes.
	Discarding // discarding
)

// Trigger says when a window emits panes. The zero Trigger fires once, when
// the watermark passes the end of the window (on time); windows that take
// late records within the allowed lateness fire a late pane per late record
// when LateFirings is set.
type Trigger struct {
	// EarlyEvery fires early (speculative) panes every interval of processing
	// time while the window is open and has new data. Zero: no early panes.
	EarlyEvery time.Duration
	// AfterCount fires a pane every time a window has received this many
	// more elements. Zero: off. Global windows need it (or EarlyEvery) to emit
	// before the end of the input.
	AfterCount int64
	// LateFirings fires a late pane for every record accepted after the
	// on-time pane (within the allowed lateness).
	LateFirings bool
}

// IsDefault reports whether t is the zero trigger (on watermark only).
func (t Trigger) IsDefault() bool { return t == Trigger{} }

// Aggregation is the keyed, windowed aggregation that ends a pipeline.
type Aggregation struct {
	// Key names the key columns; an empty key aggregates all records together.
	Key []string
	// Window assigns records to windows.
	Window WindowFn
	// Domain is event time (the default) or processing time.
	Domain TimeDomain
	// TimeCol is the event-time column (timestamp or int64 ms), for
	// event-time windows.
	TimeCol string
	// Watermark derives the event-time watermark.
	Watermark WatermarkPolicy
	// AllowedLateness keeps a window's state this long past its end in event
	// time: a record for a window [s, e) is late once the watermark W >= e +
	// AllowedLateness (I5).
	AllowedLateness time.Duration
	// Late says what happens to late records.
	Late LateAction
	// Trigger says when windows emit; Accumulation what their panes hold.
	Trigger      Trigger
	Accumulation Accumulation
	// Aggs are computed per key and window; the first is the result's value,
	// the others its extra columns, in order.
	Aggs []Agg
	// Having, if set, keeps only results for which it is true. It is an
	// expression over the output columns (key, value and the extra aggregate
	// names), like SQL's HAVING: a threshold alert is Having(Gt(Col("value"),
	// LitInt(5))).
	Having Expr
}

// Validate type-checks the pipeline and reports the first problem: an
// unknown column, a type mismatch, a window the model cannot express, a
// trigger or accumulation the aggregation does not support.
func (p *Pipeline) Validate() error {
	_, err := p.Schemas()
	return err
}

// Schemas returns the schema after each shared step: element 0 is the
// input, element i+1 the output of Steps[i]. With a [Join], what follows
// the shared steps is in [Pipeline.JoinSchemas]; [Pipeline.Last] is the
// schema reaching Agg or Emit either way.
func (p *Pipeline) Schemas() ([]Schema, error) {
	if p == nil {
		return nil, errors.New("dataflow: nil pipeline")
	}
	if err := p.Input.Validate(); err != nil {
		return nil, fmt.Errorf("pipeline %q input: %w", p.Name, err)
	}
	out := []Schema{p.Input}
	s := p.Input
	for i, st := range p.Steps {
		var err error
		if s, err = st.Out(s); err != nil {
			return nil, fmt.Errorf("pipeline %q step %d (%v): %w", p.Name, i, st, err)
		}
		out = append(out, s)
	}
	if p.Join != nil {
		js, err := p.Join.schemas(s)
		if err != nil {
			return nil, fmt.Errorf("pipeline %q: %w", p.Name, err)
		}
		if err := p.validateJoined(); err != nil {
			return nil, fmt.Errorf("pipeline %q: %w", p.Name, err)
		}
		s = js.Joined[len(js.Joined)-1]
	}
	if p.Then != nil && p.Agg == nil {
		return nil, fmt.Errorf("pipeline %q: a regroup (Pipeline.Then) needs an aggregation (Pipeline.Agg) to regroup", p.Name)
	}
	if p.Agg == nil {
		if err := p.Emit.validate(s); err != nil {
			return nil, fmt.Errorf("pipeline %q output: %w", p.Name, err)
		}
		return out, nil
	}
	if err := p.Agg.validate(s); err != nil {
		return nil, fmt.Errorf("pipeline %q aggregation: %w", p.Name, err)
	}
	if p.Then != nil {
		if err := p.Then.validate(p.Agg, s); err != nil {
			return nil, fmt.Errorf("pipeline %q regroup: %w", p.Name, err)
		}
	}
	return out, nil
}

// Last returns the schema of the rows that reach the aggregation or emit:
// the last shared step's output, or with a [Join] the joined rows' after
// Join.Steps.
func (p *Pipeline) Last() (Schema, error) {
	ss, err := p.Schemas()
	if err != nil {
		return Schema{}, err
	}
	if p.Join != nil {
		js, err := p.Join.schemas(ss[len(ss)-1])
		if err != nil {
			return Schema{}, err
		}
		return js.Joined[len(js.Joined)-1], nil
	}
	return ss[len(ss)-1], nil
}

func (e Emit) validate(s Schema) error {
	if e.Value == "" {
		return errors.New("dataflow: a stateless pipeline needs an output value column (Pipeline.Output)")
	}
	for _, c := range slices.Concat(e.Key, []string{e.Value}, e.Extra) {
		if _, _, err := s.Lookup(c); err != nil {
			return err
		}
	}
	return nil
}

func (a *Aggregation) validate(s Schema) error {
	for _, k := range a.Key {
		if _, _, err := s.Lookup(k); err != nil {
			return fmt.Errorf("key: %w", err)
		}
	}
	if err := a.Window.Validate(); err != nil {
		return err
	}
	if a.Window.Kind != WindowCount && a.Window.Kind != WindowGlobal && a.Window.Kind != WindowNone {
		switch a.Domain {
		case EventTime:
			f, _, err := s.Lookup(a.TimeCol)
			if err != nil {
				return fmt.Errorf("event-time column: %w", err)
			}
			if f.Kind != KindTimestamp && f.Kind != KindInt64 {
				return fmt.Errorf("dataflow: event-time column %q is %v, not a timestamp", a.TimeCol, f.Kind)
			}
		case ProcessingTime:
			// Windows over Record.ProcessingTime; nothing to check.
		default:
			return fmt.Errorf("dataflow: unknown time domain %d", a.Domain)
		}
	}
	if a.Watermark.MaxOutOfOrderness < 0 {
		return fmt.Errorf("dataflow: watermark max out-of-orderness must not be negative, got %v", a.Watermark.MaxOutOfOrderness)
	}
	if a.Watermark.IdleTimeout < 0 {
		return fmt.Errorf("dataflow: watermark idle timeout must not be negative, got %v", a.Watermark.IdleTimeout)
	}
	if a.AllowedLateness < 0 {
		return fmt.Errorf("dataflow: allowed lateness must not be negative, got %v", a.AllowedLateness)
	}
	if a.Trigger.EarlyEvery < 0 || a.Trigger.AfterCount < 0 {
		return errors.New("dataflow: trigger intervals and counts must not be negative")
	}
	if len(a.Aggs) == 0 {
		return errors.New("dataflow: an aggregation needs at least one aggregate (Aggs)")
	}
	out := a.OutputSchemaFor(s)
	for i, g := range a.Aggs {
		if err := g.validate(s); err != nil {
			return fmt.Errorf("aggregate %d (%v): %w", i, g, err)
		}
		if a.Accumulation == Discarding && !g.Kind.Combinable() {
			return fmt.Errorf("dataflow: discarding panes need aggregates whose results combine (count, sum, min, max); %v does not: use accumulating panes", g.Kind)
		}
	}
	if err := out.Validate(); err != nil {
		return fmt.Errorf("output: %w (name aggregates with Agg.As)", err)
	}
	if a.Having != nil {
		k, err := a.Having.Kind(out)
		if err != nil {
			return fmt.Errorf("having: %w", err)
		}
		if k != KindBool {
			return fmt.Errorf("dataflow: having %v is %v, not bool", a.Having, k)
		}
		if a.Accumulation == Discarding {
			return fmt.Errorf("dataflow: having %v needs accumulating panes: a discarding pane holds only part of its window; use accumulating panes", a.Having)
		}
	}
	return nil
}

// OutputSchemaFor returns the schema Having is checked against: key (string),
// value (the first aggregate's kind) and the other aggregates by name.
func (a *Aggregation) OutputSchemaFor(in Schema) Schema {
	fs := []Field{{Name: "key", Kind: KindString}}
	for i, g := range a.Aggs {
		name := "value"
		if i > 0 {
			name = g.Name()
		}
		fs = append(fs, Field{Name: name, Kind: g.ResultKind(in)})
	}
	return Schema{Fields: fs}
}

// Table is a static lookup table: YSB's ad-to-campaign map is one. It is
// read-only once built and safe for concurrent readers.
type Table struct {
	Name   string
	Schema Schema
	Rows   []Row
}

// Index returns a map from the text of column col (see [Value.AppendText])
// to the row index, and an error if col is missing or has duplicate values.
func (t *Table) Index(col string) (map[string]int, error) {
	_, i, err := t.Schema.Lookup(col)
	if err != nil {
		return nil, fmt.Errorf("dataflow: table %q: %w", t.Name, err)
	}
	m := make(map[string]int, len(t.Rows))
	var buf []byte
	for r, row := range t.Rows {
		buf = row[i].AppendText(buf[:0])
		if _, dup := m[string(buf)]; dup {
			return nil, fmt.Errorf("dataflow: table %q has two rows with %s = %s; lookup keys must be unique", t.Name, col, buf)
		}
		m[string(buf)] = r
	}
	return m, nil
}

// Result is one output row: a window, a key and its aggregate value (plus
// extra aggregates), or for a stateless pipeline one emitted record with the
// zero Window.
type Result struct {
	Window Window
	Key    string
	Value  Value
	Extra  []Value
}

// KeySep separates the parts of a composite key in [Result.Key].
const KeySep = '|'

// AppendKey appends the text of the key columns at positions idx of row,
// separated by [KeySep]. All runtimes render keys with it, so their results
// compare equal.
func AppendKey(dst []byte, row Row, idx []int) []byte {
	for i, c := range idx {
		if i > 0 {
			dst = append(dst, KeySep)
		}
		dst = row[c].AppendText(dst)
	}
	return dst
}

// CompareResults orders results by window start, key, window end, value and
// extra columns: the order of every results file (DESIGN.md).
func CompareResults(a, b Result) int {
	if c := cmpInt(int64(a.Window.Start), int64(b.Window.Start)); c != 0 {
		return c
	}
	if c := strings.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	if c := cmpInt(int64(a.Window.End), int64(b.Window.End)); c != 0 {
		return c
	}
	if c := a.Value.Compare(b.Value); c != 0 {
		return c
	}
	for i := 0; i < len(a.Extra) && i < len(b.Extra); i++ {
		if c := a.Extra[i].Compare(b.Extra[i]); c != 0 {
			return c
		}
	}
	return cmpInt(int64(len(a.Extra)), int64(len(b.Extra)))
}

// SortResults sorts results in file order ([CompareResults]).
func SortResults(rs []Result) { slices.SortFunc(rs, CompareResults) }

// UsedInputColumns marks the input columns the pipeline reads anywhere: in a
// step, the aggregation's key, time and aggregate columns, Having, or the
// output. A name is matched against the input schema even where a Map has
// replaced the column, which can only mark more than needed, never less.
// Columns not marked are never looked at, so a runtime may leave them
// unread: recordstream's spouts read only the marked ones (a tuple carries
// zero values in the others) and microbatch's Arrow batches carry the
// others as all-null arrays.
func (p *Pipeline) UsedInputColumns() []bool {
	in := p.Input
	used := make([]bool, in.Len())
	mark := func(names ...string) {
		for _, n := range names {
			if i := in.Index(n); i >= 0 {
				used[i] = true
			}
		}
	}
	steps := p.Steps
	if j := p.Join; j != nil {
		// Each side's steps, key, columns and time, and the joined rows'
		// steps: a name the join adds (window_start, join_time) or a Map
		// made matches no input column, or marks one more.
		steps = slices.Concat(steps, j.Left.Steps, j.Right.Steps, j.Steps)
		for _, sd := range []*JoinSide{&j.Left, &j.Right} {
			mark(sd.Key...)
			mark(sd.Cols...)
			mark(sd.TimeCol)
		}
	}
	for _, st := range steps {
		switch st := st.(type) {
		case FilterStep:
			mark(Columns(nil, st.Pred)...)
		case MapStep:
			mark(Columns(nil, st.Expr)...)
		case ProjectStep:
			mark(st.Cols...)
		case ExplodeStep:
			mark(st.Col)
		case LookupStep:
			mark(st.On)
		default:
			// An unknown step: read everything.
			for i := range used {
				used[i] = true
			}
			return used
		}
	}
	if a := p.Agg; a != nil {
		mark(a.Key...)
		mark(a.TimeCol)
		for _, g := range a.Aggs {
			mark(g.Col, g.By)
		}
	} else {
		mark(p.Emit.Key...)
		mark(p.Emit.Value)
		mark(p.Emit.Extra...)
	}
	return used
}
