package server_test

// The regression suite of issue 12 ("every request's cost is bounded before
// the work starts"): each attack the security review found, sent through
// the real router (authentication, the bound on requests in flight, the
// default limits), asserting the refusal — a 4xx in the door's format — and
// a ceiling on the work it cost, counted in SQL statements, bytes allocated
// while it was handled and bytes answered, never in time. The cost of the
// worst request each limit still accepts is measured by
// bench/costs_test.go (go test ./bench/ -run '^$' -bench Costs).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent/product"
	"custgraph/graph"
	"custgraph/internal/access"
	"custgraph/internal/admin"
	"custgraph/internal/authn"
	"custgraph/internal/ratelimit"
	"custgraph/internal/server"
	"custgraph/internal/store"
	"custgraph/internal/testdb"
)

// costEnv is the router as server.go builds it, with the default limits, a
// bound of perCaller requests in flight per caller, and two banks, each
// with a bank-bound partner.
type costEnv struct {
	*env
	h          http.Handler
	sql        *sqlLog
	tokA, tokB string
	bankA      uuid.UUID
	bankB      uuid.UUID
	customers  []uuid.UUID // bank A's
}

const perCaller = 2

// sqlLog records the statements sent to the database.
type sqlLog struct {
	mu    sync.Mutex
	stmts []string
}

func (l *sqlLog) add(_ context.Context, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stmts = append(l.stmts, fmt.Sprint(v...))
}

// since returns the statements sent after the first n.
func (l *sqlLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.stmts[n:]...)
}

func (l *sqlLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.stmts)
}

