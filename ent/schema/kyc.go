package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"custgraph/ent/schema/entgql"
	"custgraph/internal/validate"
)

// childAnnotations are the GraphQL annotations of the records that belong to
// one customer: a root connection, ordering and create/update inputs.
func childAnnotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// TaxResidence is a country (domain) where the customer is tax resident and
// the tax number there; (customer, domain, tax_number) is unique.
type TaxResidence struct{ ent.Schema }

// Mixin of TaxResidence.
func (TaxResidence) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of TaxResidence.
func (TaxResidence) Fields() []ent.Field {
	return []ent.Field{
		customerRef(),
		field.String("domain").NotEmpty().MaxRuneLen(255).Validate(validate.Line).Annotations(entgql.OrderField("DOMAIN")),
		field.String("tax_number").NotEmpty().MaxRuneLen(255).Validate(validate.Line),
	}
}

// Edges of TaxResidence.
func (TaxResidence) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("customer", Customer.Type).Ref("tax_residences").Field("customer_id").Unique().Required().Immutable(),
	}
}

// Indexes of TaxResidence.
func (TaxResidence) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("customer_id", "domain", "tax_number").Unique(),
		index.Fields("domain"),
		index.Fields("customer_id", "created_at", "id"),
	}
}

// Annotations of TaxResidence.
func (TaxResidence) Annotations() []schema.Annotation { return childAnnotations() }

// SocialHandle is a social media handle of the customer (OBP).
type SocialHandle struct{ ent.Schema }

// Mixin of SocialHandle.
func (SocialHandle) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of SocialHandle.
func (SocialHandle) Fields() []ent.Field {
	return []ent.Field{
		customerRef(),
		field.String("type").NotEmpty().MaxRuneLen(16).Validate(validate.Line),
		field.String("handle").NotEmpty().MaxRuneLen(64).Validate(validate.Line),
		field.Time("date_added").Default(now).Annotations(entgql.OrderField("DATE_ADDED")),
		field.Time("date_activated").Optional().Nillable(),
	}
}

// Edges of SocialHandle.
func (SocialHandle) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("customer", Customer.Type).Ref("social_handles").Field("customer_id").Unique().Required().Immutable(),
	}
}

// Indexes of SocialHandle.
func (SocialHandle) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("customer_id", "type", "handle").Unique(),
		index.Fields("date_added"),
		index.Fields("customer_id", "created_at", "id"),
	}
}

// Annotations of SocialHandle.
func (SocialHandle) Annotations() []schema.Annotation { return childAnnotations() }

// CustomerAttribute is a typed name/value pair attached to a customer (OBP
// customer attributes). The value is checked against the type; a name is
// unique per customer.
type CustomerAttribute struct{ ent.Schema }

// Mixin of CustomerAttribute.
func (CustomerAttribute) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of CustomerAttribute.
func (CustomerAttribute) Fields() []ent.Field {
	return []ent.Field{
		customerRef(),
		field.String("name").NotEmpty().MaxRuneLen(255).Validate(validate.Line).Annotations(entgql.OrderField("NAME")),
		field.Enum("type").Values("STRING", "INTEGER", "DOUBLE", "DATE_WITH_DAY"),
		field.String("value").MaxRuneLen(255).
			Comment("INTEGER: a 64-bit integer; DOUBLE: a finite decimal number; DATE_WITH_DAY: yyyy-MM-dd."),
	}
}

// Edges of CustomerAttribute.
func (CustomerAttribute) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("customer", Customer.Type).Ref("attributes").Field("customer_id").Unique().Required().Immutable(),
	}
}

// Indexes of CustomerAttribute.
func (CustomerAttribute) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("customer_id", "name").Unique(),
		index.Fields("customer_id", "created_at", "id"),
		index.Fields("name", "value"),
	}
}

// Annotations of CustomerAttribute.
func (CustomerAttribute) Annotations() []schema.Annotation { return childAnnotations() }
