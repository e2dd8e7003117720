package web

import (
	"bytes"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/logonguard/logonguard/static"
	"github.com/logonguard/logonguard/views"
)

// render writes a templ component as a complete HTML response. It renders
// into a buffer first, so a failed render becomes an error page rather than
// half a page.
func render(c echo.Context, status int, page templ.Component) error {
	var buf bytes.Buffer
	if err := page.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// page fills the parts of views.Page every page needs. Behind requireStaff
// or requireOwner it names the staff member or the owner, so every page staff see, error pages
// included, has the logout form with its CSRF token.
func (s *Server) page(c echo.Context, title string) views.Page {
	token, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
	if ck, err := c.Request().Cookie(csrfCookie); token == "" && err == nil {
		// A refused token leaves none in the context; the page's own
		// logout form still needs the one the cookie holds.
		token = ck.Value
	}
	owner := s.ownerName(c)
	return views.Page{Title: title, CSRF: token, Stylesheet: static.StylesheetPath, Demo: s.cfg.Demo,
		Staff: staffMember(c).Name, Account: owner}
}

// serveStylesheet serves the embedded stylesheet under its hashed name.
func serveStylesheet(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", static.CSS())
}

// ownerName returns the signed-in owner's name, or "". Pages behind
// requireOwner have it noted; an error raised before that (a refused CSRF
// token, an unknown path) reads the owner's session itself.
func (s *Server) ownerName(c echo.Context) string {
	if name, ok := c.Get(ownerNameKey).(string); ok {
		return name
	}
	ck, err := c.Request().Cookie(ownerCookie)
	if err != nil {
		return ""
	}
	ctx, err := s.owners.Load(c.Request().Context(), ck.Value)
	if err != nil {
		return ""
	}
	id := s.ownerIn(ctx)
	if id == 0 {
		return ""
	}
	a, err := s.accounts.state(ctx, id)
	if err != nil {
		return ""
	}
	return a.settings.AccountName
}
