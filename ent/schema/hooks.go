package schema

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	gen "custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/bank"
	"custgraph/ent/crmevent"
	"custgraph/ent/customer"
	"custgraph/ent/customerattribute"
	"custgraph/ent/hook"
	"custgraph/ent/predicate"
	"custgraph/ent/product"
	"custgraph/ent/user"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/validate"
)

// This file holds the invariants that span more than one field or record.
// They run inside the mutation's transaction, so every door (GraphQL, REST)
// gets them and a failing rule leaves nothing written.

// --- every entity ---------------------------------------------------------

// Hooks of BaseMixin.
func (BaseMixin) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(lockOld, ent.OpUpdateOne),
		guard,
		callerSignals,
		hook.On(stampFromID, ent.OpCreate),
		hook.On(noNUL, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
		hook.On(oneChangePerField, ent.OpUpdate|ent.OpUpdateOne),
		hook.On(storableTimes, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne), // after: setting a list drops what was to be appended
	}
}

// lockOld makes an update of one record read its old values with the row
// locked (FOR NO KEY UPDATE, which inserts referring to the row do not wait
// for) on PostgreSQL, until the transaction ends. The rules below that
// decide from the old values (derived legal names and address lines, status
// transitions) otherwise decided from the row as it was before a concurrent
// update committed: an OBP identity update racing a bankingservice.ai PUT
// left legal_name split from the names for good. Locked, the second update
// waits and reads the first one's result. The lock rides on the statement
// that reads the old values (ent/template/lockold.tmpl); an update that reads
// none takes none. It runs first, before any hook reads an old value.
// (SQLite runs one write at a time.)
func lockOld(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		if lm, ok := m.(interface{ LockOld(...sql.LockOption) }); ok {
			if c := clientOf(m); c != nil && c.Dialect() == dialect.Postgres {
				lm.LockOld(sql.WithLockClause("FOR NO KEY UPDATE"))
			}
		}
		return next.Mutate(ctx, m)
	})
}

// oneChangePerField refuses an update that changes one field two ways:
// set and cleared (email with clearEmail: true), or a list set or cleared
// and appended to (labels with appendLabels). ent would write one of them
// and drop the other without a word (labels: ["new"] with appendLabels:
// ["app"] left ["old", "app"]), while the answer said the change was made.
func oneChangePerField(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		for _, f := range m.ClearedFields() {
			if _, ok := m.Field(f); ok {
				return nil, apperr.Invalid(f, "set and cleared in the same change: send one of them")
			}
		}
		for _, f := range appendedFields(m) {
			if _, ok := m.Field(f); ok || m.FieldCleared(f) {
				return nil, apperr.Invalid(f, "replaced and appended to in the same change: send one of them")
			}
		}
		return next.Mutate(ctx, m)
	})
}

// appendedFields are m's list fields with values to append (ent's
// Appended… of every list field a change may append to; the test
// TestEveryAppendIsChecked keeps the list whole).
func appendedFields(m ent.Mutation) []string {
	var out []string
	add := func(field string, n int, ok bool) {
		if ok && n > 0 {
			out = append(out, field)
		}
	}
	switch m := m.(type) {
	case *gen.CustomerMutation:
		v, ok := m.AppendedLabels()
		add(customer.FieldLabels, len(v), ok)
		d, ok := m.AppendedDobOfDependants()
		add(customer.FieldDobOfDependants, len(d), ok)
	case *gen.AddressMutation:
		v, ok := m.AppendedTags()
		add(address.FieldTags, len(v), ok)
	case *gen.ProductMutation:
		v, ok := m.AppendedProxyIds()
		add(product.FieldProxyIds, len(v), ok)
	case *gen.AuditEventMutation:
		v, ok := m.AppendedFields()
		add("fields", len(v), ok)
	}
	return out
}

// noNUL refuses text with NUL characters in every string field: PostgreSQL
// cannot store them and SQLite would, so both databases answer alike.
func noNUL(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		for _, name := range m.Fields() {
			v, _ := m.Field(name)
			var texts []string
			switch v := v.(type) {
			case string:
				texts = []string{v}
			case []string:
				texts = v
			}
			for _, s := range texts {
				if strings.ContainsRune(s, 0) {
					return nil, apperr.Invalid(name, "text must not contain NUL characters")
				}
			}
		}
		return next.Mutate(ctx, m)
	})
}

// storableTimes keeps every time a change writes to what both databases
// store and every door can answer: years 0001 to 9999 in UTC (RFC 3339's
// four-digit year; SQLite stored 10000-01-01, then could not read the row
// back, and every list over it failed), to the microsecond (PostgreSQL's
// precision: SQLite kept nanoseconds, and a time 1 ns after the zero time
// read back as no value on PostgreSQL). A time is refused out of range and
// cut to the microsecond within it.
func storableTimes(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		for _, name := range m.Fields() {
			v, _ := m.Field(name)
			switch v := v.(type) {
			case time.Time:
				t, err := storableTime(name, v)
				if err != nil {
					return nil, err
				}
				if !t.Equal(v) || v.Location() != time.UTC {
					if err := m.SetField(name, t); err != nil {
						return nil, err
					}
				}
			case []time.Time:
				out, changed := make([]time.Time, len(v)), false
				for i, x := range v {
					t, err := storableTime(name, x)
					if err != nil {
						return nil, err
					}
					out[i], changed = t, changed || !t.Equal(x) || x.Location() != time.UTC
				}
				if changed {
					if err := m.SetField(name, out); err != nil {
						return nil, err
					}
				}
			}
		}
		if cm, ok := m.(*gen.CustomerMutation); ok {
			added, _ := cm.AppendedDobOfDependants()
			out, changed := make([]time.Time, len(added)), false
			for i, x := range added {
				t, err := storableTime(customer.FieldDobOfDependants, x)
				if err != nil {
					return nil, err
				}
				out[i], changed = t, changed || !t.Equal(x) || x.Location() != time.UTC
			}
			if changed { // (nothing else is pending on the list: oneChangePerField ran before)
				cm.ResetDobOfDependants()
				cm.AppendDobOfDependants(out)
			}
		}
		return next.Mutate(ctx, m)
	})
}

