package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/clientip"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/views"
)

// Staff session limits the contract fixes: a staff session ends 8 hours
// after its logon, or after 30 minutes without a request, whichever is
// first. Both are measured on the server's clock.
const (
	staffLifetime = 8 * time.Hour
	staffIdle     = 30 * time.Minute
)

// staffKey is where requireStaff leaves the signed-in staff member.
const staffKey = "staff_member"

// supportRoutes registers the support staff pages (/support/...). They load
// the staff session only: an owner's cookie opens none of them, and no
// owner's logon mask applies to staff.
func (s *Server) supportRoutes(e *echo.Echo) {
	g := e.Group("/support", s.loadSession(s.staff))
	g.GET("", func(c echo.Context) error {
		return c.Redirect(http.StatusSeeOther, "/support/tickets")
	})
	g.GET("/login", s.handleStaffLoginForm)
	g.POST("/login", s.handleStaffLogin)
	g.POST("/logout", s.handleStaffLogout)

	t := g.Group("/tickets", s.requireStaff)
	t.GET("", s.handleTicketList)
	t.GET("/:id", s.handleTicketShow)
	t.POST("/:id/approve", s.handleTicketApprove)
	t.POST("/:id/reject", s.handleTicketReject)
}

func (s *Server) staffLoginView(c echo.Context, name string) views.LoginView {
	return views.LoginView{Page: s.page(c, "Support staff logon"), Action: "/support/login",
		NameField: "staff", NameLabel: "Staff name", Name: name, DemoAccounts: s.cfg.Demo}
}

func (s *Server) handleStaffLoginForm(c echo.Context) error {
	if s.staffID(c) != 0 {
		return c.Redirect(http.StatusSeeOther, "/support/tickets")
	}
	return render(c, http.StatusOK, views.LoginPage(s.staffLoginView(c, "")))
}

func (s *Server) handleStaffLogin(c echo.Context) error {
	a := logonAttempt{name: c.FormValue("staff"), password: c.FormValue("password"), src: source(c)}
	res, err := s.staffLogOn(c, a)
	if err != nil {
		return err
	}
	return s.answerLogon(c, a, res, "/support/tickets", s.staffLoginView(c, a.name))
}

// staffLogOn runs a staff logon: the staff failure limits, then the
// password. No logon mask applies.
func (s *Server) staffLogOn(c echo.Context, a logonAttempt) (logonResult, error) {
	ctx := c.Request().Context()
	now := s.now()
	// Staff events carry no account id: staff ids are not account ids.
	ev := store.LogonEvent{At: now, Kind: store.KindStaff, AccountName: a.name, Source: a.src.String()}
	failures := []limitKey{{s.logons.staff, a.name}, {s.logons.staffSource, a.src.Key()}}
	if wait, ok := s.checkLimits(a.src, now, failures...); !ok {
		s.recordLogon(ctx, ev, store.OutcomeRateLimited)
		return logonResult{status: http.StatusTooManyRequests, retryAfter: wait}, nil
	}
	m, err := s.st.StaffByName(ctx, a.name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return logonResult{}, err
	}
	known := m.ID != 0 && validName(a.name)
	res, ok, err := s.verifyLogon(ctx, a, m.PasswordHash, known, ev, failures...)
	if !ok {
		return res, err
	}
	if err := s.startStaffSession(ctx, m, a.src); err != nil {
		return logonResult{}, err
	}
	s.recordLogon(ctx, ev, store.OutcomeAllowed)
	return logonResult{status: http.StatusSeeOther}, nil
}

// startStaffSession renews the token (no fixation) and starts the session's
// idle window; RenewToken resets the deadline, so it comes first.
func (s *Server) startStaffSession(ctx context.Context, m store.StaffMember,
	src clientip.Source) error {
	if err := s.staff.RenewToken(ctx); err != nil {
		return fmt.Errorf("web: renew staff session token: %w", err)
	}
	now := s.now()
	s.staff.Put(ctx, store.SessionStaffID, m.ID)
	s.staff.Put(ctx, store.SessionCreated, now)
	s.staff.Put(ctx, store.SessionSource, src.String())
	s.staff.SetDeadline(ctx, staffDeadline(now, now))
	return nil
}

// staffDeadline is when a staff session that began at created and last
// saw a request at now ends: 30 idle minutes on, but never past 8 hours.
func staffDeadline(created, now time.Time) time.Time {
	return minTime(created.Add(staffLifetime), now.Add(staffIdle))
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func (s *Server) handleStaffLogout(c echo.Context) error {
	if err := s.staff.Destroy(c.Request().Context()); err != nil {
		return fmt.Errorf("web: end staff session: %w", err)
	}
	return c.Redirect(http.StatusSeeOther, "/support/login")
}

// requireStaff lets a signed-in staff member through and sends others to
// /support/login. It asks the database on every request whether the staff
// member still exists (one primary-key read), so a removal takes effect at
// the next request even where a cached session would still be found, and
// it moves the session's idle deadline.
func (s *Server) requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		id := s.staffID(c)
		if id == 0 {
			return c.Redirect(http.StatusSeeOther, "/support/login")
		}
		m, err := s.st.Staff(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			if err := s.staff.Destroy(ctx); err != nil {
				return fmt.Errorf("web: end removed staff member's session: %w", err)
			}
			return c.Redirect(http.StatusSeeOther, "/support/login")
		}
		if err != nil {
			return err
		}
		created, _ := s.staff.Get(ctx, store.SessionCreated).(time.Time)
		s.staff.SetDeadline(ctx, staffDeadline(created, s.now()))
		c.Set(staffKey, m)
		return next(c)
	}
}

// staffMember returns the staff member requireStaff let through.
func staffMember(c echo.Context) store.StaffMember {
	m, _ := c.Get(staffKey).(store.StaffMember)
	return m
}
