// Package datasets owns weir's input data: deterministic generators of the
// built-in datasets, the replayable partitioned [Log] both runtimes read,
// Parquet files of datasets and results, and the conversion of the log to
// Arrow record batches ([ArrowSource]).
//
// It must not know about either runtime (it imports neither microbatch nor
// recordstream), and it is the only package of weir that imports
// parquet-go. Its one goroutine-owning function is [Fill], which blocks; the
// caller runs it in a goroutine it owns.
//
// # Usage
//
//	log, tables, err := datasets.Generate(ctx, "ysb", datasets.Config{Events: 1e6, Seed: 1})
//	// log is closed and filled; tables["campaigns"] maps ad_id to campaign_id.
//
// For paced input, make the log with [NewLogFor] and run [Fill] with a
// [Pacing] in a goroutine; readers follow with [Log.Wait] or [Log.Changed].
//
// Processing time (ingest stamps, the pace of a fill) comes only from an
// injected internal/clock Clock ([Pacing.Clock], [LogConfig.Clock]; nil is
// the real clock), never from the time package directly: tests run a fill
// under testing/synctest or on a manual clock.
//
// # Datasets
//
// [Names] lists them: ysb, nexmark, weblogs, hashtags, sessions, iot,
// transactions. Each has a fixed schema (Generator.Schema) and partitions
// its log by one key column (Generator.PartitionKey; nexmark round robin),
// so a key's records are in one partition, in arrival order.
//
// # Invariants
//
//   - DS1 Determinism: the same dataset, Seed and Config give the same
//     records in the same partitions and order on every machine. Random
//     choices come from PCG streams (rand.NewPCG(seed, stream)) mapped to
//     choices with integer arithmetic; floats are made by one final
//     conversion, never by library calls whose last bit could differ.
//   - DS2 Event time follows a timeline: event n has event time
//     Start + n*1000/EventRate ms (sessions: its users' own schedules).
//   - DS3 Arrival order: a record's arrival time is its event time plus its
//     [Skew] delay, and each partition holds records in arrival order (ties
//     by generation order). Ingest times never decrease within a partition.
//   - DS4 A file written by [WriteDir] loads back with [LoadDir] into the
//     same records, partitions and order (for the same partition count).
//
// Arrow batches:
//
//   - DS5 Flushed log rows are immutable, so int64, timestamp and float64
//     columns, dictionary indices and the ingest column of an Arrow batch
//     wrap the log's memory without copying.
//   - DS6 A dictionary string column's Arrow dictionary is the column's
//     [Dict] in code order, so a batch's indices are the log's codes.
//
// # Files
//
// Parquet files use plain types any reader opens (see [WriteParquet]).
// Reading checks the schema and says what is wrong with a file that is not
// Parquet, is truncated, belongs to another dataset or lacks a column, and
// to regenerate it with `bench gen`. Result files ([WriteResults]) are CSV,
// JSON lines or Parquet by extension.
package datasets