// storableTime is t in UTC to the microsecond, or field's error when its
// year in UTC is outside 0001-9999.
func storableTime(field string, t time.Time) (time.Time, error) {
	if !validate.StorableTime(t) {
		return time.Time{}, apperr.Invalid(field, "a time must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, got %s", t.Format(time.RFC3339Nano))
	}
	u := t.UTC().Truncate(time.Microsecond)
	if u.IsZero() {
		return time.Time{}, apperr.Invalid(field, "the zero time 0001-01-01T00:00:00Z is no value: clear the field instead")
	}
	return u, nil
}

// stampFromID sets created_at (and updated_at) to the millisecond encoded in
// the record's UUIDv7 id, so ordering by (created_at, id), the default order of
// every list, and ordering by id alone are the same order.
func stampFromID(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		im, ok := m.(interface{ ID() (uuid.UUID, bool) })
		if !ok {
			return next.Mutate(ctx, m)
		}
		id, ok := im.ID()
		if !ok || id.Version() != 7 {
			return next.Mutate(ctx, m)
		}
		sec, nsec := id.Time().UnixTime()
		t := time.Unix(sec, nsec).UTC()
		if err := m.SetField("created_at", t); err != nil {
			return nil, err
		}
		if err := m.SetField("updated_at", t); err != nil {
			return nil, err
		}
		return next.Mutate(ctx, m)
	})
}

// list returns the value a JSON list field will have after the mutation and
// whether the mutation touches it.
func list[T any](ctx context.Context, op ent.Op, set func() ([]T, bool), appended func() ([]T, bool), cleared bool,
	old func(context.Context) ([]T, error)) ([]T, bool, error) {
	v, isSet := set()
	add, isAppend := appended()
	switch {
	case cleared && !isSet && !isAppend:
		return nil, true, nil
	case !isSet && !isAppend:
		return nil, false, nil
	case !isAppend:
		return v, true, nil
	case op.Is(ent.OpUpdate):
		return nil, false, errors.New("appending to a list is not supported in bulk updates")
	}
	if !isSet && !cleared && op.Is(ent.OpUpdateOne) {
		o, err := old(ctx)
		if err != nil {
			return nil, false, err
		}
		v = o
	}
	return append(append([]T(nil), v...), add...), true, nil
}

// lockedOld returns what list reads as a row's stored list before an
// append (old's answer), read afresh under a row lock on PostgreSQL (FOR
// NO KEY UPDATE, held to the end of the transaction): an append is one SQL
// expression on the stored value, so two appends at once each checked the
// list as it was before either, and both were written, past the list's
// bounds (two appendTags of 4 characters to 12: 22, over OBP's 20). Locked,
// the second waits for the first and checks its result. (SQLite runs one
// write at a time.) read reads the list with the lock given.
func lockedOld[T any](m ent.Mutation, old func(context.Context) ([]T, error),
	read func(ctx context.Context, c *gen.Client, id uuid.UUID, lock sql.LockOption) ([]T, error),
) func(context.Context) ([]T, error) {
	return func(ctx context.Context) ([]T, error) {
		c := clientOf(m)
		idm, ok := m.(interface{ ID() (uuid.UUID, bool) })
		if c == nil || !ok || c.Dialect() != dialect.Postgres {
			return old(ctx)
		}
		id, ok := idm.ID()
		if !ok {
			return old(ctx)
		}
		return read(access.System(ctx), c, id, sql.WithLockClause("FOR NO KEY UPDATE"))
	}
}

// current returns the value a scalar field will have after an update: the
// new value when set, else the stored one (zero when cleared).
func current[T any](ctx context.Context, op ent.Op, get func() (T, bool), cleared bool, old func(context.Context) (T, error)) (T, error) {
	var zero T
	if v, ok := get(); ok {
		return v, nil
	}
	if cleared || !op.Is(ent.OpUpdateOne) {
		return zero, nil
	}
	return old(ctx)
}

// clientOf returns the (transactional) client of a generated mutation.
func clientOf(m ent.Mutation) *gen.Client {
	if cm, ok := m.(interface{ Client() *gen.Client }); ok {
		return cm.Client()
	}
	return nil
}

// --- Customer -------------------------------------------------------------

// Hooks of Customer.
func (Customer) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(customerRules, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
		hook.On(customerNumber, ent.OpCreate),
		hook.On(customerDelete, ent.OpDelete|ent.OpDeleteOne),
	}
}

