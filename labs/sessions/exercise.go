//go:build student

package sessions

import (
	"time"

	"github.com/weirlab/weir/dataflow"
)

// Sessions holds every user's open sessions and fires them when the
// watermark passes their end. Add the fields it needs.
type Sessions struct{}

// NewSessions returns an operator for sessions with the given gap; a gap
// below one millisecond is an error.
func NewSessions(gap time.Duration) (*Sessions, error) {
	// TODO
	return nil, ErrNotImplemented
}

// Add puts the event of user at event time t in its session, merging the
// sessions it bridges, and reports true; or, when t is late (the watermark
// of the last Advance is above t), drops it and reports false.
func (s *Sessions) Add(user string, t dataflow.Time) bool {
	// TODO
	return false
}

// Advance raises the watermark to w and emits, once, every session whose
// end is at or below w.
func (s *Sessions) Advance(w dataflow.Time, emit func(dataflow.Result)) {
	// TODO
}
