// Package throttle counts failures per key (an account name, a source
// address) in a sliding window and says when a key has had too many: n
// failures within any stretch of the window, as the contract states its
// limits ("10 per account in 15 minutes"). Time is always passed in, so
// tests move it.
package throttle

import (
	"math"
	"sync"
	"time"
)

// Limiter allows n failures per key within any window.
type Limiter struct {
	n      int
	window time.Duration
	mu     sync.Mutex
	keys   map[string]*bucket
	hits   int // hits since the last sweep
}

// bucket is one key's recent failures and its attempts under way.
type bucket struct {
	times []time.Time // failures inside the window, oldest first, at most n
	// pending counts attempts Begin allowed and End has not finished; each
	// holds a failure's room, so concurrent attempts cannot all pass.
	pending int
}

// New returns a Limiter of n failures per key in window.
func New(n int, window time.Duration) *Limiter {
	return &Limiter{n: n, window: window, keys: make(map[string]*bucket)}
}

// prune drops failures that have left the window at now.
func (l *Limiter) prune(b *bucket, now time.Time) {
	i := 0
	for i < len(b.times) && !now.Before(b.times[i].Add(l.window)) {
		i++
	}
	b.times = b.times[i:]
}

// Check reports whether key may try again at now; when not, it returns how
// long until the oldest counted failure leaves the window. It uses up
// nothing; attempts under way do not count here (see Begin).
func (l *Limiter) Check(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.check(key, now)
}

func (l *Limiter) check(key string, now time.Time) (time.Duration, bool) {
	b, ok := l.keys[key]
	if !ok {
		return 0, true
	}
	l.prune(b, now)
	if len(b.times) < l.n {
		return 0, true
	}
	wait := b.times[len(b.times)-l.n].Add(l.window).Sub(now)
	return max(wait, time.Second), false
}

// Hit counts one failure against key at now.
func (l *Limiter) Hit(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hit(l.bucket(key), now)
}

func (l *Limiter) bucket(key string) *bucket {
	b, ok := l.keys[key]
	if !ok {
		b = &bucket{}
		l.keys[key] = b
	}
	return b
}

func (l *Limiter) hit(b *bucket, now time.Time) {
	l.prune(b, now)
	b.times = append(b.times, now)
	if len(b.times) > l.n {
		b.times = append(b.times[:0], b.times[len(b.times)-l.n:]...)
	}
	l.hits++
	if l.hits >= 1024 {
		l.sweep(now)
	}
}

// Begin starts an attempt that may turn out a failure, such as a password
// check. It refuses (ok false, with the wait) when key has had its n
// failures; it also refuses, with busy true, when the failures so far and
// the attempts under way together fill the room, so a burst of concurrent
// attempts gets no further than the same attempts one after another; such
// a refusal is no verdict on the key and lasts only as long as those
// attempts. Every allowed Begin must be matched by one End.
func (l *Limiter) Begin(key string, now time.Time) (wait time.Duration, busy, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait, ok := l.check(key, now); !ok {
		return wait, false, false
	}
	b := l.bucket(key)
	if len(b.times)+b.pending >= l.n {
		return 0, true, false
	}
	b.pending++
	return 0, false, true
}

// End finishes an attempt Begin allowed, counting it as a failure when hit
// is true and giving its room back otherwise.
func (l *Limiter) End(key string, now time.Time, hit bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key)
	b.pending = max(0, b.pending-1)
	if hit {
		l.hit(b, now)
	}
}

// Reset forgets key's failures, as when an account gets a new password.
// Attempts under way keep their room until they end.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.keys[key]; ok && b.pending > 0 {
		b.times = nil
		return
	}
	delete(l.keys, key)
}

// sweep drops keys with no failure left in the window and nothing under
// way, so memory follows the keys active within one window.
func (l *Limiter) sweep(now time.Time) {
	l.hits = 0
	for k, b := range l.keys {
		l.prune(b, now)
		if b.pending == 0 && len(b.times) == 0 {
			delete(l.keys, k)
		}
	}
}

// Len returns how many keys are tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// RetryAfterSeconds rounds a wait up to whole seconds for a Retry-After header.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
