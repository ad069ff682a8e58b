package millwheel

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func id(p int32, seq int64) ID { return ID{Producer: p, Seq: seq} }

// TestReceiverSteps runs sequences of admits, commits, aborts and
// collections and checks each decision.
func TestReceiverSteps(t *testing.T) {
	type step struct {
		op    string // "admit", "commit", "abort", "collect"
		id    ID
		below int64
		want  Lookup
	}
	cases := []struct {
		name  string
		cache int
		steps []step
	}{
		{"new ids are Bloom negatives", 4, []step{
			{op: "admit", id: id(0, 1), want: LookupBloomNegative},
			{op: "admit", id: id(0, 2), want: LookupBloomNegative},
			{op: "admit", id: id(1, 1), want: LookupBloomNegative},
		}},
		{"a repeat in the bundle is a cache hit", 0, []step{
			{op: "admit", id: id(0, 1), want: LookupBloomNegative},
			{op: "admit", id: id(0, 1), want: LookupCacheHit},
		}},
		{"a committed id is a cache hit, then after eviction a catalog read", 1, []step{
			{op: "admit", id: id(0, 1), want: LookupBloomNegative},
			{op: "admit", id: id(0, 2), want: LookupBloomNegative},
			{op: "commit"},
			{op: "admit", id: id(0, 2), want: LookupCacheHit},
			{op: "admit", id: id(0, 1), want: LookupCatalogDuplicate},
		}},
		{"an aborted bundle's ids are new again, the committed ones not", 8, []step{
			{op: "admit", id: id(0, 1), want: LookupBloomNegative},
			{op: "commit"},
			{op: "admit", id: id(0, 2), want: LookupBloomNegative},
			{op: "abort"},
			{op: "admit", id: id(0, 2), want: LookupBloomNegative},
			{op: "admit", id: id(0, 1), want: LookupCatalogDuplicate}, // the cache died with the task
		}},
		{"collected ids are expired duplicates, others stay", 0, []step{
			{op: "admit", id: id(0, 1), want: LookupBloomNegative},
			{op: "admit", id: id(0, 5), want: LookupBloomNegative},
			{op: "admit", id: id(1, 1), want: LookupBloomNegative},
			{op: "commit"},
			{op: "collect", id: id(0, 0), below: 3},
			{op: "admit", id: id(0, 1), want: LookupExpired},
			{op: "admit", id: id(0, 5), want: LookupCatalogDuplicate},
			{op: "admit", id: id(1, 1), want: LookupCatalogDuplicate},
			{op: "collect", id: id(0, 0), below: 2}, // a lower bound changes nothing
			{op: "admit", id: id(0, 2), want: LookupExpired},
		}},
		{"subs of one record are distinct ids", 4, []step{
			{op: "admit", id: ID{Seq: 7, Sub: 0}, want: LookupBloomNegative},
			{op: "admit", id: ID{Seq: 7, Sub: 1}, want: LookupBloomNegative},
			{op: "commit"},
			{op: "admit", id: ID{Seq: 7, Sub: 1}, want: LookupCacheHit},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReceiver(NewCatalog(1024), tc.cache)
			for i, s := range tc.steps {
				switch s.op {
				case "admit":
					got := r.Admit(s.id)
					assert.Equal(t, s.want, got, "step %d: Admit(%v) = %v, want %v", i, s.id, got, s.want)
				case "commit":
					r.Commit()
				case "abort":
					r.Abort()
				case "collect":
					r.Catalog().Collect(s.id.Producer, s.below)
				}
			}
		})
	}
}

// TestReceiverMatchesSet is the property test: on random streams with
// repeats, commits, aborts and collections, the receiver's decisions equal a
// plain set's (committed ids, minus aborted bundles; collected ids are
// duplicates), whatever the cache and filter sizes.
func TestReceiverMatchesSet(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 1))
		r := NewReceiver(NewCatalog(64<<rng.IntN(8)), rng.IntN(3)*16)
		committed, bundle := map[ID]bool{}, map[ID]bool{}
		lows := map[int32]int64{}
		next := map[int32]int64{}
		for step := range 3000 {
			p := int32(rng.IntN(3))
			switch x := rng.IntN(100); {
			case x < 60:
				var i ID
				if rng.IntN(3) == 0 && next[p] > lows[p] {
					i = ID{Producer: p, Seq: lows[p] + rng.Int64N(next[p]-lows[p])} // a repeat
				} else {
					i = ID{Producer: p, Seq: next[p]}
					next[p]++
				}
				want := committed[i] || bundle[i] || i.Seq < lows[p]
				got := r.Admit(i)
				require.Equal(t, want, got.Duplicate(), "seed %d step %d: Admit(%v) = %v", seed, step, i, got)
				if !want {
					bundle[i] = true
				}
			case x < 85:
				for i := range bundle {
					if i.Seq >= lows[i.Producer] { // collected while in the bundle
						committed[i] = true
					}
				}
				clear(bundle)
				r.Commit()
			case x < 90:
				clear(bundle)
				r.Abort()
			default:
				b := lows[p] + rng.Int64N(next[p]-lows[p]+1)
				r.Catalog().Collect(p, b)
				lows[p] = max(lows[p], b)
				for i := range committed {
					if i.Producer == p && i.Seq < lows[p] {
						delete(committed, i)
					}
				}
			}
		}
		require.Equal(t, len(committed), r.Catalog().Len(), "seed %d: catalog size", seed)
	}
}

