// Package clock is weir's one source of processing time: the reading of
// Now, and the timers and tickers that wait on it. Every package that
// paces, times out or stamps processing time (datasets, both runtimes,
// compare) takes a [Clock] in its Config instead of calling time.Now,
// time.After or time.NewTicker, so a test decides what time it is.
//
// # Usage
//
//  1. Production code takes a Clock field in its Config, nil meaning
//     [Real], and resolves it once when the Config's defaults are applied.
//  2. It reads the time with [Clock.Now] and waits with [Clock.NewTimer],
//     [Clock.NewTicker], [Clock.After] or [Sleep], always together with
//     ctx.Done() (or the owner's done channel) in the same select.
//  3. A test picks one of two fakes:
//     - testing/synctest with [Real]: inside a synctest bubble the time
//     package's clock is the bubble's fake clock, so [Real] needs nothing
//     else; time jumps forward whenever every goroutine of the bubble is
//     blocked. Use it to run whole components (a paced fill, a driver loop)
//     at fake speed.
//     - [*Manual]: time moves only when the test calls [Manual.Advance] or
//     [Manual.Set]. Use [Manual.BlockUntil] to wait, without sleeping, until
//     the code under test has armed its timers, then advance; or let
//     [Manual.FastForward] jump to each deadline as it is armed, to run a
//     paced loop at once with the times it would see at full pace.
//
// # Invariants
//
// Timers and tickers follow the time package's Go 1.23 rules, for both the
// real and the manual clock:
//
//   - CL1 After Stop or Reset returns, no value sent before the call is
//     received from C: there is no stale tick to drain.
//   - CL2 A timer fires once, at its deadline, sending the deadline's time.
//     Until its value is received it is still active: Stop and Reset
//     report true and drop the value.
//   - CL3 A ticker fires at start+period, start+2·period, ... and holds at
//     most one undelivered tick: a receiver that falls behind (or an
//     Advance over several periods) gets the earliest undelivered tick
//     and loses the rest; the period grid is kept, never shifted.
//   - CL4 A manual clock fires every timer and ticker due at or before the
//     new time in deadline order (ties in the order they were armed),
//     with Now equal to each deadline as it fires. Its time moves back
//     only when a test says so ([Manual.Set], a negative
//     [Manual.Advance]).
//
// # Limits
//
// The package has no AfterFunc: nothing in weir needs a callback run on
// another goroutine, and a callback is harder to make deterministic under a
// manual clock than a channel the owner selects on. A [*Manual] is not a
// model of a slow machine: time does not pass while code runs, only when a
// test moves it.
package clock
