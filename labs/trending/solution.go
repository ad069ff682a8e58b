//go:build !student

package trending

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/weirlab/weir/dataflow"
)

// Trending counts hashtags per fixed window and prefix and emits each
// window's top N per prefix when the watermark passes its end. It is not
// safe for concurrent use: one task owns it.
type Trending struct {
	size dataflow.Time // window size, ms
	n    int
	// counts holds the open windows: window start -> prefix -> tag -> count.
	counts map[dataflow.Time]map[string]map[string]int64
	wm     dataflow.Time
	tags   []string // reused by Add
	buf    []byte   // reused by Advance
}

// NewTrending returns an operator for windows of the given size (at
// least a millisecond) listing the n (at least 1) most frequent tags.
func NewTrending(window time.Duration, n int) (*Trending, error) {
	if window < time.Millisecond {
		return nil, fmt.Errorf("trending: window %v is below the 1ms resolution of event time; use at least 1ms", window)
	}
	if n < 1 {
		return nil, fmt.Errorf("trending: a top-N needs n >= 1, got %d", n)
	}
	return &Trending{size: dataflow.Time(window.Milliseconds()), n: n, counts: map[dataflow.Time]map[string]map[string]int64{}, wm: dataflow.MinTime}, nil
}

// Add counts the hashtags of a tweet at event time t in t's window and
// reports true; or, when that window has fired (the watermark of the last
// Advance is at or past its end), refuses the tweet and reports false.
// A tweet without hashtags is accepted and counts nothing.
func (tr *Trending) Add(text string, t dataflow.Time) bool {
	// The window is [start, start+size) with start a multiple of size
	// (I2): a floor, not a truncation, so negative times land right.
	start := dataflow.Time(dataflow.FloorDiv(int64(t), int64(tr.size)) * int64(tr.size))
	if tr.wm >= start+tr.size {
		return false
	}
	tr.tags = dataflow.AppendTokens(tr.tags[:0], text, "#")
	if len(tr.tags) == 0 {
		return true
	}
	w := tr.counts[start]
	if w == nil {
		w = map[string]map[string]int64{}
		tr.counts[start] = w
	}
	for _, tag := range tr.tags {
		p := tag[:min(len(tag), PrefixLen)]
		c := w[p]
		if c == nil {
			c = map[string]int64{}
			w[p] = c
		}
		c[tag]++ // every occurrence counts, repeats in one tweet included
	}
	return true
}

// tagCount is one entry of a top-N.
type tagCount struct {
	tag   string
	count int64
}

// Advance raises the watermark to w (a lower w is ignored) and emits, for
// every window whose end is at or below w, one result per prefix: the
// window, the prefix as key and the top N as "tag=count,...", by count
// descending then tag ascending; then forgets the window. The Result is
// valid only during the call.
func (tr *Trending) Advance(w dataflow.Time, emit func(dataflow.Result)) {
	if w <= tr.wm {
		return
	}
	tr.wm = w
	var es []tagCount
	for start, prefixes := range tr.counts {
		end := start + tr.size
		if end > w {
			continue
		}
		for p, c := range prefixes {
			es = es[:0]
			for tag, n := range c {
				es = append(es, tagCount{tag, n})
			}
			slices.SortFunc(es, func(a, b tagCount) int {
				if c := cmp.Compare(b.count, a.count); c != 0 {
					return c
				}
				return cmp.Compare(a.tag, b.tag)
			})
			tr.buf = tr.buf[:0]
			for i, e := range es[:min(len(es), tr.n)] {
				if i > 0 {
					tr.buf = append(tr.buf, ',')
				}
				tr.buf = append(tr.buf, e.tag...)
				tr.buf = append(tr.buf, '=')
				tr.buf = strconv.AppendInt(tr.buf, e.count, 10)
			}
			emit(dataflow.Result{Window: dataflow.Window{Start: start, End: end}, Key: p, Value: dataflow.Str(string(tr.buf))})
		}
		delete(tr.counts, start)
	}
}
