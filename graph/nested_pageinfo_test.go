package graph_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/product"
	"custgraph/internal/access"
	"custgraph/internal/gqlfields"
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
	e.seedWallets(b, 2, 3)
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
		{"first: 0", "pageInfo { hasNextPage hasPreviousPage }", pageInfo{HasNextPage: true}, 2},
		{"last: 0", "edges { node { id } } pageInfo { hasNextPage hasPreviousPage }", pageInfo{HasPreviousPage: true}, 2},
		{"first: 0", "totalCount pageInfo { hasNextPage hasPreviousPage }", pageInfo{HasNextPage: true}, 3},
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
		{"first: 0", pageInfo{HasNextPage: true}}, // more than none (one row is read)
		{"last: 0", pageInfo{HasPreviousPage: true}},
	} {
		var r struct{ Customers struct{ PageInfo pageInfo } }
		q := `{ customers(` + c.page + `) { pageInfo { hasNextPage hasPreviousPage } } }`
		e.do(q, &r)
		require.Equal(t, c.want, r.Customers.PageInfo, q)
		require.EqualValues(t, 1, e.sql(), "statements: %s", q)
	}
}

// TestNestedEmptyPages: an empty page (first: 0 or last: 0) says whether
// its window holds any row, nested as at the root: entgql read no rows
// for it and answered hasNextPage (hasPreviousPage) false. Every window
// of a customer's products, through the batched load of a list of
// customers and through node's load of one, in one statement per level.
func TestNestedEmptyPages(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	id := e.seedWallets(b, 1, 3)[0]
	var all struct {
		Node struct {
			Products struct{ Edges []struct{ Cursor string } }
		}
	}
	e.do(`query($id: ID!) { node(id: $id) { ... on Customer { products { edges { cursor } } } } }`, &all, "id", id)
	require.Len(t, all.Node.Products.Edges, 3)
	cursors := []*string{nil}
	for i := range all.Node.Products.Edges {
		cursors = append(cursors, &all.Node.Products.Edges[i].Cursor)
	}
	type pageInfo struct{ HasNextPage, HasPreviousPage bool }
	const selection = `products(first: $first, last: $last, after: $after, before: $before) { pageInfo { hasNextPage hasPreviousPage } }`
	for ai, after := range cursors {
		for bi, before := range cursors {
			// The rows between the cursors (cursor i is row i-1's; 0: none).
			from, to := 0, 3
			if ai > 0 {
				from = ai
			}
			if bi > 0 {
				to = bi - 1
			}
			rows := max(0, to-from)
			for _, first := range []bool{true, false} {
				want := pageInfo{HasNextPage: rows > 0, HasPreviousPage: after != nil}
				var fv, lv any = 0, nil
				if !first {
					want = pageInfo{HasNextPage: before != nil, HasPreviousPage: rows > 0}
					fv, lv = nil, 0
				}
				args := []any{"id", id, "first", fv, "last", lv, "after", after, "before", before}
				var list struct {
					Customers struct {
						Edges []struct {
							Node struct{ Products struct{ PageInfo pageInfo } }
						}
					}
				}
				q := `query($id: ID!, $first: Int, $last: Int, $after: Cursor, $before: Cursor) {
					customers(first: 1, where: {id: $id}) { edges { node { ` + selection + ` } } } }`
				e.do(q, &list, args...)
				require.Len(t, list.Customers.Edges, 1)
				require.Equal(t, want, list.Customers.Edges[0].Node.Products.PageInfo, "list: after %d before %d first %v", ai, bi, first)
				require.EqualValues(t, 2, e.sql(), "statements: list: after %d before %d", ai, bi)

				var one struct {
					Node struct{ Products struct{ PageInfo pageInfo } }
				}
				q = `query($id: ID!, $first: Int, $last: Int, $after: Cursor, $before: Cursor) {
					node(id: $id) { ... on Customer { ` + selection + ` } } }`
				e.do(q, &one, args...)
				require.Equal(t, want, one.Node.Products.PageInfo, "node: after %d before %d first %v", ai, bi, first)
				require.EqualValues(t, 2, e.sql(), "statements: node: after %d before %d", ai, bi)
			}
		}
	}
}

// TestEmptyPagesLoadNothingBelowTheirEdges: an empty page answers no edge,
// so it reads a row only for its pageInfo, and nothing below its edges'
// node: no statement for a nested connection there, and no refusal for a
// caller who may not read what lies below (a caller holding
// CanGetCustomer alone got FORBIDDEN "missing role: CanGetCustomerProduct"
// for `customers(first: 0) { edges { node { products { … } } } }`, about a
// row it would never see).
func TestEmptyPagesLoadNothingBelowTheirEdges(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	e.seedWallets(b, 3, 3)
	products := `products(first: 50) { totalCount edges { node { id customer { id } } } }`
	for _, c := range []struct {
		query string
		sql   int64
	}{
		{`{ customers(first: 0) { edges { cursor } } }`, 0},
		{`{ customers(first: 0) { edges { node { id ` + products + ` } } } }`, 0},
		{`{ customers(first: 0) { totalCount } }`, 1},
		{`{ customers(first: 0) { pageInfo { hasNextPage } } }`, 1},
		{`{ customers(first: 0) { pageInfo { hasNextPage } edges { node { id ` + products + ` } } } }`, 1},
		{`{ customers(first: 0) { totalCount pageInfo { hasNextPage } } }`, 2},
		{`{ banks(first: 5) { edges { node { customers(first: 0) { edges { node { id ` + products + ` } } } } } } }`, 1},
		{`{ banks(first: 5) { edges { node { customers(first: 0) { pageInfo { hasNextPage } edges { node { id ` + products + ` } } } } } } }`, 2},
		{`{ customers(first: 5) { edges { node { products(first: 0) { edges { node { id customer { id } } } } } } } }`, 1},
		{`{ customers(first: 5) { edges { node { products(last: 0) { pageInfo { hasPreviousPage } edges { node { id customer { id } } } } } } } }`, 2},
	} {
		var out struct {
			Customers *struct {
				Edges []struct {
					Node struct {
						Products *struct{ Edges []any }
					}
				}
			}
		}
		e.do(c.query, &out)
		require.Equal(t, c.sql, e.sql(), "statements: %s", c.query)
		if out.Customers != nil {
			for _, edge := range out.Customers.Edges {
				if edge.Node.Products != nil {
					require.Empty(t, edge.Node.Products.Edges, c.query)
				}
			}
		}
	}

	// A caller who may read customers but not their products.
	x := newACEnv(t)
	bank := x.c.Bank.Create().SetCode("gh.31.uk").SetName("B").SaveX(x.sys)
	cust := x.c.Customer.Create().SetBankID(bank.ID).SetLegalName("C").SaveX(x.sys)
	x.c.Product.Create().SetCustomerID(cust.ID).SetProductCode(product.ProductCodeWALLET).SaveX(x.sys)
	v := acClient("customers-only", nil, acAt(bank.ID, access.CanGetCustomer))
	for q, want := range map[string]string{
		`{ customers(first: 0) { edges { node { id products { edges { node { id } } } } } } }`:                                         `{"data":{"customers":{"edges":[]}}}`,
		`{ customers(first: 0) { pageInfo { hasNextPage } edges { node { id products { edges { node { id } } } } } } }`:                `{"data":{"customers":{"pageInfo":{"hasNextPage":true},"edges":[]}}}`,
		`{ banks { edges { node { customers(first: 0) { pageInfo { hasNextPage } edges { node { products { totalCount } } } } } } } }`: `{"data":{"banks":{"edges":[{"node":{"customers":{"pageInfo":{"hasNextPage":true},"edges":[]}}}]}}}`,
	} {
		r := x.post(t, v, q, nil)
		require.JSONEq(t, want, r.Body, q)
	}
}

// TestNullNestedWhere: a nested connection's where may be null, inline or
// in a variable, as GraphQL allows for an optional input: it filters
// nothing (entgql handed the null to gqlgen's unmarshaler, which panicked,
// and the query answered INTERNAL with data null).
func TestNullNestedWhere(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	e.seedWallets(b, 2, 2)
	type page struct {
		Customers struct {
			Edges []struct {
				Node struct{ Products struct{ TotalCount int } }
			}
		}
	}
	for _, c := range []struct {
		query string
		kv    []any
	}{
		{`{ customers(first: 2) { edges { node { products(first: 1, where: null) { totalCount } } } } }`, nil},
		{`query($w: ProductWhereInput) { customers(first: 2) { edges { node { products(first: 1, where: $w) { totalCount } } } } }`, []any{"w", nil}},
		{`query($w: ProductWhereInput) { customers(first: 2) { edges { node { products(first: 1, where: $w) { totalCount } } } } }`, nil},
	} {
		var r page
		e.do(c.query, &r, c.kv...)
		require.Len(t, r.Customers.Edges, 2, c.query)
		for _, edge := range r.Customers.Edges {
			require.Equal(t, 2, edge.Node.Products.TotalCount, c.query)
		}
	}
}

