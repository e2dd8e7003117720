package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/clientip"
	"github.com/logonguard/logonguard/mask"
	"github.com/logonguard/logonguard/password"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/throttle"
	"github.com/logonguard/logonguard/views"
)

// logonAttempt is one try to open an owner session.
type logonAttempt struct {
	name     string
	password string
	src      clientip.Source
	// only, when set, is the one account this attempt may open: any other
	// name takes the unknown account's path (the demo logon serves "demo").
	only string
}

// logonResult is what a logon attempt came to.
type logonResult struct {
	status     int    // 303, 401, 403, 422, 429 or 503
	retryAfter int    // seconds, for 429 and 503
	problem    string // why the input could match no account, shown with the 401
	entry      mask.Entry
	account    store.Account
}

// msgBadLogon is the one message for an unknown account and a wrong password.
const msgBadLogon = "The account name or password is not right."

func (s *Server) handleLoginForm(c echo.Context) error {
	if s.ownerID(c) != 0 {
		return c.Redirect(http.StatusSeeOther, "/security")
	}
	return render(c, http.StatusOK, views.LoginPage(s.loginView(c, "", "")))
}

func (s *Server) loginView(c echo.Context, name, msg string) views.LoginView {
	return views.LoginView{Page: s.page(c, "Log on to Logon Guard"), Action: "/login",
		NameField: "account", NameLabel: "Account", Name: name, Message: msg,
		DemoAccounts: s.cfg.Demo, ShowRecovery: true}
}

func (s *Server) handleLogin(c echo.Context) error {
	a := logonAttempt{name: c.FormValue("account"), password: c.FormValue("password"), src: source(c)}
	res, err := s.logOn(c, a)
	if err != nil {
		return err
	}
	return s.answerLogon(c, a, res, "/security", s.loginView(c, a.name, ""))
}

// answerLogon turns a logon result into the contract's response: a
// redirect, or the logon page with the refusal.
func (s *Server) answerLogon(c echo.Context, a logonAttempt, res logonResult, next string,
	v views.LoginView) error {
	switch res.status {
	case http.StatusSeeOther:
		return c.Redirect(http.StatusSeeOther, next)
	case http.StatusForbidden:
		v.Result, v.Source = "blocked", a.src.String()
	default:
		v.Message = refusal(c, res)
		if res.problem != "" {
			v.Result = "invalid"
		} else if res.status == http.StatusUnauthorized && v.NameField == "staff" {
			v.Message = "The staff name or password is not right."
		}
	}
	return render(c, res.status, views.LoginPage(v))
}

// refusal returns the message for a refused logon (401, 429, 503) and
// sets Retry-After where the refusal has a wait.
func refusal(c echo.Context, res logonResult) string {
	if res.retryAfter > 0 {
		c.Response().Header().Set("Retry-After", fmt.Sprint(res.retryAfter))
	}
	if res.problem != "" {
		return res.problem
	}
	switch res.status {
	case http.StatusUnauthorized:
		return msgBadLogon
	case http.StatusTooManyRequests:
		return fmt.Sprintf("Too many failed logons. Try again in %s.", waitText(res.retryAfter))
	case http.StatusServiceUnavailable:
		return "The console is busy checking other logons. Try again in a moment."
	}
	return ""
}

// waitText says a number of seconds the way a person would.
func waitText(seconds int) string {
	switch {
	case seconds <= 1:
		return "a second"
	case seconds < 90:
		return fmt.Sprintf("%d seconds", seconds)
	}
	return fmt.Sprintf("%d minutes", (seconds+59)/60)
}

// logOn runs the contract's logon steps: rate limits, then the mask, and
// only then the password. A logon refused by the mask computes no hash.
func (s *Server) logOn(c echo.Context, a logonAttempt) (logonResult, error) {
	if problem := logonInputProblem(a); problem != "" {
		// No account could match: nothing is looked up, hashed or counted.
		// The status is the contract's 401; the message says what is wrong.
		return logonResult{status: http.StatusUnauthorized, problem: problem}, nil
	}
	ctx := c.Request().Context()
	now := s.now()
	ev := store.LogonEvent{At: now, Kind: store.KindOwner, AccountName: a.name, Source: a.src.String()}
	id, err := s.accounts.id(ctx, a.name)
	if err != nil {
		return logonResult{}, err
	}
	if a.only != "" && a.name != a.only {
		id = 0
	}
	ev.AccountID = id
	if wait, ok := s.checkLogonLimits(a, now); !ok {
		s.recordLogon(ctx, ev, store.OutcomeRateLimited)
		return logonResult{status: http.StatusTooManyRequests, retryAfter: wait}, nil
	}
	if id == 0 {
		return s.checkPassword(c, a, store.Account{}, mask.Entry{}, ev)
	}
	state, err := s.accounts.state(ctx, id)
	if err != nil {
		return logonResult{}, err
	}
	entry, ok := state.allows(a.src.Addr, a.src.Known)
	if !ok {
		s.hitLimit(s.logons.blocked, a.src, a.src.Key(), now)
		s.recordLogon(ctx, ev, store.OutcomeBlocked)
		return logonResult{status: http.StatusForbidden}, nil
	}
	// Only a logon the mask allows reads the password hash.
	acct, err := s.st.Account(ctx, id)
	if err != nil {
		return logonResult{}, err
	}
	return s.checkPassword(c, a, acct, entry, ev)
}

