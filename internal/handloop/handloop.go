package handloop

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// Answer is what a hand loop computed, in its own typed form (dictionary
// codes, integer windows). Results renders it for the check; the loop's
// timed work ends before Results is called.
type Answer interface {
	// Results returns the answer as [dataflow.Result] rows in the form
	// [dataflow.Reference] gives them (key text, value kinds, extra
	// columns), unsorted. Each call builds a new slice.
	Results() []dataflow.Result
	// Len is the number of results.
	Len() int
}

// Loop is the hand-written evaluator of one named workload.
type Loop struct {
	// Workload is the workload's name in compare's registry ("ysb").
	Workload string
	// Dataset is the datasets generator whose log it reads ("ysb").
	Dataset string
	// Run reads every record of the closed log l, partition by partition
	// in offset order (the order of [datasets.Log.All]), with the
	// dataset's lookup tables, and returns the final answer. It runs on
	// the calling goroutine, starts none and keeps nothing between calls.
	Run func(l *datasets.Log, tables map[string]*dataflow.Table) (Answer, error)
}

// Loops returns the hand loops in compare's `bench list` order of their
// workloads. Each call builds new values.
func Loops() []Loop {
	return []Loop{
		{Workload: "ysb", Dataset: "ysb", Run: ysb},
		{Workload: "grep", Dataset: "weblogs", Run: grep},
		{Workload: "hashtag-topn", Dataset: "hashtags", Run: hashtagTopN},
		{Workload: "hashtag-approx-topn", Dataset: "hashtags", Run: hashtagApproxTopN},
		{Workload: "request-rate", Dataset: "weblogs", Run: requestRate},
		{Workload: "sessions", Dataset: "sessions", Run: sessions},
		{Workload: "iot-sliding", Dataset: "iot", Run: iotSliding},
		{Workload: "fraud", Dataset: "transactions", Run: fraud},
		{Workload: "count-window", Dataset: "transactions", Run: countWindow},
	}
}

// Names returns the workloads that have a hand loop, in [Loops] order.
func Names() []string {
	ls := Loops()
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Workload
	}
	return names
}

// ErrNoLoop is wrapped by [Lookup] for a workload without a hand loop.
var ErrNoLoop = errors.New("handloop: no hand loop")

// Lookup returns the hand loop of the named workload, or an error wrapping
// [ErrNoLoop] that lists the workloads that have one.
func Lookup(workload string) (Loop, error) {
	for _, l := range Loops() {
		if l.Workload == workload {
			return l, nil
		}
	}
	return Loop{}, fmt.Errorf("%w for workload %q: the loops cover %s", ErrNoLoop, workload, strings.Join(Names(), ", "))
}

// input checks a log before a loop reads it and finds its columns by
// name and kind. The first problem is kept (a sticky error, as
// bufio.Writer's) and reported by err, so a loop asks for all its columns
// and then checks once.
type input struct {
	workload string
	l        *datasets.Log
	err      error
}

func newInput(workload, dataset string, l *datasets.Log) *input {
	in := &input{workload: workload, l: l}
	gen, err := datasets.Lookup(dataset)
	switch {
	case err != nil:
		in.err = fmt.Errorf("handloop: %s: %w", workload, err)
	case l == nil:
		in.err = fmt.Errorf("handloop: %s: no log; pass the workload's filled log", workload)
	case !l.Closed():
		in.err = fmt.Errorf("handloop: %s: the log is still open; a hand loop computes the final answer of a closed log, so fill and close it first", workload)
	case !l.Schema().Equal(gen.Schema()):
		in.err = fmt.Errorf("handloop: %s needs a log of the %s dataset, schema %v, and the log's schema is %v; generate the input with the workload's dataset", workload, dataset, gen.Schema(), l.Schema())
	}
	return in
}

// col returns the position of column name, which must have kind k.
func (in *input) col(name string, k dataflow.Kind) int {
	if in.err != nil {
		return -1
	}
	s := in.l.Schema()
	i := s.Index(name)
	if i < 0 || s.Fields[i].Kind != k {
		in.err = fmt.Errorf("handloop: %s needs a %v column %q, and the log's schema is %v; generate the input with the workload's dataset", in.workload, k, name, s)
		return -1
	}
	return i
}

// dict returns the dictionary of string column col.
func (in *input) dict(col int) *datasets.Dict {
	if in.err != nil {
		return nil
	}
	return in.l.Dict(col)
}

// code returns the dictionary code of s in string column col, or -1 when
// no record holds s.
func (in *input) code(col int, s string) int32 {
	if in.err != nil {
		return -1
	}
	d := in.l.Dict(col)
	for c := range int32(d.Len()) {
		if d.Get(c) == s {
			return c
		}
	}
	return -1
}

// eachChunk calls fn for every flushed row range of the log, partition by
// partition, each in offset order: the iteration order of
// [datasets.Log.All], which the reference answer follows (a count window's
// ordinals and a float sum's order depend on it). Ranges are at most
// blockRows rows, so that the loops' decoded column buffers stay in cache.
// The chunk is shared: fn must not modify it.
// blockRows is the most rows eachChunk passes at once: 4096 rows of a
// decoded int64 column are 32 KiB.
const blockRows = 1 << 12

func eachChunk(l *datasets.Log, fn func(c *datasets.Chunk, lo, hi int)) {
	for p := range l.Partitions() {
		l.Chunks(p, 0, l.End(p), func(c *datasets.Chunk, lo, hi int) bool {
			for ; lo < hi; lo += blockRows {
				fn(c, lo, min(hi, lo+blockRows))
			}
			return true
		})
	}
}

// floorStart returns the start of the size-aligned window (or slot) holding
// t: t - floorMod(t, size), correct for negative times too (I2).
func floorStart(t, size int64) int64 {
	m := t % size
	if m < 0 {
		m += size
	}
	return t - m
}

// slotMap holds one state value per window start, with the last window
// used cached: the built-in data is in event-time order but for a bounded
// disorder, so consecutive records nearly always hit the same window and
// skip the map.
type slotMap[S any] struct {
	m        map[int64]*S
	lastKey  int64
	last     *S
	newState func() *S
	haveLast bool
}

// newSlotMap returns an empty slotMap whose new windows' state newState
// makes.
func newSlotMap[S any](newState func() *S) *slotMap[S] {
	return &slotMap[S]{m: make(map[int64]*S), newState: newState}
}

// get returns the state of window start k, creating it.
func (s *slotMap[S]) get(k int64) *S {
	if s.haveLast && k == s.lastKey {
		return s.last
	}
	v, ok := s.m[k]
	if !ok {
		v = s.newState()
		s.m[k] = v
	}
	s.lastKey, s.last, s.haveLast = k, v, true
	return v
}

// sorted returns the window starts in increasing order.
func (s *slotMap[S]) sorted() []int64 {
	ks := make([]int64, 0, len(s.m))
	for k := range s.m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
