package compare

import (
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// Overrides change the time settings of a workload's pipeline, the knobs a
// teacher varies between runs: the window's size, slide or gap, the
// watermark bound, the allowed lateness and the width of approximate
// aggregates. The zero value changes nothing, and so does each zero field:
// it keeps the workload's own setting.
//
// Each field applies to some window kinds only ([Overrides.Apply]); a field
// the pipeline's window cannot take is a *[FieldError] naming the field and
// saying which field would fit instead. The changed pipeline is run and
// checked against the reference answer like any other, since the reference
// evaluates the changed pipeline too.
type Overrides struct {
	// Window is the window size: of fixed windows, or of sliding windows
	// (their slide stays unless Slide is set). Sessions take Gap instead;
	// count windows are sized in elements and take neither.
	Window time.Duration
	// Slide is how far consecutive windows start apart. On sliding windows
	// it replaces the period; on fixed windows it makes them sliding windows
	// of the same size (or of Window) every Slide.
	Slide time.Duration
	// Gap is the gap of session windows.
	Gap time.Duration
	// WatermarkBound is the bounded out-of-orderness of the event-time
	// watermark ([dataflow.WatermarkPolicy.MaxOutOfOrderness]). Event-time
	// windows only.
	WatermarkBound time.Duration
	// Lateness is how long a window keeps taking records after the
	// watermark has passed its end ([dataflow.Aggregation.AllowedLateness]).
	// Event-time windows only.
	Lateness time.Duration
	// SketchWidth is the number of counters per row of the Count-Min
	// sketches of approximate top-N aggregates ([dataflow.Agg.Width]); the
	// pipeline must have one.
	SketchWidth int
}

// IsZero reports whether o changes nothing.
func (o Overrides) IsZero() bool { return o == Overrides{} }

// Validate reports a value no pipeline can take: a negative duration, one
// that is not a whole number of milliseconds (windows are measured in ms),
// or a negative sketch width. The error is a *[FieldError] (Field
// "Overrides.Window", ...).
func (o Overrides) Validate() error {
	for _, d := range []struct {
		field string
		v     time.Duration
		ms    bool // must be whole milliseconds
	}{
		{"Overrides.Window", o.Window, true},
		{"Overrides.Slide", o.Slide, true},
		{"Overrides.Gap", o.Gap, true},
		{"Overrides.WatermarkBound", o.WatermarkBound, false},
		{"Overrides.Lateness", o.Lateness, false},
	} {
		switch {
		case d.v < 0:
			return &FieldError{Field: d.field, Err: fmt.Errorf("must not be negative; got %v (0 keeps the workload's)", d.v)}
		case d.ms && d.v%time.Millisecond != 0:
			return &FieldError{Field: d.field, Err: fmt.Errorf("want a whole number of milliseconds; got %v", d.v)}
		}
	}
	if o.SketchWidth < 0 {
		return &FieldError{Field: "Overrides.SketchWidth", Err: fmt.Errorf("must not be negative; got %d (0 keeps the workload's)", o.SketchWidth)}
	}
	return nil
}

// Apply changes p's aggregation by o, in place (the aggregates are copied,
// not shared with the pipeline p was built from), and validates the result.
// A field the pipeline cannot take is a *[FieldError] naming the field:
// a window setting on a stateless pipeline or on count windows, Window on
// sessions (use Gap), Gap on fixed or sliding windows (use Window), a
// watermark or lateness on processing-time windows, a sketch width without
// an approximate top-N aggregate.
func (o Overrides) Apply(p *dataflow.Pipeline) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.IsZero() {
		return nil
	}
	if p.Join != nil || p.Then != nil {
		// A join's windows and watermark drive the aggregation after it
		// (dataflow.Join): changing one without the others would make a
		// pipeline the workload does not describe.
		return &FieldError{Field: o.setFields()[0], Err: fmt.Errorf("pipeline %s joins two streams or regroups an aggregation's results: its windows and watermark are set together in the workload, not by overrides", p.Name)}
	}
	if p.Agg == nil {
		return &FieldError{Field: o.setFields()[0], Err: fmt.Errorf("pipeline %s is stateless: it has no window, watermark or aggregate to change", p.Name)}
	}
	a := *p.Agg
	a.Aggs = append([]dataflow.Agg(nil), a.Aggs...)
	if err := o.applyWindow(p.Name, &a.Window); err != nil {
		return err
	}
	if o.WatermarkBound != 0 || o.Lateness != 0 {
		field := "Overrides.WatermarkBound"
		if o.WatermarkBound == 0 {
			field = "Overrides.Lateness"
		}
		switch {
		case a.Domain == dataflow.ProcessingTime:
			return &FieldError{Field: field, Err: fmt.Errorf("pipeline %s windows by processing time, which has no watermark and nothing late", p.Name)}
		case a.Window.Kind == dataflow.WindowCount || a.Window.Kind == dataflow.WindowNone:
			return &FieldError{Field: field, Err: fmt.Errorf("pipeline %s has %v windows, which no watermark closes", p.Name, a.Window.Kind)}
		}
	}
	if o.WatermarkBound != 0 {
		a.Watermark.MaxOutOfOrderness = o.WatermarkBound
	}
	if o.Lateness != 0 {
		a.AllowedLateness = o.Lateness
	}
	if o.SketchWidth != 0 {
		n := 0
		for i := range a.Aggs {
			if a.Aggs[i].Kind == dataflow.AggApproxTopN {
				a.Aggs[i].Width = o.SketchWidth
				n++
			}
		}
		if n == 0 {
			return &FieldError{Field: "Overrides.SketchWidth", Err: fmt.Errorf("pipeline %s has no approximate top-N aggregate (a Count-Min sketch); hashtag-approx-topn has one", p.Name)}
		}
	}
	p.Agg = &a
	if err := p.Validate(); err != nil {
		return &FieldError{Field: o.setFields()[0], Err: err}
	}
	return nil
}

