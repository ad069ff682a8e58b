package metrics

import (
	"fmt"
	"math"
)

// Reduce says how a [Sampler] combines the samples of one bucket.
type Reduce uint8

const (
	// ReduceMean keeps the mean of a bucket's samples: gauges (queue
	// depth, rate).
	ReduceMean Reduce = iota
	// ReduceMax keeps the largest: peaks (batch delay, latency).
	ReduceMax
	// ReduceLast keeps the last: cumulative counters.
	ReduceLast
)

// Sampler records a time series in fixed memory, however long the run: it
// keeps at most Cap points. While fewer samples than Cap have come, each is
// a point; when the points fill up, adjacent pairs merge (halving the
// resolution: each point then stands for twice as many samples) and new
// samples go into buckets of the doubled stride. A point's T is the T of
// its bucket's first sample and its V the bucket's [Reduce]. So an
// hour-long run at one sample per 10 ms keeps Cap points spread over the
// whole hour, not the first Cap samples nor an unbounded slice.
//
// Memory is Cap points (plus the bucket being filled); Add allocates
// nothing. Not safe for concurrent use.
type Sampler struct {
	reduce  Reduce
	pts     []bucket // len <= cap
	cap     int
	stride  int64 // samples per point
	cur     bucket
	samples int64
}

type bucket struct {
	t, v float64
	n    int64 // samples in it
}

// MinSamplerCap is the fewest points a [Sampler] keeps.
const MinSamplerCap = 4

// NewSampler returns an empty sampler of at most capacity points
// (at least [MinSamplerCap]; an even number: odd ones round up).
func NewSampler(capacity int, reduce Reduce) (*Sampler, error) {
	if capacity < MinSamplerCap {
		return nil, fmt.Errorf("metrics: a sampler keeps at least %d points; got capacity %d", MinSamplerCap, capacity)
	}
	if reduce > ReduceLast {
		return nil, fmt.Errorf("metrics: unknown reduce %d; use ReduceMean, ReduceMax or ReduceLast", reduce)
	}
	capacity += capacity & 1
	return &Sampler{reduce: reduce, pts: make([]bucket, 0, capacity), cap: capacity, stride: 1}, nil
}

// Add records the sample (t, v). T should not decrease (a series is in
// sampling order); NaN values are kept as they come.
func (s *Sampler) Add(t, v float64) {
	s.samples++
	if s.cur.n == 0 {
		s.cur = bucket{t: t, v: v, n: 1}
	} else {
		s.cur.v = s.fold(s.cur.v, s.cur.n, v, 1)
		s.cur.n++
	}
	if s.cur.n < s.stride {
		return
	}
	if len(s.pts) == s.cap {
		s.halve()
		if s.cur.n < s.stride { // the bucket now takes twice the samples
			return
		}
	}
	s.pts = append(s.pts, s.cur)
	s.cur = bucket{}
}

// fold combines a value standing for n samples with one standing for m.
func (s *Sampler) fold(a float64, n int64, b float64, m int64) float64 {
	switch s.reduce {
	case ReduceMax:
		if b > a || math.IsNaN(a) {
			return b
		}
		return a
	case ReduceLast:
		return b
	}
	return (a*float64(n) + b*float64(m)) / float64(n+m)
}

// halve merges adjacent pairs of points and doubles the stride.
func (s *Sampler) halve() {
	j := 0
	for i := 0; i+1 < len(s.pts); i += 2 {
		a, b := s.pts[i], s.pts[i+1]
		s.pts[j] = bucket{t: a.t, v: s.fold(a.v, a.n, b.v, b.n), n: a.n + b.n}
		j++
	}
	s.pts = s.pts[:j]
	s.stride *= 2
}

// Len returns the number of points [Sampler.Series] gives now.
func (s *Sampler) Len() int {
	if s.cur.n > 0 {
		return len(s.pts) + 1
	}
	return len(s.pts)
}

// Samples returns how many samples were added.
func (s *Sampler) Samples() int64 { return s.samples }

// Stride returns how many samples a full point stands for now.
func (s *Sampler) Stride() int64 { return s.stride }

// Series returns the points, the partly filled bucket last: at most Cap+1
// points (Cap once the last bucket fills). It is a fresh slice.
func (s *Sampler) Series() Series {
	out := make(Series, 0, s.Len())
	for _, b := range s.pts {
		out = append(out, Point{T: b.t, V: b.v})
	}
	if s.cur.n > 0 {
		out = append(out, Point{T: s.cur.t, V: s.cur.v})
	}
	return out
}

// Downsample returns s reduced to at most n points (n >= 1) by merging
// runs of adjacent points with reduce, each point of the result at the T
// of its run's first point: what a report does with a series a runtime
// kept whole. s itself is not modified; a series of at most n points is
// returned as a copy.
func Downsample(s Series, n int, reduce Reduce) Series {
	if n < 1 {
		n = 1
	}
	if len(s) <= n {
		return append(Series(nil), s...)
	}
	per := (len(s) + n - 1) / n
	out := make(Series, 0, n)
	sm := Sampler{reduce: reduce}
	for i := 0; i < len(s); i += per {
		run := s[i:min(i+per, len(s))]
		v, k := run[0].V, int64(1)
		for _, p := range run[1:] {
			v = sm.fold(v, k, p.V, 1)
			k++
		}
		out = append(out, Point{T: run[0].T, V: v})
	}
	return out
}
