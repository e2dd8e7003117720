package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/views"
)

// activityPageSize is how many entries one page of the activity lists;
// the CSV export reads in larger steps.
const (
	activityPageSize   = 50
	activityExportStep = 500
)

// Kinds of activity entry, as the kind parameter names them.
const (
	kindChange = "change"
	kindLogon  = "logon"
)

// activityRoutes registers the owner's activity page and its CSV export.
func (s *Server) activityRoutes(g *echo.Group) {
	g.GET("/activity", s.handleActivity)
	g.GET("/activity.csv", s.handleActivityExport)
}

// activityQuery is what an activity request asks for. The two cursors page
// each source by id (keyset paging): only entries with a smaller id come
// next, so an entry written meanwhile never shifts the pages.
type activityQuery struct {
	kind         string // "", kindChange or kindLogon
	outcome      string // logons with this outcome only; "" for any
	beforeChange int64  // 0 for the newest
	beforeLogon  int64  // 0 for the newest, queued events included
}

// activityItem is one entry of either source.
type activityItem struct {
	at     time.Time
	change *store.AuditEvent
	logon  *store.LogonEvent
}

var logonOutcomes = map[string]string{
	store.OutcomeAllowed:       "Logon allowed",
	store.OutcomeBlocked:       "Logon blocked by the mask",
	store.OutcomeWrongPassword: "Wrong password",
	store.OutcomeRateLimited:   "Logon refused: too many failures",
}

// parseActivityQuery reads and checks the query parameters.
func parseActivityQuery(c echo.Context) (activityQuery, error) {
	q := activityQuery{kind: c.QueryParam("kind"), outcome: c.QueryParam("outcome")}
	bad := func(what string) error {
		return &pageError{status: http.StatusBadRequest, heading: "Unknown filter",
			message: "The activity cannot be filtered by this " + what + ". Choose one of the filters on the page."}
	}
	if q.kind != "" && q.kind != kindChange && q.kind != kindLogon {
		return q, bad("kind")
	}
	if _, ok := logonOutcomes[q.outcome]; q.outcome != "" && !ok {
		return q, bad("outcome")
	}
	if q.outcome != "" {
		q.kind = kindLogon
	}
	var err error
	if q.beforeChange, err = cursor(c.QueryParam("before_change")); err != nil {
		return q, bad("page")
	}
	if q.beforeLogon, err = cursor(c.QueryParam("before_logon")); err != nil {
		return q, bad("page")
	}
	return q, nil
}

func cursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, strconv.ErrSyntax
	}
	return n, nil
}

// values encodes q as query parameters, leaving out the empty ones.
func (q activityQuery) values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" && val != "0" {
			v.Set(k, val)
		}
	}
	set("kind", q.kind)
	set("outcome", q.outcome)
	set("before_change", strconv.FormatInt(q.beforeChange, 10))
	set("before_logon", strconv.FormatInt(q.beforeLogon, 10))
	return v
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// activity reads one page of up to limit entries, newest first, and the
// query for the page after it (ok is false when there is none).
func (s *Server) activity(ctx context.Context, accountID int64, q activityQuery,
	limit int) ([]activityItem, activityQuery, bool, error) {
	var changes []store.AuditEvent
	var logons []store.LogonEvent
	var err error
	if q.kind != kindLogon {
		changes, err = s.st.AuditEvents(ctx, store.AuditFilter{AccountID: accountID,
			Before: q.beforeChange, Limit: limit + 1})
		if err != nil {
			return nil, q, false, err
		}
	}
	if q.kind != kindChange {
		f := store.LogonFilter{AccountID: accountID, Outcome: q.outcome, Before: q.beforeLogon,
			Limit: limit + 1}
		// Recent adds the queued events on the first page (Before == 0).
		if logons, err = s.events.Recent(ctx, f); err != nil {
			return nil, q, false, err
		}
	}
	items := mergeActivity(changes, logons)
	more := len(items) > limit
	items = items[:min(limit, len(items))]
	next, err := s.nextActivity(ctx, q, items)
	return items, next, more, err
}

