package datasets

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/internal/clock"
)

// TestConfigRefusesOverflow: a config whose timeline overflows event time
// (DS2) or whose partitions only exhaust memory is refused before anything
// is generated, with the bound in the message.
func TestConfigRefusesOverflow(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" means valid
	}{
		{"default", Config{}, ""},
		{"most partitions", Config{Partitions: MaxPartitions}, ""},
		{"too many partitions", Config{Partitions: 100_000_000}, "use 1 to 1024"},
		{"one more partition", Config{Partitions: MaxPartitions + 1}, "more than the 1024"},
		{"tiny event rate", Config{Events: 200_000, EventRate: 1e-300}, "use an event rate of at least"},
		{"317 years", Config{Events: 1_000_000, EventRate: 1e-4}, "292 years"},
		{"31 years", Config{Events: 1_000_000, EventRate: 1e-3}, ""},
		{"default events at a low rate", Config{EventRate: 1e-5}, "event rate of at least 0.000108"},
		{"huge event rate", Config{EventRate: 1e300}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				assert.NoError(t, err, "Validate(%+v)", tc.cfg)
				return
			}
			assert.ErrorContains(t, err, tc.want, "Validate(%+v)", tc.cfg)
			_, err = NewLogFor(ysbGen{}, tc.cfg)
			assert.Error(t, err, "NewLogFor(%+v) validates", tc.cfg)
		})
	}
	_, err := NewLog(LogConfig{Schema: ysbGen{}.Schema(), Partitions: MaxPartitions + 1})
	assert.ErrorContains(t, err, "use 1 to 1024", "NewLog refuses too many partitions")
}

// TestPacingRange: a paced rate must leave between 1 ns and the longest
// time.Duration between two events; NaN and infinities are refused.
func TestPacingRange(t *testing.T) {
	for _, tc := range []struct {
		p  Pacing
		ok bool
	}{
		{Pacing{}, true},
		{Pacing{Rate: 1e9}, true},
		{Pacing{Rate: 2e-10}, true},
		{Pacing{Rate: 1e30}, false},
		{Pacing{Rate: 2e9}, false},
		{Pacing{Rate: math.Inf(1)}, false},
		{Pacing{Rate: math.NaN()}, false},
		{Pacing{Rate: 1e-11}, false},
		{Pacing{Rate: 10, Steps: []RateStep{{After: time.Second, Rate: 1e30}}}, false},
		{Pacing{Rate: 10, Steps: []RateStep{{After: time.Second, Rate: math.NaN()}}}, false},
		{Pacing{Rate: 10, Steps: []RateStep{{After: time.Second, Rate: 1e9}}}, true},
	} {
		err := tc.p.Validate()
		if tc.ok {
			assert.NoError(t, err, "Validate(%+v)", tc.p)
		} else {
			assert.ErrorContains(t, err, "between", "Validate(%+v)", tc.p)
		}
	}
}

// TestPacedFillAtAHugeRate pins the pacer's due count: after a millisecond
// at 1e30 events/s, 1e27 events are due, more than an int64 holds. The
// count once wrapped negative and no further event was ever due, so the fill
// slept a millisecond at a time forever; every event is due now.
func TestPacedFillAtAHugeRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const events = 5000
		cfg := Config{Events: events, InOrder: true, Partitions: 1}
		l, err := NewLogFor(ysbGen{}, cfg)
		require.NoError(t, err)
		f := newFiller(ysbGen{}, l, cfg.withDefaults())
		// Fake time: a hung fill ends at the deadline instead of never.
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		// Validate refuses the rate; the pacer must still be sound.
		require.NoError(t, f.runPaced(ctx, Pacing{Rate: 1e30, Clock: clock.Real()}))
		assert.Equal(t, int64(events), l.Len())
		assert.True(t, l.Closed())
	})
}

// TestDueAtSaturates: at a rate of one event in centuries the due time of
// a late event is beyond a time.Duration; it saturates instead of wrapping
// negative (which made the fill wake every millisecond).
func TestDueAtSaturates(t *testing.T) {
	for _, p := range []Pacing{{Rate: 1e-11}, {Rate: 1, Steps: []RateStep{{After: time.Second, Rate: 1e-12}}}} {
		for _, k := range []int64{2, 1_000_000, math.MaxInt64} {
			d := p.dueAt(k)
			assert.Positive(t, d, "dueAt(%d) at %+v", k, p)
		}
	}
	p := Pacing{Rate: 1000}
	assert.Equal(t, time.Second, p.dueAt(1000), "an ordinary due time is exact")
}

// TestLogBytes: the upper bound counts whole wide chunks, one partly
// filled chunk per partition, and saturates; the estimate counts the
// sealed bytes of a sample per event plus the open chunks.
func TestLogBytes(t *testing.T) {
	g := ysbGen{}
	row := RowBytes(g)
	assert.Equal(t, int64(8+8+6*4), row, "ysb: ingest, event_time, 6 string codes")
	chunk := int64(1<<16) * row
	assert.Equal(t, 5*chunk, MaxLogBytes(g, Config{Events: 10, Partitions: 4}), "10 events: one chunk per partition and one more")
	assert.Equal(t, 2*chunk, MaxLogBytes(g, Config{Events: 1, Partitions: 4}), "a partition without data holds no chunk")
	assert.Greater(t, MaxLogBytes(g, Config{Events: 1e15}), int64(1e15)*row-1, "10^15 events")
	assert.Equal(t, int64(math.MaxInt64), MaxLogBytes(g, Config{Events: math.MaxInt64}), "saturates")

	sealed := SealedRowBytes(g, Config{Seed: 1})
	assert.InDelta(t, 13, sealed, 1, "ysb: 7 bytes of codes, 2 of event time, 4 of ingest time")
	est := LogBytes(g, Config{Events: 1e8, Seed: 1})
	assert.Equal(t, int64(1e8*sealed)+4*chunk, est, "10^8 events: sealed bytes each, and the 4 open chunks")
	assert.Less(t, est, int64(16e8)+4*chunk, "at most 16 bytes a YSB event")
	assert.Equal(t, 4*chunk, LogBytes(g, Config{Events: 1e4, Partitions: 4, Seed: 1})-int64(1e4*SealedRowBytes(g, Config{Events: 1e4, Seed: 1})), "small logs: the open chunks dominate")
	one := LogBytes(g, Config{Events: 1, Partitions: 4})
	assert.Equal(t, chunk, one-one%chunk, "one event: the one open chunk and the event's sealed bytes")
	assert.LessOrEqual(t, one, MaxLogBytes(g, Config{Events: 1, Partitions: 4}), "never above the bound")
	assert.Greater(t, LogBytes(g, Config{Events: 1e15}), int64(1e15)*12, "10^15 events")
	assert.Equal(t, int64(math.MaxInt64), LogBytes(g, Config{Events: math.MaxInt64}), "saturates")
}
