package compare

import (
	"github.com/weirlab/weir/dataflow"
)

// refuseUnexecuted refuses, for the runtime named model, the parts of the
// logical model this build's runtimes do not execute yet: a stream join
// (Pipeline.Join), a regroup (Pipeline.Then) and, with maxBy, max_by
// aggregates (recordstream's window bolts run dataflow's own accumulators,
// max_by among them; microbatch computes aggregates with its kernels). The
// runtimes refuse them too (recordstream.Run, microbatch's planner) once
// their own refusals are merged; this guard keeps the harness from ever
// checking a runtime that ignores a join and computes something else.
//
// TODO(J2): delete this file, and its two calls, when recordstream and
// microbatch execute joins (issue 12): the runtimes' own answers (a result
// the check compares, or their UnsupportedError) are then what counts.
func refuseUnexecuted(model string, p *dataflow.Pipeline, maxBy bool) error {
	if p == nil {
		return nil
	}
	switch {
	case p.Join != nil:
		return &dataflow.UnsupportedError{Model: model, Reason: "stream joins (Pipeline.Join) are not executed by this runtime yet"}
	case p.Then != nil:
		return &dataflow.UnsupportedError{Model: model, Reason: "a regroup (Pipeline.Then) is not executed by this runtime yet"}
	}
	if maxBy && p.Agg != nil {
		for _, g := range p.Agg.Aggs {
			if g.Kind == dataflow.AggMaxBy {
				return &dataflow.UnsupportedError{Model: model, Reason: "max_by aggregates are not executed by this runtime yet"}
			}
		}
	}
	return nil
}
