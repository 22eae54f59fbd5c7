// Package server assembles custgraph's HTTP surface: the GraphQL endpoint,
// GraphiQL, the schema's SDL, health and readiness probes, metrics, CORS, request ids,
// structured request logs and the per-request timeout.
package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/cors"

	"custgraph/graph"
	"custgraph/internal/apperr"
	"custgraph/internal/authn"
	"custgraph/internal/changes"
	"custgraph/internal/graphiql"
	"custgraph/internal/observe"
	"custgraph/internal/refusal"
	"custgraph/internal/store"
	"custgraph/rest"
	"custgraph/rest/obp"
	"custgraph/rest/restcore"
)

// Config is what the HTTP surface needs to know.
type Config struct {
	GraphQL        graph.Options
	RequestTimeout time.Duration // per request; 0 means 30s
	CORSOrigins    []string      // origins allowed to call the API from a browser
	Logger         *slog.Logger
	Draining       *atomic.Bool // when set and true (shutting down): /readyz answers 503, responses say Connection: close
	// Auth authenticates callers and serves the token endpoints; nil
	// serves no token endpoints and lets every request in as anonymous
	// (which ent's privacy layer then refuses).
	Auth *authn.Service
	// RateLimit, when set, limits each caller's requests to the APIs and
	// the token endpoints (internal/ratelimit).
	RateLimit func(http.Handler) http.Handler
	// CustomerFirehose allows OBP's customer firehose route.
	CustomerFirehose bool
	// TrustProxyHeaders takes the client's IP (logs, the rate limit of
	// anonymous callers) from X-Forwarded-For / X-Real-IP.
	TrustProxyHeaders bool
	// PublicURL is the configured public URL (--public-url; "" when none
	// is), the server of the OpenAPI document.
	PublicURL string
	// Metrics, when set, are the metrics /metrics serves (the database's
	// are added to them: one server per Metrics); nil: new ones.
	Metrics *observe.Metrics
	// Tracing, when set, traces each request (internal/observe); nil:
	// tracing off, at no cost.
	Tracing *observe.Tracing
	// OutageLogInterval is the least time between two log lines of
	// requests failed by an outage (the database unreachable); the
	// requests in between are counted (outageLog). 0 means 5s.
	OutageLogInterval time.Duration
	// Changes, when set (and running), serves GraphQL subscriptions over
	// WebSocket and SSE on /query (graph.Live; README, "Live changes").
	Changes *changes.Broker
	// LiveNodeReadsPerSecond paces a caller's changes delivered with their
	// node (graph.Live.NodeReadsPerSecond); 0: graph.Live's default.
	LiveNodeReadsPerSecond float64
	// LiveInitTimeout is how long a WebSocket connection may wait for its
	// connection_init (graph.Live.InitTimeout); 0: graph.Live's default.
	LiveInitTimeout time.Duration
	// LiveWriteTimeout is how long a WebSocket message or an SSE event the server writes
	// may wait for a client that does not read it (graph.Live.WriteTimeout;
	// 0: its default).
	LiveWriteTimeout time.Duration
	// LiveKeepAlive is the period of the subscriptions' keep-alive
	// messages (graph.Live.KeepAlive; 0: its default).
	LiveKeepAlive time.Duration
	// LiveConns, when set, counts the WebSocket connections being served
	// (countWebSockets): a server shutting down waits for it after
	// http.Server.Shutdown, which does not wait for hijacked connections.
	LiveConns *sync.WaitGroup
}

