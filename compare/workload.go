package compare

import "github.com/weirlab/weir/dataflow"

// Workload is one named lecture example: a dataset and the pipeline over it.
type Workload struct {
	// Name is the CLI name (ysb, grep, hashtag-topn, ...).
	Name string
	// Dataset names the datasets generator that feeds it.
	Dataset string
	// Description is one line for `bench list`.
	Description string
	// Pipeline builds the pipeline given the dataset's lookup tables (by
	// table name).
	Pipeline func(tables map[string]*dataflow.Table) (*dataflow.Pipeline, error)
}
