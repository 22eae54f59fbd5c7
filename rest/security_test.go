package rest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/ent/usercustomerlink"
	"custgraph/internal/access"
)

// TestSecurityLinkedUser checks what a link between a user and a customer
// opens: OBP's "customers of the current user" (#5, #6) show the user its
// linked customers without any role, and nothing else does; and a user
// cannot link itself to a customer it may not read (which would let it read
// that customer through #5).
func TestSecurityLinkedUser(t *testing.T) {
	e := newEnv(t)
	admin := e.client(t, e.A, allBankRoles(e.A)...)
	res := e.call(t, http.MethodPost, "/obp/v5.1.0/banks/"+bankA+"/customers", admin, map[string]any{
		"legal_name": "Eveline Tripman", "mobile_phone_number": "+44 07972 444 876",
	})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	id := res.object(t)["customer_id"].(string)

	t.Run("linking oneself needs CanGetCustomer", func(t *testing.T) {
		u, dl := e.user(t, "mallory", at(e.A, access.CanCreateUserCustomerLink)...)
		res := e.call(t, http.MethodPost, "/obp/v3.1.0/banks/"+bankA+"/user_customer_links", dl,
			map[string]any{"user_id": u.ID.String(), "customer_id": id})
		require.Equal(t, http.StatusForbidden, res.status, "%s", res.body)
		require.Equal(t, "OBP-20006: User is missing one or more roles: CanGetCustomer at Bank("+bankA+")", res.object(t)["message"])
		n, err := e.db.Client.UserCustomerLink.Query().Where(usercustomerlink.UserID(u.ID)).Count(e.sys)
		require.NoError(t, err)
		require.Zero(t, n, "no link was written")

		res = e.call(t, http.MethodGet, "/obp/v3.1.0/users/current/customers", dl, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.JSONEq(t, `{"customers":[]}`, string(res.body))
	})

	t.Run("a linked user without roles sees its customer through #5 and #6 only", func(t *testing.T) {
		u, dl := e.user(t, "eveline")
		res := e.call(t, http.MethodPost, "/obp/v3.1.0/banks/"+bankA+"/user_customer_links", admin,
			map[string]any{"user_id": u.ID.String(), "customer_id": id})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)

		res = e.call(t, http.MethodGet, "/obp/v3.1.0/users/current/customers", dl, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var mine struct {
			Customers []map[string]any `json:"customers"`
		}
		res.decode(t, &mine)
		require.Len(t, mine.Customers, 1)
		require.Equal(t, id, mine.Customers[0]["customer_id"])
		res = e.call(t, http.MethodGet, "/obp/v3.1.0/banks/"+bankA+"/customers", dl, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		res.decode(t, &mine)
		require.Len(t, mine.Customers, 1)

		// Every other door asks for the read role (banks are public: 403).
		res = e.call(t, http.MethodGet, "/obp/v3.1.0/banks/"+bankA+"/customers/"+id, dl, nil)
		require.Equal(t, http.StatusForbidden, res.status, "%s", res.body)
		require.Equal(t, "OBP-20006: User is missing one or more roles: CanGetCustomer at Bank("+bankA+")", res.object(t)["message"])
		res = e.call(t, http.MethodGet, "/roles/customers/"+id, dl, nil)
		require.Equal(t, http.StatusForbidden, res.status, "%s", res.body)
		res = e.call(t, http.MethodGet, "/v1/profiles/"+bankA+"/customers/"+id, dl, nil)
		require.Equal(t, http.StatusForbidden, res.status, "%s", res.body)
		res = e.call(t, http.MethodPost, "/query", dl, map[string]any{"query": `{ customers { totalCount } }`})
		require.Equal(t, http.StatusOK, res.status)
		require.Contains(t, string(res.body), `"FORBIDDEN"`)
	})
}

// TestSecurityProductRoleAlone checks that reading a customer's products
// needs the product role only (ent's ReadRoles), not CanGetCustomer, and
// that it shows nothing of another bank.
func TestSecurityProductRoleAlone(t *testing.T) {
	e := newEnv(t)
	admin := e.client(t, e.A, allBankRoles(e.A)...)
	res := e.call(t, http.MethodPost, "/roles/customers", admin, map[string]any{
		"entityId": "0d3c7c1e-6a55-4b7f-9a1e-3f1f2d4c5b6a", "entityType": "NATURAL_PERSON"})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	id := res.object(t)["customerId"].(string)
	res = e.call(t, http.MethodPost, "/customers/"+id+"/products", admin, map[string]any{"productCode": "WALLET"},
		"Requestor-ID", "5b1f0f3e-2c1a-4f7e-9a43-0d6c8f1e2a11")
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)

	products := e.client(t, e.A, at(e.A, access.CanGetCustomerProduct)...)
	res = e.call(t, http.MethodGet, "/customers/"+id+"/products", products, nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var list []map[string]any
	res.decode(t, &list)
	require.Len(t, list, 1)
	require.Equal(t, "WALLET", list[0]["productCode"])

	other := e.client(t, e.B, at(e.B, access.CanGetCustomerProduct, access.CanGetCustomer)...)
	res = e.call(t, http.MethodGet, "/customers/"+id+"/products", other, nil)
	require.Equal(t, http.StatusNotFound, res.status, "%s", res.body)
}
