package graph_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/product"
	"custgraph/internal/access"
)

// snapshot is the number of rows of every entity and the latest update: a
// refused mutation must leave it unchanged.
func (e *env) snapshot() string {
	ctx := access.System(context.Background())
	c := e.client
	n := []int{
		c.Bank.Query().CountX(ctx), c.Customer.Query().CountX(ctx), c.Product.Query().CountX(ctx),
		c.Address.Query().CountX(ctx), c.TaxResidence.Query().CountX(ctx), c.SocialHandle.Query().CountX(ctx),
		c.CustomerAttribute.Query().CountX(ctx), c.CustomerMessage.Query().CountX(ctx), c.CrmEvent.Query().CountX(ctx),
		c.User.Query().CountX(ctx), c.UserCustomerLink.Query().CountX(ctx),
	}
	var latest []string
	for _, cu := range c.Customer.Query().AllX(ctx) {
		latest = append(latest, cu.UpdatedAt.String()+cu.CustomerNumber+strings.Join(cu.Labels, ","))
	}
	for _, p := range c.Product.Query().AllX(ctx) {
		latest = append(latest, p.UpdatedAt.String()+string(p.Status))
	}
	return fmt.Sprint(n, latest)
}

// fixture is a small bank with one customer of each kind of record.
type fixture struct {
	bank, otherBank, customer, otherCustomer, product, user uuid.UUID
}

func (e *env) fixture() fixture {
	ctx := access.System(context.Background())
	b := e.seedBank("gh.29.uk")
	o := e.seedBank("other.bank")
	cust := e.seedCustomers(b, 1, func(_ int, c *ent.CustomerCreate) {
		c.SetCustomerNumber("5987953").SetEntityID(uuid.MustParse("11111111-1111-4111-8111-111111111111")).SetEntityType("NATURAL_PERSON")
	})
	oc := e.seedCustomers(o, 1, nil)
	p := e.client.Product.Create().SetCustomerID(cust[0]).SetProductCode(product.ProductCodeBALANCE_ACCOUNT).SaveX(ctx)
	u := e.client.User.Create().SetUsername("felix").SetExternalSubject("sub-felix").SaveX(ctx)
	e.client.APIClient.Create().SetClientID("felix-app").SetName("Felix app").SetSecretHash(fakeHash).SetExternalSubject("sub-felix-app").SaveX(ctx)
	e.client.Entitlement.Create().SetUserID(u.ID).SetBankID(b.ID).SetRoleName("CanGetCustomer").SaveX(ctx)
	e.client.UserCustomerLink.Create().SetUserID(u.ID).SetCustomerID(cust[0]).SaveX(ctx)
	e.client.TaxResidence.Create().SetCustomerID(cust[0]).SetDomain("DE").SetTaxNumber("456").SaveX(ctx)
	e.client.CustomerAttribute.Create().SetCustomerID(cust[0]).SetName("SPECIAL_TAX_NUMBER").SetType("STRING").SetValue("1").SaveX(ctx)
	return fixture{bank: b.ID, otherBank: o.ID, customer: cust[0], otherCustomer: oc[0], product: p.ID, user: u.ID}
}

