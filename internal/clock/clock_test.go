package clock_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/internal/clock"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// tryRecv receives from c without blocking.
func tryRecv(c <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-c:
		return v, true
	default:
		return time.Time{}, false
	}
}

// semantics runs one script of timer and ticker steps on c, with advance
// moving c's time on, and checks CL1-CL4. It is run on the manual clock and on
// the real clock inside a synctest bubble, so the manual clock is checked
// against the time package itself.
func semantics(t *testing.T, c clock.Clock, advance func(time.Duration)) {
	start := c.Now()
	at := func(d time.Duration) time.Time { return start.Add(d) }
	recv := func(name string, ch <-chan time.Time, want time.Duration) {
		t.Helper()
		v, ok := tryRecv(ch)
		if assert.True(t, ok, "%s: nothing received, want the tick at %v", name, want) {
			assert.Equal(t, want, v.Sub(start), "%s: value at %v, want %v", name, v.Sub(start), want)
		}
	}
	none := func(name string, ch <-chan time.Time) {
		t.Helper()
		v, ok := tryRecv(ch)
		assert.False(t, ok, "%s: received %v, want nothing", name, v.Sub(start))
	}

	tick := c.NewTicker(time.Second)
	a := c.NewTimer(2500 * time.Millisecond)
	b := c.After(500 * time.Millisecond)
	advance(3500 * time.Millisecond)
	assert.Equal(t, at(3500*time.Millisecond), c.Now())
	recv("timer 0.5s", b, 500*time.Millisecond)
	recv("timer 2.5s", a.C(), 2500*time.Millisecond)
	recv("ticker after 3.5s: the earliest undelivered tick (CL3)", tick.C(), time.Second)
	none("ticker: the ticks at 2s and 3s were dropped (CL3)", tick.C())
	none("timer 2.5s fires once (CL2)", a.C())

	advance(500 * time.Millisecond)
	recv("ticker at 4s: the grid is kept (CL3)", tick.C(), 4*time.Second)

	stopped := c.NewTimer(time.Second)
	assert.True(t, stopped.Stop(), "Stop of an armed timer reports true")
	advance(2 * time.Second) // t = 6s
	none("stopped timer", stopped.C())
	assert.False(t, stopped.Stop(), "Stop of a stopped timer reports false")
	tryRecv(tick.C())

	d := c.NewTimer(time.Second)
	advance(time.Second) // t = 7s: d fired, nobody received
	assert.True(t, d.Reset(time.Second), "Reset of a due timer whose value nobody received reports true (Go 1.23)")
	none("no stale value after Reset (CL1)", d.C())
	advance(time.Second) // t = 8s
	recv("reset timer", d.C(), 8*time.Second)

	e := c.NewTimer(time.Second)
	advance(time.Second) // t = 9s: e fired, nobody received
	assert.True(t, e.Stop(), "Stop of a due timer whose value nobody received reports true (Go 1.23)")
	assert.False(t, e.Stop(), "Stop of a stopped timer reports false")
	g := c.NewTimer(time.Second)
	advance(time.Second) // t = 10s
	recv("timer g", g.C(), 10*time.Second)
	assert.False(t, g.Stop(), "Stop of a timer whose value was received reports false")
	none("no stale value after Stop (CL1)", e.C())

	f := c.NewTimer(time.Second)
	advance(500 * time.Millisecond)
	assert.True(t, f.Reset(time.Second), "Reset of an armed timer reports true")
	advance(500 * time.Millisecond) // t = 11s: the old deadline
	none("timer moved by Reset", f.C())
	advance(500 * time.Millisecond)
	recv("timer moved by Reset", f.C(), 11500*time.Millisecond)

	tryRecv(tick.C())
	tick.Reset(3 * time.Second)
	none("ticker reset: no stale tick (CL1)", tick.C())
	advance(3 * time.Second) // t = 14.5s
	recv("ticker after Reset(3s)", tick.C(), 14500*time.Millisecond)
	tick.Stop()
	advance(10 * time.Second)
	none("stopped ticker", tick.C())

	now := c.NewTimer(0)
	recv("NewTimer(0) fires at once", now.C(), 24500*time.Millisecond)
	neg := c.NewTimer(-time.Second)
	recv("NewTimer(<0) fires at once, at now", neg.C(), 24500*time.Millisecond)
}