func customerRules(next ent.Mutator) ent.Mutator {
	return hook.CustomerFunc(func(ctx context.Context, m *gen.CustomerMutation) (ent.Value, error) {
		op := m.Op()
		if m.CustomerNumberCleared() {
			return nil, apperr.Invalid("customer_number", "a customer always has a customer number; set another one instead")
		}
		if amount, ok := m.CreditLimitAmount(); ok {
			if err := amount.Check(); err != nil {
				return nil, apperr.Invalid("credit_limit_amount", "%s", err)
			}
		}
		labels, touched, err := list(ctx, op, m.Labels, m.AppendedLabels, m.LabelsCleared(), lockedOld(m, m.OldLabels,
			func(ctx context.Context, c *gen.Client, id uuid.UUID, lock sql.LockOption) ([]string, error) {
				r, err := c.Customer.Query().Where(customer.ID(id)).Select(customer.FieldLabels).ForUpdate(lock).Only(ctx)
				if err != nil {
					return nil, err
				}
				return r.Labels, nil
			}))
		if err != nil {
			return nil, err
		}
		if touched {
			if err := validate.StringSet("label", labels, validate.MaxLabels, validate.MaxLabelLength); err != nil {
				return nil, apperr.Invalid("labels", "%s", err)
			}
		}
		dobs, dobTouched, err := list(ctx, op, m.DobOfDependants, m.AppendedDobOfDependants, m.DobOfDependantsCleared(), m.OldDobOfDependants)
		if err != nil {
			return nil, err
		}
		if dobTouched && len(dobs) > MaxDependants {
			return nil, apperr.Invalid("dob_of_dependants", "at most %d dates of birth, one per dependant: the change makes %d", MaxDependants, len(dobs))
		}
		_, depTouched := m.Dependants()
		if _, added := m.AddedDependants(); added {
			return nil, apperr.Invalid("dependants", "set dependants, do not add to it")
		}
		// dependants equals the number of dob_of_dependants on create (OBP's
		// create rule, rest-compat §4) and when an update sets both; an
		// update that sets one of them alone keeps the other as stored (OBP's
		// PUT …/data sets dependants and leaves dob_of_dependants untouched,
		// §3.4 #26).
		if depTouched || op.Is(ent.OpCreate) {
			dep, err := current(ctx, op, m.Dependants, false, m.OldDependants)
			if err != nil {
				return nil, err
			}
			if dep < 0 {
				return nil, apperr.Invalid("dependants", "must not be negative")
			}
			if (op.Is(ent.OpCreate) || dobTouched) && dep != len(dobs) {
				return nil, apperr.Invalid("dob_of_dependants",
					"the number of dependants (%d) must equal the number of dates of birth of dependants (%d)", dep, len(dobs))
			}
		}
		if id, ok := m.EntityID(); ok && id == uuid.Nil {
			return nil, apperr.Invalid("entity_id", "must not be the nil UUID")
		}
		entityID, err := current(ctx, op, m.EntityID, m.EntityIDCleared(), func(ctx context.Context) (uuid.UUID, error) {
			v, err := m.OldEntityID(ctx)
			if v == nil {
				return uuid.Nil, err
			}
			return *v, err
		})
		if err != nil {
			return nil, err
		}
		entityType, err := current(ctx, op, m.EntityType, m.EntityTypeCleared(), func(ctx context.Context) (customer.EntityType, error) {
			v, err := m.OldEntityType(ctx)
			if v == nil {
				return "", err
			}
			return *v, err
		})
		if err != nil {
			return nil, err
		}
		if !op.Is(ent.OpUpdate) && (entityID == uuid.Nil) != (entityType == "") {
			return nil, apperr.Invalid("entity_type", "entity_id and entity_type must be given together")
		}
		if op.Is(ent.OpUpdateOne) {
			if err := followLegalName(ctx, m); err != nil {
				return nil, err
			}
			if err := followNames(ctx, m); err != nil {
				return nil, err
			}
		}
		if op.Is(ent.OpCreate) {
			bankID, _ := m.BankID()
			known, err := m.Client().Bank.Query().Where(bank.ID(bankID)).Exist(ctx)
			if err != nil {
				return nil, err
			}
			if !known {
				return nil, apperr.NotFoundf("bank_id", "bank %s does not exist", bankID)
			}
			if t, ok := m.EntityType(); ok {
				if _, set := m.CustomerType(); !set {
					m.SetCustomerType(customer.CustomerType(t)) // Tradevest: the customer is of its entity's type
				}
			}
			if legal, ok := m.LegalName(); !ok {
				if name := defaultLegalName(m); name != "" && namePartsValid(m) {
					m.SetLegalName(name)
				}
			} else if !hasNameParts(m) {
				setNameParts(m, legal, isLegalEntity(m, nil), [3]string{})
			}
		}
		return next.Mutate(ctx, m)
	})
}

// The name mapping between the doors (README, "The data rules"): OBP and
// GraphQL's legal_name, bankingservice.ai's first_name, last_name and
// company are one name, kept in step both ways.
//   - names → legal name: legal_name is "first_name last_name", or the
//     company when both are empty (defaultLegalName, legalNameOf);
//   - legal name → names: a legal_name given without any of them is split
//     (nameParts): a legal entity's (customer_type LEGAL_ENTITY) is its
//     company; a person's last word is last_name, the words before it
//     first_name;
//   - while the two sides agree (legal_name is what the names make, spaces
//     aside), a change of one side carries to the other (followLegalName,
//     followNames); a side set on its own is kept as set.

// defaultLegalName is "first last", or the company, for customers created
// with bankingservice.ai's fields only.
func defaultLegalName(m *gen.CustomerMutation) string {
	first, _ := m.FirstName()
	last, _ := m.LastName()
	company, _ := m.Company()
	return legalNameOf(first, last, company)
}

// namePartsValid reports whether the names m sets pass their own
// validators. A legal name is made from them only then: made from a
// first_name over its length, it was over its own, and the refusal named
// legal_name (validated first), a field the client never sent; left unset,
// the refusal names first_name.
func namePartsValid(m *gen.CustomerMutation) bool {
	for _, p := range []struct {
		get   func() (string, bool)
		valid func(string) error
	}{
		{m.FirstName, customer.FirstNameValidator},
		{m.LastName, customer.LastNameValidator},
		{m.Company, customer.CompanyValidator},
	} {
		if v, ok := p.get(); ok && p.valid != nil && p.valid(v) != nil {
			return false
		}
	}
	return true
}

func legalNameOf(first, last, company string) string {
	if name := strings.TrimSpace(first + " " + last); name != "" {
		return name
	}
	return company
}

