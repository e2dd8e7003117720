package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/logonguard/logonguard/web"
	"github.com/logonguard/logonguard/web/webtest"
)

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records parses the buffer as JSON lines, failing on any other line.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not one JSON object: %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// messagesFor lists the messages logged with request id id, in order.
func messagesFor(recs []map[string]any, id string) []string {
	var out []string
	for _, rec := range recs {
		if rec["request_id"] == id {
			out = append(out, rec["msg"].(string))
		}
	}
	return out
}

func TestRequestIDTravelsThroughLogsAndErrorPage(t *testing.T) {
	logs := &syncBuffer{}
	env := webtest.Start(t, webtest.Options{Configure: func(cfg *web.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}})
	env.AddAccount(t, ownerName, ownerPw)
	c := env.Client(t)
	c.Get("/login")

	tests := []struct {
		name     string
		do       func() *webtest.Response
		wantMsgs []string
	}{
		{"wrong password", func() *webtest.Response {
			return c.Post("/login", url.Values{"account": {ownerName}, "password": {"not-it"}})
		}, []string{"logon", "request"}},
		{"allowed logon", func() *webtest.Response {
			return c.Post("/login", url.Values{"account": {ownerName}, "password": {ownerPw}})
		}, []string{"logon", "request"}},
		{"settings change", func() *webtest.Response {
			c.Get("/security/session-duration")
			return c.Post("/security/session-duration", url.Values{"hours": {"8"}})
		}, []string{"settings_change", "request"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			id := r.Header.Get("X-Request-ID")
			if id == "" {
				t.Fatal("no X-Request-ID on the response")
			}
			if diff := cmp.Diff(tt.wantMsgs, messagesFor(logs.records(t), id)); diff != "" {
				t.Errorf("lines with request_id %s (-want +got):\n%s", id, diff)
			}
		})
	}

	t.Run("error page", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, env.URL+"/no-such-page", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Request-ID", "chosen-by-client")
		resp := get(t, req)
		id := resp.header.Get("X-Request-ID")
		if resp.status != http.StatusNotFound || id == "" || id == "chosen-by-client" {
			t.Fatalf("status %d, X-Request-ID %q: want 404 and an id of the server's own", resp.status, id)
		}
		if !strings.Contains(resp.body, "<code>"+id+"</code>") {
			t.Errorf("error page does not show request id %s", id)
		}
	})
}

// plainResponse is a response read without the webtest client.
type plainResponse struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, req *http.Request) plainResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return plainResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}
