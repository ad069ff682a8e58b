package compare

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

func win(s, e int64) dataflow.Window {
	return dataflow.Window{Start: dataflow.Time(s), End: dataflow.Time(e)}
}

func res(s, e int64, key string, v dataflow.Value, extra ...dataflow.Value) dataflow.Result {
	return dataflow.Result{Window: win(s, e), Key: key, Value: v, Extra: extra}
}

func TestCheckWindowed(t *testing.T) {
	ref := []dataflow.Result{
		res(0, 10, "a", dataflow.Int(3)),
		res(0, 10, "b", dataflow.Int(5)),
		res(10, 20, "a", dataflow.Int(2)),
		res(10, 20, "b", dataflow.Int(7)),
	}
	counts := CheckOptions{CountValued: true}
	tests := []struct {
		name string
		got  []dataflow.Result
		opts CheckOptions
		want CheckResult
	}{
		{
			name: "equal",
			got:  ref,
			opts: counts,
			want: CheckResult{Windows: 4, Matching: 4},
		},
		{
			name: "order does not matter",
			got:  []dataflow.Result{ref[3], ref[1], ref[0], ref[2]},
			opts: counts,
			want: CheckResult{Windows: 4, Matching: 4},
		},
		{
			name: "missing window is lost",
			got:  ref[1:],
			opts: counts,
			want: CheckResult{Windows: 4, Matching: 3, Lost: 1},
		},
		{
			name: "count below is lost, above is duplicated",
			got:  []dataflow.Result{ref[0], res(0, 10, "b", dataflow.Int(4)), res(10, 20, "a", dataflow.Int(3)), ref[3]},
			opts: counts,
			want: CheckResult{Windows: 4, Matching: 2, Lost: 1, Duplicated: 1},
		},
		{
			name: "not a count: a different value is a mismatch",
			got:  []dataflow.Result{ref[0], res(0, 10, "b", dataflow.Int(4)), ref[2], ref[3]},
			opts: CheckOptions{},
			want: CheckResult{Windows: 4, Matching: 3, Mismatched: 1},
		},
		{
			name: "window not in the reference is duplicated",
			got:  append(append([]dataflow.Result{}, ref...), res(20, 30, "a", dataflow.Int(1))),
			opts: counts,
			want: CheckResult{Windows: 4, Matching: 4, Duplicated: 1},
		},
		{
			name: "same window twice: one matches, the other is duplicated",
			got:  append(append([]dataflow.Result{}, ref...), res(0, 10, "a", dataflow.Int(6))),
			opts: counts,
			want: CheckResult{Windows: 4, Matching: 4, Duplicated: 1},
		},
		{
			name: "a different window end is another window",
			got:  []dataflow.Result{res(0, 11, "a", dataflow.Int(3)), ref[1], ref[2], ref[3]},
			opts: counts,
			want: CheckResult{Windows: 4, Matching: 3, Lost: 1, Duplicated: 1},
		},
		{
			name: "a different kind is a mismatch",
			got:  []dataflow.Result{res(0, 10, "a", dataflow.Float(3)), ref[1], ref[2], ref[3]},
			opts: counts,
			want: CheckResult{Windows: 4, Matching: 3, Mismatched: 1},
		},
		{
			name: "empty run loses everything",
			got:  nil,
			opts: counts,
			want: CheckResult{Windows: 4, Lost: 4},
		},
		{
			name: "late records are reported",
			got:  ref,
			opts: CheckOptions{CountValued: true, Late: 7},
			want: CheckResult{Windows: 4, Matching: 4, DroppedLate: 7},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Check(ref, tc.got, tc.opts)
			examples := c.Examples
			c.Examples = nil
			assert.Equal(t, tc.want, c, "Check(ref, got) counts; examples %q", examples)
			assert.Equal(t, tc.want.OK(), c.OK())
			if !c.OK() {
				assert.NotEmpty(t, examples, "a failed check says what differs")
				assert.Contains(t, c.String(), "NO")
			} else {
				assert.Contains(t, c.String(), "yes")
			}
			assert.LessOrEqual(t, c.Matching+c.Lost+c.Mismatched, c.Windows, "each reference window counts once")
		})
	}
}

