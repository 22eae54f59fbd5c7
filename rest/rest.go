// Package rest serves the REST compatibility routes: bankingservice.ai
// (bsai.go), the Tradevest-style BaaS (tradevest.go) and the Open Bank
// Project (obp*.go), as ../shared/spec/rest-compat.md describes them, on the
// same ent client, rules and transactions as the GraphQL API.
//
// The routes translate: they read a request in their family's shape, call
// the same ent operations the GraphQL resolvers call (so validation, the
// data rules, access control and the audit trail, which live in ent, apply
// unchanged), and write the answer and the errors in the family's shape.
// Every mutating route runs in one transaction. No business rule, validation
// or access check is written here; the OBP routes only ask ent's role tables
// (schema.WriteRoles, ReadRoles, FieldRoles) early, to give OBP's errors in
// OBP's order.
package rest

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"

	"custgraph/ent"
	"custgraph/internal/apperr"
	"custgraph/internal/authn"
)

// Config is what the REST routes need.
type Config struct {
	Client *ent.Client
	// Auth authenticates callers; nil lets requests through with whatever
	// viewer their context already holds (tests).
	Auth *authn.Service
	// CustomerFirehose allows OBP's customer firehose (OBP's
	// allow_customer_firehose); off answers OBP-00012.
	CustomerFirehose bool
	MaxBodyBytes     int64 // largest request body; 0 means 1 MiB
	Logger           *slog.Logger
	// After are middlewares run after authentication (the request
	// timeout, the per-caller rate limit).
	After []func(http.Handler) http.Handler
}

// Mount registers every REST route on r.
func Mount(r chi.Router, cfg Config) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &api{Config: cfg}
	r.Get(OpenAPIPath, serveOpenAPI)
	a.mountBSAI(r)
	a.mountTradevest(r)
	a.mountOBP(r)
}

// api is the state every route shares.
type api struct{ Config }

// authenticate puts the caller's viewer in the request's context; refused
// credentials are answered by unauthorized (the family's 401 or, when the
// database failed, its 500).
func (a *api) authenticate(unauthorized func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	if a.Auth == nil {
		return func(h http.Handler) http.Handler { return h }
	}
	return a.Auth.Middleware(func(w http.ResponseWriter, r *http.Request, err error) {
		// Refusals pass the rate limit too, so that a flood of bad tokens
		// meets it (keyed by IP, as for anonymous callers).
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { unauthorized(w, r, err) })
		for i := len(a.After) - 1; i >= 0; i-- {
			h = a.After[i](h)
		}
		h.ServeHTTP(w, r)
	})
}

// challenge sets the WWW-Authenticate header of a 401 (RFC 6750): the
// authentication service's challenge, which names the error of a refused
// token (err; nil for a request without credentials).
func (a *api) challenge(w http.ResponseWriter, err error) {
	if a.Auth != nil {
		a.Auth.Challenge(w, err)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="custgraph"`)
}

// refusal is what a family says of refused credentials, and whether the
// refusal is the server's failure to check them (a 500, logged by authn).
func refusal(err error) (msg string, internal bool) {
	if e, ok := apperr.As(err); ok && e.Code == apperr.Internal {
		return "", true
	}
	msg = "the access token was refused"
	var ae *authn.AuthError
	if errors.As(err, &ae) && ae.Description != "" {
		msg += ": " + ae.Description
	}
	return msg, false
}
