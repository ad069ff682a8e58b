package datasets

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/internal/clock"
)

func gen(t *testing.T, name string, cfg Config) *Log {
	t.Helper()
	l, _, err := Generate(context.Background(), name, cfg)
	require.NoError(t, err, "Generate(%s, %+v)", name, cfg)
	require.True(t, l.Closed())
	return l
}

// wantSchemas are the dataset schemas fixed by the shared decisions.
var wantSchemas = map[string]string{
	"ysb":          "(user_id string, page_id string, ad_id string, ad_type string, event_type string, event_time timestamp, ip_address string)",
	"nexmark":      "(event_type int64, event_time timestamp, person_id int64, name string, email string, credit_card string, city string, state string, auction_id int64, item_name string, description string, initial_bid int64, reserve int64, expires timestamp, seller int64, category int64, auction int64, bidder int64, price int64, channel string, url string, extra string)",
	"weblogs":      "(domain string, path string, status int64, bytes int64, latency_ms float64, client_ip string, event_time timestamp)",
	"hashtags":     "(tweet_id int64, user_id int64, text string, event_time timestamp)",
	"sessions":     "(user_id string, action string, page string, event_time timestamp)",
	"iot":          "(sensor_id string, temperature float64, humidity float64, event_time timestamp)",
	"transactions": "(card_id string, merchant string, amount int64, country string, event_time timestamp)",
}

var wantKeys = map[string]string{"ysb": "user_id", "weblogs": "client_ip", "hashtags": "user_id", "sessions": "user_id", "iot": "sensor_id", "transactions": "card_id", "nexmark": ""}

func TestNamesAndLookup(t *testing.T) {
	assert.Equal(t, []string{"hashtags", "iot", "nexmark", "sessions", "transactions", "weblogs", "ysb"}, Names())
	for _, n := range Names() {
		g, err := Lookup(n)
		require.NoError(t, err)
		assert.Equal(t, n, g.Name())
		assert.Equal(t, wantSchemas[n], g.Schema().String(), "%s schema", n)
		assert.NoError(t, g.Schema().Validate())
		assert.Equal(t, wantKeys[n], g.PartitionKey(), "%s partition key", n)
	}
	_, err := Lookup("nope")
	assert.ErrorContains(t, err, `no dataset "nope"; choose one of hashtags, iot, nexmark`)
}

func TestConfigErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Events: -1}, "events must not be negative"},
		{Config{Partitions: -2}, "must not be negative"},
		{Config{EventRate: -5}, "event rate"},
		{Config{EventRate: math.NaN()}, "event rate"},
		{Config{Skew: Skew{OutOfOrder: 1.5, Delay: time.Second}}, "shares"},
		{Config{Skew: Skew{OutOfOrder: 0.1}}, "needs a delay"},
		{Config{Skew: Skew{Late: 0.1}}, "late delay"},
		{Config{InOrder: true, Skew: DefaultSkew()}, "both InOrder and a Skew"},
	} {
		_, _, err := Generate(ctx, "ysb", tc.cfg)
		assert.ErrorContains(t, err, tc.want, "Generate(%+v)", tc.cfg)
	}
	l := gen(t, "ysb", Config{Events: 10})
	assert.ErrorContains(t, Fill(ctx, ysbGen{}, l, Config{}, Pacing{}), "must be new")
	l2, err := NewLogFor(iotGen{}, Config{})
	require.NoError(t, err)
	assert.ErrorContains(t, Fill(ctx, ysbGen{}, l2, Config{}, Pacing{}), "schema")
	l3, err := NewLogFor(ysbGen{}, Config{})
	require.NoError(t, err)
	assert.ErrorContains(t, Fill(ctx, ysbGen{}, l3, Config{}, Pacing{Rate: -1}), "pacing rate")
	assert.ErrorContains(t, Fill(ctx, ysbGen{}, l3, Config{}, Pacing{Rate: 10, Steps: []RateStep{{After: time.Second, Rate: 0}}}), "rate must be between")
}

