package datasets

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
)

// DefaultStart is where the built-in event-time timeline begins:
// 2026-01-01T00:00:00Z, in ms since the Unix epoch.
const DefaultStart dataflow.Time = 1767225600000

// DefaultEventRate is the default density of the event-time timeline: events
// per second of event time.
const DefaultEventRate = 100_000

// Skew is the event-time disorder a generator adds. Every record gets an
// arrival time (its event time plus a delay) and the log holds records in
// arrival order, so a record with a delay arrives after later events:
//
//   - a share OutOfOrder of the records is delayed uniformly by 0..Delay;
//   - a share Late is delayed uniformly by LateDelay/2..LateDelay ("very
//     late": behind any watermark whose bound is below LateDelay/2);
//   - the others arrive at their event time.
//
// The zero Skew in [Config] means [DefaultSkew]; set [Config.InOrder] for
// data without disorder.
type Skew struct {
	// Delay is the largest arrival delay of out-of-order records.
	Delay time.Duration
	// OutOfOrder is the share (0..1) of records delayed by up to Delay.
	OutOfOrder float64
	// Late is the share (0..1) of records delayed by LateDelay/2..LateDelay.
	Late float64
	// LateDelay is the largest delay of late records.
	LateDelay time.Duration
}

// DefaultSkew is the disorder of the built-in data: 5% of the records up to
// 2 s out of order and no late records, so a watermark bound of 5 s sees no
// late data.
func DefaultSkew() Skew { return Skew{Delay: 2 * time.Second, OutOfOrder: 0.05} }

// IsZero reports whether s adds no disorder.
func (s Skew) IsZero() bool { return s == Skew{} }

// Validate checks the shares and delays.
func (s Skew) Validate() error {
	switch {
	case !(s.OutOfOrder >= 0 && s.OutOfOrder <= 1), !(s.Late >= 0 && s.Late <= 1), s.OutOfOrder+s.Late > 1:
		return fmt.Errorf("datasets: skew shares must lie in [0, 1] and sum to at most 1, got out-of-order %v, late %v", s.OutOfOrder, s.Late)
	case s.Delay < 0 || s.LateDelay < 0:
		return fmt.Errorf("datasets: skew delays must not be negative, got delay %v, late delay %v", s.Delay, s.LateDelay)
	case s.OutOfOrder > 0 && s.Delay < time.Millisecond:
		return fmt.Errorf("datasets: skew out-of-order share %v needs a delay of at least 1ms, got %v", s.OutOfOrder, s.Delay)
	case s.Late > 0 && s.LateDelay < 2*time.Millisecond:
		return fmt.Errorf("datasets: skew late share %v needs a late delay of at least 2ms, got %v", s.Late, s.LateDelay)
	}
	return nil
}

// Config says what to generate. The zero value of every field is a valid
// default.
type Config struct {
	// Events is how many events to generate (default 1,000,000).
	Events int64
	// Seed selects the data: the same generator, seed and config give the
	// same events, in the same order, on every machine.
	Seed uint64
	// Partitions is the number of log partitions (default 4, at most
	// [MaxPartitions]).
	Partitions int
	// Skew is the event-time disorder (zero: [DefaultSkew]).
	Skew Skew
	// InOrder turns skew off: records arrive in event-time order. Skew must
	// then be zero.
	InOrder bool
	// EventRate is events per second of event time (default 100,000). The
	// sessions generator's users set their own pace (see its doc). Events
	// at EventRate must span at most [MaxTimelineSpan] of event time.
	EventRate float64
	// Start is the event time of the first event (default [DefaultStart]).
	Start dataflow.Time
	// ChunkRows is the log's chunk size (default 65536).
	ChunkRows int
}

// DefaultEvents is the default [Config.Events].
const DefaultEvents = 1_000_000

// MaxPartitions is the most partitions a log may have. Each partition with
// data holds at least one chunk of ChunkRows rows (64Ki by default), and
// the spouts of recordstream are one task per partition, so a count in the
// millions only exhausts memory; 1024 is more than any experiment needs
// (Kafka's own advice is a few thousand per broker).
const MaxPartitions = 1024

