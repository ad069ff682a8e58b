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
	// Events is the default number of events of the workload's built-in
	// data (0: DefaultEvents) and EventRate its event-time density in
	// events per second (0: the dataset's default). They are chosen so the
	// windows see realistic data: several one-hour windows for hashtags,
	// about one transaction per card per minute for fraud, enough
	// transactions per card to fill count windows of 100.
	Events    int64
	EventRate float64
}
