package dataflowtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/weirlab/weir/dataflow"
)

// SmallLimit is the most distinct values a column listed in [Domain.Small]
// may hold: half of the smallest candidate set of [dataflow.ApproxTopN]
// (64), so its set is never full and its result is exact to judge (DT3).
const SmallLimit = 32

// Domain describes one input the generator builds pipelines over. Every
// column it names must be in Schema (checked by [NewGenerator]).
type Domain struct {
	// Name names the input (the dataset), for messages.
	Name string
	// Schema is the schema of the input records.
	Schema dataflow.Schema
	// TimeCol is the event-time column (timestamp or int64 ms).
	TimeCol string
	// Keys are the columns worth grouping by (not floats).
	Keys []string
	// PartitionKey is the column the input's log is partitioned by, or ""
	// for round robin (then no count windows, DT4).
	PartitionKey string
	// Small are columns with at most [SmallLimit] distinct values.
	Small []string
	// Text are string columns of white-space separated tokens to explode.
	Text []Text
	// Values are sample constants per column, for filters.
	Values map[string][]dataflow.Value
	// Lookups are the joins the input offers; each table's key column must
	// be unique.
	Lookups []dataflow.LookupStep
}

// Text is a column to explode and the prefix of the tokens kept ("" keeps
// every token).
type Text struct{ Col, Prefix string }

// Config scales the generated pipelines. The zero value is valid.
type Config struct {
	// EventWindow is the typical window length in event time (default
	// 4 s): lengths are multiples of a quarter of it, up to twice it (DT6).
	// Choose it so the input's event-time span holds several windows.
	EventWindow time.Duration
	// ProcessingWindow is the typical window length in processing time
	// (ingest time, default 8 ms); its unit is a quarter of it, at least
	// 1 ms.
	ProcessingWindow time.Duration
	// MaxBound is the largest watermark bound of out-of-orderness (default
	// EventWindow); bounds are multiples of 100 ms.
	MaxBound time.Duration
	// CountWindow is the typical count window size (default 8 elements).
	CountWindow int64
	// StatelessShare is the share of stateless pipelines (default 0.1;
	// negative: none).
	StatelessShare float64
	// MaxBy adds max-by aggregates ([dataflow.MaxBy], exact: ties broken by
	// the least value) to the ones drawn. It is off by default, so that a
	// runtime that does not yet feed [dataflow.PairAccumulator]s keeps its
	// tests; with it, "agg=max_by" joins the features a run reports (it is
	// not in [AllFeatures]). Off, the draws are those of a build without it
	// (DT2).
	MaxBy bool
}

func (c Config) withDefaults() Config {
	if c.EventWindow == 0 {
		c.EventWindow = 4 * time.Second
	}
	if c.ProcessingWindow == 0 {
		c.ProcessingWindow = 8 * time.Millisecond
	}
	if c.MaxBound == 0 {
		c.MaxBound = c.EventWindow
	}
	if c.CountWindow == 0 {
		c.CountWindow = 8
	}
	if c.StatelessShare == 0 {
		c.StatelessShare = 0.1
	}
	return c
}

// Validate reports a config that cannot generate.
func (c *Config) Validate() error {
	if c.EventWindow < 0 || c.ProcessingWindow < 0 || c.MaxBound < 0 || c.CountWindow < 0 {
		return errors.New("dataflowtest: window scales, bound and count size must not be negative")
	}
	if c.StatelessShare > 1 {
		return fmt.Errorf("dataflowtest: stateless share %v is above 1", c.StatelessShare)
	}
	return nil
}

// Generator draws random valid pipelines over its domains. It holds no
// randomness of its own (the caller passes a seeded *rand.Rand, DT2) and is
// safe for concurrent use.
type Generator struct {
	cfg     Config
	domains []Domain
}

// NewGenerator returns a generator over the domains, which it checks: every
// column they name must exist with a usable kind.
func NewGenerator(cfg Config, domains ...Domain) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(domains) == 0 {
		return nil, errors.New("dataflowtest: no domains")
	}
	for _, d := range domains {
		if err := d.validate(); err != nil {
			return nil, err
		}
	}
	return &Generator{cfg: cfg.withDefaults(), domains: slices.Clone(domains)}, nil
}

