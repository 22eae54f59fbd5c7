package graph_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/stretchr/testify/require"

	"custgraph/graph"
	"custgraph/internal/access"
	"custgraph/internal/gqlfields"
)

// The requests of one cached document share its collected fields
// (internal/gqlfields): the answers are each request's own, and repeating
// the document keeps nothing more.
func TestRequestsShareADocumentsFields(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	cust := e.seedCustomers(b, 2, nil)
	const q = `query($id: ID!) { node(id: $id) { id ... on Customer { legalName products(first: 5) { edges { node { id } } totalCount } } } }`
	type answer struct {
		Node struct {
			ID        string
			LegalName string
			Products  struct {
				Edges      []struct{ Node struct{ ID string } }
				TotalCount int
			}
		}
	}
	var first answer
	e.do(q, &first, "id", cust[0])
	require.Equal(t, cust[0].String(), first.Node.ID)
	kept := gqlfields.Kept()
	require.Positive(t, kept, "the document is shared")
	for i := range 6 {
		var r answer
		e.do(q, &r, "id", cust[i%2])
		require.Equal(t, cust[i%2].String(), r.Node.ID, "each request answers for its own variables")
		require.NotEmpty(t, r.Node.LegalName)
	}
	require.LessOrEqual(t, gqlfields.Kept(), kept, "requests of a shared document add no entries")

	// At once, on a handler of their own (the env's counts one request at a
	// time): each answer is still its own request's (go test -race checks
	// that nothing the requests share is written).
	h := graph.NewHandler(e.db.Client, e.db.Dialect, graph.Options{Limits: graph.DefaultLimits})
	c := client.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(access.NewContext(r.Context(), e.viewer)))
	}))
	errs := make(chan error, 16*8)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 8 {
				id := cust[(i+j)%2]
				var r answer
				if err := c.Post(q, &r, client.Var("id", id)); err != nil {
					errs <- err
				} else if r.Node.ID != id.String() || r.Node.LegalName == "" {
					errs <- fmt.Errorf("asked for %s, got %+v", id, r.Node)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	// Fields under @include/@skip follow each request's variables.
	const cond = `query($id: ID!, $v: Boolean!) { node(id: $id) { id ... on Customer { legalName @include(if: $v) products @skip(if: $v) { totalCount } } } }`
	for _, v := range []bool{true, false, true, false} {
		var r struct {
			Node map[string]any
		}
		e.do(cond, &r, "id", cust[0], "v", v)
		_, hasName := r.Node["legalName"]
		_, hasProducts := r.Node["products"]
		require.Equal(t, v, hasName, "@include(if: %v)", v)
		require.Equal(t, !v, hasProducts, "@skip(if: %v)", v)
	}
}
