package web

import "github.com/labstack/echo/v4"

// recoveryRoutes registers the public lockout recovery pages (/recovery, /recovery/status).
func (s *Server) recoveryRoutes(e *echo.Echo) {
	_ = e
	// TODO: being built; see the issue tracker.
	_ = s
}
