package dataflow_test

import (
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
)

// A windowed join of auctions and their bids, run through the pure
// operator as a runtime would: each side's rows, then the join's watermark
// (the minimum of the two sides' watermarks).
func ExampleJoinOperator() {
	schema := dataflow.NewSchema(
		dataflow.Field{Name: "kind", Kind: dataflow.KindString},
		dataflow.Field{Name: "auction", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "price", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "t", Kind: dataflow.KindTimestamp},
	)
	side := func(kind string, cols ...string) dataflow.JoinSide {
		return dataflow.JoinSide{
			Name:    kind,
			Steps:   []dataflow.Step{dataflow.FilterStep{Pred: dataflow.Eq(dataflow.Col("kind"), dataflow.LitStr(kind))}},
			Key:     []string{"auction"},
			Cols:    cols,
			TimeCol: "t",
		}
	}
	p := dataflow.NewPipeline("auction-bids", schema)
	p.Join = &dataflow.Join{
		Left:   side("auction", "auction"),
		Right:  side("bid", "price"),
		Window: dataflow.FixedWindows(10 * time.Second),
	}
	p.Output([]string{"auction"}, "price")
	js, err := p.JoinSchemas()
	if err != nil {
		panic(err)
	}
	op, err := dataflow.NewJoinOperator(p.Join, js.Left[len(js.Left)-1], js.Right[len(js.Right)-1], dataflow.JoinConfig{
		Emit: func(row dataflow.Row, _ dataflow.Time, _ int64) { fmt.Println("joined", row) },
		Late: func(side int, row dataflow.Row, _ int64) { fmt.Println("late", p.Join.SideName(side), row) },
	})
	if err != nil {
		panic(err)
	}
	row := func(kind string, auction, price, t int64) dataflow.Row {
		return dataflow.Row{dataflow.Str(kind), dataflow.Int(auction), dataflow.Int(price), dataflow.Timestamp(dataflow.Time(t))}
	}
	op.Add(dataflow.JoinLeft, row("auction", 1, 0, 1_000), 0)
	op.Add(dataflow.JoinRight, row("bid", 1, 30, 4_000), 0)
	op.Add(dataflow.JoinRight, row("bid", 1, 45, 9_999), 0)
	op.AdvanceWatermark(10_000)                             // the window [0 s, 10 s) fires
	op.Add(dataflow.JoinRight, row("bid", 1, 50, 9_000), 0) // no allowed lateness: late
	op.Finish()
	fmt.Printf("%+v\n", op.Stats())
	// Output:
	// joined [1 30 0 10000 9999]
	// joined [1 45 0 10000 9999]
	// late bid [bid 1 50 9000]
	// {Rows:[1 3] Late:[0 1] HeldRows:0 Emitted:2}
}
