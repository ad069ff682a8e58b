// Package metrics holds the measurement pieces both runtimes and compare
// share: latency histograms (HdrHistogram, so percentiles come from the
// whole distribution, never from a sample average), the two latency
// figures of Karimov et al. (ICDE 2018) that DESIGN.md fixes, and the time
// series ([Series] of [Point]) the runtimes sample and compare plots. There
// is one definition of each, so a runtime's report hands them to compare
// as they are, without conversion.
//
// A Histogram is not safe for concurrent use: give each goroutine its own
// and Merge them when the run ends.
//
// # Bounded memory
//
// Everything here has fixed memory however long a run lasts, as an
// unbounded stream (`bench run --duration`) needs: a [Histogram] has fixed
// buckets (HdrHistogram, 1 µs to 1 h at 3 significant digits, about 200 KB
// each, whatever the count); a [Sampler] keeps a time series in at most a
// fixed number of points, halving its resolution as the run goes on;
// [Downsample] reduces a series a runtime kept whole before it is written.
// [RSS] reads the process's resident memory, the figure a flat-memory
// claim is measured by.
package metrics

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram records durations in microseconds from 1 µs to 1 hour with 3
// significant digits.
type Histogram struct {
	h *hdrhistogram.Histogram
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)}
}

// Record adds one duration. Negative durations (possible for event-time
// latency when a run ingests faster than event time advances) record as 0;
// durations over an hour record as an hour.
func (h *Histogram) Record(d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < 1 {
		us = 1
	}
	if max := h.h.HighestTrackableValue(); us > max {
		us = max
	}
	_ = h.h.RecordValue(us) // in range by construction
}

// RecordNanos adds one duration given in nanoseconds.
func (h *Histogram) RecordNanos(ns int64) { h.Record(time.Duration(ns)) }

// Merge adds every value of o.
func (h *Histogram) Merge(o *Histogram) {
	if o != nil {
		h.h.Merge(o.h)
	}
}

// Count returns the number of recorded values.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// Quantile returns the value at percentile q (0 to 100).
func (h *Histogram) Quantile(q float64) time.Duration {
	return time.Duration(h.h.ValueAtQuantile(q)) * time.Microsecond
}

// Max returns the largest recorded value.
func (h *Histogram) Max() time.Duration { return time.Duration(h.h.Max()) * time.Microsecond }

// Reset empties the histogram.
func (h *Histogram) Reset() { h.h.Reset() }

// Summary is the percentiles reported for one latency figure, in ms.
type Summary struct {
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
	Count int64   `json:"count"`
}

// Summarize returns p50, p99 and max in milliseconds.
func (h *Histogram) Summarize() Summary {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return Summary{P50: ms(h.Quantile(50)), P99: ms(h.Quantile(99)), Max: ms(h.Max()), Count: h.Count()}
}

// Latency holds the two latency figures of every output (DESIGN.md):
// event-time latency, emit time minus the largest event time that
// contributed (shifted onto the wall clock by the log's event-time shift),
// and processing-time latency, emit time minus the largest ingest time that
// contributed.
type Latency struct {
	EventTime      *Histogram
	ProcessingTime *Histogram
	// since is when the run started (ns): see [Latency.Since].
	since int64
}

// Since returns l counting processing-time latency from sinceNanos for
// records ingested before it. A run that reads a log filled before it
// started (rate 0, or a log shared by several runs) would otherwise charge
// each record the time it waited in the log before the run began; from the
// run's point of view such a record was ingested when the run started.
// Runtimes call it with their start time.
func (l Latency) Since(sinceNanos int64) Latency {
	l.since = sinceNanos
	return l
}

// NewLatency returns empty latency histograms.
func NewLatency() Latency {
	return Latency{EventTime: NewHistogram(), ProcessingTime: NewHistogram()}
}

// Observe records one output emitted at emitNanos whose contributing records
// had largest event time maxEventMs (already shifted to wall-clock ms) and
// largest ingest time maxIngestNanos.
func (l Latency) Observe(emitNanos, maxEventMs, maxIngestNanos int64) {
	maxIngestNanos = max(maxIngestNanos, l.since)
	l.EventTime.RecordNanos(emitNanos - maxEventMs*1e6)
	l.ProcessingTime.RecordNanos(emitNanos - maxIngestNanos)
}

// Merge adds o's values.
func (l Latency) Merge(o Latency) {
	l.EventTime.Merge(o.EventTime)
	l.ProcessingTime.Merge(o.ProcessingTime)
}

// Point is one sample of a time series: T is its x coordinate, seconds
// since the run started for a runtime's series (the swept quantity, such as
// the offered load, in a figure of compare), and V its value. It has no
// JSON tags on purpose: results files hold points as {"T":t,"V":v}.
type Point struct {
	T, V float64
}

// Series is a time series in sampling order (T does not decrease within a
// runtime's series). Reports keep one per name, as map[string]Series;
// whoever holds a report owns its series and may keep them.
type Series []Point
