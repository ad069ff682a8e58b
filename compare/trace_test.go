package compare

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// TestTrace runs ysb with Options.Trace on every runtime, pre-filled and
// paced, and checks the trace: one record row per log record, the last
// pane of each window and key is a result's window (and every result has
// one), emit times do not decrease per task, and the Parquet file
// round-trips.
func TestTrace(t *testing.T) {
	type wk struct {
		w   dataflow.Window
		key string
	}
	configs := []struct {
		runtime string
		flags   RuntimeFlags
	}{
		{"reference", RuntimeFlags{}},
		{"microbatch", RuntimeFlags{Mode: "event-time", BatchInterval: 100 * time.Millisecond}},
		{"microbatch", RuntimeFlags{Mode: "dstream", BatchInterval: 100 * time.Millisecond}},
		{"recordstream", RuntimeFlags{Guarantee: "at-most-once", Parallelism: 2}},
		{"recordstream", RuntimeFlags{Guarantee: "at-least-once", Parallelism: 2}},
		{"recordstream", RuntimeFlags{Guarantee: "exactly-once", Parallelism: 2}},
	}
	for _, c := range configs {
		for _, d := range []DataSpec{{Events: 3_000, Seed: 3}, {Events: 3_000, Seed: 3, Rate: 100_000}} {
			r, err := NewRunner(c.runtime, c.flags)
			require.NoError(t, err)
			t.Run(r.Name()+map[bool]string{false: "/prefilled", true: "/paced"}[d.Rate > 0], func(t *testing.T) {
				if c.runtime == "recordstream" {
					flags := c.flags
					flags.CheckpointDir = t.TempDir()
					r, err = NewRunner(c.runtime, flags)
					require.NoError(t, err)
				}
				rep, err := RunOne(t.Context(), ysb(t), r, d, Options{Seed: 1, Trace: true}, nil)
				require.NoError(t, err)
				require.NotEmpty(t, rep.Trace)

				var records int
				last := map[wk]datasets.TraceRow{}
				emit := map[int32]int64{}
				seen := map[[2]int64]bool{}
				for i, row := range rep.Trace {
					switch row.Kind {
					case datasets.TraceRecord:
						assert.Zero(t, len(last), "record row %d after pane rows", i)
						records++
						seen[[2]int64{int64(row.Partition), row.Offset}] = true
						assert.NotZero(t, row.IngestNanos, "record row %d's ingest time", i)
						assert.NotZero(t, row.EventTimeMs, "record row %d's event time", i)
					case datasets.TracePane:
						assert.Equal(t, r.Name(), row.Runtime, "pane row %d's runtime", i)
						assert.GreaterOrEqual(t, row.EmitNanos, emit[row.Task], "pane row %d's emit time on task %d", i, row.Task)
						emit[row.Task] = row.EmitNanos
						if row.PaneTiming != dataflow.PaneMerged {
							last[wk{dataflow.Window{Start: dataflow.Time(row.WindowStartMs), End: dataflow.Time(row.WindowEndMs)}, row.Key}] = row
						}
					default:
						t.Fatalf("trace row %d has kind %q", i, row.Kind)
					}
				}
				assert.Equal(t, int(rep.Outcome.Events), records, "record rows against the log's records")
				assert.Len(t, seen, records, "each record once")
				assert.Len(t, rep.Trace, records+len(rep.Outcome.Trace), "records, then the outcome's panes")
				require.Len(t, last, len(rep.Outcome.Results), "traced windows against results")
				for _, res := range rep.Outcome.Results {
					_, ok := last[wk{res.Window, res.Key}]
					assert.True(t, ok, "result %v %q has a pane row", res.Window, res.Key)
				}

				path := filepath.Join(t.TempDir(), "trace.parquet")
				require.NoError(t, datasets.WriteTrace(path, rep.Trace))
				back, err := datasets.ReadTrace(path)
				require.NoError(t, err)
				assert.Equal(t, rep.Trace, back, "the trace file round-trips")
			})
		}
	}
}

// TestNoTraceByDefault checks that a run without Options.Trace keeps none.
func TestNoTraceByDefault(t *testing.T) {
	r, err := NewRunner("recordstream", RuntimeFlags{})
	require.NoError(t, err)
	rep, err := RunOne(t.Context(), ysb(t), r, small, Options{}, nil)
	require.NoError(t, err)
	assert.Nil(t, rep.Trace)
	assert.Nil(t, rep.Outcome.Trace)
}
