package compare_test

import (
	"fmt"

	"github.com/weirlab/weir/compare"
	"github.com/weirlab/weir/dataflow"
)

// A run that lost one window and counted another twice does not match the
// reference answer, and the check says how.
func ExampleCheck() {
	w := func(s int64) dataflow.Window {
		return dataflow.Window{Start: dataflow.Time(s), End: dataflow.Time(s + 10_000)}
	}
	ref := []dataflow.Result{
		{Window: w(0), Key: "campaign-1", Value: dataflow.Int(3)},
		{Window: w(0), Key: "campaign-2", Value: dataflow.Int(5)},
		{Window: w(10_000), Key: "campaign-1", Value: dataflow.Int(4)},
	}
	got := []dataflow.Result{
		{Window: w(0), Key: "campaign-1", Value: dataflow.Int(3)},
		{Window: w(10_000), Key: "campaign-1", Value: dataflow.Int(8)}, // replayed records counted twice
	}
	c := compare.Check(ref, got, compare.CheckOptions{CountValued: true})
	fmt.Println(c.OK())
	fmt.Println(c)
	for _, e := range c.Examples {
		fmt.Println(e)
	}
	// Output:
	// false
	// NO (1/3 windows match, lost 1, duplicated 1, mismatched 0)
	// window [0, 10000) key "campaign-2": missing, want 5
	// window [10000, 20000) key "campaign-1": count 8 above the reference 4
}

// The named workloads, as `bench list` shows them.
func ExampleWorkloads() {
	for _, w := range compare.Workloads() {
		fmt.Println(w.Name, "on", w.Dataset)
	}
	// Output:
	// ysb on ysb
	// grep on weblogs
	// hashtag-topn on hashtags
	// hashtag-approx-topn on hashtags
	// request-rate on weblogs
	// sessions on sessions
	// iot-sliding on iot
	// fraud on transactions
	// count-window on transactions
	// nexmark-q0 on nexmark
	// nexmark-q1 on nexmark
	// nexmark-q2 on nexmark
	// nexmark-q3 on nexmark
	// nexmark-q4 on nexmark
	// nexmark-q5 on nexmark
	// nexmark-q7 on nexmark
	// nexmark-q8 on nexmark
	// nexmark-q11 on nexmark
	// nexmark-q12 on nexmark
}
