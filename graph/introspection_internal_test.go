package graph

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
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