// TestAliasedConnectionFields: a connection's edges, node, pageInfo and
// totalCount under an alias answer as they do without one (entgql looked
// them up by alias, so `e: edges { node { id } }` loaded no rows and
// answered [] with no error), and two aliases of one field both answer.
func TestAliasedConnectionFields(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	e.seedWallets(b, 3, 2)
	var plain, aliased any
	e.do(`{ customers(first: 2) { totalCount pageInfo { hasNextPage } edges { cursor node { id legalName products(first: 1) { totalCount pageInfo { hasNextPage } edges { node { id productCode } } } } } } }`, &plain)
	plainSQL := e.sql()
	e.do(`{ customers(first: 2) { totalCount pageInfo { hasNextPage } edges { cursor node { id legalName products(first: 1) { totalCount pageInfo { hasNextPage } edges { node { id productCode } } } } } } }`, &aliased)
	require.Equal(t, plain, aliased)
	var r struct {
		Customers struct {
			N    int
			Info struct{ HasNextPage bool }
			E    []struct {
				N struct {
					ID, LegalName string
					P             struct {
						N    int
						Info struct{ HasNextPage bool }
						E    []struct {
							N struct{ ID, ProductCode string }
						}
					}
				}
			}
			Other []struct{ Node struct{ ID string } }
		}
	}
	e.do(`{ customers(first: 2) { n: totalCount info: pageInfo { hasNextPage } e: edges { n: node { id legalName
		p: products(first: 1) { n: totalCount info: pageInfo { hasNextPage } e: edges { n: node { id productCode } } } } }
		other: edges { node { id } } } }`, &r)
	require.Equal(t, 3, r.Customers.N)
	require.True(t, r.Customers.Info.HasNextPage)
	require.Len(t, r.Customers.E, 2)
	require.Len(t, r.Customers.Other, 2)
	for i, edge := range r.Customers.E {
		require.NotEmpty(t, edge.N.ID)
		require.NotEmpty(t, edge.N.LegalName, "a field of the first alias of edges")
		require.Equal(t, edge.N.ID, r.Customers.Other[i].Node.ID)
		require.Equal(t, 2, edge.N.P.N)
		require.True(t, edge.N.P.Info.HasNextPage)
		require.Len(t, edge.N.P.E, 1)
		require.Equal(t, "WALLET", edge.N.P.E[0].N.ProductCode)
	}
	require.Equal(t, plainSQL, e.sql(), "the aliased document costs what the plain one does")

	// Two aliases of edges selecting different fields of node: the rows
	// serve both.
	var two struct {
		Customers struct {
			A []struct{ Node struct{ ID string } }
			B []struct{ Node struct{ LegalName string } }
		}
	}
	e.do(`{ customers(first: 2) { a: edges { node { id } } b: edges { node { legalName } } } }`, &two)
	require.Len(t, two.Customers.A, 2)
	require.Len(t, two.Customers.B, 2)
	for i := range two.Customers.A {
		require.NotEmpty(t, two.Customers.A[i].Node.ID)
		require.NotEmpty(t, two.Customers.B[i].Node.LegalName)
	}
}

