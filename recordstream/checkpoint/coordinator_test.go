package checkpoint

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCoordinator runs scripted sequences: each step advances the manual
// clock (tick at +ms), acks, declines or restarts, and lists the events
// the step must emit.
func TestCoordinator(t *testing.T) {
	type step struct {
		op   string // "tick 100", "ack 1 0", "decline 1", "restart", "trigger", "stop"
		want string // events, space separated
	}
	cases := []struct {
		name  string
		cfg   CoordinatorConfig
		steps []step
	}{
		{"triggers every interval and completes on every ack",
			CoordinatorConfig{Tasks: []TaskID{0, 1}, Interval: 100 * time.Millisecond},
			[]step{
				{"tick 99", ""},
				{"tick 100", "trigger chk-1"},
				{"tick 250", ""}, // one pending at most
				{"ack 1 0", ""},
				{"ack 1 0", ""}, // repeated ack ignored
				{"ack 1 1", "complete chk-1"},
				{"tick 250", "trigger chk-2"},
				{"ack 2 1", ""},
				{"ack 2 0", "complete chk-2"},
				{"tick 349", ""},
				{"tick 350", "trigger chk-3"},
			}},
		{"timeout aborts",
			CoordinatorConfig{Tasks: []TaskID{0}, Interval: 10 * time.Millisecond, Timeout: 50 * time.Millisecond},
			[]step{
				{"tick 10", "trigger chk-1"},
				{"tick 59", ""},
				{"tick 60", "abort chk-1 (timeout) trigger chk-2"},
				{"ack 1 0", ""}, // late ack of an aborted checkpoint
				{"ack 2 0", "complete chk-2"},
			}},
		{"newer completed subsumes older pending",
			CoordinatorConfig{Tasks: []TaskID{0, 1}, Interval: 10 * time.Millisecond, MaxConcurrent: 3},
			[]step{
				{"tick 10", "trigger chk-1"},
				{"tick 20", "trigger chk-2"},
				{"tick 30", "trigger chk-3"},
				{"tick 40", ""},
				{"ack 2 0", ""},
				{"ack 2 1", "complete chk-2 abort chk-1 (subsumed)"},
				{"ack 3 0", ""},
				{"ack 3 1", "complete chk-3"},
			}},
		{"decline, restart and ids above LastID",
			CoordinatorConfig{Tasks: []TaskID{7}, Interval: 10 * time.Millisecond, LastID: 41},
			[]step{
				{"tick 10", "trigger chk-42"},
				{"decline 42", "abort chk-42 (declined)"},
				{"tick 20", "trigger chk-43"},
				{"restart 25", "abort chk-43 (restart)"},
				{"tick 34", ""},
				{"tick 35", "trigger chk-44"},
				{"stop", ""},
				{"ack 44 7", "complete chk-44"},
				{"tick 100", ""},
			}},
		{"min pause",
			CoordinatorConfig{Tasks: []TaskID{0}, Interval: 10 * time.Millisecond, MinPause: 30 * time.Millisecond},
			[]step{
				{"tick 10", "trigger chk-1"},
				{"tick 15", ""},
				{"ack 1 0", "complete chk-1"}, // at 15
				{"tick 44", ""},
				{"tick 45", "trigger chk-2"},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Unix(1000, 0)
			now := t0
			c, err := NewCoordinator(tc.cfg, t0)
			require.NoError(t, err)
			for i, st := range tc.steps {
				var evs []Event
				f := strings.Fields(st.op)
				arg := func(j int) uint64 {
					var v uint64
					_, err := fmt.Sscan(f[j], &v)
					require.NoError(t, err)
					return v
				}
				switch f[0] {
				case "tick":
					now = t0.Add(time.Duration(arg(1)) * time.Millisecond)
					evs = c.Tick(now, nil)
				case "ack":
					evs, err = c.Ack(ID(arg(1)), Ack{Task: TaskID(arg(2)), File: TaskFile{Size: 10}}, now, nil)
					require.NoError(t, err)
				case "decline":
					evs = c.Decline(ID(arg(1)), AbortDeclined, now, nil)
				case "restart":
					now = t0.Add(time.Duration(arg(1)) * time.Millisecond)
					evs = c.Restart(now, nil)
				case "trigger":
					evs = c.TriggerNow(now, nil)
				case "stop":
					c.Stop()
				}
				var got []string
				for _, e := range evs {
					got = append(got, e.String())
				}
				assert.Equal(t, st.want, strings.Join(got, " "), "step %d: %s", i, st.op)
			}
		})
	}
}

func TestCoordinatorCompleteStats(t *testing.T) {
	t0 := time.Unix(0, 0)
	c, err := NewCoordinator(CoordinatorConfig{Tasks: []TaskID{1, 0}, Interval: time.Second}, t0)
	require.NoError(t, err)
	evs := c.Tick(t0.Add(time.Second), nil)
	require.Len(t, evs, 1)
	_, err = c.Ack(1, Ack{Task: 1, File: TaskFile{Task: 1, Size: 100, CRC: 7}, Alignment: 3 * time.Millisecond}, t0.Add(1100*time.Millisecond), nil)
	require.NoError(t, err)
	evs, err = c.Ack(1, Ack{Task: 0, File: TaskFile{Task: 0, Size: 50}, Alignment: time.Millisecond}, t0.Add(1300*time.Millisecond), nil)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	e := evs[0]
	assert.Equal(t, EventComplete, e.Kind)
	assert.Equal(t, []TaskFile{{Task: 0, Size: 50}, {Task: 1, Size: 100, CRC: 7}}, e.Files)
	assert.Equal(t, Stats{Duration: 300 * time.Millisecond, Size: 150, MaxAlignment: 3 * time.Millisecond}, e.Stats)
	assert.Equal(t, ID(1), c.LatestCompleted())
	assert.Equal(t, CoordinatorCounts{Triggered: 1, Completed: 1}, c.Counts())

	_, err = c.Ack(2, Ack{Task: 9}, t0, nil)
	assert.ErrorContains(t, err, "task-9")
	assert.Equal(t, t0.Add(2*time.Second), c.NextTick())
}

func TestCoordinatorConfigValidate(t *testing.T) {
	for _, cfg := range []CoordinatorConfig{
		{Interval: time.Second},
		{Tasks: []TaskID{1}},
		{Tasks: []TaskID{1, 1}, Interval: time.Second},
		{Tasks: []TaskID{1}, Interval: time.Second, Timeout: -1},
	} {
		_, err := NewCoordinator(cfg, time.Time{})
		assert.Error(t, err, "NewCoordinator(%+v)", cfg)
	}
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }
