package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/mask"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/views"
)

// Session keys for what a save tells the page it redirects to.
const (
	flashSaved = "flash_saved"
	flashNotes = "flash_notes"
	flashLogon = "flash_logon"
)

// owner returns the signed-in owner's account state; requireOwner ran first.
func (s *Server) owner(c echo.Context) (*accountState, error) {
	return s.accounts.state(c.Request().Context(), s.ownerID(c))
}

func (s *Server) handleSecurity(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	v := views.SecurityView{
		Page:            s.page(c, "Security Settings"),
		Hours:           a.settings.SessionHours,
		RecoveryContact: a.settings.RecoveryContact,
		Notice:          a.settings.Notice,
		Saved:           s.owners.PopString(ctx, flashSaved),
		Notes:           decodeNotes(s.owners.PopString(ctx, flashNotes)),
		Logon:           decodeCheck(s.owners.PopString(ctx, flashLogon)),
	}
	for _, e := range a.mask.Entries() {
		v.Entries = append(v.Entries, views.EntryView{Entry: e.String(), Label: e.Label})
	}
	if err := s.fillSessions(ctx, &v, a); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SecurityPage(v))
}

// handleNoticeDismiss clears the one-time notice once the owner has read
// it. A POST, not the page view, clears it: a GET changes nothing, so a
// link or a prefetch cannot hide the notice before the owner sees it.
func (s *Server) handleNoticeDismiss(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.st.DismissNotice(ctx, a.settings.AccountID); err != nil {
		return err
	}
	st, err := s.st.Settings(ctx, a.settings.AccountID)
	if err != nil {
		return err
	}
	if _, err := s.accounts.put(st); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/security")
}

// fillSessions lists the owner's open sessions and marks those whose
// address the saved mask would now refuse.
func (s *Server) fillSessions(ctx context.Context, v *views.SecurityView, a *accountState) error {
	open, err := s.st.OpenSessions(ctx, store.KindOwner, a.settings.AccountID)
	if err != nil {
		return err
	}
	current := store.HashToken(s.owners.Token(ctx))
	for _, si := range open {
		sv := views.SessionView{ID: si.Token[:12], Started: s.formatTime(si.CreatedAt),
			Expires: s.formatTime(si.Expiry), Source: si.Source, Current: si.Token == current}
		sv.Blocked = outsideMask(a, si)
		if sv.Blocked && !sv.Current {
			v.BlockedSessions++
		}
		v.Sessions = append(v.Sessions, sv)
	}
	return nil
}

// outsideMask reports whether the account's saved mask would refuse a new
// logon from the session's source address.
func outsideMask(a *accountState, si store.SessionInfo) bool {
	addr, known := parseSource(si.Source)
	_, allowed := a.allows(addr, known)
	return !allowed
}

// formatTime shows a time in the configured zone, with the zone named.
func (s *Server) formatTime(t time.Time) string {
	return t.In(s.cfg.Location).Format("2006-01-02 15:04 MST")
}

// encodeNotes packs notes into one session string; fields and notes are
// split by ASCII unit and record separators, which never occur in them.
func encodeNotes(notes []mask.Note) string {
	var b strings.Builder
	for _, n := range notes {
		b.WriteString(n.Kind + "\x1f" + n.Entry + "\x1f" + n.Message + "\x1e")
	}
	return b.String()
}

func decodeNotes(s string) []views.NoteView {
	var out []views.NoteView
	for rec := range strings.SplitSeq(s, "\x1e") {
		f := strings.Split(rec, "\x1f")
		if len(f) == 3 {
			out = append(out, views.NoteView{Kind: f[0], Entry: f[1], Message: f[2]})
		}
	}
	return out
}

// encodeCheck and decodeCheck carry a demo logon's outcome to the page the
// logon redirects to.
func encodeCheck(r views.CheckResultView) string {
	return strings.Join([]string{r.Address, r.Entry, r.Label}, "\x1f")
}

func decodeCheck(s string) *views.CheckResultView {
	f := strings.Split(s, "\x1f")
	if len(f) != 3 {
		return nil
	}
	return &views.CheckResultView{Address: f[0], Entry: f[1], Label: f[2], Allowed: true}
}
