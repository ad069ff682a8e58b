package datasets

import (
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
	// Partitions is the number of log partitions (default 4).
	Partitions int
	// Skew is the event-time disorder (zero: [DefaultSkew]).
	Skew Skew
	// InOrder turns skew off: records arrive in event-time order. Skew must
	// then be zero.
	InOrder bool
	// EventRate is events per second of event time (default 100,000). The
	// sessions generator's users set their own pace (see its doc).
	EventRate float64
	// Start is the event time of the first event (default [DefaultStart]).
	Start dataflow.Time
	// ChunkRows is the log's chunk size (default 65536).
	ChunkRows int
}

// DefaultEvents is the default [Config.Events].
const DefaultEvents = 1_000_000

// Validate reports a config that cannot be generated.
func (c *Config) Validate() error {
	if c.Events < 0 {
		return fmt.Errorf("datasets: events must not be negative, got %d", c.Events)
	}
	if c.Partitions < 0 || c.ChunkRows < 0 {
		return fmt.Errorf("datasets: partitions (%d) and chunk rows (%d) must not be negative", c.Partitions, c.ChunkRows)
	}
	if c.EventRate < 0 || math.IsNaN(c.EventRate) || math.IsInf(c.EventRate, 0) {
		return fmt.Errorf("datasets: event rate must be a positive number of events per second (0 for the default), got %v", c.EventRate)
	}
	if c.InOrder && !c.Skew.IsZero() {
		return errors.New("datasets: config sets both InOrder and a Skew; keep one")
	}
	return c.Skew.Validate()
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
	// Rate is the ingestion rate in events per second of the clock; 0 means
	// as fast as possible.
	Rate float64
	// Steps change the rate at given times (sorted by After). A step's rate
	// must be positive.
	Steps []RateStep
	// Clock paces the fill and stamps its ingest times. Nil: [clock.Real]
	// (the wall clock, or the synctest bubble's fake clock); tests run
	// under testing/synctest or pass a *clock.Manual.
	Clock clock.Clock
}

// Validate reports rates that cannot be paced.
func (p *Pacing) Validate() error {
	if p.Rate < 0 || math.IsNaN(p.Rate) || math.IsInf(p.Rate, 0) {
		return fmt.Errorf("datasets: pacing rate must be >= 0 events per second (0: as fast as possible), got %v", p.Rate)
	}
	var last time.Duration
	for i, s := range p.Steps {
		if !(s.Rate > 0) || math.IsInf(s.Rate, 0) {
			return fmt.Errorf("datasets: pacing step %d: rate must be positive, got %v", i, s.Rate)
		}
		if s.After < last {
			return fmt.Errorf("datasets: pacing step %d: steps must be sorted by After (%v after %v)", i, s.After, last)
		}
		last = s.After
	}
	if p.Rate == 0 && len(p.Steps) > 0 {
		return errors.New("datasets: pacing steps need a positive starting Rate")
	}
	return nil
}
