package schema

import (
	"regexp"

	"custgraph/ent/schema/entgql"
	"custgraph/internal/validate"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// This file models the callers of the API (API clients and, in user.go,
// users), what they are entitled to, the audit trail of their changes and
// the keys that sign custgraph's access tokens.

var clientIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{3,100}$`)

// APIClient is an OAuth2 client (OBP: a consumer): a partner application
// that gets tokens with its client id and secret (client-credentials grant),
// or through which users log in (OBP DirectLogin's consumer_key). A client
// bound to a bank sees that bank only, whatever its entitlements say.
type APIClient struct{ ent.Schema }

// Mixin of APIClient.
func (APIClient) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of APIClient.
func (APIClient) Fields() []ent.Field {
	return []ent.Field{
		field.String("client_id").Unique().Immutable().Match(clientIDRe).
			Comment("The OAuth2 client_id (OBP consumer_key).").
			Annotations(entgql.OrderField("CLIENT_ID")),
		field.String("secret_hash").Sensitive().NotEmpty().Validate(passwordHash).
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("name").NotEmpty().MaxRuneLen(255).Validate(validate.Line).Annotations(entgql.OrderField("NAME")),
		field.UUID("bank_id", uuid.UUID{}).Optional().Nillable().Immutable().
			Comment("The one bank this client may see; empty for a client of every bank."),
		field.String("external_subject").Optional().Nillable().Unique().MaxRuneLen(255).
			Comment("The subject (sub claim) by which the external identity provider names this client."),
		field.Bool("disabled").Default(false).
			Comment("A disabled client gets no tokens, and its tokens are refused."),
		credentialGeneration(),
	}
}

// credentialGeneration counts a caller's secret or password changes; its
// tokens carry the value they were issued under and die when it moves on
// (hooks_callers.go).
func credentialGeneration() ent.Field {
	return field.Int("credential_generation").NonNegative().Default(0).
		Comment("Bumped when the secret or password changes; tokens issued before are refused.").
		Annotations(entgql.Skip(entgql.SkipAll))
}

// Edges of APIClient.
func (APIClient) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("bank", Bank.Type).Ref("api_clients").Field("bank_id").Unique().Immutable(),
		edge.To("entitlements", Entitlement.Type).
			Annotations(entgql.RelayConnection(), skipInputs(), entsql.OnDelete(entsql.Cascade)),
	}
}

// Annotations of APIClient.
func (APIClient) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationUpdate()),
	}
}

// Entitlement grants a role to an API client or a user, at one bank or, for
// system roles and the AtAnyBank variants, at every bank (bank empty). The
// role names are OBP's (rest-compat §3.5, internal/access).
type Entitlement struct{ ent.Schema }

// Mixin of Entitlement.
func (Entitlement) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of Entitlement.
func (Entitlement) Fields() []ent.Field {
	return []ent.Field{
		field.String("role_name").Immutable().Validate(knownRole).
			Annotations(entgql.OrderField("ROLE_NAME")),
		field.UUID("bank_id", uuid.UUID{}).Optional().Nillable().Immutable().
			Comment("The bank the role applies at; empty for a system role."),
		field.UUID("api_client_id", uuid.UUID{}).Optional().Nillable().Immutable(),
		field.UUID("user_id", uuid.UUID{}).Optional().Nillable().Immutable(),
		field.String("grant_key").Unique().Immutable().
			Comment("holder|role|bank, set by a hook: one entitlement per holder, role and bank.").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of Entitlement.
func (Entitlement) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("bank", Bank.Type).Ref("entitlements").Field("bank_id").Unique().Immutable(),
		edge.From("api_client", APIClient.Type).Ref("entitlements").Field("api_client_id").Unique().Immutable(),
		edge.From("user", User.Type).Ref("entitlements").Field("user_id").Unique().Immutable(),
	}
}

// Indexes of Entitlement.
func (Entitlement) Indexes() []ent.Index {
	return []ent.Index{index.Fields("api_client_id"), index.Fields("user_id"), index.Fields("bank_id")}
}

// Annotations of Entitlement.
func (Entitlement) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationCreate()),
	}
}

// AuditEvent records one change: who made it, when, what operation on which
// record, and through which request. Events are written by the hook that
// authorizes every mutation (hooks_access.go), in the change's own
// transaction, and are never changed afterwards.
type AuditEvent struct{ ent.Schema }

// Mixin of AuditEvent.
func (AuditEvent) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("actor_kind").Values("client", "user", "system").Immutable(),
		field.UUID("actor_id", uuid.UUID{}).Optional().Nillable().Immutable().
			Comment("The APIClient's or User's id; empty for custgraph itself."),
		field.String("actor_name").Immutable().Comment("client_id, username, or the system's name (e.g. cli)."),
		field.String("requestor_id").Optional().Immutable().MaxRuneLen(100).
			Comment("The request's Requestor-ID header, where sent."),
		field.String("request_id").Optional().Immutable().MaxRuneLen(200).Annotations(noWhere()),
		field.Enum("operation").Values("create", "update", "delete").Immutable(),
		field.String("entity_type").Immutable().Comment("The changed record's type, e.g. Customer."),
		field.UUID("entity_id", uuid.UUID{}).Immutable(),
		field.UUID("bank_id", uuid.UUID{}).Optional().Nillable().Immutable().
			Comment("The bank the changed record belongs to; empty for banks, clients, users and system entitlements."),
		field.Strings("fields").Optional().Immutable().
			Comment("The names of the fields the change set (values are not recorded).").
			Annotations(noWhere()),
		field.UUID("customer_id", uuid.UUID{}).Optional().Nillable().Immutable().
			Comment("The customer the changed record is of (a customer's own changes: itself); empty for none."),
		// The change stream's order (internal/changes), with the id. On
		// PostgreSQL the database fills it with the writing transaction's
		// id; a reader takes only the events of transactions below the
		// oldest one still running, so an event never commits behind a
		// cursor already given out. On SQLite (one writer at a time) the
		// hook that writes the event numbers it in the writing
		// transaction (record, hooks_access.go): commit order.
		field.Int64("txid").Optional().Immutable().
			Comment("The change stream's order: the writing transaction's id (PostgreSQL), a sequence number (SQLite).").
			Annotations(entsql.DefaultExprs(map[string]string{
				dialect.Postgres: "(pg_current_xact_id())::text::bigint",
			}), entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of AuditEvent.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("entity_id"), index.Fields("actor_id"), index.Fields("bank_id", "created_at"),
		index.Fields("requestor_id"), index.Fields("txid", "id"), index.Fields("customer_id"),
		// The change stream of one bank (a bank-bound partner's feed and
		// subscriptions, internal/changes) read in its order: without it
		// each page sorted all of the bank's events.
		index.Fields("bank_id", "txid", "id"),
	}
}

// Annotations of AuditEvent.
func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.MultiOrder(),
	}
}

// SigningKey is a private key that signs custgraph's access tokens when no
// key is configured (--jwt-key-file): kept in the database so that every
// replica signs and verifies with the same key. Never exposed over GraphQL.
type SigningKey struct{ ent.Schema }

// Mixin of SigningKey.
func (SigningKey) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of SigningKey.
func (SigningKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("kid").Unique().Immutable(),
		field.Text("private_key_pem").Sensitive().Immutable(),
	}
}

// Annotations of SigningKey.
func (SigningKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// RequestReplay remembers the answer to a mutating request that carried an
// Idempotency-Key header (every door, internal/idempotency) or, on the
// Tradevest-style routes, a Requestor-ID header, so that the same request
// sent again gets the first answer instead of doing the work twice
// (rest-compat §5.6; draft-ietf-httpapi-idempotency-key-header). It is
// written in the transaction of the change it answers, so a replay exists
// exactly when the change does. Never exposed over GraphQL; each caller
// reads and writes only its own (policy.go, hooks_access.go).
type RequestReplay struct{ ent.Schema }

// Mixin of RequestReplay.
func (RequestReplay) Mixin() []ent.Mixin { return []ent.Mixin{BaseMixin{}} }

// Fields of RequestReplay.
func (RequestReplay) Fields() []ent.Field {
	return []ent.Field{
		field.String("caller").Immutable().NotEmpty().MaxRuneLen(100).
			Comment("The caller's kind and id (client:<uuid>, user:<uuid>)."),
		field.String("key").Unique().Immutable().NotEmpty().MaxRuneLen(64).
			Comment("SHA-256 (hex) naming the request for its caller: of the caller and the Idempotency-Key, " +
				"or of the caller, Requestor-ID, method, path and body."),
		field.String("requestor_id").Optional().Immutable().NotEmpty().MaxRuneLen(100).
			Comment("The Requestor-ID of a Tradevest-style replay; empty for an Idempotency-Key."),
		field.String("fingerprint").Optional().Immutable().MaxRuneLen(64).
			Comment("SHA-256 (hex) of the request's method, path and body: the same key with another " +
				"fingerprint is refused (422). Empty in replays stored before it was kept."),
		field.Int("status").Immutable(),
		field.JSON("headers", map[string]string{}).Optional().Immutable().
			Comment("The answer's headers that are replayed with it (Content-Type, Location)."),
		field.Bytes("response").Optional().Immutable().
			Comment("The answer's body (empty for answers without one)."),
	}
}

// Indexes of RequestReplay.
func (RequestReplay) Indexes() []ent.Index {
	return []ent.Index{index.Fields("caller", "created_at")}
}

// Annotations of RequestReplay.
func (RequestReplay) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