// checkPassword verifies the password and opens the session on success.
func (s *Server) checkPassword(c echo.Context, a logonAttempt, acct store.Account, entry mask.Entry,
	ev store.LogonEvent) (logonResult, error) {
	known := acct.ID != 0 && validName(a.name)
	res, ok, err := s.verifyLogon(c.Request().Context(), a, acct.PasswordHash, known, ev,
		limitKey{s.logons.account, a.name}, limitKey{s.logons.source, a.src.Key()})
	if !ok {
		return res, err
	}
	if err := s.startOwnerSession(c, acct, a.src); err != nil {
		return logonResult{}, err
	}
	s.recordLogon(c.Request().Context(), ev, store.OutcomeAllowed)
	return logonResult{status: http.StatusSeeOther, entry: entry, account: acct}, nil
}

// startOwnerSession renews the token (no fixation), then sets the deadline
// from the account's session duration: RenewToken resets the deadline, so
// the order matters.
func (s *Server) startOwnerSession(c echo.Context, acct store.Account, src clientip.Source) error {
	ctx := c.Request().Context()
	state, err := s.accounts.state(ctx, acct.ID)
	if err != nil {
		return err
	}
	if err := s.owners.RenewToken(ctx); err != nil {
		return fmt.Errorf("web: renew session token: %w", err)
	}
	now := s.now()
	s.owners.Put(ctx, store.SessionAccountID, acct.ID)
	s.owners.Put(ctx, store.SessionCreated, now)
	s.owners.Put(ctx, store.SessionSource, src.String())
	s.owners.SetDeadline(ctx, now.Add(time.Duration(state.settings.SessionHours)*time.Hour))
	return nil
}

// verifyLogon checks a logon's password against hash, or against the dummy
// hash when the name is not known, so both take as long. It holds room in
// each of failures while it waits and checks (429 when one has none left)
// and counts a failure there. ok is true only for a known name with the
// right password; otherwise res is the answer: 429, 503 when every
// password-check slot stayed busy, or 401, recorded as ev.
func (s *Server) verifyLogon(ctx context.Context, a logonAttempt, hash string, known bool,
	ev store.LogonEvent, failures ...limitKey) (res logonResult, ok bool, err error) {
	if !known {
		hash = s.dummyHash
	}
	if wait, ok := s.beginGuess(a.src, failures...); !ok && wait == 0 {
		// Other checks of this account or address under way fill its
		// room: the server is busy with it, no failures are proven yet.
		// Still a refusal by the limits, so it is counted as one.
		s.recordLogon(ctx, ev, store.OutcomeRateLimited)
		return logonResult{status: http.StatusServiceUnavailable, retryAfter: 1}, false, nil
	} else if !ok {
		s.recordLogon(ctx, ev, store.OutcomeRateLimited)
		return logonResult{status: http.StatusTooManyRequests, retryAfter: wait}, false, nil
	}
	ok, err = s.verify(ctx, a.password, hash)
	s.endGuess(a.src, err == nil && (!ok || !known), failures...)
	if errors.Is(err, errBusy) {
		return logonResult{status: http.StatusServiceUnavailable, retryAfter: 2}, false, nil
	}
	if err != nil {
		return logonResult{}, false, err
	}
	if ok && known {
		return logonResult{}, true, nil
	}
	s.recordLogon(ctx, ev, store.OutcomeWrongPassword)
	return logonResult{status: http.StatusUnauthorized}, false, nil
}

// errBusy means every password-check slot stayed taken for HashWait.
var errBusy = errors.New("web: password checks busy")

// verify checks a password in one of a bounded number of slots, so a burst
// of logons cannot exhaust memory with argon2id's 19 MiB per check.
func (s *Server) verify(ctx context.Context, pw, hash string) (bool, error) {
	t := time.NewTimer(s.cfg.HashWait)
	defer t.Stop()
	select {
	case s.hashes <- struct{}{}:
	case <-t.C:
		return false, errBusy
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.hashes }()
	return password.Verify(pw, hash)
}

// checkLogonLimits applies the failure limits per account name and per
// source address, and the mask-refusal limit per source address.
func (s *Server) checkLogonLimits(a logonAttempt, now time.Time) (int, bool) {
	return s.checkLimits(a.src, now, limitKey{s.logons.source, a.src.Key()},
		limitKey{s.logons.blocked, a.src.Key()}, limitKey{s.logons.account, a.name})
}

