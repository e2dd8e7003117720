package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/views"
)

// pageError is an error a handler returns to show the person a page with a
// status, a heading and a message. err, if any, is logged, never shown.
type pageError struct {
	status     int
	heading    string
	message    string
	retryAfter int // seconds, for 429 and 503
	err        error
}

func (e *pageError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%d %s: %v", e.status, e.heading, e.err)
	}
	return fmt.Sprintf("%d %s", e.status, e.heading)
}

func (e *pageError) Unwrap() error { return e.err }

// handleError is echo's HTTPErrorHandler: the one place errors become
// pages. Users never see an error's text; 5xx are logged here, once.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	pe := s.toPageError(err)
	if pe.status >= 500 {
		s.cfg.Logger.Error("request_failed", "err", err, "request_id", requestID(c),
			"path", c.Request().URL.Path)
	}
	if pe.retryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(pe.retryAfter))
	}
	v := views.ErrorView{Page: s.page(c, pe.heading), Status: pe.status, Heading: pe.heading,
		Message: pe.message, RequestID: requestID(c),
		StaffArea: strings.HasPrefix(c.Request().URL.Path, "/support")}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(pe.status)
		return
	}
	if rerr := render(c, pe.status, views.ErrorPage(v)); rerr != nil {
		s.cfg.Logger.Error("error_page_failed", "err", rerr, "request_id", requestID(c))
	}
}

func (s *Server) toPageError(err error) *pageError {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return &pageError{status: he.Code, heading: "Page not found",
				message: "There is no page at this address."}
		case http.StatusMethodNotAllowed:
			return &pageError{status: he.Code, heading: "Method not allowed",
				message: "This page does not accept that kind of request."}
		case http.StatusRequestEntityTooLarge:
			return &pageError{status: he.Code, heading: "Request too large",
				message: "The form sent more data than this page accepts."}
		case http.StatusForbidden:
			return &pageError{status: he.Code, heading: "Request refused",
				message: "This request is not allowed."}
		}
		if he.Code < 500 {
			return &pageError{status: he.Code, heading: http.StatusText(he.Code),
				message: "The request could not be handled."}
		}
	}
	return &pageError{status: http.StatusInternalServerError, heading: "Something went wrong",
		message: "The console could not finish this request. Nothing was changed unless the page said so; " +
			"try again, and quote the request id if it keeps failing.", err: err}
}