// followLegalName keeps a derived legal_name derived: when an update
// changes first_name, last_name or company but not legal_name, and the
// stored legal_name is what those fields made, it becomes what they make
// now (a bankingservice.ai PUT renames the customer for OBP and GraphQL
// too). A legal_name set on its own (OBP's) is left alone.
func followLegalName(ctx context.Context, m *gen.CustomerMutation) error {
	_, f := m.FirstName()
	_, l := m.LastName()
	_, c := m.Company()
	_, set := m.LegalName()
	if set || !(f || l || c || m.FirstNameCleared() || m.LastNameCleared() || m.CompanyCleared()) || !namePartsValid(m) {
		return nil
	}
	oldFirst, err1 := m.OldFirstName(ctx)
	oldLast, err2 := m.OldLastName(ctx)
	oldCompany, err3 := m.OldCompany(ctx)
	oldName, err4 := m.OldLegalName(ctx)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return err
	}
	if !sameName(oldName, legalNameOf(oldFirst, oldLast, oldCompany)) {
		return nil
	}
	first := pick(m.FirstName, m.FirstNameCleared(), oldFirst)
	last := pick(m.LastName, m.LastNameCleared(), oldLast)
	company := pick(m.Company, m.CompanyCleared(), oldCompany)
	if name := legalNameOf(first, last, company); name != oldName {
		if name == "" {
			m.ClearLegalName()
		} else {
			m.SetLegalName(name)
		}
	}
	return nil
}

// followNames keeps derived names derived: when an update changes
// legal_name but none of first_name, last_name and company, and the stored
// names made the stored legal name (or there were none), the names become
// what the new legal name makes (an OBP identity update renames the
// customer for bankingservice.ai too). Names set on their own are kept.
func followNames(ctx context.Context, m *gen.CustomerMutation) error {
	legal, set := m.LegalName()
	if !set && !m.LegalNameCleared() {
		return nil
	}
	if hasNameParts(m) {
		return nil
	}
	oldFirst, err1 := m.OldFirstName(ctx)
	oldLast, err2 := m.OldLastName(ctx)
	oldCompany, err3 := m.OldCompany(ctx)
	oldName, err4 := m.OldLegalName(ctx)
	oldType, err5 := m.OldCustomerType(ctx)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return err
	}
	none := oldFirst == "" && oldLast == "" && oldCompany == ""
	if !none && !sameName(oldName, legalNameOf(oldFirst, oldLast, oldCompany)) {
		return nil
	}
	company := oldCompany != "" && oldFirst == "" && oldLast == ""
	setNameParts(m, legal, company || isLegalEntity(m, oldType), [3]string{oldFirst, oldLast, oldCompany})
	return nil
}

// hasNameParts reports whether the mutation sets or clears first_name,
// last_name or company.
func hasNameParts(m *gen.CustomerMutation) bool {
	_, f := m.FirstName()
	_, l := m.LastName()
	_, c := m.Company()
	return f || l || c || m.FirstNameCleared() || m.LastNameCleared() || m.CompanyCleared()
}

// isLegalEntity reports whether the customer is a legal entity: its
// customer_type (or entity_type) after the mutation is LEGAL_ENTITY; old is
// the stored customer_type of an update.
func isLegalEntity(m *gen.CustomerMutation, old *customer.CustomerType) bool {
	if t, ok := m.CustomerType(); ok {
		return t == customer.CustomerTypeLEGAL_ENTITY
	}
	if t, ok := m.EntityType(); ok && old == nil {
		return t == customer.EntityTypeLEGAL_ENTITY
	}
	return old != nil && *old == customer.CustomerTypeLEGAL_ENTITY && !m.CustomerTypeCleared()
}

// nameParts splits a legal name into bankingservice.ai's names: a legal
// entity's is its company; a person's last word is the last name, the
// words before it the first name.
func nameParts(legal string, company bool) (first, last, comp string) {
	words := strings.Fields(legal)
	switch {
	case len(words) == 0:
		return "", "", ""
	case company:
		return "", "", strings.Join(words, " ")
	default:
		return strings.Join(words[:len(words)-1], " "), words[len(words)-1], ""
	}
}

// setNameParts gives the customer the names legal makes (nameParts),
// changing those that differ from old (first, last, company as stored): a
// legal entity's company, or a person's first and last name (a person's
// company, which the legal name does not hold, is left alone).
func setNameParts(m *gen.CustomerMutation, legal string, company bool, old [3]string) {
	first, last, comp := nameParts(legal, company)
	for i, f := range []struct {
		v     string
		set   func(string)
		clear func()
	}{
		{first, m.SetFirstName, m.ClearFirstName},
		{last, m.SetLastName, m.ClearLastName},
		{comp, m.SetCompany, m.ClearCompany},
	} {
		if (i == 2) != company {
			continue
		}
		switch {
		case f.v == old[i]:
		case f.v != "":
			f.set(f.v)
		default:
			f.clear()
		}
	}
}

