package datasets

import (
	"math/rand/v2"

	"github.com/weirlab/weir/dataflow"
)

// transactionsGen generates card payments: 10,000 cards, each with a home
// country where 97% of its payments happen, 500 merchants (Zipf), amounts
// mostly $1 to $200 in cents. Now and then (one event in 2,000) a card
// starts a fraud burst: 6 to 12 payments 1 to 8 s apart (so more than 5
// within a minute), abroad, at random merchants, for larger amounts.
// Partitioned by card_id.
type transactionsGen struct{}

const (
	txCardID = iota
	txMerchant
	txAmount
	txCountry
	txEventTime
)

const (
	txCards     = 10000
	txMerchants = 500
	txBurstOdds = 2000
)

var txCountries = [...]string{"US", "GB", "DE", "FR", "NL", "ES", "IT", "SE", "PL", "CA", "BR", "MX", "JP", "KR", "IN", "AU", "NG", "ZA", "RU", "CN"}

func (transactionsGen) Name() string         { return "transactions" }
func (transactionsGen) PartitionKey() string { return "card_id" }
func (transactionsGen) Schema() dataflow.Schema {
	return schemaOf(str("card_id"), str("merchant"), i64("amount"), str("country"), tstamp("event_time"))
}
func (transactionsGen) Tables(uint64) map[string]*dataflow.Table { return map[string]*dataflow.Table{} }

// txBurst is a fraud burst in progress.
type txBurst struct {
	card    int
	next    int64 // event time of its next payment
	left    int
	country int
}

type transactionsStream struct {
	r                         rand.PCG
	tl                        timeline
	n                         int64
	cards, merchants, country pool
	home                      []int
	zm                        zipf
	bursts                    []txBurst
}

func (transactionsGen) newStream(l *Log, cfg Config) stream {
	s := &transactionsStream{tl: newTimeline(cfg), zm: newZipf(txMerchants)}
	s.r.Seed(cfg.Seed, 2)
	r := newRand(cfg.Seed, 1)
	p := cfg.Partitions
	s.cards = newPool(l.Dict(txCardID), numbered("card-", txCards, 5), p)
	ms := distinctWords(r, txMerchants, 4)
	for i := range ms {
		ms[i] += " store"
	}
	s.merchants = newPool(l.Dict(txMerchant), ms, p)
	s.country = newPool(l.Dict(txCountry), txCountries[:], p)
	s.home = make([]int, txCards)
	for i := range s.home {
		// Most cards are from the first few countries.
		s.home[i] = min(r.IntN(8), r.IntN(len(txCountries)))
	}
	return s
}

func (s *transactionsStream) fill(b *batch, n int) {
	for i := range n {
		t := s.tl.at(s.n)
		s.n++
		b.ints[txEventTime][i] = t
		x, y := s.r.Uint64(), s.r.Uint64()
		// A due burst payment takes this event's slot.
		due := -1
		for k := range s.bursts {
			if s.bursts[k].next <= t && (due < 0 || s.bursts[k].next < s.bursts[due].next) {
				due = k
			}
		}
		var card, country int
		var amount int64
		if due >= 0 {
			bu := &s.bursts[due]
			card, country = bu.card, bu.country
			amount = 20_000 + int64(pick(uint32(y), 180_000))
			bu.left--
			bu.next += 1000 + int64(pick(uint32(y>>32), 7001))
			if bu.left == 0 {
				s.bursts[due] = s.bursts[len(s.bursts)-1]
				s.bursts = s.bursts[:len(s.bursts)-1]
			}
		} else {
			card = pick(uint32(x), txCards)
			country = s.home[card]
			if pick(uint32(x>>32), 100) < 3 {
				country = int(y>>40) % len(txCountries)
			}
			amount = 100 + int64(pick(uint32(y), 19_900))
			if pickN(s.r.Uint64(), txBurstOdds) == 0 {
				z := s.r.Uint64()
				c := pick(uint32(z), txCards)
				s.bursts = append(s.bursts, txBurst{
					card:    c,
					next:    t + 1 + int64(z>>32%5000),
					left:    6 + int(z>>48%7),
					country: (s.home[c] + 1 + int(z>>56%uint64(len(txCountries)-1))) % len(txCountries),
				})
			}
		}
		b.codes[txCardID][i] = s.cards.codes[card]
		b.part[i] = s.cards.parts[card]
		b.codes[txCountry][i] = s.country.codes[country]
		b.codes[txMerchant][i] = s.merchants.codes[s.zm.sample(s.r.Uint64())]
		b.ints[txAmount][i] = amount
	}
}
