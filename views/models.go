// Package views holds Logon Guard's templ pages and the view structs they
// take. Views know nothing of HTTP or SQL: handlers in package web build a
// view struct and render one page with it.
package views

import "strconv"

// Page is what the layout needs on every page.
type Page struct {
	Title string
	// CSRF is the token every form on the page carries as _csrf.
	CSRF string
	// Account is the signed-in owner's name, "" when nobody is signed in.
	Account string
	// Staff is the signed-in staff member's name, "" when none.
	Staff string
	// Stylesheet is the URL of the content-hashed stylesheet.
	Stylesheet string
	// Demo is true when the server runs in demo mode.
	Demo bool
}

// FieldError is a message tied to one form field.
type FieldError struct {
	Field   string
	Message string
}

// LoginView is the owner and staff logon form and its outcomes.
type LoginView struct {
	Page
	Action       string // form action: /login or /support/login
	NameField    string // account or staff
	NameLabel    string
	Name         string // kept input
	Message      string // one message for a refused logon
	Result       string // "", "blocked", "invalid"
	Source       string // the source address shown on a blocked logon
	DemoAccounts bool   // show the demo credentials (demo mode only)
	ShowRecovery bool
}

// EntryView is one saved mask entry.
type EntryView struct {
	Entry string // canonical form, without label
	Label string
}

// NoteView is one note shown after a mask save.
type NoteView struct {
	Kind    string
	Entry   string
	Message string
}

// SessionView is one open session of the owner.
type SessionView struct {
	ID      string // short public id for data-session
	Started string
	Expires string
	Source  string
	Current bool
	Blocked bool // the saved mask would refuse a new logon from Source
}

// SecurityView is the Security Settings page.
type SecurityView struct {
	Page
	Entries         []EntryView
	Notes           []NoteView
	Notice          string // one-time notice, e.g. mask cleared by support
	Hours           int
	Sessions        []SessionView
	BlockedSessions int // other sessions whose address the mask blocks
	RecoveryContact string
	Saved           string           // what was just saved, "" when nothing
	Logon           *CheckResultView // the demo logon that led here, if any
}

// ProblemView is one refused mask entry.
type ProblemView struct {
	Entry   string
	Kind    string
	Message string
}

// CheckResultView is the answer of the check-an-address form.
type CheckResultView struct {
	Address string
	Allowed bool
	Entry   string // the matching entry when allowed
	Label   string
	Draft   bool // checked against the draft rather than the saved mask
}

// MaskFormView is the Logon Mask edit form with every outcome it can show.
type MaskFormView struct {
	Page
	Text       string // the text box: canonical mask or the kept input
	Version    int64
	Result     string // "", "invalid", "conflict", "lockout-warning"
	Problems   []ProblemView
	Caller     string // the caller's source address, "unknown" when none
	SavedText  string // on conflict: the mask as now saved
	SavedVer   int64
	CheckIP    string
	CheckError string
	// CheckDraftText is the draft the check form holds.
	CheckDraftText string
	Check          *CheckResultView
}

// DurationFormView is the session duration edit form.
type DurationFormView struct {
	Page
	Hours   string
	Current int
	Error   string
}

// PasswordFormView is the change-password form.
type PasswordFormView struct {
	Page
	Errors []FieldError
	// DemoLocked says up front that the demo account's printed password
	// cannot be changed in demo mode.
	DemoLocked bool
}

// ContactFormView is the recovery contact form.
type ContactFormView struct {
	Page
	Contact string
	Error   string
}

// ErrorView is the page for any refused or failed request.
type ErrorView struct {
	Page
	Status    int
	Heading   string
	Message   string
	RequestID string
	// StaffArea is true on the support pages, whose logon is /support/login.
	StaffArea bool
}

// plural writes n with the singular or plural phrase: "1 session", "3 sessions".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Message returns the message for field, or "".
func Message(errs []FieldError, field string) string {
	for _, e := range errs {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// SavedVerOrVersion is the version the form posts back: the saved one after
// a conflict, so a deliberate second save goes through, else the one read.
func (v MaskFormView) SavedVerOrVersion() int64 {
	if v.Result == "conflict" {
		return v.SavedVer
	}
	return v.Version
}