// mergeActivity interleaves the two lists by time, newest first. Each list
// keeps its own order, which is its id order, so the cursors stay exact.
func mergeActivity(changes []store.AuditEvent, logons []store.LogonEvent) []activityItem {
	out := make([]activityItem, 0, len(changes)+len(logons))
	i, j := 0, 0
	for i < len(changes) || j < len(logons) {
		if j == len(logons) || (i < len(changes) && !changes[i].At.Before(logons[j].At)) {
			out = append(out, activityItem{at: changes[i].At, change: &changes[i]})
			i++
			continue
		}
		out = append(out, activityItem{at: logons[j].At, logon: &logons[j]})
		j++
	}
	return out
}

// nextActivity returns the query for the page after items: each cursor
// moves to the oldest entry of its source the page showed. When the page
// showed only queued logons, which have no id yet, the logon cursor moves
// past every written one: queued events get higher ids once written.
func (s *Server) nextActivity(ctx context.Context, q activityQuery, items []activityItem) (activityQuery,
	error) {
	next := q
	queued, written := false, false
	for _, it := range items {
		switch {
		case it.change != nil:
			next.beforeChange = it.change.ID
		case it.logon.ID == 0:
			queued = true
		default:
			next.beforeLogon, written = it.logon.ID, true
		}
	}
	if queued && !written {
		id, err := s.st.NextLogonEventID(ctx)
		if err != nil {
			return q, err
		}
		next.beforeLogon = id
	}
	return next, nil
}

func (s *Server) handleActivity(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	q, err := parseActivityQuery(c)
	if err != nil {
		return err
	}
	items, next, more, err := s.activity(c.Request().Context(), a.settings.AccountID, q, activityPageSize)
	if err != nil {
		return err
	}
	first := activityQuery{kind: q.kind, outcome: q.outcome}
	v := views.ActivityView{Page: s.page(c, "Activity"), Zone: s.zoneName(),
		Filters: activityFilters(first), CSV: withQuery("/security/activity.csv", first.values())}
	for _, it := range items {
		v.Entries = append(v.Entries, s.activityEntry(it))
	}
	if more {
		v.Older = withQuery("/security/activity", next.values())
	}
	if q != first {
		v.Newest = withQuery("/security/activity", first.values())
	}
	return render(c, http.StatusOK, views.ActivityPage(v))
}

// activityFilters are the page's filter links, the current one marked.
func activityFilters(cur activityQuery) []views.ActivityFilter {
	choices := []struct {
		label string
		q     activityQuery
	}{
		{"Everything", activityQuery{}},
		{"Settings changes", activityQuery{kind: kindChange}},
		{"Logons", activityQuery{kind: kindLogon}},
		{"Blocked logons", activityQuery{kind: kindLogon, outcome: store.OutcomeBlocked}},
		{"Wrong passwords", activityQuery{kind: kindLogon, outcome: store.OutcomeWrongPassword}},
		{"Rate limited", activityQuery{kind: kindLogon, outcome: store.OutcomeRateLimited}},
	}
	out := make([]views.ActivityFilter, 0, len(choices))
	for _, ch := range choices {
		out = append(out, views.ActivityFilter{Label: ch.label, Current: ch.q == cur,
			Href: withQuery("/security/activity", ch.q.values())})
	}
	return out
}

// zoneName names the zone times are shown in.
func (s *Server) zoneName() string {
	if name := s.cfg.Location.String(); name != "Local" {
		return name
	}
	abbr, _ := s.now().In(s.cfg.Location).Zone()
	return "the server's time zone (" + abbr + ")"
}

// activityEntry turns an item into what the page shows.
func (s *Server) activityEntry(it activityItem) views.ActivityEntry {
	t := it.at.In(s.cfg.Location)
	e := views.ActivityEntry{Time: t.Format("2006-01-02 15:04:05 MST"), DateTime: t.Format(time.RFC3339)}
	if ev := it.logon; ev != nil {
		e.Kind, e.Event, e.What = kindLogon, ev.Outcome, logonOutcomes[ev.Outcome]
		e.Actor, e.Source, e.Queued = ev.AccountName, ev.Source, ev.ID == 0
		return e
	}
	ev := it.change
	e.Kind, e.Event, e.Actor, e.Source = kindChange, ev.Action, ev.Actor.Name, ev.Actor.Source
	d := describeChange(ev.Action)
	e.What = d.what
	if d.values {
		e.Old, e.New = shortValue(d.show(ev.OldValue)), shortValue(d.show(ev.NewValue))
	} else {
		e.New = shortValue(ev.NewValue)
	}
	return e
}

