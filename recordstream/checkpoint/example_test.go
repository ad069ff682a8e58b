package checkpoint_test

import (
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/recordstream/checkpoint"
)

// A task with two input channels aligns barrier 1: the record that follows
// the barrier on channel 0 waits until channel 1's barrier arrives and the
// task has snapshotted.
func ExampleGate() {
	g, err := checkpoint.NewGate[string](checkpoint.GateConfig{Mode: checkpoint.Aligned, Channels: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Unix(0, 0)
	var outs []checkpoint.Output[string] // reused by every Step
	for _, in := range []checkpoint.Input[string]{
		{Kind: checkpoint.InRecord, Channel: 0, Record: "a"},
		{Kind: checkpoint.InBarrier, Channel: 0, ID: 1, Now: now},
		{Kind: checkpoint.InRecord, Channel: 0, Record: "b"}, // held: channel 0 is blocked
		{Kind: checkpoint.InRecord, Channel: 1, Record: "c"},
		{Kind: checkpoint.InBarrier, Channel: 1, ID: 1, Now: now}, // snapshot, then b is released
	} {
		outs, err = g.Step(outs[:0], in)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, o := range outs {
			switch o.Kind {
			case checkpoint.OutRecord:
				fmt.Println("process", o.Record)
			case checkpoint.OutSnapshot:
				fmt.Println("snapshot", o.ID)
			}
		}
	}
	// Output:
	// process a
	// process c
	// snapshot chk-1
	// process b
}

// A two-phase-commit sink makes output visible only when the checkpoint
// that pre-committed it completes.
func ExampleTwoPhaseSink() {
	out := checkpoint.NewCommitted()
	s := checkpoint.NewTwoPhaseSink(0, out)
	s.Write(result("a", 1), 0)
	s.PreCommit(1)
	fmt.Println("before completion:", len(out.Results()))
	s.NotifyComplete(1)
	fmt.Println("after completion:", len(out.Results()))
	// Output:
	// before completion: 0
	// after completion: 1
}

func result(key string, v int64) dataflow.Result {
	return dataflow.Result{Key: key, Value: dataflow.Int(v)}
}
