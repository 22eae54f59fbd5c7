package entscan

import (
	"database/sql"
	"testing"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
)

type row struct{}

func TestReuse(t *testing.T) {
	calls := 0
	copied := func(row *row, columns []string) ([]any, error) {
		calls++
		return []any{new(sql.NullString), new(sql.NullTime), new(uuid.UUID), new([]byte), new(sql.NullInt64), new(sql.NullBool)}[:len(columns)], nil
	}
	scan := Reuse(copied)
	cols := []string{"a", "b", "c", "d", "e", "f"}
	first, _ := scan(cols)
	*first[0].(*sql.NullString) = sql.NullString{String: "x", Valid: true}
	*first[2].(*uuid.UUID) = uuid.New()
	*first[3].(*[]byte) = []byte("{}")
	second, _ := scan(cols)
	if calls != 1 || &first[0] != &second[0] {
		t.Fatalf("the holders were not reused: %d calls", calls)
	}
	if *second[0].(*sql.NullString) != (sql.NullString{}) || *second[2].(*uuid.UUID) != uuid.Nil || *second[3].(*[]byte) != nil {
		t.Fatalf("the holders were not reset: %v", second)
	}
	if other, _ := scan(cols[:2]); len(other) != 2 || calls != 2 {
		t.Fatalf("another set of columns got the same holders")
	}

	calls = 0
	kept := func(row *row, columns []string) ([]any, error) { // holders an entity keeps
		calls++
		return []any{new(sql.NullString), &entsql.NullScanner{S: new(uuid.UUID)}}, nil
	}
	scan = Reuse(kept)
	a, _ := scan(cols[:2])
	b, _ := scan(cols[:2])
	if calls != 2 || a[1] == b[1] {
		t.Fatalf("holders with a kept value were reused")
	}
	calls = 0
	scan = Reuse(func(row *row, columns []string) ([]any, error) { calls++; return []any{new(entsql.UnknownType)}, nil })
	scan(cols[:1])
	scan(cols[:1])
	if calls != 2 {
		t.Fatalf("an unknown column's holder was reused")
	}
}
