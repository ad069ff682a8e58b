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
// The XOR bookkeeping of one tree ([Acker] explains it):
//
//   - AK1 An entry's value is the XOR of every edge id created in the tree
//     and not yet acked; the tree is complete when it returns to 0 after
//     the spout's INIT.
//   - AK2 State is one entry per pending root, whatever the tree size.
//   - AK3 An ACK or FAIL may arrive before the INIT; the entry then waits and
//     never reports until the INIT arrives.
//   - AK4 The acker never fails a tree on timeout: [Acker.Rotate] drops
//     stale entries silently; timeouts are the spout's job.
//
// The id tables behind the maps (idTable in table.go):
//
//   - ID1 A key's home slot is its low bits. Root ids are a spout's
//     sequence numbers ([RootID]; Storm draws them at random), so the
//     trees in flight of one spout fill consecutive slots and the tables
//     are walked in emit order, as a ring buffer would be; the acker keeps
//     each spout's roots in a map of its own, keyed by its share of the
//     sequence ([AckerFor] sends blocks of it to each acker). Edge ids, the
//     values XORed (AK1), stay random.
//   - ID2 A table keeps a lower and an upper bound of its keys since it was
//     last empty; a key outside them is absent without a probe, so asking
//     for a new tree, an expired tree or a new key in older buckets never
//     scans a run of dense keys.
//   - ID3 A table is a Robin Hood table: no entry sits farther from its
//     home than the entry after it plus one, so a lookup stops early and a
//     removal shifts back only the displaced entries after it (dense keys,
//     each at its home, move nothing).
//
// The timeouts:
//
//   - RM1 ([RotatingMap]) an entry expires between T*(n-1) and T*n after its
//     last Put when Rotate runs every T: with a spout's 2 buckets between T
//     and 2T, with the acker's 3 between 2T and 3T.
package acking
