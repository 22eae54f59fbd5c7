package graph_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/customer"
	"custgraph/internal/access"
)

// TestNameMapping checks ent's one mapping between OBP's legal_name and
// bankingservice.ai's first_name, last_name and company, both ways (the
// rule every door gets; README "Names across doors").
func TestNameMapping(t *testing.T) {
	e := newEnv(t)
	ctx := access.System(context.Background())
	b := e.seedBank("gh.29.uk")
	c := e.client
	names := func(t *testing.T, cu *ent.Customer, legal, first, last, company string) {
		t.Helper()
		cu = c.Customer.GetX(ctx, cu.ID)
		require.Equal(t, []string{legal, first, last, company}, []string{cu.LegalName, cu.FirstName, cu.LastName, cu.Company})
	}
	create := func() *ent.CustomerCreate { return c.Customer.Create().SetBankID(b.ID) }

	person := create().SetLegalName("Eveline Maria Tripman").SaveX(ctx)
	names(t, person, "Eveline Maria Tripman", "Eveline Maria", "Tripman", "")
	firm := create().SetLegalName("Acme Trading GmbH").SetCustomerType(customer.CustomerTypeLEGAL_ENTITY).SaveX(ctx)
	names(t, firm, "Acme Trading GmbH", "", "", "Acme Trading GmbH")
	entity := create().SetLegalName("Beta AG").SetEntityID(uuid.New()).SetEntityType(customer.EntityTypeLEGAL_ENTITY).SaveX(ctx)
	names(t, entity, "Beta AG", "", "", "Beta AG")
	one := create().SetLegalName("Cher").SaveX(ctx)
	names(t, one, "Cher", "", "Cher", "")
	spaced := create().SetLegalName("  Ada   Lovelace ").SaveX(ctx)
	names(t, spaced, "  Ada   Lovelace ", "Ada", "Lovelace", "")
	john := create().SetFirstName("John").SetLastName("Doe").SetCompany("Acme").SaveX(ctx)
	names(t, john, "John Doe", "John", "Doe", "Acme")
	own := create().SetLegalName("Lovelace Holdings Ltd").SetFirstName("Ada").SetLastName("Lovelace").SaveX(ctx)
	names(t, own, "Lovelace Holdings Ltd", "Ada", "Lovelace", "")

	// While the two sides agree, a change of one carries to the other.
	c.Customer.UpdateOneID(person.ID).SetLegalName("Eve Tripman-Smith").ExecX(ctx)
	names(t, person, "Eve Tripman-Smith", "Eve", "Tripman-Smith", "")
	c.Customer.UpdateOneID(person.ID).SetFirstName("Evelyn").ExecX(ctx)
	names(t, person, "Evelyn Tripman-Smith", "Evelyn", "Tripman-Smith", "")
	c.Customer.UpdateOneID(spaced.ID).SetLegalName("Augusta Ada King").ExecX(ctx)
	names(t, spaced, "Augusta Ada King", "Augusta Ada", "King", "")
	c.Customer.UpdateOneID(firm.ID).SetLegalName("Acme Holding SE").ExecX(ctx)
	names(t, firm, "Acme Holding SE", "", "", "Acme Holding SE")
	// A person's company is not part of its name: it stays.
	c.Customer.UpdateOneID(john.ID).SetLegalName("Jane Roe").ExecX(ctx)
	names(t, john, "Jane Roe", "Jane", "Roe", "Acme")
	// Sides set on their own are kept as set.
	c.Customer.UpdateOneID(own.ID).SetLegalName("Lovelace Group plc").ExecX(ctx)
	names(t, own, "Lovelace Group plc", "Ada", "Lovelace", "")
	c.Customer.UpdateOneID(own.ID).SetFirstName("Augusta").ExecX(ctx)
	names(t, own, "Lovelace Group plc", "Augusta", "Lovelace", "")
	// Both given at once: both as given.
	c.Customer.UpdateOneID(person.ID).SetLegalName("Dr. E. Tripman").SetFirstName("E.").ExecX(ctx)
	names(t, person, "Dr. E. Tripman", "E.", "Tripman-Smith", "")
}

// TestOverlongNameNamesItself: a name part over its length is refused
// naming that part. legalName is made from firstName and lastName, and was
// validated first: the refusal named legalName, an input the client never
// sent.
func TestOverlongNameNamesItself(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	long := strings.Repeat("a", 256)
	var r struct{ CreateCustomer struct{ ID string } }
	e.do(`mutation($b: ID!) { createCustomer(input: {bankID: $b, firstName: "Ada", lastName: "Lovelace"}) { id } }`, &r, "b", b.ID)
	for _, c := range []struct{ name, query, field string }{
		{"create, firstName", `mutation($b: ID!, $s: String) { createCustomer(input: {bankID: $b, firstName: $s, lastName: "b"}) { id } }`, "firstName"},
		{"create, lastName", `mutation($b: ID!, $s: String) { createCustomer(input: {bankID: $b, firstName: "a", lastName: $s}) { id } }`, "lastName"},
		{"create, company", `mutation($b: ID!, $s: String) { createCustomer(input: {bankID: $b, company: $s}) { id } }`, "company"},
		{"update, firstName", `mutation($id: ID!, $s: String) { updateCustomer(id: $id, input: {firstName: $s}) { id } }`, "firstName"},
	} {
		errs := e.fail(c.query, "b", b.ID, "id", r.CreateCustomer.ID, "s", long)
		require.Len(t, errs, 1, c.name)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%s: %+v", c.name, errs[0])
		require.Equal(t, c.field, errs[0].Extensions["field"], "%s: %+v", c.name, errs[0])
	}
}

// TestLengthsCountCharacters: a bound on a text is in characters, as
// /openapi.json's maxLength and PostgreSQL's varchar(n) count, not in
// bytes. ent's MaxLen counted bytes: 255 "é" (510 bytes) were refused as
// too long, by every door, though every description allowed them.
func TestLengthsCountCharacters(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	for _, c := range []struct {
		field string
		max   int
	}{{"firstName", 255}, {"email", 200}, {"customerNumber", 50}} {
		value := func(n int) string {
			if c.field == "email" {
				return strings.Repeat("é", n-len("@example.com")) + "@example.com"
			}
			return strings.Repeat("é", n)
		}
		q := `mutation($b: ID!, $v: String!) { createCustomer(input: {bankID: $b, ` + c.field + `: $v}) { id ` + c.field + ` } }`
		var r struct{ CreateCustomer map[string]any }
		e.do(q, &r, "b", b.ID, "v", value(c.max))
		require.Equal(t, value(c.max), r.CreateCustomer[c.field], c.field)
		errs := e.fail(q, "b", b.ID, "v", value(c.max+1))
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%s: %+v", c.field, errs[0])
		require.Equal(t, c.field, errs[0].Extensions["field"], "%s: %+v", c.field, errs[0])
	}
}
