// Package entscan lets an ent query scan all its rows into one set of
// holders. ent's generated sqlAll asks scanValues for new holders (a
// sql.NullString, a sql.NullTime, … per column) for every row it reads, and
// assignValues copies each row's values out of them into the row's entity
// before the next row is scanned: the holders of one row are garbage by the
// next. For 20 customers with their products and addresses that was 10% of
// the objects a page allocated. ent/entc.go (reuseScanHolders) has the
// generated queries take their ScanValues from Reuse.
package entscan

import (
	"database/sql"

	"github.com/google/uuid"
)

// Reuse returns a ScanValues for an ent query spec that asks scanValues
// (the entity's generated method, called as (*T).scanValues(nil, columns),
// as ent does) once and hands out the same holders, reset to their zero
// value, for every later row of the query. It does so only when every
// holder is one whose value assignValues copies out (holders kept by the
// entity, such as a sql.NullScanner's value or an unknown column's, are
// not): otherwise each row gets new holders, as before.
func Reuse[T any](scanValues func(T, []string) ([]any, error)) func([]string) ([]any, error) {
	var (
		zero   T
		values []any
	)
	return func(columns []string) ([]any, error) {
		if values != nil && len(values) == len(columns) {
			for _, v := range values {
				reset(v)
			}
			return values, nil
		}
		v, err := scanValues(zero, columns)
		if err != nil {
			return nil, err
		}
		for _, h := range v {
			if !reset(h) {
				return v, nil
			}
		}
		values = v
		return v, nil
	}
}

// reset sets h to its zero value when h is a holder whose value
// assignValues copies, and reports whether it is one. (Scanning NULL into
// a *uuid.UUID leaves it as it was: without the reset a NULL would read as
// the previous row's value.)
func reset(h any) bool {
	switch h := h.(type) {
	case *sql.NullString:
		*h = sql.NullString{}
	case *sql.NullTime:
		*h = sql.NullTime{}
	case *sql.NullInt64:
		*h = sql.NullInt64{}
	case *sql.NullInt32:
		*h = sql.NullInt32{}
	case *sql.NullInt16:
		*h = sql.NullInt16{}
	case *sql.NullBool:
		*h = sql.NullBool{}
	case *sql.NullFloat64:
		*h = sql.NullFloat64{}
	case *uuid.UUID:
		*h = uuid.Nil
	case *[]byte: // (database/sql stores a copy of the column's bytes in it)
		*h = nil
	default:
		return false
	}
	return true
}
