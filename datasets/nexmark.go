package datasets

import (
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/weirlab/weir/dataflow"
)

// nexmarkGen is the NEXMark auction generator, following Beam's Generator
// (nexmark-and-peers.md 1.2): event id n has type person, auction or bid by
// n%50 (1:3:46); person and auction ids are computed from the event number
// (first id 1000); 3/4 of auctions have a hot seller, 1/2 of bids a hot
// auction, 3/4 a hot bidder (the second person of the latest block of 100);
// prices are log-uniform from $1 to $1M in cents; every event draws from its
// own PCG seeded with (seed, event id), so any event can be regenerated
// alone. Bids carry nexmark-flink's channel and url; bidder ids have
// Beam's single +1000 offset. Text fields (item names, descriptions, extra
// padding) come from per-dataset pools rather than fresh random strings,
// which keeps generation cheap; their content is not used by any query.
// Partitioned round robin by event number.
//
// One flat schema holds all three types; event_type is 0 (person), 1
// (auction) or 2 (bid), and columns of other types are zero or "".
type nexmarkGen struct{}

const (
	nxEventType = iota
	nxEventTime
	nxPersonID
	nxName
	nxEmail
	nxCreditCard
	nxCity
	nxState
	nxAuctionID
	nxItemName
	nxDescription
	nxInitialBid
	nxReserve
	nxExpires
	nxSeller
	nxCategory
	nxAuction
	nxBidder
	nxPrice
	nxChannel
	nxURL
	nxExtra
	nxColumns
)

// Beam GeneratorConfig constants.
const (
	nxPersonProp     = 1
	nxAuctionProp    = 3
	nxBidProp        = 46
	nxTotalProp      = nxPersonProp + nxAuctionProp + nxBidProp
	nxFirstPersonID  = 1000
	nxFirstAuctionID = 1000
	nxFirstCategory  = 10
	nxCategories     = 5
	nxActivePeople   = 1000
	nxInFlight       = 100
	nxPersonLead     = 10
	nxAuctionLead    = 10
	nxHotRatio100    = 100
	nxHotSellers     = 4
	nxHotAuctions    = 2
	nxHotBidders     = 4
	nxChannels       = 10000
	nxTextPool       = 1024
)

// Random streams of nexmark: event streams use the event id, pools use ids
// above 2^62.
const nxStreamPools = 1 << 62

var (
	nxFirstNames = [...]string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	nxLastNames  = [...]string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	nxCities     = [...]string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	nxStates     = [...]string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	nxHotChan    = [...]string{"Google", "Facebook", "Baidu", "Apple"}
)

func (nexmarkGen) Name() string         { return "nexmark" }
func (nexmarkGen) PartitionKey() string { return "" }
func (nexmarkGen) Schema() dataflow.Schema {
	return schemaOf(i64("event_type"), tstamp("event_time"), i64("person_id"), str("name"), str("email"),
		str("credit_card"), str("city"), str("state"), i64("auction_id"), str("item_name"), str("description"),
		i64("initial_bid"), i64("reserve"), tstamp("expires"), i64("seller"), i64("category"), i64("auction"),
		i64("bidder"), i64("price"), str("channel"), str("url"), str("extra"))
}

func (nexmarkGen) Tables(uint64) map[string]*dataflow.Table { return map[string]*dataflow.Table{} }

// priceSteps is the resolution of the log-uniform price table.
const priceSteps = 4096

// newPriceTable returns round(100 * 10^(6 i/priceSteps)) for i in
// [0, priceSteps]. Prices interpolate linearly in it with integer
// arithmetic; TestPriceTableStable checks no entry lies so near a rounding
// boundary that another machine's math.Pow could round it differently.
func newPriceTable() []int64 {
	t := make([]int64, priceSteps+1)
	for i := range t {
		t[i] = int64(math.Round(100 * math.Pow(10, 6*float64(i)/priceSteps)))
	}
	return t
}

type nexmarkStream struct {
	seed   uint64
	tl     timeline
	n      int64
	parts  int
	prices []int64

	zero                     [nxColumns]int32 // code of "" per string column
	names, cities, states    pool
	items, descs             pool
	extras                   [3]pool // by event type
	hotChan, hotURL          pool
	chans, chanURLs, baseURL pool
	d                        []*Dict
}

