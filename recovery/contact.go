package recovery

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Match says how the contact a requester gave compares with the account's
// recovery contact.
type Match int

// The answers ContactMatch gives.
const (
	// NoContact means the account has no recovery contact (or no account
	// exists), so there is nothing to compare with.
	NoContact Match = iota
	// Matches means both name the same email address or phone number.
	Matches
	// Differs means the two do not name the same address or number.
	Differs
)

// minPhoneDigits is the fewest digits a contact needs to be compared as a
// phone number; fewer could match by accident.
const minPhoneDigits = 6

// ContactMatch compares what the requester typed with the account's
// recovery contact. Email addresses compare without case and without any
// blanks; phone numbers compare by their digits alone, so "+49 30 1234-567"
// matches "+4930 1234567". An email address never matches a phone number.
func ContactMatch(given, onFile string) Match {
	key := NormalizeContact(onFile)
	if key == "" {
		return NoContact
	}
	if NormalizeContact(given) == key {
		return Matches
	}
	return Differs
}

// NormalizeContact returns the form in which contacts are compared: an
// email address (anything with an '@') lower-cased with blanks removed, a
// phone number as its digits behind a '+', or "" when s is neither.
func NormalizeContact(s string) string {
	if strings.Contains(s, "@") {
		return strings.ToLower(strings.Join(strings.FieldsFunc(s, unicode.IsSpace), ""))
	}
	var digits strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits.WriteRune(r)
		}
	}
	if digits.Len() < minPhoneDigits {
		return ""
	}
	return "+" + digits.String()
}

// CheckContact returns why contact is not an email address or a phone
// number a person could be reached at, or "". Empty is acceptable: it
// removes an account's recovery contact.
func CheckContact(contact string) string {
	switch {
	case contact == "":
		return ""
	case utf8.RuneCountInString(contact) > MaxContactLen || strings.ContainsFunc(contact, unicode.IsControl):
		return fmt.Sprintf("Enter at most %d characters, without line breaks.", MaxContactLen)
	case strings.ContainsFunc(contact, isInvisible):
		return "Remove the invisible formatting characters (such as right-to-left marks) from the contact."
	case strings.Contains(contact, "@"):
		if addr, err := mail.ParseAddress(contact); err != nil || addr.Address != contact {
			return "Enter an email address such as name@example.com, or a phone number."
		}
		return ""
	case isPhone(contact):
		return ""
	}
	return "Enter an email address such as name@example.com, or a phone number such as +49 30 1234567."
}

func isPhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')':
		default:
			return false
		}
	}
	return digits >= 6 && digits <= 15
}