// sameName reports whether two names are the same, spaces aside.
func sameName(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

// pick is a string field's value after a mutation.
func pick(get func() (string, bool), cleared bool, old string) string {
	if v, ok := get(); ok {
		return v
	}
	if cleared {
		return ""
	}
	return old
}

// customerNumber gives a customer created without a number a random
// 12-digit one that is free at its bank. The unique index on
// (bank_id, customer_number) is the final guard against a race.
func customerNumber(next ent.Mutator) ent.Mutator {
	return hook.CustomerFunc(func(ctx context.Context, m *gen.CustomerMutation) (ent.Value, error) {
		if n, ok := m.CustomerNumber(); ok && n != "" {
			return next.Mutate(ctx, m)
		}
		bankID, _ := m.BankID()
		for range 5 {
			n, err := rand.Int(rand.Reader, big.NewInt(900_000_000_000))
			if err != nil {
				return nil, err
			}
			number := strconv.FormatInt(n.Int64()+100_000_000_000, 10)
			taken, err := m.Client().Customer.Query().
				Where(customer.BankID(bankID), customer.CustomerNumber(number)).Exist(ctx)
			if err != nil {
				return nil, err
			}
			if !taken {
				m.SetCustomerNumber(number)
				return next.Mutate(ctx, m)
			}
		}
		return nil, errors.New("could not find a free customer number")
	})
}

// customerDelete refuses to delete customers that hold products: products
// are closed and kept, never deleted. Their other records go with them
// (ON DELETE CASCADE).
func customerDelete(next ent.Mutator) ent.Mutator {
	return hook.CustomerFunc(func(ctx context.Context, m *gen.CustomerMutation) (ent.Value, error) {
		ids, err := m.IDs(ctx)
		if err != nil {
			return nil, err
		}
		held, err := m.Client().Product.Query().Where(product.CustomerIDIn(ids...)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if held {
			return nil, apperr.Conflictf("", "the customer holds products: products are closed, never deleted, so the customer cannot be deleted")
		}
		return next.Mutate(ctx, m)
	})
}

// --- Bank -----------------------------------------------------------------

// Hooks of Bank.
func (Bank) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.BankFunc(func(ctx context.Context, m *gen.BankMutation) (ent.Value, error) {
				ids, err := m.IDs(ctx)
				if err != nil {
					return nil, err
				}
				c := m.Client()
				n, err := c.Customer.Query().Where(customer.BankIDIn(ids...)).Count(ctx)
				if err != nil {
					return nil, err
				}
				if n > 0 {
					return nil, apperr.Conflictf("", "the bank still has %d customers", n)
				}
				if n, err = c.CrmEvent.Query().Where(crmevent.BankIDIn(ids...)).Count(ctx); err != nil {
					return nil, err
				}
				if n > 0 {
					return nil, apperr.Conflictf("", "the bank still has %d CRM events", n)
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpDelete|ent.OpDeleteOne),
	}
}

// --- Product --------------------------------------------------------------

// productTypes maps each product code to its product type (rest-compat §2.3;
// the legacy WALLET code is a WALLET).
var productTypes = map[product.ProductCode]product.ProductType{
	product.ProductCodeWALLET:             product.ProductTypeWALLET,
	product.ProductCodeBALANCE_ACCOUNT:    product.ProductTypeCASH,
	product.ProductCodeDEPOSITORY_ACCOUNT: product.ProductTypeDEPOSITORY,
	product.ProductCodeCURRENCY_WALLET:    product.ProductTypeWALLET,
}

// productTransitions is the product lifecycle: the statuses each status may
// move to. CLOSED and REJECTED are final.
var productTransitions = map[product.Status][]product.Status{
	product.StatusRECEIVED:   {product.StatusPENDING, product.StatusACTIVE, product.StatusINVALID, product.StatusREJECTED, product.StatusCLOSED},
	product.StatusPENDING:    {product.StatusACTIVE, product.StatusINVALID, product.StatusREJECTED, product.StatusCLOSED},
	product.StatusINVALID:    {product.StatusPENDING, product.StatusREJECTED, product.StatusCLOSED},
	product.StatusACTIVE:     {product.StatusBLOCKED, product.StatusRESTRICTED, product.StatusINACTIVE, product.StatusCLOSED},
	product.StatusBLOCKED:    {product.StatusACTIVE, product.StatusRESTRICTED, product.StatusINACTIVE, product.StatusCLOSED},
	product.StatusRESTRICTED: {product.StatusACTIVE, product.StatusBLOCKED, product.StatusINACTIVE, product.StatusCLOSED},
	product.StatusINACTIVE:   {product.StatusACTIVE, product.StatusBLOCKED, product.StatusCLOSED},
}

// ProductTransitionAllowed reports whether a product may move from one status to another.
func ProductTransitionAllowed(from, to product.Status) bool {
	for _, s := range productTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Hooks of Product.
func (Product) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(proxyIDs, ent.OpCreate|ent.OpUpdateOne|ent.OpUpdate),
		hook.On(productCreate, ent.OpCreate),
		hook.On(productStatus, ent.OpUpdateOne),
		hook.On(func(ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(context.Context, ent.Mutation) (ent.Value, error) {
				return nil, apperr.Conflictf("", "products are closed, never deleted")
			})
		}, ent.OpDelete|ent.OpDeleteOne),
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.ProductFunc(func(ctx context.Context, m *gen.ProductMutation) (ent.Value, error) {
				if _, ok := m.Status(); ok {
					return nil, apperr.Invalid("status", "change the status of one product at a time")
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpUpdate),
	}
}

// MaxProxyIDs bounds a product's proxy ids.
const MaxProxyIDs = 16

// proxyIDs: at most MaxProxyIDs, each once.
func proxyIDs(next ent.Mutator) ent.Mutator {
	return hook.ProductFunc(func(ctx context.Context, m *gen.ProductMutation) (ent.Value, error) {
		ids, touched, err := list(ctx, m.Op(), m.ProxyIds, m.AppendedProxyIds, m.ProxyIdsCleared(), m.OldProxyIds)
		if err != nil {
			return nil, err
		}
		if touched {
			if len(ids) > MaxProxyIDs {
				return nil, apperr.Invalid("proxy_ids", "at most %d proxy ids are allowed, got %d", MaxProxyIDs, len(ids))
			}
			seen := make(map[uuid.UUID]bool, len(ids))
			for _, id := range ids {
				if seen[id] {
					return nil, apperr.Invalid("proxy_ids", "proxy id %s is given twice", id)
				}
				seen[id] = true
			}
		}
		return next.Mutate(ctx, m)
	})
}

func productCreate(next ent.Mutator) ent.Mutator {
	return hook.ProductFunc(func(ctx context.Context, m *gen.ProductMutation) (ent.Value, error) {
		code, _ := m.ProductCode()
		m.SetProductType(productTypes[code])
		// (An empty currency is no currency, as the answers show it: null.)
		if c, _ := m.Currency(); c == "" && code == product.ProductCodeBALANCE_ACCOUNT {
			m.SetCurrency("EUR")
		}
		status, ok := m.Status()
		if !ok {
			status = product.DefaultStatus
		}
		if status == product.StatusACTIVE {
			m.SetOpenedOn(now())
		}
		if status == product.StatusCLOSED {
			m.SetClosedOn(now())
		}
		return next.Mutate(ctx, m)
	})
}

// productStatus enforces the lifecycle on a status change, stamps opened_on
// and closed_on, and makes the update conditional on the status it read, so
// two concurrent transitions cannot both succeed.
func productStatus(next ent.Mutator) ent.Mutator {
	return hook.ProductFunc(func(ctx context.Context, m *gen.ProductMutation) (ent.Value, error) {
		to, ok := m.Status()
		if !ok {
			return next.Mutate(ctx, m)
		}
		from, err := m.OldStatus(ctx)
		if err != nil {
			return nil, err
		}
		if from == product.StatusCLOSED && to == product.StatusCLOSED {
			return nil, apperr.Conflictf("status", "the product is already CLOSED")
		}
		if !ProductTransitionAllowed(from, to) {
			return nil, apperr.Conflictf("status", "a product cannot move from %s to %s", from, to)
		}
		if to == product.StatusACTIVE {
			if opened, err := m.OldOpenedOn(ctx); err == nil && opened == nil {
				m.SetOpenedOn(now())
			}
		}
		if to == product.StatusCLOSED {
			m.SetClosedOn(now())
		}
		m.Where(product.StatusEQ(from))
		v, err := next.Mutate(ctx, m)
		if gen.IsNotFound(err) {
			return nil, apperr.Conflictf("status", "the product's status changed concurrently; read it again and retry")
		}
		return v, err
	})
}

// --- Address --------------------------------------------------------------

// Hooks of Address.
func (Address) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(addressRules, ent.OpCreate|ent.OpUpdateOne|ent.OpUpdate),
	}
}

