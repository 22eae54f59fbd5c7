package rest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/product"
)

// TestTradevestProductListIsBounded: GET /customers/{customerId}/products
// is a bare array without paging (rest-compat §2.2), and a customer's
// products are closed, never deleted: an answer holds at most 1,000 of
// them. More is 400 TOO_MANY_RESULTS, naming the filters that narrow it,
// never an answer of any size nor a list cut short; a narrower filter
// answers.
func TestTradevestProductListIsBounded(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	cid := uuid.MustParse(e.tvCreate(t, tok, map[string]any{"entityId": uuid.New(), "entityType": "NATURAL_PERSON"}))
	ps := make([]*ent.ProductCreate, 1002) // one BALANCE_ACCOUNT, 1,001 WALLETs
	for i := range ps {
		ps[i] = e.db.Client.Product.Create().SetCustomerID(cid).SetProductCode(product.ProductCodeWALLET)
	}
	ps[0].SetProductCode(product.ProductCodeBALANCE_ACCOUNT)
	require.NoError(t, e.db.Client.Product.CreateBulk(ps...).Exec(e.sys))

	path := "/customers/" + cid.String() + "/products"
	statements := e.statements.Load()
	res := e.call(t, http.MethodGet, path, tok, nil)
	msg := tvErr(t, res, http.StatusBadRequest, "BAD_REQUEST", "", "")
	require.Contains(t, msg, "more than 1000 products match")
	require.Contains(t, string(res.body), `"errorCode":"TOO_MANY_RESULTS"`)
	require.LessOrEqual(t, e.statements.Load()-statements, int64(6), "a bounded read")
	res = e.call(t, http.MethodGet, path+"?productCode=WALLET", tok, nil)
	require.Equal(t, http.StatusBadRequest, res.status, "%s", res.body)

	res = e.call(t, http.MethodGet, path+"?productCode=BALANCE_ACCOUNT", tok, nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var list []map[string]any
	require.NoError(t, json.Unmarshal(res.body, &list))
	require.Len(t, list, 1)
	require.Equal(t, "BALANCE_ACCOUNT", list[0]["productCode"])
}
