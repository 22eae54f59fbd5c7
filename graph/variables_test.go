package graph_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVariablesAreCoercedAsGraphQLSays: a variable's value is refused as
// graphql-js refuses it (GraphQL's input coercion, §3.5), at any depth of
// lists and input objects, before any statement runs; gqlparser alone let
// "5" through as an Int, 5 as a String, 2^31 as an Int and an enum name in
// other letter case, and an Int literal over 32 bits. What graphql-js
// accepts still works.
func TestVariablesAreCoercedAsGraphQLSays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.seedBank("gh.1.vars")
	e.seedCustomers(b, 3, nil)

	const byFirst = `query($f: Int) { customers(first: $f) { totalCount } }`
	const bySearch = `query($s: String) { customers(first: 1, where: {search: $s}) { totalCount } }`
	const byWhere = `query($w: CustomerWhereInput) { customers(first: 1, where: $w) { totalCount } }`
	const byOrder = `query($o: [CustomerOrder!]) { customers(first: 1, orderBy: $o) { totalCount } }`
	const byIDs = `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`
	for _, c := range []struct {
		name, query string
		vars        []any
		message     string
		path        []any
	}{
		{"an Int given a string", byFirst, []any{"f", "5"},
			`Variable "$f" got invalid value "5"; Int cannot represent non-integer value: "5"`, []any{"variable", "f"}},
		{"an Int over 32 bits", byFirst, []any{"f", json.Number("2147483648")},
			`Variable "$f" got invalid value 2147483648; Int cannot represent non 32-bit signed integer value: 2147483648`, []any{"variable", "f"}},
		{"a String given a number", bySearch, []any{"s", json.Number("5")},
			`Variable "$s" got invalid value 5; String cannot represent a non string value: 5`, []any{"variable", "s"}},
		{"a String given a number in an input object", byWhere, []any{"w", map[string]any{"search": json.Number("5")}},
			`Variable "$w" got invalid value 5 at "w.search"; String cannot represent a non string value: 5`, []any{"variable", "w", "search"}},
		{"an Int given a string in a list in an input object", byWhere,
			[]any{"w", map[string]any{"hasAddressesWith": []any{map[string]any{"premiseGT": "7"}}}},
			`Variable "$w" got invalid value "7" at "w.hasAddressesWith[0].premiseGT"; Int cannot represent non-integer value: "7"`,
			[]any{"variable", "w", "hasAddressesWith", float64(0), "premiseGT"}},
		{"an enum in other letter case", byOrder, []any{"o", []any{map[string]any{"field": "legal_name"}}},
			`Variable "$o" got invalid value "legal_name" at "o[0].field"; Value "legal_name" does not exist in "CustomerOrderField" enum.`,
			[]any{"variable", "o", float64(0), "field"}},
		{"an ID given a fraction", byIDs, []any{"ids", []any{json.Number("1.5")}},
			`Variable "$ids" got invalid value 1.5 at "ids[0]"; ID cannot represent value: 1.5`, []any{"variable", "ids", float64(0)}},
		{"an ID given a fraction, as a list of one", byIDs, []any{"ids", json.Number("2.5")},
			`Variable "$ids" got invalid value 2.5 at "ids[0]"; ID cannot represent value: 2.5`, []any{"variable", "ids", float64(0)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			errs := e.fail(c.query, c.vars...)
			require.Len(t, errs, 1)
			require.Equal(t, c.message, errs[0].Message)
			require.Equal(t, "GRAPHQL_VALIDATION_FAILED", errs[0].Extensions["code"])
			require.Equal(t, c.path, errs[0].Path)
			require.Zero(t, e.sql(), "refused before any statement")
		})
	}

	// A literal over 32 bits gets what the same variable gets, at its place.
	for _, c := range []struct{ query, raw string }{
		{`{ customers(first: 2147483648) { totalCount } }`, "2147483648"},
		{`{ customers(first: 1, where: {hasAddressesWith: [{premiseGT: -3000000000}]}) { totalCount } }`, "-3000000000"},
		{`{ ...F } fragment F on Query { customers(first: 1, where: {hasAddressesWith: {premiseIn: [1, 99999999999]}}) { totalCount } }`, "99999999999"},
	} {
		errs := e.fail(c.query)
		require.Len(t, errs, 1, c.query)
		require.Equal(t, "Int cannot represent non 32-bit signed integer value: "+c.raw, errs[0].Message, c.query)
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", errs[0].Extensions["code"], c.query)
		require.Zero(t, e.sql(), "refused before any statement")
	}

	var page struct{ Customers struct{ TotalCount int } }
	e.do(byFirst, &page, "f", json.Number("2"))
	require.Equal(t, 3, page.Customers.TotalCount)
	e.do(byWhere, &page, "w", map[string]any{"hasAddressesWith": []any{map[string]any{"premiseGT": json.Number("7")}}})
	require.Equal(t, 0, page.Customers.TotalCount)
	e.do(byWhere, &page, "w", map[string]any{"hasAddressesWith": map[string]any{"premiseLT": json.Number("-2147483648")}})
	require.Equal(t, 0, page.Customers.TotalCount, "the least Int, and one object as a list of one")
	e.do(bySearch, &page, "s", "Customer")
	require.Equal(t, 3, page.Customers.TotalCount)
	e.do(byOrder, &page, "o", map[string]any{"field": "LEGAL_NAME", "direction": "DESC"}) // a list of one
	require.Equal(t, 3, page.Customers.TotalCount)
}

