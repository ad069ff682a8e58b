package acking

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// naiveTree is the obviously-correct tracker the acker is checked against:
// a tree is complete when its init and every ack have arrived (AK1), failed
// when a fail has arrived, and either is reported only once the init has
// (AK3), completion first.
type naiveTree struct {
	ackMsgs  int // init + one ack per tuple
	acksSeen int
	init     bool
	failed   bool
	reported bool
}

// genTree builds a random tuple tree under root: the spout's init and one
// ack per tuple, each ack XORing the tuple's edge id with the ids of its
// children (mechanics.md 1.2).
func genTree(rng *rand.Rand, root uint64, spout int, maxDepth, maxFan int) []AckMsg {
	var msgs []AckMsg
	var grow func(depth int) uint64 // returns the edge id of a new tuple
	grow = func(depth int) uint64 {
		edge := rng.Uint64()
		val := edge
		if depth < maxDepth {
			for range rng.IntN(maxFan + 1) {
				val ^= grow(depth + 1)
			}
		}
		msgs = append(msgs, AckMsg{Kind: AckAck, Root: root, Val: val})
		return edge
	}
	var init uint64
	for range rng.IntN(maxFan) + 1 {
		init ^= grow(1)
	}
	return append(msgs, AckMsg{Kind: AckInit, Root: root, Val: init, SpoutTask: spout})
}

func FuzzAcker(f *testing.F) {
	// seed, roots, depth, fan-out, fail share (of 16)
	f.Add(uint64(1), uint8(1), uint8(1), uint8(1), uint8(0))   // one tuple
	f.Add(uint64(2), uint8(5), uint8(3), uint8(3), uint8(0))   // interleaved trees
	f.Add(uint64(3), uint8(8), uint8(4), uint8(2), uint8(4))   // with fails
	f.Add(uint64(4), uint8(20), uint8(2), uint8(5), uint8(16)) // every tree fails
	f.Fuzz(func(t *testing.T, seed uint64, roots, depth, fan, failShare uint8) {
		rng := rand.New(rand.NewPCG(seed, 1))
		nRoots := int(roots%32) + 1
		var all []AckMsg
		trees := map[uint64]*naiveTree{}
		for i := range nRoots {
			root := rng.Uint64() | 1
			msgs := genTree(rng, root, i%4, int(depth%5)+1, int(fan%4)+1)
			if rng.IntN(16) < int(failShare%17) {
				msgs = append(msgs, AckMsg{Kind: AckFail, Root: root})
			}
			nt := &naiveTree{}
			for _, m := range msgs {
				if m.Kind != AckFail {
					nt.ackMsgs++
				}
			}
			trees[root] = nt
			all = append(all, msgs...)
		}
		// Any order: acks may overtake the init (AK3).
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		a := NewAcker()
		anyFail := false
		for i, m := range all {
			nt := trees[m.Root]
			switch m.Kind {
			case AckInit:
				nt.init = true
				nt.acksSeen++
			case AckAck:
				nt.acksSeen++
			case AckFail:
				nt.failed = true
				anyFail = true
			}
			res, ok := a.Execute(m, int64(i))
			var want AckKind
			if nt.init && !nt.reported {
				switch {
				case nt.acksSeen == nt.ackMsgs: // XOR zero is checked before failed
					want = AckAck
				case nt.failed:
					want = AckFail
				}
			}
			if want == AckInvalid {
				require.False(t, ok, "message %d (%v) of root %x: unexpected report %v", i, m.Kind, m.Root, res.Kind)
				continue
			}
			require.True(t, ok, "message %d (%v): want report %v", i, m.Kind, want)
			assert.Equal(t, want, res.Kind, "message %d", i)
			assert.Equal(t, m.Root, res.Root)
			nt.reported = true
		}
		for root, nt := range trees {
			assert.True(t, nt.reported, "root %x never reported", root)
		}
		if !anyFail {
			assert.Zero(t, a.Pending(), "completed trees must leave the acker")
		}
	})
}

func TestAckerEarlyAckWaitsForInit(t *testing.T) {
	a := NewAcker()
	_, ok := a.Execute(AckMsg{Kind: AckAck, Root: 7, Val: 42}, 0)
	require.False(t, ok, "an ack before the init must wait (AK3)")
	res, ok := a.Execute(AckMsg{Kind: AckInit, Root: 7, Val: 42, SpoutTask: 3}, 5)
	require.True(t, ok)
	assert.Equal(t, AckResult{Kind: AckAck, Root: 7, SpoutTask: 3, DeltaNanos: 5}, res)
}

func TestAckerRotateDropsSilently(t *testing.T) {
	a := NewAcker()
	_, ok := a.Execute(AckMsg{Kind: AckInit, Root: 1, Val: 9, SpoutTask: 0}, 0)
	require.False(t, ok)
	for range AckerBuckets - 1 {
		a.Rotate()
		require.Equal(t, 1, a.Pending())
	}
	a.Rotate()
	assert.Zero(t, a.Pending(), "dropped after %d rotations (AK4)", AckerBuckets)
}

