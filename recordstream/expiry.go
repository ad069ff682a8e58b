package recordstream

import "github.com/weirlab/weir/internal/invariants"

// expiryQueue holds a windowed bolt's tuples until the watermark reaches
// their expiry (RW1), grouped by expiry: a min-heap of buckets on exp, one
// bucket per distinct expiry, each the tuples that expire then, in arrival
// order.
//
// Fixed and sliding windows give a tuple the end of its last window plus
// the lateness as its expiry, so the tuples in flight share a few expiries
// (one per open window) and arrive in runs of one: a push appends to the
// bucket of the previous push, and a watermark releases whole buckets.
// Held in one binary heap, every tuple paid a sift down its ~log2(n)
// levels when it left; here a tuple costs an append and a read. Sessions'
// expiries are their ends, one bucket per fired session.
//
// The zero value is an empty queue. A queue is owned by one task.
type expiryQueue struct {
	heap  []*expBucket // min-heap on exp
	byExp map[int64]*expBucket
	last  *expBucket // the bucket of the previous push
	n     int        // tuples held
	free  []*expBucket
}

// expBucket is the tuples of one expiry.
type expBucket struct {
	exp int64
	hs  []held
}

// len is the number of tuples held.
func (q *expiryQueue) len() int { return q.n }

// push holds h until the watermark reaches h.exp.
func (q *expiryQueue) push(h held) {
	b := q.last
	if b == nil || b.exp != h.exp {
		if b = q.byExp[h.exp]; b == nil {
			b = q.newBucket(h.exp)
		}
		q.last = b
	}
	b.hs = append(b.hs, h)
	q.n++
}

// newBucket adds an empty bucket for exp to the heap and the index.
func (q *expiryQueue) newBucket(exp int64) *expBucket {
	var b *expBucket
	if n := len(q.free); n > 0 {
		b, q.free = q.free[n-1], q.free[:n-1]
	} else {
		b = &expBucket{}
	}
	b.exp = exp
	if q.byExp == nil {
		q.byExp = map[int64]*expBucket{}
	}
	q.byExp[exp] = b
	q.heap = append(q.heap, b)
	for j := len(q.heap) - 1; j > 0; {
		i := (j - 1) / 2
		if q.heap[i].exp <= q.heap[j].exp {
			break
		}
		q.heap[i], q.heap[j] = q.heap[j], q.heap[i]
		j = i
	}
	return b
}

// popDue removes and returns the bucket of the smallest expiry if it is at
// most wm, or nil. The caller acks its tuples, then gives it back with
// recycle.
func (q *expiryQueue) popDue(wm int64) *expBucket {
	if len(q.heap) == 0 || q.heap[0].exp > wm {
		return nil
	}
	b := q.heap[0]
	n := len(q.heap) - 1
	q.heap[0] = q.heap[n]
	q.heap[n] = nil
	q.heap = q.heap[:n]
	q.siftDown(0)
	delete(q.byExp, b.exp)
	if q.last == b {
		q.last = nil
	}
	q.n -= len(b.hs)
	return b
}

// recycle keeps a popped bucket's storage for a later expiry.
func (q *expiryQueue) recycle(b *expBucket) {
	clear(b.hs) // drop the keyHold pointers
	b.hs = b.hs[:0]
	q.free = append(q.free, b)
}

func (q *expiryQueue) siftDown(i int) {
	h := q.heap
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		j := l
		if r := l + 1; r < n && h[r].exp < h[l].exp {
			j = r
		}
		if h[i].exp <= h[j].exp {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

// each calls fn on every held tuple, bucket by bucket.
func (q *expiryQueue) each(fn func(*held)) {
	for _, b := range q.heap {
		for i := range b.hs {
			fn(&b.hs[i])
		}
	}
}

// reset empties the queue, keeping its buckets' storage.
func (q *expiryQueue) reset() {
	for _, b := range q.heap {
		q.recycle(b)
	}
	clear(q.heap)
	q.heap = q.heap[:0]
	clear(q.byExp)
	q.last, q.n = nil, 0
}

// removeIf takes out every held tuple for which take reports true, calling
// it once per tuple, and drops the buckets it empties. It scans the whole
// queue: for rare events (a fired session merging into a larger one).
func (q *expiryQueue) removeIf(take func(held) bool) {
	kept := q.heap[:0]
	for _, b := range q.heap {
		hs := b.hs[:0]
		for _, h := range b.hs {
			if !take(h) {
				hs = append(hs, h)
			}
		}
		q.n -= len(b.hs) - len(hs)
		clear(b.hs[len(hs):])
		b.hs = hs
		if len(hs) == 0 {
			delete(q.byExp, b.exp)
			if q.last == b {
				q.last = nil
			}
			q.free = append(q.free, b)
			continue
		}
		kept = append(kept, b)
	}
	clear(q.heap[len(kept):])
	q.heap = kept
	for i := len(q.heap)/2 - 1; i >= 0; i-- {
		q.siftDown(i)
	}
}

// check asserts the queue's invariants (debug-only, -tags invariants): the
// heap order, one bucket per expiry, every tuple in the bucket of its
// expiry, and the count.
func (q *expiryQueue) check() {
	n := 0
	for j, b := range q.heap {
		if i := (j - 1) / 2; j > 0 && q.heap[i].exp > b.exp {
			invariants.Assertf(false, "RW1: expiry heap out of order at %d (%d > %d)", j, q.heap[i].exp, b.exp)
		}
		if q.byExp[b.exp] != b {
			invariants.Assertf(false, "RW1: expiry %d's bucket is not indexed", b.exp)
		}
		for _, h := range b.hs {
			if h.exp != b.exp {
				invariants.Assertf(false, "RW1: a tuple of expiry %d in the bucket of %d", h.exp, b.exp)
			}
		}
		n += len(b.hs)
	}
	if n != q.n || len(q.byExp) != len(q.heap) {
		invariants.Assertf(false, "RW1: expiry queue counts %d tuples in %d indexed buckets, holds %d in %d", q.n, len(q.byExp), n, len(q.heap))
	}
}
