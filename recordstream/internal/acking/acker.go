package acking

import "github.com/weirlab/weir/internal/invariants"

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=AckKind -linecomment

// AckKind is the stream of an acker message: Storm's __ack_init, __ack_ack,
// __ack_fail and __ack_reset_timeout.
type AckKind uint8

// Acker input streams.
const (
	AckInvalid AckKind = iota // invalid
	// AckInit comes from a spout: Root, Val = XOR of the first-level edge
	// ids, SpoutTask.
	AckInit // init
	// AckAck comes from a bolt: Root, Val = the acked tuple's edge id XOR the
	// ids of the tuples it emitted anchored to it.
	AckAck // ack
	// AckFail comes from a bolt that failed a tuple of the tree.
	AckFail // fail
	// AckResetTimeout asks to restart the tree's timeout.
	AckResetTimeout // reset_timeout
)

// AckMsg is one message to an acker task.
type AckMsg struct {
	Kind      AckKind
	Root      uint64
	Val       uint64
	SpoutTask int // AckInit only
}

// AckResult is what an acker sends back to a spout, directly to SpoutTask:
// Kind is AckAck (the tree completed), AckFail or AckResetTimeout, and
// DeltaNanos is the time since the acker first saw the root.
type AckResult struct {
	Kind       AckKind
	Root       uint64
	SpoutTask  int
	DeltaNanos int64
}

// ackObject is the acker's state per pending root: about 20 bytes, so the
// acker's memory is O(pending spout tuples) whatever the tree size (AK2).
type ackObject struct {
	val       uint64
	startNano int64
	spoutTask int32 // -1 until the INIT arrives
	failed    bool
	reset     bool
}

// AckerBuckets is the number of buckets of the acker's rotating map (Storm's
// TIMEOUT_BUCKET_NUM): a tree the acker has not heard of for 2T to 3T is
// dropped silently; the spout's own timeout (2 buckets) fails it first.
const AckerBuckets = 3

// Acker is the pure core of Storm's acker bolt (daemon/Acker.java): one XOR
// value per pending root. Its invariants:
//
//   - AK1 val is the XOR of every edge id created in the tree and not yet
//     acked; the tree is complete exactly when val returns to 0 after the
//     spout's INIT (false completion has probability 2^-64 per update).
//   - AK2 State is one ackObject per root whatever the tree size.
//   - AK3 An ACK or FAIL may arrive before the INIT (they travel on different
//     paths); the entry then waits with spoutTask -1 and never reports until
//     the INIT arrives.
//   - AK4 The acker never fails a tree on timeout: its map drops stale entries
//     silently on [Acker.Rotate]; timeouts are the spout's job.
//
// It keeps the roots of each spout's sequence ([RootID]) in a rotating map
// of their own, keyed by the sequence number (compacted to this acker's
// blocks of it when there are several ackers, [AckerFor]), so each map's
// keys are dense and its accesses sequential (ID1); random roots
// ([NewRootID]) share one more map.
//
// Acker does no I/O and reads no clock: the wrapper passes the time in. It is
// not safe for concurrent use; one acker task owns it.
type Acker struct {
	pending rootMaps
}

// NewAcker returns an empty acker, the only one of its topology.
func NewAcker() *Acker { return NewAckerOf(1) }

// NewAckerOf returns an empty acker, one of ackers acker tasks among which
// roots are routed by [AckerFor].
func NewAckerOf(ackers int) *Acker {
	return &Acker{pending: rootMaps{ackers: uint64(max(ackers, 1))}}
}

// rootMaps is the acker's rotating maps: subs[0] for random roots,
// subs[s] for the roots of spout space s-1's sequence.
type rootMaps struct {
	subs   []*RotatingMap[ackObject]
	ackers uint64
	n      int
}

// sub returns root's map (made on first use when create) and its key
// there.
func (r *rootMaps) sub(root uint64, create bool) (*RotatingMap[ackObject], uint64) {
	i, k := 0, root
	if root&rootSeqFlag != 0 {
		i = int(root>>rootSeqBits&rootSpaceMask) + 1
		seq := root & rootSeqMask
		if r.ackers > 1 { // this acker's blocks, back to back
			blk := seq >> AckBlockBits
			seq = (blk/r.ackers)<<AckBlockBits | seq&(1<<AckBlockBits-1)
		}
		k = rootSeqFlag | seq // never 0
	}
	if i >= len(r.subs) {
		if !create {
			return nil, k
		}
		r.subs = append(r.subs, make([]*RotatingMap[ackObject], i+1-len(r.subs))...)
	}
	m := r.subs[i]
	if m == nil && create {
		m, _ = NewRotatingMap[ackObject](AckerBuckets) // cannot fail: 3 >= 2
		r.subs[i] = m
	}
	return m, k
}

// Get returns root's entry.
func (r *rootMaps) Get(root uint64) (ackObject, bool) {
	m, k := r.sub(root, false)
	if m == nil {
		return ackObject{}, false
	}
	return m.Get(k)
}

// Put stores root's entry in the newest bucket.
func (r *rootMaps) Put(root uint64, v ackObject) {
	m, k := r.sub(root, true)
	before := m.Len()
	m.Put(k, v)
	r.n += m.Len() - before
}

// Replace sets an existing entry in place.
func (r *rootMaps) Replace(root uint64, v ackObject) bool {
	m, k := r.sub(root, false)
	return m != nil && m.Replace(k, v)
}

