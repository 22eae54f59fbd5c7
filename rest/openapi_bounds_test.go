package rest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent/product"
	"custgraph/internal/access"
	"custgraph/internal/admin"
	"custgraph/rest"
)

// The bounds the OpenAPI document declares on what a client sends
// (maxLength, maximum, maxItems of request-body properties, query
// parameters and headers) are what a generated client and a schema-driven
// fuzzer (Schemathesis' positive data acceptance) rely on: every value
// within them must be accepted. TestOpenAPIBounds reads the served
// document, finds every such bound and sends a request with the value
// exactly at it, so a bound the document states looser than the server's
// fails here. Where the server bounds a value made of several inputs (the
// legal name "<first_name> <last_name>", bankingservice.ai's address line
// "<thoroughfare> <premise><sub_premise>", OBP's tags joined with ","),
// the document states per-input bounds under which every combination
// fits, and the test puts the combined inputs at their bounds at once.

// boundsLeaf is one bounded input of an operation: a query parameter, a
// header or a request-body property whose schema (or whose array's item
// schema) declares maxLength, maximum or maxItems.
type boundsLeaf struct {
	name   string         // "query page", "header Idempotency-Key", or the body property's dotted path ("address.premise")
	in     string         // "query", "header" or "body"
	path   []string       // the parameter's name, or the body property's path
	schema map[string]any // its schema, $ref followed
}

// boundsOp is an operation of the document with its bounded inputs.
type boundsOp struct {
	id, method, path, mediaType string
	leaves                      []boundsLeaf
}

// boundsCase says how to send an operation's requests: everything but the
// bounded values, which the test takes from the document.
type boundsCase struct {
	auth    string
	path    func(t *testing.T) string // the request's path; a fresh record where a request uses it up
	body    func() map[string]any     // an otherwise-valid body (nil: none)
	headers func() []string           // otherwise-valid headers, as name, value pairs
	// groups are leaves bounded as a whole by the server: whenever one of
	// them is at its bound, all of them are.
	groups [][]string
	// values gives a leaf's value at its bound where the test cannot make
	// one from the schema (it must be a given record's).
	values map[string]func() any
}

