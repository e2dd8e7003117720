package web

import (
	"context"
	"errors"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/clientip"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/views"
)

// The demo account the demo logon page serves, as demo mode seeds it.
const (
	demoAccount  = "demo"
	demoPassword = "demo-password"
)

// demoEvents is how many of the demo account's logons the page lists.
const demoEvents = 15

// demoRoutes registers the demo logon page (/demo, /demo/login, /demo/reset), demo mode only.
// g loads the owner session, so a demo logon opens a real owner session.
func (s *Server) demoRoutes(g *echo.Group) {
	if !s.cfg.Demo {
		return
	}
	g.GET("/demo", s.handleDemo)
	g.POST("/demo/login", s.handleDemoLogin)
	g.POST("/demo/reset", s.handleDemoReset)
}

func (s *Server) handleDemo(c echo.Context) error {
	v, err := s.demoView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.DemoPage(v))
}

// demoView builds the demo page as the demo account now stands.
func (s *Server) demoView(c echo.Context) (views.DemoView, error) {
	ctx := c.Request().Context()
	v := views.DemoView{Page: s.page(c, "Demo logon page"), Password: demoPassword,
		Hours: store.DefaultSessionHours}
	if id := s.ownerID(c); id != 0 {
		if a, err := s.accounts.state(ctx, id); err == nil {
			v.Account = a.settings.AccountName
		}
	}
	a, err := s.demoState(ctx)
	if errors.Is(err, store.ErrNotFound) {
		v.Presets = demoPresets(nil)
		return v, nil
	}
	if err != nil {
		return v, err
	}
	v.Exists, v.Hours = true, a.settings.SessionHours
	for _, e := range a.mask.Entries() {
		v.Entries = append(v.Entries, views.EntryView{Entry: e.String(), Label: e.Label})
	}
	v.Presets = demoPresets(a)
	f := store.LogonFilter{AccountID: a.settings.AccountID, Limit: demoEvents}
	evs, err := s.events.Recent(ctx, f)
	if err != nil {
		return v, err
	}
	for _, ev := range evs {
		// Seconds, so tries within one minute can be told apart.
		at := ev.At.In(s.cfg.Location).Format("2006-01-02 15:04:05 MST")
		v.Events = append(v.Events, views.DemoEvent{At: at, Source: ev.Source, Outcome: ev.Outcome})
	}
	return v, nil
}

// demoState returns the demo account's state, or store.ErrNotFound.
func (s *Server) demoState(ctx context.Context) (*accountState, error) {
	acct, err := s.st.AccountByName(ctx, demoAccount)
	if err != nil {
		return nil, err
	}
	return s.accounts.state(ctx, acct.ID)
}

// handleDemoLogin logs on to the demo account as if from source_ip. It
// runs the logon core of POST /login; any other account name takes the
// unknown account's path, so the page opens no other account from a
// chosen address.
func (s *Server) handleDemoLogin(c echo.Context) error {
	raw := c.FormValue("source_ip")
	addr, msg := parseAddress(raw)
	if msg != "" {
		v, err := s.demoView(c)
		if err != nil {
			return err
		}
		v.SourceIP, v.SourceError = raw, msg
		return render(c, http.StatusUnprocessableEntity, views.DemoPage(v))
	}
	// The simulated address stands in for the source; the real peer stays,
	// so -ratelimit-exempt still judges by what cannot be forged.
	src := clientip.Source{Addr: addr, Known: true, Peer: source(c).Peer}
	a := logonAttempt{name: c.FormValue("account"), password: c.FormValue("password"), src: src,
		only: demoAccount}
	res, err := s.logOn(c, a)
	if err != nil {
		return err
	}
	if res.status == http.StatusSeeOther {
		check := views.CheckResultView{Address: addr.String()}
		if res.entry.Prefix.IsValid() {
			check.Entry, check.Label = res.entry.String(), res.entry.Label
		}
		s.owners.Put(c.Request().Context(), flashLogon, encodeCheck(check))
		return c.Redirect(http.StatusSeeOther, "/security")
	}
	return s.answerDemoLogon(c, res, raw, addr.String())
}