// TestBadInputIsRefusedAndChangesNothing is the tested list of bad input:
// every case gets a clear error code (and the offending field) and leaves
// the data exactly as it was.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	f := e.fixture()
	closed := e.client.Product.Create().SetCustomerID(f.customer).SetProductCode(product.ProductCodeWALLET).SetStatus(product.StatusCLOSED).SaveX(access.System(context.Background()))
	crmOnly := e.seedBank("crm.only")
	e.client.CrmEvent.Create().SetBankID(crmOnly.ID).SetCategory("call").SaveX(access.System(context.Background()))
	cust := func(fields string) string {
		return fmt.Sprintf(`mutation { createCustomer(input: { bankID: "%s", %s }) { id } }`, f.bank, fields)
	}
	cases := []struct {
		name, query, code, field string
	}{
		{"bank id with spaces", `mutation { createBank(input:{code:"bad code!", name:"x"}) { id } }`, "BAD_USER_INPUT", "code"},
		{"bank id 255 chars", `mutation { createBank(input:{code:"` + strings.Repeat("a", 255) + `", name:"x"}) { id } }`, "BAD_USER_INPUT", "code"},
		{"duplicate bank id", `mutation { createBank(input:{code:"gh.29.uk", name:"x"}) { id } }`, "CONFLICT", "code"},
		{"empty bank name", `mutation { createBank(input:{code:"new.bank", name:""}) { id } }`, "BAD_USER_INPUT", "name"},
		{"unknown bank", fmt.Sprintf(`mutation { createCustomer(input:{bankID:"%s"}) { id } }`, uuid.New()), "NOT_FOUND", "bankID"},
		{"malformed email", cust(`email: "not-an-email"`), "BAD_USER_INPUT", "email"},
		{"email with display name", cust(`email: "Felix <felix@example.com>"`), "BAD_USER_INPUT", "email"},
		{"letters in phone", cust(`mobilePhoneNumber: "call me"`), "BAD_USER_INPUT", "mobilePhoneNumber"},
		{"too few phone digits", cust(`mobilePhoneNumber: "+1 2"`), "BAD_USER_INPUT", "mobilePhoneNumber"},
		{"face image url too long", cust(`faceImageURL: "http://example.com/` + strings.Repeat("x", 2000) + `"`), "BAD_USER_INPUT", "faceImageURL"},
		{"legal name too long", cust(`legalName: "` + strings.Repeat("x", 256) + `"`), "BAD_USER_INPUT", "legalName"},
		{"17 labels", cust(`labels: [` + strings.Repeat(`"l",`, 0) + labelList(17) + `]`), "BAD_USER_INPUT", "labels"},
		{"duplicate label", cust(`labels: ["vip", "vip"]`), "BAD_USER_INPUT", "labels"},
		{"empty label", cust(`labels: ["vip", " "]`), "BAD_USER_INPUT", "labels"},
		{"dependants without dates", cust(`dependants: 2, dobOfDependants: ["2019-09-08T00:00:00Z"]`), "BAD_USER_INPUT", "dobOfDependants"},
		{"negative dependants", cust(`dependants: -1`), "BAD_USER_INPUT", "dependants"},
		{"unknown currency", cust(`creditLimitCurrency: "EURO"`), "BAD_USER_INPUT", "creditLimitCurrency"},
		{"lower-case currency", cust(`creditLimitCurrency: "eur"`), "BAD_USER_INPUT", "creditLimitCurrency"},
		{"amount not a number", cust(`creditLimitAmount: "ten"`), "BAD_USER_INPUT", "creditLimitAmount"},
		{"amount in exponent notation", cust(`creditLimitAmount: "1e3000000"`), "BAD_USER_INPUT", "creditLimitAmount"},
		{"amount as a float literal", cust(`creditLimitAmount: 1e300`), "BAD_USER_INPUT", "creditLimitAmount"},
		{"amount of 39 digits", cust(`creditLimitAmount: "` + strings.Repeat("9", 39) + `"`), "BAD_USER_INPUT", "creditLimitAmount"},
		{"amount of 19 decimals", cust(`creditLimitAmount: "0.` + strings.Repeat("1", 19) + `"`), "BAD_USER_INPUT", "creditLimitAmount"},
		{"amount of a million digits", cust(`creditLimitAmount: "` + strings.Repeat("9", 1_000_000) + `"`), "BAD_USER_INPUT", "creditLimitAmount"},
		{"malformed bank id", `mutation { createCustomer(input: {bankID: "gh.29.uk", firstName: "J"}) { id } }`, "BAD_USER_INPUT", "bankID"},
		{"malformed date in a list", cust(`dependants: 1, dobOfDependants: ["last year"]`), "BAD_USER_INPUT", "dobOfDependants"},
		{"unknown status", cust(`customerStatus: FROZEN`), "GRAPHQL_VALIDATION_FAILED", ""},
		{"entity id without type", cust(`entityID: "22222222-2222-4222-8222-222222222222"`), "BAD_USER_INPUT", "entityType"},
		{"entity already a customer", cust(`entityID: "11111111-1111-4111-8111-111111111111", entityType: NATURAL_PERSON`), "CONFLICT", "entityID"},
		{"customer number taken", cust(`customerNumber: "5987953"`), "CONFLICT", "customerNumber"},
		{"customer number with separator", cust(`customerNumber: "12::::3"`), "BAD_USER_INPUT", "customerNumber"},
		{"branch id characters", cust(`branchID: "DERBY 6!"`), "BAD_USER_INPUT", "branchID"},
		{"move a product to another customer", fmt.Sprintf(`mutation { updateCustomer(id: "%s", input: {addProductIDs: ["%s"]}) { id } }`, f.otherCustomer, f.product), "GRAPHQL_VALIDATION_FAILED", ""},
		{"detach a customer's products", fmt.Sprintf(`mutation { updateCustomer(id: "%s", input: {clearProducts: true}) { id } }`, f.customer), "GRAPHQL_VALIDATION_FAILED", ""},
		{"move customers between banks", fmt.Sprintf(`mutation { updateBank(id: "%s", input: {addCustomerIDs: ["%s"]}) { id } }`, f.otherBank, f.customer), "GRAPHQL_VALIDATION_FAILED", ""},
		{"clear the customer number", fmt.Sprintf(`mutation { updateCustomer(id: "%s", input: {clearCustomerNumber: true}) { id } }`, f.customer), "BAD_USER_INPUT", "customerNumber"},
		{"empty customer number", fmt.Sprintf(`mutation { updateCustomer(id: "%s", input: {customerNumber: ""}) { id } }`, f.customer), "BAD_USER_INPUT", "customerNumber"},
		{"NUL character in text", `mutation { createBank(input:{code:"nul.bank", name:"a\u0000b"}) { id } }`, "BAD_USER_INPUT", "name"},
		{"NUL character in a label", cust(`labels: ["a\u0000"]`), "BAD_USER_INPUT", "labels"},
		{"NUL character in an appended label", fmt.Sprintf(`mutation { updateCustomer(id: "%s", input: {appendLabels: ["a\u0000"]}) { id } }`, f.customer), "BAD_USER_INPUT", "labels"},
		{"17 proxy ids", fmt.Sprintf(`mutation { updateProduct(id: "%s", input: {proxyIds: [%s]}) { id } }`, f.product, uuidList(17)), "BAD_USER_INPUT", "proxyIds"},
		{"17 appended proxy ids", fmt.Sprintf(`mutation { updateProduct(id: "%s", input: {appendProxyIds: [%s]}) { id } }`, f.product, uuidList(17)), "BAD_USER_INPUT", "proxyIds"},
		{"delete bank with CRM events", fmt.Sprintf(`mutation { deleteBank(id: "%s") }`, crmOnly.ID), "CONFLICT", ""},
		{"malformed uuid", `mutation { updateCustomer(id: "nope", input: {}) { id } }`, "BAD_USER_INPUT", "id"},
		{"unknown customer update", fmt.Sprintf(`mutation { updateCustomer(id: "%s", input: {legalName: "x"}) { id } }`, uuid.New()), "NOT_FOUND", ""},
		{"unknown customer delete", fmt.Sprintf(`mutation { deleteCustomer(id: "%s") }`, uuid.New()), "NOT_FOUND", ""},
		{"delete customer holding products", fmt.Sprintf(`mutation { deleteCustomer(id: "%s") }`, f.customer), "CONFLICT", ""},
		{"delete bank with customers", fmt.Sprintf(`mutation { deleteBank(id: "%s") }`, f.bank), "CONFLICT", ""},
		{"product for unknown customer", fmt.Sprintf(`mutation { createProduct(input:{customerID:"%s", productCode: WALLET}) { id } }`, uuid.New()), "NOT_FOUND", "customerID"},
		{"unknown product code", fmt.Sprintf(`mutation { createProduct(input:{customerID:"%s", productCode: LOAN}) { id } }`, f.customer), "GRAPHQL_VALIDATION_FAILED", ""},
		{"product currency", fmt.Sprintf(`mutation { createProduct(input:{customerID:"%s", productCode: WALLET, currency: "XYZ1"}) { id } }`, f.customer), "BAD_USER_INPUT", "currency"},
		{"iban check digits", fmt.Sprintf(`mutation { createProduct(input:{customerID:"%s", productCode: BALANCE_ACCOUNT, iban: "DE00370400440532013000"}) { id } }`, f.customer), "BAD_USER_INPUT", "iban"},
		{"close a closed product", fmt.Sprintf(`mutation { closeProduct(id: "%s") { id } }`, closed.ID), "CONFLICT", "status"},
		{"illegal transition", fmt.Sprintf(`mutation { updateProduct(id: "%s", input: {status: BLOCKED}) { id } }`, f.product), "CONFLICT", "status"},
		{"reopen a closed product", fmt.Sprintf(`mutation { updateProduct(id: "%s", input: {status: ACTIVE}) { id } }`, closed.ID), "CONFLICT", "status"},
		{"address country", fmt.Sprintf(`mutation { createAddress(input:{customerID:"%s", countryCode:"XX"}) { id } }`, f.customer), "BAD_USER_INPUT", "countryCode"},
		{"address lower-case country", fmt.Sprintf(`mutation { createAddress(input:{customerID:"%s", countryCode:"de"}) { id } }`, f.customer), "BAD_USER_INPUT", "countryCode"},
		{"address postcode too long", fmt.Sprintf(`mutation { createAddress(input:{customerID:"%s", postcode:"%s"}) { id } }`, f.customer, strings.Repeat("1", 21)), "BAD_USER_INPUT", "postcode"},
		{"address negative premise", fmt.Sprintf(`mutation { createAddress(input:{customerID:"%s", premise: -1}) { id } }`, f.customer), "BAD_USER_INPUT", "premise"},
		// A GraphQL Int is 32 bits: what could not be answered as one is not
		// stored (ent's rule, for REST), and GraphQL refuses the literal first.
		{"address premise over 32 bits", fmt.Sprintf(`mutation { createAddress(input:{customerID:"%s", premise: 2147483648}) { id } }`, f.customer), "GRAPHQL_VALIDATION_FAILED", ""},
		{"address 17 tags", fmt.Sprintf(`mutation { createAddress(input:{customerID:"%s", tags: [%s]}) { id } }`, f.customer, labelList(17)), "BAD_USER_INPUT", "tags"},
		{"duplicate tax residence", fmt.Sprintf(`mutation { createTaxResidence(input:{customerID:"%s", domain:"DE", taxNumber:"456"}) { id } }`, f.customer), "CONFLICT", "taxNumber"},
		{"empty tax domain", fmt.Sprintf(`mutation { createTaxResidence(input:{customerID:"%s", domain:"", taxNumber:"1"}) { id } }`, f.customer), "BAD_USER_INPUT", "domain"},
		{"handle type too long", fmt.Sprintf(`mutation { createSocialHandle(input:{customerID:"%s", type:"%s", handle:"x"}) { id } }`, f.customer, strings.Repeat("t", 17)), "BAD_USER_INPUT", "type"},
		{"attribute value not an integer", fmt.Sprintf(`mutation { createCustomerAttribute(input:{customerID:"%s", name:"AGE", type: INTEGER, value:"old"}) { id } }`, f.customer), "BAD_USER_INPUT", "value"},
		{"attribute date format", fmt.Sprintf(`mutation { createCustomerAttribute(input:{customerID:"%s", name:"SINCE", type: DATE_WITH_DAY, value:"09/03/2018"}) { id } }`, f.customer), "BAD_USER_INPUT", "value"},
		{"duplicate attribute name", fmt.Sprintf(`mutation { createCustomerAttribute(input:{customerID:"%s", name:"SPECIAL_TAX_NUMBER", type: STRING, value:"2"}) { id } }`, f.customer), "CONFLICT", "name"},
		{"empty message", fmt.Sprintf(`mutation { createCustomerMessage(input:{customerID:"%s", message:""}) { id } }`, f.customer), "BAD_USER_INPUT", "message"},
		{"crm event about another bank's customer", fmt.Sprintf(`mutation { createCrmEvent(input:{bankID:"%s", customerID:"%s"}) { id } }`, f.bank, f.otherCustomer), "NOT_FOUND", "customerID"},
		{"username characters", `mutation { createUser(input:{username:"felix smith"}) { id } }`, "BAD_USER_INPUT", "username"},
		{"username taken", `mutation { createUser(input:{username:"felix"}) { id } }`, "CONFLICT", "username"},
		{"external subject of a user taken", `mutation { createUser(input:{username:"other", externalSubject:"sub-felix"}) { id } }`, "CONFLICT", "externalSubject"},
		{"client id taken", `mutation { createAPIClient(input:{clientID:"felix-app", name:"X"}) { clientSecret } }`, "CONFLICT", "clientID"},
		{"external subject of a client taken", `mutation { createAPIClient(input:{clientID:"other-app", name:"X", externalSubject:"sub-felix-app"}) { clientSecret } }`, "CONFLICT", "externalSubject"},
		{"role held twice", fmt.Sprintf(`mutation { createEntitlement(input:{roleName:"CanGetCustomer", bankID:"%s", userID:"%s"}) { id } }`, f.bank, f.user), "CONFLICT", "roleName"},
		{"second link at the same bank", fmt.Sprintf(`mutation { createUserCustomerLink(input:{userID:"%s", customerID:"%s"}) { id } }`, f.user, f.customer), "CONFLICT", "userID"},
		{"link to unknown customer", fmt.Sprintf(`mutation { createUserCustomerLink(input:{userID:"%s", customerID:"%s"}) { id } }`, f.user, uuid.New()), "NOT_FOUND", "customerID"},
		{"link of an unknown user", fmt.Sprintf(`mutation { createUserCustomerLink(input:{userID:"%s", customerID:"%s"}) { id } }`, uuid.New(), f.customer), "NOT_FOUND", "userID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.snapshot()
			errs := e.fail(c.query)
			require.Equal(t, c.code, errs[0].Extensions["code"], "%s: %v", c.query, errs)
			if c.field != "" {
				require.Equal(t, c.field, errs[0].Extensions["field"], "%v", errs)
			}
			if c.code == "NOT_FOUND" {
				require.Regexp(t, `(not found|does not exist( at this bank)?)$`, errs[0].Message)
				require.NotContains(t, errs[0].Message, "not found not found")
			}
			for _, leak := range []string{"SQL", "sql:", "UNIQUE", "constraint", "sqlite", "pq:", "ent:", "goroutine"} {
				require.NotContains(t, errs[0].Message, leak, "error messages never leak internals")
			}
			require.Equal(t, before, e.snapshot(), "a refused mutation changes nothing")
		})
	}
}

