package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/store"
)

// Cookie names the contract fixes.
const (
	ownerCookie = "lg_session"
	staffCookie = "lg_staff"
)

// newSessionManager builds an scs manager on the database. lifetime is
// only the fallback: owner sessions get their deadline at logon.
func (s *Server) newSessionManager(cookie string, lifetime, idle time.Duration) *scs.SessionManager {
	sm := scs.New()
	sm.Store = s.st.Sessions()
	sm.Codec = store.SessionCodec{}
	sm.HashTokenInStore = true
	sm.Lifetime = lifetime
	sm.IdleTimeout = idle
	sm.Cookie.Name = cookie
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = true
	return sm
}

// loadSession loads sm's session for the request and commits it just
// before the response header is written, so a handler's error page still
// carries the cookie and the session is committed once.
func (s *Server) loadSession(sm *scs.SessionManager) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			var token string
			if ck, err := r.Cookie(sm.Cookie.Name); err == nil {
				token = ck.Value
			}
			ctx, err := sm.Load(r.Context(), token)
			if err != nil {
				return fmt.Errorf("web: load session: %w", err)
			}
			c.SetRequest(r.WithContext(ctx))
			if h := c.Response().Header(); !slices.Contains(h.Values("Vary"), "Cookie") {
				h.Add("Vary", "Cookie")
			}
			loaded := sm.Token(ctx) // "" unless the store had the session
			c.Response().Before(func() { s.commitSession(c, sm, loaded) })
			return next(c)
		}
	}
}

// commitSession writes a changed session and its cookie. The cookie's
// Expires and Max-Age state the same instant as the stored expiry.
func (s *Server) commitSession(c echo.Context, sm *scs.SessionManager, loaded string) {
	ctx := c.Request().Context()
	switch sm.Status(ctx) {
	case scs.Modified:
		commit := ctx
		if loaded != "" && sm.Token(ctx) == loaded {
			commit = store.ExistingSession(ctx)
		}
		token, expiry, err := sm.Commit(commit)
		if errors.Is(err, store.ErrNotFound) {
			// Ended while this request ran: it stays ended.
			s.writeCookie(c, sm, "", time.Time{})
			return
		}
		if err != nil {
			s.cfg.Logger.Error("session_commit", "err", err, "request_id", requestID(c))
			return
		}
		s.writeCookie(c, sm, token, expiry)
	case scs.Destroyed:
		s.writeCookie(c, sm, "", time.Time{})
	}
}

func (s *Server) writeCookie(c echo.Context, sm *scs.SessionManager, token string, expiry time.Time) {
	// Secure whenever the request came over TLS, directly or through a
	// trusted proxy; over plain HTTP (a console on localhost) a browser
	// would drop a Secure cookie.
	ck := &http.Cookie{ //nolint:gosec // see above
		Name:     sm.Cookie.Name,
		Value:    token,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   s.secureRequest(c),
	}
	if expiry.IsZero() {
		ck.Expires = time.Unix(1, 0)
		ck.MaxAge = -1
	} else {
		ck.Expires = expiry
		ck.MaxAge = max(1, int(math.Round(expiry.Sub(s.now()).Seconds())))
	}
	c.Response().Header().Add("Set-Cookie", ck.String())
}

// secureRequest reports whether the request came over TLS, directly or
// through a trusted proxy that says so.
func (s *Server) secureRequest(c echo.Context) bool {
	r := c.Request()
	return r.TLS != nil || s.resolver.ForwardedHTTPS(r.RemoteAddr, r.Header)
}

// ownerID returns the signed-in owner's account id, or 0. A session past
// its deadline counts as none even if the store still returned it.
func (s *Server) ownerID(c echo.Context) int64 {
	return s.ownerIn(c.Request().Context())
}

// ownerIn is ownerID for a context that holds the owner session.
func (s *Server) ownerIn(ctx context.Context) int64 {
	id, _ := s.owners.Get(ctx, store.SessionAccountID).(int64)
	if id == 0 || !s.now().Before(s.owners.Deadline(ctx)) {
		return 0
	}
	return id
}

// staffID returns the signed-in staff member's id, or 0.
func (s *Server) staffID(c echo.Context) int64 {
	ctx := c.Request().Context()
	id, _ := s.staff.Get(ctx, store.SessionStaffID).(int64)
	if id == 0 || !s.now().Before(s.staff.Deadline(ctx)) {
		return 0
	}
	return id
}
