package web

import "github.com/labstack/echo/v4"

// supportRoutes registers the support staff pages (/support/...).
func (s *Server) supportRoutes(e *echo.Echo) {
	_ = e
	// TODO: being built; see the issue tracker.
	_ = s
}
