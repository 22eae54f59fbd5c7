package rest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
)

// TestObpDiscovery covers OBP's discovery routes (root, banks, bank,
// users/current) under v3.1.0 and v5.1.0, and the Correlation-Id header.
func TestObpDiscovery(t *testing.T) {
	e := newEnv(t)
	noRole, dlNoRole := e.user(t, "no.role")
	_ = noRole
	boundB := e.client(t, e.B, at(e.B, access.CanGetCustomer)...)

	t.Run("root needs no credentials", func(t *testing.T) {
		res := e.call(t, http.MethodGet, "/obp/v3.1.0/root", "", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		m := res.object(t)
		require.ElementsMatch(t, []string{"version", "version_status", "git_commit", "connector", "hosted_by"}, keys(m))
		require.Equal(t, "v3.1.0", m["version"])
		require.Equal(t, "STABLE", m["version_status"])
		res = e.call(t, http.MethodGet, "/obp/v5.1.0/root", "", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		m = res.object(t)
		require.Equal(t, "v5.1.0", m["version"])
		require.Equal(t, "BLEEDING_EDGE", m["version_status"])
		require.Len(t, m, 11)
	})

	t.Run("banks are public to every authenticated caller", func(t *testing.T) {
		obpCust401(t, e.call(t, http.MethodGet, "/obp/v3.1.0/banks", "", nil))
		for _, who := range []string{dlNoRole, boundB} {
			res := e.call(t, http.MethodGet, "/obp/v3.1.0/banks", who, nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			require.JSONEq(t, `{"banks":[
				{"id":"at.02.0061","short_name":"Demo Bank Austria","full_name":"Demo Bank Austria","logo":"","website":"","bank_routing":{"scheme":"OBP","address":"at.02.0061"}},
				{"id":"gh.29.uk","short_name":"Test Bank","full_name":"Test Bank","logo":"","website":"","bank_routing":{"scheme":"OBP","address":"gh.29.uk"}}]}`,
				string(res.body))
			res = e.call(t, http.MethodGet, "/obp/v5.1.0/banks", who, nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			require.JSONEq(t, `{"banks":[
				{"id":"at.02.0061","short_name":"Demo Bank Austria","full_name":"Demo Bank Austria","logo":"","website":"","bank_routings":[{"scheme":"OBP","address":"at.02.0061"}]},
				{"id":"gh.29.uk","short_name":"Test Bank","full_name":"Test Bank","logo":"","website":"","bank_routings":[{"scheme":"OBP","address":"gh.29.uk"}]}]}`,
				string(res.body))
			res = e.call(t, http.MethodGet, "/obp/v3.1.0/banks/"+bankA, who, nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			require.JSONEq(t, `{"id":"gh.29.uk","short_name":"Test Bank","full_name":"Test Bank","logo":"","website":"","bank_routing":{"scheme":"OBP","address":"gh.29.uk"}}`, string(res.body))
			res = e.call(t, http.MethodGet, "/obp/v5.1.0/banks/"+bankA, who, nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			require.JSONEq(t, `{"id":"gh.29.uk","bank_code":"gh.29.uk","full_name":"Test Bank","logo":"","website":"","bank_routings":[{"scheme":"OBP","address":"gh.29.uk"}]}`, string(res.body))
			for _, v := range []string{"v3.1.0", "v5.1.0"} {
				obpCustErr(t, e.call(t, http.MethodGet, "/obp/"+v+"/banks/no.such.bank", who, nil), http.StatusNotFound, obpCustBankNotFound("no.such.bank"))
			}
		}
		obpCust401(t, e.call(t, http.MethodGet, "/obp/v5.1.0/banks/"+bankA, "", nil))
	})

	t.Run("users/current tells the caller who it is and what it holds", func(t *testing.T) {
		u, dl := e.user(t, "banker", append(at(e.A, access.CanGetCustomer), anyBank(access.CanCreateCustomer)...)...)
		for _, v := range []string{"v3.1.0", "v5.1.0"} {
			obpCust401(t, e.call(t, http.MethodGet, "/obp/"+v+"/users/current", "", nil))
			res := e.call(t, http.MethodGet, "/obp/"+v+"/users/current", dl, nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var got struct {
				UserID, Email, ProviderID, Provider, Username string
				Entitlements                                  struct {
					List []struct{ EntitlementID, RoleName, BankID string }
				}
			}
			res.decode(t, &got)
			m := res.object(t)
			require.ElementsMatch(t, []string{"user_id", "email", "provider_id", "provider", "username", "entitlements"}, keys(m))
			require.Equal(t, u.ID.String(), m["user_id"])
			require.Equal(t, "banker", m["username"])
			list := m["entitlements"].(map[string]any)["list"].([]any)
			require.Len(t, list, 2)
			roles := map[string]string{}
			for _, l := range list {
				l := l.(map[string]any)
				require.NotEmpty(t, l["entitlement_id"])
				roles[l["role_name"].(string)] = l["bank_id"].(string)
			}
			require.Equal(t, map[string]string{"CanGetCustomer": bankA, "CanCreateCustomerAtAnyBank": ""}, roles)
		}
		res := e.call(t, http.MethodGet, "/obp/v3.1.0/users/current", dlNoRole, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, map[string]any{"list": []any{}}, res.object(t)["entitlements"])
		res = e.call(t, http.MethodGet, "/obp/v3.1.0/users/current", boundB, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		list := res.object(t)["entitlements"].(map[string]any)["list"].([]any)
		require.Len(t, list, 1)
		require.Equal(t, bankB, list[0].(map[string]any)["bank_id"])
	})

	t.Run("every OBP answer carries Correlation-Id, the request id", func(t *testing.T) {
		for _, c := range []struct{ method, path, auth string }{
			{http.MethodGet, "/obp/v3.1.0/root", ""},
			{http.MethodGet, "/obp/v3.1.0/banks", ""},                                 // 401
			{http.MethodGet, "/obp/v3.1.0/banks", "Bearer not-a-token"},               // 401 refused
			{http.MethodGet, "/obp/v3.1.0/banks/no.such.bank", dlNoRole},              // 404
			{http.MethodGet, "/obp/v3.1.0/banks/" + bankA + "/customers/x", dlNoRole}, // 403
			{http.MethodGet, "/obp/v3.1.0/no/such/route", dlNoRole},                   // OBP-10404
		} {
			res := e.call(t, c.method, c.path, c.auth, nil, "X-Request-Id", "corr-4711")
			require.Equal(t, "corr-4711", res.header.Get("Correlation-Id"), "%s %s (%d)", c.method, c.path, res.status)
			res = e.call(t, c.method, c.path, c.auth, nil)
			require.NotEmpty(t, res.header.Get("Correlation-Id"))
			require.Equal(t, res.header.Get("X-Request-Id"), res.header.Get("Correlation-Id"))
		}
	})
}
