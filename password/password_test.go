package password

import "testing"

// fast keeps the tests quick; the parameters are read back from the hash.
var fast = Params{MemoryKiB: 64, Passes: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery", fast)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		givePw string
		want   bool
	}{
		{name: "right", givePw: "correct horse battery", want: true},
		{name: "wrong", givePw: "correct horse batterz", want: false},
		{name: "empty", givePw: "", want: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(tt.givePw, h)
			if err != nil || got != tt.want {
				t.Fatalf("Verify = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	h2, _ := Hash("correct horse battery", fast)
	if h2 == h {
		t.Error("two hashes of one password are equal: salt not random")
	}
}

func TestDefaultMeetsOWASPMinimum(t *testing.T) {
	if Default.MemoryKiB < 19*1024 || Default.Passes < 2 {
		t.Fatalf("Default %+v is below 19 MiB and two passes", Default)
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, give := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5"} {
		if _, err := Verify("x", give); err == nil {
			t.Errorf("Verify(%q): no error", give)
		}
	}
}

func TestCheckStrength(t *testing.T) {
	for _, tt := range []struct{ give, want string }{
		{"short", "Use at least 12 characters."},
		{"aaaaaaaaaaaaaa", "Do not repeat one character."},
		{"my-demo-password", "Do not use the account name in the password."},
		{"password1234", "This is one of the most common passwords; choose one that is not on such lists."},
		{"Qwerty123456!", "This is one of the most common passwords; choose one that is not on such lists."},
		{"letmeinletmein", "This is one of the most common passwords; choose one that is not on such lists."},
		{"123456789012", "This is one of the most common passwords; choose one that is not on such lists."},
		{"a long enough phrase", ""},
	} {
		if got := CheckStrength(tt.give, "demo"); got != tt.want {
			t.Errorf("CheckStrength(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}
