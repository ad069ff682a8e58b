// Package lint holds weir's lint rules as tests (after pebble's
// internal/lint): `go test ./internal/lint` fails when the import graph of
// DESIGN.md is broken (dataflow imports only the standard library;
// recordstream imports neither Arrow nor microbatch, directly or
// transitively; microbatch does not import recordstream; only datasets
// imports parquet-go; only cmd/bench imports compare, though tests may;
// internal/clock imports only the standard library), when a package is a
// grab bag (util, common, helpers, types), when non-test code has an init
// function, or when the non-test code of a package that takes an injected
// clock (microbatch, datasets) calls time.Now, time.After, time.NewTimer,
// time.NewTicker or another of the time package's clock functions.
//
// The package has no code of its own; it runs `go list` and parses files,
// so its tests need the go command (found through GOROOT or PATH).
package lint
