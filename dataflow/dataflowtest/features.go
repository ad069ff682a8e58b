package dataflowtest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/weirlab/weir/dataflow"
)

// Features returns the labels of [AllFeatures] that pipeline p exercises,
// sorted.
func Features(p *dataflow.Pipeline) []string {
	var fs []string
	add := func(f string) {
		if !slices.Contains(fs, f) {
			fs = append(fs, f)
		}
	}
	for _, s := range p.Steps {
		switch s.(type) {
		case dataflow.FilterStep:
			add("step=filter")
		case dataflow.MapStep:
			add("step=map")
		case dataflow.ProjectStep:
			add("step=project")
		case dataflow.ExplodeStep:
			add("step=explode")
		case dataflow.LookupStep:
			add("step=lookup")
		}
	}
	a := p.Agg
	if a == nil {
		add("output=stateless")
		slices.Sort(fs)
		return fs
	}
	add(fmt.Sprintf("keys=%d", len(a.Key)))
	add("window=" + a.Window.Kind.String())
	switch a.Window.Kind {
	case dataflow.WindowFixed, dataflow.WindowSliding, dataflow.WindowSession:
		add("domain=" + a.Domain.String())
	}
	if a.Window.Offset != 0 {
		add("window-offset")
	}
	if a.Watermark.MaxOutOfOrderness > 0 {
		add("watermark-bound")
	}
	if a.Watermark.IdleTimeout > 0 {
		add("idle-timeout")
	}
	if a.AllowedLateness > 0 {
		add("allowed-lateness")
	}
	if a.Late == dataflow.LateSideOutput {
		add("late=side-output")
	}
	if a.Trigger.EarlyEvery > 0 {
		add("trigger=early")
	}
	if a.Trigger.AfterCount > 0 {
		add("trigger=count")
	}
	if a.Trigger.LateFirings {
		add("trigger=late")
	}
	add("panes=" + a.Accumulation.String())
	if a.Having != nil {
		add("having")
	}
	for _, g := range a.Aggs {
		add("agg=" + g.Kind.String())
	}
	slices.Sort(fs)
	return fs
}

// AllFeatures returns every label [Features] can give, sorted: the
// coverage a differential test over domains with text columns and lookups
// must reach.
func AllFeatures() []string {
	fs := []string{
		"step=filter", "step=map", "step=project", "step=explode", "step=lookup",
		"output=stateless", "keys=0", "keys=1", "keys=2",
		"domain=event-time", "domain=processing-time", "window-offset",
		"watermark-bound", "idle-timeout", "allowed-lateness", "late=side-output",
		"trigger=early", "trigger=count", "trigger=late",
		"panes=accumulating", "panes=discarding", "having",
	}
	for _, k := range []dataflow.WindowKind{dataflow.WindowNone, dataflow.WindowFixed, dataflow.WindowSliding,
		dataflow.WindowSession, dataflow.WindowCount, dataflow.WindowGlobal} {
		fs = append(fs, "window="+k.String())
	}
	for _, k := range []dataflow.AggKind{dataflow.AggCount, dataflow.AggSum, dataflow.AggMin, dataflow.AggMax,
		dataflow.AggMean, dataflow.AggDistinct, dataflow.AggTopN, dataflow.AggApproxTopN,
		dataflow.AggApproxDistinct, dataflow.AggSpan} {
		fs = append(fs, "agg="+k.String())
	}
	slices.Sort(fs)
	return fs
}

// Coverage counts how often each feature appeared. The zero value is not
// usable; make one with make(Coverage).
type Coverage map[string]int

// Add counts the features of c.
func (cv Coverage) Add(c Case) {
	for _, f := range c.Features {
		cv[f]++
	}
}

// Missing returns the labels of want that never appeared, sorted.
func (cv Coverage) Missing(want []string) []string {
	var out []string
	for _, f := range want {
		if cv[f] == 0 {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// String lists every feature with its count, sorted by label.
func (cv Coverage) String() string {
	keys := make([]string, 0, len(cv))
	for k := range cv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s:%d", k, cv[k])
	}
	return b.String()
}

// Describe renders p in a readable multi-line form, one step a line, with
// every setting of its aggregation, for failure messages.
func Describe(p *dataflow.Pipeline) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pipeline %q over %v\n", p.Name, p.Input)
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "  %d. %v\n", i+1, s)
	}
	a := p.Agg
	if a == nil {
		fmt.Fprintf(&b, "  output key %v value %s extra %v\n", p.Emit.Key, p.Emit.Value, p.Emit.Extra)
		return b.String()
	}
	fmt.Fprintf(&b, "  aggregate by %v: %v", a.Key, a.Window)
	if a.Window.Offset != 0 {
		fmt.Fprintf(&b, " offset %dms", a.Window.Offset)
	}
	fmt.Fprintf(&b, ", %v", a.Domain)
	if a.TimeCol != "" {
		fmt.Fprintf(&b, ", time column %s", a.TimeCol)
	}
	fmt.Fprintf(&b, "\n    watermark bound %v, idle timeout %v; allowed lateness %v; late records: %v\n",
		a.Watermark.MaxOutOfOrderness, a.Watermark.IdleTimeout, a.AllowedLateness, a.Late)
	t := a.Trigger
	fmt.Fprintf(&b, "    trigger: early every %v, after %d elements, late firings %v; panes %v\n",
		t.EarlyEvery, t.AfterCount, t.LateFirings, a.Accumulation)
	names := make([]string, len(a.Aggs))
	for i, g := range a.Aggs {
		names[i] = g.String() + " as " + g.Name()
		if g.Width != 0 || g.Depth != 0 {
			names[i] += fmt.Sprintf(" (sketch %dx%d)", g.Width, g.Depth)
		}
		if g.Precision != 0 {
			names[i] += fmt.Sprintf(" (precision %d)", g.Precision)
		}
	}
	fmt.Fprintf(&b, "    aggregates: %s\n", strings.Join(names, ", "))
	if a.Having != nil {
		fmt.Fprintf(&b, "    having %v\n", a.Having)
	}
	return b.String()
}
