package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/mask"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/views"
)

func (s *Server) maskForm(c echo.Context, a *accountState) views.MaskFormView {
	return views.MaskFormView{Page: s.page(c, "Edit logon mask"), Text: a.mask.String(),
		Version: a.settings.Version, Caller: source(c).String()}
}

func (s *Server) handleMaskForm(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.MaskFormPage(s.maskForm(c, a)))
}

// handleMaskSave follows the mask save steps: parse, version, lockout
// guard, then one transaction, then the new match table.
func (s *Server) handleMaskSave(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	texts, ok := c.Request().PostForm["mask"]
	if !ok || len(texts) != 1 {
		// A script that misspells the field must not remove the mask: only
		// an empty mask field does that.
		return &pageError{status: http.StatusUnprocessableEntity, heading: "Nothing was saved",
			message: "The form must carry exactly one mask field; send mask= (empty) to remove the mask."}
	}
	text := texts[0]
	v := s.maskForm(c, a)
	v.Text = text
	version, verr := parseVersion(c.FormValue("version"))
	if verr != nil {
		version = -1 // a version that cannot be current: answer conflict
	}
	if version != 0 && version != a.settings.Version {
		return s.maskConflict(c, v, a, version)
	}
	m, err := mask.Parse(text)
	var perr *mask.ParseError
	if errors.As(err, &perr) {
		v.Result, v.Problems = "invalid", problemViews(perr)
		return render(c, http.StatusUnprocessableEntity, views.MaskFormPage(v))
	}
	if err != nil {
		return err
	}
	src := source(c)
	// An unchanged mask writes nothing, so it needs no confirmation.
	if !m.Equal(a.mask) && !allowedBy(m, src.Addr, src.Known) && c.FormValue("confirm_lockout") != "yes" {
		v.Result = "lockout-warning"
		return render(c, http.StatusConflict, views.MaskFormPage(v))
	}
	return s.writeMask(c, v, a, m, version)
}

// writeMask is the last step of a mask save: one transaction that checks
// the version again and writes the mask with its audit event, then the new
// match table, and the notes for the page the save redirects to.
func (s *Server) writeMask(c echo.Context, v views.MaskFormView, a *accountState, m *mask.Mask,
	version int64) error {
	ctx := c.Request().Context()
	src := source(c)
	u := store.SettingsUpdate{AccountID: a.settings.AccountID, Version: version, By: actor(c, a)}
	st, changed, err := s.st.UpdateMask(ctx, u, m.String())
	if errors.Is(err, store.ErrConflict) {
		fresh, ferr := s.accounts.put(st)
		if ferr != nil {
			return ferr
		}
		return s.maskConflict(c, v, fresh, version)
	}
	if err != nil {
		return err
	}
	if changed {
		if _, err := s.accounts.put(st); err != nil {
			return err
		}
		s.cfg.Logger.InfoContext(ctx, "settings_change", "account", a.settings.AccountName,
			"client_ip", src.String(), "setting", "logon_mask", "entries", len(m.Entries()))
		s.owners.Put(ctx, flashSaved, "Logon mask saved.")
	} else {
		s.owners.Put(ctx, flashSaved, "The logon mask was already as submitted; nothing changed.")
	}
	s.owners.Put(ctx, flashNotes, encodeNotes(m.Notes(src.Addr)))
	return c.Redirect(http.StatusSeeOther, "/security")
}

func (s *Server) maskConflict(c echo.Context, v views.MaskFormView, cur *accountState, yours int64) error {
	v.Result = "conflict"
	v.Version = yours
	v.SavedText, v.SavedVer = cur.mask.String(), cur.settings.Version
	return render(c, http.StatusConflict, views.MaskFormPage(v))
}

// parseVersion reads the optional version field; "" is 0, meaning unchecked.
func parseVersion(s string) (int64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 1 {
		return 0, errors.New("web: bad version")
	}
	return n, nil
}

