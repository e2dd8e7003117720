package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/businessday"
	"github.com/logonguard/logonguard/recovery"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/views"
)

// queueLimit is how many tickets the queue shows at most.
const queueLimit = 500

// blockedShown is how many of an account's blocked logons a ticket shows.
const blockedShown = 10

func (s *Server) handleTicketList(c echo.Context) error {
	give := c.QueryParam("state")
	state, ok := recovery.ParseState(give)
	if give != "" && !ok {
		return &pageError{status: http.StatusUnprocessableEntity, heading: "Unknown state",
			message: "Filter by open, approved or rejected, or show every ticket."}
	}
	f := store.TicketFilter{State: state, Limit: queueLimit}
	list, err := s.st.Tickets(c.Request().Context(), f)
	if err != nil {
		return err
	}
	v := views.TicketQueueView{Page: s.page(c, "Recovery tickets"), State: string(state),
		Limit: queueLimit}
	for _, st := range recovery.States {
		v.States = append(v.States, string(st))
	}
	for _, t := range list {
		v.Tickets = append(v.Tickets, s.ticketRow(t))
	}
	return render(c, http.StatusOK, views.TicketQueuePage(v))
}

// ticketRow is the part of a ticket the queue shows.
func (s *Server) ticketRow(t store.Ticket) views.TicketRowView {
	return views.TicketRowView{ID: t.ID, URL: ticketURL(t),
		Ref: t.Ref, AccountName: t.AccountName, Known: t.AccountID != 0, Filed: s.formatTime(t.FiledAt),
		Due: formatDay(t.DueDate), Overdue: t.State == recovery.Open && !s.now().Before(t.DueAt),
		State: string(t.State)}
}

func ticketURL(t store.Ticket) string { return "/support/tickets/" + strconv.FormatInt(t.ID, 10) }

// formatDay shows a stored ISO day as "Thursday 5 March 2026".
func formatDay(iso string) string {
	d, err := businessday.ParseDate(iso)
	if err != nil {
		return iso
	}
	return d.Weekday().String() + " " + strconv.Itoa(d.Day) + " " + d.Month.String() + " " +
		strconv.Itoa(d.Year)
}

// ticketParam loads the ticket the route's id names, or answers 404.
func (s *Server) ticketParam(c echo.Context) (store.Ticket, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return store.Ticket{}, errTicketNotFound
	}
	t, err := s.st.Ticket(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Ticket{}, errTicketNotFound
	}
	return t, err
}

var errTicketNotFound = &pageError{status: http.StatusNotFound, heading: "Ticket not found",
	message: "There is no recovery ticket with this number."}

func (s *Server) handleTicketShow(c echo.Context) error {
	t, err := s.ticketParam(c)
	if err != nil {
		return err
	}
	v := views.TicketView{}
	if msg := s.staff.PopString(c.Request().Context(), flashSaved); msg != "" {
		v.Result, v.Message = "saved", msg
	}
	return s.renderTicket(c, http.StatusOK, t, v)
}

// renderTicket fills v, which may carry an outcome and kept input, with
// the ticket and the evidence on its account, and renders it.
func (s *Server) renderTicket(c echo.Context, status int, t store.Ticket,
	v views.TicketView) error {
	ctx := c.Request().Context()
	v.Page = s.page(c, "Recovery ticket")
	v.TicketRowView = s.ticketRow(t)
	v.Contact, v.Reason, v.Source = t.Contact, t.Reason, t.Source
	v.History = s.ticketHistory(t)
	v.Match = matchWord(recovery.NoContact)
	if t.AccountID != 0 {
		a, err := s.accounts.state(ctx, t.AccountID)
		if err != nil {
			return err
		}
		v.OnFile = a.settings.RecoveryContact
		v.Match = matchWord(recovery.ContactMatch(t.Contact, v.OnFile))
		for _, e := range a.mask.Entries() {
			v.Entries = append(v.Entries, views.EntryView{Entry: e.String(), Label: e.Label})
		}
		evs, err := s.events.Recent(ctx, store.LogonFilter{AccountID: t.AccountID,
			Outcome: store.OutcomeBlocked, Limit: blockedShown})
		if err != nil {
			return err
		}
		for _, ev := range evs {
			v.Blocked = append(v.Blocked, views.BlockedLogonView{At: s.formatTime(ev.At), Source: ev.Source})
		}
	}
	return render(c, status, views.TicketPage(v))
}

func matchWord(m recovery.Match) string {
	switch m {
	case recovery.Matches:
		return "matches"
	case recovery.Differs:
		return "differs"
	}
	return "none"
}

