// Package web serves Logon Guard's console: echo routes, handlers,
// middleware, the client address and rendering.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/logonguard/logonguard/businessday"
	"github.com/logonguard/logonguard/clientip"
	"github.com/logonguard/logonguard/password"
	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/throttle"
)

// Config is what the server needs from the command line, built once in cmd.
type Config struct {
	// Demo enables /demo and the demo accounts' hints on the logon pages.
	Demo bool
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// RateLimitExempt are peers the logon and recovery limits skip.
	RateLimitExempt []netip.Prefix
	// TLS is true when the server itself terminates TLS.
	TLS bool
	// Now is the clock; tests move it.
	Now func() time.Time
	// Logger receives the request and event logs.
	Logger *slog.Logger
	// Password is the argon2id cost for new hashes.
	Password password.Params
	// HashSlots bounds concurrent password checks (default: the cores).
	HashSlots int
	// HashWait is how long a logon waits for a slot before 503 (default 2s).
	HashWait time.Duration
	// Location is the time zone pages show times in.
	Location *time.Location
	// Calendar gives recovery tickets their due dates.
	Calendar *businessday.Calendar
	// KeepEvents is the age after which logon events are pruned.
	KeepEvents time.Duration
	// PruneEvery is how often logon events are pruned (default an hour;
	// also once at start).
	PruneEvery time.Duration
}

// Server is the console: its dependencies and its echo instance.
type Server struct {
	cfg      Config
	st       *store.Store
	events   *store.EventLog
	echo     *echo.Echo
	owners   *scs.SessionManager
	staff    *scs.SessionManager
	resolver *clientip.Resolver
	accounts *accountCache
	logons   logonLimits
	hashes   chan struct{}
	// dummyHash is verified for unknown accounts, so their answer takes as
	// long as a wrong password's.
	dummyHash string
	stop      context.CancelFunc
	done      chan struct{}
	metrics   *metrics
	// passwordSeq is the newest password change seen; background only.
	passwordSeq int64
}

// logonLimits are the contract's rate limits on logons.
type logonLimits struct {
	account *throttle.Limiter // failures per account name
	source  *throttle.Limiter // failures per source address
	blocked *throttle.Limiter // mask refusals per source address
	// Staff logons have limits of their own, so owners' failures never
	// lock staff out and the reverse.
	staff       *throttle.Limiter // staff logon failures per staff name
	staffSource *throttle.Limiter // staff logon failures per source address
	// change counts wrong current passwords on the password form per
	// account, apart from logons, so an attacker who used up the logon
	// limit cannot stop the signed-in owner from changing the password.
	change *throttle.Limiter
}

// New builds the server on st. Call Close to stop its background work.
func New(cfg Config, st *store.Store) (*Server, error) {
	cfg = cfg.withDefaults()
	dummy, err := password.Hash("logon guard timing equaliser", cfg.Password)
	if err != nil {
		return nil, fmt.Errorf("web: dummy hash: %w", err)
	}
	accounts, err := newAccountCache(context.Background(), st)
	if err != nil {
		return nil, err
	}
	passwordSeq, err := st.PasswordChangeSeq(context.Background())
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		st:        st,
		events:    st.StartEventLog(50 * time.Millisecond),
		resolver:  clientip.NewResolver(cfg.TrustedProxies),
		accounts:  accounts,
		hashes:    make(chan struct{}, cfg.HashSlots),
		dummyHash: dummy,
		done:      make(chan struct{}),
		logons: logonLimits{
			account: throttle.New(10, 15*time.Minute),
			source:  throttle.New(10, 15*time.Minute),
			blocked: throttle.New(60, 15*time.Minute),

			staff:       throttle.New(10, 15*time.Minute),
			staffSource: throttle.New(10, 15*time.Minute),
			change:      throttle.New(10, 15*time.Minute),
		},
	}
	s.owners = s.newSessionManager(ownerCookie, 72*time.Hour, 0)
	// Staff idle time is kept on the server's clock (see requireStaff); scs
	// would measure it with time.Now.
	s.staff = s.newSessionManager(staffCookie, staffLifetime, 0)
	s.passwordSeq = passwordSeq
	s.metrics = newMetrics(st, s.events)
	s.echo = s.routes()
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.background(ctx)
	return s, nil
}

// withDefaults fills every field left zero with its default.
func (cfg Config) withDefaults() Config {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = slog.New(requestIDHandler{cfg.Logger.Handler()})
	if cfg.Password == (password.Params{}) {
		cfg.Password = password.Default
	}
	if cfg.HashSlots <= 0 {
		cfg.HashSlots = runtime.NumCPU()
	}
	if cfg.HashWait <= 0 {
		cfg.HashWait = 2 * time.Second
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Calendar == nil {
		cfg.Calendar = businessday.New(cfg.Location, nil)
	}
	if cfg.KeepEvents <= 0 {
		cfg.KeepEvents = 180 * 24 * time.Hour
	}
	if cfg.PruneEvery <= 0 {
		cfg.PruneEvery = time.Hour
	}
	return cfg
}

// Handler returns the console's HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Echo returns the echo instance, for tests and benchmarks.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Close stops the background work and flushes queued logon events.
func (s *Server) Close() {
	s.stop()
	<-s.done
	s.events.Close()
}

// background refreshes settings and passwords another process changed,
// within a second, removes expired sessions, and prunes old logon events
// at start and every PruneEvery.
func (s *Server) background(ctx context.Context) {
	defer close(s.done)
	refresh := time.NewTicker(500 * time.Millisecond)
	defer refresh.Stop()
	sweep := time.NewTicker(10 * time.Minute)
	defer sweep.Stop()
	prune := time.NewTicker(s.cfg.PruneEvery)
	defer prune.Stop()
	s.pruneEvents(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
			if err := s.accounts.refresh(ctx); err != nil {
				s.backgroundError(ctx, "settings_refresh", err)
			}
			s.refreshPasswords(ctx)
		case <-sweep.C:
			if _, err := s.st.DeleteExpiredSessions(ctx); err != nil {
				s.backgroundError(ctx, "session_sweep", err)
			}
		case <-prune.C:
			s.pruneEvents(ctx)
		}
	}
}

func (s *Server) now() time.Time { return s.cfg.Now() }
