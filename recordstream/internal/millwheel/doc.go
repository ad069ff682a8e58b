// Package millwheel holds the pure cores of recordstream's Dataflow mode
// (MillWheel's exactly-once delivery, VLDB 2013 §5.1-5.3, as Cloud
// Dataflow's shuffle does it): the receiver's deduplication of record ids
// against the ids it has committed, and the sender's upstream backup of the
// records it has sent and not yet seen acknowledged.
//
//	receiver, per bundle (one input batch):
//	  Admit(id) ── cache hit ───────────────▶ duplicate (re-ack, drop)
//	     │      ── below the sender's GC bound ▶ duplicate
//	     │      ── Bloom negative ─────────────▶ new (no catalog read)
//	     │      ── Bloom positive: read catalog ▶ duplicate or new
//	  Commit() ─▶ the bundle's new ids join the catalog, the filter, the cache
//	  Abort()  ─▶ a crash: the bundle and the cache are forgotten
//	  Collect(producer, below): the sender reported (in band, behind every
//	     copy it sent before) that it will never send a sequence number
//	     below `below` again: those ids leave the catalog.
//
//	sender: Put(id) when sent, Ack(id) when acknowledged, Due(now) what to
//	  send again after the retry timeout, Low() the earliest unacked
//	  sequence number (its GC bound for the receivers).
//
// Nothing here reads a clock, starts a goroutine or does I/O: callers pass
// time in (ns readings of their injected clock) and own each value from one
// goroutine. The package imports only the standard library.
//
// # Invariants
//
//   - MW1 An id is a duplicate only if it was admitted in the bundle being
//     processed or committed in an earlier one and not collected; a
//     Bloom-filter negative proves an id new (the filter holds every
//     catalog id), so it costs no catalog read.
//   - MW2 The catalog holds only ids at or above their producer's GC bound:
//     it stays bounded by the sender's unacknowledged window, not by the
//     length of the stream.
//   - MW3 An id below its producer's GC bound is a duplicate: the sender
//     reported it acknowledged, and reports travel behind the copies sent
//     before them, so no new copy can follow.
//   - MW4 The record-id cache holds at most its capacity, evicting the
//     oldest id first; it is memory only, so Abort empties it.
package millwheel
