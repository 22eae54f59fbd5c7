package access

import (
	"slices"
	"strings"
)

// Role is an entitlement name. The names are OBP's (code/api/util/ApiRole.scala)
// wherever OBP has the operation; custgraph adds names for what OBP lacks
// (products, CRM event writes, bank and caller administration, the audit
// trail), built the same way.
type Role string

// Bank-scoped roles: an entitlement names the bank it applies to. Each has
// a system-wide variant, the same name with AtAnyBank (see AtAnyBank).
const (
	CanCreateCustomer                      Role = "CanCreateCustomer"
	CanGetCustomer                         Role = "CanGetCustomer"
	CanUpdateCustomer                      Role = "CanUpdateCustomer"
	CanDeleteCustomer                      Role = "CanDeleteCustomer"
	CanUpdateCustomerEmail                 Role = "CanUpdateCustomerEmail"
	CanUpdateCustomerNumber                Role = "CanUpdateCustomerNumber"
	CanUpdateCustomerMobilePhoneNumber     Role = "CanUpdateCustomerMobilePhoneNumber"
	CanUpdateCustomerIdentity              Role = "CanUpdateCustomerIdentity"
	CanUpdateCustomerCreditLimit           Role = "CanUpdateCustomerCreditLimit"
	CanUpdateCustomerCreditRatingAndSource Role = "CanUpdateCustomerCreditRatingAndSource"
	CanUpdateCustomerBranch                Role = "CanUpdateCustomerBranch"
	CanUpdateCustomerData                  Role = "CanUpdateCustomerData"

	CanCreateCustomerAddress Role = "CanCreateCustomerAddress"
	CanGetCustomerAddress    Role = "CanGetCustomerAddress"
	CanDeleteCustomerAddress Role = "CanDeleteCustomerAddress"

	CanCreateTaxResidence Role = "CanCreateTaxResidence"
	CanGetTaxResidence    Role = "CanGetTaxResidence"
	CanDeleteTaxResidence Role = "CanDeleteTaxResidence"

	CanAddSocialMediaHandle  Role = "CanAddSocialMediaHandle"
	CanGetSocialMediaHandles Role = "CanGetSocialMediaHandles"

	CanCreateCustomerAttributeAtOneBank Role = "CanCreateCustomerAttributeAtOneBank"
	CanGetCustomerAttributeAtOneBank    Role = "CanGetCustomerAttributeAtOneBank"
	CanUpdateCustomerAttributeAtOneBank Role = "CanUpdateCustomerAttributeAtOneBank"
	CanDeleteCustomerAttributeAtOneBank Role = "CanDeleteCustomerAttributeAtOneBank"

	CanCreateUserCustomerLink Role = "CanCreateUserCustomerLink"
	CanGetUserCustomerLink    Role = "CanGetUserCustomerLink"
	CanDeleteUserCustomerLink Role = "CanDeleteUserCustomerLink"

	CanCreateCustomerMessage Role = "CanCreateCustomerMessage"
	CanGetCustomerMessages   Role = "CanGetCustomerMessages"

	CanCreateCustomerProduct Role = "CanCreateCustomerProduct"
	CanGetCustomerProduct    Role = "CanGetCustomerProduct"
	CanUpdateCustomerProduct Role = "CanUpdateCustomerProduct"

	CanCreateCrmEvent Role = "CanCreateCrmEvent"
	CanUpdateCrmEvent Role = "CanUpdateCrmEvent"
	CanDeleteCrmEvent Role = "CanDeleteCrmEvent"

	CanReadAuditEvents Role = "CanReadAuditEvents"
)

// System roles: an entitlement to one of them names no bank.
const (
	CanCreateBank                   Role = "CanCreateBank"
	CanUpdateBank                   Role = "CanUpdateBank"
	CanDeleteBank                   Role = "CanDeleteBank"
	CanManageCallers                Role = "CanManageCallers"
	CanUseCustomerFirehoseAtAnyBank Role = "CanUseCustomerFirehoseAtAnyBank"
)

var bankRoles = []Role{
	CanCreateCustomer, CanGetCustomer, CanUpdateCustomer, CanDeleteCustomer,
	CanUpdateCustomerEmail, CanUpdateCustomerNumber, CanUpdateCustomerMobilePhoneNumber,
	CanUpdateCustomerIdentity, CanUpdateCustomerCreditLimit, CanUpdateCustomerCreditRatingAndSource,
	CanUpdateCustomerBranch, CanUpdateCustomerData,
	CanCreateCustomerAddress, CanGetCustomerAddress, CanDeleteCustomerAddress,
	CanCreateTaxResidence, CanGetTaxResidence, CanDeleteTaxResidence,
	CanAddSocialMediaHandle, CanGetSocialMediaHandles,
	CanCreateCustomerAttributeAtOneBank, CanGetCustomerAttributeAtOneBank,
	CanUpdateCustomerAttributeAtOneBank, CanDeleteCustomerAttributeAtOneBank,
	CanCreateUserCustomerLink, CanGetUserCustomerLink, CanDeleteUserCustomerLink,
	CanCreateCustomerMessage, CanGetCustomerMessages,
	CanCreateCustomerProduct, CanGetCustomerProduct, CanUpdateCustomerProduct,
	CanCreateCrmEvent, CanUpdateCrmEvent, CanDeleteCrmEvent,
	CanReadAuditEvents,
}

var systemRoles = []Role{CanCreateBank, CanUpdateBank, CanDeleteBank, CanManageCallers, CanUseCustomerFirehoseAtAnyBank}

// AtAnyBank is the system-wide variant of a bank-scoped role: OBP's
// naming, CanCreateCustomer → CanCreateCustomerAtAnyBank and
// CanGetCustomerAttributeAtOneBank → CanGetCustomerAttributeAtAnyBank.
// It returns a system role unchanged.
func AtAnyBank(r Role) Role {
	if a, ok := atAnyBank[r]; ok {
		return a
	}
	return r
}

// atAnyBank holds AtAnyBank of every bank role: the privacy rules ask for
// it on every query, for every grant of the viewer (building the name each
// time was 1% of a page's allocated bytes).
var atAnyBank = func() map[Role]Role {
	m := make(map[Role]Role, len(bankRoles))
	for _, r := range bankRoles {
		if s, ok := strings.CutSuffix(string(r), "AtOneBank"); ok {
			m[r] = Role(s + "AtAnyBank")
		} else {
			m[r] = r + "AtAnyBank"
		}
	}
	return m
}()

// IsSystem reports whether an entitlement to r names no bank: the system
// roles and the AtAnyBank variants of bank roles.
func IsSystem(r Role) bool {
	return slices.Contains(systemRoles, r) || (!slices.Contains(bankRoles, r) && Known(r))
}

// Known reports whether r is a role custgraph checks.
func Known(r Role) bool {
	if slices.Contains(bankRoles, r) || slices.Contains(systemRoles, r) {
		return true
	}
	for _, b := range bankRoles {
		if AtAnyBank(b) == r {
			return true
		}
	}
	return false
}

// All lists every role: the bank roles, their AtAnyBank variants and the
// system roles, in that order.
func All() []Role {
	out := slices.Clone(bankRoles)
	for _, r := range bankRoles {
		out = append(out, AtAnyBank(r))
	}
	return append(out, systemRoles...)
}

// BankRoles lists the bank-scoped roles.
func BankRoles() []Role { return slices.Clone(bankRoles) }

// SystemRoles lists the system roles, not counting AtAnyBank variants.
func SystemRoles() []Role { return slices.Clone(systemRoles) }
