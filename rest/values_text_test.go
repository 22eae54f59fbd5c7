package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
)

// TestTextValuesAreOneLine: a name, a number or an address line holds no
// control character (a newline, a tab, a NUL, an escape, DEL, C1), a
// customer number is not blank, and a face image's address has no scheme
// but http or https (javascript:, data:): ent's rules, refused in every
// door's own format with nothing written; what OBP's seed sends
// ("www.openbankproject", no scheme) and ordinary Unicode still pass.
func TestTextValuesAreOneLine(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	count := func() int { return e.db.Client.Customer.Query().CountX(e.sys) }
	before := count()

	for _, bad := range []string{"John\nDoe", "John\tDoe", "John\x1b[31m", "John\x7f", "John\u0085"} {
		body := bsaiSeedBody()
		body["first_name"] = bad
		res := e.call(t, http.MethodPost, bsaiPath, tok, body)
		require.Equal(t, http.StatusBadRequest, res.status, "%q: %s", bad, res.body)
		require.Contains(t, string(res.body), "first_name", "%q", bad)
		require.Contains(t, string(res.body), "must be one line of plain text", "%q", bad)

		body = bsaiSeedBody()
		body["address"].(map[string]any)["locality"] = bad
		res = e.call(t, http.MethodPost, bsaiPath, tok, body)
		require.Equal(t, http.StatusBadRequest, res.status, "%q: %s", bad, res.body)

		obp := obpCustSeedBody()
		obp["legal_name"] = bad
		res = e.call(t, http.MethodPost, obpCustV3+bankA+"/customers", tok, obp)
		obpRecErrPrefix(t, res, http.StatusBadRequest, "OBP-30051: Cannot create Customer legal_name: must be one line of plain text")

		res = e.call(t, http.MethodPost, "/query", tok, map[string]any{
			"query":     `mutation($b: ID!, $n: String!) { createCustomer(input: {bankID: $b, legalName: $n}) { id } }`,
			"variables": map[string]any{"b": e.A.ID, "n": bad}})
		var out struct {
			Errors []struct{ Extensions map[string]any }
		}
		res.decode(t, &out)
		require.NotEmpty(t, out.Errors, "%q: %s", bad, res.body)
		require.Equal(t, "BAD_USER_INPUT", out.Errors[0].Extensions["code"], "%q: %s", bad, res.body)
		require.Equal(t, "legalName", out.Errors[0].Extensions["field"], "%q: %s", bad, res.body)
	}

	for _, url := range []string{"javascript:alert(1)", " JavaScript:alert(1)", "data:image/svg+xml;base64,PHN2Zz4=", "vbscript:x", "file:///etc/passwd"} {
		obp := obpCustSeedBody()
		obp["face_image"] = map[string]any{"url": url, "date": "2020-01-27"}
		res := e.call(t, http.MethodPost, obpCustV5+bankA+"/customers", tok, obp)
		obpRecErrPrefix(t, res, http.StatusBadRequest, "OBP-30051: Cannot create Customer face_image_url: ")
		require.Contains(t, string(res.body), "must be http or https", "%q", url)
	}
	for _, number := range []string{" ", "   "} {
		obp := obpCustSeedBody()
		obp["customer_number"] = number
		res := e.call(t, http.MethodPost, obpCustV5+bankA+"/customers", tok, obp)
		obpRecErrPrefix(t, res, http.StatusBadRequest, "OBP-10001: Incorrect json format. customer_number: must not begin or end with a space")
	}
	require.Equal(t, before, count(), "nothing written")

	for _, ok := range []struct{ name, url string }{
		{"Zoë Ŝmith-O'Brien 山田", "www.openbankproject"},
		{"Eveline Tripman", "https://example.com/a:b.png"},
		{"A. N. Other", "/images/face.png?size=2"},
	} {
		obp := obpCustSeedBody()
		obp["legal_name"] = ok.name
		obp["face_image"] = map[string]any{"url": ok.url, "date": "2020-01-27"}
		res := e.call(t, http.MethodPost, obpCustV3+bankA+"/customers", tok, obp)
		require.Equal(t, http.StatusCreated, res.status, "%s %s: %s", ok.name, ok.url, res.body)
		require.Equal(t, ok.name, res.object(t)["legal_name"])
		require.True(t, strings.Contains(string(res.body), ok.url), "%s", res.body)
	}
}