func TestCheckFloatsApprox(t *testing.T) {
	ref := []dataflow.Result{res(0, 10, "s", dataflow.Float(0.1+0.2), dataflow.Int(2))}
	got := []dataflow.Result{res(0, 10, "s", dataflow.Float(0.3), dataflow.Int(2))}
	c := Check(ref, got, CheckOptions{})
	assert.True(t, c.OK(), "0.1+0.2 vs 0.3: %v", c)

	got = []dataflow.Result{res(0, 10, "s", dataflow.Float(0.31), dataflow.Int(2))}
	c = Check(ref, got, CheckOptions{})
	assert.False(t, c.OK())
	assert.Equal(t, 1, c.Mismatched)

	// The extra columns count too.
	got = []dataflow.Result{res(0, 10, "s", dataflow.Float(0.3), dataflow.Int(3))}
	c = Check(ref, got, CheckOptions{CountValued: true})
	assert.Equal(t, 1, c.Mismatched, "equal value but different extra: %v", c)
}

func TestCheckStateless(t *testing.T) {
	row := func(k, v string, status int64) dataflow.Result {
		return dataflow.Result{Key: k, Value: dataflow.Str(v), Extra: []dataflow.Value{dataflow.Int(status)}}
	}
	ref := []dataflow.Result{row("a.com", "/x", 200), row("a.com", "/x", 200), row("b.com", "/y", 404)}
	opts := CheckOptions{Stateless: true}

	c := Check(ref, []dataflow.Result{ref[2], ref[0], ref[1]}, opts)
	assert.True(t, c.OK(), "%v", c)
	assert.Equal(t, 3, c.Windows)

	c = Check(ref, ref[1:], opts)
	assert.Equal(t, CheckResult{Stateless: true, Windows: 3, Matching: 2, Lost: 1}, withoutExamples(c))

	c = Check(ref, append(append([]dataflow.Result{}, ref...), ref[2]), opts)
	assert.Equal(t, CheckResult{Stateless: true, Windows: 3, Matching: 3, Duplicated: 1}, withoutExamples(c))

	// A changed extra column is a lost row plus an unexpected one.
	c = Check(ref, []dataflow.Result{ref[0], ref[1], row("b.com", "/y", 500)}, opts)
	assert.Equal(t, CheckResult{Stateless: true, Windows: 3, Matching: 2, Lost: 1, Duplicated: 1}, withoutExamples(c))
	assert.False(t, c.OK())
	assert.Contains(t, c.String(), "rows")
}

func withoutExamples(c CheckResult) CheckResult {
	c.Examples = nil
	return c
}

func TestCheckExamplesCapped(t *testing.T) {
	var ref []dataflow.Result
	for i := range 20 {
		ref = append(ref, res(int64(i)*10, int64(i)*10+10, "k", dataflow.Int(1)))
	}
	c := Check(ref, nil, CheckOptions{CountValued: true})
	assert.Equal(t, 20, c.Lost)
	assert.Len(t, c.Examples, maxExamples)
}

func TestCheckOptionsFor(t *testing.T) {
	for _, w := range Workloads() {
		p, err := w.Pipeline(testTables(t))
		require.NoError(t, err, w.Name)
		o := CheckOptionsFor(p, 3)
		assert.Equal(t, 3, o.Late)
		stateless := map[string]bool{"grep": true, "nexmark-q0": true, "nexmark-q1": true, "nexmark-q2": true, "nexmark-q3": true, "nexmark-q8": true}
		assert.Equal(t, stateless[w.Name], o.Stateless, w.Name)
		wantCount := map[string]bool{"ysb": true, "request-rate": true, "sessions": true, "fraud": true, "nexmark-q11": true, "nexmark-q12": true}[w.Name]
		assert.Equal(t, wantCount, o.CountValued, w.Name)
	}
}

func TestLateWindows(t *testing.T) {
	full := []dataflow.Result{res(0, 10, "a", dataflow.Int(3)), res(0, 10, "b", dataflow.Int(1)), res(10, 20, "a", dataflow.Int(2))}
	excluded := []dataflow.Result{res(0, 10, "a", dataflow.Int(2)), res(10, 20, "a", dataflow.Int(2))}
	assert.Equal(t, 2, LateWindows(full, excluded), "a's first window changed, b's vanished")
	assert.Equal(t, 0, LateWindows(full, full))
}

