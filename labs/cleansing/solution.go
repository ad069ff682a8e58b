//go:build !student

package cleansing

import (
	"fmt"
	"strings"
)

// Cleaner turns requests into page views. It is read-only after
// [NewCleaner], so one Cleaner may serve any number of goroutines.
type Cleaner struct {
	sites map[string]string
}

// NewCleaner returns a cleaner reporting on the given partner sites
// (domain to category). A site with an empty domain or category is an
// error: it would make page views that no report can group.
func NewCleaner(sites map[string]string) (*Cleaner, error) {
	own := make(map[string]string, len(sites))
	for d, c := range sites {
		if d == "" || c == "" {
			return nil, fmt.Errorf("cleansing: site %q has category %q; every partner site needs a domain and a category", d, c)
		}
		own[d] = c
	}
	return &Cleaner{sites: own}, nil
}

// Clean returns the page view request r becomes, or false when r is not a
// page view: a failed request, a slow one (a second or more), a static
// asset or a request to a site that is not a partner.
func (c *Cleaner) Clean(r Request) (PageView, bool) {
	// Cheapest tests first: a status and a float compare before a prefix
	// test and a map lookup (the order does not change the answer, since
	// the filters commute; it changes only the work done per record).
	if r.Status != 200 && r.Status != 304 {
		return PageView{}, false
	}
	if !(r.LatencyMs < 1000) {
		return PageView{}, false
	}
	if strings.HasPrefix(r.Path, "/static/") {
		return PageView{}, false
	}
	cat, ok := c.sites[r.Domain]
	if !ok {
		return PageView{}, false
	}
	return PageView{Domain: r.Domain, Path: r.Path, Category: cat, KB: r.Bytes / 1024, EventTime: r.EventTime}, true
}
