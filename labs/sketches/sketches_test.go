package sketches

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
	"github.com/weirlab/weir/labs/internal/labtest"
)

// request is the part of a weblogs record the lab aggregates.
type request struct {
	partition int
	domain    string
	client    string
	latency   float64
	window    dataflow.Window
}

// requests generates weblogs data and returns its records with their
// minute windows, in log order: 1,000 requests per second of event time, so
// 200,000 requests span three to four minutes.
func requests(t *testing.T, events int64, seed uint64) (*datasets.Log, []request) {
	t.Helper()
	l, _, err := labtest.Log(t.Context(), "weblogs", datasets.Config{Events: events, Seed: seed, EventRate: 1000})
	require.NoError(t, err)
	s := l.Schema()
	_, dom, _ := s.Lookup("domain")
	_, cli, _ := s.Lookup("client_ip")
	_, lat, _ := s.Lookup("latency_ms")
	_, et, _ := s.Lookup("event_time")
	fn := dataflow.FixedWindows(time.Minute)
	var ws []dataflow.Window
	var out []request
	for rec := range l.All() {
		ws = fn.Assign(ws[:0], rec.Row[et].Time())
		require.Len(t, ws, 1)
		out = append(out, request{partition: rec.Partition, domain: rec.Row[dom].S, client: rec.Row[cli].S, latency: rec.Row[lat].Float64(), window: ws[0]})
	}
	return l, out
}

func newHLL(t *testing.T, p uint8) *HLL {
	t.Helper()
	h, err := NewHLL(p)
	require.NoError(t, err, "NewHLL(%d)", p)
	require.NotNil(t, h)
	return h
}

// TestNewHLL: every precision in range is accepted, others refused, and
// sketches of different precisions do not merge.
func TestNewHLL(t *testing.T) {
	for p := uint8(MinPrecision); p <= MaxPrecision; p++ {
		h := newHLL(t, p)
		assert.Zero(t, h.Estimate(), "an empty sketch of precision %d estimates 0", p)
	}
	for _, p := range []uint8{0, MinPrecision - 1, MaxPrecision + 1} {
		_, err := NewHLL(p)
		assert.Error(t, err, "NewHLL(%d) must refuse a precision outside [%d, %d]", p, MinPrecision, MaxPrecision)
	}
	a, b := newHLL(t, 10), newHLL(t, 12)
	assert.Error(t, a.Merge(b), "merging precision 12 into 10 must fail")
}

// split assigns each of n items to one of k parts at random.
func split(r *rand.Rand, n, k int) []int {
	part := make([]int, n)
	for i := range part {
		part[i] = r.IntN(k)
	}
	return part
}

// TestHLLMergeEqualsOnePass: over random splits of the input into 1 to 8
// parts, each part added in its own order and the partials merged in a
// random order, the merged sketch is the one-pass sketch, state for state.
// Adding a value again, and merging a sketch with itself, change nothing.
func TestHLLMergeEqualsOnePass(t *testing.T) {
	newHLL(t, 4)
	_, reqs := requests(t, 20_000, 1)
	for _, p := range []uint8{4, 10, 14} {
		one := newHLL(t, p)
		for _, q := range reqs {
			one.Add(q.client)
		}
		require.Positive(t, one.Estimate())
		r := rand.New(rand.NewPCG(uint64(p), 1))
		for trial := range 10 {
			k := 1 + r.IntN(8)
			part := split(r, len(reqs), k)
			parts := make([]*HLL, k)
			for i := range parts {
				parts[i] = newHLL(t, p)
			}
			for _, i := range r.Perm(len(reqs)) {
				parts[part[i]].Add(reqs[i].client)
			}
			merged := newHLL(t, p)
			for _, i := range r.Perm(k) {
				require.NoError(t, merged.Merge(parts[i]))
			}
			assert.Equal(t, one, merged, "p=%d trial %d: %d partials merged differ from the one-pass sketch", p, trial, k)
			assert.Equal(t, one.Estimate(), merged.Estimate(), "p=%d trial %d: estimates", p, trial)
		}
		again := newHLL(t, p)
		require.NoError(t, again.Merge(one))
		require.NoError(t, again.Merge(one))
		for _, q := range reqs[:1000] {
			again.Add(q.client)
		}
		assert.Equal(t, one, again, "p=%d: duplicates (re-added values, a sketch merged twice) must not change the sketch", p)
	}
}