func problemViews(perr *mask.ParseError) []views.ProblemView {
	out := make([]views.ProblemView, 0, len(perr.Problems))
	for _, p := range perr.Problems {
		// The marker names the entry without its label, as typed.
		entry, _, _ := strings.Cut(p.Entry, "#")
		out = append(out, views.ProblemView{Entry: strings.TrimSpace(entry), Kind: p.Kind, Message: p.Message})
	}
	return out
}

// allowedBy reports whether m lets a logon from addr in; an unknown
// address is never allowed by a non-empty mask.
func allowedBy(m *mask.Mask, addr netip.Addr, known bool) bool {
	if m.Empty() {
		return true
	}
	if !known {
		return false
	}
	_, ok := mask.NewTable(m).Lookup(addr)
	return ok
}

// handleMaskCheck answers whether an address would be allowed, by the
// draft in the form or else by the saved mask.
func (s *Server) handleMaskCheck(c echo.Context) error {
	a, err := s.owner(c)
	if err != nil {
		return err
	}
	v := s.maskForm(c, a)
	v.CheckIP = strings.TrimSpace(c.FormValue("ip"))
	draft := c.FormValue("mask")
	v.CheckDraftText = draft
	addr, msg := parseAddress(v.CheckIP)
	if msg != "" {
		v.CheckError = msg
		return render(c, http.StatusUnprocessableEntity, views.MaskFormPage(v))
	}
	table, m, isDraft := a.table, a.mask, strings.TrimSpace(draft) != ""
	if isDraft {
		dm, err := mask.Parse(draft)
		var pe *mask.ParseError
		if errors.As(err, &pe) {
			v.Result, v.Problems = "invalid", problemViews(pe)
			return render(c, http.StatusUnprocessableEntity, views.MaskFormPage(v))
		}
		if err != nil {
			return err
		}
		m, table = dm, mask.NewTable(dm)
	}
	res := views.CheckResultView{Address: addr.String(), Draft: isDraft, Allowed: m.Empty()}
	if !m.Empty() {
		if e, ok := table.Lookup(addr); ok {
			res.Allowed, res.Entry, res.Label = true, e.String(), e.Label
		}
	}
	v.Check = &res
	return render(c, http.StatusOK, views.MaskFormPage(v))
}

// parseSource reads a stored source address; "unknown" gives known=false.
func parseSource(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return mask.Normalize(a), true
}

// parseAddress reads one address typed into a form (the check form, the
// demo's source address) the way a peer address is read: a zone stripped,
// an IPv4-mapped IPv6 address unmapped. When it is not one address, the
// message names the input and says what is wrong with it.
func parseAddress(raw string) (netip.Addr, string) {
	text := strings.TrimSpace(raw)
	if text == "" {
		return netip.Addr{}, "Enter an address, such as 42.120.66.7 or 2001:db8::7."
	}
	a, err := netip.ParseAddr(text)
	if err == nil {
		return mask.Normalize(a), ""
	}
	shown := text
	if utf8.RuneCountInString(shown) > 60 {
		shown = string([]rune(shown)[:60]) + "…"
	}
	if _, perr := netip.ParsePrefix(text); perr == nil || strings.Contains(text, "/") {
		return netip.Addr{}, fmt.Sprintf("%q is a block; enter one address, such as 42.120.66.7.", shown)
	}
	if _, perr := netip.ParseAddrPort(text); perr == nil {
		return netip.Addr{}, fmt.Sprintf("%q carries a port; enter the address alone.", shown)
	}
	var pe *mask.ParseError
	if _, perr := mask.Parse(text); errors.As(perr, &pe) && len(pe.Problems) == 1 &&
		pe.Problems[0].Kind == mask.KindLeadingZero {
		return netip.Addr{}, pe.Problems[0].Message
	}
	return netip.Addr{}, fmt.Sprintf("%q is not an IPv4 or IPv6 address; enter one such as 42.120.66.7 "+
		"or 2001:db8::7.", shown)
}
