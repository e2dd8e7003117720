package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logonguard/logonguard/store"
)

// lockedBuffer collects a server's log safely across goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// served is a `serve` command running in this process.
type served struct {
	url  string
	stop func() error
}

var servingAddr = regexp.MustCompile(`msg=serving addr=(\S+)`)

// serveInProcess runs `logonguard serve` on 127.0.0.1:0 with extra flags
// until the test ends or stop is called; a failed start is returned.
func serveInProcess(t *testing.T, flags ...string) (*served, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lockedBuffer{}
	done := make(chan error, 1)
	args := append([]string{"serve", "-addr", "127.0.0.1:0"}, flags...)
	go func() { done <- run(ctx, args, strings.NewReader(""), io.Discard, logs) }()
	deadline := time.After(10 * time.Second)
	for {
		if m := servingAddr.FindStringSubmatch(logs.String()); m != nil {
			var once sync.Once
			var stopErr error
			stop := func() error {
				once.Do(func() { cancel(); stopErr = <-done })
				return stopErr
			}
			t.Cleanup(func() { _ = stop() })
			return &served{url: "http://" + m[1], stop: stop}, nil
		}
		select {
		case err := <-done:
			cancel()
			return nil, err
		case <-deadline:
			cancel()
			t.Fatalf("serve did not start:\n%s", logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestRestoreRefusedWhileServing(t *testing.T) {
	me := osUser(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "lg.db")
	copyPath := filepath.Join(dir, "copy.db")
	mustRun(t, "pass-for-the-first-one\n", "account", "add", "-db", db, "kept")
	mustRun(t, "", "backup", "-db", db, copyPath)
	mustRun(t, "pass-for-the-second-one\n", "account", "add", "-db", db, "later")

	srv, err := serveInProcess(t, "-db", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := serveInProcess(t, "-db", db); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second server on the same database: %v, want a refusal naming it in use", err)
	}
	_, err = runCmd(t, "", "restore", "-db", db, copyPath)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("restore while serving: %v, want a refusal naming it in use", err)
	}
	if list := mustRun(t, "", "account", "list", "-db", db); !strings.Contains(list, "later") {
		t.Fatalf("the refused restore changed the data:\n%s", list)
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("serve stopped with %v", err)
	}

	out := mustRun(t, "", "restore", "-db", db, copyPath)
	if !strings.Contains(out, "restored from") || !strings.Contains(out, "kept in") {
		t.Errorf("restore output: %q", out)
	}
	list := mustRun(t, "", "account", "list", "-db", db)
	if strings.Contains(list, "later") || !strings.Contains(list, "kept") {
		t.Errorf("accounts after restore:\n%s", list)
	}
	st, err := store.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := st.AuditEvents(context.Background(), store.AuditFilter{Limit: 1})
	st.Close()
	if err != nil || len(evs) != 1 || evs[0].Action != "database.restore" || evs[0].Actor.Name != me {
		t.Errorf("newest audit event: %+v %v, want database.restore by the operator", evs, err)
	}

	again, err := serveInProcess(t, "-db", db)
	if err != nil {
		t.Fatalf("serve after restore: %v", err)
	}
	resp, err := http.Get(again.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz after restore: %d", resp.StatusCode)
	}
}

// TestCommandLineErrorsAreOneLine: bad command lines exit non-zero with a
// single line that says what is wrong; help is not an error.
func TestCommandLineErrorsAreOneLine(t *testing.T) {
	for _, tt := range []struct {
		name     string
		give     []string
		env      map[string]string
		wantWord string
	}{
		{name: "unknown serve flag", give: []string{"serve", "-bogus"}, wantWord: "-bogus"},
		{name: "version with an argument", give: []string{"version", "extra"}, wantWord: "extra"},
		{name: "flag after the name", give: []string{"account", "add", "x", "-db", "f.db"}, wantWord: "before"},
		{name: "bad bool from the environment", give: []string{"serve"},
			env: map[string]string{"LOGONGUARD_DEMO": "yes"}, wantWord: "LOGONGUARD_DEMO"},
		{name: "trusting every address", give: []string{"serve", "-trusted-proxy", "0.0.0.0/0"},
			wantWord: "every client"},
		{name: "invisible character in a name", give: []string{"account", "add", "-db",
			filepath.Join(t.TempDir(), "x.db"), "ad\u200bmin"}, wantWord: "invisible"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.give, strings.NewReader("a-strong-enough-pass\n"), &stdout, &stderr)
			if err == nil {
				t.Fatal("no error")
			}
			msg := oneLine(err.Error())
			if !strings.Contains(msg, tt.wantWord) {
				t.Errorf("error %q does not mention %q", msg, tt.wantWord)
			}
			if stderr.Len() != 0 {
				t.Errorf("extra output on stderr: %q", stderr.String())
			}
		})
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, nil, &stdout, io.Discard); err != nil || stdout.Len() == 0 {
		t.Errorf("-h: err %v, output %q", err, stdout.String())
	}
}
