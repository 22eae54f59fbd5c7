package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/customer"
	"custgraph/internal/access"
	"custgraph/internal/exact"
)

// The OBP customer routes (rest-compat §3.4 #1–#7, #19–#26): each test
// runs a route's success path with the seed's example body, checks the
// answer field by field against the seed's example JSON (field names, JSON
// types, date formats) and the database (and GraphQL), then walks the
// route's documented errors in OBP's check order, checking that refused
// requests wrote nothing.

const (
	obpCustV3 = "/obp/v3.1.0/banks/"
	obpCustV5 = "/obp/v5.1.0/banks/"
)

// The seeds' example answers (003: CustomerWithAttributesJsonV310 and the
// V300 list item; CustomerJsonV310 is the same without
// customer_attributes, CustomerJsonV210 without title, branch_id,
// name_suffix).
const (
	obpCustSeedV310 = `{ "bank_id":"gh.29.uk", "customer_id":"7uy8a7e4-6d02-40e3-a129-0b2bf89de8uh", "customer_number":"5987953", "legal_name":"Eveline Tripman", "mobile_phone_number":"+44 07972 444 876", "email":"felixsmith@example.com", "face_image":{ "url":"www.openbankproject", "date":"1100-01-01T00:00:00Z" }, "date_of_birth":"1100-01-01T00:00:00Z", "relationship_status":"single", "dependants":1, "dob_of_dependants":["1100-01-01T00:00:00Z"], "credit_rating":{ "rating":"OBP", "source":"OBP" }, "credit_limit":{ "currency":"EUR", "amount":"0" }, "highest_education_attained":"Master", "employment_status":"worker", "kyc_status":false, "last_ok_date":"2024-02-13T20:38:17Z", "title":"Dr.", "branch_id":"DERBY6", "name_suffix":"Sr", "customer_attributes":[{ "customer_attribute_id":"7uy8a7e4-6d02-40e3-a129-0b2bf89de8uh", "name":"SPECIAL_TAX_NUMBER", "type":"STRING", "value":"123456789" }] }`
	obpCustSeedV300 = `{ "bank_id":"gh.29.uk", "customer_id":"7uy8a7e4-6d02-40e3-a129-0b2bf89de8uh", "customer_number":"5987953", "legal_name":"Eveline Tripman", "mobile_phone_number":"+44 07972 444 876", "email":"felixsmith@example.com", "face_image":{ "url":"www.openbankproject", "date":"1100-01-01T00:00:00Z" }, "date_of_birth":"19900101", "relationship_status":"single", "dependants":1, "dob_of_dependants":["19900101"], "credit_rating":{ "rating":"OBP", "source":"OBP" }, "credit_limit":{ "currency":"EUR", "amount":"0" }, "highest_education_attained":"Master", "employment_status":"worker", "kyc_status":false, "last_ok_date":"2024-02-13T20:38:17Z", "title":"Dr.", "branch_id":"DERBY6", "name_suffix":"Sr", "customer_attributes":[{ "customer_attribute_id":"7uy8a7e4-6d02-40e3-a129-0b2bf89de8uh", "name":"SPECIAL_TAX_NUMBER", "type":"STRING", "value":"123456789" }] }`
)

var (
	obpCustStampRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)
	obpCustDayRe   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// obpCustShape is the seed's example answer in the given variant: "V310"
// and "V300" (with customer_attributes when attrs), "V210".
func obpCustShape(t *testing.T, variant string, attrs bool) map[string]any {
	t.Helper()
	src := obpCustSeedV310
	if variant == "V300" {
		src = obpCustSeedV300
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(src), &m))
	if !attrs {
		delete(m, "customer_attributes")
	}
	if variant == "V210" {
		delete(m, "title")
		delete(m, "branch_id")
		delete(m, "name_suffix")
	}
	return m
}

// obpCustSameShape checks got against the seed's example: the same keys,
// each value of the same JSON type, recursively (arrays by their first
// item).
func obpCustSameShape(t *testing.T, want, got any, path string) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		require.True(t, ok, "%s: want an object, got %T (%v)", path, got, got)
		require.Equal(t, obpCustKeys(w), obpCustKeys(g), "%s: the fields differ from the seed's", path)
		for k := range w {
			obpCustSameShape(t, w[k], g[k], path+"."+k)
		}
	case []any:
		g, ok := got.([]any)
		require.True(t, ok, "%s: want an array, got %T (%v)", path, got, got)
		if len(w) > 0 && len(g) > 0 {
			for i := range g {
				obpCustSameShape(t, w[0], g[i], fmt.Sprintf("%s[%d]", path, i))
			}
		}
	default:
		require.IsType(t, want, got, "%s: JSON type differs from the seed's (%v)", path, got)
	}
}

func obpCustKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// obpCustCheck checks an OBP customer answer: the seed's shape and the
// date formats of the variant (V300: yyyy-MM-dd dates of birth).
func obpCustCheck(t *testing.T, got map[string]any, variant string, attrs bool) {
	t.Helper()
	obpCustSameShape(t, obpCustShape(t, variant, attrs), got, variant)
	dob := obpCustStampRe
	if variant == "V300" {
		dob = obpCustDayRe
	}
	require.Regexp(t, dob, got["date_of_birth"])
	for _, d := range got["dob_of_dependants"].([]any) {
		require.Regexp(t, dob, d)
	}
	require.Regexp(t, obpCustStampRe, got["last_ok_date"])
	require.Regexp(t, obpCustStampRe, got["face_image"].(map[string]any)["date"])
}

// obpCustErr checks an OBP error answer: status, code = status, the exact
// message.
func obpCustErr(t *testing.T, res reply, status int, msg string) {
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

// obpCustErrPrefix checks an OBP error answer whose message starts with prefix.
func obpCustErrPrefix(t *testing.T, res reply, status int, prefix string) {
	t.Helper()
	require.Equal(t, status, res.status, "%s", res.body)
	m := res.object(t)
	require.EqualValues(t, status, m["code"])
	require.Regexp(t, "^"+regexp.QuoteMeta(prefix), m["message"])
}

// obpCust401 checks OBP's answer to missing credentials.
func obpCust401(t *testing.T, res reply) {
	t.Helper()
	obpCustErr(t, res, http.StatusUnauthorized, "OBP-20001: User not logged in. Authentication is required!")
	require.Contains(t, res.header.Get("WWW-Authenticate"), "DirectLogin realm=")
	require.Contains(t, res.header.Get("WWW-Authenticate"), "Bearer realm=")
}

const (
	obpCustMissing    = "OBP-20006: User is missing one or more roles: "
	obpCustBadJSON    = "OBP-10001: Incorrect json format."
	obpCustNumberUsed = "OBP-30006: Customer Number already exists. Please specify a different value for BANK_ID or CUSTOMER_NUMBER."
)

func obpCustBankNotFound(code string) string {
	return "OBP-30001: Bank not found. Please specify a valid value for BANK_ID. Current BankId is " + code
}

func obpCustNotFound(id string) string {
	return "OBP-30046: Customer not found. Please specify a valid value for CUSTOMER_ID.. Current CustomerId(" + id + ")"
}

// obpCustCount is the number of customers of bank b.
func (e *env) obpCustCount(t *testing.T, b *ent.Bank) int {
	t.Helper()
	n, err := e.db.Client.Customer.Query().Where(customer.BankID(b.ID)).Count(e.sys)
	require.NoError(t, err)
	return n
}

// obpCustMake creates a customer of b directly in the database.
func (e *env) obpCustMake(t *testing.T, b *ent.Bank, name, number string) *ent.Customer {
	t.Helper()
	c, err := e.db.Client.Customer.Create().SetBankID(b.ID).SetLegalName(name).SetCustomerNumber(number).
		SetEmail("x@example.com").SetMobilePhoneNumber("+49 30 901820").
		SetDependants(1).SetDobOfDependants([]time.Time{time.Date(2019, 9, 8, 0, 0, 0, 0, time.UTC)}).
		SetDateOfBirth(time.Date(1980, 3, 9, 0, 0, 0, 0, time.UTC)).
		SetFaceImageURL("http://www.example.com/id-docs/123/image.png").SetFaceImageDate(time.Date(2020, 1, 27, 0, 0, 0, 0, time.UTC)).
		SetCreditLimitCurrency("EUR").SetCreditLimitAmount(exact.MustParse("10.12")).
		SetCreditRating("OBP").SetCreditSource("OBP").
		SetLastOkDate(time.Date(2024, 2, 13, 20, 38, 16, 606_000_000, time.UTC)).
		SetTitle("Dr.").SetBranchID("DERBY6").SetNameSuffix("Sr").
		Save(e.sys)
	require.NoError(t, err)
	return c
}

// obpCustSeedBody is seed 003's example request (PostCustomerJsonV310)
// with dependants = 2, the length of its dob_of_dependants (the seed's own
// example says 1, which OBP refuses with OBP-10020; see the test).
func obpCustSeedBody() map[string]any {
	return map[string]any{
		"legal_name":                 "Eveline Tripman",
		"mobile_phone_number":        "+49 30 901820",
		"email":                      "felixsmith@example.com",
		"face_image":                 map[string]any{"url": "http://www.example.com/id-docs/123/image.png", "date": "2020-01-27"},
		"date_of_birth":              "2018-03-09",
		"relationship_status":        "single",
		"dependants":                 2,
		"dob_of_dependants":          []string{"2019-09-08", "2017-07-12"},
		"credit_rating":              map[string]any{"rating": "OBP", "source": "OBP"},
		"credit_limit":               map[string]any{"currency": "EUR", "amount": "10.12"},
		"highest_education_attained": "Master",
		"employment_status":          "worker",
		"kyc_status":                 false,
		"last_ok_date":               "2024-02-13T20:38:16.606Z",
		"title":                      "Dr.",
		"branch_id":                  "DERBY6",
		"name_suffix":                "Sr",
	}
}

// TestObpCustomerCreateV310 covers #1, POST /obp/v3.1.0/banks/BANK_ID/customers.
func TestObpCustomerCreateV310(t *testing.T) {
	e := newEnv(t)
	path := obpCustV3 + bankA + "/customers"
	creator := e.client(t, e.A, at(e.A, access.CanCreateCustomer, access.CanGetCustomer)...)
	var id, number string

	t.Run("seed example creates the customer", func(t *testing.T) {
		res := e.call(t, http.MethodPost, path, creator, obpCustSeedBody())
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		m := res.object(t)
		obpCustCheck(t, m, "V310", false)
		id, number = m["customer_id"].(string), m["customer_number"].(string)
		require.Equal(t, bankA, m["bank_id"])
		require.Regexp(t, `^\d+$`, number)
		require.Equal(t, "Eveline Tripman", m["legal_name"])
		require.Equal(t, "+49 30 901820", m["mobile_phone_number"])
		require.Equal(t, "felixsmith@example.com", m["email"])
		require.Equal(t, map[string]any{"url": "http://www.example.com/id-docs/123/image.png", "date": "2020-01-27T00:00:00Z"}, m["face_image"])
		require.Equal(t, "2018-03-09T00:00:00Z", m["date_of_birth"])
		require.Equal(t, "single", m["relationship_status"])
		require.EqualValues(t, 2, m["dependants"])
		require.Equal(t, []any{"2019-09-08T00:00:00Z", "2017-07-12T00:00:00Z"}, m["dob_of_dependants"])
		require.Equal(t, map[string]any{"rating": "OBP", "source": "OBP"}, m["credit_rating"])
		require.Equal(t, map[string]any{"currency": "EUR", "amount": "10.12"}, m["credit_limit"])
		require.Equal(t, "Master", m["highest_education_attained"])
		require.Equal(t, "worker", m["employment_status"])
		require.Equal(t, false, m["kyc_status"])
		require.Equal(t, "2024-02-13T20:38:16Z", m["last_ok_date"])
		require.Equal(t, "Dr.", m["title"])
		require.Equal(t, "DERBY6", m["branch_id"])
		require.Equal(t, "Sr", m["name_suffix"])

		c, err := e.db.Client.Customer.Get(e.sys, uuid.MustParse(id))
		require.NoError(t, err)
		require.Equal(t, e.A.ID, c.BankID)
		require.Equal(t, number, c.CustomerNumber)
		require.Equal(t, "10.12", c.CreditLimitAmount.String())
		require.Len(t, c.DobOfDependants, 2)
		require.Equal(t, "2018-03-09", c.DateOfBirth.UTC().Format(time.DateOnly))

		// The same record, same id and number, through GraphQL.
		data := e.gql(t, creator, `query($id: ID!) { node(id: $id) { ... on Customer { id customerNumber legalName dependants creditLimitAmount } } }`,
			map[string]any{"id": id})
		var g struct {
			ID, CustomerNumber, LegalName string
			Dependants                    int
			CreditLimitAmount             string
		}
		require.NoError(t, json.Unmarshal(data["node"], &g))
		require.Equal(t, id, g.ID)
		require.Equal(t, number, g.CustomerNumber)
		require.Equal(t, "Eveline Tripman", g.LegalName)
		require.Equal(t, 2, g.Dependants)
		require.Equal(t, "10.12", g.CreditLimitAmount)
	})

	t.Run("customer_number in the body is ignored and other date forms are read", func(t *testing.T) {
		b := obpCustSeedBody()
		b["customer_number"] = "5987953"
		b["date_of_birth"] = "2013-01-21T23:08:00Z"
		b["last_ok_date"] = "2024-02-13T20:38:16Z"
		b["dependants"] = 0
		b["dob_of_dependants"] = []string{}
		res := e.call(t, http.MethodPost, path, creator, b)
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		m := res.object(t)
		require.NotEqual(t, "5987953", m["customer_number"])
		require.Equal(t, "2013-01-21T23:08:00Z", m["date_of_birth"])
		require.Equal(t, []any{}, m["dob_of_dependants"])
	})

	t.Run("a client with CanCreateCustomerAtAnyBank creates", func(t *testing.T) {
		tok := e.client(t, nil, anyBank(access.CanCreateCustomer)...)
		res := e.call(t, http.MethodPost, obpCustV3+bankB+"/customers", tok, obpCustSeedBody())
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		require.Equal(t, bankB, res.object(t)["bank_id"])
	})

	before := e.obpCustCount(t, e.A)
	t.Run("errors in OBP's order", func(t *testing.T) {
		// A: no credentials, even with a bad body and an unknown bank.
		obpCust401(t, e.call(t, http.MethodPost, obpCustV3+"nowhere/customers", "", "{"))
		// R before B, as OBP (§3.4 #1: A→R→B→J): at an unknown bank only
		// CanCreateCustomerAtAnyBank can be held, so a caller without it is
		// 403 there, and one with it meets B (404) before its body (J).
		none := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
		obpCustErr(t, e.call(t, http.MethodPost, obpCustV3+"nowhere/customers", none, "{"), http.StatusForbidden,
			obpCustMissing+"CanCreateCustomer or CanCreateCustomerAtAnyBank for BankId(nowhere).")
		obpCustErr(t, e.call(t, http.MethodPost, obpCustV3+"nowhere/customers", creator, "{"), http.StatusForbidden,
			obpCustMissing+"CanCreateCustomer or CanCreateCustomerAtAnyBank for BankId(nowhere).")
		anywhere := e.client(t, nil, anyBank(access.CanCreateCustomer)...)
		obpCustErr(t, e.call(t, http.MethodPost, obpCustV3+"nowhere/customers", anywhere, "{"), http.StatusNotFound, obpCustBankNotFound("nowhere"))
		obpCustErr(t, e.call(t, http.MethodPost, path, none, obpCustSeedBody()), http.StatusForbidden,
			obpCustMissing+"CanCreateCustomer or CanCreateCustomerAtAnyBank for BankId(gh.29.uk).")
		// The role at bank A does not reach bank B (a public bank: 403).
		obpCustErr(t, e.call(t, http.MethodPost, obpCustV3+bankB+"/customers", creator, obpCustSeedBody()), http.StatusForbidden,
			obpCustMissing+"CanCreateCustomer or CanCreateCustomerAtAnyBank for BankId(at.02.0061).")
		// B: an AtAnyBank creator asking for a bank that does not exist.
		anyTok := e.client(t, nil, anyBank(access.CanCreateCustomer)...)
		obpCustErr(t, e.call(t, http.MethodPost, obpCustV3+"nowhere/customers", anyTok, "{"), http.StatusNotFound, obpCustBankNotFound("nowhere"))
		// J: not JSON, wrong types, missing fields, bad dates and amounts.
		obpCustErrPrefix(t, e.call(t, http.MethodPost, path, creator, "{"), http.StatusBadRequest,
			obpCustBadJSON+" The Json body should be the PostCustomerJsonV310")
		b := obpCustSeedBody()
		b["kyc_status"] = "no"
		res := e.call(t, http.MethodPost, path, creator, b)
		obpCustErrPrefix(t, res, http.StatusBadRequest, obpCustBadJSON+" The Json body should be the PostCustomerJsonV310")
		require.Contains(t, res.object(t)["message"], "kyc_status")
		b = obpCustSeedBody()
		delete(b, "title")
		b["face_image"] = map[string]any{"url": "u"}
		res = e.call(t, http.MethodPost, path, creator, b)
		obpCustErr(t, res, http.StatusBadRequest, obpCustBadJSON+" The Json body should be the PostCustomerJsonV310 (missing or null: face_image.date, title)")
		for _, bad := range []string{"09/03/2018", "2000-01-01T00:00:00+24:00", "2000-01-01T00:00:00-24:59"} { // (RFC 3339's offsets end at ±23:59)
			b = obpCustSeedBody()
			b["date_of_birth"] = bad
			res = e.call(t, http.MethodPost, path, creator, b)
			obpCustErrPrefix(t, res, http.StatusBadRequest, obpCustBadJSON)
			require.Contains(t, res.object(t)["message"], "date_of_birth", bad)
		}
		b = obpCustSeedBody()
		b["credit_limit"] = map[string]any{"currency": "EUR", "amount": "ten"}
		res = e.call(t, http.MethodPost, path, creator, b)
		obpCustErrPrefix(t, res, http.StatusBadRequest, obpCustBadJSON)
		require.Contains(t, res.object(t)["message"], "credit_limit.amount")
		// The seed's own example: dependants 1 with two dates (ent's rule).
		b = obpCustSeedBody()
		b["dependants"] = 1
		obpCustErr(t, e.call(t, http.MethodPost, path, creator, b), http.StatusBadRequest,
			"OBP-10020: Incorrect json. The field dependants(1) not equal the length(2) of dob_of_dependants array")
		// dependants -1 with no dates: the same rule, which OBP checks first.
		b = obpCustSeedBody()
		b["dependants"], b["dob_of_dependants"] = -1, []string{}
		obpCustErr(t, e.call(t, http.MethodPost, path, creator, b), http.StatusBadRequest,
			"OBP-10020: Incorrect json. The field dependants(-1) not equal the length(0) of dob_of_dependants array")
		// A value ent refuses: OBP-30051 with ent's detail.
		b = obpCustSeedBody()
		b["email"] = "not an address"
		res = e.call(t, http.MethodPost, path, creator, b)
		obpCustErrPrefix(t, res, http.StatusBadRequest, "OBP-30051: Cannot create Customer email: ")
		b = obpCustSeedBody()
		b["credit_limit"] = map[string]any{"currency": "euro", "amount": "1"}
		obpCustErrPrefix(t, e.call(t, http.MethodPost, path, creator, b), http.StatusBadRequest, "OBP-30051: Cannot create Customer credit_limit_currency: ")
	})
	require.Equal(t, before, e.obpCustCount(t, e.A), "refused requests wrote nothing")
}

// TestObpCustomerCreateV510 covers #2, POST /obp/v5.1.0/banks/BANK_ID/customers.
func TestObpCustomerCreateV510(t *testing.T) {
	e := newEnv(t)
	path := obpCustV5 + bankA + "/customers"
	creator := e.client(t, e.A, at(e.A, access.CanCreateCustomer)...)

	t.Run("seed 004 example creates the customer with its number", func(t *testing.T) {
		b := obpCustSeedBody() // seed 004's fields and values, plus its customer_number
		b["customer_number"] = "5987953"
		b["kyc_status"] = false
		b["last_ok_date"] = "2023-09-16T11:32:33.422Z"
		res := e.call(t, http.MethodPost, path, creator, b)
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		m := res.object(t)
		obpCustCheck(t, m, "V310", false)
		require.Equal(t, "5987953", m["customer_number"])
		require.Equal(t, "2023-09-16T11:32:33Z", m["last_ok_date"])
		require.Equal(t, bankA, m["bank_id"])
		c, err := e.db.Client.Customer.Get(e.sys, uuid.MustParse(m["customer_id"].(string)))
		require.NoError(t, err)
		require.Equal(t, "5987953", c.CustomerNumber)
	})

	t.Run("legal_name and mobile_phone_number are enough", func(t *testing.T) {
		res := e.call(t, http.MethodPost, path, creator, map[string]any{"legal_name": "Min Imal", "mobile_phone_number": "+44 07972 444 876"})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		m := res.object(t)
		require.Regexp(t, `^\d+$`, m["customer_number"])
		require.Nil(t, m["date_of_birth"])
		require.Nil(t, m["last_ok_date"])
		require.Equal(t, map[string]any{"url": "", "date": nil}, m["face_image"])
		require.Equal(t, map[string]any{"currency": "", "amount": ""}, m["credit_limit"])
		require.Equal(t, []any{}, m["dob_of_dependants"])
		require.EqualValues(t, 0, m["dependants"])
	})

	before := e.obpCustCount(t, e.A)
	t.Run("errors in OBP's order", func(t *testing.T) {
		obpCust401(t, e.call(t, http.MethodPost, path, "", map[string]any{}))
		obpCustErr(t, e.call(t, http.MethodPost, obpCustV5+"nowhere/customers", creator, "{"), http.StatusNotFound, obpCustBankNotFound("nowhere"))
		none := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
		obpCustErr(t, e.call(t, http.MethodPost, path, none, "{"), http.StatusForbidden,
			obpCustMissing+"CanCreateCustomer or CanCreateCustomerAtAnyBank for BankId(gh.29.uk).")
		// OBP v4+ checks the body's OBP ids right after authentication:
		// before the bank and the roles.
		badIDs := map[string]any{"legal_name": "X", "mobile_phone_number": "+49 30 901820", "branch_id": "DERBY 6",
			"face_image": map[string]any{"url": "u", "date": "2020-01-27", "customer_id": strings.Repeat("x", 37)}}
		for _, who := range []string{none, creator} {
			for _, p := range []string{path, obpCustV5 + "nowhere/customers"} {
				obpCustErr(t, e.call(t, http.MethodPost, p, who, badIDs), http.StatusBadRequest,
					obpCustBadJSON+" Here are all invalid values: List((branch_id,DERBY 6), (customer_id,"+strings.Repeat("x", 37)+"))")
			}
		}
		obpCustErr(t, e.call(t, http.MethodPost, path, creator, map[string]any{"legal_name": "X", "mobile_phone_number": "+49 30 901820",
			"branch_id": "D@RBY"}), http.StatusBadRequest, obpCustBadJSON+" Here are all invalid values: List((branch_id,D@RBY))")
		obpCustErrPrefix(t, e.call(t, http.MethodPost, path, creator, "[1]"), http.StatusBadRequest,
			obpCustBadJSON+" The Json body should be the PostCustomerJsonV500")
		obpCustErr(t, e.call(t, http.MethodPost, path, creator, map[string]any{"legal_name": "X"}), http.StatusBadRequest,
			obpCustBadJSON+" The Json body should be the PostCustomerJsonV500 (missing or null: mobile_phone_number)")
		obpCustErr(t, e.call(t, http.MethodPost, path, creator, map[string]any{"legal_name": "X", "mobile_phone_number": "+49 30 901820",
			"dob_of_dependants": []string{"2019-09-08"}}), http.StatusBadRequest,
			"OBP-10020: Incorrect json. The field dependants(0) not equal the length(1) of dob_of_dependants array")
		obpCustErrPrefix(t, e.call(t, http.MethodPost, path, creator, map[string]any{"legal_name": "X", "mobile_phone_number": "+49 30 901820",
			"customer_number": "1::::2"}), http.StatusBadRequest, obpCustBadJSON+" customer_number can not contain `::::` characters")
		// A number the bank already has (§5.10: OBP-30006 on every path).
		obpCustErr(t, e.call(t, http.MethodPost, path, creator, map[string]any{"legal_name": "X", "mobile_phone_number": "+49 30 901820",
			"customer_number": "5987953"}), http.StatusBadRequest, obpCustNumberUsed)
	})
	require.Equal(t, before, e.obpCustCount(t, e.A), "refused requests wrote nothing")

	t.Run("the same number at another bank is free", func(t *testing.T) {
		tok := e.client(t, e.B, at(e.B, access.CanCreateCustomer)...)
		res := e.call(t, http.MethodPost, obpCustV5+bankB+"/customers", tok, map[string]any{"legal_name": "X", "mobile_phone_number": "+49 30 901820",
			"customer_number": "5987953"})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	})
}

// TestObpCustomerGet covers #3 (GET by CUSTOMER_ID) and #4 (POST
// customer-number, a read).
// TestObpDeepBodyIsReadWithinBounds: a body of nothing but brackets, as
// deep as the body limit lets it be, is answered as any other body that is
// not JSON (the J check), and at an unknown bank with OBP-30001. OBP's id
// check reads the body before the bank and the roles, for every caller; it
// recursed once per level (~140 MB of stack for 1 MiB of brackets, and a
// 16 MiB body overflowed the goroutine's stack and ended the process). The
// goroutines' stacks are bounded at 32 MiB while this test runs (it is not
// parallel): a walk that recursed over the body would end the test binary.
func TestObpDeepBodyIsReadWithinBounds(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(32 << 20))
	e := newEnv(t, envOptions{maxBodyBytes: 4 << 20})
	creator := e.client(t, e.A, at(e.A, access.CanCreateCustomer)...)
	deep := strings.Repeat("[", 2_000_000) + strings.Repeat("]", 2_000_000)
	obpCustErrPrefix(t, e.call(t, http.MethodPost, obpCustV5+bankA+"/customers", creator, deep), http.StatusBadRequest, obpCustBadJSON)
	obpCustErr(t, e.call(t, http.MethodPost, obpCustV5+"nowhere/customers", creator, deep), http.StatusNotFound, obpCustBankNotFound("nowhere"))
	// Ids at every depth the check reads, in objects and arrays.
	nested := `{"a":[{"branch_id":"a b"},[{"x":{"customer_id":"c@d"}}]],"branch_id":["not read: an array"],"legal_name":"X"}`
	obpCustErr(t, e.call(t, http.MethodPost, obpCustV5+"nowhere/customers", creator, nested), http.StatusBadRequest,
		obpCustBadJSON+" Here are all invalid values: List((branch_id,a b), (customer_id,c@d))")
}

func TestObpCustomerGet(t *testing.T) {
	e := newEnv(t)
	c := e.obpCustMake(t, e.A, "Eveline Tripman", "5987953")
	attr, err := e.db.Client.CustomerAttribute.Create().SetCustomerID(c.ID).SetName("SPECIAL_TAX_NUMBER").
		SetType("STRING").SetValue("123456789").Save(e.sys)
	require.NoError(t, err)
	other := e.obpCustMake(t, e.B, "Other Bank", "5987953")
	reader := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
	path := obpCustV3 + bankA + "/customers/"

	check := func(t *testing.T, m map[string]any) {
		obpCustCheck(t, m, "V310", true)
		require.Equal(t, c.ID.String(), m["customer_id"])
		require.Equal(t, bankA, m["bank_id"])
		require.Equal(t, "5987953", m["customer_number"])
		require.Equal(t, "1980-03-09T00:00:00Z", m["date_of_birth"])
		require.Equal(t, []any{"2019-09-08T00:00:00Z"}, m["dob_of_dependants"])
		require.Equal(t, map[string]any{"currency": "EUR", "amount": "10.12"}, m["credit_limit"])
		require.Equal(t, "2024-02-13T20:38:16Z", m["last_ok_date"])
		require.Equal(t, []any{map[string]any{"customer_attribute_id": attr.ID.String(), "name": "SPECIAL_TAX_NUMBER",
			"type": "STRING", "value": "123456789"}}, m["customer_attributes"])
	}

	t.Run("#3 reads the customer with its attributes", func(t *testing.T) {
		res := e.call(t, http.MethodGet, path+c.ID.String(), reader, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		check(t, res.object(t))
	})
	t.Run("#3 errors in OBP's order", func(t *testing.T) {
		obpCust401(t, e.call(t, http.MethodGet, path+c.ID.String(), "", nil))
		obpCustErr(t, e.call(t, http.MethodGet, obpCustV3+"nowhere/customers/"+c.ID.String(), reader, nil), http.StatusNotFound, obpCustBankNotFound("nowhere"))
		// Banks are public: another bank, where the caller holds no role, is 403.
		obpCustErr(t, e.call(t, http.MethodGet, obpCustV3+bankB+"/customers/"+other.ID.String(), reader, nil), http.StatusForbidden,
			obpCustMissing+"CanGetCustomer at Bank("+bankB+")")
		none := e.client(t, e.A, at(e.A, access.CanCreateCustomer)...)
		obpCustErr(t, e.call(t, http.MethodGet, path+c.ID.String(), none, nil), http.StatusForbidden, obpCustMissing+"CanGetCustomer at Bank(gh.29.uk)")
		obpCustErr(t, e.call(t, http.MethodGet, path+"not-a-uuid", reader, nil), http.StatusNotFound, obpCustNotFound("not-a-uuid"))
		unknown := uuid.New().String()
		obpCustErr(t, e.call(t, http.MethodGet, path+unknown, reader, nil), http.StatusNotFound, obpCustNotFound(unknown))
		// Bank B's customer under BANK_ID A, even for a reader of every bank.
		all := e.client(t, nil, anyBank(access.CanGetCustomer)...)
		obpCustErr(t, e.call(t, http.MethodGet, path+other.ID.String(), all, nil), http.StatusNotFound, obpCustNotFound(other.ID.String()))
		res := e.call(t, http.MethodGet, obpCustV3+bankB+"/customers/"+other.ID.String(), all, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, bankB, res.object(t)["bank_id"])
	})

	byNumber := path + "customer-number"
	t.Run("#4 reads the customer by number", func(t *testing.T) {
		res := e.call(t, http.MethodPost, byNumber, reader, map[string]any{"customer_number": "5987953"})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		check(t, res.object(t))
	})
	t.Run("#4 errors in OBP's order", func(t *testing.T) {
		obpCust401(t, e.call(t, http.MethodPost, byNumber, "", "{"))
		obpCustErr(t, e.call(t, http.MethodPost, obpCustV3+"nowhere/customers/customer-number", reader, "{"), http.StatusNotFound, obpCustBankNotFound("nowhere"))
		none := e.client(t, e.A, at(e.A, access.CanCreateCustomer)...)
		obpCustErr(t, e.call(t, http.MethodPost, byNumber, none, "{"), http.StatusForbidden, obpCustMissing+"CanGetCustomer at Bank(gh.29.uk)")
		obpCustErrPrefix(t, e.call(t, http.MethodPost, byNumber, reader, "{"), http.StatusBadRequest,
			obpCustBadJSON+" The Json body should be the PostCustomerNumberJsonV310")
		obpCustErr(t, e.call(t, http.MethodPost, byNumber, reader, map[string]any{}), http.StatusBadRequest,
			obpCustBadJSON+" The Json body should be the PostCustomerNumberJsonV310 (missing or null: customer_number)")
		obpCustErr(t, e.call(t, http.MethodPost, byNumber, reader, map[string]any{"customer_number": "404"}), http.StatusNotFound,
			"OBP-30002: Customer not found. Please specify a valid value for CUSTOMER_NUMBER.")
	})
}

// TestObpCustomerCurrentUser covers #5 (GET /users/current/customers) and
// #6 (GET /banks/BANK_ID/customers): the customers linked to the logged-in
// user, which holds no role at all.
func TestObpCustomerCurrentUser(t *testing.T) {
	e := newEnv(t)
	u, dl := e.user(t, "obp.cust.user")
	mine := e.obpCustMake(t, e.A, "Mine at A", "1001")
	mineB := e.obpCustMake(t, e.B, "Mine at B", "2001")
	e.obpCustMake(t, e.A, "Not mine", "1002")
	_, err := e.db.Client.CustomerAttribute.Create().SetCustomerID(mine.ID).SetName("SPECIAL_TAX_NUMBER").
		SetType("STRING").SetValue("123456789").Save(e.sys)
	require.NoError(t, err)
	for _, c := range []*ent.Customer{mine, mineB} {
		_, err := e.db.Client.UserCustomerLink.Create().SetUserID(u.ID).SetCustomerID(c.ID).Save(e.sys)
		require.NoError(t, err)
	}

	t.Run("#5 every linked customer, at every bank, with attributes", func(t *testing.T) {
		res := e.call(t, http.MethodGet, "/obp/v3.1.0/users/current/customers", dl, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var b struct{ Customers []map[string]any }
		res.decode(t, &b)
		require.Len(t, b.Customers, 2)
		for _, m := range b.Customers {
			obpCustCheck(t, m, "V300", true)
		}
		require.Equal(t, mine.ID.String(), b.Customers[0]["customer_id"])
		require.Equal(t, bankA, b.Customers[0]["bank_id"])
		require.Equal(t, "1980-03-09", b.Customers[0]["date_of_birth"])
		require.Equal(t, []any{"2019-09-08"}, b.Customers[0]["dob_of_dependants"])
		require.Len(t, b.Customers[0]["customer_attributes"], 1)
		require.Equal(t, mineB.ID.String(), b.Customers[1]["customer_id"])
		require.Equal(t, bankB, b.Customers[1]["bank_id"])
		require.Equal(t, []any{}, b.Customers[1]["customer_attributes"])
	})
	t.Run("#5 an API client has no linked customers; no credentials is 401", func(t *testing.T) {
		tok := e.client(t, e.A, allBankRoles(e.A)...)
		res := e.call(t, http.MethodGet, "/obp/v3.1.0/users/current/customers", tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.JSONEq(t, `{"customers":[]}`, string(res.body))
		obpCust401(t, e.call(t, http.MethodGet, "/obp/v3.1.0/users/current/customers", "", nil))
	})
	t.Run("#6 the linked customers at BANK_ID", func(t *testing.T) {
		res := e.call(t, http.MethodGet, obpCustV3+bankA+"/customers", dl, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var b struct{ Customers []map[string]any }
		res.decode(t, &b)
		require.Len(t, b.Customers, 1)
		obpCustCheck(t, b.Customers[0], "V210", false)
		require.Equal(t, mine.ID.String(), b.Customers[0]["customer_id"])
		require.Equal(t, "1001", b.Customers[0]["customer_number"])
		res = e.call(t, http.MethodGet, obpCustV3+bankB+"/customers", dl, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		res.decode(t, &b)
		require.Len(t, b.Customers, 1)
		require.Equal(t, mineB.ID.String(), b.Customers[0]["customer_id"])
	})
	t.Run("#6 errors and a client's empty list", func(t *testing.T) {
		obpCust401(t, e.call(t, http.MethodGet, obpCustV3+bankA+"/customers", "", nil))
		obpCustErr(t, e.call(t, http.MethodGet, obpCustV3+"nowhere/customers", dl, nil), http.StatusNotFound, obpCustBankNotFound("nowhere"))
		tok := e.client(t, e.A, allBankRoles(e.A)...)
		res := e.call(t, http.MethodGet, obpCustV3+bankA+"/customers", tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.JSONEq(t, `{"customers":[]}`, string(res.body))
		// Banks are public; the client is no user and has no customers there either.
		res = e.call(t, http.MethodGet, obpCustV3+bankB+"/customers", tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.JSONEq(t, `{"customers":[]}`, string(res.body))
	})
}

// TestObpCustomerFirehose covers #7, GET /obp/v3.1.0/banks/BANK_ID/firehose/customers.
func TestObpCustomerFirehose(t *testing.T) {
	e := newEnv(t)
	path := obpCustV3 + bankA + "/firehose/customers"
	var made []*ent.Customer
	for i := range 4 {
		c := e.obpCustMake(t, e.A, fmt.Sprintf("Firehose %d", i), fmt.Sprintf("F%d", i))
		c, err := c.Update().SetLastOkDate(time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC)).Save(e.sys)
		require.NoError(t, err)
		made = append(made, c)
	}
	noDate, err := e.db.Client.Customer.Create().SetBankID(e.A.ID).SetLegalName("No date").Save(e.sys)
	require.NoError(t, err)
	e.obpCustMake(t, e.B, "Bank B", "F0")
	_, err = e.db.Client.CustomerAttribute.Create().SetCustomerID(made[1].ID).SetName("SEGMENT").SetType("STRING").SetValue("gold").Save(e.sys)
	require.NoError(t, err)
	hose := e.client(t, nil, role{access.CanUseCustomerFirehoseAtAnyBank, nil})
	ids := func(t *testing.T, res reply) []string {
		t.Helper()
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var b struct{ Customers []map[string]any }
		res.decode(t, &b)
		out := make([]string, len(b.Customers))
		for i, m := range b.Customers {
			out[i] = m["customer_id"].(string)
		}
		return out
	}

	t.Run("newest last_ok_date first by default, V300 shape", func(t *testing.T) {
		res := e.call(t, http.MethodGet, path, hose, nil)
		require.Equal(t, []string{made[3].ID.String(), made[2].ID.String(), made[1].ID.String(), made[0].ID.String(), noDate.ID.String()}, ids(t, res))
		var b struct{ Customers []map[string]any }
		res.decode(t, &b)
		obpCustCheck(t, b.Customers[0], "V300", false)
		require.Equal(t, "1980-03-09", b.Customers[0]["date_of_birth"])
		require.Equal(t, "", b.Customers[4]["date_of_birth"])
		require.Nil(t, b.Customers[4]["last_ok_date"])
	})
	t.Run("paging, sorting, dates and attribute filters", func(t *testing.T) {
		require.Equal(t, []string{made[0].ID.String(), made[1].ID.String()}, ids(t, e.call(t, http.MethodGet, path+"?sort_direction=asc&limit=2", hose, nil)))
		require.Equal(t, []string{made[2].ID.String(), made[3].ID.String()}, ids(t, e.call(t, http.MethodGet, path+"?obp_sort_direction=ASC&obp_limit=2&obp_offset=2", hose, nil)))
		require.Equal(t, []string{made[1].ID.String()}, ids(t, e.call(t, http.MethodGet, path+"?SEGMENT=gold", hose, nil)))
		require.Empty(t, ids(t, e.call(t, http.MethodGet, path+"?SEGMENT=silver", hose, nil)))
		require.Len(t, ids(t, e.call(t, http.MethodGet, path+"?from_date=1970-01-01T00:00:00.000Z&to_date=4000-01-01T00:00:00.000Z", hose, nil)), 5)
		require.Empty(t, ids(t, e.call(t, http.MethodGet, path+"?to_date=2000-01-01T00:00:00.000Z", hose, nil)))
		require.Empty(t, ids(t, e.call(t, http.MethodGet, path+"?from_date=3000-01-01T00:00:00.000%2B0000", hose, nil)))
		// Bank B's firehose holds only B's customer.
		require.Len(t, ids(t, e.call(t, http.MethodGet, obpCustV3+bankB+"/firehose/customers", hose, nil)), 1)
	})
	t.Run("errors in OBP's order", func(t *testing.T) {
		obpCust401(t, e.call(t, http.MethodGet, path, "", nil))
		// A bank role is not the firehose; a bound client cannot hold it.
		// R before B, as OBP (§3.4 #7: A→flag→R→B).
		reader := e.client(t, e.A, allBankRoles(e.A)...)
		obpCustErr(t, e.call(t, http.MethodGet, obpCustV3+"nowhere/firehose/customers", reader, nil), http.StatusForbidden, obpCustMissing+"CanUseCustomerFirehoseAtAnyBank")
		obpCustErr(t, e.call(t, http.MethodGet, path, reader, nil), http.StatusForbidden, obpCustMissing+"CanUseCustomerFirehoseAtAnyBank")
		obpCustErr(t, e.call(t, http.MethodGet, obpCustV3+"nowhere/firehose/customers?limit=0", hose, nil), http.StatusNotFound, obpCustBankNotFound("nowhere"))
		bad := func(query, msg string) {
			t.Helper()
			obpCustErr(t, e.call(t, http.MethodGet, path+"?"+query, hose, nil), http.StatusBadRequest,
				"OBP-10016: Incorrect filter Parameters in URL. <- "+msg)
		}
		bad("sort_direction=UP", "OBP-10023: obp_sort_direction parameter can only take two values: DESC or ASC!")
		bad("offset=-1", "OBP-10024: wrong value for obp_offset parameter. Please send a positive integer (=>0)!")
		bad("obp_offset=x", "OBP-10024: wrong value for obp_offset parameter. Please send a positive integer (=>0)!")
		bad("limit=0", "OBP-10025: wrong value for obp_limit parameter. Please send a positive integer (=>1)!")
		bad("limit=ten", "OBP-10025: wrong value for obp_limit parameter. Please send a positive integer (=>1)!")
		bad("limit=1001", "OBP-10025: wrong value for obp_limit parameter. Please send a positive integer (=>1)! The largest limit is 1000.")
		bad("from_date=2020-01-01", "OBP-10026: Failed to parse date string. Please use this format yyyy-MM-dd'T'HH:mm:ss.SSS'Z'!")
		bad("to_date=2020-01-01T00:00:00Z", "OBP-10026: Failed to parse date string. Please use this format yyyy-MM-dd'T'HH:mm:ss.SSS'Z'!")
		// Each attribute filter is a subquery: at most 16, refused before
		// any SQL (4,000 of them were a 500 after seconds of SQLite's work).
		filters := func(n int) string {
			q := make([]string, n)
			for i := range q {
				q[i] = fmt.Sprintf("A%d=v", i%9) // names repeat: every value counts
			}
			return strings.Join(q, "&")
		}
		require.Empty(t, ids(t, e.call(t, http.MethodGet, path+"?"+filters(16), hose, nil)))
		bad(filters(17), "At most 16 customer attribute filters are allowed.")
		bad(filters(4000), "At most 16 customer attribute filters are allowed.")
	})
	t.Run("off on this instance", func(t *testing.T) {
		off := newEnv(t, envOptions{noFirehose: true})
		tok := off.client(t, nil, role{access.CanUseCustomerFirehoseAtAnyBank, nil})
		obpCust401(t, off.call(t, http.MethodGet, path, "", nil))
		obpCustErr(t, off.call(t, http.MethodGet, path, tok, nil), http.StatusBadRequest,
			"OBP-00012: Customer firehose is not allowed on this instance. Please set allow_customer_firehose = true in props files. ")
		// The flag comes before the role.
		none := off.client(t, off.A, at(off.A, access.CanGetCustomer)...)
		obpCustErrPrefix(t, off.call(t, http.MethodGet, path, none, nil), http.StatusBadRequest, "OBP-00012: ")
	})
}

// TestObpCustomerUpdates covers #19–#26, PUT …/customers/CUSTOMER_ID/<field>.
func TestObpCustomerUpdates(t *testing.T) {
	e := newEnv(t)
	c := e.obpCustMake(t, e.A, "Eveline Tripman", "5987953")
	taken := e.obpCustMake(t, e.A, "Taken", "4242")
	other := e.obpCustMake(t, e.B, "Other Bank", "777")
	base := obpCustV3 + bankA + "/customers/" + c.ID.String() + "/"

	cases := []struct {
		path   string
		role   access.Role
		listed string
		body   map[string]any
		check  func(t *testing.T, m map[string]any, db *ent.Customer)
	}{
		{"email", access.CanUpdateCustomerEmail, "CanUpdateCustomerEmail at Bank(gh.29.uk)",
			map[string]any{"email": "felixsmith@example.com"},
			func(t *testing.T, m map[string]any, db *ent.Customer) {
				require.Equal(t, "felixsmith@example.com", m["email"])
				require.Equal(t, "felixsmith@example.com", db.Email)
			}},
		{"number", access.CanUpdateCustomerNumber, "CanUpdateCustomerNumber at Bank(gh.29.uk)",
			map[string]any{"customer_number": "5987954"},
			func(t *testing.T, m map[string]any, db *ent.Customer) {
				require.Equal(t, "5987954", m["customer_number"])
				require.Equal(t, "5987954", db.CustomerNumber)
			}},
		{"mobile-number", access.CanUpdateCustomerMobilePhoneNumber, "CanUpdateCustomerMobilePhoneNumber at Bank(gh.29.uk)",
			map[string]any{"mobile_phone_number": "+44 07972 444 876"},
			func(t *testing.T, m map[string]any, db *ent.Customer) {
				require.Equal(t, "+44 07972 444 876", m["mobile_phone_number"])
				require.Equal(t, "+44 07972 444 876", db.MobilePhoneNumber)
			}},
		{"identity", access.CanUpdateCustomerIdentity, "CanUpdateCustomerIdentity at Bank(gh.29.uk)",
			map[string]any{"legal_name": "Eveline T. Tripman", "date_of_birth": "2018-03-09", "title": "Prof.", "name_suffix": "Jr"},
			func(t *testing.T, m map[string]any, db *ent.Customer) {
				require.Equal(t, "Eveline T. Tripman", m["legal_name"])
				require.Equal(t, "2018-03-09T00:00:00Z", m["date_of_birth"])
				require.Equal(t, "Prof.", m["title"])
				require.Equal(t, "Jr", m["name_suffix"])
				require.Equal(t, "Prof.", db.Title)
				require.Equal(t, "2018-03-09", db.DateOfBirth.UTC().Format(time.DateOnly))
			}},
		{"credit-limit", access.CanUpdateCustomerCreditLimit, "CanUpdateCustomerCreditLimit at Bank(gh.29.uk)",
			map[string]any{"credit_limit": map[string]any{"currency": "EUR", "amount": "1000.50"}},
			func(t *testing.T, m map[string]any, db *ent.Customer) {
				require.Equal(t, map[string]any{"currency": "EUR", "amount": "1000.50"}, m["credit_limit"], "the scale is kept")
				require.Equal(t, "1000.50", db.CreditLimitAmount.String())
			}},
		{"credit-rating-and-source", access.CanUpdateCustomerCreditRatingAndSource,
			"CanUpdateCustomerCreditRatingAndSource or CanUpdateCustomerCreditRatingAndSourceAtAnyBank for BankId(gh.29.uk).",
			map[string]any{"credit_rating": "AAA", "credit_source": "Experian"},
			func(t *testing.T, m map[string]any, db *ent.Customer) {
				require.Equal(t, map[string]any{"rating": "AAA", "source": "Experian"}, m["credit_rating"])
				require.Equal(t, "Experian", db.CreditSource)
			}},
		{"branch", access.CanUpdateCustomerBranch, "CanUpdateCustomerBranch or CanUpdateCustomerIdentity for BankId(gh.29.uk).",
			map[string]any{"branch_id": "DERBY7"},
			func(t *testing.T, m map[string]any, db *ent.Customer) {
				require.Equal(t, "DERBY7", m["branch_id"])
				require.Equal(t, "DERBY7", db.BranchID)
			}},
		{"data", access.CanUpdateCustomerData, "CanUpdateCustomerData or CanUpdateCustomerIdentity for BankId(gh.29.uk).",
			map[string]any{"face_image": map[string]any{"url": "www.openbankproject", "date": "2013-01-21T23:08:00Z"},
				"relationship_status": "married", "dependants": 1, "highest_education_attained": "PhD", "employment_status": "retired"},
			func(t *testing.T, m map[string]any, db *ent.Customer) {
				require.Equal(t, map[string]any{"url": "www.openbankproject", "date": "2013-01-21T23:08:00Z"}, m["face_image"])
				require.Equal(t, "married", m["relationship_status"])
				require.Equal(t, "PhD", m["highest_education_attained"])
				require.Equal(t, "retired", m["employment_status"])
				require.Equal(t, []any{"2019-09-08T00:00:00Z"}, m["dob_of_dependants"])
				require.Equal(t, "married", db.RelationshipStatus)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			// The field's role alone (no CanGetCustomer) is enough, as in OBP.
			tok := e.client(t, e.A, at(e.A, tc.role)...)
			res := e.call(t, http.MethodPut, base+tc.path, tok, tc.body)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			m := res.object(t)
			obpCustCheck(t, m, "V310", false)
			require.Equal(t, c.ID.String(), m["customer_id"])
			require.Equal(t, bankA, m["bank_id"])
			db, err := e.db.Client.Customer.Get(e.sys, c.ID)
			require.NoError(t, err)
			tc.check(t, m, db)

			// Errors in OBP's order; none of them writes anything.
			before := db.UpdatedAt
			obpCust401(t, e.call(t, http.MethodPut, base+tc.path, "", "{"))
			obpCustErr(t, e.call(t, http.MethodPut, obpCustV3+"nowhere/customers/"+c.ID.String()+"/"+tc.path, tok, "{"),
				http.StatusNotFound, obpCustBankNotFound("nowhere"))
			none := e.client(t, e.A, at(e.A, access.CanGetCustomer, access.CanCreateCustomer)...)
			obpCustErr(t, e.call(t, http.MethodPut, base+tc.path, none, tc.body), http.StatusForbidden, obpCustMissing+tc.listed)
			obpCustErrPrefix(t, e.call(t, http.MethodPut, base+tc.path, tok, "{"), http.StatusBadRequest, obpCustBadJSON+" The Json body should be the PutUpdateCustomer")
			obpCustErrPrefix(t, e.call(t, http.MethodPut, base+tc.path, tok, map[string]any{}), http.StatusBadRequest, obpCustBadJSON+" The Json body should be the PutUpdateCustomer")
			unknown := uuid.New().String()
			obpCustErr(t, e.call(t, http.MethodPut, obpCustV3+bankA+"/customers/"+unknown+"/"+tc.path, tok, tc.body), http.StatusNotFound, obpCustNotFound(unknown))
			// Bank B's customer under BANK_ID A: not found, even with the role at every bank.
			all := e.client(t, nil, anyBank(tc.role)...)
			obpCustErr(t, e.call(t, http.MethodPut, obpCustV3+bankA+"/customers/"+other.ID.String()+"/"+tc.path, all, tc.body),
				http.StatusNotFound, obpCustNotFound(other.ID.String()))
			obpCustErr(t, e.call(t, http.MethodPut, obpCustV3+bankA+"/customers/"+other.ID.String()+"/"+tc.path, tok, tc.body),
				http.StatusNotFound, obpCustNotFound(other.ID.String()))
			after, err := e.db.Client.Customer.Get(e.sys, c.ID)
			require.NoError(t, err)
			require.True(t, before.Equal(after.UpdatedAt), "refused requests wrote nothing")
			o, err := e.db.Client.Customer.Get(e.sys, other.ID)
			require.NoError(t, err)
			require.True(t, other.UpdatedAt.Equal(o.UpdatedAt), "another bank's customer is never changed")
		})
	}

	t.Run("refused values", func(t *testing.T) {
		full := e.client(t, e.A, at(e.A, access.CanUpdateCustomer)...)
		before, err := e.db.Client.Customer.Get(e.sys, c.ID)
		require.NoError(t, err)
		obpCustErrPrefix(t, e.call(t, http.MethodPut, base+"email", full, map[string]any{"email": "nope"}), http.StatusBadRequest,
			"OBP-30058: Cannot update the Customer email: ")
		obpCustErrPrefix(t, e.call(t, http.MethodPut, base+"credit-limit", full, map[string]any{"credit_limit": map[string]any{"currency": "EUR", "amount": "1,5"}}),
			http.StatusBadRequest, obpCustBadJSON)
		// dependants is checked (not negative); dob_of_dependants is not
		// touched, so its count is not (TestObpUpdateDataLeavesDobOfDependants).
		obpCustErrPrefix(t, e.call(t, http.MethodPut, base+"data", full, map[string]any{
			"face_image": map[string]any{"url": "u", "date": "2013-01-21T23:08:00Z"}, "relationship_status": "single",
			"dependants": -1, "highest_education_attained": "Master", "employment_status": "worker"}),
			http.StatusBadRequest, "OBP-30058: Cannot update the Customer dependants: ")
		// A number another customer of the bank has, and the customer's own.
		obpCustErr(t, e.call(t, http.MethodPut, base+"number", full, map[string]any{"customer_number": taken.CustomerNumber}), http.StatusBadRequest,
			obpCustNumberUsed+" Current customer_number(4242) and Current bank_id(gh.29.uk)")
		obpCustErr(t, e.call(t, http.MethodPut, base+"number", full, map[string]any{"customer_number": before.CustomerNumber}), http.StatusBadRequest,
			obpCustNumberUsed+" Current customer_number("+before.CustomerNumber+") and Current bank_id(gh.29.uk)")
		// Bank B's number is free at bank A.
		after, err := e.db.Client.Customer.Get(e.sys, c.ID)
		require.NoError(t, err)
		require.True(t, before.UpdatedAt.Equal(after.UpdatedAt), "refused requests wrote nothing")
		res := e.call(t, http.MethodPut, base+"number", full, map[string]any{"customer_number": other.CustomerNumber})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, "777", res.object(t)["customer_number"])
	})

	t.Run("credit rating with the AtAnyBank role; branch and data with CanUpdateCustomerIdentity", func(t *testing.T) {
		tok := e.client(t, nil, anyBank(access.CanUpdateCustomerCreditRatingAndSource)...)
		res := e.call(t, http.MethodPut, base+"credit-rating-and-source", tok, map[string]any{"credit_rating": "B", "credit_source": "S"})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		id := e.client(t, e.A, at(e.A, access.CanUpdateCustomerIdentity)...)
		res = e.call(t, http.MethodPut, base+"branch", id, map[string]any{"branch_id": "DERBY8"})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, "DERBY8", res.object(t)["branch_id"])
	})
}

// TestObpUpdateDataLeavesDobOfDependants: PUT …/data (#26) sets dependants
// and does not touch dob_of_dependants, so a count that differs from the
// stored dates is accepted: "dependants = len(dob_of_dependants)" is OBP's
// create rule (rest-compat §4), which stays on create. GraphQL's
// updateCustomer follows the same rule (it is ent's): one of the two set
// alone keeps the other; both set together must agree.
func TestObpUpdateDataLeavesDobOfDependants(t *testing.T) {
	e := newEnv(t)
	c := e.obpCustMake(t, e.A, "Eveline Tripman", "5987953") // dependants 1, one date
	path := obpCustV3 + bankA + "/customers/" + c.ID.String() + "/data"
	tok := e.client(t, e.A, at(e.A, access.CanUpdateCustomerData)...)
	dob := []any{"2019-09-08T00:00:00Z"}

	for _, n := range []int{2, 0, 1, 7} {
		res := e.call(t, http.MethodPut, path, tok, map[string]any{
			"face_image":          map[string]any{"url": "http://www.example.com/id-docs/123/image.png", "date": "2013-01-21T23:08:00Z"},
			"relationship_status": "married", "dependants": n, "highest_education_attained": "PhD", "employment_status": "worker"})
		require.Equal(t, http.StatusOK, res.status, "dependants %d: %s", n, res.body)
		m := res.object(t)
		require.EqualValues(t, n, m["dependants"])
		require.Equal(t, dob, m["dob_of_dependants"], "not touched")
		require.Equal(t, "married", m["relationship_status"])
		db, err := e.db.Client.Customer.Get(e.sys, c.ID)
		require.NoError(t, err)
		require.Equal(t, n, db.Dependants)
		require.Len(t, db.DobOfDependants, 1)
	}

	// The create rule stays: 2 dependants with 1 date is refused on create.
	creator := e.client(t, e.A, at(e.A, access.CanCreateCustomer)...)
	b := obpCustSeedBody()
	b["dob_of_dependants"] = []string{"2019-09-08"}
	obpCustErr(t, e.call(t, http.MethodPost, obpCustV3+bankA+"/customers", creator, b), http.StatusBadRequest,
		"OBP-10020: Incorrect json. The field dependants(2) not equal the length(1) of dob_of_dependants array")

	// GraphQL's updateCustomer: the same rule.
	gql := e.client(t, e.A, at(e.A, access.CanUpdateCustomer, access.CanGetCustomer)...)
	update := func(input string) (map[string]any, []map[string]any) {
		res := e.call(t, http.MethodPost, "/query", gql, map[string]any{
			"query":     `mutation($id: ID!) { updateCustomer(id: $id, input: {` + input + `}) { dependants dobOfDependants } }`,
			"variables": map[string]any{"id": c.ID.String()}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var out struct {
			Data struct {
				UpdateCustomer map[string]any `json:"updateCustomer"`
			} `json:"data"`
			Errors []map[string]any `json:"errors"`
		}
		res.decode(t, &out)
		return out.Data.UpdateCustomer, out.Errors
	}
	got, errs := update(`dependants: 3`)
	require.Empty(t, errs)
	require.EqualValues(t, 3, got["dependants"])
	require.Equal(t, dob, got["dobOfDependants"], "dependants alone keeps the dates")
	got, errs = update(`dobOfDependants: ["2019-09-08T00:00:00Z", "2017-07-12T00:00:00Z"]`)
	require.Empty(t, errs)
	require.EqualValues(t, 3, got["dependants"], "the dates alone keep dependants")
	require.Len(t, got["dobOfDependants"], 2)
	got, errs = update(`dependants: 2, dobOfDependants: ["2019-09-08T00:00:00Z"]`)
	require.Nil(t, got)
	require.Len(t, errs, 1, "both set must agree")
	ext, _ := errs[0]["extensions"].(map[string]any)
	require.Equal(t, "BAD_USER_INPUT", ext["code"], "%v", errs)
	got, errs = update(`dependants: 1, dobOfDependants: ["2019-09-08T00:00:00Z"]`)
	require.Empty(t, errs)
	require.EqualValues(t, 1, got["dependants"])
	got, errs = update(`dependants: -1`)
	require.Nil(t, got)
	require.Len(t, errs, 1, "never negative")
}
