package trending

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/labs/internal/labtest"
)

// TestNewTrending: sensible windows and sizes are accepted, others
// refused.
func TestNewTrending(t *testing.T) {
	for _, c := range []struct {
		w time.Duration
		n int
	}{{time.Hour, 10}, {time.Millisecond, 1}} {
		tr, err := NewTrending(c.w, c.n)
		require.NoError(t, err, "NewTrending(%v, %d)", c.w, c.n)
		require.NotNil(t, tr)
	}
	for _, c := range []struct {
		w time.Duration
		n int
	}{{0, 10}, {-time.Hour, 10}, {time.Microsecond, 10}, {time.Hour, 0}, {time.Hour, -1}} {
		_, err := NewTrending(c.w, c.n)
		assert.Error(t, err, "NewTrending(%v, %d) must be refused", c.w, c.n)
	}
}

// step is one call of a rule script: Add(text, t) expecting accepted, or
// Advance(w) expecting exactly the listed results.
type step struct {
	text     string
	t        dataflow.Time
	accepted bool
	advance  bool
	w        dataflow.Time
	want     []dataflow.Result
}

func add(text string, t dataflow.Time, accepted bool) step {
	return step{text: text, t: t, accepted: accepted}
}

func advance(w dataflow.Time, want ...dataflow.Result) step {
	return step{advance: true, w: w, want: want}
}

func top(start, end dataflow.Time, prefix, value string) dataflow.Result {
	return dataflow.Result{Window: dataflow.Window{Start: start, End: end}, Key: prefix, Value: dataflow.Str(value)}
}

// TestTrendingRules checks the operator on short scripts with windows of
// 10 ms and a top 2.
func TestTrendingRules(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"a window fires when the watermark reaches its end, not before", []step{
			add("hello #go", 103, true), advance(109), advance(110, top(100, 110, "#g", "#go=1")),
		}},
		{"windows are aligned to multiples of their size", []step{
			add("#go", 109, true), add("#go", 110, true), advance(120, top(100, 110, "#g", "#go=1"), top(110, 120, "#g", "#go=1")),
		}},
		{"windows before the epoch are aligned too (a floor, not a truncation)", []step{
			add("#go", -1, true), add("#go", -10, true), add("#go", -11, true),
			advance(0, top(-20, -10, "#g", "#go=1"), top(-10, 0, "#g", "#go=2")),
		}},
		{"a tag repeated in one tweet counts each time; words are not tags", []step{
			add("#go is #go not go", 100, true), advance(110, top(100, 110, "#g", "#go=2")),
		}},
		{"tags are keyed by their first two bytes", []step{
			add("#go #gopher #rust", 100, true), advance(110, top(100, 110, "#g", "#go=1,#gopher=1"), top(100, 110, "#r", "#rust=1")),
		}},
		{"count descending, ties by tag ascending, at most n", []step{
			add("#gb #ga #gc #gc", 100, true), add("#gb", 101, true), add("#gd", 102, true),
			advance(110, top(100, 110, "#g", "#gb=2,#gc=2")),
		}},
		{"tokens split on white space only and keep punctuation", []step{
			add("#go, #go\t#go\n x#go", 100, true), advance(110, top(100, 110, "#g", "#go=2,#go,=1")),
		}},
		{"a tweet without tags is accepted and counts nothing", []step{
			add("no tags here", 100, true), advance(110),
		}},
		{"a tweet behind the watermark is still on time while its window is open", []step{
			add("#go", 105, true), advance(108), add("#go", 101, true), advance(110, top(100, 110, "#g", "#go=2")),
		}},
		{"a tweet whose window has fired is late and refused", []step{
			add("#go", 105, true), advance(110, top(100, 110, "#g", "#go=1")), add("#go", 109, false), add("#go", 110, true),
			advance(120, top(110, 120, "#g", "#go=1")),
		}},
		{"each window is emitted once, and a lower watermark is ignored", []step{
			add("#go", 105, true), advance(110, top(100, 110, "#g", "#go=1")), advance(110), advance(50), advance(1000),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := NewTrending(10*time.Millisecond, 2)
			require.NoError(t, err)
			for i, st := range tc.steps {
				if !st.advance {
					assert.Equal(t, st.accepted, tr.Add(st.text, st.t), "step %d: Add(%q, %d) accepted", i, st.text, st.t)
					continue
				}
				var got []dataflow.Result
				tr.Advance(st.w, func(r dataflow.Result) { got = append(got, r) })
				if d := labtest.Diff(st.want, got); d != "" {
					t.Errorf("step %d: Advance(%d): %s", i, st.w, d)
				}
			}
		})
	}
}

