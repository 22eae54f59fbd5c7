package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/customer"
	"custgraph/internal/access"
	"custgraph/rest"
)

// The access matrix of the REST routes, looked at from outside: every route
// of the three families (and OBP's discovery routes) is called by
//   (a) a logged-in caller that holds no role,
//   (b) one that holds every bank role, at another bank only (bank B),
//   (c) one that holds the route's role at the path's bank (bank A),
// and, for the routes that name a customer, (d) one that holds the role at
// both banks, naming bank B's customer under bank A. Each answer is checked
// to the status and the error body, in the family's format. The rows cover
// exactly the routes the router serves (TestMatrixCoversEveryRoute).

// mxFixture is the records one row works on: bank A's, made fresh for the
// row, and bank B's customer.
type mxFixture struct {
	cust, custB  *ent.Customer
	addr, tax    uuid.UUID
	product      uuid.UUID
	user         uuid.UUID // a user with no link, to link
	number       string    // a free customer number
	bankA, bankB *ent.Bank
}

func (e *env) mxFixture(t *testing.T) mxFixture {
	t.Helper()
	c := e.db.Client
	e.n++
	f := mxFixture{bankA: e.A, bankB: e.B, number: fmt.Sprintf("mx-%d-%s", e.n, uuid.NewString()[:8])}
	f.cust = c.Customer.Create().SetBankID(e.A.ID).SetLegalName("Matrix Person").SetEmail("m@example.com").
		SetEntityID(uuid.New()).SetEntityType(customer.EntityTypeNATURAL_PERSON).SaveX(e.sys)
	f.custB = c.Customer.Create().SetBankID(e.B.ID).SetLegalName("Bravo Person").SaveX(e.sys)
	f.addr = c.Address.Create().SetCustomerID(f.cust.ID).SetCity("Berlin").SetIsPrimary(true).SaveX(e.sys).ID
	f.tax = c.TaxResidence.Create().SetCustomerID(f.cust.ID).SetDomain("DE").SetTaxNumber("1").SaveX(e.sys).ID
	f.product = c.Product.Create().SetCustomerID(f.cust.ID).SetProductCode("WALLET").SaveX(e.sys).ID
	linked := c.User.Create().SetUsername("linked-" + uuid.NewString()[:8]).SaveX(e.sys)
	c.UserCustomerLink.Create().SetUserID(linked.ID).SetCustomerID(f.cust.ID).SaveX(e.sys)
	f.user = c.User.Create().SetUsername("free-" + uuid.NewString()[:8]).SaveX(e.sys).ID
	return f
}

// mxRow is one route.
type mxRow struct {
	family string // "bsai", "tv", "obp"
	method string
	route  string // the route as the router has it (chi pattern), for coverage
	// path and body of a call, on the row's fixture; customer is the
	// customer the path names (for (d)).
	call func(f mxFixture, customer *ent.Customer) (path string, body any)
	// roles make caller (c), at bank A (or system-wide for system roles).
	roles []access.Role
	// ok is (c)'s status.
	ok int
	// missing is the role text of (a) and (b)'s 403: OBP's text after
	// "…missing one or more roles: ", or bankingservice.ai's and
	// Tradevest's "missing role: …"; "" for routes that need no role.
	missing string
	// notFound is (d)'s answer checker; nil for routes that name no customer.
	notFound func(t *testing.T, res reply, f mxFixture)
}

const mxRequestor = "Requestor-ID"

func mxPath(r string) func(f mxFixture, c *ent.Customer) (string, any) {
	return mxPathBody(r, nil)
}

// mxPathBody fills {A}, {cust}, {addr}, {tax}, {product}, {user}, {number}
// in r and body (strings only, at the top level and one level down).
func mxPathBody(r string, body func(f mxFixture, c *ent.Customer) any) func(f mxFixture, c *ent.Customer) (string, any) {
	return func(f mxFixture, c *ent.Customer) (string, any) {
		rep := strings.NewReplacer("{A}", f.bankA.Code, "{cust}", c.ID.String(), "{addr}", f.addr.String(),
			"{tax}", f.tax.String(), "{product}", f.product.String())
		var b any
		if body != nil {
			b = body(f, c)
		}
		return rep.Replace(r), b
	}
}