func newCostEnv(t *testing.T) *costEnv {
	t.Helper()
	_, _, dsn := testdb.OpenDSN(t)
	log := &sqlLog{}
	statements := new(atomic.Int64)
	db, err := store.Open(context.Background(), dsn, store.Options{
		Wrap: func(d dialect.Driver) dialect.Driver {
			return store.Counting(dialect.DebugWithContext(d, log.add), statements)
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })

	ctx := access.System(context.Background())
	c := &costEnv{sql: log}
	for i, bank := range []*uuid.UUID{&c.bankA, &c.bankB} {
		b, err := db.Client.Bank.Create().SetCode(fmt.Sprintf("bank.%c", 'a'+i)).SetName("Bank").Save(ctx)
		require.NoError(t, err)
		*bank = b.ID
		cl, _, err := admin.CreateClient(ctx, db.Client, admin.ClientInput{
			ClientID: fmt.Sprintf("partner-%c", 'a'+i), Name: "Partner", Secret: partnerSecret, BankID: &b.ID})
		require.NoError(t, err)
		for _, role := range []access.Role{access.CanGetCustomer, access.CanCreateCustomer, access.CanGetCustomerProduct,
			access.CanGetCustomerAddress, access.CanGetCustomerMessages} {
			_, err = admin.Grant(ctx, db.Client, &cl.ID, nil, role, &b.ID)
			require.NoError(t, err)
		}
	}
	for i := range 30 {
		cu, err := db.Client.Customer.Create().SetBankID(c.bankA).SetLegalName(fmt.Sprintf("Customer %02d", i)).
			SetLabels([]string{"vip"}).Save(ctx)
		require.NoError(t, err)
		c.customers = append(c.customers, cu.ID)
		for _, code := range []string{"WALLET", "BALANCE_ACCOUNT"} {
			_, err := db.Client.Product.Create().SetCustomerID(cu.ID).SetProductCode(product.ProductCode(code)).Save(ctx)
			require.NoError(t, err)
		}
	}
	auth, err := authn.New(ctx, db.Client, authn.Config{Hub: db.Hub, PublicURL: publicURL})
	require.NoError(t, err)
	c.h = server.New(db, statements, server.Config{
		GraphQL:   graph.Options{Limits: graph.DefaultLimits},
		Logger:    slog.New(slog.DiscardHandler),
		Auth:      auth,
		RateLimit: ratelimit.Concurrency(ratelimit.ConcurrencyConfig{PerCaller: perCaller, Total: 64}),
	})
	srv := httptest.NewServer(c.h)
	t.Cleanup(srv.Close)
	c.env = &env{srv: srv, db: db, statements: statements}
	c.tokA = c.token(t, "partner-a", partnerSecret)
	c.tokB = c.token(t, "partner-b", partnerSecret)
	return c
}

// work is what one request cost.
type work struct {
	sql     int64  // SQL statements
	alloc   uint64 // bytes allocated while it was handled
	answer  int    // bytes answered
	status  int
	body    []byte
	stmts   []string
	headers http.Header
}

// measure sends one request to the router in process (no other request
// runs meanwhile) and counts what it cost.
func (c *costEnv) measure(t *testing.T, tok string, body []byte) work {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	n, before := c.sql.len(), c.statements.Load()
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	c.h.ServeHTTP(rec, req)
	runtime.ReadMemStats(&m1)
	return work{
		sql: c.statements.Load() - before, alloc: m1.TotalAlloc - m0.TotalAlloc,
		answer: rec.Body.Len(), status: rec.Code, body: rec.Body.Bytes(), stmts: c.sql.since(n), headers: rec.Header(),
	}
}

func body(t *testing.T, query string, vars map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(params{Query: query, Variables: vars})
	require.NoError(t, err)
	return b
}

// refusal asserts that w is the refusal of a request by a limit: 200 as
// application/json (400 as application/graphql-response+json; 401 without
// credentials), one GraphQL error with the code, no data, no
// SQL, and at most maxAlloc bytes allocated.
func (w work) refusal(t *testing.T, status int, code string, maxAlloc uint64) gqlError {
	t.Helper()
	require.Equal(t, status, w.status, "%.500s", w.body)
	require.Equal(t, "application/json", strings.Split(w.headers.Get("Content-Type"), ";")[0])
	r := reply{status: w.status, header: w.headers, body: w.body}
	e := r.onlyError(t, code)
	require.Empty(t, dataSQL(w.stmts), "a refused request reads no data")
	require.LessOrEqual(t, w.alloc, maxAlloc, "bytes allocated to refuse it")
	return e
}

const kib = 1 << 10

// linear is the allocation ceiling of refusing the request b before its
// document is validated: proportional to its size (decoding the JSON body,
// where a nested object of 7 bytes becomes a map of several hundred;
// lexing at most MaxTokens tokens, parsing and measuring a document within
// them), far below what validating or running it would cost.
func linear(b []byte) uint64 { return uint64(80*len(b)) + 512*kib }

// validated is the allocation ceiling of refusing the request b after its
// document was validated: linear, plus validating a document within the
// limits.
func validated(b []byte) uint64 { return linear(b) + 2048*kib }

func TestCostRefusals(t *testing.T) {
	c := newCostEnv(t)
	repeat := func(s string, n int) string { return strings.Repeat(s, n) }

	t.Run("10,000 fields, without credentials: refused before parsing", func(t *testing.T) {
		b := body(t, "{"+repeat(" __typename", 10_000)+" }", nil)
		// The guard parses at most MaxTokens tokens to see whether the
		// document asks for introspection only; this one asks for more.
		c.measure(t, "", b).refusal(t, http.StatusUnauthorized, "UNAUTHENTICATED", linear(b))
	})
	t.Run("10,000 fields: refused before parsing", func(t *testing.T) {
		b := body(t, "{"+repeat(" __typename", 10_000)+" }", nil)
		c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "TOO_MANY_TOKENS", linear(b))
	})
	t.Run("a megabyte of fields: refused before parsing", func(t *testing.T) {
		b := body(t, "{"+repeat(" __typename", 95_000)+" }", nil)
		c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "TOO_MANY_TOKENS", linear(b))
	})
	t.Run("one field repeated 1,500 times: refused before validation", func(t *testing.T) {
		q := "{ customers(first: 1) { edges { node {" + repeat(" legalName", 1500) + " } } } }"
		b := body(t, q, nil)
		c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "FIELD_REPEATED", linear(b))
	})
	t.Run("1,290 fields through a fragment spread 30 times: refused before validation", func(t *testing.T) {
		fields := " id createdAt updatedAt bankID customerNumber legalName firstName lastName company email" +
			" mobilePhoneNumber dateOfBirth kycStatus lastOkDate branchID entityID entityType customerStatus customerType labels"
		q := "{"
		for i := range 30 {
			q += fmt.Sprintf(" a%d: customers(first: 1) { edges { node { ...C } } }", i)
		}
		q += " } fragment C on Customer {" + fields + fields + " }"
		q = strings.Replace(q, "labels id", "labels i: id", 1) // distinct keys only
		b := body(t, q, nil)
		e := c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "TOO_MANY_FIELDS", linear(b))
		require.Contains(t, e.Message, "1000")
	})
	t.Run("one field repeated 51 times: refused before validation", func(t *testing.T) {
		q := "{ customers(first: 1) { edges { node {" + repeat(" legalName", 51) + " } } } }"
		e := c.measure(t, c.tokA, body(t, q, nil)).refusal(t, http.StatusOK, "FIELD_REPEATED", 256*kib)
		require.Contains(t, e.Message, "customers.edges.node.legalName")
	})
	// What Relay and Apollo send: each component's fragment on the same
	// node selects __typename and id again. Twenty of them are accepted.
	t.Run("twenty fragments on one node, each with __typename and id: accepted", func(t *testing.T) {
		q := "{ customers(first: 1) { edges { node {"
		frags := ""
		for i := range 20 {
			q += fmt.Sprintf(" ...F%d", i)
			frags += fmt.Sprintf(" fragment F%d on Customer { __typename id legalName }", i)
		}
		w := c.measure(t, c.tokA, body(t, q+" } } } }"+frags, nil))
		require.Equal(t, http.StatusOK, w.status, "%.500s", w.body)
		require.NotContains(t, string(w.body), `"errors"`)
	})
	// The worst the bound accepts: 19 keys each answered by MaxRepeats
	// fields (950, within MaxFields). Validation compares each key's fields
	// pairwise (19 × 50 × 49 / 2 comparisons): parsing, validating and
	// answering it allocates about 5 MB, under a ceiling of 8 MiB.
	t.Run("19 keys repeated MaxRepeats times: accepted, bounded work", func(t *testing.T) {
		q := "{ customers(first: 1) { edges { node {"
		for _, f := range strings.Fields("id createdAt updatedAt bankID customerNumber legalName firstName lastName company email " +
			"mobilePhoneNumber dateOfBirth kycStatus lastOkDate branchID entityID entityType customerStatus customerType") {
			q += repeat(" "+f, graph.DefaultLimits.MaxRepeats)
		}
		w := c.measure(t, c.tokA, body(t, q+" } } } }", nil))
		require.Equal(t, http.StatusOK, w.status, "%.500s", w.body)
		require.NotContains(t, string(w.body), `"errors"`)
		t.Logf("bytes allocated: %d", w.alloc)
		require.LessOrEqual(t, w.alloc, uint64(8<<20), "bytes allocated")
	})
	t.Run("a field repeated through fragments", func(t *testing.T) {
		q := "{ ...F ...G } fragment F on Query { viewer { ...H } } fragment G on Query { viewer { ...H ...H } } " +
			"fragment H on Viewer {" + repeat(" name", 17) + " }" // 3 × 17 = 51
		c.measure(t, c.tokA, body(t, q, nil)).refusal(t, http.StatusOK, "FIELD_REPEATED", 256*kib)
	})
	t.Run("fragments that expand exponentially", func(t *testing.T) {
		q := "{ ...F0 }"
		for i := range 20 {
			q += fmt.Sprintf(" fragment F%d on Query { x%d: viewer { name } ...F%d ...F%d }", i, i, i+1, i+1)
		}
		q += " fragment F20 on Query { __typename }"
		c.measure(t, c.tokA, body(t, q, nil)).refusal(t, http.StatusOK, "FIELD_REPEATED", 256*kib)
	})
	t.Run("a refused document is refused again: refusals are not cached", func(t *testing.T) {
		b := body(t, "{ viewer {"+repeat(" name", 51)+" } }", nil)
		for range 2 {
			c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "FIELD_REPEATED", linear(b))
		}
	})
	t.Run("a cached document's variables are measured on every request", func(t *testing.T) {
		q := `query($w: CustomerWhereInput) { customers(where: $w) { totalCount } }`
		w := c.measure(t, c.tokA, body(t, q, map[string]any{"w": map[string]any{"legalName": "x"}}))
		require.Equal(t, http.StatusOK, w.status, "%s", w.body) // parsed, validated, cached
		or := make([]any, 100)
		for i := range or {
			or[i] = map[string]any{}
		}
		b := body(t, q, map[string]any{"w": map[string]any{"or": or}})
		c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "VARIABLES_TOO_LARGE", linear(b))
	})
	t.Run("1,000 unknown directives: refused before parsing", func(t *testing.T) {
		q := "{ __typename"
		for i := range 1000 {
			q += fmt.Sprintf(" @d%d", i)
		}
		b := body(t, q+" }", nil)
		c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "TOO_MANY_TOKENS", linear(b))
	})
	t.Run("900 unknown directives: at most 20 errors in a bounded answer", func(t *testing.T) {
		q := "{ __typename"
		for i := range 900 { // 1,800 tokens: within the limit
			q += fmt.Sprintf(" @d%d", i)
		}
		w := c.measure(t, c.tokA, body(t, q+" }", nil))
		require.Equal(t, http.StatusOK, w.status, "%.300s", w.body) // a validation error (GraphQL over HTTP)
		g := reply{status: w.status, header: w.headers, body: w.body}.gql(t)
		require.Len(t, g.Errors, 21)
		require.Equal(t, "TOO_MANY_ERRORS", g.Errors[20].Extensions["code"])
		require.Contains(t, g.Errors[20].Message, "880 more errors")
		require.Zero(t, w.sql)
		require.LessOrEqual(t, w.answer, 21*1100)
	})
	t.Run("an error quoting a very long name is cut", func(t *testing.T) {
		w := c.measure(t, c.tokA, body(t, "{ "+repeat("x", 100_000)+" }", nil))
		g := reply{status: w.status, header: w.headers, body: w.body}.gql(t)
		require.Len(t, g.Errors, 1)
		require.LessOrEqual(t, len(g.Errors[0].Message), 1000+len("…"))
		require.LessOrEqual(t, w.answer, 2*kib)
	})

	// Filters.
	// nest nests inner depth levels deep in has…With, starting from
	// customers: customers → products → customers …
	nest := func(depth int, inner string) string {
		w := inner
		for i := range depth {
			if (depth-1-i)%2 == 0 {
				w = "{hasProductsWith: [" + w + "]}"
			} else {
				w = "{hasCustomerWith: [" + w + "]}"
			}
		}
		return w
	}
	t.Run("hasProductsWith/hasCustomerWith four deep", func(t *testing.T) {
		q := `{ customers(first: 5, where: ` + nest(4, `{legalNameContains: "a"}`) + `) { totalCount edges { node { id } } } }`
		e := c.measure(t, c.tokA, body(t, q, nil)).refusal(t, http.StatusOK, "FILTER_TOO_COMPLEX", 256*kib)
		require.Contains(t, e.Message, "cost 1405")
		require.Contains(t, e.Message, "customers")
	})
	t.Run("has…With five deep", func(t *testing.T) {
		q := `{ customers(first: 5, where: ` + nest(5, `{status: ACTIVE}`) + `) { totalCount } }`
		c.measure(t, c.tokA, body(t, q, nil)).refusal(t, http.StatusOK, "FILTER_TOO_DEEP", 256*kib)
	})
	t.Run("an or of 10,000 searches, in a variable: refused before coercion", func(t *testing.T) {
		or := make([]any, 10_000)
		for i := range or {
			or[i] = map[string]any{"search": fmt.Sprintf("term %d", i)}
		}
		q := `query($w: CustomerWhereInput) { customers(where: $w) { totalCount } }`
		b := body(t, q, map[string]any{"w": map[string]any{"or": or}})
		c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "VARIABLES_TOO_LARGE", linear(b))
	})
	t.Run("an or of 300 searches", func(t *testing.T) {
		q := `{ customers(where: {or: [` + repeat(`{search: "a"} `, 300) + `]}) { totalCount } }`
		b := body(t, q, nil)
		e := c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "FILTER_TOO_COMPLEX", validated(b))
		require.Contains(t, e.Message, "cost 1800, customers the most: 1800")
	})
	t.Run("an or of 6 searches, in a variable", func(t *testing.T) {
		or := make([]any, 6)
		for i := range or {
			or[i] = map[string]any{"search": fmt.Sprintf("term %d", i)}
		}
		q := `query($w: CustomerWhereInput) { customers(where: $w) { totalCount } }`
		b := body(t, q, map[string]any{"w": map[string]any{"or": or}})
		c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "FILTER_TOO_COMPLEX", validated(b))
	})
	t.Run("not nested 5,000 deep, in a variable: refused before coercion", func(t *testing.T) {
		var w any = map[string]any{"legalName": "x"}
		for range 5000 {
			w = map[string]any{"not": w}
		}
		q := `query($w: CustomerWhereInput) { customers(where: $w) { totalCount } }`
		b := body(t, q, map[string]any{"w": w})
		c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "VARIABLES_TOO_LARGE", linear(b))
	})
	t.Run("not nested 20 deep, in a variable", func(t *testing.T) {
		var w any = map[string]any{"legalName": "x"}
		for range 20 {
			w = map[string]any{"not": w}
		}
		q := `query($w: CustomerWhereInput) { customers(where: $w) { totalCount } }`
		b := body(t, q, map[string]any{"w": w})
		c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "FILTER_TOO_DEEP", linear(b))
	})
	t.Run("not nested 300 deep, in the document", func(t *testing.T) {
		q := `{ customers(where: ` + repeat("{not: ", 300) + `{legalName: "x"}` + repeat("}", 300) + `) { totalCount } }`
		b := body(t, q, nil)
		c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "VALUE_TOO_DEEP", linear(b))
	})
	t.Run("not nested 5 deep, in the document", func(t *testing.T) {
		q := `{ customers(where: ` + repeat("{not: ", 5) + `{legalName: "x"}` + repeat("}", 5) + `) { totalCount } }`
		b := body(t, q, nil)
		e := c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "FILTER_TOO_DEEP", validated(b))
		require.Contains(t, e.Message, "customers")
	})
	t.Run("orderBy with 100 terms", func(t *testing.T) {
		q := `{ customers(orderBy: [` + repeat(`{field: LEGAL_NAME}`, 100) + `]) { totalCount } }`
		c.measure(t, c.tokA, body(t, q, nil)).refusal(t, http.StatusOK, "FILTER_TOO_COMPLEX", 1024*kib)
	})
	for _, tc := range []struct{ name, where, field string }{
		{"a NUL in hasLabel", `{hasLabel: "vip\u0000"}`, "hasLabel"},
		{"a NUL in hasAnyLabel", `{hasAnyLabel: ["a", "v\u0000"]}`, "hasAnyLabel"},
		{"a NUL in search", `{search: "\u0000"}`, "search"},
		{"a NUL in legalNameContains", `{legalNameContains: "a\u0000b"}`, "legalNameContains"},
		{"a NUL in a nested filter", `{hasProductsWith: [{ibanHasPrefix: "\u0000"}]}`, "ibanHasPrefix"},
		{"a NUL in a list", `{customerNumberIn: ["1", "\u0000"]}`, "customerNumberIn"},
		{"a 60,000-character search", `{search: "` + repeat("é", 60_000) + `"}`, "search"},
		{"a 4,097-character legalName", `{legalName: "` + repeat("a", 4097) + `"}`, "legalName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := `{ customers(where: ` + tc.where + `) { totalCount } }`
			b := body(t, q, nil)
			e := c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "BAD_USER_INPUT", linear(b))
			require.Equal(t, tc.field, e.Extensions["field"])
			require.True(t, strings.HasPrefix(e.Message, tc.field+": "), e.Message)
			// The same in a variable.
			var w map[string]any
			require.NoError(t, json.Unmarshal([]byte(jsonWhere(tc.where)), &w), tc.where)
			q = `query($w: CustomerWhereInput) { customers(where: $w) { totalCount } }`
			b = body(t, q, map[string]any{"w": w})
			e = c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "BAD_USER_INPUT", linear(b))
			require.Equal(t, tc.field, e.Extensions["field"])
		})
	}
	t.Run("label filters: the REST families share the check", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/roles/customers?labels=vip%00", nil)
		req.Header.Set("Authorization", "Bearer "+c.tokA)
		rec := httptest.NewRecorder()
		before := c.statements.Load()
		c.h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusBadRequest, rec.Code, "%s", rec.Body)
		require.Contains(t, rec.Body.String(), "NUL")
		require.Equal(t, before, c.statements.Load())
	})

	// nodes(ids:) is priced per id.
	t.Run("30 aliases of nodes(ids: 100) with nested pages", func(t *testing.T) {
		ids := make([]string, 100)
		for i := range ids {
			ids[i] = c.customers[i%len(c.customers)].String()
		}
		q := "query($ids: [ID!]!) {"
		for i := range 30 {
			q += fmt.Sprintf(" n%d: nodes(ids: $ids) { ... on Customer { id products(first: 100) { edges { node { id iban } } } } }", i)
		}
		b := body(t, q+" }", map[string]any{"ids": ids})
		e := c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "COMPLEXITY_LIMIT_EXCEEDED", 1024*kib)
		require.Contains(t, e.Message, "n0")
	})
	t.Run("nodes with 101 ids", func(t *testing.T) {
		ids := make([]string, 101)
		for i := range ids {
			ids[i] = uuid.NewString()
		}
		b := body(t, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids})
		e := c.measure(t, c.tokA, b).refusal(t, http.StatusOK, "BAD_USER_INPUT", 1024*kib)
		require.Equal(t, "ids", e.Extensions["field"])
	})
}

