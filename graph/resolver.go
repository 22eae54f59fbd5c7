// Package graph is custgraph's GraphQL API: the gqlgen executable schema,
// its resolvers (thin: ent owns the data rules), the error presenter, the
// request limits and the HTTP handler that puts them together.
package graph

import (
	"context"

	"entgo.io/contrib/entgql"
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

// customerTotal gives an unfiltered customer list's totalCount from the
// banks' maintained counts (schema.CustomerTotal) instead of counting it.
func (r *Resolver) customerTotal(where *ent.CustomerWhereInput) ent.CustomerPaginateOption {
	if where != nil {
		return ent.WithCustomerTotal(nil)
	}
	return ent.WithCustomerTotal(func(ctx context.Context) (int, bool, error) {
		return schema.CustomerTotal(ctx, r.client)
	})
}
