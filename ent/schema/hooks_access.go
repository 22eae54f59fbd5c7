package schema

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	gen "custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/apiclient"
	"custgraph/ent/auditevent"
	"custgraph/ent/bank"
	"custgraph/ent/crmevent"
	"custgraph/ent/customer"
	"custgraph/ent/customerattribute"
	"custgraph/ent/customermessage"
	"custgraph/ent/entitlement"
	"custgraph/ent/hook"
	"custgraph/ent/privacy"
	"custgraph/ent/product"
	"custgraph/ent/requestreplay"
	"custgraph/ent/socialhandle"
	"custgraph/ent/taxresidence"
	"custgraph/ent/user"
	"custgraph/ent/usercustomerlink"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/notify"
)

// This file is the write half of access control and the audit trail. guard
// is the first hook of every entity, so no change, whichever door it comes
// through, escapes it:
//  1. it finds the bank the change is at (the record's, or for a new record
//     the bank or customer it names); a record (customer, …) of a bank
//     outside the viewer's scope does not exist for it (NOT_FOUND), while
//     banks themselves are public: a change at a bank the viewer has no
//     role at is refused by step 2;
//  2. it checks that the viewer holds the operation's role at that bank
//     (WriteRoles; FORBIDDEN naming the role otherwise);
//  3. it runs the change, whose own hooks then act with full read access
//     (they enforce rules over all of the data, not just what the viewer sees);
//  4. it records an AuditEvent in the change's transaction.

// WriteRoles are the roles that allow each operation on each entity (any
// one of them, at the record's bank). Customer updates need, for each field
// they set, one of FieldRoles[field], or CanUpdateCustomer.
var WriteRoles = map[string]map[ent.Op][]access.Role{
	gen.TypeBank: {ent.OpCreate: {access.CanCreateBank}, ent.OpUpdateOne: {access.CanUpdateBank}, ent.OpDeleteOne: {access.CanDeleteBank}},
	gen.TypeCustomer: {ent.OpCreate: {access.CanCreateCustomer}, ent.OpUpdateOne: {access.CanUpdateCustomer},
		ent.OpDeleteOne: {access.CanDeleteCustomer}},
	gen.TypeProduct: {ent.OpCreate: {access.CanCreateCustomerProduct}, ent.OpUpdateOne: {access.CanUpdateCustomerProduct}},
	gen.TypeAddress: {ent.OpCreate: {access.CanCreateCustomerAddress},
		ent.OpUpdateOne: {access.CanCreateCustomerAddress, access.CanCreateCustomer}, // rest-compat §5.10
		ent.OpDeleteOne: {access.CanDeleteCustomerAddress}},
	gen.TypeTaxResidence: {ent.OpCreate: {access.CanCreateTaxResidence}, ent.OpUpdateOne: {access.CanCreateTaxResidence},
		ent.OpDeleteOne: {access.CanDeleteTaxResidence}},
	gen.TypeSocialHandle: {ent.OpCreate: {access.CanAddSocialMediaHandle}, ent.OpUpdateOne: {access.CanAddSocialMediaHandle},
		ent.OpDeleteOne: {access.CanAddSocialMediaHandle}},
	gen.TypeCustomerAttribute: {ent.OpCreate: {access.CanCreateCustomerAttributeAtOneBank},
		ent.OpUpdateOne: {access.CanUpdateCustomerAttributeAtOneBank}, ent.OpDeleteOne: {access.CanDeleteCustomerAttributeAtOneBank}},
	gen.TypeCustomerMessage: {ent.OpCreate: {access.CanCreateCustomerMessage}, ent.OpUpdateOne: {access.CanCreateCustomerMessage},
		ent.OpDeleteOne: {access.CanCreateCustomerMessage}},
	gen.TypeCrmEvent: {ent.OpCreate: {access.CanCreateCrmEvent}, ent.OpUpdateOne: {access.CanUpdateCrmEvent},
		ent.OpDeleteOne: {access.CanDeleteCrmEvent}},
	gen.TypeUserCustomerLink: {ent.OpCreate: {access.CanCreateUserCustomerLink}, ent.OpUpdateOne: {access.CanCreateUserCustomerLink},
		ent.OpDeleteOne: {access.CanDeleteUserCustomerLink}},
	gen.TypeUser:        manageCallers,
	gen.TypeAPIClient:   manageCallers,
	gen.TypeEntitlement: manageCallers,
}