// gqlFieldError posts a GraphQL mutation that must be refused as
// BAD_USER_INPUT and returns the field it names.
func (e *env) gqlFieldError(t *testing.T, tok, query string, vars map[string]any) string {
	t.Helper()
	res := e.call(t, http.MethodPost, "/query", tok, map[string]any{"query": query, "variables": vars})
	var out struct {
		Errors []struct{ Extensions map[string]any }
	}
	res.decode(t, &out)
	require.NotEmpty(t, out.Errors, "%v: %s", vars, res.body)
	require.Equal(t, "BAD_USER_INPUT", out.Errors[0].Extensions["code"], "%v: %s", vars, res.body)
	field, _ := out.Errors[0].Extensions["field"].(string)
	return field
}

// TestTextValuesOfEveryRecordAreOneLine: the one-line rule holds for the
// other records' single-line text too (a CRM event's customer name and
// number, a tax residence, a handle, an attribute's name, an address's
// tags), and it also refuses line and paragraph separators, bidirectional
// overrides and invisible characters; a customer number does not begin or
// end with a space; a bad part of an address's structured form is
// reported as that part, not as the line made from it.
func TestTextValuesOfEveryRecordAreOneLine(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	cust := obpRecCustomer(t, e, e.A, "Alice")
	events := func() int { return e.db.Client.CrmEvent.Query().CountX(e.sys) }
	before := events()

	for _, bad := range []string{"Eve\nline", "Eve\u2028line", "Eve\u202eenil", "Eve\u2060", "Eve\ufeff"} {
		require.Equal(t, "customerName", e.gqlFieldError(t, tok,
			`mutation($b: ID!, $n: String!) { createCrmEvent(input: {bankID: $b, customerName: $n}) { id } }`,
			map[string]any{"b": e.A.ID, "n": bad}), "%q", bad)
		require.Equal(t, "customerNumber", e.gqlFieldError(t, tok,
			`mutation($b: ID!, $n: String!) { createCrmEvent(input: {bankID: $b, customerNumber: $n}) { id } }`,
			map[string]any{"b": e.A.ID, "n": bad}), "%q", bad)
		require.Equal(t, "taxNumber", e.gqlFieldError(t, tok,
			`mutation($c: ID!, $n: String!) { createTaxResidence(input: {customerID: $c, domain: "DE", taxNumber: $n}) { id } }`,
			map[string]any{"c": cust.ID, "n": bad}), "%q", bad)
		require.Equal(t, "name", e.gqlFieldError(t, tok,
			`mutation($c: ID!, $n: String!) { createCustomerAttribute(input: {customerID: $c, name: $n, type: STRING, value: "v"}) { id } }`,
			map[string]any{"c": cust.ID, "n": bad}), "%q", bad)

		body := bsaiSeedBody()
		body["first_name"] = bad
		res := e.call(t, http.MethodPost, bsaiPath, tok, body)
		require.Equal(t, http.StatusBadRequest, res.status, "%q: %s", bad, res.body)
	}
	require.Equal(t, before, events(), "nothing written")

	// A CRM event's customer number holds no invisible character either.
	require.Equal(t, "customerNumber", e.gqlFieldError(t, tok,
		`mutation($b: ID!, $n: String!) { createCrmEvent(input: {bankID: $b, customerNumber: $n}) { id } }`,
		map[string]any{"b": e.A.ID, "n": "59\u200b87953"}))
	// A message's sender and transport, a client's name: one line too.
	msg := map[string]any{"message": "hi", "transport": "SMS", "from_department": "Dept\u2028X", "from_person": "Eve"}
	res := e.call(t, http.MethodPost, obpRecV5+bankA+"/customers/"+cust.ID.String()+"/messages", tok, msg)
	obpRecErrPrefix(t, res, http.StatusBadRequest, "OBP-10020: Incorrect json. from_department: ")
	// Names as phones and Thai write them are accepted.
	for _, name := range []string{"สมชาย\u200bใจดี", "\u2067محمد\u2069 Smith"} {
		body := bsaiSeedBody()
		body["first_name"] = name
		res := e.call(t, http.MethodPost, bsaiPath, tok, body)
		require.Equal(t, http.StatusOK, res.status, "%q: %s", name, res.body)
		require.Equal(t, name, res.object(t)["first_name"])
	}

	addr := obpRecSeedAddress()
	addr["tags"] = []string{"x\n"}
	obpRecErrPrefix(t, e.call(t, http.MethodPost, obpRecV3+bankA+"/customers/"+cust.ID.String()+"/address", tok, addr),
		http.StatusBadRequest, "OBP-10020: Incorrect json. tags: ")

	for _, number := range []string{"5987953 ", " 5987953", "\u200b", "\u2060"} {
		obp := obpCustSeedBody()
		obp["customer_number"] = number
		res := e.call(t, http.MethodPost, obpCustV5+bankA+"/customers", tok, obp)
		require.Equal(t, http.StatusBadRequest, res.status, "%q: %s", number, res.body)
	}

	// bankingservice.ai's structured address: the part at fault.
	body := bsaiSeedBody()
	body["address"].(map[string]any)["thoroughfare"] = "Main\u0007St"
	res = e.call(t, http.MethodPost, bsaiPath, tok, body)
	require.Equal(t, http.StatusBadRequest, res.status, "%s", res.body)
	require.Contains(t, string(res.body), `"message":"address.thoroughfare: must be one line`, "%s", res.body)
	require.Equal(t, "thoroughfare", e.gqlFieldError(t, tok,
		`mutation($c: ID!) { createAddress(input: {customerID: $c, thoroughfare: "Main\u0007St", premise: 1}) { id } }`,
		map[string]any{"c": cust.ID}))
}

