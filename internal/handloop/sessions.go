package handloop

import (
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

const (
	// sessionGapMs is the sessions workload's gap: 30 s of inactivity.
	sessionGapMs = 30_000
	// sessionsPerUser is the room for sessions each user starts with.
	sessionsPerUser = 8
)

// session is one user's session so far: the least and greatest event time
// of its records and their number. Its window is [lo, hi+gap).
type session struct {
	lo, hi int64
	n      int64
}

// sessionAnswer is the sessions workload's answer: every user's sessions.
type sessionAnswer struct {
	users [][]session // by user_id code, each sorted by start and disjoint
	keys  *datasets.Dict
	n     int
}

func (a *sessionAnswer) Len() int { return a.n }

func (a *sessionAnswer) Results() []dataflow.Result {
	rs := make([]dataflow.Result, 0, a.n)
	for u, ss := range a.users {
		for _, s := range ss {
			rs = append(rs, dataflow.Result{Window: dataflow.Window{Start: dataflow.Time(s.lo), End: dataflow.Time(s.hi + sessionGapMs)},
				Key: a.keys.Get(int32(u)), Value: dataflow.Int(s.n), Extra: []dataflow.Value{dataflow.Int(s.hi - s.lo)}})
		}
	}
	return rs
}

// sessions counts the events and the duration (greatest minus least event
// time) of each user's event-time sessions, gap 30 s: each record's
// proto-session [t, t+gap) merges with the user's sessions it overlaps
// (touching ones do not merge, dataflow I3). A user's sessions are kept
// sorted and disjoint in a slice indexed by user_id code; a record in
// event-time order overlaps only the last one, so the scan from the end
// stops at once.
func sessions(l *datasets.Log, _ map[string]*dataflow.Table) (Answer, error) {
	in := newInput("sessions", "sessions", l)
	keyCol, timeCol := in.col("user_id", dataflow.KindString), in.col("event_time", dataflow.KindTimestamp)
	keys := in.dict(keyCol)
	if in.err != nil {
		return nil, in.err
	}
	a := &sessionAnswer{users: make([][]session, keys.Len()), keys: keys}
	// Each user's first sessions live in one shared array, so the loop
	// allocates once rather than as each user's slice grows (a user of the
	// built-in data has about 32 events in a few sessions); a user with
	// more sessions grows its own slice.
	arena := make([]session, sessionsPerUser*len(a.users))
	for u := range a.users {
		a.users[u] = arena[u*sessionsPerUser : u*sessionsPerUser : (u+1)*sessionsPerUser]
	}
	var users []int32 // decoded column ranges, reused across chunks
	var times []int64
	eachChunk(l, func(c *datasets.Chunk, lo, hi int) {
		users, times = c.Codes32(keyCol, lo, hi, users), c.Ints64(timeCol, lo, hi, times)
		for i, u := range users {
			a.users[u] = addToSessions(a.users[u], times[i])
		}
	})
	for _, ss := range a.users {
		a.n += len(ss)
	}
	return a, nil
}

// addToSessions merges the record at t into ss (sorted, disjoint) and
// returns the updated slice.
func addToSessions(ss []session, t int64) []session {
	// Sessions [j, len) start at or after t+gap: after the proto-session.
	j := len(ss)
	for j > 0 && ss[j-1].lo >= t+sessionGapMs {
		j--
	}
	// Sessions [i, j) end after t: they overlap [t, t+gap).
	i := j
	for i > 0 && ss[i-1].hi+sessionGapMs > t {
		i--
	}
	if i == j {
		ss = append(ss, session{})
		copy(ss[j+1:], ss[j:])
		ss[j] = session{lo: t, hi: t, n: 1}
		return ss
	}
	m := session{lo: min(ss[i].lo, t), hi: max(ss[j-1].hi, t), n: 1}
	for _, s := range ss[i:j] {
		m.n += s.n
	}
	ss[i] = m
	return append(ss[:i+1], ss[j:]...)
}