// TestWholeIntsWrittenWithAFraction: an Int variable written 2.0 or 2e0
// is the Int 2, as graphql-js reads it (JSON has one kind of number; a
// serializer may write 2 as 2.0), at any depth of lists and input objects;
// gqlparser refused it. A number that is not whole still is refused, and
// a Decimal keeps the digits it was sent.
func TestWholeIntsWrittenWithAFraction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.seedBank("gh.1.whole")
	e.seedCustomers(b, 3, nil)

	const byFirst = `query($f: Int) { customers(first: $f) { edges { node { id } } } }`
	const byWhere = `query($w: CustomerWhereInput) { customers(first: 5, where: $w) { totalCount } }`
	var page struct {
		Customers struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}
	}
	for _, n := range []string{"2.0", "2.000", "2e0", "0.2e1", "20E-1"} {
		e.do(byFirst, &page, "f", json.Number(n))
		require.Len(t, page.Customers.Edges, 2, n)
	}
	e.do(byWhere, &page, "w", map[string]any{"hasAddressesWith": []any{map[string]any{"premiseIn": []any{json.Number("7.0"), json.Number("1e1")}}}})
	require.Equal(t, 0, page.Customers.TotalCount)

	for _, c := range []struct {
		query string
		vars  []any
		msg   string
	}{
		{byFirst, []any{"f", json.Number("1.5")}, `Variable "$f" got invalid value 1.5; Int cannot represent non-integer value: 1.5`},
		{byFirst, []any{"f", json.Number("1e3000000")}, `Variable "$f" got invalid value 1e3000000; Int cannot represent non 32-bit signed integer value: 1e3000000`},
		{byFirst, []any{"f", json.Number("4294967296.0")}, `Variable "$f" got invalid value 4294967296.0; Int cannot represent non 32-bit signed integer value: 4294967296.0`},
		{byFirst, []any{"f", json.Number("99999999999999999999")}, `Variable "$f" got invalid value 99999999999999999999; Int cannot represent non 32-bit signed integer value: 99999999999999999999`},
		{byWhere, []any{"w", map[string]any{"hasAddressesWith": []any{map[string]any{"premiseIn": []any{json.Number("7.0"), json.Number("7.25")}}}}},
			`Variable "$w" got invalid value 7.25 at "w.hasAddressesWith[0].premiseIn[1]"; Int cannot represent non-integer value: 7.25`},
	} {
		errs := e.fail(c.query, c.vars...)
		require.Len(t, errs, 1, c.msg)
		require.Equal(t, c.msg, errs[0].Message)
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", errs[0].Extensions["code"], "%+v", errs[0])
		require.Zero(t, e.sql(), "refused before any statement")
	}

	var r struct {
		CreateCustomer struct {
			Dependants        int
			CreditLimitAmount string
		}
	}
	e.do(`mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { dependants creditLimitAmount } }`, &r,
		"in", map[string]any{"bankID": b.ID, "lastName": "W", "dependants": json.Number("2.0"),
			"dobOfDependants":   []any{"2010-01-01T00:00:00Z", "2012-01-01T00:00:00Z"},
			"creditLimitAmount": json.Number("2500.50"), "creditLimitCurrency": "EUR"})
	require.Equal(t, 2, r.CreateCustomer.Dependants)
	require.Equal(t, "2500.50", r.CreateCustomer.CreditLimitAmount, "a Decimal keeps its digits")
}
