package schema

import (
	"time"

	"custgraph/ent/schema/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"custgraph/internal/exact"
	"custgraph/internal/validate"
)

// MaxDependants bounds a customer's dependants and its dates of birth of
// dependants, on every path (an append included).
const MaxDependants = 100

// Customer is the legal entity that has the relationship to a bank. It holds
// the union of the fields the three REST families and GraphQL read or write;
// each door shows the same record under its own names.
type Customer struct{ ent.Schema }

// Mixin of Customer.
func (Customer) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Entity kinds a customer can be (Tradevest entityType / customerType).
var entityKinds = []string{"NATURAL_PERSON", "LEGAL_ENTITY", "JOINT_PERSON"}

// Fields of Customer.
func (Customer) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("bank_id", uuid.UUID{}).Immutable(),
		field.String("customer_number").
			Comment("Unique per bank; generated (12 digits) when not given.").
			Optional().NotEmpty().MaxRuneLen(50).
			Validate(noSeparator).Validate(validate.Trimmed).Validate(validate.Number).
			Annotations(entgql.OrderField("CUSTOMER_NUMBER")),
		field.String("legal_name").Optional().MaxRuneLen(255).Validate(validate.Line).
			Comment("Defaults to first_name + last_name, or company, when not given.").
			Annotations(entgql.OrderField("LEGAL_NAME")),
		field.String("first_name").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.String("last_name").Optional().MaxRuneLen(255).Validate(validate.Line).
			Annotations(entgql.OrderField("LAST_NAME")),
		field.String("company").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.String("email").Optional().MaxRuneLen(200).Validate(validate.Email).
			Annotations(entgql.OrderField("EMAIL")),
		field.String("mobile_phone_number").Optional().MaxRuneLen(50).Validate(validate.Phone),
		field.String("face_image_url").Optional().MaxRuneLen(2000).Validate(validate.ImageURL).Annotations(noWhere()),
		field.Time("face_image_date").Optional().Nillable().Annotations(noWhere()),
		field.Time("date_of_birth").Optional().Nillable(),
		field.String("relationship_status").Optional().MaxRuneLen(16).Validate(validate.Line).Annotations(noWhere()),
		field.Int("dependants").NonNegative().Max(MaxDependants).Default(0).Annotations(noWhere()),
		field.JSON("dob_of_dependants", []time.Time{}).Optional().
			Comment("One date of birth per dependant: on create, and when set together with dependants, its length must equal dependants.").
			Annotations(entgql.Type("[Time!]")),
		field.String("credit_rating").Optional().MaxRuneLen(100).Validate(validate.Line).Annotations(noWhere()),
		field.String("credit_source").Optional().MaxRuneLen(100).Validate(validate.Line).Annotations(noWhere()),
		field.String("credit_limit_currency").Optional().MaxRuneLen(3).Validate(validate.Currency).Annotations(noWhere()),
		field.Other("credit_limit_amount", exact.Decimal{}).Optional().Nillable().
			Comment("An exact decimal that keeps the digits and scale it was given (numeric on PostgreSQL, text on SQLite), never a float.").
			SchemaType(map[string]string{dialect.Postgres: "numeric", dialect.SQLite: "text"}).
			Annotations(noWhere(), entgql.Type("Decimal")),
		field.String("highest_education_attained").Optional().MaxRuneLen(32).Validate(validate.Line).Annotations(noWhere()),
		field.String("employment_status").Optional().MaxRuneLen(32).Validate(validate.Line).Annotations(noWhere()),
		field.Bool("kyc_status").Default(false),
		field.Time("last_ok_date").Optional().Nillable().
			Annotations(entgql.OrderField("LAST_OK_DATE")),
		field.String("title").Optional().MaxRuneLen(255).Validate(validate.Line).Annotations(noWhere()),
		field.String("branch_id").Optional().MaxRuneLen(255).Validate(validate.BranchID),
		field.String("name_suffix").Optional().MaxRuneLen(255).Validate(validate.Line).Annotations(noWhere()),
		field.UUID("entity_id", uuid.UUID{}).Optional().Nillable().
			Comment("The Tradevest entity (person or company) this customer is; one customer per entity per bank."),
		field.Enum("entity_type").Values(entityKinds...).Optional().Nillable(),
		field.Enum("customer_status").
			Values("CREATED", "RECEIVED", "PENDING", "REVIEW", "ACTIVE", "INACTIVE", "SUSPENDED",
				"SUSPENDED_COMPLIANCE", "REJECTED", "ARCHIVED", "INVALID", "DECEASED").
			Default("CREATED").
			Annotations(entgql.OrderField("CUSTOMER_STATUS")),
		field.Enum("customer_type").Values(entityKinds...).Optional().Nillable(),
		field.Strings("labels").Optional().
			Comment("At most 16 user-defined labels, each non-empty and unique."),
	}
}

// Edges of Customer.
func (Customer) Edges() []ent.Edge {
	cascade := entsql.OnDelete(entsql.Cascade)
	// Records are attached to a customer by their own immutable customer_id,
	// never moved or detached from the customer's side: no edge inputs.
	owned := skipInputs()
	return []ent.Edge{
		edge.From("bank", Bank.Type).Ref("customers").Field("bank_id").Unique().Required().Immutable(),
		edge.To("products", Product.Type).Annotations(entgql.RelayConnection(), owned),
		edge.To("addresses", Address.Type).Annotations(entgql.RelayConnection(), owned, cascade),
		edge.To("tax_residences", TaxResidence.Type).Annotations(entgql.RelayConnection(), owned, cascade),
		edge.To("social_handles", SocialHandle.Type).Annotations(entgql.RelayConnection(), owned, cascade),
		edge.To("attributes", CustomerAttribute.Type).Annotations(entgql.RelayConnection(), owned, cascade),
		edge.To("messages", CustomerMessage.Type).Annotations(entgql.RelayConnection(), owned, cascade),
		edge.To("user_links", UserCustomerLink.Type).Annotations(entgql.RelayConnection(), owned, cascade),
		edge.To("crm_events", CrmEvent.Type).Annotations(entgql.RelayConnection(), owned),
	}
}

// Indexes of Customer.
func (Customer) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("bank_id", "customer_number").Unique(),
		index.Fields("bank_id", "entity_id").Unique(),
		index.Fields("bank_id", "created_at", "id"),
		// A status tab in creation order reads 20 index entries, not every
		// customer of that status sorted (the status alone uses its prefix).
		index.Fields("customer_status", "created_at", "id"),
		index.Fields("customer_type"),
		index.Fields("email"),
		index.Fields("legal_name"),
		index.Fields("last_name"),
		index.Fields("customer_number"),
		index.Fields("entity_id"),
		index.Fields("date_of_birth"),
		index.Fields("branch_id"),
		index.Fields("last_ok_date"),
		index.Fields("labels").Annotations(entsql.IndexTypes(map[string]string{dialect.Postgres: "GIN"})),
	}
}

// Annotations of Customer.
func (Customer) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
