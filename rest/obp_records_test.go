package rest_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/customermessage"
	"custgraph/ent/socialhandle"
	"custgraph/ent/taxresidence"
	"custgraph/ent/usercustomerlink"
	"custgraph/internal/access"
	"custgraph/internal/admin"
)

// The OBP record routes (rest-compat §3.4 #8–#18, #27, #28): each test
// runs a route's success path with the seed's example body, checks the
// answer field by field against the seed's JSON shape and the database
// (and GraphQL), then walks the route's documented errors in OBP's check
// order and checks that nothing was written by a refused request.

const (
	obpRecV3 = "/obp/v3.1.0/banks/"
	obpRecV5 = "/obp/v5.1.0/banks/"
)

// obpRecStampRe is OBP's body date format, yyyy-MM-dd'T'HH:mm:ss'Z'.
var obpRecStampRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)

// obpRecErr checks an OBP error answer: status, code = status and the
// exact message.
func obpRecErr(t *testing.T, res reply, status int, msg string) {
	t.Helper()
	require.Equal(t, status, res.status, "%s", res.body)
	var b struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	res.decode(t, &b)
	require.Equal(t, status, b.Code)
	require.Equal(t, msg, b.Message)
}

// obpRecErrPrefix checks an OBP error answer whose message starts with prefix.
func obpRecErrPrefix(t *testing.T, res reply, status int, prefix string) {
	t.Helper()
	require.Equal(t, status, res.status, "%s", res.body)
	m := res.object(t)
	require.EqualValues(t, status, m["code"])
	require.True(t, strings.HasPrefix(m["message"].(string), prefix), "message %q does not start with %q", m["message"], prefix)
}

// obpRec401 checks OBP's answer to missing or refused credentials.
func obpRec401(t *testing.T, res reply) {
	t.Helper()
	obpRecErrPrefix(t, res, http.StatusUnauthorized, "OBP-20001: User not logged in. Authentication is required!")
	require.Contains(t, res.header.Get("WWW-Authenticate"), "DirectLogin realm=")
	require.Contains(t, res.header.Get("WWW-Authenticate"), "Bearer realm=")
}

func obpRecMissing(roles string) string {
	return "OBP-20006: User is missing one or more roles: " + roles
}

func obpRecBankNotFound(code string) string {
	return "OBP-30001: Bank not found. Please specify a valid value for BANK_ID. Current BankId is " + code
}

func obpRecCustomerNotFound(id string) string {
	return "OBP-30046: Customer not found. Please specify a valid value for CUSTOMER_ID.. Current CustomerId(" + id + ")"
}

// obpRecCustomer creates a customer of b for the tests.
func obpRecCustomer(t *testing.T, e *env, b *ent.Bank, name string) *ent.Customer {
	t.Helper()
	c, err := e.db.Client.Customer.Create().SetBankID(b.ID).SetLegalName(name).Save(e.sys)
	require.NoError(t, err)
	return c
}

// obpRecSeedAddress is the seed's example address.
func obpRecSeedAddress() map[string]any {
	return map[string]any{
		"line_1": "No 1 the Road", "line_2": "The Place", "line_3": "The Hill", "city": "Berlin", "county": "",
		"state": "Brandenburg", "postcode": "13359", "country_code": "DE", "tags": []string{"mailing", "home"}, "status": "OK",
	}
}

func TestObpRecordAddresses(t *testing.T) {
	e := newEnv(t)
	full := e.client(t, e.A, allBankRoles(e.A)...)
	getOnly := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
	createOnly := e.client(t, e.A, at(e.A, access.CanCreateCustomerAddress)...)
	tokB := e.client(t, e.B, allBankRoles(e.B)...)
	cust := obpRecCustomer(t, e, e.A, "Alice")
	other := obpRecCustomer(t, e, e.A, "Bob")
	custB := obpRecCustomer(t, e, e.B, "Berta")
	base := obpRecV3 + bankA + "/customers/" + cust.ID.String()
	count := func() int { return e.db.Client.Address.Query().CountX(e.sys) }

	var addrID string
	t.Run("create (seed example) with only CanCreateCustomerAddress", func(t *testing.T) {
		res := e.call(t, http.MethodPost, base+"/address", createOnly, obpRecSeedAddress())
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		m := res.object(t)
		addrID = m["customer_address_id"].(string)
		_, err := uuid.Parse(addrID)
		require.NoError(t, err)
		require.Equal(t, cust.ID.String(), m["customer_id"])
		for k, v := range obpRecSeedAddress() {
			if k == "tags" {
				require.Equal(t, []any{"mailing", "home"}, m["tags"])
				continue
			}
			require.Equal(t, v, m[k], k)
		}
		require.Equal(t, "OK", m["status"], "status is stored as sent, not the state")
		require.Regexp(t, obpRecStampRe, m["insert_date"])
		require.Len(t, m, 13)

		ad, err := e.db.Client.Address.Get(e.sys, uuid.MustParse(addrID))
		require.NoError(t, err)
		require.Equal(t, cust.ID, ad.CustomerID)
		require.Equal(t, "No 1 the Road", ad.Line1)
		require.Equal(t, "OK", ad.Status)
		require.Equal(t, "Brandenburg", ad.State)
		require.Equal(t, []string{"mailing", "home"}, ad.Tags)
		require.Equal(t, ad.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"), m["insert_date"])

		data := e.gql(t, full, `query($id: ID!) { node(id: $id) { ... on Customer { addresses { edges { node { id line1 city status countryCode } } } } } }`,
			map[string]any{"id": cust.ID.String()})
		var g struct {
			Addresses struct {
				Edges []struct {
					Node struct{ ID, Line1, City, Status, CountryCode string }
				}
			}
		}
		require.NoError(t, json.Unmarshal(data["node"], &g))
		require.Len(t, g.Addresses.Edges, 1)
		require.Equal(t, addrID, g.Addresses.Edges[0].Node.ID)
		require.Equal(t, "Berlin", g.Addresses.Edges[0].Node.City)
		require.Equal(t, "OK", g.Addresses.Edges[0].Node.Status)
	})

	t.Run("create errors in OBP's order, nothing written", func(t *testing.T) {
		before := count()
		body := obpRecSeedAddress()
		obpRec401(t, e.call(t, http.MethodPost, base+"/address", "", body))
		obpRec401(t, e.call(t, http.MethodPost, base+"/address", "Bearer not-a-token", body))
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV3+"no.such.bank/customers/"+cust.ID.String()+"/address", full, body),
			http.StatusNotFound, obpRecBankNotFound("no.such.bank"))
		// Banks are public: another bank, where the caller holds no role, is 403.
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV3+bankB+"/customers/"+custB.ID.String()+"/address", full, body),
			http.StatusForbidden, obpRecMissing("CanCreateCustomerAddress at Bank(at.02.0061)"))
		// R before J: no role and a broken body is 403.
		obpRecErr(t, e.call(t, http.MethodPost, base+"/address", getOnly, "{"),
			http.StatusForbidden, obpRecMissing("CanCreateCustomerAddress at Bank(gh.29.uk)"))
		obpRecErr(t, e.call(t, http.MethodPost, base+"/address", getOnly, body),
			http.StatusForbidden, obpRecMissing("CanCreateCustomerAddress at Bank(gh.29.uk)"))
		// J before C: a broken body for an unknown customer is 400.
		obpRecErrPrefix(t, e.call(t, http.MethodPost, obpRecV3+bankA+"/customers/"+uuid.NewString()+"/address", full, "{"),
			http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the PostCustomerAddressJsonV310")
		obpRecErrPrefix(t, e.call(t, http.MethodPost, base+"/address", full, map[string]any{"line_1": 5}),
			http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the PostCustomerAddressJsonV310 (line_1: must be a string")
		missing := obpRecSeedAddress()
		delete(missing, "status")
		obpRecErr(t, e.call(t, http.MethodPost, base+"/address", full, missing),
			http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the PostCustomerAddressJsonV310 (status: is required)")
		obpRecErrPrefix(t, e.call(t, http.MethodPost, base+"/address", full, "[1]"),
			http.StatusBadRequest, "OBP-10001: Incorrect json format.")
		unknown := uuid.NewString()
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV3+bankA+"/customers/"+unknown+"/address", full, body),
			http.StatusNotFound, obpRecCustomerNotFound(unknown))
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV3+bankA+"/customers/not-a-uuid/address", full, body),
			http.StatusNotFound, obpRecCustomerNotFound("not-a-uuid"))
		// A customer of the other bank, under this bank's path: not found.
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV3+bankA+"/customers/"+custB.ID.String()+"/address", full, body),
			http.StatusNotFound, obpRecCustomerNotFound(custB.ID.String()))
		// ent's rules: country_code is 2 letters, postcode at most 20.
		bad := obpRecSeedAddress()
		bad["country_code"] = "DEU"
		obpRecErrPrefix(t, e.call(t, http.MethodPost, base+"/address", full, bad), http.StatusBadRequest, "OBP-10020: Incorrect json. ")
		bad = obpRecSeedAddress()
		bad["postcode"] = strings.Repeat("1", 21)
		res := e.call(t, http.MethodPost, base+"/address", full, bad)
		obpRecErrPrefix(t, res, http.StatusBadRequest, "OBP-10020: Incorrect json. ")
		require.Contains(t, res.object(t)["message"], "postcode")
		res = e.call(t, http.MethodPost, base+"/address", full, "{}", "Content-Type", "text/plain")
		obpRecErrPrefix(t, res, http.StatusBadRequest, "OBP-10001: Incorrect json format.")
		require.Equal(t, before, count())
	})

	t.Run("list", func(t *testing.T) {
		res := e.call(t, http.MethodGet, base+"/addresses", full, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var out struct {
			Addresses []map[string]any `json:"addresses"`
		}
		res.decode(t, &out)
		require.Len(t, out.Addresses, 1)
		a := out.Addresses[0]
		require.Equal(t, addrID, a["customer_address_id"])
		require.Equal(t, cust.ID.String(), a["customer_id"])
		require.Equal(t, "The Hill", a["line_3"])
		require.Equal(t, "13359", a["postcode"])
		require.Equal(t, "DE", a["country_code"])
		require.Equal(t, []any{"mailing", "home"}, a["tags"])
		require.Regexp(t, obpRecStampRe, a["insert_date"])

		res = e.call(t, http.MethodGet, obpRecV3+bankA+"/customers/"+other.ID.String()+"/addresses", full, nil)
		require.Equal(t, http.StatusOK, res.status)
		require.JSONEq(t, `{"addresses":[]}`, string(res.body))

		obpRec401(t, e.call(t, http.MethodGet, base+"/addresses", "", nil))
		obpRecErr(t, e.call(t, http.MethodGet, base+"/addresses", getOnly, nil),
			http.StatusForbidden, obpRecMissing("CanGetCustomerAddress at Bank(gh.29.uk)"))
		// Bank B's client: bank A does not exist for it.
		obpRecErr(t, e.call(t, http.MethodGet, base+"/addresses", tokB, nil), http.StatusForbidden, obpRecMissing("CanGetCustomerAddress at Bank(gh.29.uk)"))
		obpRecErr(t, e.call(t, http.MethodGet, obpRecV3+bankB+"/customers/"+cust.ID.String()+"/addresses", tokB, nil),
			http.StatusNotFound, obpRecCustomerNotFound(cust.ID.String()))
	})

	t.Run("update", func(t *testing.T) {
		body := obpRecSeedAddress()
		body["line_1"] = "No 2 the Road"
		body["tags"] = []string{"work"}
		body["status"] = "MOVED"
		onlyCustomer := e.client(t, e.A, at(e.A, access.CanCreateCustomer)...)
		res := e.call(t, http.MethodPut, base+"/addresses/"+addrID, onlyCustomer, body)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		m := res.object(t)
		require.Equal(t, addrID, m["customer_address_id"])
		require.Equal(t, cust.ID.String(), m["customer_id"])
		require.Equal(t, "No 2 the Road", m["line_1"])
		require.Equal(t, []any{"work"}, m["tags"])
		require.Equal(t, "MOVED", m["status"])
		require.Regexp(t, obpRecStampRe, m["insert_date"])
		ad := e.db.Client.Address.GetX(e.sys, uuid.MustParse(addrID))
		require.Equal(t, "No 2 the Road", ad.Line1)
		require.Equal(t, "MOVED", ad.Status)

		path := base + "/addresses/" + addrID
		obpRec401(t, e.call(t, http.MethodPut, path, "", body))
		obpRecErr(t, e.call(t, http.MethodPut, path, getOnly, "{"),
			http.StatusForbidden, obpRecMissing("CanCreateCustomerAddress or CanCreateCustomer for BankId(gh.29.uk)."))
		obpRecErrPrefix(t, e.call(t, http.MethodPut, obpRecV3+bankA+"/customers/"+uuid.NewString()+"/addresses/"+addrID, full, "nope"),
			http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the PostCustomerAddressJsonV310")
		unknown := uuid.NewString()
		obpRecErr(t, e.call(t, http.MethodPut, obpRecV3+bankA+"/customers/"+unknown+"/addresses/"+addrID, full, body),
			http.StatusNotFound, obpRecCustomerNotFound(unknown))
		chain := "OBP-50200: Connector cannot return the data we requested. <- OBP-30310: Customer's Address not found by CUSTOMER_ADDRESS_ID. "
		body["line_1"] = "should not land"
		obpRecErr(t, e.call(t, http.MethodPut, base+"/addresses/"+uuid.NewString(), full, body), http.StatusBadRequest, chain)
		obpRecErr(t, e.call(t, http.MethodPut, base+"/addresses/x", full, body), http.StatusBadRequest, chain)
		// The address of another customer is not this customer's.
		obpRecErr(t, e.call(t, http.MethodPut, obpRecV3+bankA+"/customers/"+other.ID.String()+"/addresses/"+addrID, full, body),
			http.StatusBadRequest, chain)
		bad := obpRecSeedAddress()
		bad["country_code"] = "1254"
		obpRecErrPrefix(t, e.call(t, http.MethodPut, path, full, bad), http.StatusBadRequest, "OBP-10020: Incorrect json. ")
		require.Equal(t, "No 2 the Road", e.db.Client.Address.GetX(e.sys, uuid.MustParse(addrID)).Line1)
	})

	t.Run("delete", func(t *testing.T) {
		path := base + "/addresses/" + addrID
		chain := "OBP-50200: Connector cannot return the data we requested. <- OBP-30310: Customer's Address not found by CUSTOMER_ADDRESS_ID. "
		obpRec401(t, e.call(t, http.MethodDelete, path, "", nil))
		obpRecErr(t, e.call(t, http.MethodDelete, path, createOnly, nil),
			http.StatusForbidden, obpRecMissing("CanDeleteCustomerAddress at Bank(gh.29.uk)"))
		obpRecErr(t, e.call(t, http.MethodDelete, path, tokB, nil), http.StatusForbidden, obpRecMissing("CanDeleteCustomerAddress at Bank(gh.29.uk)"))
		// A DirectLogin user of bank B: neither through A's path nor through B's.
		_, userB := e.user(t, "banker.b", allBankRoles(e.B)...)
		obpRecErr(t, e.call(t, http.MethodDelete, path, userB, nil), http.StatusForbidden, obpRecMissing("CanDeleteCustomerAddress at Bank(gh.29.uk)"))
		obpRecErr(t, e.call(t, http.MethodDelete, obpRecV3+bankB+"/customers/"+custB.ID.String()+"/addresses/"+addrID, userB, nil),
			http.StatusBadRequest, "OBP-50200: Connector cannot return the data we requested. <- OBP-30310: Customer's Address not found by CUSTOMER_ADDRESS_ID. ")
		unknown := uuid.NewString()
		obpRecErr(t, e.call(t, http.MethodDelete, obpRecV3+bankA+"/customers/"+unknown+"/addresses/"+addrID, full, nil),
			http.StatusNotFound, obpRecCustomerNotFound(unknown))
		obpRecErr(t, e.call(t, http.MethodDelete, obpRecV3+bankA+"/customers/"+other.ID.String()+"/addresses/"+addrID, full, nil),
			http.StatusBadRequest, chain)
		obpRecErr(t, e.call(t, http.MethodDelete, base+"/addresses/"+uuid.NewString(), full, nil), http.StatusBadRequest, chain)
		require.True(t, e.db.Client.Address.Query().Where(address.ID(uuid.MustParse(addrID))).ExistX(e.sys))

		res := e.call(t, http.MethodDelete, path, full, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.JSONEq(t, "true", string(res.body))
		require.False(t, e.db.Client.Address.Query().Where(address.ID(uuid.MustParse(addrID))).ExistX(e.sys))
		obpRecErr(t, e.call(t, http.MethodDelete, path, full, nil), http.StatusBadRequest, chain)
	})
}

func TestObpRecordTaxResidences(t *testing.T) {
	e := newEnv(t)
	full := e.client(t, e.A, allBankRoles(e.A)...)
	getOnly := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
	tokB := e.client(t, e.B, allBankRoles(e.B)...)
	cust := obpRecCustomer(t, e, e.A, "Alice")
	other := obpRecCustomer(t, e, e.A, "Bob")
	custB := obpRecCustomer(t, e, e.B, "Berta")
	base := obpRecV3 + bankA + "/customers/" + cust.ID.String()
	seed := map[string]any{"domain": "Enter some domain", "tax_number": "Enter some number"}
	count := func() int { return e.db.Client.TaxResidence.Query().CountX(e.sys) }

	var taxID string
	t.Run("create (seed example)", func(t *testing.T) {
		res := e.call(t, http.MethodPost, base+"/tax-residence", full, seed)
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		m := res.object(t)
		require.Len(t, m, 3)
		require.Equal(t, "Enter some domain", m["domain"])
		require.Equal(t, "Enter some number", m["tax_number"])
		taxID = m["tax_residence_id"].(string)
		tr := e.db.Client.TaxResidence.GetX(e.sys, uuid.MustParse(taxID))
		require.Equal(t, cust.ID, tr.CustomerID)
		require.Equal(t, "Enter some domain", tr.Domain)

		data := e.gql(t, full, `query($id: ID!) { node(id: $id) { ... on Customer { taxResidences { edges { node { id domain taxNumber } } } } } }`,
			map[string]any{"id": cust.ID.String()})
		var g struct {
			TaxResidences struct {
				Edges []struct {
					Node struct{ ID, Domain, TaxNumber string }
				}
			}
		}
		require.NoError(t, json.Unmarshal(data["node"], &g))
		require.Len(t, g.TaxResidences.Edges, 1)
		require.Equal(t, taxID, g.TaxResidences.Edges[0].Node.ID)
		require.Equal(t, "Enter some number", g.TaxResidences.Edges[0].Node.TaxNumber)
	})

	t.Run("create errors, nothing written", func(t *testing.T) {
		before := count()
		obpRec401(t, e.call(t, http.MethodPost, base+"/tax-residence", "", seed))
		obpRecErr(t, e.call(t, http.MethodPost, base+"/tax-residence", tokB, seed), http.StatusForbidden, obpRecMissing("CanCreateTaxResidence at Bank(gh.29.uk)"))
		obpRecErr(t, e.call(t, http.MethodPost, base+"/tax-residence", getOnly, "{"),
			http.StatusForbidden, obpRecMissing("CanCreateTaxResidence at Bank(gh.29.uk)"))
		obpRecErrPrefix(t, e.call(t, http.MethodPost, base+"/tax-residence", full, "{"),
			http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the PostTaxResidenceJsonV310")
		obpRecErr(t, e.call(t, http.MethodPost, base+"/tax-residence", full, map[string]any{"domain": "x"}),
			http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the PostTaxResidenceJsonV310 (tax_number: is required)")
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV3+bankA+"/customers/"+custB.ID.String()+"/tax-residence", full, seed),
			http.StatusNotFound, obpRecCustomerNotFound(custB.ID.String()))
		// ent's unique (customer, domain, tax_number): 400 OBP-50200.
		obpRecErrPrefix(t, e.call(t, http.MethodPost, base+"/tax-residence", full, seed),
			http.StatusBadRequest, "OBP-50200: Connector cannot return the data we requested.")
		obpRecErrPrefix(t, e.call(t, http.MethodPost, base+"/tax-residence", full, map[string]any{"domain": "", "tax_number": "1"}),
			http.StatusBadRequest, "OBP-10020: Incorrect json. ")
		require.Equal(t, before, count())
	})

	t.Run("list", func(t *testing.T) {
		res := e.call(t, http.MethodGet, base+"/tax-residences", full, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.JSONEq(t, `{"tax_residence":[{"domain":"Enter some domain","tax_number":"Enter some number","tax_residence_id":"`+taxID+`"}]}`, string(res.body))
		obpRec401(t, e.call(t, http.MethodGet, base+"/tax-residences", "", nil))
		obpRecErr(t, e.call(t, http.MethodGet, base+"/tax-residences", getOnly, nil),
			http.StatusForbidden, obpRecMissing("CanGetTaxResidence at Bank(gh.29.uk)"))
		obpRecErr(t, e.call(t, http.MethodGet, base+"/tax-residences", tokB, nil), http.StatusForbidden, obpRecMissing("CanGetTaxResidence at Bank(gh.29.uk)"))
	})

	t.Run("delete", func(t *testing.T) {
		path := base + "/tax_residencies/" + taxID
		chain := "OBP-50200: Connector cannot return the data we requested. <- OBP-30300: Tax Residence not found by TAX_RESIDENCE_ID. "
		obpRec401(t, e.call(t, http.MethodDelete, path, "", nil))
		obpRecErr(t, e.call(t, http.MethodDelete, path, getOnly, nil),
			http.StatusForbidden, obpRecMissing("CanDeleteTaxResidence at Bank(gh.29.uk)"))
		obpRecErr(t, e.call(t, http.MethodDelete, path, tokB, nil), http.StatusForbidden, obpRecMissing("CanDeleteTaxResidence at Bank(gh.29.uk)"))
		unknown := uuid.NewString()
		obpRecErr(t, e.call(t, http.MethodDelete, obpRecV3+bankA+"/customers/"+unknown+"/tax_residencies/"+taxID, full, nil),
			http.StatusNotFound, obpRecCustomerNotFound(unknown))
		obpRecErr(t, e.call(t, http.MethodDelete, obpRecV3+bankA+"/customers/"+other.ID.String()+"/tax_residencies/"+taxID, full, nil),
			http.StatusBadRequest, chain)
		obpRecErr(t, e.call(t, http.MethodDelete, base+"/tax_residencies/"+uuid.NewString(), full, nil), http.StatusBadRequest, chain)
		require.True(t, e.db.Client.TaxResidence.Query().Where(taxresidence.ID(uuid.MustParse(taxID))).ExistX(e.sys))
		res := e.call(t, http.MethodDelete, path, full, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.JSONEq(t, "true", string(res.body))
		require.False(t, e.db.Client.TaxResidence.Query().Where(taxresidence.ID(uuid.MustParse(taxID))).ExistX(e.sys))
	})
}

func TestObpRecordSocialHandles(t *testing.T) {
	e := newEnv(t)
	full := e.client(t, e.A, allBankRoles(e.A)...)
	getOnly := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
	tokB := e.client(t, e.B, allBankRoles(e.B)...)
	cust := obpRecCustomer(t, e, e.A, "Alice")
	other := obpRecCustomer(t, e, e.A, "Bob")
	custB := obpRecCustomer(t, e, e.B, "Berta")
	path := obpRecV3 + bankA + "/customers/" + cust.ID.String() + "/social_media_handles"
	count := func() int { return e.db.Client.SocialHandle.Query().CountX(e.sys) }

	t.Run("create (seed example) and list newest first", func(t *testing.T) {
		res := e.call(t, http.MethodPost, path, full, map[string]any{
			"customer_number": cust.CustomerNumber, "type": "twitter", "handle": "@alice",
			"date_added": "2024-02-13T20:38:17Z", "date_activated": "2024-02-14",
		})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		require.JSONEq(t, `{"success":"Success"}`, string(res.body))
		// Without customer_number and dates: the path's customer, added now.
		res = e.call(t, http.MethodPost, path, full, map[string]any{"type": "mastodon", "handle": "@alice@example.org"})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)

		hs := e.db.Client.SocialHandle.Query().Where(socialhandle.CustomerID(cust.ID)).AllX(e.sys)
		require.Len(t, hs, 2)

		res = e.call(t, http.MethodGet, path, full, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var out struct {
			Checks []map[string]any `json:"checks"`
		}
		res.decode(t, &out)
		require.Len(t, out.Checks, 2)
		newest, oldest := out.Checks[0], out.Checks[1]
		require.Equal(t, "mastodon", newest["type"])
		require.Nil(t, newest["date_activated"])
		require.Regexp(t, obpRecStampRe, newest["date_added"])
		require.Equal(t, map[string]any{
			"customer_number": cust.CustomerNumber, "type": "twitter", "handle": "@alice",
			"date_added": "2024-02-13T20:38:17Z", "date_activated": "2024-02-14T00:00:00Z",
		}, oldest)

		data := e.gql(t, full, `query($id: ID!) { node(id: $id) { ... on Customer { socialHandles { edges { node { id handle } } } } } }`,
			map[string]any{"id": cust.ID.String()})
		var g struct {
			SocialHandles struct {
				Edges []struct{ Node struct{ ID, Handle string } }
			}
		}
		require.NoError(t, json.Unmarshal(data["node"], &g))
		require.Len(t, g.SocialHandles.Edges, 2)
		ids := []string{hs[0].ID.String(), hs[1].ID.String()}
		require.Contains(t, ids, g.SocialHandles.Edges[0].Node.ID)
		require.Contains(t, ids, g.SocialHandles.Edges[1].Node.ID)
	})

	t.Run("create errors in v2.0.0's order, nothing written", func(t *testing.T) {
		before := count()
		body := map[string]any{"type": "x", "handle": "@a"}
		obpRec401(t, e.call(t, http.MethodPost, path, "", body))
		// J comes first, as in OBP's v2.0.0 (§3.4 #15: A→J→BANK_ID format→B→R→C),
		// with OBP's bare text: before the role, the bank's format and the bank.
		obpRecErr(t, e.call(t, http.MethodPost, path, getOnly, "{"), http.StatusBadRequest, "OBP-10001: Incorrect json format.")
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV3+"bad!bank/customers/"+cust.ID.String()+"/social_media_handles", getOnly, "{"),
			http.StatusBadRequest, "OBP-10001: Incorrect json format.")
		obpRecErr(t, e.call(t, http.MethodPost, path, full, "{"), http.StatusBadRequest, "OBP-10001: Incorrect json format.")
		obpRecErr(t, e.call(t, http.MethodPost, path, full, map[string]any{"date_added": "yesterday"}),
			http.StatusBadRequest, "OBP-10001: Incorrect json format.")
		obpRecErr(t, e.call(t, http.MethodPost, path, full, map[string]any{"type": "twitter"}),
			http.StatusBadRequest, "OBP-10001: Incorrect json format.")
		obpRecErr(t, e.call(t, http.MethodPost, path, full, map[string]any{"handle": "@a"}),
			http.StatusBadRequest, "OBP-10001: Incorrect json format.")
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV3+"bad!bank/customers/"+cust.ID.String()+"/social_media_handles", getOnly, body),
			http.StatusBadRequest, "OBP-30111: Invalid Bank Id. The BANK_ID should only contain 0-9/a-z/A-Z/'-'/'.'/'_', the length should be smaller than 255.")
		obpRecErr(t, e.call(t, http.MethodPost, path, tokB, body), http.StatusForbidden, obpRecMissing("CanAddSocialMediaHandle at Bank(gh.29.uk)"))
		obpRecErr(t, e.call(t, http.MethodPost, path, getOnly, body),
			http.StatusForbidden, obpRecMissing("CanAddSocialMediaHandle at Bank(gh.29.uk)"))
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV3+bankA+"/customers/"+custB.ID.String()+"/social_media_handles", full, body),
			http.StatusNotFound, obpRecCustomerNotFound(custB.ID.String()))
		// §5.11: the handle is the path customer's; another customer's number is refused.
		obpRecErrPrefix(t, e.call(t, http.MethodPost, path, full, map[string]any{"customer_number": other.CustomerNumber, "type": "x", "handle": "@a"}),
			http.StatusBadRequest, "OBP-10001: Incorrect json format.")
		// ent's sizes: type ≤ 16, handle ≤ 64, both not empty; one handle once.
		obpRecErrPrefix(t, e.call(t, http.MethodPost, path, full, map[string]any{"type": strings.Repeat("t", 17), "handle": "@a"}),
			http.StatusBadRequest, "OBP-10020: Incorrect json. ")
		obpRecErrPrefix(t, e.call(t, http.MethodPost, path, full, map[string]any{"type": "x", "handle": strings.Repeat("h", 65)}),
			http.StatusBadRequest, "OBP-10020: Incorrect json. ")
		obpRecErrPrefix(t, e.call(t, http.MethodPost, path, full, map[string]any{"type": "x", "handle": ""}),
			http.StatusBadRequest, "OBP-10020: Incorrect json. ")
		obpRecErrPrefix(t, e.call(t, http.MethodPost, path, full, map[string]any{"type": "twitter", "handle": "@alice"}),
			http.StatusBadRequest, "OBP-50200: ")
		require.Equal(t, before, count())
	})

	t.Run("list errors", func(t *testing.T) {
		obpRec401(t, e.call(t, http.MethodGet, path, "", nil))
		obpRecErr(t, e.call(t, http.MethodGet, path, tokB, nil), http.StatusForbidden, obpRecMissing("CanGetSocialMediaHandles at Bank(gh.29.uk)"))
		obpRecErr(t, e.call(t, http.MethodGet, path, getOnly, nil),
			http.StatusForbidden, obpRecMissing("CanGetSocialMediaHandles at Bank(gh.29.uk)"))
		unknown := uuid.NewString()
		obpRecErr(t, e.call(t, http.MethodGet, obpRecV3+bankA+"/customers/"+unknown+"/social_media_handles", full, nil),
			http.StatusNotFound, obpRecCustomerNotFound(unknown))
		res := e.call(t, http.MethodGet, obpRecV3+bankA+"/customers/"+other.ID.String()+"/social_media_handles", full, nil)
		require.Equal(t, http.StatusOK, res.status)
		require.JSONEq(t, `{"checks":[]}`, string(res.body))
	})
}

func TestObpRecordUserCustomerLinks(t *testing.T) {
	e := newEnv(t)
	full := e.client(t, e.A, allBankRoles(e.A)...)
	getOnly := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
	both := e.client(t, nil, append(at(e.A, access.CanCreateUserCustomerLink), at(e.B, access.CanCreateUserCustomerLink)...)...)
	anywhere := e.client(t, nil, anyBank(access.CanCreateUserCustomerLink)...)
	cust := obpRecCustomer(t, e, e.A, "Alice")
	cust2 := obpRecCustomer(t, e, e.A, "Alice 2")
	custB := obpRecCustomer(t, e, e.B, "Berta")
	u, err := e.db.Client.User.Create().SetUsername("linked.user").Save(e.sys)
	require.NoError(t, err)
	u2, err := e.db.Client.User.Create().SetUsername("second.user").Save(e.sys)
	require.NoError(t, err)
	path := obpRecV3 + bankA + "/user_customer_links"
	count := func() int { return e.db.Client.UserCustomerLink.Query().CountX(e.sys) }

	t.Run("create", func(t *testing.T) {
		res := e.call(t, http.MethodPost, path, full, map[string]any{"user_id": u.ID.String(), "customer_id": cust.ID.String()})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		m := res.object(t)
		require.Len(t, m, 5)
		require.Equal(t, cust.ID.String(), m["customer_id"])
		require.Equal(t, u.ID.String(), m["user_id"])
		require.Equal(t, true, m["is_active"])
		require.Regexp(t, obpRecStampRe, m["date_inserted"])
		l := e.db.Client.UserCustomerLink.GetX(e.sys, uuid.MustParse(m["user_customer_link_id"].(string)))
		require.Equal(t, u.ID, l.UserID)
		require.Equal(t, cust.ID, l.CustomerID)
		require.Equal(t, e.A.ID, l.BankID)

		// The AtAnyBank grant is the documented alternative.
		res = e.call(t, http.MethodPost, path, anywhere, map[string]any{"user_id": u2.ID.String(), "customer_id": cust2.ID.String()})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)

		data := e.gql(t, full, `query($id: ID!) { node(id: $id) { ... on Customer { userLinks { edges { node { id userID } } } } } }`,
			map[string]any{"id": cust.ID.String()})
		var g struct {
			UserLinks struct {
				Edges []struct{ Node struct{ ID, UserID string } }
			}
		}
		require.NoError(t, json.Unmarshal(data["node"], &g))
		require.Len(t, g.UserLinks.Edges, 1)
		require.Equal(t, m["user_customer_link_id"], g.UserLinks.Edges[0].Node.ID)
	})

	t.Run("a user is linked to several customers of a bank, as in OBP", func(t *testing.T) {
		cust3 := obpRecCustomer(t, e, e.A, "Alice 3")
		res := e.call(t, http.MethodPost, path, full, map[string]any{"user_id": u.ID.String(), "customer_id": cust3.ID.String()})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		// …each once.
		obpRecErr(t, e.call(t, http.MethodPost, path, full, map[string]any{"user_id": u.ID.String(), "customer_id": cust3.ID.String()}),
			http.StatusBadRequest, "OBP-30007: The User is already linked to a Customer at the bank specified by BANK_ID")
		// The user sees both through OBP's routes of the current user.
		password := "pw-" + uuid.NewString()
		_, err := admin.SetPassword(e.sys, e.db.Client, u.ID, password)
		require.NoError(t, err)
		dl := e.directLogin(t, u.Username, password)
		for _, p := range []string{"/obp/v3.1.0/users/current/customers", obpRecV3 + bankA + "/customers"} {
			res = e.call(t, http.MethodGet, p, dl, nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var mine struct{ Customers []map[string]any }
			res.decode(t, &mine)
			got := []any{}
			for _, c := range mine.Customers {
				got = append(got, c["customer_id"])
			}
			require.ElementsMatch(t, []any{cust.ID.String(), cust3.ID.String()}, got, p)
		}
	})

	t.Run("errors in OBP's order, nothing written", func(t *testing.T) {
		before := count()
		body := map[string]any{"user_id": u2.ID.String(), "customer_id": cust.ID.String()}
		obpRec401(t, e.call(t, http.MethodPost, path, "", body))
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV3+"bad!bank/user_customer_links", getOnly, "{"),
			http.StatusBadRequest, "OBP-30111: Invalid Bank Id. The BANK_ID should only contain 0-9/a-z/A-Z/'-'/'.'/'_', the length should be smaller than 255.")
		obpRecErr(t, e.call(t, http.MethodPost, path, getOnly, "{"), http.StatusForbidden,
			obpRecMissing("CanCreateUserCustomerLink or CanCreateUserCustomerLinkAtAnyBank for BankId(gh.29.uk)."))
		obpRecErrPrefix(t, e.call(t, http.MethodPost, path, full, "{"),
			http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the CreateUserCustomerLinkJson")
		obpRecErrPrefix(t, e.call(t, http.MethodPost, path, full, map[string]any{"user_id": "nobody"}),
			http.StatusNotFound, "OBP-20057: User not found by userId.")
		obpRecErr(t, e.call(t, http.MethodPost, path, full, map[string]any{"user_id": u2.ID.String()}),
			http.StatusBadRequest, "Field customer_id is not defined in the posted json!")
		unknown := uuid.NewString()
		obpRecErr(t, e.call(t, http.MethodPost, path, full, map[string]any{"user_id": u2.ID.String(), "customer_id": unknown}),
			http.StatusNotFound, obpRecCustomerNotFound(unknown))
		// Tenancy: bank A's client cannot name bank B's customer at all.
		obpRecErr(t, e.call(t, http.MethodPost, path, full, map[string]any{"user_id": u2.ID.String(), "customer_id": custB.ID.String()}),
			http.StatusNotFound, obpRecCustomerNotFound(custB.ID.String()))
		// A caller of both banks: the customer's bank must be BANK_ID.
		obpRecErr(t, e.call(t, http.MethodPost, path, both, map[string]any{"user_id": u2.ID.String(), "customer_id": custB.ID.String()}),
			http.StatusBadRequest, "Bank of the customer specified by the CUSTOMER_ID("+custB.ID.String()+") has to matches BANK_ID(gh.29.uk) in URL")
		// The user is already linked to this customer.
		obpRecErr(t, e.call(t, http.MethodPost, path, full, map[string]any{"user_id": u.ID.String(), "customer_id": cust.ID.String()}),
			http.StatusBadRequest, "OBP-30007: The User is already linked to a Customer at the bank specified by BANK_ID")
		// A well-formed id of no user.
		obpRecErrPrefix(t, e.call(t, http.MethodPost, path, full, map[string]any{"user_id": uuid.NewString(), "customer_id": cust.ID.String()}),
			http.StatusNotFound, "OBP-20057: User not found by userId.")
		require.Equal(t, before, count())
	})
}

func TestObpRecordCrmEvents(t *testing.T) {
	e := newEnv(t)
	full := e.client(t, e.A, allBankRoles(e.A)...)
	tokB := e.client(t, e.B, allBankRoles(e.B)...)
	_, banker := e.user(t, "crm.banker", at(e.A, access.CanGetCustomer)...)
	path := obpRecV3 + bankA + "/crm-events"

	t.Run("empty list is 200", func(t *testing.T) {
		res := e.call(t, http.MethodGet, path, full, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.JSONEq(t, `{"crm_events":[]}`, string(res.body))
	})

	cust := obpRecCustomer(t, e, e.A, "Alice")
	when := time.Date(2024, 2, 13, 20, 38, 17, 0, time.UTC)
	ev, err := e.db.Client.CrmEvent.Create().SetBankID(e.A.ID).SetCustomerID(cust.ID).SetCustomerName("String").
		SetCustomerNumber("5987953").SetCategory("Call").SetDetail("Asked about rates").SetChannel("phone").
		SetScheduledDate(when).SetResult("done").Save(e.sys)
	require.NoError(t, err)
	_, err = e.db.Client.CrmEvent.Create().SetBankID(e.B.ID).SetCategory("B only").Save(e.sys)
	require.NoError(t, err)

	t.Run("the bank's events (DirectLogin user)", func(t *testing.T) {
		res := e.call(t, http.MethodGet, path, banker, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.JSONEq(t, `{"crm_events":[{"id":"`+ev.ID.String()+`","bank_id":"gh.29.uk","customer_name":"String",
			"customer_number":"5987953","category":"Call","detail":"Asked about rates","channel":"phone",
			"scheduled_date":"2024-02-13T20:38:17Z","actual_date":null,"result":"done"}]}`, string(res.body))
		res = e.call(t, http.MethodGet, obpRecV3+bankB+"/crm-events", tokB, nil)
		require.Equal(t, http.StatusOK, res.status)
		require.Contains(t, string(res.body), "B only")
		require.NotContains(t, string(res.body), ev.ID.String())
	})

	t.Run("errors", func(t *testing.T) {
		obpRec401(t, e.call(t, http.MethodGet, path, "", nil))
		obpRec401(t, e.call(t, http.MethodGet, path, `DirectLogin token="forged"`, nil))
		// Banks are public; CRM events are not: B's client sees none of A's.
		res := e.call(t, http.MethodGet, path, tokB, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.JSONEq(t, `{"crm_events":[]}`, string(res.body))
		obpRecErr(t, e.call(t, http.MethodGet, obpRecV3+"nope/crm-events", full, nil), http.StatusNotFound, obpRecBankNotFound("nope"))
	})
}

func TestObpRecordMessages(t *testing.T) {
	e := newEnv(t)
	full := e.client(t, e.A, allBankRoles(e.A)...)
	getOnly := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
	tokB := e.client(t, e.B, allBankRoles(e.B)...)
	cust := obpRecCustomer(t, e, e.A, "Alice")
	custB := obpRecCustomer(t, e, e.B, "Berta")
	plural := obpRecV5 + bankA + "/customers/" + cust.ID.String() + "/messages"
	singular := obpRecV5 + bankA + "/customer/" + cust.ID.String() + "/messages"
	count := func() int { return e.db.Client.CustomerMessage.Query().CountX(e.sys) }
	body := map[string]any{"message": "Your card is ready", "transport": "SMS", "from_department": "Cards", "from_person": "Bob"}

	t.Run("create (v4.0.0) and list", func(t *testing.T) {
		res := e.call(t, http.MethodPost, plural, full, body)
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		require.JSONEq(t, `{"success":"Success"}`, string(res.body))
		m := e.db.Client.CustomerMessage.Query().Where(customermessage.CustomerID(cust.ID)).OnlyX(e.sys)
		require.Equal(t, "SMS", m.Transport)
		require.Equal(t, "Cards", m.FromDepartment)

		res = e.call(t, http.MethodGet, plural, full, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.JSONEq(t, `{"messages":[{"id":"`+m.ID.String()+`","date":"`+m.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")+
			`","transport":"SMS","message":"Your card is ready","from_department":"Cards","from_person":"Bob"}]}`, string(res.body))

		data := e.gql(t, full, `query($id: ID!) { node(id: $id) { ... on Customer { messages { edges { node { id message } } } } } }`,
			map[string]any{"id": cust.ID.String()})
		require.Contains(t, string(data["node"]), m.ID.String())
	})

	t.Run("create (v4.0.0) errors, nothing written", func(t *testing.T) {
		before := count()
		obpRec401(t, e.call(t, http.MethodPost, plural, "", body))
		obpRecErr(t, e.call(t, http.MethodPost, plural, tokB, body), http.StatusForbidden, obpRecMissing("CanCreateCustomerMessage at Bank(gh.29.uk)"))
		obpRecErr(t, e.call(t, http.MethodPost, plural, getOnly, "{"),
			http.StatusForbidden, obpRecMissing("CanCreateCustomerMessage at Bank(gh.29.uk)"))
		obpRecErrPrefix(t, e.call(t, http.MethodPost, obpRecV5+bankA+"/customers/"+uuid.NewString()+"/messages", full, "{"),
			http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the CreateMessageJsonV400")
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV5+bankA+"/customers/"+custB.ID.String()+"/messages", full, body),
			http.StatusNotFound, obpRecCustomerNotFound(custB.ID.String()))
		empty := map[string]any{"message": "", "transport": "SMS", "from_department": "Cards", "from_person": "Bob"}
		obpRecErrPrefix(t, e.call(t, http.MethodPost, plural, full, empty),
			http.StatusBadRequest, "OBP-10020: Incorrect json. ")
		require.Equal(t, before, count())
	})

	t.Run("list errors", func(t *testing.T) {
		obpRec401(t, e.call(t, http.MethodGet, plural, "", nil))
		obpRecErr(t, e.call(t, http.MethodGet, plural, getOnly, nil),
			http.StatusForbidden, obpRecMissing("CanGetCustomerMessages at Bank(gh.29.uk)"))
		obpRecErr(t, e.call(t, http.MethodGet, plural, tokB, nil), http.StatusForbidden, obpRecMissing("CanGetCustomerMessages at Bank(gh.29.uk)"))
	})

	t.Run("add (v1.4.0, singular customer)", func(t *testing.T) {
		before := count()
		msg := map[string]any{"message": "Welcome", "from_department": "Front desk", "from_person": "Carol"}
		obpRec401(t, e.call(t, http.MethodPost, singular, "", msg))
		// J, then B, then R (ent's role for a message): TestObpRecordMessageBodies.
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV5+"nope/customer/"+cust.ID.String()+"/messages", full, msg),
			http.StatusNotFound, obpRecBankNotFound("nope"))
		obpRecErr(t, e.call(t, http.MethodPost, singular, getOnly, msg),
			http.StatusForbidden, obpRecMissing("CanCreateCustomerMessage at Bank(gh.29.uk)"))
		obpRecErrPrefix(t, e.call(t, http.MethodPost, singular, full, "{"),
			http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the AddCustomerMessageJson")
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV5+bankA+"/customer/"+custB.ID.String()+"/messages", full, msg),
			http.StatusNotFound, obpRecCustomerNotFound(custB.ID.String()))
		obpRecErr(t, e.call(t, http.MethodPost, singular, full, msg),
			http.StatusBadRequest, "OBP-30008: User Customer Link not found by USER_ID Current customerId ("+cust.ID.String()+")")
		require.Equal(t, before, count())

		u, err := e.db.Client.User.Create().SetUsername("alice.user").Save(e.sys)
		require.NoError(t, err)
		_, err = e.db.Client.UserCustomerLink.Create().SetUserID(u.ID).SetCustomerID(cust.ID).Save(e.sys)
		require.NoError(t, err)
		require.True(t, e.db.Client.UserCustomerLink.Query().Where(usercustomerlink.CustomerID(cust.ID)).ExistX(e.sys))
		// ent still needs CanCreateCustomerMessage to write it.
		obpRecErr(t, e.call(t, http.MethodPost, singular, getOnly, msg),
			http.StatusForbidden, obpRecMissing("CanCreateCustomerMessage at Bank(gh.29.uk)"))
		require.Equal(t, before, count())

		res := e.call(t, http.MethodPost, singular, full, msg)
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		require.JSONEq(t, `{"success":"Success"}`, string(res.body))
		require.Equal(t, before+1, count())
		m := e.db.Client.CustomerMessage.Query().Where(customermessage.CustomerID(cust.ID), customermessage.Message("Welcome")).OnlyX(e.sys)
		require.Equal(t, "Front desk", m.FromDepartment)
		require.Equal(t, "Carol", m.FromPerson)
		require.Empty(t, m.Transport)

		res = e.call(t, http.MethodGet, plural, full, nil)
		require.Equal(t, http.StatusOK, res.status)
		var out struct {
			Messages []map[string]any `json:"messages"`
		}
		res.decode(t, &out)
		require.Len(t, out.Messages, 2)
		require.Equal(t, "Welcome", out.Messages[0]["message"], "newest first")
		require.Equal(t, m.ID.String(), out.Messages[0]["id"])
	})
}

// TestObpRecordMessageBodies: both message routes require every field of
// OBP's JSON class (#27 AddCustomerMessageJson: message, from_department,
// from_person; #28 CreateMessageJsonV400: message, transport,
// from_department, from_person): a missing or null one is 400 OBP-10001
// naming it, and nothing is written. #27 checks the body (J) right after
// authentication, before the bank (B), its role and the customer (spec
// §3.4: A→J→B→C); #28 after the bank and its role (A→B→R→J→C).
func TestObpRecordMessageBodies(t *testing.T) {
	e := newEnv(t)
	full := e.client(t, e.A, allBankRoles(e.A)...)
	getOnly := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
	cust := obpRecCustomer(t, e, e.A, "Alice")
	u, err := e.db.Client.User.Create().SetUsername("alice.user").Save(e.sys)
	require.NoError(t, err)
	_, err = e.db.Client.UserCustomerLink.Create().SetUserID(u.ID).SetCustomerID(cust.ID).Save(e.sys)
	require.NoError(t, err)
	plural := obpRecV5 + bankA + "/customers/" + cust.ID.String() + "/messages"
	singular := obpRecV5 + bankA + "/customer/" + cust.ID.String() + "/messages"
	count := func() int { return e.db.Client.CustomerMessage.Query().CountX(e.sys) }
	const (
		add    = "OBP-10001: Incorrect json format. The Json body should be the AddCustomerMessageJson"
		create = "OBP-10001: Incorrect json format. The Json body should be the CreateMessageJsonV400"
	)
	without := func(body map[string]any, field string, null bool) map[string]any {
		out := map[string]any{}
		for k, v := range body {
			out[k] = v
		}
		if null {
			out[field] = nil
		} else {
			delete(out, field)
		}
		return out
	}

	t.Run("#28 every field of CreateMessageJsonV400", func(t *testing.T) {
		body := map[string]any{"message": "Your card is ready", "transport": "SMS", "from_department": "Cards", "from_person": "Bob"}
		for _, field := range []string{"message", "transport", "from_department", "from_person"} {
			for _, null := range []bool{false, true} {
				obpRecErr(t, e.call(t, http.MethodPost, plural, full, without(body, field, null)),
					http.StatusBadRequest, create+" ("+field+": is required)")
			}
		}
		obpRecErr(t, e.call(t, http.MethodPost, plural, full, map[string]any{"message": "x"}),
			http.StatusBadRequest, create+" (transport: is required)")
		require.Zero(t, count())
		res := e.call(t, http.MethodPost, plural, full, body)
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		require.Equal(t, 1, count())
	})

	t.Run("#27 every field of AddCustomerMessageJson, transport not among them", func(t *testing.T) {
		before := count()
		body := map[string]any{"message": "Welcome", "from_department": "Front desk", "from_person": "Carol"}
		for _, field := range []string{"message", "from_department", "from_person"} {
			for _, null := range []bool{false, true} {
				obpRecErr(t, e.call(t, http.MethodPost, singular, full, without(body, field, null)),
					http.StatusBadRequest, add+" ("+field+": is required)")
			}
		}
		obpRecErr(t, e.call(t, http.MethodPost, singular, full, map[string]any{"message": "x"}),
			http.StatusBadRequest, add+" (from_department: is required)")
		require.Equal(t, before, count())
		res := e.call(t, http.MethodPost, singular, full, body)
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		require.Equal(t, before+1, count())
	})

	t.Run("#27 order: A, J, B, R, C", func(t *testing.T) {
		before := count()
		unknownBank := obpRecV5 + "nope/customer/" + cust.ID.String() + "/messages"
		obpRec401(t, e.call(t, http.MethodPost, unknownBank, "", "{bad"))
		// J before B: a malformed or incomplete body to an unknown bank is 400.
		obpRecErrPrefix(t, e.call(t, http.MethodPost, unknownBank, full, "{bad"), http.StatusBadRequest, add)
		obpRecErr(t, e.call(t, http.MethodPost, unknownBank, full, map[string]any{"message": "x"}),
			http.StatusBadRequest, add+" (from_department: is required)")
		// J before R, too; a whole body then meets B, then R, then C.
		obpRecErrPrefix(t, e.call(t, http.MethodPost, singular, getOnly, "{bad"), http.StatusBadRequest, add)
		body := map[string]any{"message": "Hi", "from_department": "D", "from_person": "P"}
		obpRecErr(t, e.call(t, http.MethodPost, unknownBank, getOnly, body), http.StatusNotFound, obpRecBankNotFound("nope"))
		obpRecErr(t, e.call(t, http.MethodPost, singular, getOnly, body),
			http.StatusForbidden, obpRecMissing("CanCreateCustomerMessage at Bank(gh.29.uk)"))
		unknown := uuid.NewString()
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV5+bankA+"/customer/"+unknown+"/messages", full, body),
			http.StatusNotFound, obpRecCustomerNotFound(unknown))
		require.Equal(t, before, count())
	})

	t.Run("#28 order unchanged: A, B, R, J, C", func(t *testing.T) {
		unknownBank := obpRecV5 + "nope/customers/" + cust.ID.String() + "/messages"
		obpRecErr(t, e.call(t, http.MethodPost, unknownBank, full, "{bad"), http.StatusNotFound, obpRecBankNotFound("nope"))
		obpRecErr(t, e.call(t, http.MethodPost, plural, getOnly, "{bad"),
			http.StatusForbidden, obpRecMissing("CanCreateCustomerMessage at Bank(gh.29.uk)"))
	})
}

// TestObpRecordBodyLimits: an oversize body is 413 and a body of the wrong
// shape 400, in OBP's error format, never a 500; nothing is written.
func TestObpRecordBodyLimits(t *testing.T) {
	e := newEnv(t, envOptions{maxBodyBytes: 512})
	full := e.client(t, e.A, allBankRoles(e.A)...)
	cust := obpRecCustomer(t, e, e.A, "Alice")
	base := obpRecV3 + bankA + "/customers/" + cust.ID.String()
	big := obpRecSeedAddress()
	big["line_1"] = strings.Repeat("x", 600)
	obpRecErrPrefix(t, e.call(t, http.MethodPost, base+"/address", full, big), http.StatusRequestEntityTooLarge, "OBP-10001: Incorrect json format.")
	obpRecErr(t, e.call(t, http.MethodPost, base+"/social_media_handles", full, map[string]any{"type": "x", "handle": strings.Repeat("h", 600)}),
		http.StatusRequestEntityTooLarge, "OBP-10001: Incorrect json format.")
	obpRecErrPrefix(t, e.call(t, http.MethodPost, base+"/tax-residence", full, map[string]any{"domain": []int{1}, "tax_number": "1"}),
		http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the PostTaxResidenceJsonV310 (domain: must be a string")
	obpRecErrPrefix(t, e.call(t, http.MethodPost, obpRecV3+bankA+"/user_customer_links", full, map[string]any{"user_id": 1}),
		http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the CreateUserCustomerLinkJson")
	obpRecErrPrefix(t, e.call(t, http.MethodPost, obpRecV5+bankA+"/customers/"+cust.ID.String()+"/messages", full, "null"),
		http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the CreateMessageJsonV400 (message: is required)")
	require.Zero(t, e.db.Client.Address.Query().CountX(e.sys))
	require.Zero(t, e.db.Client.TaxResidence.Query().CountX(e.sys))
	require.Zero(t, e.db.Client.SocialHandle.Query().CountX(e.sys))
	require.Zero(t, e.db.Client.CustomerMessage.Query().CountX(e.sys))
}
