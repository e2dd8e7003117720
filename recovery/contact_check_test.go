package recovery

import "testing"

func TestCheckContact(t *testing.T) {
	for _, tt := range []struct {
		give   string
		wantOK bool
	}{
		{"", true},
		{"owner@example.com", true},
		{"+49 30 1234567", true},
		{"(030) 123-4567", true},
		{"nope", false},
		{"a@b@c", false},
		{"owner@example.com\u202e", false},
		{"12345", false},
		{"owner\n@example.com", false},
	} {
		if got := CheckContact(tt.give) == ""; got != tt.wantOK {
			t.Errorf("CheckContact(%q) accepted = %v, want %v", tt.give, got, tt.wantOK)
		}
	}
}

func TestRequestRefusesInvisibleCharacters(t *testing.T) {
	r := Request{Account: "demo\u200b", Contact: "owner@example.com", Reason: "locked out"}
	probs := r.Check()
	if len(probs) != 1 || probs[0].Field != "account" {
		t.Fatalf("problems = %+v, want one for the account", probs)
	}
	if msg := CheckNote("Reason", "fine \u202eevil"); msg == "" {
		t.Error("a note with a right-to-left override was accepted")
	}
}
