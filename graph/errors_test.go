package graph_test

import (
	"encoding/json"
	"strings"
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

// TestMalformedScalarsSpeakJSON: an id or a cursor of the wrong JSON kind
// is refused in the client's terms. gqlgen's scalars named Go's types
// ("id: json.Number is not a uuid", "after: int64 is not a string").
func TestMalformedScalarsSpeakJSON(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, query string
		vars        []any
		field, want string
	}{
		{"a number in a variable", `query($id: ID!) { node(id: $id) { id } }`, []any{"id", 5}, "id", "id: must be a UUID string, not a number"},
		{"a number inline", `{ nodes(ids: [5]) { id } }`, nil, "ids", "ids: must be a UUID string, not a number"},
		{"a number in a filter", `{ customers(where: {idIn: [7]}) { totalCount } }`, nil, "idIn", "idIn: must be a UUID string, not a number"},
		{"a number for a cursor", `{ customers(after: 5) { totalCount } }`, nil, "after", "after: a cursor must be a string"},
		{"a number for a cursor variable", `query($c: Cursor) { customers(after: $c) { totalCount } }`, []any{"c", 5}, "after", "after: a cursor must be a string"},
	} {
		errs := e.fail(tc.query, tc.vars...)
		require.Len(t, errs, 1, tc.name)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%s: %+v", tc.name, errs[0])
		require.Equal(t, tc.field, errs[0].Extensions["field"], "%s: %+v", tc.name, errs[0])
		require.True(t, strings.HasPrefix(errs[0].Message, tc.want), "%s: %q", tc.name, errs[0].Message)
		for _, goName := range []string{"json.", "int64", "interface", "%!"} {
			require.NotContains(t, errs[0].Message, goName, tc.name)
		}
	}
	// A variable of the wrong kind is refused before the operation runs,
	// in graphql-js's form (gqlparser said "cannot use bool as ID").
	for _, tc := range []struct {
		query string
		vars  []any
		want  string
	}{
		{`query($id: ID!) { node(id: $id) { id } }`, []any{"id", true}, `Variable "$id" got invalid value of kind boolean; ID cannot represent a boolean`},
		{`query($id: ID!) { node(id: $id) { id } }`, []any{"id", []any{json.Number("1")}}, `Variable "$id" got invalid value of kind list; ID cannot represent a list`},
		{`query($id: ID!) { node(id: $id) { id } }`, []any{"id", map[string]any{"a": 1}}, `Variable "$id" got invalid value of kind object; ID cannot represent an object`},
		{`query($w: CustomerWhereInput) { customers(where: $w) { totalCount } }`, []any{"w", map[string]any{"idIn": []any{true}}},
			`Variable "$w" got invalid value of kind boolean at "w.idIn[0]"; ID cannot represent a boolean`},
	} {
		errs := e.fail(tc.query, tc.vars...)
		require.Len(t, errs, 1, tc.want)
		require.Equal(t, tc.want, errs[0].Message)
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", errs[0].Extensions["code"], "%+v", errs[0])
	}
}
