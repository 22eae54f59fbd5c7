package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent/address"
	"custgraph/ent/customer"
	"custgraph/ent/product"
	"custgraph/internal/access"
)

// The bankingservice.ai tests (rest-compat §1, §5 items 1–3): the seed's
// example request and answer shapes, paging, the error bodies, full
// replace, delete, tenancy, and the same record seen through GraphQL.

const bsaiPath = "/v1/profiles/" + bankA + "/customers"

// bsaiSeedBody is the seed's POST/PUT example (its e-mail, obfuscated in
// the scraped page, replaced by a real address).
func bsaiSeedBody() map[string]any {
	return map[string]any{
		"company":    "text",
		"first_name": "John",
		"last_name":  "Doe",
		"email":      "john.doe@example.com",
		"phone":      "318000201068",
		"address": map[string]any{
			"premise":      58,
			"sub_premise":  "A",
			"building":     "text",
			"postal_code":  "text",
			"thoroughfare": "text",
			"locality":     "Hoofddorp",
			"state":        "Noord-Holland",
			"country":      "NL",
		},
	}
}

// bsaiCheckCustomer checks a Customer answer field by field (types too)
// against the input it was written from; it returns the id.
func bsaiCheckCustomer(t *testing.T, got map[string]any, in map[string]any) string {
	t.Helper()
	require.ElementsMatch(t, []string{"id", "company", "first_name", "last_name", "email", "phone", "address", "created"}, keys(got))
	id, ok := got["id"].(string)
	require.True(t, ok, "id is a string: %v", got["id"])
	u, err := uuid.Parse(id)
	require.NoError(t, err)
	require.Equal(t, uuid.Version(7), u.Version())
	for _, k := range []string{"company", "first_name", "last_name", "email", "phone"} {
		want, _ := in[k].(string)
		require.IsType(t, "", got[k], k)
		require.Equal(t, want, got[k], k)
	}
	created, ok := got["created"].(string)
	require.True(t, ok)
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, created)
	ts, err := time.Parse(time.RFC3339, created)
	require.NoError(t, err)
	sec, nsec := u.Time().UnixTime()
	require.Equal(t, time.Unix(sec, nsec).UTC().Truncate(time.Millisecond), ts)

	inAddr, _ := in["address"].(map[string]any)
	if inAddr == nil {
		require.Contains(t, got, "address")
		require.Nil(t, got["address"])
		return id
	}
	addr, ok := got["address"].(map[string]any)
	require.True(t, ok, "address is an object: %v", got["address"])
	require.ElementsMatch(t, []string{"premise", "sub_premise", "building", "postal_code", "thoroughfare", "locality", "state", "country"}, keys(addr))
	if p, ok := inAddr["premise"]; ok && p != nil {
		require.IsType(t, float64(0), addr["premise"], "premise is a JSON number")
		require.Equal(t, float64(p.(int)), addr["premise"])
	} else {
		require.Nil(t, addr["premise"])
	}
	for _, k := range []string{"sub_premise", "building", "postal_code", "thoroughfare", "locality", "state", "country"} {
		want, _ := inAddr[k].(string)
		require.IsType(t, "", addr[k], k)
		require.Equal(t, want, addr[k], "address.%s", k)
	}
	return id
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// bsaiRequireError checks an error answer: status, body shape, code, and
// that the message starts with prefix.
func bsaiRequireError(t *testing.T, res reply, status int, code, prefix string) {
	t.Helper()
	require.Equal(t, status, res.status, "%s", res.body)
	require.Equal(t, "application/json", res.header.Get("Content-Type"))
	obj := res.object(t)
	require.ElementsMatch(t, []string{"status", "error", "message"}, keys(obj))
	require.Equal(t, float64(status), obj["status"])
	require.Equal(t, code, obj["error"])
	msg, ok := obj["message"].(string)
	require.True(t, ok)
	require.True(t, strings.HasPrefix(msg, prefix), "message %q should start with %q", msg, prefix)
}

// bsaiCounts is how many customers and addresses the database holds.
func (e *env) bsaiCounts(t *testing.T) [2]int {
	t.Helper()
	c, err := e.db.Client.Customer.Query().Count(e.sys)
	require.NoError(t, err)
	a, err := e.db.Client.Address.Query().Count(e.sys)
	require.NoError(t, err)
	return [2]int{c, a}
}

// TestBsaiCustomerLifecycle runs every route's success path with the
// seed's shapes: create, read, list, full replace, delete; and checks the
// database and GraphQL after each.
func TestBsaiCustomerLifecycle(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	seed := bsaiSeedBody()
	var id string

	t.Run("POST creates the customer and its primary address", func(t *testing.T) {
		res := e.call(t, http.MethodPost, bsaiPath, tok, seed)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		id = bsaiCheckCustomer(t, res.object(t), seed)

		c, err := e.db.Client.Customer.Query().Where(customer.ID(uuid.MustParse(id))).WithAddresses().Only(e.sys)
		require.NoError(t, err)
		require.Equal(t, e.A.ID, c.BankID)
		require.Equal(t, "318000201068", c.MobilePhoneNumber)
		require.Equal(t, "John Doe", c.LegalName, "ent derives the legal name")
		require.NotEmpty(t, c.CustomerNumber)
		require.Len(t, c.Edges.Addresses, 1)
		ad := c.Edges.Addresses[0]
		require.True(t, ad.IsPrimary)
		require.Equal(t, 58, *ad.Premise)
		require.Equal(t, "Hoofddorp", ad.City)
		require.Equal(t, "text", ad.Postcode)
		require.Equal(t, "NL", ad.CountryCode)
		require.Equal(t, "Noord-Holland", ad.State)
		require.Equal(t, "text 58A", ad.Line1)
		require.Equal(t, "text", ad.Line2)
	})

	t.Run("GraphQL shows the same customer, its address primary", func(t *testing.T) {
		data := e.gql(t, tok, `query($id: ID!) { node(id: $id) { ... on Customer { id email mobilePhoneNumber legalName
			addresses { edges { node { isPrimary city premise subPremise postcode countryCode } } } } } }`, map[string]any{"id": id})
		require.JSONEq(t, fmt.Sprintf(`{"id":%q,"email":"john.doe@example.com","mobilePhoneNumber":"318000201068","legalName":"John Doe",
			"addresses":{"edges":[{"node":{"isPrimary":true,"city":"Hoofddorp","premise":58,"subPremise":"A","postcode":"text","countryCode":"NL"}}]}}`, id),
			string(data["node"]))
	})

	t.Run("GET returns it", func(t *testing.T) {
		res := e.call(t, http.MethodGet, bsaiPath+"/"+id, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, id, bsaiCheckCustomer(t, res.object(t), seed))
	})

	var bare string
	t.Run("POST without address: address is null", func(t *testing.T) {
		in := map[string]any{"company": "ACME B.V."}
		res := e.call(t, http.MethodPost, bsaiPath, tok, in)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		bare = bsaiCheckCustomer(t, res.object(t), in)
		res = e.call(t, http.MethodGet, bsaiPath+"/"+bare, tok, nil)
		require.Equal(t, http.StatusOK, res.status)
		bsaiCheckCustomer(t, res.object(t), in)
		n, err := e.db.Client.Address.Query().Where(address.CustomerID(uuid.MustParse(bare))).Count(e.sys)
		require.NoError(t, err)
		require.Zero(t, n)
		c, err := e.db.Client.Customer.Get(e.sys, uuid.MustParse(bare))
		require.NoError(t, err)
		require.Equal(t, "ACME B.V.", c.LegalName)
	})

	t.Run("GET list shows both, oldest first", func(t *testing.T) {
		res := e.call(t, http.MethodGet, bsaiPath, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var page struct {
			Page, Pages, Size, Count int
			Data                     []map[string]any
		}
		res.decode(t, &page)
		require.Equal(t, 0, page.Page)
		require.Equal(t, 1, page.Pages)
		require.Equal(t, 20, page.Size)
		require.Equal(t, 2, page.Count)
		require.Len(t, page.Data, 2)
		bsaiCheckCustomer(t, page.Data[0], seed)
		bsaiCheckCustomer(t, page.Data[1], map[string]any{"company": "ACME B.V."})
		require.Equal(t, id, page.Data[0]["id"])
		require.Equal(t, bare, page.Data[1]["id"])
	})

	t.Run("PUT replaces everything: absent fields become empty, the address is replaced in place", func(t *testing.T) {
		before, err := e.db.Client.Address.Query().Where(address.CustomerID(uuid.MustParse(id))).Only(e.sys)
		require.NoError(t, err)
		in := map[string]any{"first_name": "Jane", "address": map[string]any{"locality": "Amsterdam", "country": "NL", "postal_code": "1012 AB"}}
		res := e.call(t, http.MethodPut, bsaiPath+"/"+id, tok, in)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, id, bsaiCheckCustomer(t, res.object(t), in))

		c, err := e.db.Client.Customer.Query().Where(customer.ID(uuid.MustParse(id))).WithAddresses().Only(e.sys)
		require.NoError(t, err)
		require.Equal(t, "Jane", c.FirstName)
		require.Empty(t, c.LastName)
		require.Empty(t, c.Company)
		require.Empty(t, c.Email)
		require.Empty(t, c.MobilePhoneNumber)
		require.Equal(t, "Jane", c.LegalName, "a derived legal name follows the names")
		require.Len(t, c.Edges.Addresses, 1)
		ad := c.Edges.Addresses[0]
		require.Equal(t, before.ID, ad.ID, "the primary address is updated, not replaced by another row")
		require.True(t, ad.IsPrimary)
		require.Nil(t, ad.Premise)
		require.Empty(t, ad.SubPremise)
		require.Empty(t, ad.Building)
		require.Empty(t, ad.Thoroughfare)
		require.Empty(t, ad.State)
		require.Equal(t, "Amsterdam", ad.City)
		require.Equal(t, "1012 AB", ad.Postcode)

		res = e.call(t, http.MethodGet, bsaiPath+"/"+id, tok, nil)
		require.Equal(t, http.StatusOK, res.status)
		bsaiCheckCustomer(t, res.object(t), in)
	})

	t.Run("PUT without address removes the primary address", func(t *testing.T) {
		in := map[string]any{"first_name": "Jane", "last_name": "Roe", "phone": "+31 6 1234 5678"}
		res := e.call(t, http.MethodPut, bsaiPath+"/"+id, tok, in)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		bsaiCheckCustomer(t, res.object(t), in)
		n, err := e.db.Client.Address.Query().Where(address.CustomerID(uuid.MustParse(id))).Count(e.sys)
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("PUT with an address creates the primary address", func(t *testing.T) {
		in := bsaiSeedBody()
		res := e.call(t, http.MethodPut, bsaiPath+"/"+id, tok, in)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		bsaiCheckCustomer(t, res.object(t), in)
		ad, err := e.db.Client.Address.Query().Where(address.CustomerID(uuid.MustParse(id))).Only(e.sys)
		require.NoError(t, err)
		require.True(t, ad.IsPrimary)
		require.Equal(t, 58, *ad.Premise)
	})

	t.Run("DELETE returns the customer as it was; it and its address are gone", func(t *testing.T) {
		res := e.call(t, http.MethodDelete, bsaiPath+"/"+id, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, id, bsaiCheckCustomer(t, res.object(t), seed))

		exists, err := e.db.Client.Customer.Query().Where(customer.ID(uuid.MustParse(id))).Exist(e.sys)
		require.NoError(t, err)
		require.False(t, exists)
		n, err := e.db.Client.Address.Query().Where(address.CustomerID(uuid.MustParse(id))).Count(e.sys)
		require.NoError(t, err)
		require.Zero(t, n)

		bsaiRequireError(t, e.call(t, http.MethodGet, bsaiPath+"/"+id, tok, nil), http.StatusNotFound, "not_found", "customer ")
		bsaiRequireError(t, e.call(t, http.MethodDelete, bsaiPath+"/"+id, tok, nil), http.StatusNotFound, "not_found", "customer ")
		bsaiRequireError(t, e.call(t, http.MethodPut, bsaiPath+"/"+id, tok, seed), http.StatusNotFound, "not_found", "customer ")
	})

	t.Run("DELETE of a customer holding products is 409 and changes nothing", func(t *testing.T) {
		cid := uuid.MustParse(bare)
		_, err := e.db.Client.Product.Create().SetCustomerID(cid).SetProductCode(product.ProductCodeBALANCE_ACCOUNT).Save(e.sys)
		require.NoError(t, err)
		before := e.bsaiCounts(t)
		bsaiRequireError(t, e.call(t, http.MethodDelete, bsaiPath+"/"+bare, tok, nil), http.StatusConflict, "conflict", "the customer holds products")
		require.Equal(t, before, e.bsaiCounts(t))
		res := e.call(t, http.MethodGet, bsaiPath+"/"+bare, tok, nil)
		require.Equal(t, http.StatusOK, res.status)
	})
}

// TestBsaiPaging checks page/pages/size/count, the order across pages and
// the refusal of bad paging parameters.
func TestBsaiPaging(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	type page struct {
		Page, Pages, Size, Count int
		Data                     []map[string]any
	}
	get := func(t *testing.T, query string) page {
		t.Helper()
		res := e.call(t, http.MethodGet, bsaiPath+query, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		obj := res.object(t)
		require.ElementsMatch(t, []string{"page", "pages", "size", "count", "data"}, keys(obj))
		require.NotNil(t, obj["data"], "data is an array, never null")
		var p page
		res.decode(t, &p)
		return p
	}

	t.Run("empty list", func(t *testing.T) {
		p := get(t, "")
		require.Equal(t, page{Page: 0, Pages: 0, Size: 20, Count: 0, Data: []map[string]any{}}, p)
	})

	// 23 customers at bank A (created one after another: distinct UUIDv7
	// times), 2 at bank B that must not show.
	var want []string
	for i := range 23 {
		c, err := e.db.Client.Customer.Create().SetBankID(e.A.ID).SetFirstName(fmt.Sprintf("c%02d", i)).Save(e.sys)
		require.NoError(t, err)
		want = append(want, c.ID.String())
	}
	for range 2 {
		_, err := e.db.Client.Customer.Create().SetBankID(e.B.ID).Save(e.sys)
		require.NoError(t, err)
	}
	ids := func(p page) []string {
		var out []string
		for _, c := range p.Data {
			out = append(out, c["id"].(string))
		}
		return out
	}

	t.Run("default size", func(t *testing.T) {
		p := get(t, "")
		require.Equal(t, 0, p.Page)
		require.Equal(t, 2, p.Pages)
		require.Equal(t, 20, p.Size)
		require.Equal(t, 23, p.Count)
		require.Equal(t, want[:20], ids(p))
		last := get(t, "?page=1")
		require.Equal(t, 1, last.Page)
		require.Equal(t, 2, last.Pages)
		require.Equal(t, want[20:], ids(last))
		require.Equal(t, "c20", last.Data[0]["first_name"])
	})

	t.Run("size 10: three pages, the last one partial, then nothing", func(t *testing.T) {
		var all []string
		for i := range 3 {
			p := get(t, fmt.Sprintf("?page=%d&size=10", i))
			require.Equal(t, i, p.Page)
			require.Equal(t, 3, p.Pages)
			require.Equal(t, 10, p.Size)
			require.Equal(t, 23, p.Count)
			all = append(all, ids(p)...)
		}
		require.Equal(t, want, all)
		p := get(t, "?page=3&size=10")
		require.Equal(t, page{Page: 3, Pages: 3, Size: 10, Count: 23, Data: []map[string]any{}}, p)
		p = get(t, "?page=1000000&size=100")
		require.Equal(t, page{Page: 1000000, Pages: 1, Size: 100, Count: 23, Data: []map[string]any{}}, p)
	})

	t.Run("size 100 and size 1", func(t *testing.T) {
		p := get(t, "?size=100")
		require.Equal(t, want, ids(p))
		require.Equal(t, 1, p.Pages)
		p = get(t, "?size=1&page=22")
		require.Equal(t, 23, p.Pages)
		require.Equal(t, want[22:], ids(p))
	})

	t.Run("bad parameters are 400", func(t *testing.T) {
		for _, q := range []string{"page=-1", "page=abc", "page=", "page=1.5", "page=+1", "page=99999999999999999999999",
			"size=0", "size=101", "size=-5", "size=ten", "size=2.0", "size="} {
			bsaiRequireError(t, e.call(t, http.MethodGet, bsaiPath+"?"+q, tok, nil), http.StatusBadRequest, "invalid_request", strings.SplitN(q, "=", 2)[0]+" must be")
		}
	})
}

// TestBsaiErrors checks every documented error: its status, its body and
// that nothing was written.
func TestBsaiErrors(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	res := e.call(t, http.MethodPost, bsaiPath, tok, bsaiSeedBody())
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	id := res.object(t)["id"].(string)
	one := bsaiPath + "/" + id

	// unchanged checks that the customer is still as the seed created it
	// and that no record was added or removed.
	counts := e.bsaiCounts(t)
	unchanged := func(t *testing.T) {
		t.Helper()
		require.Equal(t, counts, e.bsaiCounts(t), "nothing is written")
		res := e.call(t, http.MethodGet, one, tok, nil)
		require.Equal(t, http.StatusOK, res.status)
		bsaiCheckCustomer(t, res.object(t), bsaiSeedBody())
	}

	t.Run("401 without credentials", func(t *testing.T) {
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, bsaiPath}, {http.MethodPost, bsaiPath}, {http.MethodGet, one}, {http.MethodPut, one}, {http.MethodDelete, one},
		} {
			res := e.call(t, r.method, r.path, "", bsaiSeedBody())
			bsaiRequireError(t, res, http.StatusUnauthorized, "unauthorized", "authentication is required")
			require.Contains(t, res.header.Get("WWW-Authenticate"), "Bearer")
		}
		unchanged(t)
	})

	t.Run("401 with a garbage token", func(t *testing.T) {
		res := e.call(t, http.MethodPost, bsaiPath, "Bearer not-a-token", bsaiSeedBody())
		bsaiRequireError(t, res, http.StatusUnauthorized, "unauthorized", "the access token was refused")
		require.Contains(t, res.header.Get("WWW-Authenticate"), `error="invalid_token"`)
		res = e.call(t, http.MethodGet, one, "Bearer not-a-token", nil)
		bsaiRequireError(t, res, http.StatusUnauthorized, "unauthorized", "the access token was refused")
		unchanged(t)
	})

	t.Run("403 without the role, naming it", func(t *testing.T) {
		reader := e.client(t, e.A, at(e.A, access.CanGetCustomer, access.CanGetCustomerAddress)...)
		res := e.call(t, http.MethodPost, bsaiPath, reader, bsaiSeedBody())
		bsaiRequireError(t, res, http.StatusForbidden, "forbidden", "missing role: CanCreateCustomer")
		require.Contains(t, res.object(t)["message"], "at bank "+bankA)
		res = e.call(t, http.MethodPut, one, reader, map[string]any{"first_name": "Mallory"})
		bsaiRequireError(t, res, http.StatusForbidden, "forbidden", "missing role: ")
		require.Contains(t, res.object(t)["message"], "CanUpdateCustomer")
		res = e.call(t, http.MethodDelete, one, reader, nil)
		bsaiRequireError(t, res, http.StatusForbidden, "forbidden", "missing role: CanDeleteCustomer")

		creator := e.client(t, e.A, at(e.A, access.CanCreateCustomer)...)
		res = e.call(t, http.MethodPost, bsaiPath, creator, bsaiSeedBody())
		bsaiRequireError(t, res, http.StatusForbidden, "forbidden", "missing role: CanCreateCustomerAddress")
		res = e.call(t, http.MethodGet, bsaiPath, creator, nil)
		bsaiRequireError(t, res, http.StatusForbidden, "forbidden", "missing role: CanGetCustomer")
		unchanged(t)
	})

	t.Run("400 bad bodies name the JSON field", func(t *testing.T) {
		for _, c := range []struct {
			name     string
			body     any
			prefix   string
			postOnly bool // ent derives the legal name on create only
		}{
			{"malformed JSON", `{"first_name": "John"`, "the body is not valid JSON", false},
			{"empty body", ``, "the body is empty", false},
			{"array", `[]`, "the body must be a JSON object", false},
			{"null", `null`, "the body must be a JSON object", false},
			{"number for a string", `{"first_name": 5}`, "first_name: must be a string", false},
			{"string premise", `{"address": {"premise": "58"}}`, "address.premise: must be a whole number", false},
			{"fractional premise", `{"address": {"premise": 58.5}}`, "address.premise: must be a whole number", false},
			{"address not an object", `{"address": "Hoofddorp"}`, "address: must be a JSON object", false},
			{"invalid email", map[string]any{"email": "not an email"}, "email: not a valid e-mail address", false},
			{"invalid phone", map[string]any{"phone": "call me"}, "phone: not a valid phone number", false},
			{"short phone", map[string]any{"phone": "123"}, "phone: not a valid phone number", false},
			{"unknown country", map[string]any{"address": map[string]any{"country": "XX"}}, "address.country: ", false},
			{"lower-case country", map[string]any{"address": map[string]any{"country": "nl"}}, "address.country: ", false},
			{"negative premise", map[string]any{"address": map[string]any{"premise": -1}}, "address.premise: ", false},
			{"long postal code", map[string]any{"address": map[string]any{"postal_code": strings.Repeat("9", 21)}}, "address.postal_code: ", false},
			{"long name", map[string]any{"first_name": strings.Repeat("x", 256)}, "first_name: ", false},
			{"names too long together", map[string]any{"first_name": strings.Repeat("x", 200), "last_name": strings.Repeat("y", 200)}, "first_name, last_name: ", false},
			{"long company as the legal name", map[string]any{"company": strings.Repeat("c", 256)}, "company: ", false},
			{"street line too long", map[string]any{"address": map[string]any{"thoroughfare": strings.Repeat("s", 250), "premise": 12345, "sub_premise": "AB"}},
				"address.thoroughfare, address.premise, address.sub_premise: ", false},
			{"valid customer, invalid address", map[string]any{"first_name": "Ann", "address": map[string]any{"country": "XX"}}, "address.country: ", false},
		} {
			t.Run(c.name, func(t *testing.T) {
				bsaiRequireError(t, e.call(t, http.MethodPost, bsaiPath, tok, c.body), http.StatusBadRequest, "invalid_request", c.prefix)
				if !c.postOnly {
					bsaiRequireError(t, e.call(t, http.MethodPut, one, tok, c.body), http.StatusBadRequest, "invalid_request", c.prefix)
				}
				unchanged(t)
			})
		}
	})

	t.Run("415 and 413", func(t *testing.T) {
		res := e.call(t, http.MethodPost, bsaiPath, tok, `{"first_name":"John"}`, "Content-Type", "text/plain")
		bsaiRequireError(t, res, http.StatusUnsupportedMediaType, "unsupported_media_type", "the body must be JSON")
		big := `{"first_name":"` + strings.Repeat("x", 2<<20) + `"}`
		res = e.call(t, http.MethodPost, bsaiPath, tok, big)
		bsaiRequireError(t, res, http.StatusRequestEntityTooLarge, "payload_too_large", "the body is larger than")
		res = e.call(t, http.MethodPut, one, tok, big)
		bsaiRequireError(t, res, http.StatusRequestEntityTooLarge, "payload_too_large", "the body is larger than")
		unchanged(t)
	})

	t.Run("404 unknown customer, malformed id, unknown profile", func(t *testing.T) {
		unknown := bsaiPath + "/" + uuid.Must(uuid.NewV7()).String()
		for _, p := range []string{unknown, bsaiPath + "/not-a-uuid"} {
			bsaiRequireError(t, e.call(t, http.MethodGet, p, tok, nil), http.StatusNotFound, "not_found", "customer ")
			bsaiRequireError(t, e.call(t, http.MethodPut, p, tok, bsaiSeedBody()), http.StatusNotFound, "not_found", "customer ")
			bsaiRequireError(t, e.call(t, http.MethodDelete, p, tok, nil), http.StatusNotFound, "not_found", "customer ")
		}
		nowhere := "/v1/profiles/no.such.bank/customers"
		bsaiRequireError(t, e.call(t, http.MethodGet, nowhere, tok, nil), http.StatusNotFound, "not_found", `profile "no.such.bank" not found`)
		bsaiRequireError(t, e.call(t, http.MethodPost, nowhere, tok, bsaiSeedBody()), http.StatusNotFound, "not_found", "profile ")
		bsaiRequireError(t, e.call(t, http.MethodGet, nowhere+"/"+id, tok, nil), http.StatusNotFound, "not_found", "profile ")
		unchanged(t)
	})

	t.Run("a refused PUT changes nothing, not even the valid part", func(t *testing.T) {
		in := bsaiSeedBody()
		in["first_name"] = "Changed"
		in["address"].(map[string]any)["country"] = "XX"
		bsaiRequireError(t, e.call(t, http.MethodPut, one, tok, in), http.StatusBadRequest, "invalid_request", "address.country: ")
		delete(in, "address")
		in["email"] = "broken@"
		bsaiRequireError(t, e.call(t, http.MethodPut, one, tok, in), http.StatusBadRequest, "invalid_request", "email: ")
		unchanged(t)
	})
}

// TestBsaiTenancy checks that another tenant's credentials neither see
// nor change bank A's customers, and that a customer is found only under
// its own bank's profile.
func TestBsaiTenancy(t *testing.T) {
	e := newEnv(t)
	tokA := e.client(t, e.A, allBankRoles(e.A)...)
	res := e.call(t, http.MethodPost, bsaiPath, tokA, bsaiSeedBody())
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	id := res.object(t)["id"].(string)
	counts := e.bsaiCounts(t)
	unchanged := func(t *testing.T) {
		t.Helper()
		require.Equal(t, counts, e.bsaiCounts(t))
		res := e.call(t, http.MethodGet, bsaiPath+"/"+id, tokA, nil)
		require.Equal(t, http.StatusOK, res.status)
		bsaiCheckCustomer(t, res.object(t), bsaiSeedBody())
	}

	t.Run("a client bound to bank B gets 403 under profile gh.29.uk", func(t *testing.T) {
		// Banks are public: the profile exists, the client holds no role at it.
		tokB := e.client(t, e.B, allBankRoles(e.B)...)
		read := "missing role: CanGetCustomer or CanGetCustomerAtAnyBank at bank " + bankA
		bsaiRequireError(t, e.call(t, http.MethodGet, bsaiPath, tokB, nil), http.StatusForbidden, "forbidden", read)
		bsaiRequireError(t, e.call(t, http.MethodPost, bsaiPath, tokB, bsaiSeedBody()), http.StatusForbidden, "forbidden",
			"missing role: CanCreateCustomer or CanCreateCustomerAtAnyBank at bank "+bankA)
		bsaiRequireError(t, e.call(t, http.MethodGet, bsaiPath+"/"+id, tokB, nil), http.StatusForbidden, "forbidden", read)
		bsaiRequireError(t, e.call(t, http.MethodPut, bsaiPath+"/"+id, tokB, map[string]any{}), http.StatusForbidden, "forbidden", read)
		bsaiRequireError(t, e.call(t, http.MethodDelete, bsaiPath+"/"+id, tokB, nil), http.StatusForbidden, "forbidden", read)
		// …and under its own profile A's customer does not exist.
		other := "/v1/profiles/" + bankB + "/customers/" + id
		bsaiRequireError(t, e.call(t, http.MethodGet, other, tokB, nil), http.StatusNotFound, "not_found", "customer ")
		bsaiRequireError(t, e.call(t, http.MethodPut, other, tokB, map[string]any{}), http.StatusNotFound, "not_found", "customer ")
		bsaiRequireError(t, e.call(t, http.MethodDelete, other, tokB, nil), http.StatusNotFound, "not_found", "customer ")
		res := e.call(t, http.MethodGet, "/v1/profiles/"+bankB+"/customers", tokB, nil)
		require.Equal(t, http.StatusOK, res.status)
		require.Equal(t, float64(0), res.object(t)["count"])
		unchanged(t)
	})

	t.Run("a client of both banks finds the customer only under its bank's profile", func(t *testing.T) {
		both := e.client(t, nil, append(allBankRoles(e.A), allBankRoles(e.B)...)...)
		other := "/v1/profiles/" + bankB + "/customers/" + id
		bsaiRequireError(t, e.call(t, http.MethodGet, other, both, nil), http.StatusNotFound, "not_found", "customer ")
		bsaiRequireError(t, e.call(t, http.MethodPut, other, both, map[string]any{}), http.StatusNotFound, "not_found", "customer ")
		bsaiRequireError(t, e.call(t, http.MethodDelete, other, both, nil), http.StatusNotFound, "not_found", "customer ")
		res := e.call(t, http.MethodGet, bsaiPath+"/"+id, both, nil)
		require.Equal(t, http.StatusOK, res.status)
		unchanged(t)
	})
}