// New returns the router. statements is the database's statement counter
// (store.Counting), exported as a metric.
func New(db *store.DB, statements *atomic.Int64, cfg Config) http.Handler {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.OutageLogInterval <= 0 {
		cfg.OutageLogInterval = 5 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = observe.Logger(log) // trace ids, caller and operation in the request's lines
	cfg.GraphQL.Logger = log

	metrics := cfg.Metrics
	if metrics == nil {
		metrics = observe.NewMetrics()
	}
	reg := metrics.Registry
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "custgraph_sql_statements_total",
		Help: "SQL statements (queries and execs) sent to the database.",
	}, func() float64 { return float64(statements.Load()) }))
	metrics.RegisterDB(db.SQL, db.Pool, db.Dialect)
	if cfg.Changes != nil {
		metrics.RegisterLive(cfg.Changes.Active, cfg.Changes.Delivered)
	}

	r := chi.NewRouter()
	if cfg.LiveConns != nil {
		r.Use(countWebSockets(cfg.LiveConns)) // outside the access log: its line is written first
	}
	if cfg.Tracing != nil {
		r.Use(cfg.Tracing.Middleware()) // first: the span covers the whole request
	}
	r.Use(closeWhileDraining(cfg.Draining))
	r.Use(middleware.RequestID)
	r.Use(echoRequestID)
	r.Use(securityHeaders)
	if cfg.TrustProxyHeaders {
		// Only behind a proxy that sets these headers: anyone else could
		// pick an IP and escape the per-IP rate limit.
		r.Use(middleware.RealIP)
	}
	r.Use(accessLog(log, metrics, &outageLog{log: log, interval: cfg.OutageLogInterval, now: time.Now}))
	r.Use(middleware.Recoverer)
	r.Use(knownMethods)
	r.Use(decodedPath)
	// HEAD on a GET route is that GET without its body (RFC 9110 9.3.2):
	// health probes and monitors send it, and it was 405.
	r.Use(middleware.GetHead)
	if len(cfg.CORSOrigins) > 0 {
		r.Use(cors.New(cors.Options{
			AllowedOrigins: cfg.CORSOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions},
			AllowedHeaders: []string{"Authorization", "Content-Type", "Accept", "X-Request-Id", "Requestor-ID"},
			ExposedHeaders: []string{"X-Request-Id", "Correlation-Id"},
			MaxAge:         600,
		}).Handler)
	}

	r.MethodNotAllowed(notAllowed(r))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if cfg.Draining != nil && cfg.Draining.Load() {
			http.Error(w, "shutting down\n", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			log.WarnContext(r.Context(), "not ready: database does not answer", "err", err)
			http.Error(w, "database unavailable\n", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	r.Get("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP)

	limit := cfg.RateLimit
	if limit == nil {
		limit = func(h http.Handler) http.Handler { return h }
	}
	// Each door names the writer of its refusals (the limits' 429s, 413,
	// 415, the database's 503) first, so that everything below answers in
	// its format (internal/refusal).
	if cfg.Auth != nil {
		r.Group(func(r chi.Router) {
			r.Use(refusal.Door(authn.WriteOAuthRefusal), timeout(cfg.RequestTimeout), limit)
			r.Handle(authn.TokenPath, cfg.Auth.TokenHandler())
		})
		r.Group(func(r chi.Router) {
			r.Use(refusal.Door(obp.WriteRefusal), timeout(cfg.RequestTimeout), limit) // OBP's DirectLogin
			r.Handle(authn.DirectLoginPath, cfg.Auth.DirectLoginHandler())
		})
		r.Get(authn.JWKSPath, cfg.Auth.JWKSHandler().ServeHTTP)
		r.Get(authn.DiscoveryPath, cfg.Auth.DiscoveryHandler().ServeHTTP)
		r.Get(authn.OpenIDDiscoveryPath, cfg.Auth.DiscoveryHandler().ServeHTTP)
	}
	if cfg.Changes != nil {
		live := &graph.Live{Broker: cfg.Changes, Token: authn.Token, NodeReadsPerSecond: cfg.LiveNodeReadsPerSecond,
			InitTimeout: cfg.LiveInitTimeout, WriteTimeout: cfg.LiveWriteTimeout, KeepAlive: cfg.LiveKeepAlive}
		if cfg.Auth != nil {
			live.Verify = cfg.Auth.Verify
		}
		cfg.GraphQL.Live = live
	}
	api := graph.NewHandler(db.Client, db.Dialect, cfg.GraphQL)
	r.Group(func(r chi.Router) {
		r.Use(refusal.Door(graph.WriteRefusal))
		if cfg.Auth != nil {
			r.Use(cfg.Auth.Middleware(func(w http.ResponseWriter, r *http.Request, err error) {
				if e, ok := apperr.As(err); ok && e.Code == apperr.Unavailable {
					// The database could not be reached while loading the caller.
					refusal.Write(w, r, refusal.DatabaseUnavailable())
					return
				}
				if e, ok := apperr.As(err); ok && e.Code == apperr.Internal {
					// The database failed while loading the caller (logged).
					graph.WriteError(w, r, http.StatusInternalServerError, string(e.Code), e.Message)
					return
				}
				// Refusals count against the caller's IP, so that a flood of
				// bad tokens meets the rate limit too.
				limit(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					cfg.Auth.Challenge(w, err)
					graph.WriteError(w, r, http.StatusUnauthorized, string(apperr.Unauthenticated), err.Error())
				})).ServeHTTP(w, r)
			}))
		}
		r.Use(graph.SubscriptionsStream(cfg.GraphQL.MaxBodyBytes, cfg.GraphQL.MaxTokens), timeout(cfg.RequestTimeout), limit)
		r.Handle("/query", api)
		r.Handle("/graphql", api)
	})
	rest.Mount(r, rest.Config{
		Client:           db.Client,
		Auth:             cfg.Auth,
		CustomerFirehose: cfg.CustomerFirehose,
		MaxBodyBytes:     cfg.GraphQL.MaxBodyBytes,
		Logger:           log,
		After:            []func(http.Handler) http.Handler{timeout(cfg.RequestTimeout), limit},
		PublicURL:        cfg.PublicURL,
	})
	// The schema in SDL, open like introspection (the API's shape is no
	// secret; its data is).
	r.Get("/schema.graphql", schemaSDL(graph.SDL()))
	r.Get("/graphiql/assets/*", graphiql.Assets().ServeHTTP)
	page := graphiql.Page(graphiql.Options{
		Endpoint: "/query", TokenPath: authn.TokenPath, DirectLoginPath: authn.DirectLoginPath,
	})
	r.Get("/", page.ServeHTTP)
	r.Get("/graphiql", page.ServeHTTP)
	return r
}

// schemaSDL serves the schema's SDL as text, with an ETag, revalidated on
// every use (it changes with a new release).
func schemaSDL(sdl string) http.HandlerFunc {
	sum := sha256.Sum256([]byte(sdl))
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		h.Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "schema.graphql", time.Time{}, strings.NewReader(sdl))
	}
}

