// Package lint holds weir's lint rules as tests (after pebble's
// internal/lint): `go test ./internal/lint` fails when the import graph of
// DESIGN.md is broken, when a package is a grab bag (util, common, helpers,
// types), when non-test code has an init function, when a library's
// error names a command-line flag, or when an invariant id is cited but
// not defined (see Invariant ids below). The import rules:
//
//   - dataflow depends (directly or transitively) only on the standard
//     library, on dataflow/... and on internal/invariants, which is itself
//     standard-library-only;
//   - recordstream imports neither Arrow nor microbatch, directly or
//     transitively;
//   - microbatch does not import recordstream;
//   - only datasets imports parquet-go;
//   - only cmd/bench imports compare, though tests may;
//   - only tests import internal/script;
//   - internal/clock and recordstream/internal/... import only the standard
//     library (and internal/invariants);
//   - the non-test code of a package that takes an injected clock
//     (microbatch, datasets, recordstream) calls none of time.Now,
//     time.After, time.NewTimer, time.NewTicker or the time package's other
//     clock functions.
//
// Outside cmd/, no string literal inside an errors.New or fmt.Errorf call
// contains a flag (two dashes and a lower-case letter, "--rate"): libraries
// name the fields the caller set (compare.FieldError,
// recordstream.ConfigError) and cmd/bench maps each field to its flag. The
// rule reads literals only; a flag in a constant or a %s argument passes.
//
// # Invariant ids
//
// Each package numbers its invariants (STYLE.md) in its doc.go, in a
// "# Invariants" section of the package comment, one list item per id
// ("  - DW1 statement", as in dataflow's); a type's doc comment may
// explain them at length, but the package's doc.go lists them all. Comments, tests, assertion
// messages, READMEs and testdata scripts cite them by id. An id is one of
// these prefixes and a number; the prefix names the package (directory)
// that defines it, so an id means one thing across the repository:
//
//   - I dataflow: conventions every package follows (windows, watermarks, lateness, keys)
//   - DW dataflow: the watermark tracker
//   - DO dataflow: the window operator's state (its debug checks)
//   - WR dataflow/wire: the binary decoder
//   - DT dataflow/dataflowtest: the pipeline generator
//   - DS datasets: generators, the log, files and Arrow batches
//   - MD microbatch: batch times, offset ranges and DStream windows
//   - MK microbatch: kernels and keyed state
//   - ME microbatch: Structured Streaming's watermark and late rows
//   - MF microbatch: recomputation, checkpoints and the idempotent sink
//   - MB microbatch: queued batches and the memory budget
//   - RQ recordstream: queues and backpressure
//   - RG recordstream: goroutines
//   - RC recordstream: chained stateless steps
//   - RP recordstream: pruned reads and projected tuples
//   - RW recordstream: the window bolt
//   - RJ recordstream: the join bolt
//   - RS recordstream: the sink
//   - RE recordstream: the exactly-once mode
//   - RD recordstream: the Dataflow mode
//   - AK recordstream/internal/acking: the XOR acker
//   - RM recordstream/internal/acking: the rotating map of timeouts
//   - MW recordstream/internal/millwheel: Dataflow's deduplication and upstream backup
//   - CK recordstream/checkpoint: checkpoints
//   - CG recordstream/checkpoint: the barrier gate
//   - CM compare: the harness and the check
//   - SN internal/snapshot: the snapshot store
//   - CL internal/clock: timers and tickers
//   - HL internal/handloop: the hand loops
//
// TestInvariantIDs reads this list (a new prefix is added here first) and
// the comments and string literals of every non-generated .go file of the
// module, its .md files and its testdata .txt files, and fails when an id
// is cited but defined in no doc.go's "# Invariants" section (a range such
// as dataflow's DO1-DO4 cites the ids between its ends), when an id is defined twice
// or by a package that does not own its prefix, or when a package cites
// another package's id without that package's name within 100 bytes
// ("snapshot's SN3", "microbatch ME2"). The I ids are the exception: any
// package cites them bare.
//
// The package has no code of its own; it runs `go list` and parses files,
// so its tests need the go command (found through GOROOT or PATH).
package lint
