// Package browser holds Logon Guard's browser tests: Go tests that drive
// Debian's headless Chromium through chromedp against a console started on
// 127.0.0.1 with a fresh database, using the pages as a person does. The
// package has no code of its own; `go test -short` skips the tests.
package browser
