package graph

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"custgraph/internal/access"
	"custgraph/internal/testdb"
)

// TestIntrospectionCountIsExact checks the counter against gqlgen's own
// answer: the values it counts for a query are the values of the answer
// (every member of every object, a list of scalars or a null counting one).
func TestIntrospectionCountIsExact(t *testing.T) {
	es := NewExecutableSchema(Config{})
	srv := handler.New(es)
	srv.AddTransport(transport.POST{})
	srv.Use(extension.Introspection{})
	c := client.New(srv)
	counter, err := newIntrospectionCounter(es.Schema())
	require.NoError(t, err)
	t.Logf("a full introspection of the schema answers %d values; the budget is %d", counter.full, counter.budget)

	for name, q := range map[string]string{
		"full":                          introspection.Query,
		"one type":                      `{ __type(name: "CustomerWhereInput") { name inputFields { name type { kind ofType { name } } } } }`,
		"unknown type":                  `{ __type(name: "Nope") { name } }`,
		"without deprecated":            `{ __schema { types { name fields { name } enumValues { name } } } }`,
		"interfaces and possible types": `{ __schema { types { interfaces { name } possibleTypes { name fields { name } } } directives { name args { name } locations } } }`,
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := c.RawPost(q)
			require.NoError(t, err)
			require.Empty(t, string(resp.Errors))
			data, err := json.Marshal(resp.Data)
			require.NoError(t, err)
			var v map[string]any
			require.NoError(t, json.Unmarshal(data, &v))

			doc, errs := gqlparser.LoadQuery(es.Schema(), q)
			require.Empty(t, errs)
			n := counter.start(nil)
			w := walker{doc: doc, intro: n}
			w.selections(doc.Operations[0].SelectionSet, 1, 1, "")
			require.Equal(t, jsonValues(v), n.n)
			if name == "full" {
				require.Equal(t, counter.full, n.n)
			}
		})
	}
}

// jsonValues counts the members of an answer the way the counter does.
func jsonValues(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for _, m := range v {
			n += 1 + below(m)
		}
	}
	return n
}

func below(v any) int {
	switch v := v.(type) {
	case map[string]any:
		return jsonValues(v)
	case []any:
		n := 0
		for _, e := range v {
			n += below(e)
		}
		return n
	}
	return 0
}

// spreadFanOut is a document of fragments F0 … F<depth>, each spreading the
// next fanOut times, the last selecting __typename: walked spread by
// spread, fanOut^depth fragments.
func spreadFanOut(fanOut, depth int) string {
	var b strings.Builder
	b.WriteString("{ ...F0 }")
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, " fragment F%d on Query {%s }", i, strings.Repeat(fmt.Sprintf(" ...F%d", i+1), fanOut))
	}
	fmt.Fprintf(&b, " fragment F%d on Query { __typename }", depth)
	return b.String()
}

// TestMetaWalkLooksAtEachFragmentOnce: the check of a document sent without
// credentials (does it ask for meta fields only?) looks at each fragment
// once, however often it is spread. It walked every spread: 3^9 spreads
// here, and a 1 KB document of 12^9 held a CPU until the process ended.
func TestMetaWalkLooksAtEachFragmentOnce(t *testing.T) {
	doc, err := parser.ParseQuery(&ast.Source{Input: spreadFanOut(3, 9)})
	require.NoError(t, err)
	m := metaWalk{frags: doc.Fragments, seen: map[string]bool{}}
	require.True(t, m.only(doc.Operations[0].SelectionSet))
	require.Equal(t, 10, m.walks, "fragments looked at")

	for _, tc := range []struct {
		query string
		meta  bool
	}{
		{spreadFanOut(12, 9), true},
		{`{ ...A } fragment A on Query { ...B __typename } fragment B on Query { ...A }`, false}, // a cycle
		{`{ ...A ...B } fragment A on Query { __typename } fragment B on Query { ...A customers { totalCount } }`, false},
		{`{ ...Missing }`, false},
		{`{ __schema { queryType { name } } ... on Query { ...A } } fragment A on Query { __type(name: "Bank") { name } }`, true},
	} {
		require.Equal(t, tc.meta, introspectionOnly(tc.query, 2000), tc.query)
	}
}

// TestSpreadFanOutWithoutCredentials sends that 1 KB document (each
// fragment spread twelve times, nine deep) as a stranger: it is answered at
// once, refused by the limits that bound every document.
func TestSpreadFanOutWithoutCredentials(t *testing.T) {
	db, _ := testdb.Open(t)
	h := NewHandler(db.Client, db.Dialect, Options{Limits: DefaultLimits})
	body, err := json.Marshal(map[string]any{"query": spreadFanOut(12, 9)})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), `"code":"FIELD_REPEATED"`, rec.Body.String())
}

// TestPersistedQueriesAreTheCallersOwn: a query registered by automatic
// persisted queries runs by its hash for the caller that sent it, and
// another caller is told PERSISTED_QUERY_NOT_FOUND: one shared cache told a
// partner whether another caller, of another bank, had sent a given text.
func TestPersistedQueriesAreTheCallersOwn(t *testing.T) {
	db, _ := testdb.Open(t)
	h := NewHandler(db.Client, db.Dialect, Options{Limits: DefaultLimits})
	const q = `{ __typename }`
	sum := sha256.Sum256([]byte(q))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	post := func(v *access.Viewer, params map[string]any) string {
		body, err := json.Marshal(params)
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(access.NewContext(req.Context(), v)))
		return rec.Body.String()
	}
	one := &access.Viewer{Kind: access.KindClient, ID: uuid.New(), Name: "one"}
	other := &access.Viewer{Kind: access.KindClient, ID: uuid.New(), Name: "other"}
	require.JSONEq(t, `{"data":{"__typename":"Query"}}`, post(one, map[string]any{"query": q, "extensions": ext}))
	require.JSONEq(t, `{"data":{"__typename":"Query"}}`, post(one, map[string]any{"extensions": ext}))
	require.Contains(t, post(other, map[string]any{"extensions": ext}), "PERSISTED_QUERY_NOT_FOUND")
}
