package browser_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/logonguard/logonguard/web/webtest"
)

// TestScreenshots saves Security Settings, the mask form with the lockout
// warning and the demo page blocking a logon, each at a phone's 375 px and
// a desktop's 1440 px, for a person to look at. It also checks that no page
// is wider than the window.
func TestScreenshots(t *testing.T) {
	tb := ownerTab(t, webtest.Options{Demo: true})
	tb.logOn(ownerName, ownerPw)
	for _, width := range []int64{375, 1440} {
		tb.step("viewport", chromedp.EmulateViewport(width, 900))
		name := func(page string) string { return fmt.Sprintf("%s-%d", page, width) }

		tb.open("/security")
		tb.checkWidth(width)
		tb.saveArtifacts(name("security"))

		tb.open("/security/logon-mask")
		tb.typeInto("#mask", example)
		if s := tb.submit("/security/logon-mask"); s != http.StatusConflict {
			t.Fatalf("mask save at %d px: status %d, want the 409 warning", width, s)
		}
		tb.checkWidth(width)
		tb.saveArtifacts(name("mask-lockout-warning"))
	}
	saveMaskHTTP(t, tb.env, example)
	for _, width := range []int64{375, 1440} {
		tb.step("viewport", chromedp.EmulateViewport(width, 900))
		tb.open("/demo")
		preset := `.presets form:has(input[name="source_ip"][value="203.0.113.9"]) button`
		if s := tb.click(preset); s != http.StatusForbidden {
			t.Fatalf("demo preset at %d px: status %d, want 403", width, s)
		}
		tb.checkWidth(width)
		tb.saveArtifacts(fmt.Sprintf("demo-blocked-%d", width))
	}
	tb.checkConsole()
}

// checkWidth fails the test when the page scrolls sideways at width.
func (tb *tab) checkWidth(width int64) {
	tb.t.Helper()
	// The widest element, if any is wider than the window's content area.
	got, err := runEval[string](tb, `(() => {
		const room = document.documentElement.clientWidth;
		let worst = "";
		for (const el of document.querySelectorAll("body *")) {
			const r = el.getBoundingClientRect();
			if (r.right > room + 0.5 && !el.closest(".table-wrap")) {
				worst = el.tagName.toLowerCase() + "." + el.className + " ends at " +
					Math.round(r.right) + " of " + room;
			}
		}
		return worst;
	})()`)
	if err != nil {
		tb.t.Fatal(err)
	}
	if got != "" {
		tb.t.Errorf("%s at %d px: %s", tb.path(), width, got)
	}
}
