package store

import (
	"time"

	"github.com/jackc/pgx/v5"
)

// FromDriver exposes the marking of the driver's network errors.
var FromDriver = fromDriver

// BatchesSent counts the batches db's reads sent to PostgreSQL, and the
// statements in them.
func BatchesSent(db *DB) (batches, statements int64) {
	return db.reads.batches.Load(), db.reads.batched.Load()
}

// ResultFormats are the formats ent's single reads ask for.
var ResultFormats = resultFormats

// ScanRows wraps pgx's rows as the reads hand them to ent.
func ScanRows(rows pgx.Rows) interface {
	Next() bool
	Scan(...any) error
	Close() error
} {
	return &pgxRows{rows: rows, columns: columnsOf(rows)}
}

// SetBeatInterval sets how often the listeners of the stores opened after
// it check their connection, until restore is called.
func SetBeatInterval(d time.Duration) (restore func()) {
	old := beatInterval
	beatInterval = d
	return func() { beatInterval = old }
}
