package compare

import (
	"fmt"
	"strings"

	"github.com/weirlab/weir/dataflow"
)

// CheckResult compares one run's results with the reference answer (CM1).
// For windowed pipelines the unit is a (window, key) pair: the reference has
// exactly one value per pair. For stateless pipelines the unit is an output
// row, compared as multisets (duplicates count).
//
// Every reference window counts once: as Matching, Lost, Mismatched or (a
// count above the reference) Duplicated; Duplicated also counts what the
// run has beyond the reference (windows it does not have, extra results).
type CheckResult struct {
	// Stateless says results were compared as multisets of rows.
	Stateless bool
	// Windows is the number of reference windows (rows for a stateless
	// pipeline).
	Windows int
	// Matching is the number of reference windows the run gave exactly
	// (float values within [dataflow.Value.ApproxEqual]).
	Matching int
	// Lost counts reference windows missing from the run, and, when the
	// value is a count, windows whose count is below the reference.
	Lost int
	// Duplicated counts windows the run emitted that the reference does not
	// have, extra results for one window, and, when the value is a count,
	// windows whose count is above the reference. For a stateless pipeline
	// it counts extra rows.
	Duplicated int
	// Mismatched counts reference windows whose value differs in another way.
	Mismatched int
	// DroppedLate is the number of drops the run reported as late (CM2).
	DroppedLate int
	// Late is the check's account of those drops: verified under the
	// model's rule, replays lost to lateness, unverified ([VerifyLate]).
	// Only verified drops are excluded from the reference the counts above
	// compare with; an unverified drop makes the run not match.
	Late LateAccount
	// LateWindows is the number of windows of the full reference (no
	// exclusions) whose value the verified drops changed or removed.
	LateWindows int
	// FullWindows is the number of windows of the full reference.
	FullWindows int
	// Full compares the run with the full (batch) answer, no exclusions:
	// what a user of the model sees against the exact answer.
	Full FullCheck
	// Examples describes the first few differences, for messages.
	Examples []string
}

// WindowDelta is one reference window's count in a run minus the
// reference's: below 0 the run under-counts it, above 0 it over-counts.
type WindowDelta struct {
	Window dataflow.Window
	Key    string
	Delta  int64
}

// FullCheck is a run's comparison with the full answer ([CheckResult]'s
// counts without exclusions).
type FullCheck struct {
	Windows, Matching, Lost, Duplicated, Mismatched int
	// Deltas is, for a count-valued windowed pipeline, each window of the
	// full answer with the run's count minus the answer's ([CountDeltas]);
	// nil otherwise.
	Deltas []WindowDelta
}

// OK reports whether the run equals the full answer.
func (f FullCheck) OK() bool {
	return f.Lost == 0 && f.Duplicated == 0 && f.Mismatched == 0 && f.Matching == f.Windows
}

// maxExamples caps CheckResult.Examples.
const maxExamples = 5

// OK reports whether the run matches: no unverified late drop, and equal to
// the reference answer after the verified exclusions (nothing lost,
// duplicated or mismatched).
func (c CheckResult) OK() bool {
	return c.Lost == 0 && c.Duplicated == 0 && c.Mismatched == 0 && c.Matching == c.Windows && c.Late.Unverified == 0
}

// String is one line: "yes (n/n windows)" or "NO (...)" with every count.
func (c CheckResult) String() string {
	unit := "windows"
	if c.Stateless {
		unit = "rows"
	}
	var b strings.Builder
	if c.OK() {
		fmt.Fprintf(&b, "yes (%d/%d %s", c.Matching, c.Windows, unit)
	} else {
		fmt.Fprintf(&b, "NO (%d/%d %s match, lost %d, duplicated %d, mismatched %d", c.Matching, c.Windows, unit, c.Lost, c.Duplicated, c.Mismatched)
	}
	if c.DroppedLate > 0 {
		l := c.Late
		fmt.Fprintf(&b, "; late drops: %d verified", l.Verified)
		if l.Replays > 0 {
			fmt.Fprintf(&b, ", %d replays lost to lateness", l.Replays)
		}
		if l.Unverified > 0 {
			fmt.Fprintf(&b, ", %d UNVERIFIED", l.Unverified)
		}
		fmt.Fprintf(&b, ", %d windows affected", c.LateWindows)
		f := c.Full
		if f.OK() {
			fmt.Fprintf(&b, "; full answer: equal (%d %s)", f.Windows, unit)
		} else {
			fmt.Fprintf(&b, "; full answer: %d/%d %s equal, lost %d, duplicated %d, mismatched %d", f.Matching, f.Windows, unit, f.Lost, f.Duplicated, f.Mismatched)
		}
	}
	b.WriteByte(')')
	return b.String()
}

// CheckOptions says how to read a pipeline's results.
type CheckOptions struct {
	// Stateless compares results as multisets of rows.
	Stateless bool
	// CountValued says the value is a record count, so a value below the
	// reference is a loss and above it a duplication (at-most-once and
	// at-least-once differences); otherwise a different value is a mismatch.
	CountValued bool
	// Late is the number of records the run reported as late.
	Late int
	// Full is the full reference answer (no exclusions) when ref leaves
	// out verified late drops, or nil. It changes no count; it only names
	// a window of the run that the drops removed from ref for what it is,
	// rather than as one the reference does not have.
	Full []dataflow.Result
}

