package web

import "github.com/labstack/echo/v4"

// demoRoutes registers the demo logon page (/demo, /demo/login, /demo/reset), demo mode only.
func (s *Server) demoRoutes(g *echo.Group) {
	_ = g
	// TODO: being built; see the issue tracker.
	_ = s
}