// limitKey is one limiter and the key a request counts against it.
type limitKey struct {
	l   *throttle.Limiter
	key string
}

// checkLimits reports whether src may try again under every limit; when
// not, it returns the Retry-After seconds of the first one used up. It uses
// up nothing, and exempt sources always pass.
func (s *Server) checkLimits(src clientip.Source, now time.Time, keys ...limitKey) (int, bool) {
	if s.exempt(src) {
		return 0, true
	}
	for _, k := range keys {
		if wait, ok := k.l.Check(k.key, now); !ok {
			return throttle.RetryAfterSeconds(wait), false
		}
	}
	return 0, true
}

// beginGuess holds room for one password check in each of failures, so
// that concurrent guesses, each waiting for a hash slot, cannot all pass a
// limit checked before any of them failed. It holds nothing when one limit
// has no room left; it then returns the Retry-After seconds, or 0 when the
// room is only held by checks under way (busy, not limited).
func (s *Server) beginGuess(src clientip.Source, failures ...limitKey) (int, bool) {
	if s.exempt(src) {
		return 0, true
	}
	now := s.now()
	for i, k := range failures {
		if wait, busy, ok := k.l.Begin(k.key, now); !ok {
			for _, held := range failures[:i] {
				held.l.End(held.key, now, false)
			}
			if busy {
				return 0, false
			}
			return throttle.RetryAfterSeconds(wait), false
		}
	}
	return 0, true
}

// endGuess ends what beginGuess held, counting a failure when failed.
func (s *Server) endGuess(src clientip.Source, failed bool, failures ...limitKey) {
	if s.exempt(src) {
		return
	}
	now := s.now()
	for _, k := range failures {
		k.l.End(k.key, now, failed)
	}
}

func (s *Server) hitLimit(l *throttle.Limiter, src clientip.Source, key string, now time.Time) {
	if !s.exempt(src) {
		l.Hit(key, now)
	}
}

// exempt reports whether the rate limits skip this source (monitoring,
// load tests). It is judged by the source address, so exempting a trusted proxy does not
// exempt every client behind it; a request with no trustworthy address is
// never exempt.
func (s *Server) exempt(src clientip.Source) bool {
	return src.Known && clientip.Contains(s.cfg.RateLimitExempt, src.Addr)
}

// recordLogon queues the logon event and logs it with the request's
// context (so the line carries its request id); the request does not wait
// for the write.
func (s *Server) recordLogon(ctx context.Context, ev store.LogonEvent, outcome string) {
	ev.Outcome = outcome
	s.events.Add(ev)
	s.metrics.countLogon(outcome)
	level := slog.LevelInfo
	if outcome != store.OutcomeAllowed {
		level = slog.LevelWarn
	}
	s.cfg.Logger.LogAttrs(ctx, level, "logon", slog.String("kind", ev.Kind),
		slog.String("account", ev.AccountName), slog.String("client_ip", ev.Source),
		slog.String("outcome", outcome))
}

func (s *Server) handleLogout(c echo.Context) error {
	if err := s.owners.Destroy(c.Request().Context()); err != nil {
		return fmt.Errorf("web: end session: %w", err)
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

// requireOwner lets signed-in owners through and sends others to /login.
// It notes the owner's name, so every page they see, error pages included,
// has the logout form with its CSRF token.
func (s *Server) requireOwner(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := s.ownerID(c)
		if id == 0 {
			return c.Redirect(http.StatusSeeOther, "/login")
		}
		a, err := s.accounts.state(c.Request().Context(), id)
		if err != nil {
			return err
		}
		c.Set(ownerNameKey, a.settings.AccountName)
		return next(c)
	}
}

// ownerNameKey holds the signed-in owner's name on the echo context.
const ownerNameKey = "owner_name"

// logonInputProblem says what makes a logon's fields impossible for any
// account, or "". An empty name is left to the usual refusal.
func logonInputProblem(a logonAttempt) string {
	switch {
	case a.name != "" && !validName(a.name):
		return "A name has 1 to 64 characters, with no control characters and no blanks at " +
			"either end. Nothing was checked."
	case utf8.RuneCountInString(a.password) > password.MaxLength:
		return fmt.Sprintf("A password has at most %d characters. Nothing was checked.",
			password.MaxLength)
	}
	return ""
}

// maxNameLen bounds account and staff names.
const maxNameLen = 64

// validName reports whether name could be an account or staff name: 1 to
// 64 characters, no blanks at either end, no control characters.
func validName(name string) bool {
	if name == "" || utf8.RuneCountInString(name) > maxNameLen || strings.TrimSpace(name) != name {
		return false
	}
	return utf8.ValidString(name) && !strings.ContainsFunc(name, unicode.IsControl)
}
