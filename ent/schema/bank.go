package schema

import (
	"custgraph/ent/schema/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"custgraph/internal/validate"
)

// Bank is the tenant. Every customer belongs to exactly one bank. OBP's
// BANK_ID and bankingservice.ai's profileId both name a bank by its code.
type Bank struct{ ent.Schema }

// Mixin of Bank.
func (Bank) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of Bank.
func (Bank) Fields() []ent.Field {
	return []ent.Field{
		field.String("code").
			Comment("The bank id as OBP writes it in BANK_ID and bankingservice.ai in profileId, e.g. gh.29.uk.").
			Unique().Immutable().MaxRuneLen(254).Validate(validate.BankCode).
			Annotations(entgql.OrderField("CODE")),
		field.String("name").NotEmpty().MaxRuneLen(255).Validate(validate.Line).
			Annotations(entgql.OrderField("NAME")),
	}
}

// Indexes of Bank.
func (Bank) Indexes() []ent.Index {
	return []ent.Index{index.Fields("name")}
}

// Edges of Bank.
func (Bank) Edges() []ent.Edge {
	return []ent.Edge{
		// No where-filters through a bank's customers or CRM events: bank
		// administrators see every bank, not every bank's customers.
		edge.To("customers", Customer.Type).Annotations(entgql.RelayConnection(), skipInputs(), noWhere()),
		edge.To("crm_events", CrmEvent.Type).Annotations(entgql.RelayConnection(), skipInputs(), noWhere()),
		edge.To("api_clients", APIClient.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("entitlements", Entitlement.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of Bank.
func (Bank) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
