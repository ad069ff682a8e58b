package recordstream

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/weirlab/weir/dataflow"
)

// poisonSource is a memSource that reads columns (ColumnReader) and writes
// garbage into every column it was not asked for, so a pipeline that uses a
// column the read plan skipped gets a wrong answer instead of a lucky zero.
//
// Each partition is read by one spout goroutine, so the memory of the last
// record read is kept per partition.
type poisonSource struct {
	*memSource
	lastOff []int64 // per partition, -1 before the first read
}

func newPoisonSource(m *memSource) *poisonSource {
	s := &poisonSource{memSource: m, lastOff: make([]int64, len(m.parts))}
	for i := range s.lastOff {
		s.lastOff[i] = -1
	}
	return s
}

func (s *poisonSource) ReadColumns(p int, off int64, cols []int, dst dataflow.Row) (dataflow.Row, int64) {
	r := s.parts[p][off]
	if len(dst) < len(r.Row) {
		dst = make(dataflow.Row, len(r.Row))
	}
	// A second read of the same record leaves the other columns as they are
	// (the ReadColumns contract); the first read of a record poisons them.
	again := off == s.lastOff[p]
	s.lastOff[p] = off
	for i, f := range s.schema.Fields {
		if slices.Contains(cols, i) {
			dst[i] = r.Row[i]
			continue
		}
		if again {
			continue
		}
		switch f.Kind {
		case dataflow.KindString:
			dst[i] = dataflow.Str("POISON #poison")
		case dataflow.KindFloat64:
			dst[i] = dataflow.Float(-1e9)
		default:
			dst[i] = dataflow.Value{K: f.Kind, I: 987_654_321}
		}
	}
	return dst, r.IngestNanos
}

// TestPrunedReadsMatchReference runs every shape through a source that reads
// columns (RP1): results must still equal the reference, and a leading filter
// must cut the columns read.
func TestPrunedReadsMatchReference(t *testing.T) {
	for name, p := range shapes() {
		for _, g := range []Guarantee{AtMostOnce, AtLeastOnce} {
			t.Run(fmt.Sprintf("%s/%v", name, g), func(t *testing.T) {
				src := newPoisonSource(newMemSource(1, 2000, 3, 80))
				cfg := Config{Guarantee: g, Parallelism: 2, Ackers: 1, BatchSize: 16, QueueBatches: 4, WatermarkEvery: 50, Seed: 5}
				rep, err := Run(t.Context(), p, src, cfg)
				require.NoError(t, err)
				check(t, p, src.memSource, rep)
			})
		}
	}
}

func TestReadPlan(t *testing.T) {
	wm := dataflow.WatermarkPolicy{MaxOutOfOrderness: 100 * time.Millisecond}
	p := dataflow.NewPipeline("ysb-like", testSchema).
		Filter(dataflow.Eq(dataflow.Col("cat"), dataflow.LitStr("view"))).
		Aggregate(dataflow.Aggregation{Key: []string{"user"}, Window: dataflow.FixedWindows(time.Second),
			TimeCol: "event_time", Watermark: wm, Aggs: []dataflow.Agg{dataflow.Count()}})
	src := newPoisonSource(newMemSource(1, 10, 1, 80))
	rp, err := newReadPlan(p, src)
	require.NoError(t, err)
	require.NotNil(t, rp)
	assert.Equal(t, []int{testSchema.Index("cat")}, rp.first, "the filter's column is read first")
	assert.Equal(t, []int{testSchema.Index("user"), testSchema.Index("event_time")}, rp.rest, "then the key and time only")

	// A source that cannot read columns, or a pipeline that uses every
	// column without a leading filter, reads whole records.
	rp, err = newReadPlan(p, src.memSource)
	require.NoError(t, err)
	assert.Nil(t, rp)
	all := dataflow.NewPipeline("all", testSchema).Output([]string{"user", "cat", "v", "f", "event_time"}, "text")
	rp, err = newReadPlan(all, src)
	require.NoError(t, err)
	assert.Nil(t, rp)
}
