package datasets

import (
	"math/rand/v2"

	"github.com/weirlab/weir/dataflow"
)

// ysbGen is the Yahoo Streaming Benchmark's ad-event generator
// (yahoo/streaming-benchmarks data/src/setup/core.clj): 100 campaigns of 10
// ads each (UUID-like ids, in the "campaigns" table), 100 users, 100 pages,
// ad_type uniform over 5 values, event_type uniform over view, click and
// purchase, ip_address from a fixed pool of 64. Partitioned by user_id.
type ysbGen struct{}

const (
	ysbUser = iota
	ysbPage
	ysbAd
	ysbAdType
	ysbEventType
	ysbEventTime
	ysbIP
)

// Random streams of ysb.
const (
	ysbStreamIDs    = 1 // campaign, ad, user and page ids
	ysbStreamEvents = 2
)

// YSB sizes (core.clj).
const (
	ysbCampaigns   = 100
	ysbAdsPerCamp  = 10
	ysbUsers       = 100
	ysbPages       = 100
	ysbIPs         = 64
	ysbAdTypeCount = 5
)

var ysbAdTypes = [...]string{"banner", "modal", "sponsored-search", "mail", "mobile"}
var ysbEventTypes = [...]string{"view", "click", "purchase"}

func (ysbGen) Name() string         { return "ysb" }
func (ysbGen) PartitionKey() string { return "user_id" }
func (ysbGen) Schema() dataflow.Schema {
	return schemaOf(str("user_id"), str("page_id"), str("ad_id"), str("ad_type"), str("event_type"), tstamp("event_time"), str("ip_address"))
}

// ysbIDs are the dataset's id pools for a seed.
type ysbIDs struct {
	campaigns, ads, users, pages, ips []string
}

func newYSBIDs(seed uint64) ysbIDs {
	r := newRand(seed, ysbStreamIDs)
	var ids ysbIDs
	ids.campaigns = uuids(r, ysbCampaigns)
	ids.ads = uuids(r, ysbCampaigns*ysbAdsPerCamp)
	ids.users = uuids(r, ysbUsers)
	ids.pages = uuids(r, ysbPages)
	ids.ips = ipv4s(r, ysbIPs, 10)
	return ids
}

// Tables returns "campaigns" (ad_id string, campaign_id string): ad i
// belongs to campaign i/10.
func (ysbGen) Tables(seed uint64) map[string]*dataflow.Table {
	ids := newYSBIDs(seed)
	t := &dataflow.Table{Name: "campaigns", Schema: schemaOf(str("ad_id"), str("campaign_id"))}
	t.Rows = make([]dataflow.Row, len(ids.ads))
	for i, ad := range ids.ads {
		t.Rows[i] = dataflow.Row{dataflow.Str(ad), dataflow.Str(ids.campaigns[i/ysbAdsPerCamp])}
	}
	return map[string]*dataflow.Table{"campaigns": t}
}

type ysbStream struct {
	r                     rand.PCG
	tl                    timeline
	n                     int64
	users, pages, ads     pool
	adTypes, evTypes, ips pool
}

func (ysbGen) newStream(l *Log, cfg Config) stream {
	ids := newYSBIDs(cfg.Seed)
	p := cfg.Partitions
	s := &ysbStream{tl: newTimeline(cfg)}
	s.r.Seed(cfg.Seed, ysbStreamEvents)
	s.users = newPool(l.Dict(ysbUser), ids.users, p)
	s.pages = newPool(l.Dict(ysbPage), ids.pages, p)
	s.ads = newPool(l.Dict(ysbAd), ids.ads, p)
	s.adTypes = newPool(l.Dict(ysbAdType), ysbAdTypes[:], p)
	s.evTypes = newPool(l.Dict(ysbEventType), ysbEventTypes[:], p)
	s.ips = newPool(l.Dict(ysbIP), ids.ips, p)
	return s
}

// fill is the hot loop: two PCG draws per event, split into six choices.
func (s *ysbStream) fill(b *batch, n int) {
	users, pages, ads := b.codes[ysbUser][:n], b.codes[ysbPage][:n], b.codes[ysbAd][:n]
	adTypes, evTypes, ips := b.codes[ysbAdType][:n], b.codes[ysbEventType][:n], b.codes[ysbIP][:n]
	times, parts := b.ints[ysbEventTime][:n], b.part[:n]
	uc, up := s.users.codes[:ysbUsers], s.users.parts[:ysbUsers]
	pc, ac := s.pages.codes[:ysbPages], s.ads.codes[:ysbCampaigns*ysbAdsPerCamp]
	tc, ec, ic := s.adTypes.codes[:ysbAdTypeCount], s.evTypes.codes[:3], s.ips.codes[:ysbIPs]
	for i := range n {
		r1, r2 := s.r.Uint64(), s.r.Uint64()
		u := pick(uint32(r1), ysbUsers)
		users[i] = uc[u]
		parts[i] = up[u]
		pages[i] = pc[pick(uint32(r1>>32), ysbPages)]
		ads[i] = ac[pick(uint32(r2), ysbCampaigns*ysbAdsPerCamp)]
		x := uint32(r2 >> 32)
		adTypes[i] = tc[(x&0x3ff)*ysbAdTypeCount>>10]
		evTypes[i] = ec[(x>>10&0x7ff)*3>>11]
		ips[i] = ic[x>>26]
		times[i] = s.tl.at(s.n)
		s.n++
	}
}
