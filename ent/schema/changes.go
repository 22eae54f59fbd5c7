package schema

import (
	"slices"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	gen "custgraph/ent"
	"custgraph/ent/auditevent"
	"custgraph/ent/predicate"
	"custgraph/internal/access"
)

// This file is the read rule of the change stream (internal/changes): who
// may learn that a record changed. The stream tells of a change (its type,
// id, bank, operation and field names, never the values); its node is then
// loaded through the read rule of its entity (policy.go), so a subscriber
// never sees more of a record than it may read.

// MayReadChange reports whether v may learn of a change of a record of typ
// at bank (uuid.Nil: a record of no bank): it holds the entity's read role
// at that bank (ReadRoles), or, for entities read by scope, may see the
// bank at all; changes of callers (clients, users, their entitlements) are
// told to those who manage callers. The audit trail itself is not in the
// stream.
func MayReadChange(v *access.Viewer, typ string, bank uuid.UUID) bool {
	if v == nil {
		return false
	}
	if v.IsSystem() {
		return true
	}
	if slices.Contains(notInStream, typ) {
		return false
	}
	switch typ {
	case gen.TypeUser, gen.TypeAPIClient, gen.TypeEntitlement:
		return v.Has(access.CanManageCallers, uuid.Nil)
	case gen.TypeBank, gen.TypeCrmEvent:
		return bank != uuid.Nil && v.Scope().Contains(bank)
	}
	roles, ok := ReadRoles[typ]
	return ok && bank != uuid.Nil && v.HasAny(bank, roles...)
}

// notInStream are the types whose changes nobody hears of: the audit trail
// itself and custgraph's own bookkeeping.
var notInStream = []string{gen.TypeAuditEvent, gen.TypeSigningKey, gen.TypeRequestReplay}

// ChangeTypes are the entity types whose changes the stream tells of (to
// whom MayReadChange lets): a filter naming any other is a mistake.
func ChangeTypes() []string {
	types := []string{gen.TypeBank, gen.TypeCrmEvent, gen.TypeUser, gen.TypeAPIClient, gen.TypeEntitlement}
	for t := range ReadRoles {
		if !slices.Contains(types, t) && !slices.Contains(notInStream, t) {
			types = append(types, t)
		}
	}
	slices.Sort(types)
	return types
}

// ChangeScope narrows a read of the audit trail to the changes v may
// possibly learn of (MayReadChange decides each one): those at the banks
// in its scope, and the changes of no bank for those who manage callers.
func ChangeScope(v *access.Viewer) predicate.AuditEvent {
	if v.IsSystem() {
		return func(*sql.Selector) {} // every change
	}
	manager := v.Has(access.CanManageCallers, uuid.Nil)
	s := v.Scope()
	var atBanks predicate.AuditEvent
	switch {
	case s.All:
		atBanks = auditevent.BankIDNotNil()
	case len(s.IDs) > 0:
		atBanks = auditevent.BankIDIn(s.IDs...)
	}
	switch {
	case atBanks != nil && manager:
		return auditevent.Or(atBanks, auditevent.BankIDIsNil())
	case atBanks != nil:
		return atBanks
	case manager:
		return auditevent.BankIDIsNil()
	}
	return func(s *sql.Selector) { s.Where(sql.False()) } // none
}