func (d *Domain) validate() error {
	if err := d.Schema.Validate(); err != nil {
		return fmt.Errorf("dataflowtest: domain %s: %w", d.Name, err)
	}
	has := func(what, col string, kinds ...dataflow.Kind) error {
		f, _, err := d.Schema.Lookup(col)
		if err != nil {
			return fmt.Errorf("dataflowtest: domain %s %s: %w", d.Name, what, err)
		}
		if len(kinds) > 0 && !slices.Contains(kinds, f.Kind) {
			return fmt.Errorf("dataflowtest: domain %s %s %q is %v", d.Name, what, col, f.Kind)
		}
		return nil
	}
	if err := has("time column", d.TimeCol, dataflow.KindTimestamp, dataflow.KindInt64); err != nil {
		return err
	}
	for _, k := range d.Keys {
		if err := has("key", k, dataflow.KindString, dataflow.KindInt64, dataflow.KindTimestamp, dataflow.KindBool); err != nil {
			return err
		}
	}
	if d.PartitionKey != "" {
		if err := has("partition key", d.PartitionKey); err != nil {
			return err
		}
	}
	for _, c := range d.Small {
		if err := has("small column", c); err != nil {
			return err
		}
	}
	for _, t := range d.Text {
		if err := has("text column", t.Col, dataflow.KindString); err != nil {
			return err
		}
	}
	for c, vs := range d.Values {
		f, _, err := d.Schema.Lookup(c)
		if err != nil {
			return fmt.Errorf("dataflowtest: domain %s values: %w", d.Name, err)
		}
		for _, v := range vs {
			if v.K != f.Kind {
				return fmt.Errorf("dataflowtest: domain %s value %v of column %q is %v, not %v", d.Name, v, c, v.K, f.Kind)
			}
		}
	}
	for _, l := range d.Lookups {
		if _, err := l.Out(d.Schema); err != nil {
			return fmt.Errorf("dataflowtest: domain %s lookup: %w", d.Name, err)
		}
		if _, err := l.Table.Index(l.Key); err != nil {
			return fmt.Errorf("dataflowtest: domain %s lookup: %w", d.Name, err)
		}
	}
	return nil
}

// Case is one generated pipeline.
type Case struct {
	// Index is the pipeline's number in its run (given to
	// [Generator.Pipeline]).
	Index int
	// Domain is the domain it reads.
	Domain *Domain
	// Pipeline has passed Validate (DT1).
	Pipeline *dataflow.Pipeline
	// Features are the labels of [AllFeatures] it exercises.
	Features []string
}

// String is the pipeline in a readable multi-line form (see [Describe]).
func (c Case) String() string {
	return fmt.Sprintf("#%d over %s: %s", c.Index, c.Domain.Name, Describe(c.Pipeline))
}

// Pipeline draws pipeline number i from r, over domain i modulo the number
// of domains (so every domain is used evenly). The error is the
// generator's bug: a pipeline that does not validate (DT1).
func (g *Generator) Pipeline(r *rand.Rand, i int) (Case, error) {
	d := &g.domains[i%len(g.domains)]
	b := &builder{r: r, cfg: g.cfg, d: d, schema: d.Schema, small: map[string]bool{}, values: map[string][]dataflow.Value{}}
	for _, c := range d.Small {
		b.small[c] = true
	}
	for c, vs := range d.Values {
		b.values[c] = vs
	}
	b.keys = slices.Clone(d.Keys)
	b.p = dataflow.NewPipeline(fmt.Sprintf("diff-%d-%s", i, d.Name), d.Schema)
	b.steps()
	if r.Float64() < g.cfg.StatelessShare {
		b.emit()
	} else {
		b.aggregate()
	}
	c := Case{Index: i, Domain: d, Pipeline: b.p, Features: Features(b.p)}
	if err := b.p.Validate(); err != nil {
		return c, fmt.Errorf("dataflowtest: generated an invalid pipeline (DT1): %w\n%v", err, c)
	}
	return c, nil
}

