// Package invariants holds the switch for expensive internal assertions
// (pebble's internal/invariants): checks that walk a data structure or
// recount what a core already keeps, too slow for a release build but
// worth running in tests.
//
// # Usage
//
// Guard a check with the constant, so a release build compiles it out
// entirely (arguments included):
//
//	if invariants.Enabled {
//		invariants.Assertf(q.sorted(), "checkpoint: queue of channel %d out of order", ch)
//	}
//
// Build or test with the tag to turn the checks on:
//
//	go test -tags invariants ./recordstream/checkpoint/
//
// # Rules
//
//   - An assertion checks the code's own state, never input data: bad input
//     is an error, not a panic.
//   - [Assertf] panics when [Enabled] and cond is false; without the tag it
//     does nothing and is inlined away. Its arguments are still evaluated,
//     which is why a costly check goes inside `if invariants.Enabled`.
//   - The package has no state and starts nothing.
package invariants
