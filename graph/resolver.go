// Package graph is custgraph's GraphQL API: the gqlgen executable schema,
// its resolvers (thin: ent owns the data rules), the error presenter, the
// request limits and the HTTP handler that puts them together.
package graph

import (
	"context"
	"reflect"

	"custgraph/ent/entgql"
	"github.com/99designs/gqlgen/graphql"

	"custgraph/ent"
	"custgraph/ent/schema"
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
// dashboard's tabs); any other filter is counted by the query.
func (r *Resolver) customerTotal(ctx context.Context, where *ent.CustomerWhereInput) ent.CustomerPaginateOption {
	subset, ok := countedSubset(ctx, where)
	if !ok {
		return ent.WithCustomerTotal(nil)
	}
	return ent.WithCustomerTotal(func(ctx context.Context) (int, bool, error) {
		return schema.CustomerTotal(ctx, r.client, subset)
	})
}

// countedSubset names the maintained count (schema.SubsetAll, …) of the
// customers that where matches, or false when where filters by more than
// one status or one label.
func countedSubset(ctx context.Context, where *ent.CustomerWhereInput) (string, bool) {
	if where == nil {
		return schema.SubsetAll, true
	}
	// hasLabel is resolved into a predicate (schema.resolvers.go): every
	// other filter is a field of where.
	rest := *where
	rest.CustomerStatus, rest.Predicates = nil, nil
	if !reflect.DeepEqual(rest, ent.CustomerWhereInput{}) {
		return "", false
	}
	switch {
	case len(where.Predicates) == 0 && where.CustomerStatus == nil:
		return schema.SubsetAll, true
	case len(where.Predicates) == 0:
		return schema.SubsetStatus + where.CustomerStatus.String(), true
	case len(where.Predicates) == 1 && where.CustomerStatus == nil:
		if label, ok := onlyHasLabel(ctx); ok {
			return schema.SubsetLabel + label, true
		}
	}
	return "", false
}

// onlyHasLabel returns the label of the field's where argument when it is
// {hasLabel: "…"} and nothing else.
func onlyHasLabel(ctx context.Context) (string, bool) {
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
	if !ok || len(m) != 1 {
		return "", false
	}
	label, ok := m["hasLabel"].(string)
	return label, ok
}