var manageCallers = map[ent.Op][]access.Role{
	ent.OpCreate: {access.CanManageCallers}, ent.OpUpdateOne: {access.CanManageCallers}, ent.OpDeleteOne: {access.CanManageCallers},
}

// FieldRoles are OBP's roles for changing one customer field
// (rest-compat §3.4 #19–#26, §5.10); CanUpdateCustomer allows them all.
var FieldRoles = map[string][]access.Role{
	customer.FieldEmail:                    {access.CanUpdateCustomerEmail},
	customer.FieldCustomerNumber:           {access.CanUpdateCustomerNumber},
	customer.FieldMobilePhoneNumber:        {access.CanUpdateCustomerMobilePhoneNumber},
	customer.FieldLegalName:                {access.CanUpdateCustomerIdentity},
	customer.FieldDateOfBirth:              {access.CanUpdateCustomerIdentity},
	customer.FieldTitle:                    {access.CanUpdateCustomerIdentity},
	customer.FieldNameSuffix:               {access.CanUpdateCustomerIdentity},
	customer.FieldCreditLimitCurrency:      {access.CanUpdateCustomerCreditLimit},
	customer.FieldCreditLimitAmount:        {access.CanUpdateCustomerCreditLimit},
	customer.FieldCreditRating:             {access.CanUpdateCustomerCreditRatingAndSource},
	customer.FieldCreditSource:             {access.CanUpdateCustomerCreditRatingAndSource},
	customer.FieldBranchID:                 {access.CanUpdateCustomerBranch, access.CanUpdateCustomerIdentity},
	customer.FieldFaceImageURL:             {access.CanUpdateCustomerData, access.CanUpdateCustomerIdentity},
	customer.FieldFaceImageDate:            {access.CanUpdateCustomerData, access.CanUpdateCustomerIdentity},
	customer.FieldRelationshipStatus:       {access.CanUpdateCustomerData, access.CanUpdateCustomerIdentity},
	customer.FieldDependants:               {access.CanUpdateCustomerData, access.CanUpdateCustomerIdentity},
	customer.FieldDobOfDependants:          {access.CanUpdateCustomerData, access.CanUpdateCustomerIdentity},
	customer.FieldHighestEducationAttained: {access.CanUpdateCustomerData, access.CanUpdateCustomerIdentity},
	customer.FieldEmploymentStatus:         {access.CanUpdateCustomerData, access.CanUpdateCustomerIdentity},
}

type guardKey struct{}

// guarded is what guard leaves in the context of the change it let through.
type guarded struct {
	bank uuid.UUID // the bank of the change; uuid.Nil when none
	// customer is the customer the record is of (a new child record's
	// checked to exist); uuid.Nil when none.
	customer uuid.UUID
}

func guardOf(ctx context.Context) *guarded {
	g, _ := ctx.Value(guardKey{}).(*guarded)
	return g
}