// dump renders a log as text, partition by partition.
func dump(l *Log) string {
	var b strings.Builder
	for p := range l.Partitions() {
		for r := range l.Records(p, 0) {
			fmt.Fprintf(&b, "%d %v\n", p, r.Row)
		}
	}
	return b.String()
}

// TestDeterminism checks DS1 for every dataset: the same seed gives the same
// log, another seed another one.
func TestDeterminism(t *testing.T) {
	for _, n := range Names() {
		t.Run(n, func(t *testing.T) {
			cfg := Config{Events: 3000, Seed: 7, Partitions: 3, ChunkRows: 1000}
			a, b := dump(gen(t, n, cfg)), dump(gen(t, n, cfg))
			assert.Equal(t, a, b)
			cfg.Seed = 8
			assert.NotEqual(t, a, dump(gen(t, n, cfg)))
		})
	}
}

// TestGoldenPrefix pins the first events of ysb and nexmark for seed 1, so a
// change to the data (which breaks DS1 across versions) is seen in review.
func TestGoldenPrefix(t *testing.T) {
	l := gen(t, "ysb", Config{Events: 100, Seed: 1, InOrder: true})
	row, _ := l.Read(0, 0, nil)
	assert.Equal(t, "[7a4fd226-ee16-487c-b862-24e14abb3136 0272b0df-92c4-457c-a3e0-b6856594e3bb 1018492d-c472-413a-ba8b-24ddb21831d7 banner purchase 1767225600000 10.253.234.132]", fmt.Sprint(row))
}

// TestPartitionKey checks that every key value lives in one partition.
func TestPartitionKey(t *testing.T) {
	for _, n := range Names() {
		g, _ := Lookup(n)
		if g.PartitionKey() == "" {
			continue
		}
		t.Run(n, func(t *testing.T) {
			l := gen(t, n, Config{Events: 5000, Seed: 3})
			k := g.Schema().Index(g.PartitionKey())
			where := map[string]int{}
			for r := range l.All() {
				key := r.Row[k].String()
				if p, ok := where[key]; ok && p != r.Partition {
					t.Fatalf("key %s in partitions %d and %d", key, p, r.Partition)
				}
				where[key] = r.Partition
				assert.Equal(t, partitionOf(r.Row[k], l.Partitions()), int32(r.Partition))
			}
			assert.Greater(t, len(where), 4)
		})
	}
}

// TestSkew checks DS3: in order without skew; with skew, records arrive at
// most Delay behind the largest event time before them, a share of them out
// of order, and late ones LateDelay/2..LateDelay behind.
func TestSkew(t *testing.T) {
	maxBehind := func(l *Log) (behind []int64) {
		for p := range l.Partitions() {
			hi := int64(math.MinInt64)
			for r := range l.Records(p, 0) {
				t := r.Row[l.Schema().Index("event_time")].I
				if t < hi {
					behind = append(behind, hi-t)
				}
				hi = max(hi, t)
			}
		}
		return behind
	}
	n := int64(20000)
	l := gen(t, "iot", Config{Events: n, Seed: 1, InOrder: true})
	assert.Empty(t, maxBehind(l), "in-order data")
	assert.Equal(t, n, l.Len())

	l = gen(t, "iot", Config{Events: n, Seed: 1, EventRate: 1000})
	b := maxBehind(l)
	assert.NotEmpty(t, b)
	assert.LessOrEqual(t, slices.Max(b), int64(2000), "default skew stays within its 2 s delay")
	assert.Equal(t, n, l.Len())

	l = gen(t, "iot", Config{Events: n, Seed: 1, EventRate: 1000, Skew: Skew{Late: 0.01, LateDelay: 10 * time.Second}})
	b = maxBehind(l)
	late := 0
	for _, d := range b {
		if d >= 4000 { // LateDelay/2 minus the partition's rate spread
			late++
		}
	}
	assert.InDelta(t, 0.01*float64(n), float64(late), 0.004*float64(n), "late records")
	assert.LessOrEqual(t, slices.Max(b), int64(10000))
}

