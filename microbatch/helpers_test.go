package microbatch

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// logSource adapts a datasets log to Source, as compare does.
type logSource struct {
	*datasets.ArrowSource
	l *datasets.Log
}

func newLogSource(l *datasets.Log) logSource {
	return logSource{ArrowSource: datasets.NewArrowSource(l), l: l}
}

func (s logSource) OffsetAtIngest(p int, from, nanos int64) int64 {
	return max(from, s.l.OffsetAtIngest(p, nanos))
}

func (s logSource) IngestAt(p int, off int64) int64 {
	var v int64
	s.l.Chunks(p, off, off+1, func(c *datasets.Chunk, lo, _ int) bool { v = c.Ingest[lo]; return false })
	return v
}

var testSchema = dataflow.NewSchema(
	dataflow.Field{Name: "user", Kind: dataflow.KindString},
	dataflow.Field{Name: "page", Kind: dataflow.KindString},
	dataflow.Field{Name: "amount", Kind: dataflow.KindInt64},
	dataflow.Field{Name: "score", Kind: dataflow.KindFloat64},
	dataflow.Field{Name: "ok", Kind: dataflow.KindBool},
	dataflow.Field{Name: "text", Kind: dataflow.KindString},
	dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
)

var pages = []string{"home", "cart", "buy", "search", "help", "about"}

// testT0 is the first ingest time of test logs (ms since the epoch).
const testT0 = 1_700_000_000_000

// testLog builds a closed log of n records over partitions, with ingest
// times spread over about spanMs and event times up to disorderMs behind
// ingest. Users are partitioned by hash, as the generators do.
func testLog(t testing.TB, seed uint64, n, partitions int, spanMs, disorderMs int64) *datasets.Log {
	t.Helper()
	l, err := datasets.NewLog(datasets.LogConfig{Schema: testSchema, Partitions: partitions, ChunkRows: 256})
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(seed, 7))
	ingest := make([]int64, partitions)
	for p := range ingest {
		ingest[p] = testT0 * 1e6
	}
	step := spanMs * 1e6 * int64(partitions) / int64(max(n, 1))
	a := l.Appender()
	words := []string{"go", "spark", "storm", "#a", "#b", "#c", "flink", "#d"}
	for i := range n {
		u := r.IntN(23)
		p := u % partitions
		ingest[p] += r.Int64N(2*step + 1)
		ms := ingest[p] / 1e6
		text := ""
		for k := range r.IntN(4) {
			if k > 0 {
				text += " "
			}
			text += words[r.IntN(len(words))]
		}
		row := dataflow.Row{
			dataflow.Str(fmt.Sprintf("u%02d", u)),
			dataflow.Str(pages[r.IntN(len(pages))]),
			dataflow.Int(r.Int64N(100) - 10),
			dataflow.Float(r.Float64() * 10),
			dataflow.Bool(r.IntN(3) != 0),
			dataflow.Str(text),
			dataflow.Timestamp(dataflow.Time(ms - r.Int64N(disorderMs+1))),
		}
		a.AppendRow(p, ingest[p], row)
		if i%97 == 0 {
			require.NoError(t, a.Flush())
		}
	}
	require.NoError(t, a.Flush())
	l.SetEventTimeShift(0)
	l.Close()
	return l
}

var pageTable = &dataflow.Table{
	Name:   "pages",
	Schema: dataflow.NewSchema(dataflow.Field{Name: "page", Kind: dataflow.KindString}, dataflow.Field{Name: "section", Kind: dataflow.KindString}, dataflow.Field{Name: "weight", Kind: dataflow.KindInt64}),
	Rows: []dataflow.Row{
		{dataflow.Str("home"), dataflow.Str("front"), dataflow.Int(1)},
		{dataflow.Str("cart"), dataflow.Str("shop"), dataflow.Int(5)},
		{dataflow.Str("buy"), dataflow.Str("shop"), dataflow.Int(9)},
		{dataflow.Str("search"), dataflow.Str("front"), dataflow.Int(2)},
		{dataflow.Str("help"), dataflow.Str("docs"), dataflow.Int(3)},
	},
}

// requireSameResults compares results as the check does: same windows and
// keys, values equal (floats within dataflow's tolerance).
func requireSameResults(t *testing.T, want, got []dataflow.Result) {
	t.Helper()
	require.Equal(t, len(want), len(got), "number of results: want %d, got %d\nwant %v\ngot  %v", len(want), len(got), head(want), head(got))
	for i := range want {
		w, g := want[i], got[i]
		ok := w.Window == g.Window && w.Key == g.Key && w.Value.ApproxEqual(g.Value) && len(w.Extra) == len(g.Extra)
		for j := 0; ok && j < len(w.Extra); j++ {
			ok = w.Extra[j].ApproxEqual(g.Extra[j])
		}
		require.True(t, ok, "result %d: want %v %q %v %v, got %v %q %v %v", i, w.Window, w.Key, w.Value, w.Extra, g.Window, g.Key, g.Value, g.Extra)
	}
}

func head(rs []dataflow.Result) []dataflow.Result { return rs[:min(len(rs), 8)] }

// reference is dataflow.Reference over the log minus the late records.
func reference(t *testing.T, p *dataflow.Pipeline, l *datasets.Log, late []RecordRef) []dataflow.Result {
	t.Helper()
	ex := map[RecordRef]bool{}
	for _, r := range late {
		ex[r] = true
	}
	want, err := dataflow.Reference(p, l.All(), dataflow.ReferenceOptions{Exclude: func(p int, off int64) bool { return ex[RecordRef{p, off}] }})
	require.NoError(t, err)
	return want
}
