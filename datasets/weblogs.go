package datasets

import (
	"math/rand/v2"

	"github.com/weirlab/weir/dataflow"
)

// weblogsGen generates web server access logs: 40 domains with Zipf
// popularity, 200 paths (Zipf), status codes mostly 200 with redirects,
// client and server errors, response bytes and latency with a long tail,
// from 10,000 client addresses. Partitioned by client_ip.
type weblogsGen struct{}

const (
	wlDomain = iota
	wlPath
	wlStatus
	wlBytes
	wlLatency
	wlClientIP
	wlEventTime
)

const (
	wlDomains = 40
	wlPaths   = 200
	wlClients = 10000
)

func (weblogsGen) Name() string         { return "weblogs" }
func (weblogsGen) PartitionKey() string { return "client_ip" }
func (weblogsGen) Schema() dataflow.Schema {
	return schemaOf(str("domain"), str("path"), i64("status"), i64("bytes"), f64("latency_ms"), str("client_ip"), tstamp("event_time"))
}
func (weblogsGen) Tables(uint64) map[string]*dataflow.Table { return map[string]*dataflow.Table{} }

type weblogsStream struct {
	r                      rand.PCG
	tl                     timeline
	n                      int64
	domains, paths, client pool
	zd, zp                 zipf
}

func (weblogsGen) newStream(l *Log, cfg Config) stream {
	s := &weblogsStream{tl: newTimeline(cfg), zd: newZipf(wlDomains), zp: newZipf(wlPaths)}
	s.r.Seed(cfg.Seed, 2)
	r := newRand(cfg.Seed, 1)
	words := distinctWords(r, wlDomains+wlPaths, 4)
	doms := WeblogDomains()
	paths := make([]string, wlPaths)
	paths[0] = "/"
	for i := 1; i < wlPaths; i++ {
		switch i % 4 {
		case 0:
			paths[i] = "/" + words[wlDomains+i] + ".html"
		case 1:
			paths[i] = "/api/v1/" + words[wlDomains+i]
		case 2:
			paths[i] = "/static/" + words[wlDomains+i] + ".js"
		default:
			paths[i] = "/blog/" + words[wlDomains+i]
		}
	}
	p := cfg.Partitions
	s.domains = newPool(l.Dict(wlDomain), doms, p)
	s.paths = newPool(l.Dict(wlPath), paths, p)
	s.client = newPool(l.Dict(wlClientIP), ipv4s(r, wlClients, 172), p)
	return s
}

func (s *weblogsStream) fill(b *batch, n int) {
	for i := range n {
		x, y := s.r.Uint64(), s.r.Uint64()
		c := pick(uint32(x), wlClients)
		b.codes[wlClientIP][i] = s.client.codes[c]
		b.part[i] = s.client.parts[c]
		b.codes[wlDomain][i] = s.domains.codes[s.zd.sample(s.r.Uint64())]
		b.codes[wlPath][i] = s.paths.codes[s.zp.sample(s.r.Uint64())]
		var status int64
		switch k := pick(uint32(y>>32), 1000); {
		case k < 850:
			status = 200
		case k < 900:
			status = 304
		case k < 920:
			status = 301
		case k < 970:
			status = 404
		case k < 990:
			status = 500
		default:
			status = 503
		}
		b.ints[wlStatus][i] = status
		z := s.r.Uint64()
		bytes := int64(0)
		if status == 200 {
			// Roughly log-uniform from 256 B to 1 MiB.
			bytes = int64(256) << (z % 12)
			bytes += int64(z>>8%1024) * bytes / 1024
		} else {
			bytes = 100 + int64(z>>8%400)
		}
		b.ints[wlBytes][i] = bytes
		// Latency in microseconds: 1..50 ms, with a 1% tail up to 2 s;
		// computed in integers and converted once.
		us := 1000 + int64(z>>20%49000)
		if z>>50%100 == 0 {
			us += int64(z >> 30 % 2_000_000)
		}
		b.floats[wlLatency][i] = float64(us) / 1000
		b.ints[wlEventTime][i] = s.tl.at(s.n)
		s.n++
	}
}

// weblogDomainNames are the sites the weblogs dataset serves, most popular
// first (popularity is Zipf by this rank). They do not depend on the seed,
// so a workload can name the domains it filters, as the lecture's
// time-agnostic example does.
var weblogDomainNames = [wlDomains]string{
	"news", "shop", "mail", "video", "search", "maps", "docs", "blog",
	"forum", "music", "sports", "weather", "travel", "games", "photos", "jobs",
	"wiki", "bank", "health", "food", "books", "cars", "homes", "tickets",
	"learn", "code", "chat", "radio", "kids", "fashion", "garden", "pets",
	"art", "science", "movies", "finance", "events", "recipes", "deals", "tv",
}

// WeblogDomains returns the weblogs dataset's domain names, most popular
// first: "www.news.example", "www.shop.example", ...
func WeblogDomains() []string {
	out := make([]string, len(weblogDomainNames))
	for i, n := range weblogDomainNames {
		out[i] = "www." + n + ".example"
	}
	return out
}
