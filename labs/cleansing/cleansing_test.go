package cleansing

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/labs/internal/labtest"
)

// TestNewCleaner: partner sites are accepted, and a site without a domain
// or a category is refused with an error naming it.
func TestNewCleaner(t *testing.T) {
	c, err := NewCleaner(Sites())
	require.NoError(t, err, "NewCleaner(Sites())")
	require.NotNil(t, c)
	for _, bad := range []map[string]string{{"": "media"}, {"www.news.example": ""}} {
		_, err := NewCleaner(bad)
		assert.Error(t, err, "NewCleaner(%v) must refuse a site without a domain or category", bad)
	}
}

// TestCleanRules checks each rule at its boundary, one request at a time.
func TestCleanRules(t *testing.T) {
	c, err := NewCleaner(Sites())
	require.NoError(t, err)
	base := Request{Domain: "www.news.example", Path: "/blog/x", Status: 200, Bytes: 5000, LatencyMs: 12.5, ClientIP: "172.0.0.1", EventTime: 1_000}
	with := func(f func(*Request)) Request { r := base; f(&r); return r }
	cases := []struct {
		name string
		in   Request
		keep bool
		kb   int64
		cat  string
	}{
		{"ok", base, true, 4, "media"},
		{"304 not modified is a view", with(func(r *Request) { r.Status = 304; r.Bytes = 150 }), true, 0, "media"},
		{"301 redirect", with(func(r *Request) { r.Status = 301 }), false, 0, ""},
		{"404", with(func(r *Request) { r.Status = 404 }), false, 0, ""},
		{"500", with(func(r *Request) { r.Status = 500 }), false, 0, ""},
		{"latency just under a second", with(func(r *Request) { r.LatencyMs = 999.999 }), true, 4, "media"},
		{"latency of exactly a second", with(func(r *Request) { r.LatencyMs = 1000 }), false, 0, ""},
		{"static asset", with(func(r *Request) { r.Path = "/static/app.js" }), false, 0, ""},
		{"not an asset, only a look-alike", with(func(r *Request) { r.Path = "/staticky" }), true, 4, "media"},
		{"root page", with(func(r *Request) { r.Path = "/" }), true, 4, "media"},
		{"not a partner", with(func(r *Request) { r.Domain = "www.blog.example" }), false, 0, ""},
		{"another category", with(func(r *Request) { r.Domain = "www.shop.example" }), true, 4, "commerce"},
		{"1023 bytes is 0 KiB", with(func(r *Request) { r.Bytes = 1023 }), true, 0, "media"},
		{"1024 bytes is 1 KiB", with(func(r *Request) { r.Bytes = 1024 }), true, 1, "media"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, keep := c.Clean(tc.in)
			require.Equal(t, tc.keep, keep, "Clean(%+v) keep", tc.in)
			if !keep {
				return
			}
			want := PageView{Domain: tc.in.Domain, Path: tc.in.Path, Category: tc.cat, KB: tc.kb, EventTime: tc.in.EventTime}
			assert.Equal(t, want, got, "Clean(%+v)", tc.in)
		})
	}
}

// TestCleanMatchesReference runs Clean over the built-in weblogs data, in
// log order, and compares its page views with dataflow.Reference of Spec:
// every page view the exact answer has, and nothing else.
func TestCleanMatchesReference(t *testing.T) {
	_, err := NewCleaner(Sites()) // fail before generating data if there is no cleaner
	require.NoError(t, err)
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			log, _, err := labtest.Log(t.Context(), "weblogs", datasets.Config{Events: 20_000, Seed: seed})
			require.NoError(t, err)
			sites := Sites()
			spec, err := Spec(log.Schema(), sites)
			require.NoError(t, err)
			want, err := dataflow.Reference(spec, log.All(), dataflow.ReferenceOptions{})
			require.NoError(t, err)
			require.NotEmpty(t, want, "the exact answer is empty: the data does not exercise the lab")

			cols, err := ColumnsOf(log.Schema())
			require.NoError(t, err)
			c, err := NewCleaner(sites)
			require.NoError(t, err)
			var got []dataflow.Result
			for rec := range log.All() {
				if v, ok := c.Clean(ParseRequest(rec.Row, cols)); ok {
					got = append(got, v.Result())
				}
			}
			if d := labtest.Diff(want, got); d != "" {
				t.Errorf("Clean over %d weblogs records (seed %d) differs from the exact answer: %s", log.Len(), seed, d)
			}
		})
	}
}

// TestHarnessSpec checks the lab's own fixtures, not the exercise: the
// specification keeps some but not all of the requests, and every rule
// removes some, so the reference test cannot pass by accident.
func TestHarnessSpec(t *testing.T) {
	log, _, err := labtest.Log(t.Context(), "weblogs", datasets.Config{Events: 20_000, Seed: 1})
	require.NoError(t, err)
	count := func(p *dataflow.Pipeline) int {
		rs, err := dataflow.Reference(p, log.All(), dataflow.ReferenceOptions{})
		require.NoError(t, err)
		return len(rs)
	}
	spec, err := Spec(log.Schema(), Sites())
	require.NoError(t, err)
	all := count(spec)
	assert.Positive(t, all)
	assert.Less(t, int64(all), log.Len())
	for i := range spec.Steps {
		if _, ok := spec.Steps[i].(dataflow.FilterStep); !ok {
			continue
		}
		less := *spec
		less.Steps = append(append([]dataflow.Step{}, spec.Steps[:i]...), spec.Steps[i+1:]...)
		assert.Greater(t, count(&less), all, "without step %d (%v) the answer should grow", i, spec.Steps[i])
	}
}
