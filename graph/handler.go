package graph

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net"
	"net/http"
	"strings"

	"custgraph/ent/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"custgraph/ent"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/idempotency"
	"custgraph/internal/refusal"
	"custgraph/internal/store"
)

// Options configure the GraphQL endpoint.
type Options struct {
	Limits
	MaxBodyBytes int64 // largest request body; 0 means 1 MiB
	APQCacheSize int   // automatic persisted queries kept; 0 means 1000
	Logger       *slog.Logger
	// Live serves subscriptions (subscriptions.go); nil serves none.
	Live *Live
}

// NewHandler returns the GraphQL endpoint over HTTP, following the
// GraphQL-over-HTTP specification, its MUSTs and SHOULDs (the graphql-http
// audit checks them, e2e/tools_test.go): POST with
// application/json, answered as application/graphql-response+json or
// application/json as the Accept header asks (status codes and request
// errors: overHTTP), GET for queries only (a mutation over GET is 405), any
// other POST content type refused with 415 (no CSRF through simple form
// posts), bodies above the limit refused with 413. Mutations run in one
// transaction each.
func NewHandler(client *ent.Client, dialectName string, o Options) http.Handler {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.APQCacheSize <= 0 {
		o.APQCacheSize = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{client: client, dialectName: dialectName, live: o.Live}}))
	srv.Use(observer{}) // first: it sees the final answer (observe.go)
	if o.Live != nil {
		o.Live.defaults()
		o.Live.maxMessage = o.MaxBodyBytes
		for _, t := range o.Live.transports() { // before overHTTP, which would take SSE's POSTs
			srv.AddTransport(t)
		}
		srv.Use(subscriptionsOnly{})
	}
	// overHTTP before Options, which answers HEAD with 405: HEAD is GET
	// without its body (RFC 9110), a probe's way to ask.
	srv.AddTransport(overHTTP{maxVariables: o.MaxVariableCost, maxTokens: o.MaxTokens, introspection: newAnswerCache(),
		client: client, log: o.Logger})
	srv.AddTransport(transport.Options{AllowedMethods: []string{http.MethodOptions, http.MethodGet, http.MethodHead, http.MethodPost}})
	cache := pagedCache{sizedCache[*ast.QueryDocument]{lru.New[*ast.QueryDocument](1000), func(*ast.QueryDocument) int { return 0 }}} // keyed by the query's text
	srv.SetQueryCache(cache)
	srv.SetParserTokenLimit(o.MaxTokens) // documentLimits refuses first; this is the backstop
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: sizedCache[string]{callersCache[string]{lru.New[string](o.APQCacheSize)}, func(q string) int { return len(q) }}})
	// After the persisted query has filled in the query, before parsing.
	srv.Use(&documentLimits{Limits: o.Limits, cache: cache})
	srv.Use(&wholeInts{cache: cache}) // before coercion, which refused an Int written 1.0
	srv.Use(&strictVariables{})       // before the limits, which read the variables
	srv.Use(&limitsExt{Limits: o.Limits})
	srv.Use(transactioner{entgql.Transactioner{TxOpener: txErrors{idempotency.TxOpener{Client: client}}}, o.Logger})
	srv.SetErrorPresenter(requestErrorCode(presentError(o.Logger)))
	srv.SetRecoverFunc(recoverPanic(o.Logger))
	h := guard(srv, o.MaxBodyBytes, o.MaxTokens)
	if o.Live != nil {
		return o.Live.wrap(h, srv)
	}
	return h
}

