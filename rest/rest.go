// Package rest serves the REST compatibility routes, one package a family
// over a small shared core: bankingservice.ai (rest/bsai), the
// Tradevest-style BaaS (rest/tradevest) and the Open Bank Project
// (rest/obp), as ../shared/spec/rest-compat.md describes them, on the same
// ent client, rules and transactions as the GraphQL API; rest/restcore is
// what they share. This package mounts them and serves their OpenAPI
// document (openapi.go, openapi/*.json).
//
// The routes translate: they read a request in their family's shape, call
// the same ent operations the GraphQL resolvers call (so validation, the
// data rules, access control and the audit trail, which live in ent, apply
// unchanged), and write the answer and the errors in the family's shape.
// Every mutating route runs in one transaction. No business rule, validation
// or access check is written here; the routes only ask ent's role tables
// (schema.WriteRoles, ReadRoles, FieldRoles) early, to give each family's
// errors in the family's order.
package rest

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"

	"custgraph/ent"
	"custgraph/internal/authn"
	"custgraph/rest/bsai"
	"custgraph/rest/obp"
	"custgraph/rest/restcore"
	"custgraph/rest/tradevest"
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
	// PublicURL is the configured public URL (--public-url), the OpenAPI
	// document's server; "" serves it with the relative server "/".
	PublicURL string
}

// Mount registers every REST route on r.
func Mount(r chi.Router, cfg Config) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	core := &restcore.Core{Client: cfg.Client, Auth: cfg.Auth, MaxBodyBytes: cfg.MaxBodyBytes, Logger: cfg.Logger, After: cfg.After}
	r.Get(OpenAPIPath, serveOpenAPI(cfg.PublicURL))
	bsai.Mount(r, core)
	tradevest.Mount(r, core)
	obp.Mount(r, core, cfg.CustomerFirehose)
}
