// Package password hashes and verifies passwords with argon2id.
//
// Hashes are stored in the PHC string form
// ($argon2id$v=19$m=19456,t=2,p=1$salt$key), so parameters can be raised
// later without breaking stored hashes.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	MemoryKiB uint32
	Passes    uint32
	Threads   uint8
}

// Default follows OWASP's minimum for argon2id: 19 MiB, two passes, one
// thread. One thread keeps a hash on one core, so the server can bound how
// many run at once by the number of cores.
var Default = Params{MemoryKiB: 19 * 1024, Passes: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// maxKeyLen bounds the key a stored hash may carry.
	maxKeyLen = 1024
)

// ErrMalformed means a stored hash is not in the expected form.
var ErrMalformed = errors.New("password: malformed hash")

// Hash returns the PHC string of pw under p with a fresh random salt.
func Hash(pw string, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Passes, p.MemoryKiB, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Passes,
		p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify reports whether pw matches the stored hash, comparing in constant time.
func Verify(pw, hash string) (bool, error) {
	p, salt, key, err := decode(hash)
	if err != nil {
		return false, err
	}
	n := uint32(len(key)) //nolint:gosec // decode refuses keys longer than maxKeyLen
	got := argon2.IDKey([]byte(pw), salt, p.Passes, p.MemoryKiB, p.Threads, n)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

func decode(hash string) (Params, []byte, []byte, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, ErrMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Passes, &p.Threads); err != nil {
		return Params{}, nil, nil, ErrMalformed
	}
	if p.MemoryKiB == 0 || p.Passes == 0 || p.Threads == 0 || p.MemoryKiB > 1<<22 || p.Passes > 64 {
		return Params{}, nil, nil, ErrMalformed
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 ||
		len(key) > maxKeyLen {
		return Params{}, nil, nil, ErrMalformed
	}
	return p, salt, key, nil
}

// MinLength and MaxLength bound an acceptable new password, in characters.
const (
	MinLength = 12
	MaxLength = 256
)

// CheckStrength returns a user-facing reason why pw is too weak, or "".
func CheckStrength(pw, accountName string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinLength:
		return fmt.Sprintf("Use at least %d characters.", MinLength)
	case n > MaxLength:
		return fmt.Sprintf("Use at most %d characters.", MaxLength)
	case accountName != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(accountName)):
		return "Do not use the account name in the password."
	case strings.Count(pw, pw[:1]) == n:
		return "Do not repeat one character."
	case isCommon(pw):
		return "This is one of the most common passwords; choose one that is not on such lists."
	}
	return ""
}
