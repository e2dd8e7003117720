package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/password"
	"github.com/logonguard/logonguard/recovery"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/views"
)

// actor names the signed-in owner for the audit log.
func actor(c echo.Context, a *accountState) store.Actor {
	return store.Actor{Name: "owner " + a.settings.AccountName, Source: source(c).String()}
}

func (s *Server) handleDurationForm(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	v := views.DurationFormView{Page: s.page(c, "Session duration"),
		Hours: strconv.Itoa(a.settings.SessionHours), Current: a.settings.SessionHours}
	return render(c, http.StatusOK, views.DurationFormPage(v))
}

func (s *Server) handleDurationSave(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	give := c.FormValue("hours")
	hours, err := strconv.Atoi(strings.TrimSpace(give))
	if err != nil || hours < 1 || hours > 72 || strconv.Itoa(hours) != strings.TrimSpace(give) {
		v := views.DurationFormView{Page: s.page(c, "Session duration"), Hours: give,
			Current: a.settings.SessionHours,
			Error:   "Enter a whole number of hours from 1 to 72, such as 8 or 48."}
		return render(c, http.StatusUnprocessableEntity, views.DurationFormPage(v))
	}
	ctx := c.Request().Context()
	u := store.SettingsUpdate{AccountID: a.settings.AccountID, By: actor(c, a)}
	st, changed, err := s.st.UpdateSessionHours(ctx, u, hours)
	if err != nil {
		return err
	}
	if changed {
		if _, err := s.accounts.put(st); err != nil {
			return err
		}
		s.cfg.Logger.InfoContext(ctx, "settings_change", "account", a.settings.AccountName,
			"client_ip", source(c).String(), "setting", "session_hours", "value", hours)
	}
	s.owners.Put(ctx, flashSaved, "Session duration saved: "+strconv.Itoa(hours)+
		" hours from your next logon. This session keeps its current expiry.")
	return c.Redirect(http.StatusSeeOther, "/security")
}

func (s *Server) handleEndOtherSessions(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	keep := store.HashToken(s.owners.Token(ctx))
	n, err := s.st.EndSessions(ctx, store.KindOwner, a.settings.AccountID, keep)
	if err != nil {
		return err
	}
	if err := s.st.AddAudit(ctx, store.AuditEvent{AccountID: a.settings.AccountID, Actor: actor(c, a),
		Action: "sessions.end_others", NewValue: strconv.FormatInt(n, 10) + " ended"}); err != nil {
		return err
	}
	s.owners.Put(ctx, flashSaved, endedMessage(int(n), "other"))
	return c.Redirect(http.StatusSeeOther, "/security")
}

// handleEndBlockedSessions ends the owner's other sessions whose source
// address the saved mask now refuses, which the Login Status card offers
// after a mask save; sessions inside the mask stay open.
func (s *Server) handleEndBlockedSessions(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	open, err := s.st.OpenSessions(ctx, store.KindOwner, a.settings.AccountID)
	if err != nil {
		return err
	}
	current := store.HashToken(s.owners.Token(ctx))
	var n int
	for _, si := range open {
		if si.Token == current || !outsideMask(a, si) {
			continue
		}
		if err := s.st.Sessions().DeleteCtx(ctx, si.Token); err != nil {
			return err
		}
		n++
	}
	if err := s.st.AddAudit(ctx, store.AuditEvent{AccountID: a.settings.AccountID, Actor: actor(c, a),
		Action: "sessions.end_outside_mask", NewValue: strconv.Itoa(n) + " ended"}); err != nil {
		return err
	}
	s.owners.Put(ctx, flashSaved, endedMessage(n, "outside the logon mask"))
	return c.Redirect(http.StatusSeeOther, "/security")
}

func (s *Server) handlePasswordForm(c echo.Context) error {
	v := views.PasswordFormView{Page: s.page(c, "Change password")}
	v.DemoLocked = s.cfg.Demo && v.Account == demoAccount
	return render(c, http.StatusOK, views.PasswordFormPage(v))
}