// apiCSP is the Content-Security-Policy of every answer but GraphiQL's
// page (which sets its own): an API answer is data, never a document a
// browser should render, run scripts of, or frame.
const apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// securityHeaders gives every answer, of every door (GraphQL, REST, the
// token endpoints, /schema.graphql, /openapi.json, probes, errors and 404s),
// the headers that keep a browser from misusing it: no MIME sniffing, no
// framing, a CSP that allows nothing, no Referer to other sites, and no
// caching of customer data (a handler whose answer may be cached, like the
// JWKS or GraphiQL's assets, sets its own Cache-Control; GraphiQL's page
// sets its own CSP).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", apiCSP)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// methods are the request methods of RFC 9110 (section 9) and PATCH (RFC
// 5789), but CONNECT (a proxy's, which this server is not): every route of
// every door serves some of them, and answers the others with 405 and an
// Allow header.
var methods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodDelete: true, http.MethodOptions: true, http.MethodTrace: true, http.MethodPatch: true,
}

// methodLabel is a request's method as a metric's label: any other than
// methods is "other", so that a stranger's made-up methods cannot add
// series to /metrics without end.
func methodLabel(m string) string {
	if methods[m] {
		return m
	}
	return "other"
}

// knownMethods answers a method no route knows (FOO, PROPFIND, CONNECT)
// with 501 Not Implemented (RFC 9110 15.6.2), whatever the path. chi's
// router answered it with a bare 405, which RFC 9110 requires to carry an
// Allow header that no route could fill.
func knownMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !methods[r.Method] {
			refusal.Write(w, r, refusal.MethodNotImplemented(r.Method))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// decodedPath has chi route by the decoded path when the raw one only
// encodes what needs no encoding: a client may send /banks/gh%2E29%2Euk or
// /customers/%30a1b…, which RFC 3986 (6.2.2.2) makes the same URL as the
// plain one, and chi routed such a path by its raw text, handing the
// handlers "gh%2E29%2Euk" (404). A path with an encoded "/" keeps its raw
// form (one segment is not two; no id holds a "/"), and so does one whose
// decoded form holds a control character.
func decodedPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if raw := r.URL.RawPath; raw != "" && !strings.Contains(strings.ToUpper(raw), "%2F") &&
			!strings.ContainsFunc(r.URL.Path, unicode.IsControl) {
			u := *r.URL
			u.RawPath = ""
			r2 := *r
			r2.URL = &u
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}

// notAllowed answers a method the route of the URL (in routes) does not
// serve, outside the doors that answer it in their own format: 405, the
// route's methods in Allow (chi's own answer left HEAD out of it).
func notAllowed(routes chi.Routes) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		allowed := strings.Join(restcore.AllowedMethods(routes, r), ", ")
		w.Header().Set("Allow", allowed)
		refusal.Plain(w, r, &refusal.Refusal{Status: http.StatusMethodNotAllowed, Code: "METHOD_NOT_ALLOWED",
			Message: fmt.Sprintf("%s %s is not served; the methods are %s", r.Method, r.URL.Path, allowed)})
	}
}

