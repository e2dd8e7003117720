package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/logonguard/logonguard/businessday"
	"github.com/logonguard/logonguard/clientip"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web"
)

// Config is the server's configuration, parsed once from flags and the
// environment and validated in one place.
type Config struct {
	Addr            string
	DB              string
	Demo            bool
	DemoPublic      bool
	TrustedProxies  []netip.Prefix
	RateLimitExempt []netip.Prefix
	LogFormat       string
	Location        *time.Location
	Holidays        []businessday.Date
	MetricsAddr     string
	KeepEvents      time.Duration
	TLSCert, TLSKey string
	ShowVersion     bool
}

// rawFlags are the flags as typed, before validation.
type rawFlags struct {
	addr, db, trusted, exempt, logFormat, tz, holidays, metrics, keep, cert, key string
	demo, demoPublic, version                                                    bool
}

// parseServeFlags reads serve's flags, each also from LOGONGUARD_<NAME>;
// a flag on the command line wins over the environment.
func parseServeFlags(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var r rawFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	// Parse errors become one line on stderr; -h prints the flags below.
	fs.SetOutput(io.Discard)
	fs.StringVar(&r.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&r.db, "db", "./data/logonguard.db", "SQLite file")
	fs.BoolVar(&r.demo, "demo", false, "seed the demo owner and staff, enable /demo")
	fs.BoolVar(&r.demoPublic, "demo-public", false, "allow -demo on a non-loopback address")
	fs.StringVar(&r.trusted, "trusted-proxy", "", "comma-separated CIDRs whose X-Forwarded-For is believed")
	fs.StringVar(&r.exempt, "ratelimit-exempt", "", "comma-separated CIDRs the rate limits skip")
	fs.StringVar(&r.logFormat, "log-format", "text", "text or json")
	fs.StringVar(&r.tz, "tz", "", "time zone for business days (default: the host's)")
	fs.StringVar(&r.holidays, "holidays", "", "file of ISO dates that are not business days")
	fs.StringVar(&r.metrics, "metrics-addr", "", "separate listener for /metrics")
	fs.StringVar(&r.keep, "keep-events", "180d", "age after which logon events are pruned")
	fs.StringVar(&r.cert, "tls-cert", "", "TLS certificate file")
	fs.StringVar(&r.key, "tls-key", "", "TLS key file")
	fs.BoolVar(&r.version, "version", false, "print the version and exit")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stderr)
		fmt.Fprintln(stderr, "usage: logonguard serve [flags]; each flag also from LOGONGUARD_<NAME>")
		fs.PrintDefaults()
		return Config{}, errHelp
	} else if err != nil {
		return Config{}, fmt.Errorf("%w: serve: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("%w: serve takes no arguments, got %q", errUsage, fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErrs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := "LOGONGUARD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" && !set[f.Name] {
			if err := f.Value.Set(v); err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s=%q is not a valid value for -%s", name, v, f.Name))
			}
		}
	})
	if len(envErrs) > 0 {
		return Config{}, errors.Join(envErrs...)
	}
	return r.validate()
}

// validate checks every flag and reports all problems at once.
func (r rawFlags) validate() (Config, error) {
	cfg := Config{Addr: r.addr, DB: r.db, Demo: r.demo, DemoPublic: r.demoPublic, LogFormat: r.logFormat,
		MetricsAddr: r.metrics, TLSCert: r.cert, TLSKey: r.key, ShowVersion: r.version}
	var errs []string
	add := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	var err error
	if cfg.TrustedProxies, err = clientip.ParsePrefixes(r.trusted); err != nil {
		add("-trusted-proxy: %v", err)
	}
	for _, p := range cfg.TrustedProxies {
		if p.Bits() == 0 {
			add("-trusted-proxy: %s would believe every client's X-Forwarded-For; name your proxies", p)
		}
	}
	if cfg.RateLimitExempt, err = clientip.ParsePrefixes(r.exempt); err != nil {
		add("-ratelimit-exempt: %v", err)
	}
	if r.logFormat != "text" && r.logFormat != "json" {
		add("-log-format: %q is neither text nor json", r.logFormat)
	}
	cfg.Location = time.Local
	if r.tz != "" {
		if cfg.Location, err = time.LoadLocation(r.tz); err != nil {
			add("-tz: unknown time zone %q", r.tz)
		}
	}
	if r.holidays != "" {
		if cfg.Holidays, err = readHolidays(r.holidays); err != nil {
			add("-holidays: %v", err)
		}
	}
	if cfg.KeepEvents, err = parseAge(r.keep); err != nil {
		add("-keep-events: %v", err)
	}
	if (r.cert == "") != (r.key == "") {
		add("-tls-cert and -tls-key go together")
	} else if r.cert != "" {
		if _, err := tls.LoadX509KeyPair(r.cert, r.key); err != nil {
			add("-tls-cert, -tls-key: the certificate and key cannot be loaded")
		}
	}
	host, _, err := net.SplitHostPort(r.addr)
	if err != nil {
		add("-addr: %q is not host:port", r.addr)
	} else if r.demo && !r.demoPublic && !isLoopback(host) {
		add("-demo on the non-loopback address %q publishes the demo password; add -demo-public if you mean it", r.addr)
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("%w: %s", errUsage, strings.Join(errs, "; "))
	}
	return cfg, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func readHolidays(path string) ([]businessday.Date, error) {
	f, err := os.Open(path) //nolint:gosec // the operator's own -holidays file
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return businessday.ParseHolidays(f)
}

// parseAge reads a duration in Go units or whole days ("180d").
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || n < 1 || fmt.Sprint(n) != days {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration such as 180d or 720h", s)
	}
	return d, nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// web is the part of the configuration the console itself needs.
func (cfg Config) web(log *slog.Logger) web.Config {
	return web.Config{Demo: cfg.Demo, TrustedProxies: cfg.TrustedProxies,
		RateLimitExempt: cfg.RateLimitExempt, TLS: cfg.TLSCert != "", Logger: log,
		Location: cfg.Location, Calendar: businessday.New(cfg.Location, cfg.Holidays),
		KeepEvents: cfg.KeepEvents}
}

// serve runs the console until ctx ends, then stops gracefully: requests
// in flight get up to 15 seconds, queued events are flushed, the database
// is closed.
func (env cmdEnv) serve(args []string) (err error) {
	cfg, err := parseServeFlags(args, os.Getenv, env.stderr)
	if err != nil {
		return err
	}
	if cfg.ShowVersion {
		fmt.Fprintln(env.stdout, versionLine())
		return nil
	}
	log := newLogger(cfg.LogFormat, env.stderr)
	lock, err := lockForServe(cfg.DB)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, lock.Release()) }()
	st, err := store.Open(env.ctx, cfg.DB, time.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.Demo {
		if err := seedDemo(env.ctx, st); err != nil {
			return err
		}
	}
	srv, err := web.New(cfg.web(log), st)
	if err != nil {
		return err
	}
	defer srv.Close()
	hs := &http.Server{Addr: cfg.Addr, Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		MaxHeaderBytes: 64 << 10, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 2)
	ms, err := serveMetrics(cfg.MetricsAddr, srv, log, errc)
	if err != nil {
		return errors.Join(err, ln.Close())
	}
	log.Info("serving", "addr", ln.Addr().String(), "db", cfg.DB, "demo", cfg.Demo, "tls", cfg.TLSCert != "")
	go func() {
		if cfg.TLSCert != "" {
			errc <- hs.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-env.ctx.Done():
	}
	log.Info("stopping")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return errors.Join(hs.Shutdown(ctx), ms.Shutdown(ctx))
}
