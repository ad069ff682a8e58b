// Package handloop holds weir's yardstick: for every workload of compare's
// registry, a straightforward single-goroutine Go loop, written as a
// competent Go programmer would write it without a framework, that computes
// the workload's answer from the same log the runtimes read. Issue 16 asks
// each workload's best runtime configuration to reach half of its loop's
// speed; this package is the loops, the instrument that measures the ratio
// in one process ([Measure]) and its benchmarks.
//
// # Using it
//
//	log, tables, err := compare.LoadData(ctx, w, compare.DataSpec{Events: 1_000_000, Seed: 1})
//	loop, err := handloop.Lookup(w.Name)
//	ans, err := loop.Run(log, tables) // the timed part
//	rs := ans.Results()               // []dataflow.Result, for the check
//
// # Measuring against it
//
// [Measure] is the instrument issue 16's table is made with: given an
// [Input] (a pre-filled log, its tables and the reference answer) and
// [Config] values (each runs one runtime configuration once and returns
// what it read and a check of its answer), it times the loop and every
// configuration in interleaved repetitions (the loop repeated for
// [Options.MinLoop], every configuration once, in order, so a change in
// the machine's load falls on all alike), checks each configuration's
// first run against the reference (HL3: a failed or unmatched run is a
// [StatusFailed] cell with its reason and no figure, a model's refusal a
// [StatusRefused] cell), and returns a [Row]: events/s median [min-max]
// ([Stat]) and the cores each kept busy (process CPU time over wall time,
// [ProcessCPU], getrusage), with [Row.Best], [Row.Slowest] and
// [Row.BestOverLoop]. Time comes from [Options.Clock], so its logic is
// tested on a manual clock; ctx is looked at between runs, and a
// configuration's run gets it, so a canceled measurement stops within a
// run.
//
// This package cannot build inputs and configurations itself: only
// cmd/bench and tests may import compare, where workloads, runners and the
// check live. compare.PerfInput and compare.PerfConfigs build them (the
// input as compare.LoadData makes a run's, the configurations those of
// compare.PerfSuite, checked by compare.Check and compare.RunLog), and
// compare.RunPerf measures every workload; `bench perf` is its command:
//
//	go run ./cmd/bench perf --events 1000000 --out /tmp/perf
//	GOMAXPROCS=2 go test -run '^$' -bench BenchmarkWorkloads -benchtime 3x ./internal/handloop/ -args -events 1000000
//	GOMAXPROCS=2 go test -count=1 -v -run TestRatioTable ./internal/handloop/ -args -ratios -events 1000000
//
// BenchmarkWorkloads/WORKLOAD/handloop times [Input.RunLoop];
// BenchmarkWorkloads/WORKLOAD/CONFIG times one run of a runtime
// configuration ([Config.Run]) on the same pre-filled log (CONFIG is the
// runner's name with '/' as '-': microbatch-dstream,
// recordstream-at-least-once, ...). Each reports events/s. TestRatioTable
// runs compare.RunPerf and, with -ratios, prints its table.
//
// # What a loop is, and is not
//
// A loop reads the log's columns chunk by chunk ([datasets.Log.Chunks]),
// widening each needed column's row range into a buffer it reuses
// ([datasets.Chunk.Ints64], [datasets.Chunk.Codes32], ...; a sealed
// chunk stores columns narrow) and then looping over the buffers: int64
// and timestamp slices, float64 slices and the int32 dictionary codes of
// string columns. Keys that are strings in the data are their codes, so
// state is slices indexed by code (a campaign's count, a card's count
// window, a user's sessions) or maps keyed by integers (a window's start);
// strings appear only where the data has no code (a hashtag inside a
// tweet's text, interned once per distinct tag). Nothing in a per-record
// path boxes a [dataflow.Value], calls through an interface or reflects.
//
// A loop computes the final answer of a closed log, as [dataflow.Reference]
// does: it reads the partitions in order, keeps every window's state to the
// end and emits nothing early. It has no watermark, no triggers, no
// parallelism, no fault tolerance and no latency: it is the least work
// that gives the answer, the bound a runtime's overheads are measured
// against, not a streaming system.
//
// # Invariants
//
//   - HL1 Same answer: a loop's [Answer.Results] equals the reference
//     answer of compare's pipeline for the workload on the same log, result
//     for result (floats to the last bit: sums run in the log's order). The
//     tests check it on several seeds, partitionings and disorders, late
//     records included; a loop that is fast but wrong measures nothing.
//   - HL2 Same input: the benchmarks give the loop and every configuration
//     one log, made by compare.LoadData as a run's input is made; a loop
//     refuses a log of another dataset's schema, or one still open, with an
//     error saying what to pass instead.
//   - HL3 Measured, not trusted: a configuration's figure counts only if its
//     run read the whole log and its results match the reference
//     (compare.Check; late drops verified by compare.RunLog). A model that
//     cannot express a workload is reported with its reason, not measured.
//
// # Limits
//
// The workloads' constants (window sizes, the grep domains, top 10, the
// sketch's size) are written into the loops, as a hand-written program
// would have them; HL1's tests fail when compare's workloads change until
// the loop follows. The approximate top-N reimplements dataflow's
// Count-Min hash and columns so that its estimates are dataflow's; it
// computes the answer only while an hour and prefix holds fewer distinct
// tags than dataflow's candidate bound (65536), and returns an error
// beyond it. The Nexmark workloads have no loop yet.
//
// The package starts no goroutines, does no I/O (ProcessCPU reads the
// process's own rusage) and keeps no global state.
package handloop
