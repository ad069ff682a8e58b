// Package invariants holds weir's debug-only assertions (after pebble's
// internal/invariants): checks too expensive for a release build, such as
// re-deriving a heap's order or a per-key count after every call, that are
// compiled in only with the build tag `invariants`:
//
//	go test -tags invariants ./dataflow/... ./recordstream/... ./microbatch/... ./datasets/...
//
// CI runs the runtime packages once with the tag (.ci/run); release builds
// and benchmarks run without it.
//
// # Usage
//
// Guard an expensive check with the constant [Enabled], so that without the
// tag the compiler drops the whole block as dead code:
//
//	if invariants.Enabled {
//		invariants.Assertf(heapOrdered(w.timers), "window timers out of order: %v", w.timers)
//	}
//
// The caller's duties:
//
//  1. Call [Assertf] bare only when its condition and arguments are already
//     computed values: Go evaluates a call's arguments before the call, so
//     without the tag `Assertf(expensive(), ...)` still runs expensive().
//     Without the tag Assertf is an empty function that the compiler inlines
//     to nothing; its variadic arguments do not escape, so the call costs no
//     allocation (TestAssertfOffAllocatesNothing pins this).
//  2. In a per-record path, test the condition yourself and call
//     `invariants.Assertf(false, ...)` only when it fails: with the tag on,
//     Assertf's arguments are boxed into interfaces at every call, which
//     allocates, and the zero-allocation tests run under the tag too.
//  3. Say in the message which invariant broke, naming it as the package's
//     doc comment does (dataflow's DW1, recordstream's RQ2, ...), with the
//     values that show it.
//  4. Keep the check free of side effects: with the tag on, a correct
//     program must behave exactly as without it, only slower.
//
// # What an assertion is for
//
// A failed assertion means weir's own code is wrong: a broken invariant, an
// impossible state. It panics with a string "invariant violated: <msg>".
// Bad input data, files, configuration and cancellation are never asserted;
// they give errors (STYLE.md, Errors).
//
// The package imports only the standard library, so that dataflow (which
// may import nothing else) may use it; internal/lint allows dataflow this
// one dependency.
package invariants
