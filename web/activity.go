package web

import "github.com/labstack/echo/v4"

// activityRoutes registers the owner's activity pages (/security/activity, .csv).
func (s *Server) activityRoutes(g *echo.Group) {
	_ = g
	// TODO: being built; see the issue tracker.
	_ = s
}
