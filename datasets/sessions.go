package datasets

import (
	"math/rand/v2"

	"github.com/weirlab/weir/dataflow"
)

// sessionsGen generates user click streams in bursts: within a burst a
// user's events are less than 30 s apart, between bursts more than 30 s,
// and about 5% of the gaps lie near the 30 s boundary on either side
// (including exactly 30 s, which starts a new session under I3).
// Partitioned by user_id.
//
// Event times follow the users, not the timeline: each user's next event
// time is drawn from its gap distribution, and the stream merges users in
// time order. There are min(EventRate x 20 s, max(16, Events/32)) users, so
// every user has about 32 events (several sessions) even in small runs; the
// event rate is users / 20 s (the mean gap).
type sessionsGen struct{}

const (
	ssUserID = iota
	ssAction
	ssPage
	ssEventTime
)

const (
	ssGapMs     = 30_000
	ssMeanGapMs = 20_000
	ssPages     = 100
)

var ssActions = [...]string{"view", "view", "view", "click", "search", "add_to_cart", "purchase"}

func (sessionsGen) Name() string         { return "sessions" }
func (sessionsGen) PartitionKey() string { return "user_id" }
func (sessionsGen) Schema() dataflow.Schema {
	return schemaOf(str("user_id"), str("action"), str("page"), tstamp("event_time"))
}
func (sessionsGen) Tables(uint64) map[string]*dataflow.Table { return map[string]*dataflow.Table{} }

// ssUser is one user's schedule: its next event time and how many events
// remain in its current burst.
type ssUser struct {
	next int64
	left int32
	id   int32
}

type sessionsStream struct {
	r                   rand.PCG
	users               []ssUser // min-heap by (next, id)
	ids, actions, pages pool
}

func sessionUsers(cfg Config) int {
	return int(max(1, min(cfg.EventRate*ssMeanGapMs/1000, float64(max(16, cfg.Events/32)), 1<<22)))
}

func (sessionsGen) newStream(l *Log, cfg Config) stream {
	nu := sessionUsers(cfg)
	s := &sessionsStream{}
	s.r.Seed(cfg.Seed, 2)
	p := cfg.Partitions
	s.ids = newPool(l.Dict(ssUserID), numbered("user-", nu, 7), p)
	s.actions = newPool(l.Dict(ssAction), ssActions[:], p)
	s.pages = newPool(l.Dict(ssPage), numbered("/page/", ssPages, 3), p)
	s.users = make([]ssUser, nu)
	for i := range s.users {
		s.users[i] = ssUser{next: int64(cfg.Start) + pickN(s.r.Uint64(), ssMeanGapMs), left: s.burstLen(), id: int32(i)}
	}
	for i := nu/2 - 1; i >= 0; i-- {
		s.down(i)
	}
	return s
}

func (s *sessionsStream) burstLen() int32 { return 1 + int32(pickN(s.r.Uint64(), 12)) }

// gap draws the time to a user's next event: within a burst 0.2..25 s, or
// between bursts 30.001..300 s; one gap in 20 lies near the boundary
// (29.9..30.1 s, exactly 30 s counting as a new session).
func (s *sessionsStream) gap(inBurst bool) int64 {
	x := s.r.Uint64()
	if pick(uint32(x), 20) == 0 {
		if inBurst {
			return ssGapMs - 1 - int64(pick(uint32(x>>32), 100))
		}
		return ssGapMs + int64(pick(uint32(x>>32), 100))
	}
	if inBurst {
		return 200 + int64(pick(uint32(x>>32), 24_800))
	}
	return ssGapMs + 1 + int64(pick(uint32(x>>32), 270_000))
}

func (s *sessionsStream) less(i, j int) bool {
	a, b := s.users[i], s.users[j]
	return a.next < b.next || (a.next == b.next && a.id < b.id)
}

func (s *sessionsStream) down(i int) {
	n := len(s.users)
	for {
		l, m := 2*i+1, i
		if l < n && s.less(l, m) {
			m = l
		}
		if r := l + 1; r < n && s.less(r, m) {
			m = r
		}
		if m == i {
			return
		}
		s.users[i], s.users[m] = s.users[m], s.users[i]
		i = m
	}
}

func (s *sessionsStream) fill(b *batch, n int) {
	for i := range n {
		u := &s.users[0]
		b.codes[ssUserID][i] = s.ids.codes[u.id]
		b.part[i] = s.ids.parts[u.id]
		x := s.r.Uint64()
		b.codes[ssAction][i] = s.actions.codes[pick(uint32(x), len(ssActions))]
		b.codes[ssPage][i] = s.pages.codes[pick(uint32(x>>32), ssPages)]
		b.ints[ssEventTime][i] = u.next
		u.left--
		if u.left > 0 {
			u.next += s.gap(true)
		} else {
			u.next += s.gap(false)
			u.left = s.burstLen()
		}
		s.down(0)
	}
}
