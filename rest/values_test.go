package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
)

// TestMoneyKeepsScale checks that a credit limit keeps the digits and the
// scale it was given through every door that shows it (OBP's create, read,
// number lookup, firehose and update; GraphQL's read and update), on the
// test's database (SQLite text, or PostgreSQL numeric).
func TestMoneyKeepsScale(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, nil, append(allBankRoles(e.A), anyBank(access.CanUseCustomerFirehoseAtAnyBank)...)...)
	amount := func(t *testing.T, m map[string]any) string {
		t.Helper()
		cl, ok := m["credit_limit"].(map[string]any)
		require.True(t, ok, "%v", m)
		return cl["amount"].(string)
	}
	for _, v := range []string{"2500.50", "2500.5", "0.00", "10", "-0.010", "99999999999999999999.99"} {
		t.Run(v, func(t *testing.T) {
			body := obpCustSeedBody()
			body["credit_limit"] = map[string]any{"currency": "EUR", "amount": v}
			res := e.call(t, http.MethodPost, "/obp/v3.1.0/banks/"+bankA+"/customers", tok, body)
			require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
			created := res.object(t)
			require.Equal(t, v, amount(t, created))
			id, number := created["customer_id"].(string), created["customer_number"].(string)

			res = e.call(t, http.MethodGet, "/obp/v3.1.0/banks/"+bankA+"/customers/"+id, tok, nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			require.Equal(t, v, amount(t, res.object(t)))
			res = e.call(t, http.MethodPost, "/obp/v3.1.0/banks/"+bankA+"/customers/customer-number", tok, map[string]any{"customer_number": number})
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			require.Equal(t, v, amount(t, res.object(t)))
			var hose struct{ Customers []map[string]any }
			res = e.call(t, http.MethodGet, "/obp/v3.1.0/banks/"+bankA+"/firehose/customers?limit=1000", tok, nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			res.decode(t, &hose)
			found := false
			for _, c := range hose.Customers {
				if c["customer_id"] == id {
					found = true
					require.Equal(t, v, amount(t, c))
				}
			}
			require.True(t, found)
			d := e.gql(t, tok, `query($id: ID!) { node(id: $id) { ... on Customer { creditLimitAmount } } }`, map[string]any{"id": id})
			require.JSONEq(t, `{"creditLimitAmount":"`+v+`"}`, string(d["node"]))
			require.Equal(t, v, e.db.Client.Customer.GetX(e.sys, uuidOf(t, id)).CreditLimitAmount.String())

			// An update through OBP, then one through GraphQL, read back by the other.
			res = e.call(t, http.MethodPut, "/obp/v3.1.0/banks/"+bankA+"/customers/"+id+"/credit-limit", tok,
				map[string]any{"credit_limit": map[string]any{"currency": "USD", "amount": "7.10"}})
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			require.Equal(t, "7.10", amount(t, res.object(t)))
			d = e.gql(t, tok, `query($id: ID!) { node(id: $id) { ... on Customer { creditLimitAmount } } }`, map[string]any{"id": id})
			require.JSONEq(t, `{"creditLimitAmount":"7.10"}`, string(d["node"]))
			e.gql(t, tok, `mutation($id: ID!) { updateCustomer(id: $id, input: {creditLimitAmount: "12.300"}) { id } }`, map[string]any{"id": id})
			res = e.call(t, http.MethodGet, "/obp/v3.1.0/banks/"+bankA+"/customers/"+id, tok, nil)
			require.Equal(t, "12.300", amount(t, res.object(t)))
		})
	}
}

// uuidOf parses an id of an answer.
func uuidOf(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	require.NoError(t, err)
	return id
}

// TestAmountsAreBounded: an amount beyond 38 digits, or 18 after the
// point, or written with an exponent, is OBP's 400 on create and update,
// and writes nothing; a million-digit amount is refused like the others.
func TestAmountsAreBounded(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, nil, allBankRoles(e.A)...)
	body := obpCustSeedBody()
	res := e.call(t, http.MethodPost, "/obp/v3.1.0/banks/"+bankA+"/customers", tok, body)
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	id := res.object(t)["customer_id"].(string)
	before := e.db.Client.Customer.Query().CountX(e.sys)
	for _, v := range []string{"1e3", "1e3000000", strings.Repeat("9", 39), "0." + strings.Repeat("1", 19), strings.Repeat("9", 1_000_000)} {
		body["credit_limit"] = map[string]any{"currency": "EUR", "amount": v}
		res := e.call(t, http.MethodPost, "/obp/v3.1.0/banks/"+bankA+"/customers", tok, body)
		require.Equal(t, http.StatusBadRequest, res.status, "%.60s: %s", v, res.body)
		require.Contains(t, res.object(t)["message"], "OBP-10001")
		res = e.call(t, http.MethodPut, "/obp/v3.1.0/banks/"+bankA+"/customers/"+id+"/credit-limit", tok,
			map[string]any{"credit_limit": map[string]any{"currency": "EUR", "amount": v}})
		require.Equal(t, http.StatusBadRequest, res.status, "%.60s: %s", v, res.body)
	}
	require.Equal(t, before, e.db.Client.Customer.Query().CountX(e.sys), "nothing written")
}