// guard applies the HTTP-level rules gqlgen's transports do not.
// The documents it parses itself (to let introspection in without
// credentials) are parsed with at most maxTokens tokens. A mutation over
// GET is refused by overHTTP, where the operation is known (a GET may
// name it by a persisted hash).
func guard(next http.Handler, maxBody int64, maxTokens int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := func(status int, code, msg string) { WriteError(w, r, status, code, msg) }
		switch r.Method {
		case http.MethodPost:
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mt != "application/json" || err != nil { // a parameter that does not parse: gqlgen's transport refuses it too
				refuse(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
					"POST requests must have Content-Type: application/json")
				return
			}
			if r.ContentLength > maxBody {
				refuse(http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "the request body is too large")
				return
			}
			// Read the body here, so that one sent without Content-Length
			// (chunked) is refused with 413 too, not by gqlgen's transport.
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			if err != nil {
				if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
					refuse(http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "the request body is too large")
					return
				}
				if netErr := net.Error(nil); errors.As(err, &netErr) && netErr.Timeout() {
					// The read deadline passed before the body arrived.
					refuse(http.StatusRequestTimeout, "REQUEST_TIMEOUT", "the request body did not arrive in time")
					return
				}
				refuse(http.StatusBadRequest, "BAD_REQUEST", "the request body could not be read")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if access.FromContext(r.Context()) == nil {
				var p struct{ Query string }
				_ = json.Unmarshal(body, &p)
				if !introspectionOnly(p.Query, maxTokens) {
					unauthenticated(w, r)
					return
				}
			}
		case http.MethodGet, http.MethodHead:
			if access.FromContext(r.Context()) == nil && !introspectionOnly(r.URL.Query().Get("query"), maxTokens) {
				unauthenticated(w, r)
				return
			}
		case http.MethodOptions:
		default:
			w.Header().Set("Allow", "GET, HEAD, POST, OPTIONS")
			refuse(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "use GET for queries or POST")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// introspectionOnly reports whether every operation of query asks only for
// __schema, __type or __typename: what GraphiQL and tools may ask without
// credentials. Anything else needs a logged-in caller, and so does a
// document above maxTokens (whose parsing stops there).
//
// It runs before authentication, for anyone, so its work is linear in the
// document: each fragment is looked at once, however often it is spread.
// Walking a fragment again at each spread made a 1 KB document of nested
// spreads (each fragment spreading the next twelve times, nine deep) a
// walk of 12^9 fragments, which held a CPU for as long as the process
// lived; sixteen of them, sent without a token, stopped the server.
func introspectionOnly(query string, maxTokens int) bool {
	if query == "" {
		return false
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, maxTokens)
	if err != nil || len(doc.Operations) == 0 {
		return false
	}
	m := metaWalk{frags: doc.Fragments, seen: map[string]bool{}}
	for _, op := range doc.Operations {
		if op.Operation != ast.Query || !m.only(op.SelectionSet) {
			return false
		}
	}
	return true
}

// metaWalk tells whether selection sets select meta fields only.
type metaWalk struct {
	frags ast.FragmentDefinitionList
	// seen holds each fragment looked at: false while it is being looked
	// at (a spread of it inside itself, a cycle, which validation refuses,
	// is not meta-only) or when it is not meta-only, true when it is.
	seen  map[string]bool
	walks int // fragments looked at (each once)
}

func (m *metaWalk) only(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if !strings.HasPrefix(sel.Name, "__") {
				return false
			}
		case *ast.InlineFragment:
			if !m.only(sel.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			if !m.fragment(sel.Name) {
				return false
			}
		}
	}
	return true
}

func (m *metaWalk) fragment(name string) bool {
	if ok, seen := m.seen[name]; seen {
		return ok
	}
	f := m.frags.ForName(name)
	if f == nil {
		return false
	}
	m.seen[name] = false
	m.walks++
	ok := m.only(f.SelectionSet)
	m.seen[name] = ok
	return ok
}

// Challenge is the WWW-Authenticate header of custgraph's 401 answers: the
// schemes a caller can authenticate with.
const Challenge = `Bearer realm="custgraph", DirectLogin realm="custgraph"`

// unauthenticated answers a request without credentials that asks for data.
func unauthenticated(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", Challenge)
	WriteError(w, r, http.StatusUnauthorized, string(apperr.Unauthenticated),
		"authentication is required: send Authorization: Bearer <token> (POST /oauth/token issues one)")
}

// WriteRefusal is the GraphQL door's refusal.Writer: a GraphQL-shaped error
// with the refusal's status and its code in extensions.code
// (RATE_LIMITED, TOO_MANY_CONCURRENT_REQUESTS, REQUEST_TOO_LARGE,
// UNSUPPORTED_MEDIA_TYPE, UNAVAILABLE), as application/graphql-response+json
// when the client prefers it, else application/json.
func WriteRefusal(w http.ResponseWriter, r *http.Request, f *refusal.Refusal) {
	WriteError(w, r, f.Status, f.Code, f.Message)
}

// WriteError writes a GraphQL-shaped error response with an HTTP status,
// for answers given before GraphQL runs (bad credentials, a body too large
// or not JSON), as application/graphql-response+json when the client
// prefers it (Apollo Client reads extensions.code only from that), else
// application/json.
func WriteError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if media, ok := responseMediaType(r.Header.Values("Accept")); ok && media == mediaGraphQLResponse {
		w.Header().Set("Content-Type", media) // (httpError keeps it)
	}
	httpError(w, status, code, msg)
}

