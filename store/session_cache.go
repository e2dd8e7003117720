package store

import (
	"slices"
	"sync"
	"time"
)

// sessionCacheTTL is how long a cached session or session list is trusted
// before the database is asked again, in real (monotonic) time: it is about
// freshness, not about the business clock tests move. Changes this process makes update the
// cache at once; changes another process makes (an operator ending
// sessions) take effect within this time, inside the contract's second.
const sessionCacheTTL = 500 * time.Millisecond

// maxCachedSessions bounds the cache; past it, stale entries are dropped.
const maxCachedSessions = 200_000

type principalKey struct {
	kind string
	id   int64
}

type cachedSession struct {
	data      []byte
	expiry    time.Time
	principal principalKey
	loaded    time.Time
}

type cachedList struct {
	list   []SessionInfo
	loaded time.Time
}

// sessionCache keeps recently read sessions and open-session lists in
// memory, so a page view costs no session query. Every session write of
// this process passes through it.
type sessionCache struct {
	mu    sync.Mutex
	byTok map[string]cachedSession
	open  map[principalKey]cachedList
}

func newSessionCache() *sessionCache {
	return &sessionCache{byTok: make(map[string]cachedSession), open: make(map[principalKey]cachedList)}
}

// find returns a fresh cached session; ok is false when the database must be asked.
func (c *sessionCache) find(token string, now time.Time) (data []byte, found, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, hit := c.byTok[token]
	if !hit || time.Since(e.loaded) >= sessionCacheTTL {
		return nil, false, false
	}
	if !now.Before(e.expiry) {
		return nil, false, true
	}
	return e.data, true, true
}

func (c *sessionCache) put(token string, e cachedSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byTok) >= maxCachedSessions {
		for k, old := range c.byTok {
			if time.Since(old.loaded) >= sessionCacheTTL {
				delete(c.byTok, k)
			}
		}
		if len(c.byTok) >= maxCachedSessions {
			clear(c.byTok)
		}
	}
	c.byTok[token] = e
	delete(c.open, e.principal)
}

// forget drops one session, or with token "" every session of p except keep.
func (c *sessionCache) forget(token string, p principalKey, keep string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if token != "" {
		if e, ok := c.byTok[token]; ok {
			delete(c.open, e.principal)
		}
		delete(c.byTok, token)
		return
	}
	for k, e := range c.byTok {
		if e.principal == p && k != keep {
			delete(c.byTok, k)
		}
	}
	delete(c.open, p)
}

func (c *sessionCache) openList(p principalKey, now time.Time) ([]SessionInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.open[p]
	if !ok || time.Since(e.loaded) >= sessionCacheTTL {
		return nil, false
	}
	return slices.DeleteFunc(slices.Clone(e.list), func(si SessionInfo) bool {
		return !now.Before(si.Expiry)
	}), true
}

func (c *sessionCache) putOpenList(p principalKey, list []SessionInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.open[p] = cachedList{list: list, loaded: time.Now()}
}
