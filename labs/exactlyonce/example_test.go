package exactlyonce_test

import (
	"fmt"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/labs/exactlyonce"
)

// A replayed row is written once.
func ExampleIdempotentSink() {
	s, err := exactlyonce.NewIdempotentSink(exactlyonce.PaymentIDOf)
	if err != nil {
		fmt.Println(err)
		return
	}
	row := dataflow.Result{Key: "card-00042", Value: dataflow.Int(25_000),
		Extra: []dataflow.Value{dataflow.Timestamp(1_000), dataflow.Str("bar store")}}
	for range 3 { // the original and two replays
		if err := s.Write(row); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(len(s.Results()), s.Duplicates())
	// Output: 1 2
}

// A row becomes visible when its checkpoint commits, not before; a crash
// aborts what no completed checkpoint covers.
func ExampleTxSink() {
	s, err := exactlyonce.NewTxSink()
	if err != nil {
		fmt.Println(err)
		return
	}
	row := func(card string) dataflow.Result {
		return dataflow.Result{Key: card, Value: dataflow.Int(10_000),
			Extra: []dataflow.Value{dataflow.Timestamp(1_000), dataflow.Str("a store")}}
	}
	_ = s.Write(row("card-1"))
	_ = s.PreCommit(1)
	fmt.Println(len(s.Committed())) // sealed, not committed
	_ = s.Commit(1)
	_ = s.Write(row("card-2")) // lost in the crash below
	_ = s.Recover(1)
	fmt.Println(len(s.Committed()))
	// Output:
	// 0
	// 1
}
