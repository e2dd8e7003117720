package web_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/logonguard/logonguard/password"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web"
	"github.com/logonguard/logonguard/web/webtest"
)

// TestPasswordChecksAreBounded: with one slot and a short wait, a burst of
// logons with real argon2id cost gets 503 with Retry-After for those that
// found no slot, rather than running every hash at once.
func TestPasswordChecksAreBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("computes real argon2id hashes")
	}
	env := webtest.Start(t, webtest.Options{Configure: func(cfg *web.Config) {
		cfg.HashSlots = 1
		cfg.HashWait = time.Millisecond
	}})
	h, err := password.Hash(ownerPw, password.Default)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.CreateAccount(context.Background(), ownerName, h,
		store.Actor{Name: "test", Source: "test"}); err != nil {
		t.Fatal(err)
	}
	const burst = 6
	clients := make([]*webtest.Client, burst)
	for i := range clients {
		clients[i] = env.Client(t)
		clients[i].Get("/login")
	}
	statuses := make([]int, burst)
	retry := make([]string, burst)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.Post("/login", url.Values{"account": {ownerName}, "password": {ownerPw}})
			statuses[i], retry[i] = r.StatusCode, r.Header.Get("Retry-After")
		}()
	}
	wg.Wait()
	busy := 0
	for i, st := range statuses {
		switch st {
		case http.StatusSeeOther:
		case http.StatusServiceUnavailable:
			busy++
			if retry[i] == "" {
				t.Errorf("503 without Retry-After")
			}
		default:
			t.Errorf("status %d, want 303 or 503", st)
		}
	}
	if busy == 0 || busy == burst {
		t.Errorf("statuses %v: want some logons through and some turned away", statuses)
	}
}
