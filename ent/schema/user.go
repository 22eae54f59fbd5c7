package schema

import (
	"regexp"

	"custgraph/ent/schema/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"custgraph/internal/validate"
)

// User is a person who logs in (OBP users); users are linked to customers
// through UserCustomerLink.
type User struct{ ent.Schema }

// Mixin of User.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

var usernameRe = regexp.MustCompile(`^[A-Za-z0-9._@+-]+$`)

// Fields of User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").Unique().NotEmpty().MaxRuneLen(100).Match(usernameRe).
			Annotations(entgql.OrderField("USERNAME")),
		field.String("email").Optional().MaxRuneLen(200).Validate(validate.Email),
		field.String("display_name").Optional().MaxRuneLen(255).Validate(validate.Line),
		field.String("password_hash").Sensitive().Optional().Validate(passwordHash).
			Comment("argon2id hash of the password (PHC string); empty for users who log in elsewhere.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("external_subject").Optional().Nillable().Unique().MaxRuneLen(255).
			Comment("The subject (sub claim) by which the external identity provider names this user."),
		field.Bool("disabled").Default(false).Comment("A disabled user cannot log in, and its tokens are refused."),
		credentialGeneration(),
	}
}

// Edges of User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		// No where-filters through a user's links or entitlements: a user
		// can be linked at several banks, and a filter would reveal the
		// links at banks the caller cannot see.
		edge.To("customer_links", UserCustomerLink.Type).
			Annotations(entgql.RelayConnection(), skipInputs(), noWhere(), entsql.OnDelete(entsql.Cascade)),
		edge.To("entitlements", Entitlement.Type).
			Annotations(entgql.RelayConnection(), skipInputs(), noWhere(), entsql.OnDelete(entsql.Cascade)),
	}
}

// Annotations of User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// UserCustomerLink links a user to a customer (OBP user_customer_links; its
// id is OBP's user_customer_link_id and created_at its date_inserted). As in
// OBP, a user may be linked to several customers, at one bank or several,
// but to each customer once. bank_id is copied from the customer, for the
// privacy rules.
type UserCustomerLink struct{ ent.Schema }

// Mixin of UserCustomerLink.
func (UserCustomerLink) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of UserCustomerLink.
func (UserCustomerLink) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		customerRef(),
		field.UUID("bank_id", uuid.UUID{}).Immutable().
			Comment("The customer's bank, set from the customer.").
			Annotations(skipInputs()),
		field.Bool("is_active").Default(true),
	}
}

// Edges of UserCustomerLink.
func (UserCustomerLink) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("customer_links").Field("user_id").Unique().Required().Immutable(),
		edge.From("customer", Customer.Type).Ref("user_links").Field("customer_id").Unique().Required().Immutable(),
	}
}

// Indexes of UserCustomerLink.
func (UserCustomerLink) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "customer_id").Unique(),
		index.Fields("customer_id"),
		index.Fields("bank_id"),
	}
}

// Annotations of UserCustomerLink.
func (UserCustomerLink) Annotations() []schema.Annotation { return childAnnotations() }
