package trending_test

import (
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/labs/trending"
)

// Two tweets in one hour; the hour's top tags per prefix fire when the
// watermark reaches its end.
func ExampleTrending() {
	tr, err := trending.NewTrending(time.Hour, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	tr.Add("learning #go and #gopher", 1_000)
	tr.Add("#go #go #rust", 2_000)
	tr.Advance(dataflow.Time(time.Hour.Milliseconds()), func(r dataflow.Result) {
		if r.Key == "#g" {
			fmt.Println(r.Window, r.Key, r.Value)
		}
	})
	// Output: [0, 3600000) #g #go=3,#gopher=1
}