func labelList(n int) string {
	l := make([]string, n)
	for i := range l {
		l[i] = fmt.Sprintf(`"l%d"`, i)
	}
	return strings.Join(l, ",")
}

func TestMutationsCreateUpdateDeleteEveryEntity(t *testing.T) {
	e := newEnv(t)
	var bank struct{ CreateBank struct{ ID, Code string } }
	e.do(`mutation { createBank(input:{code:"gh.29.uk", name:"Test Bank"}) { id code } }`, &bank)
	require.Equal(t, "gh.29.uk", bank.CreateBank.Code)
	// The third statement is the change stream's: its number for the event
	// on SQLite, its wake-up signal (pg_notify) on PostgreSQL.
	require.EqualValues(t, 3, e.sql(), "bank create is one INSERT, its audit event and the change stream's statement")

	var c struct {
		CreateCustomer struct {
			ID, CustomerNumber, LegalName, CustomerStatus, CreditLimitAmount string
			Labels                                                           []string
		}
	}
	e.do(`mutation($b:ID!){ createCustomer(input:{bankID:$b, firstName:"John", lastName:"Doe", email:"john@example.com",
		mobilePhoneNumber:"318000201068", labels:["vip"], creditLimitCurrency:"EUR", creditLimitAmount:"10.12",
		dependants: 1, dobOfDependants:["2019-09-08T00:00:00Z"]}) {
		id customerNumber legalName customerStatus creditLimitAmount labels } }`, &c, "b", bank.CreateBank.ID)
	require.Regexp(t, regexp.MustCompile(`^[1-9][0-9]{11}$`), c.CreateCustomer.CustomerNumber, "generated customer number")
	require.Equal(t, "John Doe", c.CreateCustomer.LegalName, "legal name defaults to first + last name")
	require.Equal(t, "CREATED", c.CreateCustomer.CustomerStatus)
	require.Equal(t, "10.12", c.CreateCustomer.CreditLimitAmount, "decimal round-trips exactly")
	cid := c.CreateCustomer.ID

	var u struct {
		UpdateCustomer struct {
			Labels         []string
			CustomerStatus string
		}
	}
	e.do(`mutation($id:ID!){ updateCustomer(id:$id, input:{appendLabels:["retail"], customerStatus: ACTIVE}) { labels customerStatus } }`, &u, "id", cid)
	require.Equal(t, []string{"vip", "retail"}, u.UpdateCustomer.Labels)
	require.Equal(t, "ACTIVE", u.UpdateCustomer.CustomerStatus)

	// Primary address: setting a second primary moves the flag.
	var a1, a2 struct {
		CreateAddress struct {
			ID, Line1 string
			IsPrimary bool
		}
	}
	e.do(`mutation($c:ID!){ createAddress(input:{customerID:$c, premise:58, subPremise:"A", thoroughfare:"Hoofdweg",
		city:"Hoofddorp", postcode:"2131", countryCode:"NL", isPrimary:true}) { id line1 isPrimary } }`, &a1, "c", cid)
	require.Equal(t, "Hoofdweg 58A", a1.CreateAddress.Line1, "structured address gets a line form")
	e.do(`mutation($c:ID!){ createAddress(input:{customerID:$c, line1:"No 1 the Road", city:"Berlin", countryCode:"DE", tags:["home"], isPrimary:true}) { id line1 isPrimary } }`, &a2, "c", cid)
	var addrs struct {
		Node struct {
			Addresses struct {
				Edges []struct {
					Node struct {
						ID        string
						IsPrimary bool
					}
				}
			}
		}
	}
	e.do(`query($c:ID!){ node(id:$c){ ... on Customer { addresses { edges { node { id isPrimary } } } } } }`, &addrs, "c", cid)
	require.Len(t, addrs.Node.Addresses.Edges, 2)
	require.False(t, addrs.Node.Addresses.Edges[0].Node.IsPrimary)
	require.True(t, addrs.Node.Addresses.Edges[1].Node.IsPrimary)

	// Product lifecycle.
	var p struct {
		CreateProduct struct {
			ID, ProductType, Status, Currency string
			OpenedOn                          *string
		}
	}
	e.do(`mutation($c:ID!){ createProduct(input:{customerID:$c, productCode: BALANCE_ACCOUNT}) { id productType status currency openedOn } }`, &p, "c", cid)
	require.Equal(t, "CASH", p.CreateProduct.ProductType)
	require.Equal(t, "RECEIVED", p.CreateProduct.Status)
	require.Equal(t, "EUR", p.CreateProduct.Currency)
	require.Nil(t, p.CreateProduct.OpenedOn)
	var act struct {
		UpdateProduct struct {
			Status   string
			OpenedOn *string
		}
	}
	e.do(`mutation($id:ID!){ updateProduct(id:$id, input:{status: ACTIVE}) { status openedOn } }`, &act, "id", p.CreateProduct.ID)
	require.Equal(t, "ACTIVE", act.UpdateProduct.Status)
	require.NotNil(t, act.UpdateProduct.OpenedOn, "openedOn set when the product becomes ACTIVE")
	var cl struct {
		CloseProduct struct {
			Status   string
			ClosedOn *string
		}
	}
	e.do(`mutation($id:ID!){ closeProduct(id:$id) { status closedOn } }`, &cl, "id", p.CreateProduct.ID)
	require.Equal(t, "CLOSED", cl.CloseProduct.Status)
	require.NotNil(t, cl.CloseProduct.ClosedOn)

	// Every other entity: create, update, delete.
	for _, x := range []struct{ entity, create, update string }{
		{"TaxResidence", `domain:"DE", taxNumber:"1"`, `taxNumber:"2"`},
		{"SocialHandle", `type:"twitter", handle:"@john"`, `handle:"@jd"`},
		{"CustomerAttribute", `name:"AGE", type: INTEGER, value:"42"`, `value:"43"`},
		{"CustomerMessage", `message:"Hello", transport:"SMS"`, `fromPerson:"Tom"`},
	} {
		var created map[string]struct{ ID string }
		e.do(fmt.Sprintf(`mutation($c:ID!){ create%s(input:{customerID:$c, %s}) { id } }`, x.entity, x.create), &created, "c", cid)
		id := created["create"+x.entity].ID
		require.NotEmpty(t, id, x.entity)
		var updated map[string]struct{ ID string }
		e.do(fmt.Sprintf(`mutation($id:ID!){ update%s(id:$id, input:{%s}) { id } }`, x.entity, x.update), &updated, "id", id)
		require.Equal(t, id, updated["update"+x.entity].ID)
		var deleted map[string]string
		e.do(fmt.Sprintf(`mutation($id:ID!){ delete%s(id:$id) }`, x.entity), &deleted, "id", id)
		require.Equal(t, id, deleted["delete"+x.entity])
		errs := e.fail(`query($id:ID!){ node(id:$id){ id } }`, "id", id)
		require.Equal(t, "NOT_FOUND", errs[0].Extensions["code"], "%s is gone", x.entity)
	}

	// A customer without products can be deleted, with its records.
	var c2 struct{ CreateCustomer struct{ ID string } }
	e.do(`mutation($b:ID!){ createCustomer(input:{bankID:$b, company:"ACME"}) { id } }`, &c2, "b", bank.CreateBank.ID)
	e.do(`mutation($c:ID!){ createTaxResidence(input:{customerID:$c, domain:"NL", taxNumber:"9"}) { id } }`, new(map[string]any), "c", c2.CreateCustomer.ID)
	var del struct{ DeleteCustomer string }
	e.do(`mutation($id:ID!){ deleteCustomer(id:$id) }`, &del, "id", c2.CreateCustomer.ID)
	require.Equal(t, c2.CreateCustomer.ID, del.DeleteCustomer)
	require.Zero(t, e.client.TaxResidence.Query().CountX(access.System(context.Background())), "its tax residence went with it")
}

// uuidList is n distinct UUIDs as a GraphQL list's items.
func uuidList(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = `"` + uuid.NewString() + `"`
	}
	return strings.Join(ids, ", ")
}

// TestPremiseOver32BitsIsNotStored: ent refuses an address's premise over
// 2^31-1 whichever door writes it (GraphQL refuses the literal or variable
// before; bankingservice.ai's body reaches ent's rule).
func TestPremiseOver32BitsIsNotStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.fixture()
	ctx := access.System(context.Background())
	_, err := e.client.Address.Create().SetCustomerID(f.customer).SetPremise(1 << 31).Save(ctx)
	require.Error(t, err)
	require.Contains(t, err.Error(), "premise")
	a, err := e.client.Address.Create().SetCustomerID(f.customer).SetPremise(1<<31 - 1).Save(ctx)
	require.NoError(t, err)
	require.Equal(t, 1<<31-1, *a.Premise)
}