func guard(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		v := access.FromContext(ctx)
		if v == nil {
			return nil, access.ErrUnauthenticated
		}
		outer := guardOf(ctx)
		if m.Type() == gen.TypeAuditEvent || m.Type() == gen.TypeSigningKey {
			if !v.IsSystem() && outer == nil {
				return nil, &apperr.Error{Code: apperr.Forbidden, Message: m.Type() + " records are written by custgraph only"}
			}
			return next.Mutate(ctx, m)
		}
		if rm, ok := m.(*gen.RequestReplayMutation); ok {
			// A caller records the answers to its own requests, and
			// deletes (expired) ones of its own only; custgraph itself
			// purges anyone's expired ones (internal/idempotency).
			switch {
			case m.Op().Is(ent.OpCreate) && ownReplay(v, rm):
			case m.Op().Is(ent.OpDelete|ent.OpDeleteOne) && v.IsSystem():
			case m.Op().Is(ent.OpDelete | ent.OpDeleteOne):
				rm.Where(requestreplay.Caller(ReplayCaller(v)))
			default:
				return nil, &apperr.Error{Code: apperr.Forbidden, Message: "request replays are written by their caller only"}
			}
			return next.Mutate(ctx, m)
		}
		if utf8.RuneCountInString(v.RequestorID) > 100 {
			return nil, apperr.Invalid("requestor_id", "the Requestor-ID header must be at most 100 characters")
		}
		c := clientOf(m)
		sys := privacy.DecisionContext(ctx, privacy.Allow)
		var ids []uuid.UUID
		g := &guarded{}
		switch {
		case outer != nil:
			// A change made by a rule of a change guard already let through
			// (e.g. unsetting the previous primary address): covered by it.
			g.bank, g.customer = outer.bank, outer.customer
			if !m.Op().Is(ent.OpCreate) {
				var err error
				if ids, err = mutationIDs(sys, m); err != nil {
					return nil, err
				}
			}
		case m.Op().Is(ent.OpUpdate | ent.OpDelete):
			if !v.IsSystem() {
				return nil, &apperr.Error{Code: apperr.Forbidden, Message: "changes of many records at once are not allowed"}
			}
			var err error
			if ids, err = mutationIDs(sys, m); err != nil {
				return nil, err
			}
		default:
			var err error
			if g.bank, g.customer, err = target(sys, c, m); err != nil {
				if e, ok := apperr.As(err); ok && e.Code == apperr.NotFound && !v.IsSystem() {
					if missing := heldAnywhere(v, m); missing != nil {
						return nil, missing
					}
				}
				return nil, err
			}
			if !v.IsSystem() {
				if err := authorize(sys, c, v, m, g.bank); err != nil {
					return nil, err
				}
			}
			if id, ok := idOf(m); ok {
				ids = []uuid.UUID{id}
			}
		}
		var also []change
		if m.Op().Is(ent.OpDelete | ent.OpDeleteOne) {
			for _, id := range ids {
				more, err := cascaded(sys, c, m.Type(), id, g.bank)
				if err != nil {
					return nil, err
				}
				also = append(also, more...)
			}
		}
		sys = context.WithValue(sys, guardKey{}, g)
		val, err := next.Mutate(sys, m)
		if err != nil {
			return nil, err
		}
		if m.Op().Is(ent.OpCreate) {
			id, ok := idOf(m)
			if !ok {
				return val, nil
			}
			ids = []uuid.UUID{id}
			if m.Type() == gen.TypeBank {
				g.bank = id
			}
		}
		for _, id := range ids {
			if err := audit(sys, c, v, m, id, g.bank, g.customer); err != nil {
				return nil, err
			}
		}
		for _, ch := range also {
			if err := record(sys, c, v, ch); err != nil {
				return nil, err
			}
		}
		return val, nil
	})
}

// ownReplay reports whether a new RequestReplay is the viewer's own.
func ownReplay(v *access.Viewer, m *gen.RequestReplayMutation) bool {
	caller, _ := m.Caller()
	return caller == ReplayCaller(v)
}

// ReplayCaller names the viewer in its RequestReplay records.
func ReplayCaller(v *access.Viewer) string {
	if v == nil {
		return ""
	}
	return string(v.Kind) + ":" + v.ID.String()
}

// idOf returns the id of a single-record mutation.
func idOf(m ent.Mutation) (uuid.UUID, bool) {
	im, ok := m.(interface{ ID() (uuid.UUID, bool) })
	if !ok {
		return uuid.Nil, false
	}
	return im.ID()
}

// mutationIDs returns the ids a many-records mutation is about to change.
func mutationIDs(ctx context.Context, m ent.Mutation) ([]uuid.UUID, error) {
	im, ok := m.(interface {
		IDs(context.Context) ([]uuid.UUID, error)
	})
	if !ok {
		return nil, fmt.Errorf("%s mutation has no IDs", m.Type())
	}
	return im.IDs(ctx)
}