// builder builds one pipeline; the schema and the column hints follow the
// steps added so far.
type builder struct {
	r      *rand.Rand
	cfg    Config
	d      *Domain
	p      *dataflow.Pipeline
	schema dataflow.Schema
	keys   []string
	small  map[string]bool
	values map[string][]dataflow.Value
	// times are the timestamp columns usable as event time.
	times    []string
	maps     int
	exploded bool
	looked   []bool
}

func (b *builder) chance(p float64) bool { return b.r.Float64() < p }

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// add appends a step and moves the schema on. Every step is built against
// b.schema; a step that does not fit is the generator's bug, which
// Validate reports at the end (DT1).
func (b *builder) add(s dataflow.Step) {
	b.p.Steps = append(b.p.Steps, s)
	if out, err := s.Out(b.schema); err == nil {
		b.schema = out
	}
}

func (b *builder) kind(col string) dataflow.Kind {
	f, _, err := b.schema.Lookup(col)
	if err != nil {
		return dataflow.KindInvalid
	}
	return f.Kind
}

// steps adds zero to three stateless steps.
func (b *builder) steps() {
	b.looked = make([]bool, len(b.d.Lookups))
	b.times = []string{b.d.TimeCol}
	for range b.r.IntN(4) {
		var choices []func()
		if len(b.values) > 0 {
			choices = append(choices, b.filter, b.filter)
		}
		choices = append(choices, b.mapStep, b.mapStep)
		if len(b.d.Text) > 0 && !b.exploded {
			choices = append(choices, b.explode, b.explode)
		}
		for i := range b.d.Lookups {
			if !b.looked[i] {
				choices = append(choices, func() { b.lookup(i) }, func() { b.lookup(i) })
			}
		}
		pick(b.r, choices)()
	}
}

func (b *builder) filter() {
	pred := b.pred()
	if b.chance(0.2) {
		other := b.pred()
		if b.chance(0.5) {
			pred = dataflow.And(pred, other)
		} else {
			pred = dataflow.Or(pred, other)
		}
	}
	if b.chance(0.1) {
		pred = dataflow.Not(pred)
	}
	b.add(dataflow.FilterStep{Pred: pred})
}

// pred returns a comparison of a column with one of its sample values.
func (b *builder) pred() dataflow.Expr {
	cols := make([]string, 0, len(b.values))
	for c := range b.values {
		if b.kind(c) != dataflow.KindInvalid && len(b.values[c]) > 0 {
			cols = append(cols, c)
		}
	}
	if len(cols) == 0 {
		return dataflow.LitBool(true)
	}
	slices.Sort(cols) // map order is random; DT2
	c := pick(b.r, cols)
	vs := b.values[c]
	v := pick(b.r, vs)
	col := dataflow.Col(c)
	switch v.K {
	case dataflow.KindString:
		switch b.r.IntN(5) {
		case 0:
			return dataflow.Eq(col, dataflow.Lit(v))
		case 1:
			return dataflow.Ne(col, dataflow.Lit(v))
		case 2:
			set := []dataflow.Value{v}
			for range b.r.IntN(3) {
				set = append(set, pick(b.r, vs))
			}
			return dataflow.In(col, set...)
		case 3:
			return dataflow.HasPrefix(col, v.S[:min(len(v.S), 1+b.r.IntN(3))])
		default:
			if len(v.S) == 0 {
				return dataflow.Contains(col, "")
			}
			i := b.r.IntN(len(v.S))
			return dataflow.Contains(col, v.S[i:min(len(v.S), i+1+b.r.IntN(2))])
		}
	case dataflow.KindBool:
		if v.Bool() {
			return col
		}
		return dataflow.Not(col)
	}
	ops := []func(l, r dataflow.Expr) dataflow.Expr{dataflow.Lt, dataflow.Le, dataflow.Gt, dataflow.Ge, dataflow.Ne}
	return pick(b.r, ops)(col, dataflow.Lit(v))
}

