package compare

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// approxSeeds is how many random inputs TestApproxAggregatesAgree runs on
// every configuration; raise it to search further (issue 15: the
// approximate top-N's answer depended on the batches and tasks):
//
//	go test ./compare -run TestApproxAggregatesAgree -approx.seeds=100
var approxSeeds = flag.Int("approx.seeds", 6, "random inputs TestApproxAggregatesAgree runs on every runtime configuration")

// approxPipeline aggregates every approximate aggregate at once: Count-Min
// top-N of narrow sketches (values collide, so candidates compete) and of the
// default one, over strings and integers, and HyperLogLog at a low and the
// default precision, per first letter of the hashtag (few keys, many values
// each) in event-time windows of diffEventSpan/4.
func approxPipeline(t *testing.T) *dataflow.Pipeline {
	in, err := datasetSchema("hashtags")
	require.NoError(t, err)
	p := dataflow.NewPipeline("approx-agree", in).
		Explode("text", "#", "hashtag").
		Map("prefix", dataflow.Prefix(dataflow.Col("hashtag"), 2)).
		Aggregate(eventTime(dataflow.Aggregation{
			Key:    []string{"prefix"},
			Window: dataflow.FixedWindows(diffEventSpan / 4),
			Aggs: []dataflow.Agg{
				{Kind: dataflow.AggApproxTopN, Col: "hashtag", N: 3, Width: 8, Depth: 2, As: "top_w8"},
				{Kind: dataflow.AggApproxTopN, Col: "hashtag", N: 5, Width: 24, Depth: 3, As: "top_w24"},
				{Kind: dataflow.AggApproxTopN, Col: "hashtag", N: 10, As: "top_default"},
				{Kind: dataflow.AggApproxTopN, Col: "user_id", N: 4, Width: 16, Depth: 4, As: "top_users"},
				{Kind: dataflow.AggApproxDistinct, Col: "hashtag", Precision: 4, As: "distinct_p4"},
				{Kind: dataflow.AggApproxDistinct, Col: "hashtag", As: "distinct_default"},
				{Kind: dataflow.AggApproxDistinct, Col: "user_id", Precision: 6, As: "distinct_users"},
			},
		}))
	require.NoError(t, p.Validate())
	return p
}

// approxConfigs are the runtime configurations the approximate aggregates
// must agree on: microbatch in both models at several batch intervals (the
// log's ingest times span diffIngestSpan, so 1 ms makes two dozen batches
// and 7 ms four) and parallelism 1 and 2, and the differential test's
// recordstream at-most-once and exactly-once (aligned) configurations at
// parallelism 1 and 2 (exactly-once snapshots the sketches).
func approxConfigs() []diffConfig {
	var cs []diffConfig
	for _, par := range []int{1, 2} {
		for _, mode := range []string{"dstream", "event-time"} {
			for _, bi := range []time.Duration{time.Millisecond, 3 * time.Millisecond, 7 * time.Millisecond} {
				cs = append(cs, diffConfig{name: fmt.Sprintf("microbatch/%s/batch=%v/p=%d", mode, bi, par), runtime: "microbatch",
					flags: RuntimeFlags{Mode: mode, BatchInterval: bi, Parallelism: par}})
			}
		}
	}
	for _, c := range diffConfigs() {
		for _, g := range []string{"at-most-once", "exactly-once"} {
			if strings.HasPrefix(c.name, "recordstream/"+g+"/p=") {
				cs = append(cs, c)
			}
		}
	}
	return cs
}

// TestApproxAggregatesAgree runs every approximate aggregate on generated
// hashtag logs (random size, seed, partitions and disorder) on every
// configuration of approxConfigs and checks each against the reference with
// the bench's check: the answer of an approximate aggregate is a function of
// its input, so every runtime must give the reference's, value for value.
func TestApproxAggregatesAgree(t *testing.T) {
	p := approxPipeline(t)
	gen, err := datasets.Lookup("hashtags")
	require.NoError(t, err)
	w := &Workload{Name: p.Name, Dataset: "hashtags", Pipeline: func(map[string]*dataflow.Table) (*dataflow.Pipeline, error) { return p, nil }}
	configs := approxConfigs()
	require.Len(t, configs, 16)
	for i := range *approxSeeds {
		r := rand.New(rand.NewPCG(uint64(i), 15))
		data := diffData(r)
		data.Events = 1000 + r.Int64N(3000)
		data.EventRate = float64(data.Events) / diffEventSpan.Seconds()
		c := diffCase{ds: diffDataset{gen: gen}, data: data}
		t.Run(fmt.Sprintf("input-%02d", i), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			log, tables, err := diffLog(ctx, c)
			require.NoError(t, err)
			full := &fullReference{}
			for _, cfg := range configs {
				runner, err := NewRunner(cfg.runtime, cfg.flags)
				require.NoError(t, err, cfg.name)
				if cfg.tweak != nil {
					cfg.tweak(runner)
				}
				rep, err := runLog(ctx, w, runner, log, tables, DataSpec{}, Options{Seed: data.Seed}, nil, full)
				what := fmt.Sprintf("input %d (-approx.seeds): %d events, seed %d, %d partitions, in order %v, skew %+v; config %s",
					i, data.Events, data.Seed, data.Partitions, data.InOrder, data.Skew, cfg.name)
				if !assert.NoError(t, err, what) {
					continue
				}
				ck := rep.Check
				assert.True(t, ck.OK(), "%s\ncheck: %v\nexamples: %q\nunverified late: %q", what, ck, ck.Examples, ck.Late.Examples)
				assert.Positive(t, ck.Windows, "%s: no windows to compare", what)
			}
		})
	}
}
