package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/graph"
	"custgraph/internal/access"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// env is one test's GraphQL API on a fresh database, with the number of
// SQL statements of the last request.
type env struct {
	t       *testing.T
	client  *ent.Client
	db      *store.DB
	gql     *client.Client
	counter *store.Counter
	// viewer is who the requests come from: custgraph itself unless a
	// test sets a caller (nil: nobody logged in).
	viewer *access.Viewer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, _ := testdb.Open(t)
	h := graph.NewHandler(db.Client, db.Dialect, graph.Options{
		Limits: graph.DefaultLimits,
	})
	e := &env{t: t, client: db.Client, db: db, viewer: access.FromContext(access.System(context.Background()))}
	e.gql = client.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, c := store.WithCounter(r.Context())
		e.counter = c
		if e.viewer != nil {
			ctx = access.NewContext(ctx, e.viewer)
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	return e
}

// vars turns name/value pairs into gqlgen client options.
func vars(kv ...any) []client.Option {
	var opts []client.Option
	for i := 0; i+1 < len(kv); i += 2 {
		opts = append(opts, client.Var(kv[i].(string), kv[i+1]))
	}
	return opts
}

// do posts a query that must succeed and decodes its data into out
// (encoding/json rules: unknown keys are ignored, UUIDs decode from text).
func (e *env) do(query string, out any, kv ...any) {
	e.t.Helper()
	resp, err := e.gql.RawPost(query, vars(kv...)...)
	require.NoError(e.t, err, query)
	require.Empty(e.t, string(resp.Errors), query)
	data, err := json.Marshal(resp.Data)
	require.NoError(e.t, err)
	require.NoError(e.t, json.Unmarshal(data, out), query)
}

// gqlError is one entry of a response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// fail posts a query that must fail and returns its errors.
func (e *env) fail(query string, kv ...any) []gqlError {
	e.t.Helper()
	var errs []gqlError
	resp, err := e.gql.RawPost(query, vars(kv...)...)
	if err != nil { // a non-200 status: gqlgen's client puts the body in the error
		msg := err.Error()
		var body struct{ Errors []gqlError }
		require.NoError(e.t, json.Unmarshal([]byte(msg[strings.Index(msg, "{"):]), &body), msg)
		errs = body.Errors
	} else {
		require.NoError(e.t, json.Unmarshal(resp.Errors, &errs), "expected errors for %s", query)
	}
	require.NotEmpty(e.t, errs, "expected errors for %s", query)
	return errs
}

// sql is the number of statements the last request ran.
func (e *env) sql() int64 { return e.counter.N() }

// roundTrips is the number of round trips to the database of the last
// request's statements (store.Counter.RoundTrips).
func (e *env) roundTrips() int64 { return e.counter.RoundTrips() }

// seedBank creates a bank directly through ent.
func (e *env) seedBank(code string) *ent.Bank {
	e.t.Helper()
	b, err := e.client.Bank.Create().SetCode(code).SetName("Bank " + code).Save(access.System(context.Background()))
	require.NoError(e.t, err)
	return b
}

// seedCustomers creates n customers at a bank, in order, and returns their ids.
func (e *env) seedCustomers(b *ent.Bank, n int, with func(i int, c *ent.CustomerCreate)) []uuid.UUID {
	e.t.Helper()
	ids := make([]uuid.UUID, n)
	for i := range n {
		c := e.client.Customer.Create().SetBankID(b.ID).
			SetLegalName(fmt.Sprintf("Customer %03d", i)).
			SetEmail(fmt.Sprintf("c%03d@example.com", i))
		if with != nil {
			with(i, c)
		}
		got, err := c.Save(access.System(context.Background()))
		require.NoError(e.t, err)
		ids[i] = got.ID
	}
	return ids
}
