package keyset_test

import (
	"strings"
	"testing"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/internal/keyset"
)

func TestSeekPredicates(t *testing.T) {
	id := uuid.New()
	cur := &entgql.Cursor[uuid.UUID]{ID: id, Value: []any{"2026-01-01"}}
	build := func(after, before *entgql.Cursor[uuid.UUID], dir entgql.OrderDirection) (string, []any) {
		s := sql.Dialect(dialect.Postgres).Select("*").From(sql.Table("customers"))
		for _, p := range keyset.Seek(after, before, []string{"created_at"}, []entgql.OrderDirection{dir}) {
			p(s)
		}
		return s.Query()
	}
	q, args := build(cur, nil, entgql.OrderDirectionAsc)
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."created_at" >= $1`, q)
	require.Equal(t, []any{"2026-01-01"}, args)
	q, _ = build(nil, cur, entgql.OrderDirectionDesc)
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."created_at" <= $1`, q)
	q, _ = build(nil, nil, entgql.OrderDirectionAsc)
	require.Equal(t, `SELECT * FROM "customers"`, q, "no cursor, no predicate")
	q, _ = build(&entgql.Cursor[uuid.UUID]{ID: id}, nil, entgql.OrderDirectionAsc)
	require.Equal(t, `SELECT * FROM "customers"`, q, "an id-only cursor is already sargable")
}

func TestPredicates(t *testing.T) {
	id := uuid.New()
	at := "2026-01-01"
	build := func(after, before *entgql.Cursor[uuid.UUID], dirs ...entgql.OrderDirection) (string, []any) {
		t.Helper()
		fields := []string{"created_at", "name"}[:len(dirs)-1]
		ps, err := keyset.Predicates(after, before, &entgql.MultiCursorsOptions{
			FieldID: "id", DirectionID: dirs[len(dirs)-1], Fields: fields, Directions: dirs[:len(dirs)-1],
		})
		require.NoError(t, err)
		s := sql.Dialect(dialect.Postgres).Select("*").From(sql.Table("customers"))
		for _, p := range ps {
			p(s)
		}
		return s.Query()
	}
	asc, desc := entgql.OrderDirectionAsc, entgql.OrderDirectionDesc

	// One direction, no NULL: the seek and one row comparison.
	q, args := build(&entgql.Cursor[uuid.UUID]{ID: id, Value: []any{at}}, nil, asc, asc)
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."created_at" >= $1 AND ("customers"."created_at", "customers"."id") > ($2, $3)`, q)
	require.Equal(t, []any{at, at, id}, args)
	q, _ = build(nil, &entgql.Cursor[uuid.UUID]{ID: id, Value: []any{at, "x"}}, desc, desc, desc)
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."created_at" <= $1 AND ("customers"."created_at", "customers"."name", "customers"."id") < ($2, $3, $4)`, q)

	// Mixed directions, or a NULL in the cursor: entgql's expansion.
	q, _ = build(&entgql.Cursor[uuid.UUID]{ID: id, Value: []any{at}}, nil, desc, asc)
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."created_at" <= $1 AND ("customers"."created_at" < $2 OR ("customers"."created_at" = $3 AND "customers"."id" > $4))`, q)
	q, _ = build(&entgql.Cursor[uuid.UUID]{ID: id, Value: []any{at, nil}}, nil, asc, asc, asc)
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."created_at" >= $1 AND ("customers"."created_at" > $2 OR ("customers"."created_at" = $3 AND "customers"."name" > NULL) OR ("customers"."created_at" = $4 AND "customers"."name" = NULL AND "customers"."id" > $5))`, q)

	// Both cursors, each its own predicate (entgql's options are not shared).
	q, _ = build(&entgql.Cursor[uuid.UUID]{ID: id, Value: []any{at}}, &entgql.Cursor[uuid.UUID]{ID: id, Value: []any{at}}, desc, asc)
	require.Equal(t, 2, strings.Count(q, `"customers"."id" >`), q)

	// An id-only cursor: entgql's id comparison.
	q, _ = build(&entgql.Cursor[uuid.UUID]{ID: id}, nil, asc, asc)
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."id" > $1`, q)
}
