package dataflowtest_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/dataflowtest"
)

// clicks is a made-up domain with every kind of column, a text column and
// a lookup.
func clicks() dataflowtest.Domain {
	s := dataflow.NewSchema(
		dataflow.Field{Name: "user", Kind: dataflow.KindString},
		dataflow.Field{Name: "page", Kind: dataflow.KindString},
		dataflow.Field{Name: "amount", Kind: dataflow.KindInt64},
		dataflow.Field{Name: "score", Kind: dataflow.KindFloat64},
		dataflow.Field{Name: "ok", Kind: dataflow.KindBool},
		dataflow.Field{Name: "text", Kind: dataflow.KindString},
		dataflow.Field{Name: "event_time", Kind: dataflow.KindTimestamp},
	)
	pages := &dataflow.Table{Name: "pages", Schema: dataflow.NewSchema(
		dataflow.Field{Name: "page", Kind: dataflow.KindString},
		dataflow.Field{Name: "section", Kind: dataflow.KindString}),
		Rows: []dataflow.Row{{dataflow.Str("home"), dataflow.Str("a")}, {dataflow.Str("cart"), dataflow.Str("b")}}}
	return dataflowtest.Domain{
		Name: "clicks", Schema: s, TimeCol: "event_time", Keys: []string{"user", "page", "amount", "ok"},
		PartitionKey: "user", Small: []string{"page"}, Text: []dataflowtest.Text{{Col: "text", Prefix: "#"}},
		Values: map[string][]dataflow.Value{
			"page":   {dataflow.Str("home"), dataflow.Str("cart")},
			"amount": {dataflow.Int(10), dataflow.Int(50)},
			"score":  {dataflow.Float(0.5)},
			"ok":     {dataflow.Bool(true)},
		},
		Lookups: []dataflow.LookupStep{{Table: pages, On: "page", Key: "page", Cols: []string{"section"}}},
	}
}

// TestGeneratedPipelinesValidate checks DT1 and the coverage of 500
// pipelines: every feature appears.
func TestGeneratedPipelinesValidate(t *testing.T) {
	g, err := dataflowtest.NewGenerator(dataflowtest.Config{}, clicks())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	cov := make(dataflowtest.Coverage)
	for i := range 500 {
		c, err := g.Pipeline(r, i)
		require.NoError(t, err)
		require.NoError(t, c.Pipeline.Validate(), "%v", c)
		cov.Add(c)
	}
	assert.Empty(t, cov.Missing(dataflowtest.AllFeatures()), "coverage: %v", cov)
}

// TestGeneratorMaxBy: with Config.MaxBy, max-by aggregates are drawn and
// validate; without it, none are.
func TestGeneratorMaxBy(t *testing.T) {
	for _, on := range []bool{false, true} {
		g, err := dataflowtest.NewGenerator(dataflowtest.Config{MaxBy: on}, clicks())
		require.NoError(t, err)
		r := rand.New(rand.NewPCG(4, 2))
		cov := make(dataflowtest.Coverage)
		for i := range 300 {
			c, err := g.Pipeline(r, i)
			require.NoError(t, err)
			require.NoError(t, c.Pipeline.Validate(), "%v", c)
			cov.Add(c)
		}
		assert.Equal(t, on, cov["agg=max_by"] > 0, "MaxBy %v: coverage %v", on, cov)
	}
}

// TestGeneratorDeterministic checks DT2: one seed, one sequence.
func TestGeneratorDeterministic(t *testing.T) {
	g, err := dataflowtest.NewGenerator(dataflowtest.Config{}, clicks())
	require.NoError(t, err)
	a, b := rand.New(rand.NewPCG(7, 0)), rand.New(rand.NewPCG(7, 0))
	for i := range 100 {
		ca, err := g.Pipeline(a, i)
		require.NoError(t, err)
		cb, err := g.Pipeline(b, i)
		require.NoError(t, err)
		require.Equal(t, ca.String(), cb.String(), "pipeline %d", i)
	}
}

// TestCountWindowsKeyedByPartition checks DT4.
func TestCountWindowsKeyedByPartition(t *testing.T) {
	g, err := dataflowtest.NewGenerator(dataflowtest.Config{}, clicks())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(3, 0))
	n := 0
	for i := range 300 {
		c, err := g.Pipeline(r, i)
		require.NoError(t, err)
		if a := c.Pipeline.Agg; a != nil && a.Window.Kind == dataflow.WindowCount {
			n++
			assert.Contains(t, a.Key, "user", "%v", c)
		}
	}
	assert.Positive(t, n)
}

func TestNewGeneratorRejectsBadDomains(t *testing.T) {
	d := clicks()
	d.Keys = append(d.Keys, "nope")
	_, err := dataflowtest.NewGenerator(dataflowtest.Config{}, d)
	assert.ErrorContains(t, err, "nope")
	d = clicks()
	d.Values["amount"] = []dataflow.Value{dataflow.Str("x")}
	_, err = dataflowtest.NewGenerator(dataflowtest.Config{}, d)
	assert.ErrorContains(t, err, "amount")
	_, err = dataflowtest.NewGenerator(dataflowtest.Config{})
	assert.Error(t, err)
}