func TestEventTimeline(t *testing.T) {
	l := gen(t, "ysb", Config{Events: 1000, Seed: 1, InOrder: true, Partitions: 1, EventRate: 100, Start: 5000})
	var ts []int64
	for r := range l.Records(0, 0) {
		ts = append(ts, r.Row[ysbEventTime].I)
	}
	assert.Equal(t, int64(5000), ts[0])
	assert.Equal(t, int64(5000+999*10), ts[999])
	assert.True(t, slices.IsSorted(ts))
	// Shift maps the first event time to the first ingest time.
	r, ing := l.Read(0, 0, nil)
	assert.Equal(t, ing/1e6, r[ysbEventTime].I+l.EventTimeShift())
}

func TestYSB(t *testing.T) {
	tables := ysbGen{}.Tables(1)
	camp := tables["campaigns"]
	require.NotNil(t, camp)
	assert.Len(t, camp.Rows, 1000)
	idx, err := camp.Index("ad_id")
	require.NoError(t, err)
	campaigns := map[string]int{}
	for _, r := range camp.Rows {
		campaigns[r[1].S]++
	}
	assert.Len(t, campaigns, 100)
	for _, c := range campaigns {
		assert.Equal(t, 10, c)
	}
	l := gen(t, "ysb", Config{Events: 30000, Seed: 1})
	counts := map[string]int{}
	users, types := map[string]bool{}, map[string]bool{}
	for r := range l.All() {
		_, ok := idx[r.Row[ysbAd].S]
		require.True(t, ok, "ad %s not in campaigns", r.Row[ysbAd].S)
		counts[r.Row[ysbEventType].S]++
		users[r.Row[ysbUser].S] = true
		types[r.Row[ysbAdType].S] = true
	}
	assert.Len(t, users, 100)
	assert.Len(t, types, 5)
	for _, e := range ysbEventTypes {
		assert.InDelta(t, 10000, counts[e], 500, "event_type %s", e)
	}
	assert.Len(t, strings.Split(camp.Rows[0][0].S, "-"), 5, "UUID-like id")
}

func TestNexmark(t *testing.T) {
	l := gen(t, "nexmark", Config{Events: 5000, Seed: 1, InOrder: true, Partitions: 1})
	types := map[int64]int{}
	persons := map[int64]bool{}
	auctions := map[int64]bool{}
	var off int64
	for r := range l.Records(0, 0) {
		row := r.Row
		id := off // in order, one partition: offset = event id
		off++
		et := row[nxEventType].I
		types[et]++
		switch et {
		case 0:
			assert.Equal(t, int64(0), id%50)
			assert.Equal(t, id/50+1000, row[nxPersonID].I)
			persons[row[nxPersonID].I] = true
			assert.NotEmpty(t, row[nxName].S)
		case 1:
			assert.Contains(t, []int64{1, 2, 3}, id%50)
			auctions[row[nxAuctionID].I] = true
			assert.GreaterOrEqual(t, row[nxReserve].I, row[nxInitialBid].I)
			assert.Greater(t, row[nxExpires].I, row[nxEventTime].I)
			assert.GreaterOrEqual(t, row[nxCategory].I, int64(10))
			assert.LessOrEqual(t, row[nxCategory].I, int64(14))
		case 2:
			assert.GreaterOrEqual(t, row[nxPrice].I, int64(100))
			assert.LessOrEqual(t, row[nxPrice].I, int64(100_000_000))
			assert.NotEmpty(t, row[nxChannel].S)
			assert.True(t, strings.HasPrefix(row[nxURL].S, "https://www.nexmark.com/"))
			assert.GreaterOrEqual(t, row[nxBidder].I, int64(1000))
			assert.LessOrEqual(t, row[nxBidder].I, id/50+1000+nxPersonLead)
			assert.Empty(t, row[nxName].S, "bids leave person columns empty")
		}
	}
	assert.Equal(t, map[int64]int{0: 100, 1: 300, 2: 4600}, types, "1:3:46")
	assert.Len(t, auctions, 300)
	assert.Len(t, persons, 100)
}

