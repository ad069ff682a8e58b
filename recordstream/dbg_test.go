package recordstream

import (
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/weirlab/weir/dataflow"
)

func TestDbgRestoreProfile(t *testing.T) {
	src, p := stateFixture(1<<21, 700_000, 1)
	op, _ := dataflow.NewWindowOperator(p.Agg, src.Schema(), dataflow.OperatorConfig{Emit: func(dataflow.Pane) {}, Late: func(dataflow.Row, int64) {}})
	var row dataflow.Row
	for off := range src.End(0) {
		var ing int64
		row, ing = src.Read(0, off, row)
		op.Add(row, ing)
	}
	f, _ := os.Create("/tmp/restore.prof")
	pprof.StartCPUProfile(f)
	start := time.Now()
	b, _ := op.AppendSnapshot(nil)
	t.Logf("snapshot %d bytes %v", len(b), time.Since(start))
	op2, _ := dataflow.NewWindowOperator(p.Agg, src.Schema(), dataflow.OperatorConfig{Emit: func(dataflow.Pane) {}, Late: func(dataflow.Row, int64) {}})
	start = time.Now()
	_ = op2.Restore(b)
	t.Logf("restore %v", time.Since(start))
	pprof.StopCPUProfile()
	f.Close()
}
