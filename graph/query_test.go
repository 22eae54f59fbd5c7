package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/customer"
	"custgraph/ent/product"
	"custgraph/graph"
	"custgraph/internal/access"
	"custgraph/internal/testdb"
)

type pageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

type idConn struct {
	TotalCount int
	PageInfo   pageInfo
	Edges      []struct {
		Cursor string
		Node   struct{ ID string }
	}
}

func (c idConn) ids() []uuid.UUID {
	out := make([]uuid.UUID, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = uuid.MustParse(e.Node.ID)
	}
	return out
}

const pageFields = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }`

// walk pages through a connection forward (first/after) and backward
// (last/before) and checks each visits every record once, in order, with a
// constant totalCount.
func walk(t *testing.T, want []uuid.UUID, page int, fetch func(first, last *int, after, before *string) idConn) {
	t.Helper()
	var got []uuid.UUID
	var after *string
	for {
		c := fetch(&page, nil, after, nil)
		require.Equal(t, len(want), c.TotalCount, "totalCount is constant")
		got = append(got, c.ids()...)
		if !c.PageInfo.HasNextPage {
			break
		}
		require.Len(t, c.Edges, page)
		after = c.PageInfo.EndCursor
		require.LessOrEqual(t, len(got), len(want), "paging forward does not end")
	}
	require.Equal(t, want, got, "forward walk visits every record once, in order")

	got = nil
	var before *string
	for {
		c := fetch(nil, &page, nil, before)
		require.Equal(t, len(want), c.TotalCount)
		got = append(c.ids(), got...)
		if !c.PageInfo.HasPreviousPage {
			break
		}
		require.Len(t, c.Edges, page)
		before = c.PageInfo.StartCursor
		require.LessOrEqual(t, len(got), len(want), "paging backward does not end")
	}
	require.Equal(t, want, got, "backward walk visits every record once, in order")
}

func TestCustomersPaginateBothWays(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	want := e.seedCustomers(b, 47, nil)
	walk(t, want, 10, func(first, last *int, after, before *string) idConn {
		var r struct{ Customers idConn }
		e.do(`query($first:Int,$last:Int,$after:Cursor,$before:Cursor){
			customers(first:$first,last:$last,after:$after,before:$before){ `+pageFields+` } }`, &r,
			"first", first, "last", last, "after", after, "before", before)
		return r.Customers
	})
	e.refetchAll(want, "Customer")
}

// refetchAll checks that node refetches every id as the given type.
func (e *env) refetchAll(ids []uuid.UUID, typ string) {
	e.t.Helper()
	for _, id := range ids {
		var r struct {
			Node struct {
				ID       uuid.UUID
				Typename string `json:"__typename"`
			}
		}
		e.do(`query($id:ID!){ node(id:$id){ id __typename } }`, &r, "id", id)
		require.Equal(e.t, id, r.Node.ID)
		require.Equal(e.t, typ, r.Node.Typename)
	}
}

func TestCustomerProductsPaginateBothWays(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	cust := e.seedCustomers(b, 2, nil)
	ctx := access.System(context.Background())
	var want []uuid.UUID
	for i := range 23 {
		codes := productCodes
		p := e.client.Product.Create().SetCustomerID(cust[0]).SetProductCode(codes[i%len(codes)]).SaveX(ctx)
		want = append(want, p.ID)
		e.client.Product.Create().SetCustomerID(cust[1]).SetProductCode(product.ProductCodeWALLET).SaveX(ctx)
	}
	walk(t, want, 5, func(first, last *int, after, before *string) idConn {
		var r struct{ Node struct{ Products idConn } }
		e.do(`query($id:ID!,$first:Int,$last:Int,$after:Cursor,$before:Cursor){
			node(id:$id){ ... on Customer { products(first:$first,last:$last,after:$after,before:$before){ `+pageFields+` } } } }`, &r,
			"id", cust[0], "first", first, "last", last, "after", after, "before", before)
		return r.Node.Products
	})
	e.refetchAll(want, "Product")
}

func TestNodeRefetchesEveryType(t *testing.T) {
	e := newEnv(t)
	ctx := access.System(context.Background())
	b := e.seedBank("gh.29.uk")
	cust := e.seedCustomers(b, 3, nil)
	p := e.client.Product.Create().SetCustomerID(cust[0]).SetProductCode(product.ProductCodeBALANCE_ACCOUNT).SaveX(ctx)
	a := e.client.Address.Create().SetCustomerID(cust[1]).SetCity("Berlin").SaveX(ctx)
	cases := map[uuid.UUID]string{cust[0]: "Customer", cust[2]: "Customer", p.ID: "Product", a.ID: "Address", b.ID: "Bank"}
	for id, typ := range cases {
		var r struct {
			Node struct {
				ID       string
				Typename string `json:"__typename"`
			}
		}
		e.do(`query($id:ID!){ node(id:$id){ id __typename } }`, &r, "id", id)
		require.Equal(t, id.String(), r.Node.ID)
		require.Equal(t, typ, r.Node.Typename)
		require.EqualValues(t, 2, e.sql(), "node: one type lookup, one fetch")
	}

	// A refetch through a fragment on one type reads that type's table
	// first: one statement (plus the nested ones) when the id is of that
	// type; the type lookup only when it is not.
	const refetch = `query($id:ID!){ node(id:$id){ id ... on Customer { legalName products { totalCount } } } }`
	var rc struct {
		Node struct {
			ID        string
			LegalName *string
			Products  *struct{ TotalCount int }
		}
	}
	e.do(refetch, &rc, "id", cust[0])
	require.Equal(t, cust[0].String(), rc.Node.ID)
	require.NotNil(t, rc.Node.Products)
	require.Equal(t, 1, rc.Node.Products.TotalCount)
	require.EqualValues(t, 2, e.sql(), "the customer, its products' count")
	rc.Node.Products, rc.Node.LegalName = nil, nil
	e.do(refetch, &rc, "id", p.ID)
	require.Equal(t, p.ID.String(), rc.Node.ID, "a product through a Customer fragment is still found")
	require.Nil(t, rc.Node.Products)
	require.EqualValues(t, 3, e.sql(), "the guess, the type lookup, the product")
	e.do(`query($id:ID!){ node(id:$id){ ...f } } fragment f on Address { city }`, &rc, "id", a.ID)
	require.EqualValues(t, 1, e.sql(), "named fragments too")

	unknown := uuid.New()
	ids := []uuid.UUID{p.ID, cust[0], unknown, a.ID, cust[2]}
	var r struct{ Nodes []*struct{ ID string } }
	e.do(`query($ids:[ID!]!){ nodes(ids:$ids){ id } }`, &r, "ids", ids)
	require.Len(t, r.Nodes, 5)
	for i, id := range ids {
		if id == unknown {
			require.Nil(t, r.Nodes[i], "unknown id resolves to null in place")
			continue
		}
		require.Equal(t, id.String(), r.Nodes[i].ID, "nodes keeps the order of ids")
	}
	require.EqualValues(t, 1+3, e.sql(), "nodes: one type lookup for all ids, one query per type")

	// Through a fragment on the Node interface, the nested pages are loaded
	// for all the ids at once too.
	var rn struct {
		Nodes []*struct{ Products *struct{ TotalCount int } }
	}
	e.do(`query($ids:[ID!]!){ nodes(ids:$ids){ ...N } } fragment N on Node { ... on Customer { products { totalCount } } }`,
		&rn, "ids", []uuid.UUID{cust[0], cust[1], cust[2]})
	require.Len(t, rn.Nodes, 3)
	require.Equal(t, 1, rn.Nodes[0].Products.TotalCount)
	require.EqualValues(t, 1+1+1, e.sql(), "the type lookup, the customers, one count of their products")

	errs := e.fail(`query($id:ID!){ node(id:$id){ id } }`, "id", unknown)
	require.Equal(t, "NOT_FOUND", errs[0].Extensions["code"])
}

const nestedPage = `query($n:Int!){ customers(first:$n){ totalCount pageInfo{ hasNextPage endCursor }
	edges{ node{ id legalName labels
		products(first:5){ totalCount edges{ node{ id productCode status } } }
		addresses{ totalCount edges{ node{ id city isPrimary } } }
		bank{ code } } } } }`

// TestNoNPlusOne asserts the exact statement count of a nested page query
// and that it does not grow with the page size.
func TestNoNPlusOne(t *testing.T) {
	e := newEnv(t)
	ctx := access.System(context.Background())
	b := e.seedBank("gh.29.uk")
	cust := e.seedCustomers(b, 30, nil)
	for i, id := range cust {
		for j := range i % 7 {
			e.client.Product.Create().SetCustomerID(id).SetProductCode(productCodes[j%4]).SaveX(ctx)
		}
		e.client.Address.Create().SetCustomerID(id).SetCity("Berlin").SetIsPrimary(true).SaveX(ctx)
	}
	counts := map[int]int64{}
	for _, n := range []int{1, 5, 20} {
		var r struct {
			Customers struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						Products struct {
							TotalCount int
							Edges      []struct{ Node struct{ ID string } }
						}
					}
				}
			}
		}
		e.do(nestedPage, &r, "n", n)
		require.Len(t, r.Customers.Edges, n)
		require.Equal(t, 30, r.Customers.TotalCount)
		for i, edge := range r.Customers.Edges {
			require.Equal(t, i%7, edge.Node.Products.TotalCount, "nested totalCount is per customer")
			require.Len(t, edge.Node.Products.Edges, min(i%7, 5))
		}
		counts[n] = e.sql()
	}
	// count + page, products (window) + products count, addresses + addresses count, banks.
	require.EqualValues(t, 7, counts[20], "statements for a page of 20")
	require.Equal(t, counts[1], counts[20], "statement count does not depend on the page size")
	require.Equal(t, counts[5], counts[20])

	// Without totalCount, a page is one statement: hasNextPage comes from
	// fetching first+1 rows, not from counting the list.
	var r struct{ Customers idConn }
	e.do(`{ customers(first: 5) { pageInfo { hasNextPage endCursor } edges { node { id } } } }`, &r)
	require.Len(t, r.Customers.Edges, 5)
	require.True(t, r.Customers.PageInfo.HasNextPage)
	require.EqualValues(t, 1, e.sql())
}

func TestCustomerFilters(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	other := e.seedBank("other.bank")
	labels := [][]string{{"vip", "retail"}, {"retail"}, {"vip"}, nil, {"vip", "retail", "dormant"}}
	ids := e.seedCustomers(b, 5, func(i int, c *ent.CustomerCreate) {
		c.SetLabels(labels[i])
		if i%2 == 0 {
			c.SetCustomerStatus("ACTIVE")
		}
		if i == 3 {
			c.SetLegalName("Eveline Tripman").SetEmail("Felix.Smith@Example.com")
		}
	})
	e.seedCustomers(other, 2, nil)
	query := func(where map[string]any) []uuid.UUID {
		var r struct{ Customers idConn }
		e.do(`query($w:CustomerWhereInput){ customers(where:$w){ `+pageFields+` } }`, &r, "w", where)
		require.Equal(t, len(r.Customers.Edges), r.Customers.TotalCount)
		return r.Customers.ids()
	}
	require.Equal(t, []uuid.UUID{ids[0], ids[2], ids[4]}, query(map[string]any{"hasLabel": "vip"}))
	require.Equal(t, []uuid.UUID{ids[0], ids[4]}, query(map[string]any{"hasAllLabels": []string{"vip", "retail"}}))
	require.Equal(t, []uuid.UUID{ids[0], ids[1], ids[2], ids[4]}, query(map[string]any{"hasAnyLabel": []string{"vip", "retail"}}))
	require.Equal(t, []uuid.UUID{ids[0], ids[2], ids[4]}, query(map[string]any{"customerStatusIn": []string{"ACTIVE", "PENDING"}}))
	require.Equal(t, []uuid.UUID{ids[3]}, query(map[string]any{"search": "TRIPMAN"}))
	require.Equal(t, []uuid.UUID{ids[3]}, query(map[string]any{"emailContainsFold": "felix.smith"}))
	require.Equal(t, []uuid.UUID{ids[3]}, query(map[string]any{"legalNameContainsFold": "eveline"}))
	// The filters without Fold match case as they say, on both databases
	// (SQLite's LIKE ignored ASCII case until case_sensitive_like was set).
	require.Equal(t, []uuid.UUID{ids[3]}, query(map[string]any{"legalNameContains": "Eveline"}))
	for _, f := range []map[string]any{{"legalNameContains": "eveline"}, {"legalNameHasPrefix": "eve"},
		{"legalNameHasSuffix": "TRIPMAN"}, {"emailContains": "felix.smith"}} {
		require.Empty(t, query(f), "%v", f)
	}
	require.Equal(t, []uuid.UUID{ids[3]}, query(map[string]any{"legalNameHasPrefix": "Eve", "legalNameHasSuffix": "Tripman"}))
	require.Equal(t, ids, query(map[string]any{"hasBankWith": []map[string]any{{"code": "gh.29.uk"}}}))
	require.Len(t, query(map[string]any{"createdAtGTE": time.Now().Add(-time.Hour), "createdAtLTE": time.Now().Add(time.Hour)}), 7)
	require.Empty(t, query(map[string]any{"createdAtGT": time.Now().Add(time.Hour)}))
	// An empty list is an empty set: nothing is in it, everything is not,
	// every customer carries all of its labels and none carries one of them.
	// A null list filters nothing.
	for _, f := range []string{"idIn", "customerStatusIn", "bankIDIn", "createdAtIn", "hasAnyLabel"} {
		require.Empty(t, query(map[string]any{f: []string{}}), f)
		require.Equal(t, ids, query(map[string]any{f: nil, "bankID": b.ID}), f)
		require.Equal(t, ids, query(map[string]any{"not": map[string]any{f: []string{}}, "bankID": b.ID}), f)
	}
	// or: [] and has…With: [] hold no condition (entgql skipped them: or:
	// [] matched every customer); and: [] filters nothing, as {} does.
	for _, w := range []string{`{or: []}`, `{hasProductsWith: []}`, `{not: {or: []}}`, `{and: [{or: []}]}`} {
		errs := e.fail(`{ customers(where: ` + w + `) { totalCount } }`)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%s: %+v", w, errs[0])
		require.Contains(t, []any{"or", "hasProductsWith"}, errs[0].Extensions["field"], "%s: %+v", w, errs[0])
	}
	require.Equal(t, ids, query(map[string]any{"and": []any{}, "bankID": b.ID}))
	for _, f := range []string{"idNotIn", "customerStatusNotIn", "hasAllLabels"} {
		require.Equal(t, ids, query(map[string]any{f: []string{}, "bankID": b.ID}), f)
		require.Empty(t, query(map[string]any{"not": map[string]any{f: []string{}}}), f)
	}

	var r struct{ Customers idConn }
	e.do(`{ customers(orderBy:[{field:LEGAL_NAME, direction:DESC}], where:{bankID:"`+b.ID.String()+`"}){ `+pageFields+` } }`, &r)
	// Descending by legal name: "Eveline Tripman", then "Customer 004" … "Customer 000".
	require.Equal(t, []uuid.UUID{ids[3], ids[4], ids[2], ids[1], ids[0]}, r.Customers.ids())
}

func TestPageSizeRules(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	cust := e.seedCustomers(b, 25, nil)
	ctx := access.System(context.Background())
	for range 25 {
		e.client.Product.Create().SetCustomerID(cust[0]).SetProductCode(product.ProductCodeWALLET).SaveX(ctx)
	}
	var r struct {
		Customers struct {
			TotalCount int
			PageInfo   pageInfo
			Edges      []struct{ Node struct{ Products idConn } }
		}
	}
	e.do(`{ customers { totalCount pageInfo{ hasNextPage } edges{ node{ products { `+pageFields+` } } } } }`, &r)
	require.Len(t, r.Customers.Edges, 20, "root lists default to 20")
	require.True(t, r.Customers.PageInfo.HasNextPage)
	require.Equal(t, 25, r.Customers.TotalCount)
	require.Len(t, r.Customers.Edges[0].Node.Products.Edges, 20, "nested connections default to 20")
	require.True(t, r.Customers.Edges[0].Node.Products.PageInfo.HasNextPage)

	for _, q := range []string{
		`{ customers(first: 101) { totalCount } }`,
		`{ customers(last: -1) { totalCount } }`,
		`{ customers(first: 1) { edges { node { products(first: 500) { totalCount } } } } }`,
		// Both ends at once, at the root and nested (nested, entgql's
		// collection refused it from the root's resolver: the whole root
		// null, BAD_REQUEST).
		`{ customers(first: 2, last: 2) { totalCount } }`,
		`{ customers(first: 1) { edges { node { products(first: 2, last: 2) { totalCount } } } } }`,
	} {
		errs := e.fail(q)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], q)
		require.Contains(t, []any{"first", "last"}, errs[0].Extensions["field"], q)
		require.Zero(t, e.sql(), "refused before any SQL: %s", q)
	}
	errs := e.fail(`query($n:Int){ customers(first:$n){ totalCount } }`, "n", 1000)
	require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"])
	var ok struct{ Customers struct{ Edges []any } }
	e.do(`{ customers(first: 100) { edges { node { id } } } }`, &ok)
	require.Len(t, ok.Customers.Edges, 25)
}

var productCodes = []product.ProductCode{
	product.ProductCodeWALLET, product.ProductCodeBALANCE_ACCOUNT,
	product.ProductCodeDEPOSITORY_ACCOUNT, product.ProductCodeCURRENCY_WALLET,
}

func TestOversizedListsAreRefused(t *testing.T) {
	e := newEnv(t)
	ids := make([]uuid.UUID, 101)
	for i := range ids {
		ids[i] = uuid.New()
	}
	errs := e.fail(`query($ids:[ID!]!){ nodes(ids:$ids){ id } }`, "ids", ids)
	require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"])
	require.Equal(t, "ids", errs[0].Extensions["field"])
	labels := make([]string, 17)
	for i := range labels {
		labels[i] = fmt.Sprint("l", i)
	}
	for _, f := range []string{"hasAllLabels", "hasAnyLabel"} {
		errs = e.fail(`query($w:CustomerWhereInput){ customers(where:$w){ totalCount } }`, "w", map[string]any{f: labels})
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], f)
		require.Equal(t, f, errs[0].Extensions["field"])
		require.Zero(t, e.sql())
	}
	// A null page size would mean no LIMIT: refused, not read in full.
	for _, vars := range [][]any{nil, {"n", nil}} {
		errs = e.fail(`query($n:Int){ customers(first:$n){ totalCount } }`, vars...)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"])
		require.Zero(t, e.sql())
	}
	var ok struct{ Customers struct{ TotalCount int } }
	e.do(`query($n:Int = 5){ customers(first:$n){ totalCount } }`, &ok)
}

// TestUnexpectedErrorsAreInternal: a failure that is not the client's
// mistake is INTERNAL with a generic message, whatever the driver said.
func TestUnexpectedErrorsAreInternal(t *testing.T) {
	db, _ := testdb.Open(t)
	h := graph.NewHandler(db.Client, db.Dialect, graph.Options{})
	require.NoError(t, db.Client.Close()) // (on PostgreSQL, database/sql's pool and pgx's)
	e := &env{t: t, client: db.Client, gql: client.New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(access.System(r.Context())))
	}))}
	for _, q := range []string{
		`{ customers(first: 1) { totalCount } }`,
		`mutation { createBank(input: {code: "x", name: "y"}) { id } }`,
	} {
		errs := e.fail(q)
		require.Equal(t, "INTERNAL", errs[0].Extensions["code"], q)
		require.Equal(t, "internal error", errs[0].Message)
	}
}

// TestInputsCannotReattachRecords: no generated input offers edge
// operations (add…IDs, remove…IDs, clear<edge>) that would move records
// between customers or banks from the owner's side.
func TestInputsCannotReattachRecords(t *testing.T) {
	e := newEnv(t)
	var r struct {
		Schema struct {
			Types []struct {
				Name        string
				InputFields []struct{ Name string }
			}
		} `json:"__schema"`
	}
	e.do(`{ __schema { types { name inputFields { name } } } }`, &r)
	checked := 0
	for _, typ := range r.Schema.Types {
		if !strings.HasPrefix(typ.Name, "Create") && !strings.HasPrefix(typ.Name, "Update") {
			continue
		}
		checked++
		for _, f := range typ.InputFields {
			require.False(t, strings.HasSuffix(f.Name, "IDs") && (strings.HasPrefix(f.Name, "add") || strings.HasPrefix(f.Name, "remove")),
				"%s.%s moves records", typ.Name, f.Name)
			for _, edge := range []string{"Products", "Addresses", "Customers", "CrmEvents", "UserLinks", "CustomerLinks", "Messages", "Attributes", "Entitlements"} {
				require.NotEqual(t, "clear"+edge, f.Name, "%s.%s detaches records", typ.Name, f.Name)
			}
		}
	}
	require.Equal(t, 25, checked, "create and update inputs of the 11 customer-graph entities, plus CreateEntitlementInput, CreateAPIClientInput and UpdateAPIClientInput")
}

// TestNestedPagesFilterWithTheirWhere: a `where` on a connection below the
// root (decoded during field collection through gqlgen's map of input
// unmarshalers, which the server builds once) filters that level, for
// every parent, in one statement per level, request after request.
func TestNestedPagesFilterWithTheirWhere(t *testing.T) {
	e := newEnv(t)
	bank := e.seedBank("gh.29.uk")
	cust := e.seedCustomers(bank, 3, nil)
	seedWalletAndAccounts(e, cust)
	const q = `query($s: ProductStatus!) { customers(first: 3) { edges { node { id
		products(where: {status: $s}) { edges { node { status productCode } } } } } } }`
	type page struct {
		Customers struct {
			Edges []struct {
				Node struct {
					ID       uuid.UUID
					Products struct {
						Edges []struct {
							Node struct{ Status, ProductCode string }
						}
					}
				}
			}
		}
	}
	for round := range 2 { // the second request reuses the unmarshalers built by the first
		var closed, open page
		e.do(q, &closed, "s", "CLOSED")
		require.Equal(t, int64(2), e.sql(), "round %d: one statement per level", round)
		e.do(q, &open, "s", "RECEIVED") // the default status
		require.Len(t, closed.Customers.Edges, 3)
		for i, edge := range closed.Customers.Edges {
			require.Len(t, edge.Node.Products.Edges, 1)
			require.Equal(t, "WALLET", edge.Node.Products.Edges[0].Node.ProductCode)
			o := open.Customers.Edges[i].Node
			require.Equal(t, edge.Node.ID, o.ID)
			n := slices.Index(cust, o.ID) + 1
			require.Len(t, o.Products.Edges, n)
			for _, p := range o.Products.Edges {
				require.Equal(t, "RECEIVED", p.Node.Status)
			}
		}
	}
}

// TestNestedPageArgumentsThatDoNotParse: a nested page's cursor that is not
// one is the caller's mistake, BAD_USER_INPUT at each row's field, where
// entgql's field collection panicked in the root resolver (it asserted the
// type of an argument it had failed to parse: INTERNAL for the whole page).
func TestNestedPageArgumentsThatDoNotParse(t *testing.T) {
	e := newEnv(t)
	e.seedCustomers(e.seedBank("gh.29.uk"), 3, nil)
	for _, c := range []struct {
		query string
		kv    []any
	}{
		{`{ customers(first: 3) { edges { node { id products(after: "Zm9v") { totalCount } } } } }`, nil},
		{`query($c: Cursor) { customers(first: 3) { edges { node { id
			products(before: $c, last: 1) { edges { cursor } } } } } }`, []any{"c", "Zm9v"}},
	} {
		errs := e.fail(c.query, c.kv...)
		require.Len(t, errs, 3, "one per row: %+v", errs)
		var rows []any
		for _, err := range errs {
			require.Equal(t, "BAD_USER_INPUT", err.Extensions["code"], "%+v", err)
			require.NotContains(t, err.Message, "msgpack", "the decoder's text is not the caller's business")
			require.Len(t, err.Path, 6, "%+v", err)
			require.Equal(t, []any{"customers", "edges"}, err.Path[:2])
			require.Equal(t, []any{"node", "products"}, err.Path[3:5])
			rows = append(rows, err.Path[2])
		}
		require.ElementsMatch(t, []any{0.0, 1.0, 2.0}, rows)
	}
}

// TestNestedPageArgumentsPerField: a nested connection's arguments are
// parsed once per field of the operation and shared by its rows
// (graph/inline.go, argsMemo), so two aliases of one edge with different
// arguments, or one field under two parents, must each keep their own.
func TestNestedPageArgumentsPerField(t *testing.T) {
	e := newEnv(t)
	cust := e.seedCustomers(e.seedBank("gh.29.uk"), 3, nil)
	seedWalletAndAccounts(e, cust)
	const q = `query($n: Int!) { customers(first: 3) { edges { node { id
		closed: products(where: {status: CLOSED}) { totalCount edges { node { productCode } } }
		one: products(first: 1) { edges { node { id } } }
		n: products(first: $n) { totalCount edges { node { id } } }
		all: products { totalCount } } } } }`
	type conn struct {
		TotalCount int
		Edges      []struct {
			Node struct{ ID, ProductCode string }
		}
	}
	var page struct {
		Customers struct {
			Edges []struct {
				Node struct {
					ID                  uuid.UUID
					Closed, One, N, All conn
				}
			}
		}
	}
	for _, n := range []int{2, 0} { // the same document again, with another variable
		e.do(q, &page, "n", n)
		require.Len(t, page.Customers.Edges, 3)
		for _, edge := range page.Customers.Edges {
			c := edge.Node
			products := slices.Index(cust, c.ID) + 2
			require.Equal(t, 1, c.Closed.TotalCount)
			require.Len(t, c.Closed.Edges, 1)
			require.Equal(t, "WALLET", c.Closed.Edges[0].Node.ProductCode)
			require.Len(t, c.One.Edges, 1)
			require.Equal(t, products, c.N.TotalCount)
			require.Len(t, c.N.Edges, n)
			require.Equal(t, products, c.All.TotalCount)
		}
	}
}

// TestOneSelectionSetOnSeveralTypes: the fields an object collects are kept
// per operation by selection set and type (graph/inline.go, fieldsMemo), so
// one selection set read by a customer, a product and an address must give
// each its own fields.
func TestOneSelectionSetOnSeveralTypes(t *testing.T) {
	e := newEnv(t)
	ctx := access.System(context.Background())
	c := e.seedCustomers(e.seedBank("gh.29.uk"), 1, nil)[0]
	p := e.client.Product.Create().SetCustomerID(c).SetProductCode(product.ProductCodeWALLET).SaveX(ctx)
	a := e.client.Address.Create().SetCustomerID(c).SetLine1("1 High St").SetCity("Leeds").SetPostcode("LS1 1AA").SetCountryCode("GB").SaveX(ctx)
	var r struct{ Nodes []map[string]any }
	e.do(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
		... on Customer { customerStatus } ... on Product { productCode } ... on Address { city } } }`,
		&r, "ids", []uuid.UUID{c, p.ID, a.ID, c})
	require.Equal(t, []map[string]any{
		{"__typename": "Customer", "id": c.String(), "customerStatus": "CREATED"},
		{"__typename": "Product", "id": p.ID.String(), "productCode": "WALLET"},
		{"__typename": "Address", "id": a.ID.String(), "city": "Leeds"},
		{"__typename": "Customer", "id": c.String(), "customerStatus": "CREATED"},
	}, r.Nodes)
}

