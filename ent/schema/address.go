package schema

import (
	"custgraph/ent/schema/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"math"

	"custgraph/internal/validate"
)

// Address is a customer's postal address. One row holds both forms the REST
// families use:
//
//   - OBP's line form: line_1, line_2, line_3, city, county, state, postcode,
//     country_code, tags, status;
//   - bankingservice.ai's structured form: premise, sub_premise, building,
//     thoroughfare, locality, postal_code, state, country.
//
// The mapping: locality = city, postal_code = postcode, country = country_code,
// state = state (shared columns). When an address is written in the structured
// form without lines, line_1 becomes "<thoroughfare> <premise><sub_premise>" and
// line_2 the building, so OBP clients see a readable address too. is_primary
// marks the customer's primary address (at most one per customer): the one
// bankingservice.ai embeds in its customer object.
type Address struct{ ent.Schema }

// Mixin of Address.
func (Address) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of Address.
func (Address) Fields() []ent.Field {
	return []ent.Field{
		customerRef(),
		field.String("line_1").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.String("line_2").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.String("line_3").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.String("city").Optional().MaxRuneLen(255).Validate(validate.Line).Annotations(entgql.OrderField("CITY")),
		field.String("county").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.String("state").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.String("postcode").Optional().MaxRuneLen(20).Validate(validate.Line),
		field.String("country_code").Optional().MaxRuneLen(2).Validate(validate.CountryCode),
		field.Strings("tags").Optional(),
		field.String("status").Optional().MaxRuneLen(255).Validate(validate.Line),
		// A GraphQL Int is 32 bits: a larger premise could be stored but
		// not answered as one.
		field.Int("premise").Optional().Nillable().NonNegative().Max(math.MaxInt32),
		field.String("sub_premise").Optional().MaxRuneLen(64).Validate(validate.Line),
		field.String("building").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.String("thoroughfare").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.Bool("is_primary").Default(false),
	}
}

// Edges of Address.
func (Address) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("customer", Customer.Type).Ref("addresses").Field("customer_id").Unique().Required().Immutable(),
	}
}

// Indexes of Address.
func (Address) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("customer_id", "created_at", "id"),
		// At most one primary address per customer, enforced by the database.
		index.Fields("customer_id").Unique().StorageKey("address_one_primary_per_customer").
			Annotations(entsql.IndexWhere("is_primary")),
		index.Fields("country_code"),
		index.Fields("postcode"),
		index.Fields("city"),
	}
}

// Annotations of Address.
func (Address) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
