package schema

import (
	"custgraph/ent/schema/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// LoginFailure counts the recent failed logins of one account (a client_id
// at the token endpoint, a username at DirectLogin), known or not, so that
// guessing a secret is slowed down whichever replica is asked
// (internal/authn, throttle.go). Never exposed over GraphQL.
type LoginFailure struct{ ent.Schema }

// Fields of LoginFailure.
func (LoginFailure) Fields() []ent.Field {
	return []ent.Field{
		field.String("account").Unique().Immutable().NotEmpty().MaxRuneLen(320).
			Comment("client:<client_id> or user:<username>."),
		field.Int("failures").NonNegative(),
		field.Time("locked_until").Optional().Nillable().
			Comment("No attempt is checked before this time."),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

// Indexes of LoginFailure.
func (LoginFailure) Indexes() []ent.Index {
	return []ent.Index{index.Fields("updated_at")}
}

// Annotations of LoginFailure.
func (LoginFailure) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