// target returns the bank a single-record change is at and, for a new
// record of a customer, the customer; NOT_FOUND when the record, bank or
// customer does not exist for the viewer.
func target(ctx context.Context, c *gen.Client, m ent.Mutation) (bankID, customerID uuid.UUID, err error) {
	v := access.FromContext(ctx)
	if m.Op().Is(ent.OpCreate) {
		if f, ok := m.Field("customer_id"); ok {
			customerID, _ = f.(uuid.UUID)
		}
		switch m.Type() {
		case gen.TypeBank, gen.TypeUser, gen.TypeAPIClient:
			return uuid.Nil, uuid.Nil, nil
		case gen.TypeCustomer, gen.TypeCrmEvent, gen.TypeEntitlement:
			f, _ := m.Field("bank_id")
			bankID, _ = f.(uuid.UUID)
			if bankID == uuid.Nil {
				return uuid.Nil, uuid.Nil, nil
			}
			// Banks are public (policy.go): an unknown bank is not found,
			// a known one is refused by the role check if need be.
			known, err := c.Bank.Query().Where(bank.ID(bankID)).Exist(ctx)
			if err != nil {
				return uuid.Nil, uuid.Nil, err
			}
			if !known {
				return uuid.Nil, uuid.Nil, apperr.NotFoundf("bank_id", "bank %s does not exist", bankID)
			}
			return bankID, customerID, nil // a CRM event's customer, if any
		}
		// A record of a customer: at the customer's bank.
		cu, err := CustomerRef(ctx, c, customerID)
		if err != nil {
			return uuid.Nil, uuid.Nil, err
		}
		return cu.BankID, customerID, nil
	}
	switch m.Type() {
	case gen.TypeUser, gen.TypeAPIClient, gen.TypeEntitlement:
		if !v.Has(access.CanManageCallers, uuid.Nil) {
			// Callers are not data of a bank, and CanManageCallers is held
			// everywhere or nowhere: without it, a change of any caller's
			// record is FORBIDDEN, whatever the record (its own included,
			// which it may read), as creating one is; it tells nothing of
			// whether the record exists.
			return uuid.Nil, uuid.Nil, access.Missing("", access.CanManageCallers)
		}
	}
	id, _ := idOf(m)
	bankID, customerID, err = bankOf(ctx, c, m.Type(), id)
	// Callers' records (checked above) and banks (public reference data)
	// are not confined to the viewer's scope.
	unscoped := m.Type() == gen.TypeUser || m.Type() == gen.TypeAPIClient || m.Type() == gen.TypeEntitlement ||
		m.Type() == gen.TypeBank
	if gen.IsNotFound(err) || (err == nil && bankID != uuid.Nil && !unscoped && !v.Scope().Contains(bankID)) {
		// What ent answers for an unknown id: a record of another bank and
		// a record that does not exist look the same.
		return uuid.Nil, uuid.Nil, apperr.NotFoundf("", "%s not found", label(m.Type()))
	}
	return bankID, customerID, err
}

// CustomerRef returns customer id as a caller adding a record to it may
// know it, with only its id, bank_id and customer_number loaded (the rule
// guard applies to every new record of a customer): NOT_FOUND when the
// customer does not exist or is at a bank outside the viewer's scope,
// whether or not the viewer may read customers. The OBP routes use it for
// OBP's customer check, which OBP makes without CanGetCustomer (a caller
// holding CanCreateCustomerAddress alone adds addresses, and OBP shows the
// customer's number with its social media handles).
func CustomerRef(ctx context.Context, c *gen.Client, id uuid.UUID) (*gen.Customer, error) {
	v := access.FromContext(ctx)
	if v == nil {
		return nil, access.ErrUnauthenticated
	}
	sys := privacy.DecisionContext(ctx, privacy.Allow)
	cu, err := c.Customer.Query().Where(customer.ID(id)).
		Select(customer.FieldBankID, customer.FieldCustomerNumber).Only(sys)
	if gen.IsNotFound(err) || (err == nil && !v.Scope().Contains(cu.BankID)) {
		return nil, apperr.NotFoundf("customer_id", "customer %s does not exist", id)
	}
	return cu, err
}

// CustomerHasUser reports whether customer id, which the viewer reaches
// (CustomerRef), is linked to a user: OBP's check before a message is
// added to a customer (OBP-30008), made whatever links the viewer may read.
func CustomerHasUser(ctx context.Context, c *gen.Client, id uuid.UUID) (bool, error) {
	if _, err := CustomerRef(ctx, c, id); err != nil {
		return false, err
	}
	return c.UserCustomerLink.Query().Where(usercustomerlink.CustomerID(id)).Exist(privacy.DecisionContext(ctx, privacy.Allow))
}