func (s *Server) handlePasswordSave(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	acct, err := s.st.Account(ctx, a.settings.AccountID)
	if err != nil {
		return err
	}
	cur, next := c.FormValue("current"), c.FormValue("new")
	var errs []views.FieldError
	// A wrong current password is recorded like a logon's and limited, on
	// a limit of its own (see logonLimits.change).
	src := source(c)
	ev := store.LogonEvent{At: s.now(), Kind: store.KindOwner, AccountID: acct.ID, AccountName: acct.Name,
		Source: src.String()}
	res, ok, err := s.verifyLogon(ctx, logonAttempt{name: acct.Name, password: cur, src: src},
		acct.PasswordHash, true, ev, limitKey{s.logons.change, acct.Name})
	if err != nil {
		return err
	}
	switch {
	case res.status == http.StatusUnauthorized:
		errs = append(errs, views.FieldError{Field: "current", Message: "This is not your current password."})
	case !ok:
		return &pageError{status: res.status, heading: "Not now", retryAfter: res.retryAfter,
			message: refusal(c, res)}
	case next == cur:
		errs = append(errs, views.FieldError{Field: "new", Message: "Choose a password other than the current one."})
	}
	if s.cfg.Demo && acct.Name == demoAccount {
		// The demo password is printed on the logon pages; changing it would
		// lock every other visitor out of the demo.
		errs = append(errs, views.FieldError{Field: "new",
			Message: "The demo account's password cannot be changed in demo mode."})
	} else if msg := password.CheckStrength(next, acct.Name); msg != "" {
		errs = append(errs, views.FieldError{Field: "new", Message: msg})
	}
	if len(errs) > 0 {
		v := views.PasswordFormView{Page: s.page(c, "Change password"), Errors: errs}
		return render(c, http.StatusUnprocessableEntity, views.PasswordFormPage(v))
	}
	hash, err := password.Hash(next, s.cfg.Password)
	if err != nil {
		return err
	}
	keep := store.HashToken(s.owners.Token(ctx))
	if err := s.st.SetPassword(ctx, acct.ID, hash, keep, actor(c, a)); err != nil {
		return err
	}
	s.logons.account.Reset(acct.Name)
	s.owners.Put(ctx, flashSaved, "Password changed. Your other sessions have ended.")
	return c.Redirect(http.StatusSeeOther, "/security")
}

func (s *Server) handleContactForm(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	v := views.ContactFormView{Page: s.page(c, "Recovery contact"), Contact: a.settings.RecoveryContact}
	return render(c, http.StatusOK, views.ContactFormPage(v))
}

func (s *Server) handleContactSave(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	contact := strings.TrimSpace(c.FormValue("contact"))
	if msg := recovery.CheckContact(contact); msg != "" {
		v := views.ContactFormView{Page: s.page(c, "Recovery contact"), Contact: contact, Error: msg}
		return render(c, http.StatusUnprocessableEntity, views.ContactFormPage(v))
	}
	ctx := c.Request().Context()
	u := store.SettingsUpdate{AccountID: a.settings.AccountID, By: actor(c, a)}
	st, changed, err := s.st.UpdateRecoveryContact(ctx, u, contact)
	if err != nil {
		return err
	}
	if changed {
		if _, err := s.accounts.put(st); err != nil {
			return err
		}
	}
	s.owners.Put(ctx, flashSaved, "Recovery contact saved.")
	return c.Redirect(http.StatusSeeOther, "/security")
}

// endedMessage says how many sessions of a kind were ended.
func endedMessage(n int, which string) string {
	switch n {
	case 0:
		return "No " + which + " sessions were open."
	case 1:
		return "1 session (" + which + ") ended."
	}
	return strconv.Itoa(n) + " sessions (" + which + ") ended."
}
