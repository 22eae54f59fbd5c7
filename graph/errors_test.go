package graph_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMalformedScalarsNameTheirField: a value gqlgen cannot coerce (an id
// that is not a UUID, a Decimal, Time or Cursor that does not parse), given
// inline or in a variable, at the top of an argument or deep in an input
// object or list, is BAD_USER_INPUT with extensions.field naming it, and
// the message starts with that name.
func TestMalformedScalarsNameTheirField(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, query string
		vars        []any
		field       string
	}{
		{"id argument", `{ node(id: "nope") { id } }`, nil, "id"},
		{"id in a list variable", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			[]any{"ids", []string{"01a1ff4d-6282-7d54-91f6-9e098378f88f", "x"}}, "ids"},
		{"id in an input variable", `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`,
			[]any{"i", map[string]any{"bankID": "gh.29.uk", "firstName": "J"}}, "bankID"},
		{"UUID in a filter", `{ auditEvents(where: {bankID: "zz"}) { totalCount } }`, nil, "bankID"},
		{"Time in a filter", `{ customers(where: {createdAtGTE: "yesterday"}) { totalCount } }`, nil, "createdAtGTE"},
		{"Time in a nested filter", `{ customers(where: {hasProductsWith: [{createdAtLT: "soon"}]}) { totalCount } }`, nil, "createdAtLT"},
		{"Cursor", `{ customers(after: "garbage") { totalCount } }`, nil, "after"},
		{"Decimal", `mutation { updateCustomer(id: "01a1ff4d-6282-7d54-91f6-9e098378f88f", input: {creditLimitAmount: "1,5"}) { id } }`, nil, "creditLimitAmount"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := e.fail(tc.query, tc.vars...)
			require.Len(t, errs, 1, "%v", errs)
			require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%v", errs)
			require.Equal(t, tc.field, errs[0].Extensions["field"], "%v", errs)
			require.Regexp(t, "^"+tc.field+": ", errs[0].Message)
		})
	}
}
