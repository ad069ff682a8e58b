// Package lint holds weir's lint rules as tests (after pebble's
// internal/lint): `go test ./internal/lint` fails when the import graph of
// DESIGN.md is broken, when a package is a grab bag (util, common, helpers,
// types), when non-test code has an init function, or when a library's
// error names a command-line flag. The import rules:
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
// The package has no code of its own; it runs `go list` and parses files,
// so its tests need the go command (found through GOROOT or PATH).
package lint