// hllBound is the test's error bound for one estimate: within
// boundSE standard errors of the exact count, or within boundAbs when
// the count is small (an estimate is an integer; linear counting at small
// counts is nearly exact, but not quite).
const (
	boundSE  = 4.0
	boundAbs = 2
)

// TestHLLAgainstReference estimates the distinct client addresses per
// domain and minute, one partial per log partition merged (as tasks would
// merge), and compares every estimate with dataflow.Reference's exact
// count: each within the bound, and the root-mean-square relative error
// over the windows within 1.5 standard errors.
func TestHLLAgainstReference(t *testing.T) {
	newHLL(t, 10) // fail before generating the data if there is no sketch
	l, reqs := requests(t, 200_000, 2)
	spec, err := Spec(l.Schema())
	require.NoError(t, err)
	want, err := dataflow.Reference(spec, l.All(), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	type wk struct {
		w   dataflow.Window
		key string
	}
	for _, p := range []uint8{10, 12, 14} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			partials := map[wk][]*HLL{}
			for _, q := range reqs {
				k := wk{q.window, q.domain}
				if partials[k] == nil {
					partials[k] = make([]*HLL, l.Partitions())
				}
				if partials[k][q.partition] == nil {
					partials[k][q.partition] = newHLL(t, p)
				}
				partials[k][q.partition].Add(q.client)
			}
			se := StandardError(p)
			var sumSq, worst float64
			var n, large int
			for _, r := range want {
				hs := partials[wk{r.Window, r.Key}]
				require.NotNil(t, hs, "no requests for %s", labtest.Row(r))
				m := newHLL(t, p)
				for _, h := range hs {
					if h != nil {
						require.NoError(t, m.Merge(h))
					}
				}
				exact, est := r.Value.Int64(), m.Estimate()
				rel := float64(est-exact) / float64(exact)
				if d := math.Abs(float64(est - exact)); d > boundAbs && math.Abs(rel) > boundSE*se {
					t.Errorf("p=%d %v %s: estimate %d, exact %d: relative error %.4f above %v standard errors (%.4f)", p, r.Window, r.Key, est, exact, rel, boundSE, boundSE*se)
				}
				sumSq += rel * rel
				worst = max(worst, math.Abs(rel))
				n++
				if exact > 1000 {
					large++
				}
			}
			rms := math.Sqrt(sumSq / float64(n))
			t.Logf("p=%d: %d windows (%d with more than 1000 distinct), rms relative error %.4f, worst %.4f, standard error %.4f", p, n, large, rms, worst, se)
			assert.LessOrEqual(t, rms, 1.5*se, "p=%d: rms relative error over %d windows", p, n)
			assert.Positive(t, large, "the data should have windows with more than 1000 distinct addresses")
		})
	}
}

// TestHLLLargeCardinality checks the estimate far beyond linear counting's
// range: every client address of a large log, at a small precision.
func TestHLLLargeCardinality(t *testing.T) {
	newHLL(t, 8)
	_, reqs := requests(t, 200_000, 3)
	exact := map[string]bool{}
	for _, p := range []uint8{8, 10} {
		h := newHLL(t, p)
		for _, q := range reqs {
			h.Add(q.client)
			h.Add(q.client + q.domain) // pairs: a larger population
			exact[q.client] = true
			exact[q.client+q.domain] = true
		}
		n := int64(len(exact))
		rel := float64(h.Estimate()-n) / float64(n)
		t.Logf("p=%d: estimate %d, exact %d, relative error %.4f (standard error %.4f)", p, h.Estimate(), n, rel, StandardError(p))
		assert.LessOrEqual(t, math.Abs(rel), boundSE*StandardError(p), "p=%d: estimate %d of %d distinct", p, h.Estimate(), n)
	}
}

// exactMoments is the two-pass answer: the mean, then the mean squared
// deviation from it.
func exactMoments(xs []float64) (mean, variance float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(xs))
}

func near(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b)) || math.Abs(a-b) <= 1e-12
}

