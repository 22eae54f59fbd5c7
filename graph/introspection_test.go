package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/stretchr/testify/require"

	"custgraph/graph"
	"custgraph/internal/testdb"
)

// anonymousPost sends query (and variables) to a GraphQL handler with the
// default limits, as a caller without credentials, the way GraphiQL and
// codegen tools introspect; it returns the status and the decoded body.
func anonymousPost(t *testing.T, h http.Handler, query string, vars map[string]any) (int, gqlBody) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var b gqlBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b), rec.Body.String())
	b.raw = rec.Body.String()
	return rec.Code, b
}

type gqlBody struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []gqlError                 `json:"errors"`
	raw    string
}

func defaultHandler(t *testing.T) http.Handler {
	db, _ := testdb.Open(t)
	return graph.NewHandler(db.Client, db.Dialect, graph.Options{Limits: graph.DefaultLimits})
}

// TestToolsIntrospectionQueries sends, without credentials and under the
// default limits, the introspection queries real tools send:
// graphql-js 16's getIntrospectionQuery() with every option on (what
// graphql-codegen, get-graphql-schema or graphql-inspector can ask for),
// GraphiQL 4.1.2's own (graphql 16.11.0 with its options) and gqlgen's.
// The files in testdata/introspection were written by the pinned graphql
// package (e2e/node/introspection-query.mjs; e2e checks they still match).
func TestToolsIntrospectionQueries(t *testing.T) {
	h := defaultHandler(t)
	queries := map[string]string{"gqlgen introspection.Query": introspection.Query}
	files, err := filepath.Glob("testdata/introspection/*.graphql")
	require.NoError(t, err)
	require.Len(t, files, 2)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		queries[filepath.Base(f)] = string(b)
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			status, b := anonymousPost(t, h, q, nil)
			require.Equal(t, http.StatusOK, status, b.raw)
			require.Empty(t, b.Errors, b.raw)
			var s struct {
				QueryType    struct{ Name string }
				MutationType struct{ Name string }
				Types        []struct {
					Kind, Name string
					IsOneOf    *bool
					Fields     []struct {
						Name string
						Type struct {
							Kind   string
							OfType *struct{ Kind, Name string }
						}
					}
				}
				Directives []struct{ Name string }
			}
			require.NoError(t, json.Unmarshal(b.Data["__schema"], &s))
			require.Equal(t, "Query", s.QueryType.Name)
			require.Equal(t, "Mutation", s.MutationType.Name)
			found := map[string]bool{}
			for _, typ := range s.Types {
				found[typ.Name] = true
				if typ.Name == "Customer" {
					require.NotEmpty(t, typ.Fields)
				}
				if strings.Contains(q, "isOneOf") {
					require.NotNil(t, typ.IsOneOf, "isOneOf of %s", typ.Name)
				}
			}
			for _, want := range []string{"Customer", "Bank", "CustomerWhereInput", "UUID", "Decimal", "Time", "Cursor", "__Schema"} {
				require.True(t, found[want], "type %s missing", want)
			}
		})
	}
}

// TestIntrospectionBound checks that introspection, free of the depth and
// complexity limits, has a bound of its own: twice a full introspection.
func TestIntrospectionBound(t *testing.T) {
	h := defaultHandler(t)

	t.Run("introspection does not count towards depth or complexity", func(t *testing.T) {
		// The data part alone is within the limits; with the __schema
		// part counted it would be 15 levels deep.
		status, b := anonymousPost(t, h, `{ __typename __schema { types { ...T } } __type(name: "Customer") { fields { type { ...T } } } }
			fragment T on __Type { kind ofType { kind ofType { kind ofType { kind ofType { kind ofType { kind ofType { kind ofType { kind ofType { kind ofType { name } } } } } } } } } }`, nil)
		require.Equal(t, http.StatusOK, status, b.raw)
		require.Empty(t, b.Errors, b.raw)
	})

	full := introspection.Query
	aliased := strings.Replace(full, "__schema {", "a: __schema { queryType { name } } b: __schema { queryType { name } } c: __schema {", 1)
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
	}{
		{"the types three times, aliased", strings.Replace(full, "types {", "a: types { ...FullType } b: types { ...FullType } types {", 1), nil},
		{"the full schema three times", strings.Replace(full, "__schema {", "a: __schema { types { ...FullType } } b: __schema { types { ...FullType } } c: __schema {", 1), nil},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			status, b := anonymousPost(t, h, tc.query, tc.vars)
			require.Equal(t, http.StatusOK, status, b.raw) // a limit's refusal: a request error, 200 as application/json
			require.Len(t, b.Errors, 1, b.raw)
			require.Equal(t, "INTROSPECTION_LIMIT_EXCEEDED", b.Errors[0].Extensions["code"], b.raw)
			require.Nil(t, b.Data, b.raw)
		})
	}

	// A cycle three levels deep (types → fields → type → fields → type →
	// fields) is refused by validation: graphql-js's
	// MaxIntrospectionDepthRule, which gqlparser has too. Two levels pass it
	// and stay within the budget.
	for _, q := range []string{
		aliased,
		`{ __schema { types { fields { type { fields { name description args { name description type { name kind ofType { name kind } } } type { name kind ofType { name kind ofType { name kind } } } } } } } } }`,
	} {
		t.Run("passes: "+q[:40], func(t *testing.T) {
			status, b := anonymousPost(t, h, q, nil)
			require.Equal(t, http.StatusOK, status, b.raw)
			require.Empty(t, b.Errors, b.raw)
		})
	}
	t.Run("refused by validation: a cycle three levels deep", func(t *testing.T) {
		_, b := anonymousPost(t, h, `{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }`, nil)
		require.Len(t, b.Errors, 1, b.raw)
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", b.Errors[0].Extensions["code"], b.raw)
	})

	t.Run("data limits still apply next to introspection", func(t *testing.T) {
		e := newEnv(t)
		deep := "banks { edges { node { customers { edges { node { products { edges { node { customer { bank { customers { edges { node { id"
		errs := e.fail("{ __schema { queryType { name } } " + deep + strings.Repeat(" }", strings.Count(deep, "{")+1))
		require.Equal(t, "QUERY_TOO_DEEP", errs[0].Extensions["code"])
	})
}

// TestIntrospectionAnswersAreKept: the schema does not change while the
// process runs, so the second full introspection of a tool is the first
// answer again, byte for byte, at a fraction of the work (counted in bytes
// allocated; building the answer costs about 12 MB).
func TestIntrospectionAnswersAreKept(t *testing.T) {
	h := defaultHandler(t)
	post := func(file string) string {
		q, err := os.ReadFile("testdata/introspection/" + file)
		require.NoError(t, err)
		body, err := json.Marshal(map[string]any{"query": string(q)})
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), `"__schema"`)
		require.NotContains(t, rec.Body.String(), `"errors"`)
		return rec.Body.String()
	}
	allocated := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	const js, graphiql = "graphql-js-16.11.0-all-options.graphql", "graphiql-4.1.2.graphql"
	var first, second string
	cold := allocated(func() { first = post(js) })
	warm := allocated(func() { second = post(js) })
	require.Equal(t, first, second)
	// (What is left is copying the 780 KB out.)
	require.Less(t, warm*3, cold, "a kept answer costs a third or less (%d against %d bytes)", warm, cold)
	other := allocated(func() { post(graphiql) }) // another tool's query: answered, then kept
	require.Less(t, warm*3, other)
}