// CheckOptionsFor returns the options for results of pipeline p with the
// given number of late records. A pipeline without an aggregation (an
// Emit, after a join or not) gives rows; with a regroup (Pipeline.Then) the
// results are the regroup's, so its first aggregate says whether the value
// is a count.
func CheckOptionsFor(p *dataflow.Pipeline, late int) CheckOptions {
	o := CheckOptions{Late: late}
	if p.Agg == nil {
		o.Stateless = true
		return o
	}
	aggs := p.Agg.Aggs
	if p.Then != nil {
		aggs = p.Then.Aggs
	}
	o.CountValued = len(aggs) > 0 && aggs[0].Kind == dataflow.AggCount
	return o
}

// Check compares a run's results got with the reference answer ref (CM1).
// ref must hold one result per (window, key) unless opts.Stateless; got may
// hold anything. Neither slice is modified.
//
// Examples says what differs, at most one line per window and key, in the
// order of ref, then of got's windows that ref lacks. A window of got that
// ref lacks is named by what the reference does hold: the full answer's
// value when the verified late drops removed it (opts.Full), or the
// reference windows of the same key it overlaps (a session merged
// differently, a window shifted).
func Check(ref, got []dataflow.Result, opts CheckOptions) CheckResult {
	if opts.Stateless {
		return checkRows(ref, got, opts)
	}
	c := CheckResult{Windows: len(ref), DroppedLate: opts.Late}
	// One slot per reference window: how many results the run gave for it,
	// the last of them, and whether any equals the reference.
	type slot struct {
		n     int
		last  int
		match bool
	}
	index := make(map[windowKey]int, len(ref))
	slots := make([]slot, len(ref))
	for i, r := range ref {
		k := windowKey{r.Window, r.Key}
		if _, dup := index[k]; dup {
			// A reference never has two values for one window; count it
			// rather than hide it.
			c.Windows--
			c.Duplicated++
			c.example("reference has two results for %v key %q", r.Window, r.Key)
			slots[i].n = -1
			continue
		}
		index[k] = i
	}
	// The run's windows the reference lacks, in order of first result.
	var extras []extraWindow
	extraIndex := map[windowKey]int{}
	for j, g := range got {
		k := windowKey{g.Window, g.Key}
		i, ok := index[k]
		if !ok {
			c.Duplicated++
			e, seen := extraIndex[k]
			if !seen {
				e = len(extras)
				extraIndex[k] = e
				extras = append(extras, extraWindow{k: k})
			}
			extras[e].n++
			extras[e].last = j
			continue
		}
		s := &slots[i]
		s.n++
		s.last = j
		if !s.match && sameResult(ref[i], g) {
			s.match = true
		}
	}
	for i, s := range slots {
		r := ref[i]
		if s.n < 0 {
			continue
		}
		if s.n == 0 {
			c.Lost++
			c.example("window %v key %q: missing, want %s", r.Window, r.Key, resultValues(r))
			continue
		}
		// With several results, one equal to the reference matches; the
		// rest are duplicates. The window gets one line either way.
		results := ""
		if s.n > 1 {
			c.Duplicated += s.n - 1
			results = fmt.Sprintf("%d results, the last ", s.n)
		}
		g := got[s.last]
		switch {
		case s.match:
			c.Matching++
			if s.n > 1 {
				c.example("window %v key %q: %d results, one equal to the reference %s", r.Window, r.Key, s.n, resultValues(r))
			}
		case opts.CountValued && isInt(g.Value) && isInt(r.Value) && g.Value.I < r.Value.I:
			c.Lost++
			c.example("window %v key %q: %scount %v below the reference %v", r.Window, r.Key, results, g.Value, r.Value)
		case opts.CountValued && isInt(g.Value) && isInt(r.Value) && g.Value.I > r.Value.I:
			c.Duplicated++
			c.example("window %v key %q: %scount %v above the reference %v", r.Window, r.Key, results, g.Value, r.Value)
		default:
			c.Mismatched++
			c.example("window %v key %q: %sgot %s, want %s", r.Window, r.Key, results, resultValues(g), resultValues(r))
		}
	}
	c.extraExamples(ref, got, opts.Full, extras)
	return c
}

// extraWindow is a window of a run that the reference lacks: n results,
// the last got[last].
type extraWindow struct {
	k       windowKey
	n, last int
}

