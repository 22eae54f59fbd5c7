package keyset_test

import (
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
