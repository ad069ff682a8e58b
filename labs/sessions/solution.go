//go:build !student

package sessions

import (
	"fmt"
	"slices"
	"time"

	"github.com/weirlab/weir/dataflow"
)

// session is one open session of a user: the window [start, end) and
// what Spec aggregates over it.
type session struct {
	start, end    dataflow.Time // [first event, last event + gap)
	count         int64
	first, latest dataflow.Time // least and greatest event time (the span)
}

// Sessions holds every user's open sessions and fires them when the
// watermark passes their end. It is not safe for concurrent use: one
// task owns it, as a runtime's window task owns its keys.
type Sessions struct {
	gap dataflow.Time // ms
	// open maps a user to its open sessions, sorted by start and pairwise
	// disjoint (they never overlap: an overlapping one is merged).
	open map[string][]session
	wm   dataflow.Time
	// minEnd is a lower bound of every open session's end, so Advance
	// scans the users only when some session may be complete.
	minEnd dataflow.Time
	extra  []dataflow.Value // reused for emissions
}

// NewSessions returns an operator for sessions with the given gap, which
// must be at least a millisecond.
func NewSessions(gap time.Duration) (*Sessions, error) {
	if gap < time.Millisecond {
		return nil, fmt.Errorf("sessions: gap %v is below the 1ms resolution of event time; use a gap of at least 1ms", gap)
	}
	return &Sessions{gap: dataflow.Time(gap.Milliseconds()), open: map[string][]session{}, wm: dataflow.MinTime, minEnd: dataflow.MaxTime}, nil
}

// Add puts the event of user at event time t in its session, merging the
// sessions it bridges, and reports true; or, when t is late (the watermark
// of the last Advance is above t), drops it and reports false.
func (s *Sessions) Add(user string, t dataflow.Time) bool {
	if s.wm > t {
		// Late (I5 with no lateness): every session it could join may have
		// fired already, so it is refused whole, not half counted.
		return false
	}
	n := session{start: t, end: t + s.gap, count: 1, first: t, latest: t}
	ss := s.open[user]
	// The sessions that overlap [t, t+gap) are contiguous in start order:
	// those with start < n.end and end > n.start (touching is not
	// overlapping, I3).
	i := 0
	for i < len(ss) && ss[i].end <= n.start {
		i++
	}
	j := i
	for j < len(ss) && ss[j].start < n.end {
		o := ss[j]
		n.start, n.end = min(n.start, o.start), max(n.end, o.end)
		n.count += o.count
		n.first, n.latest = min(n.first, o.first), max(n.latest, o.latest)
		j++
	}
	s.open[user] = slices.Replace(ss, i, j, n)
	s.minEnd = min(s.minEnd, n.end)
	return true
}

// Advance raises the watermark to w (a lower w is ignored: watermarks
// never decrease) and emits every session that is complete at w, its end
// at or below w (I4), once, then forgets it. The Result passed to emit is
// valid only during the call (its Extra slice is reused).
func (s *Sessions) Advance(w dataflow.Time, emit func(dataflow.Result)) {
	if w <= s.wm {
		return
	}
	s.wm = w
	if w < s.minEnd {
		return
	}
	s.minEnd = dataflow.MaxTime
	for user, ss := range s.open {
		k := 0
		for _, o := range ss {
			if o.end <= w {
				s.extra = append(s.extra[:0], dataflow.Int(int64(o.latest-o.first)))
				emit(dataflow.Result{Window: dataflow.Window{Start: o.start, End: o.end}, Key: user, Value: dataflow.Int(o.count), Extra: s.extra})
				continue
			}
			ss[k] = o
			k++
			s.minEnd = min(s.minEnd, o.end)
		}
		if k == 0 {
			delete(s.open, user)
		} else {
			s.open[user] = ss[:k]
		}
	}
}