func mxStatic(m map[string]any) func(mxFixture, *ent.Customer) any {
	return func(mxFixture, *ent.Customer) any { return m }
}

// obp404 is OBP's 404 of a customer not at the path's bank.
func obp404(t *testing.T, res reply, f mxFixture) {
	t.Helper()
	obpCustErr(t, res, http.StatusNotFound, obpCustNotFound(f.custB.ID.String()))
}

func bsai404(t *testing.T, res reply, f mxFixture) {
	t.Helper()
	bsaiRequireError(t, res, http.StatusNotFound, "not_found", "customer "+f.custB.ID.String()+" not found")
}

func mxRows() []mxRow {
	const v3 = "/obp/v3.1.0/banks/{A}"
	const v5 = "/obp/v5.1.0/banks/{A}"
	const cu = v3 + "/customers/{cust}"
	seedCustomer := func(mxFixture, *ent.Customer) any { return obpCustSeedBody() }
	one := func(r access.Role) string { return string(r) + " at Bank(gh.29.uk)" }
	either := func(rs ...access.Role) string {
		n := make([]string, len(rs))
		for i, r := range rs {
			n[i] = string(r)
		}
		return strings.Join(n, " or ") + " for BankId(gh.29.uk)."
	}
	anyOf := func(r access.Role) string { return "missing role: " + string(r) + " or " + string(access.AtAnyBank(r)) }
	atA := func(r access.Role) string { return anyOf(r) + " at bank gh.29.uk" }
	rows := []mxRow{
		// bankingservice.ai
		{family: "bsai", method: http.MethodGet, route: "/v1/profiles/{profileId}/customers", call: mxPath("/v1/profiles/{A}/customers"),
			roles: []access.Role{access.CanGetCustomer, access.CanGetCustomerAddress}, ok: 200, missing: atA(access.CanGetCustomer)},
		{family: "bsai", method: http.MethodPost, route: "/v1/profiles/{profileId}/customers",
			call:  mxPathBody("/v1/profiles/{A}/customers", mxStatic(map[string]any{"first_name": "John", "last_name": "Doe"})),
			roles: []access.Role{access.CanCreateCustomer}, ok: 200, missing: atA(access.CanCreateCustomer)},
		{family: "bsai", method: http.MethodGet, route: "/v1/profiles/{profileId}/customers/{customerId}", call: mxPath("/v1/profiles/{A}/customers/{cust}"),
			roles: []access.Role{access.CanGetCustomer, access.CanGetCustomerAddress}, ok: 200, missing: atA(access.CanGetCustomer), notFound: bsai404},
		{family: "bsai", method: http.MethodPut, route: "/v1/profiles/{profileId}/customers/{customerId}",
			call: mxPathBody("/v1/profiles/{A}/customers/{cust}", mxStatic(map[string]any{"first_name": "Jane", "last_name": "Doe", "email": "m@example.com",
				"address": map[string]any{"locality": "Berlin"}})),
			roles: []access.Role{access.CanGetCustomer, access.CanGetCustomerAddress, access.CanUpdateCustomer, access.CanCreateCustomerAddress}, ok: 200,
			missing: atA(access.CanGetCustomer), notFound: bsai404},
		{family: "bsai", method: http.MethodDelete, route: "/v1/profiles/{profileId}/customers/{customerId}", call: mxPath("/v1/profiles/{A}/customers/{cust}"),
			roles: []access.Role{access.CanGetCustomer, access.CanGetCustomerAddress, access.CanDeleteCustomer}, ok: 409, // the fixture's customer holds a product
			missing: atA(access.CanGetCustomer), notFound: bsai404},

		// Tradevest: no bank in the path; (b) finds nothing of bank A.
		{family: "tv", method: http.MethodPost, route: "/roles/customers",
			call: func(mxFixture, *ent.Customer) (string, any) {
				return "/roles/customers", map[string]any{"entityId": uuid.NewString(), "entityType": "LEGAL_ENTITY"}
			},
			roles: []access.Role{access.CanCreateCustomer}, ok: 200, missing: anyOf(access.CanCreateCustomer)},
		{family: "tv", method: http.MethodGet, route: "/roles/customers", call: mxPath("/roles/customers"),
			roles: []access.Role{access.CanGetCustomer}, ok: 200, missing: anyOf(access.CanGetCustomer)},
		{family: "tv", method: http.MethodGet, route: "/roles/customers/{customerId}", call: mxPath("/roles/customers/{cust}"),
			roles: []access.Role{access.CanGetCustomer}, ok: 200, missing: anyOf(access.CanGetCustomer)},
		{family: "tv", method: http.MethodPatch, route: "/roles/customers/{customerId}",
			call:  mxPathBody("/roles/customers/{cust}", mxStatic(map[string]any{"labels": []string{"gold"}})),
			roles: []access.Role{access.CanUpdateCustomer}, ok: 202, missing: anyOf(access.CanUpdateCustomer)},
		{family: "tv", method: http.MethodGet, route: "/customers/{customerId}/products", call: mxPath("/customers/{cust}/products"),
			roles: []access.Role{access.CanGetCustomerProduct}, ok: 200, missing: anyOf(access.CanGetCustomerProduct)},
		{family: "tv", method: http.MethodPost, route: "/customers/{customerId}/products",
			call:  mxPathBody("/customers/{cust}/products", mxStatic(map[string]any{"productCode": "BALANCE_ACCOUNT"})),
			roles: []access.Role{access.CanCreateCustomerProduct}, ok: 200, missing: anyOf(access.CanCreateCustomerProduct)},
		{family: "tv", method: http.MethodGet, route: "/products/{customerProductId}", call: mxPath("/products/{product}"),
			roles: []access.Role{access.CanGetCustomerProduct}, ok: 200, missing: anyOf(access.CanGetCustomerProduct)},
		{family: "tv", method: http.MethodPatch, route: "/products/{customerProductId}",
			call:  mxPathBody("/products/{product}", mxStatic(map[string]any{"status": "CLOSED"})),
			roles: []access.Role{access.CanUpdateCustomerProduct}, ok: 200, missing: anyOf(access.CanUpdateCustomerProduct)},

		// OBP customers (#1–#7, #19–#26)
		{family: "obp", method: http.MethodPost, route: "/obp/v3.1.0/banks/{bankId}/customers", call: mxPathBody(v3+"/customers", seedCustomer),
			roles: []access.Role{access.CanCreateCustomer}, ok: 201, missing: either(access.CanCreateCustomer, access.AtAnyBank(access.CanCreateCustomer))},
		{family: "obp", method: http.MethodPost, route: "/obp/v5.1.0/banks/{bankId}/customers",
			call:  mxPathBody(v5+"/customers", mxStatic(map[string]any{"legal_name": "Eve", "mobile_phone_number": "+49 30 901820"})),
			roles: []access.Role{access.CanCreateCustomer}, ok: 201, missing: either(access.CanCreateCustomer, access.AtAnyBank(access.CanCreateCustomer))},
		{family: "obp", method: http.MethodGet, route: "/obp/v3.1.0/banks/{bankId}/customers/{customerId}", call: mxPath(cu),
			roles: []access.Role{access.CanGetCustomer}, ok: 200, missing: one(access.CanGetCustomer), notFound: obp404},
		{family: "obp", method: http.MethodPost, route: "/obp/v3.1.0/banks/{bankId}/customers/customer-number",
			call: mxPathBody(v3+"/customers/customer-number", func(_ mxFixture, c *ent.Customer) any {
				return map[string]any{"customer_number": c.CustomerNumber}
			}),
			roles: []access.Role{access.CanGetCustomer}, ok: 200, missing: one(access.CanGetCustomer),
			notFound: func(t *testing.T, res reply, _ mxFixture) {
				obpCustErr(t, res, http.StatusNotFound, "OBP-30002: Customer not found. Please specify a valid value for CUSTOMER_NUMBER.")
			}},
		{family: "obp", method: http.MethodGet, route: "/obp/v3.1.0/users/current/customers", call: mxPath("/obp/v3.1.0/users/current/customers"), ok: 200},
		{family: "obp", method: http.MethodGet, route: "/obp/v3.1.0/banks/{bankId}/customers", call: mxPath(v3 + "/customers"), ok: 200},
		{family: "obp", method: http.MethodGet, route: "/obp/v3.1.0/banks/{bankId}/firehose/customers", call: mxPath(v3 + "/firehose/customers"),
			roles: []access.Role{access.CanUseCustomerFirehoseAtAnyBank}, ok: 200, missing: string(access.CanUseCustomerFirehoseAtAnyBank)},
	}
	for _, u := range []struct {
		path    string
		body    map[string]any
		role    access.Role
		missing string
	}{
		{"email", map[string]any{"email": "new@example.com"}, access.CanUpdateCustomerEmail, one(access.CanUpdateCustomerEmail)},
		{"number", nil, access.CanUpdateCustomerNumber, one(access.CanUpdateCustomerNumber)},
		{"mobile-number", map[string]any{"mobile_phone_number": "+49 170 1234567"}, access.CanUpdateCustomerMobilePhoneNumber,
			one(access.CanUpdateCustomerMobilePhoneNumber)},
		{"identity", map[string]any{"legal_name": "New Name", "date_of_birth": "1980-03-09", "title": "Dr.", "name_suffix": "Jr"},
			access.CanUpdateCustomerIdentity, one(access.CanUpdateCustomerIdentity)},
		{"credit-limit", map[string]any{"credit_limit": map[string]any{"currency": "EUR", "amount": "1000.50"}}, access.CanUpdateCustomerCreditLimit,
			one(access.CanUpdateCustomerCreditLimit)},
		{"credit-rating-and-source", map[string]any{"credit_rating": "AAA", "credit_source": "agency"}, access.CanUpdateCustomerCreditRatingAndSource,
			either(access.CanUpdateCustomerCreditRatingAndSource, access.AtAnyBank(access.CanUpdateCustomerCreditRatingAndSource))},
		{"branch", map[string]any{"branch_id": "DERBY6"}, access.CanUpdateCustomerBranch,
			either(access.CanUpdateCustomerBranch, access.CanUpdateCustomerIdentity)},
		{"data", map[string]any{"face_image": map[string]any{"url": "http://example.com/x.png", "date": "2020-01-27"},
			"relationship_status": "married", "dependants": 0, "highest_education_attained": "Master", "employment_status": "worker"},
			access.CanUpdateCustomerData, either(access.CanUpdateCustomerData, access.CanUpdateCustomerIdentity)},
	} {
		body := func(f mxFixture, _ *ent.Customer) any {
			if u.body == nil {
				return map[string]any{"customer_number": f.number}
			}
			return u.body
		}
		rows = append(rows, mxRow{family: "obp", method: http.MethodPut, route: "/obp/v3.1.0/banks/{bankId}/customers/{customerId}/" + u.path,
			call: mxPathBody(cu+"/"+u.path, body), roles: []access.Role{u.role}, ok: 200, missing: u.missing, notFound: obp404})
	}
	address := func(mxFixture, *ent.Customer) any { return obpRecSeedAddress() }
	message := mxStatic(map[string]any{"message": "hi", "transport": "email", "from_department": "desk", "from_person": "Carol"})
	rows = append(rows,
		// OBP records (#8–#18, #27, #28 and the messages list)
		mxRow{family: "obp", method: http.MethodPost, route: "/obp/v3.1.0/banks/{bankId}/customers/{customerId}/address", call: mxPathBody(cu+"/address", address),
			roles: []access.Role{access.CanCreateCustomerAddress}, ok: 201, missing: one(access.CanCreateCustomerAddress), notFound: obp404},
		mxRow{family: "obp", method: http.MethodGet, route: "/obp/v3.1.0/banks/{bankId}/customers/{customerId}/addresses", call: mxPath(cu + "/addresses"),
			roles: []access.Role{access.CanGetCustomerAddress}, ok: 200, missing: one(access.CanGetCustomerAddress), notFound: obp404},
		mxRow{family: "obp", method: http.MethodPut, route: "/obp/v3.1.0/banks/{bankId}/customers/{customerId}/addresses/{customerAddressId}",
			call: mxPathBody(cu+"/addresses/{addr}", address), roles: []access.Role{access.CanCreateCustomerAddress}, ok: 200,
			missing: either(access.CanCreateCustomerAddress, access.CanCreateCustomer), notFound: obp404},
		mxRow{family: "obp", method: http.MethodDelete, route: "/obp/v3.1.0/banks/{bankId}/customers/{customerId}/addresses/{customerAddressId}",
			call: mxPath(cu + "/addresses/{addr}"), roles: []access.Role{access.CanDeleteCustomerAddress}, ok: 200,
			missing: one(access.CanDeleteCustomerAddress), notFound: obp404},
		mxRow{family: "obp", method: http.MethodPost, route: "/obp/v3.1.0/banks/{bankId}/customers/{customerId}/tax-residence",
			call:  mxPathBody(cu+"/tax-residence", mxStatic(map[string]any{"domain": "FR", "tax_number": "2"})),
			roles: []access.Role{access.CanCreateTaxResidence}, ok: 201, missing: one(access.CanCreateTaxResidence), notFound: obp404},
		mxRow{family: "obp", method: http.MethodGet, route: "/obp/v3.1.0/banks/{bankId}/customers/{customerId}/tax-residences", call: mxPath(cu + "/tax-residences"),
			roles: []access.Role{access.CanGetTaxResidence}, ok: 200, missing: one(access.CanGetTaxResidence), notFound: obp404},
		mxRow{family: "obp", method: http.MethodDelete, route: "/obp/v3.1.0/banks/{bankId}/customers/{customerId}/tax_residencies/{taxResidenceId}",
			call: mxPath(cu + "/tax_residencies/{tax}"), roles: []access.Role{access.CanDeleteTaxResidence}, ok: 200,
			missing: one(access.CanDeleteTaxResidence), notFound: obp404},
		mxRow{family: "obp", method: http.MethodPost, route: "/obp/v3.1.0/banks/{bankId}/customers/{customerId}/social_media_handles",
			call:  mxPathBody(cu+"/social_media_handles", mxStatic(map[string]any{"type": "twitter", "handle": "@matrix"})),
			roles: []access.Role{access.CanAddSocialMediaHandle}, ok: 201, missing: one(access.CanAddSocialMediaHandle), notFound: obp404},
		mxRow{family: "obp", method: http.MethodGet, route: "/obp/v3.1.0/banks/{bankId}/customers/{customerId}/social_media_handles",
			call:  mxPath(cu + "/social_media_handles"),
			roles: []access.Role{access.CanGetSocialMediaHandles}, ok: 200, missing: one(access.CanGetSocialMediaHandles), notFound: obp404},
		mxRow{family: "obp", method: http.MethodPost, route: "/obp/v3.1.0/banks/{bankId}/user_customer_links",
			call: mxPathBody(v3+"/user_customer_links", func(f mxFixture, c *ent.Customer) any {
				return map[string]any{"user_id": f.user.String(), "customer_id": c.ID.String()}
			}),
			roles: []access.Role{access.CanCreateUserCustomerLink}, ok: 201,
			missing: either(access.CanCreateUserCustomerLink, access.AtAnyBank(access.CanCreateUserCustomerLink)),
			notFound: func(t *testing.T, res reply, f mxFixture) {
				obpCustErr(t, res, http.StatusBadRequest, "Bank of the customer specified by the CUSTOMER_ID("+f.custB.ID.String()+
					") has to matches BANK_ID(gh.29.uk) in URL")
			}},
		mxRow{family: "obp", method: http.MethodGet, route: "/obp/v3.1.0/banks/{bankId}/crm-events", call: mxPath(v3 + "/crm-events"), ok: 200},
		mxRow{family: "obp", method: http.MethodPost, route: "/obp/v5.1.0/banks/{bankId}/customer/{customerId}/messages",
			call: mxPathBody(v5+"/customer/{cust}/messages", message), roles: []access.Role{access.CanCreateCustomerMessage}, ok: 201,
			missing: one(access.CanCreateCustomerMessage), notFound: obp404},
		mxRow{family: "obp", method: http.MethodPost, route: "/obp/v5.1.0/banks/{bankId}/customers/{customerId}/messages",
			call: mxPathBody(v5+"/customers/{cust}/messages", message), roles: []access.Role{access.CanCreateCustomerMessage}, ok: 201,
			missing: one(access.CanCreateCustomerMessage), notFound: obp404},
		mxRow{family: "obp", method: http.MethodGet, route: "/obp/v5.1.0/banks/{bankId}/customers/{customerId}/messages",
			call: mxPath(v5 + "/customers/{cust}/messages"), roles: []access.Role{access.CanGetCustomerMessages}, ok: 200,
			missing: one(access.CanGetCustomerMessages), notFound: obp404},
	)
	// The change feed needs no role: it tells each caller of the changes it
	// may read (none of bank A's customer without a role there).
	rows = append(rows, mxRow{family: "tv", method: http.MethodGet, route: "/entities-changelog", call: mxPath("/entities-changelog"), ok: 200})
	// OBP discovery: no role.
	for _, v := range []string{"v3.1.0", "v5.1.0"} {
		for _, p := range []string{"/root", "/banks", "/banks/{bankId}", "/users/current"} {
			path := strings.ReplaceAll("/obp/"+v+p, "{bankId}", "{A}")
			rows = append(rows, mxRow{family: "obp", method: http.MethodGet, route: "/obp/" + v + p, call: mxPath(path), ok: 200})
		}
	}
	return rows
}

