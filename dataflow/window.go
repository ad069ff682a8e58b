package dataflow

import (
	"fmt"
	"strconv"
	"time"
)

// Window is a half-open interval [Start, End) of time in milliseconds (I1).
// For count windows the bounds are element ordinals of one key instead of
// times: the window holding a key's elements k*slide .. k*slide+size-1 is
// [k*slide, k*slide+size). The global window is [MinTime, MaxTime). No window
// at all (a stateless pipeline's output) is the zero Window.
type Window struct {
	Start, End Time
}

// GlobalWindow is the single window of the global assigner.
var GlobalWindow = Window{Start: MinTime, End: MaxTime}

// Contains reports whether t lies in [Start, End).
func (w Window) Contains(t Time) bool { return w.Start <= t && t < w.End }

// Overlaps reports whether two windows share a point. Touching windows
// ([0,10) and [10,20)) do not overlap (I3).
func (w Window) Overlaps(o Window) bool { return w.Start < o.End && o.Start < w.End }

// Span returns the smallest window covering both.
func (w Window) Span(o Window) Window {
	return Window{Start: min(w.Start, o.Start), End: max(w.End, o.End)}
}

// MaxTimestamp is the last time inside the window, End-1.
func (w Window) MaxTimestamp() Time { return w.End - 1 }

func (w Window) String() string {
	if w == GlobalWindow {
		return "[global)"
	}
	return "[" + strconv.FormatInt(int64(w.Start), 10) + ", " + strconv.FormatInt(int64(w.End), 10) + ")"
}

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=WindowKind -linecomment

// WindowKind names a window assigner.
type WindowKind uint8

// The window assigners.
const (
	// WindowNone: the aggregation runs over the whole input per key, as a
	// global window that fires once at the end (batch semantics).
	WindowNone    WindowKind = iota // none
	WindowFixed                     // fixed
	WindowSliding                   // sliding
	WindowSession                   // session
	WindowCount                     // count
	WindowGlobal                    // global
)

// WindowFn is a window assigner. Build one with [FixedWindows],
// [SlidingWindows], [SessionWindows], [CountWindows] or [GlobalWindows]; the
// zero WindowFn is WindowNone. Time quantities are milliseconds.
type WindowFn struct {
	Kind WindowKind
	// Size is the window length (fixed, sliding) in ms, or the number of
	// elements (count).
	Size int64
	// Period is how far consecutive windows start apart: the slide of sliding
	// windows in ms, of count windows in elements. Fixed windows have
	// Period == Size.
	Period int64
	// Offset shifts fixed and sliding windows from the epoch: windows start
	// at Offset + k*Period. 0 <= Offset < Period.
	Offset int64
	// Gap is the session gap in ms.
	Gap int64
}

// FixedWindows returns tumbling windows of the given size aligned to the
// epoch: [k*size, (k+1)*size).
func FixedWindows(size time.Duration) WindowFn {
	s := Millis(size)
	return WindowFn{Kind: WindowFixed, Size: s, Period: s}
}

// SlidingWindows returns windows of the given size starting every period.
func SlidingWindows(size, period time.Duration) WindowFn {
	return WindowFn{Kind: WindowSliding, Size: Millis(size), Period: Millis(period)}
}

// SessionWindows returns per-key sessions closed by a gap of inactivity.
func SessionWindows(gap time.Duration) WindowFn {
	return WindowFn{Kind: WindowSession, Gap: Millis(gap)}
}

// CountWindows returns windows of size elements of one key, starting every
// slide elements (slide == size gives tumbling count windows).
func CountWindows(size, slide int64) WindowFn {
	return WindowFn{Kind: WindowCount, Size: size, Period: slide}
}

// GlobalWindows returns the single global window; it needs a trigger to emit
// before the end of the input.
func GlobalWindows() WindowFn { return WindowFn{Kind: WindowGlobal} }

// WithOffset returns w with its windows shifted by offset from the epoch.
func (w WindowFn) WithOffset(offset time.Duration) WindowFn {
	w.Offset = Millis(offset)
	return w
}

// Validate reports a window the model cannot express.
func (w WindowFn) Validate() error {
	switch w.Kind {
	case WindowNone, WindowGlobal:
		return nil
	case WindowFixed, WindowSliding:
		if w.Size <= 0 {
			return fmt.Errorf("dataflow: %v window size must be positive, got %d ms", w.Kind, w.Size)
		}
		if w.Period <= 0 {
			return fmt.Errorf("dataflow: %v window period must be positive, got %d ms", w.Kind, w.Period)
		}
		if w.Kind == WindowFixed && w.Period != w.Size {
			return fmt.Errorf("dataflow: fixed window period %d ms must equal its size %d ms; use sliding windows", w.Period, w.Size)
		}
		if w.Offset < 0 || w.Offset >= w.Period {
			return fmt.Errorf("dataflow: %v window offset must satisfy 0 <= offset < period, got offset %d ms, period %d ms", w.Kind, w.Offset, w.Period)
		}
	case WindowSession:
		if w.Gap <= 0 {
			return fmt.Errorf("dataflow: session gap must be positive, got %d ms", w.Gap)
		}
	case WindowCount:
		if w.Size <= 0 || w.Period <= 0 {
			return fmt.Errorf("dataflow: count window size and slide must be positive, got size %d, slide %d", w.Size, w.Period)
		}
	default:
		return fmt.Errorf("dataflow: unknown window kind %v", w.Kind)
	}
	return nil
}

