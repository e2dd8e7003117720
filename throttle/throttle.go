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
	keys   map[string]*rate.Limiter
	hits   int // hits since the last sweep
}

// New returns a Limiter of n hits per key in window.
func New(n int, window time.Duration) *Limiter {
	return &Limiter{n: n, window: window, keys: make(map[string]*rate.Limiter)}
}

func (l *Limiter) limit() rate.Limit { return rate.Limit(float64(l.n) / l.window.Seconds()) }

// Check reports whether key may try again at now; when not, it returns how
// long until it may. It uses up nothing.
func (l *Limiter) Check(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rl, ok := l.keys[key]
	if !ok {
		return 0, true
	}
	tokens := rl.TokensAt(now)
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
	rl, ok := l.keys[key]
	if !ok {
		rl = rate.NewLimiter(l.limit(), l.n)
		l.keys[key] = rl
	}
	rl.AllowN(now, 1)
	l.hits++
	if l.hits >= 1024 {
		l.sweep(now)
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
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// sweep drops keys whose bucket has refilled, so memory follows the keys
// active within one window rather than every key ever seen.
func (l *Limiter) sweep(now time.Time) {
	l.hits = 0
	for k, rl := range l.keys {
		if rl.TokensAt(now) >= float64(l.n) {
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
