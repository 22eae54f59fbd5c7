package graph_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
)

// TestEdgeFiltersSeeWhatTheCallerMayRead checks that a where input's edge
// filter (hasProductsWith, hasProducts, hasCustomerWith, …) tests only the
// records at the other end of the edge that the caller may read: it is a
// subquery no read rule saw, and a caller allowed to read customers but
// not products counted customers by their products' IBANs, character by
// character (ent/template/readable.tmpl).
func TestEdgeFiltersSeeWhatTheCallerMayRead(t *testing.T) {
	x := newACEnv(t)
	w := x.seedWorld(t)
	a, b := w.A.Bank.ID, w.B.Bank.ID
	// Each bank: customers 0 and 1 hold a product, customer 0 an address
	// in <Name>ville; every customer's legal name begins with the bank's name.
	count := func(t *testing.T, v *access.Viewer, list, where string) int {
		t.Helper()
		var out struct{ TotalCount int }
		acDecode(t, x.ok(t, v, fmt.Sprintf(`{ %s(where: %s) { totalCount } }`, list, where), nil)[list], &out)
		return out.TotalCount
	}
	withProducts := `{hasProductsWith: [{productCode: BALANCE_ACCOUNT}]}`

	t.Run("customers by their products, without the product role", func(t *testing.T) {
		v := acClient("customers-only", nil, acAt(a, access.CanGetCustomer))
		require.Equal(t, 0, count(t, v, "customers", withProducts))
		require.Equal(t, 0, count(t, v, "customers", `{hasProducts: true}`))
		require.Equal(t, 3, count(t, v, "customers", `{hasProducts: false}`), "no product it may read")
		require.Equal(t, 0, count(t, v, "customers", `{hasAddressesWith: [{city: "Alphaville"}]}`))
		require.Equal(t, 0, count(t, v, "customers", `{hasTaxResidencesWith: [{taxNumber: "alpha-tax"}]}`))
		require.Equal(t, 0, count(t, v, "customers", `{hasMessagesWith: [{messageContains: "Hello"}]}`))
		require.Equal(t, 3, count(t, v, "customers", `{hasBankWith: [{code: "bank.alpha"}]}`), "banks are public")
	})
	t.Run("customers by their products, with the product role", func(t *testing.T) {
		v := acClient("both", nil, acAt(a, access.CanGetCustomer, access.CanGetCustomerProduct, access.CanGetCustomerAddress))
		require.Equal(t, 2, count(t, v, "customers", withProducts))
		require.Equal(t, 2, count(t, v, "customers", `{hasProducts: true}`))
		require.Equal(t, 1, count(t, v, "customers", `{hasProducts: false}`))
		require.Equal(t, 1, count(t, v, "customers", `{hasAddressesWith: [{city: "Alphaville"}]}`))
	})
	t.Run("the product role at one of the customers' banks", func(t *testing.T) {
		v := acClient("split", nil, acAt(a, access.CanGetCustomer), acAt(b, access.CanGetCustomer, access.CanGetCustomerProduct))
		var out struct {
			Edges []struct{ Node struct{ ID string } }
		}
		acDecode(t, x.ok(t, v, `{ customers(where: `+withProducts+`) { edges { node { id } } } }`, nil)["customers"], &out)
		var got []string
		for _, e := range out.Edges {
			got = append(got, e.Node.ID)
		}
		require.ElementsMatch(t, []string{w.B.Customers[0].String(), w.B.Customers[1].String()}, got)
	})
	t.Run("products by their customer, without the customer role", func(t *testing.T) {
		v := acClient("products-only", nil, acAt(a, access.CanGetCustomerProduct))
		require.Equal(t, 2, count(t, v, "products", `{}`))
		require.Equal(t, 0, count(t, v, "products", `{hasCustomerWith: [{legalNameHasPrefix: "Alpha"}]}`))
		require.Equal(t, 0, count(t, v, "products", `{hasCustomer: true}`))
	})
	t.Run("products by their customer, with the customer role", func(t *testing.T) {
		v := acClient("both-again", nil, acAt(a, access.CanGetCustomer, access.CanGetCustomerProduct))
		require.Equal(t, 2, count(t, v, "products", `{hasCustomerWith: [{legalNameHasPrefix: "Alpha"}]}`))
	})
	// Nested pages are read by other code paths (eager loading, a page per
	// parent, node): each builds its statement with the request's viewer.
	t.Run("nested and by node", func(t *testing.T) {
		v := acClient("nested", nil, acAt(a, access.CanGetCustomer, access.CanGetCustomerProduct))
		nested := `products(where: {hasCustomerWith: [{legalNameHasPrefix: "Alpha"}]}) { totalCount edges { node { id } } }`
		d := x.ok(t, v, `{ customers(where: {legalName: "Alpha Customer 0"}) { edges { node { `+nested+` } } } }`, nil)
		require.Contains(t, string(d["customers"]), w.A.Products[0].String())
		require.Contains(t, string(d["customers"]), `"totalCount":1`)
		// The same page with the last: (a window per parent) and by node.
		d = x.ok(t, v, `{ customers { edges { node { products(last: 1, where: {hasCustomerWith: [{legalNameHasPrefix: "Alpha"}]}) { edges { node { id } } } } } } }`, nil)
		require.Contains(t, string(d["customers"]), w.A.Products[0].String())
		require.Contains(t, string(d["customers"]), w.A.Products[1].String())
		d = x.ok(t, v, `query($id: ID!) { node(id: $id) { ... on Customer { `+nested+` } } }`, map[string]any{"id": w.A.Customers[0]})
		require.Contains(t, string(d["node"]), w.A.Products[0].String())
		// A mutation's answer reads its nested pages by a query from the
		// record (Customer.QueryProducts): its statement carries the
		// request too (the filter matched nothing there, its negation all).
		m := acClient("updater", nil, acAt(a, access.CanGetCustomer, access.CanGetCustomerProduct, access.CanUpdateCustomer))
		d = x.ok(t, m, `mutation($id: ID!) { updateCustomer(id: $id, input: {email: "c0@example.com"}) {
			t: products(where: {hasCustomer: true}) { totalCount edges { node { id } } }
			f: products(where: {hasCustomer: false}) { totalCount edges { node { id } } } } }`, map[string]any{"id": w.A.Customers[0]})
		require.JSONEq(t, `{"t": {"totalCount": 1, "edges": [{"node": {"id": "`+w.A.Products[0].String()+`"}}]}, "f": {"totalCount": 0, "edges": []}}`,
			string(d["updateCustomer"]))
		// Without the customer role at the other end, nothing matches.
		u := acClient("nested-products-only", nil, acAt(a, access.CanGetCustomerProduct))
		require.Equal(t, 0, count(t, u, "products", `{hasCustomerWith: [{legalNameHasPrefix: "Alpha"}]}`))
	})
}