// TestAliasesWithDifferentNestedPages: two aliases of edges may ask for
// different pages of one nested connection under one response key (GraphQL
// allows it: they are different paths). ent keeps a nested page's rows
// under its response key alone, so merging them answered one alias with the
// other's rows (b got a: its where ignored, 2 rows for first: 3). They are
// then read by each field's resolver, and each answers as it would alone;
// aliases that agree are loaded together, and repeating either document
// keeps nothing more in the shared field memo.
func TestAliasesWithDifferentNestedPages(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	sys := access.System(context.Background())
	for _, id := range e.seedCustomers(b, 2, nil) {
		e.client.Product.Create().SetCustomerID(id).SetProductCode(product.ProductCodeWALLET).SaveX(sys)
		e.client.Product.Create().SetCustomerID(id).SetProductCode(product.ProductCodeBALANCE_ACCOUNT).SaveX(sys)
		e.client.Product.Create().SetCustomerID(id).SetProductCode(product.ProductCodeBALANCE_ACCOUNT).SaveX(sys)
	}
	const pa = `products(first: 1) { totalCount pageInfo { hasNextPage } edges { node { productCode } } }`
	const pb = `products(first: 3, where: {productCode: WALLET}) { totalCount pageInfo { hasNextPage } edges { node { productCode } } }`
	alone := func(p string) any {
		var r struct {
			Customers struct {
				Edges []struct{ Node struct{ Products any } }
			}
		}
		e.do(`{ customers(first: 2) { edges { node { `+p+` } } } }`, &r)
		return r.Customers.Edges
	}
	wantA, wantB := alone(pa), alone(pb)
	for _, q := range []string{
		`{ customers(first: 2) { a: edges { node { ` + pa + ` } } b: edges { node { ` + pb + ` } } } }`,
		`{ customers(first: 2) { a: edges { node { ` + pa + ` } } edges { node { ` + pb + ` } } } }`,
		`{ customers(first: 2) { edges { a: node { ` + pa + ` } b: node { ` + pb + ` } } } }`,
	} {
		var r struct {
			Customers struct {
				A, B, Edges []struct{ Node, A, B struct{ Products any } }
			}
		}
		e.do(q, &r)
		var gotA, gotB []struct{ Node struct{ Products any } }
		switch {
		case r.Customers.B != nil: // a: edges, b: edges
			for i := range r.Customers.A {
				gotA = append(gotA, struct{ Node struct{ Products any } }{r.Customers.A[i].Node})
				gotB = append(gotB, struct{ Node struct{ Products any } }{r.Customers.B[i].Node})
			}
		case r.Customers.A != nil: // a: edges, edges
			for i := range r.Customers.A {
				gotA = append(gotA, struct{ Node struct{ Products any } }{r.Customers.A[i].Node})
				gotB = append(gotB, struct{ Node struct{ Products any } }{r.Customers.Edges[i].Node})
			}
		default: // edges { a: node, b: node }
			for _, edge := range r.Customers.Edges {
				gotA = append(gotA, struct{ Node struct{ Products any } }{edge.A})
				gotB = append(gotB, struct{ Node struct{ Products any } }{edge.B})
			}
		}
		ja, _ := json.Marshal(gotA)
		jb, _ := json.Marshal(gotB)
		wa, _ := json.Marshal(wantA)
		wb, _ := json.Marshal(wantB)
		require.JSONEq(t, string(wa), string(ja), q)
		require.JSONEq(t, string(wb), string(jb), q)

		kept := gqlfields.Kept()
		for range 5 {
			e.do(q, &r)
		}
		require.LessOrEqual(t, gqlfields.Kept(), kept, "repeating %s keeps nothing more", q)
	}

	// Aliases that agree are loaded together, in the statements of one.
	var r any
	e.do(`{ customers(first: 2) { edges { node { id legalName `+pa+` } } } }`, &r)
	one := e.sql()
	q := `{ customers(first: 2) { a: edges { node { id ` + pa + ` } } b: edges { node { legalName ` + pa + ` } } } }`
	e.do(q, &r)
	require.Equal(t, one, e.sql(), "statements: %s", q)
	kept := gqlfields.Kept()
	for range 5 {
		e.do(q, &r)
	}
	require.LessOrEqual(t, gqlfields.Kept(), kept, "repeating %s keeps nothing more", q)
}

// seedWallets seeds n customers at b with each WALLET products apiece, and
// returns the customers' ids.
func (e *env) seedWallets(b *ent.Bank, n, each int) []uuid.UUID {
	e.t.Helper()
	ids := e.seedCustomers(b, n, nil)
	for _, id := range ids {
		for range each {
			e.client.Product.Create().SetCustomerID(id).SetProductCode(product.ProductCodeWALLET).SaveX(access.System(context.Background()))
		}
	}
	return ids
}