// testTables returns lookup tables good enough to build every workload.
func testTables(t *testing.T) map[string]*dataflow.Table {
	t.Helper()
	return map[string]*dataflow.Table{"campaigns": {
		Name:   "campaigns",
		Schema: dataflow.NewSchema(dataflow.Field{Name: "ad_id", Kind: dataflow.KindString}, dataflow.Field{Name: "campaign_id", Kind: dataflow.KindString}),
		Rows:   []dataflow.Row{{dataflow.Str("ad1"), dataflow.Str("c1")}},
	}}
}

// TestCheckExamplesOnePerWindow: a difference line names each window once,
// however many results the run gave for it (issue 15).
func TestCheckExamplesOnePerWindow(t *testing.T) {
	ref := []dataflow.Result{res(0, 10, "a", dataflow.Int(3)), res(0, 10, "b", dataflow.Int(5))}
	counts := CheckOptions{CountValued: true}
	tests := []struct {
		name string
		got  []dataflow.Result
		want CheckResult
		line string
	}{
		{
			name: "a window the reference lacks, three times",
			got:  []dataflow.Result{ref[0], ref[1], res(10, 20, "a", dataflow.Int(1)), res(10, 20, "a", dataflow.Int(2)), res(10, 20, "a", dataflow.Int(142))},
			want: CheckResult{Windows: 2, Matching: 2, Duplicated: 3},
			line: `window [10, 20) key "a": not in the reference, 3 results, the last 142`,
		},
		{
			name: "a reference window twice, the last wrong",
			got:  []dataflow.Result{ref[0], ref[1], res(0, 10, "b", dataflow.Int(4))},
			want: CheckResult{Windows: 2, Matching: 2, Duplicated: 1},
			line: `window [0, 10) key "b": 2 results, one equal to the reference 5`,
		},
		{
			name: "a reference window twice, neither right",
			got:  []dataflow.Result{ref[0], res(0, 10, "b", dataflow.Int(6)), res(0, 10, "b", dataflow.Int(7))},
			want: CheckResult{Windows: 2, Matching: 1, Duplicated: 2},
			line: `window [0, 10) key "b": 2 results, the last count 7 above the reference 5`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Check(ref, tc.got, counts)
			assert.Equal(t, tc.want, withoutExamples(c), "Check(ref, got) counts; examples %q", c.Examples)
			assert.Equal(t, []string{tc.line}, c.Examples, "one line for the window")
		})
	}
}

// TestCheckExamplesNameTheReferenceWindow: a run's window the reference
// (after the verified late drops) lacks is not called "not in the
// reference" when the full answer has it, and a window whose bounds differ
// names the reference's window of the key (issue 15).
func TestCheckExamplesNameTheReferenceWindow(t *testing.T) {
	full := []dataflow.Result{res(0, 10, "a", dataflow.Int(3)), res(0, 10, "b", dataflow.Int(150))}
	excluded := full[:1] // the verified drops removed window [0, 10) of b
	got := []dataflow.Result{full[0], res(0, 10, "b", dataflow.Int(142))}

	c := Check(excluded, got, CheckOptions{CountValued: true, Late: 8, Full: full})
	assert.Equal(t, CheckResult{Windows: 1, Matching: 1, Duplicated: 1, DroppedLate: 8}, withoutExamples(c))
	require.Len(t, c.Examples, 1, "%q", c.Examples)
	assert.Equal(t, `window [0, 10) key "b": got 142; the verified late drops leave this window out of the reference (the full answer has 150)`, c.Examples[0])
	assert.NotContains(t, c.Examples[0], "not in the reference")

	// Without the full answer the window is one the reference lacks.
	c = Check(excluded, got, CheckOptions{CountValued: true})
	assert.Equal(t, []string{`window [0, 10) key "b": not in the reference, got 142`}, c.Examples)

	// A session merged differently: the run's window overlaps the key's.
	ref := []dataflow.Result{res(0, 30, "u", dataflow.Int(4))}
	c = Check(ref, []dataflow.Result{res(0, 20, "u", dataflow.Int(3))}, CheckOptions{CountValued: true})
	assert.Equal(t, []string{
		`window [0, 30) key "u": missing, want 4`,
		`window [0, 20) key "u": not in the reference, got 3 (for this key the reference has the overlapping [0, 30))`,
	}, c.Examples)
}
