package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web/webtest"
)

// scrape reads the metrics from h and returns the families by name.
func scrape(t *testing.T, h http.Handler) map[string]*familyValues {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("metrics are not in the text format: %v", err)
	}
	out := map[string]*familyValues{}
	for name, f := range fams {
		fv := &familyValues{byLabels: map[string]float64{}}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			fv.byLabels[strings.Join(labels, ",")] = v
		}
		out[name] = fv
	}
	return out
}

// familyValues maps a series' labels ("k=v,k=v") to its value (a
// histogram's sample count).
type familyValues struct{ byLabels map[string]float64 }

func (f *familyValues) get(labels string) float64 {
	if f == nil {
		return -1
	}
	v, ok := f.byLabels[labels]
	if !ok {
		return -1
	}
	return v
}

func TestMetricsCountLogonsByOutcome(t *testing.T) {
	env := webtest.Start(t, webtest.Options{TrustedProxies: mustPrefixes(t, "127.0.0.1/32")})
	env.AddAccount(t, ownerName, ownerPw)

	before := scrape(t, env.Server.MetricsHandler())
	for _, o := range []string{"allowed", "blocked", "wrong_password", "rate_limited"} {
		if got := before["logonguard_logons_total"].get("outcome=" + o); got != 0 {
			t.Errorf("before any logon, outcome %s = %v, want 0", o, got)
		}
	}

	for i := range 2 {
		nt := store.NewTicket{Ref: fmt.Sprintf("ref-%d", i), AccountName: ownerName, NameKey: ownerName,
			Contact: "a@example.com", Reason: "locked out", Source: "192.0.2.1", SourceKey: "192.0.2.1",
			DueAt: env.Clock.Now().Add(48 * time.Hour), DueDate: "2030-01-01"}
		if _, err := env.Store.CreateTicket(context.Background(), nt, nil); err != nil {
			t.Fatal(err)
		}
	}
	owner := env.Client(t)
	owner.Header.Set("X-Forwarded-For", "42.120.66.7")
	owner.LogOn(ownerName, ownerPw)
	if r := saveMask(owner, "42.120.66.0/24", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("mask save: status %d", r.StatusCode)
	}
	outside := env.Client(t)
	outside.Header.Set("X-Forwarded-For", "203.0.113.9")
	outside.Get("/login")
	logon := url.Values{"account": {ownerName}, "password": {ownerPw}}
	if r := outside.Post("/login", logon); r.StatusCode != http.StatusForbidden {
		t.Fatalf("logon from outside: status %d, want 403", r.StatusCode)
	}
	if r := env.Client(t).Get("/metrics"); r.StatusCode != http.StatusNotFound {
		t.Errorf("main listener /metrics: status %d, want 404", r.StatusCode)
	}

	after := scrape(t, env.Server.MetricsHandler())
	tests := []struct {
		name, family, labels string
		want                 float64
	}{
		{"allowed logon", "logonguard_logons_total", "outcome=allowed", 1},
		{"blocked logon", "logonguard_logons_total", "outcome=blocked", 1},
		{"no wrong password", "logonguard_logons_total", "outcome=wrong_password", 0},
		{"no rate limit", "logonguard_logons_total", "outcome=rate_limited", 0},
		{"mask save", "logonguard_mask_saves_total", "", 1},
		{"logon posts timed by route", "logonguard_http_request_duration_seconds",
			"code=403,method=POST,route=/login", 1},
		{"unrouted path under one label", "logonguard_http_request_duration_seconds",
			"code=404,method=GET,route=unmatched", 1},
		{"no database errors", "logonguard_database_errors_total", "", 0},
		{"open tickets", "logonguard_recovery_tickets", "state=open", 2},
		{"approved tickets", "logonguard_recovery_tickets", "state=approved", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := after[tt.family].get(tt.labels); got != tt.want {
				t.Errorf("%s{%s} = %v, want %v", tt.family, tt.labels, got, tt.want)
			}
		})
	}
	if _, ok := after["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
}

func TestMetricsCountDatabaseErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lg.db")
	env := webtest.Start(t, webtest.Options{DBPath: db})
	env.AddStaff(t, "support", "support-password")
	staff := env.Client(t)
	staff.Get("/support/login")
	// Another connection takes the staff table away, as a damaged file
	// would: the staff logon's query then fails inside SQLite. No
	// background job and no metric reads that table, so this request's
	// error is the only one.
	raw, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("ALTER TABLE staff RENAME TO staff_gone"); err != nil {
		t.Fatal(err)
	}

	r := staff.Post("/support/login", url.Values{"staff": {"support"}, "password": {"support-password"}})
	if r.StatusCode != http.StatusInternalServerError {
		t.Fatalf("staff logon without its table: status %d, want 500", r.StatusCode)
	}
	id := r.Header.Get("X-Request-ID")
	if id == "" || !strings.Contains(r.Body, id) {
		t.Errorf("the error page does not show the request id %q", id)
	}
	if strings.Contains(r.Body, "staff_gone") || strings.Contains(r.Body, "no such table") {
		t.Error("the error page shows the database's message")
	}
	got := scrape(t, env.Server.MetricsHandler())
	if v := got["logonguard_database_errors_total"].get(""); v != 1 {
		t.Errorf("database errors = %v, want 1", v)
	}
	if v := got["logonguard_http_request_duration_seconds"].get("code=500,method=POST,route=/support/login"); v != 1 {
		t.Errorf("500s timed for the staff logon route = %v, want 1", v)
	}
}
