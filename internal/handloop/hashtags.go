package handloop

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

const (
	hourMs     = 3_600_000 // the hashtag workloads: fixed event-time hours
	topN       = 10        // top 10 per prefix and hour
	prefixLen  = 2         // keyed by the tag's first 2 bytes
	sketchCols = dataflow.DefaultSketchWidth
	sketchRows = dataflow.DefaultSketchDepth
	// candidateCap is dataflow's bound on an approximate top-N's candidate
	// set: below it every distinct value is a candidate. The loop computes
	// the answer below the bound only, and says so above it.
	candidateCap = 1 << 16
)

// tags interns the hashtags of a run: each distinct tag gets an int32 id
// once, with its prefix's id, so the per-token work is one map lookup.
type tags struct {
	ids      map[string]int32
	text     []string
	prefix   []int32 // by tag id
	prefixes []string
	pids     map[string]int32
	// sketch, when set, holds each tag's Count-Min column in every row,
	// computed once per tag from its hash.
	sketch bool
	cols   [][sketchRows]int32
}

func newTags(sketch bool) *tags {
	return &tags{ids: make(map[string]int32), pids: make(map[string]int32), sketch: sketch}
}

// id returns tok's id, interning it (and its prefix) if new.
func (t *tags) id(tok string) int32 {
	if id, ok := t.ids[tok]; ok {
		return id
	}
	id := int32(len(t.text))
	t.ids[tok] = id
	t.text = append(t.text, tok)
	p := tok[:min(prefixLen, len(tok))]
	pid, ok := t.pids[p]
	if !ok {
		pid = int32(len(t.prefixes))
		t.pids[p] = pid
		t.prefixes = append(t.prefixes, p)
	}
	t.prefix = append(t.prefix, pid)
	if t.sketch {
		h := hashString(tok)
		var cs [sketchRows]int32
		for r := range cs {
			cs[r] = int32(r*sketchCols) + sketchCol(h, r)
		}
		t.cols = append(t.cols, cs)
	}
	return id
}

// hourState is one hour's counts: per tag id (exact), and for the
// approximate workload one Count-Min sketch per prefix id.
type hourState struct {
	counts   []int64
	sketches [][]uint32
}