func (nexmarkGen) newStream(l *Log, cfg Config) stream {
	s := &nexmarkStream{seed: cfg.Seed, tl: newTimeline(cfg), parts: cfg.Partitions, prices: newPriceTable()}
	s.d = make([]*Dict, nxColumns)
	for c := range nxColumns {
		if d := l.Dict(c); d != nil {
			s.d[c] = d
			s.zero[c] = d.Intern("")
		}
	}
	p := cfg.Partitions
	var names []string
	for _, f := range nxFirstNames {
		for _, ln := range nxLastNames {
			names = append(names, f+" "+ln)
		}
	}
	s.names = newPool(l.Dict(nxName), names, p)
	s.cities = newPool(l.Dict(nxCity), nxCities[:], p)
	s.states = newPool(l.Dict(nxState), nxStates[:], p)
	r := newRand(cfg.Seed, nxStreamPools)
	s.items = newPool(l.Dict(nxItemName), randomStrings(r, nxTextPool, 20), p)
	s.descs = newPool(l.Dict(nxDescription), randomStrings(r, nxTextPool, 100), p)
	// Beam pads extra to average sizes 200 (person), 500 (auction) and 100
	// (bid) bytes, give or take 20%, counting the other fields; we pad
	// extra alone to about half of that.
	for t, size := range [3]int{100, 250, 50} {
		ex := make([]string, 64)
		for i := range ex {
			ex[i] = randomStringN(r, size*8/10+r.IntN(size*4/10+1))
		}
		s.extras[t] = newPool(l.Dict(nxExtra), ex, p)
	}
	s.hotChan = newPool(l.Dict(nxChannel), nxHotChan[:], p)
	hot := make([]string, len(nxHotChan))
	for i, c := range nxHotChan {
		hot[i] = "https://www.nexmark.com/" + c + "/item.htm?query=1"
	}
	s.hotURL = newPool(l.Dict(nxURL), hot, p)
	s.chans = newPool(l.Dict(nxChannel), numbered("channel-", nxChannels, 1), p)
	urls := make([]string, nxChannels)
	for i := range urls {
		urls[i] = "https://www.nexmark.com/item.htm?query=1&channel_id=" + strconv.Itoa(i)
	}
	s.chanURLs = newPool(l.Dict(nxURL), urls, p)
	s.baseURL = newPool(l.Dict(nxURL), []string{"https://www.nexmark.com/item.htm?query=1"}, p)
	return s
}

// randomStrings returns n strings of 3..maxLen characters: lower-case
// letters with about one space in 13 (Beam's nextString).
func randomStrings(r *rand.Rand, n, maxLen int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = randomStringN(r, 3+r.IntN(maxLen-2))
	}
	return out
}

func randomStringN(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		if r.IntN(13) == 0 {
			b[i] = ' '
		} else {
			b[i] = byte('a' + r.IntN(26))
		}
	}
	return string(b)
}

// Beam's id arithmetic.
func nxLastBase0PersonID(id int64) int64 {
	epoch, off := id/nxTotalProp, id%nxTotalProp
	if off >= nxPersonProp {
		off = nxPersonProp - 1
	}
	return epoch*nxPersonProp + off
}

func nxLastBase0AuctionID(id int64) int64 {
	epoch, off := id/nxTotalProp, id%nxTotalProp
	switch {
	case off < nxPersonProp:
		epoch--
		off = nxAuctionProp - 1
	case off >= nxPersonProp+nxAuctionProp:
		off = nxAuctionProp - 1
	default:
		off -= nxPersonProp
	}
	return epoch*nxAuctionProp + off
}

func nxNextBase0PersonID(id int64, r *rand.PCG) int64 {
	num := nxLastBase0PersonID(id) + 1
	active := min(num, nxActivePeople)
	return num - active + pickN(r.Uint64(), active+nxPersonLead)
}

func nxNextBase0AuctionID(id int64, r *rand.PCG) int64 {
	maxA := nxLastBase0AuctionID(id)
	minA := max(maxA-nxInFlight, 0)
	return minA + pickN(r.Uint64(), maxA-minA+1+nxAuctionLead)
}

// price returns a log-uniform price in cents from $1 to $1M.
func (s *nexmarkStream) price(r *rand.PCG) int64 {
	x := r.Uint64()
	i := x >> 52 // 12 bits: table step
	f := int64(x >> 32 & 0xfffff)
	lo, hi := s.prices[i], s.prices[i+1]
	return lo + (hi-lo)*f>>20
}

func (s *nexmarkStream) fill(b *batch, n int) {
	var r rand.PCG
	for i := range n {
		id := s.n
		s.n++
		r.Seed(s.seed, uint64(id))
		t := s.tl.at(id)
		b.part[i] = int32(id % int64(s.parts))
		for c := range nxColumns {
			switch {
			case b.ints[c] != nil:
				b.ints[c][i] = 0
			case b.codes[c] != nil:
				b.codes[c][i] = s.zero[c]
			}
		}
		b.ints[nxEventTime][i] = t
		switch off := id % nxTotalProp; {
		case off < nxPersonProp:
			s.person(b, i, id, &r)
		case off < nxPersonProp+nxAuctionProp:
			s.auction(b, i, id, t, &r)
		default:
			s.bid(b, i, id, &r)
		}
	}
}

