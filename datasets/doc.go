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
// # Unbounded streams and retention
//
// A paced fill with [Pacing.Unbounded] is an unbounded stream: it generates
// each batch when the pacing makes it due (nothing ahead), until
// [Pacing.For] or its context ends it, and then closes the log. Its memory
// is the log's, which a [Retention] ([LogConfig.Retention]) bounds, as
// Kafka's retention does: the log releases whole chunks (segments) below
// every registered [Consumer]'s retained position ([Log.NewConsumer],
// [Consumer.Retain]: a runtime's committed or checkpointed offsets, an
// at-least-once spout's oldest replayable offset) and, with a MaxAge,
// whatever is older than that behind the newest record. [Log.Start] is the
// first offset still held. A read below it is an *[OffsetOutOfRangeError]
// naming the offset and the retention ([Log.ReadAt], [Log.CheckRange],
// [Log.Wait]); the reads without an error result ([Log.Read], [Log.Chunks],
// ...) fail the log instead ([Log.Err]), never returning a stale or
// silent zero record as data. The zero Retention releases nothing, so a
// pre-filled log and a run of a number of events keep today's behaviour
// and their reference answer. Datasets that intern a new string per event
// (hashtags, nexmark) grow their dictionaries, which no retention
// releases: [StreamsInBoundedMemory] refuses them.
//
// # Memory
//
// A [Log] stores its chunks wide while they are appended and seals each
// complete chunk into a compact copy (see [Chunk]: per integer column a
// frame of reference and 1, 2 or 4 bytes a value, floats 8), and every
// chunk when it is closed: a pre-filled log of the built-in YSB data
// takes 13 bytes an event ([Log.Bytes]; 40 wide), so 100 M events take
// about 1.3 GB. [MaxLogBytes] bounds a log's memory before it is made
// (every chunk wide), [LogBytes] estimates it from a generated sample.
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
//   - DS5 Flushed log rows are immutable, so float64 columns, and int64,
//     timestamp, ingest and dictionary-index columns that the log stores
//     wide (all of an open chunk's), wrap the log's memory without
//     copying; a sealed chunk's narrow columns are widened into buffers
//     the [ArrowSource] reuses.
//   - DS6 A dictionary string column's Arrow dictionary is the column's
//     [Dict] in code order, so a batch's indices are the log's codes.
//
// # Files
//
// Parquet files use plain types any reader opens (see [WriteParquet]), in
// row groups of bounded size, and are written to a temporary file renamed
// into place. Reading accepts any valid file whose columns fit in memory
// ([ErrTooLarge] otherwise).
// Reading checks the schema and says what is wrong with a file that is not
// Parquet, is truncated, belongs to another dataset or lacks a column, and
// to regenerate it with `bench gen`. Result files ([WriteResults]) are CSV,
// JSON lines or Parquet by extension.
//
// # Trace files
//
// [WriteTrace] writes a run's trace (`bench run --trace FILE.parquet` or `FILE.csv`), the
// input of the event-time scatter and watermark plots: one Parquet file
// with two kinds of rows, told apart by the kind column. A column that does
// not apply to a row's kind is zero ("" for text).
//
//	column               type    record rows             pane rows
//	kind                 string  "record"                "pane"
//	runtime              string  -                       runner name ("recordstream/at-least-once")
//	partition            int64   log partition           -
//	offset               int64   offset in the partition -
//	event_time_ms        int64   event time              largest event time of the pane's records
//	event_time_shift_ms  int64   the log's event-time shift onto the wall clock (both kinds)
//	ingest_ns            int64   ingest time             largest ingest time of the pane's records
//	window_start_ms      int64   -                       window start (0 for global windows)
//	window_end_ms        int64   -                       window end
//	key                  string  -                       the pane's key
//	pane_index           int64   -                       firing number of the window and key: 0, 1, ...
//	pane_timing          string  -                       early, on-time, late or merged (a notice, no value)
//	emit_ns              int64   -                       when the sink received the pane
//	watermark_ms         int64   -                       the watermark the pane fired at (math.MinInt64: none yet)
//	task                 int64   -                       the firing task (recordstream window task id)
//
// Event times and windows are in the dataset's event time, as in result
// files; event_time_ms + event_time_shift_ms is on the wall clock, in the
// frame of ingest_ns and emit_ns (divided by 1e6). Record rows come first,
// partition by partition in offset order, then pane rows in the order the
// sink received them. Stateless pipelines have no pane rows.
package datasets
