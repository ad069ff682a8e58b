package clock

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Manual is a clock whose time moves only when the test says so:
// [Manual.Advance] and [Manual.Set] fire the timers and tickers that become
// due, in deadline order (CL4). It is safe for concurrent use: the code under
// test waits on its timers on its own goroutines while the test moves the
// time and calls [Manual.BlockUntil] to know that they are waiting.
//
// A Manual keeps every armed timer until it fires or is stopped, including
// those of [Manual.After]; code that arms many long timeouts it then
// abandons should Stop them, on any clock.
type Manual struct {
	mu sync.Mutex
	// now is the current time (mu).
	now time.Time
	// armed holds the armed timers and tickers, a min-heap by (when, seq)
	// (mu).
	armed waiterHeap
	// seq numbers waiters in creation order, to break deadline ties (mu).
	seq uint64
	// changed, if not nil, is closed and cleared when the number of armed
	// waiters changes, waking BlockUntil (mu).
	changed chan struct{}
}

// NewManual returns a manual clock reading start.
func NewManual(start time.Time) *Manual { return &Manual{now: start} }

// Now returns the manual time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// NewTimer returns a timer that fires when the manual time reaches Now()+d;
// with d <= 0 it fires at once.
func (m *Manual) NewTimer(d time.Duration) Timer {
	w := m.newWaiter(0)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.arm(w, d)
	return (*manualTimer)(w)
}

// NewTicker returns a ticker that fires each time the manual time passes
// another multiple of d since now (CL3). It panics if d <= 0.
func (m *Manual) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	w := m.newWaiter(d)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.arm(w, d)
	return (*manualTicker)(w)
}

// After returns NewTimer(d).C().
func (m *Manual) After(d time.Duration) <-chan time.Time { return m.NewTimer(d).C() }

// Advance moves the time on by d, firing what becomes due in order (CL4).
// A negative d moves the time back, as [Manual.Set] does.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.moveTo(m.now.Add(d))
}

// Set sets the time to t. If t is after Now, what becomes due fires in
// order (CL4); if it is before, nothing fires and armed deadlines stay where
// they are (they now lie further in the future).
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.moveTo(t)
}

// Waiters returns how many timers and tickers are armed: created or reset,
// and neither fired (timers) nor stopped.
func (m *Manual) Waiters() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.armed)
}

// Next returns the earliest armed deadline, and false if nothing is armed.
// A test that wants to run the code under test "as fast as possible" sets
// the time to it.
func (m *Manual) Next() (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.armed) == 0 {
		return time.Time{}, false
	}
	return m.armed[0].when, true
}

// BlockUntil blocks until at least n timers and tickers are armed
// ([Manual.Waiters]) or ctx is done, and then returns ctx.Err(). It is how a
// test knows, without sleeping, that the code under test is waiting and the
// time can move.
func (m *Manual) BlockUntil(ctx context.Context, n int) error {
	for {
		m.mu.Lock()
		if len(m.armed) >= n {
			m.mu.Unlock()
			return nil
		}
		if m.changed == nil {
			m.changed = make(chan struct{})
		}
		ch := m.changed
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// FastForward runs the code waiting on m as fast as it can go while keeping
// the times it would see at full pace: whenever a timer or ticker is armed,
// it sets the time to the earliest armed deadline. It returns ctx.Err() once
// ctx is done; run it on its own goroutine, or on the test's while the code
// under test runs on another that cancels ctx when it returns.
//
// The times are deterministic when one goroutine at a time waits on m (a
// paced fill, a single loop). With several, the order in which they arm
// their timers, and so the time each sees, depends on scheduling: use
// [Manual.BlockUntil] and [Manual.Advance] step by step, or
// testing/synctest, instead.
func (m *Manual) FastForward(ctx context.Context) error {
	for {
		if err := m.BlockUntil(ctx, 1); err != nil {
			return err
		}
		m.mu.Lock()
		if len(m.armed) > 0 {
			m.moveTo(m.armed[0].when)
		}
		m.mu.Unlock()
	}
}

// waiter is one manual timer or ticker.
type waiter struct {
	m *Manual
	// c holds at most one undelivered value (CL3); sends never block.
	c chan time.Time
	// period is the ticker's period, 0 for a timer.
	period time.Duration
	// when, seq and index are the waiter's deadline, creation number and
	// place in m.armed (-1 when not armed) (m.mu).
	when  time.Time
	seq   uint64
	index int
}

func (m *Manual) newWaiter(period time.Duration) *waiter {
	return &waiter{m: m, c: make(chan time.Time, 1), period: period, index: -1}
}

// arm (re)arms w to fire d from now; with d <= 0 it fires at once.
// m.mu is held.
func (m *Manual) arm(w *waiter, d time.Duration) {
	m.seq++
	w.when, w.seq = m.now.Add(max(d, 0)), m.seq
	heap.Push(&m.armed, w)
	m.notify()
	m.moveTo(m.now)
}

// disarm removes w from the armed set, if it is there, and drops a value it
// has sent that nobody received (CL1). It reports whether w was active:
// armed, or holding a value nobody received, which as in Go 1.23 counts as
// not yet delivered. m.mu is held.
func (m *Manual) disarm(w *waiter) bool {
	active := w.index >= 0
	if active {
		heap.Remove(&m.armed, w.index)
		m.notify()
	}
	select {
	case <-w.c:
		active = true
	default:
	}
	return active
}

// moveTo sets the time to t, firing every waiter due at or before t in
// order, each with the time at its deadline (CL4). A ticker fires at most
// once per move: if more of its ticks are due, the earliest is sent and the
// rest are dropped, as a slow receiver loses them (CL3). m.mu is held.
func (m *Manual) moveTo(t time.Time) {
	for len(m.armed) > 0 && !m.armed[0].when.After(t) {
		w := m.armed[0]
		if w.when.After(m.now) {
			m.now = w.when
		}
		select {
		case w.c <- w.when:
		default: // a tick nobody took yet: drop this one (CL3)
		}
		if w.period == 0 {
			heap.Pop(&m.armed)
			m.notify()
			continue
		}
		// The next tick on the grid after t.
		w.when = w.when.Add(w.period * (t.Sub(w.when)/w.period + 1))
		heap.Fix(&m.armed, 0)
	}
	m.now = t
}

// notify wakes BlockUntil callers. m.mu is held.
func (m *Manual) notify() {
	if m.changed != nil {
		close(m.changed)
		m.changed = nil
	}
}

type manualTimer waiter

func (t *manualTimer) C() <-chan time.Time { return t.c }

func (t *manualTimer) Reset(d time.Duration) bool {
	w := (*waiter)(t)
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	armed := w.m.disarm(w)
	w.m.arm(w, d)
	return armed
}

func (t *manualTimer) Stop() bool {
	w := (*waiter)(t)
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	return w.m.disarm(w)
}

type manualTicker waiter

func (t *manualTicker) C() <-chan time.Time { return t.c }

func (t *manualTicker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clock: non-positive interval for Ticker.Reset")
	}
	w := (*waiter)(t)
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	w.m.disarm(w)
	w.period = d
	w.m.arm(w, d)
}

func (t *manualTicker) Stop() {
	w := (*waiter)(t)
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	w.m.disarm(w)
}

// waiterHeap orders waiters by deadline, then creation (container/heap).
type waiterHeap []*waiter

func (h waiterHeap) Len() int { return len(h) }
func (h waiterHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}

func (h waiterHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *waiterHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}

func (h *waiterHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	w.index = -1
	*h = old[:len(old)-1]
	return w
}