// httpError writes a GraphQL-shaped error response, as application/json
// unless the Content-Type is set already.
func httpError(w http.ResponseWriter, status int, code, msg string) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}

// transactioner runs each mutation in one transaction, like the
// entgql.Transactioner it wraps, and mends three of its flaws: it panics on
// a response without an operation (gqlgen answers a body that is not JSON
// that way) and on the end of a stream (the WebSocket and SSE transports
// ask for responses until there is none: after a mutation's one response,
// the client was sent an INTERNAL error for a change that was stored), and
// it reports a failure to begin or commit the transaction as an error
// without extensions.code that shows the driver's text.
type transactioner struct {
	entgql.Transactioner
	log *slog.Logger
}

// endOfStream stands for "no more responses" through entgql's
// Transactioner, which rolls back (an empty transaction) on any error.
var endOfStream = &gqlerror.Error{Message: "custgraph: end of stream"}

func (t transactioner) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	failed := new(txFailure)
	resp := t.Transactioner.InterceptResponse(context.WithValue(ctx, txFailureKey{}, failed), func(ctx context.Context) *graphql.Response {
		if resp := next(ctx); resp != nil {
			return resp
		}
		return &graphql.Response{Errors: gqlerror.List{endOfStream}}
	})
	if resp == nil || len(resp.Errors) != 1 || resp.Errors[0].Extensions != nil {
		return resp
	}
	if resp.Errors[0] == endOfStream {
		return nil
	}
	msg := resp.Errors[0].Message
	if !strings.HasPrefix(msg, "cannot create transaction: ") && !strings.HasPrefix(msg, "cannot commit transaction: ") {
		return resp
	}
	var e *apperr.Error
	switch err := failed.err; {
	case ctx.Err() != nil:
		e = store.Classify(ctx.Err())
	case err != nil: // INTERNAL is logged, UNAVAILABLE noted for the request's log line
		e = store.Report(ctx, t.log, err, "graphql mutation transaction failed")
	default:
		e = &apperr.Error{Code: apperr.Internal, Message: "internal error"}
		t.log.ErrorContext(ctx, "graphql mutation transaction failed", "err", msg)
	}
	return &graphql.Response{Errors: gqlerror.List{{
		Message: e.Message, Extensions: map[string]any{"code": string(e.Code)},
	}}}
}

// txErrors opens the transactions of mutations, keeping the error of
// opening or committing one (in the context's txFailure) for transactioner,
// to which entgql passes only its text.
type txErrors struct{ entgql.TxOpener }

// txFailure holds the error of opening or committing a mutation's
// transaction.
type txFailure struct{ err error }

type txFailureKey struct{}

func (o txErrors) OpenTx(ctx context.Context) (context.Context, driver.Tx, error) {
	f, _ := ctx.Value(txFailureKey{}).(*txFailure)
	ctx, tx, err := o.TxOpener.OpenTx(ctx)
	if err != nil {
		if f != nil {
			f.err = err
		}
		return ctx, tx, err
	}
	return ctx, txCommit{Tx: tx, f: f}, nil
}

// txCommit keeps the error of its commit.
type txCommit struct {
	driver.Tx
	f *txFailure
}

func (t txCommit) Commit() error {
	err := t.Tx.Commit()
	if err != nil && t.f != nil {
		t.f.err = err
	}
	return err
}

// requestErrorCode gives BAD_REQUEST to the errors gqlgen raises without a
// code about a request it could not use (a body that is not a JSON object,
// a wrong persisted-query hash), which the presenter passes through as is.
func requestErrorCode(present graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		e := present(ctx, err)
		if e == nil || e.Extensions["code"] != nil {
			return e
		}
		c := *e // gqlgen's own value: not changed in place
		c.Extensions = maps.Clone(e.Extensions)
		if c.Extensions == nil {
			c.Extensions = map[string]any{}
		}
		c.Extensions["code"] = "BAD_REQUEST"
		return &c
	}
}