// checkRun runs the operator over l and checks it against the reference
// without the tweets it refused: each (window, prefix) once, none before
// the watermark reached the window's end, and refusals exactly the tweets
// whose window had fired (W >= end).
func checkRun(t *testing.T, l *datasets.Log, window time.Duration, n int) *Trace {
	t.Helper()
	tr, err := Run(l, window, n, 5*time.Second)
	require.NoError(t, err)
	fn := dataflow.FixedWindows(window)
	var ws []dataflow.Window
	refused := map[dataflow.RecordRef]bool{}
	for _, a := range tr.Arrivals {
		ws = fn.Assign(ws[:0], a.EventTime)
		late := a.Watermark >= ws[0].End
		if a.Accepted == late {
			t.Errorf("%v (event time %d, window %v) at watermark %d: accepted %v, but it is late exactly when the watermark is at or past its window's end", a.RecordRef, a.EventTime, ws[0], a.Watermark, a.Accepted)
			break
		}
		if !a.Accepted {
			refused[a.RecordRef] = true
		}
	}
	for _, e := range tr.Emissions {
		if e.Watermark < e.Result.Window.End {
			t.Errorf("%s fired at watermark %d, before its window was complete", labtest.Row(e.Result), e.Watermark)
			break
		}
	}
	spec, err := Spec(l.Schema(), window, n)
	require.NoError(t, err)
	want, err := dataflow.Reference(spec, l.All(), dataflow.ReferenceOptions{Exclude: func(p int, off int64) bool {
		return refused[dataflow.RecordRef{Partition: p, Offset: off}]
	}})
	require.NoError(t, err)
	got := make([]dataflow.Result, len(tr.Emissions))
	for i, e := range tr.Emissions {
		got[i] = e.Result
	}
	if d := labtest.Diff(want, got); d != "" {
		t.Errorf("top %d per prefix in %v windows over %d tweets differs from the exact answer: %s", n, window, l.Len(), d)
	}
	return tr
}

// hashtagsConfig is the lab's data: 20,000 tweets, five a second of event
// time (about 67 minutes).
func hashtagsConfig(seed uint64, skew datasets.Skew) datasets.Config {
	return datasets.Config{Events: 20_000, Seed: seed, EventRate: 5, Skew: skew}
}

// TestTrendingMatchesReference: the built-in tweets, out of order by up to
// 2 s (under the 5 s bound, so nothing is late), for several window sizes
// and N.
func TestTrendingMatchesReference(t *testing.T) {
	_, err := NewTrending(time.Hour, 10) // fail before generating data if there is no operator
	require.NoError(t, err)
	l, _, err := labtest.Log(t.Context(), "hashtags", hashtagsConfig(1, datasets.Skew{}))
	require.NoError(t, err)
	for _, c := range []struct {
		w time.Duration
		n int
	}{{time.Hour, 10}, {10 * time.Minute, 3}, {time.Minute, 1}} {
		t.Run(fmt.Sprintf("window=%v/n=%d", c.w, c.n), func(t *testing.T) {
			tr := checkRun(t, l, c.w, c.n)
			for _, a := range tr.Arrivals {
				require.True(t, a.Accepted, "nothing is late under a 5 s bound with 2 s delays: %v refused", a.RecordRef)
			}
		})
	}
}

// TestTrendingLateRecords: 10% of tweets 15-30 s late, beyond the bound;
// those whose window has fired must be refused, the others counted.
func TestTrendingLateRecords(t *testing.T) {
	_, err := NewTrending(time.Hour, 10)
	require.NoError(t, err)
	skew := datasets.Skew{Delay: 2 * time.Second, OutOfOrder: 0.05, Late: 0.1, LateDelay: 30 * time.Second}
	l, _, err := labtest.Log(t.Context(), "hashtags", hashtagsConfig(2, skew))
	require.NoError(t, err)
	tr := checkRun(t, l, 5*time.Minute, 5)
	refused, behind := 0, 0
	for _, a := range tr.Arrivals {
		if !a.Accepted {
			refused++
		} else if a.Watermark > a.EventTime {
			behind++
		}
	}
	assert.Positive(t, refused, "no tweet was refused: late tweets were not detected")
	assert.Positive(t, behind, "no accepted tweet was behind the watermark: the open-window case was not exercised")
}
