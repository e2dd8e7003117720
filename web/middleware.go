package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/logonguard/logonguard/clientip"
)

// csp allows only the console's own stylesheet: no scripts, no inline
// styles, no framing.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// Body limits: forms are small, but a mask of 10,000 entries is not, and the
// mask's own limit must answer before a body cap does.
const (
	bodyLimit     = "64K"
	maskBodyLimit = "4M"
)

// middleware returns the chain every request passes, outermost first.
func (s *Server) middleware() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{
		middleware.RequestIDWithConfig(middleware.RequestIDConfig{
			TargetHeader: echo.HeaderXRequestID,
			// Never echo a client-chosen id into our logs.
			Skipper: func(c echo.Context) bool { c.Request().Header.Del(echo.HeaderXRequestID); return false },
			// Log lines written with the request's context carry the id.
			RequestIDHandler: keepRequestID,
		}),
		s.withSource,
		s.observeRequests,
		middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
			LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true,
			LogRequestID: true, LogRemoteIP: true, LogRoutePath: true,
			HandleError: true,
			LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
				level := slog.LevelInfo
				if v.Status >= 500 {
					level = slog.LevelError
				}
				s.cfg.Logger.LogAttrs(context.Background(), level, "request",
					slog.String("request_id", v.RequestID), slog.String("method", v.Method),
					slog.String("path", v.URIPath), slog.Int("status", v.Status),
					slog.Duration("latency", v.Latency), slog.String("client_ip", v.RemoteIP))
				return nil
			},
		}),
		middleware.Recover(),
		s.secureHeaders,
		// Two caps, chosen by route, both before CSRF reads the form.
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
			Limit: bodyLimit, Skipper: isMaskRoute,
		}),
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
			Limit: maskBodyLimit, Skipper: func(c echo.Context) bool { return !isMaskRoute(c) },
		}),
		s.checkFetchMetadata,
		readForm,
		s.csrf(),
	}
}

// csrfCookie is the cookie echo's CSRF check keeps its token in.
const csrfCookie = "_csrf"

// csrf checks the form's _csrf token against the _csrf cookie. Its cookie
// is Secure whenever the request came over TLS, directly or through a
// trusted proxy, so it is built twice and chosen per request.
func (s *Server) csrf() echo.MiddlewareFunc {
	build := func(secure bool) echo.MiddlewareFunc {
		return middleware.CSRFWithConfig(middleware.CSRFConfig{ //nolint:gosec // field names, no secret
			// No route takes PUT, PATCH or DELETE: let the router answer them
			// 405 instead of the token check answering 403.
			Skipper:        func(c echo.Context) bool { return !isFormMethod(c.Request().Method) },
			TokenLookup:    "form:_csrf",
			CookieName:     csrfCookie,
			CookiePath:     "/",
			CookieHTTPOnly: true,
			CookieSameSite: http.SameSiteStrictMode,
			CookieSecure:   secure,
			ErrorHandler: func(err error, c echo.Context) error {
				return &pageError{status: http.StatusForbidden, heading: "Request refused",
					message: "The form had expired or did not come from this console. " +
						"Reload the page and try again.",
					err: err}
			},
		})
	}
	plain, secure := build(false), build(true)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		plainNext, secureNext := plain(next), secure(next)
		return func(c echo.Context) error {
			if s.secureRequest(c) {
				return secureNext(c)
			}
			return plainNext(c)
		}
	}
}

// isFormMethod reports the methods the console's routes take.
func isFormMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodPost
}

func isMaskRoute(c echo.Context) bool { return strings.HasPrefix(c.Path(), "/security/logon-mask") }

// readForm parses a posted form before the CSRF check reads it. The check
// reads the token through FormValue, which drops a parse error: a chunked
// body past the cap would look like a missing token and get 403, where the
// person should learn that the form was too large.
func readForm(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method != http.MethodPost {
			return next(c)
		}
		r := c.Request()
		err := literalSemicolons(r)
		if err == nil {
			err = r.ParseForm()
		}
		if err != nil {
			var he *echo.HTTPError
			if errors.As(err, &he) {
				return he
			}
			return &pageError{status: http.StatusBadRequest, heading: "Bad request",
				message: "The form could not be read. Reload the page and try again.", err: err}
		}
		// The token counts only from the body: a token in the URL leaks
		// into logs and Referer headers.
		r.Form[csrfCookie] = r.PostForm[csrfCookie]
		return next(c)
	}
}

// literalSemicolons makes a raw ";" in a urlencoded body mean itself. Go's
// form parser refuses the old ";" separator outright, yet ";" is the very
// separator of a logon mask, and a script posting mask=a;b unencoded
// should save that mask rather than get 400. The body is already capped.
func literalSemicolons(r *http.Request) error {
	ct, _, _ := strings.Cut(r.Header.Get(echo.HeaderContentType), ";")
	if r.Body == nil || !strings.EqualFold(strings.TrimSpace(ct), echo.MIMEApplicationForm) {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(bytes.ReplaceAll(body, []byte(";"), []byte("%3B"))))
	return nil
}

// checkFetchMetadata refuses a state-changing request that a browser says
// came from another origin: Sec-Fetch-Site other than same-origin or none,
// or, from browsers that do not send it, an Origin other than this host.
// echo's token check compares the form's token with the _csrf cookie, and
// a sibling host or another port of this one can plant that cookie; the
// browser's own account of where a request came from cannot be planted.
// The header is then removed, because with it echo would let a same-origin
// POST through without a token: the token is still required of everyone.
func (s *Server) checkFetchMetadata(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		site := r.Header.Get(echo.HeaderSecFetchSite)
		r.Header.Del(echo.HeaderSecFetchSite)
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		crossSite := site != "" && site != "same-origin" && site != "none"
		if origin := r.Header.Get(echo.HeaderOrigin); site == "" && origin != "" && origin != "null" {
			u, err := url.Parse(origin)
			crossSite = err != nil || !s.ownHost(r, u.Host)
		}
		if crossSite {
			return &pageError{status: http.StatusForbidden, heading: "Request refused",
				message: "This form was sent from another site. Open the console itself and try again."}
		}
		return next(c)
	}
}

// ownHost reports whether host names this console: the request's Host,
// or the X-Forwarded-Host a trusted proxy passed on.
func (s *Server) ownHost(r *http.Request, host string) bool {
	if strings.EqualFold(host, r.Host) {
		return true
	}
	fwd := r.Header.Get("X-Forwarded-Host")
	return fwd != "" && s.resolver.Resolve(r.RemoteAddr, r.Header).ViaTrustedProxy &&
		strings.EqualFold(host, fwd)
}

// secureHeaders sets the security headers on every response.
func (s *Server) secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.secureRequest(c) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

type sourceKey struct{}

// withSource resolves the request's source address once and keeps it on
// the context; echo's RealIP reads the same through IPExtractor.
func (s *Server) withSource(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		src := s.resolver.Resolve(r.RemoteAddr, r.Header)
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), sourceKey{}, src)))
		return next(c)
	}
}

// source returns the request's source address.
func source(c echo.Context) clientip.Source {
	src, _ := c.Request().Context().Value(sourceKey{}).(clientip.Source)
	return src
}

// ipExtractor makes echo's RealIP follow the contract's rules rather than
// echo's defaults, which trust every private range.
func (s *Server) ipExtractor(r *http.Request) string {
	return s.resolver.Resolve(r.RemoteAddr, r.Header).Key()
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
