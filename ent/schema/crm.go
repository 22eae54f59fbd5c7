package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"custgraph/ent/schema/entgql"
	"custgraph/internal/validate"
)

// CrmEvent is a bank-level CRM event (OBP getCrmEvents), optionally about one
// customer of that bank.
type CrmEvent struct{ ent.Schema }

// Mixin of CrmEvent.
func (CrmEvent) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of CrmEvent.
func (CrmEvent) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("bank_id", uuid.UUID{}).Immutable(),
		field.UUID("customer_id", uuid.UUID{}).Optional().Nillable(),
		field.String("customer_name").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.String("customer_number").Optional().MaxRuneLen(50).Validate(validate.Number),
		field.String("category").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.String("detail").Optional().MaxRuneLen(4096),
		field.String("channel").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.Time("scheduled_date").Optional().Nillable().Annotations(entgql.OrderField("SCHEDULED_DATE")),
		field.Time("actual_date").Optional().Nillable(),
		field.String("result").Optional().MaxRuneLen(255).Validate(validate.Line),
	}
}

// Edges of CrmEvent.
func (CrmEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("bank", Bank.Type).Ref("crm_events").Field("bank_id").Unique().Required().Immutable(),
		edge.From("customer", Customer.Type).Ref("crm_events").Field("customer_id").Unique(),
	}
}

// Indexes of CrmEvent.
func (CrmEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("bank_id", "created_at", "id"),
		index.Fields("customer_id"),
		index.Fields("scheduled_date"),
	}
}

// Annotations of CrmEvent.
func (CrmEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// CustomerMessage is a message sent to a customer (OBP customer messages).
type CustomerMessage struct{ ent.Schema }

// Mixin of CustomerMessage.
func (CustomerMessage) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of CustomerMessage.
func (CustomerMessage) Fields() []ent.Field {
	return []ent.Field{
		customerRef(),
		field.String("message").NotEmpty().MaxRuneLen(4096),
		field.String("transport").Optional().MaxRuneLen(64).Validate(validate.Line),
		field.String("from_department").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.String("from_person").Optional().MaxRuneLen(255).Validate(validate.Line),
	}
}

// Edges of CustomerMessage.
func (CustomerMessage) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("customer", Customer.Type).Ref("messages").Field("customer_id").Unique().Required().Immutable(),
	}
}

// Indexes of CustomerMessage.
func (CustomerMessage) Indexes() []ent.Index {
	return []ent.Index{index.Fields("customer_id", "created_at", "id")}
}

// Annotations of CustomerMessage.
func (CustomerMessage) Annotations() []schema.Annotation { return childAnnotations() }
