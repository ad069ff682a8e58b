package recordstream

import (
	"github.com/weirlab/weir/dataflow"
)

// regrouper is the regroup operator (Pipeline.Then) the sink runs over the
// window tasks' results.
type regrouper interface {
	AddRow(w dataflow.Window, row dataflow.Row)
	AdvanceWatermark(w dataflow.Time)
	Finish()
	AppendSnapshot(dst []byte) ([]byte, error)
	Restore(b []byte) error
}

// newRegrouper builds the regroup operator of first's results (first
// taking rows of schema in) emitting to emit.
func newRegrouper(first *dataflow.Aggregation, r *dataflow.Regroup, in dataflow.Schema, emit func(dataflow.Pane)) (regrouper, error) {
	return nil, &dataflow.UnsupportedError{Model: "recordstream", Reason: "a regroup (Pipeline.Then) waits for dataflow's RegroupOperator"}
}

// paneKeyRow returns the key column values of a window pane.
func paneKeyRow(*dataflow.Pane) dataflow.Row { return nil }
