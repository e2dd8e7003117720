// Package throttle counts failures per key (an account name, a source
// address) and says when a key has had too many, using token buckets from
// golang.org/x/time/rate. Time is always passed in, so tests move it.
package throttle

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter allows n hits per key within window, refilling steadily.
type Limiter struct {
	n      int
	window time.Duration
	mu     sync.Mutex
	keys   map[string]*bucket
	hits   int // hits since the last sweep
}

// bucket is one key's token bucket and its attempts under way.
type bucket struct {
	rl *rate.Limiter
	// pending counts attempts Begin allowed and End has not finished; each
	// holds a token's room, so concurrent attempts cannot all pass.
	pending int
}

// New returns a Limiter of n hits per key in window.
func New(n int, window time.Duration) *Limiter {
	return &Limiter{n: n, window: window, keys: make(map[string]*bucket)}
}

func (l *Limiter) limit() rate.Limit { return rate.Limit(float64(l.n) / l.window.Seconds()) }

// Check reports whether key may try again at now; when not, it returns how
// long until it may. Attempts under way count as hits. It uses up nothing.
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
	tokens := b.rl.TokensAt(now) - float64(b.pending)
	if tokens >= 1 {
		return 0, true
	}
	wait := time.Duration((1 - tokens) / float64(l.limit()) * float64(time.Second))
	return max(wait, time.Second), false
}

// Hit counts one hit against key at now.
func (l *Limiter) Hit(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hit(l.bucket(key), now)
}

func (l *Limiter) bucket(key string) *bucket {
	b, ok := l.keys[key]
	if !ok {
		b = &bucket{rl: rate.NewLimiter(l.limit(), l.n)}
		l.keys[key] = b
	}
	return b
}

func (l *Limiter) hit(b *bucket, now time.Time) {
	b.rl.AllowN(now, 1)
	l.hits++
	if l.hits >= 1024 {
		l.sweep(now)
	}
}

// Begin starts an attempt that may turn out a hit, such as a password
// check: like Check it refuses when key has no room left, and when it
// allows, it holds one hit's room until End. So a burst of concurrent
// attempts gets no further than the same attempts one after another. Every
// allowed Begin must be matched by one End.
func (l *Limiter) Begin(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait, ok := l.check(key, now); !ok {
		return wait, false
	}
	l.bucket(key).pending++
	return 0, true
}

// End finishes an attempt Begin allowed, counting it as a hit when hit is
// true and giving its room back otherwise.
func (l *Limiter) End(key string, now time.Time, hit bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key)
	b.pending = max(0, b.pending-1)
	if hit {
		l.hit(b, now)
	}
}

// Allow is Check then Hit: it counts the hit only when it is allowed.
func (l *Limiter) Allow(key string, now time.Time) (time.Duration, bool) {
	wait, ok := l.Check(key, now)
	if ok {
		l.Hit(key, now)
	}
	return wait, ok
}

// Reset forgets key's hits, as when an account gets a new password.
// Attempts under way keep their room until they end.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.keys[key]; ok && b.pending > 0 {
		l.keys[key] = &bucket{rl: rate.NewLimiter(l.limit(), l.n), pending: b.pending}
		return
	}
	delete(l.keys, key)
}

// sweep drops keys whose bucket has refilled, so memory follows the keys
// active within one window rather than every key ever seen.
func (l *Limiter) sweep(now time.Time) {
	l.hits = 0
	for k, b := range l.keys {
		if b.pending == 0 && b.rl.TokensAt(now) >= float64(l.n) {
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