func addressRules(next ent.Mutator) ent.Mutator {
	return hook.AddressFunc(func(ctx context.Context, m *gen.AddressMutation) (ent.Value, error) {
		op := m.Op()
		// The structured form's text before the lines derived from it: a
		// bad thoroughfare is reported as the thoroughfare, not as the
		// line_1 it would make (ent checks the fields after the hooks).
		for _, f := range []struct {
			name  string
			value func() (string, bool)
		}{{address.FieldThoroughfare, m.Thoroughfare}, {address.FieldSubPremise, m.SubPremise}, {address.FieldBuilding, m.Building}} {
			if v, ok := f.value(); ok {
				if err := validate.Line(v); err != nil {
					return nil, apperr.Invalid(f.name, "%s", err)
				}
			}
		}
		primary, _ := m.IsPrimary()
		if primary && op.Is(ent.OpUpdateOne) {
			// The customer first, then the address (lockOld), as every other
			// writer of a customer's addresses takes them.
			if err := lockCustomerOf(ctx, m); err != nil {
				return nil, err
			}
		}
		tags, touched, err := list(ctx, op, m.Tags, m.AppendedTags, m.TagsCleared(), lockedOld(m, m.OldTags,
			func(ctx context.Context, c *gen.Client, id uuid.UUID, lock sql.LockOption) ([]string, error) {
				r, err := c.Address.Query().Where(address.ID(id)).Select(address.FieldTags).ForUpdate(lock).Only(ctx)
				if err != nil {
					return nil, err
				}
				return r.Tags, nil
			}))
		if err != nil {
			return nil, err
		}
		if touched {
			if err := validate.Tags(tags); err != nil {
				return nil, apperr.Invalid("tags", "%s", err)
			}
		}
		if op.Is(ent.OpCreate) {
			if l1, _ := m.Line1(); l1 == "" {
				street, _ := m.Thoroughfare()
				sub, _ := m.SubPremise()
				var premise *int
				if p, ok := m.Premise(); ok {
					premise = &p
				}
				if l := line1Of(street, premise, sub); l != "" {
					m.SetLine1(l)
				}
				if b, _ := m.Building(); b != "" {
					if l2, _ := m.Line2(); l2 == "" {
						m.SetLine2(b)
					}
				}
			}
		}
		if op.Is(ent.OpUpdateOne) {
			if err := followLines(ctx, m); err != nil {
				return nil, err
			}
		}
		if primary, ok := m.IsPrimary(); ok && primary {
			if op.Is(ent.OpUpdate) {
				return nil, apperr.Invalid("is_primary", "mark one address at a time as primary")
			}
			cid, err := current(ctx, op, m.CustomerID, false, m.OldCustomerID)
			if err != nil {
				return nil, err
			}
			if !op.Is(ent.OpUpdateOne) { // (an update took it above)
				if err := lockCustomer(ctx, m.Client(), cid); err != nil {
					return nil, err
				}
			}
			q := m.Client().Address.Update().Where(address.CustomerID(cid), address.IsPrimary(true))
			if id, ok := m.ID(); ok {
				q.Where(address.IDNEQ(id))
			}
			if _, err := q.SetIsPrimary(false).Save(ctx); err != nil {
				return nil, err
			}
		}
		return next.Mutate(ctx, m)
	})
}

