package acking

import "time"

// SpoutPendingBuckets is the number of buckets of a spout's pending map: a
// tree not completed is failed between T and 2T after its emit (RM1 of
// [RotatingMap], mechanics.md 1.4).
const SpoutPendingBuckets = 2

// Pending is a spout's timeout core: its map of pending trees and the
// rotation of that map every message timeout T, driven by the caller's
// clock readings (ns). Rotating hands every expired entry to the expire
// function given to [NewPending]. It is not safe for concurrent use; the
// spout task owns it.
type Pending[V any] struct {
	*RotatingMap[V]
	timeout    int64
	lastRotate int64
	expire     func(uint64, V)
}

// NewPending returns an empty pending map whose first rotation is due at
// now + timeout.
func NewPending[V any](timeout time.Duration, now int64, expire func(uint64, V)) *Pending[V] {
	m, _ := NewRotatingMap[V](SpoutPendingBuckets) // cannot fail: 2 >= 2
	return &Pending[V]{RotatingMap: m, timeout: int64(timeout), lastRotate: now, expire: expire}
}

// Tick rotates once per timeout elapsed by now; expired entries go to the
// expire function. Its cost does not grow with the time elapsed: after
// [SpoutPendingBuckets] rotations every entry has expired, so the further
// rotations due, which would only rotate empty buckets, are skipped (a
// spout blocked for a long time, or a short timeout, would otherwise spin
// through one rotation per timeout elapsed).
func (p *Pending[V]) Tick(now int64) {
	if now-p.lastRotate < p.timeout {
		return
	}
	n := (now - p.lastRotate) / p.timeout
	p.lastRotate += n * p.timeout
	for range min(n, SpoutPendingBuckets) {
		p.Rotate(p.expire)
	}
}

// NextRotation returns the clock reading at which the next rotation is due.
func (p *Pending[V]) NextRotation() int64 { return p.lastRotate + p.timeout }

// Timeout returns the message timeout in ns.
func (p *Pending[V]) Timeout() int64 { return p.timeout }