// TestRowsDoNotBleedIntoEachOther: a query scans all its rows into one set
// of holders (internal/entscan), so a row with NULLs after one with values
// must read as NULLs, on each database. (Customers keep new holders per row:
// their decimal is a NullScanner, whose value the entity keeps; addresses
// reuse theirs.)
func TestRowsDoNotBleedIntoEachOther(t *testing.T) {
	e := newEnv(t)
	ctx := access.System(context.Background())
	dob := time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)
	ids := e.seedCustomers(e.seedBank("gh.29.uk"), 6, func(i int, c *ent.CustomerCreate) {
		if i%2 == 0 {
			c.SetCompany(fmt.Sprintf("Company %d", i)).SetDateOfBirth(dob).SetDependants(i + 1).
				SetDobOfDependants(slices.Repeat([]time.Time{dob}, i+1)).
				SetKycStatus(true).SetLabels([]string{"vip", fmt.Sprint(i)})
		}
	})
	got := e.client.Customer.Query().Order(ent.Asc(customer.FieldCreatedAt), ent.Asc(customer.FieldID)).AllX(ctx)
	require.Len(t, got, 6)
	for i, c := range got {
		require.Equal(t, ids[i], c.ID)
		if i%2 == 0 {
			require.Equal(t, fmt.Sprintf("Company %d", i), c.Company)
			require.NotNil(t, c.DateOfBirth)
			require.True(t, dob.Equal(*c.DateOfBirth))
			require.Equal(t, i+1, c.Dependants)
			require.Len(t, c.DobOfDependants, i+1)
			require.True(t, c.KycStatus)
			require.Equal(t, []string{"vip", fmt.Sprint(i)}, c.Labels)
		} else {
			require.Empty(t, c.Company, "row %d", i)
			require.Nil(t, c.DateOfBirth, "row %d", i)
			require.Zero(t, c.Dependants, "row %d", i)
			require.Empty(t, c.DobOfDependants, "row %d", i)
			require.False(t, c.KycStatus, "row %d", i)
			require.Empty(t, c.Labels, "row %d", i)
		}
	}

	for i, id := range ids {
		a := e.client.Address.Create().SetCustomerID(id).SetLine1(fmt.Sprintf("%d High St", i)).
			SetCity("Leeds").SetPostcode("LS1 1AA").SetCountryCode("GB")
		if i%2 == 0 {
			a.SetLine2(fmt.Sprintf("Flat %d", i)).SetPremise(i + 1).SetTags([]string{"home", fmt.Sprint(i)})
		}
		a.ExecX(ctx)
	}
	addrs := e.client.Address.Query().Order(ent.Asc(address.FieldCreatedAt), ent.Asc(address.FieldID)).AllX(ctx)
	require.Len(t, addrs, 6)
	for i, a := range addrs {
		require.Equal(t, ids[i], a.CustomerID)
		require.Equal(t, fmt.Sprintf("%d High St", i), a.Line1)
		if i%2 == 0 {
			require.Equal(t, fmt.Sprintf("Flat %d", i), a.Line2)
			require.NotNil(t, a.Premise)
			require.Equal(t, i+1, *a.Premise)
			require.Equal(t, []string{"home", fmt.Sprint(i)}, a.Tags)
		} else {
			require.Empty(t, a.Line2, "row %d", i)
			require.Nil(t, a.Premise, "row %d", i)
			require.Empty(t, a.Tags, "row %d", i)
		}
	}
}

