package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/web/webtest"
)

// TestCSRFPlantedTokenFromAnotherOrigin: an attacker on a sibling host or
// another port can plant a _csrf cookie and post a matching field from the
// victim's browser; the browser marks such a request as coming from
// another origin, and it is refused. A token in the URL never counts.
func TestCSRFPlantedTokenFromAnotherOrigin(t *testing.T) {
	env := webtest.Start(t, webtest.Options{})
	env.AddAccount(t, ownerName, ownerPw)
	victim := env.Client(t)
	victim.LogOn(ownerName, ownerPw)
	session := victim.Cookie("lg_session").Value
	planted := "attackerattackerattackerattacker"
	forged := func(form url.Values, query string, header http.Header) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/security/session-duration"+query,
			strings.NewReader(form.Encode()))
		req.Header = header
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", "lg_session="+session+"; _csrf="+planted)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	pair := url.Values{"_csrf": {planted}, "hours": {"3"}}
	for _, tt := range []struct {
		name   string
		give   http.Header
		wantOK bool
	}{
		{name: "sibling site", give: http.Header{"Sec-Fetch-Site": {"same-site"}}},
		{name: "cross site", give: http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{name: "other port, no fetch metadata", give: http.Header{"Origin": {"http://127.0.0.1:1"}}},
	} {
		if got := forged(pair, "", tt.give); got != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tt.name, got)
		}
	}
	if got := forged(url.Values{"hours": {"3"}}, "?_csrf="+planted, http.Header{}); got != http.StatusForbidden {
		t.Errorf("token in the URL: status %d, want 403", got)
	}
	if got := victim.Get("/security").Attr("[data-hours]", "data-hours"); !cmp.Equal(got, []string{"48"}) {
		t.Fatalf("forged POST changed the duration: %v", got)
	}
	// The console's own page, as a browser sends it, still works.
	victim.Header.Set("Sec-Fetch-Site", "same-origin")
	victim.Header.Set("Origin", env.URL)
	victim.Get("/security/session-duration")
	if r := victim.Post("/security/session-duration", url.Values{"hours": {"3"}}); r.StatusCode != http.StatusSeeOther {
		t.Errorf("own form: status %d, want 303", r.StatusCode)
	}
}