// bankOf returns the bank of an existing record (uuid.Nil for records of
// no bank) and the customer it is of (uuid.Nil for none), or a
// *gen.NotFoundError.
func bankOf(ctx context.Context, c *gen.Client, typ string, id uuid.UUID) (bankID, customerID uuid.UUID, err error) {
	var cq *gen.CustomerQuery
	switch typ {
	case gen.TypeBank:
		_, err := c.Bank.Query().Where(bank.ID(id)).OnlyID(ctx)
		return id, uuid.Nil, err
	case gen.TypeCustomer:
		cq = c.Customer.Query().Where(customer.ID(id))
	case gen.TypeCrmEvent:
		e, err := c.CrmEvent.Query().Where(crmevent.ID(id)).Select(crmevent.FieldBankID, crmevent.FieldCustomerID).Only(ctx)
		if err != nil {
			return uuid.Nil, uuid.Nil, err
		}
		if e.CustomerID != nil {
			customerID = *e.CustomerID
		}
		return e.BankID, customerID, nil
	case gen.TypeUserCustomerLink:
		l, err := c.UserCustomerLink.Query().Where(usercustomerlink.ID(id)).
			Select(usercustomerlink.FieldBankID, usercustomerlink.FieldCustomerID).Only(ctx)
		if err != nil {
			return uuid.Nil, uuid.Nil, err
		}
		return l.BankID, l.CustomerID, nil
	case gen.TypeEntitlement:
		e, err := c.Entitlement.Query().Where(entitlement.ID(id)).Select(entitlement.FieldBankID).Only(ctx)
		if err != nil || e.BankID == nil {
			return uuid.Nil, uuid.Nil, err
		}
		return *e.BankID, uuid.Nil, nil
	case gen.TypeAPIClient:
		_, err := c.APIClient.Query().Where(apiclient.ID(id)).OnlyID(ctx)
		return uuid.Nil, uuid.Nil, err
	case gen.TypeUser:
		_, err := c.User.Get(ctx, id)
		return uuid.Nil, uuid.Nil, err
	case gen.TypeProduct:
		cq = c.Product.Query().Where(product.ID(id)).QueryCustomer()
	case gen.TypeAddress:
		cq = c.Address.Query().Where(address.ID(id)).QueryCustomer()
	case gen.TypeTaxResidence:
		cq = c.TaxResidence.Query().Where(taxresidence.ID(id)).QueryCustomer()
	case gen.TypeSocialHandle:
		cq = c.SocialHandle.Query().Where(socialhandle.ID(id)).QueryCustomer()
	case gen.TypeCustomerAttribute:
		cq = c.CustomerAttribute.Query().Where(customerattribute.ID(id)).QueryCustomer()
	case gen.TypeCustomerMessage:
		cq = c.CustomerMessage.Query().Where(customermessage.ID(id)).QueryCustomer()
	default:
		return uuid.Nil, uuid.Nil, fmt.Errorf("no bank rule for %s", typ)
	}
	cu, err := cq.Select(customer.FieldBankID).Only(ctx)
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	return cu.BankID, cu.ID, nil
}

// heldAnywhere is the answer to a change of a record target did not find
// for the viewer, when the viewer holds the change's role at no bank at
// all: FORBIDDEN naming the roles (without a bank), rather than "not
// found". It is the same answer for a record of another bank and for one
// that does not exist, so it tells nothing of the record; a viewer that
// holds the role at some bank is told the record is not found. Callers'
// records keep their own rule (not found), banks are public (authorize).
func heldAnywhere(v *access.Viewer, m ent.Mutation) error {
	switch m.Type() {
	case gen.TypeUser, gen.TypeAPIClient, gen.TypeEntitlement, gen.TypeBank:
		return nil
	}
	roles, ok := WriteRoles[m.Type()][m.Op()]
	if !ok {
		return nil // authorize refuses it
	}
	need := [][]access.Role{roles}
	if m.Type() == gen.TypeCustomer && m.Op().Is(ent.OpUpdateOne) && v.BanksWith(access.CanUpdateCustomer).Empty() {
		need = nil
		for _, f := range changedFields(m) {
			need = append(need, append(slices.Clone(FieldRoles[f]), access.CanUpdateCustomer))
		}
		if len(need) == 0 {
			need = [][]access.Role{roles}
		}
	}
	for _, roles := range need {
		if v.BanksWith(roles...).Empty() {
			return access.Missing("", roles...)
		}
	}
	return nil
}