// mapStep adds a new column m<i> computed from an existing one (DT5).
func (b *builder) mapStep() {
	var ints, floats, strs, stamps []string
	for _, f := range b.schema.Fields {
		switch f.Kind {
		case dataflow.KindInt64:
			ints = append(ints, f.Name)
		case dataflow.KindFloat64:
			floats = append(floats, f.Name)
		case dataflow.KindString:
			strs = append(strs, f.Name)
		case dataflow.KindTimestamp:
			stamps = append(stamps, f.Name)
		}
	}
	as := fmt.Sprintf("m%d", b.maps)
	b.maps++
	var choices []func() dataflow.Expr
	if len(ints) > 0 {
		choices = append(choices, func() dataflow.Expr {
			c := dataflow.Col(pick(b.r, ints))
			switch b.r.IntN(4) {
			case 0:
				b.keys, b.small[as] = append(b.keys, as), true
				return dataflow.Mod(c, dataflow.LitInt(2+b.r.Int64N(10)))
			case 1:
				b.keys = append(b.keys, as)
				return dataflow.Div(c, dataflow.LitInt(1+b.r.Int64N(100)))
			case 2:
				return dataflow.Add(c, dataflow.LitInt(b.r.Int64N(200)-100))
			default:
				return dataflow.Mul(c, dataflow.LitInt(b.r.Int64N(5)-2))
			}
		})
	}
	if len(floats) > 0 {
		choices = append(choices, func() dataflow.Expr {
			c := dataflow.Col(pick(b.r, floats))
			if b.chance(0.5) {
				return dataflow.Mul(c, dataflow.LitFloat(float64(1+b.r.IntN(8))/4))
			}
			return dataflow.Sub(c, dataflow.LitFloat(float64(b.r.IntN(100))))
		})
	}
	if len(strs) > 0 {
		choices = append(choices, func() dataflow.Expr {
			c := dataflow.Col(pick(b.r, strs))
			b.keys = append(b.keys, as)
			if b.chance(0.6) {
				return dataflow.Prefix(c, 1+b.r.IntN(4))
			}
			return dataflow.Lower(c)
		})
	}
	if len(stamps) > 0 {
		choices = append(choices, func() dataflow.Expr {
			// A shifted timestamp is another event-time column.
			b.times = append(b.times, as)
			return dataflow.Sub(dataflow.Col(pick(b.r, stamps)), dataflow.LitInt(b.r.Int64N(2000)))
		})
	}
	b.add(dataflow.MapStep{As: as, Expr: pick(b.r, choices)()})
}

func (b *builder) explode() {
	t := pick(b.r, b.d.Text)
	prefix := t.Prefix
	if b.chance(0.25) {
		prefix = ""
	}
	b.exploded = true
	b.keys = append(b.keys, "tok")
	b.add(dataflow.ExplodeStep{Col: t.Col, Prefix: prefix, As: "tok"})
}

func (b *builder) lookup(i int) {
	l := b.d.Lookups[i]
	b.looked[i] = true
	for _, c := range l.Cols {
		if k := l.Table.Schema.Fields[l.Table.Schema.Index(c)].Kind; k != dataflow.KindFloat64 {
			b.keys = append(b.keys, c)
		}
	}
	b.add(l)
}

