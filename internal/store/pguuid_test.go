package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"custgraph/internal/testdb"
)

// TestUUIDParametersAreSentAsBytes: on PostgreSQL a uuid.UUID parameter is
// encoded by pgx's own binary uuid plan (16 bytes), not through
// uuid.UUID.Value's 36-character string parsed back by pgx; values and
// NULL pointers arrive intact through database/sql, as ent sends them.
func TestUUIDParametersAreSentAsBytes(t *testing.T) {
	db, _ := testdb.Open(t)
	if db.Pool == nil {
		t.Skip("PostgreSQL only (set " + testdb.Env + ")")
	}
	ctx := context.Background()
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := conn.Conn().TypeMap().PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, uuid.UUID{})
	if got := fmt.Sprintf("%T", plan); got != "*store.uuidPlan" {
		t.Errorf("a uuid.UUID parameter is encoded by %s, want *store.uuidPlan (not the driver.Valuer string round trip)", got)
	}
	buf, err := conn.Conn().TypeMap().Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, uuid.MustParse("0193b2a4-7c1e-7d2a-9f10-3b8e2c4d5e6f"), nil)
	conn.Release()
	if err != nil {
		t.Fatal(err)
	}
	if len(buf) != 16 || buf[0] != 0x01 || buf[15] != 0x6f {
		t.Fatalf("binary encoding = %x, want the 16 bytes of the id", buf)
	}

	id := uuid.New()
	var nilID *uuid.UUID
	var text string
	var isNull bool
	if err := db.SQL.QueryRowContext(ctx, "SELECT $1::uuid::text, $2::uuid IS NULL", id, nilID).Scan(&text, &isNull); err != nil {
		t.Fatal(err)
	}
	if text != id.String() || !isNull {
		t.Fatalf("round trip: %q null=%v, want %q null=true", text, isNull, id)
	}
	var in bool
	if err := db.SQL.QueryRowContext(ctx, "SELECT $1::uuid IN ($2, $3)", id, uuid.New(), &id).Scan(&in); err != nil || !in {
		t.Fatalf("IN with a pointer: %v %v", in, err)
	}
}