// MaxTimelineSpan is the longest event-time timeline a config may ask for
// (DS2: Events/EventRate seconds, plus the skew's delays): the range of a
// time.Duration, about 292 years. Event times, their differences and the
// latencies derived from them are then in range as int64 milliseconds and
// nanoseconds; a longer timeline would overflow them.
const MaxTimelineSpan = time.Duration(math.MaxInt64)

// Validate reports a config that cannot be generated.
func (c *Config) Validate() error {
	if c.Events < 0 {
		return fmt.Errorf("datasets: events must not be negative, got %d", c.Events)
	}
	if c.Partitions < 0 || c.ChunkRows < 0 {
		return fmt.Errorf("datasets: partitions (%d) and chunk rows (%d) must not be negative", c.Partitions, c.ChunkRows)
	}
	if c.Partitions > MaxPartitions {
		return fmt.Errorf("datasets: %d partitions are more than the %d a log may have; use 1 to %d (0: the default, 4)", c.Partitions, MaxPartitions, MaxPartitions)
	}
	if c.EventRate < 0 || math.IsNaN(c.EventRate) || math.IsInf(c.EventRate, 0) {
		return fmt.Errorf("datasets: event rate must be a positive number of events per second (0 for the default), got %v", c.EventRate)
	}
	if c.InOrder && !c.Skew.IsZero() {
		return errors.New("datasets: config sets both InOrder and a Skew; keep one")
	}
	if err := c.Skew.Validate(); err != nil {
		return err
	}
	return c.CheckTimeline()
}

// CheckTimeline reports a timeline (DS2) longer than [MaxTimelineSpan]:
// too many events for too low an EventRate (defaults applied), naming the
// lowest rate that fits.
func (c Config) CheckTimeline() error {
	if d := c.withDefaults(); !d.timelineFits() {
		return fmt.Errorf("datasets: %d events at %v events per second of event time span %s of event time, more than the 292 years (the range of a time.Duration) a timeline may span; "+
			"use an event rate of at least %.3g events per second, or fewer events", d.Events, d.EventRate, spanText(d), MinEventRate(d.Events))
	}
	return nil
}

// MinEventRate is the lowest [Config.EventRate] at which events events fit
// in [MaxTimelineSpan] (ignoring the skew's delays, which are at most a few
// seconds in practice).
func MinEventRate(events int64) float64 {
	return float64(events) / MaxTimelineSpan.Seconds()
}

// timelineSpanMs is the span of c's timeline in ms: the last event's offset
// from Start (DS2) plus the largest skew delay, as a float so that it
// cannot overflow. c has its defaults.
func (c Config) timelineSpanMs() float64 {
	delay := max(c.Skew.Delay, c.Skew.LateDelay)
	return float64(c.Events)*1000/c.EventRate + float64(delay.Milliseconds())
}

// timelineFits reports whether c's timeline (defaults applied) is at most
// [MaxTimelineSpan] and ends inside the int64 range of ms.
func (c Config) timelineFits() bool {
	span := c.timelineSpanMs()
	maxMs := float64(MaxTimelineSpan.Milliseconds())
	return span <= maxMs && float64(c.Start)+span < math.MaxInt64
}

// spanText prints c's timeline span in years, or says it overflows a
// float64.
func spanText(c Config) string {
	years := c.timelineSpanMs() / 1000 / (365.25 * 24 * 3600)
	if math.IsInf(years, 0) || math.IsNaN(years) {
		return "more years than a float64 holds"
	}
	return fmt.Sprintf("%.3g years", years)
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Events == 0 {
		c.Events = DefaultEvents
	}
	if c.Partitions == 0 {
		c.Partitions = 4
	}
	if c.EventRate == 0 {
		c.EventRate = DefaultEventRate
	}
	if c.Start == 0 {
		c.Start = DefaultStart
	}
	if c.ChunkRows == 0 {
		c.ChunkRows = 1 << 16
	}
	if c.Skew.IsZero() && !c.InOrder {
		c.Skew = DefaultSkew()
	}
	return c
}

