package microbatch_test

import (
	"context"
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/microbatch"
)

// Counting clicks per user in 1 s event-time windows, Structured Streaming
// style, over a small filled log.
func ExampleRun() {
	schema := dataflow.NewSchema(
		dataflow.Field{Name: "user", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	l, _ := datasets.NewLog(datasets.LogConfig{Schema: schema, Partitions: 1})
	a := l.Appender()
	t0 := int64(1_700_000_000_000) // ms
	for i, u := range []string{"ann", "bob", "ann", "ann", "bob"} {
		ms := t0 + int64(i)*400
		a.AppendRow(0, ms*1e6, dataflow.Row{dataflow.Str(u), dataflow.Timestamp(dataflow.Time(ms))})
	}
	_ = a.Flush()
	l.Close()

	p := dataflow.NewPipeline("clicks", schema).Aggregate(dataflow.Aggregation{
		Key: []string{"user"}, Window: dataflow.FixedWindows(time.Second), TimeCol: "event_time",
		Aggs: []dataflow.Agg{dataflow.Count()},
	})
	rep, err := microbatch.Run(context.Background(), p, datasets.NewArrowSource(l), microbatch.Config{BatchInterval: 500 * time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Results {
		fmt.Println(int64(r.Window.Start)-t0, int64(r.Window.End)-t0, r.Key, r.Value)
	}
	fmt.Println("batches:", len(rep.Batches))
	// Output:
	// 0 1000 ann 2
	// 0 1000 bob 1
	// 1000 2000 ann 1
	// 1000 2000 bob 1
	// batches: 4
}