func TestRotatingMapNeedsTwoBuckets(t *testing.T) {
	_, err := NewRotatingMap[int](1)
	require.Error(t, err)
}

// TestSpoutTimeoutBetweenTAnd2T checks Storm's timeout bound with a manual
// clock: a tuple emitted at any phase of the rotation is failed after T and
// no later than 2T.
func TestSpoutTimeoutBetweenTAnd2T(t *testing.T) {
	const T = int64(time.Second)
	const step = int64(time.Millisecond)
	for _, phase := range []int64{0, 1, T / 3, T / 2, T - step} {
		var failedAt int64 = -1
		now := int64(1000) * T
		p := NewPending(time.Duration(T), now, func(uint64, int64) { failedAt = now })
		now += phase
		p.Tick(now)
		put := now
		p.Put(1, 5)
		for failedAt < 0 && now < put+3*T {
			now += step
			p.Tick(now)
		}
		require.GreaterOrEqual(t, failedAt, put, "phase %d: never failed", phase)
		assert.GreaterOrEqual(t, failedAt-put, T, "phase %d: failed before T", phase)
		assert.LessOrEqual(t, failedAt-put, 2*T, "phase %d: failed after 2T", phase)
	}
}

// TestIDTableMatchesMap checks the open-addressing table against a Go map
// under random sets and removes (backward-shift deletion is easy to get
// wrong at the wrap-around).
func TestIDTableMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	tab := newIDTable[int]()
	ref := map[uint64]int{}
	for i := range 200000 {
		k := uint64(rng.IntN(5000)) + 1 // dense keys: long probe runs
		switch rng.IntN(3) {
		case 0, 1:
			tab.set(k, i)
			ref[k] = i
		case 2:
			_, ok := tab.remove(k)
			_, want := ref[k]
			require.Equal(t, want, ok, "remove %d", k)
			delete(ref, k)
		}
		if i%1000 == 0 {
			require.Equal(t, len(ref), tab.len())
			for k, v := range ref {
				got, ok := tab.get(k)
				require.True(t, ok, "get %d", k)
				require.Equal(t, v, got)
			}
		}
	}
}

// TestPendingTickAfterLongGap: a tick long after the last one (a billion
// timeouts of 1 ns) costs two rotations, not a billion: every entry has
// expired, and the next rotation is due one timeout after the last whole
// timeout elapsed.
func TestPendingTickAfterLongGap(t *testing.T) {
	var expired []uint64
	now := int64(1_000_000)
	p := NewPending(time.Nanosecond, now, func(k uint64, _ int) { expired = append(expired, k) })
	p.Put(1, 0)
	p.Put(2, 0)
	now += int64(time.Second)
	p.Tick(now)
	assert.ElementsMatch(t, []uint64{1, 2}, expired, "both expired")
	assert.Zero(t, p.Len())
	assert.Equal(t, now+1, p.NextRotation())
}

// TestPendingTickMatchesStepwise checks Tick against rotating once per
// timeout elapsed (the rule it implements) on random gaps: the same entries
// expire at the same ticks, and the next rotation is due at the same time.
func TestPendingTickMatchesStepwise(t *testing.T) {
	const seed = 7
	rng := rand.New(rand.NewPCG(seed, 1))
	const timeout = 10
	var fast, slow []uint64
	now := int64(0)
	p := NewPending(time.Duration(timeout), now, func(k uint64, _ int) { fast = append(fast, k) })
	m, err := NewRotatingMap[int](SpoutPendingBuckets)
	require.NoError(t, err)
	last := now
	for i := range 2000 {
		now += rng.Int64N(4 * timeout)
		p.Tick(now)
		for now-last >= timeout {
			m.Rotate(func(k uint64, _ int) { slow = append(slow, k) })
			last += timeout
		}
		require.ElementsMatch(t, slow, fast, "seed %d: expired by tick %d at %d", seed, i, now)
		require.Equal(t, last+timeout, p.NextRotation(), "seed %d: next rotation after tick %d", seed, i)
		if rng.IntN(2) == 0 {
			k := uint64(i + 1)
			p.Put(k, i)
			m.Put(k, i)
		}
	}
}

