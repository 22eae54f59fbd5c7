// Package graph is custgraph's GraphQL API: the gqlgen executable schema,
// its resolvers (thin: ent owns the data rules), the error presenter, the
// request limits and the HTTP handler that puts them together.
package graph

import (
	"context"
	"reflect"

	"custgraph/ent/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"custgraph/ent"
	"custgraph/ent/bank"
	"custgraph/ent/schema"
	"custgraph/internal/access"
)

// This file will not be regenerated automatically.

// Resolver is the root resolver: every resolver reads through the ent client
// (queries) or the request's transaction (mutations, ent.FromContext).
type Resolver struct {
	client      *ent.Client
	dialectName string
	live        *Live // subscriptions; nil: none
}

// NewSchema returns the executable schema on an ent client whose database
// speaks the given dialect (entgo.io/ent/dialect: "sqlite3" or "postgres").
func NewSchema(client *ent.Client, dialectName string) graphql.ExecutableSchema {
	return NewExecutableSchema(Config{Resolvers: &Resolver{client: client, dialectName: dialectName}})
}

// asc is the default sort direction.
const asc = entgql.OrderDirectionAsc

// orDefault returns the requested ordering, or def when none is given. The
// default of every root list is creation order (created_at, then id).
func orDefault[O any](given []*O, def *O) []*O {
	if len(given) == 0 {
		return []*O{def}
	}
	return given
}

// customerTotal gives a customer list's totalCount from the banks'
// maintained counts (schema.CustomerTotal) instead of counting it, when the
// list is unfiltered or filtered by only a status or only one label (a
// dashboard's tabs), of every bank the viewer reads or of one bank (bankID,
// or hasBankWith one bank's code); any other filter is counted by the query.
func (r *Resolver) customerTotal(ctx context.Context, where *ent.CustomerWhereInput) ent.CustomerPaginateOption {
	subset, one, ok := countedSubset(ctx, where)
	switch {
	case !ok:
		return ent.WithCustomerTotal(nil)
	case one == nil:
		return ent.WithCustomerTotal(func(ctx context.Context) (int, bool, error) {
			return schema.CustomerTotal(ctx, r.client, subset)
		})
	}
	return ent.WithCustomerTotal(func(ctx context.Context) (int, bool, error) {
		id := one.id
		if id == nil { // the bank by its code; the viewer's reach is checked on its id
			found, err := r.client.Bank.Query().Where(bank.Code(*one.code)).IDs(access.System(ctx))
			if err != nil || len(found) == 0 {
				return 0, false, err // (no such bank: the query counts it, under the read rule)
			}
			id = &found[0]
		}
		return schema.BankSubsetTotal(ctx, r.client, *id, subset)
	})
}

// oneBank is the bank a customer list is narrowed to: by its id or its code.
type oneBank struct {
	id   *uuid.UUID
	code *string
}

// countedSubset names the maintained count (schema.SubsetAll, …) of the
// customers that where matches, and the one bank it narrows them to (nil:
// none), or false when where filters by more than one status or one label
// and a bank.
func countedSubset(ctx context.Context, where *ent.CustomerWhereInput) (string, *oneBank, bool) {
	if where == nil {
		return schema.SubsetAll, nil, true
	}
	// hasLabel is resolved into a predicate (schema.resolvers.go): every
	// other filter is a field of where.
	rest := *where
	rest.CustomerStatus, rest.Predicates, rest.BankID, rest.HasBankWith = nil, nil, nil, nil
	if !reflect.DeepEqual(rest, ent.CustomerWhereInput{}) {
		return "", nil, false
	}
	var one *oneBank
	switch {
	case where.BankID != nil && where.HasBankWith != nil:
		return "", nil, false
	case where.BankID != nil:
		one = &oneBank{id: where.BankID}
	case where.HasBankWith != nil:
		if len(where.HasBankWith) != 1 || where.HasBankWith[0] == nil || where.HasBankWith[0].Code == nil ||
			!reflect.DeepEqual(*where.HasBankWith[0], ent.BankWhereInput{Code: where.HasBankWith[0].Code}) {
			return "", nil, false
		}
		one = &oneBank{code: where.HasBankWith[0].Code}
	}
	switch {
	case len(where.Predicates) == 0 && where.CustomerStatus == nil:
		return schema.SubsetAll, one, true
	case len(where.Predicates) == 0:
		return schema.SubsetStatus + where.CustomerStatus.String(), one, true
	case len(where.Predicates) == 1 && where.CustomerStatus == nil:
		if label, ok := onlyHasLabel(ctx, one != nil); ok {
			return schema.SubsetLabel + label, one, true
		}
	}
	return "", nil, false
}

// onlyHasLabel returns the label of the field's where argument when it is
// {hasLabel: "…"} and nothing else (but the bank, when withBank).
func onlyHasLabel(ctx context.Context, withBank bool) (string, bool) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return "", false
	}
	arg := fc.Field.Arguments.ForName("where")
	if arg == nil {
		return "", false
	}
	v, err := arg.Value.Value(graphql.GetOperationContext(ctx).Variables)
	if err != nil {
		return "", false
	}
	m, ok := v.(map[string]any)
	want := 1
	if withBank {
		want = 2 // (bankID or hasBankWith, which countedSubset checked)
	}
	if !ok || len(m) != want {
		return "", false
	}
	label, ok := m["hasLabel"].(string)
	return label, ok
}