// MaxWindowsPerElement is how many windows one element can belong to:
// ceil(size/period) for sliding and count windows, 1 otherwise. Callers size
// the dst slice of [WindowFn.Assign] with it once.
func (w WindowFn) MaxWindowsPerElement() int {
	switch w.Kind {
	case WindowSliding, WindowCount:
		return int((w.Size + w.Period - 1) / w.Period)
	}
	return 1
}

// Assign appends to dst the windows that contain time t and returns the
// extended slice (I2): for fixed and sliding windows every aligned window
// [s, s+size) with s = offset + k*period and s <= t < s+size, latest start
// first; for sessions the proto-session [t, t+gap), to be merged with
// [MergeSessions]; for global windows the global window; for WindowNone the
// global window as well. For count windows use [WindowFn.AssignCount]. It does
// not allocate when dst has room for [WindowFn.MaxWindowsPerElement] windows.
func (w WindowFn) Assign(dst []Window, t Time) []Window {
	switch w.Kind {
	case WindowFixed:
		s := Time(int64(t) - FloorMod(int64(t)-w.Offset, w.Size))
		return append(dst, Window{Start: s, End: s + Time(w.Size)})
	case WindowSliding:
		last := int64(t) - FloorMod(int64(t)-w.Offset, w.Period)
		for s := last; s > int64(t)-w.Size; s -= w.Period {
			dst = append(dst, Window{Start: Time(s), End: Time(s + w.Size)})
		}
		return dst
	case WindowSession:
		return append(dst, Window{Start: t, End: t + Time(w.Gap)})
	case WindowCount:
		panic("dataflow: Assign on count windows; use AssignCount")
	}
	return append(dst, GlobalWindow)
}

// AssignCount appends the count windows holding a key's element number n
// (0-based, in the key's arrival order): [k*slide, k*slide+size) for every k
// with k*slide <= n < k*slide+size, latest first.
func (w WindowFn) AssignCount(dst []Window, n int64) []Window {
	last := n - n%w.Period
	for s := last; s > n-w.Size && s >= 0; s -= w.Period {
		dst = append(dst, Window{Start: Time(s), End: Time(s + w.Size)})
	}
	return dst
}

// MergeSession is the session-merge rule (I3) that every evaluator applies:
// two sessions of a key merge when they overlap, into their span (the
// smallest window covering both); touching sessions ([0,10) and [10,20)) do
// not merge, so an element exactly Gap after the last one starts a new
// session (Beam's rule). ok is false, and merged is a, when they do not.
func MergeSession(a, b Window) (merged Window, ok bool) {
	if !a.Overlaps(b) {
		return a, false
	}
	return a.Span(b), true
}

// MergeSessions merges overlapping session windows in place by
// [MergeSession] and returns the merged list sorted by start (I3). The input
// order does not matter.
func MergeSessions(ws []Window) []Window {
	if len(ws) < 2 {
		return ws
	}
	sortWindows(ws)
	out := ws[:1]
	for _, w := range ws[1:] {
		last := &out[len(out)-1]
		if m, ok := MergeSession(*last, w); ok {
			*last = m
			continue
		}
		out = append(out, w)
	}
	return out
}

// FloorDiv returns a / b rounded towards negative infinity (Go's / rounds
// towards zero), for either sign of a and b: FloorDiv(-1, 10) is -1 where
// -1/10 is 0. Window assignment needs it so that negative times land in the
// right window (I2), and ns-to-ms conversions of ingest times use it.
// b must not be 0; like Go's /, FloorDiv(math.MinInt64, -1) overflows to
// math.MinInt64.
func FloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// FloorMod returns a mod b in [0, b) for b > 0, also for negative a: the
// offset of a from the largest multiple of b at or below it, so that
// a == FloorDiv(a, b)*b + FloorMod(a, b). Window sizes, periods and slot
// counts, its operands, are validated positive; for b < 0 it returns a % b
// plus b when a % b is negative, which is not the floor modulo (the check
// is kept to one comparison because window assignment runs it per record).
func FloorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// sortWindows sorts by start then end; insertion sort, as session lists per
// key are short and often nearly sorted.
func sortWindows(ws []Window) {
	for i := 1; i < len(ws); i++ {
		for j := i; j > 0 && less(ws[j], ws[j-1]); j-- {
			ws[j], ws[j-1] = ws[j-1], ws[j]
		}
	}
}

func less(a, b Window) bool {
	if a.Start != b.Start {
		return a.Start < b.Start
	}
	return a.End < b.End
}

func (w WindowFn) String() string {
	switch w.Kind {
	case WindowFixed:
		return fmt.Sprintf("fixed(%dms)", w.Size)
	case WindowSliding:
		return fmt.Sprintf("sliding(%dms every %dms)", w.Size, w.Period)
	case WindowSession:
		return fmt.Sprintf("session(gap %dms)", w.Gap)
	case WindowCount:
		return fmt.Sprintf("count(%d every %d)", w.Size, w.Period)
	}
	return w.Kind.String()
}
