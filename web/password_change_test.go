package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web/webtest"
)

// TestPasswordFormLimitsWrongCurrentPasswords: guessing the current
// password on the change form is limited and recorded like logons are.
func TestPasswordFormLimitsWrongCurrentPasswords(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	acct := env.AddAccount(t, ownerName, ownerPw)
	c := env.Client(t)
	c.LogOn(ownerName, ownerPw)
	form := url.Values{"current": {"a wrong guess"}, "new": {"a much better password 7"}}
	for i := range 10 {
		c.Get("/security/password")
		if r := c.Post("/security/password", form); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("guess %d: status %d, want 422", i+1, r.StatusCode)
		}
	}
	c.Get("/security/password")
	r := c.Post("/security/password", form)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("eleventh guess: status %d Retry-After %q, want 429 with one", r.StatusCode,
			r.Header.Get("Retry-After"))
	}
	if got := waitEvents(t, env, acct.ID, store.OutcomeWrongPassword, 10); got != 10 {
		t.Errorf("wrong-password events: %d, want 10", got)
	}
}