// boundsBodyKeys are the schema keywords the walk of a request body
// understands; any other one (oneOf, allOf, …) is a shape the test must
// learn before it can vouch for the document's bounds.
var boundsBodyKeys = []string{"type", "format", "description", "examples", "example", "properties", "required", "items",
	"minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "uniqueItems", "enum", "const", "default", "$ref"}

// boundedOperations lists the document's operations that have bounded
// inputs.
func boundedOperations(t *testing.T, d jsonDoc) map[string]boundsOp {
	t.Helper()
	out := map[string]boundsOp{}
	for p, item := range d.at(t, "#/paths").(map[string]any) {
		for method, o := range item.(map[string]any) {
			op := d.obj(t, o)
			bo := boundsOp{id: op["operationId"].(string), method: strings.ToUpper(method), path: p}
			params, _ := op["parameters"].([]any)
			for _, prm := range params {
				prm := d.obj(t, prm)
				in, name := prm["in"].(string), prm["name"].(string)
				s := d.obj(t, prm["schema"])
				if in != "path" && boundsDeclared(t, d, s) {
					bo.leaves = append(bo.leaves, boundsLeaf{name: in + " " + name, in: in, path: []string{name}, schema: s})
				}
			}
			if rb, ok := op["requestBody"]; ok {
				content := d.obj(t, rb)["content"].(map[string]any)
				require.Len(t, content, 1, "%s: one media type", bo.id)
				for mt, c := range content {
					bo.mediaType = mt
					var walk func(path []string, s map[string]any)
					walk = func(path []string, s map[string]any) {
						for k := range s {
							require.Contains(t, boundsBodyKeys, k, "%s %s: the test does not know the keyword %q", bo.id, strings.Join(path, "."), k)
						}
						if len(path) > 0 && boundsDeclared(t, d, s) {
							bo.leaves = append(bo.leaves, boundsLeaf{name: strings.Join(path, "."), in: "body", path: slices.Clone(path), schema: s})
						}
						if items, ok := s["items"]; ok {
							_, nested := d.obj(t, items)["properties"]
							require.False(t, nested, "%s %s: the test does not walk arrays of objects", bo.id, strings.Join(path, "."))
						}
						props, _ := s["properties"].(map[string]any)
						for name, ps := range props {
							walk(append(slices.Clone(path), name), d.obj(t, ps))
						}
					}
					walk(nil, d.obj(t, d.obj(t, c)["schema"]))
				}
			}
			if len(bo.leaves) > 0 {
				slices.SortFunc(bo.leaves, func(a, b boundsLeaf) int { return strings.Compare(a.name, b.name) })
				out[bo.id] = bo
			}
		}
	}
	return out
}

// boundsDeclared reports whether s, or its array's items, declares an
// upper bound.
func boundsDeclared(t *testing.T, d jsonDoc, s map[string]any) bool {
	t.Helper()
	for _, k := range []string{"exclusiveMaximum", "maxProperties"} {
		require.NotContains(t, s, k, "the test does not handle %s", k)
	}
	for _, k := range []string{"maxLength", "maximum", "maxItems"} {
		if _, ok := s[k]; ok {
			return true
		}
	}
	if items, ok := s["items"]; ok {
		return boundsDeclared(t, d, d.obj(t, items))
	}
	return false
}

// boundsType is a schema's type other than null.
func boundsType(t *testing.T, s map[string]any) string {
	t.Helper()
	switch ty := s["type"].(type) {
	case string:
		return ty
	case []any:
		for _, x := range ty {
			if x != "null" {
				return x.(string)
			}
		}
	}
	t.Fatalf("schema without a type: %v", s)
	return ""
}

// boundsInt is an integer keyword of a schema (the document is decoded
// with json.Number, so 64-bit bounds stay exact).
func boundsInt(t *testing.T, s map[string]any, key string) (int, bool) {
	t.Helper()
	v, ok := s[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(string(v.(json.Number)))
	require.NoError(t, err, "%s: %v", key, v)
	return n, true
}

// boundsGen makes values at a bound: text of exactly n characters, with
// "é" (two bytes, one character) where any text is allowed, and a counter
// so that values that must be unique are.
type boundsGen struct {
	d jsonDoc
	n int
}

func (g *boundsGen) text(n int) string {
	g.n++
	s := strconv.Itoa(g.n)
	if n <= len(s) {
		return strings.Repeat("é", n)
	}
	return strings.Repeat("é", n-len(s)) + s
}

// boundsFormats make a valid value of n characters for the fields that
// take a format rather than any text, by the field's name.
var boundsFormats = map[string]func(g *boundsGen, n int) string{
	"email": func(g *boundsGen, n int) string {
		const domain = "@example.com" // the local part may be any atom text: "é" too (RFC 6532)
		return g.text(n-len(domain)) + domain
	},
	"phone":               boundsPhone,
	"mobile_phone_number": boundsPhone,
	// ISO codes: their bound is their only length.
	"country":      func(*boundsGen, int) string { return "NL" },
	"country_code": func(*boundsGen, int) string { return "DE" },
	"currency":     func(*boundsGen, int) string { return "EUR" },
	// OBP ids: 0-9, a-z, A-Z, '-', '.', '_'.
	"branch_id": func(_ *boundsGen, n int) string { return strings.Repeat("b", n) },
	// A plain decimal: at most 38 digits, 18 after the point; leading
	// zeros fill the text up to its bound.
	"amount": func(_ *boundsGen, n int) string {
		if n < 40 {
			return strings.Repeat("1", n)
		}
		return "-" + strings.Repeat("0", n-40) + strings.Repeat("9", 20) + "." + strings.Repeat("9", 18)
	},
	// Printable ASCII, a new key for each request.
	"Idempotency-Key": func(_ *boundsGen, n int) string { return uuid.NewString() + strings.Repeat("k", n-36) },
}

// boundsPhone is a phone number of n characters: a leading +, 15 digits
// (E.164's most) and separators.
func boundsPhone(_ *boundsGen, n int) string {
	digits := min(15, n-1)
	return "+" + strings.Repeat("7", digits) + strings.Repeat("-", n-1-digits)
}

// boundsItems make a valid item of an array whose items are not bounded
// themselves, by the array's name.
var boundsItems = map[string]func() any{
	"dob_of_dependants": func() any { return "2019-09-08" },
}

// atBound is leaf's value at its documented bound: a string of exactly
// maxLength characters, the maximum, an array of maxItems items (each at
// its own bound, distinct when uniqueItems).
func (g *boundsGen) atBound(t *testing.T, leaf boundsLeaf, c boundsCase) any {
	t.Helper()
	key := leaf.path[len(leaf.path)-1]
	s := leaf.schema
	switch boundsType(t, s) {
	case "integer":
		n, ok := boundsInt(t, s, "maximum")
		require.True(t, ok, "%s: an integer bounded by anything but maximum", leaf.name)
		return json.Number(strconv.Itoa(n))
	case "string":
		n, ok := boundsInt(t, s, "maxLength")
		require.True(t, ok, "%s: a string bounded by anything but maxLength", leaf.name)
		var v string
		if f, ok := c.values[leaf.name]; ok {
			v = f().(string)
		} else if f, ok := boundsFormats[key]; ok {
			v = f(g, n)
		} else {
			v = g.text(n)
		}
		require.Equal(t, n, utf8.RuneCountInString(v), "%s: the test made %q, not %d characters (the documented maxLength)", leaf.name, v, n)
		return v
	case "array":
		n, ok := boundsInt(t, s, "maxItems")
		if !ok {
			n = 1
		}
		items := g.d.obj(t, s["items"])
		out := make([]any, n)
		for i := range out {
			switch {
			case boundsDeclared(t, g.d, items):
				out[i] = g.atBound(t, boundsLeaf{name: leaf.name + "[]", path: leaf.path, schema: items}, c)
			case boundsItems[key] != nil:
				out[i] = boundsItems[key]()
			default:
				t.Fatalf("%s: the test cannot make an item of it", leaf.name)
			}
		}
		if s["uniqueItems"] == true {
			seen := map[any]bool{}
			for _, v := range out {
				require.False(t, seen[v], "%s: the test made %v twice", leaf.name, v)
				seen[v] = true
			}
		}
		return out
	}
	t.Fatalf("%s: the test cannot bound a %s", leaf.name, boundsType(t, s))
	return nil
}

// boundsSet puts v at path in body.
func boundsSet(t *testing.T, body map[string]any, path []string, v any) {
	t.Helper()
	for _, p := range path[:len(path)-1] {
		next, ok := body[p].(map[string]any)
		require.True(t, ok, "the base body has no object %q", p)
		body = next
	}
	body[path[len(path)-1]] = v
}

// boundsRequest is an HTTP request of operation op built from c with the
// leaves of set at their bounds; build can be called again for an
// identical one (the values are made once).
func (g *boundsGen) boundsRequest(t *testing.T, base string, op boundsOp, c boundsCase, set []boundsLeaf) func() *http.Request {
	t.Helper()
	path := c.path(t)
	literal := regexp.MustCompile(`\{[^/}]+\}`).Split(op.path, -1)
	for i := range literal {
		literal[i] = regexp.QuoteMeta(literal[i])
	}
	require.Regexp(t, "^"+strings.Join(literal, "[^/]+")+"$", path, "the case's path is not the operation's")
	var body map[string]any
	if c.body != nil {
		body = c.body()
	}
	query := url.Values{}
	var headers []string
	if c.headers != nil {
		headers = c.headers()
	}
	for _, leaf := range set {
		v := g.atBound(t, leaf, c)
		switch leaf.in {
		case "query":
			if list, ok := v.([]any); ok {
				for _, x := range list {
					query.Add(leaf.path[0], fmt.Sprint(x))
				}
			} else {
				query.Set(leaf.path[0], fmt.Sprint(v))
			}
		case "header":
			headers = append(headers, leaf.path[0], v.(string))
		case "body":
			require.NotNil(t, body, "%s: the case has no body", op.id)
			boundsSet(t, body, leaf.path, v)
		}
	}
	var raw []byte
	switch {
	case body == nil:
	case op.mediaType == "application/x-www-form-urlencoded":
		form := url.Values{}
		for k, v := range body {
			form.Set(k, fmt.Sprint(v))
		}
		raw = []byte(form.Encode())
	default:
		var err error
		raw, err = json.Marshal(body)
		require.NoError(t, err)
	}
	target := base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	return func() *http.Request {
		var rd io.Reader
		if raw != nil {
			rd = bytes.NewReader(raw)
		}
		req, err := http.NewRequest(op.method, target, rd)
		require.NoError(t, err)
		if raw != nil {
			req.Header.Set("Content-Type", op.mediaType)
		}
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return req
	}
}

// TestOpenAPIBounds reads the served OpenAPI document and, for every
// operation with bounded inputs, sends one request per bounded input (or
// group of inputs bounded as a whole) with its value exactly at the
// documented bound, and one with all of them at once, each otherwise
// valid: the document must find every such request valid and the server
// must answer 2xx. It fails for an operation with bounds the test has no
// case for. TestOpenAPIBoundsOneOver checks that one over is refused.
func TestOpenAPIBounds(t *testing.T) {
	e := newEnv(t)
	v, err := openAPIValidator()
	require.NoError(t, err)
	served := e.call(t, http.MethodGet, rest.OpenAPIPath, "", nil)
	require.Equal(t, http.StatusOK, served.status)
	dec := json.NewDecoder(bytes.NewReader(served.body))
	dec.UseNumber()
	var d jsonDoc
	require.NoError(t, dec.Decode(&d))

	ops := boundedOperations(t, d)
	cases := boundsCases(t, e)
	for id := range cases {
		require.Contains(t, ops, id, "a case for %s, which has no bounds in the document (or does not exist)", id)
	}
	ids := make([]string, 0, len(ops))
	for id := range ops {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	g := &boundsGen{d: d}
	for _, id := range ids {
		op := ops[id]
		c, ok := cases[id]
		var names []string
		for _, l := range op.leaves {
			names = append(names, l.name)
		}
		if !ok {
			t.Errorf("%s (%s %s) declares bounds on %v: add a case for it to boundsCases", id, op.method, op.path, names)
			continue
		}
		for _, group := range c.groups {
			for _, n := range group {
				require.Contains(t, names, n, "%s: group %v names an input without a documented bound", id, group)
			}
		}
		t.Run(id, func(t *testing.T) {
			send := func(t *testing.T, set []boundsLeaf) {
				t.Helper()
				build := g.boundsRequest(t, e.srv.URL, op, c, set)
				var what []string
				for _, l := range set {
					what = append(what, l.name)
				}
				ok, errs := v.ValidateHttpRequest(build())
				for _, err := range errs {
					t.Errorf("%s with %v at the documented bounds: the document refuses it: %s", id, what, err.Error())
				}
				require.True(t, ok)
				res := e.send(t, build())
				require.True(t, res.status >= 200 && res.status < 300,
					"%s with %v at the documented bounds answered %d: %s", id, what, res.status, res.body)
			}
			byName := map[string]boundsLeaf{}
			for _, l := range op.leaves {
				byName[l.name] = l
			}
			for _, l := range op.leaves {
				set := []boundsLeaf{l}
				for _, group := range c.groups {
					if slices.Contains(group, l.name) {
						set = set[:0]
						for _, n := range group {
							set = append(set, byName[n])
						}
					}
				}
				t.Run(l.name, func(t *testing.T) { send(t, set) })
			}
			t.Run("all at once", func(t *testing.T) { send(t, op.leaves) })
		})
	}
}

// boundsCases are the otherwise-valid requests of every operation with
// bounds, by operationId: the records they need, a caller holding every
// role they need, bodies of valid values.
func boundsCases(t *testing.T, e *env) map[string]boundsCase {
	t.Helper()
	full := e.client(t, e.A, allBankRoles(e.A)...)
	hose := e.client(t, nil, role{access.CanUseCustomerFirehoseAtAnyBank, nil})
	n := 0
	unique := func(prefix string) string { n++; return prefix + strconv.Itoa(n) }
	requestor := func() []string { return []string{"Requestor-ID", uuid.NewString()} }
	fixed := func(p string) func(*testing.T) string { return func(*testing.T) string { return p } }

	// bankingservice.ai
	newBsai := func(t *testing.T) string {
		res := e.call(t, http.MethodPost, bsaiPath, full, bsaiSeedBody())
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		return res.object(t)["id"].(string)
	}
	bsaiID := newBsai(t)
	bsaiGroups := [][]string{
		{"first_name", "last_name"},                                        // the legal name "<first_name> <last_name>"
		{"address.thoroughfare", "address.premise", "address.sub_premise"}, // line_1
	}

	// Tradevest
	tvCust, err := e.db.Client.Customer.Create().SetBankID(e.A.ID).SetLegalName("Tradevest Bounds").Save(e.sys)
	require.NoError(t, err)

	// OBP
	obpCust := e.obpCustMake(t, e.A, "Eveline Tripman", "5987953")
	obpPut := func(route string) func(*testing.T) string {
		return fixed(obpCustV3 + bankA + "/customers/" + obpCust.ID.String() + "/" + route)
	}
	// The record routes' customer: its number is as long as a number can
	// be (a social media handle may name it), and a user is linked to it
	// (v1.4.0's message needs one).
	recCust, err := e.db.Client.Customer.Create().SetBankID(e.A.ID).SetLegalName("Alice").
		SetCustomerNumber(strings.Repeat("é", 44) + "-12345").Save(e.sys)
	require.NoError(t, err)
	u, err := e.db.Client.User.Create().SetUsername("bounds.linked").Save(e.sys)
	require.NoError(t, err)
	_, err = e.db.Client.UserCustomerLink.Create().SetUserID(u.ID).SetCustomerID(recCust.ID).Save(e.sys)
	require.NoError(t, err)
	rec := obpRecV3 + bankA + "/customers/" + recCust.ID.String()
	newAddress := func(t *testing.T) string {
		ad, err := e.db.Client.Address.Create().SetCustomerID(recCust.ID).SetLine1("No 1 the Road").Save(e.sys)
		require.NoError(t, err)
		return ad.ID.String()
	}
	addrID := newAddress(t)
	obpGroups := [][]string{{"dependants", "dob_of_dependants"}} // as many dates as dependants

	// The token endpoint's client (client_secret_post).
	clientID, secret := "bounds-"+uuid.NewString()[:8], "secret-"+uuid.NewString()
	_, _, err = admin.CreateClient(e.sys, e.db.Client, admin.ClientInput{ClientID: clientID, Name: clientID, Secret: secret})
	require.NoError(t, err)

	return map[string]boundsCase{
		"oauthToken": {
			path: fixed("/oauth/token"),
			body: func() map[string]any {
				return map[string]any{"grant_type": "client_credentials", "client_id": clientID, "client_secret": secret}
			},
		},

		"bsaiListCustomers":   {auth: full, path: fixed(bsaiPath)},
		"bsaiCreateCustomer":  {auth: full, path: fixed(bsaiPath), body: bsaiSeedBody, groups: bsaiGroups},
		"bsaiReplaceCustomer": {auth: full, path: fixed(bsaiPath + "/" + bsaiID), body: bsaiSeedBody, groups: bsaiGroups},
		"bsaiDeleteCustomer":  {auth: full, path: func(t *testing.T) string { return bsaiPath + "/" + newBsai(t) }},

		"tvCreateCustomer": {auth: full, path: fixed("/roles/customers"), headers: requestor,
			body: func() map[string]any {
				return map[string]any{"entityId": uuid.NewString(), "entityType": "NATURAL_PERSON", "labels": []string{"vip"}}
			}},
		"tvListCustomers": {auth: full, path: fixed("/roles/customers")},
		"tvUpdateCustomer": {auth: full, path: fixed("/roles/customers/" + tvCust.ID.String()), headers: requestor,
			body: func() map[string]any { return map[string]any{"labels": []string{"vip"}} }},
		"tvCreateCustomerProduct": {auth: full, path: fixed("/customers/" + tvCust.ID.String() + "/products"), headers: requestor,
			body: func() map[string]any { return map[string]any{"productCode": "WALLET", "currency": "EUR"} }},
		"tvUpdateCustomerProduct": {auth: full, headers: requestor,
			path: func(t *testing.T) string {
				p, err := e.db.Client.Product.Create().SetCustomerID(tvCust.ID).SetProductCode(product.ProductCodeWALLET).Save(e.sys)
				require.NoError(t, err)
				return "/products/" + p.ID.String()
			},
			body: func() map[string]any { return map[string]any{"status": "CLOSED"} }},
		"tvEntitiesChangelog": {auth: full, path: fixed("/entities-changelog")},

		"obpCreateCustomerV310":               {auth: full, path: fixed(obpCustV3 + bankA + "/customers"), body: obpCustSeedBody, groups: obpGroups},
		"obpCreateCustomerV510":               {auth: full, path: fixed(obpCustV5 + bankA + "/customers"), body: obpCustSeedBody, groups: obpGroups},
		"obpGetFirehoseCustomers":             {auth: hose, path: fixed(obpCustV3 + bankA + "/firehose/customers")},
		"obpGetCustomersForCurrentUserAtBank": {auth: full, path: fixed(obpCustV3 + bankA + "/customers")},
		"obpGetCustomersForCurrentUser":       {auth: full, path: fixed("/obp/v3.1.0/users/current/customers")},
		"obpUpdateCustomerEmail": {auth: full, path: obpPut("email"),
			body: func() map[string]any { return map[string]any{"email": "felix@example.com"} }},
		"obpUpdateCustomerNumber": {auth: full, path: obpPut("number"),
			body: func() map[string]any { return map[string]any{"customer_number": unique("N")} }},
		"obpUpdateCustomerMobileNumber": {auth: full, path: obpPut("mobile-number"),
			body: func() map[string]any { return map[string]any{"mobile_phone_number": "+49 30 901820"} }},
		"obpUpdateCustomerIdentity": {auth: full, path: obpPut("identity"),
			body: func() map[string]any {
				return map[string]any{"legal_name": "Eveline Tripman", "date_of_birth": "1980-03-09", "title": "Dr.", "name_suffix": "Sr"}
			}},
		"obpUpdateCustomerCreditLimit": {auth: full, path: obpPut("credit-limit"),
			body: func() map[string]any {
				return map[string]any{"credit_limit": map[string]any{"currency": "EUR", "amount": "10.12"}}
			}},
		"obpUpdateCustomerCreditRatingAndSource": {auth: full, path: obpPut("credit-rating-and-source"),
			body: func() map[string]any { return map[string]any{"credit_rating": "OBP", "credit_source": "OBP"} }},
		"obpUpdateCustomerBranch": {auth: full, path: obpPut("branch"),
			body: func() map[string]any { return map[string]any{"branch_id": "DERBY6"} }},
		"obpUpdateCustomerData": {auth: full, path: obpPut("data"),
			body: func() map[string]any {
				// dependants is set on its own here: any number within its
				// bounds, whatever the stored dates (one).
				return map[string]any{
					"face_image":          map[string]any{"url": "http://www.example.com/id-docs/123/image.png", "date": "2013-01-21T23:08:00Z"},
					"relationship_status": "married", "dependants": 1, "highest_education_attained": "PhD", "employment_status": "worker"}
			}},

		"obpRecCreateAddress": {auth: full, path: fixed(rec + "/address"), body: obpRecSeedAddress},
		"obpRecUpdateAddress": {auth: full, path: fixed(rec + "/addresses/" + addrID), body: obpRecSeedAddress},
		"obpRecDeleteAddress": {auth: full, path: func(t *testing.T) string { return rec + "/addresses/" + newAddress(t) }},
		"obpRecCreateTaxResidence": {auth: full, path: fixed(rec + "/tax-residence"),
			body: func() map[string]any { return map[string]any{"domain": "DE", "tax_number": unique("tax-")} }},
		"obpRecDeleteTaxResidence": {auth: full,
			path: func(t *testing.T) string {
				tr, err := e.db.Client.TaxResidence.Create().SetCustomerID(recCust.ID).SetDomain("DE").SetTaxNumber(unique("del-")).Save(e.sys)
				require.NoError(t, err)
				return rec + "/tax_residencies/" + tr.ID.String()
			}},
		"obpRecCreateSocialHandle": {auth: full, path: fixed(rec + "/social_media_handles"),
			body: func() map[string]any {
				return map[string]any{"type": "twitter", "handle": unique("@bounds"), "date_added": "2024-01-02T03:04:05Z"}
			},
			values: map[string]func() any{"customer_number": func() any { return recCust.CustomerNumber }}},
		"obpRecCreateUserCustomerLink": {auth: full, path: fixed(obpRecV3 + bankA + "/user_customer_links"),
			body: func() map[string]any {
				u, err := e.db.Client.User.Create().SetUsername(unique("bounds.user")).Save(e.sys)
				require.NoError(t, err)
				return map[string]any{"user_id": u.ID.String(), "customer_id": recCust.ID.String()}
			}},
		"obpRecAddCustomerMessage": {auth: full, path: fixed(obpRecV5 + bankA + "/customer/" + recCust.ID.String() + "/messages"),
			body: func() map[string]any {
				return map[string]any{"message": "Hello", "from_department": "Sales", "from_person": "Bob"}
			}},
		"obpRecListAddresses":        {auth: full, path: fixed(rec + "/addresses")},
		"obpRecListTaxResidences":    {auth: full, path: fixed(rec + "/tax-residences")},
		"obpRecListSocialHandles":    {auth: full, path: fixed(rec + "/social_media_handles")},
		"obpRecListCrmEvents":        {auth: full, path: fixed(obpRecV3 + bankA + "/crm-events")},
		"obpRecListCustomerMessages": {auth: full, path: fixed(obpRecV5 + bankA + "/customers/" + recCust.ID.String() + "/messages")},
		"obpRecCreateCustomerMessage": {auth: full, path: fixed(obpRecV5 + bankA + "/customers/" + recCust.ID.String() + "/messages"),
			body: func() map[string]any {
				return map[string]any{"message": "Hello", "transport": "email", "from_department": "Sales", "from_person": "Bob"}
			}},
	}
}

// TestOpenAPIBoundsOneOver checks, in each family's error format, that
// one over a documented bound is refused (400) where the bound is the
// server's own, and that a combination over its whole is, while the same
// input alone over its documented share is accepted (the document's bound
// is the share that always fits). Each refused request is also one the
// document refuses.
func TestOpenAPIBoundsOneOver(t *testing.T) {
	e := newEnv(t)
	v, err := openAPIValidator()
	require.NoError(t, err)
	full := e.client(t, e.A, allBankRoles(e.A)...)
	hose := e.client(t, nil, role{access.CanUseCustomerFirehoseAtAnyBank, nil})
	text := func(n int) string { return strings.Repeat("é", n) }
	// call sends a request after checking that the document refuses it
	// too (documented false), or accepts it (true).
	call := func(t *testing.T, documented bool, method, path string, body any, headers ...string) reply {
		t.Helper()
		req := func() *http.Request {
			var rd io.Reader
			if body != nil {
				b, err := json.Marshal(body)
				require.NoError(t, err)
				rd = bytes.NewReader(b)
			}
			r, err := http.NewRequest(method, e.srv.URL+path, rd)
			require.NoError(t, err)
			if body != nil {
				r.Header.Set("Content-Type", "application/json")
			}
			r.Header.Set("Authorization", full)
			for i := 0; i+1 < len(headers); i += 2 {
				r.Header.Set(headers[i], headers[i+1])
			}
			return r
		}
		ok, errs := v.ValidateHttpRequest(req())
		if documented {
			require.True(t, ok, "the document refuses it: %v", errs)
		} else {
			require.False(t, ok, "the document accepts a value over its bound")
		}
		return e.send(t, req())
	}

	t.Run("bankingservice.ai", func(t *testing.T) {
		withAddress := func(set func(a map[string]any)) map[string]any {
			b := bsaiSeedBody()
			set(b["address"].(map[string]any))
			return b
		}
		bsaiRequireError(t, call(t, false, http.MethodPost, bsaiPath, withAddress(func(a map[string]any) { a["sub_premise"] = text(65) })),
			http.StatusBadRequest, "invalid_request", "address.sub_premise: ")
		bsaiRequireError(t, call(t, false, http.MethodPost, bsaiPath, withAddress(func(a map[string]any) { a["premise"] = 2147483648 })),
			http.StatusBadRequest, "invalid_request", "address.premise: ")
		bsaiRequireError(t, call(t, false, http.MethodPost, bsaiPath, withAddress(func(a map[string]any) { a["postal_code"] = text(21) })),
			http.StatusBadRequest, "invalid_request", "address.postal_code: ")
		bsaiRequireError(t, call(t, false, http.MethodGet, bsaiPath+"?page=9223372036854775808", nil),
			http.StatusBadRequest, "invalid_request", "page must be")
		bsaiRequireError(t, call(t, false, http.MethodPost, bsaiPath, bsaiSeedBody(), "Idempotency-Key", strings.Repeat("k", 256)),
			http.StatusBadRequest, "invalid_request", "the Idempotency-Key header is longer than 255")

		// The legal name: 128 + 1 + 127 = 256 characters is over its 255;
		// 255 + 0 is not, though over the document's 127 for first_name.
		b := bsaiSeedBody()
		b["first_name"], b["last_name"] = text(128), text(127)
		bsaiRequireError(t, call(t, false, http.MethodPost, bsaiPath, b), http.StatusBadRequest, "invalid_request", "first_name, last_name: ")
		b["first_name"], b["last_name"] = text(255), nil
		res := call(t, false, http.MethodPost, bsaiPath, b)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)

		// line_1: 181 + 1 + 10 + 64 = 256 is over; 253 + 1 + 1 (no sub_premise) is not.
		b = withAddress(func(a map[string]any) {
			a["thoroughfare"], a["premise"], a["sub_premise"] = text(181), 2147483647, text(64)
		})
		bsaiRequireError(t, call(t, false, http.MethodPost, bsaiPath, b), http.StatusBadRequest, "invalid_request",
			"address.thoroughfare, address.premise, address.sub_premise: ")
		b = withAddress(func(a map[string]any) { a["thoroughfare"], a["premise"], a["sub_premise"] = text(253), 1, "" })
		res = call(t, false, http.MethodPost, bsaiPath, b)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	})

	t.Run("Tradevest", func(t *testing.T) {
		create := func(labels []string) reply {
			return call(t, false, http.MethodPost, "/roles/customers",
				map[string]any{"entityId": uuid.NewString(), "entityType": "NATURAL_PERSON", "labels": labels})
		}
		tvErr(t, create([]string{text(65)}), http.StatusBadRequest, "BAD_REQUEST", "labels", "INVALID_VALUE")
		many := make([]string, 17)
		for i := range many {
			many[i] = "l" + strconv.Itoa(i)
		}
		tvErr(t, create(many), http.StatusBadRequest, "BAD_REQUEST", "labels", "INVALID_VALUE")
		tvErr(t, create([]string{"vip", "vip"}), http.StatusBadRequest, "BAD_REQUEST", "labels", "INVALID_VALUE")
		// (The validator does not check the items of a query array: only
		// the server is asked.)
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/roles/customers?labels="+url.QueryEscape(text(4097)), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", full)
		tvErr(t, e.send(t, req), http.StatusBadRequest, "BAD_REQUEST", "labels", "INVALID_VALUE")
		c, err := e.db.Client.Customer.Create().SetBankID(e.A.ID).SetLegalName("Tradevest").Save(e.sys)
		require.NoError(t, err)
		tvErr(t, call(t, false, http.MethodPost, "/customers/"+c.ID.String()+"/products",
			map[string]any{"productCode": "WALLET", "currency": "EURO"}, "Requestor-ID", uuid.NewString()),
			http.StatusBadRequest, "BAD_REQUEST", "currency", "INVALID_VALUE")
		tvErr(t, call(t, false, http.MethodGet, "/entities-changelog?limit=101", nil), http.StatusBadRequest, "BAD_REQUEST", "limit", "INVALID_VALUE")
	})

	t.Run("OBP customers", func(t *testing.T) {
		c := e.obpCustMake(t, e.A, "Eveline Tripman", "5987953")
		put := obpCustV3 + bankA + "/customers/" + c.ID.String() + "/"
		obpCustErrPrefix(t, call(t, false, http.MethodPut, put+"number", map[string]any{"customer_number": text(51)}),
			http.StatusBadRequest, "OBP-30058: Cannot update the Customer")
		obpCustErrPrefix(t, call(t, false, http.MethodPut, put+"number", map[string]any{"customer_number": ""}),
			http.StatusBadRequest, "OBP-30058: Cannot update the Customer")
		obpCustErrPrefix(t, call(t, false, http.MethodPut, put+"data", map[string]any{
			"face_image":          map[string]any{"url": "http://www.example.com/x.png", "date": "2013-01-21T23:08:00Z"},
			"relationship_status": text(17), "dependants": 1, "highest_education_attained": "PhD", "employment_status": "worker"}),
			http.StatusBadRequest, "OBP-30058: Cannot update the Customer")
		b := obpCustSeedBody()
		dobs := make([]string, 101)
		for i := range dobs {
			dobs[i] = "2019-09-08"
		}
		b["dependants"], b["dob_of_dependants"] = 101, dobs
		obpCustErrPrefix(t, call(t, false, http.MethodPost, obpCustV3+bankA+"/customers", b),
			http.StatusBadRequest, "OBP-30051: Cannot create Customer")
		b = obpCustSeedBody()
		b["branch_id"] = strings.Repeat("b", 37)
		obpCustErrPrefix(t, call(t, false, http.MethodPost, obpCustV5+bankA+"/customers", b),
			http.StatusBadRequest, "OBP-10001: Incorrect json format. Here are all invalid values")
		// The firehose's offset: one over a 64-bit integer.
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+obpCustV3+bankA+"/firehose/customers?offset=9223372036854775808", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", hose)
		ok, _ := v.ValidateHttpRequest(req)
		require.False(t, ok)
		obpCustErrPrefix(t, e.send(t, req), http.StatusBadRequest, "OBP-10016")
	})

	t.Run("OBP records", func(t *testing.T) {
		cust := obpRecCustomer(t, e, e.A, "Alice")
		base := obpRecV3 + bankA + "/customers/" + cust.ID.String()
		addr := obpRecSeedAddress()
		addr["postcode"] = text(21)
		obpRecErrPrefix(t, call(t, false, http.MethodPost, base+"/address", addr), http.StatusBadRequest, "OBP-10020: Incorrect json. postcode: ")
		// Two tags over their documented 9 characters, 10 + 1 + 10 = 21
		// over OBP's 20 joined; 10 + 1 + 9 is not.
		addr = obpRecSeedAddress()
		addr["tags"] = []string{text(10), "ö" + text(9)}
		obpRecErrPrefix(t, call(t, false, http.MethodPost, base+"/address", addr), http.StatusBadRequest, "OBP-10020: Incorrect json. tags: ")
		addr["tags"] = []string{text(10), text(9)}
		res := call(t, false, http.MethodPost, base+"/address", addr)
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		obpRecErrPrefix(t, call(t, false, http.MethodPost, obpRecV5+bankA+"/customers/"+cust.ID.String()+"/messages",
			map[string]any{"message": text(4097), "transport": "email", "from_department": "Sales", "from_person": "Bob"}),
			http.StatusBadRequest, "OBP-10020: Incorrect json. message: ")
		obpRecErrPrefix(t, call(t, false, http.MethodPost, base+"/tax-residence", map[string]any{"domain": "", "tax_number": "1"}),
			http.StatusBadRequest, "OBP-10020: Incorrect json. domain: ")
	})
}
