package datasets

import (
	"math/rand/v2"

	"github.com/weirlab/weir/dataflow"
)

// hashtagsGen generates tweets: 3 to 8 words from a 2,000-word vocabulary
// and 1 to 3 hashtags from 10,000 tags, both drawn from Zipf's law, mixed in
// one text; users are Zipf-distributed over 100,000 ids. Partitioned by
// user_id. Each text is a new string in the dictionary.
type hashtagsGen struct{}

const (
	htTweetID = iota
	htUserID
	htText
	htEventTime
)

const (
	htWords = 2000
	htTags  = 10000
	htUsers = 100000
	// htFirstTweet is the id of the first tweet.
	htFirstTweet = 1_000_000_000
)

func (hashtagsGen) Name() string         { return "hashtags" }
func (hashtagsGen) PartitionKey() string { return "user_id" }
func (hashtagsGen) Schema() dataflow.Schema {
	return schemaOf(i64("tweet_id"), i64("user_id"), str("text"), tstamp("event_time"))
}
func (hashtagsGen) Tables(uint64) map[string]*dataflow.Table { return map[string]*dataflow.Table{} }

type hashtagsStream struct {
	r          rand.PCG
	tl         timeline
	n          int64
	parts      int
	words      []string
	tags       []string
	zw, zt, zu zipf
	text       *Dict
	buf        []byte
}

func (hashtagsGen) newStream(l *Log, cfg Config) stream {
	s := &hashtagsStream{tl: newTimeline(cfg), parts: cfg.Partitions, zw: newZipf(htWords), zt: newZipf(htTags), zu: newZipf(htUsers), text: l.Dict(htText)}
	s.r.Seed(cfg.Seed, 2)
	r := newRand(cfg.Seed, 1)
	all := distinctWords(r, htWords+htTags, 5)
	s.words = all[:htWords]
	for _, w := range all[htWords:] {
		s.tags = append(s.tags, "#"+w)
	}
	return s
}

func (s *hashtagsStream) fill(b *batch, n int) {
	for i := range n {
		x := s.r.Uint64()
		// User ids are activity ranks: user 1 tweets most.
		u := int64(s.zu.sample(s.r.Uint64())) + 1
		b.ints[htUserID][i] = u
		b.part[i] = partitionOf(dataflow.Int(u), s.parts)
		b.ints[htTweetID][i] = htFirstTweet + s.n
		nw := 3 + pick(uint32(x>>32), 6)
		nt := 1 + pick(uint32(x), 3)
		// Tags go after word positions chosen by the random bits.
		buf := s.buf[:0]
		tagAt := s.r.Uint64()
		words := 0
		for words < nw || nt > 0 {
			if len(buf) > 0 {
				buf = append(buf, ' ')
			}
			y := s.r.Uint64()
			if nt > 0 && (words >= nw || tagAt&3 == 0) {
				buf = append(buf, s.tags[s.zt.sample(y)]...)
				nt--
			} else {
				buf = append(buf, s.words[s.zw.sample(y)]...)
				words++
			}
			tagAt >>= 2
		}
		s.buf = buf
		b.codes[htText][i] = s.text.Intern(string(buf))
		b.ints[htEventTime][i] = s.tl.at(s.n)
		s.n++
	}
}
