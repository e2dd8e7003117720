package web

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/logonguard/logonguard/mask"
	"github.com/logonguard/logonguard/store"
)

// accountState is an account's settings with its parsed mask and match
// table, built once per change and shared read-only.
type accountState struct {
	settings store.Settings
	mask     *mask.Mask
	table    *mask.Table
}

// allows reports whether a logon from addr passes the mask, and the entry
// that let it in. known is false when no trustworthy address exists.
func (a *accountState) allows(addr netip.Addr, known bool) (mask.Entry, bool) {
	if a.mask.Empty() {
		return mask.Entry{}, true
	}
	if !known {
		return mask.Entry{}, false
	}
	return a.table.Lookup(addr)
}

// accountCache keeps each used account's state in memory. Writers in this
// process replace an entry after their commit; refresh picks up what other
// processes (operator commands) wrote, through the settings change counter.
type accountCache struct {
	st   *store.Store
	mu   sync.RWMutex
	byID map[int64]*accountState
	seq  int64 // newest change counter seen by refresh
	// ids maps account names to ids; both never change once created, so a
	// logon refused by the mask needs no database read at all.
	ids sync.Map
}

func newAccountCache(ctx context.Context, st *store.Store) (*accountCache, error) {
	seq, err := st.SettingsSeq(ctx)
	if err != nil {
		return nil, err
	}
	return &accountCache{st: st, byID: make(map[int64]*accountState), seq: seq}, nil
}

// state returns an account's current state, loading it on a miss.
func (c *accountCache) state(ctx context.Context, id int64) (*accountState, error) {
	c.mu.RLock()
	a, ok := c.byID[id]
	c.mu.RUnlock()
	if ok {
		return a, nil
	}
	st, err := c.st.Settings(ctx, id)
	if err != nil {
		return nil, err
	}
	return c.put(st)
}

// id returns the id of the account called name, or 0 when none exists.
// Unknown names are not cached, so the map holds only real accounts.
func (c *accountCache) id(ctx context.Context, name string) (int64, error) {
	if id, ok := c.ids.Load(name); ok {
		return id.(int64), nil
	}
	a, err := c.st.AccountByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	c.ids.Store(name, a.ID)
	return a.ID, nil
}

// put builds and stores the state for st, unless a newer one is cached.
func (c *accountCache) put(st store.Settings) (*accountState, error) {
	m, err := mask.Parse(st.Mask)
	if err != nil {
		// The store only ever holds canonical masks; one that does not parse
		// means the file was edited by hand. Refuse rather than guess.
		return nil, fmt.Errorf("web: stored mask of account %d: %w", st.AccountID, err)
	}
	a := &accountState{settings: st, mask: m, table: mask.NewTable(m)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.byID[st.AccountID]; ok && cur.settings.Seq > st.Seq {
		return cur, nil
	}
	c.byID[st.AccountID] = a
	return a, nil
}

// refresh stores the settings changed since the last call. It stores
// uncached accounts too: a concurrent miss may have read the row just before
// the change, and put keeps whichever state is newer.
func (c *accountCache) refresh(ctx context.Context) error {
	changed, err := c.st.SettingsChangedSince(ctx, c.seq)
	if err != nil {
		return err
	}
	for _, st := range changed {
		c.seq = max(c.seq, st.Seq)
		if _, err := c.put(st); err != nil {
			c.forget(st.AccountID)
			return err
		}
	}
	return nil
}

func (c *accountCache) forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byID, id)
}
