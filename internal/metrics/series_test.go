package metrics

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSamplerKeepsEverySampleUntilFull(t *testing.T) {
	s, err := NewSampler(8, ReduceMean)
	require.NoError(t, err)
	for i := range 8 {
		s.Add(float64(i), float64(10*i))
	}
	want := Series{}
	for i := range 8 {
		want = append(want, Point{T: float64(i), V: float64(10 * i)})
	}
	assert.Equal(t, want, s.Series())
	assert.Equal(t, int64(1), s.Stride())
}

// A long series keeps at most Cap points (+1 partial), spread over the
// whole run, each the mean of the samples it stands for.
func TestSamplerDownsamplesInFixedMemory(t *testing.T) {
	s, err := NewSampler(8, ReduceMean)
	require.NoError(t, err)
	const n = 1 << 14
	for i := range n {
		s.Add(float64(i), float64(i))
		require.LessOrEqual(t, len(s.pts), 8, "points after %d samples", i+1)
	}
	pts := s.Series()
	assert.Len(t, pts, 8)
	assert.Equal(t, int64(n/8), s.Stride())
	assert.Equal(t, int64(n), s.Samples())
	for k, p := range pts {
		first := float64(k * n / 8)
		assert.Equal(t, first, p.T, "point %d starts at its bucket's first sample", k)
		assert.Equal(t, first+float64(n/8-1)/2, p.V, "point %d is the mean of its samples", k)
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { s.Add(1, 1) }), "Add allocates nothing")
}

func TestSamplerReduce(t *testing.T) {
	mx, err := NewSampler(4, ReduceMax)
	require.NoError(t, err)
	last, err := NewSampler(4, ReduceLast)
	require.NoError(t, err)
	vals := []float64{3, 9, 1, 4, 7, 2, 8, 5, 6}
	for i, v := range vals {
		mx.Add(float64(i), v)
		last.Add(float64(i), v)
	}
	// 9 samples at capacity 4: after the fifth the points halve to pairs,
	// and the ninth is the partly filled last bucket.
	assert.Equal(t, Series{{T: 0, V: 9}, {T: 2, V: 4}, {T: 4, V: 7}, {T: 6, V: 8}, {T: 8, V: 6}}, mx.Series())
	assert.Equal(t, Series{{T: 0, V: 9}, {T: 2, V: 4}, {T: 4, V: 2}, {T: 6, V: 5}, {T: 8, V: 6}}, last.Series())
	assert.Equal(t, int64(2), mx.Stride())
}

func TestNewSamplerErrors(t *testing.T) {
	_, err := NewSampler(3, ReduceMean)
	assert.ErrorContains(t, err, "at least 4 points")
	_, err = NewSampler(8, Reduce(9))
	assert.ErrorContains(t, err, "unknown reduce")
	s, err := NewSampler(5, ReduceMean)
	require.NoError(t, err)
	assert.Equal(t, 6, s.cap, "odd capacities round up")
}

func TestDownsample(t *testing.T) {
	var s Series
	for i := range 10 {
		s = append(s, Point{T: float64(i), V: float64(i)})
	}
	assert.Equal(t, Series{{T: 0, V: 1}, {T: 3, V: 4}, {T: 6, V: 7}, {T: 9, V: 9}}, Downsample(s, 4, ReduceMean))
	assert.Equal(t, Series{{T: 0, V: 4}, {T: 5, V: 9}}, Downsample(s, 2, ReduceMax))
	short := Downsample(s[:3], 4, ReduceMean)
	assert.Equal(t, s[:3], short)
	short[0].V = 99
	assert.Equal(t, 0.0, s[0].V, "a short series is copied")
}

func TestParseRSS(t *testing.T) {
	n, err := parseRSS([]byte("Name:\tbench\nVmPeak:\t  100 kB\nVmRSS:\t   2048 kB\nThreads: 3\n"))
	require.NoError(t, err)
	assert.Equal(t, int64(2048*1024), n)
	_, err = parseRSS([]byte("Name: x\n"))
	assert.ErrorContains(t, err, "no VmRSS line")
	_, err = parseRSS([]byte("VmRSS: lots\n"))
	assert.ErrorContains(t, err, "unexpected VmRSS line")
	if rss, err := RSS(); err == nil {
		assert.Positive(t, rss, "this process has resident memory")
	}
}
