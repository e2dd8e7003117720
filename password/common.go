package password

import "strings"

// common are passwords and stems that top every leaked-password list;
// length alone does not make "password1234" safe.
var common = []string{
	"password", "passw0rd", "123456", "12345678", "qwerty", "qwertz", "azerty", "letmein",
	"welcome", "iloveyou", "admin", "administrator", "monkey", "dragon", "football", "baseball",
	"abc123", "111111", "000000", "sunshine", "princess", "master", "login", "changeme",
	"secret", "trustno1", "superman", "starwars", "whatever", "default",
}

// isCommon reports whether pw is a common password with only digits,
// symbols or a repeat around it, such as "Password1234!" or "letmeinletmein".
func isCommon(pw string) bool {
	core := strings.ToLower(strings.Trim(pw, "0123456789!@#$%^&*()_+-=.,;:?'\" "))
	if core == "" {
		return true // nothing but digits and symbols
	}
	for _, c := range common {
		if core == c || strings.ReplaceAll(core, c, "") == "" {
			return true
		}
	}
	return false
}
