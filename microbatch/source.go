package microbatch

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Source is the replayable, partitioned, offset-addressed log a run reads,
// as Spark's direct Kafka stream reads Kafka: every batch takes a half-open
// offset range [from, to) per partition, and reading the same range again
// gives the same records, which is what makes a batch recomputable.
// *datasets.ArrowSource satisfies it directly (compare asserts this at
// compile time); tests may build their own.
//
// Implementations must be safe for concurrent use: tasks read partitions in
// parallel while the job generator polls End.
type Source interface {
	// Partitions is the number of partitions.
	Partitions() int
	// End is partition p's end offset: records [0, End(p)) are readable.
	End(p int) int64
	// Closed reports whether the log is complete (no more records will
	// arrive).
	Closed() bool
	// Changed returns a channel that is closed when new records are
	// published or the log is closed.
	Changed() <-chan struct{}
	// EventTimeShift maps the dataset's event times onto the wall clock (ms),
	// for event-time latency.
	EventTimeShift() int64
	// OffsetAtIngest returns the first offset of partition p, at or after
	// from and below End(p), whose record was ingested at or after nanos
	// (ns since the epoch), or End(p) if there is none. Ingest times do not
	// decrease within a partition, so this is a binary search.
	OffsetAtIngest(p int, from int64, nanos int64) int64
	// IngestAt returns the ingest time (ns) of the record at offset off of
	// partition p; off must be below End(p).
	IngestAt(p int, off int64) int64
	// Read returns the records [from, to) of partition p as Arrow record
	// batches of at most maxRows rows, allocated from mem. Columns follow
	// the pipeline's input schema, strings as dictionary<int32, utf8> (dictionaries of one column
	// are prefixes of one another across calls) or plain utf8; the last
	// column is "_ingest_ns" (int64, ns since the epoch). The caller owns the
	// records and releases them.
	Read(p int, from, to int64, mem memory.Allocator, maxRows int) ([]arrow.Record, error)
}

// Retainer is a [Source] that can release what a job is done with, as a
// Kafka consumer commits its offsets: Retain(p, off) says the job will
// never again read partition p below off. The driver reports each
// partition's offset after a batch once the batch is committed and, with
// checkpoints, once a checkpoint holds it (a restarted driver reads from
// its last checkpoint's offsets). A driver whose every checkpoint is
// damaged starts over at offset 0: on a log that has released records,
// its read fails with the log's out-of-range error, never silently.
type Retainer interface {
	Retain(p int, off int64) error
}

// waitChanged blocks until src changes or ctx is done.
func waitChanged(ctx context.Context, src Source) error {
	select {
	case <-src.Changed():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
