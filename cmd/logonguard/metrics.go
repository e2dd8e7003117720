package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/logonguard/logonguard/store"
	"github.com/logonguard/logonguard/web"
)

// lockForServe takes the database's lock for as long as the server runs,
// so `restore` (and a second server) can tell the database is in use.
func lockForServe(db string) (*store.Lock, error) {
	lock, err := store.LockDatabase(db)
	if errors.Is(err, store.ErrInUse) {
		return nil, fmt.Errorf("the database %s is in use by another server or a restore (lock file %s)",
			db, store.LockFile(db))
	}
	return lock, err
}

// metricsServer is the listener for /metrics, or nothing when -metrics-addr
// is not given.
type metricsServer struct{ hs *http.Server }

// serveMetrics starts the metrics listener on addr ("" for none); a serve
// error goes to errc.
func serveMetrics(addr string, srv *web.Server, log *slog.Logger, errc chan<- error) (metricsServer, error) {
	if addr == "" {
		return metricsServer{}, nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", srv.MetricsHandler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 16 << 10}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return metricsServer{}, fmt.Errorf("-metrics-addr: %w", err)
	}
	log.Info("serving_metrics", "addr", ln.Addr().String())
	go func() { errc <- hs.Serve(ln) }()
	return metricsServer{hs: hs}, nil
}

// Shutdown stops the metrics listener, if any.
func (m metricsServer) Shutdown(ctx context.Context) error {
	if m.hs == nil {
		return nil
	}
	return m.hs.Shutdown(ctx)
}
