// Package dataflowtest generates random, valid [dataflow.Pipeline]s for
// differential tests: every runtime configuration runs each generated
// pipeline, and its results must equal [dataflow.Reference] (STYLE.md,
// "Differential tests are the backbone of the study"; raft's quick_test.go
// and pebble's metamorphic tests are the pattern).
//
// dataflowtest imports only the standard library and dataflow, so the tests
// of any package may use it without breaking the import rules
// (internal/lint). It knows nothing about datasets: the caller describes
// each input as a [Domain] (a schema and hints about its columns) and
// owns the data.
//
// # Usage
//
//	g, err := dataflowtest.NewGenerator(dataflowtest.Config{
//		EventWindow:      4 * time.Second,
//		ProcessingWindow: 8 * time.Millisecond,
//	}, domains...)
//	r := rand.New(rand.NewPCG(seed, 0))
//	for i := range n {
//		c, err := g.Pipeline(r, i) // c.Pipeline has passed Validate
//		t.Log(c)                    // a readable multi-line form
//	}
//
// The caller:
//
//  1. builds one [Domain] per input: its schema, the event-time column, the
//     columns worth grouping by, the partition key of its log, sample
//     constants for filters, text columns to explode and lookup tables;
//  2. draws pipelines from a seeded *rand.Rand (rand.NewPCG), logs the seed
//     and prints [Case.String] when a pipeline fails;
//  3. records each [Case.Features] in a [Coverage] and checks
//     [Coverage.Missing] against [AllFeatures], so that a generator that
//     stops producing a window kind, an aggregate or a time domain fails
//     the test instead of silently testing less.
//
// # What is generated
//
// A pipeline is zero to four stateless steps (filter, map, explode, lookup,
// and sometimes a project that keeps what the end needs), then either a
// stateless output or a keyed aggregation: zero to two key columns, every
// window kind (fixed with or without offset, sliding, session, count,
// global, none), event time or processing time, a watermark bound, an idle
// timeout, allowed lateness, drop or side-output of late records, early,
// count and late triggers, accumulating or discarding panes, one to three
// aggregates of every kind, and a having clause.
//
// # Invariants
//
//   - DT1 Every generated pipeline passes [dataflow.Pipeline.Validate]; the
//     generator returns an error otherwise (a bug in the generator).
//   - DT2 The same seed, config and domains give the same pipelines.
//   - DT3 Only aggregates whose result the check can judge exactly are
//     generated: count, sum, min, max, mean and span (floats compared
//     approximately), distinct and top-N (exact), approximate distinct
//     (HyperLogLog is linear and seedless, so every runtime gets the same
//     estimate), and approximate top-N only over a column with at most
//     [SmallLimit] distinct values, where its candidate set is never full
//     and the result does not depend on arrival order (dataflow.ApproxTopN);
//     with Config.MaxBy, max-by too (exact: ties by the least value).
//   - DT4 Count windows are keyed by a superset of the domain's partition
//     key: their windows follow a key's arrival order (dataflow I6), which
//     is one order only when the key's records share a partition. A domain
//     without a partition key gets no count windows.
//   - DT5 Maps add new columns (m0, m1, ...) and never overwrite an input
//     column, so the partition key keeps its meaning (DT4).
//   - DT6 Window lengths are multiples of a unit of the configured scale:
//     a quarter of [Config.EventWindow] in event time, of
//     [Config.ProcessingWindow] in processing time (at least 1 ms).
package dataflowtest