// extraExamples describes the run's windows the reference lacks, each
// once, by what the reference holds instead: the full answer's value when
// the verified late drops removed the window from ref, else the reference
// windows of the same key that it overlaps, if any.
func (c *CheckResult) extraExamples(ref, got, full []dataflow.Result, extras []extraWindow) {
	if len(extras) == 0 || len(c.Examples) >= maxExamples {
		return
	}
	var fullIndex map[windowKey]int
	if full != nil {
		fullIndex = make(map[windowKey]int, len(full))
		for i, r := range full {
			fullIndex[windowKey{r.Window, r.Key}] = i
		}
	}
	// The reference's windows of each key, to name the ones a run's window
	// overlaps.
	byKey := map[string][]dataflow.Window{}
	for _, r := range ref {
		byKey[r.Key] = append(byKey[r.Key], r.Window)
	}
	for _, e := range extras {
		if len(c.Examples) >= maxExamples {
			return
		}
		k := e.k
		value := "got " + resultValues(got[e.last])
		if e.n > 1 {
			value = fmt.Sprintf("%d results, the last %s", e.n, resultValues(got[e.last]))
		}
		if i, ok := fullIndex[k]; ok {
			c.example("window %v key %q: %s; the verified late drops leave this window out of the reference (the full answer has %s)", k.w, k.key, value, resultValues(full[i]))
			continue
		}
		var near []string
		for _, w := range byKey[k.key] {
			if w.Overlaps(k.w) && len(near) < 3 {
				near = append(near, w.String())
			}
		}
		if len(near) > 0 {
			c.example("window %v key %q: not in the reference, %s (for this key the reference has the overlapping %s)", k.w, k.key, value, strings.Join(near, ", "))
			continue
		}
		c.example("window %v key %q: not in the reference, %s", k.w, k.key, value)
	}
}

// CountDeltas returns, for each window of ref (one count per window and
// key) in ref's order, got's count minus ref's: got's last result for the
// window, or 0 when got has none (or a value that is not a count). A
// window of ref whose value is not an integer is left out.
func CountDeltas(ref, got []dataflow.Result) []WindowDelta {
	last := make(map[windowKey]dataflow.Value, len(got))
	for _, g := range got {
		last[windowKey{g.Window, g.Key}] = g.Value
	}
	out := make([]WindowDelta, 0, len(ref))
	for _, r := range ref {
		if !isInt(r.Value) {
			continue
		}
		d := WindowDelta{Window: r.Window, Key: r.Key, Delta: -r.Value.I}
		if g, ok := last[windowKey{r.Window, r.Key}]; ok && isInt(g) {
			d.Delta = g.I - r.Value.I
		}
		out = append(out, d)
	}
	return out
}

type windowKey struct {
	w   dataflow.Window
	key string
}

// checkRows compares stateless results as multisets of rows. Rows are
// identified by their text, so float values compare exactly here: a
// stateless pipeline copies its values and computes nothing in an order.
func checkRows(ref, got []dataflow.Result, opts CheckOptions) CheckResult {
	c := CheckResult{Stateless: true, Windows: len(ref), DroppedLate: opts.Late}
	want := make(map[string]int, len(ref))
	var order []string
	for _, r := range ref {
		t := rowText(r)
		if want[t] == 0 {
			order = append(order, t)
		}
		want[t]++
	}
	have := make(map[string]int, len(got))
	for _, g := range got {
		t := rowText(g)
		have[t]++
		if have[t] > want[t] {
			c.Duplicated++
			c.example("row %s: %d in the run, %d in the reference", t, have[t], want[t])
		}
	}
	for _, t := range order {
		w, h := want[t], have[t]
		c.Matching += min(w, h)
		if h < w {
			c.Lost += w - h
			c.example("row %s: %d in the run, %d in the reference", t, h, w)
		}
	}
	return c
}

func (c *CheckResult) example(format string, args ...any) {
	if len(c.Examples) < maxExamples {
		c.Examples = append(c.Examples, fmt.Sprintf(format, args...))
	}
}

func isInt(v dataflow.Value) bool { return v.K == dataflow.KindInt64 }

// sameResult compares value and extra columns, floats approximately.
func sameResult(a, b dataflow.Result) bool {
	if !a.Value.ApproxEqual(b.Value) || len(a.Extra) != len(b.Extra) {
		return false
	}
	for i := range a.Extra {
		if !a.Extra[i].ApproxEqual(b.Extra[i]) {
			return false
		}
	}
	return true
}

func resultValues(r dataflow.Result) string {
	if len(r.Extra) == 0 {
		return r.Value.String()
	}
	parts := []string{r.Value.String()}
	for _, v := range r.Extra {
		parts = append(parts, v.String())
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func rowText(r dataflow.Result) string {
	var b []byte
	b = append(b, r.Key...)
	b = append(b, 0)
	b = append(b, byte(r.Value.K))
	b = r.Value.AppendText(b)
	for _, v := range r.Extra {
		b = append(b, 0, byte(v.K))
		b = v.AppendText(b)
	}
	return string(b)
}

// LateWindows counts the windows of full (the reference with no exclusions)
// whose value differs in excluded (the reference without the late records)
// or that excluded lacks: the windows a run's late records affected.
func LateWindows(full, excluded []dataflow.Result) int {
	m := make(map[windowKey]dataflow.Result, len(excluded))
	for _, r := range excluded {
		m[windowKey{r.Window, r.Key}] = r
	}
	n := 0
	for _, r := range full {
		e, ok := m[windowKey{r.Window, r.Key}]
		if !ok || !sameResult(r, e) {
			n++
		}
	}
	return n
}
