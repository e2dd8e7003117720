package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/clientip"
	"github.com/logonguard/logonguard/recovery"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/throttle"
	"github.com/logonguard/logonguard/views"
)

// recoveryQuota is the contract's limit on filing: 5 tickets per source
// address and 3 per account name in any hour.
var recoveryQuota = store.TicketQuota{PerSource: 5, PerName: 3, Window: time.Hour}

// recoveryRoutes registers the public lockout recovery pages (/recovery,
// /recovery/status). They need no session and no logon mask applies.
func (s *Server) recoveryRoutes(e *echo.Echo) {
	e.GET("/recovery", s.handleRecoveryForm)
	e.POST("/recovery", s.handleRecoveryFile)
	e.GET("/recovery/status", s.handleRecoveryStatus)
}

func (s *Server) recoveryFormView(c echo.Context, r recovery.Request) views.RecoveryFormView {
	return views.RecoveryFormView{Page: s.page(c, "Lockout recovery"), Account: r.Account,
		Contact: r.Contact, Reason: r.Reason, Source: source(c).String()}
}

func (s *Server) handleRecoveryForm(c echo.Context) error {
	v := s.recoveryFormView(c, recovery.Request{Account: c.QueryParam("account")})
	return render(c, http.StatusOK, views.RecoveryFormPage(v))
}

// handleRecoveryFile files a ticket. Its answer is the same whether or not
// the account exists: a ticket for a name that matches no account is kept
// and marked so for staff alone.
func (s *Server) handleRecoveryFile(c echo.Context) error {
	give := recovery.Request{Account: c.FormValue("account"), Contact: c.FormValue("contact"),
		Reason: c.FormValue("reason")}
	req := give.Trim()
	if problems := req.Check(); len(problems) > 0 {
		v := s.recoveryFormView(c, give)
		for _, p := range problems {
			v.Errors = append(v.Errors, views.FieldError{Field: p.Field, Message: p.Message})
		}
		s.cfg.Logger.WarnContext(c.Request().Context(), "recovery_request_refused",
			"client_ip", source(c).String(), "fields", len(problems))
		return render(c, http.StatusUnprocessableEntity, views.RecoveryFormPage(v))
	}
	t, err := s.fileTicket(c.Request().Context(), req, source(c))
	var qe *store.QuotaError
	if errors.As(err, &qe) {
		return s.refuseFiling(c, give, qe)
	}
	if err != nil {
		return err
	}
	s.cfg.Logger.InfoContext(c.Request().Context(), "recovery_ticket_filed", "ticket_id", t.ID,
		"client_ip", t.Source)
	v := views.RecoveryFiledView{Page: s.page(c, "Recovery request received"), Ref: t.Ref,
		StatusURL: statusURL(t.Ref), DueISO: t.DueDate, Due: formatDay(t.DueDate)}
	return render(c, http.StatusCreated, views.RecoveryFiledPage(v))
}

func statusURL(ref string) string { return "/recovery/status?ref=" + url.QueryEscape(ref) }

// fileTicket stores the request with a fresh reference and its due date.
// Sources outside -ratelimit-exempt are held to recoveryQuota: a read-only
// check first, so a flood never takes the write lock, then again inside the
// filing transaction, so concurrent requests cannot slip past it.
func (s *Server) fileTicket(ctx context.Context, req recovery.Request,
	src clientip.Source) (store.Ticket, error) {
	ref, err := recovery.NewRef()
	if err != nil {
		return store.Ticket{}, err
	}
	now := s.now()
	nt := store.NewTicket{Ref: ref, AccountName: req.Account, NameKey: recovery.NameKey(req.Account),
		Contact: req.Contact, Reason: req.Reason, Source: src.String(), SourceKey: src.Key(),
		DueAt: s.cfg.Calendar.Due(now), DueDate: s.cfg.Calendar.DueDate(now).String()}
	if s.exempt(src) {
		return s.st.CreateTicket(ctx, nt, nil)
	}
	q := recoveryQuota
	if err := s.st.CheckTicketQuota(ctx, nt, q); err != nil {
		return store.Ticket{}, err
	}
	return s.st.CreateTicket(ctx, nt, &q)
}

// refuseFiling answers 429 with Retry-After and the form, input kept, and
// logs the refusal.
func (s *Server) refuseFiling(c echo.Context, give recovery.Request, qe *store.QuotaError) error {
	wait := throttle.RetryAfterSeconds(qe.RetryAt.Sub(s.now()))
	s.cfg.Logger.WarnContext(c.Request().Context(), "recovery_rate_limited", "client_ip",
		source(c).String(), "account", give.Account, "limit", qe.By, "retry_after", wait)
	v := s.recoveryFormView(c, give)
	who := "from your address"
	if qe.By == "account" {
		who = "for this account name"
	}
	v.Message = fmt.Sprintf("Too many recovery requests %s in the last hour. Nothing was sent; "+
		"try again in %d minutes, or wait for the answer to the request you already sent.", who,
		(wait+59)/60)
	c.Response().Header().Set("Retry-After", fmt.Sprint(wait))
	return render(c, http.StatusTooManyRequests, views.RecoveryFormPage(v))
}

func (s *Server) handleRecoveryStatus(c echo.Context) error {
	ref := c.QueryParam("ref")
	if !recovery.ValidRef(ref) {
		return errUnknownRef
	}
	t, err := s.st.TicketByRef(c.Request().Context(), ref)
	if errors.Is(err, store.ErrNotFound) {
		return errUnknownRef
	}
	if err != nil {
		return err
	}
	v := views.RecoveryStatusView{Page: s.page(c, "Recovery ticket"), Ref: t.Ref,
		State: string(t.State), DueISO: t.DueDate, Due: formatDay(t.DueDate)}
	if t.State == recovery.Rejected {
		v.Reason = t.Note
	}
	return render(c, http.StatusOK, views.RecoveryStatusPage(v))
}

var errUnknownRef = &pageError{status: http.StatusNotFound, heading: "Ticket not found",
	message: "No recovery ticket has this reference. Check that the link is complete."}
