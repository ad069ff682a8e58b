package datasets

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
)

// Generator is one built-in dataset: a deterministic event generator with a
// fixed schema. Get one with [Lookup]. Only this package implements it.
type Generator interface {
	// Name is the dataset's name (ysb, nexmark, ...).
	Name() string
	// Schema is the schema of its events.
	Schema() dataflow.Schema
	// PartitionKey names the column the log is partitioned by (a key's
	// records are in one partition, in order), or "" for round robin.
	PartitionKey() string
	// Tables returns the dataset's lookup tables for a seed, by name (empty
	// for datasets without tables). They are fresh copies.
	Tables(seed uint64) map[string]*dataflow.Table

	// newStream returns the event stream for cfg (defaults applied), with
	// pooled strings interned in l's dictionaries.
	newStream(l *Log, cfg Config) stream
}

// stream generates events in event-time order. It is not safe for
// concurrent use.
type stream interface {
	// fill writes the next n events into rows [0, n) of b: every column, and
	// b.part. Event numbers run on from the previous call.
	fill(b *batch, n int)
}

// generators lists the built-in datasets. A function, not a global, so
// nothing is shared between callers.
func generators() []Generator {
	return []Generator{ysbGen{}, nexmarkGen{}, weblogsGen{}, hashtagsGen{}, sessionsGen{}, iotGen{}, transactionsGen{}}
}

// Names returns the names of the built-in datasets, sorted.
func Names() []string {
	var ns []string
	for _, g := range generators() {
		ns = append(ns, g.Name())
	}
	slices.Sort(ns)
	return ns
}

// Lookup returns the named generator.
func Lookup(name string) (Generator, error) {
	for _, g := range generators() {
		if g.Name() == name {
			return g, nil
		}
	}
	return nil, fmt.Errorf("datasets: no dataset %q; choose one of %s", name, strings.Join(Names(), ", "))
}

// NewLogFor returns an empty log for gen's events under cfg (partitions and
// chunk size).
func NewLogFor(gen Generator, cfg Config) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return NewLog(LogConfig{Schema: gen.Schema(), Partitions: cfg.Partitions, ChunkRows: cfg.ChunkRows})
}

// Generate fills a new log with cfg.Events events of the named dataset as
// fast as possible, sets its [Log.EventTimeShift], flushes and closes it, and
// returns it with the dataset's lookup tables. Ingest times come from the
// real clock.
func Generate(ctx context.Context, name string, cfg Config) (*Log, map[string]*dataflow.Table, error) {
	gen, err := Lookup(name)
	if err != nil {
		return nil, nil, err
	}
	l, err := NewLogFor(gen, cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := Fill(ctx, gen, l, cfg, Pacing{}); err != nil {
		return nil, nil, err
	}
	return l, gen.Tables(cfg.Seed), nil
}

// Fill appends cfg.Events events of gen to l, which must be empty and have
// gen's schema, paced as p says; then flushes and closes l. It blocks until
// done or ctx is done (it then returns ctx.Err() and leaves l open, with
// what it appended flushed), so run it in a goroutine you own to read while
// it fills. Ingest times are p.Clock's time at append (with no rate, the
// log's clock); records become visible at least every millisecond's worth
// of events. It sets [Log.EventTimeShift] from the first record.
func Fill(ctx context.Context, gen Generator, l *Log, cfg Config, p Pacing) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if !l.Schema().Equal(gen.Schema()) {
		return fmt.Errorf("datasets: fill %s: log schema %v is not the dataset's %v", gen.Name(), l.Schema(), gen.Schema())
	}
	if l.Len() != 0 || l.Closed() {
		return fmt.Errorf("datasets: fill %s: the log must be new (it has %d records, closed %v)", gen.Name(), l.Len(), l.Closed())
	}
	cfg = cfg.withDefaults()
	cfg.Partitions = l.Partitions()
	if p.Unbounded {
		if err := StreamsInBoundedMemory(gen.Name()); err != nil {
			return err
		}
	}
	f := newFiller(gen, l, cfg)
	if p.Rate == 0 {
		return f.runFast(ctx)
	}
	p.Clock = clock.OrReal(p.Clock)
	if p.Unbounded {
		return f.runUnbounded(ctx, p)
	}
	return f.runPaced(ctx, p)
}

// StreamsInBoundedMemory returns nil if the named dataset can be generated
// as an unbounded stream ([Pacing.Unbounded]) whose memory a log's
// [Retention] bounds, or the reason it cannot: a dataset that interns a new
// string per event grows its dictionary ([Dict]), which a log never
// releases (chunks hold codes into it), with the stream's length.
func StreamsInBoundedMemory(name string) error {
	switch name {
	case "hashtags":
		return errors.New("datasets: hashtags cannot stream in bounded memory: each tweet's text is a new string in the log's dictionary, which retention does not release; run it with a number of events")
	case "nexmark":
		return errors.New("datasets: nexmark cannot stream in bounded memory: each new person's email and credit card are new strings in the log's dictionaries, which retention does not release; run it with a number of events")
	}
	if _, err := Lookup(name); err != nil {
		return err
	}
	return nil
}

// expected returns how many events pacing p has due after elapsed time e.
func (p *Pacing) expected(e time.Duration) float64 {
	rate := p.Rate
	var at time.Duration
	var n float64
	for _, s := range p.Steps {
		if e <= s.After {
			break
		}
		n += rate * (s.After - at).Seconds()
		at, rate = s.After, s.Rate
	}
	return n + rate*(e-at).Seconds()
}

// dueAt returns the elapsed time at which pacing p has k events due (the
// inverse of expected), rounded up to the nanosecond.
func (p *Pacing) dueAt(k int64) time.Duration {
	rate := p.Rate
	var at time.Duration
	var n float64
	for _, s := range p.Steps {
		m := n + rate*(s.After-at).Seconds()
		if float64(k) <= m {
			break
		}
		n, at, rate = m, s.After, s.Rate
	}
	// Saturate rather than overflow: at a rate of one event in centuries
	// the due time is beyond any wait (the fill then sleeps until its
	// context is done).
	d := math.Ceil((float64(k) - n) / rate * 1e9)
	if !(d < float64(math.MaxInt64-at)) {
		return math.MaxInt64
	}
	return at + time.Duration(d)
}

// newRand returns the PCG source of one stream of a dataset's randomness.
func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }
