// Package acking holds the pure cores of Storm's at-least-once machinery that
// recordstream's tasks wrap: the XOR [Acker], the [RotatingMap] of
// timeouts, the spout's [Pending] map and the open-addressing id table
// behind both.
//
// Nothing here reads a clock, starts a goroutine or does I/O: callers pass
// the time in (ns readings of their injected clock) and own each value from
// one goroutine. The package imports only the standard library (and
// internal/invariants for debug-only checks), which internal/lint enforces.
//
// # Invariants
//
//   - AK1-AK4 ([Acker]) the XOR bookkeeping of one tree.
//   - RM1 ([RotatingMap]) an entry expires between T*(n-1) and T*n after its
//     last Put when Rotate runs every T: with a spout's 2 buckets between T
//     and 2T, with the acker's 3 between 2T and 3T.
package acking
