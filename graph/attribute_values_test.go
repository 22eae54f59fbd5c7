package graph_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAttributeValuesOfTheirType: a customer attribute's value is checked
// against its type, and a DOUBLE is a finite decimal number as JSON writes
// one: Go's number parser also took hexadecimal floats (0x1p3), digit
// separators (1_0), Inf and NaN.
func TestAttributeValuesOfTheirType(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	var c struct{ CreateCustomer struct{ ID string } }
	e.do(`mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Attr"}) { id } }`, &c, "b", b.ID)
	create := `mutation($c: ID!, $n: String!, $t: CustomerAttributeType!, $v: String!) {
		createCustomerAttribute(input: {customerID: $c, name: $n, type: $t, value: $v}) { value } }`
	n := 0
	for _, v := range []struct{ typ, value string }{
		{"DOUBLE", "1.5"}, {"DOUBLE", "-2"}, {"DOUBLE", "+.5"}, {"DOUBLE", "3."}, {"DOUBLE", "6.02e23"}, {"DOUBLE", "1E-7"},
		{"INTEGER", "-42"}, {"DATE_WITH_DAY", "2026-12-07"},
	} {
		n++
		var r struct{ CreateCustomerAttribute struct{ Value string } }
		e.do(create, &r, "c", c.CreateCustomer.ID, "n", "OK"+string(rune('A'+n)), "t", v.typ, "v", v.value)
		require.Equal(t, v.value, r.CreateCustomerAttribute.Value)
	}
	for _, v := range []struct{ typ, value string }{
		{"DOUBLE", "0x1p3"}, {"DOUBLE", "1_0"}, {"DOUBLE", "NaN"}, {"DOUBLE", "Inf"}, {"DOUBLE", "-Infinity"}, {"DOUBLE", "1e400"},
		{"DOUBLE", ""}, {"DOUBLE", " 1"}, {"DOUBLE", "."}, {"DOUBLE", "1e"}, {"INTEGER", "1.0"}, {"DATE_WITH_DAY", "2026-02-30"},
	} {
		n++
		errs := e.fail(create, "c", c.CreateCustomer.ID, "n", "BAD"+string(rune('A'+n)), "t", v.typ, "v", v.value)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%s %q: %+v", v.typ, v.value, errs[0])
		require.Equal(t, "value", errs[0].Extensions["field"], "%s %q: %+v", v.typ, v.value, errs[0])
	}
}