// TestLookupsByUnstorableText: a lookup by text no stored value can be
// (a NUL, bytes that are not UTF-8) answers what it answers for any value
// nothing holds, on SQLite and PostgreSQL alike (PostgreSQL refused it in
// the query: 400 where SQLite answered): OBP's number lookup 404, the
// firehose's attribute filter and Tradevest's iban filter 400.
func TestLookupsByUnstorableText(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	hose := e.client(t, nil, anyBank(access.CanUseCustomerFirehoseAtAnyBank)...)
	cid := e.tvCreate(t, tok, map[string]any{"entityId": uuid.New(), "entityType": "NATURAL_PERSON"})

	obpRecErrPrefix(t, e.call(t, http.MethodPost, obpCustV3+bankA+"/customers/customer-number", tok,
		map[string]any{"customer_number": "59\u00007953"}), http.StatusNotFound, "OBP-30002")
	for _, q := range []string{"SEGMENT=%00", "SEGMENT=%FF", "SEG%00MENT=gold"} {
		obpRecErrPrefix(t, e.call(t, http.MethodGet, obpCustV3+bankA+"/firehose/customers?"+q, hose, nil),
			http.StatusBadRequest, "OBP-10016: ")
	}
	for _, q := range []string{"iban=DE%00", "iban=%FF"} {
		res := e.call(t, http.MethodGet, "/customers/"+cid+"/products?"+q, tok, nil)
		tvErr(t, res, http.StatusBadRequest, "BAD_REQUEST", "iban", "INVALID_VALUE")
	}
}