// answerDemoLogon shows a refused demo logon on the demo page. Nothing on
// it depends on the password that was posted.
func (s *Server) answerDemoLogon(c echo.Context, res logonResult, raw, addr string) error {
	v, err := s.demoView(c)
	if err != nil {
		return err
	}
	v.SourceIP = raw
	switch res.status {
	case http.StatusForbidden:
		v.Result, v.Source = "blocked", addr
	default:
		v.Message = refusal(c, res)
	}
	return render(c, res.status, views.DemoPage(v))
}

// handleDemoReset puts the demo account back to no mask and 48 hours,
// audited by the store, and refreshes the cached match table.
func (s *Server) handleDemoReset(c echo.Context) error {
	ctx := c.Request().Context()
	acct, err := s.st.AccountByName(ctx, demoAccount)
	if errors.Is(err, store.ErrNotFound) {
		return &pageError{status: http.StatusNotFound, heading: "No demo account",
			message: "The demo account does not exist. Start the server with -demo to create it."}
	}
	if err != nil {
		return err
	}
	src := source(c).String()
	st, err := s.st.ResetSettings(ctx, acct.ID, store.Actor{Name: "demo page", Source: src})
	if err != nil {
		return err
	}
	if _, err := s.accounts.put(st); err != nil {
		return err
	}
	s.cfg.Logger.Info("settings_change", "account", demoAccount, "client_ip", src,
		"setting", "demo_reset")
	return c.Redirect(http.StatusSeeOther, "/demo")
}

// Example addresses for the presets when the mask gives none of its own:
// the contract's example block and documentation ranges.
var (
	exampleInside4 = netip.MustParseAddr("42.120.66.7")
	example6       = netip.MustParseAddr("2001:db8::7")
	outsideTries   = []netip.Addr{netip.MustParseAddr("203.0.113.9"),
		netip.MustParseAddr("198.51.100.23"), netip.MustParseAddr("192.0.2.44")}
)

// demoPresets picks the one-click addresses: one inside the mask, one
// outside, an IPv6 one and the IPv4-mapped form of the inside one. a is
// nil when the demo account does not exist.
func demoPresets(a *accountState) []views.DemoPreset {
	allows := func(addr netip.Addr) bool {
		if a == nil {
			return true
		}
		_, ok := a.allows(addr, true)
		return ok
	}
	inside4, v6 := exampleInside4, example6
	if a != nil {
		// Entries come IPv4 first; the first of each family gives its address.
		var got4, got6 bool
		for _, e := range a.mask.Entries() {
			if is4 := e.Prefix.Addr().Is4(); is4 && !got4 {
				inside4, got4 = addrInside(e.Prefix), true
			} else if !is4 && !got6 {
				v6, got6 = addrInside(e.Prefix), true
			}
		}
	}
	// With no mask nothing is outside; the first try still shows that.
	outside := outsideTries[0]
	for _, o := range outsideTries {
		if !allows(o) {
			outside = o
			break
		}
	}
	out := []views.DemoPreset{{Label: "IPv4", Addr: inside4.String()},
		{Label: "IPv4", Addr: outside.String()}}
	mapped := netip.AddrFrom16(inside4.As16())
	out = append(out, views.DemoPreset{Label: "IPv6", Addr: v6.String()},
		views.DemoPreset{Label: "IPv4-mapped IPv6", Addr: mapped.String()})
	for i := range out {
		out[i].Inside = allows(netip.MustParseAddr(out[i].Addr))
	}
	return out
}

// addrInside returns an address of p a few steps past its first, so a
// /24 gives its ".7"; a single address gives itself.
func addrInside(p netip.Prefix) netip.Addr {
	a := p.Addr()
	for range 7 {
		n := a.Next()
		if !n.IsValid() || !p.Contains(n) {
			break
		}
		a = n
	}
	return a
}
