// Package schema holds the ent schema of custgraph: the entities, their
// fields, edges and indexes, and the rules (validators and hooks) that every
// door to the data shares. Everything else under ent/ is generated from it.
package schema

import (
	"time"

	"custgraph/ent/schema/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"
	"github.com/google/uuid"
)

// newID returns a time-ordered UUID (version 7): ids of records created one
// after another sort close together, which keeps primary-key indexes compact.
func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// BaseMixin gives every entity a UUID id and created_at/updated_at, both
// maintained by ent and read-only for clients.
type BaseMixin struct{ mixin.Schema }

// Fields of the mixin.
func (BaseMixin) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(newID).Immutable(),
		field.Time("created_at").Default(now).Immutable().
			Annotations(entgql.OrderField("CREATED_AT"), skipInputs()),
		field.Time("updated_at").Default(now).UpdateDefault(now).
			Annotations(entgql.OrderField("UPDATED_AT"), skipInputs()),
	}
}

// Indexes of the mixin: the default order of every list is (created_at, id).
func (BaseMixin) Indexes() []ent.Index {
	return []ent.Index{index.Fields("created_at", "id"), index.Fields("updated_at")}
}

// now is the clock of every timestamp, in UTC with microsecond precision so
// that SQLite and PostgreSQL store and return the same instant.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// skipInputs keeps a field out of the generated create and update inputs.
func skipInputs() entgql.Annotation {
	return entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
}

// noWhere keeps a field out of the generated WhereInput (nobody filters on it).
func noWhere() entgql.Annotation { return entgql.Skip(entgql.SkipWhereInput) }

// customerRef is the customer_id field of the records that belong to one
// customer: required, immutable, indexed through the owner's indexes.
func customerRef() ent.Field {
	return field.UUID("customer_id", uuid.UUID{}).Immutable()
}
