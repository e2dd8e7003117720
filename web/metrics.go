package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/logonguard/logonguard/recovery"
	"github.com/logonguard/logonguard/store"
)

// metrics are the console's Prometheus metrics. They live on a registry of
// their own, not the library's global one, so two servers in one process
// (as in tests) count apart.
type metrics struct {
	reg      *prometheus.Registry
	logons   *prometheus.CounterVec
	requests *prometheus.HistogramVec
	dbErrors prometheus.Counter
}

// scrapeTimeout bounds the database reads one scrape makes.
const scrapeTimeout = 2 * time.Second

func newMetrics(st *store.Store, events *store.EventLog) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		logons: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "logonguard_logons_total",
			Help: "Owner and staff logons by outcome: allowed, blocked (by the logon mask), " +
				"wrong_password (or unknown name) and rate_limited.",
		}, []string{"outcome"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "logonguard_http_request_duration_seconds",
			Help:    "Time to answer a request, by route pattern, method and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "code"}),
		dbErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "logonguard_database_errors_total",
			Help: "Errors SQLite returned to a request or a background job.",
		}),
	}
	// Every outcome is there from the start, so a rate over it never
	// starts from a missing series.
	for _, o := range []string{store.OutcomeAllowed, store.OutcomeBlocked, store.OutcomeWrongPassword,
		store.OutcomeRateLimited} {
		m.logons.WithLabelValues(o)
	}
	maskSaves := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "logonguard_mask_saves_total",
		Help: "Logon mask changes written to the audit log, by any process (owners, support, operators).",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		defer cancel()
		n, err := st.MaskSaves(ctx)
		if err != nil {
			m.countError(err)
			return 0
		}
		return float64(n)
	})
	dropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "logonguard_logon_events_dropped_total",
		Help: "Logon events not recorded because the write queue was full.",
	}, func() float64 { return float64(events.Dropped()) })
	m.reg.MustRegister(m.logons, m.requests, m.dbErrors, maskSaves, dropped, ticketCollector{st, m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ticketCollector reports the recovery tickets in each state, read from
// the store at each scrape, so tickets decided by any process count.
type ticketCollector struct {
	st *store.Store
	m  *metrics
}

var ticketsDesc = prometheus.NewDesc("logonguard_recovery_tickets",
	"Recovery tickets by state: open, approved, rejected.", []string{"state"}, nil)

// Describe implements prometheus.Collector.
func (tc ticketCollector) Describe(ch chan<- *prometheus.Desc) { ch <- ticketsDesc }

// Collect implements prometheus.Collector.
func (tc ticketCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := tc.st.TicketCounts(ctx)
	if err != nil {
		tc.m.countError(err)
		ch <- prometheus.NewInvalidMetric(ticketsDesc, err)
		return
	}
	for _, state := range recovery.States {
		ch <- prometheus.MustNewConstMetric(ticketsDesc, prometheus.GaugeValue,
			float64(counts[string(state)]), string(state))
	}
}

// countError counts err when SQLite caused it.
func (m *metrics) countError(err error) {
	if store.IsDatabaseError(err) {
		m.dbErrors.Inc()
	}
}

// MetricsHandler serves the metrics in Prometheus' text format. It belongs
// on a listener of its own (-metrics-addr); the console's does not route it.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelError),
		Registry:          s.metrics.reg,
		EnableOpenMetrics: false,
	})
}

// observeRequests times each request by its route pattern (never the raw
// path, which would make a series per URL) and counts database errors. It
// sits outside the request logger, which has turned a handler's error into
// the response by the time this looks at the status.
func (s *Server) observeRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// A duration, not a point in business time: the wall clock is right
		// here even when tests move the server's clock.
		start := time.Now()
		err := next(c)
		if err != nil {
			s.metrics.countError(err)
		}
		route := c.Path()
		if route == "" || c.Response().Status == http.StatusNotFound {
			route = "unmatched"
		}
		s.metrics.requests.WithLabelValues(route, methodLabel(c.Request().Method),
			strconv.Itoa(c.Response().Status)).Observe(time.Since(start).Seconds())
		return err
	}
}

// methodLabel keeps the method label to the methods the console knows, so
// a client cannot make new series by inventing methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost:
		return m
	}
	return "other"
}

// countLogon counts a logon by its outcome.
func (m *metrics) countLogon(outcome string) {
	m.logons.WithLabelValues(outcome).Inc()
}