// TestMomentsAgainstReference: per domain and minute, partials per log
// partition merged give dataflow.Reference's mean and the two-pass
// variance, to 1e-9 relative.
func TestMomentsAgainstReference(t *testing.T) {
	l, reqs := requests(t, 50_000, 4)
	spec, err := Spec(l.Schema())
	require.NoError(t, err)
	want, err := dataflow.Reference(spec, l.All(), dataflow.ReferenceOptions{})
	require.NoError(t, err)
	type wk struct {
		w   dataflow.Window
		key string
	}
	parts := map[wk][]Moments{}
	values := map[wk][]float64{}
	for _, q := range reqs {
		k := wk{q.window, q.domain}
		if parts[k] == nil {
			parts[k] = make([]Moments, l.Partitions())
		}
		parts[k][q.partition].Add(q.latency)
		values[k] = append(values[k], q.latency)
	}
	var got []dataflow.Result
	bad := 0
	for _, r := range want {
		k := wk{r.Window, r.Key}
		var m Moments
		for _, p := range parts[k] {
			m.Merge(p)
		}
		got = append(got, dataflow.Result{Window: r.Window, Key: r.Key, Value: r.Value, Extra: []dataflow.Value{dataflow.Float(m.Mean())}})
		assert.Equal(t, int64(len(values[k])), m.Count(), "%v %s: count", r.Window, r.Key)
		_, v := exactMoments(values[k])
		if !near(m.Variance(), v, 1e-9) && bad < 5 {
			bad++
			t.Errorf("%v %s: variance %v, exact %v", r.Window, r.Key, m.Variance(), v)
		}
	}
	if d := labtest.Diff(want, got); d != "" {
		t.Errorf("mean latency per domain and minute differs from the exact answer: %s", d)
	}
}

// TestMomentsMergeEqualsOnePass: over random splits (empty parts
// included), merged partials equal the one-pass moments to 1e-9 relative;
// the zero value is empty and merging it changes nothing.
func TestMomentsMergeEqualsOnePass(t *testing.T) {
	_, reqs := requests(t, 20_000, 5)
	var one Moments
	for _, q := range reqs {
		one.Add(q.latency)
	}
	require.Equal(t, int64(len(reqs)), one.Count())
	var zero Moments
	assert.Zero(t, zero.Count())
	assert.Zero(t, zero.Mean())
	assert.Zero(t, zero.Variance())
	r := rand.New(rand.NewPCG(5, 5))
	for trial := range 20 {
		k := 1 + r.IntN(12)
		part := split(r, len(reqs), k)
		ms := make([]Moments, k+1) // the last part stays empty
		for i, q := range reqs {
			ms[part[i]].Add(q.latency)
		}
		var merged Moments
		for _, i := range r.Perm(k + 1) {
			merged.Merge(ms[i])
		}
		merged.Merge(Moments{})
		assert.Equal(t, one.Count(), merged.Count(), "trial %d: count", trial)
		assert.True(t, near(one.Mean(), merged.Mean(), 1e-9), "trial %d: mean %v merged, %v one pass", trial, merged.Mean(), one.Mean())
		assert.True(t, near(one.Variance(), merged.Variance(), 1e-9), "trial %d: variance %v merged, %v one pass", trial, merged.Variance(), one.Variance())
	}
}

// TestMomentsStable: values of 1e9 plus a small spread, where E[x²] -
// E[x]² loses every digit (x² is near 1e18, beyond a float64's 2^53), in
// one pass and merged.
func TestMomentsStable(t *testing.T) {
	base := []float64{4, 7, 13, 16}
	var xs []float64
	for i := range 1000 {
		xs = append(xs, 1e9+base[i%4]+float64(i%7)*1e-3)
	}
	mean, variance := exactMoments(xs)
	var one, a, b Moments
	for i, x := range xs {
		one.Add(x)
		if i%3 == 0 {
			a.Add(x)
		} else {
			b.Add(x)
		}
	}
	a.Merge(b)
	for name, m := range map[string]*Moments{"one pass": &one, "merged": &a} {
		assert.True(t, near(m.Mean(), mean, 1e-12), "%s: mean %v, exact %v", name, m.Mean(), mean)
		assert.True(t, near(m.Variance(), variance, 1e-6), "%s: variance %v, exact %v", name, m.Variance(), variance)
	}
	assert.True(t, slices.ContainsFunc(xs, func(x float64) bool { return x > 1e9 }))
}
