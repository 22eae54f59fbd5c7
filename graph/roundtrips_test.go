package graph_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/ent/product"
	"custgraph/internal/access"
	"custgraph/internal/testdb"
)

// TestRoundTripsPerLevel: the statements of the peer benchmark's
// operations (bench/peer) and the round trips they take. On PostgreSQL a
// page's totalCount travels with its rows, a level's nested connections
// with one another (internal/entbatch), and a node's nested connections
// with the node itself; on SQLite each statement is a round trip of its
// own. The statements are the same on both.
func TestRoundTripsPerLevel(t *testing.T) {
	e := newEnv(t)
	sys := access.System(context.Background())
	b := e.seedBank("gh.29.uk")
	ids := e.seedCustomers(b, 3, nil)
	for _, id := range ids {
		e.client.Product.Create().SetCustomerID(id).SetProductCode(product.ProductCodeBALANCE_ACCOUNT).SaveX(sys)
		e.client.Address.Create().SetCustomerID(id).SetCity("London").SetCountryCode("GB").SaveX(sys)
	}
	pg := testdb.Name() == "postgres"
	trips := func(sqlite, postgres int64) int64 {
		if pg {
			return postgres
		}
		return sqlite
	}
	cases := []struct {
		name       string
		query      string
		vars       []any
		statements int64
		roundTrips int64
	}{
		{"Q1: a page, its totalCount, products and addresses", `{ customers(first: 2) { totalCount edges { node { id
			products { edges { node { id } } } addresses { edges { node { id } } } } } } }`, nil, 4, trips(4, 2)},
		{"Q2: a node and its products", `query($id: ID!) { node(id: $id) { ... on Customer { id
			products { edges { node { id } } } } } }`, []any{"id", ids[1].String()}, 2, trips(2, 1)},
		{"Q3: a page after a cursor, products and addresses", `query($after: Cursor) { customers(first: 2, after: $after) {
			edges { node { id products { edges { node { id } } } addresses { edges { node { id } } } } } } }`, []any{"after", nil}, 3, trips(3, 2)},
		{"a node with its bank and products: the bank waits for the node", `query($id: ID!) { node(id: $id) { ... on Customer { id
			bank { id } products { edges { node { id } } } } } }`, []any{"id", ids[1].String()}, 3, trips(3, 2)},
	}
	for _, c := range cases {
		var out map[string]any
		e.do(c.query, &out, c.vars...)
		require.Equal(t, [2]int64{c.statements, c.roundTrips}, [2]int64{e.sql(), e.roundTrips()}, "%s: statements, round trips", c.name)
	}
}
