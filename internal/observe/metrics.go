package observe

import (
	"database/sql"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// MaxOperationNames bounds the distinct GraphQL operation names the
// metrics keep apart: clients choose the names, and every name is a series
// of its own. Names past the first MaxOperationNames count as "other".
const MaxOperationNames = 200

// maxCodes bounds the distinct error codes (custgraph's own, a bounded
// set; the bound is a safeguard).
const maxCodes = 64

// Label values of the GraphQL operation metrics.
const (
	OperationAnonymous = "anonymous" // an operation without a name
	OperationOther     = "other"     // a name past MaxOperationNames, or not a GraphQL name
	CodeOK             = "OK"        // the code of an operation answered without errors
)

// Metrics are custgraph's Prometheus metrics, on a registry of their own
// (served at /metrics). Create them with NewMetrics.
type Metrics struct {
	Registry *prometheus.Registry

	http          *prometheus.HistogramVec
	graphql       *prometheus.HistogramVec
	graphqlErrors *prometheus.CounterVec
	costRefusals  *prometheus.CounterVec
	rateLimited   *prometheus.CounterVec
	authFailures  *prometheus.CounterVec

	names *capped
	codes *capped
}

// NewMetrics returns the metrics on a new registry, with the Go runtime's
// and the process's collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "custgraph_http_request_duration_seconds",
			Help:    "HTTP requests by route pattern (chi's), method and numeric status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
		graphql: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "custgraph_graphql_operation_duration_seconds",
			Help: "GraphQL operations, from reading the request to the answer built, by operation name " +
				"(anonymous; other past " + strconv.Itoa(MaxOperationNames) + " names), type " +
				"(query, mutation, subscription; unknown when the document was refused before parsing) " +
				"and outcome code (OK, or the extensions.code of the first error).",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "type", "code"}),
		graphqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custgraph_graphql_errors_total",
			Help: "Errors in GraphQL answers, by extensions.code.",
		}, []string{"code"}),
		costRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custgraph_graphql_limit_refusals_total",
			Help: "GraphQL operations refused by a cost limit before running, by the limit's code " +
				"(TOO_MANY_TOKENS, QUERY_TOO_DEEP, COMPLEXITY_LIMIT_EXCEEDED, FILTER_TOO_COMPLEX…).",
		}, []string{"code"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custgraph_rate_limited_total",
			Help: "Requests refused with 429 by a limit: rate (the caller's requests per window), " +
				"caller_concurrency, total_concurrency, queue (no turn to run in time).",
		}, []string{"limit"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custgraph_authentication_failures_total",
			Help: "Credentials refused: invalid_token, invalid_request (bearer or DirectLogin tokens), " +
				"invalid_client (/oauth/token), invalid_credentials (DirectLogin login), locked (too many failed attempts).",
		}, []string{"reason"}),
		names: newCapped(MaxOperationNames),
		codes: newCapped(maxCodes),
	}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.http, m.graphql, m.graphqlErrors, m.costRefusals, m.rateLimited, m.authFailures)
	return m
}

// ObserveHTTP records one HTTP request.
func (m *Metrics) ObserveHTTP(route, method string, status int, d time.Duration) {
	m.http.WithLabelValues(route, method, statusLabel(status)).Observe(d.Seconds())
}

// Operation is one GraphQL operation, as ObserveOperation records it.
type Operation struct {
	Name     string   // as in the document; "" for an anonymous one
	Type     string   // query, mutation, subscription; "" when unknown
	Codes    []string // the extensions.code of each error, in order
	Duration time.Duration
}

// ObserveOperation records one GraphQL operation and its errors.
func (m *Metrics) ObserveOperation(op Operation) {
	code := CodeOK
	for i := 0; i < len(op.Codes); { // errors of one code in a row counted at once
		j := i + 1
		for j < len(op.Codes) && op.Codes[j] == op.Codes[i] {
			j++
		}
		c := m.codes.get(op.Codes[i])
		if i == 0 {
			code = c
		}
		m.graphqlErrors.WithLabelValues(c).Add(float64(j - i))
		i = j
	}
	typ := op.Type
	if typ == "" {
		typ = "unknown"
	}
	m.graphql.WithLabelValues(m.OperationLabel(op.Name), typ, code).Observe(op.Duration.Seconds())
}

// CostRefused counts an operation refused by a cost limit.
func (m *Metrics) CostRefused(code string) {
	m.costRefusals.WithLabelValues(m.codes.get(code)).Inc()
}

// OperationLabel is the operation label of a name: the name itself for
// the first MaxOperationNames names seen, "anonymous" for none, "other"
// for the rest and for what is no GraphQL name.
func (m *Metrics) OperationLabel(name string) string {
	if name == "" {
		return OperationAnonymous
	}
	if !isName(name) {
		return OperationOther
	}
	return m.names.get(name)
}

