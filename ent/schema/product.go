package schema

import (
	"custgraph/ent/schema/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"custgraph/internal/validate"
)

// Product is a product a customer holds (Tradevest "customer product").
// Its type follows from its code, its status moves only along the lifecycle
// in productTransitions, and it is closed, never deleted.
type Product struct{ ent.Schema }

// Mixin of Product.
func (Product) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of Product.
func (Product) Fields() []ent.Field {
	return []ent.Field{
		customerRef(),
		field.Enum("product_code").Values("WALLET", "BALANCE_ACCOUNT", "DEPOSITORY_ACCOUNT", "CURRENCY_WALLET").
			Immutable().Annotations(entgql.OrderField("PRODUCT_CODE")),
		field.Enum("product_type").Values("CASH", "WALLET", "DEPOSITORY").
			Comment("Derived from product_code.").
			Annotations(skipInputs()),
		field.String("currency").Optional().MaxRuneLen(3).Validate(validate.Currency).
			Comment("ISO 4217; EUR by default for BALANCE_ACCOUNT."),
		field.Enum("status").
			Values("RECEIVED", "INVALID", "PENDING", "ACTIVE", "BLOCKED", "RESTRICTED", "INACTIVE", "CLOSED", "REJECTED").
			Default("RECEIVED").
			Annotations(entgql.OrderField("STATUS"), entgql.Skip(entgql.SkipMutationCreateInput)),
		field.JSON("proxy_ids", []uuid.UUID{}).Optional().Annotations(entgql.Type("[UUID!]")),
		field.String("iban").Optional().MaxRuneLen(34).Validate(validate.IBAN),
		field.Time("opened_on").Optional().Nillable().
			Comment("Set when the product first becomes ACTIVE.").
			Annotations(skipInputs(), entgql.OrderField("OPENED_ON")),
		field.Time("closed_on").Optional().Nillable().
			Comment("Set when the product is CLOSED.").
			Annotations(skipInputs()),
	}
}

// Edges of Product.
func (Product) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("customer", Customer.Type).Ref("products").Field("customer_id").Unique().Required().Immutable(),
	}
}

// Indexes of Product.
func (Product) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("customer_id", "created_at", "id"),
		index.Fields("status"),
		index.Fields("product_code"),
		index.Fields("iban"),
		index.Fields("opened_on"),
	}
}

// Annotations of Product.
func (Product) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
