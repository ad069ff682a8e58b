package recordstream

import (
	"context"
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
)

// ExampleRun counts records per user in one-second event-time windows, at
// least once, and checks the answer against the reference.
func ExampleRun() {
	src := newMemSource(1, 1000, 2, 0) // an in-memory log; compare passes a *datasets.Log
	p := dataflow.NewPipeline("per-user", testSchema).
		Aggregate(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.FixedWindows(time.Second),
			TimeCol: "event_time", Aggs: []dataflow.Agg{dataflow.Count()}})
	rep, err := Run(context.Background(), p, src, Config{Guarantee: AtLeastOnce, Parallelism: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	want, _ := dataflow.Reference(p, src.All(), dataflow.ReferenceOptions{})
	fmt.Println("windows:", len(rep.Results), "reference:", len(want))
	fmt.Println("first:", rep.Results[0].Window, rep.Results[0].Key, rep.Results[0].Value)
	fmt.Println("acked:", rep.Counters["acked"], "failed:", rep.Counters["failed"])
	// Output:
	// windows: 200 reference: 200
	// first: [1700000000000, 1700000001000) u00 5
	// acked: 1000 failed: 0
}