// authorize checks that v holds the roles m needs at bankID.
func authorize(ctx context.Context, c *gen.Client, v *access.Viewer, m ent.Mutation, bankID uuid.UUID) error {
	roles, ok := WriteRoles[m.Type()][m.Op()]
	if !ok {
		return &apperr.Error{Code: apperr.Forbidden, Message: fmt.Sprintf("%s %s is not allowed", m.Op(), m.Type())}
	}
	need := [][]access.Role{roles}
	if m.Type() == gen.TypeCustomer && m.Op().Is(ent.OpUpdateOne) && !v.Has(access.CanUpdateCustomer, bankID) {
		// Field by field, OBP's way (each field's roles, or CanUpdateCustomer).
		need = nil
		for _, f := range changedFields(m) {
			need = append(need, append(slices.Clone(FieldRoles[f]), access.CanUpdateCustomer))
		}
		if len(need) == 0 { // an update that sets nothing still needs a role
			need = [][]access.Role{roles}
		}
	}
	for _, roles := range need {
		if !v.HasAny(bankID, roles...) {
			code := ""
			if bankID != uuid.Nil {
				if b, err := c.Bank.Get(ctx, bankID); err == nil {
					code = b.Code
				}
			}
			return access.Missing(code, roles...)
		}
	}
	return nil
}

// audit records one change of one record, of customerID (uuid.Nil: of no
// customer; a customer's own changes are of itself).
func audit(ctx context.Context, c *gen.Client, v *access.Viewer, m ent.Mutation, id, bankID, customerID uuid.UUID) error {
	op := auditevent.OperationUpdate
	switch {
	case m.Op().Is(ent.OpCreate):
		op = auditevent.OperationCreate
	case m.Op().Is(ent.OpDelete | ent.OpDeleteOne):
		op = auditevent.OperationDelete
	}
	if m.Type() == gen.TypeCustomer {
		customerID = id
	}
	return record(ctx, c, v, change{op, m.Type(), id, bankID, customerID, changedFields(m)})
}

// change is one audited change of one record.
type change struct {
	op       auditevent.Operation
	typ      string
	id       uuid.UUID
	bank     uuid.UUID
	customer uuid.UUID // the customer the record is of; uuid.Nil for none
	fields   []string
}

// record writes the AuditEvent of one change.
func record(ctx context.Context, c *gen.Client, v *access.Viewer, ch change) error {
	e := c.AuditEvent.Create().
		SetActorKind(auditevent.ActorKind(v.Kind)).
		SetActorName(v.Name).
		SetRequestorID(v.RequestorID).
		SetRequestID(truncate(v.RequestID, 200)).
		SetOperation(ch.op).
		SetEntityType(ch.typ).
		SetEntityID(ch.id).
		SetFields(ch.fields)
	if v.ID != uuid.Nil {
		e.SetActorID(v.ID)
	}
	if ch.bank != uuid.Nil {
		e.SetBankID(ch.bank)
	}
	if ch.customer != uuid.Nil {
		e.SetCustomerID(ch.customer)
	}
	ev, err := e.Save(ctx)
	if err != nil {
		return err
	}
	if c.Dialect() == dialect.SQLite {
		// SQLite runs one write at a time, and this statement runs in the
		// change's (so its numbers follow the commit order); PostgreSQL
		// fills txid itself (AuditEvent).
		if _, err := c.ExecContext(ctx, sqliteSeq, ev.ID); err != nil {
			return err
		}
	}
	// Wakes the change stream's readers once the change has committed
	// (one signal per transaction: the same signal twice is sent once).
	return notify.Send(ctx, c, notify.Changes, notify.All)
}