// seedWalletAndAccounts gives the i-th customer one closed wallet and i+1
// balance accounts (in the default status, RECEIVED).
func seedWalletAndAccounts(e *env, cust []uuid.UUID) {
	ctx := access.System(context.Background())
	for i, c := range cust {
		e.client.Product.Create().SetCustomerID(c).SetProductCode(product.ProductCodeWALLET).SetStatus(product.StatusCLOSED).SaveX(ctx)
		for range i + 1 {
			e.client.Product.Create().SetCustomerID(c).SetProductCode(product.ProductCodeBALANCE_ACCOUNT).SaveX(ctx)
		}
	}
}

// TestCaseInsensitiveFiltersFoldEveryLetter: search and the …Fold filters
// fold letters beyond ASCII on both databases. SQLite's LOWER folds ASCII
// only: "ärger" did not find "ÄRGER" there, where PostgreSQL's ILIKE did
// (internal/store/sqlitelower.go).
func TestCaseInsensitiveFiltersFoldEveryLetter(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	var created struct{ CreateCustomer struct{ ID string } }
	e.do(`mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "ÄRGER Straße Ωmega", email: "ÄR@Example.com"}) { id } }`, &created, "b", b.ID)
	e.do(`mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Plain Name", email: "plain@example.com"}) { id } }`, &created, "b", b.ID)
	count := func(where string) int {
		var r struct{ Customers struct{ TotalCount int } }
		e.do(`{ customers(where: {`+where+`}) { totalCount } }`, &r)
		return r.Customers.TotalCount
	}
	for _, where := range []string{
		`search: "ärger"`, `search: "straße"`, `search: "ωMEGA"`,
		`legalNameContainsFold: "ärger straße"`, `legalNameEqualFold: "ärger straße ωmega"`,
		`emailContainsFold: "är@example"`, `emailEqualFold: "är@example.com"`,
	} {
		require.Equal(t, 1, count(where), where)
	}
	require.Equal(t, 0, count(`search: "arger"`), "folding is not accent-stripping")
	require.Equal(t, 1, count(`search: "PLAIN"`))
}
