// Package observe holds what operators see of custgraph besides its
// answers: the Prometheus metrics (metrics.go), OpenTelemetry tracing
// configured by the standard OTEL_* environment (tracing.go), and the
// request-scoped facts that log lines and metrics carry (this file, log.go).
//
// Each request gets a *Request in its context (NewContext, from the access
// log middleware); the handlers deeper in the chain fill it in (the caller
// once authenticated, the GraphQL operation once parsed) and count their
// refusals through it, into the Metrics of the server that serves the
// request. Every method is safe on a nil *Request (a context without one:
// tests, background work), where it does nothing.
package observe

import (
	"context"
	"sync"
)

// Request is what the handlers of one request learn for its log lines and
// metrics: the middleware chain and gqlgen's operation interceptor write
// it, log lines read it. A websocket is one request whose operations run
// on goroutines of their own, each setting its name while the others'
// lines read it: mu guards the names.
type Request struct {
	metrics   *Metrics
	mu        sync.Mutex
	caller    string // "client:<client_id>" or "user:<username>"
	operation string // the GraphQL operation's name, as sent (log lines only)
}

type requestKey struct{}

// NewContext returns ctx with a new Request counting into m (nil: no
// metrics).
func NewContext(ctx context.Context, m *Metrics) (context.Context, *Request) {
	r := &Request{metrics: m}
	return context.WithValue(ctx, requestKey{}, r), r
}

// FromContext returns the context's Request, nil if none.
func FromContext(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// Metrics returns the metrics the request counts into; nil when none.
func (r *Request) Metrics() *Metrics {
	if r == nil {
		return nil
	}
	return r.metrics
}

// SetCaller records the authenticated caller: its kind ("client", "user")
// and name (client_id, username).
func (r *Request) SetCaller(kind, name string) {
	if r != nil {
		caller := kind + ":" + name
		r.mu.Lock()
		r.caller = caller
		r.mu.Unlock()
	}
}

// Caller is the authenticated caller, "" when anonymous.
func (r *Request) Caller() string {
	if r == nil {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.caller
}

// SetOperation records the GraphQL operation's name (anonymous: "").
func (r *Request) SetOperation(name string) {
	if r != nil {
		r.mu.Lock()
		r.operation = name
		r.mu.Unlock()
	}
}

// Operation is the GraphQL operation's name, "" when none or anonymous.
func (r *Request) Operation() string {
	if r == nil {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.operation
}

// Limited counts a refusal by a rate or concurrency limit; limit is one of
// the Limit* constants.
func (r *Request) Limited(limit string) {
	if m := r.Metrics(); m != nil {
		m.rateLimited.WithLabelValues(limit).Inc()
	}
}

// AuthFailed counts credentials refused; reason is one of the Auth*
// constants.
func (r *Request) AuthFailed(reason string) {
	if m := r.Metrics(); m != nil {
		m.authFailures.WithLabelValues(reason).Inc()
	}
}

// The limit label of custgraph_rate_limited_total.
const (
	LimitRate              = "rate"               // the caller's requests per window
	LimitCallerConcurrency = "caller_concurrency" // the caller's requests in flight
	LimitTotalConcurrency  = "total_concurrency"  // all requests in flight on the replica
	LimitQueue             = "queue"              // its time ran out waiting for a turn to run
)

// The reason label of custgraph_authentication_failures_total.
const (
	AuthInvalidToken   = "invalid_token"       // a bearer/DirectLogin token refused: expired, forged, unknown caller
	AuthInvalidRequest = "invalid_request"     // malformed credentials: several, empty, unparsable
	AuthInvalidClient  = "invalid_client"      // /oauth/token: unknown or disabled client, wrong secret
	AuthInvalidLogin   = "invalid_credentials" // DirectLogin: unknown consumer, wrong username or password
	AuthLocked         = "locked"              // too many failed attempts: refused without checking
)