// RateStep changes the pacing rate After the given time since the fill
// started.
type RateStep struct {
	After time.Duration
	Rate  float64
}

// Pacing says how fast [Fill] appends.
type Pacing struct {
	// Rate is the ingestion rate in events per second of the clock, from
	// [MinPacedRate] to [MaxPacedRate]; 0 means as fast as possible.
	Rate float64
	// Steps change the rate at given times (sorted by After). A step's rate
	// must be positive.
	Steps []RateStep
	// Clock paces the fill and stamps its ingest times. Nil: [clock.Real]
	// (the wall clock, or the synctest bubble's fake clock); tests run
	// under testing/synctest or pass a *clock.Manual.
	Clock clock.Clock
	// Unbounded makes a paced fill an unbounded stream: it ignores
	// [Config.Events] and generates events as the pacing makes them due,
	// batch by batch (nothing is generated ahead), until For has passed on
	// Clock or the fill's context is done, whichever comes first; then it
	// flushes, closes the log (the stream's end) and returns nil. Its
	// memory is the log's: with a [Retention], independent of how long it
	// runs. It needs a Rate.
	Unbounded bool
	// For bounds an unbounded fill's length (0: until the context is
	// done). Only with Unbounded.
	For time.Duration
}

// MinPacedRate and MaxPacedRate bound a [Pacing] rate: the time between
// two events, 1/rate seconds, must be at least a nanosecond (the clock's
// resolution; above a billion events per second no event would be due
// later than the one before) and at most the longest time.Duration (about
// 292 years; below it the due time of the second event overflows).
const (
	MinPacedRate = 1e9 / float64(math.MaxInt64) // events per second
	MaxPacedRate = 1e9                          // events per second
)

// PacedRateInRange reports whether r is a rate [Pacing] can pace: within
// [MinPacedRate, MaxPacedRate] (so not NaN or infinite).
func PacedRateInRange(r float64) bool { return r >= MinPacedRate && r <= MaxPacedRate }

// Validate reports rates that cannot be paced.
func (p *Pacing) Validate() error {
	if p.Rate != 0 && !PacedRateInRange(p.Rate) {
		return fmt.Errorf("datasets: pacing rate must be 0 (as fast as possible) or between %.3g and %.0e events per second (one event per 292 years to one per nanosecond), got %v",
			MinPacedRate, MaxPacedRate, p.Rate)
	}
	var last time.Duration
	for i, s := range p.Steps {
		if !PacedRateInRange(s.Rate) {
			return fmt.Errorf("datasets: pacing step %d: rate must be between %.3g and %.0e events per second, got %v", i, MinPacedRate, MaxPacedRate, s.Rate)
		}
		if s.After < last {
			return fmt.Errorf("datasets: pacing step %d: steps must be sorted by After (%v after %v)", i, s.After, last)
		}
		last = s.After
	}
	if p.Rate == 0 && len(p.Steps) > 0 {
		return errors.New("datasets: pacing steps need a positive starting Rate")
	}
	switch {
	case p.Unbounded && p.Rate == 0:
		return errors.New("datasets: an unbounded fill is paced: set a Rate above 0 (events per second)")
	case p.For < 0:
		return fmt.Errorf("datasets: pacing For %v must not be negative (0: until the context is done)", p.For)
	case p.For > 0 && !p.Unbounded:
		return fmt.Errorf("datasets: pacing For %v bounds an unbounded fill; set Unbounded too, or give the length as Config.Events", p.For)
	}
	return nil
}

// RowBytes is the memory one record of gen takes in an open (wide) chunk
// of a [Log], the one being appended: 8 bytes per int64, timestamp, bool
// or float64 column and for the ingest time, 4 per string column (a
// dictionary code). A sealed chunk takes less ([Chunk], [LogBytes]).
func RowBytes(gen Generator) int64 {
	n := int64(8) // ingest time
	for _, f := range gen.Schema().Fields {
		if f.Kind == dataflow.KindString {
			n += 4
		} else {
			n += 8
		}
	}
	return n
}

