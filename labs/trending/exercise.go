//go:build student

package trending

import (
	"time"

	"github.com/weirlab/weir/dataflow"
)

// Trending counts hashtags per fixed window and prefix and emits each
// window's top N per prefix when the watermark passes its end. Add the
// fields it needs.
type Trending struct{}

// NewTrending returns an operator for windows of the given size (at
// least a millisecond) listing the n (at least 1) most frequent tags; any
// other window or n is an error.
func NewTrending(window time.Duration, n int) (*Trending, error) {
	// TODO
	return nil, ErrNotImplemented
}

// Add counts the hashtags of a tweet at event time t in t's window and
// reports true; or, when that window has fired (the watermark of the last
// Advance is at or past its end), refuses the tweet and reports false.
func (tr *Trending) Add(text string, t dataflow.Time) bool {
	// TODO
	return false
}

// Advance raises the watermark to w and emits, for every window whose end
// is at or below w, one result per prefix with its top N, once.
func (tr *Trending) Advance(w dataflow.Time, emit func(dataflow.Result)) {
	// TODO
}