// TestNodeRefusesWhatItsSelectionMayNotRead: node and nodes answer a record
// the caller may not read as an unknown id, but a record it may read whose
// selection asks for what it may not (a customer's products without the
// product role) as the lists answer it: FORBIDDEN naming the role, not
// "no node with id".
func TestNodeRefusesWhatItsSelectionMayNotRead(t *testing.T) {
	x := newACEnv(t)
	w := x.seedWorld(t)
	a := w.A.Bank.ID
	id := map[string]any{"id": w.A.Customers[0]}
	v := acClient("customers-only", nil, acAt(a, access.CanGetCustomer))
	for _, q := range []string{
		`query($id: ID!) { node(id: $id) { ... on Customer { legalName products { totalCount } } } }`,
		`query($id: ID!) { node(id: $id) { id ... on Customer { products { edges { node { id } } } } } }`, // (no type first: the lookup)
		`query($id: ID!) { nodes(ids: [$id]) { ... on Customer { legalName products { totalCount } } } }`,
		`{ customers { edges { node { legalName products { totalCount } } } } }`,
	} {
		requireForbidden(t, x.refused(t, v, q, id), "", access.CanGetCustomerProduct)
	}
	// The customer alone is read; a caller that may read no customer gets
	// an unknown id (and nodes a null), whatever it selects under it.
	require.Contains(t, string(x.ok(t, v, `query($id: ID!) { node(id: $id) { ... on Customer { legalName } } }`, id)["node"]), "Alpha Customer 0")
	u := acClient("products-only", nil, acAt(a, access.CanGetCustomerProduct))
	requireNotFound(t, x.refused(t, u, `query($id: ID!) { node(id: $id) { ... on Customer { legalName products { totalCount } } } }`, id))
	require.JSONEq(t, `[null]`, string(x.ok(t, u, `query($id: ID!) { nodes(ids: [$id]) { ... on Customer { legalName } } }`, id)["nodes"]))
}