// changeText says how a change of one audit action reads on the page.
type changeText struct {
	what   string
	values bool // old and new are values of a setting
	unit   string
}

func (d changeText) show(v string) string {
	if v == "" {
		return "Not set"
	}
	return v + d.unit
}

func describeChange(action string) changeText {
	switch action {
	case "mask.update":
		return changeText{what: "Logon mask changed", values: true}
	case "session_duration.update":
		return changeText{what: "Session duration changed", values: true, unit: " hours"}
	case "recovery_contact.update":
		return changeText{what: "Recovery contact changed", values: true}
	case "password.change":
		return changeText{what: "Password changed"}
	case "sessions.end_others":
		return changeText{what: "Other sessions ended"}
	case "sessions.end_outside_mask":
		return changeText{what: "Sessions outside the logon mask ended"}
	case "account.create":
		return changeText{what: "Account created"}
	case "recovery_ticket.file":
		return changeText{what: "Recovery ticket filed"}
	case "recovery_ticket.approve":
		return changeText{what: "Recovery ticket approved; logon mask cleared"}
	case "recovery_ticket.reject":
		return changeText{what: "Recovery ticket rejected"}
	case "database.restore":
		return changeText{what: "Database restored from a backup"}
	}
	return changeText{what: action}
}

// shortValue keeps a long value (a mask of many entries) to a readable
// length on the page; the CSV export has it whole.
func shortValue(v string) string {
	const maxRunes = 200
	if utf8.RuneCountInString(v) <= maxRunes {
		return v
	}
	return string([]rune(v)[:maxRunes]) + "… (whole value in the CSV export)"
}

// activityCSVHeader names the export's columns.
var activityCSVHeader = []string{"kind", "id", "time", "event", "actor", "source", "old_value", "new_value"}

func (s *Server) handleActivityExport(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	q, err := parseActivityQuery(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// Read the first page before sending anything, so a failure still gets
	// an error page rather than a cut-off file.
	items, next, more, err := s.activity(ctx, a.settings.AccountID, q, activityExportStep)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="logonguard-activity.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	w.UseCRLF = true // RFC 4180 ends records with CRLF
	if err := w.Write(activityCSVHeader); err != nil {
		return err
	}
	for {
		for _, it := range items {
			if err := w.Write(s.activityRecord(it)); err != nil {
				return err
			}
		}
		w.Flush()
		if err := w.Error(); err != nil || !more {
			return err
		}
		if items, next, more, err = s.activity(ctx, a.settings.AccountID, next, activityExportStep); err != nil {
			// The status is sent already; log it and cut the file short.
			s.cfg.Logger.ErrorContext(ctx, "activity_export", "err", err)
			return nil
		}
	}
}

// activityRecord is one CSV row. Times are RFC 3339 in the configured zone.
func (s *Server) activityRecord(it activityItem) []string {
	at := it.at.In(s.cfg.Location).Format(time.RFC3339)
	var rec []string
	if ev := it.logon; ev != nil {
		id := ""
		if ev.ID != 0 {
			id = strconv.FormatInt(ev.ID, 10)
		}
		rec = []string{kindLogon, id, at, ev.Outcome, ev.AccountName, ev.Source, "", ""}
	} else {
		ev := it.change
		rec = []string{kindChange, strconv.FormatInt(ev.ID, 10), at, ev.Action, ev.Actor.Name,
			ev.Actor.Source, ev.OldValue, ev.NewValue}
	}
	for i, cell := range rec {
		rec[i] = defuseFormula(cell)
	}
	return rec
}

// defuseFormula guards against CSV formula injection: a spreadsheet runs a
// cell that starts with =, +, - or @ (or a tab or carriage return, which
// some read past) as a formula, and a recovery contact, an account name or
// a mask label is text someone else may have typed. Such a cell gets a
// leading single quote, which spreadsheets show as text; encoding/csv then
// does the RFC 4180 quoting of commas, quotes and line breaks.
func defuseFormula(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