// MaxLogBytes bounds from above the memory the log of gen's events under
// cfg (defaults applied) holds: every chunk counted wide, RowBytes ×
// ChunkRows, with one chunk per ChunkRows events plus at most one partly
// filled chunk per partition with data. It costs nothing to compute; a
// sealed log takes much less ([LogBytes]). The string dictionaries and the
// lookup tables are small and left out. The result saturates at
// math.MaxInt64.
func MaxLogBytes(gen Generator, cfg Config) int64 {
	c := cfg.withDefaults()
	rows := float64(c.ChunkRows)
	chunks := math.Ceil(float64(c.Events)/rows) + float64(min(int64(c.Partitions), c.Events))
	return saturate(chunks * rows * float64(RowBytes(gen)))
}

// LogBytes estimates the memory the log of gen's events under cfg
// (defaults applied) holds at the end of a fill: every event at
// [SealedRowBytes] (sealed chunks, as the whole log is once closed) plus
// the open chunk of each partition with data, ChunkRows rows at
// [RowBytes], which the appender holds until the log is closed. It is an
// estimate, not a bound: see SealedRowBytes. The string dictionaries and
// the lookup tables are left out. The result saturates at math.MaxInt64
// and is never above [MaxLogBytes].
func LogBytes(gen Generator, cfg Config) int64 {
	c := cfg.withDefaults()
	open := float64(min(int64(c.Partitions), c.Events)) * float64(c.ChunkRows) * float64(RowBytes(gen))
	return min(MaxLogBytes(gen, cfg), saturate(float64(c.Events)*SealedRowBytes(gen, cfg)+open))
}

// sampleEvents and sampleBytes cap the sample [SealedRowBytes]
// generates: its events, and the memory of its open chunks.
const (
	sampleEvents = 1 << 19
	sampleBytes  = 64 << 20
)

// SealedRowBytes measures the bytes a record of gen's events under cfg
// takes in a sealed chunk: it generates the first min(Events, 2^19)
// events of cfg (same seed, partitions, chunk size, rate and skew) as fast
// as possible into a scratch log, closes it, and returns the largest
// bytes per row of its full sealed chunks (of its chunks sealed at Close,
// when none is full). So that the sample's open chunks take at most 64
// MiB, a config of many partitions is sampled with fewer rows per chunk,
// whose narrower ranges may underestimate. The widths of a column are those of its range in a
// chunk, so later chunks take the same unless that range grows: a
// dictionary that keeps growing (hashtags, nexmark) spreads its codes
// wider, and a paced fill slower than the sample's spreads a chunk's
// ingest times wider (ingest times take 4 bytes a record while a chunk is
// appended in under 4.29 s, 8 beyond). It costs the sample's generation
// (some 50 ms for the default 4 partitions); [RowBytes] if the sample
// cannot be made.
func SealedRowBytes(gen Generator, cfg Config) float64 {
	c := cfg.withDefaults()
	c.Events = min(c.Events, sampleEvents)
	wide := float64(RowBytes(gen))
	c.ChunkRows = max(1, min(c.ChunkRows, int(sampleBytes/(int64(c.Partitions)*RowBytes(gen)))))
	l, err := NewLogFor(gen, c)
	if err != nil {
		return wide
	}
	if err := Fill(context.Background(), gen, l, c, Pacing{}); err != nil {
		return wide
	}
	var full, partial float64
	for p := range l.Partitions() {
		for _, ch := range l.parts[p].chunks.Load().cs {
			if ch.Rows() == 0 {
				continue
			}
			b := float64(ch.Bytes()) / float64(ch.Rows())
			if ch.Rows() == c.ChunkRows {
				full = max(full, b)
			} else {
				partial = max(partial, b)
			}
		}
	}
	switch {
	case full > 0:
		return full
	case partial > 0:
		return partial
	}
	return wide
}

// saturate converts b to int64, saturating at math.MaxInt64.
func saturate(b float64) int64 {
	if b >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(b)
}
