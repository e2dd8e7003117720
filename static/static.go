// Package static embeds Logon Guard's stylesheet and serves it under a
// content-hashed name, so browsers may cache it for a year.
package static

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
)

//go:embed style.css
var css []byte

// CSS returns the stylesheet's bytes.
func CSS() []byte { return css }

// StylesheetPath is the hashed URL path of the stylesheet.
var StylesheetPath = func() string {
	sum := sha256.Sum256(css)
	return "/static/style." + hex.EncodeToString(sum[:6]) + ".css"
}()
