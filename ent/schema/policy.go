package schema

import (
	"context"
	"fmt"

	"entgo.io/ent"
	"github.com/google/uuid"

	gen "custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/apiclient"
	"custgraph/ent/auditevent"
	"custgraph/ent/crmevent"
	"custgraph/ent/customer"
	"custgraph/ent/customerattribute"
	"custgraph/ent/customermessage"
	"custgraph/ent/entitlement"
	"custgraph/ent/privacy"
	"custgraph/ent/product"
	"custgraph/ent/requestreplay"
	"custgraph/ent/socialhandle"
	"custgraph/ent/taxresidence"
	"custgraph/ent/user"
	"custgraph/ent/usercustomerlink"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
)

// This file is the read half of access control: every query of every
// entity, whichever door it comes through (GraphQL root lists, nested
// edges, node/nodes, counts; REST), passes the rule below, which
// narrows it to the banks where the viewer holds the entity's read role. A
// record of another bank is then simply not found. Banks themselves are
// the exception: public reference data to every authenticated caller. A viewer that holds the
// read role nowhere is refused with FORBIDDEN naming the role; one that is
// not logged in with UNAUTHENTICATED. The write half is guard, in
// hooks_access.go.

// Policy of BaseMixin: the read rule of every entity.
func (BaseMixin) Policy() ent.Policy {
	return privacy.Policy{Query: privacy.QueryPolicy{privacy.QueryRuleFunc(readRule)}}
}

// ReadRoles are the roles that let a viewer read each entity (any one of
// them, at the record's bank); entities not listed are read by scope (any
// entitlement at the bank) or by the rules in readRule.
var ReadRoles = map[string][]access.Role{
	gen.TypeCustomer:          {access.CanGetCustomer},
	gen.TypeProduct:           {access.CanGetCustomerProduct},
	gen.TypeAddress:           {access.CanGetCustomerAddress},
	gen.TypeTaxResidence:      {access.CanGetTaxResidence},
	gen.TypeSocialHandle:      {access.CanGetSocialMediaHandles},
	gen.TypeCustomerAttribute: {access.CanGetCustomerAttributeAtOneBank, access.CanGetCustomer},
	gen.TypeCustomerMessage:   {access.CanGetCustomerMessages},
	gen.TypeUserCustomerLink:  {access.CanGetUserCustomerLink},
	gen.TypeAuditEvent:        {access.CanReadAuditEvents},
}

