package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/logonguard/logonguard/static"
)

// routes builds the echo instance with every route of the contract.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = s.ipExtractor
	e.HTTPErrorHandler = s.handleError
	e.Pre(middleware.RemoveTrailingSlash(), headAsGet)
	e.Use(s.middleware()...)

	e.GET("/healthz", s.handleHealth)
	e.GET(static.StylesheetPath, serveStylesheet)
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/security") })

	owner := e.Group("", s.loadSession(s.owners))
	owner.GET("/login", s.handleLoginForm)
	owner.POST("/login", s.handleLogin)
	owner.POST("/logout", s.handleLogout)

	sec := owner.Group("/security", s.requireOwner)
	sec.GET("", s.handleSecurity)
	sec.GET("/logon-mask", s.handleMaskForm)
	sec.POST("/logon-mask", s.handleMaskSave)
	sec.POST("/logon-mask/check", s.handleMaskCheck)
	sec.GET("/session-duration", s.handleDurationForm)
	sec.POST("/session-duration", s.handleDurationSave)
	sec.POST("/sessions/end-others", s.handleEndOtherSessions)
	sec.POST("/sessions/end-blocked", s.handleEndBlockedSessions)
	sec.POST("/notice/dismiss", s.handleNoticeDismiss)
	sec.GET("/password", s.handlePasswordForm)
	sec.POST("/password", s.handlePasswordSave)
	sec.GET("/recovery-contact", s.handleContactForm)
	sec.POST("/recovery-contact", s.handleContactSave)
	s.activityRoutes(sec)
	s.demoRoutes(owner)
	s.recoveryRoutes(e)
	s.supportRoutes(e)
	return e
}

func (s *Server) handleHealth(c echo.Context) error {
	if err := s.st.Ping(c.Request().Context()); err != nil {
		s.cfg.Logger.Error("health_check", "err", err)
		return c.String(http.StatusServiceUnavailable, "database unavailable")
	}
	return c.String(http.StatusOK, "ok")
}

// headAsGet answers HEAD like GET, for monitors that probe with HEAD:
// echo routes on the request's method, so it becomes GET, and the response
// writer drops the body, which HEAD must not carry.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r := c.Request(); r.Method == http.MethodHead {
			r.Method = http.MethodGet
			c.Response().Writer = bodyless{c.Response().Writer}
		}
		return next(c)
	}
}

// bodyless is a response writer that sends headers and status but no body.
type bodyless struct{ http.ResponseWriter }

func (w bodyless) Write(p []byte) (int, error) { return len(p), nil }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w bodyless) Unwrap() http.ResponseWriter { return w.ResponseWriter }
