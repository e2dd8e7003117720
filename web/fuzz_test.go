package web_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/logonguard/logonguard/mask"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web/webtest"
)

// fuzzCaller is the fuzzed forms' source address.
const fuzzCaller = "203.0.113.5"

// fuzzOwner starts a console with a signed-in owner for a fuzz target.
// Each fuzz worker runs the target's setup once and its inputs one after
// another, so the browser is handed each input's *testing.T.
func fuzzOwner(f *testing.F) (*webtest.Env, *browser, int64) {
	f.Helper()
	env := webtest.Start(f, webtest.Options{RateLimitExempt: mustPrefixesTB(f, "0.0.0.0/0,::/0")})
	acct := env.AddAccount(f, ownerName, ownerPw)
	b := newBrowser(f, env, fuzzCaller)
	b.logOn(ownerName, ownerPw)
	return env, b, acct.ID
}

func settingsOf(t *testing.T, env *webtest.Env, id int64) store.Settings {
	t.Helper()
	st, err := env.Store.Settings(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// FuzzMaskForm posts arbitrary mask, version and confirmation values to
// the mask form: never a 5xx, and the stored mask is either untouched or
// exactly the canonical form of what was posted, never half of it.
func FuzzMaskForm(f *testing.F) {
	for _, seed := range [][3]string{
		{"42.120.66.0/24;42.120.74.98", "", ""},
		{"203.0.113.0/24 #office\n198.51.100.7", "1", "yes"},
		{"198.51.100.1-198.51.100.0", "x", "yes"},
		{"::/0", "-1", ""},
		{"0.0.0.0/1;128.0.0.0/1", "", "yes"},
		{"203.0.113.5%eth0", "99999999999999999999", "yes"},
		{"010.1.2.3;1.2.3.4/33;fe80::1/64", " 2 ", "YES"},
		{"", "", ""},
		{"203.0.113.5 #\x00\u202e", "", "yes"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	env, b, id := fuzzOwner(f)
	caller := netip.MustParseAddr(fuzzCaller)
	f.Fuzz(func(t *testing.T, text, version, confirm string) {
		b.t = t
		before := settingsOf(t, env, id)
		b.get("/security/logon-mask")
		r := b.post("/security/logon-mask",
			url.Values{"mask": {text}, "version": {version}, "confirm_lockout": {confirm}})
		after := settingsOf(t, env, id)
		checkStoredMask(t, after.Mask)
		switch r.StatusCode {
		case http.StatusSeeOther:
			m, err := mask.Parse(text)
			if err != nil {
				t.Fatalf("saved a mask the parser refuses (%v): %q", err, text)
			}
			if after.Mask != m.String() {
				t.Fatalf("stored %q, want the canonical %q", after.Mask, m.String())
			}
			if after.Mask != before.Mask && !allows(m, caller) && confirm != "yes" {
				t.Fatalf("saved a mask that locks the caller out without confirmation: %q", text)
			}
		case http.StatusConflict, http.StatusUnprocessableEntity:
			if after.Mask != before.Mask || after.Version != before.Version {
				t.Fatalf("status %d changed the mask from %q to %q", r.StatusCode, before.Mask, after.Mask)
			}
		default:
			t.Fatalf("status %d for mask %q version %q confirm %q", r.StatusCode, text, version, confirm)
		}
	})
}

// checkStoredMask fails unless the stored mask parses to itself.
func checkStoredMask(t *testing.T, stored string) {
	t.Helper()
	m, err := mask.Parse(stored)
	if err != nil || m.String() != stored {
		t.Fatalf("stored mask %q is not canonical (%v)", stored, err)
	}
}

func allows(m *mask.Mask, addr netip.Addr) bool {
	if m.Empty() {
		return true
	}
	_, ok := mask.NewTable(m).Lookup(addr)
	return ok
}

// FuzzMaskCheckForm posts arbitrary addresses and drafts to the check
// form: 200 or 422, never a 5xx, and nothing is saved.
func FuzzMaskCheckForm(f *testing.F) {
	for _, seed := range [][2]string{
		{"42.120.66.7", "42.120.66.0/24"}, {"::ffff:1.2.3.4", ""}, {"fe80::1%eth0", "fe80::/10"},
		{"1.2.3.4:80", "1.2.3.4"}, {"", "not a mask"}, {"2001:db8::1", "2001:db8::/32 #x"},
	} {
		f.Add(seed[0], seed[1])
	}
	env, b, id := fuzzOwner(f)
	f.Fuzz(func(t *testing.T, ip, draft string) {
		b.t = t
		before := settingsOf(t, env, id)
		r := b.post("/security/logon-mask/check", url.Values{"ip": {ip}, "mask": {draft}})
		if r.StatusCode != http.StatusOK && r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d for ip %q draft %q", r.StatusCode, ip, draft)
		}
		if after := settingsOf(t, env, id); after != before {
			t.Fatalf("the check changed the settings: %+v", after)
		}
	})
}

// FuzzDurationForm posts arbitrary hours: 303 and stored exactly when the
// value is a plain whole number from 1 to 72, else 422 and nothing changes.
func FuzzDurationForm(f *testing.F) {
	for _, seed := range []string{"8", "0", "72", "73", " 5 ", "1.5", "+7", "-1", "0x10", "", "٣"} {
		f.Add(seed)
	}
	env, b, id := fuzzOwner(f)
	f.Fuzz(func(t *testing.T, hours string) {
		b.t = t
		before := settingsOf(t, env, id)
		b.get("/security/session-duration")
		r := b.post("/security/session-duration", url.Values{"hours": {hours}})
		after := settingsOf(t, env, id)
		// A whole number written plainly: no sign, no leading zero.
		n, err := strconv.Atoi(strings.TrimSpace(hours))
		valid := err == nil && n >= 1 && n <= 72 && strconv.Itoa(n) == strings.TrimSpace(hours)
		switch {
		case valid && r.StatusCode == http.StatusSeeOther:
			if after.SessionHours != n {
				t.Fatalf("hours %q: stored %d", hours, after.SessionHours)
			}
		case !valid && r.StatusCode == http.StatusUnprocessableEntity:
			if after.SessionHours != before.SessionHours {
				t.Fatalf("refused hours %q changed the duration to %d", hours, after.SessionHours)
			}
		default:
			t.Fatalf("hours %q: status %d", hours, r.StatusCode)
		}
	})
}

// FuzzContactForm posts arbitrary recovery contacts: 303 stores the
// trimmed value, which is short and free of control characters; 422
// changes nothing.
func FuzzContactForm(f *testing.F) {
	for _, seed := range []string{"owner@example.com", "+49 30 1234567", "a@b", "x\r\nBcc: y@z",
		"", "  owner@example.com  ", "<owner@example.com>", "Owner <owner@example.com>"} {
		f.Add(seed)
	}
	env, b, id := fuzzOwner(f)
	f.Fuzz(func(t *testing.T, contact string) {
		b.t = t
		before := settingsOf(t, env, id)
		b.get("/security/recovery-contact")
		r := b.post("/security/recovery-contact", url.Values{"contact": {contact}})
		after := settingsOf(t, env, id)
		switch r.StatusCode {
		case http.StatusSeeOther:
			got := after.RecoveryContact
			if got != strings.TrimSpace(contact) || utf8.RuneCountInString(got) > 254 ||
				strings.ContainsFunc(got, unicode.IsControl) {
				t.Fatalf("contact %q stored as %q", contact, got)
			}
		case http.StatusUnprocessableEntity:
			if after.RecoveryContact != before.RecoveryContact {
				t.Fatalf("refused contact %q was stored", contact)
			}
		default:
			t.Fatalf("contact %q: status %d", contact, r.StatusCode)
		}
	})
}

// FuzzLogonForm posts arbitrary account names and passwords: only the
// owner's own pair opens a session; everything else gets 401 or, for
// impossible fields, 422; never a 5xx.
func FuzzLogonForm(f *testing.F) {
	for _, seed := range [][2]string{
		{ownerName, ownerPw}, {ownerName, "wrong"}, {"nobody", ownerPw}, {"", ""},
		{"demo\x00", ownerPw}, {" demo", ownerPw}, {strings.Repeat("a", 65), "x"},
		{"DEMO", ownerPw}, {"démo", ownerPw}, {ownerName, strings.Repeat("p", 300)},
	} {
		f.Add(seed[0], seed[1])
	}
	env, _, _ := fuzzOwner(f)
	b := newBrowser(f, env, "198.51.100.7")
	f.Fuzz(func(t *testing.T, name, pw string) {
		b.t = t
		b.jar.SetCookies(b.base(), []*http.Cookie{{Name: "lg_session", Path: "/", MaxAge: -1}})
		b.get("/login")
		r := b.post("/login", url.Values{"account": {name}, "password": {pw}})
		right := name == ownerName && pw == ownerPw
		switch r.StatusCode {
		case http.StatusSeeOther:
			if !right {
				t.Fatalf("account %q password %q opened a session", name, pw)
			}
		case http.StatusUnauthorized, http.StatusUnprocessableEntity:
			if right {
				t.Fatalf("the owner's own pair got %d", r.StatusCode)
			}
		default:
			t.Fatalf("account %q password %q: status %d", name, pw, r.StatusCode)
		}
	})
}