// applyWindow applies Window, Slide and Gap to w.
func (o Overrides) applyWindow(name string, w *dataflow.WindowFn) error {
	if o.Window == 0 && o.Slide == 0 && o.Gap == 0 {
		return nil
	}
	field := "Overrides.Window"
	switch {
	case o.Window == 0 && o.Slide != 0:
		field = "Overrides.Slide"
	case o.Window == 0 && o.Slide == 0:
		field = "Overrides.Gap"
	}
	switch w.Kind {
	case dataflow.WindowFixed, dataflow.WindowSliding:
		if o.Gap != 0 {
			return &FieldError{Field: "Overrides.Gap", Err: fmt.Errorf("pipeline %s has %v windows, which have no gap; set Window (and Slide) instead", name, w.Kind)}
		}
		size, period := w.Size, w.Period
		if o.Window != 0 {
			size = dataflow.Millis(o.Window)
			if w.Kind == dataflow.WindowFixed {
				period = size
			}
		}
		if o.Slide != 0 {
			period = dataflow.Millis(o.Slide)
		}
		kind := dataflow.WindowSliding
		if w.Kind == dataflow.WindowFixed && o.Slide == 0 {
			kind = dataflow.WindowFixed
		}
		*w = dataflow.WindowFn{Kind: kind, Size: size, Period: period}
	case dataflow.WindowSession:
		if o.Window != 0 || o.Slide != 0 {
			f := "Overrides.Window"
			if o.Window == 0 {
				f = "Overrides.Slide"
			}
			return &FieldError{Field: f, Err: fmt.Errorf("pipeline %s has session windows, sized by their gap; set Gap instead", name)}
		}
		w.Gap = dataflow.Millis(o.Gap)
	case dataflow.WindowCount:
		return &FieldError{Field: field, Err: fmt.Errorf("pipeline %s has count windows, sized in elements, not time", name)}
	default:
		return &FieldError{Field: field, Err: fmt.Errorf("pipeline %s has %v windows, which have no size, slide or gap", name, w.Kind)}
	}
	return nil
}

// setFields names o's non-zero fields, in declaration order.
func (o Overrides) setFields() []string {
	var fs []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"Overrides.Window", o.Window != 0},
		{"Overrides.Slide", o.Slide != 0},
		{"Overrides.Gap", o.Gap != 0},
		{"Overrides.WatermarkBound", o.WatermarkBound != 0},
		{"Overrides.Lateness", o.Lateness != 0},
		{"Overrides.SketchWidth", o.SketchWidth != 0},
	} {
		if f.set {
			fs = append(fs, f.name)
		}
	}
	return fs
}

// Workload returns a copy of w whose pipeline has o applied. It checks o
// first against w's pipeline built on the dataset's built-in lookup tables,
// so a field the workload cannot take is reported before any data is
// generated; the window kind does not depend on the tables. The copy's
// description says what was changed.
func (o Overrides) Workload(w *Workload) (*Workload, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.IsZero() {
		return w, nil
	}
	gen, err := datasets.Lookup(w.Dataset)
	if err != nil {
		return nil, &InputError{err}
	}
	p, err := w.Pipeline(gen.Tables(1))
	if err != nil {
		return nil, &InputError{fmt.Errorf("workload %s: %w", w.Name, err)}
	}
	if err := o.Apply(p); err != nil {
		return nil, err
	}
	c := *w
	base := w.Pipeline
	c.Pipeline = func(tables map[string]*dataflow.Table) (*dataflow.Pipeline, error) {
		p, err := base(tables)
		if err != nil {
			return nil, err
		}
		if err := o.Apply(p); err != nil {
			return nil, err
		}
		return p, nil
	}
	c.Description = fmt.Sprintf("%s (overridden: %s)", w.Description, o)
	return &c, nil
}

// String lists o's non-zero fields as field=value.
func (o Overrides) String() string {
	var s string
	add := func(name string, v any) {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%s=%v", name, v)
	}
	if o.Window != 0 {
		add("window", o.Window)
	}
	if o.Slide != 0 {
		add("slide", o.Slide)
	}
	if o.Gap != 0 {
		add("gap", o.Gap)
	}
	if o.WatermarkBound != 0 {
		add("watermark bound", o.WatermarkBound)
	}
	if o.Lateness != 0 {
		add("lateness", o.Lateness)
	}
	if o.SketchWidth != 0 {
		add("sketch width", o.SketchWidth)
	}
	if s == "" {
		return "none"
	}
	return s
}