// isName reports whether s is a GraphQL name (/[_A-Za-z][_0-9A-Za-z]*/) of
// at most 128 characters: the operation name of a request refused before
// parsing is the client's parameter, unchecked.
func isName(s string) bool {
	if len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// capped keeps the first max values it is given; later ones are "other".
type capped struct {
	mu   sync.RWMutex
	seen map[string]string // value → the same string, kept (not the caller's copy)
	max  int
}

func newCapped(max int) *capped { return &capped{seen: map[string]string{}, max: max} }

func (c *capped) get(v string) string {
	c.mu.RLock()
	kept, ok := c.seen[v]
	full := len(c.seen) >= c.max
	c.mu.RUnlock()
	switch {
	case ok:
		return kept
	case full:
		return OperationOther
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if kept, ok := c.seen[v]; ok {
		return kept
	}
	if len(c.seen) >= c.max {
		return OperationOther
	}
	v = string([]byte(v)) // not a slice of a request's body
	c.seen[v] = v
	return v
}

// statusLabels are the numeric status codes as label values, made once.
var statusLabels = func() (l [600]string) {
	for i := 100; i < len(l); i++ {
		l[i] = strconv.Itoa(i)
	}
	return l
}()

func statusLabel(status int) string {
	if status >= 100 && status < len(statusLabels) {
		return statusLabels[status]
	}
	return strconv.Itoa(status)
}

// RegisterDB adds the statistics of the database/sql pool (go_sql_*, with
// db_name set to name) and, on PostgreSQL, of the pgx pool under it
// (custgraph_pgxpool_*).
func (m *Metrics) RegisterDB(db *sql.DB, pool *pgxpool.Pool, name string) {
	m.Registry.MustRegister(collectors.NewDBStatsCollector(db, name))
	if pool != nil {
		m.Registry.MustRegister(newPoolCollector(pool))
	}
}

// RegisterLive adds the live subscriptions' series, read at each scrape:
// custgraph_subscriptions (open on this replica) and
// custgraph_subscription_events_total (events delivered to them).
func (m *Metrics) RegisterLive(active, delivered func() float64) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "custgraph_subscriptions",
			Help: "GraphQL subscriptions open on this replica (graphql-ws and SSE).",
		}, active),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "custgraph_subscription_events_total",
			Help: "Change events delivered to this replica's subscriptions.",
		}, delivered))
}

// poolCollector exports pgxpool's statistics, read at each scrape.
type poolCollector struct {
	pool  *pgxpool.Pool
	descs []poolDesc
}

type poolDesc struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*pgxpool.Stat) float64
}

func newPoolCollector(pool *pgxpool.Pool) *poolCollector {
	d := func(name, help string, kind prometheus.ValueType, v func(*pgxpool.Stat) float64) poolDesc {
		return poolDesc{prometheus.NewDesc("custgraph_pgxpool_"+name, help, nil, nil), kind, v}
	}
	g, c := prometheus.GaugeValue, prometheus.CounterValue
	return &poolCollector{pool: pool, descs: []poolDesc{
		d("acquired_conns", "Connections in use.", g, func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }),
		d("idle_conns", "Idle connections.", g, func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }),
		d("constructing_conns", "Connections being opened.", g, func(s *pgxpool.Stat) float64 { return float64(s.ConstructingConns()) }),
		d("total_conns", "Connections open or being opened.", g, func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) }),
		d("max_conns", "The pool's size.", g, func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }),
		d("acquires_total", "Connections acquired.", c, func(s *pgxpool.Stat) float64 { return float64(s.AcquireCount()) }),
		d("acquire_seconds_total", "Time spent acquiring connections.", c, func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() }),
		d("empty_acquires_total", "Acquires that waited for a connection: none was idle.", c, func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) }),
		d("empty_acquire_wait_seconds_total", "Time spent by those acquires waiting.", c, func(s *pgxpool.Stat) float64 { return s.EmptyAcquireWaitTime().Seconds() }),
		d("canceled_acquires_total", "Acquires given up (their context ended).", c, func(s *pgxpool.Stat) float64 { return float64(s.CanceledAcquireCount()) }),
		d("new_conns_total", "Connections opened.", c, func(s *pgxpool.Stat) float64 { return float64(s.NewConnsCount()) }),
		d("max_lifetime_destroys_total", "Connections closed at their maximum lifetime.", c, func(s *pgxpool.Stat) float64 { return float64(s.MaxLifetimeDestroyCount()) }),
		d("max_idle_destroys_total", "Connections closed after their maximum idle time.", c, func(s *pgxpool.Stat) float64 { return float64(s.MaxIdleDestroyCount()) }),
	}}
}

func (p *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range p.descs {
		ch <- d.desc
	}
}

func (p *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.pool.Stat()
	for _, d := range p.descs {
		ch <- prometheus.MustNewConstMetric(d.desc, d.kind, d.value(s))
	}
}