// echoRequestID returns the request's id (the client's X-Request-Id, or the
// one middleware.RequestID made up) in the X-Request-Id response header, so
// that a client can quote it and it can be found in the logs.
func echoRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := middleware.GetReqID(r.Context()); id != "" {
			w.Header().Set(middleware.RequestIDHeader, id)
		}
		next.ServeHTTP(w, r)
	})
}

// timeout bounds each request: the context is cancelled after d, which
// aborts its SQL statements; the client gets a TIMEOUT error.
func timeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if graph.IsLive(r) { // a subscription's connection lives on
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// accessLog writes one structured line per request, with its id, status,
// duration and the number of SQL statements it ran (and, through the
// observe.Logger, its trace, caller and GraphQL operation), and records
// the metric. It gives the request its observe.Request, which the handlers
// after it fill in and count their refusals with. A request failed by an
// outage (the database unreachable: store.Outage) is logged by outages
// instead, which bounds the lines of an outage.
// countWebSockets counts the WebSocket upgrades being served, whole
// (their access-log line included), in conns, which a server shutting down
// waits for: http.Server.Shutdown does not wait for hijacked connections.
func countWebSockets(conns *sync.WaitGroup) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
				conns.Add(1)
				defer conns.Done()
			}
			next.ServeHTTP(w, r)
		})
	}
}

func accessLog(log *slog.Logger, metrics *observe.Metrics, outages *outageLog) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ctx, sqlCount := store.WithCounter(r.Context())
			ctx, _ = observe.NewContext(ctx, metrics)
			ctx, outage := store.WithOutage(ctx)
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			// Deferred: a stream cut off on purpose (a subscription whose
			// token was refused, or a restart's end of the change stream)
			// ends its handler with panic(http.ErrAbortHandler), which
			// passes the Recoverer; it is logged and counted too, as
			// "aborted", and the panic goes on to net/http.
			defer func() {
				rvr := recover()
				logRequest(ctx, log, metrics, outages, r, ww, sqlCount.N(), outage.Cause(), time.Since(start), rvr != nil)
				if rvr != nil {
					panic(rvr)
				}
			}()
			next.ServeHTTP(ww, r.WithContext(ctx))
		})
	}
}

// logRequest writes a request's access log line and its HTTP metrics.
func logRequest(ctx context.Context, log *slog.Logger, metrics *observe.Metrics, outages *outageLog, r *http.Request,
	ww middleware.WrapResponseWriter, sql int64, cause string, d time.Duration, aborted bool) {
	route := chi.RouteContext(r.Context()).RoutePattern()
	if route == "" {
		route = "unmatched"
	}
	status := ww.Status()
	switch {
	case status != 0:
	case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
		// Nothing written through ww: the upgrade took the connection (a
		// refused one is answered through ww) and wrote its 101 on it.
		status = http.StatusSwitchingProtocols
	default:
		status = http.StatusOK
	}
	metrics.ObserveHTTP(route, methodLabel(r.Method), status, d)
	attrs := []any{"request_id", middleware.GetReqID(r.Context()),
		"method", r.Method, "path", r.URL.Path, "status", status,
		"duration_ms", float64(d.Microseconds()) / 1000, "sql", sql,
		"bytes", ww.BytesWritten(), "remote", r.RemoteAddr}
	if aborted {
		attrs = append(attrs, "aborted", true)
	}
	if cause != "" {
		outages.failedRequest(ctx, cause, attrs)
		return
	}
	if sql > 0 && status < 500 { // the database answered
		outages.reached(ctx)
	}
	level := slog.LevelInfo
	switch {
	case status == http.StatusNotImplemented: // (a method no route knows: the client's)
	case route == "/readyz" && status == http.StatusServiceUnavailable:
		// not ready (draining, or the database out of reach): a state, not
		// a fault, probed often
		level = slog.LevelWarn
	case status >= 500:
		level = slog.LevelError
	}
	log.Log(ctx, level, "request", attrs...)
}
