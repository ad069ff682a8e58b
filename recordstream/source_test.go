package recordstream

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"

	"github.com/weirlab/weir/dataflow"
)

// memSource is a closed in-memory log for tests (recordstream must not
// import datasets).
type memSource struct {
	schema dataflow.Schema
	parts  [][]dataflow.Record
	shift  int64
}

func (m *memSource) Schema() dataflow.Schema { return m.schema }
func (m *memSource) Partitions() int         { return len(m.parts) }
func (m *memSource) End(p int) int64         { return int64(len(m.parts[p])) }
func (m *memSource) EventTimeShift() int64   { return m.shift }

func (m *memSource) Read(p int, off int64, dst dataflow.Row) (dataflow.Row, int64) {
	r := m.parts[p][off]
	return append(dst[:0], r.Row...), r.IngestNanos
}

// Closed: the log is complete from the start.
func (m *memSource) Closed() bool { return true }

// Changed returns a closed channel: a closed log does not change.
func (m *memSource) Changed() <-chan struct{} { return closedChan() }

func closedChan() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func (m *memSource) All() iter.Seq[dataflow.Record] {
	return func(yield func(dataflow.Record) bool) {
		for _, part := range m.parts {
			for _, r := range part {
				if !yield(r) {
					return
				}
			}
		}
	}
}

var testSchema = dataflow.NewSchema(
	dataflow.Field{Name: "user", Kind: dataflow.KindString},
	dataflow.Field{Name: "cat", Kind: dataflow.KindString},
	dataflow.Field{Name: "v", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "f", Kind: dataflow.KindFloat64},
	dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	dataflow.Field{Name: "text", Kind: dataflow.KindString},
)

const testBaseTime = 1_700_000_000_000 // ms

// newMemSource makes n random records over the given partitions, each
// user's records in one partition (as the generators partition by key).
// Event times advance 10 ms a record with jitter up to jitterMs; ingest
// times increase within a partition.
func newMemSource(seed uint64, n, partitions int, jitterMs int64) *memSource {
	rng := rand.New(rand.NewPCG(seed, 7))
	m := &memSource{schema: testSchema, parts: make([][]dataflow.Record, partitions), shift: 5}
	tags := []string{"#go", "#rust", "#storm", "#flink", "#spark"}
	for i := range n {
		u := rng.IntN(20)
		p := u % partitions
		et := int64(testBaseTime + i*10)
		if jitterMs > 0 {
			et += rng.Int64N(2*jitterMs+1) - jitterMs
		}
		words := []string{"hello", tags[rng.IntN(len(tags))], "world"}
		if rng.IntN(2) == 0 {
			words = append(words, tags[rng.IntN(len(tags))])
		}
		row := dataflow.Row{
			dataflow.Str(fmt.Sprintf("u%02d", u)),
			dataflow.Str([]string{"view", "click", "buy"}[rng.IntN(3)]),
			dataflow.Int(rng.Int64N(100)),
			dataflow.Float(rng.Float64() * 10),
			dataflow.Timestamp(dataflow.Time(et)),
			dataflow.Str(strings.Join(words, " ")),
		}
		off := int64(len(m.parts[p]))
		m.parts[p] = append(m.parts[p], dataflow.Record{Row: row, Partition: p, Offset: off,
			IngestNanos: (testBaseTime + int64(i)*2) * 1e6})
	}
	return m
}