// TestMatrixCoversEveryRoute checks that the matrix has a row for every
// REST route the router serves, and for nothing else.
func TestMatrixCoversEveryRoute(t *testing.T) {
	served := map[string]bool{}
	for _, r := range servedRoutes(t) {
		served[r] = true
	}
	rows := map[string]bool{}
	for _, r := range mxRows() {
		rows[r.method+" "+r.route] = true
	}
	require.Equal(t, served, rows)
}

// servedRoutes lists the REST routes (method and chi pattern), without the
// OpenAPI document's.
func servedRoutes(t *testing.T) []string {
	t.Helper()
	r := chi.NewRouter()
	rest.Mount(r, rest.Config{})
	var served []string
	require.NoError(t, chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if route != rest.OpenAPIPath {
			served = append(served, method+" "+strings.TrimSuffix(route, "/"))
		}
		return nil
	}))
	return served
}

func TestMatrix(t *testing.T) {
	e := newEnv(t)
	// (a) a logged-in client and a logged-in user holding no role.
	noRole := e.client(t, nil)
	_, noRoleUser := e.user(t, "matrix.nobody")
	// (b) every bank role, at bank B only (a client bound to B, and an unbound one).
	otherBound := e.client(t, e.B, allBankRoles(e.B)...)
	otherFree := e.client(t, nil, allBankRoles(e.B)...)
	// (d) the route's roles at both banks (the customer named is B's).
	for _, row := range mxRows() {
		t.Run(row.family+" "+row.method+" "+row.route, func(t *testing.T) {
			f := e.mxFixture(t)
			headers := []string{}
			if row.family == "tv" && row.method != http.MethodGet {
				headers = []string{mxRequestor, uuid.NewString()}
			}
			call := func(auth string) reply {
				t.Helper()
				path, body := row.call(f, f.cust)
				return e.call(t, row.method, path, auth, body, headers...)
			}
			before := e.mxCounts(t)

			t.Run("no credentials", func(t *testing.T) {
				res := call("")
				switch {
				case strings.HasSuffix(row.route, "/root"):
					require.Equal(t, http.StatusOK, res.status, "OBP's root needs no credentials")
				case row.family == "obp":
					obpCust401(t, res)
				case row.family == "bsai":
					bsaiRequireError(t, res, http.StatusUnauthorized, "unauthorized", "authentication is required")
				case row.family == "tv":
					tvMxError(t, res, http.StatusUnauthorized, "UNAUTHORIZED", "authentication is required: send Authorization: Bearer <access token>")
				}
				require.Equal(t, before, e.mxCounts(t))
			})
			t.Run("(a) no role", func(t *testing.T) {
				for _, who := range []string{noRole, noRoleUser} {
					e.mxRefused(t, row, call(who), f, false)
				}
				require.Equal(t, before, e.mxCounts(t), "a refused call changes nothing")
			})
			t.Run("(b) roles at another bank only", func(t *testing.T) {
				for _, who := range []string{otherBound, otherFree} {
					e.mxRefused(t, row, call(who), f, true)
				}
				if row.family != "tv" || row.method == http.MethodGet {
					require.Equal(t, before, e.mxCounts(t), "a refused call changes nothing")
				}
			})
			if row.notFound != nil {
				t.Run("(d) bank B's customer under bank A", func(t *testing.T) {
					grants := append(mxGrants(row.roles, e.A), mxGrants(row.roles, e.B)...)
					tok := e.client(t, nil, grants...)
					p, b := row.call(f, f.custB)
					before := e.mxCounts(t)
					row.notFound(t, e.call(t, row.method, p, tok, b, headers...), f)
					require.Equal(t, before, e.mxCounts(t))
				})
			}
			t.Run("(c) the role at bank A", func(t *testing.T) {
				var bound *ent.Bank
				if row.family == "tv" {
					bound = e.A // a Tradevest partner's token carries its bank
				}
				if len(row.roles) > 0 && access.IsSystem(row.roles[0]) {
					bound = nil // a bound client cannot hold system roles
				}
				tok := e.client(t, bound, mxGrants(row.roles, e.A)...)
				res := call(tok)
				require.Equal(t, row.ok, res.status, "%s", res.body)
			})
		})
	}
}

