package keyset_test

import (
	"testing"
	"time"

	"custgraph/ent/entgql"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/internal/keyset"
)

// The SQL of the predicates; graph's TestCursorWindows checks the pages
// they select on both databases.
func TestPredicates(t *testing.T) {
	id := uuid.New()
	at := "2026-01-01"
	asc, desc := entgql.OrderDirectionAsc, entgql.OrderDirectionDesc
	build := func(d string, after, before *entgql.Cursor[uuid.UUID], o keyset.Options) (string, []any) {
		t.Helper()
		o.FieldID = "id"
		ps, err := keyset.Predicates(after, before, &o)
		require.NoError(t, err)
		s := sql.Dialect(d).Select("*").From(sql.Table("customers"))
		for _, p := range ps {
			p(s)
		}
		return s.Query()
	}
	cur := func(values ...any) *entgql.Cursor[uuid.UUID] {
		return &entgql.Cursor[uuid.UUID]{ID: id, Value: values}
	}
	byCreated := func(dir entgql.OrderDirection, backward bool) keyset.Options {
		return keyset.Options{DirectionID: dir, Fields: []string{"created_at"}, Directions: []entgql.OrderDirection{dir}, Backward: backward}
	}

	// One direction, no NULL: the index range's start and one row comparison.
	q, args := build(dialect.Postgres, cur(at), nil, byCreated(asc, false))
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."created_at" >= $1 AND ("customers"."created_at", "customers"."id") > ($2, $3)`, q)
	require.Equal(t, []any{at, at, id}, args)
	// before, going forward: the rows short of it.
	q, _ = build(dialect.Postgres, nil, cur(at), byCreated(asc, false))
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."created_at" <= $1 AND ("customers"."created_at", "customers"."id") < ($2, $3)`, q)
	// last (backward: the order reversed): before is where travel starts,
	// after where it ends.
	q, _ = build(dialect.Postgres, cur(at), cur("2026-02-01"), byCreated(desc, true))
	require.Equal(t, `SELECT * FROM "customers" WHERE (("customers"."created_at" <= $1 AND ("customers"."created_at", "customers"."id") < ($2, $3)) AND "customers"."created_at" >= $4) AND ("customers"."created_at", "customers"."id") > ($5, $6)`, q)

	// Mixed directions: the OR form.
	q, _ = build(dialect.Postgres, cur(at), nil, keyset.Options{DirectionID: asc, Fields: []string{"created_at"}, Directions: []entgql.OrderDirection{desc}})
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."created_at" <= $1 AND ("customers"."created_at" < $2 OR ("customers"."created_at" = $3 AND "customers"."id" > $4))`, q)

	// A nullable column: NULL sorts last on PostgreSQL, first on SQLite.
	okDate := keyset.Options{DirectionID: asc, Fields: []string{"last_ok_date"}, Directions: []entgql.OrderDirection{asc}, Nullable: []string{"last_ok_date"}}
	q, _ = build(dialect.Postgres, cur(at), nil, okDate)
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."last_ok_date" > $1 OR "customers"."last_ok_date" IS NULL OR ("customers"."last_ok_date" = $2 AND "customers"."id" > $3)`, q)
	q, _ = build(dialect.SQLite, cur(at), nil, okDate)
	require.Equal(t, "SELECT * FROM `customers` WHERE `customers`.`last_ok_date` > ? OR (`customers`.`last_ok_date` = ? AND `customers`.`id` > ?)", q)
	q, _ = build(dialect.Postgres, cur(nil), nil, okDate) // nothing sorts after NULL but NULLs
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."last_ok_date" IS NULL AND "customers"."id" > $1`, q)
	q, _ = build(dialect.SQLite, cur(nil), nil, okDate) // every value sorts after NULL
	require.Equal(t, "SELECT * FROM `customers` WHERE `customers`.`last_ok_date` IS NOT NULL OR (`customers`.`last_ok_date` IS NULL AND `customers`.`id` > ?)", q)

	// A blank column compares as it reads.
	q, _ = build(dialect.Postgres, cur(""), nil, keyset.Options{DirectionID: asc, Fields: []string{"last_name"}, Directions: []entgql.OrderDirection{asc}, Blank: []string{"last_name"}})
	require.Equal(t, `SELECT * FROM "customers" WHERE COALESCE("customers"."last_name", '') > $1 OR (COALESCE("customers"."last_name", '') = $2 AND "customers"."id" > $3)`, q)

	// An id-only cursor, for an order by id alone: the id comparison.
	q, _ = build(dialect.Postgres, &entgql.Cursor[uuid.UUID]{ID: id}, nil, keyset.Options{DirectionID: asc})
	require.Equal(t, `SELECT * FROM "customers" WHERE "customers"."id" > $1`, q)

	// A time is compared in UTC, as stored (SQLite compares text), whatever
	// zone the cursor's decoding gave it.
	local := time.Date(2026, 1, 1, 7, 0, 0, 0, time.FixedZone("UTC-5", -5*3600))
	_, args = build(dialect.SQLite, cur(local), nil, keyset.Options{DirectionID: asc, Fields: []string{"created_at"},
		Directions: []entgql.OrderDirection{asc}, Times: []string{"created_at"}})
	require.Equal(t, []any{local.UTC(), local.UTC(), id}, args)
	require.Equal(t, time.UTC, args[0].(time.Time).Location())

	// A cursor without values for an order with fields.
	_, err := keyset.Predicates(&entgql.Cursor[uuid.UUID]{ID: id}, nil, &keyset.Options{FieldID: "id", Fields: []string{"created_at"}, Directions: []entgql.OrderDirection{asc}})
	require.Error(t, err)

	// A cursor of another order.
	_, err = keyset.Predicates(cur(at, at), nil, &keyset.Options{FieldID: "id", Fields: []string{"created_at"}, Directions: []entgql.OrderDirection{asc}})
	require.Error(t, err)
}

func TestOrderBlank(t *testing.T) {
	s := sql.Dialect(dialect.Postgres).Select("*").From(sql.Table("customers"))
	keyset.OrderBlank(s, "last_name", sql.OrderDesc())
	q, _ := s.Query()
	require.Equal(t, `SELECT * FROM "customers" ORDER BY COALESCE("customers"."last_name", '') DESC`, q)
}