// TestTickCostDoesNotGrowWithElapsedTime pins that a spout's pending map and
// the acker catch up on a long gap between ticks (a spout blocked on a full
// queue, a short message timeout) in a bounded number of rotations: every
// entry expires exactly once, and the next rotation is due within one
// timeout of now. Before, Tick rotated once per timeout elapsed: 2^50
// rotations here, a hang.
func TestTickCostDoesNotGrowWithElapsedTime(t *testing.T) {
	const now = int64(1) << 50
	var expired []uint64
	p := NewPending(time.Nanosecond, 0, func(k uint64, _ int) { expired = append(expired, k) })
	for k := uint64(1); k <= 3; k++ {
		p.Put(k, int(k))
	}
	p.Tick(now)
	assert.ElementsMatch(t, []uint64{1, 2, 3}, expired, "Tick(%d) expires every entry once", now)
	assert.Zero(t, p.Len())
	assert.Equal(t, now+1, p.NextRotation(), "the next rotation is one timeout after the last one due")
	p.Put(4, 4)
	p.Tick(now) // not due again
	assert.Equal(t, 1, p.Len(), "an entry put after the catch-up waits for its own timeout")

	a := NewAcker()
	_, report := a.Execute(AckMsg{Kind: AckAck, Root: 9, Val: 1}, 0)
	require.False(t, report)
	a.RotateN(now)
	assert.Zero(t, a.Pending(), "RotateN(%d) drops every entry", now)
}

// TestAckersOfSequencedRoots runs trees with sequenced roots ([RootID]) of
// several spouts through n ackers, each message routed by [AckerFor]:
// every tree is reported once, complete when all its messages are in, and
// the ackers' maps end empty; the same trees through one acker agree.
func TestAckersOfSequencedRoots(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		rng := rand.New(rand.NewPCG(uint64(n), 9))
		ackers := make([]*Acker, n)
		for i := range ackers {
			ackers[i] = NewAckerOf(n)
		}
		var all []AckMsg
		want := map[uint64]int{} // messages per root
		for spout := range 3 {
			for seq := uint64(1); seq <= 2000; seq++ {
				root := RootID(spout, seq)
				msgs := genTree(rng, root, spout, 2, 2)
				want[root] = len(msgs)
				all = append(all, msgs...)
			}
		}
		// Mostly in order, with local disorder (an ack before its init).
		for i := range all {
			if j := i + rng.IntN(16); j < len(all) {
				all[i], all[j] = all[j], all[i]
			}
		}
		seen := map[uint64]int{}
		reported := map[uint64]bool{}
		for i, m := range all {
			seen[m.Root]++
			res, ok := ackers[AckerFor(m.Root, n)].Execute(m, int64(i))
			if seen[m.Root] < want[m.Root] {
				require.False(t, ok, "ackers %d: root %#x reported after %d of %d messages", n, m.Root, seen[m.Root], want[m.Root])
				continue
			}
			require.True(t, ok, "ackers %d: root %#x not reported after its last message", n, m.Root)
			require.Equal(t, AckAck, res.Kind)
			require.Equal(t, m.Root, res.Root)
			require.False(t, reported[m.Root])
			reported[m.Root] = true
		}
		require.Len(t, reported, len(want))
		for i, a := range ackers {
			assert.Zero(t, a.Pending(), "ackers %d: acker %d keeps entries", n, i)
		}
	}
}

// TestRootIDsAreDistinctAndRouted checks the sequenced root ids: distinct
// across spouts and sequence numbers, never 0, apart from random ids
// (top bit), and each block of 2^AckBlockBits sequence numbers goes to one
// acker.
func TestRootIDsAreDistinctAndRouted(t *testing.T) {
	ids := map[uint64]bool{}
	for spout := range 4 {
		for seq := uint64(1); seq <= 1<<AckBlockBits*3; seq++ {
			id := RootID(spout, seq)
			require.NotZero(t, id)
			require.False(t, ids[id], "RootID(%d, %d) repeats", spout, seq)
			ids[id] = true
			blockStart := RootID(spout, seq&^(1<<AckBlockBits-1))
			require.Equal(t, AckerFor(blockStart, 3), AckerFor(id, 3), "RootID(%d, %d) leaves its block's acker", spout, seq)
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 1000 {
		id := NewRootID(rng)
		require.NotZero(t, id)
		require.Zero(t, id&rootSeqFlag, "a random root id with the sequenced ids' bit")
	}
}

// TestIDTableBoundsAnswerAbsentKeys checks ID2 on a table of dense keys
// (one long run of full slots): keys below and above every key are absent,
// and removing and re-adding keys keeps every present key found.
func TestIDTableBoundsAnswerAbsentKeys(t *testing.T) {
	tab := newIDTable[int]()
	for k := uint64(1000); k < 1000+3000; k++ {
		tab.set(k, int(k))
	}
	for _, k := range []uint64{1, 999, 4000, 1 << 40} {
		_, ok := tab.get(k)
		require.False(t, ok, "key %d", k)
	}
	for k := uint64(1000); k < 4000; k += 2 {
		_, ok := tab.remove(k)
		require.True(t, ok)
	}
	for k := uint64(1000); k < 4000; k++ {
		v, ok := tab.get(k)
		require.Equal(t, k%2 == 1, ok, "key %d", k)
		if ok {
			require.Equal(t, int(k), v)
		}
	}
	tab.clear()
	tab.set(5, 5)
	_, ok := tab.get(1001)
	require.False(t, ok, "bounds reset by clear")
	v, ok := tab.get(5)
	require.True(t, ok)
	require.Equal(t, 5, v)
}