// mxGrants are roles at b (system roles system-wide).
func mxGrants(roles []access.Role, b *ent.Bank) []role {
	var out []role
	for _, r := range roles {
		if access.IsSystem(r) {
			out = append(out, role{r, nil})
		} else {
			out = append(out, at(b, r)...)
		}
	}
	return out
}

// mxCounts counts every kind of record a route may write.
func (e *env) mxCounts(t *testing.T) [8]int {
	t.Helper()
	c := e.db.Client
	return [8]int{
		c.Customer.Query().CountX(e.sys), c.Address.Query().CountX(e.sys), c.TaxResidence.Query().CountX(e.sys),
		c.SocialHandle.Query().CountX(e.sys), c.UserCustomerLink.Query().CountX(e.sys), c.CustomerMessage.Query().CountX(e.sys),
		c.Product.Query().CountX(e.sys), c.AuditEvent.Query().CountX(e.sys),
	}
}

// mxRefused checks the answer of (a) (other is false) or (b): the family's
// 403 naming the route's role; routes without a role answer 200; a
// Tradevest caller of bank B finds nothing of bank A (404), lists its own
// bank's customers and creates at its own bank.
func (e *env) mxRefused(t *testing.T, row mxRow, res reply, f mxFixture, other bool) {
	t.Helper()
	if row.missing == "" {
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.NotContains(t, string(res.body), f.cust.ID.String(), "nothing of bank A's customer")
		return
	}
	switch row.family {
	case "obp":
		obpCustErr(t, res, http.StatusForbidden, obpCustMissing+row.missing)
	case "bsai":
		bsaiRequireError(t, res, http.StatusForbidden, "forbidden", row.missing)
		require.Equal(t, row.missing, res.object(t)["message"])
	case "tv":
		if other {
			switch {
			case row.method == http.MethodPost && row.route == "/roles/customers":
				require.Equal(t, http.StatusOK, res.status, "%s", res.body)
				id := uuid.MustParse(res.object(t)["customerId"].(string))
				require.Equal(t, e.B.ID, e.db.Client.Customer.GetX(e.sys, id).BankID, "created at the caller's own bank")
			case row.method == http.MethodGet && row.route == "/roles/customers":
				require.Equal(t, http.StatusOK, res.status, "%s", res.body)
				require.NotContains(t, string(res.body), f.cust.ID.String())
			default:
				tvMxError(t, res, http.StatusNotFound, "NOT_FOUND", "")
			}
			return
		}
		tvMxError(t, res, http.StatusForbidden, "FORBIDDEN", row.missing)
	}
}

// tvMxError checks Tradevest's ErrorMessage: status, responseType, the
// request id, and the message (when given, exactly; errorDetails then empty).
func tvMxError(t *testing.T, res reply, status int, responseType, message string) {
	t.Helper()
	require.Equal(t, status, res.status, "%s", res.body)
	var body struct {
		Message, ResponseType, RequestID string
		ErrorDetails                     []json.RawMessage
	}
	res.decode(t, &body)
	require.Equal(t, responseType, body.ResponseType)
	require.Equal(t, res.header.Get("X-Request-Id"), body.RequestID)
	if message != "" {
		require.Equal(t, message, body.Message)
		require.Empty(t, body.ErrorDetails)
		require.ElementsMatch(t, []string{"message", "responseType", "requestId", "errorDetails"}, keys(res.object(t)))
	}
}