// candidates returns the key candidates present in the current schema.
func (b *builder) candidates() []string {
	var out []string
	for _, k := range b.keys {
		if b.kind(k) != dataflow.KindInvalid && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// chooseKeys returns n distinct key columns (fewer if there are fewer).
func (b *builder) chooseKeys(n int) []string {
	c := b.candidates()
	b.r.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
	return c[:min(n, len(c))]
}

// project ends the steps with a projection that keeps the columns the end
// needs, in random order, and sometimes one more.
func (b *builder) project(need []string) {
	cols := []string{}
	for _, c := range need {
		if c != "" && !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	if b.chance(0.5) {
		if f := pick(b.r, b.schema.Fields); !slices.Contains(cols, f.Name) {
			cols = append(cols, f.Name)
		}
	}
	if len(cols) == 0 {
		cols = append(cols, b.schema.Fields[0].Name)
	}
	b.r.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
	b.add(dataflow.ProjectStep{Cols: cols})
}

// emit ends a stateless pipeline.
func (b *builder) emit() {
	key := b.chooseKeys(b.r.IntN(3))
	fs := b.schema.Fields
	value := pick(b.r, fs).Name
	var extra []string
	for range b.r.IntN(3) {
		extra = append(extra, pick(b.r, fs).Name)
	}
	if b.chance(0.2) {
		b.project(slices.Concat(key, []string{value}, extra))
	}
	b.p.Output(key, value, extra...)
}

// aggregate ends the pipeline with a keyed windowed aggregation.
func (b *builder) aggregate() {
	a := dataflow.Aggregation{Late: dataflow.LateDrop}
	kinds := []dataflow.WindowKind{dataflow.WindowNone, dataflow.WindowFixed, dataflow.WindowSliding, dataflow.WindowSession, dataflow.WindowGlobal}
	pk := b.d.PartitionKey
	if pk != "" && b.kind(pk) != dataflow.KindInvalid {
		kinds = append(kinds, dataflow.WindowCount)
	}
	kind := pick(b.r, kinds)
	switch {
	case kind == dataflow.WindowCount:
		// DT4: a superset of the partition key.
		a.Key = []string{pk}
		if b.chance(0.3) {
			for _, k := range b.chooseKeys(1) {
				if k != pk {
					a.Key = append(a.Key, k)
				}
			}
		}
		b.r.Shuffle(len(a.Key), func(i, j int) { a.Key[i], a.Key[j] = a.Key[j], a.Key[i] })
	default:
		n := 1
		switch x := b.r.Float64(); {
		case x < 0.15:
			n = 0
		case x > 0.7:
			n = 2
		}
		a.Key = b.chooseKeys(n)
	}

	timed := kind == dataflow.WindowFixed || kind == dataflow.WindowSliding || kind == dataflow.WindowSession
	if timed && b.chance(0.3) {
		a.Domain = dataflow.ProcessingTime
	}
	var times []string
	for _, c := range b.times {
		if b.kind(c) != dataflow.KindInvalid {
			times = append(times, c)
		}
	}
	if (timed && a.Domain == dataflow.EventTime) || b.chance(0.5) {
		// Without a timed event-time window the time column must change
		// nothing; setting it sometimes checks that it does not.
		a.TimeCol = times[0]
		if len(times) > 1 && b.chance(0.5) {
			a.TimeCol = pick(b.r, times[1:])
		}
	}
	unit := max(b.cfg.EventWindow/4, time.Millisecond)
	if a.Domain == dataflow.ProcessingTime {
		unit = max(b.cfg.ProcessingWindow/4, time.Millisecond)
	}
	k := time.Duration(1 + b.r.IntN(8))
	switch kind {
	case dataflow.WindowFixed:
		a.Window = dataflow.FixedWindows(k * unit)
		if b.chance(0.25) {
			a.Window = a.Window.WithOffset(time.Duration(b.r.IntN(int(k))) * unit)
		}
	case dataflow.WindowSliding:
		a.Window = dataflow.SlidingWindows(k*unit, time.Duration(1+b.r.IntN(int(k)))*unit)
		if b.chance(0.25) {
			a.Window = a.Window.WithOffset(time.Duration(b.r.Int64N(a.Window.Period)) * time.Millisecond)
		}
	case dataflow.WindowSession:
		a.Window = dataflow.SessionWindows(k * unit)
	case dataflow.WindowCount:
		size := 1 + b.r.Int64N(2*b.cfg.CountWindow)
		a.Window = dataflow.CountWindows(size, 1+b.r.Int64N(size))
	case dataflow.WindowGlobal:
		a.Window = dataflow.GlobalWindows()
	}

	if !b.chance(0.25) {
		a.Watermark.MaxOutOfOrderness = time.Duration(b.r.Int64N(int64(b.cfg.MaxBound/(100*time.Millisecond))+1)) * 100 * time.Millisecond
	}
	if b.chance(0.1) {
		a.Watermark.IdleTimeout = time.Duration(1+b.r.IntN(20)) * time.Millisecond
	}
	if b.chance(0.3) {
		a.AllowedLateness = time.Duration(1+b.r.IntN(4)) * max(b.cfg.EventWindow/4, time.Millisecond)
	}
	if b.chance(0.15) {
		a.Late = dataflow.LateSideOutput
	}
	if b.chance(0.25) {
		a.Trigger.EarlyEvery = time.Duration(1+b.r.IntN(5)) * time.Millisecond
	}
	if b.chance(0.2) {
		a.Trigger.AfterCount = 1 + b.r.Int64N(16)
	}
	if b.chance(0.2) {
		a.Trigger.LateFirings = true
	}

	for i := range 1 + b.r.IntN(3) {
		a.Aggs = append(a.Aggs, b.agg().Named(fmt.Sprintf("a%d", i)))
	}
	combinable := true
	for _, g := range a.Aggs {
		combinable = combinable && g.Kind.Combinable()
	}
	if b.chance(0.15) {
		a.Having = b.having(a)
	}
	if combinable && a.Having == nil && b.chance(0.4) {
		a.Accumulation = dataflow.Discarding
	}
	if b.chance(0.2) {
		need := slices.Clone(a.Key)
		need = append(need, a.TimeCol)
		for _, g := range a.Aggs {
			need = append(need, g.Col)
			if g.By != "" {
				need = append(need, g.By)
			}
		}
		b.project(need)
	}
	b.p.Aggregate(a)
}

// agg returns one aggregate over a column of the current schema (DT3).
func (b *builder) agg() dataflow.Agg {
	var numeric, ordered, all, small []string
	for _, f := range b.schema.Fields {
		all = append(all, f.Name)
		if f.Kind.Numeric() {
			numeric = append(numeric, f.Name)
		}
		if f.Kind != dataflow.KindBool {
			ordered = append(ordered, f.Name)
		}
		if b.small[f.Name] {
			small = append(small, f.Name)
		}
	}
	type maker func() dataflow.Agg
	makers := []maker{dataflow.Count}
	if len(numeric) > 0 {
		makers = append(makers,
			func() dataflow.Agg { return dataflow.Sum(pick(b.r, numeric)) },
			func() dataflow.Agg { return dataflow.Mean(pick(b.r, numeric)) },
			func() dataflow.Agg { return dataflow.Span(pick(b.r, numeric)) })
	}
	if len(ordered) > 0 {
		makers = append(makers,
			func() dataflow.Agg { return dataflow.Min(pick(b.r, ordered)) },
			func() dataflow.Agg { return dataflow.Max(pick(b.r, ordered)) })
	}
	makers = append(makers,
		func() dataflow.Agg { return dataflow.Distinct(pick(b.r, all)) },
		func() dataflow.Agg { return dataflow.TopN(pick(b.r, all), 1+b.r.IntN(4)) },
		func() dataflow.Agg {
			// Small sketches mostly: a default HyperLogLog is 16 KiB per
			// window and key, which dominates the cost of a test run.
			g := dataflow.ApproxDistinct(pick(b.r, all))
			if b.chance(0.8) {
				g.Precision = uint8(4 + b.r.IntN(9))
			}
			return g
		})
	if b.cfg.MaxBy && len(ordered) > 0 {
		makers = append(makers, func() dataflow.Agg { return dataflow.MaxBy(pick(b.r, all), pick(b.r, ordered)) })
	}
	if len(small) > 0 {
		makers = append(makers, func() dataflow.Agg {
			g := dataflow.ApproxTopN(pick(b.r, small), 1+b.r.IntN(4))
			if b.chance(0.8) {
				g.Width, g.Depth = 16+b.r.IntN(240), 1+b.r.IntN(4)
			}
			return g
		})
	}
	return pick(b.r, makers)()
}

// having returns a threshold on the first aggregate's value, or nil when it
// is not a number.
func (b *builder) having(a dataflow.Aggregation) dataflow.Expr {
	switch a.Aggs[0].ResultKind(b.schema) {
	case dataflow.KindInt64:
		return dataflow.Gt(dataflow.Col("value"), dataflow.LitInt(b.r.Int64N(4)))
	case dataflow.KindFloat64:
		return dataflow.Ge(dataflow.Col("value"), dataflow.LitFloat(float64(b.r.IntN(50))))
	}
	return nil
}