// eachHashtag calls fn with the hour start and tag id of every '#' token
// of every record's text, in the log's order, repeats included. Tokens are
// the runs of bytes between ASCII white space ([dataflow.AppendTokens]).
func eachHashtag(l *datasets.Log, workload string, ts *tags, fn func(hour int64, tag int32)) error {
	in := newInput(workload, "hashtags", l)
	textCol, timeCol := in.col("text", dataflow.KindString), in.col("event_time", dataflow.KindTimestamp)
	texts := in.dict(textCol)
	if in.err != nil {
		return in.err
	}
	var codes []int32 // decoded column ranges, reused across chunks
	var times []int64
	eachChunk(l, func(c *datasets.Chunk, lo, hi int) {
		codes, times = c.Codes32(textCol, lo, hi, codes), c.Ints64(timeCol, lo, hi, times)
		for i, code := range codes {
			s := texts.Get(code)
			hour := floorStart(times[i], hourMs)
			for j := 0; j < len(s); {
				for j < len(s) && isSpace(s[j]) {
					j++
				}
				k := j
				for k < len(s) && !isSpace(s[k]) {
					k++
				}
				if k > j && s[j] == '#' {
					fn(hour, ts.id(s[j:k]))
				}
				j = k
			}
		}
	})
	return nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// hashtagTopN lists the 10 most frequent hashtags per 2-byte prefix per
// event-time hour: per hour a slice of counts indexed by tag id, grouped
// by prefix and ranked when the answer is built.
func hashtagTopN(l *datasets.Log, _ map[string]*dataflow.Table) (Answer, error) {
	ts := newTags(false)
	hours := newSlotMap(func() *hourState { return &hourState{} })
	err := eachHashtag(l, "hashtag-topn", ts, func(hour int64, tag int32) {
		h := hours.get(hour)
		if int(tag) >= len(h.counts) {
			h.counts = slices.Grow(h.counts, int(tag)+1-len(h.counts))[:int(tag)+1]
		}
		h.counts[tag]++
	})
	if err != nil {
		return nil, err
	}
	return rankHours(hours, ts, nil)
}

// hashtagApproxTopN is hashtagTopN with Count-Min estimates: per hour and
// prefix a 2048x4 sketch of uint32 counters (saturating) fed by each tag's
// precomputed columns, and per hour the exact counts only to know which
// tags occurred (the candidates: every distinct tag, below
// candidateCap). The hash and the columns are dataflow's: FNV-1a over the
// value's kind and bytes, MurmurHash3's fmix64, one fixed seed per row.
func hashtagApproxTopN(l *datasets.Log, _ map[string]*dataflow.Table) (Answer, error) {
	ts := newTags(true)
	hours := newSlotMap(func() *hourState { return &hourState{} })
	err := eachHashtag(l, "hashtag-approx-topn", ts, func(hour int64, tag int32) {
		h := hours.get(hour)
		if int(tag) >= len(h.counts) {
			h.counts = slices.Grow(h.counts, int(tag)+1-len(h.counts))[:int(tag)+1]
		}
		h.counts[tag]++
		p := ts.prefix[tag]
		if int(p) >= len(h.sketches) {
			h.sketches = slices.Grow(h.sketches, int(p)+1-len(h.sketches))[:int(p)+1]
		}
		sk := h.sketches[p]
		if sk == nil {
			sk = make([]uint32, sketchCols*sketchRows)
			h.sketches[p] = sk
		}
		for _, i := range ts.cols[tag] {
			if sk[i] != math.MaxUint32 {
				sk[i]++
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return rankHours(hours, ts, func(h *hourState, tag int32) int64 {
		sk := h.sketches[ts.prefix[tag]]
		est := uint32(math.MaxUint32)
		for _, i := range ts.cols[tag] {
			est = min(est, sk[i])
		}
		return int64(est)
	})
}

// topRow is one hour and prefix's ranked list, rendered.
type topRow struct {
	start  int64
	prefix int32
	text   string
}

type topAnswer struct {
	rows     []topRow
	prefixes []string
}

func (a *topAnswer) Len() int { return len(a.rows) }

func (a *topAnswer) Results() []dataflow.Result {
	rs := make([]dataflow.Result, len(a.rows))
	for i, r := range a.rows {
		rs[i] = dataflow.Result{Window: dataflow.Window{Start: dataflow.Time(r.start), End: dataflow.Time(r.start + hourMs)},
			Key: a.prefixes[r.prefix], Value: dataflow.Str(r.text)}
	}
	return rs
}

// rankHours renders every hour and prefix's top 10 as "tag=count,…", by
// count descending then tag ascending (byte order), the count being the
// exact one or, with estimate, the sketch's.
func rankHours(hours *slotMap[hourState], ts *tags, estimate func(h *hourState, tag int32) int64) (Answer, error) {
	type entry struct {
		tag int32
		n   int64
	}
	a := &topAnswer{prefixes: ts.prefixes}
	byPrefix := make([][]entry, len(ts.prefixes))
	var b []byte
	for _, start := range hours.sorted() {
		h := hours.m[start]
		for p := range byPrefix {
			byPrefix[p] = byPrefix[p][:0]
		}
		for tag, n := range h.counts {
			if n == 0 {
				continue
			}
			if estimate != nil {
				n = estimate(h, int32(tag))
			}
			p := ts.prefix[tag]
			byPrefix[p] = append(byPrefix[p], entry{int32(tag), n})
		}
		for p, es := range byPrefix {
			if len(es) == 0 {
				continue
			}
			if estimate != nil && len(es) > candidateCap {
				return nil, fmt.Errorf("handloop: hashtag-approx-topn: the hour at %d ms holds %d distinct tags of prefix %q, more than the %d candidates below which the loop computes dataflow's answer; use fewer events per hour",
					start, len(es), ts.prefixes[p], candidateCap)
			}
			slices.SortFunc(es, func(x, y entry) int {
				if x.n != y.n {
					if x.n > y.n {
						return -1
					}
					return 1
				}
				return strings.Compare(ts.text[x.tag], ts.text[y.tag])
			})
			b = b[:0]
			for i, e := range es[:min(topN, len(es))] {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, ts.text[e.tag]...)
				b = append(b, '=')
				b = strconv.AppendInt(b, e.n, 10)
			}
			a.rows = append(a.rows, topRow{start: start, prefix: int32(p), text: string(b)})
		}
	}
	return a, nil
}

// The value hash of dataflow's sketches, for a string value (its kind
// byte, then its bytes: FNV-1a; the length; MurmurHash3's fmix64).
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func hashString(s string) uint64 {
	h := uint64(fnvOffset64)
	h ^= uint64(dataflow.KindString)
	h *= fnvPrime64
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return mix64(h ^ uint64(len(s)))
}

func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// sketchCol is the column of the value with hash h in row r: the top 32
// bits of fmix64(h ^ seed(r)), masked to the (power-of-two) width.
func sketchCol(h uint64, r int) int32 {
	x := uint32(mix64(h^(uint64(r+1)*0x9e3779b97f4a7c15)) >> 32)
	return int32(x & (sketchCols - 1))
}