// dataSQL leaves out of stmts those that load the caller (its client and
// entitlements), which authentication runs whenever its cache does not
// hold the caller.
func dataSQL(stmts []string) []string {
	var out []string
	for _, s := range stmts {
		if !strings.Contains(s, "api_clients") && !strings.Contains(s, "entitlements") {
			out = append(out, s)
		}
	}
	return out
}

// jsonWhere turns a GraphQL object literal of the tests into JSON.
func jsonWhere(s string) string {
	var b strings.Builder
	inString := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' && (i == 0 || s[i-1] != '\\'):
			inString = !inString
			b.WriteByte(ch)
		case !inString && (ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z'):
			j := i
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			b.WriteString(`"` + s[i:j] + `"`)
			i = j - 1
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// TestCostAccepted: the largest requests each limit accepts run, and what
// they cost is bounded (statements, subqueries, answer size).
func TestCostAccepted(t *testing.T) {
	c := newCostEnv(t)
	t.Run("ten repeats, a thousand fields", func(t *testing.T) {
		q := "{ viewer {" + strings.Repeat(" name", 10) + " }" + strings.Repeat(" __typename", 10) + " }"
		w := c.measure(t, c.tokA, body(t, q, nil))
		require.Equal(t, http.StatusOK, w.status, "%s", w.body)
		require.JSONEq(t, `{"data":{"viewer":{"name":"partner-a"},"__typename":"Query"}}`, string(w.body))
	})
	t.Run("a filter at its budget", func(t *testing.T) {
		// A traversal with a traversal inside it: 5 × (1 + 5) = 30.
		q := `{ customers(first: 5, where: {hasProductsWith: [{hasCustomer: true}]}) { totalCount edges { node { id } } } }`
		w := c.measure(t, c.tokA, body(t, q, nil))
		require.Equal(t, http.StatusOK, w.status, "%s", w.body)
		require.Contains(t, string(w.body), `"totalCount":30`)
		// Its work: one COUNT and one page, each with the subqueries the
		// filter asks for and no more: its two traversals, and the read
		// rule of the products it reaches (the partner may read the
		// customers and products of its bank: ent/template/readable.tmpl).
		stmts := dataSQL(w.stmts)
		require.Len(t, stmts, 2, "%q", stmts)
		for _, s := range stmts {
			require.Equal(t, 3, strings.Count(strings.ToUpper(s), "EXISTS"), s)
		}
		// Two traversals with a predicate: 55, refused.
		q = `{ customers(first: 5, where: {hasProductsWith: [{hasCustomerWith: [{legalNameContains: "Customer 0"}]}]}) { totalCount } }`
		e := c.measure(t, c.tokA, body(t, q, nil)).refusal(t, http.StatusOK, "FILTER_TOO_COMPLEX", validated(body(t, q, nil)))
		require.Contains(t, e.Message, "cost 55")
	})
	t.Run("nodes(ids:) within the complexity", func(t *testing.T) {
		ids := make([]string, 30)
		for i := range ids {
			ids[i] = c.customers[i].String()
		}
		q := `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Customer { id products(first: 10) { edges { node { id } } } } } }`
		w := c.measure(t, c.tokA, body(t, q, map[string]any{"ids": ids}))
		require.Equal(t, http.StatusOK, w.status, "%s", w.body)
		require.Equal(t, 60, strings.Count(string(w.body), `"node":{"id"`))
		require.LessOrEqual(t, len(dataSQL(w.stmts)), 3, "%q", w.stmts)
	})
	t.Run("an empty page costs one row", func(t *testing.T) {
		// first: 0 reads one row for its pageInfo and answers no edge; it
		// was charged as the default page of 20 (complexity 54,910: refused).
		q := `{ banks(first: 3) { edges { node { customers(first: 100) { edges { node {
			products(first: 0) { pageInfo { hasNextPage } edges { node { id productCode status currency iban } } } } } } } } } }`
		w := c.measure(t, c.tokA, body(t, q, nil))
		require.Equal(t, http.StatusOK, w.status, "%s", w.body)
		require.NotContains(t, string(w.body), `"errors"`)
		require.Contains(t, string(w.body), `"products":{"pageInfo":{"hasNextPage":true},"edges":[]}`)
	})
	t.Run("node(id:) reads its nested page with a plain limit", func(t *testing.T) {
		// One record: its products need no limit per parent row (ROW_NUMBER
		// over a window), which costs PostgreSQL 3× a LIMIT.
		q := `query($id: ID!) { node(id: $id) { ... on Customer { id products(first: 1) { edges { node { id } } } } } }`
		w := c.measure(t, c.tokA, body(t, q, map[string]any{"id": c.customers[0]}))
		require.Equal(t, http.StatusOK, w.status, "%s", w.body)
		require.Equal(t, 2, strings.Count(string(w.body), `"node":{"id"`), "%s", w.body) // the customer and one product
		stmts := dataSQL(w.stmts)
		require.Len(t, stmts, 2, "%q", stmts)
		for _, s := range stmts {
			require.NotContains(t, strings.ToUpper(s), "ROW_NUMBER", s)
			require.Contains(t, strings.ToUpper(s), "LIMIT", s)
		}
	})
}

// TestFlood: while one bank's partner floods the server with the most
// expensive requests the limits accept, many at once, another bank's
// partner's reads and writes still succeed. The flood is held to
// perCaller requests in flight (the others get 429 with Retry-After).
func TestFlood(t *testing.T) {
	c := newCostEnv(t)
	// The most expensive accepted request of the flooder's kind: every
	// customer with all its products, a filter at its budget, under the
	// complexity limit.
	flood := body(t, `{
		a: customers(first: 100, where: {or: [{search: "Customer"}, {search: "0"}, {search: "1"}, {search: "2"}, {search: "3"}]}) {
			totalCount edges { node { id legalName labels products(first: 50) { totalCount edges { node { id productCode status } } } } } }
		b: customers(first: 100) { edges { node { id legalName products(first: 20) { edges { node { id productCode } } } } } }
	}`, nil)
	w := c.measure(t, c.tokA, flood)
	require.Equal(t, http.StatusOK, w.status, "%s", w.body)
	require.NotContains(t, string(w.body), `"errors"`, "%.300s", w.body)

	const flooders = 12
	var (
		stop              atomic.Bool
		wg                sync.WaitGroup
		ok, limited, fail atomic.Int64
	)
	for range flooders {
		wg.Go(func() {
			for !stop.Load() {
				req, _ := http.NewRequest(http.MethodPost, c.url("/query"), bytes.NewReader(flood))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+c.tokA)
				resp, err := c.srv.Client().Do(req)
				if err != nil {
					fail.Add(1)
					continue
				}
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusTooManyRequests:
					if resp.Header.Get("Retry-After") == "" {
						fail.Add(1)
					}
					limited.Add(1)
				default:
					fail.Add(1)
				}
				resp.Body.Close()
			}
		})
	}
	// The other bank's partner, meanwhile: reads and writes, one at a time.
	for i := range 20 {
		r := c.as(t, "Bearer "+c.tokB, fmt.Sprintf(
			`mutation { createCustomer(input: {bankID: "%s", legalName: "B %d"}) { id } }`, c.bankB, i))
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.Empty(t, r.gql(t).Errors, "%s", r.body)
		r = c.as(t, "Bearer "+c.tokB, `{ customers(first: 100) { totalCount edges { node { legalName } } } }`)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		require.Empty(t, r.gql(t).Errors, "%s", r.body)
		require.Contains(t, string(r.body), fmt.Sprintf(`"totalCount":%d`, i+1))
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("flood: %d answered, %d refused with 429", ok.Load(), limited.Load())
	require.Zero(t, fail.Load(), "every flood request is answered 200 or 429")
	require.Positive(t, ok.Load())
}

// TestSecurityHeaders: every door's answers carry the headers that keep a
// browser from sniffing, framing or caching them.
func TestSecurityHeaders(t *testing.T) {
	c := newCostEnv(t)
	post := func(path, ct, b string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(b))
		r.Header.Set("Content-Type", ct)
		return r
	}
	authed := func(r *http.Request) *http.Request {
		r.Header.Set("Authorization", "Bearer "+c.tokA)
		return r
	}
	for name, req := range map[string]*http.Request{
		"GraphQL":                 authed(post("/query", "application/json", `{"query":"{ viewer { name } }"}`)),
		"GraphQL, a refusal":      authed(post("/query", "application/json", `{"query":"{ viewer {`+strings.Repeat(" name", 11)+` } }"}`)),
		"GraphQL, no credentials": post("/query", "application/json", `{"query":"{ viewer { name } }"}`),
		"REST":                    authed(httptest.NewRequest(http.MethodGet, "/roles/customers", nil)),
		"REST, an error":          authed(httptest.NewRequest(http.MethodGet, "/products/nope", nil)),
		"token endpoint":          post("/oauth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials"),
		"DirectLogin":             post("/my/logins/direct", "application/json", ""),
		"JWKS":                    httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil),
		"discovery":               httptest.NewRequest(http.MethodGet, "/.well-known/openid-configuration", nil),
		"schema":                  httptest.NewRequest(http.MethodGet, "/schema.graphql", nil),
		"OpenAPI":                 httptest.NewRequest(http.MethodGet, "/openapi.json", nil),
		"probe":                   httptest.NewRequest(http.MethodGet, "/healthz", nil),
		"not found":               httptest.NewRequest(http.MethodGet, "/nope", nil),
	} {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c.h.ServeHTTP(rec, req)
			h := rec.Header()
			require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
			require.Equal(t, "DENY", h.Get("X-Frame-Options"))
			require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
			require.Equal(t, "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'", h.Get("Content-Security-Policy"))
			switch name {
			case "JWKS", "discovery":
				require.Equal(t, "public, max-age=300", h.Get("Cache-Control"))
			case "schema":
				require.Equal(t, "no-cache", h.Get("Cache-Control"))
			default:
				require.Equal(t, "no-store", h.Get("Cache-Control"))
			}
		})
	}
	t.Run("GraphiQL keeps its own policy, which forbids framing too", func(t *testing.T) {
		rec := httptest.NewRecorder()
		c.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		csp := rec.Header().Get("Content-Security-Policy")
		require.Contains(t, csp, "script-src 'self'")
		require.Contains(t, csp, "frame-ancestors 'none'")
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
		require.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
	})
}
