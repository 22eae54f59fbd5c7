package graph_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

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