// lockCustomer takes the customer's row (FOR NO KEY UPDATE, which the
// foreign keys' KEY SHARE locks of other writers do not wait for), on
// PostgreSQL, so that writers of its children that check them first run
// one after the other. Before an address of it is marked primary: two
// transactions doing it at once would each clear the primary address,
// each insert its own, and the second would meet the unique index,
// CONFLICT for a rule that says the last one wins. Before an attribute is
// counted against MaxAttributes (attributeCap). (SQLite runs one write at
// a time.)
func lockCustomer(ctx context.Context, c *gen.Client, customerID uuid.UUID) error {
	if c.Dialect() != dialect.Postgres {
		return nil
	}
	_, err := c.Customer.Query().Where(customer.ID(customerID)).
		Modify(func(s *sql.Selector) { s.For(sql.LockNoKeyUpdate) }).
		Select(customer.FieldID).Strings(access.System(ctx))
	return err
}

// lockCustomerOf takes the row of the customer of the address an update
// marks primary (as lockCustomer does), before the address's own row is
// locked by the first read of its old values (lockOld), in one statement
// that finds the customer through the address. Every other writer of a
// customer's addresses (bankingservice.ai's PUT, an address created
// primary, the old primary cleared) takes the customer first, then the
// address; taking the address first here made a cycle, and PostgreSQL
// rolled one of them back as a deadlock (12 of 40 pairs of a PUT and an
// updateAddress(isPrimary) in an outside check).
func lockCustomerOf(ctx context.Context, m *gen.AddressMutation) error {
	c := m.Client()
	id, ok := m.ID()
	if c.Dialect() != dialect.Postgres || !ok {
		return nil
	}
	_, err := c.Customer.Query().Where(customer.HasAddressesWith(address.ID(id))).
		Modify(func(s *sql.Selector) { s.For(sql.LockNoKeyUpdate) }).
		Select(customer.FieldID).Strings(access.System(ctx))
	return err
}

// line1Of is the line form of a structured address: "<thoroughfare> <premise><sub_premise>".
func line1Of(street string, premise *int, sub string) string {
	p := ""
	if premise != nil {
		p = strconv.Itoa(*premise)
	}
	return strings.TrimSpace(street + " " + p + sub)
}

// followLines keeps derived lines derived: when an update changes the
// structured form but not the lines, a line_1 (line_2) that still is what
// the old structured form made becomes what the new one makes, so OBP
// clients see the address a bankingservice.ai PUT wrote.
func followLines(ctx context.Context, m *gen.AddressMutation) error {
	_, t := m.Thoroughfare()
	_, p := m.Premise()
	_, sp := m.SubPremise()
	_, b := m.Building()
	if !(t || p || sp || b || m.ThoroughfareCleared() || m.PremiseCleared() || m.SubPremiseCleared() || m.BuildingCleared()) {
		return nil
	}
	oldStreet, err1 := m.OldThoroughfare(ctx)
	oldPremise, err2 := m.OldPremise(ctx)
	oldSub, err3 := m.OldSubPremise(ctx)
	oldBuilding, err4 := m.OldBuilding(ctx)
	oldLine1, err5 := m.OldLine1(ctx)
	oldLine2, err6 := m.OldLine2(ctx)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		return err
	}
	premise := oldPremise
	if v, ok := m.Premise(); ok {
		premise = &v
	} else if m.PremiseCleared() {
		premise = nil
	}
	street := pick(m.Thoroughfare, m.ThoroughfareCleared(), oldStreet)
	sub := pick(m.SubPremise, m.SubPremiseCleared(), oldSub)
	building := pick(m.Building, m.BuildingCleared(), oldBuilding)
	if _, set := m.Line1(); !set && !m.Line1Cleared() && oldLine1 == line1Of(oldStreet, oldPremise, oldSub) {
		if l := line1Of(street, premise, sub); l != "" {
			m.SetLine1(l)
		} else {
			m.ClearLine1()
		}
	}
	if _, set := m.Line2(); !set && !m.Line2Cleared() && oldLine2 == oldBuilding {
		if building != "" {
			m.SetLine2(building)
		} else {
			m.ClearLine2()
		}
	}
	return nil
}

// --- the other records of a customer --------------------------------------

// Hooks of CustomerAttribute.
func (CustomerAttribute) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.CustomerAttributeFunc(func(ctx context.Context, m *gen.CustomerAttributeMutation) (ent.Value, error) {
				op := m.Op()
				_, typeSet := m.GetType()
				_, valueSet := m.Value()
				if !typeSet && !valueSet {
					return next.Mutate(ctx, m)
				}
				if op.Is(ent.OpUpdate) {
					return nil, apperr.Invalid("value", "change attribute values one at a time")
				}
				typ, err := current(ctx, op, m.GetType, false, m.OldType)
				if err != nil {
					return nil, err
				}
				value, err := current(ctx, op, m.Value, false, m.OldValue)
				if err != nil {
					return nil, err
				}
				if err := AttributeValue(string(typ), value); err != nil {
					return nil, apperr.Invalid("value", "%s", err)
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate|ent.OpUpdateOne|ent.OpUpdate),
		hook.On(attributeCap, ent.OpCreate),
	}
}

// MaxAttributes bounds a customer's attributes: every OBP answer of a
// customer carries all of them (customer_attributes), unpaged, so without a
// bound one customer could make any answer of any size.
const MaxAttributes = 100