// TestPriceTableStable checks that no entry of the price table is so close
// to a rounding boundary that a last-bit difference in math.Pow on another
// machine could change it (DS1).
func TestPriceTableStable(t *testing.T) {
	tab := newPriceTable()
	assert.Equal(t, int64(100), tab[0])
	assert.Equal(t, int64(100_000_000), tab[priceSteps])
	for i := range tab {
		x := 100 * math.Pow(10, 6*float64(i)/priceSteps)
		frac := x - math.Floor(x)
		assert.Greater(t, math.Abs(frac-0.5), 1e-13*x, "entry %d = %v lies near a rounding boundary", i, x)
	}
}

func TestSessionsGaps(t *testing.T) {
	l := gen(t, "sessions", Config{Events: 20000, Seed: 1, InOrder: true})
	last := map[string]int64{}
	var within, between, near int
	for r := range l.All() {
		u, ts := r.Row[ssUserID].S, r.Row[ssEventTime].I
		if p, ok := last[u]; ok {
			g := ts - p
			require.GreaterOrEqual(t, g, int64(0), "user %s goes back in time", u)
			switch {
			case g < ssGapMs:
				within++
			default:
				between++
			}
			if g > ssGapMs-200 && g < ssGapMs+200 {
				near++
			}
		}
		last[u] = ts
	}
	assert.Greater(t, within, between, "bursts")
	assert.Greater(t, between, 500, "gaps between bursts")
	assert.Greater(t, near, 200, "gaps near the 30 s boundary")
}

func TestTransactionsFraudBursts(t *testing.T) {
	l := gen(t, "transactions", Config{Events: 50000, Seed: 1, InOrder: true, EventRate: 10})
	times := map[string][]int64{}
	for r := range l.All() {
		c := r.Row[txCardID].S
		times[c] = append(times[c], r.Row[txEventTime].I)
	}
	bursts := 0
	for _, ts := range times {
		slices.Sort(ts)
		for i := 5; i < len(ts); i++ {
			if ts[i]-ts[i-5] < 60_000 {
				bursts++
				break
			}
		}
	}
	assert.Greater(t, bursts, 10, "cards with more than 5 payments in a minute")
	assert.Less(t, bursts, 200)
}

func TestIoTAndWeblogsValues(t *testing.T) {
	l := gen(t, "iot", Config{Events: 50000, Seed: 1})
	anomalies := 0
	for r := range l.All() {
		temp, hum := r.Row[iotTemperature].Float64(), r.Row[iotHumidity].Float64()
		assert.True(t, hum >= 0 && hum <= 100, "humidity %v", hum)
		if temp < 0 || temp > 40 {
			anomalies++
		}
	}
	assert.Greater(t, anomalies, 0)
	assert.Less(t, anomalies, 30)

	l = gen(t, "weblogs", Config{Events: 20000, Seed: 1})
	domains := map[string]int{}
	for r := range l.All() {
		domains[r.Row[wlDomain].S]++
		assert.Positive(t, r.Row[wlLatency].Float64())
	}
	assert.LessOrEqual(t, len(domains), wlDomains)
	counts := slices.Sorted(func(yield func(int) bool) {
		for _, c := range domains {
			if !yield(c) {
				return
			}
		}
	})
	assert.Greater(t, counts[len(counts)-1], 5*counts[len(counts)/2], "skewed popularity")
}

func TestHashtagsText(t *testing.T) {
	l := gen(t, "hashtags", Config{Events: 2000, Seed: 1})
	for r := range l.All() {
		words := strings.Fields(r.Row[htText].S)
		tags := 0
		for _, w := range words {
			if strings.HasPrefix(w, "#") {
				tags++
			}
		}
		require.True(t, tags >= 1 && tags <= 3, "text %q has %d tags", r.Row[htText].S, tags)
		require.True(t, len(words)-tags >= 3 && len(words)-tags <= 8, "text %q", r.Row[htText].S)
	}
}

