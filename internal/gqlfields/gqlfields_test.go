package gqlfields

import (
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

var schema = gqlparser.MustLoadSchema(&ast.Source{Input: `
type Query { node(id: ID!): Node  customers: [Customer!]! }
interface Node { id: ID! }
type Customer implements Node { id: ID! name: String  products: [Product!]! }
type Product implements Node { id: ID! code: String }
`})

func parse(t *testing.T, q string) *ast.QueryDocument {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(schema, q)
	require.Empty(t, errs)
	return doc
}

// names lists the aliases of fields with their selections' aliases.
func names(fields []graphql.CollectedField) []string {
	var out []string
	for _, f := range fields {
		out = append(out, f.Alias)
		for _, s := range f.Selections {
			if sf, ok := s.(*ast.Field); ok {
				out = append(out, f.Alias+"."+sf.Alias)
			}
		}
	}
	return out
}

func TestSharedDocumentCollectsOnce(t *testing.T) {
	doc := parse(t, `query($id: ID!) { node(id: $id) { id ... on Customer { name products { id code } } ...p } }
		fragment p on Product { code }`)
	Share(doc)
	m := For(doc)
	require.NotNil(t, m, "a document without directives is shared")
	node := doc.Operations[0].SelectionSet[0].(*ast.Field)
	customer := []string{"Customer", "Node"}

	var first []graphql.CollectedField
	for i := range 3 { // three requests of the document, with their own variables
		oc := &graphql.OperationContext{Doc: doc, Variables: map[string]any{"id": i}}
		got := Collect(oc, node.SelectionSet, customer)
		require.Equal(t, names(graphql.CollectFields(oc, node.SelectionSet, customer)), names(got), "what gqlgen collects")
		require.Subset(t, names(got), []string{"id", "name", "products", "products.id", "products.code"})
		if first == nil {
			first = got
		}
		require.Same(t, &first[0], &got[0], "collected once, then shared")
		// Another type list is another entry: a product sees the fragment's field.
		require.Equal(t, []string{"id", "code"}, names(Collect(oc, node.SelectionSet, []string{"Product", "Node"})))
		require.Equal(t, []string{"id"}, names(Collect(oc, node.SelectionSet, nil)[:1]))
	}
	require.Equal(t, 3, m.Len(), "one entry per selection set and type list, whatever the requests")
}

func TestDirectivesAreNotShared(t *testing.T) {
	for _, q := range []string{
		`query($v: Boolean!) { customers { id name @include(if: $v) } }`,
		`query($v: Boolean!) { customers { id ... on Customer @skip(if: $v) { name } } }`,
		`query($v: Boolean!) { customers { id ...f @include(if: $v) } } fragment f on Customer { name }`,
		`query($v: Boolean!) { customers { id products { id code @skip(if: $v) } } }`,
	} {
		doc := parse(t, q)
		Share(doc)
		require.Nil(t, For(doc), "%s: its fields depend on the variables", q)
		sel := doc.Operations[0].SelectionSet
		with := deep(&graphql.OperationContext{Doc: doc, Variables: map[string]any{"v": true}}, sel)
		without := deep(&graphql.OperationContext{Doc: doc, Variables: map[string]any{"v": false}}, sel)
		require.NotEqual(t, with, without, "%s: each request collects with its variables", q)
	}
}

// deep lists every alias sel collects, depth first, collecting through
// Collect at every level.
func deep(oc *graphql.OperationContext, sel ast.SelectionSet) []string {
	var out []string
	for _, f := range Collect(oc, sel, []string{"Customer", "Node"}) {
		out = append(out, f.Alias)
		out = append(out, deep(oc, f.Selections)...)
	}
	return out
}

func TestMemoIsBounded(t *testing.T) {
	doc := parse(t, `{ customers { id name } }`)
	Share(doc)
	m := For(doc)
	oc := &graphql.OperationContext{Doc: doc}
	sel := doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet
	for i := range MaxEntries + 10 {
		// Selection sets a caller built itself (a new array each time):
		// kept up to the bound, then collected without keeping.
		own := append(ast.SelectionSet(nil), sel...)
		require.Equal(t, []string{"id", "name"}, names(m.Collect(oc, own, nil)), "call %d", i)
	}
	require.Equal(t, MaxEntries, m.Len())
}

func TestMemoGoesWithItsDocument(t *testing.T) {
	w := func() weak.Pointer[ast.QueryDocument] {
		doc := parse(t, `{ customers { id } }`)
		Share(doc)
		require.NotNil(t, For(doc))
		require.True(t, held(weak.Make(doc)))
		return weak.Make(doc)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		if !held(w) {
			break
		}
		require.True(t, time.Now().Before(deadline), "the memo of a collected document is dropped")
		time.Sleep(10 * time.Millisecond)
	}
	require.Nil(t, w.Value())
}

// held reports whether the shared documents hold the one of w.
func held(w weak.Pointer[ast.QueryDocument]) bool {
	found := false
	docs.Range(func(_, v any) bool {
		found = v.(shared).doc == w
		return !found
	})
	return found
}
