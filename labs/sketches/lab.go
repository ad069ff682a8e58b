// Package sketches is lab 3: aggregates with a merge, the idea behind
// every partial aggregation in weir (a micro-batch merges per-batch
// partials, a bolt adds record by record, a combiner merges per-task
// states) and behind the approximate aggregates of the lecture (L10's
// approximation by online algorithms).
//
// The task (README.md has the full text, hints and the discussion): write
// two mergeable accumulators and prove, by test, that merging partial
// states over any split of the input gives the one-pass result:
//
//   - [HLL], a HyperLogLog sketch of the number of distinct strings: a
//     fixed 2^p bytes whatever the input, its merge exact (the merged
//     sketch is the sketch of the union), its estimate within a few
//     standard errors (1.04/sqrt(2^p)) of the exact count;
//   - [Moments], the count, mean and variance of a float column in one
//     pass and O(1) space, its merge exact up to floating-point rounding,
//     and numerically stable (no sum of squares).
//
// The tests check the merges over random splits of built-in data, the
// estimates against the exact answer of [dataflow.Reference] (distinct
// client addresses and mean latency per domain and minute, [Spec]) with the
// error bound stated in README.md, and the variance against an exact
// two-pass computation.
//
// You write them in exercise.go; run the tests against your code with
//
//	go test -tags student ./labs/sketches/
//
// Without the tag the tests run against the worked solution (solution.go).
// Neither accumulator is safe for concurrent use: each task owns its
// partials, and merging is how tasks combine them.
package sketches

import (
	"errors"
	"math"
	"time"

	"github.com/weirlab/weir/dataflow"
)

// ErrNotImplemented is what the unfilled skeleton returns.
var ErrNotImplemented = errors.New("sketches: not implemented (fill in exercise.go)")

// MinPrecision and MaxPrecision bound an [HLL]'s precision p (2^p
// registers).
const (
	MinPrecision = 4
	MaxPrecision = 16
)

// StandardError is HyperLogLog's relative standard error at precision p,
// 1.04/sqrt(2^p) (Flajolet et al. 2007): 1.6% at p = 12.
func StandardError(p uint8) float64 {
	return 1.04 / math.Sqrt(float64(uint64(1)<<p))
}

// Spec is the exact answer the estimates are graded against, over the
// weblogs schema in: per domain and event-time minute, the exact number of
// distinct client addresses and the mean latency.
func Spec(in dataflow.Schema) (*dataflow.Pipeline, error) {
	p := dataflow.NewPipeline("sketches-lab", in).
		Aggregate(dataflow.Aggregation{
			Key:     []string{"domain"},
			Window:  dataflow.FixedWindows(time.Minute),
			TimeCol: "event_time",
			Aggs:    []dataflow.Agg{dataflow.Distinct("client_ip"), dataflow.Mean("latency_ms")},
		})
	return p, p.Validate()
}
