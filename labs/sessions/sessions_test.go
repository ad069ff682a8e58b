package sessions

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/labs/internal/labtest"
)

// TestNewSessions: a gap of a millisecond or more is accepted, anything
// shorter refused.
func TestNewSessions(t *testing.T) {
	for _, gap := range []time.Duration{time.Millisecond, 30 * time.Second} {
		s, err := NewSessions(gap)
		require.NoError(t, err, "NewSessions(%v)", gap)
		require.NotNil(t, s)
	}
	for _, gap := range []time.Duration{0, -time.Second, 500 * time.Microsecond} {
		_, err := NewSessions(gap)
		assert.Error(t, err, "NewSessions(%v) must refuse a gap below 1ms", gap)
	}
}

// step is one call in a rule test: Add (user, t) expecting accepted, or
// Advance to w expecting exactly the listed sessions.
type step struct {
	user     string
	t        dataflow.Time
	accepted bool
	advance  bool
	w        dataflow.Time
	want     []dataflow.Result
}

func add(user string, t dataflow.Time, accepted bool) step {
	return step{user: user, t: t, accepted: accepted}
}

func advance(w dataflow.Time, want ...dataflow.Result) step {
	return step{advance: true, w: w, want: want}
}

func sess(user string, start, end dataflow.Time, count, span int64) dataflow.Result {
	return SessionResult(dataflow.Window{Start: start, End: end}, user, count, span)
}

// TestSessionRules checks the operator on short scripts with a gap of 10
// ms, each aimed at one rule of I3-I5.
func TestSessionRules(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"a lone event fires when the watermark reaches its end, not before", []step{
			add("u", 100, true), advance(109), advance(110, sess("u", 100, 110, 1, 0)),
		}},
		{"events less than the gap apart share a session", []step{
			add("u", 100, true), add("u", 109, true), advance(118), advance(119, sess("u", 100, 119, 2, 9)),
		}},
		{"an event exactly the gap after the last starts a new session", []step{
			add("u", 100, true), add("u", 110, true), advance(120, sess("u", 100, 110, 1, 0), sess("u", 110, 120, 1, 0)),
		}},
		{"an out-of-order event bridges two sessions into one", []step{
			add("u", 100, true), add("u", 115, true), add("u", 108, true), advance(200, sess("u", 100, 125, 3, 15)),
		}},
		{"an event that arrives first may be the latest", []step{
			add("u", 130, true), add("u", 100, true), add("u", 121, true), advance(200, sess("u", 100, 110, 1, 0), sess("u", 121, 140, 2, 9)),
		}},
		{"users are separate", []step{
			add("a", 100, true), add("b", 105, true), advance(110, sess("a", 100, 110, 1, 0)), advance(115, sess("b", 105, 115, 1, 0)),
		}},
		{"each session is emitted once, and a lower watermark is ignored", []step{
			add("u", 100, true), advance(110, sess("u", 100, 110, 1, 0)), advance(110), advance(50), advance(500),
		}},
		{"a record behind the watermark is late and refused", []step{
			add("u", 100, true), advance(105), add("u", 104, false), add("u", 105, true), advance(115, sess("u", 100, 115, 2, 5)),
		}},
		{"a late record does not reopen a fired session", []step{
			add("u", 100, true), advance(110, sess("u", 100, 110, 1, 0)), add("u", 105, false), advance(200),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSessions(10 * time.Millisecond)
			require.NoError(t, err)
			for i, st := range tc.steps {
				if !st.advance {
					assert.Equal(t, st.accepted, s.Add(st.user, st.t), "step %d: Add(%q, %d) accepted", i, st.user, st.t)
					continue
				}
				var got []dataflow.Result
				s.Advance(st.w, func(r dataflow.Result) {
					r.Extra = slices.Clone(r.Extra)
					got = append(got, r)
				})
				if d := labtest.Diff(st.want, got); d != "" {
					t.Errorf("step %d: Advance(%d): %s", i, st.w, d)
				}
			}
		})
	}
}