// TestCatalogStaysBounded: a stream of a million ids collected behind a
// sender window of 100 never holds more than the window (MW2), and the
// filter keeps proving new ids new.
func TestCatalogStaysBounded(t *testing.T) {
	const window = 100
	r := NewReceiver(NewCatalog(1<<12), 16)
	for seq := range int64(1_000_000) {
		require.False(t, r.Admit(id(0, seq)).Duplicate())
		r.Commit()
		if seq%10 == 0 {
			r.Catalog().Collect(0, seq-window)
		}
	}
	c := r.Catalog()
	assert.LessOrEqual(t, c.Max, window+11, "the catalog grew with the stream")
	assert.Greater(t, r.BloomNegatives, int64(900_000), "the filter stopped proving ids new: it was not rebuilt after collection")
}

func TestBloomHasNoFalseNegatives(t *testing.T) {
	b := NewBloom(1 << 10)
	for i := range int64(500) {
		b.Add(id(int32(i%3), i))
	}
	for i := range int64(500) {
		assert.True(t, b.MayContain(id(int32(i%3), i)), "MayContain(%d)", i)
	}
	fp := 0
	for i := int64(1000); i < 2000; i++ {
		if b.MayContain(id(0, i)) {
			fp++
		}
	}
	assert.Less(t, fp, 500, "false positives at 500 ids in 1024 bits")
}

func TestCacheEvictsOldest(t *testing.T) {
	c := NewCache(2)
	c.Add(id(0, 1))
	c.Add(id(0, 2))
	c.Add(id(0, 3))
	assert.False(t, c.Contains(id(0, 1)), "the oldest id stayed")
	assert.True(t, c.Contains(id(0, 2)))
	assert.True(t, c.Contains(id(0, 3)))
	assert.Equal(t, 2, c.Len())
}

func TestSenderRetriesAndLow(t *testing.T) {
	s := NewSender[string](10)
	s.Put(id(0, 3), "c", 0)
	s.Put(id(0, 1), "a", 0)
	s.Put(id(0, 2), "b", 5)
	assert.Equal(t, int64(1), s.Low())
	assert.Equal(t, []ID{id(0, 1), id(0, 3)}, s.Due(10), "Due(10)")
	assert.True(t, s.Ack(id(0, 1)))
	assert.False(t, s.Ack(id(0, 1)), "a repeated ack")
	assert.Equal(t, int64(2), s.Low())
	s.Ack(id(0, 2))
	s.Ack(id(0, 3))
	assert.Equal(t, int64(4), s.Low(), "Low with nothing pending is one past the largest sent")
	assert.Zero(t, s.Len())
}

func ExampleReceiver() {
	r := NewReceiver(NewCatalog(1024), 8)
	fmt.Println(r.Admit(ID{Seq: 1}).Duplicate()) // new
	r.Commit()
	fmt.Println(r.Admit(ID{Seq: 1}).Duplicate()) // a retry
	// Output:
	// false
	// true
}

// TestSteadyStateAllocatesNothing: once warm, admitting, committing and
// collecting ids and sending and acknowledging records allocate nothing per
// record (the maps and the heap keep their capacity).
func TestSteadyStateAllocatesNothing(t *testing.T) {
	r := NewReceiver(NewCatalog(1<<12), 64)
	s := NewSender[int64](10)
	seq := int64(0)
	step := func() {
		for range 32 {
			i := id(0, seq)
			r.Admit(i)
			s.Put(i, seq, seq)
			seq++
		}
		r.Commit()
		for j := seq - 32; j < seq; j++ {
			s.Ack(id(0, j))
		}
		r.Catalog().Collect(0, seq-256)
	}
	for range 1000 {
		step()
	}
	assert.Zero(t, testing.AllocsPerRun(200, step), "allocations per 32 records")
}