func (s *nexmarkStream) person(b *batch, i int, id int64, r *rand.PCG) {
	b.ints[nxEventType][i] = 0
	b.ints[nxPersonID][i] = nxLastBase0PersonID(id) + nxFirstPersonID
	x := r.Uint64()
	b.codes[nxName][i] = s.names.codes[pick(uint32(x), len(s.names.codes))]
	b.codes[nxCity][i] = s.cities.codes[pick(uint32(x>>32), len(s.cities.codes))]
	y := r.Uint64()
	b.codes[nxState][i] = s.states.codes[pick(uint32(y), len(s.states.codes))]
	b.codes[nxExtra][i] = s.extras[0].codes[pick(uint32(y>>32), len(s.extras[0].codes))]
	// Email and credit card are per person: genuinely new strings.
	var buf [32]byte
	e := buf[:0]
	z := r.Uint64()
	for k := range 7 {
		e = append(e, byte('a'+(z>>(5*k))%26))
	}
	e = append(e, '@')
	for k := 7; k < 12; k++ {
		e = append(e, byte('a'+(z>>(5*k))%26))
	}
	e = append(e, ".com"...)
	b.codes[nxEmail][i] = s.d[nxEmail].Intern(string(e))
	cc := buf[:0]
	w := r.Uint64()
	for k := range 16 {
		if k > 0 && k%4 == 0 {
			cc = append(cc, ' ')
		}
		cc = append(cc, byte('0'+w%10))
		w /= 10
	}
	b.codes[nxCreditCard][i] = s.d[nxCreditCard].Intern(string(cc))
}

func (s *nexmarkStream) auction(b *batch, i int, id, t int64, r *rand.PCG) {
	b.ints[nxEventType][i] = 1
	b.ints[nxAuctionID][i] = nxLastBase0AuctionID(id) + nxFirstAuctionID
	var seller int64
	if pickN(r.Uint64(), nxHotSellers) > 0 {
		seller = nxLastBase0PersonID(id) / nxHotRatio100 * nxHotRatio100
	} else {
		seller = nxNextBase0PersonID(id, r)
	}
	b.ints[nxSeller][i] = seller + nxFirstPersonID
	b.ints[nxCategory][i] = nxFirstCategory + pickN(r.Uint64(), nxCategories)
	initial := s.price(r)
	b.ints[nxInitialBid][i] = initial
	b.ints[nxReserve][i] = initial + s.price(r)
	// Expiry: the mean auction lasts as long as it takes to generate
	// nxInFlight more auctions.
	horizon := s.tl.at(id+nxInFlight*nxTotalProp/nxAuctionProp) - t
	b.ints[nxExpires][i] = t + 1 + pickN(r.Uint64(), max(2*horizon, 1))
	x := r.Uint64()
	b.codes[nxItemName][i] = s.items.codes[pick(uint32(x), nxTextPool)]
	b.codes[nxDescription][i] = s.descs.codes[pick(uint32(x>>32), nxTextPool)]
	b.codes[nxExtra][i] = s.extras[1].codes[pick(uint32(r.Uint64()), len(s.extras[1].codes))]
}

func (s *nexmarkStream) bid(b *batch, i int, id int64, r *rand.PCG) {
	b.ints[nxEventType][i] = 2
	var auction int64
	if pickN(r.Uint64(), nxHotAuctions) > 0 {
		auction = nxLastBase0AuctionID(id) / nxHotRatio100 * nxHotRatio100
	} else {
		auction = nxNextBase0AuctionID(id, r)
	}
	b.ints[nxAuction][i] = auction + nxFirstAuctionID
	var bidder int64
	if pickN(r.Uint64(), nxHotBidders) > 0 {
		bidder = nxLastBase0PersonID(id)/nxHotRatio100*nxHotRatio100 + 1
	} else {
		bidder = nxNextBase0PersonID(id, r)
	}
	b.ints[nxBidder][i] = bidder + nxFirstPersonID
	b.ints[nxPrice][i] = s.price(r)
	x := r.Uint64()
	if x&1 == 0 {
		h := pick(uint32(x>>32), len(nxHotChan))
		b.codes[nxChannel][i] = s.hotChan.codes[h]
		b.codes[nxURL][i] = s.hotURL.codes[h]
	} else {
		c := pick(uint32(x>>32), nxChannels)
		b.codes[nxChannel][i] = s.chans.codes[c]
		if pick(uint32(x>>1), 10) < 9 {
			b.codes[nxURL][i] = s.chanURLs.codes[c]
		} else {
			b.codes[nxURL][i] = s.baseURL.codes[0]
		}
	}
	b.codes[nxExtra][i] = s.extras[2].codes[pick(uint32(r.Uint64()), len(s.extras[2].codes))]
}
