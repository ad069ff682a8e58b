package datasets_test

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/weirlab/weir/datasets"
)

func ExampleGenerate() {
	l, tables, err := datasets.Generate(context.Background(), "ysb", datasets.Config{Events: 1000, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.Len(), l.Partitions(), l.Closed(), len(tables["campaigns"].Rows))
	// Output: 1000 4 true 1000
}

func ExampleArrowSource_Read() {
	l, _, err := datasets.Generate(context.Background(), "iot", datasets.Config{Events: 1000, Seed: 1, Partitions: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	src := datasets.NewArrowSource(l)
	defer src.Release()
	recs, err := src.Read(0, 0, 1000, memory.DefaultAllocator, 400)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, rec := range recs {
		fmt.Println(rec.NumRows(), rec.Schema().Field(int(rec.NumCols())-1).Name)
		rec.Release()
	}
	// Output:
	// 400 _ingest_ns
	// 400 _ingest_ns
	// 200 _ingest_ns
}