// checkRun runs the operator over l and checks it against the reference
// answer without the records it refused: every session once, fired no
// earlier than the watermark allows, and refused records exactly those
// behind the watermark.
func checkRun(t *testing.T, l *datasets.Log, gap time.Duration) *Trace {
	t.Helper()
	tr, err := Run(l, gap, 5*time.Second)
	require.NoError(t, err)
	dropped := map[dataflow.RecordRef]bool{}
	for _, a := range tr.Arrivals {
		late := a.Watermark > a.EventTime
		if a.Accepted == late {
			t.Errorf("%v (user %s, event time %d) at watermark %d: accepted %v, but it is late exactly when the watermark is above its event time", a.RecordRef, a.User, a.EventTime, a.Watermark, a.Accepted)
			break
		}
		if !a.Accepted {
			dropped[a.RecordRef] = true
		}
	}
	for _, e := range tr.Emissions {
		if e.Watermark < e.Result.Window.End {
			t.Errorf("session %s fired at watermark %d, before it was complete", labtest.Row(e.Result), e.Watermark)
			break
		}
	}
	spec, err := Spec(l.Schema(), gap)
	require.NoError(t, err)
	want, err := dataflow.Reference(spec, l.All(), dataflow.ReferenceOptions{Exclude: func(p int, off int64) bool {
		return dropped[dataflow.RecordRef{Partition: p, Offset: off}]
	}})
	require.NoError(t, err)
	got := make([]dataflow.Result, len(tr.Emissions))
	for i, e := range tr.Emissions {
		got[i] = e.Result
	}
	if d := labtest.Diff(want, got); d != "" {
		t.Errorf("sessions (gap %v) over %d records differ from the exact answer: %s", gap, l.Len(), d)
	}
	return tr
}

// TestSessionsMatchReference runs the operator over the built-in click
// stream, out of order (5% of records up to 2 s late, under the 5 s
// watermark bound), for several gaps and seeds.
func TestSessionsMatchReference(t *testing.T) {
	_, err := NewSessions(time.Second) // fail before generating data if there is no operator
	require.NoError(t, err)
	for _, seed := range []uint64{1, 2} {
		l, _, err := labtest.Log(t.Context(), "sessions", datasets.Config{Events: 20_000, Seed: seed})
		require.NoError(t, err)
		for _, gap := range []time.Duration{10 * time.Second, 30 * time.Second, 2 * time.Minute} {
			t.Run(fmt.Sprintf("seed=%d/gap=%v", seed, gap), func(t *testing.T) {
				tr := checkRun(t, l, gap)
				for _, a := range tr.Arrivals {
					require.True(t, a.Accepted, "nothing is late under a 5 s bound with 2 s delays: %v refused", a.RecordRef)
				}
			})
		}
	}
}

// TestSessionsLateRecords adds records 15 to 30 s late, beyond the 5 s
// bound: some must be refused, and the answer must equal the exact one
// without them.
func TestSessionsLateRecords(t *testing.T) {
	_, err := NewSessions(time.Second)
	require.NoError(t, err)
	skew := datasets.Skew{Delay: 2 * time.Second, OutOfOrder: 0.05, Late: 0.03, LateDelay: 30 * time.Second}
	l, _, err := labtest.Log(t.Context(), "sessions", datasets.Config{Events: 20_000, Seed: 3, Skew: skew})
	require.NoError(t, err)
	tr := checkRun(t, l, 30*time.Second)
	refused := 0
	for _, a := range tr.Arrivals {
		if !a.Accepted {
			refused++
		}
	}
	assert.Positive(t, refused, "no record was refused: the late records were not detected")
}

// TestHarnessData checks the lab's data, not the exercise: the click
// stream has events exactly 30 s apart (the I3 boundary) and out-of-order
// arrivals within a user (so that merging is needed).
func TestHarnessData(t *testing.T) {
	l, _, err := labtest.Log(t.Context(), "sessions", datasets.Config{Events: 20_000, Seed: 1})
	require.NoError(t, err)
	last := map[string]dataflow.Time{}
	var exact, disorder int
	var times = map[string][]dataflow.Time{}
	for rec := range l.All() {
		u, ts := rec.Row[0].S, rec.Row[3].Time()
		if p, ok := last[u]; ok && ts < p {
			disorder++
		}
		last[u] = max(last[u], ts)
		times[u] = append(times[u], ts)
	}
	for _, ts := range times {
		slices.Sort(ts)
		for i := 1; i < len(ts); i++ {
			if ts[i]-ts[i-1] == 30_000 {
				exact++
			}
		}
	}
	assert.Positive(t, exact, "no two events of a user exactly 30 s apart")
	assert.Positive(t, disorder, "no user's events arrive out of order")
}
