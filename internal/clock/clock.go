package clock

import (
	"context"
	"time"
)

// Clock gives processing time and waits on it. Implementations are safe for
// concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that sends the time on its channel once d
	// has passed (at once if d <= 0).
	NewTimer(d time.Duration) Timer
	// NewTicker returns a ticker that sends the time every d. It panics if
	// d <= 0, as time.NewTicker does (a programmer error).
	NewTicker(d time.Duration) Ticker
	// After is NewTimer(d).C(), for a wait that is never stopped. The
	// timer is collected once it fires or is no longer referenced.
	After(d time.Duration) <-chan time.Time
}

// Timer is a single event, as time.Timer (CL1, CL2).
type Timer interface {
	// C returns the channel on which the timer delivers its time.
	C() <-chan time.Time
	// Reset changes the timer to fire d from now. It reports whether the
	// timer was active: neither stopped nor its value received. As in Go
	// 1.23, a timer that is due but whose value nobody has received is
	// still active, and Reset drops that value (CL1).
	Reset(d time.Duration) bool
	// Stop prevents the timer from delivering its value. It reports
	// whether the timer was active, as Reset does.
	Stop() bool
}

// Ticker delivers ticks at a period, as time.Ticker (CL1, CL3).
type Ticker interface {
	// C returns the channel on which the ticks are delivered.
	C() <-chan time.Time
	// Reset stops the ticker and restarts it with period d from now. It
	// panics if d <= 0.
	Reset(d time.Duration)
	// Stop turns the ticker off. It does not close the channel.
	Stop()
}

// Real returns the time package's clock. Under testing/synctest it reads and
// waits on the bubble's fake time, like any other use of the time package.
// Its timers and tickers are the time package's, so they cost what
// time.NewTimer and time.NewTicker cost (no extra allocation).
func Real() Clock { return realClock{} }

// OrReal returns c, or [Real] if c is nil: the default of a Config's Clock
// field.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real()
	}
	return c
}

// Since returns the time elapsed on c since t.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }

// Sleep waits until d has passed on c or ctx is done, whichever is first,
// and returns ctx.Err() in the second case. A done ctx returns its error
// even if d <= 0.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

// realTimer and realTicker are one pointer wide, so an interface holds them
// without allocating: a real timer costs what time.NewTimer costs.
type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time        { return t.t.C }
func (t realTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
func (t realTimer) Stop() bool                 { return t.t.Stop() }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time   { return t.t.C }
func (t realTicker) Reset(d time.Duration) { t.t.Reset(d) }
func (t realTicker) Stop()                 { t.t.Stop() }