// sqliteSeq gives an audit event of SQLite the next number of the change
// stream: one statement, atomic under SQLite's single write lock.
const sqliteSeq = "UPDATE audit_events SET txid = (SELECT COALESCE(MAX(txid), 0) + 1 FROM audit_events) WHERE id = ?"

// cascaded lists what the database changes along with the deletion of a
// record (ON DELETE CASCADE, and SET NULL on a CRM event's customer), so
// that each of those changes gets its own audit event too.
func cascaded(ctx context.Context, c *gen.Client, typ string, id, bankID uuid.UUID) ([]change, error) {
	if err := lockForDelete(ctx, c, typ, id); err != nil {
		return nil, err
	}
	var out []change
	del := func(typ string, query func(context.Context) ([]uuid.UUID, error)) error {
		ids, err := query(ctx)
		for _, cid := range ids {
			out = append(out, change{auditevent.OperationDelete, typ, cid, bankID, id, nil}) // of customer id
		}
		return err
	}
	ents := func(q *gen.EntitlementQuery) error {
		es, err := q.Select(entitlement.FieldID, entitlement.FieldBankID).All(ctx)
		for _, e := range es {
			b := uuid.Nil
			if e.BankID != nil {
				b = *e.BankID
			}
			out = append(out, change{auditevent.OperationDelete, gen.TypeEntitlement, e.ID, b, uuid.Nil, nil})
		}
		return err
	}
	links := func(q *gen.UserCustomerLinkQuery) error {
		ls, err := q.Select(usercustomerlink.FieldID, usercustomerlink.FieldBankID, usercustomerlink.FieldCustomerID).All(ctx)
		for _, l := range ls {
			out = append(out, change{auditevent.OperationDelete, gen.TypeUserCustomerLink, l.ID, l.BankID, l.CustomerID, nil})
		}
		return err
	}
	var err error
	switch typ {
	case gen.TypeCustomer:
		err = errors.Join(
			del(gen.TypeAddress, c.Address.Query().Where(address.CustomerID(id)).IDs),
			del(gen.TypeTaxResidence, c.TaxResidence.Query().Where(taxresidence.CustomerID(id)).IDs),
			del(gen.TypeSocialHandle, c.SocialHandle.Query().Where(socialhandle.CustomerID(id)).IDs),
			del(gen.TypeCustomerAttribute, c.CustomerAttribute.Query().Where(customerattribute.CustomerID(id)).IDs),
			del(gen.TypeCustomerMessage, c.CustomerMessage.Query().Where(customermessage.CustomerID(id)).IDs),
			links(c.UserCustomerLink.Query().Where(usercustomerlink.CustomerID(id))),
		)
		crm, cerr := c.CrmEvent.Query().Where(crmevent.CustomerID(id)).IDs(ctx)
		for _, e := range crm {
			out = append(out, change{auditevent.OperationUpdate, gen.TypeCrmEvent, e, bankID, id, []string{crmevent.FieldCustomerID}})
		}
		err = errors.Join(err, cerr)
	case gen.TypeUser:
		err = errors.Join(links(c.UserCustomerLink.Query().Where(usercustomerlink.UserID(id))),
			ents(c.Entitlement.Query().Where(entitlement.UserID(id))))
	case gen.TypeAPIClient:
		err = ents(c.Entitlement.Query().Where(entitlement.APIClientID(id)))
	}
	return out, err
}

// lockForDelete takes the row of a record about to be deleted with its
// dependents (FOR UPDATE, on PostgreSQL) before cascaded lists them: a
// dependent inserted meanwhile needs the row's KEY SHARE lock, so it waits
// for the delete (and then finds its parent gone), and one inserted but not
// yet committed holds it, so the delete waits for it and lists it. Unlocked,
// an address committed between the listing and the DELETE went with the
// customer (ON DELETE CASCADE) without a delete event in the change stream
// (8 of 40 deleteCustomer and createAddress races in an outside check).
func lockForDelete(ctx context.Context, c *gen.Client, typ string, id uuid.UUID) error {
	if c.Dialect() != dialect.Postgres {
		return nil
	}
	var err error
	switch typ {
	case gen.TypeCustomer:
		_, err = c.Customer.Query().Where(customer.ID(id)).ForUpdate().IDs(ctx)
	case gen.TypeUser:
		_, err = c.User.Query().Where(user.ID(id)).ForUpdate().IDs(ctx)
	case gen.TypeAPIClient:
		_, err = c.APIClient.Query().Where(apiclient.ID(id)).ForUpdate().IDs(ctx)
	}
	return err
}

