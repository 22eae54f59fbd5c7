package access

import (
	"strings"
	"testing"
)

// TestAtAnyBank: OBP's naming of the system-wide variant of each bank role,
// and a system role (or an unknown one) unchanged.
func TestAtAnyBank(t *testing.T) {
	for r, want := range map[Role]Role{
		CanCreateCustomer:                "CanCreateCustomerAtAnyBank",
		CanGetCustomerAttributeAtOneBank: "CanGetCustomerAttributeAtAnyBank",
		CanCreateBank:                    CanCreateBank,
		CanUseCustomerFirehoseAtAnyBank:  CanUseCustomerFirehoseAtAnyBank,
		"CanDoSomethingElse":             "CanDoSomethingElse",
	} {
		if got := AtAnyBank(r); got != want {
			t.Errorf("AtAnyBank(%s) = %s, want %s", r, got, want)
		}
	}
	for _, r := range bankRoles {
		a := AtAnyBank(r)
		if a == r || !strings.HasSuffix(string(a), "AtAnyBank") || strings.Contains(string(a), "AtOneBank") {
			t.Errorf("AtAnyBank(%s) = %s", r, a)
		}
		if !IsSystem(a) || IsSystem(r) {
			t.Errorf("%s should be a system role and %s not", a, r)
		}
	}
}
