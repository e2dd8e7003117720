// Package recovery holds the rules of lockout recovery tickets: the states a
// ticket moves through, the references that name it, the checks on a request
// and on a staff member's note, and how the contact a requester gives is
// compared with the account's recovery contact. It is pure Go and knows
// nothing of HTTP or SQL.
package recovery

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// State is where a ticket stands.
type State string

// The states a ticket can be in. Every ticket starts open.
const (
	Open     State = "open"
	Approved State = "approved"
	Rejected State = "rejected"
)

// States lists every state in the order pages offer them.
var States = []State{Open, Approved, Rejected}

// ParseState returns the state named s, or false when s names none.
func ParseState(s string) (State, bool) {
	for _, st := range States {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// CanMove reports whether a ticket may go from one state to another: only
// an open ticket moves, and only to approved or rejected. A decided ticket
// stays as it is.
func CanMove(from, to State) bool {
	return from == Open && (to == Approved || to == Rejected)
}

// refBytes is the entropy of a reference: 144 bits, 24 characters.
const refBytes = 18

// Reference lengths a valid reference falls between.
const (
	minRefLen = 22
	maxRefLen = 64
)

// NewRef returns a fresh ticket reference from the system's secure random
// source, in unpadded base64url: hard to guess and safe in a URL.
func NewRef() (string, error) {
	b := make([]byte, refBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("recovery: reference: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidRef reports whether s has the form of a reference: 22 to 64
// characters from A-Z, a-z, 0-9, '-' and '_'. It says nothing of whether a
// ticket has that reference.
func ValidRef(s string) bool {
	if len(s) < minRefLen || len(s) > maxRefLen {
		return false
	}
	for _, r := range s {
		if !isRefRune(r) {
			return false
		}
	}
	return true
}

func isRefRune(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// Limits on what a request and a note may hold, in characters.
const (
	MaxAccountLen = 64
	MaxContactLen = 254
	MaxReasonLen  = 2000
	MaxNoteLen    = 1000
)

// Request is what a locked-out owner types on the recovery form.
type Request struct {
	Account string
	Contact string
	Reason  string
}

// Problem is why one field of a form was refused; Field is the form
// field's name.
type Problem struct {
	Field   string
	Message string
}

// Trim returns the request with blanks around each field removed, as it is
// checked and stored.
func (r Request) Trim() Request {
	return Request{Account: strings.TrimSpace(r.Account), Contact: strings.TrimSpace(r.Contact),
		Reason: strings.TrimSpace(r.Reason)}
}

// Check returns every problem with the request, one per field at most, in
// the form's order; none means it may be filed. Call it on a trimmed request.
func (r Request) Check() []Problem {
	var out []Problem
	add := func(field, msg string) {
		if msg != "" {
			out = append(out, Problem{Field: field, Message: msg})
		}
	}
	add("account", checkText("Account name", r.Account, MaxAccountLen, false))
	msg := checkText("Contact address", r.Contact, MaxContactLen, false)
	if msg == "" {
		msg = CheckContact(r.Contact)
	}
	add("contact", msg)
	add("reason", checkText("What happened", r.Reason, MaxReasonLen, true))
	return out
}

// CheckNote returns why a staff member's note (how the requester was
// verified, or why a ticket is rejected) is not acceptable, or "". label
// names the field in the message.
func CheckNote(label, note string) string {
	return checkText(label, strings.TrimSpace(note), MaxNoteLen, true)
}

// checkText refuses an empty value, one longer than max characters, text
// that is not UTF-8, and control characters; lines allows line breaks and
// tabs, as a text box sends them.
func checkText(label, s string, max int, lines bool) string {
	switch {
	case s == "":
		return label + " is required."
	case !utf8.ValidString(s):
		return label + " holds characters that are not text."
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("%s is too long: at most %d characters.", label, max)
	case strings.ContainsFunc(s, func(r rune) bool { return isControl(r, lines) }):
		if lines {
			return label + " holds control characters; only text and line breaks are accepted."
		}
		return label + " holds control characters or line breaks; enter it on one line."
	case strings.ContainsFunc(s, isInvisible):
		return label + " holds invisible formatting characters (such as right-to-left marks); remove them."
	}
	return ""
}

// isInvisible reports format characters such as bidirectional overrides
// and zero-width spaces, which make text read differently than it is.
func isInvisible(r rune) bool { return unicode.Is(unicode.Cf, r) }

func isControl(r rune, lines bool) bool {
	if lines && (r == '\n' || r == '\r' || r == '\t') {
		return false
	}
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// NameKey is the form of a typed account name that recovery rate limits
// count against: trimmed and case-folded, so "Demo" and "demo " share one
// limit.
func NameKey(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}