func TestManualSemantics(t *testing.T) {
	m := clock.NewManual(t0)
	semantics(t, m, m.Advance)
	assert.Zero(t, m.Waiters(), "every timer fired or was stopped")
}

// The real clock under synctest is the reference the manual clock copies.
func TestRealSemanticsUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := clock.Real()
		semantics(t, c, func(d time.Duration) {
			require.NoError(t, clock.Sleep(t.Context(), c, d))
		})
	})
}

// Timers fire in deadline order, each with Now at its deadline, and only
// those that are due.
func TestManualFiresDueTimersInOrder(t *testing.T) {
	m := clock.NewManual(t0)
	deadlines := []time.Duration{3 * time.Second, time.Second, 2 * time.Second, time.Second, 5 * time.Second}
	timers := make([]clock.Timer, len(deadlines))
	for i, d := range deadlines {
		timers[i] = m.NewTimer(d)
	}
	require.Equal(t, 5, m.Waiters())
	next, ok := m.Next()
	require.True(t, ok)
	assert.Equal(t, t0.Add(time.Second), next, "Next is the earliest deadline")

	for _, step := range []struct {
		advance time.Duration
		fired   []int
	}{
		{500 * time.Millisecond, nil},
		{500 * time.Millisecond, []int{1, 3}},
		{1500 * time.Millisecond, []int{2}},
		{time.Second, []int{0}},
		{10 * time.Second, []int{4}},
	} {
		m.Advance(step.advance)
		var fired []int
		for i, tm := range timers {
			if v, ok := tryRecv(tm.C()); ok {
				fired = append(fired, i)
				assert.Equal(t, t0.Add(deadlines[i]), v, "timer %d's value", i)
			}
		}
		assert.Equal(t, step.fired, fired, "fired after advancing to %v", m.Now().Sub(t0))
	}
	_, ok = m.Next()
	assert.False(t, ok, "nothing armed")
}

// A ticker and a timer share one Advance in deadline order: the timer sees
// the ticker's grid, and the ticker fires once per move (CL3, CL4).
func TestManualTickerCatchUp(t *testing.T) {
	m := clock.NewManual(t0)
	tick := m.NewTicker(100 * time.Millisecond)
	for i := 1; i <= 3; i++ {
		m.Advance(100 * time.Millisecond)
		v, ok := tryRecv(tick.C())
		require.True(t, ok, "tick %d", i)
		assert.Equal(t, t0.Add(time.Duration(i)*100*time.Millisecond), v, "tick %d", i)
	}
	m.Advance(time.Hour) // one tick, not 36000
	v, ok := tryRecv(tick.C())
	require.True(t, ok)
	assert.Equal(t, t0.Add(400*time.Millisecond), v, "the earliest undelivered tick")
	_, ok = tryRecv(tick.C())
	assert.False(t, ok)
	next, _ := m.Next()
	assert.Equal(t, t0.Add(time.Hour+400*time.Millisecond), next, "the next tick stays on the grid")
	tick.Stop()
	assert.Zero(t, m.Waiters())
}

func TestManualSetBackwards(t *testing.T) {
	m := clock.NewManual(t0)
	tm := m.NewTimer(time.Second)
	m.Set(t0.Add(-time.Hour))
	assert.Equal(t, t0.Add(-time.Hour), m.Now())
	_, ok := tryRecv(tm.C())
	assert.False(t, ok, "moving back fires nothing")
	m.Advance(time.Hour + time.Second)
	v, ok := tryRecv(tm.C())
	require.True(t, ok, "the deadline stayed where it was")
	assert.Equal(t, t0.Add(time.Second), v)
	m.Advance(-time.Minute)
	assert.Equal(t, t0.Add(time.Second-time.Minute), m.Now(), "a negative Advance moves back")
}

func TestNewTickerPanicsOnNonPositive(t *testing.T) {
	m := clock.NewManual(t0)
	assert.Panics(t, func() { m.NewTicker(0) })
	assert.Panics(t, func() { m.NewTicker(time.Second).Reset(-1) })
	assert.Panics(t, func() { clock.Real().NewTicker(0) })
}

