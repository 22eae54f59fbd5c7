package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// registerUUID makes pgx send github.com/google/uuid values (every ent id
// and foreign key) as their 16 bytes. Without it pgx takes them as
// driver.Valuers: each id became a 36-character string (uuid.UUID.Value)
// that pgx then parsed back into 16 bytes, for every parameter of every
// statement; a nested page's `customer_id IN ($1 … $20)` has twenty.
// This is pgx's extension point for it (Map.TryWrapEncodePlanFuncs, as
// the pgx-google-uuid adapter does), tried first so that it wins over the
// Valuer fallback; a *uuid.UUID goes through pgx's pointer unwrapping to
// it, nil stays NULL.
func registerUUID(_ context.Context, conn *pgx.Conn) error {
	m := conn.TypeMap()
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{tryWrapUUID}, m.TryWrapEncodePlanFuncs...)
	return nil
}

func tryWrapUUID(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
	if u, ok := value.(uuid.UUID); ok {
		return &uuidPlan{}, pgtype.UUID{Bytes: u, Valid: true}, true
	}
	return nil, nil, false
}

type uuidPlan struct{ next pgtype.EncodePlan }

func (p *uuidPlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidPlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(pgtype.UUID{Bytes: value.(uuid.UUID), Valid: true}, buf)
}
