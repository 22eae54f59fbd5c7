package graph_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/ent/product"
	"custgraph/internal/access"
)

// TestNestedPageInfo: a connection's pageInfo, nested or at the root, is
// built from its page's rows whether or not its edges or totalCount are
// selected (entgql counted the rows when the edges were not selected, and
// answered hasNextPage: false nested and true at the root whatever the
// page), and costs no COUNT unless totalCount is selected: one statement
// per level.
func TestNestedPageInfo(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	for _, id := range e.seedCustomers(b, 2, nil) {
		for range 3 {
			e.client.Product.Create().SetCustomerID(id).SetProductCode(product.ProductCodeWALLET).SaveX(access.System(context.Background()))
		}
	}
	type pageInfo struct{ HasNextPage, HasPreviousPage bool }
	for _, c := range []struct {
		page, selection string
		want            pageInfo
		sql             int64
	}{
		{"first: 1", "pageInfo { hasNextPage hasPreviousPage }", pageInfo{HasNextPage: true}, 2},
		{"first: 3", "pageInfo { hasNextPage hasPreviousPage }", pageInfo{}, 2},
		{"last: 2", "pageInfo { hasNextPage hasPreviousPage }", pageInfo{HasPreviousPage: true}, 2},
		{"first: 1", "edges { node { id } } pageInfo { hasNextPage hasPreviousPage }", pageInfo{HasNextPage: true}, 2},
		{"first: 1", "totalCount pageInfo { hasNextPage hasPreviousPage }", pageInfo{HasNextPage: true}, 3},
		{"first: 3", "totalCount edges { node { id } } pageInfo { hasNextPage hasPreviousPage }", pageInfo{}, 3},
		{"first: 0", "pageInfo { hasNextPage hasPreviousPage }", pageInfo{}, 2},
		{"last: 0", "edges { node { id } } pageInfo { hasNextPage hasPreviousPage }", pageInfo{}, 2},
	} {
		var r struct {
			Customers struct {
				Edges []struct {
					Node struct {
						Products struct {
							TotalCount *int
							PageInfo   pageInfo
						}
					}
				}
			}
		}
		q := `{ customers(first: 2) { edges { node { products(` + c.page + `) { ` + c.selection + ` } } } } }`
		e.do(q, &r)
		require.Len(t, r.Customers.Edges, 2)
		for _, edge := range r.Customers.Edges {
			got, _ := json.Marshal(edge.Node.Products)
			require.Equal(t, c.want, edge.Node.Products.PageInfo, "%s: %s", q, got)
			if edge.Node.Products.TotalCount != nil {
				require.Equal(t, 3, *edge.Node.Products.TotalCount, q)
			}
		}
		require.Equal(t, c.sql, e.sql(), "statements: %s", q)
	}

	// The same at the root (the customers' own connection): a pageInfo
	// without edges was answered from a count (hasNextPage: true for any
	// non-empty list).
	for _, c := range []struct {
		page string
		want pageInfo
	}{
		{"first: 1", pageInfo{HasNextPage: true}},
		{"first: 2", pageInfo{}},
		{"last: 2", pageInfo{}},
		{"last: 1", pageInfo{HasPreviousPage: true}},
		{"first: 0", pageInfo{HasNextPage: true}}, // more than none (from the count: no rows are read)
	} {
		var r struct{ Customers struct{ PageInfo pageInfo } }
		q := `{ customers(` + c.page + `) { pageInfo { hasNextPage hasPreviousPage } } }`
		e.do(q, &r)
		require.Equal(t, c.want, r.Customers.PageInfo, q)
		require.EqualValues(t, 1, e.sql(), "statements: %s", q)
	}
}
