package dataflow

import "fmt"

// UnsupportedError says a runtime's model cannot express a pipeline: Spark
// Streaming's DStreams have no count or session windows, for example. It is
// a result the comparison records (the CLI exits with status 3), never a
// crash.
type UnsupportedError struct {
	// Model names the model that refuses, e.g. "microbatch (dstream)".
	Model string
	// Reason says why, in the model's own terms.
	Reason string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s cannot express this pipeline: %s", e.Model, e.Reason)
}
