package compare

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// VerdictKind is the outcome of an experiment's rule.
type VerdictKind int

const (
	// Inconclusive is the zero value: a trial failed or hung, too few
	// repetitions ran, or the effect lies inside the measured spread.
	Inconclusive VerdictKind = iota
	// Holds means the figures show what the lecture claims.
	Holds
	// DoesNotHold means the figures show the opposite of the claim, outside
	// the measured spread.
	DoesNotHold
)

var verdictKindNames = [...]string{Inconclusive: "inconclusive", Holds: "holds", DoesNotHold: "does not hold"}

// String returns "holds", "does not hold" or "inconclusive".
func (k VerdictKind) String() string {
	if k < 0 || int(k) >= len(verdictKindNames) {
		return "VerdictKind(" + strconv.Itoa(int(k)) + ")"
	}
	return verdictKindNames[k]
}

// MarshalText encodes k as its [VerdictKind.String] form, so results.json
// stays readable.
func (k VerdictKind) MarshalText() ([]byte, error) {
	if k < 0 || int(k) >= len(verdictKindNames) {
		return nil, fmt.Errorf("compare: invalid verdict kind %d", int(k))
	}
	return []byte(k.String()), nil
}

// ErrVerdictKind is wrapped by [VerdictKind.UnmarshalText] for a name it
// does not know.
var ErrVerdictKind = errors.New("compare: unknown verdict kind")

// UnmarshalText decodes the form [VerdictKind.MarshalText] writes.
func (k *VerdictKind) UnmarshalText(b []byte) error {
	i := slices.Index(verdictKindNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("%w %q", ErrVerdictKind, b)
	}
	*k = VerdictKind(i)
	return nil
}

// Verdict is an experiment's conclusion. Explanation is built only from the
// measured figures the rule used (medians and spreads, counts, the model's
// own refusal reasons); no reason is typed in advance.
type Verdict struct {
	Kind        VerdictKind `json:"kind"`
	Explanation string      `json:"explanation"`
}

// String is "<kind>: <explanation>".
func (v Verdict) String() string { return v.Kind.String() + ": " + v.Explanation }

func holds(format string, args ...any) Verdict {
	return Verdict{Holds, fmt.Sprintf(format, args...)}
}

func doesNotHold(format string, args ...any) Verdict {
	return Verdict{DoesNotHold, fmt.Sprintf(format, args...)}
}

func inconclusive(format string, args ...any) Verdict {
	return Verdict{Inconclusive, fmt.Sprintf(format, args...)}
}

// minReps is the fewest repetitions a figure used by a verdict needs.
const minReps = 3

// reps is the number of repetitions of every trial whose figures a verdict
// uses: 3 in quick mode, 5 in full mode.
func reps(quick bool) int { return pick(quick, minReps, 5) }

// spread is a figure measured over repetitions: its median and range.
type spread struct {
	Median, Min, Max float64
	// N is the number of repetitions; zero means not measured.
	N int
}

// spreadOf summarises v; an empty v gives the zero spread (N 0).
func spreadOf(v []float64) spread {
	if len(v) == 0 {
		return spread{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// enough reports whether s rests on at least minReps repetitions.
func (s spread) enough() bool { return s.N >= minReps }

// below reports whether every repetition of s lies below every repetition
// of o: the effect is outside both spreads.
func (s spread) below(o spread) bool { return s.N > 0 && o.N > 0 && s.Max < o.Min }

// String is "median [min-max]", each formatted as a table [cell], or
// as an integer when the figure is a whole number (counts).
func (s spread) String() string {
	if s.N == 0 {
		return "-"
	}
	if s.N == 1 {
		return figureCell(s.Median)
	}
	return figureCell(s.Median) + " [" + figureCell(s.Min) + "-" + figureCell(s.Max) + "]"
}

func figureCell(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return cell(v)
}

// repeat runs t n times and returns every report, stopping at the first
// error (a failed or hung trial).
func (t trial) repeat(ctx context.Context, n int, progress func(string)) ([]*Report, error) {
	out := make([]*Report, 0, n)
	for range n {
		rep, err := t.do(ctx, progress)
		if err != nil {
			return out, err
		}
		out = append(out, rep)
	}
	return out, nil
}

// figure gathers f over reports.
func figure(reports []*Report, f func(*Report) float64) []float64 {
	v := make([]float64, len(reports))
	for i, r := range reports {
		v[i] = f(r)
	}
	return v
}

// trialStatus is how a trial ended: "" when it finished, otherwise why not.
func trialStatus(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return "hung (cut by its time limit)"
	}
	return errText(err)
}

// subVerdict is one sub-claim's verdict; Name, when not empty, introduces
// its explanation ("acked knee holds: ...").
type subVerdict struct {
	Name string
	V    Verdict
}

// worstOf combines sub-verdicts: does not hold when one does not, else
// inconclusive when one is, else holds; the explanation joins every part's,
// in order.
func worstOf(parts ...subVerdict) Verdict {
	kind := Holds
	var text []string
	for _, p := range parts {
		switch {
		case p.V.Kind == DoesNotHold:
			kind = DoesNotHold
		case p.V.Kind == Inconclusive && kind == Holds:
			kind = Inconclusive
		}
		if p.Name == "" {
			text = append(text, p.V.Explanation)
			continue
		}
		text = append(text, fmt.Sprintf("%s %s: %s", p.Name, p.V.Kind, p.V.Explanation))
	}
	return Verdict{Kind: kind, Explanation: strings.Join(text, ". ")}
}
