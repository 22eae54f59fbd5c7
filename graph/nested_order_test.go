package graph_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
)

// TestNestedOrderByOneObject: a nested connection's orderBy given as one
// object, inline or in a variable, is a list of one (GraphQL's input
// coercion), and orders the rows as the list form does, cursors included;
// it was ignored, the rows loaded in the default order.
func TestNestedOrderByOneObject(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.seedBank("gh.1.order")
	ids := e.seedCustomers(b, 1, nil)
	ctx := access.System(context.Background())
	for _, city := range []string{"Bergen", "Aachen", "Dundee", "Cork"} { // created in this order
		e.client.Address.Create().SetCustomerID(ids[0]).SetCity(city).ExecX(ctx)
	}
	type page struct {
		Customers struct {
			Edges []struct {
				Node struct {
					Addresses struct {
						PageInfo struct{ EndCursor string }
						Edges    []struct{ Node struct{ City string } }
					}
				}
			}
		}
	}
	cities := func(p page) []string {
		var got []string
		for _, e := range p.Customers.Edges[0].Node.Addresses.Edges {
			got = append(got, e.Node.City)
		}
		return got
	}
	const sel = `{ edges { node { addresses(first: 2, orderBy: %s, after: %s) { pageInfo { endCursor } edges { node { city } } } } } }`
	for _, order := range []string{`{field: CITY, direction: DESC}`, `[{field: CITY, direction: DESC}]`, `$o`} {
		t.Run(order, func(t *testing.T) {
			q := func(after string) string {
				op := "query"
				if order == "$o" {
					op = "query($o: [AddressOrder!])"
				}
				return op + ` { customers(first: 1) ` + fmt.Sprintf(sel, order, after) + ` }`
			}
			vars := []any{}
			if order == "$o" {
				vars = []any{"o", map[string]any{"field": "CITY", "direction": "DESC"}} // one object for the list
			}
			var first, second page
			e.do(q("null"), &first, vars...)
			require.Equal(t, []string{"Dundee", "Cork"}, cities(first))
			e.do(q(`"`+first.Customers.Edges[0].Node.Addresses.PageInfo.EndCursor+`"`), &second, vars...)
			require.Equal(t, []string{"Bergen", "Aachen"}, cities(second), "the next page, from the first's cursor")
		})
	}
}