// Hooks of Entitlement.
func (Entitlement) Hooks() []ent.Hook {
	return []ent.Hook{hook.On(entitlementRules, ent.OpCreate)}
}

// entitlementRules: one holder; a bank for bank roles and none for system
// roles; a client bound to a bank gets roles at that bank only (and no
// system role but the AtAnyBank variants, which its binding narrows).
func entitlementRules(next ent.Mutator) ent.Mutator {
	return hook.EntitlementFunc(func(ctx context.Context, m *gen.EntitlementMutation) (ent.Value, error) {
		role, _ := m.RoleName()
		clientID, byClient := m.APIClientID()
		userID, byUser := m.UserID()
		bankID, atBank := m.BankID()
		holder := clientID
		switch {
		case byClient == byUser:
			return nil, apperr.Invalid("api_client_id", "give exactly one of apiClientID and userID")
		case byUser:
			holder = userID
		}
		if err := knownRole(role); err != nil {
			return nil, apperr.Invalid("role_name", "%v", err)
		}
		system := access.IsSystem(access.Role(role))
		switch {
		case system && atBank:
			return nil, apperr.Invalid("bank_id", "%s is a system role: it takes no bank", role)
		case !system && !atBank:
			return nil, apperr.Invalid("bank_id", "%s is granted at a bank: give bankID (or use %s)", role, access.AtAnyBank(access.Role(role)))
		}
		if byClient {
			cl, err := m.Client().APIClient.Get(ctx, clientID)
			if gen.IsNotFound(err) {
				return nil, apperr.NotFoundf("api_client_id", "API client %s does not exist", clientID)
			}
			if err != nil {
				return nil, err
			}
			if cl.BankID != nil {
				if atBank && bankID != *cl.BankID {
					return nil, apperr.Invalid("bank_id", "the client is bound to another bank")
				}
				if slices.Contains(access.SystemRoles(), access.Role(role)) {
					return nil, apperr.Invalid("role_name", "a client bound to a bank cannot hold the system role %s", role)
				}
			}
		}
		scope := "*"
		if atBank {
			scope = bankID.String()
		}
		m.SetGrantKey(holder.String() + "|" + role + "|" + scope)
		return next.Mutate(ctx, m)
	})
}

// label is ent's label of an entity type (CustomerAttribute → customer_attribute).
func label(typ string) string {
	var b strings.Builder
	for i, r := range typ {
		if unicode.IsUpper(r) {
			if i > 0 && (!unicode.IsUpper(rune(typ[i-1])) || (i+1 < len(typ) && unicode.IsLower(rune(typ[i+1])))) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// changedFields lists the fields a mutation sets, clears or appends to,
// sorted, without the timestamps and keys ent maintains itself.
func changedFields(m ent.Mutation) []string {
	fields := append(m.Fields(), m.ClearedFields()...)
	for name, appended := range map[string]func() bool{
		"labels":            func() bool { cm, ok := m.(*gen.CustomerMutation); return ok && has(cm.AppendedLabels) },
		"dob_of_dependants": func() bool { cm, ok := m.(*gen.CustomerMutation); return ok && has(cm.AppendedDobOfDependants) },
		"tags":              func() bool { am, ok := m.(*gen.AddressMutation); return ok && has(am.AppendedTags) },
		"proxy_ids":         func() bool { pm, ok := m.(*gen.ProductMutation); return ok && has(pm.AppendedProxyIds) },
	} {
		if appended() && !slices.Contains(fields, name) {
			fields = append(fields, name)
		}
	}
	fields = slices.DeleteFunc(fields, func(f string) bool {
		return f == "created_at" || f == "updated_at" || f == "grant_key"
	})
	slices.Sort(fields)
	return fields
}

func has[T any](appended func() (T, bool)) bool {
	_, ok := appended()
	return ok
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