func readRule(ctx context.Context, q ent.Query) error {
	v := access.FromContext(ctx)
	if v == nil {
		return access.ErrUnauthenticated
	}
	if v.IsSystem() {
		return privacy.Allow
	}
	manager := v.Has(access.CanManageCallers, uuid.Nil)
	switch q := q.(type) {
	case *gen.BankQuery:
		// Banks are public reference data, as OBP's GET /banks: every
		// authenticated caller, bound or not, with or without roles, sees
		// every bank's id, code and name, in every door. Nothing under a
		// bank comes with it: its customers and CRM events are read
		// through their own queries, which pass their own rules below.
		return privacy.Allow
	case *gen.CrmEventQuery:
		if s := v.Scope(); !s.All {
			q.Where(crmevent.BankIDIn(s.IDs...))
		}
	case *gen.CustomerQuery:
		if firehose(ctx) && v.Has(access.CanUseCustomerFirehoseAtAnyBank, uuid.Nil) {
			return privacy.Allow // OBP's customer firehose (a system role; never a confined caller)
		}
		b := v.BanksWith(ReadRoles[gen.TypeCustomer]...)
		switch {
		case b.All:
		case v.Kind == access.KindUser && ownCustomers(ctx): // a user reads the customers it is linked to (OBP "customers of the current user")
			own := customer.HasUserLinksWith(usercustomerlink.UserID(v.ID))
			if len(b.IDs) > 0 {
				own = customer.Or(own, customer.BankIDIn(b.IDs...))
			}
			q.Where(own)
			if v.Bank != nil { // …at the bank it is confined to
				q.Where(customer.BankID(*v.Bank))
			}
		case len(b.IDs) == 0:
			return access.Missing("", ReadRoles[gen.TypeCustomer]...)
		default:
			q.Where(customer.BankIDIn(b.IDs...))
		}
	case *gen.ProductQuery:
		b, err := banks(v, gen.TypeProduct)
		if err != nil || b.All {
			return err
		}
		q.Where(product.HasCustomerWith(customer.BankIDIn(b.IDs...)))
	case *gen.AddressQuery:
		b, err := banks(v, gen.TypeAddress)
		if err != nil || b.All {
			return err
		}
		q.Where(address.HasCustomerWith(customer.BankIDIn(b.IDs...)))
	case *gen.TaxResidenceQuery:
		b, err := banks(v, gen.TypeTaxResidence)
		if err != nil || b.All {
			return err
		}
		q.Where(taxresidence.HasCustomerWith(customer.BankIDIn(b.IDs...)))
	case *gen.SocialHandleQuery:
		b, err := banks(v, gen.TypeSocialHandle)
		if err != nil || b.All {
			return err
		}
		q.Where(socialhandle.HasCustomerWith(customer.BankIDIn(b.IDs...)))
	case *gen.CustomerAttributeQuery:
		b := v.BanksWith(ReadRoles[gen.TypeCustomerAttribute]...)
		switch {
		case b.All:
		case v.Kind == access.KindUser && ownCustomers(ctx): // …and those customers' attributes
			own := customer.HasUserLinksWith(usercustomerlink.UserID(v.ID))
			if len(b.IDs) > 0 {
				own = customer.Or(own, customer.BankIDIn(b.IDs...))
			}
			if v.Bank != nil {
				own = customer.And(own, customer.BankID(*v.Bank))
			}
			q.Where(customerattribute.HasCustomerWith(own))
		case len(b.IDs) == 0:
			return access.Missing("", ReadRoles[gen.TypeCustomerAttribute]...)
		default:
			q.Where(customerattribute.HasCustomerWith(customer.BankIDIn(b.IDs...)))
		}
	case *gen.CustomerMessageQuery:
		b, err := banks(v, gen.TypeCustomerMessage)
		if err != nil || b.All {
			return err
		}
		q.Where(customermessage.HasCustomerWith(customer.BankIDIn(b.IDs...)))
	case *gen.UserCustomerLinkQuery:
		b := v.BanksWith(ReadRoles[gen.TypeUserCustomerLink]...)
		switch {
		case b.All:
		case v.Kind == access.KindUser: // a user sees its own links (OBP "customers of the current user")
			q.Where(usercustomerlink.Or(usercustomerlink.UserID(v.ID), usercustomerlink.BankIDIn(b.IDs...)))
			if v.Bank != nil { // …at the bank it is confined to
				q.Where(usercustomerlink.BankID(*v.Bank))
			}
		case len(b.IDs) == 0:
			return access.Missing("", ReadRoles[gen.TypeUserCustomerLink]...)
		default:
			q.Where(usercustomerlink.BankIDIn(b.IDs...))
		}
	case *gen.UserQuery:
		if manager {
			return privacy.Allow
		}
		// Anyone sees itself; holders of CanGetUserCustomerLink see the
		// users linked to customers of their banks.
		b := v.BanksWith(ReadRoles[gen.TypeUserCustomerLink]...)
		linked := user.HasCustomerLinksWith(usercustomerlink.BankIDIn(b.IDs...))
		if b.All {
			linked = user.HasCustomerLinks()
		}
		q.Where(user.Or(user.ID(self(v, access.KindUser)), linked))
	case *gen.APIClientQuery:
		if manager {
			return privacy.Allow
		}
		q.Where(apiclient.ID(self(v, access.KindClient)))
	case *gen.EntitlementQuery:
		if manager {
			return privacy.Allow
		}
		id := v.ID
		if v.Kind == access.KindClient {
			q.Where(entitlement.APIClientID(id))
		} else {
			q.Where(entitlement.UserID(id))
		}
	case *gen.AuditEventQuery:
		b, err := banks(v, gen.TypeAuditEvent)
		if err != nil || b.All {
			return err
		}
		q.Where(auditevent.BankIDIn(b.IDs...))
	case *gen.RequestReplayQuery:
		q.Where(requestreplay.Caller(ReplayCaller(v)))
	default: // signing keys, and anything added without a rule
		return &apperr.Error{Code: apperr.Forbidden, Message: fmt.Sprintf("%T is not readable", q)}
	}
	return privacy.Skip
}

type firehoseKey struct{}

// Firehose marks ctx's customer reads as OBP's customer firehose: a caller
// holding CanUseCustomerFirehoseAtAnyBank reads every bank's customers
// through it (and nothing else through that role).
func Firehose(ctx context.Context) context.Context {
	return context.WithValue(ctx, firehoseKey{}, true)
}

func firehose(ctx context.Context) bool { b, _ := ctx.Value(firehoseKey{}).(bool); return b }

type ownCustomersKey struct{}

// OwnCustomers marks ctx's reads as OBP's "customers of the current user":
// a user reads there, without any role, the customers it is linked to
// (UserCustomerLink) and their attributes. Elsewhere a user
// needs the read roles like any caller, so a link alone opens no other
// door. Linking oneself needs CanGetCustomer (UserCustomerLink's rules).
func OwnCustomers(ctx context.Context) context.Context {
	return context.WithValue(ctx, ownCustomersKey{}, true)
}

func ownCustomers(ctx context.Context) bool { b, _ := ctx.Value(ownCustomersKey{}).(bool); return b }

// banks returns the banks where v may read typ, or FORBIDDEN when there
// are none.
func banks(v *access.Viewer, typ string) (access.Banks, error) {
	b := v.BanksWith(ReadRoles[typ]...)
	if b.Empty() {
		return b, access.Missing("", ReadRoles[typ]...)
	}
	return b, nil
}

// self is v's own id when v is of kind k, else an id that matches nothing.
func self(v *access.Viewer, k access.Kind) uuid.UUID {
	if v.Kind == k {
		return v.ID
	}
	return uuid.Nil
}