// attributeCap refuses a customer's attribute past MaxAttributes
// (CONFLICT: the customer's state, not the input, is in the way). It first
// takes the customer's row (lockCustomer), so that two creates at
// MaxAttributes-1 do not both pass.
func attributeCap(next ent.Mutator) ent.Mutator {
	return hook.CustomerAttributeFunc(func(ctx context.Context, m *gen.CustomerAttributeMutation) (ent.Value, error) {
		cid, ok := m.CustomerID()
		if !ok {
			return next.Mutate(ctx, m) // (the customer is required: ent refuses it)
		}
		c := m.Client()
		if err := lockCustomer(ctx, c, cid); err != nil {
			return nil, err
		}
		n, err := c.CustomerAttribute.Query().Where(customerattribute.CustomerID(cid)).Count(access.System(ctx))
		if err != nil {
			return nil, err
		}
		if n >= MaxAttributes {
			return nil, apperr.Conflictf("customer_id", "a customer holds at most %d attributes: delete one first", MaxAttributes)
		}
		return next.Mutate(ctx, m)
	})
}

// decimalNumber is a DOUBLE attribute's syntax.
var decimalNumber = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

// AttributeValue checks a customer attribute value against its type.
func AttributeValue(typ, value string) error {
	switch typ {
	case "INTEGER":
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return fmt.Errorf("%q is not an INTEGER (a whole number)", value)
		}
	case "DOUBLE":
		// A decimal number as JSON writes one (and with a point or sign
		// alone at either end): Go's ParseFloat also read hex floats
		// (0x1p3), underscores (1_0), Inf and NaN.
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || !decimalNumber.MatchString(value) || f > 1e308 || f < -1e308 {
			return fmt.Errorf("%q is not a DOUBLE (a finite decimal number)", value)
		}
	case "DATE_WITH_DAY":
		if _, err := time.Parse(time.DateOnly, value); err != nil {
			return fmt.Errorf("%q is not a DATE_WITH_DAY (yyyy-MM-dd)", value)
		}
	}
	return nil
}

// Hooks of UserCustomerLink.
func (UserCustomerLink) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.UserCustomerLinkFunc(func(ctx context.Context, m *gen.UserCustomerLinkMutation) (ent.Value, error) {
				cid, _ := m.CustomerID()
				bankID := uuid.Nil
				if g := guardOf(ctx); g != nil && g.customer == cid && g.bank != uuid.Nil {
					bankID = g.bank // guard has just read it
				} else {
					c, err := m.Client().Customer.Query().Where(customer.ID(cid)).Only(ctx)
					if gen.IsNotFound(err) {
						return nil, apperr.NotFoundf("customer_id", "customer %s does not exist", cid)
					}
					if err != nil {
						return nil, err
					}
					bankID = c.BankID
				}
				m.SetBankID(bankID)
				// The user, as the customer: NOT_FOUND naming it (the
				// foreign key's refusal was CONFLICT naming nothing). Read
				// as the system: a link's creator need not read users.
				uid, _ := m.UserID()
				known, err := m.Client().User.Query().Where(user.ID(uid)).Exist(access.System(ctx))
				if err != nil {
					return nil, err
				}
				if !known {
					return nil, apperr.NotFoundf("user_id", "user %s does not exist", uid)
				}
				// A linked user reads its customer without roles (OwnCustomers):
				// linking oneself is reading the customer, so it needs that role.
				if v := access.FromContext(ctx); v != nil && v.Kind == access.KindUser {
					if uid, _ := m.UserID(); uid == v.ID && !v.Has(access.CanGetCustomer, bankID) {
						code := ""
						if b, err := m.Client().Bank.Get(ctx, bankID); err == nil {
							code = b.Code
						}
						return nil, access.Missing(code, access.CanGetCustomer)
					}
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate),
	}
}

// Hooks of CrmEvent.
func (CrmEvent) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.CrmEventFunc(func(ctx context.Context, m *gen.CrmEventMutation) (ent.Value, error) {
				cid, ok := m.CustomerID()
				if !ok {
					return next.Mutate(ctx, m)
				}
				bankID, err := current(ctx, m.Op(), m.BankID, false, m.OldBankID)
				if err != nil {
					return nil, err
				}
				same, err := m.Client().Customer.Query().Where(customer.ID(cid), customer.BankID(bankID)).Exist(ctx)
				if err != nil {
					return nil, err
				}
				if !same {
					return nil, apperr.NotFoundf("customer_id", "customer %s does not exist at this bank", cid)
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate|ent.OpUpdateOne),
	}
}

// DeriveNames gives every customer that has a legal name but none of
// first_name, last_name and company the names its legal name makes (the
// name mapping; as an update, audited): the migration of customers created
// before the mapping existed. It pages by id, so it ends, and returns how
// many customers it changed. ctx must act as custgraph itself.
func DeriveNames(ctx context.Context, c *gen.Client) (int, error) {
	const page = 500
	empty := func(isNil, eq predicate.Customer) predicate.Customer { return customer.Or(isNil, eq) }
	n, after := 0, uuid.Nil
	for {
		list, err := c.Customer.Query().
			Where(customer.IDGT(after), customer.LegalNameNEQ(""), customer.LegalNameNotNil(),
				empty(customer.FirstNameIsNil(), customer.FirstNameEQ("")),
				empty(customer.LastNameIsNil(), customer.LastNameEQ("")),
				empty(customer.CompanyIsNil(), customer.CompanyEQ(""))).
			Order(customer.ByID()).Limit(page).
			Select(customer.FieldID, customer.FieldLegalName).All(ctx)
		if err != nil {
			return n, err
		}
		for _, cu := range list {
			after = cu.ID
			if strings.TrimSpace(cu.LegalName) == "" {
				continue
			}
			// Setting the legal name it has runs followNames, which derives
			// the names from it (the customer has none).
			if err := c.Customer.UpdateOneID(cu.ID).SetLegalName(cu.LegalName).Exec(ctx); err != nil {
				return n, err
			}
			n++
		}
		if len(list) < page {
			return n, nil
		}
	}
}