// Remove deletes root's entry.
func (r *rootMaps) Remove(root uint64) {
	if m, k := r.sub(root, false); m != nil {
		if _, ok := m.Remove(k); ok {
			r.n--
		}
	}
}

// Rotate rotates every map, dropping their oldest buckets.
func (r *rootMaps) Rotate() {
	r.n = 0
	for _, m := range r.subs {
		if m != nil {
			m.Rotate(nil)
			r.n += m.Len()
		}
	}
}

// Len is the number of entries.
func (r *rootMaps) Len() int { return r.n }

// Execute applies one message in the order of Acker.execute (mechanics.md
// 1.1) and reports whether the spout must be told, and what.
func (a *Acker) Execute(m AckMsg, nowNanos int64) (AckResult, bool) {
	if invariants.Enabled {
		prev, had := a.pending.Get(m.Root)
		before := a.pending.Len()
		res, report := a.execute(m, nowNanos)
		a.checkExecute(m, prev, had, before, res, report)
		return res, report
	}
	return a.execute(m, nowNanos)
}

func (a *Acker) execute(m AckMsg, nowNanos int64) (AckResult, bool) {
	curr, ok := a.pending.Get(m.Root)
	if !ok {
		curr = ackObject{startNano: nowNanos, spoutTask: -1}
	}
	switch m.Kind {
	case AckInit:
		curr.val ^= m.Val
		curr.spoutTask = int32(m.SpoutTask)
	case AckAck:
		curr.val ^= m.Val
	case AckFail:
		curr.failed = true
	case AckResetTimeout:
		curr.reset = true
	default:
		return AckResult{}, false
	}
	if curr.spoutTask >= 0 && (curr.val == 0 || curr.failed || curr.reset) {
		res := AckResult{Root: m.Root, SpoutTask: int(curr.spoutTask), DeltaNanos: nowNanos - curr.startNano}
		switch {
		case curr.val == 0: // checked before failed, as Storm does
			a.pending.Remove(m.Root)
			res.Kind = AckAck
		case curr.failed:
			a.pending.Remove(m.Root)
			res.Kind = AckFail
		default:
			curr.reset = false
			a.pending.Put(m.Root, curr) // moves it to the newest bucket
			res.Kind = AckResetTimeout
		}
		return res, true
	}
	a.store(m.Root, curr, ok)
	return AckResult{}, false
}

// checkExecute asserts the value accounting of one Execute (AK1, AK3) from
// the root's entry before it (prev, had) and the pending count before it:
// the entry's XOR is the old one XOR the message's value; the tree is
// reported complete exactly when that is 0 after the INIT, and failed only
// when it is not; a reported tree's entry is gone and an entry kept is one
// that cannot report yet; Pending moves by exactly the entry made or
// removed. Debug-only (-tags invariants).
func (a *Acker) checkExecute(m AckMsg, prev ackObject, had bool, before int, res AckResult, report bool) {
	curr, held := a.pending.Get(m.Root)
	after := a.pending.Len()
	want := before
	switch {
	case held && !had:
		want++
	case had && !held:
		want--
	}
	if after != want {
		invariants.Assertf(false, "AK2: pending %d -> %d for root %#x (held before %v, after %v)", before, after, m.Root, had, held)
	}
	if m.Kind < AckInit || m.Kind > AckResetTimeout {
		if report || held != had || curr != prev {
			invariants.Assertf(false, "AK1: acker message of kind %v changed root %#x", m.Kind, m.Root)
		}
		return
	}
	val := prev.val
	if m.Kind == AckInit || m.Kind == AckAck {
		val ^= m.Val
	}
	switch {
	case !report:
		if !held || curr.val != val {
			invariants.Assertf(false, "AK1: root %#x kept with XOR %#x (held %v), want %#x", m.Root, curr.val, held, val)
		}
		if curr.spoutTask >= 0 && (curr.val == 0 || curr.failed || curr.reset) {
			invariants.Assertf(false, "AK1: root %#x kept after its INIT with XOR %#x, failed %v, reset %v: it should have reported", m.Root, curr.val, curr.failed, curr.reset)
		}
	case res.Kind == AckAck, res.Kind == AckFail:
		if held || (res.Kind == AckAck) != (val == 0) {
			invariants.Assertf(false, "AK1: root %#x reported %v with XOR %#x (still held %v)", m.Root, res.Kind, val, held)
		}
	default:
		if res.Kind != AckResetTimeout || !held || curr.reset || curr.spoutTask < 0 || curr.val != val || val == 0 {
			invariants.Assertf(false, "AK1: root %#x reported %v with XOR %#x (held %v)", m.Root, res.Kind, val, held)
		}
	}
}

// store writes curr back: a new entry goes to the newest bucket; an existing
// one stays in its bucket (Storm mutates the AckObject in place), except for
// RESET_TIMEOUT, which re-puts it.
func (a *Acker) store(root uint64, curr ackObject, existed bool) {
	if existed && !curr.reset {
		a.pending.Replace(root, curr)
		return
	}
	a.pending.Put(root, curr)
}

// Rotate is the acker's tick (every message timeout): it drops the oldest
// bucket silently (AK4).
func (a *Acker) Rotate() { a.pending.Rotate() }

// RotateN is n ticks at once (n <= 0: none). Its cost does not grow with
// n: after [AckerBuckets] rotations the map is empty, so the rest are
// skipped.
func (a *Acker) RotateN(n int64) {
	for range min(n, AckerBuckets) {
		a.pending.Rotate()
	}
}

// Pending returns the number of roots the acker tracks.
func (a *Acker) Pending() int { return a.pending.Len() }