func TestSleep(t *testing.T) {
	m := clock.NewManual(t0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, clock.Sleep(ctx, m, time.Second), context.Canceled, "a done ctx wins")
	assert.ErrorIs(t, clock.Sleep(ctx, m, 0), context.Canceled, "even with d <= 0")
	assert.NoError(t, clock.Sleep(t.Context(), m, 0))
	assert.NoError(t, clock.Sleep(t.Context(), m, -time.Second))
	assert.Zero(t, m.Waiters(), "Sleep stops its timer")

	done := make(chan error, 1)
	go func() { done <- clock.Sleep(t.Context(), m, 5*time.Second) }()
	require.NoError(t, m.BlockUntil(t.Context(), 1))
	m.Advance(5 * time.Second)
	assert.NoError(t, <-done)

	ctx, cancel = context.WithCancel(t.Context())
	go func() { done <- clock.Sleep(ctx, m, time.Hour) }()
	require.NoError(t, m.BlockUntil(t.Context(), 1))
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled, "Sleep returns early when ctx is done")
	assert.Zero(t, m.Waiters(), "a canceled Sleep stops its timer")
}

// Sleep on the real clock under synctest takes exactly d of fake time.
func TestSleepRealUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		require.NoError(t, clock.Sleep(t.Context(), clock.Real(), 90*time.Minute))
		assert.Equal(t, 90*time.Minute, time.Since(start))
		assert.Equal(t, 90*time.Minute, clock.Since(clock.Real(), start))
	})
}

// FastForward runs a paced loop at once, with the times it would see at
// full pace.
func TestManualFastForward(t *testing.T) {
	m := clock.NewManual(t0)
	var woke []time.Duration
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		defer cancel()
		for _, d := range []time.Duration{time.Second, time.Hour, 0, time.Millisecond} {
			if err := clock.Sleep(ctx, m, d); err != nil {
				done <- err
				return
			}
			woke = append(woke, m.Now().Sub(t0))
		}
		done <- nil
	}()
	assert.ErrorIs(t, m.FastForward(ctx), context.Canceled, "FastForward runs until ctx is done")
	require.NoError(t, <-done)
	want := []time.Duration{time.Second, time.Second + time.Hour, time.Second + time.Hour, time.Second + time.Hour + time.Millisecond}
	assert.Equal(t, want, woke, "times seen by the paced loop")
}

func TestBlockUntilCanceled(t *testing.T) {
	m := clock.NewManual(t0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, m.BlockUntil(ctx, 1), context.Canceled)
	assert.NoError(t, m.BlockUntil(ctx, 0), "already satisfied")
}

func TestOrReal(t *testing.T) {
	assert.Equal(t, clock.Real(), clock.OrReal(nil))
	m := clock.NewManual(t0)
	assert.Same(t, m, clock.OrReal(m))
}

// Many goroutines arm, reset, stop and wait on one manual clock while the
// test advances it (run with -race).
func TestManualConcurrent(t *testing.T) {
	const workers = 16
	m := clock.NewManual(t0)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			d := time.Duration(i+1) * time.Millisecond
			tm := m.NewTimer(time.Hour)
			tm.Reset(d)
			tm.Stop()
			tick := m.NewTicker(d)
			defer tick.Stop()
			_ = m.Now()
			<-tick.C()
			assert.NoError(t, clock.Sleep(t.Context(), m, d))
		})
	}
	// Every worker ends up holding a ticker and, later, a sleep timer;
	// advancing a millisecond at a time lets each of them through.
	require.NoError(t, m.BlockUntil(t.Context(), workers))
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			assert.Zero(t, m.Waiters())
			return
		default:
			m.Advance(time.Millisecond)
		}
	}
}

// The real clock's timers and tickers cost what the time package's do.
func TestRealTimerAllocs(t *testing.T) {
	c := clock.Real()
	base := testing.AllocsPerRun(100, func() { time.NewTimer(time.Hour).Stop() })
	got := testing.AllocsPerRun(100, func() { c.NewTimer(time.Hour).Stop() })
	assert.Equal(t, base, got, "clock.Real().NewTimer allocations")
}

func ExampleManual() {
	m := clock.NewManual(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = clock.Sleep(ctx, m, time.Minute) // the code under test waits
		fmt.Println("woke at", m.Now().Format(time.TimeOnly))
	}()
	_ = m.BlockUntil(ctx, 1) // it is waiting now
	m.Advance(time.Minute)
	<-done
	// Output: woke at 00:01:00
}
