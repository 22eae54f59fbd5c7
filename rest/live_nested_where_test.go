package rest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLiveNodeNestedPagesFilter: a change's node answers its nested pages
// as a query does, with their where, orderBy, first and aliases. gqlgen
// resolves a subscription's events without the input unmarshalers, through
// which entgql's collection reads a nested where: it was dropped without a
// word, and every product came back (graph/gqlgen.go).
func TestLiveNodeNestedPagesFilter(t *testing.T) {
	e := newEnv(t, envOptions{live: true})
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	data := e.gql(t, tok, `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Nested"}) { id } }`, map[string]any{"b": e.A.ID})
	id := string(data["createCustomer"])[7:43]
	for _, code := range []string{"WALLET", "BALANCE_ACCOUNT", "BALANCE_ACCOUNT"} {
		e.gql(t, tok, `mutation($c: ID!, $p: ProductProductCode!) { createProduct(input: {customerID: $c, productCode: $p}) { id } }`, map[string]any{"c": id, "p": code})
	}
	from := e.head(t)
	sub := subscribeSSEQuery(t, e.srv.URL, tok, `subscription($after: String) { changes(after: $after, where: {entityTypes: ["Customer"]}) {
		node { ... on Customer {
			e: products(where: {idIn: []}) { totalCount edges { node { id } } }
			w: products(where: {productCode: WALLET}) { totalCount edges { node { id } } }
			f: products(first: 1) { totalCount edges { node { id } } }
			o: products(first: 1, orderBy: {field: PRODUCT_CODE, direction: DESC}) { edges { node { productCode } } }
		} } } }`, map[string]any{"after": from})
	defer sub.close()
	e.gql(t, tok, `mutation($c: ID!) { updateCustomer(id: $c, input: {email: "n@example.com"}) { id } }`, map[string]any{"c": id})
	select {
	case b := <-sub.events:
		require.Contains(t, string(b), `"e":{"totalCount":0,"edges":[]}`, "%s", b)
		require.Contains(t, string(b), `"w":{"totalCount":1,`, "%s", b)
		require.Contains(t, string(b), `"f":{"totalCount":3,"edges":[{`, "%s", b)
		require.Contains(t, string(b), `"o":{"edges":[{"node":{"productCode":"WALLET"}}]}`, "%s", b)
	case <-time.After(30 * time.Second):
		t.Fatal("no change")
	}
}