// TestFillPaced runs a paced fill in a synctest bubble: the fake clock
// advances only while the filler sleeps, so the ingest times are exact.
func TestFillPaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := NewLogFor(ysbGen{}, Config{Partitions: 1})
		require.NoError(t, err)
		start := time.Now()
		p := Pacing{Rate: 1000, Steps: []RateStep{{After: 100 * time.Millisecond, Rate: 10_000}}}
		done := make(chan error, 1)
		go func() { done <- Fill(t.Context(), ysbGen{}, l, Config{Events: 1100, InOrder: true, Partitions: 1}, p) }()
		// Readers see records while the fill runs.
		require.NoError(t, l.Wait(t.Context(), 0, 50))
		assert.False(t, l.Closed())
		require.NoError(t, <-done)
		assert.Equal(t, int64(1100), l.Len())
		// 100 events in the first 100 ms, then 1000 in the next 100 ms.
		elapsed := time.Since(start)
		assert.InDelta(t, 200*time.Millisecond, elapsed, float64(3*time.Millisecond))
		_, ing := l.Read(0, 500, nil)
		assert.InDelta(t, float64(start.Add(140*time.Millisecond).UnixNano()), float64(ing), float64(2*time.Millisecond))
		var prev int64
		for r := range l.Records(0, 0) {
			assert.GreaterOrEqual(t, r.IngestNanos, prev)
			prev = r.IngestNanos
		}
	})
}

// A manual clock paces a fill step by step: at 1000 events/s the filler
// appends one event, waits 1 ms on the clock, and is woken only by Advance,
// so after k advances exactly k+1 events are visible, ingested k ms in.
func TestFillPacedManualClock(t *testing.T) {
	const events = 20
	start := time.UnixMilli(1_700_000_000_000)
	clk := clock.NewManual(start)
	l, err := NewLogFor(ysbGen{}, Config{Partitions: 1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		done <- Fill(t.Context(), ysbGen{}, l, Config{Events: events, InOrder: true, Partitions: 1}, Pacing{Rate: 1000, Clock: clk})
	}()
	for k := range events - 1 {
		require.NoError(t, clk.BlockUntil(t.Context(), 1), "the filler waits on the clock")
		assert.Equal(t, int64(k+1), l.Len(), "events visible after %d ms", k)
		_, ing := l.Read(0, int64(k), nil)
		assert.Equal(t, start.Add(time.Duration(k)*time.Millisecond).UnixNano(), ing, "ingest time of event %d", k)
		clk.Advance(time.Millisecond)
	}
	require.NoError(t, <-done)
	assert.True(t, l.Closed())
	assert.Equal(t, int64(events), l.Len())
	assert.Zero(t, clk.Waiters(), "the filler left no timer behind")
}

func TestFillCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := NewLogFor(ysbGen{}, Config{})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- Fill(ctx, ysbGen{}, l, Config{Events: 1e9, InOrder: true}, Pacing{Rate: 100}) }()
		time.Sleep(time.Second) // fake time: 100 events
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
		assert.False(t, l.Closed())
		assert.InDelta(t, 100, l.Len(), 3)
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := Generate(ctx, "ysb", Config{Events: 1 << 20})
	assert.ErrorIs(t, err, context.Canceled)
}

var _ = dataflow.Int

// TestZipf checks the alias table against the law: rank k has probability
// (1/(k+1)) / H(n).
func TestZipf(t *testing.T) {
	const n, draws = 50, 500_000
	z := newZipf(n)
	r := newRand(1, 1)
	counts := make([]int, n)
	for range draws {
		counts[z.sample(r.Uint64())]++
	}
	var h float64
	for k := range n {
		h += 1 / float64(k+1)
	}
	for k := range n {
		want := draws / float64(k+1) / h
		assert.InDelta(t, want, float64(counts[k]), 5*math.Sqrt(want)+1, "rank %d", k)
	}
}