// ticketHistory lists the steps a ticket has gone through.
func (s *Server) ticketHistory(t store.Ticket) []views.HistoryView {
	h := []views.HistoryView{{At: s.formatTime(t.FiledAt), What: "filed",
		Who: "the requester from " + t.Source}}
	if !t.DecidedAt.IsZero() {
		h = append(h, views.HistoryView{At: s.formatTime(t.DecidedAt), What: string(t.State),
			Who: t.DecidedBy + " from " + t.DecidedFrom, Note: t.Note})
	}
	return h
}

func (s *Server) handleTicketApprove(c echo.Context) error {
	return s.decideTicket(c, recovery.Approved, "verification", "How you verified the requester")
}

func (s *Server) handleTicketReject(c echo.Context) error {
	return s.decideTicket(c, recovery.Rejected, "reason", "The reason")
}

// decideTicket moves an open ticket to the state to, with the note the
// form's field holds. 422 when the note is missing or the ticket cannot be
// approved, 409 when the ticket is no longer open (checked again inside the
// store's transaction, so of two staff at once exactly one wins).
func (s *Server) decideTicket(c echo.Context, to recovery.State, field, label string) error {
	t, err := s.ticketParam(c)
	if err != nil {
		return err
	}
	give := c.FormValue(field)
	note := strings.TrimSpace(give)
	if msg := recovery.CheckNote(label, note); msg != "" {
		return s.refuseDecision(c, t, to, give, views.FieldError{Field: field, Message: msg})
	}
	if !recovery.CanMove(t.State, to) {
		return s.decisionConflict(c, t)
	}
	if to == recovery.Approved && t.AccountID == 0 {
		return s.refuseDecision(c, t, to, give, views.FieldError{Field: field,
			Message: "This ticket names no account, so there is no logon mask to clear. Reject it instead."})
	}
	done, err := s.applyDecision(c, t, to, note)
	if errors.Is(err, store.ErrDecided) {
		return s.decisionConflict(c, done)
	}
	if err != nil {
		return err
	}
	msg := "Ticket rejected. The requester sees your reason on the status page."
	if to == recovery.Approved {
		msg = "Ticket approved: the logon mask of " + t.AccountName + " is cleared."
	}
	s.staff.Put(c.Request().Context(), flashSaved, msg)
	return c.Redirect(http.StatusSeeOther, ticketURL(done))
}

// applyDecision writes the decision in one transaction and, after an
// approval, replaces the account's cached match table.
func (s *Server) applyDecision(c echo.Context, t store.Ticket, to recovery.State,
	note string) (store.Ticket, error) {
	m := staffMember(c)
	d := store.TicketDecision{ID: t.ID, To: to, Note: note,
		By: store.Actor{Name: "staff " + m.Name, Source: source(c).String()}}
	if to == recovery.Approved {
		d.Notice = "Your logon mask was cleared by support on " +
			s.now().In(s.cfg.Location).Format("2 January 2006") + " (ticket " + t.Ref + ")."
	}
	done, st, err := s.st.DecideTicket(c.Request().Context(), d)
	if err != nil {
		return done, err
	}
	if to == recovery.Approved {
		if _, err := s.accounts.put(st); err != nil {
			return done, err
		}
	}
	s.cfg.Logger.InfoContext(c.Request().Context(), "recovery_ticket_decided", "ticket_id", t.ID,
		"state", string(to), "staff", m.Name, "account", t.AccountName, "client_ip", source(c).String())
	return done, nil
}

// refuseDecision answers 422 with the ticket page, the message by its field
// and the input kept.
func (s *Server) refuseDecision(c echo.Context, t store.Ticket, to recovery.State, give string,
	fe views.FieldError) error {
	v := views.TicketView{Result: "invalid", Message: fe.Message, Errors: []views.FieldError{fe}}
	if to == recovery.Approved {
		v.Verification = give
	} else {
		v.RejectReason = give
	}
	return s.renderTicket(c, http.StatusUnprocessableEntity, t, v)
}

// decisionConflict answers 409 with the ticket as it now stands.
func (s *Server) decisionConflict(c echo.Context, t store.Ticket) error {
	msg := "It was " + string(t.State)
	if t.DecidedBy != "" {
		msg += " by " + t.DecidedBy + " at " + s.formatTime(t.DecidedAt)
	}
	v := views.TicketView{Result: "conflict", Message: msg + "."}
	return s.renderTicket(c, http.StatusConflict, t, v)
}
